"""Queries for memos: the project's logbook of reflections and supervisor comments."""

from __future__ import annotations

from .core import Where, new_guid, now

TARGET_TYPES = ("project", "theme", "code", "segment", "source", "participant")


class MemosMixin:
    def add_memo(self, target_type: str, target_id: int | None, text: str, author: str, *,
                 kind: str = "memo", guid: str | None = None, created_at: str | None = None) -> int:
        if target_type not in TARGET_TYPES:
            raise ValueError(f"memo target must be one of {TARGET_TYPES}")
        cur = self.conn.execute(
            "INSERT INTO memos(guid, target_type, target_id, kind, author, created_at, text) VALUES (?,?,?,?,?,?,?)",
            (guid or new_guid(), target_type, target_id, kind, author, created_at or now(), text))
        return cur.lastrowid

    def memos(self, target_type: str | None = None, target_id: int | None = None,
              kind: str | None = None) -> list[dict]:
        where = Where().equals("target_type", target_type).equals("target_id", target_id).equals("kind", kind)
        sql = "SELECT * FROM memos" + where.sql + " ORDER BY created_at, id"
        return [dict(r) for r in self.conn.execute(sql, where.args)]

    def memo(self, memo_id: int) -> dict | None:
        row = self.conn.execute("SELECT * FROM memos WHERE id = ?", (memo_id,)).fetchone()
        return dict(row) if row else None

    def retarget_memo(self, memo_id: int, target_type: str, target_id: int | None) -> None:
        self.conn.execute("UPDATE memos SET target_type = ?, target_id = ? WHERE id = ?",
                          (target_type, target_id, memo_id))
