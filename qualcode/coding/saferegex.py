"""Regular expressions from a codebook, run so that a bad one cannot hang ``autocode``.

Python's own ``re`` backtracks without limit: ``(a|aa)+$`` on sixty a's runs for hours and
cannot be interrupted. A codebook's ``regex`` rules are therefore run with the `regex`
package, whose searches take a time-out: a rule that needs more than
:data:`REGEX_TIMEOUT` seconds on one segment stops ``autocode`` with an error naming the
code and the expression (nothing is written).

Token patterns' ``REGEX`` predicates are run by spaCy with ``re``, so they are checked
when the codebook is validated instead (:func:`nested_repeat`): a repeat inside a repeat
without an upper bound, the shape of every catastrophic expression, is refused.
"""

from __future__ import annotations

import re

from ..errors import CodebookError

REGEX_TIMEOUT = 1.0  # seconds one rule may search one segment


class TimedRegex:
    """A case-insensitive codebook expression with a per-search time limit.

    ``pattern`` and ``flags`` are those of the equivalent ``re`` expression (what
    :func:`qualcode.coding.autocode.regex_needs` reads); :meth:`finditer` runs the search."""

    def __init__(self, pattern: str, code: str, flags: int = re.IGNORECASE):
        import regex

        self.pattern = pattern
        self.flags = flags
        self.code = code
        try:
            re.compile(pattern, flags)
            self._rx = regex.compile(pattern, _regex_flags(flags))
        except (re.error, regex.error) as exc:
            raise CodebookError(f"invalid regular expression '{pattern}': {exc}.", where=f"code {code}") from None

    def finditer(self, text: str):
        try:
            # the time-out covers the whole search of this text: materialise it inside the guard
            return iter(list(self._rx.finditer(text, timeout=REGEX_TIMEOUT)))
        except TimeoutError:
            raise CodebookError(
                f"the regular expression '{self.pattern}' took more than {REGEX_TIMEOUT:g} s on one segment of "
                f"{len(text)} characters (it backtracks without end, as '(a|aa)+' does); rewrite it without a "
                "repeat inside a repeat, e.g. 'a+' instead of '(a|aa)+'. Nothing was written.",
                where=f"code {self.code}") from None

    def __repr__(self) -> str:
        return f"TimedRegex({self.pattern!r}, code={self.code!r})"


def _regex_flags(flags: int) -> int:
    import regex

    out = regex.VERSION0
    for plain, theirs in ((re.IGNORECASE, regex.IGNORECASE), (re.MULTILINE, regex.MULTILINE),
                          (re.DOTALL, regex.DOTALL), (re.VERBOSE, regex.VERBOSE), (re.ASCII, regex.ASCII)):
        if flags & plain:
            out |= theirs
    return out


def nested_repeat(pattern: str) -> bool:
    """Does ``pattern`` repeat, without an upper bound, something that itself repeats or branches
    (``(a+)+``, ``(\\w*\\s?)*``, ``(a|aa)+``)? Those are the expressions whose backtracking can
    grow exponentially; bounded repeats (``(\\w+ ){0,3}``) are allowed."""
    try:
        from re import _constants as sre, _parser as parser  # Python 3.11+
    except ImportError:  # pragma: no cover - older Pythons
        import sre_constants as sre
        import sre_parse as parser
    repeats = {getattr(sre, n) for n in ("MAX_REPEAT", "MIN_REPEAT") if hasattr(sre, n)}
    unbounded = sre.MAXREPEAT

    def varies(items) -> bool:
        """Can this sub-expression match in more than one way (a repeat or an alternation)?"""
        for op, av in items:
            if op in repeats and av[0] != av[1]:
                return True
            if op is sre.BRANCH:
                return True
            if op is sre.SUBPATTERN and varies(av[-1]):
                return True
            if op in repeats and varies(av[2]):
                return True
        return False

    def bad(items) -> bool:
        for op, av in items:
            if op in repeats:
                if av[1] == unbounded and varies(av[2]):
                    return True
                if bad(av[2]):
                    return True
            elif op is sre.SUBPATTERN:
                if bad(av[-1]):
                    return True
            elif op is sre.BRANCH:
                if any(bad(b) for b in av[1]):
                    return True
        return False

    try:
        return bad(parser.parse(pattern))
    except Exception:  # not an expression re reads: validation reports that separately
        return False
