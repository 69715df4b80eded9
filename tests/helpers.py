"""Helpers shared by test modules: paths of the repository's sample data and a tiny codebook.

Import them as ``from tests.helpers import tiny_codebook`` (setup.cfg puts the repository on
pytest's ``pythonpath``, so this works with ``pytest``, ``python -m pytest`` and ``make test``,
from any folder). Never import ``conftest`` from a test module: pytest loads it itself, and a
second import under another name runs it twice. Fixtures stay in ``tests/conftest.py``.
"""

from __future__ import annotations

import importlib
import sqlite3
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "transcripts_sample"
SHARED = ROOT.parent / "shared"


def tiny_codebook(store) -> dict[str, int]:
    """Two themes with two codes each (plus rules); returns code key -> id."""
    with store.act("test codebook"):
        t1 = store.add_theme("work", "Betaald werk", "#E69F00", "Voor- en nadelen van betaald werk")
        t2 = store.add_theme("care", "Zorg en werk", "#56B4E9", "Samenwerking zorg en werk")
        ids = {
            "pros": store.add_code("pros", "Voordelen", t1, rules={"keywords": ["structuur", "trots"]}),
            "cons": store.add_code("cons", "Nadelen", t1, rules={"keywords": ["stress", "werkdruk"]}),
            "coach": store.add_code("coach", "Jobcoach", t2, rules={"keywords": ["jobcoach"]}),
            "intake": store.add_code("intake", "Werk bij intake", t2, rules={"keywords": ["intake"]}),
        }
    return ids


def rows(project: Path, sql: str, *args) -> list[tuple]:
    """The rows of ``sql`` on a project file, read through a connection of their own."""
    conn = sqlite3.connect(project)
    try:
        return [tuple(r) for r in conn.execute(sql, args)]
    finally:
        conn.close()


def bench_module(name: str):
    """A script of bench/ imported as a module (``bench_module("rules_gold")``), for tests of its functions."""
    folder = str(ROOT / "bench")
    sys.path.insert(0, folder)
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(folder)
