"""Machine-readable output (``--json``): one versioned JSON document per command.

Every document is an object whose first keys are ``"command"`` (e.g. ``"agreement"``) and
``"schema_version"`` (:data:`SCHEMA_VERSION`); the rest is the command's own body, described in
docs/json.md. Numbers are JSON numbers, undefined figures are ``null`` (JSON has no NaN), keys are
stable: a key is only added in a new schema version, never renamed or removed within one.

Kept free of heavy imports: ``qualcode status --json`` uses it.
"""

from __future__ import annotations

import json
import math
from typing import Any

SCHEMA_VERSION = 1


def document(command: str, body: dict) -> dict:
    """The body with the command name and schema version in front."""
    return {"command": command, "schema_version": SCHEMA_VERSION, **body}


def plain(value: Any) -> Any:
    """``value`` with NaN/infinity as None, numpy numbers as Python numbers, tuples and sets as lists."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return [plain(v) for v in sorted(value, key=str)]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    item = getattr(value, "item", None)            # numpy scalars, without importing numpy
    if callable(item):
        return plain(item())
    return str(value)


def dumps(command: str, body: dict) -> str:
    """The JSON text of one document (UTF-8 characters kept, two-space indent)."""
    return json.dumps(plain(document(command, body)), ensure_ascii=False, indent=2, allow_nan=False)
