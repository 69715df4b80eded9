"""Queries for refi-qda import and export (issue 8).."""

from __future__ import annotations


class InteropMixin:
    pass
