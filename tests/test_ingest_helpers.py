"""Helpers shared by the ingest tests (no tests here)."""

from __future__ import annotations

import sqlite3


def dump(project) -> dict:
    """Every row of every table (the audit log included), read without touching the file."""
    conn = sqlite3.connect(f"file:{project}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in tables}
    finally:
        conn.close()
