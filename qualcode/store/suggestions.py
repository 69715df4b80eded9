"""Queries for learnt suggestions and inductive discovery."""

from __future__ import annotations

from typing import Iterable

from .core import SPEAKER_KEY, TRANSCRIPT_ORDER, Where, now, sql_in

_SUGGESTION_SELECT = f"""
SELECT sg.id, sg.segment_id, sg.code_id, c.key AS code, c.name AS code_name, sg.coder, sg.confidence,
       sg.drivers, sg.source, sg.status, sg.created_at, src.name AS source_name, src.group_label,
       s.ordinal, s.speaker, s.role,
       {SPEAKER_KEY} AS key,
       s.text
FROM suggestions sg JOIN codes c ON c.id = sg.code_id
JOIN segments s ON s.id = sg.segment_id JOIN sources src ON src.id = s.source_id
LEFT JOIN participants p ON p.id = s.participant_id
"""


class SuggestionsMixin:
    def suggestions(self, *, coder: str | None = None, source: str | None = None, status: str | None = None,
                    ids: Iterable[int] | None = None) -> list[dict]:
        """Suggestions with their segment and code, in transcript order, most confident first per segment.

        Row keys: id, segment_id, code_id, code, code_name, coder, confidence, drivers, source (model,
        rules, discover), status, created_at, source_name, group_label, ordinal, speaker, role, key, text."""
        where = (Where().equals("sg.coder", coder).equals("sg.source", source).equals("sg.status", status)
                 .within("sg.id", None if ids is None else [int(i) for i in ids]))
        sql = _SUGGESTION_SELECT + where.sql + f" ORDER BY {TRANSCRIPT_ORDER}, sg.confidence DESC, c.position"
        return [dict(r) for r in self.conn.execute(sql, where.args)]

    def replace_open_suggestions(self, rows: Iterable[tuple[int, int, float, str]], *, coder: str,
                                 source: str) -> int:
        """Drop this coder's open suggestions of ``source`` and store new (segment_id, code_id, confidence,
        drivers) rows. Accepted and rejected ones are kept (and not suggested again). Returns how many
        were stored."""
        self.drop_open_suggestions(coder=coder, source=source)
        return self.add_suggestions(rows, coder=coder, source=source)

    def drop_open_suggestions(self, *, coder: str, source: str, code_ids: Iterable[int] | None = None) -> int:
        """Delete this coder's open suggestions of ``source`` (only of ``code_ids``, if given)."""
        sql, args = "DELETE FROM suggestions WHERE coder = ? AND source = ? AND status = 'open'", [coder, source]
        if code_ids is not None:
            cond, more = sql_in("code_id", [int(c) for c in code_ids])
            sql += " AND " + cond
            args += more
        return max(self.conn.execute(sql, args).rowcount, 0)

    def add_suggestions(self, rows: Iterable[tuple[int, int, float, str]], *, coder: str, source: str) -> int:
        """Insert suggestions; ones that already exist (same segment, code, coder, source) are left alone."""
        stamp = now()
        cur = self.conn.executemany(
            "INSERT OR IGNORE INTO suggestions(segment_id, code_id, coder, confidence, drivers, source, status, "
            "created_at) VALUES (?,?,?,?,?,?,'open',?)",
            ((int(s), int(c), coder, float(p), d, source, stamp) for s, c, p, d in rows))
        return max(cur.rowcount, 0)  # not total_changes: the audit triggers' rows would count too

    def set_suggestion_status(self, suggestion_id: int, status: str) -> None:
        self.conn.execute("UPDATE suggestions SET status = ? WHERE id = ?", (status, int(suggestion_id)))

    def source_suggestion_rows(self, source_id: int, status: str = "open") -> list[dict]:
        """Suggestions on one source's segments: id, segment_id, code_id, code, code_name, coder,
        confidence, drivers, source, status."""
        return [dict(r) for r in self.conn.execute(
            """SELECT sg.id, sg.segment_id, sg.code_id, c.key AS code, c.name AS code_name, sg.coder,
                      sg.confidence, sg.drivers, sg.source, sg.status
               FROM suggestions sg JOIN codes c ON c.id = sg.code_id JOIN segments s ON s.id = sg.segment_id
               WHERE s.source_id = ? AND sg.status = ? ORDER BY s.ordinal, sg.confidence DESC, c.position""",
            (int(source_id), status))]
