"""Step 6 reports: HTML/DOCX/Markdown, charts and quotes."""
