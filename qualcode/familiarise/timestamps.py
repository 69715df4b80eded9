"""How a turn's time in the recording is shown: hours, minutes and seconds ('01:02:03').

A module of its own so that the coding sheet and the segment listing show it without loading the
ingest package."""

from __future__ import annotations


def format_timestamp(seconds: float | None) -> str:
    """'HH:MM:SS' for a time in seconds (rounded to the second), '' for none."""
    if seconds is None:
        return ""
    s = int(round(seconds))
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"
