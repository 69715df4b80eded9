"""A code's exclude criterion as a rule: ``rules: overruled_by: [more_specific_code]`` leaves the code out
where the more specific code is coded on the same segment (rulescore.overrule, the codebook's checks,
autocode's summary and the xlsx codebook sheet)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from qualcode.codebook.yamlfile import apply_codebook, export_codebook, load_codebook
from qualcode.coding.rulescore import overrule
from qualcode.errors import CodebookError

TRANSCRIPT = """\
# group: F1
Moderator: Dan de eerste stelling: betaald werk draagt bij tot herstel. Wat denken jullie daarvan, wat roept dat op?
P1: Mijn jobcoach kwam elke week naar ons teamoverleg, samen met de psychiater.
P2: Mijn jobcoach belde de werkgever als het moeilijk ging.
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
        name: Jobcoach op de werkvloer
        rules:
          keywords: [jobcoach]
          overruled_by: [team]
      - id: team
        name: Jobcoach in het zorgteam
        rules:
          keywords: [teamoverleg]
"""


@dataclass
class M:
    code: str


def test_overrule_keeps_a_code_only_where_no_code_that_overrules_it_is_coded():
    rules = {"coach": ["team"], "stage": ["other", "team"]}
    kept, dropped = overrule([M("coach"), M("team"), M("stage")], rules)
    assert [m.code for m in kept] == ["team"] and [m.code for m in dropped] == ["coach", "stage"]
    kept, dropped = overrule([M("coach"), M("stage")], rules)     # "team" not coded here: nothing overruled
    assert [m.code for m in kept] == ["coach", "stage"] and dropped == []
    assert overrule([], rules) == ([], [])


@pytest.fixture
def project(tmp_path, run):
    p = tmp_path / "p.qualcode"
    (tmp_path / "cb.yaml").write_text(CODEBOOK, encoding="utf-8")
    (tmp_path / "F1.txt").write_text(TRANSCRIPT, encoding="utf-8")
    assert run(p, "init", "--codebook", tmp_path / "cb.yaml").exit_code == 0
    r = run(p, "ingest", tmp_path / "F1.txt", "--allow-new-speakers")
    assert r.exit_code == 0, r.output
    return p


def coded(project) -> set[tuple[str, str]]:
    from qualcode.store import Store

    with Store.open(project) as s:
        text = {x["id"]: x["text"] for x in s.segments()}
        return {(text[c["segment_id"]].split()[2], c["code"]) for c in s.codings(coder="rules")}


def test_autocode_leaves_an_overruled_code_out_and_says_so(project, run):
    r = run(project, "autocode")
    assert r.exit_code == 0, r.output
    # the turn about the job coach on the team meeting gets only "team"; the work-floor turn keeps "coach"
    assert coded(project) == {("kwam", "team"), ("belde", "coach")}
    assert ("left out: 1 matches overruled by a more specific code on the same segment (overruled_by in the "
            "codebook)") in r.output.splitlines()
    # run for "coach" alone, nothing overrules it: both turns are coded
    r = run(project, "autocode", "--codes", "coach", "--dry-run")
    assert r.exit_code == 0, r.output
    assert "overruled" not in r.output
    assert [ln.split()[0:2] for ln in r.output.splitlines() if ln.startswith("coach ")] == [["coach", "2"]]


def test_codebook_show_lists_overruled_by(project, run):
    r = run(project, "codebook", "show", "--rules")
    assert r.exit_code == 0, r.output
    assert "      overruled by: team" in r.output.splitlines()


def write(tmp_path, text: str):
    p = tmp_path / "cb.yaml"
    p.write_text(text, encoding="utf-8")
    return p


@pytest.mark.parametrize("old, new, message", [
    ("overruled_by: [team]", "overruled_by: [teem]",
     "cb.yaml, line 12, themes[0].codes[0].rules.overruled_by: code 'coach' is overruled by unknown code 'teem'. "
     "Did you mean: team?"),
    ("overruled_by: [team]", "overruled_by: [coach]",
     "cb.yaml, line 12, themes[0].codes[0].rules.overruled_by: code 'coach' cannot be overruled by itself; name the "
     "more specific code that should win."),
    ("overruled_by: [team]", "overruled_by: {team: yes}",
     "cb.yaml, line 12, themes[0].codes[0].rules.overruled_by: 'overruled_by' must be a list of code ids (e.g. "
     "[co_jobcoach_zorgteam]), got a mapping."),
    ("keywords: [teamoverleg]", "keywords: [teamoverleg]\n          overruled_by: [coach]",
     "cb.yaml, line 12, themes[0].codes[0].rules.overruled_by: codes coach -> team -> coach overrule each other in a "
     "circle, so all of them would be left out where they match together; keep 'overruled_by' on the less specific "
     "code only."),
])
def test_overruled_by_is_checked_when_the_codebook_is_loaded(tmp_path, old, new, message):
    assert old in CODEBOOK
    p = write(tmp_path, CODEBOOK.replace(old, new))
    with pytest.raises(CodebookError) as exc:
        load_codebook(p)
    assert str(exc.value).replace(str(p), "cb.yaml") == message


def test_overruled_by_round_trips_through_yaml_and_the_xlsx_sheet(tmp_path, empty_store):
    apply_codebook(empty_store, load_codebook(write(tmp_path, CODEBOOK)), source="cb.yaml")
    for name in ("out.yaml", "out.xlsx"):
        export_codebook(empty_store, str(tmp_path / name))
        back = load_codebook(tmp_path / name)
        assert {c.id: c.rules.get("overruled_by") for c in back.codes} == {"coach": ["team"], "team": None}
    from openpyxl import load_workbook

    ws = load_workbook(tmp_path / "out.xlsx")["Codebook"]
    assert [c.value for c in ws[1]][-1] == "overruled by"
    assert [c.value for c in ws[2]][-1] == "team"
