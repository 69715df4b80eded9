"""Queries for the codebook: themes, codes (with their hierarchy) and coders."""

from __future__ import annotations

import json
from typing import Iterable, Sequence

from ..errors import unknown
from .core import Where, new_guid, sql_in

THEME_FIELDS = ("key", "name", "colour", "description", "status", "definition", "key_messages", "position",
                "exclusive")
CODE_FIELDS = ("key", "name", "theme_id", "parent_id", "description", "include", "exclude", "example",
               "rules", "colour", "position", "exclusive")
_KEYED_TABLES = {"theme": "themes", "code": "codes"}

ANALYST_KEY = "analyst"   # meta key: whose codings reports show by default
NOT_A_PERSON = ("rules", "consensus")   # autocode's coder and agreement's default consensus coder

# The fields stored as JSON, and how a value is made ready for it.
_JSON_FIELDS = {"key_messages": lambda v: list(v), "rules": lambda v: v or {}}


def _row(r, json_field: str, empty: str) -> dict:
    """A theme or code row as a dict: its JSON field decoded, ``exclusive`` as a bool."""
    d = dict(r)
    d[json_field] = json.loads(d.get(json_field) or empty)
    if "exclusive" in d:
        d["exclusive"] = bool(d["exclusive"])
    return d


def _theme_row(r) -> dict:
    return _row(r, "key_messages", "[]")


def _code_row(r) -> dict:
    return _row(r, "rules", "{}")


class CodebookMixin:
    # ------------------------------------------------------------------ themes
    def themes(self) -> list[dict]:
        """Themes in report order, with n_codes and n_segments (distinct coded segments)."""
        rows = self.conn.execute(
            """SELECT t.*, (SELECT COUNT(*) FROM codes c WHERE c.theme_id = t.id) AS n_codes,
                      (SELECT COUNT(DISTINCT g.segment_id) FROM codings g JOIN codes c ON c.id = g.code_id
                       WHERE c.theme_id = t.id) AS n_segments
               FROM themes t ORDER BY t.position, t.id""").fetchall()
        return [_theme_row(r) for r in rows]

    def theme(self, ref: str | int) -> dict:
        """A theme by key, numeric id or (case-insensitive) name."""
        row = self.conn.execute("SELECT * FROM themes WHERE key = ? OR (? GLOB '[0-9]*' AND id = ?)",
                                (str(ref), str(ref), str(ref))).fetchone()
        if row is None:
            row = self.conn.execute("SELECT * FROM themes WHERE lower(name) = lower(?)", (str(ref),)).fetchone()
        if row is None:
            raise unknown("theme", str(ref), [t["key"] for t in self.themes()])
        return _theme_row(row)

    def add_theme(self, key: str, name: str, colour: str, description: str = "", *, position: int | None = None,
                  status: str = "candidate", definition: str = "", key_messages: list | None = None,
                  guid: str | None = None, exclusive: bool = False) -> int:
        if position is None:
            position = self._next_position("themes")
        cur = self.conn.execute(
            "INSERT INTO themes(guid, key, name, colour, description, status, definition, key_messages, position, "
            "exclusive) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (guid or new_guid(), key, name, colour, description, status, definition,
             json.dumps(key_messages or [], ensure_ascii=False), position, int(bool(exclusive))))
        return cur.lastrowid

    def update_theme(self, theme_id: int, **fields) -> None:
        self._update_keyed("theme", theme_id, fields)

    def _next_position(self, table: str) -> int:
        """The position after the last theme or code (``table``)."""
        return self.conn.execute(f"SELECT COALESCE(MAX(position), -1) + 1 FROM {table}").fetchone()[0]

    def delete_theme(self, theme_id: int) -> None:
        self.conn.execute("DELETE FROM themes WHERE id = ?", (theme_id,))

    def theme_code_ids(self, theme_id: int) -> list[int]:
        return [r[0] for r in self.conn.execute(
            "SELECT id FROM codes WHERE theme_id = ? ORDER BY position, id", (theme_id,))]

    def theme_code_count(self, theme_id: int) -> int:
        return len(self.theme_code_ids(theme_id))

    # ------------------------------------------------------------------- codes
    def codes(self, theme: str | None = None, coders: Sequence[str] | None = None) -> list[dict]:
        """Codes in codebook order with theme key/name, display colour, parent key and counts
        (of ``coders``' codings only, when given; None counts everyone's)."""
        who = Where().holds("g.code_id = c.id").within("g.coder", None if coders is None else list(coders))
        sql = f"""SELECT c.*, t.key AS theme, t.name AS theme_name, COALESCE(c.colour, t.colour) AS display_colour,
                        pc.key AS parent,
                        (SELECT COUNT(*) FROM codings g{who.sql}) AS n_codings,
                        (SELECT COUNT(DISTINCT g.segment_id) FROM codings g{who.sql}) AS n_segments
                 FROM codes c LEFT JOIN themes t ON t.id = c.theme_id LEFT JOIN codes pc ON pc.id = c.parent_id"""
        where = Where().equals("t.key", theme or None)
        sql += where.sql + " ORDER BY COALESCE(t.position, 1e9), t.id, c.position, c.id"
        return [_code_row(r) for r in self.conn.execute(sql, [*who.args, *who.args, *where.args])]

    def code(self, ref: str | int) -> dict:
        """A code by key or numeric id."""
        row = self.conn.execute(
            """SELECT c.*, t.key AS theme, COALESCE(c.colour, t.colour) AS display_colour FROM codes c
               LEFT JOIN themes t ON t.id = c.theme_id
               WHERE c.key = ? OR (? GLOB '[0-9]*' AND c.id = ?)""", (str(ref), str(ref), str(ref))).fetchone()
        if row is None:
            raise unknown("code", str(ref), [c["key"] for c in self.codes()])
        return _code_row(row)

    def code_ids(self) -> dict[str, int]:
        return {k: i for i, k in self.conn.execute("SELECT id, key FROM codes")}

    def add_code(self, key: str, name: str, theme_id: int | None, *, parent_id: int | None = None,
                 description: str = "", include: str = "", exclude: str = "", example: str = "",
                 rules: dict | None = None, colour: str | None = None, position: int | None = None,
                 guid: str | None = None, exclusive: bool = False) -> int:
        if position is None:
            position = self._next_position("codes")
        cur = self.conn.execute(
            """INSERT INTO codes(guid, key, name, theme_id, parent_id, description, include, exclude, example,
                                 rules, colour, position, exclusive) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)""",
            (guid or new_guid(), key, name, theme_id, parent_id, description, include, exclude, example,
             json.dumps(rules or {}, ensure_ascii=False), colour, position, int(bool(exclusive))))
        return cur.lastrowid

    def update_code(self, code_id: int, **fields) -> None:
        self._update_keyed("code", code_id, fields)

    def _update_keyed(self, kind: str, row_id: int, fields: dict) -> None:
        """Set ``fields`` of the theme or code (``kind``) ``row_id``; JSON and flags are encoded here."""
        bad = set(fields) - set(THEME_FIELDS if kind == "theme" else CODE_FIELDS)
        if bad:
            raise TypeError(f"unknown {kind} fields {bad}")
        for name, ready in _JSON_FIELDS.items():
            if name in fields:
                fields[name] = json.dumps(ready(fields[name]), ensure_ascii=False)
        if "exclusive" in fields:
            fields["exclusive"] = int(bool(fields["exclusive"]))
        if fields:
            sets = ", ".join(f"{k} = ?" for k in fields)
            self.conn.execute(f"UPDATE {_KEYED_TABLES[kind]} SET {sets} WHERE id = ?", (*fields.values(), row_id))

    def delete_code(self, code_id: int) -> None:
        self.conn.execute("DELETE FROM codes WHERE id = ?", (code_id,))

    def ensure_holding_code(self, key: str, name: str, colour: str) -> int:
        """The id of the holding code for codings of removed codes (created without a theme)."""
        row = self.conn.execute("SELECT id FROM codes WHERE key = ?", (key,)).fetchone()
        if row:
            return row[0]
        return self.add_code(key, name, None, colour=colour,
                             description="Codings whose code was removed from the codebook; recode them.")

    def remove_code_keeping_codings(self, code_id: int, holding_id: int | None) -> int:
        """Delete a code; its codings (and memos) move to ``holding_id``. Returns how many codings moved."""
        moved = 0
        if holding_id is not None:
            # a coder who already has the holding code on a segment keeps one coding
            moved, _ = self._recode("codings", code_id, holding_id)
            self.retarget_memos("code", code_id, holding_id)
        self.remove_codings([code_id], by="code")
        self.conn.execute("DELETE FROM suggestions WHERE code_id = ?", (code_id,))
        self.reparent_codes(code_id, None)
        self.delete_code(code_id)
        return moved

    def move_codes_to_theme(self, code_ids: Iterable[int], theme_id: int | None) -> int:
        ids = [int(i) for i in code_ids]
        if not ids:
            return 0
        cond, args = sql_in("id", ids)
        cur = self.conn.execute(f"UPDATE codes SET theme_id = ? WHERE {cond}", (theme_id, *args))
        return cur.rowcount

    def code_with_descendants(self, code_ids: Iterable[int]) -> list[int]:
        """The codes and all their sub-codes (so a code moves with its children)."""
        ids = [int(i) for i in code_ids]
        if not ids:
            return []
        cond, args = sql_in("id", ids)
        rows = self.conn.execute(
            f"""WITH RECURSIVE sub(id) AS (SELECT id FROM codes WHERE {cond}
                UNION SELECT c.id FROM codes c JOIN sub ON c.parent_id = sub.id)
                SELECT id FROM sub ORDER BY id""", args).fetchall()
        return [r[0] for r in rows]

    def reparent_codes(self, old_parent: int, new_parent: int | None) -> None:
        self.conn.execute("UPDATE codes SET parent_id = ? WHERE parent_id = ? AND id IS NOT ?",
                          (new_parent, old_parent, new_parent))

    def codebook_texts_for_lemmas(self) -> list[str]:
        """Every text of the codebook that gets lemmatised: code names, descriptions, examples, rules, and the
        themes' names and descriptions (the main-theme ranking reads them)."""
        codes = self.conn.execute("SELECT name, description, include, exclude, example, rules FROM codes").fetchall()
        themes = self.conn.execute("SELECT name, description FROM themes").fetchall()
        return [t for r in codes + themes for t in r if t]

    # -------------------------------------------------------------------- keys
    def name_for_key(self, kind: str, key: str) -> str | None:
        """The name of the theme or code (``kind``) with id ``key``, or None when the id is free."""
        row = self.conn.execute(f"SELECT name FROM {_KEYED_TABLES[kind]} WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    def key_for_id(self, kind: str, row_id: int) -> str | None:
        """The id (key) of the theme or code (``kind``) with row id ``row_id``, or None if it is gone."""
        row = self.conn.execute(f"SELECT key FROM {_KEYED_TABLES[kind]} WHERE id = ?", (row_id,)).fetchone()
        return None if row is None else row[0]

    def keys_in_use(self, table: str) -> set[str]:
        if table not in ("themes", "codes"):
            raise ValueError(table)
        return {r[0] for r in self.conn.execute(f"SELECT key FROM {table}")}

    # ------------------------------------------------------------------ coders
    def coders(self) -> list[str]:
        return list(self.coder_guids())

    def coder_guids(self) -> dict[str, str]:
        """coder name -> guid."""
        return {n: g for n, g in self.conn.execute("SELECT name, guid FROM coders ORDER BY name")}

    def coder_guid_taken(self, guid: str) -> str | None:
        row = self.conn.execute("SELECT name FROM coders WHERE guid = ?", (guid,)).fetchone()
        return row[0] if row else None

    def ensure_coder(self, name: str, guid: str | None = None) -> None:
        self.conn.execute("INSERT OR IGNORE INTO coders(name, guid) VALUES (?, ?)", (name, guid or new_guid()))

    def analyst(self) -> str:
        """Whose analysis the project's reports show by default ('' until someone codes or sets it)."""
        return self.meta(ANALYST_KEY)

    def _claim_analyst(self, coder: str, origin: str) -> None:
        """The first person who codes becomes the analyst when none is set. Rule matches and consensus
        codings are not a person coding. Inside an act the analyst is written when the act ends (so a
        block of captured inserts holds inserts only), as part of that act: undoing it undoes this too."""
        claimed = self._act is not None and "_analyst" in self._act.details   # already, earlier in this act
        if origin in ("manual", "suggested", "imported") and coder not in NOT_A_PERSON and not claimed \
                and not self.analyst():
            if self._act is None:
                self.set_meta(ANALYST_KEY, coder)
            else:
                self._act.details.setdefault("_analyst", coder)

    def _settle_analyst(self, act) -> None:
        """At the end of an act: the analyst its codings claimed (see :meth:`_claim_analyst`)."""
        coder = act.details.pop("_analyst", None)
        if coder and not self.analyst():
            self.set_meta(ANALYST_KEY, coder)
            act.details["analyst"] = coder

    def code_names(self) -> list[dict]:
        """Codes in codebook order with their theme's key and name and display colour, without counts
        (cheap: for pickers and filters)."""
        return [dict(r) for r in self.conn.execute(
            """SELECT c.key, c.name, t.key AS theme, t.name AS theme_name,
                      COALESCE(c.colour, t.colour) AS display_colour
               FROM codes c LEFT JOIN themes t ON t.id = c.theme_id
               ORDER BY COALESCE(t.position, 1e9), t.id, c.position, c.id""")]

    def theme_names(self) -> list[dict]:
        """Themes in report order: key and name only."""
        return [dict(r) for r in self.conn.execute("SELECT key, name FROM themes ORDER BY position, id")]
