"""Queries for memos: the project's logbook of reflections and supervisor comments."""

from __future__ import annotations

from .core import Where, new_guid, now

TARGET_TYPES = ("project", "theme", "code", "segment", "source", "participant")


class MemosMixin:
    # ------------------------------------------------------------------- memos
    def add_memo(self, target_type: str, target_id: int | None, text: str, author: str, *,
                 kind: str = "memo", guid: str | None = None, created_at: str | None = None) -> int:
        if target_type not in TARGET_TYPES:
            raise ValueError(f"memo target must be one of {TARGET_TYPES}")
        cur = self.conn.execute(
            "INSERT INTO memos(guid, target_type, target_id, kind, author, created_at, text) VALUES (?,?,?,?,?,?,?)",
            (guid or new_guid(), target_type, target_id, kind, author, created_at or now(), text))
        return cur.lastrowid

    def memos(self, target_type: str | None = None, target_id: int | None = None,
              kind: str | None = None, *, author: str | None = None) -> list[dict]:
        """Memos (of one target, kind or author) in the order they were written."""
        where = (Where().equals("target_type", target_type).equals("target_id", target_id).equals("kind", kind)
                 .equals("author", author))
        sql = "SELECT * FROM memos" + where.sql + " ORDER BY created_at, id"
        return [dict(r) for r in self.conn.execute(sql, where.args)]

    def memo(self, memo_id: int) -> dict | None:
        row = self.conn.execute("SELECT * FROM memos WHERE id = ?", (memo_id,)).fetchone()
        return dict(row) if row else None

    def memos_with_targets(self) -> list[dict]:
        """All memos with a readable label of what they are about."""
        rows = self.conn.execute(
            """SELECT m.*, CASE m.target_type
                   WHEN 'project' THEN 'project'
                   WHEN 'theme' THEN (SELECT name FROM themes WHERE id = m.target_id)
                   WHEN 'code' THEN (SELECT key FROM codes WHERE id = m.target_id)
                   WHEN 'source' THEN (SELECT name FROM sources WHERE id = m.target_id)
                   WHEN 'participant' THEN (SELECT group_label || ' ' || label FROM participants
                                            WHERE id = m.target_id)
                   WHEN 'segment' THEN (SELECT src.group_label || ' ' || s.speaker || ' #' || s.id
                                        FROM segments s JOIN sources src ON src.id = s.source_id
                                        WHERE s.id = m.target_id)
                 END AS target_label
               FROM memos m ORDER BY m.created_at, m.id""").fetchall()
        return [dict(r) for r in rows]

    def segment_memo_texts(self, author: str) -> dict[int, list[str]]:
        """segment id -> the texts of the author's memos on it (kind 'memo'), oldest first."""
        out: dict[int, list[str]] = {}
        for m in self.memos("segment", kind="memo", author=author):
            out.setdefault(m["target_id"], []).append(m["text"])
        return out

    def retarget_memo(self, memo_id: int, target_type: str, target_id: int | None) -> None:
        self.conn.execute("UPDATE memos SET target_type = ?, target_id = ? WHERE id = ?",
                          (target_type, target_id, memo_id))

    def retarget_memos(self, target_type: str, old_id: int, new_id: int) -> int:
        return self.conn.execute("UPDATE memos SET target_id = ? WHERE target_type = ? AND target_id = ?",
                                 (new_id, target_type, old_id)).rowcount

    def source_segment_memos(self, source_id: int) -> list[dict]:
        """Memos on one source's segments, oldest first."""
        return [dict(r) for r in self.conn.execute(
            """SELECT m.* FROM memos m JOIN segments s ON s.id = m.target_id
               WHERE m.target_type = 'segment' AND s.source_id = ? ORDER BY m.created_at, m.id""",
            (int(source_id),))]
