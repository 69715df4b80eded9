"""Queries for pseudonymisation and backups."""

from __future__ import annotations


class PrivacyMixin:
    pass
