"""The suggest and discover commands, driven through the CLI on a small generated project."""

from __future__ import annotations

from openpyxl import load_workbook

from test_suggest_project import codebook, write_table


def make_project(tmp_path, *, coded_groups=("1", "2")):
    from qualcode.ingest import ingest
    from qualcode.store import Store

    path = tmp_path / "p.qualcode"
    store = Store.create(path, language="en")
    codebook(store)
    ingest(store, [str(write_table(tmp_path / "t.csv", coded_groups=coded_groups))], allow_new_speakers=True)
    store.close()
    return path


def test_suggest_out_and_accept(tmp_path, run):
    project = make_project(tmp_path)
    out = tmp_path / "s.xlsx"
    r = run(project, "suggest", "--coder", "ann", "--min-confidence", "0.6", "--out", out)
    assert r.exit_code == 0, r.output
    assert "Learnt from 48 segments of coder 'ann'." in r.output
    assert f"'qualcode suggest accept {out}'" in r.output
    wb = load_workbook(out)
    ws = wb["Suggestions"]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert rows and all(row[8] >= 0.6 for row in rows)
    for i in range(2, ws.max_row + 1):
        ws.cell(row=i, column=12, value="yes")
    wb.save(out)
    r = run(project, "suggest", "accept", out)
    assert r.exit_code == 0, r.output
    assert r.output.startswith(f"accepted {len(rows)} suggestion(s) ({len(rows)} new coding(s), origin 'suggested')")
    # the written file is not overwritten without --force (outside reports/)
    r = run(project, "suggest", "--coder", "ann", "--out", out)
    assert r.exit_code == 1 and r.stderr.strip() == f"Error: {out} already exists; use --force to overwrite it."


def test_suggest_evaluate(tmp_path, run):
    project = make_project(tmp_path)
    r = run(project, "suggest", "--evaluate")  # QUALCODE_CODER=tester, who coded nothing
    assert r.exit_code == 1
    assert r.stderr.strip() == ("Error: coder 'tester' has no codings to learn from (coders with codings: ann); "
                                "choose one with --coder NAME.")
    r = run(project, "suggest", "--evaluate", "--coder", "ann")
    assert r.exit_code == 0, r.output
    assert "leave-one-transcript-out over 2 transcripts" in r.output
    assert "top-1 precision" in r.output and "top-3 recall" in r.output and "macro-F1" in r.output
    assert any(line.split()[0] == "money" and line.rstrip().endswith(("reliable", "check every one"))
               for line in r.output.splitlines() if line.strip())


def test_suggest_evaluate_without_codings(tmp_path, run):
    r = run(make_project(tmp_path, coded_groups=()), "suggest", "--evaluate")
    assert r.exit_code == 1
    assert r.stderr.strip() == ("Error: there are no codings to evaluate suggestions against; code part of the data "
                                "first (or import coded data), then run 'qualcode suggest --evaluate'.")


def test_suggest_unknown_group(tmp_path, run):
    r = run(make_project(tmp_path), "suggest", "--group", "F9")
    assert r.exit_code == 1
    assert r.stderr.strip() == "Error: unknown group 'F9'. Did you mean: F3, F2, F1?"


def test_accept_missing_file(tmp_path, run):
    r = run(make_project(tmp_path), "suggest", "accept", tmp_path / "nope.xlsx")
    assert r.exit_code == 1
    assert r.stderr.strip() == f"Error: {tmp_path / 'nope.xlsx'}: does not exist"


def test_help_texts(run, tmp_path):
    for args in (("suggest", "--help"), ("suggest", "accept", "--help"), ("discover", "--help")):
        r = run(tmp_path / "x.qualcode", *args)
        assert r.exit_code == 0 and "Usage:" in r.output
        assert "--" in r.output
