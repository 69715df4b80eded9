"""Project-wide counts: the figures of ``qualcode status`` and of the six steps' state."""

from __future__ import annotations

from typing import Sequence

from .core import SEGMENT_IS_CODED, Where

# Every project-wide count, by name, written once.
_COUNT_SQL = {
    "sources": "SELECT COUNT(*) FROM sources",
    "groups": "SELECT COUNT(*) FROM groups",
    "participants": "SELECT COUNT(*) FROM participants",
    "segments": "SELECT COUNT(*) FROM segments WHERE role = 'participant'",
    "segments_coded": f"SELECT COUNT(*) FROM segments s WHERE s.role = 'participant' AND {SEGMENT_IS_CODED}",
    "codes": "SELECT COUNT(*) FROM codes",
    "codes_used": "SELECT COUNT(DISTINCT code_id) FROM codings",
    "codings": "SELECT COUNT(*) FROM codings",
    "coded_segments": "SELECT COUNT(DISTINCT segment_id) FROM codings",
    "themes": "SELECT COUNT(*) FROM themes",
    "themes_with_codes": "SELECT COUNT(DISTINCT theme_id) FROM codes WHERE theme_id IS NOT NULL",
    "themes_defined": "SELECT COUNT(*) FROM themes WHERE definition != ''",
    "memos": "SELECT COUNT(*) FROM memos",
    "acts": "SELECT COUNT(*) FROM audit_log",
}
THEME_STATUSES = ("candidate", "reviewed", "defined", "reported")


class CountsMixin:
    def _counts(self, *names: str) -> dict[str, int]:
        return {n: self.conn.execute(_COUNT_SQL[n]).fetchone()[0] for n in names}

    def status_counts(self) -> dict:
        """Indexed counts for ``qualcode status`` (no heavy imports, a handful of queries)."""
        q = self.conn.execute
        out = {
            **self._counts("sources", "groups", "participants", "segments", "segments_coded", "codes", "codings"),
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

    def step_counts(self, coders: Sequence[str] | None = None) -> dict[str, int]:
        """Figures for the six steps' state: sources, segments, codes, codings, themes by status
        (codings of ``coders`` only, when given)."""
        out = self._counts("sources", "segments", "codes", "codes_used", "codings", "coded_segments", "themes",
                           "themes_with_codes", "themes_defined", "memos", "acts")
        if coders is not None:
            who = Where().within("coder", list(coders))
            for name in ("codes_used", "codings", "coded_segments"):
                out[name] = self.conn.execute(_COUNT_SQL[name] + who.sql, who.args).fetchone()[0]
        by_status = dict(self.conn.execute("SELECT status, COUNT(*) FROM themes GROUP BY status").fetchall())
        for status in THEME_STATUSES:
            out[f"status_{status}"] = by_status.get(status, 0)
        return out
