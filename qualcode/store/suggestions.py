"""Queries for learnt suggestions and inductive discovery."""

from __future__ import annotations

from typing import Iterable

from .core import now, sql_in

_SUGGESTION_SELECT = """
SELECT sg.id, sg.segment_id, sg.code_id, c.key AS code, c.name AS code_name, sg.coder, sg.confidence,
       sg.drivers, sg.source, sg.status, sg.created_at, src.name AS source_name, src.group_label,
       s.ordinal, s.speaker, s.role,
       CASE WHEN p.id IS NULL THEN src.group_label || ' ' || s.speaker
            ELSE p.group_label || ' ' || p.label END AS key,
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
        where, args = [], []
        for col, val in (("sg.coder", coder), ("sg.source", source), ("sg.status", status)):
            if val is not None:
                where.append(f"{col} = ?")
                args.append(val)
        if ids is not None:
            cond, id_args = sql_in("sg.id", [int(i) for i in ids])
            where.append(cond)
            args.extend(id_args)
        sql = _SUGGESTION_SELECT + (" WHERE " + " AND ".join(where) if where else "")
        sql += (" ORDER BY length(src.group_label), src.group_label, src.name, s.ordinal, sg.confidence DESC, "
                "c.position")
        return [dict(r) for r in self.conn.execute(sql, args)]

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

    def coded_source_ids(self, coder: str) -> set[int]:
        """Sources this coder has finished: marked done, or (when the coder never marks sources done)
        holding at least one of their codings."""
        done = {r[0] for r in self.conn.execute("SELECT source_id FROM coder_progress WHERE coder = ?", (coder,))}
        if done:
            return done
        return {r[0] for r in self.conn.execute(
            "SELECT DISTINCT s.source_id FROM codings g JOIN segments s ON s.id = g.segment_id WHERE g.coder = ?",
            (coder,))}

    def uncoded_segment_ids(self, *, role: str | None = "participant") -> set[int]:
        """Segments nobody has coded (optionally of one role)."""
        sql = "SELECT s.id FROM segments s WHERE NOT EXISTS (SELECT 1 FROM codings g WHERE g.segment_id = s.id)"
        args: tuple = ()
        if role:
            sql += " AND s.role = ?"
            args = (role,)
        return {r[0] for r in self.conn.execute(sql, args)}
