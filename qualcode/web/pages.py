"""What each page of the web workspace shows, as plain data (the templates only lay it out).

Every function takes an open store and returns a dict for one template. They read; the acts that
change the project are in :mod:`qualcode.web.acts`.
"""

from __future__ import annotations

import re
from collections import defaultdict
from urllib.parse import quote

from ..errors import NotFoundError

_COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")
GREY = "#999999"


def safe_colour(value: str | None) -> str:
    """A colour fit for a style attribute: '#RRGGBB' as stored, anything else grey."""
    return value.upper() if isinstance(value, str) and _COLOUR.match(value) else GREY


def tint(colour: str, alpha: float) -> str:
    """'#RRGGBB' as rgba() with ``alpha``."""
    c = safe_colour(colour)
    return f"rgba({int(c[1:3], 16)}, {int(c[3:5], 16)}, {int(c[5:7], 16)}, {alpha})"


def clock(seconds: float | None) -> str:
    """12.5 -> '0:12', 3725 -> '1:02:05'; '' when unknown."""
    if seconds is None:
        return ""
    s = int(seconds)
    h, m, s = s // 3600, s // 60 % 60, s % 60
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def highlight_style(colours: list[str]) -> str:
    """The inline style of a piece of text coded with codes of these colours: the first as a tinted
    background, each further one as a stripe under the text, so overlaps stay visible."""
    if not colours:
        return ""
    style = f"background-color: {tint(colours[0], 0.32)};"
    if len(colours) > 1:
        shadows = ", ".join(f"inset 0 -{3 * i}px 0 {safe_colour(c)}" for i, c in enumerate(colours[1:], start=1))
        style += f" box-shadow: {shadows}; padding-bottom: {3 * (len(colours) - 1)}px;"
    return style


def bar_style(colours: list[str]) -> str:
    """The inline style of a turn coded as a whole: a bar in each code's colour down its left side."""
    seen = list(dict.fromkeys(safe_colour(c) for c in colours))
    if not seen:
        return ""
    shadows = ", ".join(f"inset {5 * i}px 0 0 {c}" for i, c in enumerate(reversed(seen), start=1))
    return f"box-shadow: {shadows}; padding-left: {5 * len(seen) + 8}px;"


def pieces(seg: dict, frags: list[dict]) -> list[dict]:
    """Cut a segment's text where fragment codings start and end. Each piece: o (its offset in the
    source's text), text, ids (the codings covering it) and style."""
    s0, s1, text = seg["start"], seg["end"], seg["text"]
    cuts = {s0, s1}
    for c in frags:
        cuts.add(min(max(c["start"], s0), s1))
        cuts.add(min(max(c["end"], s0), s1))
    bounds = sorted(cuts)
    out = []
    for a, b in zip(bounds, bounds[1:]):
        if a == b:
            continue
        over = [c for c in frags if c["start"] <= a and c["end"] >= b]
        out.append({"o": a, "text": text[a - s0:b - s0], "ids": [c["id"] for c in over],
                    "style": highlight_style([c["colour"] for c in over])})
    if not out:
        out.append({"o": s0, "text": text, "ids": [], "style": ""})
    return out


def code_choices(store) -> list[dict]:
    """The codes for the type-ahead: key, name, theme and colour, in codebook order."""
    return [{"key": c["key"], "name": c["name"], "theme": c["theme"] or "", "theme_name": c["theme_name"] or "",
             "colour": safe_colour(c["display_colour"])} for c in store.code_names()]


def read_page(store, source_ref, *, code: str | None = None, theme: str | None = None, coder: str | None = None,
              participant: str | None = None, me: str = "") -> dict:
    """One transcript: its turns with every coded fragment highlighted in its theme's colour, the
    whole-segment codes beside each turn, open suggestions and memos, a legend and the filters."""
    src = store.source(source_ref)
    segs = list(store.segments(source=src["name"]))
    codings = store.source_codings(src["id"])
    for c in codings:
        c["colour"] = safe_colour(c["colour"])
    shown = [c for c in codings if (not code or c["code"] == code) and (not theme or c["theme"] == theme)
             and (not coder or c["coder"] == coder)]
    filtering = bool(code or theme or coder)
    by_seg: dict[int, list[dict]] = defaultdict(list)
    for c in shown:
        by_seg[c["segment_id"]].append(c)
    suggestions: dict[int, list[dict]] = defaultdict(list)
    for s in store.source_suggestion_rows(src["id"]):
        suggestions[s["segment_id"]].append(s)
    memos: dict[int, list[dict]] = defaultdict(list)
    for m in store.source_segment_memos(src["id"]):
        memos[m["target_id"]].append(m)
    participants = sorted({s["key"] for s in segs if s["role"] == "participant"},
                          key=lambda k: [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", k)])
    turns, previous = [], None
    text = src["text"]
    for s in segs:
        if participant and s["role"] == "participant" and s["key"] != participant:
            previous = None
            continue
        mine = by_seg.get(s["id"], [])
        frags = [c for c in mine if c["fragment"]]
        turns.append({
            "id": s["id"], "key": s["key"], "role": s["role"], "speaker": s["speaker"],
            "time": clock(s["timestamp"]), "continues": previous == (s["turn"], s["speaker"]),
            "pieces": pieces(s, frags), "whole": [c for c in mine if not c["fragment"]],
            "bar": bar_style([c["colour"] for c in mine if not c["fragment"]]),
            "suggestions": suggestions.get(s["id"], []), "memos": memos.get(s["id"], []),
            "faded": filtering and not mine and s["role"] == "participant"})
        previous = (s["turn"], s["speaker"])
    legend: dict[str, dict] = {}
    for c in codings:
        t = legend.setdefault(c["theme"] or "", {"key": c["theme"] or "", "name": c["theme_name"] or "(no theme)",
                                                 "colour": c["colour"], "codes": {}})
        entry = t["codes"].setdefault(c["code"], {"key": c["code"], "name": c["code_name"], "colour": c["colour"],
                                                  "n": 0})
        entry["n"] += 1
    info = {c["id"]: {"code": c["code"], "name": c["code_name"], "theme": c["theme_name"] or "", "coder": c["coder"],
                      "origin": c["origin"], "colour": c["colour"], "segment": c["segment_id"],
                      "text": _short(text[c["start"]:c["end"]], 240), "fragment": c["fragment"],
                      "mine": c["coder"] == me}
            for c in codings}
    order = store.source_order()
    i = order.index(src["id"])
    return {"source": {k: src[k] for k in ("id", "name", "group_label")}, "turns": turns,
            "legend": [dict(t, codes=list(t["codes"].values())) for t in legend.values()],
            "codings": info, "codes": code_choices(store),
            "themes": store.theme_names(),
            "coders": store.coders_with_codings(), "participants": participants,
            "filters": {"code": code or "", "theme": theme or "", "coder": coder or "",
                        "participant": participant or ""},
            "n_codings": len(codings), "n_shown": len(shown),
            "prev": order[i - 1] if i > 0 else None,
            "next": order[i + 1] if i + 1 < len(order) else None}


def _short(text: str, limit: int) -> str:
    t = " ".join(text.split())
    return t if len(t) <= limit else t[:limit - 1] + "…"


def latest_act(store) -> dict:
    """The newest act: its number, command, actor and summary (number 0 before the first act)."""
    rows = store.history(1)
    if not rows:
        return {"act": 0, "command": "", "actor": "", "summary": ""}
    a = rows[0]
    return {"act": a["id"], "command": a["command"], "actor": a["actor"], "summary": a["summary"]}


def index_page(store) -> dict:
    """The project's transcripts with how much of each is coded, and the project's counts."""
    return {"sources": store.source_overview(), "counts": store.step_counts(), "as_of": store.as_of()}


def board_page(store) -> dict:
    """The theme board: a column per theme (in report order) with its codes and counts, and one for
    codes without a theme."""
    from ..themes.retheme import STATUSES

    codes = store.codes()
    columns = []
    for t in store.themes():
        mine = [c for c in codes if c["theme_id"] == t["id"]]
        columns.append({**t, "colour": safe_colour(t["colour"]), "codes": mine,
                        "n_codings": sum(c["n_codings"] for c in mine),
                        "memos": store.memos("theme", t["id"])})
    loose = [c for c in codes if c["theme_id"] is None]
    for c in codes:
        c["display_colour"] = safe_colour(c["display_colour"])
    return {"columns": columns, "loose": loose, "statuses": list(STATUSES), "codes": codes}


def fragments_page(store, *, theme: str | None = None, code: str | None = None) -> dict:
    """Every coded fragment of a theme or a code, in transcript order, with where to read it."""
    if not theme and not code:
        raise NotFoundError("say which theme or code to list the fragments of (?theme=KEY or ?code=KEY).")
    label = f"theme {store.theme(theme)['key']}" if theme else f"code {store.code(code)['key']}"
    rows = store.codings(theme=store.theme(theme)["key"] if theme else None,
                         code=store.code(code)["key"] if code else None)
    where = store.segment_sources(r["segment_id"] for r in rows)
    return {"label": label, "theme": theme or "", "code": code or "",
            "rows": [{**r, "colour": safe_colour(r["colour"]), "source_id": where.get(r["segment_id"]),
                      "text": " ".join(r["text"].split())} for r in rows]}


def history_page(store, limit: int = 60) -> dict:
    """The newest acts with which of them can be undone."""
    from ..themes.retheme import history_rows

    undoable = {a["id"] for a in store.undoable_acts()}
    return {"acts": [{**a, "can_undo": a["id"] in undoable} for a in history_rows(store, limit)]}


_SEGMENT_REF = re.compile(r"(?<!coding )#(\d+)\b")  # '#12 (F1 P3 ...' and 'segment #12', not 'coding #7'


def review_page(store) -> dict:
    """Step 4's checks (:func:`qualcode.themes.review.run_review`), each warning with links to what it names:
    the fragments of a theme or code, the segments it cites, the transcript of a group or participant."""
    from ..themes.review import run_review

    r = run_review(store, remember=False)
    themes = {t["key"] for t in store.themes()}
    codes = {c["key"] for c in store.codes()}
    first_source: dict[str, int] = {}
    for s in store.sources():
        first_source.setdefault(s["group_label"], s["id"])
    cited = {int(n) for w in r.warnings for n in _SEGMENT_REF.findall(f"{w.subject} {w.message}")}
    where = store.segment_sources(cited)
    warnings = []
    for w in r.warnings:
        links: list[tuple[str, str]] = []
        subject = w.subject
        kind, _, ref = subject.partition(" ")
        if subject in themes or (kind == "theme" and ref in themes):
            key = ref if kind == "theme" else subject
            links.append((f"fragments of theme {key}", f"/fragments?theme={key}"))
        elif kind == "code" and ref in codes:
            links.append((f"fragments of code {ref}", f"/fragments?code={ref}"))
        elif kind == "group" and ref in first_source:
            links.append((f"read group {ref}", f"/read/{first_source[ref]}"))
        elif ref and kind in first_source and not ref.startswith("("):
            links.append((f"read {subject}", f"/read/{first_source[kind]}?participant={quote(subject)}"))
        for n in dict.fromkeys(int(x) for x in _SEGMENT_REF.findall(f"{w.subject} {w.message}")):
            if n in where and len(links) < 12:
                links.append((f"segment #{n}", f"/read/{where[n]}#seg-{n}"))
        warnings.append({"check": w.check, "subject": w.subject, "message": w.message, "look": w.look,
                         "command": w.command, "links": links})
    checks = ["integrity", "coverage", "spread", "size", "coherence", "exclusive"]
    return {"warnings": warnings, "checks": checks,
            "counts": {c: sum(1 for w in warnings if w["check"] == c) for c in checks},
            "segments_checked": r.segments_checked, "sources_checked": r.sources_checked,
            "fragments_checked": r.fragments_checked}


def supervisor_page(store) -> dict:
    """Each theme as the supervisor reads it in the report: definition, key messages, spread,
    representative quotes (with links into the transcripts) and the supervisor's comments, from the
    analyst's codings as the report shows them (``whose`` says whose)."""
    from ..reports.report import build_report

    report = build_report(store, figures=False)
    where = store.segment_sources(q["segment_id"] for t in report.themes for q in t.quotes)
    themes = []
    for t in report.themes:
        themes.append({"key": t.key, "name": t.name, "colour": safe_colour(t.colour), "status": t.status,
                       "definition": t.definition, "key_messages": t.key_messages, "fragments": t.fragments,
                       "groups": t.groups, "participants": t.participants,
                       "codes": [{"key": c["key"], "name": c["name"]} for c in t.codes],
                       "quotes": [{**q, "source_id": where.get(q["segment_id"])} for q in t.quotes],
                       "comments": t.supervisor})
    return {"themes": themes, "whose": report.whose}
