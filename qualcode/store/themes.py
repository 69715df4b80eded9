"""Queries for theme commands."""

from __future__ import annotations


class ThemesMixin:
    pass
