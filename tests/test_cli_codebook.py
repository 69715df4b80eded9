"""CLI: codebook show|validate|export|apply, code/uncode, autocode, sheet export|import."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook

ROOT = Path(__file__).resolve().parent.parent
IPS = ROOT / "codebooks" / "ips.yaml"

TRANSCRIPT = """\
# group: F1
Moderator: Wat denken jullie?
P1: Die stage was niet betaald, maar mijn jobcoach hielp.
P2: Ik had schrik om mijn uitkering te verliezen.
P1: Ja.
"""


@pytest.fixture
def project(tmp_path, run):
    p = tmp_path / "p.qualcode"
    f = tmp_path / "F1.txt"
    f.write_text(TRANSCRIPT, encoding="utf-8")
    r = run(p, "init", "--codebook", IPS)
    assert r.exit_code == 0, r.output
    assert run(p, "ingest", f, "--allow-new-speakers").exit_code == 0
    return p


def sid(project, fragment):
    from qualcode.store import Store

    with Store.open(project) as s:
        return next(x["id"] for x in s.segments() if fragment in x["text"])


def test_init_with_codebook_and_show(project, run):
    r = run(project, "codebook", "show")
    assert r.exit_code == 0
    lines = r.output.splitlines()
    assert lines[0] == "codebook 'IPS focusgroepen (zorg en werk)' (16 codes)"
    assert "pathways  Trajecten naar werk  #E69F00" in lines
    assert "    voortraject_voordelen  Voordelen van een voortraject  [0 codings]" in lines
    r = run(project, "codebook", "show", "--rules")
    assert any(line.strip().startswith("keywords: voortraject*, stage*") for line in r.output.splitlines())
    assert any(line.strip().startswith("hints: opleiding*, cursus*") for line in r.output.splitlines())


def test_validate_ok_and_error(tmp_path, run, project):
    r = run(project, "codebook", "validate", IPS)
    assert r.exit_code == 0 and r.output == f"{IPS}: valid (4 themes, 16 codes, 16 with rules)\n"
    bad = tmp_path / "bad.yaml"
    bad.write_text('name: x\nthemes:\n  - id: a\n    name: A\n    colour: "#12345"\n', encoding="utf-8")
    r = run(project, "codebook", "validate", bad)
    assert r.exit_code == 1
    assert r.stderr == (f"Error: {bad}, line 5, themes[0].colour: colour '#12345' is not of the form #RRGGBB "
                        "(e.g. \"#E69F00\"; quote it in YAML).\n")


def test_export_and_apply_refusal(tmp_path, run, project):
    out = tmp_path / "cb.yaml"
    assert run(project, "codebook", "export", out).output == f"wrote {out}: 4 themes, 16 codes\n"
    r = run(project, "codebook", "export", out)
    assert r.exit_code == 1 and r.stderr == f"Error: {out} already exists; use --force to overwrite it.\n"
    xlsx = tmp_path / "cb.xlsx"
    assert run(project, "codebook", "export", xlsx).exit_code == 0
    assert load_workbook(xlsx)["Codebook"]["E2"].value == "voortraject"
    # drop a coded code from the YAML: refused, then --force keeps the codings under 'uncategorised'
    assert run(project, "code", sid(project, "schrik"), "pw_inactiviteitsval").exit_code == 0
    text = out.read_text(encoding="utf-8")
    start = text.index("  - id: pw_inactiviteitsval")
    end = text.index("- id: support")
    out.write_text(text[:start] + text[end:], encoding="utf-8")
    r = run(project, "codebook", "apply", out)
    assert r.exit_code == 1
    assert r.stderr.startswith(f"Error: the codebook {out} removes codes that have codings: pw_inactiviteitsval "
                               "(1 coding).")
    r = run(project, "codebook", "apply", out, "--force")
    assert r.exit_code == 0, r.output
    assert "  removed: pw_inactiviteitsval" in r.output
    assert "  1 codings moved to 'uncategorised' (backup: " in r.output


def test_code_and_uncode(project, run):
    s = sid(project, "schrik")
    r = run(project, "code", s, "pw_inactiviteitsval")
    assert r.output == "coded 1 segment(s) with pw_inactiviteitsval as tester\n"
    r = run(project, "code", "apply", s, "pw_drempels_stigma", "--coder", "ann")
    assert r.output == "coded 1 segment(s) with pw_drempels_stigma as ann\n"
    r = run(project, "code", s, "pw_inactiviteitsval", env={"QUALCODE_CODER": "bob"})
    assert r.output == "coded 1 segment(s) with pw_inactiviteitsval as bob\n"
    r = run(project, "code", s, "pw_inactiviteitsval")
    assert r.output == "coded 0 segment(s) with pw_inactiviteitsval as tester (1 already had it)\n"
    r = run(project, "code", s, "pw_inactivitijdsval")
    assert r.exit_code == 1
    assert r.stderr == "Error: unknown code 'pw_inactivitijdsval'. Did you mean: pw_inactiviteitsval?\n"
    r = run(project, "code", "999", "pw_voordelen")
    assert r.exit_code == 1 and r.stderr.startswith("Error: unknown segment '999'. Segment ids run from 1 to")
    r = run(project, "uncode", s, "pw_inactiviteitsval")
    assert r.output == "removed pw_inactiviteitsval from 1 segment(s) for tester\n"
    r = run(project, "uncode", s, "pw_inactiviteitsval")
    assert r.exit_code == 1
    assert r.stderr == (f"Error: coder 'tester' has no coding pw_inactiviteitsval on segment(s) {s}; nothing was "
                        "removed.\n")
    r = run(project, "uncode", s, "st_jobcoah")
    assert r.stderr == "Error: unknown code 'st_jobcoah'. Did you mean: st_jobcoach, co_jobcoach_zorgteam?\n"


def test_autocode_and_dry_run(project, run):
    r = run(project, "autocode", "--dry-run", "--codes", "voortraject_nadelen,st_jobcoach")
    assert r.exit_code == 0
    s = sid(project, "stage")
    assert r.output.splitlines()[:4] == [
        f"#{s} (F1 P1) voortraject_nadelen 0.80: Die [stage was niet betaald, maar mijn job]coach hielp.",
        # which rule of the code matched, and on which words; the phrase lies inside the regex match: no
        # second piece of evidence, so the score is the pattern's 0.8
        "    why: pattern '\\b(stage\\w*|vrijwilligers\\w*|voortraject|arbeidszorg)\\b[^.?!]{0,60}\\b(nooit|geen|niet|nie)"
        "\\b[^.?!]{0,30}\\b(job|contract|werk|betaald|loon|geld)' (\"stage was niet betaald, maar mijn job\"); "
        "phrase 'niet betaald' (\"niet betaald\")",
        f"#{s} (F1 P1) st_jobcoach 0.60: Die stage was niet betaald, maar mijn [jobcoach] hielp.",
        "    why: keyword '*jobcoach*' (\"jobcoach\")"]
    assert r.output.endswith("dry run: nothing was written.\n")
    r = run(project, "autocode")
    assert "2 of 3 participant segments matched (67%)" in r.output
    again = run(project, "autocode")
    assert again.output.splitlines()[-1] == "codings by 'rules': 0 added, 0 removed (manual codings untouched)"
    r = run(project, "autocode", "--codes", "nope")
    assert r.exit_code == 1 and r.stderr.startswith("Error: unknown code 'nope'.")


def test_sheet_export_import(tmp_path, project, run):
    out = tmp_path / "coding.xlsx"
    r = run(project, "sheet", "export", out)
    assert r.exit_code == 0 and r.output.startswith(f"wrote {out}: 4 segments (0 with codes by tester)")
    wb = load_workbook(out)
    ws = wb["Coding"]
    cols = {c.value: c.column for c in ws[1]}
    ws.cell(3, cols["code 1"]).value = "st_jobcoach"
    ws.cell(4, cols["code 2"]).value = "pw_inactivteitsval"
    wb.save(out)
    r = run(project, "sheet", "import", out)
    assert r.exit_code == 1
    assert r.stderr == (f"Error: {out}: 1 problem; nothing was imported (fix them, or use --accept-partial to "
                        "import the other rows):\n  sheet Coding, row 4, cell G4: unknown code "
                        "'pw_inactivteitsval'. Did you mean: pw_inactiviteitsval (Inactiviteitsval en uitkering)? To "
                        "create it, import with --new-codes.\n")
    r = run(project, "sheet", "import", out, "--accept-partial")
    assert r.exit_code == 0
    assert r.output.splitlines()[:2] == [f"{out}: 4 rows read for coder tester: 1 codings added, 0 removed, "
                                         "0 memos added", "  st_jobcoach: +1 -0"]


def test_every_command_has_help(run, tmp_path):
    from qualcode.cli import cli

    for name in ("codebook", "code", "sheet"):
        group = cli.commands[name]
        assert group.help
        for sub in ("show", "validate", "export", "apply") if name == "codebook" else \
                   ("apply",) if name == "code" else ("export", "import"):
            cmd = group.commands[sub]
            assert cmd.help and all(p.help for p in cmd.params if hasattr(p, "help") and p.param_type_name ==
                                    "option")
    for name in ("uncode", "autocode"):
        assert cli.commands[name].help
    r = run(tmp_path / "x.qualcode", "code", "--help")
    assert r.exit_code == 0 and "SEGMENT_ID... CODE_ID" in r.output
