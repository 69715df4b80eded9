"""CLI: theme, code rename/merge/move/split, status, review, history, undo, memo."""

from __future__ import annotations

import json

import openpyxl
import pytest

from qualcode.store import Store

try:  # tests/ may or may not be a package
    from tests.test_themes_helpers import build_project
except ImportError:  # pragma: no cover
    from test_themes_helpers import build_project


@pytest.fixture
def proj(tmp_path, tiny_codebook_factory):
    path = tmp_path / "p.qualcode"
    store = Store.create(path, language="nl")
    ids = list(build_project(store))
    codes = tiny_codebook_factory(store)
    with store.act("c"):
        store.add_codings([(ids[0], codes["pros"]), (ids[4], codes["pros"]), (ids[1], codes["cons"]),
                           (ids[2], codes["coach"]), (ids[5], codes["coach"]), (ids[3], codes["intake"])],
                          "ann", "manual")
        store.add_codings([(ids[0], codes["cons"]), (ids[0], codes["pros"])], "bob", "manual")
    store.close()
    return path, ids


def _ok(result):
    assert result.exit_code == 0, result.output + (result.stderr if result.stderr_bytes else "")
    return result.stdout


def _err(result):
    assert result.exit_code == 1
    return result.stderr.strip()


def test_theme_add_list_show(run, proj):
    path, _ = proj
    assert _ok(run(path, "theme", "add", "stigma", "Stigma", "--colour", "cc79a7")) == \
        "added theme stigma (Stigma, #CC79A7), status candidate\n"
    out = _ok(run(path, "theme", "list")).splitlines()
    assert out[0].split() == ["id", "name", "status", "codes", "segments", "key", "messages"]
    assert out[2].split() == ["work", "Betaald", "werk", "candidate", "2", "3", "0"]
    assert out[4].split() == ["stigma", "Stigma", "candidate", "0", "0", "0"]
    data = json.loads(_ok(run(path, "theme", "list", "--json")))
    assert [t["key"] for t in data] == ["work", "care", "stigma"]
    show = _ok(run(path, "theme", "show", "care"))
    assert show.startswith("care: Zorg en werk  [candidate, step 3]  #56B4E9\n")
    assert "  coach                        Jobcoach  (2 segments)" in show
    assert _err(run(path, "theme", "show", "cars")) == "Error: unknown theme 'cars'. Did you mean: care?"
    assert _err(run(path, "theme", "add", "care", "Nog eens")) == \
        "Error: a theme with id 'care' already exists (Zorg en werk); choose another id."
    assert _err(run(path, "theme", "add", "x", "X", "--colour", "red")) == \
        "Error: colour 'red' is not valid: use #RRGGBB, e.g. #E69F00."


def test_theme_rename_merge_split_move(run, proj):
    path, _ = proj
    assert _ok(run(path, "theme", "rename", "work", "Betaald werk: winst en risico")) == \
        "theme work is now called Betaald werk: winst en risico\n"
    assert _err(run(path, "theme", "rename", "work")) == "Error: give a new name, a new id (--key), or both."
    assert _ok(run(path, "theme", "split", "work", "downsides", "Nadelen", "--code", "cons")) == \
        "new theme downsides with cons (from work)\n"
    assert _ok(run(path, "theme", "move-code", "intake", "work")) == "moved code intake from care to work\n"
    assert _err(run(path, "theme", "move-code", "intake", "work")) == \
        "Error: code 'intake' is already in theme 'work'."
    assert _ok(run(path, "theme", "merge", "downsides", "work")) == \
        "merged theme downsides into work (1 code(s) moved); undo with 'qualcode undo'\n"
    assert _err(run(path, "theme", "merge", "work", "work")) == "Error: cannot merge theme 'work' into itself."
    res = run(path, "theme", "split", "work", "x", "X")
    assert res.exit_code == 2 and res.stderr.rstrip().endswith("Error: Missing option '--code'.")
    store = Store.open(path)
    assert [c["key"] for c in store.codes("work")] == ["pros", "cons", "intake"]
    assert [p.name.split("-", 2)[-1] for p in store.backups()] == ["before-theme-merge.qualcode"]
    store.close()


def test_define_and_set_status(run, proj):
    path, _ = proj
    assert _ok(run(path, "theme", "set-status", "work", "reviewed")) == "theme work is now reviewed\n"
    assert _err(run(path, "theme", "set-status", "work", "defined")) == (
        "Error: theme 'work' cannot be defined without a definition and a key message: run qualcode theme define "
        "work --definition \"...\" --key-message \"...\".")
    assert _ok(run(path, "theme", "define", "work", "--definition", "Wat werk brengt en kost.",
                   "--key-message", "Werk geeft structuur.", "--key-message", "Werkdruk geeft stress.")) == \
        "theme work: definition of 5 words, 2 key message(s)\n"
    assert _ok(run(path, "theme", "set-status", "work", "defined")) == "theme work is now defined\n"
    assert _err(run(path, "theme", "set-status", "work", "reviewed")) == \
        "Error: theme 'work' is defined; moving it back to reviewed needs --back."
    assert _ok(run(path, "theme", "set-status", "work", "reviewed", "--back")) == "theme work is now reviewed\n"
    res = run(path, "theme", "set-status", "work", "done")
    assert res.exit_code == 2 and "'done' is not one of 'candidate', 'reviewed', 'defined', 'reported'" in res.stderr


def test_set_status_of_several_themes_at_once(run, proj):
    path, _ = proj
    assert _ok(run(path, "theme", "set-status", "work", "care", "reviewed")) == (
        "theme work is now reviewed\ntheme care is now reviewed\n")
    assert _err(run(path, "theme", "set-status", "care", "work", "defined")) == (
        "Error: theme 'care' cannot be defined without a definition and a key message: run qualcode theme define "
        "care --definition \"...\" --key-message \"...\". None of the 2 themes was changed.")
    assert _ok(run(path, "undo")).startswith("undone #")
    assert _ok(run(path, "theme", "list", "--json")).count('"status": "candidate"') == 2
    assert _err(run(path, "theme", "set-status", "reviewed")) == (
        "Error: name at least one theme before the status, e.g. qualcode theme set-status pathways reviewed.")
    res = run(path, "theme", "set-status", "work")
    assert res.exit_code == 2 and "'work' is not one of 'candidate', 'reviewed', 'defined', 'reported'" in res.stderr
    assert "Several themes move together" in _ok(run(path, "theme", "set-status", "--help"))


def test_code_rename_merge_move_split(run, proj):
    path, ids = proj
    assert _ok(run(path, "code", "rename", "coach", "Jobcoach op de werkvloer")) == \
        "code coach is now called Jobcoach op de werkvloer\n"
    assert _ok(run(path, "code", "rename", "coach", "--key", "jobcoach")) == \
        "code jobcoach is now called Jobcoach op de werkvloer\n"
    assert _ok(run(path, "code", "merge", "cons", "pros")) == \
        "merged code cons into pros: 1 coding(s) moved, 1 duplicate(s) collapsed\n"
    assert _err(run(path, "code", "merge", "cons", "pros")) == \
        "Error: unknown code 'cons'. Did you mean: pros?"
    assert _ok(run(path, "code", "move", "jobcoach", "work")) == "moved code jobcoach from care to work\n"
    assert _ok(run(path, "code", "split", "pros", "structure", "Structuur", "--contains", "structuur")) == \
        "new code structure: 3 coding(s) on 2 segment(s) moved from pros\n"
    assert _err(run(path, "code", "split", "pros", "x", "X")) == (
        "Error: say which segments of code 'pros' go to the new code: --segments 12,15 or a filter "
        "(--group, --participant, --contains).")
    assert _err(run(path, "code", "split", "pros", "x", "X", "--segments", "1;2")) == \
        "Error: --segments takes segment ids separated by commas, e.g. 12,15,31; got '1;2'."
    assert _ok(run(path, "code", "split", "pros", "stress", "Stress", "--segments", str(ids[1]))) == \
        "new code stress: 1 coding(s) on 1 segment(s) moved from pros\n"
    # 'code SEGMENT CODE' still codes a segment (issue 3's default subcommand)
    store = Store.open(path)
    assert sorted(r["segment_id"] for r in store.codings(code="structure")) == [ids[0], ids[0], ids[4]]
    store.close()


def test_history_and_undo(run, proj):
    path, _ = proj
    _ok(run(path, "theme", "add", "stigma", "Stigma"))
    _ok(run(path, "code", "move", "intake", "stigma"))
    hist = _ok(run(path, "history")).splitlines()
    assert hist[0].split() == ["#", "at", "who", "command", "summary", "state"]
    assert hist[2].split()[2:5] == ["tester", "theme", "move-code"]
    assert _err(run(path, "undo", "--id", "3")) == (
        "Error: cannot undo #3 (theme add): later act #4 (theme move-code: moved code intake from care to stigma) "
        "depends on it. Undo #4 first.")
    assert _ok(run(path, "undo")) == "undone #4 theme move-code: moved code intake from care to stigma\n"
    assert _ok(run(path, "undo", "--id", "3")) == "undone #3 theme add: added theme stigma (Stigma)\n"
    assert _err(run(path, "undo", "--id", "3")) == "Error: act #3 (theme add): it was already undone."
    assert _err(run(path, "undo", "--id", "99")) == "Error: no act #99 in the history (see 'qualcode history')."
    assert _err(run(path, "undo", "0")) == "Error: undo takes a number of acts of at least 1."
    hist = _ok(run(path, "history")).splitlines()
    assert hist[2].split()[3:] == ["undo", "undo", "of", "#3", "(theme", "add)", "undo", "of", "#3"]
    store = Store.open(path)
    assert [t["key"] for t in store.themes()] == ["work", "care"]
    assert store.code("intake")["theme"] == "care"
    store.close()


def test_memo_add_list_show(run, proj):
    path, ids = proj
    out = _ok(run(path, "memo", "add", "theme:care", "Overlapt met werk?", "--author", "promotor"))
    assert out.startswith("memo #1 on theme:care by promotor at 20")
    _ok(run(path, "memo", "add", "project", "Logboek: stap 3 begonnen."))
    _ok(run(path, "memo", "add", f"segment:{ids[2]}", "Mooi citaat."))
    lines = _ok(run(path, "memo", "list")).splitlines()
    assert [line.split()[:3] for line in lines[2:]] == [["1", "theme:care", "promotor"], ["2", "project", "tester"],
                                                        ["3", f"segment:{ids[2]}", "tester"]]
    lines = _ok(run(path, "memo", "list", "theme:care")).splitlines()
    assert len(lines) == 3 and lines[2].endswith("Overlapt met werk?")
    show = _ok(run(path, "memo", "show", "1"))
    assert show.startswith("memo #1 on theme:care (memo)\nby promotor at ")
    assert show.endswith("\n\nOverlapt met werk?\n")
    assert _err(run(path, "memo", "add", "segment:abc", "x")) == \
        "Error: segment id 'abc' is not a number; see 'qualcode segments' for ids."
    assert _err(run(path, "memo", "add", "code:nope", "x")) == \
        "Error: unknown code 'nope'. Known: pros, cons, coach, intake."
    assert _err(run(path, "memo", "show", "9")) == "Error: unknown memo '9'; see 'qualcode memo list'."


def test_status_and_review(run, proj, tmp_path):
    path, _ = proj
    out = _ok(run(path, "status"))
    assert "step 2  participant segments: 8, coded 6 (75%), uncoded 2" in out
    assert out.rstrip().endswith("next (step 4): re-read and check the themes: qualcode review")
    data = json.loads(_ok(run(path, "status", "--json")))
    assert data["themes"] == {"candidate": 2, "reviewed": 0, "defined": 0, "reported": 0}
    sheet = tmp_path / "review.xlsx"
    out = _ok(run(path, "review", "--out", sheet))
    assert out.startswith("integrity: 2 source(s) and 8 segment(s) re-read; 0 problem(s)\n")
    assert out.rstrip().endswith(f"wrote {sheet}")
    assert openpyxl.load_workbook(sheet).sheetnames[0] == "Warnings"
    assert _err(run(path, "review", "--out", sheet)) == f"Error: {sheet} already exists; use --force to overwrite it."
    assert _err(run(path, "review", "--out", tmp_path / "r.csv")) == "Error: --out must end in .xlsx, got 'r.csv'."
    assert "review: " in _ok(run(path, "status")) and "open warning(s)" in _ok(run(path, "status"))


def test_every_command_has_help(run, proj):
    from qualcode.cli import cli

    for group in ("theme", "memo"):
        for name, cmd in cli.commands[group].commands.items():
            assert cmd.help, f"{group} {name}"
            assert all(p.help for p in cmd.params if hasattr(p, "help") and p.param_type_name == "option")
    for name in ("rename", "merge", "move", "split"):
        assert cli.commands["code"].commands[name].help
    for name in ("status", "review", "history", "undo"):
        assert cli.commands[name].help


def test_every_command_is_in_the_docs():
    from pathlib import Path

    from qualcode.cli import cli

    doc = (Path(__file__).resolve().parent.parent / "docs" / "themes.md").read_text(encoding="utf-8")
    names = [f"qualcode theme {n}" for n in cli.commands["theme"].commands]
    names += [f"qualcode memo {n}" for n in cli.commands["memo"].commands]
    names += [f"qualcode code {n}" for n in ("rename", "merge", "move", "split")]
    names += [f"qualcode {n}" for n in ("status", "review", "history", "undo")]
    assert [n for n in names if n not in doc] == []


def test_undo_with_nothing_to_undo(run, tmp_path):
    path = tmp_path / "new.qualcode"
    Store.create(path).close()
    assert _err(run(path, "undo")) == "Error: nothing to undo."
