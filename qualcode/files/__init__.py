"""Files in and out: atomic writes, what may be overwritten, CSV/JSON output, guards on user files."""
