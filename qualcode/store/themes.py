"""Queries for re-theming (merge, split, move), theme status, review checks and status counts.

Every method here only reads or changes rows; the audited act around it (and
therefore undo) is opened by the library in :mod:`qualcode.themes.retheme`.
"""

from __future__ import annotations

from typing import Iterable

from .core import sql_in


_KEYED_TABLES = {"theme": "themes", "code": "codes"}


class ThemesMixin:
    # ------------------------------------------------------------ lookups
    def name_for_key(self, kind: str, key: str) -> str | None:
        """The name of the theme or code (``kind``) with id ``key``, or None when the id is free."""
        row = self.conn.execute(f"SELECT name FROM {_KEYED_TABLES[kind]} WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    def key_for_id(self, kind: str, row_id: int) -> str | None:
        """The id (key) of the theme or code (``kind``) with row id ``row_id``, or None if it is gone."""
        row = self.conn.execute(f"SELECT key FROM {_KEYED_TABLES[kind]} WHERE id = ?", (row_id,)).fetchone()
        return None if row is None else row[0]

    # ------------------------------------------------------------ re-theming
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

    def theme_code_ids(self, theme_id: int) -> list[int]:
        return [r[0] for r in self.conn.execute(
            "SELECT id FROM codes WHERE theme_id = ? ORDER BY position, id", (theme_id,))]

    def move_codings(self, from_code: int, to_code: int, segment_ids: Iterable[int] | None = None) -> tuple[int, int]:
        """Move codings of ``from_code`` (optionally only on ``segment_ids``) to ``to_code``.

        A coding whose segment, span and coder already carry ``to_code`` is a duplicate and is
        removed instead (a fragment of the segment is not a duplicate of the whole segment). Returns (moved, collapsed)."""
        seg_filter, args = "", []
        if segment_ids is not None:
            cond, args = sql_in("a.segment_id", [int(i) for i in segment_ids])
            seg_filter = f" AND {cond}"
        dup = self.conn.execute(
            f"""DELETE FROM codings WHERE id IN (
                  SELECT a.id FROM codings a JOIN codings b
                    ON b.segment_id = a.segment_id AND b.coder = a.coder AND b.code_id = ?
                       AND b.start IS a.start AND b."end" IS a."end"
                  WHERE a.code_id = ?{seg_filter})""", (to_code, from_code, *args)).rowcount
        moved = self.conn.execute(
            f"UPDATE codings SET code_id = ? WHERE id IN (SELECT a.id FROM codings a WHERE a.code_id = ?{seg_filter})",
            (to_code, from_code, *args)).rowcount
        # suggestions follow their code the same way (open suggestions stay useful)
        self.conn.execute(
            f"""DELETE FROM suggestions WHERE id IN (
                  SELECT a.id FROM suggestions a JOIN suggestions b
                    ON b.segment_id = a.segment_id AND b.coder = a.coder AND b.source = a.source AND b.code_id = ?
                  WHERE a.code_id = ?{seg_filter})""", (to_code, from_code, *args))
        self.conn.execute(
            f"UPDATE suggestions SET code_id = ? WHERE id IN (SELECT a.id FROM suggestions a WHERE a.code_id = ?"
            f"{seg_filter})", (to_code, from_code, *args))
        return moved, dup

    def reparent_codes(self, old_parent: int, new_parent: int | None) -> None:
        self.conn.execute("UPDATE codes SET parent_id = ? WHERE parent_id = ? AND id IS NOT ?",
                          (new_parent, old_parent, new_parent))

    def retarget_memos(self, target_type: str, old_id: int, new_id: int) -> int:
        return self.conn.execute("UPDATE memos SET target_id = ? WHERE target_type = ? AND target_id = ?",
                                 (new_id, target_type, old_id)).rowcount

    def code_segment_ids(self, code_id: int) -> list[int]:
        return [r[0] for r in self.conn.execute(
            "SELECT DISTINCT segment_id FROM codings WHERE code_id = ? ORDER BY segment_id", (code_id,))]

    def theme_segments(self, theme_id: int) -> list[dict]:
        """Distinct segments coded under a theme's codes, with their key and the codes."""
        rows = self.conn.execute(
            """SELECT s.id AS segment_id, src.group_label, s.role, p.label AS participant,
                      CASE WHEN p.id IS NULL THEN src.group_label || ' ' || s.speaker
                           ELSE p.group_label || ' ' || p.label END AS key,
                      s.text, group_concat(DISTINCT cd.key) AS codes
               FROM codings g JOIN codes cd ON cd.id = g.code_id JOIN segments s ON s.id = g.segment_id
               JOIN sources src ON src.id = s.source_id LEFT JOIN participants p ON p.id = s.participant_id
               WHERE cd.theme_id = ?
               GROUP BY s.id ORDER BY length(src.group_label), src.group_label, src.name, s.ordinal""",
            (theme_id,)).fetchall()
        return [dict(r) for r in rows]

    # ----------------------------------------------------------------- status
    def status_counts(self) -> dict:
        """Indexed counts for ``qualcode status`` (no heavy imports, a handful of queries)."""
        q = self.conn.execute
        out = {
            "sources": q("SELECT COUNT(*) FROM sources").fetchone()[0],
            "groups": q("SELECT COUNT(*) FROM groups").fetchone()[0],
            "participants": q("SELECT COUNT(*) FROM participants").fetchone()[0],
            "segments": q("SELECT COUNT(*) FROM segments WHERE role = 'participant'").fetchone()[0],
            "segments_coded": q("""SELECT COUNT(*) FROM segments s WHERE s.role = 'participant'
                                   AND EXISTS (SELECT 1 FROM codings g WHERE g.segment_id = s.id)""").fetchone()[0],
            "codes": q("SELECT COUNT(*) FROM codes").fetchone()[0],
            "codings": q("SELECT COUNT(*) FROM codings").fetchone()[0],
            "coders": self.coders_with_codings(),
            "codes_without_codings": [r[0] for r in q(
                """SELECT c.key FROM codes c WHERE NOT EXISTS (SELECT 1 FROM codings g WHERE g.code_id = c.id)
                   ORDER BY c.position, c.id""")],
            "codes_without_theme": [r[0] for r in q("SELECT key FROM codes WHERE theme_id IS NULL ORDER BY id")],
            "themes_by_status": {},
        }
        for status, key in q("SELECT status, key FROM themes ORDER BY position, id"):
            out["themes_by_status"].setdefault(status, []).append(key)
        return out

    def acts_since(self, audit_id: int, ignore: Iterable[str] = ()) -> int:
        """Acts recorded after ``audit_id``, not counting the commands in ``ignore``."""
        ign = list(ignore)
        marks = ",".join("?" * len(ign)) or "''"
        return self.conn.execute(f"SELECT COUNT(*) FROM audit_log WHERE id > ? AND command NOT IN ({marks})",
                                 (int(audit_id), *ign)).fetchone()[0]

    # ----------------------------------------------------------------- review
    def integrity_rows(self) -> list[dict]:
        """Every segment with its text and the source text at its offsets (compared in SQL)."""
        rows = self.conn.execute(
            """SELECT s.id AS segment_id, src.name AS source, src.group_label, s.ordinal, s.start, s."end",
                      s.text, substr(src.text, s.start + 1, s."end" - s.start) AS source_text,
                      EXISTS (SELECT 1 FROM codings g WHERE g.segment_id = s.id) AS coded
               FROM segments s JOIN sources src ON src.id = s.source_id
               WHERE s.text IS NOT substr(src.text, s.start + 1, s."end" - s.start)
               ORDER BY src.name, s.ordinal""").fetchall()
        return [dict(r) for r in rows]

    def coverage_rows(self, coder: str | None = None) -> list[dict]:
        """Per participant: participant segments and how many carry no code (of ``coder`` or anyone)."""
        cond = "g.segment_id = s.id" + (" AND g.coder = ?" if coder else "")
        args = (coder,) if coder else ()
        rows = self.conn.execute(
            f"""SELECT p.group_label AS "group", p.label AS participant, COUNT(s.id) AS segments,
                       SUM(CASE WHEN EXISTS (SELECT 1 FROM codings g WHERE {cond}) THEN 0 ELSE 1 END) AS uncoded
                FROM segments s JOIN participants p ON p.id = s.participant_id
                WHERE s.role = 'participant' GROUP BY p.id""", args).fetchall()
        return [dict(r) for r in rows]

    def theme_voices(self, coder: str | None = None) -> list[dict]:
        """(theme, group, participant, segments) for participant segments coded under each theme."""
        extra = " AND g.coder = ?" if coder else ""
        args = (coder,) if coder else ()
        rows = self.conn.execute(
            f"""SELECT t.key AS theme, p.group_label AS "group", p.label AS participant,
                       COUNT(DISTINCT s.id) AS segments
                FROM codings g JOIN codes cd ON cd.id = g.code_id JOIN themes t ON t.id = cd.theme_id
                JOIN segments s ON s.id = g.segment_id JOIN participants p ON p.id = s.participant_id
                WHERE s.role = 'participant'{extra}
                GROUP BY t.id, p.id ORDER BY t.position, t.id""", args).fetchall()
        return [dict(r) for r in rows]

    def coded_segment_pairs(self, coder: str | None = None, level: str = "theme") -> list[tuple[str, int, str]]:
        """Distinct (theme or code key, segment id, segment text) for coherence."""
        col = "t.key" if level == "theme" else "cd.key"
        extra = " WHERE g.coder = ?" if coder else ""
        args = (coder,) if coder else ()
        sql = f"""SELECT DISTINCT {col}, s.id, s.text FROM codings g JOIN codes cd ON cd.id = g.code_id
                  {'JOIN' if level == 'theme' else 'LEFT JOIN'} themes t ON t.id = cd.theme_id
                  JOIN segments s ON s.id = g.segment_id{extra} ORDER BY 1, 2"""
        return [tuple(r) for r in self.conn.execute(sql, args)]
