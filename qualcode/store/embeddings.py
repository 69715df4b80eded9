"""The embedding cache: each segment's sentence-encoder vector, keyed by segment and encoder version.

Each text is embedded once. Derived from the texts: not audited, never undone, dropped on
pseudonymisation (a vector is computed from the original names)."""

from __future__ import annotations

from typing import Iterable


class EmbeddingsMixin:
    def cached_embeddings(self, model: str) -> dict[int, tuple[str, bytes]]:
        """Segment id -> (text hash, float16 vector bytes) of every segment embedded with ``model``."""
        return {sid: (h, bytes(v)) for sid, h, v in self.conn.execute(
            "SELECT segment_id, text_hash, vector FROM segment_embeddings WHERE model = ?", (model,))}

    def save_embeddings(self, model: str, rows: Iterable[tuple[int, str, bytes]]) -> None:
        """Store (segment id, text hash, vector bytes) rows of ``model`` in one transaction; rows of any
        other model are dropped (one encoder's vectors are kept at a time)."""
        with self.transaction():
            self.conn.execute("DELETE FROM segment_embeddings WHERE model <> ?", (model,))
            self.conn.executemany("INSERT OR REPLACE INTO segment_embeddings(segment_id, model, text_hash, vector) "
                                  "VALUES (?, ?, ?, ?)", ((sid, model, h, v) for sid, h, v in rows))

    def clear_embeddings(self) -> None:
        """Drop every cached vector (pseudonymisation: they were computed from the original texts)."""
        with self.transaction():
            self.conn.execute("DELETE FROM segment_embeddings")
