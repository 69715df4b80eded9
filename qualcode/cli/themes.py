"""Theme commands: theme, code rename/merge/move, status, review, history, undo, memo (issue 4)."""

from __future__ import annotations

import click  # noqa: F401

from . import cli  # noqa: F401
from .common import Env, pass_env  # noqa: F401
