"""Output files written whole or not at all (temporary file beside the target, then rename).

Every file qualcode writes for the user (xlsx, docx, html, md, csv, qdpx/qdc, YAML, PNG) goes
through :func:`atomic_output`:

1. a private folder ``.<name>.<pid>-<random>.tmp`` is made beside the target (same folder, so the
   final rename cannot cross file systems; mode 0700, so nobody else can read what is in it);
2. the writer writes ``<that folder>/<name>`` (same file name and suffix as the target; the
   file gets the permissions of any new file, as the umask says);
3. the file is flushed to disk (fsync) and renamed over the target in one step (``os.replace``),
   then the folder's entry is flushed too;
4. the private folder is removed on every way out: success, an exception, Ctrl-C. Its name holds
   the writer's process id: a folder left by a process that was killed outright (``kill -9``,
   a power cut) is removed by the next write to the same target.

If the writer fails at any point the previous file at the target is untouched, byte for byte.
With ``scratch=True`` the temporary files a writer makes while writing (the xlsx writer's per-sheet
worksheets hold every row, so full quotes, until the workbook is saved) also go into the private
folder instead of the system temp folder, and are removed with it.

A file-system error (disk full, read-only folder, permission denied) becomes an
:class:`~qualcode.errors.OutputError` naming the target.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Iterator

from ..errors import OutputError

# tempfile.tempdir is process-wide: one scratch-scoped writer at a time changes it
_SCRATCH_LOCK = threading.RLock()


@contextlib.contextmanager
def atomic_output(target: str | os.PathLike, *, scratch: bool = False) -> Iterator[Path]:
    """Yield the path to write instead of ``target``; on a normal exit it becomes ``target``.

    ``target``'s folder must exist. With ``scratch`` the system temp folder is, for the block's
    duration, the private folder (process-wide: one such block at a time)."""
    target = Path(target)
    _remove_stale(target)
    try:
        work = Path(tempfile.mkdtemp(prefix=f"{_prefix(target)}{os.getpid()}-", suffix=".tmp", dir=target.parent))
    except OSError as exc:
        raise _error(target, exc) from None
    tmp = work / target.name
    try:
        if scratch:
            with _SCRATCH_LOCK:
                saved = tempfile.tempdir
                tempfile.tempdir = str(work)
                try:
                    yield tmp
                finally:
                    tempfile.tempdir = saved
        else:
            yield tmp
        _fsync_file(tmp)
        os.replace(tmp, target)
        _fsync_dir(target.parent)
    except OSError as exc:
        raise _error(target, exc) from None
    finally:
        shutil.rmtree(work, ignore_errors=True)


def write_text(target: str | os.PathLike, text: str, *, encoding: str = "utf-8", newline: str | None = None) -> Path:
    """Write a text file atomically."""
    with atomic_output(target) as tmp, open(tmp, "w", encoding=encoding, newline=newline) as fh:
        fh.write(text)
    return Path(target)


def write_bytes(target: str | os.PathLike, data: bytes) -> Path:
    """Write a binary file atomically."""
    with atomic_output(target) as tmp:
        tmp.write_bytes(data)
    return Path(target)


def _prefix(target: Path) -> str:
    return f".{target.name[:100]}."


def _remove_stale(target: Path) -> None:
    """Remove private folders for ``target`` left by a writer that was killed (its process is gone)."""
    try:
        found = list(target.parent.glob(glob.escape(_prefix(target)) + "*-*.tmp"))
    except OSError:
        return
    for folder in found:
        pid = folder.name[len(_prefix(target)):].split("-", 1)[0]
        if pid.isdigit() and folder.is_dir() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True          # exists but is not ours, or cannot tell: leave its folder alone
    return True


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (not possible on every system: best effort)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _error(target: Path, exc: OSError) -> OutputError:
    reason = exc.strerror or str(exc)
    if not target.parent.is_dir():
        err = OutputError(f"{target}: cannot be written: folder {target.parent} does not exist; create it first.")
    else:
        err = OutputError(f"{target}: cannot be written ({reason}); any previous file there is unchanged. "
                          "Check the disk space and that the folder is writable and the file not open elsewhere.")
    err.reason = reason   # the system's words alone, for callers that phrase their own message
    return err
