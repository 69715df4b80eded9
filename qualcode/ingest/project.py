"""Project-level library functions behind the step-1 commands."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

from ..store import Store


@dataclass(frozen=True)
class NewProject:
    """A project :func:`init_project` created: its file, language and, when a codebook was loaded,
    :func:`~qualcode.codebook.yamlfile.apply_codebook`'s report."""

    path: str
    language: str
    codebook: Any = None


def init_project(path: str, *, codebook: str | None = None, language: str | None = None, name: str = "",
                 force: bool = False) -> NewProject:
    """Create a project file, optionally loading a codebook (validated before anything is created)."""
    cb = None
    if codebook:
        from ..codebook.yamlfile import load_codebook

        cb = load_codebook(codebook)  # validated before anything is created
        language = language or cb.language
    store = Store.create(path, language=language or "nl", name=name, force=force)
    report = None
    try:
        if cb is not None:
            from ..codebook.yamlfile import apply_codebook

            report = apply_codebook(store, cb, source=str(codebook))
    except BaseException:
        store.discard()
        raise
    created = NewProject(str(path), store.language, report)
    store.close()
    return created


def list_segments(store: Store, *, group: str | None = None, participant: str | None = None,
                  source: str | None = None, moderator: bool = True, show_codes: bool = False,
                  limit: int | None = None, code: str | None = None, theme: str | None = None) -> Iterator[dict]:
    """Segments in transcript order (the rows of ``store.segments``); with ``show_codes`` each also
    has ``codes`` (the keys of the codes on it) and ``fragments`` (its codings on part of the
    segment: dicts with ``code`` and ``text``, its words with runs of white space made one space, in
    order, without repeats). ``code`` / ``theme`` (key or name): only segments coded with that code,
    or with any code of that theme."""
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
    ids = None
    if code or theme:
        ids = store.coded_segment_ids(code_id=store.code(code)["id"] if code else None,
                                      theme_id=store.theme(theme)["id"] if theme else None)
    for seg in store.segments(group=group, participant=participant, source=source, ids=ids,
                              role=None if moderator and not participant else "participant", limit=limit):
        if show_codes:
            seen: list[dict] = []
            for f in fragments.get(seg["id"], ()):
                one = {"code": f["code"], "text": " ".join(f["text"].split())}
                if one not in seen:
                    seen.append(one)
            seg = dict(seg, codes=list(codes.get(seg["id"], [])), fragments=seen)
        yield seg
