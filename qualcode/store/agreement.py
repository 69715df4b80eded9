"""Queries for intercoder agreement commands (issue 7).."""

from __future__ import annotations


class AgreementMixin:
    pass
