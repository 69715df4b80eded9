"""The main theme of every segment from the codebook alone: each theme and code ranked, with a score and why.

The rules code only the turns that hold one of their words; a segment without a match gets no theme at
all, and when several codes match, the highest rule score is not always the main theme. This ranking
gives *every* participant segment an ordered list of the codebook's themes and codes, without any
coding by the researcher, from up to three kinds of evidence per code:

* **rules**: the code's rule score on the segment (:func:`qualcode.coding.autocode.autocode` in
  dry-run mode with ``min_score=0``, so a single hint counts too; 0 when no rule matched). A matched
  rule is the most specific evidence there is and weighs most (:data:`RULE_WEIGHT`).
* **words**: the cosine between the segment's stored content lemmas and the code's *profile*: the
  lemmas of its name, description, include criteria, example and rule words (keywords, phrases,
  hints; a wildcard rule word stands for every lemma of the project it matches), plus its theme's
  name and description at a low weight (:data:`FIELD_WEIGHTS`); TF-IDF weighted with the idf of the
  project's segments, so words every turn uses count little. Exclude criteria are not used: they name
  the neighbouring code, whose own profile already holds those words.
* **meaning** (only with the ``semantic`` extra): the cosine between the segment's sentence vector
  (cached in the project) and the vector of the code's text (:mod:`qualcode.coding.semantic`).

Per segment each kind is put on one scale before it is added: the rule score as it is (0-1), the word
and meaning similarities relative to the segment's best code (1 for the closest code, 0 for none or
the average code). The ranking score of a code is ``RULE_WEIGHT * rule + WORDS_WEIGHT * words +
MEANING_WEIGHT * meaning``: a code a rule matched stays ahead of one that only shares words with the
segment, and the similarities decide between codes the rules cannot tell apart and wherever no rule
matched. A theme's score is that of its best code; ties go to codebook order. The scores rank; they
are not probabilities (nothing the researcher coded has tested them): bench/main_theme.py measures
the ranking against hand-coded segments.

Reads the stored lemmas (no spaCy, simplemma or scikit-learn for the words and meaning); the rules
part runs autocode's matchers over the tokens stored at ingest, as ``autocode --dry-run`` does (no spaCy).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

from ..errors import QualcodeError

RULE_WEIGHT = 1.0
WORDS_WEIGHT = 0.4      # under 0.5: the closest words never outrank a code one rule matched (a keyword scores 0.6)
MEANING_WEIGHT = 0.2    # sentence vectors alone rank themes less well than shared words (docs/suggest.md)
FIELD_WEIGHTS = {"name": 1.0, "keywords": 1.0, "phrases": 1.0, "hints": 0.5, "description": 0.5,
                 "include": 0.5, "example": 0.5, "theme": 0.25}
BASES = ("rule", "weak rule", "words", "meaning", "none")
TOP_WORDS = 3           # shared words named in a 'why'


@dataclass
class Ranked:
    """One theme or code for one segment: its ranking score, the evidence behind it and why."""

    key: str
    name: str
    score: float
    rule: float = 0.0              # the rule score (0: no rule matched)
    words: float = 0.0             # cosine of the segment's lemmas with the code's profile
    meaning: float | None = None   # cosine of the sentence vectors (None: not computed)
    why: str = ""
    code: str | None = None        # for a theme: the code its score comes from

    def to_dict(self) -> dict:
        out = {"key": self.key, "name": self.name, "score": self.score, "rule_score": self.rule,
               "word_similarity": self.words, "meaning_similarity": self.meaning, "why": self.why}
        if self.code is not None:
            out["code"] = self.code
        return out


@dataclass
class SegmentRanking:
    segment_id: int
    source: str
    ordinal: int
    key: str                       # speaker key, e.g. 'F2 P3'
    text: str
    themes: list[Ranked]
    codes: list[Ranked]

    @property
    def main(self) -> Ranked | None:
        return self.themes[0] if self.themes else None

    @property
    def basis(self) -> str:
        """What the main theme rests on: 'rule' (a rule scoring 0.5 or more, as autocode codes), 'weak rule'
        (a hint or a negated word), 'words' (shared words only), 'meaning' (sentence vectors only) or 'none'."""
        best = self.codes[0] if self.codes else None
        if best is None or best.score <= 0:
            return "none"
        if best.rule >= 0.5:
            return "rule"
        if best.rule > 0:
            return "weak rule"
        return "words" if best.words > 0 else "meaning"

    @property
    def evidence(self) -> bool:
        """Whether anything in the codebook resembles the segment (else the order is the codebook's)."""
        return bool(self.codes) and self.codes[0].score > 0

    def to_dict(self) -> dict:
        return {"segment_id": self.segment_id, "source": self.source, "ordinal": self.ordinal, "key": self.key,
                "text": self.text, "evidence": self.evidence, "basis": self.basis,
                "main_theme": self.main.key if self.main else None,
                "themes": [t.to_dict() for t in self.themes], "codes": [c.to_dict() for c in self.codes]}


@dataclass
class ThemeRanking:
    """The ranking of every segment asked for, in transcript order."""

    segments: list[SegmentRanking]
    semantic: bool
    rules: bool
    themes: list[str]              # theme keys in codebook order
    notes: list[str] = field(default_factory=list)

    @property
    def n_rule_matched(self) -> int:
        return sum(1 for s in self.segments if s.codes and s.codes[0].rule > 0)

    def per_basis(self) -> dict[str, int]:
        out = {b: 0 for b in BASES}
        for s in self.segments:
            out[s.basis] += 1
        return out

    def per_theme(self) -> dict[str, int]:
        out = {t: 0 for t in self.themes}
        for s in self.segments:
            if s.main is not None and s.evidence:
                out[s.main.key] += 1
        return out

    def to_dict(self) -> dict:
        return {"semantic": self.semantic, "rules": self.rules, "n_segments": len(self.segments),
                "n_rule_matched": self.n_rule_matched,
                "n_without_evidence": sum(1 for s in self.segments if not s.evidence),
                "per_theme": self.per_theme(), "per_basis": self.per_basis(), "segments": [s.to_dict() for s in self.segments]}

    CSV_HEADER = ["segment", "source", "ordinal", "speaker", "main theme", "main theme name", "score", "basis", "why",
                  "second theme", "second score", "best code", "best code score", "text"]

    def csv_rows(self) -> list[list]:
        """One row per segment (:data:`CSV_HEADER`): main theme, score and why, the runner-up, the best code."""
        rows = []
        for s in self.segments:
            main = s.main
            second = s.themes[1] if len(s.themes) > 1 else None
            best = s.codes[0] if s.codes else None
            rows.append([s.segment_id, s.source, s.ordinal, s.key, main.key if main else "",
                         main.name if main else "", main.score if main else "", s.basis, main.why if main else "",
                         second.key if second else "", second.score if second else "",
                         best.key if best else "", best.score if best else "", s.text])
        return rows

    def lines(self, limit: int = 20, top: int = 2) -> list[str]:
        out = []
        for s in self.segments[:limit]:
            snippet = " ".join(s.text.split())
            snippet = snippet if len(snippet) <= 90 else snippet[:89] + "…"
            out.append(f"#{s.segment_id} ({s.key}) [{s.basis}] “{snippet}”")
            for i, t in enumerate(s.themes[:top]):
                out.append(f"    {i + 1}. {t.key} {t.score:.2f}: {t.why}")
        if len(self.segments) > limit:
            out.append(f"... {len(self.segments) - limit} more segments (--limit N shows more; --csv or --json "
                       "gives them all)")
        counts = self.per_theme()
        width = max([len(t) for t in self.themes] + [10])
        out.append(f"{'main theme'.ljust(width)}  segments")
        for t in self.themes:
            out.append(f"{t.ljust(width)}  {counts[t]:>8}")
        basis = self.per_basis()
        out.append(f"{len(self.segments)} participant segments ranked; the main theme rests on: "
                   + ", ".join(f"{b} {basis[b]}" for b in BASES if b != "meaning" or self.semantic)
                   + " ('none': nothing in common with the codebook, codebook order, not counted above)")
        out.extend(self.notes)
        return out


# ------------------------------------------------------------------ profiles
def rule_word_lemmas(words, vocabulary: list[str], language: str) -> list[str]:
    """The lemmas a list of rule words (keywords, phrases or hints) stands for: a word with a ``*`` stands
    for every lemma of ``vocabulary`` it matches (as a rule does), every other word for its content lemmas."""
    from ..text.nlp import content_lemmas
    from .autocode import wildcard_regex

    out: list[str] = []
    for entry in words or []:
        for part in str(entry).lower().split():
            if "*" in part:
                rx = wildcard_regex(part)
                out.extend(v for v in vocabulary if rx.fullmatch(v))
            else:
                out.extend(content_lemmas(part, language))
    return out


def code_profiles(codes: list[dict], themes: dict[str, dict], vocabulary: list[str], language: str
                  ) -> dict[str, Counter]:
    """Code key -> weighted lemma counts of what the codebook says about it (:data:`FIELD_WEIGHTS`)."""
    from ..text.nlp import content_lemmas

    out = {}
    for c in codes:
        prof: Counter = Counter()
        for f in ("name", "description", "include", "example"):
            for w in content_lemmas(c.get(f) or "", language):
                prof[w] += FIELD_WEIGHTS[f]
        rules = c.get("rules") or {}
        for f in ("keywords", "phrases", "hints"):
            for w in rule_word_lemmas(rules.get(f), vocabulary, language):
                prof[w] += FIELD_WEIGHTS[f]
        theme = themes.get(c.get("theme") or "")
        if theme:
            for w in content_lemmas(f"{theme.get('name') or ''} {theme.get('description') or ''}", language):
                prof[w] += FIELD_WEIGHTS["theme"]
        out[c["key"]] = prof
    return out


def code_text(code: dict) -> str:
    """What the codebook says about a code, as one text for the sentence encoder."""
    rules = code.get("rules") or {}
    words = [str(w).replace("*", "") for k in ("keywords", "phrases") for w in (rules.get(k) or [])]
    parts = [code.get("name"), code.get("description"), code.get("include"), code.get("example"), " ".join(words)]
    return " ".join(p for p in parts if p).strip()


# ------------------------------------------------------------------ the ranking
def has_rules(codes: list[dict]) -> bool:
    return any(any((c.get("rules") or {}).get(k) for k in ("keywords", "phrases", "patterns", "hints")) for c in codes)


def _rule_scores(store) -> dict[int, dict[str, tuple[float, str]]]:
    """Segment id -> code key -> (rule score, why) of every rule match, weak ones included."""
    from .autocode import autocode

    out: dict[int, dict[str, tuple[float, str]]] = {}
    for m in autocode(store, dry_run=True, min_score=0.0).matches:
        out.setdefault(m.segment_id, {})[m.code] = (float(m.score), m.why())
    return out


@dataclass
class WordModel:
    """The codes' profiles as unit TF-IDF rows over the project's lemmas (idf of the project's segments)."""

    vocabulary: list[str]
    column: dict[str, int]
    idf: object        # numpy vector, one weight per vocabulary word
    profiles: object   # numpy matrix, codes x vocabulary, rows of unit length (or zero)

    @classmethod
    def build(cls, lemmas: dict[int, list[str]], codes: list[dict], themes: dict[str, dict], language: str):
        import numpy as np

        df: Counter = Counter()
        for words in lemmas.values():
            df.update(set(words))
        vocabulary = sorted(df)
        column = {w: j for j, w in enumerate(vocabulary)}
        idf = np.array([math.log((1 + len(lemmas)) / (1 + df[w])) + 1.0 for w in vocabulary])
        P = np.zeros((len(codes), len(vocabulary)))
        for i, prof in enumerate(code_profiles(codes, themes, vocabulary, language).values()):
            for w, n in prof.items():
                if w in column:
                    P[i, column[w]] += n
        P *= idf
        norms = np.linalg.norm(P, axis=1, keepdims=True)
        return cls(vocabulary, column, idf, np.divide(P, norms, out=np.zeros_like(P), where=norms > 0))

    def contributions(self, lemmas: list[str]):
        """(vocabulary positions of the segment's words, codes x words matrix of each word's share of the cosine
        between the segment's sublinear tf-idf row and each profile)."""
        import numpy as np

        counts = Counter(w for w in lemmas if w in self.column)
        idx = np.fromiter((self.column[w] for w in counts), dtype=np.int64, count=len(counts))
        val = np.array([1.0 + math.log(n) for n in counts.values()]) * self.idf[idx] if len(idx) else np.zeros(0)
        if len(idx):
            val /= np.linalg.norm(val)
        return idx, self.profiles[:, idx] * val


def rank_segments(store, *, semantic: bool = False, rules: bool = True, group: str | None = None,
                  segment_ids=None) -> ThemeRanking:
    """Rank the codebook's themes and codes for every participant segment (of ``group``, or the
    ``segment_ids`` given), from the codebook alone: rule scores (unless ``rules`` is False), shared
    words and, with ``semantic``, sentence vectors. See the module docstring."""
    from ..text.lemmas import load
    from ..text.nlp import lemmatizer

    codes = store.codes()
    if not codes:
        raise QualcodeError("the project has no codebook to rank themes from; load one with "
                            "'qualcode codebook apply codebooks/ips.yaml'.")
    themes = {t["key"]: t for t in store.themes()}
    theme_keys = [t for t in themes if any(c.get("theme") == t for c in codes)]
    if group and group not in store.groups():
        from ..errors import unknown
        raise unknown("group", group, store.groups())
    targets = list(store.segments(group=group, role="participant",
                                  ids=None if segment_ids is None else list(segment_ids)))
    if not targets:
        raise QualcodeError("no participant segments to rank" + (f" in group {group}" if group else "")
                            + "; ingest transcripts first ('qualcode ingest FILES').")
    lemmas = load(store).content
    model = WordModel.build(lemmas, codes, themes, store.language)
    rules = rules and has_rules(codes)
    found = _rule_scores(store) if rules else {}
    meaning = _meaning(store, codes, targets) if semantic else None
    lemma_of = lemmatizer(store.language).lemma    # knows the project's words from the lemma cache
    out = []
    for row, seg in enumerate(targets):
        code_list = _rank_codes(codes, model, lemmas.get(seg["id"], []), found.get(seg["id"], {}),
                                None if meaning is None else meaning[row], _forms(seg["text"], lemma_of))
        out.append(SegmentRanking(seg["id"], seg["source"], seg["ordinal"], seg["key"], seg["text"],
                                  _rank_themes(code_list, codes, themes, theme_keys), code_list))
    result = ThemeRanking(out, semantic=semantic, rules=rules, themes=theme_keys)
    result.notes.append("scores rank the themes of a segment (rule score + shared words"
                        + (" + meaning" if semantic else "") + "); they are not probabilities. "
                        "Check the main theme before you code it.")
    return result


def _rank_codes(codes: list[dict], model: WordModel, lemmas: list[str], rule_found: dict[str, tuple[float, str]],
                sem, shown: dict[str, str]) -> list[Ranked]:
    """Every code for one segment, best first (ties: codebook order), from its rule matches (code -> (score,
    why)), its lemmas and its meaning cosines (``sem``, or None); ``shown``: lemma -> the segment's word."""
    import numpy as np

    idx, contrib = model.contributions(lemmas)
    words = contrib.sum(axis=1)
    rule = np.array([rule_found.get(c["key"], (0.0, ""))[0] for c in codes])
    score = RULE_WEIGHT * rule
    if words.max(initial=0.0) > 0:
        score = score + WORDS_WEIGHT * words / words.max()
    if sem is not None:
        rel = sem - sem.mean()
        if rel.max() > 0:
            score = score + MEANING_WEIGHT * np.clip(rel / rel.max(), 0.0, None)
    ranked = []
    for i, c in enumerate(codes):
        why = []
        if c["key"] in rule_found:
            why.append(f"rule {rule_found[c['key']][0]:.2f}: {rule_found[c['key']][1]}")
        if words[i] > 0:
            top = np.argsort(-contrib[i], kind="stable")[:TOP_WORDS]
            shared = [shown.get(model.vocabulary[idx[j]], model.vocabulary[idx[j]]) for j in top if contrib[i, j] > 0]
            why.append(f"shared words {', '.join(shared)} ({words[i]:.2f})")
        if sem is not None and score[i] > 0:
            why.append(f"meaning {float(sem[i]):.2f}")
        ranked.append(Ranked(c["key"], c["name"], round(float(score[i]), 4), round(float(rule[i]), 4),
                             round(float(words[i]), 4), None if sem is None else round(float(sem[i]), 4),
                             "; ".join(why) or "nothing in common with this code"))
    return [ranked[i] for i in sorted(range(len(codes)), key=lambda i: (-ranked[i].score, i))]


def _rank_themes(code_list: list[Ranked], codes: list[dict], themes: dict[str, dict], theme_keys: list[str]
                 ) -> list[Ranked]:
    """Every theme, scored as its best code, best first (ties: codebook order)."""
    theme_of = {c["key"]: c.get("theme") for c in codes}
    best_of: dict[str, Ranked] = {}
    for r in code_list:
        t = theme_of[r.key]
        if t and t not in best_of:
            best_of[t] = r
    nothing = not code_list or code_list[0].score <= 0
    out = []
    for t in sorted(theme_keys, key=lambda t: (-best_of[t].score, theme_keys.index(t))):
        b = best_of[t]
        if nothing:
            why = "nothing in common with any code: codebook order"
            out.append(Ranked(t, themes[t]["name"], b.score, why=why, code=b.key))
            continue
        why = f"via {b.key}: {b.why}" if b.score > 0 else "nothing in common with this theme's codes"
        out.append(Ranked(t, themes[t]["name"], b.score, b.rule, b.words, b.meaning, why, code=b.key))
    return out


def _forms(text: str, lemma_of) -> dict[str, str]:
    """Lemma -> the first word of ``text`` with that lemma (a 'why' names the words as the segment has them)."""
    from ..text.nlp import WORD_RE

    out: dict[str, str] = {}
    for w in WORD_RE.findall(text.lower()):
        out.setdefault(lemma_of(w), w)
    return out


def _meaning(store, codes: list[dict], targets: list[dict]):
    """Cosines (segments x codes) of the segments' sentence vectors with the codes' texts."""
    import numpy as np

    from . import semantic

    vecs = semantic.segment_vectors(store, ((s["id"], s["text"]) for s in targets))
    C = semantic.embed([code_text(c) for c in codes])
    V = np.vstack([vecs[s["id"]] for s in targets]).astype(np.float32)
    return V @ C.T
