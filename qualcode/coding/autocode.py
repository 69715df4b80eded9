"""Deductive autocoding: the codebook's keyword, phrase and pattern rules applied to the segments' tokens.

How a rule matches
------------------
* ``keywords`` and ``phrases`` are compared on lemmas, case-insensitively, with a
  ``PhraseMatcher(attr="LEMMA")``: the keyword ``werken`` matches "werkte",
  "gewerkt" and "werk" because the pipeline (:func:`qualcode.text.nlp.pipeline`) gives
  them the same lemma.
* Dutch verb keywords also match their bare stem, which is the first-person
  present and often the noun: ``werken`` matches "ik werk" and "het werk",
  ``hervallen`` matches "herval" (simplemma gives those the lemma of the noun).
* A ``*`` in a word makes it a wildcard on the lower-case form: ``stage*`` matches
  "stages" and "stageplaats", ``*coach`` matches "jobcoach" (Dutch compounds).
  Single wildcard words are looked up once per distinct word form; wildcard
  phrases become spaCy ``Matcher`` token patterns.
* ``patterns``: ``{tokens: [...]}`` is a spaCy ``Matcher`` pattern; ``{regex: ...}``
  a case-insensitive regular expression searched in the segment text.

Two ways, with the same result:

* **Stored tokens** (:func:`stored_rules`, the usual way): ingest stored every segment's spaCy tokens and
  the tokens of the codebook's rule words (:mod:`qualcode.text.tokens`), so the rules are matched in
  plain Python without loading spaCy: phrases on lemmas, stems on lower-case forms, token patterns with
  :mod:`qualcode.coding.tokenmatch` (a subset of spaCy's Matcher: what codebooks use), wildcards and
  regular expressions as below. tests/test_token_cache.py checks that spans, matches, scores and
  explanations are those of the spaCy way.
* **spaCy** (:func:`spacy_rules`), when the stored tokens cannot answer (a trained pipeline, a rule word
  not cut into tokens yet, a token pattern outside that subset): all segment texts go through one
  ``nlp.pipe`` pass with only the lemmatizer enabled, and are matched a batch at a time on numpy arrays
  of token hashes (:meth:`CompiledRules.match_docs`): each matcher runs only on the docs holding a
  word it cannot match without, and no Python object is made per word; the result is the same as
  running every rule on every token (tests/test_rules_perf_equivalence.py).

The coder is ``rules`` and the origin ``rule``: re-running gives the
same codings (stale rule codings of the selected codes are removed), and
codings by any other coder are never touched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..errors import CodebookError, NotFoundError, QualcodeError, unknown
from ..store.core import from_snapshot, serialised
from .saferegex import TimedRegex

RULES_CODER = "rules"
ORIGIN = "rule"
SEP = "\x1f"  # joins a code key, the rule's kind and the rule's text into one matcher label


def rule_label(key: str, kind: str, text: str) -> str:
    """The matcher label of one rule: which code, which kind (keyword, phrase, pattern), which words."""
    return f"{key}{SEP}{kind}{SEP}{text}"


def split_label(label: str) -> tuple[str, str, str]:
    """(code key, kind, rule text) of a matcher label; a bare code key gives (key, '', '')."""
    parts = label.split(SEP, 2)
    return (parts[0], parts[1], parts[2]) if len(parts) == 3 else (label, "", "")


@dataclass
class Match:
    """A code's match on a segment: where (``spans``), why (``hits``: the rules that matched) and how
    sure (``score``, :func:`qualcode.coding.rulescore.score_hits`)."""

    segment_id: int
    code: str
    spans: list[tuple[int, int]]
    hits: list = field(default_factory=list)
    score: float = 1.0

    def why(self) -> str:
        from .rulescore import explain

        return explain(self.hits)


class _PlainRules:
    """What both rule sets do without tokens: wildcard words on lower-case forms and regular expressions
    on the text (uses ``wildcards``, ``regexes`` and the caches of the class it is mixed into)."""

    def wildcard_codes(self, lower: str) -> tuple[str, ...]:
        """The labels of the wildcard rules that the lower-case word ``lower`` matches."""
        hit = self._word_cache.get(lower)
        if hit is None:
            if self._any_wildcard is None:
                self._any_wildcard = re.compile("|".join(f"(?:{rx.pattern})" for _, rx in self.wildcards))
            if self._any_wildcard.fullmatch(lower) is None:  # most words: one test instead of one per wildcard
                hit = ()
            else:
                hit = tuple(dict.fromkeys(code for code, rx in self.wildcards if rx.fullmatch(lower)))
            self._word_cache[lower] = hit
        return hit

    def add_regex_spans(self, found: list[dict], texts: list[str]) -> None:
        """Add the spans of the regular expression rules to ``found`` (one dict per text)."""
        needs = [self._regex_needs[rx] if rx in self._regex_needs
                 else self._regex_needs.setdefault(rx, _needs_finder(regex_needs(rx))) for _, rx in self.regexes]
        for here, text in zip(found, texts):
            low = text.lower() if text.isascii() else None
            for (code, rx), need in zip(self.regexes, needs):
                if need is not None and low is not None and need(low) is None:
                    continue  # cannot match: it has none of the words the expression needs
                for m in rx.finditer(text):
                    if m.end() > m.start():
                        here.setdefault(code, []).append((m.start(), m.end()))


@dataclass
class CompiledRules(_PlainRules):
    """Matchers for a set of codes, built for one spaCy pipeline.

    Docs are matched a batch at a time (:meth:`match_docs`) on numpy arrays of their
    tokens' lower-case forms, lemmas and offsets, so no Python object is made per word:
    a matcher runs only on the docs that hold the words it cannot match without, and
    each distinct word form is tested against the wildcards once.
    """

    nlp: object
    phrase_matcher: object
    stem_matcher: object
    token_matchers: list[tuple[list[set[int]], object]]
    wildcards: list[tuple[str, re.Pattern]]
    regexes: list[tuple[str, TimedRegex]]
    codes: list[str]
    phrase_needs: set[int] | None = None  # a doc with none of these lemmas has no phrase match (None: unknown)
    stem_needs: set[int] | None = None    # ... none of these lower-case forms has no stem match
    _word_cache: dict = field(default_factory=dict)
    _hash_cache: dict = field(default_factory=dict)
    _any_wildcard: re.Pattern | None = None
    _regex_needs: dict = field(default_factory=dict)

    def rule_spans(self, segs: list[tuple[int, str]]):
        """For each (id, text) segment, rule label -> character spans (:func:`match_texts_rules`)."""
        return match_texts_rules(self, (t for _, t in segs))

    def match_doc(self, doc, text: str | None = None) -> dict[str, list[tuple[int, int]]]:
        """code key -> character spans matched in one processed doc (``text``: the doc's text, if at hand).
        For many docs, :meth:`match_docs` on batches is much faster."""
        return self.match_docs([doc], None if text is None else [text])[0]

    def match_docs(self, docs: list, texts: list[str] | None = None) -> list[dict[str, list[tuple[int, int]]]]:
        """For each processed doc, code key -> character spans, in the order of :meth:`match_doc`:
        phrases, stems, token patterns, wildcards, regular expressions; each in text order."""
        return [collapse(found) for found in self.match_docs_rules(docs, texts)]

    def match_docs_rules(self, docs: list, texts: list[str] | None = None) -> list[dict[str, list[tuple[int, int]]]]:
        """For each processed doc, rule label (:func:`rule_label`) -> character spans: which rule of
        which code matched where (:func:`collapse` turns it into code key -> spans)."""
        import numpy as np
        from spacy.attrs import IDX, LEMMA, LENGTH, LOWER

        found: list[dict[str, list[tuple[int, int]]]] = [{} for _ in docs]
        if not docs:
            return found
        strings = self.nlp.vocab.strings
        arrays = [d.to_array([LOWER, LEMMA, IDX, LENGTH]) for d in docs]
        sizes = np.fromiter((len(a) for a in arrays), dtype=np.int64, count=len(arrays))
        starts = np.concatenate(([0], np.cumsum(sizes)))
        table = np.concatenate(arrays).reshape(-1, 4) if starts[-1] else np.zeros((0, 4), dtype=np.uint64)
        lower, lemma = table[:, 0], table[:, 1]
        idx, length = table[:, 2].astype(np.int64), table[:, 3].astype(np.int64)
        doc_of = np.repeat(np.arange(len(docs)), sizes)

        def docs_holding(column, words) -> np.ndarray:
            """Per doc: does it have a token whose ``column`` value is one of ``words`` (None: any doc)?"""
            if words is None:
                return np.ones(len(docs), dtype=bool)
            held = np.zeros(len(docs), dtype=bool)
            if words:
                held[doc_of[np.isin(column, np.fromiter(words, dtype=np.uint64, count=len(words)))]] = True
            return held

        def run(matcher, candidates) -> None:
            for i in np.flatnonzero(candidates).tolist():
                base = starts[i]
                for match_id, start, end in matcher(docs[i]):
                    last = base + end - 1
                    span = (int(idx[base + start]), int(idx[last] + length[last]))
                    found[i].setdefault(strings[match_id], []).append(span)

        if len(self.phrase_matcher):
            run(self.phrase_matcher, docs_holding(lemma, self.phrase_needs))
        if len(self.stem_matcher):
            run(self.stem_matcher, docs_holding(lower, self.stem_needs))
        for required, matcher in self.token_matchers:
            # a token pattern runs only on docs holding the words it cannot match without
            candidates = np.ones(len(docs), dtype=bool)
            for options in required:
                candidates &= docs_holding(lower, options) | docs_holding(lemma, options)
            run(matcher, candidates)
        if self.wildcards and len(table):
            # each distinct word form is tested once (cached across batches); then only the hits are visited
            forms, inverse = np.unique(lower, return_inverse=True)
            cache = self._hash_cache
            codes_of = [cache[h] if h in cache else cache.setdefault(h, self.wildcard_codes(strings[h]))
                        for h in forms.tolist()]
            hit_form = np.fromiter((bool(c) for c in codes_of), dtype=bool, count=len(codes_of))
            hits = np.flatnonzero(hit_form[inverse])
            for d, form, s, e in zip(doc_of[hits].tolist(), inverse[hits].tolist(), idx[hits].tolist(),
                                     (idx[hits] + length[hits]).tolist()):
                here = found[d]
                for code in codes_of[form]:
                    here.setdefault(code, []).append((s, e))
        if self.regexes:
            self.add_regex_spans(found, [d.text for d in docs] if texts is None else texts)
        return found


def _needs_finder(words: tuple[str, ...] | None):
    """``search`` of an expression finding any of ``words`` (literally), or None for no words: one C scan of
    a text instead of one ``in`` test per word."""
    if not words:
        return None
    return re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))).search


def regex_needs(rx: re.Pattern) -> tuple[str, ...] | None:
    """Lower-case ASCII strings of which every match of ``rx`` contains one, or None.

    Read from the parsed expression: a run of literal characters, a group, a repeat of at
    least one, or an alternation whose every branch needs something. Only used on ASCII
    texts, where matching case-insensitively is comparing ``lower()`` forms."""
    try:
        from re import _constants as sre, _parser as parser  # Python 3.11+
    except ImportError:  # pragma: no cover - older Pythons
        import sre_constants as sre
        import sre_parse as parser
    repeats = {getattr(sre, n) for n in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT") if hasattr(sre, n)}

    def best_of(a, b):
        if not a:
            return b
        if not b:
            return a
        return a if min(map(len, a)) >= min(map(len, b)) else b

    def needs(items) -> set[str] | None:
        best, run = None, ""
        for op, av in items:
            if op is sre.LITERAL:
                run += chr(av)
                continue
            best, run = best_of(best, {run} if run else None), ""
            if op is sre.SUBPATTERN:
                best = best_of(best, needs(av[-1]))
            elif op is getattr(sre, "ATOMIC_GROUP", None):
                best = best_of(best, needs(av))
            elif op in repeats and av[0] >= 1:
                best = best_of(best, needs(av[2]))
            elif op is sre.BRANCH:
                branches = [needs(b) for b in av[1]]
                if all(branches):
                    best = best_of(best, set().union(*branches))
        return best_of(best, {run} if run else None)

    try:
        found = needs(parser.parse(rx.pattern, rx.flags))
    except Exception:  # an expression the parser reads differently: no shortcut
        return None
    if not found or min(map(len, found)) < 2 or not all(w.isascii() for w in found):
        return None
    return tuple(sorted({w.lower() for w in found}))


def wildcard_regex(word: str) -> re.Pattern:
    """A rule word with ``*`` (any run of word characters) as a regular expression on lower-case text."""
    return re.compile("".join(r"\w*" if ch == "*" else re.escape(ch) for ch in word.lower()))


def dutch_stem(verb: str) -> str | None:
    """The bare stem of a Dutch infinitive: werken -> werk, hervallen -> herval, leven -> leef."""
    if len(verb) < 5 or not verb.endswith("en") or not verb.isalpha() or verb[-3] in "aeiou":
        return None
    stem = verb[:-2]
    vowels = "aeiou"
    if len(stem) > 2 and stem[-1] == stem[-2]:
        stem = stem[:-1]  # hervallen -> herval
    elif len(stem) > 2 and stem[-2] in vowels and stem[-3] not in vowels:
        stem = stem[:-1] + stem[-2] + stem[-1]  # open syllable: leven -> leev(f), lopen -> loop
    return stem[:-1] + {"v": "f", "z": "s"}.get(stem[-1], stem[-1])


_TEXT_ATTRS = ("LOWER", "LEMMA", "ORTH", "TEXT")


def required_words(pattern: list[dict], strings) -> list[set[int]]:
    """For a Matcher pattern, the sets of lower-case words or lemmas (as hashes) a doc must hold one of:
    one set per non-optional token that names its word (LOWER/LEMMA/ORTH/TEXT equal to, or IN, a list)."""
    return [{strings.add(w) for w in words} for words in _required_words(pattern)]


def compile_rules(codes: list[dict], nlp) -> CompiledRules:
    """Build matchers for ``codes`` (rows with ``key`` and ``rules``) on pipeline ``nlp``."""
    from spacy.matcher import Matcher, PhraseMatcher

    phrase_matcher = PhraseMatcher(nlp.vocab, attr="LEMMA")
    stem_matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
    phrase_needs: set[int] | None = set()
    stem_needs: set[int] | None = set()
    token_patterns: list[tuple[str, list[dict]]] = []
    wildcards: list[tuple[str, re.Pattern]] = []
    regexes: list[tuple[str, TimedRegex]] = []
    lemma_only = _lemma_pipe(nlp)
    for key, plain, wild, wild_phrases, patterns, stems in _rule_parts(codes, nlp.lang):
        wildcards.extend((label, wildcard_regex(word)) for label, word in wild)
        for label, parts in wild_phrases:
            token_patterns.append((label, [{"LOWER": {"REGEX": "^" + wildcard_regex(part).pattern + "$"}}
                                           if "*" in part else {"LEMMA": next(iter(lemma_only([part])))[0].lemma_}
                                           for part in parts]))
        if plain:
            phrase_docs = list(lemma_only([w for w, _ in plain]))
            for (_, label), doc in zip(plain, phrase_docs):
                phrase_matcher.add(label, [doc])
            phrase_needs = _add_need(phrase_needs, phrase_docs, "lemma")
        if stems:
            stem_docs = [nlp.make_doc(st) for st in sorted(stems)]
            for st, doc in zip(sorted(stems), stem_docs):
                stem_matcher.add(stems[st], [doc])
            stem_needs = _add_need(stem_needs, stem_docs, "lower")
        for label, p in patterns:
            if "regex" in p:  # searched with a time-out per segment
                regexes.append((label, TimedRegex(p["regex"], key)))
            else:
                token_patterns.append((label, p["tokens"]))
    token_matchers = []
    for label, pattern in token_patterns:
        key = split_label(label)[0]
        matcher = Matcher(nlp.vocab, validate=True)
        try:
            matcher.add(label, [pattern])
        except Exception as exc:  # spaCy's pattern validation
            raise CodebookError(f"invalid token pattern {pattern}: {exc}".strip(), where=f"code {key}") from None
        token_matchers.append((required_words(pattern, nlp.vocab.strings), matcher))
    return CompiledRules(nlp=nlp, phrase_matcher=phrase_matcher, stem_matcher=stem_matcher,
                         token_matchers=token_matchers, wildcards=wildcards,
                         regexes=regexes, codes=[c["key"] for c in codes], phrase_needs=phrase_needs,
                         stem_needs=stem_needs)


def _rule_parts(codes: list[dict], language: str):
    """The rules of ``codes`` as compile_rules reads them: for each code, its (word, label) pairs without
    a wildcard, its wildcard words (label, word), its wildcard phrases (label, parts) and its patterns
    (label, pattern); and the Dutch verb stems (stem -> label)."""
    out = []
    for c in codes:
        key, rules = c["key"], c.get("rules") or {}
        plain, wild, wild_phrases, patterns = [], [], [], []
        for kind in ("keyword", "phrase", "hint"):
            for word in rules.get(kind + "s", []):
                word = str(word).strip().lower()
                if not word:
                    continue
                label = rule_label(key, kind, word)
                if "*" not in word:
                    plain.append((word, label))
                elif " " not in word:
                    wild.append((label, word))
                else:
                    wild_phrases.append((label, word.split()))
        stems: dict[str, str] = {}
        if plain and language == "nl":
            words = {w for w, _ in plain}
            for w, label in plain:
                if " " not in w and (st := dutch_stem(w)) and st not in words:
                    stems.setdefault(st, label)
        for p in rules.get("patterns", []):
            if "regex" in p:
                patterns.append((rule_label(key, "pattern", p["regex"]), p))
            elif "tokens" in p:
                patterns.append((rule_label(key, "pattern", _pattern_text(p["tokens"])), p))
        out.append((key, plain, wild, wild_phrases, patterns, stems))
    return out


def rule_words(codes: list[dict], language: str) -> set[str]:
    """Every word or phrase of the rules of ``codes`` that matching cuts into tokens: keywords, phrases and
    hints without a wildcard, the plain words of wildcard phrases, and the Dutch verb stems."""
    out: set[str] = set()
    for _, plain, _, wild_phrases, _, stems in _rule_parts(codes, language):
        out.update(w for w, _ in plain)
        out.update(part for _, parts in wild_phrases for part in parts if "*" not in part)
        out.update(stems)
    return out


@dataclass
class StoredRules(_PlainRules):
    """The rules of a set of codes, matched over the tokens stored in the project (no spaCy): phrases on
    lemmas, Dutch verb stems on lower-case forms, token patterns (:mod:`qualcode.coding.tokenmatch`),
    wildcards and regular expressions; the same spans as :class:`CompiledRules` on the same texts
    (tests/test_token_cache.py). Made by :func:`stored_rules`, with the tokens of the segments to match."""

    phrases: dict[str, list[tuple[tuple[str, ...], str]]]   # first lemma -> (lemmas, label)
    stems: dict[str, list[tuple[tuple[str, ...], str]]]     # first lower-case form -> (forms, label)
    token_patterns: list[tuple[str, list[set[str]], object]]  # (label, words a segment must hold, pattern)
    wildcards: list[tuple[str, re.Pattern]]
    regexes: list[tuple[str, TimedRegex]]
    codes: list[str]
    blobs: dict = field(default_factory=dict)     # segment id -> its stored tokens (qualcode.text.tokens)
    lemma: object = None                          # the lemmatiser's lemma(lower-case form)
    known: dict = field(default_factory=dict)     # its table of lower-case form -> lemma
    flags: dict | None = None                     # token text -> flags, when a pattern tests flags
    _word_cache: dict = field(default_factory=dict)
    _any_wildcard: re.Pattern | None = None
    _regex_needs: dict = field(default_factory=dict)
    _no_wildcard: set = field(default_factory=set)  # lower-case forms no wildcard matches

    def view(self, sid: int, text: str):
        """(TokenView, token start offsets, token end offsets) of a segment, from its stored tokens."""
        from ..text.tokens import bounds
        from .tokenmatch import TokenView

        starts, ends = bounds(self.blobs[sid])
        return TokenView.from_text(text, starts, ends, self.lemma, self.flags, self.known), starts, ends

    def rule_spans(self, segs: list[tuple[int, str]]) -> list[dict[str, list[tuple[int, int]]]]:
        """For each (id, text) segment (whose tokens this rule set holds), rule label -> character spans, in
        the order of :meth:`CompiledRules.match_docs_rules`: phrases, stems, token patterns, wildcards,
        regular expressions. Each segment's tokens are read when it is matched (little memory at scale)."""
        found: list[dict[str, list[tuple[int, int]]]] = []
        miss = self._no_wildcard
        for sid, text in segs:
            view, starts, ends = self.view(sid, text)
            here: dict[str, list[tuple[int, int]]] = {}
            for table, column in ((self.phrases, view.lemma), (self.stems, view.lower)):
                if not table or table.keys().isdisjoint(column):
                    continue   # most segments: none of the first words of the phrases
                n = len(column)
                for i in [i for i, word in enumerate(column) if word in table]:
                    for seq, label in table[column[i]]:
                        end = i + len(seq)
                        if end <= n and tuple(column[i:end]) == seq:
                            here.setdefault(label, []).append((starts[i], ends[end - 1]))
            if self.token_patterns:
                lower, lemma = view.lower, view.lemma
                for label, required, pattern in self.token_patterns:
                    if all(not (options.isdisjoint(lower) and options.isdisjoint(lemma)) for options in required):
                        for a, b in pattern.find(view):
                            here.setdefault(label, []).append((starts[a], ends[b - 1]))
            if self.wildcards:
                forms = set(view.lower)
                forms -= miss                      # forms already known to match no wildcard
                hit = {}
                for low in forms:
                    labels = self.wildcard_codes(low)
                    if labels:
                        hit[low] = labels
                    else:
                        miss.add(low)
                if hit:
                    for i, low in enumerate(view.lower):
                        for label in hit.get(low, ()):
                            here.setdefault(label, []).append((starts[i], ends[i]))
            found.append(here)
        if self.regexes:
            self.add_regex_spans(found, [t for _, t in segs])
        return found


def _required_words(pattern: list[dict]) -> list[set[str]]:
    """:func:`required_words` as strings: per non-optional token that names its word, the words (as
    written and lower-cased) a segment's lower-case forms or lemmas must hold one of."""
    need = []
    for tok in pattern:
        op = str(tok.get("OP", "1"))
        if op in ("?", "*", "!") or op.startswith("{0") or op.startswith("{,"):
            continue
        for attr in _TEXT_ATTRS:
            v = tok.get(attr)
            if isinstance(v, dict) and "IN" in v and isinstance(v["IN"], list):
                words = [str(x) for x in v["IN"]]
            elif isinstance(v, str):
                words = [v]
            else:
                continue
            need.append({w.lower() for w in words} | set(words))
    return need


def stored_rules(store, codes: list[dict], segs: list[tuple[int, str]]) -> StoredRules | None:
    """The rules of ``codes`` over the project's stored tokens of ``segs`` ((id, text) pairs), or None when
    spaCy is needed: a trained pipeline, a segment or rule word whose tokens are not stored, a token pattern
    :func:`qualcode.coding.tokenmatch.compile_pattern` does not cover, a token form without stored flags."""
    from ..text.lemmas import cache_version, rule_tokens, text_hash
    from ..text.nlp import lemmatizer
    from ..text.tokens import UNKNOWN
    from .tokenmatch import compile_pattern

    if store.meta("spacy_pipeline"):
        return None   # a trained pipeline's lemmas depend on the context: only spaCy gives them
    language = store.language
    version = cache_version(store)
    parts = _rule_parts(codes, language)
    toks = rule_tokens(store, version, rule_words(codes, language))
    if toks is None:
        return None
    lemma = lemmatizer(language).lemma
    known = lemmatizer(language).cache   # lower-case form -> lemma, seeded from the lemma cache
    phrases: dict[str, list] = {}
    stems: dict[str, list] = {}
    token_patterns: list = []
    wildcards: list[tuple[str, re.Pattern]] = []
    regexes: list[tuple[str, TimedRegex]] = []
    for key, plain, wild, wild_phrases, patterns, stem_of in parts:
        for word, label in plain:
            seq = tuple(lemma(t.lower()) for t in toks[word])
            if not seq:
                return None
            if (seq, label) not in phrases.setdefault(seq[0], []):
                phrases[seq[0]].append((seq, label))
        for label, word in wild:
            wildcards.append((label, wildcard_regex(word)))
        for label, words in wild_phrases:
            pattern = [{"LOWER": {"REGEX": "^" + wildcard_regex(part).pattern + "$"}} if "*" in part
                       else {"LEMMA": lemma(toks[part][0].lower())} for part in words]
            token_patterns.append((label, pattern))
        for st, label in stem_of.items():
            seq = tuple(t.lower() for t in toks[st])
            if not seq:
                return None
            if (seq, label) not in stems.setdefault(seq[0], []):
                stems[seq[0]].append((seq, label))
        for label, p in patterns:
            if "regex" in p:
                regexes.append((label, TimedRegex(p["regex"], key)))
            else:
                token_patterns.append((label, p["tokens"]))
    compiled_patterns = []
    for label, pattern in token_patterns:
        compiled = compile_pattern(pattern)
        if compiled is None:
            return None
        compiled_patterns.append((label, _required_words(pattern), compiled))
    held = store.cached_segment_tokens(version)
    blobs = {}
    for sid, text in segs:
        row = held.get(sid)
        if row is None or row[1] == UNKNOWN or row[0] != text_hash(text):
            return None
        blobs[sid] = row[1]
    rules = StoredRules(phrases=phrases, stems=stems, token_patterns=compiled_patterns, wildcards=wildcards,
                        regexes=regexes, codes=[c["key"] for c in codes], blobs=blobs, lemma=lemma, known=known)
    if any(p.uses_flags for _, _, p in compiled_patterns):
        rules.flags = store.cached_token_flags(version)
        try:
            for sid, text in segs:   # stored with the tokens, so always there; checked before any matching
                rules.view(sid, text)
        except KeyError:
            return None
    return rules


def _pattern_text(tokens: list[dict]) -> str:
    """A token pattern as one short line, e.g. ``meteen|direct … werk|job``."""
    parts = []
    for tok in tokens:
        words = None
        for attr in _TEXT_ATTRS:
            v = tok.get(attr)
            if isinstance(v, str):
                words = v
            elif isinstance(v, dict) and isinstance(v.get("IN"), list):
                words = "|".join(str(x) for x in v["IN"][:4]) + ("|…" if len(v["IN"]) > 4 else "")
            if words:
                break
        parts.append(words or ("…" if str(tok.get("OP", "")) in ("*", "+", "?") else "·"))
    return " ".join(parts)


def collapse(found: dict[str, list[tuple[int, int]]]) -> dict[str, list[tuple[int, int]]]:
    """Rule label -> spans, as code key -> spans (each span once per code, in the order met)."""
    out: dict[str, list[tuple[int, int]]] = {}
    for label, spans in found.items():
        here = out.setdefault(split_label(label)[0], [])
        for span in spans:
            if span not in here:
                here.append(span)
    return out


def _add_need(needs: set[int] | None, docs, attr: str) -> set[int] | None:
    """Add to ``needs`` one word (as the ``attr`` hash) of each phrase doc that a match must contain:
    its longest, as the rarest by rule of thumb (any of its words would be correct)."""
    if needs is None:
        return None
    for doc in docs:
        if not len(doc):
            return None  # cannot say what it needs: the matcher then runs on every doc
        tok = max(doc, key=lambda t: len(getattr(t, attr + "_")))
        needs.add(getattr(tok, attr))
    return needs


def _lemma_pipe(nlp):
    """A function texts -> docs that runs only what rules need (tokenizer + lemmas)."""
    keep = {"qualcode_lemmatizer", "lemmatizer", "attribute_ruler", "tok2vec", "tagger", "morphologizer"}
    disable = [n for n in nlp.pipe_names if n not in keep]

    def run(texts, batch_size: int = 256, as_tuples: bool = False):
        return nlp.pipe(texts, batch_size=batch_size, disable=disable, as_tuples=as_tuples)

    return run


def match_texts(compiled: CompiledRules, texts, batch_size: int = 1000):
    """For each text, a dict code key -> spans (one ``nlp.pipe`` pass, matched a batch at a time)."""
    for found in match_texts_rules(compiled, texts, batch_size):
        yield collapse(found)


def match_texts_rules(compiled: CompiledRules, texts, batch_size: int = 1000):
    """For each text, a dict rule label -> spans (:meth:`CompiledRules.match_docs_rules`)."""
    from itertools import islice

    run = _lemma_pipe(compiled.nlp)
    it = iter(texts)
    while chunk := list(islice(it, batch_size)):
        yield from compiled.match_docs_rules(list(run(chunk, batch_size=batch_size)), chunk)


# --------------------------------------------------------------------- autocode
@dataclass
class AutocodeResult:
    dry_run: bool
    codes: list[str]
    per_code: dict[str, int]
    n_segments: int
    n_coded: int
    added: int = 0
    removed: int = 0
    matches: list[Match] = field(default_factory=list)
    texts: dict[int, tuple[str, str]] = field(default_factory=dict)  # segment id -> (key, text)
    min_score: float = 0.0
    below: int = 0                 # code matches under min_score, not coded
    introductions: int = 0         # introduction-round turns left out
    rejected: int = 0              # matches the researcher rejected before, not coded again
    overruled: int = 0             # matches left out for a code that overrules them (rules: overruled_by)
    precision: dict[str, tuple[int, int]] = field(default_factory=dict)  # code -> (right, checked)

    @property
    def share(self) -> float:
        return self.n_coded / self.n_segments if self.n_segments else 0.0

    def lines(self, limit: int = 20) -> list[str]:
        out = []
        if self.dry_run:
            for m in self.matches[:limit]:
                key, text = self.texts[m.segment_id]
                out.append(f"#{m.segment_id} ({key}) {m.code} {m.score:.2f}: {highlight(text, m.spans)}")
                out.append(f"    why: {m.why()}")
            if len(self.matches) > limit:
                out.append(f"... {len(self.matches) - limit} more matches (--limit N shows more)")
        width = max([len(c) for c in self.codes] + [4])
        out.append(f"{'code'.ljust(width)}  segments  precision")
        for code in self.codes:
            right, checked = self.precision.get(code, (0, 0))
            prec = f"{right / checked:.2f} ({right}/{checked})" if checked else "-"
            out.append(f"{code.ljust(width)}  {self.per_code.get(code, 0):>8}  {prec}")
        left = [f"{self.below} weaker matches (score under {self.min_score:g}; --min-score 0 shows them)"] \
            if self.below else []
        if self.introductions:
            left.append(f"{self.introductions} turns of the introduction round (--introductions codes them)")
        if self.rejected:
            left.append(f"{self.rejected} matches you rejected")
        if self.overruled:
            left.append(f"{self.overruled} matches overruled by a more specific code on the same segment "
                        f"(overruled_by in the codebook)")
        if left:
            out.append("left out: " + "; ".join(left))
        if any(checked for _, checked in self.precision.values()):
            out.append("precision: of the matches you confirmed or rejected, or in transcripts you coded yourself, "
                       "the share you confirmed or coded the same; '-': nothing to compare yet.")
        if not self.dry_run and self.added:
            out.append("rule codings are suggestions until you confirm them: qualcode code confirm --code ID "
                       "(or reject: qualcode code reject SEGMENT_ID... CODE_ID)")
        out.append(f"{self.n_coded} of {self.n_segments} participant segments matched ({self.share:.0%})")
        if self.dry_run:
            out.append("dry run: nothing was written.")
        else:
            out.append(f"codings by 'rules': {self.added} added, {self.removed} removed (manual codings untouched)")
        return out


def highlight(text: str, spans: list[tuple[int, int]], left: str = "[", right: str = "]",
              context: int = 60) -> str:
    """The text around the matches, with matched words in brackets, on one line."""
    merged: list[list[int]] = []
    for s, e in sorted(spans):
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    pieces, pos = [], 0
    for s, e in merged:
        gap = text[pos:s]
        if len(gap) > 2 * context:
            gap = (gap[:context] if pos else "") + " … " + gap[-context:]
        pieces.append(gap + left + text[s:e] + right)
        pos = e
    tail = text[pos:]
    pieces.append(tail if len(tail) <= context else tail[:context] + " …")
    return " ".join("".join(pieces).split())


def rule_codes(store, codes: list[str] | None = None) -> list[dict]:
    """The project's codes that rules should run for (all with rules, or the named ones)."""
    all_codes = store.codes()
    if codes:
        by_key = {c["key"]: c for c in all_codes}
        chosen = []
        for k in codes:
            if k not in by_key:
                raise unknown("code", k, list(by_key))
            chosen.append(by_key[k])
        return chosen
    chosen = [c for c in all_codes if any(c["rules"].get(k) for k in ("keywords", "phrases", "patterns", "hints"))]
    if not chosen:
        raise QualcodeError("no code in the codebook has rules (keywords, phrases or patterns); add some to the "
                            "YAML codebook and run 'qualcode codebook apply FILE'.")
    return chosen


def score_matches(compiled: CompiledRules | StoredRules, segs: list[tuple[int, str]], language: str,
                  min_score: float = 0.0, progress=None, overruled_by: dict[str, list[str]] | None = None,
                  overruled: list | None = None) -> tuple[list[Match], int]:
    """Every code match on ``segs`` ((id, text) pairs) with its rules and score, in segment order and
    most confident first within a segment; and how many matches scored under ``min_score`` (left out).
    ``progress``: a callback ``progress(items, label)`` that yields the items back (qualcode.cli.progress),
    or None. ``overruled_by``: code -> codes whose match on the same segment leaves it out
    (:func:`qualcode.coding.rulescore.overrule`); the matches left out so are appended to ``overruled``."""
    from .rulescore import overrule, rule_hits, score_hits

    out: list[Match] = []
    below = 0
    order = {code: i for i, code in enumerate(compiled.codes)}
    shown = segs if progress is None else progress(segs, "matching rules")
    for (sid, text), found in zip(shown, compiled.rule_spans(segs)):
        by_code: dict[str, dict[tuple[str, str], list[tuple[int, int]]]] = {}
        for label, spans in found.items():
            key, kind, rule = split_label(label)
            by_code.setdefault(key, {}).setdefault((kind, rule), []).extend(spans)
        here = []
        for code, rules in by_code.items():
            spans = sorted({sp for v in rules.values() for sp in v})
            hits = rule_hits(text, rules, language)
            score = score_hits(hits, text, spans)
            if score < min_score:
                below += 1
                continue
            here.append(Match(sid, code, spans, hits, score))
        if overruled_by:
            here, dropped = overrule(here, overruled_by)
            if overruled is not None:
                overruled.extend(dropped)
        out.extend(sorted(here, key=lambda m: (-m.score, order.get(m.code, len(order)))))  # ties: codebook order
    return out, below


def spacy_rules(store, codes: list[dict]) -> CompiledRules:
    """The rules of ``codes`` compiled for the project's spaCy pipeline (when :func:`stored_rules` cannot
    match without it); the tokens of their words are stored, so the next run need not load spaCy."""
    from ..text.lemmas import cache_version, rule_tokens
    from ..text.nlp import pipeline

    nlp = pipeline(store.language, store.meta("spacy_pipeline") or None)
    compiled = compile_rules(codes, nlp)
    rule_tokens(store, cache_version(store), rule_words(codes, store.language), nlp)
    return compiled


def precision_estimates(store, matches: list[Match], source_of: dict[int, int]) -> dict[str, tuple[int, int]]:
    """code -> (right, checked): of the rule matches the researcher confirmed or rejected, or that lie in a
    transcript they coded themselves (codings of their own, not confirmed rule codings), how many they
    confirmed or coded the same. Every coder other than 'rules' counts as a researcher."""
    done: set[int] = set()
    coded: set[tuple[int, str]] = set()
    for coder in store.coders_with_codings():
        if coder == RULES_CODER:
            continue
        for c in store.codings(coder=coder):
            coded.add((c["segment_id"], c["code"]))
            if c["origin"] != ORIGIN:
                done.add(source_of.get(c["segment_id"]))
    verdict = {(r["segment_id"], r["code"]): r["status"]
               for r in store.suggestions(coder=RULES_CODER, source="rules") if r["status"] != "open"}
    out: dict[str, tuple[int, int]] = {}
    for m in matches:
        pair = (m.segment_id, m.code)
        status = verdict.get(pair)
        if status is None and source_of.get(m.segment_id) not in done:
            continue
        right = status == "accepted" or (status is None and pair in coded)
        r, n = out.get(m.code, (0, 0))
        out[m.code] = (r + right, n + 1)
    return out


@from_snapshot
def autocode(store, codes: list[str] | None = None, dry_run: bool = False, min_score: float | None = None,
             introductions: bool = False, progress=None) -> AutocodeResult:
    """Apply the rules of ``codes`` (default: every code with rules) to all participant segments.

    A code is given where its rules score at least ``min_score`` (default
    :data:`~qualcode.coding.rulescore.DEFAULT_MIN_SCORE`); the introduction round is left out unless
    ``introductions``; a match the researcher rejected (:func:`reject_rule_codings`) is not coded again.
    Each coding's explanation and score is stored as a rule suggestion (source 'rules'). ``progress``: as
    :func:`score_matches`."""
    from ..text.lemmas import load
    from .rulescore import DEFAULT_MIN_SCORE, introduction_segments

    min_score = DEFAULT_MIN_SCORE if min_score is None else float(min_score)
    if not 0.0 <= min_score <= 1.0:
        raise QualcodeError(f"--min-score must be between 0 and 1, got {min_score:g}.")
    chosen = rule_codes(store, codes)
    # teaches the lemmatiser the project's word forms and fills the token cache (both once, at ingest)
    load(store, keep=False)
    everything = list(store.segments())
    intro = set() if introductions else introduction_segments(everything, store.language)
    source_of = {s["id"]: s["source_id"] for s in everything}
    segs = store.rule_segment_texts(role="participant")
    code_id = {c["key"]: c["id"] for c in chosen}
    rejected = {(r["segment_id"], r["code_id"]) for r in store.suggestions(coder=RULES_CODER, source="rules",
                                                                            status="rejected")}
    todo = [(s, t) for s, t in segs if s not in intro]
    compiled = stored_rules(store, chosen, todo) or spacy_rules(store, chosen)
    overruled: list[Match] = []
    found, below = score_matches(compiled, todo, store.language, min_score, progress,
                                 {c["key"]: c["rules"].get("overruled_by", []) for c in chosen}, overruled)
    matches = [m for m in found if (m.segment_id, code_id[m.code]) not in rejected]
    per_code = {c["key"]: 0 for c in chosen}
    for m in matches:
        per_code[m.code] += 1
    pairs = {(m.segment_id, code_id[m.code]) for m in matches}
    n_intro = sum(1 for s, _ in segs if s in intro)
    result = AutocodeResult(dry_run=dry_run, codes=[c["key"] for c in chosen], per_code=per_code,
                            n_segments=len(segs), n_coded=len({s for s, _ in pairs}),
                            matches=matches if dry_run else [], min_score=min_score, below=below,
                            introductions=n_intro, rejected=len(found) - len(matches), overruled=len(overruled),
                            precision=precision_estimates(store, found, source_of))  # rejections count too
    if dry_run:
        ids = {m.segment_id for m in matches}
        result.texts = {s["id"]: (s["key"], s["text"]) for s in everything if s["id"] in ids}
        return result
    with store.act("autocode") as act:
        before = store.coding_pairs(RULES_CODER, code_id.values())
        new, stale = sorted(pairs - before), sorted(before - pairs)
        store.ensure_coder(RULES_CODER)
        with store.captured_inserts("codings"):  # undo records in one statement, not a trigger per row
            store.add_codings(new, RULES_CODER, ORIGIN)
        store.remove_codings(stale, RULES_CODER)
        # each coding's explanation and score, as an open rule suggestion (confirmed or rejected ones stay)
        store.drop_open_suggestions(coder=RULES_CODER, source="rules", code_ids=code_id.values())
        with store.captured_inserts("suggestions"):
            store.add_suggestions(((m.segment_id, code_id[m.code], m.score, m.why()) for m in matches),
                                  coder=RULES_CODER, source="rules")
        result.added, result.removed = len(new), len(stale)
        act.summary = (f"{result.n_coded} of {result.n_segments} participant segments matched; "
                       f"{result.added} codings added, {result.removed} removed")
        act.details.update(codes=result.codes, per_code=per_code, min_score=min_score)
    return result


# --------------------------------------------------------------------- confirm / reject rule codings
@dataclass
class ReviewResult:
    """What ``code confirm`` or ``code reject`` did."""

    action: str                   # confirmed or rejected
    coder: str
    per_code: dict[str, int]
    already: int = 0              # confirm: the researcher already had the coding

    @property
    def n(self) -> int:
        return sum(self.per_code.values())

    def lines(self) -> list[str]:
        codes = ", ".join(f"{k} {v}" for k, v in sorted(self.per_code.items()))
        out = [f"{self.action} {self.n} rule coding(s) as {self.coder}: {codes}"]
        if self.already:
            out.append(f"{self.already} of them {self.coder} had coded already")
        out.append("undo with: qualcode undo")
        return out


def _rule_codings(store, code: str | None, segment_ids, min_score: float | None) -> list[tuple[int, int, str]]:
    """(segment id, code id, code key) of the rule codings selected, in transcript order."""
    key = store.code(code)["key"] if code else None
    wanted = None
    if segment_ids:
        wanted = set()
        for s in segment_ids:
            text = str(s).lstrip("#")
            if not text.isdigit():
                raise NotFoundError(f"segment ids are numbers (see 'qualcode segments'), got '{s}'.")
            wanted.add(store.segment(int(text))["id"])
    score = {(r["segment_id"], r["code_id"]): r["confidence"]
             for r in store.suggestions(coder=RULES_CODER, source="rules")}
    out = []
    for c in store.codings(coder=RULES_CODER, code=key):
        if wanted is not None and c["segment_id"] not in wanted:
            continue
        if min_score is not None and score.get((c["segment_id"], c["code_id"]), 1.0) < min_score:
            continue
        pair = (c["segment_id"], c["code_id"], c["code"])
        if pair not in out:
            out.append(pair)
    return out


def _set_rule_suggestion(store, segment_id: int, code_id: int, status: str) -> None:
    """Mark the rule suggestion behind a rule coding confirmed or rejected (made if it is missing)."""
    row = next((r for r in store.suggestions(coder=RULES_CODER, source="rules")
                if r["segment_id"] == segment_id and r["code_id"] == code_id), None)
    if row is None:
        store.add_suggestions([(segment_id, code_id, 1.0, "")], coder=RULES_CODER, source="rules")
        row = next(r for r in store.suggestions(coder=RULES_CODER, source="rules")
                   if r["segment_id"] == segment_id and r["code_id"] == code_id)
    store.set_suggestion_status(row["id"], status)


@serialised
def confirm_rule_codings(store, *, coder: str, code: str | None = None, segment_ids=None,
                         min_score: float | None = None) -> ReviewResult:
    """Make rule codings the researcher's own, in one audited act: each selected coding by 'rules' (of
    ``code``, on ``segment_ids``, scoring at least ``min_score``; at least one filter) becomes a coding
    by ``coder`` (origin rule) and its rule suggestion is marked accepted. Undo takes it all back."""
    if not (code or segment_ids or min_score is not None):
        raise QualcodeError("say which rule codings to confirm: --code ID, segment ids, --min-score X "
                            "(or several); see them first with 'qualcode autocode --dry-run'.")
    chosen = _rule_codings(store, code, segment_ids, min_score)
    if not chosen:
        raise NotFoundError("no rule coding matches that selection; run 'qualcode autocode' first, or see the "
                            "matches with 'qualcode autocode --dry-run'.")
    result = ReviewResult("confirmed", coder, {})
    with store.act("code confirm", actor=coder, details={"code": code, "segments": segment_ids and list(segment_ids),
                                                          "min_score": min_score}) as act:
        for sid, cid, key in chosen:
            if not store.add_coding(sid, cid, coder, ORIGIN):
                result.already += 1
            _set_rule_suggestion(store, sid, cid, "accepted")
            result.per_code[key] = result.per_code.get(key, 0) + 1
        act.summary = f"{result.n} rule coding(s) confirmed as {coder}"
    return result


@serialised
def reject_rule_codings(store, segment_ids, code: str, *, coder: str) -> ReviewResult:
    """Reject rule codings in one audited act: the 'rules' coding of ``code`` on each segment goes and its
    rule suggestion is marked rejected, so autocode does not code it again. Undo brings it back."""
    key = store.code(code)["key"]
    chosen = _rule_codings(store, key, segment_ids, None)
    found = {sid for sid, _, _ in chosen}
    missing = [str(s) for s in segment_ids if store.segment(int(str(s).lstrip("#")))["id"] not in found]
    if missing:
        raise NotFoundError(f"the rules did not code {key} on segment(s) {', '.join(missing)}; nothing was "
                            f"rejected. See the rule codings with 'qualcode autocode --dry-run --codes {key}'.")
    result = ReviewResult("rejected", coder, {})
    with store.act("code reject", actor=coder, details={"code": key, "segments": sorted(found)}) as act:
        store.remove_codings([(sid, cid) for sid, cid, _ in chosen], RULES_CODER)
        for sid, cid, _ in chosen:
            _set_rule_suggestion(store, sid, cid, "rejected")
        result.per_code[key] = len(chosen)
        act.summary = f"{len(chosen)} rule coding(s) of {key} rejected by {coder}"
    return result
