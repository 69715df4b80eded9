"""Ids (keys) of themes and codes: lower-case letters, digits and underscores, starting with a letter."""

from __future__ import annotations

import re
import unicodedata

KEY_RE = re.compile(r"^[a-z][a-z0-9_]*$")


def slug(name: str, default: str = "code") -> str:
    """An id made from a display name: 'Schulden & geldzorgen' -> 'schulden_geldzorgen',
    '2 items' -> 'c_2_items' (ids must start with a letter)."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    s = re.sub(r"[^0-9a-z]+", "_", plain.lower()).strip("_")
    if not s:
        return default
    return s if s[0].isalpha() else f"{default[0]}_{s}"
