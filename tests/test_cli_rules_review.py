"""CLI: autocode's scores and explanations (--dry-run, --min-score, --introductions), and turning rule
codings into the researcher's own (code confirm) or rejecting them (code reject), each one undoable act."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

TRANSCRIPT = """\
# group: F1
Moderator: Welkom. We beginnen met een kort rondje: wie zit er rond de tafel?
P1: Ik werk als jobcoach bij de VDAB, al tien jaar, en ik doe dat graag.
P2: En ik ben verpleegkundige in een psychiatrisch ziekenhuis, twaalf jaar.
Moderator: Dank u allemaal. Dan de eerste stelling: betaald werk draagt bij tot herstel. Wat denken jullie daarvan, wat roept dat bij jullie op?
P1: Die stage was niet betaald, maar mijn jobcoach hielp mij stap voor stap.
P2: Ik had geen stress op het werk, echt niet.
P1: Mijn jobcoach belde de werkgever als het moeilijk ging, dat was een steun.
"""

CODEBOOK = """\
name: t
language: nl
themes:
  - id: th
    name: Thema
    colour: "#112233"
    codes:
      - id: coach
        name: Jobcoach
        rules:
          keywords: [jobcoach]
          hints: [werkgever, steun]
      - id: stress
        name: Stress
        rules:
          keywords: [stress]
      - id: stage
        name: Stage
        rules:
          keywords: ["stage*"]
          phrases: ["niet betaald", "stap voor stap"]
      - id: vdab
        name: VDAB
        rules:
          patterns:
            - regex: '\\bvdab\\b'
"""


@pytest.fixture
def project(tmp_path, run):
    p = tmp_path / "p.qualcode"
    (tmp_path / "cb.yaml").write_text(CODEBOOK, encoding="utf-8")
    (tmp_path / "F1.txt").write_text(TRANSCRIPT, encoding="utf-8")
    assert run(p, "init", "--codebook", tmp_path / "cb.yaml").exit_code == 0
    r = run(p, "ingest", tmp_path / "F1.txt", "--allow-new-speakers")
    assert r.exit_code == 0, r.output
    return p


def seg(project, fragment: str) -> int:
    from qualcode.store import Store

    with Store.open(project) as s:
        return next(x["id"] for x in s.segments() if fragment in x["text"])


def codings(project, coder: str) -> set[tuple[int, str]]:
    from qualcode.store import Store

    with Store.open(project) as s:
        return {(c["segment_id"], c["code"]) for c in s.codings(coder=coder)}


def test_dry_run_shows_score_and_which_rule_matched(project, run):
    r = run(project, "autocode", "--dry-run")
    assert r.exit_code == 0, r.output
    stage, belde = seg(project, "stap voor stap"), seg(project, "belde")
    lines = r.output.splitlines()
    # two phrases and a keyword: 1 - (1 - 0.75) * (1 - 0.75) * (1 - 0.6)
    at = lines.index(f"#{stage} (F1 P1) stage 0.97: Die [stage] was [niet betaald], maar mijn jobcoach hielp mij "
                     f"[stap voor stap].")
    assert lines[at + 1] == ("    why: phrase 'niet betaald' (\"niet betaald\"); phrase 'stap voor stap' "
                             "(\"stap voor stap\"); keyword 'stage*' (\"stage\")")
    at = lines.index(f"#{belde} (F1 P1) coach 0.86: Mijn [jobcoach] belde de [werkgever] als het moeilijk ging, "
                     f"dat was een [steun].")
    assert lines[at + 1] == ("    why: keyword 'jobcoach' (\"jobcoach\"); hint 'steun' (\"steun\"); "
                             "hint 'werkgever' (\"werkgever\")")
    # "geen stress" is negated: 0.3, under the default 0.5; the introduction round is left out
    assert "stress " not in " ".join(lines[:-6]) and "VDAB" not in r.output
    assert ("left out: 1 weaker matches (score under 0.5; --min-score 0 shows them); 2 turns of the introduction "
            "round (--introductions codes them)") in lines
    assert lines[-1] == "dry run: nothing was written."


def test_min_score_and_introductions(project, run):
    r = run(project, "autocode", "--dry-run", "--min-score", "0", "--introductions", "--codes", "stress,vdab")
    assert r.exit_code == 0, r.output
    assert f"#{seg(project, 'geen stress')} (F1 P2) stress 0.30: Ik had geen [stress] op het werk, echt niet." \
        in r.output
    assert "    why: keyword 'stress' (\"stress\", negated)" in r.output
    assert f"#{seg(project, 'VDAB')} (F1 P1) vdab 0.80: Ik werk als jobcoach bij de [VDAB]" in r.output
    r = run(project, "autocode", "--dry-run", "--min-score", "0.95")
    assert " stage 0.97" in r.output and " coach 0.86" not in r.output
    r = run(project, "autocode", "--min-score", "2")
    assert r.exit_code == 2 and "2.0 is not in the range 0<=x<=1" in r.stderr


def test_autocode_stores_explanations_as_rule_suggestions(project, run):
    from qualcode.store import Store

    assert run(project, "autocode").exit_code == 0
    with Store.open(project) as s:
        why = {(r["segment_id"], r["code"]): (r["confidence"], r["drivers"], r["status"])
               for r in s.suggestions(coder="rules", source="rules")}
    assert why[(seg(project, "belde"), "coach")] == (
        0.856, "keyword 'jobcoach' (\"jobcoach\"); hint 'steun' (\"steun\"); hint 'werkgever' (\"werkgever\")", "open")
    assert set(why) == codings(project, "rules")


def test_confirm_makes_rule_codings_the_researchers_and_undo_takes_it_back(project, run):
    assert run(project, "autocode").exit_code == 0
    rules = codings(project, "rules")
    r = run(project, "code", "confirm", "--code", "coach", "--coder", "ann")
    assert r.exit_code == 0, r.output
    assert r.output.splitlines() == ["confirmed 2 rule coding(s) as ann: coach 2", "undo with: qualcode undo"]
    assert codings(project, "ann") == {p for p in rules if p[1] == "coach"}
    from qualcode.store import Store

    with Store.open(project) as s:
        assert {c["origin"] for c in s.codings(coder="ann")} == {"rule"}
        assert {r["status"] for r in s.suggestions(source="rules") if r["code"] == "coach"} == {"accepted"}
        assert s.history(limit=1)[0]["command"] == "code confirm"
    r = run(project, "autocode")
    assert "coach          2  1.00 (2/2)" in r.output   # the precision estimate counts the confirmations
    assert run(project, "undo").exit_code == 0 and run(project, "undo").exit_code == 0
    assert codings(project, "ann") == set()
    r = run(project, "code", "confirm", "--code", "vdab")  # the introduction round is not coded
    assert r.exit_code == 1 and r.stderr.startswith("Error: no rule coding matches that selection")
    r = run(project, "code", "confirm")
    assert r.exit_code == 1 and r.stderr.startswith("Error: say which rule codings to confirm")


def test_confirm_by_segment_and_min_score(project, run):
    assert run(project, "autocode").exit_code == 0
    stage = seg(project, "stap voor stap")
    r = run(project, "code", "confirm", stage, "--coder", "ann")
    assert r.exit_code == 0 and codings(project, "ann") == {(stage, "coach"), (stage, "stage")}
    r = run(project, "code", "confirm", "--min-score", "0.95", "--coder", "bo")
    assert r.exit_code == 0 and codings(project, "bo") == {(stage, "stage")}


def test_reject_removes_the_rule_coding_for_good_and_undo_restores_it(project, run):
    assert run(project, "autocode").exit_code == 0
    belde = seg(project, "belde")
    r = run(project, "code", "reject", belde, "coach", "--coder", "ann")
    assert r.exit_code == 0, r.output
    assert r.output.splitlines()[0] == "rejected 1 rule coding(s) as ann: coach 1"
    assert (belde, "coach") not in codings(project, "rules")
    r = run(project, "autocode")
    assert (belde, "coach") not in codings(project, "rules") and "1 matches you rejected" in r.output
    assert "coach          1  0.00 (0/1)" in r.output  # a rejection counts against the code
    assert run(project, "undo").exit_code == 0  # the second autocode
    assert run(project, "undo").exit_code == 0  # the rejection
    assert (belde, "coach") in codings(project, "rules")
    r = run(project, "code", "reject", seg(project, "geen stress"), "stress")
    assert r.exit_code == 1 and r.stderr.startswith("Error: the rules did not code stress on segment(s)")
    r = run(project, "code", "reject", "coach")
    assert r.exit_code == 2


def test_coding_sheet_has_a_why_column_that_import_ignores(project, run, tmp_path):
    from openpyxl import load_workbook

    out = tmp_path / "coding.xlsx"
    assert run(project, "sheet", "export", out).exit_code == 0
    assert "why" not in [c.value for c in load_workbook(out)["Coding"][1]]  # no autocode yet: no column
    assert run(project, "autocode").exit_code == 0
    assert run(project, "code", "confirm", seg(project, "belde"), "--code", "coach").exit_code == 0
    r = run(project, "sheet", "export", out, "--force")
    assert r.exit_code == 0, r.output
    ws = load_workbook(out)["Coding"]
    header = [c.value for c in ws[1]]
    why_col, text_col = header.index("why"), header.index("text")
    assert header[-1] == "qualcode id" and header[why_col - 1] == "memo"
    rows = {row[text_col].value: row[why_col].value for row in ws.iter_rows(min_row=2)}
    assert rows["Mijn jobcoach belde de werkgever als het moeilijk ging, dat was een steun."] == (
        "coach (0.86, confirmed): keyword 'jobcoach' (\"jobcoach\"); hint 'steun' (\"steun\"); "
        "hint 'werkgever' (\"werkgever\")")
    assert rows["Die stage was niet betaald, maar mijn jobcoach hielp mij stap voor stap."].splitlines() == [
        "stage (0.97): phrase 'niet betaald' (\"niet betaald\"); phrase 'stap voor stap' (\"stap voor stap\"); "
        "keyword 'stage*' (\"stage\")",
        "coach (0.60): keyword 'jobcoach' (\"jobcoach\")"]
    assert rows["Ik had geen stress op het werk, echt niet."] is None
    # the column is for reading: an edit there changes nothing, and the import reads the codes as before
    ws.cell(row=3, column=why_col + 1, value="my own note")
    ws.parent.save(out)
    before = codings(project, "tester")
    r = run(project, "sheet", "import", out)
    assert r.exit_code == 0, r.output
    assert codings(project, "tester") == before
