"""Choosing representative quotes for a theme, deterministically.

A theme's participant fragments are turned into TF-IDF vectors over their
content lemmas (:mod:`qualcode.text.tfidf`, numpy only); the most *typical* fragment is the one closest (cosine) to the
theme's centroid. Quotes are picked in order of typicality, preferring
fragments of a reasonable length (``min_words``..``max_words``) and a
participant not quoted yet, so a handful of quotes spread over the voices.
Ties are broken by segment id, so the same project always gives the same quotes.

:func:`report_quotes` chooses a whole report's quotes: each turn is quoted once per report;
per theme the researcher's pinned quotes come first, then quotes that cover the theme's codes one
by one, spread over focus groups and participants, most typical first. A coded fragment is quoted
as marked; a long turn coded whole is shortened at sentence boundaries, with "…" where it was cut.
Pins live in the project (``qualcode quote pin THEME SEGMENT``; see :func:`pin_quote`).
"""

from __future__ import annotations


def rank_by_typicality(segments: list[dict], language: str = "nl", *,
                       docs_cache: dict | None = None, lemmas: dict | None = None) -> list[tuple[dict, float]]:
    """Segments (dicts with 'id' and 'text') with their similarity to the centroid, most typical first.

    ``docs_cache`` (optional, segment id -> its content lemmas as one string) is read and filled, so
    ranking several themes that share segments lemmatises each segment once. ``lemmas`` (optional,
    segment id -> content lemmas, e.g. the project's cached lemmas from
    :func:`qualcode.text.lemmas.load`) is used instead of lemmatising the segments it holds."""
    if not segments:
        return []
    if len(segments) == 1:
        return [(segments[0], 1.0)]
    from ..text.nlp import content_lemmas
    from ..text.tfidf import SKLEARN_TOKEN, tfidf

    def doc(s: dict) -> str:
        # the cache holds whole segments: a theme fragment that is a whole segment is found by its segment id
        key = s["id"] if "segment_id" not in s else None if s.get("fragment") else s["segment_id"]
        known = None if lemmas is None or key is None else lemmas.get(key)
        return " ".join(known if known is not None else content_lemmas(s["text"], language)) or s["text"].lower()

    if docs_cache is None:
        docs = [doc(s) for s in segments]
    else:
        docs = []
        for s in segments:
            d = docs_cache.get(s["id"])
            if d is None:
                d = docs_cache[s["id"]] = doc(s)
            docs.append(d)
    try:  # what TfidfVectorizer(token_pattern=r"(?u)\b\w+\b", sublinear_tf=True) gives, in numpy
        X = tfidf([SKLEARN_TOKEN.findall(d.lower()) for d in docs], sublinear_tf=True)
    except ValueError:  # empty vocabulary
        return [(s, 0.0) for s in sorted(segments, key=lambda s: s["id"])]
    centroid = X.column_sums() / X.n_rows
    norm = (centroid ** 2).sum() ** 0.5 or 1.0
    sims = X.dot(centroid) / norm  # rows of X are L2-normalised already
    scored = [(s, float(sims[i])) for i, s in enumerate(segments)]
    scored.sort(key=lambda p: (-round(p[1], 9), p[0]["id"]))
    return scored


def representative_quotes(segments: list[dict], n: int = 3, *, language: str = "nl", min_words: int = 8,
                          max_words: int = 90) -> list[dict]:
    """Up to ``n`` typical quotes from different participants, each with a 'typicality' score."""
    return pick_quotes(rank_by_typicality(segments, language), n, min_words=min_words, max_words=max_words)


def pick_quotes(ranked: list[tuple[dict, float]], n: int = 3, *, min_words: int = 8,
                max_words: int = 90) -> list[dict]:
    """Up to ``n`` quotes from a typicality ranking (see :func:`representative_quotes`)."""
    def words(s):
        return s.get("n_words") or len(s["text"].split())

    in_bounds = [p for p in ranked if min_words <= words(p[0]) <= max_words]
    pool = in_bounds or ranked
    chosen, seen = [], set()
    for prefer_new in (True, False):
        for s, score in pool:
            if len(chosen) >= n:
                break
            if any(c["id"] == s["id"] for c in chosen):
                continue
            who = s.get("key")
            if prefer_new and who in seen:
                continue
            chosen.append({**s, "typicality": score})
            seen.add(who)
    return chosen


MAX_QUOTE_WORDS = 50   # a turn coded whole and longer than this is shortened at sentence boundaries
PINS_KEY = "quote_pins"  # meta key: JSON list of {"theme": key, "segment": guid}


def choose_quotes(ranked: list[tuple[dict, float]], n: int = 3, *, pinned: set | frozenset = frozenset(),
                  used: set | None = None, min_words: int = 8, max_words: int = 90) -> list[dict]:
    """Up to ``n`` quotes from a typicality ranking of a theme's fragments (each a dict with 'id',
    'segment_id', 'key', 'group', 'codes'): first those whose segment id is in ``pinned`` (every pinned
    one, even past ``n``), then one at a time the fragment that adds a code of the theme not yet quoted,
    then a focus group, then a participant not yet quoted, the most typical first. Fragments of
    reasonable length (``min_words``..``max_words``) are preferred. A segment in ``used`` (quoted under
    an earlier theme) is never chosen again; chosen segments are added to ``used``."""
    used = set() if used is None else used
    pool = [(s, score) for s, score in ranked if s["segment_id"] not in used]
    chosen: list[dict] = []
    seen_segments: set = set()
    for s, score in pool:
        if s["segment_id"] in pinned and s["segment_id"] not in seen_segments:
            chosen.append({**s, "typicality": score, "pinned": True})
            seen_segments.add(s["segment_id"])

    def words(s):
        return s.get("n_words") or len(s["text"].split())

    rest = [(s, score) for s, score in pool if s["segment_id"] not in seen_segments]
    while len(chosen) < n and rest:
        codes = {c for q in chosen for c in q.get("codes", ())}
        groups = {q.get("group") for q in chosen}
        people = {q.get("key") for q in chosen}
        best_i, best = None, None
        for i, (s, score) in enumerate(rest):
            rank = (not (min_words <= words(s) <= max_words), not (set(s.get("codes", ())) - codes),
                    s.get("group") in groups, s.get("key") in people, i)
            if best is None or rank < best:
                best_i, best = i, rank
        s, score = rest.pop(best_i)
        chosen.append({**s, "typicality": score, "pinned": False})
        rest = [(r, x) for r, x in rest if r["segment_id"] != s["segment_id"]]
    used.update(q["segment_id"] for q in chosen)
    return chosen


def shorten(text: str, fragment: bool, max_words: int = MAX_QUOTE_WORDS) -> str:
    """A quote's text on one line: a marked fragment as it is; a whole turn longer than ``max_words``
    cut after the last whole sentence that fits (or at a word boundary when even the first sentence is
    longer), with " …" where words were left out."""
    t = " ".join(text.split())
    if fragment or len(t.split()) <= max_words:
        return t
    import re

    sentences = re.findall(r"[^.!?…]+(?:[.!?…]+[\"”’)]*|$)\s*", t)
    out, n = [], 0
    for sent in sentences:
        k = len(sent.split())
        if out and n + k > max_words:
            break
        if not out and k > max_words:
            return " ".join(sent.split()[:max_words]) + " …"
        out.append(sent.strip())
        n += k
    kept = " ".join(out)
    return kept if kept.endswith(("…", "...")) else kept + " …"


def report_quotes(store, themes: list[dict], fragments: dict[int, list[dict]] | None, n: int = 3, *,
                  ranked=None, docs_cache: dict | None = None, lemmas: dict | None = None) -> dict[int, list[dict]]:
    """theme id -> its chosen quotes (see :func:`choose_quotes`) for ``themes`` in report order, given
    each theme's fragments (:meth:`Store.theme_fragments`) or ``ranked`` (theme id -> those fragments
    ranked by :func:`rank_by_typicality`, text optional). A turn is quoted once in the report; a turn
    with a fragment coded under a theme is quoted by its fragment there, never whole as well. Each
    quote's 'quote' holds its text ready to print (see :func:`shorten`)."""
    pins = pinned_segments(store)
    used: set = set()
    out = {}
    for t in themes:
        if ranked is not None:
            ranking = ranked(t["id"])
        else:
            ranking = rank_by_typicality(fragments[t["id"]], store.language, docs_cache=docs_cache, lemmas=lemmas)
        trimmed = {f["segment_id"] for f, _ in ranking if f["fragment"]}
        ranking = [(f, x) for f, x in ranking if f["fragment"] or f["segment_id"] not in trimmed]
        picked = choose_quotes(ranking, n, pinned=pins.get(t["key"], set()), used=used)
        missing = [q["id"] for q in picked if "text" not in q]
        texts = store.unit_texts(missing) if missing else {}
        for q in picked:
            if "text" not in q:
                q["text"] = texts[tuple(q["id"])]
            q["quote"] = shorten(q["text"], q["fragment"])
        out[t["id"]] = picked
    return out


# ------------------------------------------------------------------ pins
def _pins(store) -> list[dict]:
    import json

    try:
        pins = json.loads(store.meta(PINS_KEY) or "[]")
    except ValueError:
        return []
    return [p for p in pins if isinstance(p, dict) and p.get("theme") and p.get("segment")]


def pinned_segments(store) -> dict[str, set[int]]:
    """theme key -> ids of the segments pinned as its quotes (pins whose segment is gone are left out)."""
    pins = _pins(store)
    ids = store.segment_ids_by_guid([p["segment"] for p in pins])
    out: dict[str, set[int]] = {}
    for p in pins:
        if p["segment"] in ids:
            out.setdefault(p["theme"], set()).add(ids[p["segment"]])
    return out


def pin_quote(store, theme: str, segment_id: int, *, pin: bool = True, actor: str | None = None) -> dict:
    """Pin (or, with ``pin=False``, unpin) segment ``segment_id`` as a quote of ``theme`` (its key or
    name): pinned quotes come first in the report, the workbook and ``qualcode quotes``. One audited,
    undoable act. The segment must be a participant's turn coded under the theme. Returns the pin."""
    import json

    from ..errors import ConflictError, NotFoundError

    t = store.theme(theme)
    frags = [f for f in store.theme_fragments(t["id"]) if f["segment_id"] == int(segment_id)]
    guid = store.segment_guid(int(segment_id))
    if guid is None:
        raise NotFoundError(f"no segment #{segment_id}; see the ids with 'qualcode segments' or 'qualcode quotes'.")
    pins = _pins(store)
    pin_row = {"theme": t["key"], "segment": guid}
    there = pin_row in pins
    if pin:
        if not frags:
            raise ConflictError(f"segment #{segment_id} is not a participant's turn coded under theme "
                                f"'{t['key']}'; pin one of the fragments 'qualcode quotes --theme {t['key']}' lists.")
        if there:
            raise ConflictError(f"segment #{segment_id} is already pinned under theme '{t['key']}'.")
        pins.append(pin_row)
    else:
        if not there:
            raise NotFoundError(f"segment #{segment_id} is not pinned under theme '{t['key']}'.")
        pins.remove(pin_row)
    verb = "quote pin" if pin else "quote unpin"
    with store.act(verb, actor=actor, summary=f"#{segment_id} under {t['key']}",
                   details={"theme": t["key"], "segment_id": int(segment_id)}):
        store.set_meta(PINS_KEY, json.dumps(pins, ensure_ascii=False))
    return {"theme": t["key"], "segment_id": int(segment_id), "key": frags[0]["key"] if frags else ""}


def short_quote(text: str, limit: int = 160) -> str:
    """The text cut at a word boundary to at most ``limit`` characters, with '…' when cut."""
    t = " ".join(text.split())
    if len(t) <= limit:
        return t
    cut = t[:limit].rsplit(" ", 1)[0]
    return cut + " …"


def cite(text: str, key: str) -> str:
    """A quote ready to paste: “text” (F2 P2)."""
    return f"“{' '.join(text.split())}” ({key})"


def quote_listing(store, *, theme: str | None = None, n: int = 3, coders=None) -> dict:
    """The report's quotes as data (``qualcode quotes``): whose codings, and per theme (all, or the
    one named) its quotes with segment id, key, text and whether pinned. The same choice as the
    report's, so a turn quoted under an earlier theme is not offered again."""
    from ..coding.coders import resolve_coders
    from ..text.lemmas import load
    from ..reports.catalogues import catalogue

    whose = resolve_coders(store, coders)
    themes = store.themes()
    only = store.theme(theme)["id"] if theme else None
    fragments = {t["id"]: store.theme_fragments(t["id"], list(whose.coders)) for t in themes}
    chosen = report_quotes(store, themes, fragments, n, docs_cache={}, lemmas=load(store).content)
    return {"whose": whose.describe(catalogue(store.language)), "coders": list(whose.coders),
            "themes": [{"theme": t["key"], "name": t["name"],
                        "quotes": [{"segment_id": q["segment_id"], "key": q["key"], "text": q["quote"],
                                    "pinned": q["pinned"], "codes": q["codes"]} for q in chosen[t["id"]]]}
                       for t in themes if only is None or t["id"] == only]}
