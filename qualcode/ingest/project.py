"""Project-level library functions behind the step-1 commands."""

from __future__ import annotations

import textwrap
from typing import Iterator

from ..store import Store


def init_project(path: str, *, codebook: str | None = None, language: str | None = None, name: str = "",
                 force: bool = False) -> str:
    """Create a project file, optionally loading a codebook. Returns a summary line."""
    cb = None
    if codebook:
        from ..codebook.yamlfile import load_codebook

        cb = load_codebook(codebook)  # validated before anything is created
        language = language or cb.language
    store = Store.create(path, language=language or "nl", name=name, force=force)
    try:
        lines = [f"created {path} (language {store.language})"]
        if cb is not None:
            from ..codebook.yamlfile import apply_codebook

            report = apply_codebook(store, cb, source=str(codebook))
            lines.extend(report.lines())
    except BaseException:
        store.discard()
        raise
    store.close()
    lines.append("next: qualcode ingest FILES --participants participants.csv")
    return "\n".join(lines)


def format_timestamp(seconds: float | None) -> str:
    if seconds is None:
        return ""
    s = int(round(seconds))
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def list_segments(store: Store, *, group: str | None = None, participant: str | None = None,
                  source: str | None = None, moderator: bool = True, show_codes: bool = False,
                  limit: int | None = None, width: int = 100) -> Iterator[str]:
    """Readable lines for segments in transcript order: '#12 (F2 P2) 00:12:03' then the text."""
    from ..errors import NotFoundError, unknown

    from .parse import normalise_group, normalise_person

    if participant and " " in participant.strip():  # 'F2 P2'
        g, participant = participant.split(None, 1)
        g = normalise_group(g)
        if group and g != normalise_group(group):
            raise NotFoundError(f"--participant '{g} {participant}' is not in --group {group}.")
        group = g
    group = normalise_group(group) if group else None
    participant = normalise_person(participant) if participant else None
    if group and group not in store.groups():
        raise unknown("group", group, store.groups())
    if participant:
        people = store.participants(group)
        matches = [p["key"] for p in people if p["label"] == participant]
        if not matches:
            where = f" in {group}" if group else ""
            raise NotFoundError(f"no participant {participant}{where}. Participants: "
                                f"{', '.join(p['key'] for p in people) or 'none'}.")
        if len(matches) > 1:
            raise NotFoundError(f"{participant} is ambiguous ({', '.join(matches)}); add --group, e.g. "
                                f"--group {matches[0].split()[0]}, or write '{matches[0]}'.")
    codes = store.segment_codes() if show_codes else {}
    fragments: dict[int, list[dict]] = {}
    if show_codes:
        for f in store.fragment_codings():
            fragments.setdefault(f["segment_id"], []).append(f)
    n = 0
    for seg in store.segments(group=group, participant=participant, source=source,
                              role=None if moderator and not participant else "participant", limit=limit):
        n += 1
        head = f"#{seg['id']} ({seg['key']})"
        if seg["timestamp"] is not None:
            head += f" {format_timestamp(seg['timestamp'])}"
        if show_codes and codes.get(seg["id"]):
            head += "  [" + ", ".join(codes[seg["id"]]) + "]"
        yield head
        for para in seg["text"].split("\n"):
            yield textwrap.fill(para, width=width, initial_indent="    ", subsequent_indent="    ") or "    "
        seen: set = set()
        for f in fragments.get(seg["id"], ()):  # codings on part of the segment, under it
            line = f"{f['code']}: “{' '.join(f['text'].split())}”"
            if line not in seen:
                seen.add(line)
                yield textwrap.fill(line, width=width, initial_indent="      fragment ",
                                    subsequent_indent="        ")
    if n == 0:
        yield "no segments match."
