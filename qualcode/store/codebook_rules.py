"""Queries for codebook application and rule-based coding (issue 3)."""

from __future__ import annotations


class CodebookRulesMixin:
    pass
