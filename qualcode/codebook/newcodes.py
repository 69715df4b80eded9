"""New codes from where the student works: found by id or name, or created.

A code typed in the coding sheet or found in a coded table that is not in the codebook yet is
found by its id or its name, or created.

* :func:`find_code` resolves what someone typed to a code key: the key itself or the code's name, in
  any capitals and spacing ("Drempels, angst en stigma" is ``pw_drempels_stigma``).
* :func:`did_you_mean` suggests codes for what it cannot resolve, comparing the typed text with
  ids *and* names (and with the words of names), so "schuld" suggests the code whose name holds
  "Schulden" rather than whichever id happens to be spelt alike.
* :func:`plan_new_codes` makes a key from each new name (:func:`qualcode.codebook.ids.slug`:
  "1 - None" -> ``c_1_none``, unique in the project), keeps the name as written, and checks the
  name (not empty, letters or digits, no control characters, at most :data:`MAX_NAME` characters);
  :func:`create_codes` adds them (and their theme, by default "nieuw" in a Dutch project, "new"
  otherwise) inside the caller's act.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from ..errors import InputError
from ..files.textsafe import CONTROL_CHARACTERS
from .ids import slug

MAX_NAME = 120
NEW_THEME = {"nl": ("nieuw", "Nieuw"), "en": ("new", "New")}
NEW_THEME_COLOUR = "#999999"


def _norm(text: str) -> str:
    return " ".join(str(text).split()).casefold()


def find_code(typed: str, codes: list[dict]) -> str | None:
    """The key of the code ``typed`` names (its key or its name, any capitals and spacing), else None."""
    t = _norm(typed)
    if not t:
        return None
    for c in codes:
        if _norm(c["key"]) == t:
            return c["key"]
    for c in codes:
        if _norm(c["name"]) == t:
            return c["key"]
    return None


def did_you_mean(typed: str, codes: list[dict], n: int = 3) -> str:
    """A ' Did you mean: key (name), …?' suffix comparing ``typed`` with ids, names and the words of names;
    '' when nothing is close."""
    t = _norm(typed)
    if not t:
        return ""
    scored = []
    for c in codes:
        key, name = _norm(c["key"]), _norm(c["name"])
        words = re.findall(r"\w+", name) + [w for w in re.split(r"[_.-]+", key) if w]
        best = max([difflib.SequenceMatcher(None, t, key).ratio(), difflib.SequenceMatcher(None, t, name).ratio()]
                   + [difflib.SequenceMatcher(None, t, w).ratio() for w in words if len(w) >= 3]
                   + [0.9 for w in words if len(t) >= 4 and len(w) >= 4 and (w.startswith(t) or t.startswith(w))])
        if best >= 0.6:
            scored.append((-best, c["key"], c["name"]))
    scored.sort()
    if not scored:
        return ""
    shown = [key if _norm(name) == _norm(key) else f"{key} ({name})" for _, key, name in scored[:n]]
    return f" Did you mean: {', '.join(shown)}?"


@dataclass
class NewCode:
    key: str
    name: str
    theme: str              # theme key
    theme_name: str = ""    # for a new theme
    description: str = ""
    include: str = ""
    exclude: str = ""
    example: str = ""


def check_name(name: str, where: str = "") -> str:
    """The name as written (outer spaces off), or an InputError saying what is wrong with it."""
    shown = str(name).strip()
    at = f"{where}: " if where else ""
    if not shown:
        raise InputError(f"{at}a new code needs a name; the cell is empty.")
    if CONTROL_CHARACTERS.search(shown):
        raise InputError(f"{at}the code name {shown[:40]!r} holds control characters (a tab or a line break "
                         "from a paste?); type the name again.")
    if len(shown) > MAX_NAME:
        raise InputError(f"{at}the code name '{shown[:40]}…' is {len(shown)} characters long; a code name has at "
                         f"most {MAX_NAME} (is it text pasted into a code cell?).")
    if not re.search(r"\w", shown):
        raise InputError(f"{at}the code name '{shown}' has no letters or digits; give the code a name.")
    return shown


def new_theme(language: str) -> tuple[str, str]:
    """(key, name) of the theme new codes go under when nothing else is said: 'nieuw' or 'new'."""
    return NEW_THEME.get(language, NEW_THEME["en"])


def plan_new_codes(store, names: list[str], *, theme: str | None = None, theme_name: str = "",
                   where: dict[str, str] | None = None) -> list[NewCode]:
    """NewCode for each distinct name (in order), with a unique key made from it. ``theme``: the theme key
    to put them under (default: 'nieuw'/'new'). Raises an InputError naming every bad name."""
    taken = {c["key"] for c in store.codes()}
    if theme is None:
        theme, theme_name = new_theme(store.language)
    out: list[NewCode] = []
    problems = []
    seen: set[str] = set()
    for raw in names:
        try:
            name = check_name(raw, (where or {}).get(raw, ""))
        except InputError as exc:
            problems.append(str(exc))
            continue
        if _norm(name) in seen:
            continue
        seen.add(_norm(name))
        base = slug(name)
        key, n = base, 2
        while key in taken:
            key, n = f"{base}_{n}", n + 1
        taken.add(key)
        out.append(NewCode(key=key, name=name, theme=theme, theme_name=theme_name))
    if problems:
        raise InputError("; ".join(problems) if len(problems) == 1 else
                         f"{len(problems)} bad code names; nothing was written:\n" + "\n".join(f"  {p}" for p in problems))
    return out


def create_codes(store, new: list[NewCode]) -> list[str]:
    """Add the codes (and any theme they name that does not exist yet) inside the caller's act; returns
    the keys added."""
    themes = {t["key"]: t["id"] for t in store.themes()}
    for c in new:
        if c.theme not in themes:
            themes[c.theme] = store.add_theme(c.theme, c.theme_name or c.theme, NEW_THEME_COLOUR)
        store.add_code(c.key, c.name, themes[c.theme], description=c.description, include=c.include,
                       exclude=c.exclude, example=c.example)
    return [c.key for c in new]
