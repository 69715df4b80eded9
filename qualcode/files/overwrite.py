"""Which existing file an output may replace.

Never a project, a backup or a transcript the
project was made from; with ``--force`` only a file of the output's own kind (inside a folder
named ``reports``, such a file is replaced without ``--force``, as ``make demo`` does)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from ..errors import ConflictError

_ZIP = b"PK\x03\x04"
_SQLITE = b"SQLite format 3\x00"
# what a file with this suffix starts with when qualcode (or a tool of the same kind) wrote it
_KINDS = {".xlsx": ("an Excel workbook", _ZIP), ".docx": ("a Word document", _ZIP),
          ".qdpx": ("a REFI-QDA project", _ZIP), ".png": ("a PNG picture", b"\x89PNG")}


def check_output(path: str | Path, force: bool, *, project: str | Path | None = None,
                 source_hashes: set[str] | None = None) -> None:
    """Raise :class:`ConflictError` when writing ``path`` could destroy something that is not an
    earlier output of the same kind. ``source_hashes`` are the sha256 of the files the project's
    transcripts were read from."""
    p = Path(path)
    if project is not None:
        proj = Path(project).resolve()
        if p.resolve() in {proj, Path(str(proj) + "-wal"), Path(str(proj) + "-shm")}:
            raise ConflictError(f"{path} is the project file itself; choose another output path.")
    if not p.exists():
        return
    if p.is_dir():
        raise ConflictError(f"{path} is a folder; give a file name for the output.")
    if any(part.endswith(".backups") for part in p.resolve().parent.parts):
        raise ConflictError(f"{path} is in a backups folder; qualcode never writes over a backup. "
                            "Choose another output path.")
    with open(p, "rb") as fh:
        head = fh.read(16)
    if head.startswith(_SQLITE):
        raise ConflictError(f"{path} is a qualcode project (or another database), not an output; qualcode never "
                            "writes over it. Choose another output path.")
    if source_hashes and _sha256(p) in source_hashes:
        raise ConflictError(f"{path} is a transcript this project was made from; qualcode never writes over "
                            "it. Choose another output path.")
    kind = _KINDS.get(p.suffix.lower())
    if kind is not None and not head.startswith(kind[1]):
        raise ConflictError(f"{path} exists and is not {kind[0]}; --force only replaces an earlier output of "
                            "the same kind. Choose another output path.")
    if kind is None and b"\x00" in head:
        raise ConflictError(f"{path} exists and is not a text file; --force only replaces an earlier output of "
                            "the same kind. Choose another output path.")
    if not force and "reports" not in p.resolve().parent.parts:
        raise ConflictError(f"{path} already exists; use --force to overwrite it.")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
