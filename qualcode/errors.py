"""Errors that users see.

The library raises these; it never prints or exits. The CLI turns any
``QualcodeError`` into one line ``Error: <message>`` on stderr and exit code 1.
Messages say what is wrong, where (file, line, sheet, cell) and what to do.
"""

from __future__ import annotations

import difflib
from typing import Iterable


class QualcodeError(Exception):
    """Base class for every error a user can cause and fix."""

    exit_code = 1


class ProjectError(QualcodeError):
    """The project file is missing, locked, damaged or from a newer qualcode."""


class InputError(QualcodeError):
    """A transcript, participants file, sheet or other input cannot be used."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None,
                 where: str | None = None):
        parts = []
        if path is not None:
            loc = str(path)
            if line is not None:
                loc += f", line {line}"
            if where:
                loc += f", {where}"
            parts.append(loc)
        elif where:
            parts.append(where)
        full = f"{': '.join(parts)}: {message}" if parts else message
        super().__init__(full)
        self.path = path
        self.line = line
        self.raw_message = message


class OutputError(QualcodeError):
    """An output file cannot be written (disk full, read-only folder, file locked); the old one is kept."""


class CodebookError(InputError):
    """The YAML codebook is invalid."""


class NotFoundError(QualcodeError):
    """An id or name given on the command line does not exist."""


class ConflictError(QualcodeError):
    """The act would lose data or contradict the project's state."""


class BusyError(ProjectError):
    """Another command is writing to the project and did not finish in time."""


class ChangedError(ConflictError):
    """The project changed under a command that had read it; nothing was written."""


class NotFittedError(QualcodeError, ValueError):
    """A learnt component was used before ``fit``."""


def close_matches(word: str, candidates: Iterable[str], n: int = 3) -> str:
    """A ' Did you mean: a, b?' suffix, or '' when nothing is close."""
    cands = [str(c) for c in candidates]
    found = difflib.get_close_matches(str(word), cands, n=n, cutoff=0.5)
    if not found:
        lowered = {c.lower(): c for c in cands}
        found = [lowered[c] for c in difflib.get_close_matches(str(word).lower(), list(lowered), n=n, cutoff=0.5)]
    return f" Did you mean: {', '.join(found)}?" if found else ""


def unknown(kind: str, word: str, candidates: Iterable[str]) -> NotFoundError:
    """A NotFoundError for an unknown id, listing close matches."""
    cands = list(candidates)
    hint = close_matches(word, cands)
    if not hint and cands and len(cands) <= 12:
        hint = f" Known: {', '.join(map(str, cands))}."
    return NotFoundError(f"unknown {kind} '{word}'.{hint}")
