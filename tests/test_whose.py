"""Whose analysis an output shows: --coder on workbook, report, counts, quotes and review; the
project's analyst (set by the first person who codes, or 'qualcode config analyst'); rule matches
only when asked for."""

from __future__ import annotations

import pytest

from qualcode.coding.coders import resolve_coders, set_analyst
from qualcode.errors import InputError, NotFoundError
from qualcode.store import Store

from test_workbook import make_project


@pytest.fixture
def mini(tmp_path):
    store = make_project(tmp_path / "mini.qualcode")   # anna codes by hand (first), ben's codings are 'rule'
    yield store
    store.close()


def test_first_person_who_codes_becomes_the_analyst_and_undo_takes_it_back(tmp_path):
    store = make_project(tmp_path / "p.qualcode")
    assert store.analyst() == "anna"            # ben's codings have origin 'rule': not a person coding
    store.close()
    empty = Store.create(tmp_path / "e.qualcode")
    code = None
    with empty.act("setup", undoable=False, capture=False):
        pid = empty.add_participant("F1", "P1", {})
        sid = empty.add_source(name="F1.txt", format="txt", group_label="F1", group_origin="option",
                               text="P1: ja\n", sha256="x", file_sha256="x", encoding="utf-8", n_words=1)
        empty.add_segments(sid, [{"ordinal": 1, "turn": 1, "speaker": "P1", "role": "participant",
                                  "participant_id": pid, "start": 4, "end": 6, "text": "ja", "n_words": 1}])
        code = empty.add_code("c", "C", None)
    seg = next(empty.segments())["id"]
    with empty.act("autocode"):
        empty.add_codings([(seg, code)], "rules", "rule")
    assert empty.analyst() == ""                # rule matches make nobody the analyst
    with empty.act("code"):
        empty.add_coding(seg, code, "zoe", "manual")
    assert empty.analyst() == "zoe"
    empty.undo()
    assert empty.analyst() == ""
    empty.close()


def test_resolve_coders_asked_analyst_everyone(mini):
    assert resolve_coders(mini, ["ben"]).coders == ("ben",)
    assert resolve_coders(mini, ["anna,ben"]).coders == ("anna", "ben")
    assert resolve_coders(mini, None).coders == ("anna",) and resolve_coders(mini, None).how == "analyst"
    with pytest.raises(NotFoundError, match="unknown coder 'bob'"):
        resolve_coders(mini, ["bob"])
    mini.set_meta("analyst", "")
    mini.ensure_coder("rules")
    assert resolve_coders(mini, ()).coders == ("anna", "ben") and resolve_coders(mini, ()).how == "everyone"


def test_set_analyst_is_an_audited_act_and_refuses_rules(mini):
    assert set_analyst(mini, "ben") == "anna"
    assert mini.analyst() == "ben" and mini.history(1)[0]["command"] == "config analyst"
    mini.undo()
    assert mini.analyst() == "anna"
    with pytest.raises(InputError, match="autocode's name for its rule matches"):
        set_analyst(mini, "rules")
    with pytest.raises(InputError, match="not a coder name"):
        set_analyst(mini, "a,b")


def test_workbook_shows_exactly_the_chosen_coders_codings(mini, tmp_path):
    from openpyxl import load_workbook

    from qualcode.excel.analysis import write_workbook

    for coders, expected in ((None, {"anna"}), (["ben"], {"ben"}), (["anna", "ben"], {"anna", "ben"})):
        out = tmp_path / f"wb-{len(expected)}-{sorted(expected)[0]}.xlsx"
        summary = write_workbook(mini, out, coders=coders)
        wb = load_workbook(out, read_only=True)
        rows = list(wb["Gecodeerde fragmenten"].iter_rows(values_only=True))
        header = rows[0]
        coder_col = header.index("codeur")
        assert {r[coder_col] for r in rows[1:]} == expected
        n = sum(1 for c in mini.codings() if c["coder"] in expected)
        assert summary.fragments == len(rows) - 1 == n
        by_theme = list(wb["Per thema"].iter_rows(values_only=True))
        assert {r[6] for r in by_theme[1:] if len(r) > 6 and r[6]} == expected
        wb.close()


def test_report_shows_exactly_the_chosen_coders_codings_and_says_whose(mini):
    from qualcode.reports.report import build_report, render_markdown

    r = build_report(mini, figures=False)
    assert r.whose.startswith("Getoonde coderingen: anna, de analist van het project")
    theme = {t.key: t for t in r.themes}
    # ben's only codings: 'pros' on F1 2 and 'cons' on F1 5, both also coded by anna; anna has 9 on 'work'
    spread = mini.theme_spread(["anna"])
    assert theme["work"].fragments == spread[mini.theme("work")["id"]]["fragments"]
    rb = build_report(mini, coders=["ben"], figures=False)
    assert {t.key: t.fragments for t in rb.themes} == {"care": 0, "work": 2, "later": 0}
    assert {q["segment_id"] for t in rb.themes for q in t.quotes} <= {
        c["segment_id"] for c in mini.codings(coder="ben")}
    md = render_markdown(rb)
    assert md.splitlines()[2].startswith("*Getoonde coderingen: ben \\(gekozen met --coder\\)")


def test_rule_matches_stay_out_unless_asked(tmp_path, run):
    store = make_project(tmp_path / "p.qualcode")
    seg = next(s["id"] for s in store.segments(role="participant") if s["group_label"] == "F1")
    with store.act("autocode"):
        store.add_codings([(seg, store.code("intake")["id"])], "rules", "rule")
    store.set_meta("analyst", "")
    store.close()
    r = run(tmp_path / "p.qualcode", "counts", "--by", "theme,gender", "--json")
    assert r.exit_code == 0, r.output
    import json

    doc = json.loads(r.stdout)
    assert doc["coders"] == ["anna", "ben"] and doc["rows"] == "theme"
    with_rules = json.loads(run(tmp_path / "p.qualcode", "counts", "--by", "theme,gender", "--json",
                                "--coder", "rules").stdout)
    assert with_rules["coders"] == ["rules"]
    assert {c["code"]: c["total"] for c in with_rules["codes"]} == {"care": 1, "work": 0, "later": 0}


def test_config_analyst_cli_and_quotes_cli(mini, run, tmp_path):
    path = mini.path
    mini.close()
    assert run(path, "config", "analyst").stdout == "anna\n"
    r = run(path, "config", "analyst", "ben")
    assert r.exit_code == 0 and r.stdout == "analyst: ben (was anna)\n"
    r = run(path, "quotes", "--json")
    import json

    doc = json.loads(r.stdout)
    assert doc["coders"] == ["ben"] and doc["whose"].startswith("Getoonde coderingen: ben")
    r = run(path, "config", "analyst", "rules")
    assert r.exit_code == 1 and r.stderr.startswith("Error: 'rules' is autocode's name")


def test_counts_by_attribute_never_identifying(mini, run):
    path = mini.path
    mini.close()
    r = run(path, "counts", "--by", "theme,name")
    assert r.exit_code == 1
    assert r.stderr == ("Error: 'name' identifies participants, so it is never counted or exported; "
                        "count by another attribute.\n")
    r = run(path, "counts", "--by", "theme,gender", "--csv")
    assert r.exit_code == 0
    lines = r.stdout.splitlines()
    assert lines[0] == "theme,man,vrouw,total"
    assert r.stderr.startswith("Codings shown: anna")
    r = run(path, "counts", "--by", "gender,group")
    assert r.exit_code == 1 and "at most one unit" in r.stderr


def test_segments_by_code_and_theme(mini, run):
    path = mini.path
    coded = {c["segment_id"] for c in mini.codings() if c["code"] == "coach"}
    care = {c["segment_id"] for c in mini.codings() if c["theme"] == "care"}
    mini.close()
    heads = [line for line in run(path, "segments", "--code", "coach").stdout.splitlines() if line.startswith("#")]
    assert {int(h.split()[0][1:]) for h in heads} == coded
    heads = [line for line in run(path, "segments", "--theme", "care").stdout.splitlines() if line.startswith("#")]
    assert {int(h.split()[0][1:]) for h in heads} == care
    r = run(path, "segments", "--code", "nope")
    assert r.exit_code == 1 and r.stderr.startswith("Error: unknown code 'nope'.")
