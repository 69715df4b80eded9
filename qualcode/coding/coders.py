"""Whose codings an output shows: the ``--coder`` option of workbook, report, counts, quotes and review.

A project remembers its *analyst* (``qualcode config analyst NAME``; the first person who codes
becomes the analyst when none is set). Without ``--coder`` an output shows the analyst's codings;
without an analyst, every person's codings. Rule matches (coder ``rules``) are never mixed in
unless asked for with ``--coder rules``; comparing two coders is the agreement workbook's job.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InputError, unknown

RULES_CODER = "rules"


@dataclass(frozen=True)
class Whose:
    """The coders an output shows and why: ``how`` is 'asked' (--coder), 'analyst' or 'everyone'."""

    coders: tuple[str, ...]
    how: str

    @property
    def rules(self) -> bool:
        return RULES_CODER in self.coders

    def describe(self, labels: dict | None = None) -> str:
        """One line for the top of an output (in the catalogue's language when ``labels`` is given)."""
        from ..reports.catalogues import catalogue

        L = labels or catalogue("en")
        names = ", ".join(self.coders) if self.coders else L["whose_nobody"]
        line = L[f"whose_{self.how}"].format(names=names)
        if self.rules:
            line += " " + L["whose_rules"]
        return line


def resolve_coders(store, asked=None) -> Whose:
    """The coders an output shows: ``asked`` (names, e.g. from a repeatable --coder), else the
    project's analyst, else every coder but ``rules``. Raises NotFoundError for an unknown name."""
    names = [n.strip() for n in (asked or ()) if n and n.strip()]
    for n in asked or ():
        if "," in n:
            names = [x.strip() for a in asked for x in a.split(",") if x.strip()]
            break
    known = store.coders()
    if names:
        for n in names:
            if n not in known:
                raise unknown("coder", n, known)
        return Whose(tuple(dict.fromkeys(names)), "asked")
    analyst = store.analyst()
    if analyst:
        return Whose((analyst,), "analyst")
    return Whose(tuple(c for c in store.coders_with_codings() if c != RULES_CODER), "everyone")


def set_analyst(store, name: str, *, actor: str | None = None) -> str | None:
    """Make ``name`` the project's analyst (one audited, undoable act). Returns the previous analyst."""
    name = (name or "").strip()
    if not name or any(ch in name for ch in ",\n\t"):
        raise InputError(f"'{name}' is not a coder name; give one name without commas, e.g. 'anna'.")
    if name == RULES_CODER:
        raise InputError("'rules' is autocode's name for its rule matches, not a person; give your own name.")
    before = store.analyst() or None
    with store.act("config analyst", actor=actor, summary=f"analyst: {name}",
                   details={"analyst": name, "before": before}):
        store.ensure_coder(name)
        store.set_meta("analyst", name)
    return before
