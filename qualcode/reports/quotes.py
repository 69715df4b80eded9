"""Choosing representative quotes for a theme, deterministically.

A theme's participant fragments are turned into TF-IDF vectors over their
content lemmas (:mod:`qualcode.text.tfidf`, numpy only); the most *typical* fragment is the one closest (cosine) to the
theme's centroid. Quotes are picked in order of typicality, preferring
fragments of a reasonable length (``min_words``..``max_words``) and a
participant not quoted yet, so a handful of quotes spread over the voices.
Ties are broken by segment id, so the same project always gives the same quotes.
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
        known = None if lemmas is None else lemmas.get(s["id"])
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
