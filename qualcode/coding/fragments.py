"""Fragments: finding the words a student typed or pasted inside a segment's text.

A fragment coding codes a span of a source's text inside one segment (one speaker's turn).
Students give the span as words: pasted from the transcript or trimmed from the row's text in
the coding sheet, or typed after ``--fragment``. :func:`find_fragment` finds them exactly, then
ignoring differences in whitespace, quote marks (curly or straight, guillemets) and case. The
words must occur once: not found or found twice is an error that says what to do.
"""

from __future__ import annotations

from ..errors import InputError

# Quote marks a word processor or spreadsheet may turn into one another.
_QUOTES = {c: "'" for c in "‘’‚‛′`´"} | {c: '"' for c in "“”„‟″«»"}


def _normalised(text: str) -> tuple[str, list[int]]:
    """``text`` with whitespace runs as one space, quote marks made plain and letters lower case,
    and for each character of the result the index of the character it came from."""
    out: list[str] = []
    where: list[int] = []
    in_space = False
    for i, ch in enumerate(text):
        if ch.isspace() or ch in "\u200b\u00ad":
            if ch in "\u200b\u00ad":  # zero-width space and soft hyphen: not there at all
                continue
            if in_space:
                continue
            in_space = True
            out.append(" ")
            where.append(i)
            continue
        in_space = False
        ch = _QUOTES.get(ch, ch)
        low = ch.lower()
        out.append(low if len(low) == 1 else ch)
        where.append(i)
    return "".join(out), where


def _occurrences(hay: str, needle: str) -> list[int]:
    found, i = [], hay.find(needle)
    while i != -1:
        found.append(i)
        i = hay.find(needle, i + 1)
    return found


class FragmentNotFound(InputError):
    """The words were not in the text, or were there more than once."""


def find_fragment(text: str, words: str, *, where: str = "") -> tuple[int, int] | None:
    """(start, end) of ``words`` in ``text`` (end exclusive), or None when ``words`` is empty
    (meaning the whole text). ``where`` names the place for the error message ('segment 12',
    "sheet 'Coding', row 5, cell D5")."""
    needle = (words or "").strip()
    if not needle:
        return None
    place = f" ({where})" if where else ""
    exact = _occurrences(text, needle)
    if len(exact) == 1:
        return exact[0], exact[0] + len(needle)
    if len(exact) > 1:
        raise FragmentNotFound(
            f"the fragment '{_short(needle)}' occurs {len(exact)} times in the segment's text{place}; "
            "add a few words before or after it so that it occurs once.")
    hay, index = _normalised(text)
    pin, _ = _normalised(needle)
    pin = pin.strip()
    found = _occurrences(hay, pin) if pin else []
    if len(found) == 1:
        start = index[found[0]]
        end = index[found[0] + len(pin) - 1] + 1
        return start, end
    if len(found) > 1:
        raise FragmentNotFound(
            f"the fragment '{_short(needle)}' occurs {len(found)} times in the segment's text{place}; "
            "add a few words before or after it so that it occurs once.")
    raise FragmentNotFound(
        f"the fragment '{_short(needle)}' is not in the segment's text{place}; copy the words from the "
        "segment's text itself (differences in spaces, quote marks and capitals do not matter), or leave "
        "it empty to code the whole segment.")


def _short(words: str, limit: int = 60) -> str:
    w = " ".join(words.split())
    return w if len(w) <= limit else w[:limit - 1] + "…"
