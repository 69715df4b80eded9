"""Who is compared on what in intercoder agreement: the coders, their shared units, the done marks.

The coders (checked), the segments every one of them has seen, and the transcripts a coder marked as
done. No numpy, so 'qualcode agreement done' and the disagreement sheet start fast; :mod:`.measures`
computes the statistics on these units."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Sequence

from ..errors import QualcodeError, unknown


@dataclass
class Units:
    """The segments every compared coder has seen, and what each coder applied there."""

    coders: list[str]
    segment_ids: list[int]
    applied: dict[str, dict[int, set[str]]]      # coder -> segment id -> code keys
    n_left_out: int                               # seen by some coders but not all
    n_candidates: int
    left_out_by_coder: dict[str, int] = field(default_factory=dict)   # not seen by this coder


def check_coders(store, coders: Iterable[str] | None) -> list[str]:
    """The coders to compare (default: every coder with codings), checked; raises clear errors."""
    with_codings = store.coders_with_codings()
    if coders is None:
        chosen = list(with_codings)
        if len(chosen) < 2:
            have = f"only {chosen[0]}" if chosen else "none"
            raise QualcodeError(
                f"agreement needs at least two coders with codings; this project has codings by {have}. "
                "Import a second coder's sheet first (qualcode sheet import FILE --coder NAME).")
        return chosen
    chosen = []
    for c in coders:
        c = c.strip()
        if c and c not in chosen:
            chosen.append(c)
    if len(chosen) < 2:
        raise QualcodeError(
            f"agreement needs at least two coders; give them as --coders NAME,NAME (coders with codings: "
            f"{', '.join(with_codings) or 'none'}).")
    known = set(store.coders())
    for c in chosen:
        if c not in known:
            raise unknown("coder", c, with_codings or store.coders())
        if c not in with_codings:
            raise QualcodeError(
                f"coder '{c}' has no codings yet; import their coding sheet first "
                f"(qualcode sheet import FILE --coder {c}).")
    return chosen


def collect_units(store, coders: Sequence[str], *, groups: Iterable[str] | None = None,
                  include_moderator: bool = False) -> Units:
    """Units for the given coders: segments each of them coded or whose transcript they marked done."""
    if groups is not None:
        groups = list(groups)
        known = store.groups()
        for g in groups:
            if g not in known:
                raise unknown("focus group", g, known)
    roles = None if include_moderator else ("participant",)
    candidates = store.agreement_segments(groups=groups, roles=roles)
    applied: dict[str, dict[int, set[str]]] = {c: {} for c in coders}
    for sid, key, coder in store.coder_codings(coders):
        applied[coder].setdefault(sid, set()).add(key)
    done = {c: store.done_sources(c) for c in coders}
    kept, left_out = [], 0
    not_seen = {c: 0 for c in coders}
    for sid, src in candidates:
        seen = [sid in applied[c] or src in done[c] for c in coders]
        if all(seen):
            kept.append(sid)
        elif any(seen):
            left_out += 1
            for c, s in zip(coders, seen):
                not_seen[c] += not s
    if not kept:
        where = f" in {', '.join(groups)}" if groups else ""
        raise QualcodeError(
            f"coders {', '.join(coders)} have no segments in common{where}: a segment counts when every coder "
            "coded it, or when they marked its transcript as done (qualcode agreement done --coder NAME "
            "--source FILE).")
    return Units(list(coders), kept, applied, left_out, len(candidates), not_seen)


# ------------------------------------------------------------ done marks
def mark_done(store, coder: str, sources: Iterable[str], *, undo: bool = False) -> int:
    """Mark transcripts as fully coded by a coder (or remove the marks), as one audited act.

    Segments of a done transcript that the coder left uncoded count as 'not applied'."""
    names = list(sources)
    known = store.sources()
    ids = []
    for name in names:
        match = [s["id"] for s in known if s["name"] == name] or [s["id"] for s in known
                                                                  if s["group_label"] == name]
        if not match:
            raise unknown("transcript or focus group", name, [s["name"] for s in known] + store.groups())
        ids.extend(match)
    verb = "unmarked" if undo else "marked"
    with store.act("agreement done", summary=f"{verb} {len(ids)} transcripts as done for {coder}",
                   details={"coder": coder, "sources": names, "undo": undo}):
        return store.unmark_done(coder, ids) if undo else store.mark_done(coder, ids)
