"""Output files are written whole or not at all (qualcode/files/atomic.py), by every writer.

A writer that fails midway (an exception inside it, Ctrl-C, a full disk while the file is being
written) leaves the previous file at the path byte for byte, no temporary file beside it, and no
temporary file holding text in the system temp folder.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
import zipfile
from pathlib import Path

import pytest

from qualcode.files import atomic
from qualcode.errors import InputError, OutputError

PREVIOUS = b"the previous file, which must survive\n"


def _listing(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def _ordinary_mode(folder: Path) -> int:
    probe = folder / "probe"
    with open(probe, "w"):
        pass
    mode = stat.S_IMODE(probe.stat().st_mode)
    probe.unlink()
    return mode


# ------------------------------------------------------------------ the helper itself
def test_success_replaces_the_file_with_ordinary_permissions(tmp_path):
    target = tmp_path / "out.txt"
    target.write_bytes(PREVIOUS)
    os.chmod(target, 0o600)
    with atomic.atomic_output(target) as tmp:
        assert tmp.parent.parent == tmp_path and tmp.parent.name.startswith(".out.txt.")
        assert tmp.parent.name.endswith(".tmp") and tmp.name == "out.txt"
        assert stat.S_IMODE(tmp.parent.stat().st_mode) == 0o700      # nobody else reads the work in progress
        tmp.write_text("new", encoding="utf-8")
    assert target.read_text(encoding="utf-8") == "new"
    assert stat.S_IMODE(target.stat().st_mode) == _ordinary_mode(tmp_path)
    assert _listing(tmp_path) == {"out.txt"}


@pytest.mark.parametrize("exc", [RuntimeError("boom"), KeyboardInterrupt()], ids=["exception", "ctrl-c"])
def test_failure_keeps_the_previous_file_and_leaves_nothing(tmp_path, exc):
    target = tmp_path / "out.xlsx"
    target.write_bytes(PREVIOUS)
    with pytest.raises(type(exc)):
        with atomic.atomic_output(target) as tmp:
            tmp.write_bytes(b"half a file")
            raise exc
    assert target.read_bytes() == PREVIOUS
    assert _listing(tmp_path) == {"out.xlsx"}


def test_a_full_disk_is_a_clear_error(tmp_path):
    target = tmp_path / "out.docx"
    target.write_bytes(PREVIOUS)
    with pytest.raises(OutputError) as info:
        with atomic.atomic_output(target) as tmp:
            tmp.write_bytes(b"half")
            raise OSError(errno.ENOSPC, "No space left on device")
    assert str(info.value) == (f"{target}: cannot be written (No space left on device); any previous file there "
                               "is unchanged. Check the disk space and that the folder is writable and the file "
                               "not open elsewhere.")
    assert target.read_bytes() == PREVIOUS and _listing(tmp_path) == {"out.docx"}


def test_a_missing_folder_is_a_clear_error(tmp_path):
    target = tmp_path / "nowhere" / "out.md"
    with pytest.raises(OutputError) as info:
        atomic.write_text(target, "x")
    assert str(info.value) == f"{target}: cannot be written: folder {target.parent} does not exist; create it first."


def test_scratch_puts_library_temp_files_in_the_private_folder(tmp_path, monkeypatch):
    system_tmp = tmp_path / "system-tmp"
    system_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(system_tmp))
    out = tmp_path / "out"
    out.mkdir()
    with atomic.atomic_output(out / "book.xlsx", scratch=True) as tmp:
        assert tempfile.gettempdir() == str(tmp.parent)
        with tempfile.NamedTemporaryFile(delete=False) as fh:      # as openpyxl's write-only sheets do
            fh.write(b"a quote with a name in it")
        tmp.write_bytes(b"book")
    assert tempfile.tempdir == str(system_tmp)
    assert _listing(out) == {"book.xlsx"} and _listing(system_tmp) == set()


# ------------------------------------------------------------------ every writer
def _writers():
    from qualcode.agreement.measures import compute_agreement
    from qualcode.codebook.yamlfile import export_codebook
    from qualcode.coding.discover import Discovery, write_clusters
    from qualcode.coding.suggest import export_suggestions
    from qualcode.agreement.workbook import write_agreement_report, write_disagreements
    from qualcode.refi.export import export_refi
    from qualcode.reports.report import write_report
    from qualcode.excel.coding_sheet import export_sheet
    from qualcode.excel.analysis import write_workbook
    from qualcode.ingest.speakers import write_names_file
    from qualcode.familiarise.overview import build_overview, write_overview
    from qualcode.privacy.pseudonyms import pseudonymise, write_mapping
    from qualcode.themes.review import run_review, write_review

    empty = Discovery(n_segments=0, clusters=[], n_clusters=2, seed=0)
    return {
        "coding sheet.xlsx": lambda s, p: export_sheet(s, str(p), "ann"),
        "analysis workbook.xlsx": lambda s, p: write_workbook(s, p),
        "agreement.xlsx": lambda s, p: write_agreement_report(compute_agreement(s, ["ann", "bob"], n_boot=20), s, p),
        "disagreements.xlsx": lambda s, p: write_disagreements(s, ["ann", "bob"], p),
        "suggestions.xlsx": lambda s, p: export_suggestions(s, str(p)),
        "clusters.xlsx": lambda s, p: write_clusters(empty, str(p)),
        "clusters.md": lambda s, p: write_clusters(empty, str(p)),
        "overview.xlsx": lambda s, p: write_overview(build_overview(s), p),
        "overview.md": lambda s, p: write_overview(build_overview(s), p),
        "review.xlsx": lambda s, p: write_review(run_review(s, remember=False), p),
        "codebook.xlsx": lambda s, p: export_codebook(s, str(p)),
        "codebook.yaml": lambda s, p: export_codebook(s, str(p)),
        "project.qdpx": lambda s, p: export_refi(s, p),
        "codebook.qdc": lambda s, p: export_refi(s, p),
        "report.html": lambda s, p: write_report(s, p),
        "report.docx": lambda s, p: write_report(s, p),
        "report.md": lambda s, p: write_report(s, p),
        "key.csv": lambda s, p: write_mapping(pseudonymise(s, detect=("email",), dry_run=True), p),
        "names.csv": lambda s, p: write_names_file(_names_context(), p),
    }


def _names_context():
    """What an ingest that numbered one new speaker hands to the name -> key table writer."""
    from qualcode.ingest.speakers import SpeakerContext

    return SpeakerContext(new_names=[{"group": "F1", "participant": "P9", "name": "Jan Peeters",
                                      "role": "participant"}])


WRITERS = list(_writers())
ZIP_WRITERS = [w for w in WRITERS if w.endswith((".xlsx", ".docx", ".qdpx"))]


@pytest.fixture
def project(tmp_path, monkeypatch):
    from test_outputs_reopen import nasty_project

    system_tmp = tmp_path / "system-tmp"
    system_tmp.mkdir()
    store, _ = nasty_project(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(system_tmp))
    yield store, out, system_tmp
    store.close()


def _prepare(out: Path, name: str) -> Path:
    target = out / name.replace(" ", "-")
    target.write_bytes(PREVIOUS)
    if name == "report.md":                     # its figures too
        for fig in ("fragments", "heatmap", "map"):
            (out / f"report-{fig}.png").write_bytes(PREVIOUS)
    return target


def _unchanged(out: Path, before: set[str], system_tmp: Path) -> None:
    assert _listing(out) == before, f"left behind: {_listing(out) - before}"
    for p in out.iterdir():
        assert p.read_bytes() == PREVIOUS, p.name
    assert _listing(system_tmp) == set(), "temporary files left in the system temp folder"


@pytest.mark.parametrize("name", WRITERS)
def test_every_writer_writes_through_the_helper(project, name):
    store, out, system_tmp = project
    target = _prepare(out, name)
    seen = []
    real = atomic._fsync_file

    def watched(path):
        seen.append(Path(path))
        real(path)

    import unittest.mock

    with unittest.mock.patch.object(atomic, "_fsync_file", watched):
        _writers()[name](store, target)
    assert target in [p.parent.parent / p.name for p in seen]
    assert target.read_bytes() != PREVIOUS and not any(n.endswith(".tmp") for n in _listing(out))
    assert _listing(system_tmp) == set()


@pytest.mark.parametrize("name", WRITERS)
def test_a_disk_full_midway_keeps_the_previous_file(project, name, monkeypatch):
    """The file is half on disk when the disk fills up (the temp file is cut in half, then the
    flush fails): the previous file survives, byte for byte, and the error says what happened."""
    store, out, system_tmp = project
    _prepare(out, name)
    before = _listing(out)

    def full(path):
        data = Path(path).read_bytes()
        Path(path).write_bytes(data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic, "_fsync_file", full)
    # the names table says the same in the ingest's words (InputError: nothing was ingested)
    with pytest.raises(InputError if name == "names.csv" else OutputError, match="No space left on device"):
        _writers()[name](store, out / name.replace(" ", "-"))
    _unchanged(out, before, system_tmp)


@pytest.mark.parametrize("name", ZIP_WRITERS)
def test_an_archive_that_fails_after_its_first_part_keeps_the_previous_file(project, name, monkeypatch):
    store, out, system_tmp = project
    _prepare(out, name)
    before = _listing(out)
    real = zipfile.ZipFile.writestr
    calls = []

    def writestr(self, *args, **kw):
        calls.append(1)
        if len(calls) > 1:
            raise RuntimeError("the writer broke halfway through the archive")
        return real(self, *args, **kw)

    monkeypatch.setattr(zipfile.ZipFile, "writestr", writestr)
    with pytest.raises(RuntimeError, match="halfway"):
        _writers()[name](store, out / name.replace(" ", "-"))
    assert len(calls) == 2
    _unchanged(out, before, system_tmp)
    import gc

    gc.collect()    # half-written sheet streams left open would fail noisily here (pytest reports them)


def test_ctrl_c_inside_the_workbook_writer_keeps_the_previous_file(project):
    from qualcode.excel.analysis import write_workbook

    store, out, system_tmp = project
    target = _prepare(out, "analysis.xlsx")

    def interrupted(wb, store, styles):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_workbook(store, target, extra_sheets=[interrupted])
    _unchanged(out, {"analysis.xlsx"}, system_tmp)


def test_the_cli_reports_a_full_disk_in_one_line(project, run, monkeypatch):
    store, out, _ = project
    target = _prepare(out, "analysis.xlsx")
    previous = b"PK\x03\x04" + PREVIOUS  # an earlier workbook (a zip): --force may replace it
    target.write_bytes(previous)

    def full(path):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic, "_fsync_file", full)
    path = store.path
    store.close()
    result = run(path, "export", "workbook", str(target), "--force")
    assert result.exit_code == 1
    assert result.stderr == (f"Error: {target}: cannot be written (No space left on device); any previous file "
                             "there is unchanged. Check the disk space and that the folder is writable and the "
                             "file not open elsewhere.\n")
    assert target.read_bytes() == previous


def test_a_killed_writers_folder_is_removed_by_the_next_write(tmp_path):
    import subprocess
    import sys

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(gone.stdout)
    stale = tmp_path / f".out.xlsx.{dead_pid}-abcd1234.tmp"
    stale.mkdir()
    (stale / "out.xlsx").write_bytes(b"rows with quotes")
    alive = tmp_path / f".out.xlsx.{os.getpid()}-efgh5678.tmp"     # a writer still at work: left alone
    alive.mkdir()
    other = tmp_path / f".other.xlsx.{dead_pid}-abcd1234.tmp"      # another target's: not ours to judge now
    other.mkdir()
    atomic.write_bytes(tmp_path / "out.xlsx", b"new")
    assert _listing(tmp_path) == {"out.xlsx", alive.name, other.name}


def test_an_export_killed_outright_leaves_text_only_in_its_private_folder(project):
    """SIGKILL in the middle of 'export workbook' (every sheet's rows written to its temporary file,
    not yet saved): the old workbook is intact, the system temp folder holds nothing, the only trace
    is the private 0700 folder beside the output, empty (the row files are anonymous temporary files,
    gone with the process), and the next export removes it."""
    import signal
    import subprocess
    import sys

    from qualcode.excel.analysis import write_workbook

    store, out, system_tmp = project
    target = _prepare(out, "analysis.xlsx")
    script = ("import os, signal, sys\n"
              "from qualcode.store import Store\n"
              "from qualcode.excel.analysis import write_workbook\n"
              "store = Store.open(sys.argv[1])\n"
              "def kill(wb, store, styles):\n"
              "    os.kill(os.getpid(), signal.SIGKILL)\n"
              "write_workbook(store, sys.argv[2], extra_sheets=[kill])\n")
    env = {**os.environ, "TMPDIR": str(system_tmp)}
    done = subprocess.run([sys.executable, "-c", script, str(store.path), str(target)], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert target.read_bytes() == PREVIOUS
    assert _listing(system_tmp) == set()
    left = [p for p in out.iterdir() if p.name != "analysis.xlsx"]
    assert len(left) == 1 and left[0].name.startswith(".analysis.xlsx.") and left[0].name.endswith(".tmp")
    assert stat.S_IMODE(left[0].stat().st_mode) == 0o700
    assert list(left[0].iterdir()) == []          # no quote survives the process on disk
    write_workbook(store, target)
    assert _listing(out) == {"analysis.xlsx"} and target.read_bytes() != PREVIOUS
