"""Read-only aggregate queries used by status, review, reports and agreement."""

from __future__ import annotations


class AnalysisMixin:
    pass
