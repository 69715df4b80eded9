"""REFI-QDA import and export (issue 8)."""

from __future__ import annotations

import click  # noqa: F401

from . import cli  # noqa: F401
from .common import Env, pass_env  # noqa: F401
