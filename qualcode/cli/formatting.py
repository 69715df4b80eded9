"""The sentences and text blocks commands print, made from the data library functions return."""

from __future__ import annotations

import json
import textwrap


def coded(r) -> str:
    """One line for :func:`qualcode.coding.manual.code_segments`'s result."""
    what = "fragment" if r.fragment else "segment"
    return f"coded {r.changed} {what}(s) with {r.code} as {r.coder}" + (
        f" ({r.unchanged} already had it)" if r.unchanged else "")


def uncoded(r) -> str:
    """One line for :func:`qualcode.coding.manual.uncode_segments`'s result."""
    return f"removed {r.code} from {r.changed} segment(s) for {r.coder}"
