"""Step-1 commands through the CLI: init, ingest, overview, segments, kwic, sources, participants."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from qualcode.cli import cli
from qualcode.store import Store

from tests.helpers import ROOT, SAMPLE

STEP1 = ["init", "ingest", "overview", "segments", "kwic", "sources", "participants"]


@pytest.fixture
def small(tmp_path, run):
    """A project with two tiny focus groups ingested through the CLI."""
    path = tmp_path / "p.qualcode"
    (tmp_path / "people.csv").write_text("group;participant;gender\nF1;P1;vrouw\nF1;P2;man\nF2;P1;man\nF2;P2;vrouw\n",
                                         encoding="utf-8")
    (tmp_path / "F1.txt").write_text("Moderator: Welkom.\nP1: Ik werkte in een keuken.\nP2: Ik niet.\n",
                                     encoding="utf-8")
    (tmp_path / "focusgroep2.txt").write_text("Moderator: Dag.\nP2: Werken is gezond.\nP1: Soms.\nP2: Echt.\n",
                                              encoding="utf-8")
    res = run(path, "init", "--language", "nl")
    assert res.exit_code == 0
    assert res.stdout == (f"created {path} (language nl)\nnext: qualcode ingest FILES --participants "
                          "participants.csv\n")
    res = run(path, "ingest", tmp_path / "F1.txt", tmp_path / "focusgroep2.txt",
              "--participants", tmp_path / "people.csv")
    assert res.exit_code == 0, res.output
    assert res.stdout.splitlines() == [
        "F1.txt: added, group F1 (from the file name), 3 turns, 3 segments, 8 words",
        "focusgroep2.txt: added, group F2 (from the file name), 4 turns, 4 segments, 6 words",
        "participants: 4 added, 0 updated",
    ]
    assert res.stderr == ""  # no progress bar when not on a terminal
    return path


def test_init_refuses_an_existing_project(small, run):
    res = run(small, "init")
    assert res.exit_code == 1
    assert res.stderr == (f"Error: {small} already exists. Use another path with -p, or --force to start over "
                          "(the old file is kept as a backup).\n")


def test_sources_and_participants(small, run):
    res = run(small, "sources")
    lines = res.stdout.splitlines()
    assert lines[0].split() == ["id", "name", "group", "format", "segments", "words", "sha256"]
    assert lines[2].split()[:6] == ["1", "F1.txt", "F1", "txt", "3", "8"]
    assert lines[3].split()[:6] == ["2", "focusgroep2.txt", "F2", "txt", "4", "6"]
    res = run(small, "participants")
    assert [line.split() for line in res.stdout.splitlines()] == [
        ["key", "gender"], ["-----", "------"], ["F1", "P1", "vrouw"], ["F1", "P2", "man"],
        ["F2", "P1", "man"], ["F2", "P2", "vrouw"]]
    res = run(small, "participants", "--group", "F2")
    assert [line.split()[:2] for line in res.stdout.splitlines()[2:]] == [["F2", "P1"], ["F2", "P2"]]


def test_segments_of_one_participant_in_order(small, run):
    res = run(small, "segments", "--group", "F2", "--participant", "P2")
    assert res.exit_code == 0
    assert res.stdout == "#5 (F2 P2)\n    Werken is gezond.\n#7 (F2 P2)\n    Echt.\n"
    assert run(small, "segments", "--participant", "F2 P2").stdout == res.stdout
    assert run(small, "segments", "--group", "f2", "--participant", "p2").stdout == res.stdout


def test_segments_all_and_without_moderator(small, run):
    heads = [line for line in run(small, "segments").stdout.splitlines() if line.startswith("#")]
    assert heads == ["#1 (F1 Moderator)", "#2 (F1 P1)", "#3 (F1 P2)", "#4 (F2 Moderator)", "#5 (F2 P2)",
                     "#6 (F2 P1)", "#7 (F2 P2)"]
    heads = [line for line in run(small, "segments", "--no-moderator", "--group", "F1").stdout.splitlines()
             if line.startswith("#")]
    assert heads == ["#2 (F1 P1)", "#3 (F1 P2)"]
    assert run(small, "segments", "--limit", "1").stdout == "#1 (F1 Moderator)\n    Welkom.\n"


def test_segments_errors(small, run):
    res = run(small, "segments", "--participant", "P2")
    assert res.exit_code == 1
    assert res.stderr == ("Error: P2 is ambiguous (F1 P2, F2 P2); add --group, e.g. --group F1, or write "
                          "'F1 P2'.\n")
    res = run(small, "segments", "--group", "F2", "--participant", "P9")
    assert res.stderr == "Error: no participant P9 in F2. Participants: F2 P1, F2 P2.\n"
    res = run(small, "segments", "--group", "F7")
    assert res.exit_code == 1
    assert res.stderr == "Error: unknown group 'F7'. Did you mean: F2, F1?\n"


def test_segments_of_the_sample_study(sample_path, run):
    res = run(sample_path, "segments", "--group", "F2", "--participant", "P2")
    assert res.exit_code == 0
    heads = [line for line in res.stdout.splitlines() if line.startswith("#")]
    assert len(heads) > 20
    assert all(h.split()[1:3] == ["(F2", "P2)"] for h in heads)
    ids = [int(h.split()[0][1:]) for h in heads]
    assert ids == sorted(ids)
    with Store.open(sample_path) as store:
        expected = [s["id"] for s in store.segments(group="F2", participant="P2")]
    assert ids == expected


def test_kwic_cli(small, run):
    res = run(small, "kwic", "werken", "--width", "10")
    assert res.exit_code == 0
    assert res.stdout.splitlines() == [
        "       Ik  [werkte]  in een ke  (F1 P1) #2",
        "           [Werken]  is gezond  (F2 P2) #5",
    ]
    assert res.stderr == "2 hit(s) for 'werken'\n"


def test_overview_prints_and_writes_md_and_xlsx(small, run, tmp_path):
    from openpyxl import load_workbook

    res = run(small, "overview", "--out", tmp_path / "ov.md")
    assert res.exit_code == 0
    assert res.stdout.startswith("Focus groups\n")
    assert res.stdout.endswith(f"\nwrote {tmp_path / 'ov.md'}\n")
    md = (tmp_path / "ov.md").read_text(encoding="utf-8")
    assert "| F1 P1 | 1 | 5 | 71.4% |" in md
    assert run(small, "overview", "--out", tmp_path / "ov.xlsx").exit_code == 0
    wb = load_workbook(tmp_path / "ov.xlsx")
    rows = list(wb["Participants"].iter_rows(values_only=True))
    assert rows[1] == ("F1 P1", "F1", "P1", 1, 5, round(5 / 7, 4))
    assert rows[3] == ("F2 P1", "F2", "P1", 1, 1, round(1 / 5, 4))


def test_overview_writes_several_files_from_one_run(small, run, tmp_path):
    from openpyxl import load_workbook

    md, xlsx = tmp_path / "ov.md", tmp_path / "ov.xlsx"
    res = run(small, "overview", "--out", md, "--out", xlsx)
    assert res.exit_code == 0
    assert res.stdout.startswith("Focus groups\n")
    assert res.stdout.endswith(f"\n\nwrote {md}\nwrote {xlsx}\n")
    assert "| F1 P1 | 1 | 5 | 71.4% |" in md.read_text(encoding="utf-8")
    assert list(load_workbook(xlsx)["Participants"].iter_rows(values_only=True))[1] == (
        "F1 P1", "F1", "P1", 1, 5, round(5 / 7, 4))
    # one file that may not be overwritten: nothing is written
    fresh = tmp_path / "fresh.xlsx"
    res = run(small, "overview", "--out", fresh, "--out", md)
    assert res.exit_code == 1 and res.stderr == f"Error: {md} already exists; use --force to overwrite it.\n"
    assert not fresh.exists()


def test_overview_out_refuses_to_overwrite_without_force(small, run, tmp_path):
    out = tmp_path / "ov.md"
    out.write_text("mine", encoding="utf-8")
    res = run(small, "overview", "--out", out)
    assert res.exit_code == 1
    assert res.stderr == f"Error: {out} already exists; use --force to overwrite it.\n"
    assert out.read_text(encoding="utf-8") == "mine"
    assert run(small, "overview", "--out", out, "--force").exit_code == 0
    assert out.read_text(encoding="utf-8").startswith("# Overview")


def test_project_option_env_and_default(small, tmp_path, monkeypatch):
    runner = CliRunner()
    res = runner.invoke(cli, ["sources"], env={"QUALCODE_PROJECT": str(small)})
    assert "F1.txt" in res.stdout
    other = tmp_path / "other.qualcode"
    Store.create(other).close()
    # -p wins over the environment
    res = runner.invoke(cli, ["-p", str(other), "sources"], env={"QUALCODE_PROJECT": str(small)})
    assert res.exit_code == 0 and "F1.txt" not in res.stdout
    # default: ./project.qualcode
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(cli, ["sources"], env={"QUALCODE_PROJECT": None})
    assert res.exit_code == 1
    assert res.stderr.startswith("Error: no project at project.qualcode.")
    assert runner.invoke(cli, ["init"], env={"QUALCODE_PROJECT": None}).exit_code == 0
    assert (tmp_path / "project.qualcode").exists()


@pytest.mark.parametrize("command", STEP1)
def test_every_step1_command_has_help(command):
    res = CliRunner().invoke(cli, [command, "--help"])
    assert res.exit_code == 0
    cmd = cli.commands[command]
    assert cmd.help and cmd.help.strip()
    for param in cmd.params:
        if param.param_type_name == "option" and param.name != "help":
            assert param.help, f"{command} {param.opts} has no help text"


def test_python_dash_m_qualcode_help():
    res = subprocess.run([sys.executable, "-m", "qualcode", "--help"], capture_output=True, text=True,
                         cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert res.returncode == 0
    assert res.stdout.startswith("Usage: qualcode [OPTIONS] COMMAND [ARGS]...")
    for command in STEP1:
        assert f"  {command} " in res.stdout


def test_english_interview_with_the_english_pipeline(tmp_path, run):
    path = tmp_path / "en.qualcode"
    assert run(path, "init", "--language", "en").exit_code == 0
    res = run(path, "ingest", SAMPLE / "english" / "interview_en.txt",
              "--participants", SAMPLE / "english" / "participants.csv")
    assert res.exit_code == 0, res.output
    assert res.stdout.splitlines()[0].startswith(
        "interview_en.txt: added, group I1 (from the '# group:' header), 64 turns, 64 segments")
    res = run(path, "kwic", "working")  # English lemmas: 'work' and 'working', not 'worker' or 'workshops'
    matches = {line.split("[")[1].split("]")[0].lower() for line in res.stdout.splitlines()}
    assert matches == {"work", "working"}
    with Store.open(path) as store:
        assert store.language == "en"
        assert [p["key"] for p in store.participants()] == ["I1 P1"]
        src = store.source("interview_en.txt")
        for s in store.segments():
            assert s["text"] == src["text"][s["start"]:s["end"]]


# ------------------------------------------------------------- progress bar
class FakeTerminal:
    def __init__(self):
        self.written = []

    def isatty(self):
        return True

    def write(self, s):
        self.written.append(s)

    def flush(self):
        pass


def test_progress_bar_on_a_terminal(monkeypatch):
    from qualcode.cli.common import progress_factory

    term = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", term)
    progress = progress_factory()
    assert progress is not None
    assert list(progress(["a.txt", "b.txt", "c.txt"], "Reading")) == ["a.txt", "b.txt", "c.txt"]
    out = "".join(term.written)
    assert "Reading" in out and "3/3" in out


def test_no_progress_bar_when_not_a_terminal(monkeypatch, tmp_path):
    import io

    from qualcode.cli.common import progress_factory

    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert progress_factory() is None


def test_ingest_reports_progress_for_several_files(empty_store, tmp_path):
    from qualcode.ingest import ingest

    calls = []

    def progress(items, label):
        items = list(items)
        calls.append((label, len(items)))
        yield from items

    for n in (1, 2, 3):
        (tmp_path / f"F{n}.txt").write_text(f"P1: Groep {n}.\n", encoding="utf-8")
    ingest(empty_store, [str(tmp_path / f"F{n}.txt") for n in (1, 2, 3)], allow_new_speakers=True,
           progress=progress)
    assert calls == [("Reading", 3), ("Ingesting", 3)]
    assert empty_store.count_segments() == 3


def test_init_with_the_shipped_codebook(tmp_path, run):
    path = tmp_path / "p.qualcode"
    res = run(path, "init", "--codebook", ROOT / "codebooks" / "ips.yaml")
    assert res.exit_code == 0, res.output
    assert res.stdout.startswith(f"created {path} (language nl)\n")
    with Store.open(path) as store:
        assert {t["key"] for t in store.themes()} >= {"pathways", "paid_work", "support", "collaboration"}
        assert store.code_ids()


def test_init_with_a_bad_codebook_creates_nothing(tmp_path, run):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n", encoding="utf-8")
    path = tmp_path / "p.qualcode"
    res = run(path, "init", "--codebook", bad)
    assert res.exit_code == 1
    assert res.stderr.startswith("Error: ") and str(bad) in res.stderr
    assert not path.exists()


def test_cli_import_loads_no_heavy_library():
    """'qualcode --help' answers at once: spaCy, pandas, openpyxl and friends load on first use."""
    code = ("import sys, qualcode.cli; print(','.join(m for m in ('spacy', 'pandas', 'openpyxl', 'sklearn', "
            "'numpy', 'docx', 'matplotlib', 'simplemma') if m in sys.modules))")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == ""


def test_ingest_reports_progress_when_splitting_one_large_file(empty_store, tmp_path, monkeypatch):
    import qualcode.ingest as ingest_module

    calls = []

    def progress(items, label):
        items = list(items)
        calls.append((label, len(items)))
        yield from items

    monkeypatch.setattr(ingest_module, "LARGE_TURNS", 3)
    (tmp_path / "F1.txt").write_text("".join(f"P1: Zin {n}. Nog een zin.\n" for n in range(5)), encoding="utf-8")
    ingest_module.ingest(empty_store, [str(tmp_path / "F1.txt")], allow_new_speakers=True, split="sentences",
                         progress=progress)
    assert calls == [("Splitting F1.txt", 5)]
    assert empty_store.count_segments() == 10
