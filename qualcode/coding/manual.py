"""Scripted manual coding: ``qualcode code SEGMENT_ID... CODE_ID`` and ``qualcode uncode``."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import NotFoundError, QualcodeError
from ..store.core import serialised
from .fragments import find_fragment


@dataclass(frozen=True)
class ManualCoding:
    """What one ``code`` or ``uncode`` act did: ``changed`` codings were added (code) or segments
    lost their coding (uncode), out of the ``segments`` asked for."""

    code: str  # the code's key
    coder: str
    segments: tuple[int, ...]
    changed: int
    fragment: str | None = None  # the words coded inside each segment; None: whole segments

    @property
    def unchanged(self) -> int:
        """Segments that already had the coding (code) or kept nothing to remove (never, for uncode)."""
        return len(self.segments) - self.changed


def _resolve(store, segment_ids, code_id: str) -> tuple[list[int], dict]:
    code = store.code(code_id)  # unknown ids raise with close matches
    ids = []
    for s in segment_ids:
        text = str(s).lstrip("#")
        if not text.isdigit():
            raise NotFoundError(f"segment ids are numbers (see 'qualcode segments'), got '{s}'.")
        ids.append(store.segment(int(text))["id"])
    return ids, code


def _spans(store, ids: list[int], fragment: str | None) -> dict[int, tuple[int, int] | None]:
    """segment id -> the span of ``fragment`` in it (None: the whole segment). Every segment is
    checked before anything is written."""
    if not fragment or not fragment.strip():
        if fragment is not None:
            raise QualcodeError("--fragment is empty; give the words to code, or leave the option out to "
                                "code the whole segment.")
        return {i: None for i in ids}
    out: dict[int, tuple[int, int] | None] = {}
    for i in ids:
        seg = store.segment(i)
        rel = find_fragment(seg["text"], fragment, where=f"segment {i}")
        out[i] = (seg["start"] + rel[0], seg["start"] + rel[1]) if rel else None
    return out


@serialised
def code_segments(store, segment_ids, code_id: str, *, coder: str, fragment: str | None = None) -> ManualCoding:
    """Give segments a code (origin manual) in one act. ``fragment``: the words to code inside each
    segment (see :func:`~qualcode.coding.fragments.find_fragment`)."""
    ids, code = _resolve(store, segment_ids, code_id)
    spans = _spans(store, ids, fragment)
    details = {"code": code["key"], "segments": ids}
    if fragment is not None:
        details["fragment"] = fragment
    with store.act("code", actor=coder, details=details) as act:
        new = sum(store.add_coding(i, code["id"], coder, "manual", span=spans[i]) for i in ids)
        act.summary = f"{code['key']} on {new} {'fragment' if fragment else 'segment'}(s) by {coder}"
    return ManualCoding(code["key"], coder, tuple(ids), new, fragment or None)


@serialised
def uncode_segments(store, segment_ids, code_id: str, *, coder: str, fragment: str | None = None) -> ManualCoding:
    """Remove this coder's coding of ``code_id`` from segments in one act. Without ``fragment``
    every coding of the code on the segment goes (whole and fragments); with it, only the coding on
    those words. Raises NotFoundError (and changes nothing) when none of the segments had it."""
    ids, code = _resolve(store, segment_ids, code_id)
    spans = _spans(store, ids, fragment)
    with store.act("uncode", actor=coder, details={"code": code["key"], "segments": ids}) as act:
        gone = sum(store.remove_codings([(i, code["id"], spans[i])], coder,
                                        by="span" if fragment else "segment_code") > 0 for i in ids)
        if not gone:  # raising inside the act rolls it back: no empty audit row
            what = f"on the fragment '{fragment.strip()}' of" if fragment else "on"
            raise NotFoundError(f"coder '{coder}' has no coding {code['key']} {what} segment(s) "
                                f"{', '.join(map(str, ids))}; nothing was removed.")
        act.summary = f"{code['key']} removed from {gone} segment(s) for {coder}"
    return ManualCoding(code["key"], coder, tuple(ids), gone, fragment or None)
