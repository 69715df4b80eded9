"""Lemmatise once: every segment's content lemmas and overview terms, stored in the project.

Computed at ingest (or by the first command that needs them), so overview, kwic, review,
report, workbook, discover, suggest and autocode read them instead of lemmatising the same texts again.

What is stored (see ``LEMMA_CACHE_SQL`` in :mod:`qualcode.store.schema`):

* per segment, ``content``: :func:`qualcode.text.nlp.content_lemmas` of its text (review's coherence,
  the typicality ranking of quotes, discover), and ``terms``: the lemmas the overview's distinctive
  terms count (spaCy tokens that are alphabetic, at least 3 long, not stop words);
* per word form of the texts and of the codebook, its lemma, which is taught to the lemmatiser
  (:meth:`qualcode.text.nlp.SimplemmaLemmatizer.seed`) so kwic, suggest and autocode do not load
  simplemma's table for words the project already knows;
* in the same spaCy pass, each segment's tokens and the codebook's rule words cut into tokens, for
  autocode (the token cache, :mod:`qualcode.text.tokens`).

Everything is stored under a version (:func:`cache_version`: simplemma and spaCy versions, language,
stop words, spaCy pipeline); a change of any of them recomputes the cache. A segment whose text changed
since (pseudonymisation, re-ingest) is recomputed on the next read. Results are the same with and
without the cache (tests/test_lemma_cache.py).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

FORMAT = 2  # bump when what is stored, or how it is computed, changes
CHUNK = 5000  # segments lemmatised and stored at a time


@dataclass
class ProjectLemmas:
    """The cached lemmas of a project's segments (segment id -> list of lemmas)."""

    version: str
    content: dict[int, list[str]] = field(default_factory=dict)
    terms: dict[int, list[str]] = field(default_factory=dict)
    computed: int = 0   # segments lemmatised by this call (0: everything came from the cache)


def text_hash(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=8).hexdigest()


def cache_version(store) -> str:
    from .nlp import lemmatizer_version

    return f"{lemmatizer_version(store.language)}; pipeline {store.meta('spacy_pipeline') or 'blank'}; format {FORMAT}"


def analyse(texts: list[str], language: str, pipeline_name: str | None = None
            ) -> tuple[list[list[str]], list[list[str]], dict[str, str]]:
    """Content lemmas and overview terms of each text, and the lemma of every word form met.

    ``terms`` follow the overview's definition: tokens of the spaCy pipeline (only its lemmatiser
    running) that are alphabetic and at least three characters long, whose form and lemma are not
    stop words; the lemma is lower-cased (the form when the lemma is empty)."""
    content, terms, forms, _ = analyse_tokens(texts, language, pipeline_name)
    return content, terms, forms


def analyse_tokens(texts: list[str], language: str, pipeline_name: str | None = None):
    """:func:`analyse`, and the texts' tokens for the token cache: (content, terms, forms, (encoded
    tokens per text, flags per token form)); see :mod:`qualcode.text.tokens`."""
    from . import tokens as token_cache
    from .nlp import WORD_RE, content_lemmas, lemmatizer, pipeline, stop_words

    stops = stop_words(language)
    lem = lemmatizer(language).lemma
    content = [content_lemmas(t, language) for t in texts]
    forms: dict[str, str] = {}
    for t in texts:
        for m in WORD_RE.finditer(t):
            w = m.group(0).lower()
            if w not in forms:
                forms[w] = lem(w)
    terms: list[list[str]] = []
    blobs: list[bytes] = []
    flags: dict[str, int] = {}
    if texts:
        from spacy.attrs import LEMMA, LENGTH, ORTH, SPACY

        nlp = pipeline(language, pipeline_name or None)
        vocab, strings = nlp.vocab, nlp.vocab.strings
        disable = [p for p in nlp.pipe_names if p not in ("qualcode_lemmatizer", "lemmatizer")]
        term_of: dict[tuple[int, int], str | None] = {}   # (form, lemma) hashes -> the overview term, or None

        def term(orth: int, lemma_hash: int) -> str | None:
            """A token's overview term, decided once per (form, lemma); also learns its lower-case form."""
            lex = vocab[orth]
            lower = lex.lower_
            if lower not in forms:  # spaCy's tokens too ("kon.", "voor-"): autocode lemmatises them
                forms[lower] = lem(lower)
            if not lex.is_alpha or len(lex.orth_) < 3:
                return None
            lemma = strings[lemma_hash].lower() if lemma_hash else ""
            lemma = lemma or lower
            return None if lower in stops or lemma in stops else lemma

        orths: set[int] = set()
        for text, doc in zip(texts, nlp.pipe(texts, batch_size=256, disable=disable)):
            # arrays, not a Token object per word: each distinct (form, lemma) is looked at once
            arr = doc.to_array([ORTH, LEMMA, LENGTH, SPACY])
            pairs = list(zip(arr[:, 0].tolist(), arr[:, 1].tolist())) if len(doc) else []
            for pair in set(pairs).difference(term_of):
                term_of[pair] = term(*pair)
            terms.append([t for t in map(term_of.__getitem__, pairs) if t is not None])
            blobs.append(token_cache.checked_encode(arr[:, 2], arr[:, 3], text) if len(doc)
                         else token_cache.checked_encode([], [], text))
            orths.update(o for o, _ in pairs)
        flags, lower_ok = token_cache.forms_ok(nlp, [strings[h] for h in orths])
        if not lower_ok:  # a language whose lower-case forms are not lower(): no stored tokens
            blobs = [token_cache.UNKNOWN] * len(texts)
    return content, terms, forms, (blobs, flags)


def load(store, *, write: bool = True, keep: bool = True) -> ProjectLemmas:
    """The project's cached lemmas, computing (and, with ``write``, storing) those of segments not
    cached yet under the current version or whose text changed. Also teaches the lemmatiser every
    cached word form. The result is kept on the store for the rest of the command (``keep=False``:
    only fill the cache, returning no lemmas)."""
    version = cache_version(store)
    held = getattr(store, "_lemma_cache", None)
    if held is not None and held[0] == _state(store, version):
        return held[1]
    from .nlp import lemmatizer

    language = store.language
    result = ProjectLemmas(version)
    cached = {sid: (h, c, t) for sid, h, c, t in store.cached_segment_lemmas(version)}
    tokens_of = store.cached_token_hashes(version)
    known = store.cached_lemma_forms(version)
    lemmatizer(language).seed(known)
    missing: list[tuple[int, str]] = []
    for sid, text in store.segment_id_texts():
        row = cached.get(sid)
        h = text_hash(text)
        if row is not None and row[0] == h and tokens_of.get(sid) == h:
            if keep:
                result.content[sid] = json.loads(row[1])
                result.terms[sid] = json.loads(row[2])
        else:
            missing.append((sid, text))
    for start in range(0, len(missing), CHUNK):  # a chunk at a time: a large ingest never holds it all twice
        chunk = missing[start:start + CHUNK]
        content, terms, forms, (blobs, flags) = analyse_tokens([t for _, t in chunk], language,
                                                               store.meta("spacy_pipeline") or None)
        rows, token_rows = [], []
        for (sid, text), c, t, b in zip(chunk, content, terms, blobs):
            if keep:
                result.content[sid], result.terms[sid] = c, t
            h = text_hash(text)
            rows.append((sid, h, json.dumps(c, ensure_ascii=False), json.dumps(t, ensure_ascii=False)))
            token_rows.append((sid, h, b))
        result.computed += len(rows)
        if write:
            store.save_segment_lemmas(version, rows, {f: lem for f, lem in forms.items() if f not in known})
            store.save_segment_tokens(version, token_rows, flags)
        known.update(forms)
    if write and missing:  # spaCy's pipeline is loaded now: cut the codebook's rule words into tokens too
        _learn_rule_tokens(store, version)
    if write:
        _learn_codebook_forms(store, version, known)
    if keep:
        store._lemma_cache = (_state(store, version), result)
    return result


def _learn_codebook_forms(store, version: str, known: dict[str, str]) -> None:
    """Add the words of the codebook (rule keywords, names, descriptions) to the cached forms, so that
    autocode and suggest, which lemmatise them, find them known too; a codebook change adds its new words."""
    from .nlp import WORD_RE, lemmatizer

    lem = lemmatizer(store.language)
    words = {w.lower() for text in store.codebook_texts_for_lemmas() for w in WORD_RE.findall(text)}
    new = {w: lem.lemma(w) for w in sorted(words) if w not in known}
    if new:
        store.save_segment_lemmas(version, [], new)


def rule_tokens(store, version: str, words, nlp=None) -> dict[str, list[str]] | None:
    """Rule word or phrase -> its token texts, for ``words`` (:func:`qualcode.coding.autocode.rule_words`):
    read from the token cache; those missing are cut by ``nlp`` and stored (None if some are missing and
    no ``nlp`` is given)."""
    words = set(words)
    held = {w: json.loads(j) for w, j in store.cached_rule_tokens(version).items() if w in words}
    missing = words - set(held)
    if missing:
        if nlp is None:
            return None
        from .tokens import rule_words_tokens

        new = rule_words_tokens(nlp, sorted(missing))
        store.save_segment_tokens(version, rule_tokens=new)
        held.update((w, json.loads(j)) for w, j in new.items())
        # their lower-case forms join the cached word forms, so matching never asks simplemma for them
        from .nlp import lemmatizer

        lem = lemmatizer(store.language)
        known = store.cached_lemma_forms(version)
        forms = {t.lower(): lem.lemma(t.lower()) for toks in held.values() for t in toks if t.lower() not in known}
        if forms:
            store.save_segment_lemmas(version, [], forms)
    return held


def _learn_rule_tokens(store, version: str) -> None:
    """Store the tokens of the codebook's rule words (cut by the pipeline already loaded for the texts)."""
    from ..coding.autocode import rule_words
    from .nlp import pipeline

    codes = store.codes()
    if any(c.get("rules") for c in codes):
        rule_tokens(store, version, rule_words(codes, store.language),
                    pipeline(store.language, store.meta("spacy_pipeline") or None))


def _state(store, version: str) -> tuple:
    """A value that changes whenever the project may have changed (through this connection or another)."""
    return version, store.conn.total_changes, store.conn.execute("PRAGMA data_version").fetchone()[0]


def refresh(store) -> int:
    """Fill the cache for every segment not cached yet (run after ingest); returns how many were lemmatised."""
    store._lemma_cache = None
    return load(store, keep=False).computed
