"""No command writes over a project, a backup or a transcript (issue 23); --force replaces only an
earlier output of the same kind."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

SAMPLE = Path(__file__).resolve().parent.parent / "transcripts_sample"


@pytest.fixture
def project(tmp_path, run):
    reports = tmp_path / "reports"
    reports.mkdir()
    path = reports / "study.qualcode"
    assert run(path, "init").exit_code == 0
    shutil.copy(SAMPLE / "F1.txt", reports / "F1.txt")
    assert run(path, "ingest", reports / "F1.txt", "--participants", SAMPLE / "participants.csv").exit_code == 0
    return path


def _same(path: Path, data: bytes) -> bool:
    return path.read_bytes() == data


def test_an_export_never_replaces_the_project(project, run):
    before = project.read_bytes()
    res = run(project, "export", "workbook", project, "--force")
    assert res.exit_code == 1
    assert res.stderr == f"Error: {project} is the project file itself; choose another output path.\n"
    assert _same(project, before)


def test_an_export_never_replaces_another_project(project, run, tmp_path):
    other = project.parent / "other.qualcode"
    assert run(other, "init").exit_code == 0
    before = other.read_bytes()
    res = run(project, "export", "workbook", other, "--force")
    assert res.exit_code == 1
    assert res.stderr == (f"Error: {other} is a qualcode project (or another database), not an output; qualcode "
                          "never writes over it. Choose another output path.\n")
    assert _same(other, before)


def test_an_export_never_replaces_a_backup(project, run):
    assert run(project, "backup", "create").exit_code == 0
    backup = next(Path(str(project) + ".backups").glob("*.qualcode"))
    before = backup.read_bytes()
    res = run(project, "report", "--format", "md", "--out", backup, "--force")
    assert res.exit_code == 1
    assert "is in a backups folder; qualcode never writes over a backup." in res.stderr
    assert _same(backup, before)


def test_an_export_never_replaces_a_transcript_it_read(project, run):
    transcript = project.parent / "F1.txt"
    before = transcript.read_bytes()
    res = run(project, "report", "--format", "md", "--out", transcript, "--force")
    assert res.exit_code == 1
    assert res.stderr == (f"Error: {transcript} is a transcript this project was made from; qualcode never "
                          "writes over it. Choose another output path.\n")
    assert _same(transcript, before)


def test_force_replaces_only_an_output_of_the_same_kind(project, run, tmp_path):
    notes = tmp_path / "notes.xlsx"
    notes.write_text("my own notes, not a workbook", encoding="utf-8")
    res = run(project, "export", "workbook", notes, "--force")
    assert res.exit_code == 1
    assert res.stderr == (f"Error: {notes} exists and is not an Excel workbook; --force only replaces an earlier "
                          "output of the same kind. Choose another output path.\n")
    out = tmp_path / "analysis.xlsx"
    assert run(project, "export", "workbook", out).exit_code == 0
    res = run(project, "export", "workbook", out)
    assert res.exit_code == 1 and res.stderr == f"Error: {out} already exists; use --force to overwrite it.\n"
    assert run(project, "export", "workbook", out, "--force").exit_code == 0


def test_inside_reports_an_earlier_output_is_replaced_without_force(project, run):
    out = project.parent / "analysis.xlsx"
    assert run(project, "export", "workbook", out).exit_code == 0
    assert run(project, "export", "workbook", out).exit_code == 0
