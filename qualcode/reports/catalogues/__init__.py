"""Language catalogues: every user-visible string of the analysis workbook, the report and its charts.

One module per language (:mod:`.en`, :mod:`.nl`) holds one dict ``TEXT`` with the same keys.

Look strings up with :func:`catalogue`; a test checks that both catalogues have the same keys and
that a Dutch project's workbook has no English header or sheet name.
"""

from __future__ import annotations

from importlib import import_module

LANGUAGES = ("nl", "en")


def catalogue(language: str | None) -> dict:
    """The strings of ``language`` ('nl' or 'en'; anything else: English)."""
    lang = language if language in LANGUAGES else "en"
    return import_module(f"{__name__}.{lang}").TEXT


def all_catalogues() -> dict[str, dict]:
    """language -> its catalogue."""
    return {lang: catalogue(lang) for lang in LANGUAGES}
