"""Queries for codebook application, rule-based coding and the coding sheet (issue 3)."""

from __future__ import annotations

from typing import Iterable


class CodebookRulesMixin:
    # ------------------------------------------------------------ codebook apply
    def theme_code_count(self, theme_id: int) -> int:
        return self.conn.execute("SELECT COUNT(*) FROM codes WHERE theme_id = ?", (theme_id,)).fetchone()[0]

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
            moved = self.conn.execute(
                "UPDATE OR IGNORE codings SET code_id = ? WHERE code_id = ?", (holding_id, code_id)).rowcount
            self.conn.execute("UPDATE memos SET target_id = ? WHERE target_type = 'code' AND target_id = ?",
                              (holding_id, code_id))
        self.conn.execute("DELETE FROM codings WHERE code_id = ?", (code_id,))
        self.conn.execute("DELETE FROM suggestions WHERE code_id = ?", (code_id,))
        self.conn.execute("UPDATE codes SET parent_id = NULL WHERE parent_id = ?", (code_id,))
        self.conn.execute("DELETE FROM codes WHERE id = ?", (code_id,))
        return moved

    # ------------------------------------------------------------ rule coding
    def rule_segment_texts(self, *, role: str | None = "participant") -> list[tuple[int, str]]:
        """(segment id, text) in transcript order, participant turns only by default."""
        sql = ("SELECT s.id, s.text FROM segments s JOIN sources src ON src.id = s.source_id"
               + (" WHERE s.role = ?" if role else "")
               + " ORDER BY length(src.group_label), src.group_label, src.name, s.ordinal")
        return list(self.conn.execute(sql, (role,) if role else ()))

    def coding_pairs(self, coder: str, code_ids: Iterable[int] | None = None) -> set[tuple[int, int]]:
        """(segment id, code id) of one coder, optionally limited to some codes."""
        rows = self.conn.execute("SELECT segment_id, code_id FROM codings WHERE coder = ?", (coder,))
        wanted = set(code_ids) if code_ids is not None else None
        return {(s, c) for s, c in rows if wanted is None or c in wanted}

    def remove_codings(self, pairs: Iterable[tuple[int, int]], coder: str) -> int:
        cur = self.conn.executemany("DELETE FROM codings WHERE segment_id = ? AND code_id = ? AND coder = ?",
                                    ((s, c, coder) for s, c in pairs))
        return max(cur.rowcount, 0)  # not total_changes: the audit triggers' rows would count too

    # ------------------------------------------------------------ coding sheet
    def segment_guids(self, ids: Iterable[int] | None = None) -> dict[int, str]:
        rows = self.conn.execute("SELECT id, guid FROM segments")
        wanted = set(ids) if ids is not None else None
        return {i: g for i, g in rows if wanted is None or i in wanted}

    def segment_memo_texts(self, author: str) -> dict[int, list[str]]:
        out: dict[int, list[str]] = {}
        for tid, text in self.conn.execute(
                "SELECT target_id, text FROM memos WHERE target_type = 'segment' AND author = ? AND kind = 'memo' "
                "ORDER BY created_at, id", (author,)):
            out.setdefault(tid, []).append(text)
        return out
