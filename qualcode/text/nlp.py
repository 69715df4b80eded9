"""spaCy pipelines, built lazily: blank ``nl``/``en`` with a sentencizer and a simplemma lemmatizer.

Why simplemma: spaCy's blank Dutch pipeline has no usable lemma table
(``spacy.blank("nl")`` + the lookup lemmatizer needs ``spacy-lookups-data``
and even then leaves most inflections unchanged, e.g. "werkte"), while
simplemma maps werkte/gewerkt -> werken, sollicitaties -> sollicitatie,
gingen -> gaan from a small bundled table at millions of words a second.
A user with a trained spaCy pipeline installed can name it in the codebook
(``spacy_pipeline: nl_core_news_sm``); it is never required.
"""

from __future__ import annotations

import re
from functools import lru_cache

from ..errors import QualcodeError

BLANK_MAX_LENGTH = 100_000_000  # characters the blank pipeline takes in one text (spaCy's default: 1,000,000)
WORD_RE = re.compile(r"\w+(?:[-'’]\w+)*", re.UNICODE)

# Fillers of spoken Flemish/Dutch and English that tell nothing about content.
FILLERS = {
    "nl": {"euh", "eh", "uh", "ehm", "uhm", "allez", "awel", "bon", "he", "hè", "hé", "ja", "nee", "neen", "mm",
           "hm", "mm-hm", "amai", "zo", "nu", "wel", "ge", "gij", "uwe", "da", "'k", "k", "nen", "ne", "goe",
           "efkes", "seffens", "wa", "nie", "enfin", "ok", "oké", "okay", "lacht", "gelach", "onverstaanbaar",
           "elkaar", "door", "stilte", "dus", "eigenlijk", "gewoon", "echt", "toch", "misschien", "natuurlijk",
           "zeggen", "weten", "vinden", "denken", "gaan", "komen", "moeten", "kunnen", "willen", "zullen",
           "hebben", "zijn", "worden", "doen", "maken", "krijgen", "ding", "iets", "iemand", "mens", "keer"},
    "en": {"um", "uh", "erm", "er", "like", "yeah", "yes", "no", "okay", "ok", "mm", "hm", "mean", "know",
           "really", "just", "think", "kind", "sort", "thing", "things", "lot", "bit", "laughs", "get", "got",
           "go", "going", "say", "said", "well", "actually", "would", "could", "one"},
}


def count_words(text: str) -> int:
    return len(WORD_RE.findall(text))


def count_words_pieced(text: str, pieces) -> int:
    """``count_words(text)``, reusing the counts already known for pieces of it.

    ``pieces`` are ``(start, end, n_words)`` with ``n_words == count_words(text[start:end])``.
    The words of a text are those of its pieces plus those of the gaps between them whenever no
    piece edge falls inside a word; an edge next to whitespace never does, as a word holds no
    whitespace. When pieces overlap or an edge is not next to whitespace, the whole text is
    counted instead, so the answer is always the same as ``count_words(text)``."""
    n = len(text)
    total = pos = 0
    gaps = []
    for start, end, words in sorted(pieces):
        if start < pos or not (_edge_ok(text, start, n) and _edge_ok(text, end, n)):
            return count_words(text)
        gaps.append(text[pos:start])
        total += words
        pos = end
    gaps.append(text[pos:])
    return total + count_words(" ".join(gaps))     # no word runs across the spaces put between gaps


def _edge_ok(text: str, p: int, n: int) -> bool:
    return p <= 0 or p >= n or text[p - 1].isspace() or text[p].isspace()


class SimplemmaLemmatizer:
    """A spaCy pipeline component that sets ``token.lemma_`` with simplemma."""

    def __init__(self, lang: str):
        self.lang = lang
        self.cache: dict[str, str] = {}
        self._hash_cache: dict[int, int] = {}  # lower-case form hash -> lemma hash, for _hash_strings
        self._hash_strings = None
        self._loaded = False
        self._lemmatize = None

    def _load(self) -> None:
        """Import simplemma and load its table for the language on the first word not already known
        (a project's cached lemmas usually know every word, so most commands never load it)."""
        self._loaded = True
        try:
            import simplemma
            simplemma.lemmatize("test", lang=self.lang)
            self._lemmatize = simplemma.lemmatize
        except Exception:  # language simplemma does not know: lower-case forms
            self._lemmatize = None

    def seed(self, lemmas: dict[str, str]) -> None:
        """Teach the lemmatiser forms whose lemma is already known (lower-case form -> lemma), e.g. from
        the project's lemma cache; they are then never looked up in simplemma."""
        room = 500_000 - len(self.cache)
        if room > 0:
            self.cache.update(lemmas if len(lemmas) <= room else dict(list(lemmas.items())[:room]))

    def lemma(self, lower: str) -> str:
        lem = self.cache.get(lower)
        if lem is None:
            if lower[:1].isalpha():
                if not self._loaded:
                    self._load()
                lem = self._lemmatize(lower, lang=self.lang).lower() if self._lemmatize is not None else lower
            else:
                lem = lower
            if len(self.cache) < 500_000:
                self.cache[lower] = lem
        return lem

    def __call__(self, doc):
        self._set_lemmas([doc])
        return doc

    def pipe(self, docs, batch_size: int = 256):
        """spaCy's batched entry point: lemmas for a whole batch at once."""
        batch = []
        for doc in docs:
            batch.append(doc)
            if len(batch) >= batch_size:
                self._set_lemmas(batch)
                yield from batch
                batch = []
        if batch:
            self._set_lemmas(batch)
            yield from batch

    def _set_lemmas(self, docs) -> None:
        # Array in, array out: each distinct lower-case form of the batch is looked up once
        # (hash -> lemma hash), without creating a Token object per word.
        import numpy as np
        from spacy.attrs import LEMMA, LOWER

        docs = [d for d in docs if len(d)]
        if not docs:
            return
        strings = docs[0].vocab.strings
        if self._hash_strings is not strings or len(self._hash_cache) > 500_000:
            self._hash_cache, self._hash_strings = {}, strings  # hashes are only valid for one string store
        cache = self._hash_cache
        arrays = [d.to_array(LOWER) for d in docs]
        forms, inverse = np.unique(np.concatenate(arrays), return_inverse=True)
        lemma = self.lemma
        lemmas = np.fromiter(
            (cache[h] if h in cache else cache.setdefault(h, strings.add(lemma(strings[h])))
             for h in forms.tolist()), dtype=np.uint64, count=len(forms))[inverse]
        pos = 0
        for d, a in zip(docs, arrays):
            d.from_array([LEMMA], lemmas[pos:pos + len(a)].reshape(-1, 1))
            pos += len(a)


def _register() -> None:
    from spacy.language import Language

    if "qualcode_lemmatizer" in Language.factories:
        return

    @Language.factory("qualcode_lemmatizer")
    def make_lemmatizer(nlp, name):  # noqa: ARG001 - spaCy factory signature
        return lemmatizer(nlp.lang)  # shared, so forms taught with seed() serve the pipeline too


def pipeline(language: str = "nl", name: str | None = None):
    """The spaCy pipeline for a language (blank + sentencizer + simplemma lemmas),
    or the trained pipeline ``name`` when one is given and installed. Built once per process:
    ``pipeline("nl")`` and ``pipeline("nl", None)`` are the same pipeline (building one takes about as
    long as importing spaCy)."""
    return _pipeline(language, name or None)


@lru_cache(maxsize=8)
def _pipeline(language: str, name: str | None):
    import spacy

    _register()
    if name:
        try:
            nlp = spacy.load(name)
        except OSError:
            raise QualcodeError(
                f"the spaCy pipeline '{name}' named in the codebook is not installed. Install it, or remove "
                "'spacy_pipeline' from the codebook to use the built-in blank pipeline.") from None
        if "qualcode_lemmatizer" not in nlp.pipe_names and not nlp.has_pipe("lemmatizer"):
            nlp.add_pipe("qualcode_lemmatizer")
        return nlp
    try:
        nlp = spacy.blank(language)
    except Exception:
        raise QualcodeError(f"language '{language}' is not supported by spaCy; use e.g. 'nl' or 'en'.") from None
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("qualcode_lemmatizer")
    # spaCy refuses texts over 1,000,000 characters because a trained parser or NER needs about 1 GB per
    # 100,000; this pipeline only tokenises, splits sentences and looks lemmas up (about 60 bytes per
    # character, measured), so one very long turn is processed whole instead of stopping autocode.
    nlp.max_length = BLANK_MAX_LENGTH
    return nlp


pipeline.cache_clear = _pipeline.cache_clear   # type: ignore[attr-defined]  # as for an lru_cache function


@lru_cache(maxsize=8)
def lemmatizer(language: str = "nl") -> SimplemmaLemmatizer:
    return SimplemmaLemmatizer(language)


def lemma(word: str, language: str = "nl") -> str:
    return lemmatizer(language).lemma(word.lower())


def lemmatizer_version(language: str = "nl") -> str:
    """What the lemmas of a text depend on, as stored with cached lemmas: the lemmatiser and its
    version, the language and the stop-word list; a change in any of them recomputes the cache."""
    import hashlib

    v = package_version

    stops = hashlib.sha256("\n".join(sorted(stop_words(language))).encode("utf-8")).hexdigest()[:12]
    return f"simplemma {v('simplemma')}; spacy {v('spacy')}; {language}; stop words {stops}"


@lru_cache(maxsize=16)
def package_version(package: str) -> str:
    """An installed package's version without importing it: read from the name of its ``.dist-info``
    folder next to the package (importlib.metadata as the fallback, which takes longer to load)."""
    import importlib.util
    import os

    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.origin:
        folder = os.path.dirname(os.path.dirname(spec.origin))
        prefix = package.replace("-", "_").lower() + "-"
        with os.scandir(folder) as entries:
            found = [e.name for e in entries if e.name.lower().startswith(prefix) and e.name.endswith(".dist-info")]
        if len(found) == 1:
            return found[0][len(prefix):-len(".dist-info")]
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "none"


STOP_WORD_FILE = "stopwords-{}.txt"


@lru_cache(maxsize=8)
def stop_words(language: str = "nl") -> frozenset[str]:
    """spaCy's stop words for the language plus spoken-language fillers.

    For Dutch and English the words come from the lists shipped in ``qualcode/data/`` (written once
    from spaCy's ``STOP_WORDS``; a test checks they still agree), so no spaCy import is needed;
    other languages read spaCy's list."""
    from pathlib import Path

    shipped = Path(__file__).parent.parent / "data" / STOP_WORD_FILE.format(language)
    if shipped.is_file():
        words = {w.strip() for w in shipped.read_text(encoding="utf-8").splitlines()
                 if w.strip() and not w.startswith("#")}
    else:
        import importlib

        try:
            mod = importlib.import_module(f"spacy.lang.{language}.stop_words")
            words = set(mod.STOP_WORDS)
        except Exception:
            words = set()
    return frozenset(words | FILLERS.get(language, set()))


def content_lemmas(text: str, language: str = "nl") -> list[str]:
    """Lemmas of the content words of a text (regex tokens, stop words and fillers out).

    Fast and good enough for overviews, clustering and coherence; rule matching
    uses the full spaCy pipeline instead.
    """
    stops = stop_words(language)
    lem = lemmatizer(language).lemma
    out = []
    for w in WORD_RE.findall(text.lower()):
        if len(w) < 3 or w.isdigit() or w in stops:
            continue
        lw = lem(w)
        if lw not in stops:
            out.append(lw)
    return out
