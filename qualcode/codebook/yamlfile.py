"""The YAML codebook: load, validate, apply to a project, export.

A codebook file looks like this (see ``codebooks/README.md`` for every key)::

    name: IPS focusgroepen
    language: nl
    themes:
      - id: paid_work
        name: Betaald werk
        colour: "#E69F00"
        description: Voor- en nadelen van betaald werk
        codes:
          - id: pw_voordelen
            name: Voordelen van betaald werk
            rules:
              keywords: [structuur, trots, "zelfvertrouw*"]
              phrases: ["erbij horen"]
              patterns:
                - regex: '\\bnormaal\\s+leven'
                - tokens: [{LEMMA: eigen}, {LEMMA: geld}]

Codes sit under a theme's ``codes`` (and may nest under other codes), or in a
top-level ``codes`` list with ``theme: THEME_ID``. Every validation error names
the file, the line and the key path, e.g.
``ips.yaml, line 12, themes[0].colour: colour 'red' is not of the form #RRGGBB.``
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..files.atomic import write_text
from ..errors import CodebookError, ConflictError, close_matches

HOLDING_CODE = "uncategorised"
HOLDING_NAME = "Uncategorised (removed from the codebook)"
HOLDING_COLOUR = "#999999"

TOP_KEYS = ("name", "language", "spacy_pipeline", "description", "themes", "codes")
THEME_KEYS = ("id", "name", "colour", "description", "exclusive", "codes")
CODE_KEYS = ("id", "name", "theme", "colour", "description", "include", "exclude", "example", "rules", "exclusive",
             "codes")
RULE_KEYS = ("keywords", "phrases", "patterns", "hints")
OVERRULED_BY = "overruled_by"  # under rules: codes whose match on the same segment leaves this code out
WORD_RULE_KEYS = ("keywords", "phrases", "hints")  # lists of words (a * is a wildcard)
PATTERN_KEYS = ("regex", "tokens")
TOKEN_ATTRS = {
    "ORTH", "TEXT", "LOWER", "LEMMA", "NORM", "POS", "TAG", "MORPH", "DEP", "ENT_TYPE", "SHAPE", "LENGTH",
    "IS_ALPHA", "IS_ASCII", "IS_DIGIT", "IS_LOWER", "IS_UPPER", "IS_TITLE", "IS_PUNCT", "IS_SPACE", "IS_STOP",
    "IS_SENT_START", "LIKE_NUM", "LIKE_URL", "LIKE_EMAIL", "OP", "SPACY", "PREFIX", "SUFFIX",
}
TOKEN_PREDICATES = ("IN", "NOT_IN", "REGEX", "FUZZY", "IS_SUBSET", "IS_SUPERSET", "INTERSECTS", "==", "!=",
                    ">=", "<=", ">", "<")
TOKEN_OPS = {"!", "?", "+", "*", "{n}", "{n,m}", "{n,}", "{,m}"}
ID_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*$")
COLOUR_RE = re.compile(r"^#[0-9A-Fa-f]{6}$")
MAX_PATTERN_TOKENS = 12  # words one token pattern may span ({n,m} counts m)
MAX_OPTIONAL_WITH_OPEN = 3  # optional words ('?', {n,m}: m-n) beside a '*'/'+' in one token pattern
MAX_YAML_DEPTH = 40  # nesting of lists/mappings; a codebook with sub-codes needs about 12


def normalise_colour(value) -> str | None:
    """'#RRGGBB' in capitals for a colour written '#rrggbb' or '#rgb' (spaces around it ignored), else None."""
    v = str(value or "").strip()
    if re.fullmatch(r"#[0-9A-Fa-f]{3}", v):
        v = "#" + "".join(ch * 2 for ch in v[1:])
    return v.upper() if COLOUR_RE.match(v) else None


# ------------------------------------------------------------------ model
@dataclass
class Theme:
    id: str
    name: str
    colour: str
    description: str = ""
    exclusive: bool = False          # its top-level codes are mutually exclusive (one per segment)
    line: int | None = None


@dataclass
class Code:
    id: str
    name: str
    theme: str
    parent: str | None = None
    colour: str | None = None
    description: str = ""
    include: str = ""
    exclude: str = ""
    example: str = ""
    rules: dict = field(default_factory=dict)
    exclusive: bool = False          # its sub-codes are mutually exclusive (one per segment)
    line: int | None = None

    def has_rules(self) -> bool:
        return any(self.rules.get(k) for k in RULE_KEYS)


@dataclass
class Codebook:
    name: str
    language: str = "nl"
    spacy_pipeline: str | None = None
    description: str = ""
    themes: list[Theme] = field(default_factory=list)
    codes: list[Code] = field(default_factory=list)
    path: str = ""

    def theme(self, theme_id: str) -> Theme:
        return next(t for t in self.themes if t.id == theme_id)

    def code(self, code_id: str) -> Code:
        return next(c for c in self.codes if c.id == code_id)


# ------------------------------------------------------------------ YAML with line numbers
class _Map(dict):
    line: int = 0
    key_lines: dict


class _Seq(list):
    line: int = 0
    item_lines: list


def _loader(path: str):
    import yaml

    class Loader(yaml.SafeLoader):
        depth = 0

        def compose_node(self, parent, index):
            # A codebook never needs anchors and aliases (&name / *name), and they are how a few hundred
            # bytes of YAML expand to gigabytes ("billion laughs"): refuse them before anything is built.
            event = self.peek_event()
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
                kind = "an alias (*" if isinstance(event, yaml.AliasEvent) else "an anchor (&"
                raise CodebookError(f"{kind}{event.anchor}): YAML anchors and aliases are not allowed in a "
                                    "codebook (they can make a small file expand without limit); write each "
                                    "value out in full.", path=path, line=event.start_mark.line + 1)
            if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                if self.depth >= MAX_YAML_DEPTH:
                    raise CodebookError(f"lists and mappings are nested more than {MAX_YAML_DEPTH} levels deep; "
                                        "a codebook needs far fewer (check the indentation and brackets).",
                                        path=path, line=event.start_mark.line + 1)
                self.depth += 1
                try:
                    return super().compose_node(parent, index)
                finally:
                    self.depth -= 1
            return super().compose_node(parent, index)

    def construct_mapping(loader, node):
        m = _Map()
        m.line = node.start_mark.line + 1
        m.key_lines = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, str):
                key = str(key)
            if key in m:
                raise CodebookError(f"duplicate key '{key}' (first on line {m.key_lines[key]}).", path=path,
                                    line=key_node.start_mark.line + 1)
            m[key] = loader.construct_object(value_node, deep=True)
            m.key_lines[key] = key_node.start_mark.line + 1
        return m

    def construct_sequence(loader, node):
        s = _Seq(loader.construct_object(child, deep=True) for child in node.value)
        s.line = node.start_mark.line + 1
        s.item_lines = [child.start_mark.line + 1 for child in node.value]
        return s

    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, construct_sequence)
    return Loader


def _read_yaml(path: str, text: str) -> Any:
    import yaml

    try:
        return yaml.load(text, Loader=_loader(path))  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise CodebookError(f"invalid YAML: {exc.problem or exc}. Check indentation and quotes "
                            "(colours need quotes: \"#E69F00\").", path=path, line=line) from None
    except yaml.YAMLError as exc:
        raise CodebookError(f"invalid YAML: {exc}", path=path) from None


# ------------------------------------------------------------------ validation
class _Validator:
    def __init__(self, path: str):
        self.path = path

    def fail(self, msg: str, line: int | None, where: str | None) -> None:
        raise CodebookError(msg, path=self.path, line=line, where=where)

    def mapping(self, value, where: str, line: int | None, allowed: tuple[str, ...], what: str) -> _Map:
        if not isinstance(value, dict):
            self.fail(f"expected a mapping (key: value lines) for {what}, got {_kind(value)}.", line, where)
        for key in value:
            if key not in allowed:
                hint = close_matches(key, allowed) or f" Allowed keys: {', '.join(allowed)}."
                self.fail(f"unknown key '{key}'.{hint}", _kline(value, key), _join(where, key))
        return value

    def text(self, m: _Map, key: str, where: str, *, required: bool = False, default: str = "") -> str:
        if key not in m or m[key] is None:
            if required:
                self.fail(f"missing required key '{key}'.", getattr(m, "line", None), where)
            return default
        v = m[key]
        if isinstance(v, (dict, list)):
            self.fail(f"'{key}' must be text, got {_kind(v)}.", _kline(m, key), _join(where, key))
        if isinstance(v, bool):
            v = "yes" if v else "no"
        return str(v).strip()

    def flag(self, m: _Map, key: str, where: str) -> bool:
        if key not in m or m[key] is None:
            return False
        v = m[key]
        if not isinstance(v, bool):
            self.fail(f"'{key}' must be true or false, got {_kind(v)}.", _kline(m, key), _join(where, key))
        return v

    def ident(self, m: _Map, where: str, what: str) -> str:
        v = self.text(m, "id", where, required=True)
        if not ID_RE.match(v):
            self.fail(f"{what} id '{v}' must start with a letter and use only letters, digits, '_', '-' or '.'.",
                      _kline(m, "id"), _join(where, "id"))
        return v

    def colour(self, m: _Map, where: str, *, required: bool) -> str | None:
        if "colour" in m and m["colour"] is None:
            self.fail('colour is empty; write it in quotes, e.g. colour: "#E69F00" (a bare # starts a YAML comment).',
                      _kline(m, "colour"), _join(where, "colour"))
        v = self.text(m, "colour", where, required=required)
        if not v:
            return None
        colour = normalise_colour(v)
        if colour is None:
            self.fail(f"colour '{v}' is not of the form #RRGGBB (e.g. \"#E69F00\"; quote it in YAML).",
                      _kline(m, "colour"), _join(where, "colour"))
        return colour

    def rules(self, m: _Map, where: str, code: str = "") -> dict:
        if "rules" not in m or m["rules"] is None:
            return {}
        w = _join(where, "rules")
        r = self.mapping(m["rules"], w, _kline(m, "rules"), RULE_KEYS + (OVERRULED_BY,), "rules")
        out: dict = {}
        for key in WORD_RULE_KEYS:
            items = r.get(key)
            if items is None:
                continue
            if isinstance(items, str):
                items = [items]
            if not isinstance(items, list):
                self.fail(f"'{key}' must be a list of words, got {_kind(items)}.", _kline(r, key), _join(w, key))
            words = []
            for i, item in enumerate(items):
                if not isinstance(item, (str, int)) or not str(item).strip():
                    self.fail(f"{key} must be non-empty text, got {_kind(item)}.", _iline(items, i, r, key),
                              f"{_join(w, key)}[{i}]")
                words.append(str(item).strip())
            out[key] = words
        if r.get("patterns") is not None:
            out["patterns"] = self.patterns(r, w, code)
        if r.get(OVERRULED_BY) is not None:
            items = r[OVERRULED_BY]
            if isinstance(items, str):
                items = [items]
            if not isinstance(items, list) or not all(isinstance(i, str) and i.strip() for i in items):
                self.fail(f"'{OVERRULED_BY}' must be a list of code ids (e.g. [co_jobcoach_zorgteam]), got "
                          f"{_kind(items)}.", _kline(r, OVERRULED_BY), _join(w, OVERRULED_BY))
            out[OVERRULED_BY] = [i.strip() for i in items]
        return out

    def patterns(self, r: _Map, where: str, code: str = "") -> list[dict]:
        items = r["patterns"]
        w = _join(where, "patterns")
        if not isinstance(items, list):
            self.fail(f"'patterns' must be a list, got {_kind(items)}.", _kline(r, "patterns"), w)
        out = []
        for i, item in enumerate(items):
            wi = f"{w}[{i}]"
            line = _iline(items, i, r, "patterns")
            p = self.mapping(item, wi, line, PATTERN_KEYS, "a pattern")
            if len(p) != 1:
                self.fail("a pattern has exactly one key: 'regex' or 'tokens'.", line, wi)
            if "regex" in p:
                rx = p["regex"]
                if not isinstance(rx, str) or not rx:
                    self.fail(f"regex must be text, got {_kind(rx)}.", line, _join(wi, "regex"))
                try:
                    re.compile(rx)
                except re.error as exc:
                    self.fail(f"invalid regular expression '{rx}': {exc}.", line, _join(wi, "regex"))
                out.append({"regex": rx})
            else:
                toks = self.tokens(p["tokens"], _join(wi, "tokens"), line, code)
                self.token_complexity(toks, code, _join(wi, "tokens"), line)
                out.append({"tokens": toks})
        return out

    def tokens(self, toks, where: str, line: int, code: str = "") -> list[dict]:
        if not isinstance(toks, list) or not toks:
            self.fail("tokens must be a non-empty list of token descriptions such as {LEMMA: werk}.", line, where)
        out = []
        for j, tok in enumerate(toks):
            wj = f"{where}[{j}]"
            lj = _iline(toks, j, None, None) or line
            if not isinstance(tok, dict):
                self.fail(f"a token description must be a mapping such as {{LEMMA: werk}}, got {_kind(tok)}.",
                          lj, wj)
            norm = {}
            for k, v in tok.items():
                ku = str(k).upper()
                if ku not in TOKEN_ATTRS:
                    hint = close_matches(ku, sorted(TOKEN_ATTRS))
                    self.fail(f"unknown token attribute '{k}'.{hint}", lj, f"{wj}.{k}")
                if ku == "OP" and str(v) not in TOKEN_OPS and not re.fullmatch(r"\{\d*,?\d*\}", str(v)):
                    self.fail(f"unknown operator '{v}'; use one of ! ? + *.", lj, f"{wj}.{k}")
                if isinstance(v, dict):
                    v = {str(key).upper(): val for key, val in v.items()}
                    bad = [key for key in v if key not in TOKEN_PREDICATES]
                    if bad:
                        self.fail(f"unknown predicate '{bad[0]}'; use one of {', '.join(TOKEN_PREDICATES)}.",
                                  lj, f"{wj}.{k}")
                    if "REGEX" in v:
                        try:
                            re.compile(str(v["REGEX"]))
                        except re.error as exc:
                            self.fail(f"invalid regular expression '{v['REGEX']}': {exc}.", lj, f"{wj}.{k}")
                        from ..coding.saferegex import nested_repeat

                        if nested_repeat(str(v["REGEX"])):
                            who = f"code '{code}': " if code else ""
                            self.fail(f"{who}the regular expression '{v['REGEX']}' repeats a repeat (as '(a+)+' does), "
                                      "which can take hours on one long word; write it without the outer "
                                      "repeat, or give that repeat an upper bound such as {0,3}.", lj, f"{wj}.{k}")
                norm[ku] = _plain(v)
            out.append(norm)
        return out


    def token_complexity(self, toks: list[dict], code: str, where: str, line: int) -> None:
        """Refuse token patterns whose matching can explode (spaCy's Matcher keeps every partial match:
        two '*' over any word took minutes on one segment): at most MAX_PATTERN_TOKENS tokens (a {n,m}
        counts m), at most one token without an upper bound ('*', '+', '{n,}') and then at most
        MAX_OPTIONAL_WITH_OPEN optional words beside it, and no word-less '*'/'+' token at the start or
        the end, where it only adds every longer span."""
        width, open_ended, slack = 0, [], 0
        for j, tok in enumerate(toks):
            op = str(tok.get("OP", ""))
            bounds = re.fullmatch(r"\{(\d*)(,?)(\d*)\}", op)
            if op in ("*", "+"):
                width, unbounded = width + 1, True
            elif bounds:
                low, comma, high = bounds.groups()
                unbounded = bool(comma) and not high
                width += int(high or 0) if high else int(low or 0) + (1 if unbounded else 0)
                if not unbounded and comma:
                    slack += int(high or 0) - int(low or 0)
            else:
                width, unbounded = width + 1, False
                slack += op == "?"
            if unbounded:
                open_ended.append(j)
        shown = json.dumps(toks, ensure_ascii=False)
        if len(shown) > 120:
            shown = shown[:117] + "..."
        who = f"code '{code}': " if code else ""
        if width > MAX_PATTERN_TOKENS:
            self.fail(f"{who}the token pattern {shown} spans up to {width} words; at most {MAX_PATTERN_TOKENS} "
                      "are allowed (longer patterns make matching explode); split it into shorter patterns.",
                      line, where)
        if len(open_ended) > 1:
            self.fail(f"{who}the token pattern {shown} has {len(open_ended)} open-ended operators ('*', '+' or "
                      "'{n,}'); at most one is allowed (each one multiplies the matching work by the length of "
                      "the segment); give the others an upper bound such as {0,3}.", line, where)
        if open_ended and slack > MAX_OPTIONAL_WITH_OPEN:
            self.fail(f"{who}the token pattern {shown} has an open-ended operator and {slack} optional words ('?', "
                      f"{{n,m}}); with one, at most {MAX_OPTIONAL_WITH_OPEN} are allowed (each one multiplies the "
                      "ways a match can be made: nine took 80 s on one segment); drop some, or bound the "
                      "open-ended one, e.g. {0,5}.", line, where)
        for j in open_ended:
            if j in (0, len(toks) - 1) and not [k for k in toks[j] if k != "OP"]:
                self.fail(f"{who}the token pattern {shown} starts or ends with a repeated token that matches any "
                          "word; it adds nothing to which segments match but makes one match per extra word; "
                          "remove it.", line, where)


def _plain(v):
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_plain(x) for x in v]
    return v


def _kind(v) -> str:
    if v is None:
        return "nothing"
    if isinstance(v, dict):
        return "a mapping"
    if isinstance(v, list):
        return "a list"
    return f"'{v}'"


def _join(where: str, key) -> str:
    return f"{where}.{key}" if where else str(key)


def _kline(m, key) -> int | None:
    lines = getattr(m, "key_lines", None)
    if lines and key in lines:
        return lines[key]
    return getattr(m, "line", None)


def _iline(seq, i, parent, key) -> int | None:
    lines = getattr(seq, "item_lines", None)
    if lines and i < len(lines):
        return lines[i]
    return _kline(parent, key) if parent is not None else None


def parse_codebook(data: Any, path: str = "<codebook>") -> Codebook:
    """Validate parsed YAML (with or without line information) into a :class:`Codebook`."""
    v = _Validator(path)
    if data is None:
        v.fail("the codebook is empty; it needs at least 'name' and 'themes'.", None, None)
    top = v.mapping(data, "", getattr(data, "line", 1), TOP_KEYS, "the codebook")
    name = v.text(top, "name", "", required=True)
    language = v.text(top, "language", "", default="nl").lower()
    if not re.fullmatch(r"[a-z]{2,3}", language):
        v.fail(f"language '{language}' must be a language code such as 'nl' or 'en'.", _kline(top, "language"),
               "language")
    cb = Codebook(name=name, language=language, spacy_pipeline=v.text(top, "spacy_pipeline", "") or None,
                  description=v.text(top, "description", ""), path=str(path))
    themes = top.get("themes")
    if not isinstance(themes, list) or not themes:
        v.fail("'themes' must be a non-empty list of themes (each with id, name, colour).",
               _kline(top, "themes"), "themes")
    seen_themes: dict[str, int | None] = {}
    seen_codes: dict[str, int | None] = {}
    flags: list[tuple] = []          # (mapping, where, kind, id) of every theme and code, for 'exclusive'

    def add_code(cm, where: str, line: int | None, theme: str | None, parent: str | None) -> None:
        cm = v.mapping(cm, where, line, CODE_KEYS, "a code")
        cid = v.ident(cm, where, "code")
        if cid in seen_codes:
            v.fail(f"duplicate code id '{cid}' (first defined on line {seen_codes[cid]}).", _kline(cm, "id"),
                   _join(where, "id"))
        if cid == HOLDING_CODE:
            v.fail(f"the code id '{HOLDING_CODE}' is reserved for codings of removed codes; choose another id.",
                   _kline(cm, "id"), _join(where, "id"))
        seen_codes[cid] = _kline(cm, "id")
        own_theme = v.text(cm, "theme", where) or None
        if own_theme and theme and own_theme != theme:
            v.fail(f"code '{cid}' sits under theme '{theme}' but names theme '{own_theme}'; keep one.",
                   _kline(cm, "theme"), _join(where, "theme"))
        th = theme or own_theme
        if not th:
            v.fail(f"code '{cid}' has no theme: put it under a theme's 'codes' or add 'theme: THEME_ID'.",
                   _kline(cm, "id"), where)
        if th not in seen_themes:
            v.fail(f"code '{cid}' names unknown theme '{th}'.{close_matches(th, seen_themes)}",
                   _kline(cm, "theme"), _join(where, "theme"))
        cb.codes.append(Code(
            id=cid, name=v.text(cm, "name", where, required=True), theme=th, parent=parent,
            colour=v.colour(cm, where, required=False), description=v.text(cm, "description", where),
            include=v.text(cm, "include", where), exclude=v.text(cm, "exclude", where),
            example=v.text(cm, "example", where), rules=v.rules(cm, where, cid),
            exclusive=v.flag(cm, "exclusive", where), line=_kline(cm, "id")))
        flags.append((cm, where, "code", cid))
        children = cm.get("codes")
        if children is not None:
            if not isinstance(children, list):
                v.fail(f"'codes' must be a list, got {_kind(children)}.", _kline(cm, "codes"), _join(where, "codes"))
            for j, child in enumerate(children):
                add_code(child, f"{_join(where, 'codes')}[{j}]", _iline(children, j, cm, "codes"), th, cid)

    nested = []
    for i, tm in enumerate(themes):
        where = f"themes[{i}]"
        tm = v.mapping(tm, where, _iline(themes, i, top, "themes"), THEME_KEYS, "a theme")
        tid = v.ident(tm, where, "theme")
        if tid in seen_themes:
            v.fail(f"duplicate theme id '{tid}' (first defined on line {seen_themes[tid]}).", _kline(tm, "id"),
                   _join(where, "id"))
        seen_themes[tid] = _kline(tm, "id")
        cb.themes.append(Theme(id=tid, name=v.text(tm, "name", where, required=True),
                               colour=v.colour(tm, where, required=True), description=v.text(tm, "description", where),
                               exclusive=v.flag(tm, "exclusive", where), line=_kline(tm, "id")))
        nested.append((tm, where, tid))
        flags.append((tm, where, "theme", tid))
    for tm, where, tid in nested:
        children = tm.get("codes")
        if children is None:
            continue
        if not isinstance(children, list):
            v.fail(f"'codes' must be a list, got {_kind(children)}.", _kline(tm, "codes"), _join(where, "codes"))
        for j, cm in enumerate(children):
            add_code(cm, f"{where}.codes[{j}]", _iline(children, j, tm, "codes"), tid, None)
    loose = top.get("codes")
    if loose is not None:
        if not isinstance(loose, list):
            v.fail(f"'codes' must be a list, got {_kind(loose)}.", _kline(top, "codes"), "codes")
        for j, cm in enumerate(loose):
            add_code(cm, f"codes[{j}]", _iline(loose, j, top, "codes"), None, None)
    check_overruled_by(v, cb, {key: (m, where) for m, where, kind, key in flags if kind == "code"})
    for m, where, kind, key in flags:
        if not m.get("exclusive"):
            continue
        members = [c.id for c in cb.codes if (c.theme == key and c.parent is None if kind == "theme"
                                              else c.parent == key)]
        if len(members) < 2:
            what = "codes" if kind == "theme" else "sub-codes"
            v.fail(f"{kind} '{key}' is exclusive but has {len(members)} {what}; an exclusive set needs at least two "
                   f"(mutually exclusive categories such as question, reflection, other).", _kline(m, "exclusive"),
                   _join(where, "exclusive"))
    return cb


def check_overruled_by(v, cb: Codebook, where: dict) -> None:
    """Every code named in a code's ``rules: overruled_by`` exists, is not the code itself, and no chain
    of them comes back to where it started (two codes overruling each other would both be left out)."""
    ids = {c.id for c in cb.codes}
    graph = {c.id: c.rules.get(OVERRULED_BY, []) for c in cb.codes if c.rules.get(OVERRULED_BY)}
    for cid, targets in graph.items():
        m, w = where[cid]
        r = m["rules"]
        line, at = _kline(r, OVERRULED_BY), _join(_join(w, "rules"), OVERRULED_BY)
        for t in targets:
            if t == cid:
                v.fail(f"code '{cid}' cannot be overruled by itself; name the more specific code that should win.",
                       line, at)
            if t not in ids:
                v.fail(f"code '{cid}' is overruled by unknown code '{t}'.{close_matches(t, ids)}", line, at)
    for start in graph:
        path, todo = [start], [(start, iter(graph[start]))]
        while todo:
            node, it = todo[-1]
            nxt = next(it, None)
            if nxt is None:
                todo.pop()
                path.pop()
            elif nxt == start:
                m, w = where[start]
                v.fail(f"codes {' -> '.join(path + [start])} overrule each other in a circle, so all of them would be "
                       f"left out where they match together; keep '{OVERRULED_BY}' on the less specific code only.",
                       _kline(m["rules"], OVERRULED_BY), _join(_join(w, "rules"), OVERRULED_BY))
            elif nxt not in path and nxt in graph:
                path.append(nxt)
                todo.append((nxt, iter(graph[nxt])))


def load_codebook(path: str | Path) -> Codebook:
    """Read and validate a YAML codebook (or a codebook sheet exported as .xlsx)."""
    p = Path(path)
    if not p.exists():
        raise CodebookError("file not found.", path=str(path))
    if p.suffix.lower() == ".xlsx":
        return codebook_from_xlsx(p)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise CodebookError("the codebook is not UTF-8 text; save it as UTF-8.", path=str(path)) from None
    return parse_codebook(_read_yaml(str(path), text), str(path))


# ------------------------------------------------------------------ apply
@dataclass
class ApplyReport:
    name: str
    source: str
    added: list[str] = field(default_factory=list)
    changed: list[tuple[str, list[str]]] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    moved: int = 0
    themes_added: list[str] = field(default_factory=list)
    themes_changed: list[str] = field(default_factory=list)
    themes_removed: list[str] = field(default_factory=list)
    backup: str | None = None

    def lines(self) -> list[str]:
        out = [f"codebook '{self.name}' from {self.source}: {len(self.added)} codes added, "
               f"{len(self.changed)} changed, {len(self.removed)} removed"]
        if self.themes_added or self.themes_changed or self.themes_removed:
            out.append(f"  themes: {len(self.themes_added)} added, {len(self.themes_changed)} changed, "
                       f"{len(self.themes_removed)} removed")
        if self.added:
            out.append("  added:   " + ", ".join(self.added))
        for key, fields in self.changed:
            out.append(f"  changed: {key} ({', '.join(fields)})")
        if self.removed:
            out.append("  removed: " + ", ".join(self.removed))
        if self.moved:
            out.append(f"  {self.moved} codings moved to '{HOLDING_CODE}' (backup: {self.backup})")
        return out


def apply_codebook(store, codebook: Codebook, source: str = "", force: bool = False) -> ApplyReport:
    """Make the project's codebook equal to ``codebook`` in one audited act.

    Codes are matched by id. A code the new codebook drops is removed only when
    it has no codings; with ``force`` its codings move to the holding code
    'uncategorised' (after a backup) instead of being lost.
    """
    report = ApplyReport(name=codebook.name, source=source or codebook.path)
    existing = {c["key"]: c for c in store.codes()}
    new_ids = {c.id for c in codebook.codes}
    gone = [k for k in existing if k not in new_ids and k != HOLDING_CODE]
    coded = [(k, existing[k]["n_codings"]) for k in gone if existing[k]["n_codings"]]
    if coded and not force:
        listing = ", ".join(f"{k} ({n} coding{'s' if n != 1 else ''})" for k, n in coded)
        raise ConflictError(
            f"the codebook {source or codebook.path} removes codes that have codings: {listing}. Keep them in the "
            f"codebook, merge them into another code first, or use --force to move their codings to the holding "
            f"code '{HOLDING_CODE}'.")
    if coded:
        report.backup = str(store.backup("before-codebook-apply"))
    with store.act("codebook apply", summary="", details={"source": report.source}) as act:
        themes = {t["key"]: t for t in store.themes()}
        theme_ids = {}
        for pos, t in enumerate(codebook.themes):
            old = themes.get(t.id)
            if old is None:
                theme_ids[t.id] = store.add_theme(t.id, t.name, t.colour, t.description, position=pos,
                                                  exclusive=t.exclusive)
                report.themes_added.append(t.id)
            else:
                theme_ids[t.id] = old["id"]
                diff = {k: getattr(t, k) for k in ("name", "colour", "description", "exclusive")
                        if old[k] != getattr(t, k)}
                if diff:
                    store.update_theme(old["id"], **diff)
                    report.themes_changed.append(t.id)
        code_ids = {}
        # first pass: create/update without parents (a parent may come later in the file)
        for pos, c in enumerate(codebook.codes):
            fields = {"name": c.name, "theme_id": theme_ids[c.theme], "description": c.description,
                      "include": c.include, "exclude": c.exclude, "example": c.example, "rules": c.rules,
                      "colour": c.colour, "exclusive": c.exclusive}
            old = existing.get(c.id)
            if old is None:
                code_ids[c.id] = store.add_code(c.id, position=pos, **fields)
                report.added.append(c.id)
            else:
                code_ids[c.id] = old["id"]
                diff = {k: v for k, v in fields.items() if old[k] != v}
                if diff:
                    store.update_code(old["id"], **diff)
                    report.changed.append((c.id, [("theme" if k == "theme_id" else k) for k in diff]))
                if old["position"] != pos:
                    store.update_code(old["id"], position=pos)
        for c in codebook.codes:
            parent = code_ids.get(c.parent) if c.parent else None
            old = existing.get(c.id)
            if old is None or old["parent_id"] != parent:
                store.update_code(code_ids[c.id], parent_id=parent)
                if old is not None and not any(k == c.id for k, _ in report.changed):
                    report.changed.append((c.id, ["parent"]))
        if gone:
            holding = None
            if coded:
                holding = store.ensure_holding_code(HOLDING_CODE, HOLDING_NAME, HOLDING_COLOUR)
            for key in gone:
                report.moved += store.remove_code_keeping_codings(existing[key]["id"], holding)
                report.removed.append(key)
        used = {c.theme for c in codebook.codes}
        for key, t in themes.items():
            if key not in theme_ids and key not in used and store.theme_code_count(t["id"]) == 0:
                store.delete_theme(t["id"])
                report.themes_removed.append(key)
        store.set_meta("codebook_name", codebook.name)
        store.set_meta("codebook_source", report.source)
        store.set_meta("spacy_pipeline", codebook.spacy_pipeline or "")
        act.summary = report.lines()[0]
        act.details.update(added=report.added, changed=[k for k, _ in report.changed], removed=report.removed,
                           moved=report.moved)
    return report


# ------------------------------------------------------------------ show / export
def codebook_from_store(store) -> Codebook:
    """The project's current codebook as a :class:`Codebook` (codes without a theme are left out)."""
    cb = Codebook(name=store.meta("codebook_name") or "codebook", language=store.language,
                  spacy_pipeline=store.meta("spacy_pipeline") or None)
    for t in store.themes():
        cb.themes.append(Theme(id=t["key"], name=t["name"], colour=t["colour"], description=t["description"],
                               exclusive=bool(t["exclusive"])))
    for c in store.codes():
        if c["theme"] is None:
            continue
        cb.codes.append(Code(id=c["key"], name=c["name"], theme=c["theme"], parent=c["parent"],
                             colour=c["colour"], description=c["description"], include=c["include"],
                             exclude=c["exclude"], example=c["example"], rules=c["rules"],
                             exclusive=bool(c["exclusive"])))
    return cb


def codebook_tree(store) -> dict:
    """The project's codebook as a tree: ``name``, ``n_codes`` and ``themes`` in order, each a theme
    row with its ``codes`` (code rows with ``depth``: 1 under the theme, 2 under a parent code, ...).
    Codes without a theme come last under a theme with key None and name '(no theme)'."""
    codes = store.codes()
    themes = store.themes()
    out: dict = {"name": store.meta("codebook_name") or "", "n_codes": len(codes), "themes": []}
    depth: dict = {}
    for t in themes + [{"id": None, "key": None, "name": "(no theme)", "colour": "", "description": ""}]:
        mine = [c for c in codes if c["theme_id"] == t["id"]]
        if t["id"] is None and not mine:
            continue
        for c in mine:
            depth[c["key"]] = depth.get(c["parent"], 0) + 1 if c["parent"] else 1
        out["themes"].append(dict(t, codes=[dict(c, depth=depth[c["key"]]) for c in mine]))
    return out


def to_yaml(cb: Codebook) -> str:
    """The codebook as YAML in the nested layout (codes under their theme and parent)."""
    import yaml

    def code_dict(c: Code) -> dict:
        d: dict = {"id": c.id, "name": c.name}
        for k in ("colour", "description", "include", "exclude", "example"):
            if getattr(c, k):
                d[k] = getattr(c, k)
        if c.rules:
            d["rules"] = c.rules
        if c.exclusive:
            d["exclusive"] = True
        kids = [code_dict(k) for k in cb.codes if k.parent == c.id]
        if kids:
            d["codes"] = kids
        return d

    data: dict = {"name": cb.name, "language": cb.language}
    if cb.spacy_pipeline:
        data["spacy_pipeline"] = cb.spacy_pipeline
    if cb.description:
        data["description"] = cb.description
    ids = {c.id for c in cb.codes}
    data["themes"] = []
    for t in cb.themes:
        td: dict = {"id": t.id, "name": t.name, "colour": t.colour}
        if t.description:
            td["description"] = t.description
        if t.exclusive:
            td["exclusive"] = True
        codes = [code_dict(c) for c in cb.codes if c.theme == t.id and (c.parent is None or c.parent not in ids)]
        if codes:
            td["codes"] = codes
        data["themes"].append(td)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)


XLSX_HEADER = ["theme", "theme name", "theme colour", "theme description", "code", "code name", "parent",
               "code colour", "description", "include", "exclude", "example", "keywords", "phrases", "patterns",
               "theme exclusive", "code exclusive", "hints", "overruled by"]
# Columns added after the first release: a sheet without them still reads (as 'no' / none).
XLSX_OPTIONAL = ("theme exclusive", "code exclusive", "hints", "overruled by")


def codebook_rows(cb: Codebook) -> list[list]:
    rows = []
    for t in cb.themes:
        mine = [c for c in cb.codes if c.theme == t.id]
        t_ex = "yes" if t.exclusive else ""
        if not mine:
            rows.append([t.id, t.name, t.colour, t.description] + [""] * 11 + [t_ex, "", "", ""])
        for c in mine:
            r = c.rules or {}
            rows.append([t.id, t.name, t.colour, t.description, c.id, c.name, c.parent or "", c.colour or "",
                         c.description, c.include, c.exclude, c.example, "; ".join(r.get("keywords", [])),
                         "; ".join(r.get("phrases", [])),
                         json.dumps(r.get("patterns", []), ensure_ascii=False) if r.get("patterns") else "",
                         t_ex, "yes" if c.exclusive else "", "; ".join(r.get("hints", [])),
                         "; ".join(r.get(OVERRULED_BY, []))])
    return rows


def write_codebook_sheet(wb, cb: Codebook, title: str = "Codebook"):
    """Append the codebook as a coloured sheet to a write-only workbook."""
    from ..excel.xlsx import Styles, hex_fill, light, write_table

    rows = codebook_rows(cb)
    colours = {t.id: t.colour for t in cb.themes}
    fills = [hex_fill(light(r[7] or colours[r[0]])) for r in rows]
    widths = [14, 22, 10, 40, 24, 30, 16, 10, 50, 40, 40, 40, 40, 30, 30, 10, 10, 40, 24]
    return write_table(wb, title, XLSX_HEADER, rows, widths=widths, wrap_cols=(3, 8, 9, 10, 11, 12, 13, 14, 17),
                       styles=Styles(), row_fills=fills)


def export_codebook(store, out: str) -> Codebook:
    """Write the project's codebook to ``out`` (.xlsx with colours, or .yaml/.yml); returns the codebook written."""
    cb = codebook_from_store(store)
    suffix = Path(out).suffix.lower()
    if suffix in (".yaml", ".yml"):
        write_text(out, to_yaml(cb))
    elif suffix == ".xlsx":
        from ..excel.xlsx import write_only_workbook

        with write_only_workbook(out) as wb:
            write_codebook_sheet(wb, cb)
            info = wb.add_sheet("About")
            for k, v in (("name", cb.name), ("language", cb.language), ("spacy_pipeline", cb.spacy_pipeline or "")):
                info.append([k, v])
    else:
        raise CodebookError("choose a file name ending in .xlsx, .yaml or .yml.", path=out)
    return cb


def codebook_from_xlsx(path: Path) -> Codebook:
    """Read a codebook sheet written by :func:`export_codebook` (edited in Excel) back."""
    from ..errors import InputError
    from ..excel.xlsx import read_xlsx

    try:
        book = read_xlsx(path, "codebook workbook", sheets=["Codebook", "About"])
    except CodebookError:
        raise
    except InputError as exc:   # the codebook's own error class, same message
        raise CodebookError(exc.raw_message, path=exc.path) from None
    if "Codebook" not in book:
        raise CodebookError("no sheet named 'Codebook'; export one with 'qualcode codebook export FILE.xlsx'.",
                            path=str(path))
    rows = book["Codebook"].rows
    about = {str(r[0]): r[1] for r in book["About"].rows if len(r) > 1} if "About" in book else {}
    header = [str(h or "").strip().lower() for h in rows[0]] if rows else []
    missing = [h for h in XLSX_HEADER if h not in header and h not in XLSX_OPTIONAL]
    if missing:
        raise CodebookError(f"missing columns: {', '.join(missing)}.", path=str(path), where="sheet Codebook")
    col = {h: header.index(h) for h in XLSX_HEADER if h in header}
    themes: dict = {}
    codes = []
    exclusive_themes: set[str] = set()
    exclusive_codes: set[str] = set()
    for r in rows[1:]:
        get = lambda h: "" if h not in col or r[col[h]] is None else str(r[col[h]]).strip()  # noqa: E731
        if not get("theme"):
            continue
        themes.setdefault(get("theme"), {"id": get("theme"), "name": get("theme name"),
                                         "colour": get("theme colour"), "description": get("theme description")})
        if _yes(get("theme exclusive")):
            exclusive_themes.add(get("theme"))
        if get("code"):
            rules: dict = {}
            for k in WORD_RULE_KEYS:
                if get(k):
                    rules[k] = [w.strip() for w in get(k).split(";") if w.strip()]
            if get("overruled by"):
                rules[OVERRULED_BY] = [w.strip() for w in get("overruled by").split(";") if w.strip()]
            if get("patterns"):
                try:
                    rules["patterns"] = json.loads(get("patterns"))
                except ValueError:
                    raise CodebookError(f"patterns of code '{get('code')}' are not valid JSON.", path=str(path),
                                        where="sheet Codebook") from None
            c = {"id": get("code"), "name": get("code name"), "theme": get("theme")}
            for k in ("description", "include", "exclude", "example"):
                if get(k):
                    c[k] = get(k)
            if get("code colour"):
                c["colour"] = get("code colour")
            if rules:
                c["rules"] = rules
            codes.append((c, get("parent")))
            if _yes(get("code exclusive")):
                exclusive_codes.add(get("code"))
    data = {"name": about.get("name") or path.stem, "language": about.get("language") or "nl",
            "themes": list(themes.values()), "codes": [c for c, _ in codes]}
    if about.get("spacy_pipeline"):
        data["spacy_pipeline"] = about["spacy_pipeline"]
    cb = parse_codebook(data, str(path))
    parents = {c["id"]: p for c, p in codes}
    for c in cb.codes:
        c.parent = parents.get(c.id) or None
        c.exclusive = c.id in exclusive_codes
    for t in cb.themes:
        t.exclusive = t.id in exclusive_themes
    for kind, key, members in ([("theme", t.id, [c for c in cb.codes if c.theme == t.id and c.parent is None])
                                 for t in cb.themes if t.exclusive]
                               + [("code", c.id, [k for k in cb.codes if k.parent == c.id])
                                  for c in cb.codes if c.exclusive]):
        if len(members) < 2:
            raise CodebookError(f"{kind} '{key}' is marked exclusive but has {len(members)} "
                                f"{'codes' if kind == 'theme' else 'sub-codes'}; an exclusive set needs at least two.",
                                path=str(path), where="sheet Codebook")
    return cb


def _yes(value: str) -> bool:
    return value.strip().lower() in ("yes", "true", "1", "ja", "x")
