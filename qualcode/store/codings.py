"""Queries for codings (who gave which code to which segment or span) and coders' 'done' marks.

Every write to the codings table and every count and matrix read from it is here.

Counting rule used everywhere in step 6: a *fragment* is a coded segment. A theme's fragment count
is the number of distinct segments that carry at least one of its codes (by any coder, or by the
coders asked for: every aggregate below takes ``coders``, None meaning everyone), so a segment
coded twice inside one theme counts once for that theme, and a segment coded under two themes counts
once for each (as the reference study copied it under both).
"""

from __future__ import annotations

from typing import Iterable, Iterator, Sequence

from ..errors import ConflictError, NotFoundError
from .core import SEGMENT_IS_CODED, SPEAKER_KEY, TRANSCRIPT_ORDER, Where, new_guid, now, sql_in

_CODING_SELECT = f"""
SELECT c.id, c.guid, c.segment_id, c.code_id, cd.key AS code, cd.name AS code_name, t.id AS theme_id,
       t.key AS theme, t.name AS theme_name, COALESCE(cd.colour, t.colour) AS colour, c.coder, c.origin,
       c.created_at, src.name AS source, src.group_label, s.ordinal, s.speaker, s.role,
       p.label AS participant,
       {SPEAKER_KEY} AS key,
       CASE WHEN c.start IS NULL THEN s.text ELSE substr(src.text, c.start + 1, c."end" - c.start) END AS text,
       COALESCE(c.start, s.start) AS start, COALESCE(c."end", s."end") AS "end",
       c.start IS NOT NULL AS fragment, s.text AS segment_text
FROM codings c JOIN codes cd ON cd.id = c.code_id
LEFT JOIN themes t ON t.id = cd.theme_id
JOIN segments s ON s.id = c.segment_id JOIN sources src ON src.id = s.source_id
LEFT JOIN participants p ON p.id = s.participant_id
"""

_ORDER_TRANSCRIPT = f" ORDER BY {TRANSCRIPT_ORDER}, t.position, cd.position, c.coder"
_ORDER_THEME = f" ORDER BY COALESCE(t.position, 1e9), t.id, cd.position, cd.id, {TRANSCRIPT_ORDER}, c.coder"

# Codings ``g`` of a code ``cd`` in a theme, with their segment ``s`` and source ``src``.
_THEMED_CODINGS = """FROM codings g JOIN codes cd ON cd.id = g.code_id JOIN segments s ON s.id = g.segment_id
JOIN sources src ON src.id = s.source_id WHERE cd.theme_id IS NOT NULL"""

# A span as stored: the value of column ``par`` (:start or :end), or NULL when the span is its
# segment's own (``seg``: the SQL of that segment's id), so one span has one spelling.
_STORED_SPAN = ('(SELECT CASE WHEN s.start = :start AND s."end" = :end THEN NULL ELSE :{par} END '
                "FROM segments s WHERE s.id = {seg})")

# What ``remove_codings(rows, by=...)`` matches, and the parameters of one row.
_REMOVE_BY = {
    "segment_code": ("segment_id = :segment AND code_id = :code",
                     lambda r: {"segment": int(r[0]), "code": int(r[1])}),
    "span": ("segment_id = :segment AND code_id = :code"
             f" AND start IS {_STORED_SPAN.format(par='start', seg=':segment')}"
             f""" AND "end" IS {_STORED_SPAN.format(par='end', seg=':segment')}""",
             lambda r: {"segment": int(r[0]), "code": int(r[1]), "start": r[2][0] if r[2] else None,
                        "end": r[2][1] if r[2] else None}),
    "segment": ("segment_id = :segment", lambda r: {"segment": int(r)}),
    "code": ("code_id = :code", lambda r: {"code": int(r)}),
    "coding": ("id = :id", lambda r: {"id": int(r)}),
}

# Two rows that would be the same row once they carry the same code (the unique index, less the code).
_SAME_ROW = {"codings": ("segment_id", "coder", "start", "end"), "suggestions": ("segment_id", "coder", "source")}


_SOURCE_CODINGS = """
SELECT g.id, g.segment_id, g.code_id, cd.key AS code, cd.name AS code_name, t.key AS theme,
       t.name AS theme_name, COALESCE(cd.colour, t.colour, '#999999') AS colour, g.coder, g.origin,
       g.start AS fstart, g."end" AS fend, s.start AS sstart, s."end" AS send
FROM codings g JOIN segments s ON s.id = g.segment_id JOIN codes cd ON cd.id = g.code_id
LEFT JOIN themes t ON t.id = cd.theme_id
"""


def _by_coders(column: str, coders: Sequence[str] | None) -> Where:
    """The condition ``column IN (coders)``; none when ``coders`` is None (every coder's codings)."""
    return Where().within(column, None if coders is None else list(coders))


def _with_span(row) -> dict:
    """A coding row with start and end: its fragment's, or its segment's for a whole-segment coding."""
    d = dict(row)
    fstart, fend, sstart, send = d.pop("fstart"), d.pop("fend"), d.pop("sstart"), d.pop("send")
    d["fragment"] = fstart is not None
    d["start"], d["end"] = (fstart, fend) if d["fragment"] else (sstart, send)
    return d


class CodingsMixin:
    # ------------------------------------------------------------------- write
    def add_coding(self, segment_id: int, code_id: int, coder: str, origin: str = "manual",
                   guid: str | None = None, span: tuple[int, int] | None = None) -> bool:
        """Record a coding; False when this coder already had it. ``span`` (start, end into the
        source's text, inside the segment) codes a fragment; None (or the segment's own span) the
        whole segment."""
        self.ensure_coder(coder)
        self._claim_analyst(coder, origin)
        start, end = self.coding_span(segment_id, span)
        return self._insert_codings([(None, guid or new_guid(), segment_id, code_id, coder, origin, now(),
                                      start, end)]) == 1

    def add_codings(self, rows: Iterable[tuple[int, int]], coder: str, origin: str) -> int:
        """Bulk (segment_id, code_id) codings for one coder; existing ones are kept. Returns how many were new."""
        self.ensure_coder(coder)
        self._claim_analyst(coder, origin)
        stamp = now()
        return self._insert_codings((None, new_guid(), s, c, coder, origin, stamp, None, None) for s, c in rows)

    def add_coding_rows(self, rows: Iterable[tuple], coder: str, coder_guid: str | None = None) -> int:
        """Many codings of one coder: (guid, segment_id, code_id, origin, created_at[, span]) rows;
        span (start, end) codes a fragment inside the segment, None the whole segment. Existing
        ones are kept. Returns how many were new."""
        self.ensure_coder(coder, coder_guid)
        return self._insert_codings(
            (None, r[0] or new_guid(), r[1], r[2], coder, r[3], r[4], *(r[5] if len(r) > 5 and r[5] else (None, None)))
            for r in rows)

    def restore_coding_rows(self, rows: Iterable[dict]) -> None:
        """Re-insert codings (same id and guid, so the audit log and undo still find them)."""
        self._insert_codings((r.get("id"), r["guid"], r["segment_id"], r["code_id"], r["coder"], r["origin"],
                              r["created_at"], r.get("start"), r.get("end")) for r in rows)

    def _insert_codings(self, rows: Iterable[tuple]) -> int:
        """The one INSERT into codings: (id or None, guid, segment_id, code_id, coder, origin, created_at,
        start, end) rows; one that exists already (same segment, code, coder and span) is kept.
        Returns how many were new."""
        cur = self.conn.executemany(
            'INSERT OR IGNORE INTO codings(id, guid, segment_id, code_id, coder, origin, created_at, start, "end") '
            "VALUES (?,?,?,?,?,?,?,?,?)", rows)
        return max(cur.rowcount, 0)  # not total_changes: the audit triggers' rows would count too

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

    def remove_codings(self, rows: Iterable, coder: str | None = None, *, by: str = "segment_code") -> int:
        """Delete codings; returns how many went. Call inside an act. ``rows`` say which, as ``by`` names:

        * ``"segment_code"``: (segment id, code id) pairs: every coding of the code on the segment,
          whole or fragment (anything after the first two items is ignored);
        * ``"span"``: (segment id, code id, span): only the coding on exactly that span, (start, end)
          into the source's text or None for the whole segment (the segment's own span is the whole
          segment, as :meth:`coding_span` stores it);
        * ``"segment"``: segment ids: every coding on those segments;
        * ``"code"``: code ids: every coding of those codes;
        * ``"coding"``: coding ids.

        ``coder``: only that coder's codings; None: anyone's."""
        if by not in _REMOVE_BY:
            raise ValueError(f"remove_codings: by must be one of {', '.join(_REMOVE_BY)}, not {by!r}")
        cond, params = _REMOVE_BY[by]
        sql = f"DELETE FROM codings WHERE {cond}"
        if coder is not None:
            sql += " AND coder = :coder"
        cur = self.conn.executemany(sql, ({**params(r), "coder": coder} for r in rows))
        return max(cur.rowcount, 0)  # not total_changes: the audit triggers' rows would count too

    def place_codings(self, moves: Iterable[tuple[int, int, int | None, int | None]]) -> None:
        """Put codings, given as (coding id, segment id, start, end), on another segment and span (as
        stored: None, None for the whole segment), keeping their ids and guids."""
        self.conn.executemany('UPDATE codings SET segment_id = ?, start = ?, "end" = ? WHERE id = ?',
                              [(sid, a, b, cid) for cid, sid, a, b in moves])

    def copy_codings(self, copies: Iterable[tuple[int, int, int | None, int | None]]) -> None:
        """New codings like existing ones (same code, coder, origin and time), given as (coding id to
        copy, segment id, start, end)."""
        self.conn.executemany(
            'INSERT INTO codings(guid, segment_id, code_id, coder, origin, created_at, start, "end") '
            'SELECT ?, ?, code_id, coder, origin, created_at, ?, ? FROM codings WHERE id = ?',
            [(new_guid(), sid, a, b, cid) for cid, sid, a, b in copies])

    def move_codings(self, from_code: int, to_code: int, segment_ids: Iterable[int] | None = None) -> tuple[int, int]:
        """Move codings of ``from_code`` (optionally only on ``segment_ids``) to ``to_code``.

        A coding whose segment, span and coder already carry ``to_code`` is a duplicate and is
        removed instead (a fragment of the segment is not a duplicate of the whole segment). Returns
        (moved, collapsed). Suggestions follow their code the same way (open suggestions stay useful)."""
        moved, dup = self._recode("codings", from_code, to_code, segment_ids)
        self._recode("suggestions", from_code, to_code, segment_ids)
        return moved, dup

    def _recode(self, table: str, from_code: int, to_code: int,
                segment_ids: Iterable[int] | None = None) -> tuple[int, int]:
        """Give the rows of ``table`` (codings or suggestions) with ``from_code`` the code ``to_code``;
        a row that would then equal one already there (see ``_SAME_ROW``) is deleted instead.
        Returns (moved, deleted)."""
        seg_filter, args = "", []
        if segment_ids is not None:
            cond, args = sql_in("a.segment_id", [int(i) for i in segment_ids])
            seg_filter = f" AND {cond}"
        same = " AND ".join(f'b."{col}" IS a."{col}"' for col in _SAME_ROW[table])
        dup = self.conn.execute(
            f"""DELETE FROM {table} WHERE id IN (
                  SELECT a.id FROM {table} a JOIN {table} b ON {same} AND b.code_id = ?
                  WHERE a.code_id = ?{seg_filter})""", (to_code, from_code, *args)).rowcount
        moved = self.conn.execute(
            f"UPDATE {table} SET code_id = ? WHERE id IN (SELECT a.id FROM {table} a WHERE a.code_id = ?{seg_filter})",
            (to_code, from_code, *args)).rowcount
        return moved, dup

    def move_fragment(self, coding_id: int, start: int, end: int) -> None:
        """Give a fragment coding new offsets (its text moved); its segment's own span is stored as NULL."""
        stored = {par: _STORED_SPAN.format(par=par, seg="codings.segment_id") for par in ("start", "end")}
        self.conn.execute(f'UPDATE codings SET start = {stored["start"]}, "end" = {stored["end"]} WHERE id = :id',
                          {"start": start, "end": end, "id": coding_id})

    # -------------------------------------------------------------------- list
    def codings(self, *, coder: str | None = None, code: str | None = None, theme: str | None = None,
                group: str | None = None, origin: str | None = None) -> list[dict]:
        """Codings joined with their segment, code and theme, in transcript order.

        Row keys: id, guid, segment_id, code_id, code, code_name, theme_id, theme, theme_name, colour,
        coder, origin, created_at, source, group_label, ordinal, speaker, role, participant, key, text,
        start, end."""
        where = (Where().equals("c.coder", coder).equals("cd.key", code).equals("t.key", theme)
                 .equals("src.group_label", group).equals("c.origin", origin))
        sql = _CODING_SELECT + where.sql
        sql += f" ORDER BY {TRANSCRIPT_ORDER}, t.position, cd.position"
        return [dict(r) for r in self.conn.execute(sql, where.args)]

    def iter_coded_fragments(self, order: str = "transcript", *, as_dict: bool = True,
                             coders: Sequence[str] | None = None) -> Iterator[dict]:
        """Every coding with its segment, code and theme, streamed one row at a time.

        ``order``: 'transcript' (group, source, segment) or 'theme' (theme position, code
        position, then transcript order). Row keys as :meth:`codings`. ``as_dict=False`` yields the
        read-only ``sqlite3.Row`` objects themselves (indexed by the same keys; cheaper for exports).
        ``coders``: only these coders' codings (None: everyone's)."""
        if order not in ("transcript", "theme"):
            raise ValueError("order must be 'transcript' or 'theme'")
        where = _by_coders("c.coder", coders)
        sql = _CODING_SELECT + where.sql + (_ORDER_TRANSCRIPT if order == "transcript" else _ORDER_THEME)
        rows = self.conn.execute(sql, where.args)
        if not as_dict:
            yield from rows
            return
        for r in rows:
            yield dict(r)

    def coding_rows(self) -> list[dict]:
        """Raw codings with segment and code guids, in segment order."""
        return [dict(r) for r in self.conn.execute(
            """SELECT g.*, s.guid AS segment_guid, c.guid AS code_guid, c.key AS code
               FROM codings g JOIN segments s ON s.id = g.segment_id JOIN codes c ON c.id = g.code_id
               ORDER BY g.segment_id, c.position, c.id, g.coder""")]

    def codings_in_source(self, source_id: int) -> list[dict]:
        """Codings of one source with the text they point at (for --replace carry-over)."""
        return [dict(r) for r in self.conn.execute(
            """SELECT c.*, s.text AS segment_text, s.speaker, s.ordinal FROM codings c
               JOIN segments s ON s.id = c.segment_id WHERE s.source_id = ? ORDER BY s.ordinal""",
            (source_id,))]

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

    def fragment_spans_of_source(self, source_id: int) -> list[tuple[int, int, int]]:
        """(coding id, start, end) of the fragment codings in one source."""
        return [tuple(r) for r in self.conn.execute(
            'SELECT g.id, g.start, g."end" FROM codings g JOIN segments s ON s.id = g.segment_id '
            "WHERE s.source_id = ? AND g.start IS NOT NULL", (source_id,))]

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

    def segment_codes(self, coder: str | None = None) -> dict[int, list[str]]:
        """segment id -> code keys (of one coder, or of anyone)."""
        where = Where().equals("g.coder", coder)
        sql = "SELECT g.segment_id, c.key FROM codings g JOIN codes c ON c.id = g.code_id" + where.sql
        out: dict[int, list[str]] = {}
        for sid, key in self.conn.execute(sql + " ORDER BY g.segment_id, c.position, c.id", where.args):
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

    def coding_pairs(self, coder: str, code_ids: Iterable[int] | None = None) -> set[tuple[int, int]]:
        """(segment id, code id) of one coder, optionally limited to some codes."""
        rows = self.conn.execute("SELECT segment_id, code_id FROM codings WHERE coder = ?", (coder,))
        wanted = set(code_ids) if code_ids is not None else None
        return {(s, c) for s, c in rows if wanted is None or c in wanted}

    def code_segment_ids(self, code_id: int) -> list[int]:
        return [r[0] for r in self.conn.execute(
            "SELECT DISTINCT segment_id FROM codings WHERE code_id = ? ORDER BY segment_id", (code_id,))]

    def coders_with_codings(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT DISTINCT coder FROM codings ORDER BY coder")]

    def coder_origins(self) -> dict[str, set[str]]:
        """coder -> the origins of their codings (e.g. {'consensus'})."""
        out: dict[str, set[str]] = {}
        for coder, origin in self.conn.execute("SELECT DISTINCT coder, origin FROM codings"):
            out.setdefault(coder, set()).add(origin)
        return out

    def uncoded_segment_ids(self, *, role: str | None = "participant") -> set[int]:
        """Segments nobody has coded (optionally of one role)."""
        where = (Where().holds(f"NOT {SEGMENT_IS_CODED}")
                 .equals("s.role", role or None))
        return {r[0] for r in self.conn.execute("SELECT s.id FROM segments s" + where.sql, where.args)}

    # ------------------------------------------------------------------ counts
    def count_codings(self, code_id: int | None = None) -> int:
        if code_id is None:
            return self.conn.execute("SELECT COUNT(*) FROM codings").fetchone()[0]
        return self.conn.execute("SELECT COUNT(*) FROM codings WHERE code_id = ?", (code_id,)).fetchone()[0]

    def count_coded_segments(self, role: str | None = "participant") -> int:
        where = Where().equals("s.role", role or None)
        return self.conn.execute("SELECT COUNT(DISTINCT g.segment_id) FROM codings g JOIN segments s "
                                 "ON s.id = g.segment_id" + where.sql, where.args).fetchone()[0]

    def code_counts_by(self, by: str = "source", coder: str | None = None, *,
                       coders: Sequence[str] | None = None, rows: str = "code") -> list[tuple[str, str, int]]:
        """(unit, code or theme key, number of distinct coded segments) per source, group, participant or
        participant attribute (``by`` names one; an attribute counts participants' turns only, '' where
        a participant has no value). ``rows``: 'code' or 'theme'. ``coder`` (one) or ``coders`` (several)
        limit the codings counted."""
        args: list = []
        if by in ("source", "group", "participant"):
            unit = {"source": "src.name", "group": "src.group_label",
                    "participant": "src.group_label || ' ' || COALESCE(p.label, s.speaker)"}[by]
            join = ""
        else:
            unit = "COALESCE(pa.value, '')"
            join = " LEFT JOIN participant_attributes pa ON pa.participant_id = p.id AND pa.name = ?"
            args.append(by)
        row = "cd.key" if rows == "code" else "t.key"
        sql = f"""SELECT {unit} AS unit, {row} AS row_key, COUNT(DISTINCT c.segment_id) FROM codings c
                  JOIN codes cd ON cd.id = c.code_id JOIN segments s ON s.id = c.segment_id
                  JOIN sources src ON src.id = s.source_id LEFT JOIN participants p ON p.id = s.participant_id
                  LEFT JOIN themes t ON t.id = cd.theme_id{join}"""
        where = _by_coders("c.coder", coders).equals("c.coder", coder or None)
        if join:
            where.holds("s.role = 'participant'")
        if rows == "theme":
            where.holds("t.id IS NOT NULL")
        sql += where.sql + " GROUP BY unit, row_key"
        return [tuple(r) for r in self.conn.execute(sql, [*args, *where.args])]

    def theme_counts_by_attribute(self, coders: Sequence[str] | None = None) -> list[tuple[str, str, str, int]]:
        """(attribute, value, theme key, distinct coded participant segments), every attribute at once
        (identifying ones included: the caller leaves them out)."""
        where = _by_coders("c.coder", coders).holds("s.role = 'participant'")
        return [tuple(r) for r in self.conn.execute(
            f"""SELECT pa.name, pa.value, t.key, COUNT(DISTINCT c.segment_id) FROM codings c
                JOIN codes cd ON cd.id = c.code_id JOIN themes t ON t.id = cd.theme_id
                JOIN segments s ON s.id = c.segment_id
                JOIN participant_attributes pa ON pa.participant_id = s.participant_id{where.sql}
                GROUP BY pa.name, pa.value, t.key""", where.args)]

    def coded_segment_ids(self, *, code_id: int | None = None, theme_id: int | None = None) -> list[int]:
        """Ids of the segments coded (by anyone, whole or in part) with a code, or with any code of a theme."""
        where = Where().equals("g.code_id", code_id).equals("cd.theme_id", theme_id)
        return [r[0] for r in self.conn.execute(
            "SELECT DISTINCT g.segment_id FROM codings g JOIN codes cd ON cd.id = g.code_id" + where.sql, where.args)]

    # ---------------------------------------------------------------- by theme
    def theme_segments(self, theme_id: int) -> list[dict]:
        """Distinct segments coded under a theme's codes, with their key and the codes."""
        rows = self.conn.execute(
            f"""SELECT s.id AS segment_id, src.group_label, s.role, p.label AS participant,
                      {SPEAKER_KEY} AS key,
                      s.text, group_concat(DISTINCT cd.key) AS codes
               FROM codings g JOIN codes cd ON cd.id = g.code_id JOIN segments s ON s.id = g.segment_id
               JOIN sources src ON src.id = s.source_id LEFT JOIN participants p ON p.id = s.participant_id
               WHERE cd.theme_id = ?
               GROUP BY s.id ORDER BY """ + TRANSCRIPT_ORDER,
            (theme_id,)).fetchall()
        return [dict(r) for r in rows]

    def theme_fragments(self, theme_id: int, coders: Sequence[str] | None = None) -> list[dict]:
        """Distinct participant fragments coded under a theme: a whole segment, or the coded part of
        one. Keys: id ((segment id, start, end): one per span), segment_id, start, end,
        text (the fragment's words), n_words, fragment (True for part of a segment), group,
        participant, participant_id, key, codes (keys of the theme's codes on it)."""
        where = _by_coders("g.coder", coders).holds("cd.theme_id = ?", theme_id).holds("s.role = 'participant'")
        rows = self.conn.execute(
            f"""SELECT s.id, g.start AS fstart, g."end" AS fend, s.start AS sstart, s."end" AS send,
                      s.text, s.n_words, src.group_label AS "group", p.label AS participant,
                      p.id AS participant_id, p.group_label || ' ' || p.label AS key,
                      group_concat(DISTINCT cd.key) AS codes
               FROM codings g JOIN codes cd ON cd.id = g.code_id JOIN segments s ON s.id = g.segment_id
               JOIN sources src ON src.id = s.source_id JOIN participants p ON p.id = s.participant_id{where.sql}
               GROUP BY s.id, g.start, g."end"
               ORDER BY s.id, IFNULL(g.start, -1), IFNULL(g."end", -1)""", where.args).fetchall()
        out = []
        for r in rows:
            d = {k: r[k] for k in ("group", "participant", "participant_id", "key")}
            d["codes"] = sorted((r["codes"] or "").split(","))
            if r["fstart"] is None:
                d.update(start=r["sstart"], end=r["send"], text=r["text"], n_words=r["n_words"], fragment=False)
            else:
                text = r["text"][r["fstart"] - r["sstart"]:r["fend"] - r["sstart"]]
                d.update(start=r["fstart"], end=r["fend"], text=text, n_words=len(text.split()), fragment=True)
            d.update(id=(r["id"], d["start"], d["end"]), segment_id=r["id"])
            out.append(d)
        return out

    def theme_spread(self, coders: Sequence[str] | None = None) -> dict[int, dict]:
        """theme id -> fragments (distinct segments), codings, groups and participants reached."""
        who = _by_coders("g.coder", coders)
        out = {t: {"fragments": 0, "codings": 0, "groups": 0, "participants": 0}
               for (t,) in self.conn.execute("SELECT id FROM themes")}
        for tid, frags, codings, groups, people in self.conn.execute(
                f"""SELECT cd.theme_id, COUNT(DISTINCT g.segment_id), COUNT(*), COUNT(DISTINCT src.group_label),
                           COUNT(DISTINCT s.participant_id) {_THEMED_CODINGS}{who.and_sql}
                    GROUP BY cd.theme_id""", who.args):
            out[tid] = {"fragments": frags, "codings": codings, "groups": groups, "participants": people}
        return out

    def theme_by_group(self, coders: Sequence[str] | None = None) -> dict[tuple[int, str], int]:
        """(theme id, group) -> distinct coded segments."""
        who = _by_coders("g.coder", coders)
        return {(t, g): n for t, g, n in self.conn.execute(
            f"""SELECT cd.theme_id, src.group_label, COUNT(DISTINCT g.segment_id) {_THEMED_CODINGS}{who.and_sql}
                GROUP BY cd.theme_id, src.group_label""", who.args)}

    def theme_by_participant(self, coders: Sequence[str] | None = None) -> dict[tuple[int, int], int]:
        """(theme id, participant id) -> distinct coded segments."""
        who = _by_coders("g.coder", coders).holds("s.participant_id IS NOT NULL")
        return {(t, p): n for t, p, n in self.conn.execute(
            f"""SELECT cd.theme_id, s.participant_id, COUNT(DISTINCT g.segment_id) {_THEMED_CODINGS}{who.and_sql}
                GROUP BY cd.theme_id, s.participant_id""", who.args)}

    def theme_voices(self, coder: str | None = None) -> list[dict]:
        """(theme, group, participant, segments) for participant segments coded under each theme."""
        where = Where().holds("s.role = 'participant'").equals("g.coder", coder or None)
        rows = self.conn.execute(
            f"""SELECT t.key AS theme, p.group_label AS "group", p.label AS participant,
                       COUNT(DISTINCT s.id) AS segments
                FROM codings g JOIN codes cd ON cd.id = g.code_id JOIN themes t ON t.id = cd.theme_id
                JOIN segments s ON s.id = g.segment_id JOIN participants p ON p.id = s.participant_id{where.sql}
                GROUP BY t.id, p.id ORDER BY t.position, t.id""", where.args).fetchall()
        return [dict(r) for r in rows]

    def coded_segment_pairs(self, coder: str | None = None, level: str = "theme") -> list[tuple[str, int, str]]:
        """Distinct (theme or code key, segment id, segment text) for coherence."""
        col = "t.key" if level == "theme" else "cd.key"
        where = Where().equals("g.coder", coder or None)
        sql = f"""SELECT DISTINCT {col}, s.id, s.text FROM codings g JOIN codes cd ON cd.id = g.code_id
                  {'JOIN' if level == 'theme' else 'LEFT JOIN'} themes t ON t.id = cd.theme_id
                  JOIN segments s ON s.id = g.segment_id{where.sql} ORDER BY 1, 2"""
        return [tuple(r) for r in self.conn.execute(sql, where.args)]

    def coverage_rows(self, coder: str | None = None) -> list[dict]:
        """Per participant: participant segments and how many carry no code (of ``coder`` or anyone)."""
        coded = Where().holds("g.segment_id = s.id").equals("g.coder", coder or None)
        rows = self.conn.execute(
            f"""SELECT p.group_label AS "group", p.label AS participant, COUNT(s.id) AS segments,
                       SUM(CASE WHEN EXISTS (SELECT 1 FROM codings g{coded.sql}) THEN 0 ELSE 1 END) AS uncoded
                FROM segments s JOIN participants p ON p.id = s.participant_id
                WHERE s.role = 'participant' GROUP BY p.id""", coded.args).fetchall()
        return [dict(r) for r in rows]

    def participant_talk(self, coders: Sequence[str] | None = None) -> list[dict]:
        """Per participant: words, turns, segments, share of their group's participant words, coded segments."""
        who = _by_coders("g.coder", coders).holds("s.participant_id IS NOT NULL")
        coded = dict(self.conn.execute(
            f"""SELECT s.participant_id, COUNT(DISTINCT g.segment_id) FROM codings g
               JOIN segments s ON s.id = g.segment_id{who.sql}
               GROUP BY s.participant_id""", who.args))
        stats = [r for r in self.talk_stats() if r["role"] == "participant" and r["participant_id"]]
        group_words: dict[str, int] = {}
        for r in stats:
            group_words[r["group"]] = group_words.get(r["group"], 0) + (r["words"] or 0)
        out = {}
        for r in stats:
            total = group_words.get(r["group"]) or 0
            out[r["participant_id"]] = {"words": r["words"] or 0, "turns": r["turns"], "segments": r["segments"],
                                        "share": (r["words"] or 0) / total if total else 0.0,
                                        "coded": coded.get(r["participant_id"], 0)}
        return out

    def code_cooccurrence(self, coders: Sequence[str] | None = None) -> dict[tuple[int, int], int]:
        """(code id a, code id b) with a < b -> segments carrying both (any of ``coders``; None: anyone)."""
        who = _by_coders("coder", coders)
        return {(a, b): n for a, b, n in self.conn.execute(
            f"""WITH sc AS (SELECT DISTINCT segment_id, code_id FROM codings{who.sql})
               SELECT x.code_id, y.code_id, COUNT(*) FROM sc x JOIN sc y
                 ON y.segment_id = x.segment_id AND y.code_id > x.code_id
               GROUP BY x.code_id, y.code_id""", who.args)}

    # --------------------------------------------------------------- agreement
    def coder_codings(self, coders: Iterable[str]) -> list[tuple[int, str, str]]:
        """(segment id, code key, coder) of every coding by the given coders, once each: the unit of
        agreement is segment x code, so several fragments of one segment with one code count once."""
        c = list(coders)
        if not c:
            return []
        keys = dict(self.conn.execute("SELECT id, key FROM codes").fetchall())
        # One pass over the table in storage order: the chosen coders usually own most codings,
        # and the coder or code index would visit the rows in scattered order (2x slower at
        # 1,000 transcripts, and slower per row the larger the project).
        return list(dict.fromkeys((a, keys[b], d) for a, b, d in self.conn.execute(
            f"SELECT segment_id, code_id, coder FROM codings NOT INDEXED WHERE coder IN ({','.join('?' * len(c))})",
            c)))

    def mark_done(self, coder: str, source_ids: Iterable[int]) -> int:
        """Mark sources as fully coded by ``coder``; returns how many marks are new.

        Call inside an act. Segments of a done source that the coder left uncoded count
        as 'not applied' in agreement statistics."""
        self.ensure_coder(coder)
        stamp = now()
        cur = self.conn.executemany(
            "INSERT OR IGNORE INTO coder_progress(coder, source_id, done_at) VALUES (?,?,?)",
            [(coder, int(s), stamp) for s in source_ids])
        return max(cur.rowcount, 0)

    def unmark_done(self, coder: str, source_ids: Iterable[int]) -> int:
        """Remove 'done' marks; returns how many were removed. Call inside an act."""
        cur = self.conn.executemany("DELETE FROM coder_progress WHERE coder = ? AND source_id = ?",
                                    [(coder, int(s)) for s in source_ids])
        return max(cur.rowcount, 0)

    def coder_progress(self) -> list[dict]:
        """Every 'done' mark: coder, source_id, source (name), group_label, done_at."""
        return [dict(r) for r in self.conn.execute(
            """SELECT cp.coder, cp.source_id, src.name AS source, src.group_label, cp.done_at
               FROM coder_progress cp JOIN sources src ON src.id = cp.source_id
               ORDER BY cp.coder, length(src.group_label), src.group_label, src.name""")]

    def done_sources(self, coder: str) -> set[int]:
        return {r[0] for r in self.conn.execute("SELECT source_id FROM coder_progress WHERE coder = ?", (coder,))}

    def coded_source_ids(self, coder: str) -> set[int]:
        """Sources this coder has finished: marked done, or (when the coder never marks sources done)
        holding at least one of their codings."""
        done = self.done_sources(coder)
        if done:
            return done
        return {r[0] for r in self.conn.execute(
            "SELECT DISTINCT s.source_id FROM codings g JOIN segments s ON s.id = g.segment_id WHERE g.coder = ?",
            (coder,))}

    def source_codings(self, source_id: int) -> list[dict]:
        """Codings of one source's segments: id, segment_id, code_id, code, code_name, theme, theme_name,
        colour, coder, origin, start, end (the span in the source's text; the segment's own for a
        whole-segment coding) and fragment (True for part of a segment), in codebook order."""
        rows = self.conn.execute(
            _SOURCE_CODINGS + " WHERE s.source_id = ? ORDER BY s.ordinal, IFNULL(t.position, 1e9), cd.position, g.id",
            (int(source_id),))
        return [_with_span(r) for r in rows]

    def coding(self, coding_id: int) -> dict:
        """One coding with its code, theme and span (keys as :meth:`source_codings`, plus source_id)."""
        row = self.conn.execute(
            _SOURCE_CODINGS.replace("SELECT g.id,", "SELECT s.source_id, g.id,") + " WHERE g.id = ?",
            (int(coding_id),)).fetchone()
        if row is None:
            raise NotFoundError(f"coding #{coding_id} is not in the project (any more); reload the page to see "
                                "the codings as they are now.")
        return _with_span(row)
