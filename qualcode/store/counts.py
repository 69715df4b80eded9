"""Project-wide counts: the figures of ``qualcode status`` and of the six steps' state."""

from __future__ import annotations


class CountsMixin:
    # ------------------------------------------------------------------ counts
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

    def step_counts(self) -> dict[str, int]:
        """Figures for the six steps' state: sources, segments, codes, codings, themes by status."""
        q = lambda sql: self.conn.execute(sql).fetchone()[0]  # noqa: E731
        out = {
            "sources": q("SELECT COUNT(*) FROM sources"),
            "segments": q("SELECT COUNT(*) FROM segments WHERE role = 'participant'"),
            "codes": q("SELECT COUNT(*) FROM codes"),
            "codes_used": q("SELECT COUNT(DISTINCT code_id) FROM codings"),
            "codings": q("SELECT COUNT(*) FROM codings"),
            "coded_segments": q("SELECT COUNT(DISTINCT segment_id) FROM codings"),
            "themes": q("SELECT COUNT(*) FROM themes"),
            "themes_with_codes": q("SELECT COUNT(DISTINCT theme_id) FROM codes WHERE theme_id IS NOT NULL"),
            "themes_defined": q("SELECT COUNT(*) FROM themes WHERE definition != ''"),
            "memos": q("SELECT COUNT(*) FROM memos"),
            "acts": q("SELECT COUNT(*) FROM audit_log"),
        }
        for status in ("candidate", "reviewed", "defined", "reported"):
            out[f"status_{status}"] = q(f"SELECT COUNT(*) FROM themes WHERE status = '{status}'")
        return out
