"""Token patterns (``{tokens: [...]}`` rules) matched over stored tokens, without spaCy.

A codebook's token pattern is written for spaCy's ``Matcher``. Autocode reads each segment's tokens from
the project (:mod:`qualcode.text.tokens`) and matches the patterns here, so it does not load spaCy. This
matcher covers what codebooks use: the attributes ``ORTH``/``TEXT``, ``LOWER``, ``LEMMA``, ``LENGTH`` and
the lexical flags (``IS_ALPHA``, ``IS_PUNCT``, ``LIKE_NUM``, ...; see :data:`qualcode.text.tokens.FLAGS`),
the predicates ``IN``, ``NOT_IN`` and ``REGEX`` (and the comparisons of ``LENGTH``), and the operators
``!``, ``?``, ``*``, ``+``, ``{n}``, ``{n,m}``, ``{n,}`` and ``{,m}``. :func:`compile_pattern` returns None
for anything else (``NORM``, ``SHAPE``, ``POS``, ``FUZZY``, ``IS_SENT_START``, a value of the wrong type),
and autocode then matches with spaCy as before.

What a pattern matches: every token span ``[start, end)`` (at least one token) that the pattern's tokens
can consume in order, each token description matching one token (``!``: one token it does *not* match),
``?`` zero or one, ``*`` zero or more, ``+`` one or more, ``{n,m}`` n to m times; each span once. That is
what spaCy's Matcher returns for one pattern (a property test compares the two on random patterns and
texts, tests/test_token_cache.py); the order of the spans is text order (start, then end).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from ..text.tokens import FLAGS

_STRING_ATTRS = {"ORTH": "orth", "TEXT": "orth", "LOWER": "lower", "LEMMA": "lemma"}
_STRING_PREDICATES = {"IN", "NOT_IN", "REGEX"}
_COMPARE = {"==": lambda a, b: a == b, "!=": lambda a, b: a != b, ">=": lambda a, b: a >= b,
            "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, "<": lambda a, b: a < b}
_BOUNDS = re.compile(r"\{(\d*)(,?)(\d*)\}")


class TokenView:
    """The tokens of one segment as the matchers see them: text, lower-case form, lemma and (when a pattern
    tests one) the lexical flags of each token, in lists of the same length."""

    __slots__ = ("orth", "lower", "lemma", "flags")

    def __init__(self, orth: list[str], lower: list[str], lemma: list[str], flags: list[int] | None = None):
        self.orth, self.lower, self.lemma, self.flags = orth, lower, lemma, flags

    @classmethod
    def from_text(cls, text: str, starts: list[int], ends: list[int], lemma: Callable[[str], str],
                  flags: dict[str, int] | None = None, known: dict[str, str] | None = None) -> "TokenView":
        """The view of ``text`` cut into tokens at ``starts`` and ``ends`` (:func:`qualcode.text.tokens.bounds`):
        each token's lower-case form is ``lower()`` of its text and its lemma ``lemma(lower)`` (looked up in
        ``known`` first, the lemmatiser's own table of them); with ``flags`` (token text -> bit mask), the
        flags too (KeyError for a token text it lacks)."""
        orth = list(map(text.__getitem__, map(slice, starts, ends)))
        lower = list(map(str.lower, orth))
        try:
            lemmas = list(map((known or {}).__getitem__, lower))
        except KeyError:
            known = known or {}
            lemmas = [known[w] if w in known else lemma(w) for w in lower]
        return cls(orth, lower, lemmas, None if flags is None else list(map(flags.__getitem__, orth)))


Test = Callable[[TokenView, int], bool]


def _is_str_list(v) -> bool:
    return isinstance(v, list) and all(isinstance(x, str) for x in v)


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _string_test(field: str, value) -> Test | None:
    if isinstance(value, str):
        return lambda t, i: getattr(t, field)[i] == value
    if not isinstance(value, dict) or not value or not set(value) <= _STRING_PREDICATES:
        return None
    tests: list[Test] = []
    if "IN" in value:
        if not _is_str_list(value["IN"]):
            return None
        allowed = frozenset(value["IN"])
        tests.append(lambda t, i: getattr(t, field)[i] in allowed)
    if "NOT_IN" in value:
        if not _is_str_list(value["NOT_IN"]):
            return None
        banned = frozenset(value["NOT_IN"])
        tests.append(lambda t, i: getattr(t, field)[i] not in banned)
    if "REGEX" in value:
        if not isinstance(value["REGEX"], str):
            return None
        try:
            rx = re.compile(value["REGEX"])   # as spaCy: re.search on the attribute's text, case kept
        except re.error:
            return None
        tests.append(lambda t, i: rx.search(getattr(t, field)[i]) is not None)
    return tests[0] if len(tests) == 1 else (lambda t, i: all(f(t, i) for f in tests))


def _length_test(value) -> Test | None:
    if _is_int(value):
        return lambda t, i: len(t.orth[i]) == value
    if not isinstance(value, dict) or not value or not set(value) <= ({"IN", "NOT_IN"} | set(_COMPARE)):
        return None
    tests: list[Test] = []
    for key, v in value.items():
        if key in ("IN", "NOT_IN"):
            if not isinstance(v, list) or not all(_is_int(x) for x in v):
                return None
            values, inside = frozenset(v), key == "IN"
            tests.append(lambda t, i, values=values, inside=inside: (len(t.orth[i]) in values) == inside)
        else:
            if not _is_int(v):
                return None
            compare = _COMPARE[key]
            tests.append(lambda t, i, compare=compare, v=v: compare(len(t.orth[i]), v))
    return tests[0] if len(tests) == 1 else (lambda t, i: all(f(t, i) for f in tests))


def _flag_test(bit: int, value) -> Test | None:
    if not isinstance(value, bool):
        return None
    return lambda t, i: bool(t.flags[i] & bit) == value


def _token_test(spec: dict) -> tuple[Test, bool] | None:
    """One token description as a test of a token (and whether it reads flags), or None if unsupported."""
    tests: list[Test] = []
    uses_flags = False
    for attr, value in spec.items():
        if not isinstance(attr, str):
            return None
        if attr in _STRING_ATTRS:
            test = _string_test(_STRING_ATTRS[attr], value)
        elif attr == "LENGTH":
            test = _length_test(value)
        elif attr in FLAGS:
            test, uses_flags = _flag_test(FLAGS[attr], value), True
        else:
            return None
        if test is None:
            return None
        tests.append(test)
    if not tests:
        return (lambda t, i: True), uses_flags
    if len(tests) == 1:
        return tests[0], uses_flags
    return (lambda t, i: all(f(t, i) for f in tests)), uses_flags


def _steps(op) -> list[str] | None:
    """The operator as a run of simple steps: '1' (one token), '!', '?' or '*'; None if unsupported."""
    if op is None:
        return ["1"]
    if not isinstance(op, str):
        return None
    if op in ("!", "?", "*"):
        return [op]
    if op == "+":
        return ["1", "*"]
    m = _BOUNDS.fullmatch(op)
    if not m:
        return None
    low, comma, high = m.groups()
    if not comma:
        return ["1"] * int(low) if low and int(low) >= 1 else None        # {n}
    if not low and not high:
        return None                                                        # {,}
    n = int(low or 0)
    if high:
        m_ = int(high)
        return ["1"] * n + ["?"] * (m_ - n) if m_ >= max(n, 1) else None  # {n,m}, {,m}
    return ["1"] * n + ["*"]                                               # {n,}


@dataclass
class TokenPattern:
    """A compiled token pattern: one (test, step) per simple step."""

    steps: list[tuple[Test, str]]
    uses_flags: bool
    _start: frozenset = frozenset()

    def __post_init__(self) -> None:
        self._start = frozenset(self._closure({0}))

    def _closure(self, states: set[int]) -> set[int]:
        """The states reachable without consuming a token: past '?' and '*' steps."""
        todo = list(states)
        k = len(self.steps)
        while todo:
            p = todo.pop()
            if p < k and self.steps[p][1] in ("?", "*") and p + 1 not in states:
                states.add(p + 1)
                todo.append(p + 1)
        return states

    def find(self, tokens: TokenView) -> list[tuple[int, int]]:
        """Every token span (start, end) the pattern matches, in text order."""
        k = len(self.steps)
        steps = self.steps
        n = len(tokens.orth)
        found = []
        for start in range(n):
            states = set(self._start)
            for i in range(start, n):
                nxt: set[int] = set()
                for p in states:
                    if p == k:
                        continue
                    test, op = steps[p]
                    if test(tokens, i) != (op == "!"):
                        nxt.add(p if op == "*" else p + 1)
                if not nxt:
                    break
                states = self._closure(nxt)
                if k in states:
                    found.append((start, i + 1))
        return found


def compile_pattern(pattern) -> TokenPattern | None:
    """A codebook token pattern (a list of token descriptions) compiled for :meth:`TokenPattern.find`, or
    None when it uses something this matcher does not cover (autocode then uses spaCy's Matcher)."""
    if not isinstance(pattern, list) or not pattern:
        return None
    steps: list[tuple[Test, str]] = []
    uses_flags = False
    for spec in pattern:
        if not isinstance(spec, dict):
            return None
        ops = _steps(spec.get("OP"))
        made = _token_test({k: v for k, v in spec.items() if k != "OP"})
        if ops is None or made is None:
            return None
        test, flags = made
        uses_flags |= flags
        steps.extend((test, op) for op in ops)
    if not steps:
        return None
    return TokenPattern(steps, uses_flags)
