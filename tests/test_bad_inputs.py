"""Hostile and broken inputs (tests/bad_inputs/make_bad_inputs.py): each one must give one clear
``Error:`` line, exit code 1, leave the project exactly as it was, and finish in bounded time
and memory.

Most cases run the command in this process through click's CliRunner (:func:`run_cli`). A case runs
in its own process under RLIMIT_AS = 1 GiB and a generous time-out that only detects hangs
(:func:`run_limited`) where that is the point: bombs and huge or deeply nested inputs (a broken guard
must fail the test, not exhaust the test run's memory or stack), a regular expression that
backtracks for hours, two processes at once, and the memory cap itself."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import resource
import sqlite3
import subprocess
import sys
import warnings
from pathlib import Path
from typing import NamedTuple

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
    "codebook_alias_bomb.yaml": "{file}, line 1: an anchor (&a): YAML anchors and aliases are not allowed in a "
                                "codebook (they can make a small file expand without limit); write each value out "
                                "in full.",
    "codebook_nested_lists.yaml": "{file}, line 1: lists and mappings are nested more than 40 levels deep; a "
                                  "codebook needs far fewer (check the indentation and brackets).",
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


class Ran(NamedTuple):
    """What a command did, in-process or not: as subprocess.CompletedProcess names it."""

    returncode: int
    stdout: str
    stderr: str


# warnings a fresh Python process does not print (its default filters)
_SILENT = (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning)


def run_cli(args: list[str], cwd: Path) -> Ran:
    """Run ``qualcode ARGS`` in this process from folder ``cwd``, as ``python -m qualcode`` would
    (the same entry point, exit code and ``Error:`` line on stderr). An exception that escapes the
    command fails the test with its traceback. Warnings a real process would print are added to
    stderr, so a stray warning line is seen here too."""
    from click.testing import CliRunner

    from qualcode.cli import cli

    with contextlib.chdir(cwd), warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        res = CliRunner().invoke(cli, args, env={"QUALCODE_CODER": "tester"}, prog_name="qualcode",
                                 catch_exceptions=False)
    shown = "".join(warnings.formatwarning(w.message, w.category, w.filename, w.lineno)
                    for w in seen if not issubclass(w.category, _SILENT))
    return Ran(res.exit_code, res.stdout, res.stderr + shown)


def own_process(name: str) -> bool:
    """Cases whose point is the memory limit or the stack of a real process: bombs (zip, XML
    entities, YAML aliases), huge files and deeply nested input."""
    return any(w in name for w in ("bomb", "billion_laughs", "huge_", "nested"))


def run_case(name: str, args: list[str], cwd: Path) -> Ran:
    """Run a bad-input case: in its own limited process when :func:`own_process`, else in-process."""
    return run_limited(args, cwd) if own_process(name) else run_cli(args, cwd)


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
    res = run_case(name, args, cwd=tmp_path)
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
    from tests.helpers import tiny_codebook

    from qualcode.excel.coding_sheet import export_sheet
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
    pytest.importorskip("qualcode.excel.coding_sheet", reason="issue 3's sheet import does not exist yet")
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
    res = run_case(name, ["-p", str(project), "sheet", "import", path], cwd=tmp_path)
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
    pytest.importorskip("qualcode.refi.export", reason="issue 8's REFI export/import does not exist yet")
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
    res = run_case(name, ["import", "refi", str(folder / name), "--into", str(project)], cwd=tmp_path)
    _check_refi_error(res, name, cases[name]["why"])
    assert dump(project) == before


@pytest.mark.parametrize("name", ["refi_bomb.qdpx", "refi_billion_laughs.qdpx", "refi_bad_offsets.qdpx",
                                  "refi_text_renamed.qdpx"])
def test_bad_refi_as_new_project_leaves_no_file(name, refi_corpus, tmp_path):
    _, folder, cases = refi_corpus
    project = tmp_path / "new.qualcode"
    res = run_case(name, ["-p", str(project), "import", "refi", str(folder / name)], cwd=tmp_path)
    _check_refi_error(res, name, cases[name]["why"])
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["refi_path_escape.qdpx", "refi_missing_source.qdpx"])
def test_refi_source_outside_the_archive_is_never_read(name, refi_corpus, tmp_path):
    """A source path such as internal://../../../etc/passwd (or a missing file) is not looked up on
    disk: the import reports the selection as not placed and reads nothing outside the archive."""
    _, folder, _ = refi_corpus
    project = tmp_path / "new.qualcode"
    res = run_cli(["-p", str(project), "import", "refi", str(folder / name)], cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "not placed" in res.stdout and "is not in the archive" in res.stdout
    assert not any("root:" in line for line in dump(project))


# ------------------------------------------------------------------ issue 23: bombs, limits, injection, overwrites
def _project_with(folder: Path, lines: list[str], codebook: dict | None = None, name: str = "F1.txt") -> Path:
    from qualcode.codebook.yamlfile import apply_codebook, parse_codebook
    from qualcode.ingest import ingest
    from qualcode.store import Store

    t = folder / name
    t.write_text("# group: F1\nModerator: Welkom.\n" + "".join(f"{ln}\n" for ln in lines), encoding="utf-8")
    store = Store.create(folder / "p.qualcode")
    ingest(store, [t], allow_new_speakers=True)
    if codebook:
        apply_codebook(store, parse_codebook(codebook), source="test")
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return folder / "p.qualcode"


def _one_error(res, why: str) -> str:
    lines = res.stderr.strip().splitlines()
    assert res.returncode == 1, f"{why}: exit {res.returncode}\n{res.stdout}\n{res.stderr}"
    assert len(lines) == 1 and lines[0].startswith("Error: "), f"{why}: {res.stderr}"
    assert "bug in qualcode" not in res.stderr and "Traceback" not in res.stderr, res.stderr
    return lines[0]


def test_regex_bomb_stops_autocode_with_the_code_and_rule(tmp_path):
    """'(a|aa)+$' on 60 a's backtracks for hours with Python's re; the rule's per-segment time-out stops it."""
    cb = {"name": "t", "themes": [{"id": "th", "name": "T", "colour": "#112233", "codes": [
        {"id": "bomb", "name": "B", "rules": {"patterns": [{"regex": "(a|aa)+$"}]}},
        {"id": "werk", "name": "W", "rules": {"keywords": ["werk"]}}]}]}
    project = _project_with(tmp_path, ["P1: " + "a" * 60 + "b", "P2: Gewoon werk."], cb)
    before = dump(project)
    msg = _one_error(run_limited(["-p", str(project), "autocode"], cwd=tmp_path), "regex bomb")
    assert msg.startswith("Error: code bomb: the regular expression '(a|aa)+$' took more than 1 s on one segment "
                          "of 61 characters"), msg
    assert dump(project) == before


def test_same_file_ingested_twice_at_once(tmp_path):
    """Two processes ingest the same transcript at the same moment: the second waits for the first's write
    lock, then finds the file already ingested. Both succeed; the project holds it once."""
    project = _project_with(tmp_path, ["P1: Eerst."], name="F0.txt")
    big = tmp_path / "F1.txt"
    big.write_text("# group: F1\nModerator: Welkom.\n" + "".join(f"P{1 + k % 5}: zin nummer {k} over werk.\n"
                                                                  for k in range(20_000)), encoding="utf-8")
    env = dict(os.environ, QUALCODE_CODER="tester", PYTHONPATH=os.pathsep.join(
        [str(HERE.parent)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    procs = [subprocess.Popen(QUALCODE + ["-p", str(project), "ingest", str(big), "--allow-new-speakers"],
                              cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                              preexec_fn=_limits) for _ in range(2)]
    outs = [p.communicate(timeout=HANG) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    said = sorted(o[0].splitlines()[0].split(": ", 1)[1][:20] for o in outs)
    assert said == ["added, group F1 (fro", "already ingested wit"], outs
    con = sqlite3.connect(project)
    try:
        assert con.execute("SELECT COUNT(*) FROM sources WHERE name = 'F1.txt'").fetchone()[0] == 1
        assert con.execute("SELECT COUNT(*) FROM segments").fetchone()[0] == 2 + 20_001
    finally:
        con.close()


def _garble_table(project: Path, table: str) -> None:
    """Overwrite the root pages of ``table`` and its indexes with seeded random bytes (a disk error in the
    middle of the file, found only when a command reads those rows)."""
    import random

    con = sqlite3.connect(project)
    try:
        page_size = con.execute("PRAGMA page_size").fetchone()[0]
        roots = [r[0] for r in con.execute("SELECT rootpage FROM sqlite_master WHERE tbl_name = ? AND rootpage > 0",
                                           (table,))]
    finally:
        con.close()
    data = bytearray(project.read_bytes())
    rnd = random.Random(23)
    for root in roots:
        start = (root - 1) * page_size
        data[start:start + page_size] = bytes(rnd.randrange(256) for _ in range(page_size))
    project.write_bytes(bytes(data))


@pytest.mark.parametrize("command", [["status"], ["segments"], ["autocode"], ["export", "workbook", "out.xlsx"],
                                     ["sheet", "export", "out.xlsx"]])
def test_damaged_project_file(tmp_path, command):
    cb = {"name": "t", "themes": [{"id": "th", "name": "T", "colour": "#112233", "codes": [
        {"id": "werk", "name": "W", "rules": {"keywords": ["werk"]}}]}]}
    project = _project_with(tmp_path, [f"P{1 + k % 3}: zin {k} over werk." for k in range(300)], cb)
    _garble_table(project, "segments")
    damaged = project.read_bytes()
    msg = _one_error(run_cli(["-p", str(project)] + command, cwd=tmp_path), "damaged project")
    assert msg == (f"Error: {project} is damaged (database disk image is malformed); nothing was changed. Restore "
                   "a backup with 'qualcode backup restore', or run 'sqlite3 FILE .recover' on a copy to rescue "
                   "what can be read."), msg
    assert project.read_bytes() == damaged
    assert not (tmp_path / "out.xlsx").exists()


@pytest.mark.parametrize("target", ["project", "backup", "transcript"])
@pytest.mark.parametrize("command", [["export", "workbook", "{target}", "--force"],
                                     ["report", "--out", "{target}", "--force"],
                                     ["codebook", "export", "{target}", "--force"]])
def test_output_never_replaces_an_input(tmp_path, target, command):
    """Not with --force, not under a folder named 'reports': a project, a backup or a transcript is never
    an output (the overwrite rules of qualcode/files/overwrite.py)."""
    import openpyxl

    from qualcode.store import Store

    reports = tmp_path / "reports"
    reports.mkdir()
    wb = openpyxl.Workbook()
    wb.active.append(["group", "speaker", "text"])
    wb.active.append(["F1", "P1", "Ik werk graag."])
    wb.save(reports / "F1.xlsx")  # a transcript as a table: the same suffix as a workbook output
    project = reports / "study.qualcode"
    store = Store.create(project)
    from qualcode.ingest import ingest

    (reports / "F2.docx").write_bytes(make_bad_inputs.docx_bytes(make_bad_inputs.DOC_XML.format(
        body=make_bad_inputs.good_docx_body().replace("F1", "F2"))))  # a Word transcript: a report's suffix
    ingest(store, [reports / "F1.xlsx", reports / "F2.docx"], allow_new_speakers=True)
    backup = store.backup("test")
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    path = {"project": project, "backup": Path(backup), "transcript": reports / "F1.xlsx"}[target]
    if command[0] == "report":  # the report's format comes from the suffix: give it one it writes
        if target == "backup":
            path = path.rename(path.with_suffix(".docx"))
        elif target == "transcript":
            path = reports / "F2.docx"
    before = path.read_bytes()
    others = sorted(p.name for p in reports.iterdir())
    res = run_cli(["-p", str(project)] + [a.replace("{target}", str(path)) for a in command], cwd=tmp_path)
    msg = _one_error(res, f"{' '.join(command[:2])} over the {target}")
    reason = {"project": "is the project file itself", "backup": "is in a backups folder",
              "transcript": "is a transcript this project was made from"}[target]
    assert msg.startswith(f"Error: {path} {reason}"), msg
    assert path.read_bytes() == before, msg
    assert sorted(p.name for p in reports.iterdir() if not p.name.endswith(("-wal", "-shm"))) == \
        [n for n in others if not n.endswith(("-wal", "-shm"))]


def test_hostile_text_reaches_reports_and_csv_inert(tmp_path):
    """Markdown report and counts --csv from a transcript and codebook full of HTML, Markdown images and
    formulas: nothing active survives."""
    cb = {"name": "t", "themes": [{"id": "th", "name": "<script>alert(1)</script>", "colour": "#112233", "codes": [
        {"id": "werk", "name": "![x](http://evil.example/c.png)", "rules": {"keywords": ["werk"]}}]}]}
    project = _project_with(tmp_path, ['P1: <iframe src="http://evil.example"></iframe> werk',
                                       "P2: ![p](http://evil.example/p.png) werk =HYPERLINK(1)"], cb,
                            name="=HYPERLINK(1).txt")
    assert run_cli(["-p", str(project), "autocode"], cwd=tmp_path).returncode == 0
    # the codings are autocode's rule matches: outputs show them only when asked (--coder rules)
    res = run_cli(["-p", str(project), "report", "--out", str(tmp_path / "r.md"), "--coder", "rules"],
                      cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    md = (tmp_path / "r.md").read_text(encoding="utf-8")
    assert "<script" not in md and "<iframe" not in md and "](http" not in md and "&lt;script&gt;" in md
    res = run_cli(["-p", str(project), "counts", "--csv", "--coder", "rules"], cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    import csv
    import io

    cells = [c for sep in (",", ";") for row in csv.reader(io.StringIO(res.stdout), delimiter=sep) for c in row]
    assert "'=HYPERLINK(1).txt" in res.stdout
    assert not any(c.startswith(("=", "+", "-", "@")) for c in cells), cells


def test_refi_colour_with_spaces_is_normalised_and_later_exports_work(refi_corpus, tmp_path):
    """A REFI colour written '  #abc  ' used to be stored as it was and broke every later workbook and report."""
    import re
    import zipfile

    _, folder, _ = refi_corpus
    src = zipfile.ZipFile(folder / "good.qdpx")
    members = {n: src.read(n) for n in src.namelist()}
    qde = next(n for n in members if n.endswith(".qde"))
    text = members[qde].decode("utf-8")
    text, n = re.subn(r'(<Code [^>]*?)color="[^"]*"', r'\1color="  #abc  "', text)
    text, n2 = re.subn(r'<Code (?![^>]*color=)', '<Code color="  #abc  " ', text)
    assert n + n2 > 0
    members[qde] = text.encode("utf-8")
    bad = tmp_path / "colour.qdpx"
    with zipfile.ZipFile(bad, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    project = tmp_path / "new.qualcode"
    res = run_cli(["-p", str(project), "import", "refi", str(bad)], cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    colours = {r for line in dump(project) for r in re.findall(r"'(#[0-9A-Fa-f]{3,6}|\s+#abc\s+)'", line)}
    assert "#AABBCC" in colours and not any(c.strip() != c or len(c) != 7 for c in colours), colours
    for command in (["export", "workbook", str(tmp_path / "wb.xlsx")], ["report", "--out", str(tmp_path / "r.html")]):
        res = run_cli(["-p", str(project)] + command, cwd=tmp_path)
        assert res.returncode == 0, res.stderr


def test_limits_under_the_memory_cap(tmp_path):
    """A 1.1-million-character turn (past spaCy's max_length) and a 70,000-character one (past Excel's cell)
    go through ingest, autocode, overview and the coding-sheet round trip within 1 GiB."""
    words = "ik werk graag in de zorg maar de jobcoach helpt mij met structuur".split()
    huge = " ".join(words[k % len(words)] for k in range(220_000))
    assert len(huge) > 1_000_000
    cb = {"name": "t", "themes": [{"id": "th", "name": "T", "colour": "#112233", "codes": [
        {"id": "coach", "name": "C", "rules": {"keywords": ["jobcoach"]}}]}]}
    project = _project_with(tmp_path, ["P1: " + huge, "P2: " + huge[:70_000], "P3: Kort."], cb)
    for command in (["autocode"], ["overview"], ["sheet", "export", str(tmp_path / "s.xlsx")]):
        res = run_limited(["-p", str(project)] + command, cwd=tmp_path)
        assert res.returncode == 0, (command, res.stderr)
    res = run_limited(["-p", str(project), "sheet", "import", str(tmp_path / "s.xlsx")], cwd=tmp_path)
    assert res.returncode == 0 and "0 codings added, 0 removed, 0 memos added" in res.stdout, res.stdout + res.stderr


def test_typography_cannot_hide_names_from_pseudonymise(tmp_path):
    """Names, a phone number and an e-mail address written with non-breaking, thin and zero-width
    characters and soft hyphens, in a transcript whose file name holds a name: after pseudonymise
    none of them is left in the project file, folded or not."""
    from qualcode.privacy.pseudonyms import fold

    transcript = tmp_path / "F1 interview Jan Peeters.txt"
    transcript.write_text("# group: F1\nModerator: Wie was er?\n"
                          "P1: Mevrouw\u00a0Claes en Jan\u00a0Peeters, bel 0475\u202f12\u202f34\u202f56.\n"
                          "P2: Pee\u00adters mailde van jan.peeters\u200b@voorbeeld.be, zei So\u200bfie.\n",
                          encoding="utf-8")
    names = tmp_path / "names.csv"
    names.write_text("name\nJan Peeters\nPeeters\nSofie\n", encoding="utf-8")
    project = tmp_path / "p.qualcode"
    assert run_cli(["-p", str(project), "init"], cwd=tmp_path).returncode == 0
    res = run_cli(["-p", str(project), "ingest", str(transcript), "--allow-new-speakers"], cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    res = run_cli(["-p", str(project), "pseudonymise", "--names", str(names)], cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    everything = fold("\n".join(dump(project)))[0]
    for leaked in ("Claes", "Peeters", "Sofie", "0475", "voorbeeld.be"):
        assert leaked not in everything, leaked
