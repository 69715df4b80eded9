"""Queries for learnt suggestions and inductive discovery."""

from __future__ import annotations


class SuggestionsMixin:
    pass
