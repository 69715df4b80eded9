"""The figure cache: report figures as drawn (SVG or PNG), keyed by a hash of what they show.

A report whose figures have not changed reuses them (SVG or PNG) without drawing them again. Derived data: not audited."""

from __future__ import annotations

from .core import now

KEEP = 24  # figures kept (the most recently used); a report draws three per language


class FiguresMixin:
    def cached_figure(self, key: str) -> bytes | None:
        row = self.conn.execute("SELECT png FROM figure_cache WHERE key = ?", (key,)).fetchone()
        return None if row is None else bytes(row[0])

    def save_figures(self, figures: dict[str, bytes], used: list[str]) -> None:
        """Store newly drawn figures (key -> PNG), mark ``used`` keys as just used, keep the latest ``KEEP``."""
        stamp = now()
        with self.transaction():
            self.conn.executemany("INSERT OR REPLACE INTO figure_cache(key, png, used_at) VALUES (?, ?, ?)",
                                  ((k, png, stamp) for k, png in figures.items()))
            self.conn.executemany("UPDATE figure_cache SET used_at = ? WHERE key = ?", ((stamp, k) for k in used))
            self.conn.execute("DELETE FROM figure_cache WHERE key NOT IN "
                              "(SELECT key FROM figure_cache ORDER BY used_at DESC, key LIMIT ?)", (KEEP,))

    def clear_figures(self) -> None:
        """Drop every cached figure (pseudonymisation: they may show original names)."""
        with self.transaction():
            self.conn.execute("DELETE FROM figure_cache")
