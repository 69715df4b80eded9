"""Why a rule coded a segment, and how sure it is: the explanation and score of a rule match.

A code's match on a segment is explained by the rules that matched (:class:`RuleHit`: the
rule's kind -- keyword, phrase or pattern --, the rule as written in the codebook, the words of
the segment it matched, and whether they were negated) and scored from them
(:func:`score_hits`), between 0 and 1:

* **how specific each rule is**: a ``keywords`` entry weighs 0.6, a ``phrases`` entry 0.75, a
  ``patterns`` entry 0.8, a ``hints`` entry 0.4: a hint is a topic word that is evidence only
  together with another rule of the code (two hints, or a hint and a keyword);
* **how many rules matched**: the weights combine as independent evidence,
  ``1 - (1 - w1) * (1 - w2) * ...``, so two different hints of a code give 0.64, a keyword and a
  hint 0.76;
  the same rule matching twice counts once, and a rule that matched only words another (weightier)
  rule of the code already matched counts not at all ("herval*" and "hervallen" on "herval" are one
  piece of evidence, not two);
* **negation**: a rule whose words follow a negation in the same clause ("geen stress",
  "niet uitdagend", "not stressful"; up to three words before) weighs half, unless the rule itself
  holds the negation ("niet betaald");
* **where in the turn**: in a turn of four or more sentences, a code whose rules all fall in a
  few of them (a passing mention) is scaled by ``0.85 + 0.15 * share of sentences matched``
  (it ranks lower; a keyword on its own still reaches 0.5).

``autocode`` codes a segment only when the score reaches ``min_score`` (:data:`DEFAULT_MIN_SCORE`:
0.5: one keyword, phrase or pattern codes, one hint alone or a negated keyword does not). Turns of the
introduction round (:func:`introduction_segments`) are not coded at all by default.

A code's ``overruled_by`` (a list of code ids under its ``rules:`` in the codebook) makes its exclude
criterion a rule: on a segment where one of those codes is coded too, this code is left out
(:func:`overrule`). It is for a more specific sibling that the code's exclude criterion names ("the job
coach as a member of the care team: see co_jobcoach_zorgteam"): the same words, read in the sibling's
context, belong to the sibling only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

DEFAULT_MIN_SCORE = 0.5
WEIGHTS = {"keyword": 0.6, "phrase": 0.75, "pattern": 0.8, "hint": 0.4}
NEGATED_FACTOR = 0.5
NEGATION_WINDOW = 3   # words before a match searched for a negation
LONG_TURN = 4         # sentences from which a passing mention weighs less

NEGATIONS = {
    "nl": {"niet", "nie", "geen", "gene", "nooit", "noch", "zonder", "nergens", "niemand", "niets", "niks"},
    "en": {"not", "no", "never", "without", "nobody", "nothing", "nowhere", "neither", "nor", "isn't", "aren't",
           "wasn't", "weren't", "don't", "doesn't", "didn't", "can't", "cannot", "won't", "hardly"},
}
_CLAUSE_END = re.compile(r"[.,;:!?()\n\"“”]")
_WORD = re.compile(r"\w+(?:['’]\w+)?")
_SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)")

# The moderator's turn that opens the introduction round ("een kort rondje", "stel u voor", "introduce").
INTRO_CUES = {
    "nl": re.compile(r"\b(rondje|rondvraag|voorstellen|stel\w* (u|jullie|je) (even |kort |eens )*voor|"
                     r"kennismak\w*|wie er rond de tafel)\b", re.IGNORECASE),
    "en": re.compile(r"\b(introduc\w+|round of|go around|around the table|who you are)\b", re.IGNORECASE),
}
INTRO_END_WORDS = 25  # a moderator turn this long after the round moves the discussion on,
INTRO_END_QUESTION = 12  # ... and so does a question of this many words
INTRO_MAX_TURNS = 40  # a round never runs longer than this (a cue word used later in passing)


@dataclass
class RuleHit:
    """One rule of a code that matched a segment."""

    kind: str                 # keyword, phrase, pattern or hint
    rule: str                 # the rule as written in the codebook (lower case)
    words: list[str]          # the segment's words it matched, each once, in text order
    negated: bool = False     # every match of the rule follows a negation
    weight: float = 0.0       # its share in the score
    spans: list = field(default_factory=list, repr=False)  # where it matched (character offsets)

    def describe(self) -> str:
        words = ", ".join(f'"{w}"' for w in self.words[:3]) + (", …" if len(self.words) > 3 else "")
        neg = ", negated" if self.negated else ""
        return f"{self.kind} '{self.rule}' ({words}{neg})"


def explain(hits: list[RuleHit]) -> str:
    """The rules behind a match as one line: ``keyword 'stress' ("stress"); phrase 'onder druk' (…)``."""
    return "; ".join(h.describe() for h in hits)


def _negated(text: str, start: int, rule: str, negations: set[str]) -> bool:
    if any(w in negations for w in _WORD.findall(rule.lower())):
        return False  # the rule is about the negation itself ("niet betaald")
    before = text[max(0, start - 80):start]
    clause = _CLAUSE_END.split(before)[-1]
    return any(w in negations for w in _WORD.findall(clause.lower())[-NEGATION_WINDOW:])


def sentence_starts(text: str) -> list[int]:
    """Character offsets where the sentences of ``text`` start (the first is 0)."""
    return [0] + [m.end() for m in _SENTENCE_END.finditer(text) if m.end() < len(text.rstrip())]


def rule_hits(text: str, found: dict[tuple[str, str], list[tuple[int, int]]], language: str) -> list[RuleHit]:
    """The hits of one code on one segment from ``(kind, rule) -> spans``, most weighty first."""
    negations = NEGATIONS.get(language, set())
    hits = []
    for (kind, rule), spans in found.items():
        words = list(dict.fromkeys(" ".join(text[s:e].split()) for s, e in sorted(spans)))
        negated = all(_negated(text, s, rule, negations) for s, _ in spans)
        weight = WEIGHTS.get(kind, WEIGHTS["keyword"]) * (NEGATED_FACTOR if negated else 1.0)
        hits.append(RuleHit(kind, rule, words, negated, round(weight, 4), sorted(spans)))
    hits.sort(key=lambda h: (-h.weight, h.kind, h.rule))
    return hits


def score_hits(hits: list[RuleHit], text: str = "", spans: list[tuple[int, int]] | None = None) -> float:
    """The score of a code on a segment (0-1) from its rule hits and where they are in the text."""
    miss = 1.0
    covered: list[tuple[int, int]] = []
    for h in sorted(hits, key=lambda h: -h.weight):
        if h.spans and all(any(s < e2 and s2 < e for s2, e2 in covered) for s, e in h.spans):
            continue  # only words a weightier rule of the code already matched: no new evidence
        covered.extend(h.spans)
        miss *= 1.0 - h.weight
    score = 1.0 - miss
    if text and spans:
        starts = sentence_starts(text)
        if len(starts) >= LONG_TURN:
            import bisect

            matched = {bisect.bisect_right(starts, s) for s, _ in spans}
            score *= 0.85 + 0.15 * len(matched) / len(starts)
    return round(score, 3)


def introduction_segments(segments: list[dict], language: str) -> set[int]:
    """Ids of the participant segments of each source's introduction round.

    The round starts after the first moderator turn that announces it (``INTRO_CUES``: "een kort
    rondje", "stel u even voor", "introduce yourselves") and ends at the next moderator turn of
    ``INTRO_END_WORDS`` words or more (or a question of ``INTRO_END_QUESTION`` words or more), the one
    that moves the discussion on; short moderator turns in between ("Dank u. Naast u?") keep it going,
    for at most ``INTRO_MAX_TURNS`` turns. ``segments`` are dicts with id, source_id, role and text, in
    transcript order. A source without such a turn has no introduction round."""
    cue = INTRO_CUES.get(language)
    if cue is None:
        return set()
    out: set[int] = set()
    state: dict[int, str] = {}   # source id -> 'before', 'in', 'after'
    turns: dict[int, int] = {}
    for s in segments:
        src = s["source_id"]
        now = state.get(src, "before")
        if now == "after":
            continue
        if now == "in":
            turns[src] = turns.get(src, 0) + 1
            if turns[src] > INTRO_MAX_TURNS:
                state[src] = "after"
                continue
        if s["role"] == "moderator":
            n = len(_WORD.findall(s["text"]))
            if now == "before" and cue.search(s["text"]):
                state[src] = "in"
            elif now == "in" and (n >= INTRO_END_WORDS or (n >= INTRO_END_QUESTION and "?" in s["text"])):
                state[src] = "after"
        elif now == "in":
            out.add(s["id"])
    return out


def overrule(matches: list, overruled_by: dict[str, list[str]]) -> tuple[list, list]:
    """Split one segment's coded ``matches`` (objects with a ``code``) into those kept and those
    overruled: a match whose code lists, in ``overruled_by`` (code -> code ids), a code that is also
    among ``matches`` is left out. The codebook forbids cycles, so the order of the matches does not
    matter."""
    coded = {m.code for m in matches}
    kept, dropped = [], []
    for m in matches:
        (dropped if coded.intersection(overruled_by.get(m.code, ())) else kept).append(m)
    return kept, dropped
