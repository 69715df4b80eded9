"""Hostile and broken inputs (tests/bad_inputs/make_bad_inputs.py): each one must give one clear
``Error:`` line, exit code 1, leave the project exactly as it was, and finish in bounded time
and memory (each runs in its own process under RLIMIT_AS = 1 GiB and a generous time-out that
only detects hangs)."""

from __future__ import annotations

import importlib.util
import os
import re
import resource
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
QUALCODE = [sys.executable, "-m", "qualcode"]
MEMORY_LIMIT = 1 << 30
HANG = 120  # seconds: far above what any case needs; only catches hangs

_spec = importlib.util.spec_from_file_location("make_bad_inputs", HERE / "bad_inputs" / "make_bad_inputs.py")
make_bad_inputs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_bad_inputs)
CASES = make_bad_inputs.cases()

# Exact messages for the cases that guard against attacks (the others are checked for form).
EXACT = {
    "billion_laughs.docx": "{file}: entry 'word/document.xml' declares a DTD (XML entities or external references, "
                           "as used in entity-expansion attacks); refusing to open it",
    "xxe.docx": "{file}: entry 'word/document.xml' declares a DTD (XML entities or external references, "
                "as used in entity-expansion attacks); refusing to open it",
    "billion_laughs.xlsx": "{file}: entry 'xl/worksheets/sheet1.xml' declares a DTD (XML entities or external "
                           "references, as used in entity-expansion attacks); refusing to open it",
    "zip_slip.docx": "{file}: contains an entry with an unsafe path ('../../evil.txt'); refusing to open it",
    "zip_absolute.docx": "{file}: contains an entry with an unsafe path ('/etc/evil'); refusing to open it",
    "zip_drive.docx": "{file}: contains an entry with an unsafe path ('C:/evil'); refusing to open it",
    "bomb.docx": "{file}: entry 'word/document.xml' would expand {n}-fold (a zip bomb?); refusing to open it",
    "too_many_entries.docx": "{file}: has 20001 entries, more than a Word document ever needs; refusing to open it",
    "empty.txt": "{file}: the file is empty",
    "utf16_no_bom.txt": "{file}: is not a text file (it contains NUL bytes: binary data, or UTF-16 without a "
                        "byte-order mark); save it as UTF-8 text",
    "unknown_participants.txt": "{file}: speakers not in the participants metadata: F1 P99 (line 3), F1 P42 (line 4); "
                                "add them to the participants file, or use --allow-new-speakers to create them",
}


def _limits():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def run_limited(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, QUALCODE_CODER="tester", PYTHONPATH=os.pathsep.join(
        [str(HERE.parent)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    return subprocess.run(QUALCODE + args, cwd=cwd, capture_output=True, text=True, timeout=HANG,
                          preexec_fn=_limits, env=env)


def dump(project: Path) -> list[str]:
    con = sqlite3.connect(project)
    try:
        return list(con.iterdump())
    finally:
        con.close()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp("bad_inputs")
    make_bad_inputs.write_all(out)
    return out


@pytest.fixture(scope="module")
def base_project(tmp_path_factory):
    """A project that knows F1 P1 and F1 P2 (no transcripts yet)."""
    from qualcode.ingest import ingest
    from qualcode.store import Store

    d = tmp_path_factory.mktemp("base")
    people = d / "participants.csv"
    people.write_text("group,participant,gender\nF1,P1,vrouw\nF1,P2,man\n", encoding="utf-8")
    store = Store.create(d / "base.qualcode")
    ingest(store, [], participants=str(people))
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return d / "base.qualcode"


def test_corpus_is_large_enough():
    assert len(CASES) >= 50
    assert len({c[0] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("name,command,why", [(c[0], c[2], c[3]) for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input(name, command, why, corpus, base_project, tmp_path):
    project = tmp_path / "p.qualcode"
    project.write_bytes(base_project.read_bytes())
    before = dump(project)
    files_before = sorted(p.name for p in tmp_path.iterdir())
    path = str(corpus / name)
    args = ["-p", str(project)] + [a.replace("{file}", path).replace("{good}", str(corpus / "F1_good.txt"))
                                   for a in command]
    res = run_limited(args, cwd=tmp_path)
    lines = res.stderr.strip().splitlines()
    assert res.returncode == 1, f"{why}: exit {res.returncode}\n{res.stdout}\n{res.stderr}"
    assert len(lines) == 1, f"{why}: expected one error line, got:\n{res.stderr}"
    msg = lines[0]
    assert msg.startswith("Error: "), msg
    assert "bug in qualcode" not in msg and "Traceback" not in res.stderr, msg
    assert name in msg, f"the message should name the file: {msg}"
    if name in EXACT:
        expected = re.escape("Error: " + EXACT[name].replace("{file}", path)).replace(r"\{n\}", r"\d+")
        assert re.fullmatch(expected, msg), msg
    assert dump(project) == before, f"{why}: the project changed"
    extra = sorted(p.name for p in tmp_path.iterdir())
    assert [f for f in extra if f not in files_before and not f.endswith(("-wal", "-shm"))] == []


# ------------------------------------------------------------------ coding sheets (issue 3's sheet import)
def _sheet_project(folder: Path, name: str) -> Path:
    from conftest import tiny_codebook

    from qualcode.export.sheet import export_sheet
    from qualcode.ingest import ingest
    from qualcode.store import Store

    t = folder / f"{name}-F1.txt"
    t.write_text("# group: F1\nModerator: Welkom.\nP1: De jobcoach hielp.\nP2: Veel stress.\nP1: Structuur.\n"
                 "P2: En trots.\n", encoding="utf-8")
    store = Store.create(folder / f"{name}.qualcode")
    ingest(store, [t], allow_new_speakers=True)
    tiny_codebook(store)
    export_sheet(store, str(folder / f"{name}-sheet.xlsx"), coder="tester")
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return folder / f"{name}.qualcode"


@pytest.fixture(scope="module")
def sheet_corpus(tmp_path_factory):
    pytest.importorskip("qualcode.export.sheet", reason="issue 3's sheet import does not exist yet")
    d = tmp_path_factory.mktemp("sheets")
    project = _sheet_project(d, "mine")
    _sheet_project(d, "theirs")
    cases = make_bad_inputs.sheet_cases(d / "mine-sheet.xlsx", d / "theirs-sheet.xlsx", d)
    return project, d, {c["file"]: c for c in cases}


SHEET_NAMES = ["sheet_deleted_id_column.xlsx", "sheet_renamed_id_header.xlsx", "sheet_merged_code_cells.xlsx",
               "sheet_merged_id_cells.xlsx", "sheet_formula_code_cell.xlsx", "sheet_formula_id_cell.xlsx",
               "sheet_renamed_sheet.xlsx", "sheet_coded_in_a_copy.xlsx", "sheet_unknown_code.xlsx",
               "sheet_edited_text.xlsx", "sheet_edited_id.xlsx", "sheet_duplicated_row.xlsx",
               "sheet_deleted_rows.xlsx", "sheet_added_row.xlsx", "sheet_header_deleted.xlsx", "sheet_emptied.xlsx",
               "sheet_other_coder.xlsx", "sheet_other_project.xlsx", "sheet_text_renamed.xlsx", "sheet_bomb.xlsx",
               "sheet_bomb_valid.xlsx", "sheet_billion_laughs.xlsx", "sheet_zip_slip.xlsx"]


@pytest.mark.parametrize("name", SHEET_NAMES)
def test_bad_sheet(name, sheet_corpus, tmp_path):
    base, folder, cases = sheet_corpus
    assert name in cases
    project = tmp_path / "p.qualcode"
    project.write_bytes(base.read_bytes())
    before = dump(project)
    path = str(folder / name)
    res = run_limited(["-p", str(project), "sheet", "import", path], cwd=tmp_path)
    lines = res.stderr.rstrip().splitlines()
    assert res.returncode == 1, f"{cases[name]['why']}: exit {res.returncode}\n{res.stdout}\n{res.stderr}"
    assert lines and lines[0].startswith("Error: "), res.stderr
    assert "bug in qualcode" not in res.stderr and "Traceback" not in res.stderr
    # one error line; a list of row problems, if any, follows indented under it
    assert all(ln.startswith("  ") for ln in lines[1:]), res.stderr
    assert name in lines[0]
    assert dump(project) == before


# ------------------------------------------------------------------ REFI-QDA (issue 8's import refi)
@pytest.fixture(scope="module")
def refi_corpus(tmp_path_factory):
    pytest.importorskip("qualcode.export.refi", reason="issue 8's REFI export/import does not exist yet")
    from click.testing import CliRunner

    from qualcode.cli import cli

    d = tmp_path_factory.mktemp("refi")
    project = _sheet_project(d, "mine")
    from qualcode.store import Store

    with Store.open(project) as store:
        seg = next(store.segments(role="participant"))
        with store.act("code"):
            store.add_coding(seg["id"], store.code_ids()["pros"], "tester")
    r = CliRunner().invoke(cli, ["-p", str(project), "export", "refi", str(d / "good.qdpx")])
    assert r.exit_code == 0, r.output
    cases = make_bad_inputs.refi_cases(d / "good.qdpx", d)
    return project, d, {c["file"]: c for c in cases}


REFI_NAMES = ["refi_text_renamed.qdpx", "refi_truncated.qdpx", "refi_zip_slip.qdpx", "refi_bomb.qdpx",
              "refi_billion_laughs.qdpx", "refi_xxe.qde", "refi_billion_laughs.qdc", "refi_malformed.qde",
              "refi_no_qde.qdpx", "refi_wrong_root.qde", "refi_empty.qde", "refi_binary.qde",
              "refi_binary_source.qdpx",
              "refi_bad_offsets.qdpx", "refi_negative_offsets.qdpx", "refi_unknown_code.qdpx",
              "refi_duplicate_guid.qdpx"]


def _check_refi_error(res, name, why):
    lines = res.stderr.rstrip().splitlines()
    assert res.returncode == 1, f"{why}: exit {res.returncode}\n{res.stdout}\n{res.stderr}"
    assert len(lines) == 1 and lines[0].startswith("Error: "), res.stderr
    assert "bug in qualcode" not in res.stderr and "Traceback" not in res.stderr
    assert name in lines[0], lines[0]


@pytest.mark.parametrize("name", REFI_NAMES)
def test_bad_refi_into_existing_project(name, refi_corpus, tmp_path):
    base, folder, cases = refi_corpus
    assert name in cases
    project = tmp_path / "p.qualcode"
    project.write_bytes(base.read_bytes())
    before = dump(project)
    res = run_limited(["import", "refi", str(folder / name), "--into", str(project)], cwd=tmp_path)
    _check_refi_error(res, name, cases[name]["why"])
    assert dump(project) == before


@pytest.mark.parametrize("name", ["refi_bomb.qdpx", "refi_billion_laughs.qdpx", "refi_bad_offsets.qdpx",
                                  "refi_text_renamed.qdpx"])
def test_bad_refi_as_new_project_leaves_no_file(name, refi_corpus, tmp_path):
    _, folder, cases = refi_corpus
    project = tmp_path / "new.qualcode"
    res = run_limited(["-p", str(project), "import", "refi", str(folder / name)], cwd=tmp_path)
    _check_refi_error(res, name, cases[name]["why"])
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["refi_path_escape.qdpx", "refi_missing_source.qdpx"])
def test_refi_source_outside_the_archive_is_never_read(name, refi_corpus, tmp_path):
    """A source path such as internal://../../../etc/passwd (or a missing file) is not looked up on
    disk: the import reports the selection as not placed and reads nothing outside the archive."""
    _, folder, _ = refi_corpus
    project = tmp_path / "new.qualcode"
    res = run_limited(["-p", str(project), "import", "refi", str(folder / name)], cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "not placed" in res.stdout and "is not in the archive" in res.stdout
    assert not any("root:" in line for line in dump(project))
