"""Faults with clear errors (issue 22): a full disk, a read-only folder. On a small tmpfs (needs root
and permission to mount, as in CI; skipped with the reason otherwise), each command either finishes
or exits 1 with one clear line and leaves the project and earlier outputs as they were. An act that
committed never reports failure, and a pseudonymisation never commits without the key asked for."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from qualcode.store import Store

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "transcripts_sample"


class Disk:
    def __init__(self, root: Path):
        self.root = root

    def free(self) -> int:
        st = os.statvfs(self.root)
        return st.f_bavail * st.f_frsize

    def fill(self, leave: int) -> None:
        """Write a filler file so that only about ``leave`` bytes stay free."""
        filler = self.root / "filler.bin"
        size = max(0, self.free() - leave)
        with open(filler, "wb") as fh:
            chunk = b"\0" * (1 << 20)
            while size > 0:
                n = min(size, len(chunk))
                try:
                    fh.write(chunk[:n])
                    fh.flush()
                except OSError:
                    break
                size -= n

    def clear(self) -> None:
        for p in self.root.iterdir():
            shutil.rmtree(p) if p.is_dir() else p.unlink()


@pytest.fixture
def small_disk(tmp_path):
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("a full-disk test needs root to mount a small tmpfs")
    mnt = tmp_path / "disk"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(mnt)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip()}")
    try:
        yield Disk(mnt)
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


@pytest.fixture(scope="module")
def base_project(tmp_path_factory) -> Path:
    """F1 and F2 of the sample with the shipped codebook and its rule codings."""
    from qualcode.codebook.yamlfile import apply_codebook, load_codebook
    from qualcode.coding.autocode import autocode
    from qualcode.ingest import ingest

    path = tmp_path_factory.mktemp("faults") / "base.qualcode"
    store = Store.create(path)
    apply_codebook(store, load_codebook(ROOT / "codebooks" / "ips.yaml"))
    ingest(store, [SAMPLE / "F1.txt", SAMPLE / "F2.txt"], participants=str(SAMPLE / "participants.csv"))
    autocode(store)
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return path


def state(path: Path) -> str:
    """A digest of the project's content (every table, in order)."""
    store = Store.open(path)
    h = hashlib.sha256()
    try:
        for (name,) in store.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"):
            for row in sorted(repr(tuple(r)) for r in store.conn.execute(f'SELECT * FROM "{name}"')):
                h.update(row.encode())
    finally:
        store.close()
    return h.hexdigest()


def stray(folder: Path) -> list[str]:
    """Temporary or partial files qualcode left in ``folder`` (and its backups folder)."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")
                  if p.is_file() and not p.name.endswith(("-lock", "-shm", "-wal"))
                  and (p.name.startswith(".") or p.name.endswith((".tmp", ".part")) or p.stat().st_size == 0))


LEAVE = [0, 8 << 10, 64 << 10, 512 << 10, 2 << 20]


@pytest.mark.parametrize("leave", LEAVE, ids=[f"free{n // 1024}k" for n in LEAVE])
def test_pseudonymise_on_a_full_disk_commits_with_its_key_or_not_at_all(small_disk, base_project, run, leave):
    project = small_disk.root / "p.qualcode"
    shutil.copy(base_project, project)
    names = small_disk.root / "names.csv"
    names.write_text("name,category\nVDAB,organisatie\nGTB,organisatie\n", encoding="utf-8")
    key = small_disk.root / "key.csv"
    before = state(project)
    small_disk.fill(leave)
    res = run(project, "pseudonymise", "--names", names, "--mapping-out", key)
    (small_disk.root / "filler.bin").unlink()
    after = state(project)
    if res.exit_code == 0:
        assert after != before
        assert key.read_text(encoding="utf-8").startswith("placeholder,category,original\n")
        assert len(key.read_text(encoding="utf-8").splitlines()) > 1
    else:
        assert res.exit_code == 1
        assert after == before
        assert not key.exists()
        assert res.stderr.count("\n") == 1 and res.stderr.startswith("Error: ")
        assert "disk is full" in res.stderr and "This is a bug" not in res.stderr
    assert stray(small_disk.root) == []


def test_theme_merge_on_a_full_disk_changes_nothing_and_leaves_no_backup(small_disk, base_project, run):
    project = small_disk.root / "p.qualcode"
    shutil.copy(base_project, project)
    before = state(project)
    small_disk.fill(96 << 10)  # enough to open the project, not for a copy of it
    res = run(project, "theme", "merge", "support", "collaboration")
    (small_disk.root / "filler.bin").unlink()
    assert res.exit_code == 1
    assert res.stderr == ("Error: could not write a backup in "
                          f"{project}.backups (the disk is full); nothing was changed.\n")
    assert state(project) == before
    assert Store.open(project).backups() == []
    assert stray(small_disk.root) == []


def test_ingest_on_a_full_disk_changes_nothing(small_disk, run):
    project = small_disk.root / "p.qualcode"
    Store.create(project).close()
    before = state(project)
    small_disk.fill(256 << 10)
    res = run(project, "ingest", SAMPLE / "F1.txt", SAMPLE / "F2.txt", SAMPLE / "F3.txt", "--participants",
              SAMPLE / "participants.csv")
    (small_disk.root / "filler.bin").unlink()
    assert res.exit_code == 1
    assert res.stderr == ("Error: project file problem: the disk is full, so the project file could not be "
                          "written; nothing was changed. Free some space and run the command again.\n")
    assert state(project) == before


def test_key_that_cannot_be_written_means_no_pseudonymisation(tmp_path, base_project, run):
    project = tmp_path / "p.qualcode"
    shutil.copy(base_project, project)
    names = tmp_path / "names.csv"
    names.write_text("name\nSofie\n", encoding="utf-8")
    before = state(project)
    res = run(project, "pseudonymise", "--names", names, "--mapping-out", tmp_path / "no-such-folder" / "key.csv")
    assert res.exit_code == 1
    key = tmp_path / "no-such-folder" / "key.csv"
    assert res.stderr == (f"Error: {key}: cannot be written: folder {key.parent} does not exist; create it first. "
                          "Nothing was pseudonymised.\n")
    assert state(project) == before


def test_export_workbook_on_a_full_disk_keeps_the_earlier_workbook(small_disk, base_project, run, tmp_path):
    """Was: 'unexpected OSError … This is a bug'. The project is elsewhere; the output folder is full."""
    project = tmp_path / "p.qualcode"
    shutil.copy(base_project, project)
    out = small_disk.root / "analysis.xlsx"
    assert run(project, "export", "workbook", out).exit_code == 0
    earlier = out.read_bytes()
    small_disk.fill(64 << 10)   # far less than a workbook needs
    res = run(project, "export", "workbook", out, "--force")
    (small_disk.root / "filler.bin").unlink()
    assert res.exit_code == 1
    assert res.stderr.startswith(f"Error: {out}: cannot be written (No space left on device); any previous file "
                                 "there is unchanged.")
    assert res.stderr.count("\n") == 1
    assert out.read_bytes() == earlier
    assert stray(small_disk.root) == []


def test_an_output_held_by_another_program_is_one_clear_line(base_project, run, tmp_path, monkeypatch):
    """Excel on Windows keeps a workbook it has open locked: replacing it fails with 'permission
    denied'. Simulated at the rename (as root, file modes do not stop anything here)."""
    import errno

    from qualcode.files import atomic

    project = tmp_path / "p.qualcode"
    shutil.copy(base_project, project)
    out = tmp_path / "analysis.xlsx"
    assert run(project, "export", "workbook", out).exit_code == 0
    earlier = out.read_bytes()

    def locked(src, dst):
        raise PermissionError(errno.EACCES, "Permission denied", str(dst))

    monkeypatch.setattr(atomic.os, "replace", locked)
    res = run(project, "export", "workbook", out, "--force")
    assert res.exit_code == 1
    assert res.stderr == (f"Error: {out}: cannot be written (Permission denied); any previous file there is "
                          "unchanged. Check the disk space and that the folder is writable and the file not open "
                          "elsewhere.\n")
    assert out.read_bytes() == earlier
    assert stray(tmp_path) == []
