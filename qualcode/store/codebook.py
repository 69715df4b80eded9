"""Queries for themes, codes, coders and codings."""

from __future__ import annotations

import json
from typing import Iterable, Sequence

from ..errors import ConflictError, unknown
from .core import Where, new_guid, now

THEME_FIELDS = ("key", "name", "colour", "description", "status", "definition", "key_messages", "position",
                "exclusive")
CODE_FIELDS = ("key", "name", "theme_id", "parent_id", "description", "include", "exclude", "example",
               "rules", "colour", "position", "exclusive")

ANALYST_KEY = "analyst"   # meta key: whose codings reports show by default
NOT_A_PERSON = ("rules", "consensus")   # autocode's coder and agreement's default consensus coder

_CODING_SELECT = """
SELECT c.id, c.guid, c.segment_id, c.code_id, cd.key AS code, cd.name AS code_name, t.id AS theme_id,
       t.key AS theme, t.name AS theme_name, COALESCE(cd.colour, t.colour) AS colour, c.coder, c.origin,
       c.created_at, src.name AS source, src.group_label, s.ordinal, s.speaker, s.role,
       p.label AS participant,
       CASE WHEN p.id IS NULL THEN src.group_label || ' ' || s.speaker
            ELSE p.group_label || ' ' || p.label END AS key,
       CASE WHEN c.start IS NULL THEN s.text ELSE substr(src.text, c.start + 1, c."end" - c.start) END AS text,
       COALESCE(c.start, s.start) AS start, COALESCE(c."end", s."end") AS "end",
       c.start IS NOT NULL AS fragment, s.text AS segment_text
FROM codings c JOIN codes cd ON cd.id = c.code_id
LEFT JOIN themes t ON t.id = cd.theme_id
JOIN segments s ON s.id = c.segment_id JOIN sources src ON src.id = s.source_id
LEFT JOIN participants p ON p.id = s.participant_id
"""


def _theme_row(r) -> dict:
    d = dict(r)
    d["key_messages"] = json.loads(d.get("key_messages") or "[]")
    if "exclusive" in d:
        d["exclusive"] = bool(d["exclusive"])
    return d


def _code_row(r) -> dict:
    d = dict(r)
    d["rules"] = json.loads(d.get("rules") or "{}")
    if "exclusive" in d:
        d["exclusive"] = bool(d["exclusive"])
    return d


class CodebookMixin:
    # ---------------------------------------------------------------- themes
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
            position = self.conn.execute("SELECT COALESCE(MAX(position), -1) + 1 FROM themes").fetchone()[0]
        cur = self.conn.execute(
            "INSERT INTO themes(guid, key, name, colour, description, status, definition, key_messages, position, "
            "exclusive) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (guid or new_guid(), key, name, colour, description, status, definition,
             json.dumps(key_messages or [], ensure_ascii=False), position, int(bool(exclusive))))
        return cur.lastrowid

    def update_theme(self, theme_id: int, **fields) -> None:
        bad = set(fields) - set(THEME_FIELDS)
        if bad:
            raise TypeError(f"unknown theme fields {bad}")
        if "key_messages" in fields:
            fields["key_messages"] = json.dumps(list(fields["key_messages"]), ensure_ascii=False)
        if "exclusive" in fields:
            fields["exclusive"] = int(bool(fields["exclusive"]))
        if fields:
            sets = ", ".join(f"{k} = ?" for k in fields)
            self.conn.execute(f"UPDATE themes SET {sets} WHERE id = ?", (*fields.values(), theme_id))

    def delete_theme(self, theme_id: int) -> None:
        self.conn.execute("DELETE FROM themes WHERE id = ?", (theme_id,))

    # ----------------------------------------------------------------- codes
    def codes(self, theme: str | None = None, coders: Sequence[str] | None = None) -> list[dict]:
        """Codes in codebook order with theme key/name, display colour, parent key and counts
        (of ``coders``' codings only, when given)."""
        from .analysis import by_coders

        who, who_args = by_coders("g.coder", coders)
        sql = f"""SELECT c.*, t.key AS theme, t.name AS theme_name, COALESCE(c.colour, t.colour) AS display_colour,
                        pc.key AS parent,
                        (SELECT COUNT(*) FROM codings g WHERE g.code_id = c.id{who}) AS n_codings,
                        (SELECT COUNT(DISTINCT g.segment_id) FROM codings g WHERE g.code_id = c.id{who}) AS n_segments
                 FROM codes c LEFT JOIN themes t ON t.id = c.theme_id LEFT JOIN codes pc ON pc.id = c.parent_id"""
        args: tuple = (*who_args, *who_args)
        if theme:
            sql += " WHERE t.key = ?"
            args += (theme,)
        sql += " ORDER BY COALESCE(t.position, 1e9), t.id, c.position, c.id"
        return [_code_row(r) for r in self.conn.execute(sql, args)]

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
            position = self.conn.execute("SELECT COALESCE(MAX(position), -1) + 1 FROM codes").fetchone()[0]
        cur = self.conn.execute(
            """INSERT INTO codes(guid, key, name, theme_id, parent_id, description, include, exclude, example,
                                 rules, colour, position, exclusive) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)""",
            (guid or new_guid(), key, name, theme_id, parent_id, description, include, exclude, example,
             json.dumps(rules or {}, ensure_ascii=False), colour, position, int(bool(exclusive))))
        return cur.lastrowid

    def update_code(self, code_id: int, **fields) -> None:
        bad = set(fields) - set(CODE_FIELDS)
        if bad:
            raise TypeError(f"unknown code fields {bad}")
        if "rules" in fields:
            fields["rules"] = json.dumps(fields["rules"] or {}, ensure_ascii=False)
        if "exclusive" in fields:
            fields["exclusive"] = int(bool(fields["exclusive"]))
        if fields:
            sets = ", ".join(f"{k} = ?" for k in fields)
            self.conn.execute(f"UPDATE codes SET {sets} WHERE id = ?", (*fields.values(), code_id))

    def delete_code(self, code_id: int) -> None:
        self.conn.execute("DELETE FROM codes WHERE id = ?", (code_id,))

    # ---------------------------------------------------------------- coders
    def coders(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT name FROM coders ORDER BY name")]

    def coders_with_codings(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT DISTINCT coder FROM codings ORDER BY coder")]

    def ensure_coder(self, name: str, guid: str | None = None) -> None:
        self.conn.execute("INSERT OR IGNORE INTO coders(name, guid) VALUES (?, ?)", (name, guid or new_guid()))

    def analyst(self) -> str:
        """Whose analysis the project's reports show by default ('' until someone codes or sets it)."""
        return self.meta(ANALYST_KEY)

    def _claim_analyst(self, coder: str, origin: str) -> None:
        """The first person who codes becomes the analyst when none is set. Rule matches and consensus
        codings are not a person coding. Inside an act the analyst is written when the act ends (so a
        block of captured inserts holds inserts only), as part of that act: undoing it undoes this too."""
        if origin in ("manual", "suggested", "imported") and coder not in NOT_A_PERSON and not self.analyst():
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

    # --------------------------------------------------------------- codings
    def add_coding(self, segment_id: int, code_id: int, coder: str, origin: str = "manual",
                   guid: str | None = None, span: tuple[int, int] | None = None) -> bool:
        """Record a coding; False when this coder already had it. ``span`` (start, end into the
        source's text, inside the segment) codes a fragment; None (or the segment's own span) the
        whole segment."""
        self.ensure_coder(coder)
        self._claim_analyst(coder, origin)
        start, end = self.coding_span(segment_id, span)
        cur = self.conn.execute(
            'INSERT OR IGNORE INTO codings(guid, segment_id, code_id, coder, origin, created_at, start, "end") '
            "VALUES (?,?,?,?,?,?,?,?)",
            (guid or new_guid(), segment_id, code_id, coder, origin, now(), start, end))
        return cur.rowcount == 1

    def coding_span(self, segment_id: int, span: tuple[int, int] | None) -> tuple[int | None, int | None]:
        """The (start, end) stored for a coding of ``span`` on a segment: (None, None) for the whole
        segment. The span lies inside the segment (so inside one speaker's turn); a span across
        segments or turns is refused with a message saying which."""
        if span is None:
            return None, None
        row = self.conn.execute('SELECT start, "end", source_id, turn, speaker FROM segments WHERE id = ?',
                                (segment_id,)).fetchone()
        if row is None:
            raise ValueError(f"no segment {segment_id}")
        start, end = int(span[0]), int(span[1])
        if (start, end) == (row[0], row[1]):
            return None, None
        if row[0] <= start < end <= row[1]:
            return start, end
        turn_end = self.conn.execute(
            'SELECT MAX("end") FROM segments WHERE source_id = ? AND turn = ? AND speaker = ?',
            (row[2], row[3], row[4])).fetchone()[0]
        if row[0] <= start < end <= turn_end:
            raise ConflictError(
                f"the span {start}-{end} runs over more than one segment of {row[4]}'s turn {row[3]} (segment "
                f"{segment_id} ends at {row[1]}); code each segment's words separately, or cut the source "
                "into turns first ('qualcode resegment --split turns').")
        raise ConflictError(
            f"the span {start}-{end} does not lie within one speaker's turn (segment {segment_id}, "
            f"{row[4]}, turn {row[3]}); a quote has one speaker, so code each turn's words separately.")

    def add_codings(self, rows: Iterable[tuple[int, int]], coder: str, origin: str) -> int:
        """Bulk (segment_id, code_id) codings for one coder; existing ones are kept. Returns how many were new."""
        self.ensure_coder(coder)
        self._claim_analyst(coder, origin)
        stamp = now()
        cur = self.conn.executemany(
            "INSERT OR IGNORE INTO codings(guid, segment_id, code_id, coder, origin, created_at) VALUES (?,?,?,?,?,?)",
            ((new_guid(), s, c, coder, origin, stamp) for s, c in rows))
        return max(cur.rowcount, 0)

    def remove_coding(self, segment_id: int, code_id: int, coder: str,
                      span: tuple[int, int] | None | bool = False) -> bool:
        """Remove a coder's coding of a code on a segment: every one of its spans (``span`` False),
        the whole-segment one (None) or the one on exactly ``span``."""
        sql = "DELETE FROM codings WHERE segment_id = ? AND code_id = ? AND coder = ?"
        args: tuple = (segment_id, code_id, coder)
        if span is not False:
            start, end = self.coding_span(segment_id, span)  # type: ignore[arg-type]
            sql += ' AND start IS ? AND "end" IS ?'
            args += (start, end)
        cur = self.conn.execute(sql, args)
        return cur.rowcount > 0

    def remove_span_codings(self, rows: Iterable[tuple[int, int, tuple[int, int] | None]], coder: str) -> int:
        """Remove a coder's codings given as (segment_id, code_id, span); span None is the whole-segment
        coding only. Returns how many went."""
        cur = self.conn.executemany(
            'DELETE FROM codings WHERE segment_id = ? AND code_id = ? AND coder = ? AND start IS ? AND "end" IS ?',
            ((sid, cid, coder, *(span if span else (None, None))) for sid, cid, span in rows))
        return max(cur.rowcount, 0)

    def fragment_integrity_rows(self) -> dict:
        """Fragment codings re-read against their source: how many, and those whose span is not
        inside their segment or their source's text any more."""
        checked = self.conn.execute("SELECT COUNT(*) FROM codings WHERE start IS NOT NULL").fetchone()[0]
        problems = [dict(r) for r in self.conn.execute(
            """SELECT g.id, g.segment_id, g.start, g."end", g.coder, cd.key AS code, src.name AS source,
                      s.start AS segment_start, s."end" AS segment_end, s.text AS segment_text,
                      substr(src.text, g.start + 1, g."end" - g.start) AS text
               FROM codings g JOIN segments s ON s.id = g.segment_id JOIN sources src ON src.id = s.source_id
               JOIN codes cd ON cd.id = g.code_id
               WHERE g.start IS NOT NULL AND (g.start < s.start OR g."end" > s."end" OR g."end" > length(src.text)
                                              OR g."end" <= g.start)
               ORDER BY g.id""")]
        return {"checked": checked, "problems": problems}

    def fragment_spans_of_source(self, source_id: int) -> list[tuple[int, int, int]]:
        """(coding id, start, end) of the fragment codings in one source."""
        return [tuple(r) for r in self.conn.execute(
            'SELECT g.id, g.start, g."end" FROM codings g JOIN segments s ON s.id = g.segment_id '
            "WHERE s.source_id = ? AND g.start IS NOT NULL", (source_id,))]

    def move_fragment(self, coding_id: int, start: int, end: int) -> None:
        """Give a fragment coding new offsets (its text moved); its segment's own span is stored as NULL."""
        self.conn.execute(
            'UPDATE codings SET start = CASE WHEN (SELECT s.start = ? AND s."end" = ? FROM segments s '
            'WHERE s.id = codings.segment_id) THEN NULL ELSE ? END, "end" = CASE WHEN (SELECT s.start = ? AND '
            's."end" = ? FROM segments s WHERE s.id = codings.segment_id) THEN NULL ELSE ? END WHERE id = ?',
            (start, end, start, start, end, end, coding_id))

    def fragment_codings(self, segment_ids: Iterable[int] | None = None) -> list[dict]:
        """Codings on part of a segment: id, segment_id, code (key), coder, origin, start, end, text."""
        sql = ('SELECT g.id, g.segment_id, cd.key AS code, g.coder, g.origin, g.start, g."end", '
               'substr(src.text, g.start + 1, g."end" - g.start) AS text FROM codings g '
               "JOIN codes cd ON cd.id = g.code_id JOIN segments s ON s.id = g.segment_id "
               "JOIN sources src ON src.id = s.source_id WHERE g.start IS NOT NULL")
        args: list = []
        if segment_ids is not None:
            ids = [int(i) for i in segment_ids]
            sql += f" AND g.segment_id IN ({','.join('?' * len(ids))})"
            args = ids
        return [dict(r) for r in self.conn.execute(sql + " ORDER BY g.segment_id, g.start, g.\"end\", cd.position", args)]

    def codings(self, *, coder: str | None = None, code: str | None = None, theme: str | None = None,
                group: str | None = None, origin: str | None = None) -> list[dict]:
        """Codings joined with their segment, code and theme, in transcript order.

        Row keys: id, guid, segment_id, code_id, code, code_name, theme_id, theme, theme_name, colour,
        coder, origin, created_at, source, group_label, ordinal, speaker, role, participant, key, text,
        start, end."""
        where = (Where().equals("c.coder", coder).equals("cd.key", code).equals("t.key", theme)
                 .equals("src.group_label", group).equals("c.origin", origin))
        sql = _CODING_SELECT + where.sql
        sql += " ORDER BY length(src.group_label), src.group_label, src.name, s.ordinal, t.position, cd.position"
        return [dict(r) for r in self.conn.execute(sql, where.args)]

    def segment_codes(self, coder: str | None = None) -> dict[int, list[str]]:
        """segment id -> code keys (of one coder, or of anyone)."""
        sql = "SELECT g.segment_id, c.key FROM codings g JOIN codes c ON c.id = g.code_id"
        args: tuple = ()
        if coder is not None:
            sql += " WHERE g.coder = ?"
            args = (coder,)
        out: dict[int, list[str]] = {}
        for sid, key in self.conn.execute(sql + " ORDER BY g.segment_id, c.position, c.id", args):
            lst = out.setdefault(sid, [])
            if key not in lst:
                lst.append(key)
        return out

    def coder_spans(self, coder: str) -> dict[int, dict[tuple[int, int] | None, list[str]]]:
        """segment id -> span ((start, end), or None for the whole segment) -> this coder's code keys
        on it, in codebook order."""
        out: dict[int, dict] = {}
        for sid, start, end, key in self.conn.execute(
                'SELECT g.segment_id, g.start, g."end", c.key FROM codings g JOIN codes c ON c.id = g.code_id '
                "WHERE g.coder = ? ORDER BY g.segment_id, c.position, c.id", (coder,)):
            lst = out.setdefault(sid, {}).setdefault(None if start is None else (start, end), [])
            if key not in lst:
                lst.append(key)
        return out

    def count_codings(self, code_id: int | None = None) -> int:
        if code_id is None:
            return self.conn.execute("SELECT COUNT(*) FROM codings").fetchone()[0]
        return self.conn.execute("SELECT COUNT(*) FROM codings WHERE code_id = ?", (code_id,)).fetchone()[0]

    def count_coded_segments(self, role: str | None = "participant") -> int:
        sql = "SELECT COUNT(DISTINCT g.segment_id) FROM codings g JOIN segments s ON s.id = g.segment_id"
        if role:
            return self.conn.execute(sql + " WHERE s.role = ?", (role,)).fetchone()[0]
        return self.conn.execute(sql).fetchone()[0]
