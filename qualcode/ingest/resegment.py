"""Re-cutting a source's segments after ingest: ``qualcode resegment --split sentences|paragraphs|turns``.

The speaker turns are read back from the segments (a turn is its segments' span), and each is cut
again as ingest would (:func:`~qualcode.ingest.segment_spans`). Every coding keeps its exact span
of the source's text: it moves to the new segment where its span starts; a span equal to its new
segment is a whole-segment coding, any other a fragment (a coding of a whole turn, once the turn is
cut into sentences, is a fragment running over its sentences, within the turn). Memos on segments
move to the new segment holding the start of their old segment's text. Open suggestions on the old
segments are dropped (run 'qualcode suggest' again).

Segments are not in the audit log, so the act cannot be undone; the project is backed up first.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field

from ..errors import InputError, unknown
from ..store.core import serialised

SPLIT_NAMES = {"turns": "turn", "turn": "turn", "sentences": "sentences", "paragraphs": "paragraphs"}


@dataclass
class ResegmentReport:
    split: str
    sources: list[tuple[str, int, int]] = field(default_factory=list)   # name, segments before, after
    codings: int = 0
    fragments: int = 0
    split_codings: int = 0       # extra codings made where a span now runs over several segments
    merged: int = 0              # codings joined to the one beside them in the same new segment
    memos: int = 0
    backup: str = ""

    def lines(self) -> list[str]:
        out = [f"{name}: {before} -> {after} segments" for name, before, after in self.sources]
        out.append(f"cut into {self.split}: {self.codings} coding(s) kept on their words "
                   f"({self.fragments} now on part of a segment), {self.memos} segment memo(s) moved")
        if self.split_codings:
            out.append(f"{self.split_codings} coding(s) added where a coded span now runs over several segments "
                       "(one per segment, on the same words)")
        if self.merged:
            out.append(f"{self.merged} coding(s) joined with the coding beside them in the same segment")
        if self.backup:
            out.append(f"backup of the project before: {self.backup}")
        return out


@serialised
def resegment(store, split: str, *, source: str | None = None, group: str | None = None) -> ResegmentReport:
    """Re-cut the segments of every source (or one ``source`` name, or one ``group``) by ``split``
    ('turns', 'sentences' or 'paragraphs'), keeping every coding on its span. One act."""
    from . import segment_spans
    from ..text.nlp import count_words

    if split not in SPLIT_NAMES:
        raise InputError(f"unknown split '{split}'; use turns, sentences or paragraphs.")
    how = SPLIT_NAMES[split]
    sources = store.sources()
    if source is not None:
        sources = [s for s in sources if s["name"] == source]
        if not sources:
            raise unknown("source", source, [s["name"] for s in store.sources()])
    if group is not None:
        if group not in store.groups():
            raise unknown("group", group, store.groups())
        sources = [s for s in sources if s["group_label"] == group]
    if not sources:
        raise InputError("the project has no sources to re-cut; run 'qualcode ingest' first.")
    report = ResegmentReport(split=split if split != "turn" else "turns")
    report.backup = str(store.backup("before-resegment"))
    language = store.language
    with store.act("resegment", undoable=False, capture=False,
                   details={"split": report.split, "source": source, "group": group}) as act:
        memos = [m for m in store.memos("segment")]
        for src in sources:
            text = store.source(src["id"])["text"]
            segs, codings = store.resegment_rows(src["id"])
            if not segs:
                continue
            turns: list[dict] = []   # consecutive segments of one turn and speaker
            for s in segs:
                if turns and turns[-1]["turn"] == s["turn"] and turns[-1]["speaker"] == s["speaker"]:
                    turns[-1]["end"] = max(turns[-1]["end"], s["end"])
                else:
                    turns.append(dict(s))
            rows = []
            for t in turns:
                for a, b in segment_spans(text, t["start"], t["end"], how, language):
                    rows.append({"ordinal": len(rows) + 1, "turn": t["turn"], "speaker": t["speaker"],
                                 "role": t["role"], "participant_id": t["participant_id"], "start": a, "end": b,
                                 "timestamp": t["timestamp"], "text": text[a:b], "n_words": count_words(text[a:b])})
            moves, extra, gone, memo_moves = _place(text, segs, codings, memos, rows)
            store.swap_segments(src["id"], rows, moves, memo_moves, extra=extra, gone=gone)
            report.codings += len(codings)
            report.fragments += sum(1 for m in moves if m[2] is not None) + sum(1 for e in extra if e[2] is not None)
            report.split_codings += len(extra)
            report.merged += len(gone)
            report.memos += len(memo_moves)
            report.sources.append((src["name"], len(segs), len(rows)))
        act.summary = (f"re-cut {len(report.sources)} source(s) into {report.split}: "
                       f"{report.codings} codings kept on their words")
    return report


def _place(text: str, segs: list[dict], codings: list[dict], memos: list[dict], rows: list[dict]):
    """Where each coding and memo goes among the new segments ``rows`` of one source.

    A coding's span is cut at the new segments it overlaps (the whitespace between them is
    nobody's): the piece in its first segment keeps the coding (its id and guid), each further
    piece is a new coding. Pieces of one code and coder that touch within one new segment (only
    whitespace between them) are joined, so cutting into sentences and back into turns gives the
    codings back. Returns (moves: (coding id, segment index, start, end), extra: (template coding
    id, segment index, start, end), gone: coding ids joined into another, memo moves)."""
    by_id = {s["id"]: s for s in segs}
    starts = [r["start"] for r in rows]

    def pieces(a: int, b: int) -> list[tuple[int, int, int]]:
        out = []
        i = max(bisect_right(starts, a) - 1, 0)
        while i < len(rows) and rows[i]["start"] < b:
            lo, hi = max(a, rows[i]["start"]), min(b, rows[i]["end"])
            if hi > lo and text[lo:hi].strip():
                out.append((i, lo, hi))
            i += 1
        return out

    placed: dict[tuple[int, int, str], list[list]] = {}   # (segment index, code, coder) -> [id, a, b, extra?]
    for c in codings:
        parts = pieces(c["start"], c["end"]) or [(max(bisect_right(starts, c["start"]) - 1, 0),
                                                  c["start"], c["end"])]
        for k, (i, lo, hi) in enumerate(parts):
            placed.setdefault((i, c["code_id"], c["coder"]), []).append([c["id"], lo, hi, k > 0])
    moves, extra, gone = [], [], []
    for (i, _code, _coder), items in placed.items():
        items.sort(key=lambda x: (x[1], x[2]))
        joined = [items[0]]
        for it in items[1:]:
            last = joined[-1]
            if it[1] <= last[2] or not text[last[2]:it[1]].strip():
                last[2] = max(last[2], it[2])
                if not it[3]:
                    gone.append(it[0])
                if last[3] and not it[3]:   # keep a real coding rather than a piece
                    last[0], last[3] = it[0], False
                    gone.remove(it[0])
            else:
                joined.append(it)
        for cid, lo, hi, is_piece in joined:
            whole = (lo, hi) == (rows[i]["start"], rows[i]["end"])
            (extra if is_piece else moves).append((cid, i, None if whole else lo, None if whole else hi))
    kept = {m[0] for m in moves}
    gone = [g for g in gone if g not in kept]
    memo_moves = [(m["id"], pieces(by_id[m["target_id"]]["start"], by_id[m["target_id"]]["end"])[0][0]
                   if pieces(by_id[m["target_id"]]["start"], by_id[m["target_id"]]["end"]) else
                   max(bisect_right(starts, by_id[m["target_id"]]["start"]) - 1, 0))
                  for m in memos if m["target_id"] in by_id]
    return moves, extra, gone, memo_moves
