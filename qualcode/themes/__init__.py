"""Steps 3-5: re-theming (themes, codes, statuses, memos, undo) and the step-4 review."""
