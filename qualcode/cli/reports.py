"""Step 6 commands: export workbook, report, sheet import-comments (issue 5)."""

from __future__ import annotations

import click  # noqa: F401

from . import cli  # noqa: F401
from .common import Env, pass_env  # noqa: F401
