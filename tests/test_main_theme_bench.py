"""bench/main_theme.py reads any gold CSV (--gold): a main_theme column (theme key or name) or codes (keys or
names) turned into themes through the codebook, ambiguous segments counted, bad rows refused; its kappa."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from tests.helpers import bench_module

from test_themerank import project  # noqa: F401  (the small two-theme project)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def bench():
    return bench_module("main_theme")


CODES = [{"key": "pros", "name": "Voordelen van werk", "theme": "work"},
         {"key": "coach", "name": "Jobcoach", "theme": "care"}]
THEMES = [{"key": "work", "name": "Betaald werk"}, {"key": "care", "name": "Zorg en werk"}]


def test_gold_from_codes_and_from_main_theme(bench, tmp_path):
    path = tmp_path / "g.csv"
    path.write_text("source,ordinal,codes\nG1.txt,2,pros\nG1.txt,3,Jobcoach;pros\nG1.txt,4,\n", encoding="utf-8")
    rows = bench.read_gold(path, CODES, THEMES)
    assert [r["gold"] for r in rows] == [{"work"}, {"work", "care"}, set()]
    path.write_text("source,ordinal,main_theme\nG1.txt,2,Zorg en werk\nG1.txt,3,work\n", encoding="utf-8")
    assert [r["gold"] for r in bench.read_gold(path, CODES, THEMES)] == [{"care"}, {"work"}]


@pytest.mark.parametrize("text, message", [
    ("source,ordinal,codes\nG1.txt,2,schulden\n", "line 2: unknown code 'schulden'"),
    ("source,ordinal,main_theme\nG1.txt,2,geld\n", "line 2: unknown theme 'geld'"),
    ("source,codes\nG1.txt,pros\n", "needs the columns source, ordinal and main_theme or codes"),
])
def test_bad_gold_files_are_refused(bench, tmp_path, text, message):
    path = tmp_path / "g.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SystemExit, match=message):
        bench.read_gold(path, CODES, THEMES)


def test_kappa(bench):
    assert bench.kappa([("a", "a"), ("b", "b")]) == 1.0
    assert bench.kappa([("a", "a"), ("a", "b"), ("b", "a"), ("b", "b")]) == 0.0


def test_the_bench_runs_on_a_project_and_a_gold_file(bench, project, tmp_path, capsys):  # noqa: F811
    gold = tmp_path / "g.csv"
    # ordinals of G1.txt: 1 moderator, 2 trots, 3 werkdruk, 4 collega's, 5 Ja., 6 psychiater, 7 jobcoach
    gold.write_text("source,ordinal,codes\nG1.txt,2,pros\nG1,6,intake\nG1.txt,7,coach;pros\nG1.txt,5,\n",
                    encoding="utf-8")
    bench.main(["--gold", str(gold), "--project", str(project), "--no-semantic"])
    out = capsys.readouterr().out
    assert "(4 segments, 3 with a gold theme, 1 ambiguous: codes of several themes)" in out
    assert re.search(r"^rules >= 0\.5 +3 0\.67 \(  2\)", out, re.M)     # the psychiater turn has no rule match
    assert re.search(r"^ranking +3 1\.00 \(  3\) +1\.00 +1\.00 +1\.00 \(1/1\) +1$", out, re.M)
    assert "ranking + vectors" not in out
