"""Queries for intercoder agreement: coder progress ('done' marks) and coding matrices."""

from __future__ import annotations

from typing import Iterable

from .core import Where, now


class AgreementMixin:
    # --------------------------------------------------------- coder progress
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

    # ------------------------------------------------------------- matrices
    def agreement_segments(self, *, groups: Iterable[str] | None = None,
                           roles: Iterable[str] | None = ("participant",)) -> list[tuple[int, int]]:
        """(segment id, source id) of candidate units, in transcript order."""
        where = Where().within("src.group_label", groups).within("s.role", roles)
        sql = "SELECT s.id, s.source_id FROM segments s JOIN sources src ON src.id = s.source_id" + where.sql
        sql += " ORDER BY length(src.group_label), src.group_label, src.name, s.ordinal"
        return [(a, b) for a, b in self.conn.execute(sql, where.args)]

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

    def coder_origins(self) -> dict[str, set[str]]:
        """coder -> the origins of their codings (e.g. {'consensus'})."""
        out: dict[str, set[str]] = {}
        for coder, origin in self.conn.execute("SELECT DISTINCT coder, origin FROM codings"):
            out.setdefault(coder, set()).add(origin)
        return out

    def segment_exists(self, segment_id: int) -> bool:
        return self.conn.execute("SELECT 1 FROM segments WHERE id = ?", (int(segment_id),)).fetchone() is not None

    def remove_codings_of(self, coder: str, segment_ids: Iterable[int]) -> int:
        """Delete a coder's codings on the given segments; returns how many. Call inside an act."""
        cur = self.conn.executemany("DELETE FROM codings WHERE coder = ? AND segment_id = ?",
                                    [(coder, int(s)) for s in segment_ids])
        return max(cur.rowcount, 0)
