"""Which unit a REFI-QDA file's selection positions count, decided from the file itself.

REFI-QDA says positions count characters, but tools differ: NVivo (for Windows and, since some
version, for Mac) counts UTF-16 code units (an emoji counts 2), a tool may count a CRLF line
break as one position or two, and one may count a leading byte-order mark. The name of the
tool that wrote the file does not tell which, so each source is decided on evidence:

1. the candidate units are {characters, UTF-16 units} x {CRLF as 2, CRLF as 1} x {BOM not
   counted, BOM counted}, only along the dimensions the source's text has (an astral
   character, a CRLF, a BOM); candidates that give every selection the same span are one;
2. selection names that quote their text (ATLAS.ti and qualcode write the quote, cut with
   "…") decide when some match under one candidate and not another;
3. otherwise a real coder's selections start and end on word boundaries (NVivo often takes
   whole lines): the candidate under which most of the selections that differ do so wins,
   when it wins clearly;
4. when no candidate wins clearly, the import is refused with the figures and the user names
   the unit with ``--offsets``.

Everything here is linear in the number of selections (a few bisections and string
comparisons each, for each candidate that differs).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from ..errors import InputError

# a candidate must win on at least this many differing selections, by this margin
MIN_DIFFERING = 3
MIN_SHARE = 0.6          # of the differing selections on word boundaries for the winner
QUOTE_RATIO = 10         # quoted names: the winner matches at least 10 times as many as the other


# Per dimension of a counting unit: its words (when set, when not) for people and for a spec string,
# and the field that says which.
_WORDS = {
    "unit": (("UTF-16 units", "characters"), ("utf16", "codepoints"), "utf16"),
    "crlf": (("CRLF as 2", "CRLF as 1"), ("crlf2", "crlf1"), "crlf2"),
    "bom": (("BOM counted", "BOM not counted"), ("bom", "nobom"), "bom"),
}


@dataclass(frozen=True)
class Unit:
    """How positions are counted: UTF-16 units or characters, CRLF as 2 or 1, BOM counted or not."""

    utf16: bool = False
    crlf2: bool = True
    bom: bool = False

    def _words(self, dims: tuple[str, ...], form: int) -> list[str]:
        """Each dimension in ``dims`` in words: ``form`` 0 for people, 1 for a spec string."""
        return [_WORDS[d][form][0 if getattr(self, _WORDS[d][2]) else 1] for d in _WORDS if d in dims]

    def label(self, dims: tuple[str, ...] = ("unit", "crlf", "bom")) -> str:
        return ", ".join(self._words(dims, 0)) or "characters"

    def spec(self, dims: tuple[str, ...] = ("unit", "crlf", "bom")) -> str:
        return ",".join(self._words(dims, 1)) or "codepoints"


# the order in which equal candidates are named (the standard's reading first)
ALL_UNITS = tuple(Unit(u, c, b) for b in (False, True) for c in (True, False) for u in (False, True))

SPEC_WORDS = {"codepoints": ("utf16", False), "characters": ("utf16", False), "utf16": ("utf16", True),
              "crlf2": ("crlf2", True), "crlf1": ("crlf2", False), "bom": ("bom", True), "nobom": ("bom", False)}
SPEC_HELP = ("codepoints or utf16, optionally followed by ,crlf1 or ,crlf2 (a CRLF line break counts as 1 or 2) "
             "and ,bom or ,nobom (a leading byte-order mark counts as a position or not), e.g. 'utf16' or "
             "'codepoints,crlf1'")


def parse_offsets(spec: str | None) -> dict[str, bool]:
    """``'utf16,crlf1'`` -> ``{'utf16': True, 'crlf2': False}``. Raises InputError on a bad word."""
    out: dict[str, bool] = {}
    if not spec:
        return out
    for word in (w.strip().lower() for w in spec.split(",")):
        if word not in SPEC_WORDS:
            raise InputError(f"--offsets: '{word}' is not a unit; give {SPEC_HELP}")
        key, value = SPEC_WORDS[word]
        if key in out and out[key] != value:
            what = {"utf16": "the unit", "crlf2": "CRLF", "bom": "the BOM"}[key]
            raise InputError(f"--offsets: '{spec}' says two different things about {what}; give {SPEC_HELP}")
        out[key] = value
    return out


def _matches_spec(unit: Unit, fixed: dict[str, bool]) -> bool:
    return all(getattr(unit, k) == v for k, v in fixed.items())


# ------------------------------------------------------------ word boundaries
def start_ok(text: str, o: int) -> bool:
    """A selection starting at ``o`` starts a word (or line): not inside a word, not on a space."""
    return o < len(text) and not text[o].isspace() and (o == 0 or not text[o - 1].isalnum())


def end_ok(text: str, o: int) -> bool:
    """A selection ending at ``o`` ends a word, a sentence or a line: not inside a word, not after a space
    (a line break is fine: a whole line taken with its break)."""
    if o <= 0:
        return False
    before = text[o - 1]
    if before.isspace() and before != "\n":
        return False
    return o == len(text) or not (before.isalnum() and text[o].isalnum())


# ------------------------------------------------------------------ decision
@dataclass
class UnitChoice:
    """What was decided for one source, and why (for the import summary)."""

    source: str
    unit: Unit
    dims: tuple[str, ...]            # the dimensions that matter for this text
    reason: str
    evidence: bool = True            # False when every candidate gives the same positions
    spans: list | None = None        # the selections' spans in this unit, when already worked out
    own: bool = False                # decided from its own selections alone (nothing given or known)

    def line(self) -> str:
        return f"{self.source}: {self.unit.label(self.dims)} ({self.reason})"


@dataclass
class _Candidate:
    unit: Unit
    spans: list                      # per selection: (start, end) in the stored text, or None
    quotes: list[bool]               # per selection: its name quotes the text at its span
    words: list[bool]                # per selection: starts and ends on word boundaries
    members: list                    # every Unit that gives these spans


def features(index) -> tuple[str, ...]:
    """The dimensions along which candidates can differ for this text."""
    dims = []
    if index.astral:
        dims.append("unit")
    if index.crlf:
        dims.append("crlf")
    if index.bom:
        dims.append("bom")
    return tuple(dims)


def _no_difference_reason(dims: tuple[str, ...], n: int) -> str:
    if not dims:
        return "no characters beyond U+FFFF, no CRLF, no BOM: every unit gives the same positions"
    return f"every unit gives the same positions for its {n} selection(s)"


class UnclearUnit(InputError):
    """A source's selections cannot tell how its positions count (the message has the figures)."""


def decide_unit(source, index, fixed: dict[str, bool], path: str, quote_shaped, quote_matches,
                why: str | None = None, convention: bool = True) -> UnitChoice:
    """Decide how ``source``'s selection positions count, or raise :class:`UnclearUnit` naming the figures.

    ``fixed`` holds what the user said with ``--offsets`` (or, with ``why``, what is known otherwise);
    with ``convention`` what ``fixed`` leaves open and the file cannot tell follows the convention."""
    dims = features(index)
    sels = source.selections
    user = why or "--offsets " + ",".join(k if v else {"utf16": "codepoints", "crlf2": "crlf1", "bom": "nobom"}[k]
                                          for k, v in fixed.items())
    # only the dimensions this text has; the user's --offsets fixes some of them
    in_play = {k: v for k, v in fixed.items() if _DIM[k] in dims}
    units = [u for u in ALL_UNITS if ("unit" in dims or not u.utf16) and ("crlf" in dims or u.crlf2)
             and ("bom" in dims or not u.bom) and _matches_spec(u, in_play)]
    if len(units) == 1:
        if fixed and dims:
            return UnitChoice(source.name, units[0], dims, f"{user}")
        return UnitChoice(source.name, units[0], dims, _no_difference_reason(dims, len(sels)), evidence=False)
    # candidates that place every selection alike are one (named by the first in ALL_UNITS' order)
    groups: dict[tuple, list[Unit]] = {}
    for u in units:
        groups.setdefault(tuple(index.locate_all(sels, u)), []).append(u)
    if len(groups) == 1:
        u, spans = units[0], list(next(iter(groups)))
        if fixed and dims:
            return UnitChoice(source.name, u, dims, f"{user}", spans=spans)
        return UnitChoice(source.name, u, dims, _no_difference_reason(dims, len(sels)), evidence=False, spans=spans)
    text = index.text
    named = [bool(s.name.strip()) for s in sels]

    def evaluate(spans, members) -> _Candidate:
        quotes, words = [], []
        for s, span, has_name in zip(sels, spans, named):
            if span is None:
                quotes.append(False)
                words.append(False)
                continue
            a, b = span
            quotes.append(has_name and quote_matches(s.name, text[a:b]))
            words.append(b > a and start_ok(text, a) and end_ok(text, b))
        return _Candidate(members[0], list(spans), quotes, words, members)

    # a way of counting that puts a selection outside the text or inside a character is out, when another
    # does not and fits (weighed first, alone: the common case needs no more)
    valid = [(spans, members) for spans, members in groups.items() if None not in spans]
    if len(valid) == 1:
        only = evaluate(*valid[0])
        if _fits(only, named):
            return UnitChoice(source.name, only.unit, dims, (f"{user}; " if fixed else "")
                              + _explain(only, None, sels, quote_shaped, dims)
                              + "; every other way of counting puts a selection outside the text or inside a "
                              "character", spans=only.spans, own=not fixed)
    cands = [evaluate(spans, members) for spans, members in (valid if len(valid) > 1 else groups.items())]
    cands.sort(key=lambda c: (-sum(c.quotes), -sum(c.words), ALL_UNITS.index(c.unit)))
    best = cands[0]
    for other in cands[1:]:
        verdict = _compare(best, other, dims)
        if verdict is None:
            continue
        if fixed and convention:
            # the user named the unit; what the file cannot tell follows the convention (CRLF counted as
            # written, BOM not counted)
            conv = Unit(utf16=fixed.get("utf16", False), crlf2=fixed.get("crlf2", True), bom=fixed.get("bom", False))
            c = next((c for c in cands if any(_same_in(conv, m, dims) for m in c.members)), best)
            rest = [d for d in dims if _KEY[d] not in fixed]
            return UnitChoice(source.name, c.unit, dims,
                              f"{user}; {c.unit.label(tuple(rest))} by convention, as the file cannot "
                              f"tell: {verdict}", spans=c.spans)
        show = tuple(d for d in dims if d == "unit" or getattr(best.unit, _KEY[d]) != getattr(other.unit, _KEY[d]))
        raise UnclearUnit(
            f"cannot tell how source '{source.name}' counts selection positions: {verdict}. Nothing was "
            f"imported. If you know how the tool that wrote the file counts, rerun with --offsets "
            f"{best.unit.spec(show)} or --offsets {other.unit.spec(show)}", path=path)
    return UnitChoice(source.name, best.unit, dims, (f"{user}; " if fixed else "")
                      + _explain(best, cands[1], sels, quote_shaped, dims), spans=best.spans, own=not fixed)


def decide_units(placing, fixed: dict[str, bool], path: str, quote_shaped, quote_matches,
                 why: str | None = None) -> list[UnitChoice]:
    """Decide every source of a file. A source whose own selections cannot tell takes what the file's
    other sources showed clearly (one tool counts one way), where they all agree; else the import is
    refused with that source's figures."""
    choices: list[UnitChoice | None] = []
    unclear: list[tuple[int, UnclearUnit]] = []
    for i, (src, index) in enumerate(placing):
        try:
            choices.append(decide_unit(src, index, fixed, path, quote_shaped, quote_matches, why))
        except UnclearUnit as exc:
            choices.append(None)
            unclear.append((i, exc))
    decided = [c for c in choices if c is not None and c.own]
    for i, exc in unclear:
        src, index = placing[i]
        known, shown = dict(fixed), []
        for dim in features(index):
            key = _KEY[dim]
            if key in known:
                continue
            values = {getattr(c.unit, key) for c in decided if dim in c.dims}
            if len(values) == 1:
                known[key] = values.pop()
                shown += [c.source for c in decided if dim in c.dims and c.source not in shown]
        if known == fixed:
            raise exc
        names = ", ".join(shown[:3]) + (f" and {len(shown) - 3} more" if len(shown) > 3 else "")
        told = Unit(**{k: known.get(k, v) for k, v in (("utf16", False), ("crlf2", True), ("bom", False))})
        learnt = tuple(_DIM[k] for k in known if k not in fixed)
        try:
            choice = decide_unit(src, index, known, path, quote_shaped, quote_matches,
                                 why=f"{told.label(learnt)} as the file's other sources show ({names}); its own "
                                     f"selections cannot tell", convention=bool(fixed) and why is None)
        except UnclearUnit:
            raise exc from None
        choices[i] = choice
    return choices


_DIM = {"utf16": "unit", "crlf2": "crlf", "bom": "bom"}
_KEY = {v: k for k, v in _DIM.items()}


def _same_in(a: Unit, b: Unit, dims: tuple[str, ...]) -> bool:
    return all(getattr(a, _KEY[d]) == getattr(b, _KEY[d]) for d in dims)


def _fits(c: _Candidate, named: list[bool]) -> bool:
    """Does a candidate fit on its own: most selections on word boundaries, or most names quoting?"""
    n_named = sum(named)
    return sum(c.words) >= MIN_SHARE * len(c.words) or bool(n_named and sum(c.quotes) >= MIN_SHARE * n_named)


def _differing(a: _Candidate, b: _Candidate) -> list[int]:
    return [i for i, (x, y) in enumerate(zip(a.spans, b.spans)) if x != y]


def _compare(a: _Candidate, b: _Candidate, dims: tuple[str, ...]) -> str | None:
    """None when ``a`` clearly fits better than ``b``, else the figures that say it does not."""
    diff = _differing(a, b)
    qa = sum(1 for i in diff if a.quotes[i] and not b.quotes[i])
    qb = sum(1 for i in diff if b.quotes[i] and not a.quotes[i])
    if qa or qb:
        if qa >= 1 and qb * QUOTE_RATIO <= qa:
            return None
        told = [i for i in diff if a.quotes[i] or b.quotes[i]]
        ma, mb = sum(1 for i in told if a.quotes[i]), sum(1 for i in told if b.quotes[i])
        return (f"{ma} of {len(told)} quoted names match counting {a.unit.label(dims)}, {mb} of {len(told)} "
                f"counting {b.unit.label(dims)}")
    wa = sum(1 for i in diff if a.words[i])
    wb = sum(1 for i in diff if b.words[i])
    n = len(diff)
    if n >= MIN_DIFFERING and wa >= MIN_SHARE * n and wa - wb >= max(2, n / 3):
        return None
    few = f" (only {n} selection(s) differ between the two; at least {MIN_DIFFERING} are needed)" \
        if n < MIN_DIFFERING else ""
    return (f"{wa} of {n} selections start and end on word boundaries counting {a.unit.label(dims)}, "
            f"{wb} of {n} counting {b.unit.label(dims)}{few}")


def _explain(best: _Candidate, other: _Candidate | None, sels, quote_shaped, dims) -> str:
    """Why ``best`` was taken, in figures."""
    if other is not None:
        diff = _differing(best, other)
        if any(best.quotes[i] != other.quotes[i] for i in diff):
            shaped = sum(1 for s, sp, q in zip(sels, best.spans, best.quotes)
                         if q or (sp is not None and quote_shaped(s.name, s.start, s.end)))
            return f"{sum(best.quotes)} of {shaped} quoted names match"
        n = len(diff)
        return (f"{sum(1 for i in diff if best.words[i])} of {n} selections that differ start and end on word "
                f"boundaries, {sum(1 for i in diff if other.words[i])} of {n} counting {other.unit.label(dims)}")
    shaped = sum(1 for s, sp, q in zip(sels, best.spans, best.quotes)
                 if q or (sp is not None and quote_shaped(s.name, s.start, s.end)))
    if shaped:
        return f"{sum(best.quotes)} of {shaped} quoted names match"
    return f"{sum(best.words)} of {len(sels)} selections start and end on word boundaries"



def fit_warning(source) -> list[str]:
    """For a source placed without deciding (one way of counting): a warning when most of its selections
    start or end inside words, the sign of a unit qualcode does not know (UTF-8 bytes, a CRLF the XML
    parser already turned into LF); a real coder selects whole words."""
    spans = [s.placed for s in source.selections if s.placed]
    if len(spans) < MIN_DIFFERING:
        return []
    text = source.text
    good = sum(1 for a, b in spans if b > a and start_ok(text, a) and end_ok(text, b))
    if good >= len(spans) / 2:
        return []
    return [f"source '{source.name}': only {good} of {len(spans)} selections start and end on word boundaries: the "
            "tool may count positions in a way this file does not show (qualcode reads characters or UTF-16 units); "
            f"check its codings with qualcode segments --source {source.name} --codes"]


# ------------------------------------------------------------- text as read
class ReadBack:
    """The text of a selection read straight from the source file's text in a given unit, by slicing
    (the file's text re-encoded as UTF-16 when positions count UTF-16 units), without the position
    index. Its hash is kept with each imported segment so that ``qualcode review`` can tell when a
    coding's text is no longer what the file said (and the import checks the index against it)."""

    def __init__(self, raw: str, bom: bool, unit: Unit):
        base = raw if unit.crlf2 else raw.replace("\r\n", "\n").replace("\r", "\n")
        self.lead = 1 if unit.bom and bom else 0
        if self.lead:
            base = "\ufeff" + base
        self.utf16 = unit.utf16
        self.base = base.encode("utf-16-le", "surrogatepass") if unit.utf16 else base
        self.crlf2 = unit.crlf2

    def _low_surrogate(self, pos: int) -> bool:
        return 0xDC00 <= int.from_bytes(self.base[2 * pos: 2 * pos + 2], "little") <= 0xDFFF

    def text(self, start: int, end: int) -> str | None:
        if self.utf16:
            if self._low_surrogate(start) or self._low_surrogate(end):
                return None                   # between the two halves of a character
            piece = self.base[2 * start: 2 * end].decode("utf-16-le")
            nxt = self.base[2 * end: 2 * end + 2].decode("utf-16-le", "replace")
        else:
            piece, nxt = self.base[start:end], self.base[end:end + 1]
        if self.lead and start == 0 and piece.startswith("\ufeff"):
            piece = piece[1:]
        if self.crlf2 and piece.endswith("\r") and nxt == "\n":
            piece = piece[:-1]                # ends between CR and LF: the line break is not in it
        return piece.replace("\r\n", "\n").replace("\r", "\n")


def text_hash(text: str) -> str:
    """The short hash kept for a segment's text (16 hex digits of its SHA-256)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]
