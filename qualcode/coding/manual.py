"""Manual coding: ``qualcode code``/``uncode`` and the web workspace's single coding acts.

The web workspace's single acts: code a selection, remove or confirm one coding, accept or reject
a suggestion."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConflictError, NotFoundError, QualcodeError
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


@serialised
def code_span(store, segment_id: int, start: int, end: int, code_id: str, *, coder: str,
              expect: str | None = None) -> dict:
    """Code the characters ``start:end`` of the source's text (inside segment ``segment_id``) with
    ``code_id`` as ``coder`` (origin manual), in one act: what a selection of words in the web
    workspace does. ``expect``: the words the reader selected; when the source's text there is not
    those words any more (the transcript changed under the page), nothing is coded. Returns the
    coding's code key, span and whether it is new."""
    seg = store.segment(int(segment_id))
    code = store.code(code_id)
    start, end = int(start), int(end)
    if not seg["start"] <= start < end <= seg["end"]:
        raise ConflictError(f"the selection {start}-{end} is not inside segment {seg['id']} ({seg['key']}, "
                            f"characters {seg['start']}-{seg['end']}); select words within one turn.")
    words = seg["text"][start - seg["start"]:end - seg["start"]]
    if expect is not None and " ".join(expect.split()) != " ".join(words.split()):
        raise ConflictError(f"segment {seg['id']} no longer has the selected words at that place (the project "
                            "changed under the page); nothing was coded. Reload the page and select them again.")
    lead = len(words) - len(words.lstrip())
    start, end = start + lead, end - (len(words) - len(words.rstrip()))
    if start >= end:
        raise QualcodeError("the selection holds no words; select the words to code.")
    with store.act("code", actor=coder, details={"code": code["key"], "segments": [seg["id"]],
                                                  "span": [start, end]}) as act:
        new = store.add_coding(seg["id"], code["id"], coder, "manual", span=(start, end))
        act.summary = f"{code['key']} on {1 if new else 0} fragment(s) by {coder}"
        if not new:
            raise ConflictError(f"{coder} already coded these words of segment {seg['id']} with {code['key']}.")
    return {"code": code["key"], "segment_id": seg["id"], "start": start, "end": end, "new": new}


@serialised
def remove_coding(store, coding_id: int, *, coder: str) -> dict:
    """Remove one coding (by its id, of any coder) in one act by ``coder``: rejecting a rule's match
    or taking back one's own. Returns what was removed."""
    c = store.coding(int(coding_id))
    with store.act("uncode", actor=coder, details={"code": c["code"], "segments": [c["segment_id"]],
                                                    "coder": c["coder"], "coding": c["id"]}) as act:
        store.remove_codings([c["id"]], by="coding")
        act.summary = f"{c['code']} removed from 1 segment(s) for {c['coder']}"
    return {"code": c["code"], "segment_id": c["segment_id"], "coder": c["coder"]}


@serialised
def confirm_coding(store, coding_id: int, *, coder: str) -> dict:
    """Confirm another coder's coding (a rule's match, an imported coding) as ``coder``'s own: the same
    code on the same words, origin manual, in one act."""
    c = store.coding(int(coding_id))
    if c["coder"] == coder:
        raise ConflictError(f"coding #{c['id']} ({c['code']}) is already yours ({coder}).")
    span = (c["start"], c["end"]) if c["fragment"] else None
    with store.act("code", actor=coder, details={"code": c["code"], "segments": [c["segment_id"]],
                                                  "confirms": c["id"]}) as act:
        new = store.add_coding(c["segment_id"], c["code_id"], coder, "manual", span=span)
        if not new:
            raise ConflictError(f"{coder} already has {c['code']} on these words of segment {c['segment_id']}.")
        act.summary = f"{c['code']} on 1 {'fragment' if span else 'segment'}(s) by {coder} (confirmed {c['coder']})"
    return {"code": c["code"], "segment_id": c["segment_id"]}


@serialised
def decide_suggestion(store, suggestion_id: int, accept: bool, *, coder: str) -> dict:
    """Accept a suggestion (a coding by ``coder``, origin 'suggested') or reject it, in one act, like a
    yes or no in the suggestions sheet's accept column."""
    rows = store.suggestions(ids=[int(suggestion_id)])
    if not rows:
        raise NotFoundError(f"suggestion #{suggestion_id} is not in the project (any more: a later 'qualcode "
                            "suggest' replaces open suggestions); reload the page.")
    s = rows[0]
    if s["status"] != "open":
        raise ConflictError(f"suggestion #{s['id']} ({s['code']} on segment {s['segment_id']}) was already "
                            f"{s['status']}; reload the page.")
    with store.act("suggest accept", actor=coder, details={"suggestion": s["id"], "accept": bool(accept)}) as act:
        added = bool(accept) and store.add_coding(s["segment_id"], s["code_id"], coder, "suggested")
        store.set_suggestion_status(s["id"], "accepted" if accept else "rejected")
        act.summary = f"{1 if accept else 0} accepted, {0 if accept else 1} rejected"
        act.details.update(accepted=int(bool(accept)), rejected=int(not accept))
    return {"code": s["code"], "segment_id": s["segment_id"], "accepted": bool(accept), "added": added}
