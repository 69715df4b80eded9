"""The agreement commands end to end: report file, disagreement sheet, consensus, errors, help."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openpyxl
import pytest

from qualcode.agreement import measures as ag
from qualcode.agreement.workbook import disagreements
from qualcode.store import Store

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def project(sample_path, tiny_codebook_factory):
    """coder_a and coder_b on F1 (both marked done), coder_a also on part of F2."""
    store = Store.open(sample_path)
    ids = tiny_codebook_factory(store)
    rng = np.random.default_rng(9)
    with store.act("test codings"):
        for s in store.segments(role="participant"):
            if s["group_label"] == "F3":
                continue
            for key, cid in ids.items():
                a = rng.random() < 0.3
                b = a if rng.random() < 0.8 else not a
                if a:
                    store.add_coding(s["id"], cid, "coder_a")
                if b and s["group_label"] == "F1":
                    store.add_coding(s["id"], cid, "coder_b")
    store.close()
    return sample_path


def test_agreement_report_and_file(project, run, tmp_path):
    assert run(project, "agreement", "done", "--coder", "coder_a", "--source", "F1.txt").exit_code == 0
    r = run(project, "agreement", "done", "--coder", "coder_b", "--source", "F1.txt")
    assert r.exit_code == 0 and r.stdout == "Added 1 'done' marks for coder_b.\n"
    out = tmp_path / "reports" / "agreement.xlsx"
    r = run(project, "agreement", "--coders", "coder_a,coder_b", "--out", out, "--resamples", "200")
    assert r.exit_code == 0, r.stderr
    with Store.open(project) as store:
        rep = ag.compute_agreement(store, ["coder_a", "coder_b"], n_boot=200)
    n_f1 = rep.n_segments
    assert r.stdout.startswith(f"Agreement between coder_a, coder_b on {n_f1} segments.\n")
    assert "(overall, pooled)" in r.stdout and "95% confidence intervals: bootstrap over segments, 200 resamples" \
        in r.stdout
    assert "segments left out" in r.stdout  # coder_a's F2 segments
    assert r.stdout.rstrip().endswith(f"Wrote {out}")
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Agreement", "Exclusive sets", "Notes", "Coder comparison"]
    rows = list(wb["Agreement"].iter_rows(values_only=True))
    header = list(rows[0])
    assert header[:6] == ["code", "name", "segments", "positives", "applied by coder_a", "applied by coder_b"]
    assert [row[0] for row in rows[1:]] == [c.code for c in rep.codes] + ["(overall, pooled)"]
    kappa = header.index("Cohen's kappa")
    for row, res in zip(rows[1:], [*rep.codes, rep.overall]):
        assert row[2] == n_f1 and row[3] == res.positives
        assert row[kappa] == pytest.approx(res.stats["cohen"].value, abs=1e-6)
        assert row[kappa + 1] == pytest.approx(res.stats["cohen"].low, abs=1e-6)
        assert row[kappa + 3] == ag.landis_koch(res.stats["cohen"].value)
    notes = [row[0] for row in wb["Notes"].iter_rows(values_only=True)]
    assert notes[1].startswith(f"Agreement between coder_a, coder_b on {n_f1} segments")
    cmp_ws = wb["Coder comparison"]
    assert cmp_ws.page_setup.orientation == "landscape" and cmp_ws.sheet_properties.pageSetUpPr.fitToPage
    assert cmp_ws.page_setup.fitToWidth == 1 and "Coder comparison" in cmp_ws.oddHeader.left.text
    comparison = list(cmp_ws.iter_rows(values_only=True))
    assert comparison[0][0] == f"coder_a compared with coder_b: {n_f1} segments both saw"
    i = [row[0] for row in comparison].index("pros: Voordelen")
    pros = next(c for c in rep.codes if c.code == "pros")
    n11, n10 = comparison[i + 2][1:3]
    n01, n00 = comparison[i + 3][1:3]
    assert n11 + n10 == pros.per_coder["coder_a"] and n11 + n01 == pros.per_coder["coder_b"]
    assert n11 + n10 + n01 + n00 == n_f1
    # One listed segment per off-diagonal count, summed over the codes.
    only_a = [row for row in comparison if row[0] == "only coder_a applied it"]
    only_b = [row for row in comparison if row[0] == "only coder_b applied it"]
    blocks = [j for j, row in enumerate(comparison) if row[1] == "coder_b: applied"]
    assert len(blocks) == len(rep.codes)
    assert len(only_a) == sum(comparison[j + 1][2] for j in blocks)
    assert len(only_b) == sum(comparison[j + 2][1] for j in blocks)
    assert all(row[4] and row[1].startswith("F1 ") for row in only_a + only_b)


def test_disagreements_and_resolve(project, run, tmp_path):
    run(project, "agreement", "done", "--coder", "coder_b", "--source", "F1.txt")
    sheet = tmp_path / "dis.xlsx"
    r = run(project, "agreement", "disagreements", "--coders", "coder_a,coder_b", "--out", sheet)
    assert r.exit_code == 0, r.stderr
    with Store.open(project) as store:
        expected, n = disagreements(store, ["coder_a", "coder_b"])
    assert r.stdout.startswith(f"Wrote {sheet}: {len(expected)} of {n} shared segments where coder_a, coder_b "
                               "differ.")
    wb = openpyxl.load_workbook(sheet)
    ws = wb["Disagreements"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == ("segment", "key", "source", "text", "codes: coder_a", "codes: coder_b", "consensus")
    assert [row[0] for row in rows[1:]] == [s["id"] for s, _ in expected]
    first_seg, first_sets = expected[0]
    assert rows[1][1] == first_seg["key"] and rows[1][3] == first_seg["text"]
    assert rows[1][4] == "; ".join(first_sets["coder_a"]) and rows[1][5] == "; ".join(first_sets["coder_b"])
    dv = ws.data_validations.dataValidation[0]
    assert dv.formula1 == '"coder_a,coder_b,all,common,none"' and str(dv.sqref) == f"G2:G{len(rows)}"
    # Refuses to overwrite outside reports/ without --force.
    r = run(project, "agreement", "disagreements", "--coders", "coder_a,coder_b", "--out", sheet)
    assert r.exit_code == 1 and r.stderr == f"Error: {sheet} already exists; use --force to overwrite it.\n"

    choices = ["coder_b", "all", "common", "none", "pros; coach"]
    for row, choice in zip(ws.iter_rows(min_row=2, max_row=6), choices):
        row[6].value = choice
    wb.save(sheet)
    r = run(project, "agreement", "resolve", sheet, "--as", "consensus")
    assert r.exit_code == 0, r.stderr
    with Store.open(project) as store:
        cons = store.segment_codes("consensus")
        origins = {c["origin"] for c in store.codings(coder="consensus")}
        units = ag.collect_units(store, ["coder_a", "coder_b"])
        hist = store.history(1)[0]
    sets = [dict(expected[i][1]) for i in range(5)]
    order = ["pros", "cons", "coach", "intake"]
    assert cons.get(expected[0][0]["id"], []) == sets[0]["coder_b"]
    assert cons.get(expected[1][0]["id"], []) == [k for k in order if k in sets[1]["coder_a"] + sets[1]["coder_b"]]
    assert cons.get(expected[2][0]["id"], []) == [k for k in sets[2]["coder_a"] if k in sets[2]["coder_b"]]
    assert expected[3][0]["id"] not in cons
    assert cons[expected[4][0]["id"]] == ["pros", "coach"]
    agreed = [s for s in units.segment_ids if units.applied["coder_a"].get(s, set())
              and units.applied["coder_a"].get(s) == units.applied["coder_b"].get(s)]
    assert all(sorted(cons[s]) == sorted(units.applied["coder_a"][s]) for s in agreed)
    assert origins == {"consensus"}
    assert hist["command"] == "agreement resolve"
    assert r.stdout.splitlines()[0] == (
        f"Consensus coder 'consensus': 5 disagreements resolved, {len(agreed)} segments where the coders agreed "
        f"copied, {sum(len(v) for v in cons.values())} codings added, 0 earlier consensus codings replaced.")
    # Undo takes the whole act back.
    assert run(project, "undo").exit_code == 0
    with Store.open(project) as store:
        assert store.segment_codes("consensus") == {}


def test_resolve_rejects_unknown_code_and_writes_nothing(project, run, tmp_path):
    sheet = tmp_path / "dis.xlsx"
    run(project, "agreement", "disagreements", "--coders", "coder_a,coder_b", "--out", sheet)
    wb = openpyxl.load_workbook(sheet)
    wb["Disagreements"]["G2"].value = "coder_a"
    wb["Disagreements"]["G3"].value = "pross"
    wb.save(sheet)
    r = run(project, "agreement", "resolve", sheet)
    assert r.exit_code == 1
    assert r.stderr == (f"Error: {sheet}, sheet 'Disagreements', cell G3: 'pross' is not a code of this project "
                        "and not one of coder_a, coder_b, all, common, none. Did you mean: pros?\n")
    with Store.open(project) as store:
        assert "consensus" not in store.coders_with_codings()


@pytest.mark.parametrize("args, message", [
    (["--coders", "coder_a,codr_b"], "unknown coder 'codr_b'. Did you mean: coder_b, coder_a?"),
    (["--coders", "coder_a"], "agreement needs at least two coders; give them as --coders NAME,NAME (coders with "
                              "codings: coder_a, coder_b)."),
    (["--coders", "coder_a,coder_b", "--groups", "F2"],
     "coders coder_a, coder_b have no segments in common in F2: a segment counts when every coder coded it, or "
     "when they marked its transcript as done (qualcode agreement done --coder NAME --source FILE)."),
    (["--coders", "coder_a,coder_b", "--groups", "F9"], "unknown focus group 'F9'. Did you mean: F3, F2, F1?"),
])
def test_cli_errors(project, run, args, message):
    r = run(project, "agreement", *args)
    assert r.exit_code == 1
    assert r.stderr == f"Error: {message}\n"


def test_fewer_than_two_coders_with_codings(sample_path, run, tiny_codebook_factory):
    with Store.open(sample_path) as store:
        ids = tiny_codebook_factory(store)
        with store.act("one coder"):
            store.add_coding(1, ids["pros"], "coder_a")
    r = run(sample_path, "agreement")
    assert r.exit_code == 1
    assert r.stderr == ("Error: agreement needs at least two coders with codings; this project has codings by only "
                        "coder_a. Import a second coder's sheet first (qualcode sheet import FILE --coder NAME).\n")


def test_help_and_docs():
    from qualcode.cli import cli

    group = cli.commands["agreement"]
    docs = (ROOT / "docs" / "agreement.md").read_text(encoding="utf-8")
    assert group.help and "agreement --coders" in docs
    for name, cmd in group.commands.items():
        assert cmd.help, name
        assert f"qualcode agreement {name}" in docs, name
        for p in cmd.params:
            if p.param_type_name == "option":
                assert p.help, f"{name} {p.name}"
    assert all(p.help for p in group.params if p.param_type_name == "option")


def test_analysis_workbook_gets_comparison_sheet(project, tmp_path):
    workbook = pytest.importorskip("qualcode.excel.analysis")
    with Store.open(project) as store:
        ag.mark_done(store, "coder_b", ["F1.txt"])
        # comparing coders is added when the workbook shows two or more coders' codings
        workbook.write_workbook(store, tmp_path / "analysis.xlsx", coders=["coder_a", "coder_b"])
    wb = openpyxl.load_workbook(tmp_path / "analysis.xlsx", read_only=True)
    assert "Coder comparison" in wb.sheetnames
    first = next(wb["Coder comparison"].iter_rows(values_only=True))
    assert first[0].startswith("coder_a compared with coder_b: ")
