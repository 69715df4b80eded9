"""CLI of step 6: export workbook, report, sheet import-comments."""

from __future__ import annotations

import re

import pytest

from test_workbook import make_project


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "reports").mkdir()
    make_project(tmp_path / "mini.qualcode").close()
    return tmp_path / "mini.qualcode"


def test_export_workbook_and_report_all_formats(project, run, tmp_path):
    r = run(project, "export", "workbook", "reports/analysis.xlsx", "--coder", "anna", "--coder", "ben")
    assert r.exit_code == 0, r.output
    # 12 sheets, plus any registered by other areas (the coder comparison when two coders are shown)
    assert re.fullmatch(r"Codings shown: anna, ben \(chosen with --coder\)\.\n"
                        r"wrote reports/analysis.xlsx: 1\d sheets, 3 themes, 15 coded fragment rows\n", r.output)
    r = run(project, "export", "workbook", "reports/analysis.xlsx")   # the analyst's: anna's 13 codings
    assert r.output.splitlines() == [
        "Codings shown: anna, the project's analyst (another coder: --coder NAME).",
        "wrote reports/analysis.xlsx: 12 sheets, 3 themes, 13 coded fragment rows"]
    for fmt in ("html", "docx", "md"):
        r = run(project, "report", "--format", fmt, "--out", f"reports/report.{fmt}", "--language", "nl")
        assert r.exit_code == 0, r.output
        assert r.output.splitlines()[0] == f"wrote reports/report.{fmt}", r.output
        assert (tmp_path / "reports" / f"report.{fmt}").stat().st_size > 1000
    assert "Rapport thematische analyse" in (tmp_path / "reports" / "report.md").read_text(encoding="utf-8")


def test_comments_round_trip_into_next_report(project, run, tmp_path):
    from openpyxl import load_workbook

    assert run(project, "export", "workbook").exit_code == 0   # default reports/analysis.xlsx
    path = tmp_path / "reports" / "analysis.xlsx"
    wb = load_workbook(path)
    wb["Themaoverzicht"]["J3"].value = "=Let op: definitie nog te breed"   # a Dutch project's sheet name
    wb.save(path)
    r = run(project, "sheet", "import-comments", str(path), "--author", "prof. Claes")
    assert r.exit_code == 0, r.output
    assert r.output.splitlines() == ["work: =Let op: definitie nog te breed",
                                     f"imported 1 supervisor comment(s) from {path}"]
    r = run(project, "report", "--out", "reports/report.md")
    text = (tmp_path / "reports" / "report.md").read_text(encoding="utf-8")
    assert "- prof. Claes (" in text and "=Let op: definitie nog te breed" in text


def test_refuses_to_overwrite_outside_reports(project, run, tmp_path):
    (tmp_path / "mine.xlsx").write_bytes(b"PK\x03\x04keep")  # another workbook (a zip)
    r = run(project, "export", "workbook", "mine.xlsx")
    assert r.exit_code == 1
    assert r.stderr == "Error: mine.xlsx already exists; use --force to overwrite it.\n"
    assert (tmp_path / "mine.xlsx").read_bytes() == b"PK\x03\x04keep"
    assert run(project, "export", "workbook", "mine.xlsx", "--force").exit_code == 0
    (tmp_path / "r.html").write_text("keep")
    r = run(project, "report", "--out", "r.html")
    assert r.exit_code == 1 and r.stderr == "Error: r.html already exists; use --force to overwrite it.\n"


def test_import_comments_errors(project, run, tmp_path):
    r = run(project, "sheet", "import-comments", "reports/missing.xlsx", "--author", "x")
    assert r.exit_code == 1
    assert r.stderr == ("Error: reports/missing.xlsx: file not found; export it first with "
                        "'qualcode export workbook'.\n")
    r = run(project, "sheet", "import-comments", "reports/missing.xlsx")
    assert r.exit_code == 2 and "Missing option '--author'" in r.stderr


def test_report_unknown_extension(project, run):
    r = run(project, "report", "--out", "reports/report.txt")
    assert r.exit_code == 1
    assert r.stderr == ("Error: report format must be html, docx or md (from --format or the file extension), "
                        "not 'txt'.\n")


@pytest.mark.parametrize("args", [["export"], ["export", "workbook"], ["report"], ["sheet", "import-comments"]])
def test_help_texts(run, tmp_path, args):
    from qualcode.cli import cli

    r = run(tmp_path / "none.qualcode", *args, "--help")
    assert r.exit_code == 0
    cmd = cli
    for a in args:
        cmd = cmd.commands[a]
    assert cmd.help and all(p.help for p in cmd.params if hasattr(p, "help") and p.param_type_name == "option")


def test_report_in_three_formats_at_once_draws_each_figure_once(project, run, tmp_path, monkeypatch):
    """--format html,docx,md builds the report and its figures once and writes all three (issue 24)."""
    from docx import Document

    from qualcode.reports import charts

    drawn = []
    for name in ("fragments_per_theme", "theme_group_heatmap", "thematic_map"):
        real = getattr(charts, name)
        monkeypatch.setattr(charts, name, lambda *a, _real=real, _name=name, **k: drawn.append(_name) or _real(*a, **k))
    r = run(project, "report", "--format", "html,docx,md", "--out", "reports/report.html", "--language", "en")
    assert r.exit_code == 0, r.output
    assert sorted(drawn) == ["fragments_per_theme", "thematic_map", "theme_group_heatmap"]
    assert r.output.splitlines() == ["wrote reports/report.html", "wrote reports/report.docx", "wrote reports/report.md",
                                     "wrote reports/report-fragments.png", "wrote reports/report-heatmap.png",
                                     "wrote reports/report-map.png"]
    rep = tmp_path / "reports"
    html = (rep / "report.html").read_text(encoding="utf-8")
    md = (rep / "report.md").read_text(encoding="utf-8")
    assert "Thematic analysis report" in html and md.startswith("# Thematic analysis report: mini")
    assert html.count("<svg ") == 3 and md.count("](report-") == 3
    doc = Document(str(rep / "report.docx"))
    assert doc.paragraphs[0].text == "Thematic analysis report: mini"
    assert len(doc.inline_shapes) == 3
    assert not list(rep.glob("*.tmp"))


def test_report_refuses_an_unknown_format_in_a_list_and_writes_nothing(project, run, tmp_path):
    r = run(project, "report", "--format", "html,pdf", "--out", "reports/report.html")
    assert r.exit_code == 1
    assert r.stderr == ("Error: report format must be html, docx or md (from --format or the file extension), "
                        "not 'pdf'.\n")
    assert not list((tmp_path / "reports").iterdir())
