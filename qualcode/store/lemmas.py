"""The lemma cache: each segment's content lemmas and overview terms, and every word form's lemma.

They are computed once and read by every command instead of lemmatising again.

Rows belong to a *version* (the lemmatiser, its version, the language, the stop words, the spaCy
pipeline); writing rows of a new version drops every row of the old ones. A segment row also keeps
a hash of the text it was computed from, so an edited text (pseudonymisation, re-ingest) is recomputed.
"""

from __future__ import annotations

from typing import Iterable, Iterator


class LemmasMixin:
    def lemma_cache_version_id(self, version: str) -> int | None:
        row = self.conn.execute("SELECT id FROM lemma_versions WHERE version = ?", (version,)).fetchone()
        return row[0] if row else None

    def cached_segment_lemmas(self, version: str) -> Iterator[tuple[int, str, str, str]]:
        """(segment id, text hash, content JSON, terms JSON) of every segment cached under ``version``."""
        vid = self.lemma_cache_version_id(version)
        if vid is None:
            return iter(())
        return iter(self.conn.execute(
            "SELECT segment_id, text_hash, content, terms FROM segment_lemmas WHERE version_id = ?", (vid,)))

    def cached_lemma_forms(self, version: str) -> dict[str, str]:
        """Lower-case word form -> lemma, for every form cached under ``version``."""
        vid = self.lemma_cache_version_id(version)
        if vid is None:
            return {}
        return dict(self.conn.execute("SELECT form, lemma FROM lemma_forms WHERE version_id = ?", (vid,)))

    def clear_lemma_cache(self) -> None:
        """Drop every cached lemma and word form (pseudonymisation: they hold the original names)."""
        with self.transaction():
            self.conn.execute("DELETE FROM lemma_versions")   # cascades to segment_lemmas and lemma_forms
        self._lemma_cache = None

    def save_segment_lemmas(self, version: str, rows: Iterable[tuple[int, str, str, str]],
                            forms: dict[str, str]) -> None:
        """Store (segment id, text hash, content JSON, terms JSON) rows and word forms under ``version``,
        in one transaction; rows of any other version are dropped. Not an audited act: the cache is
        derived from the texts and is never undone."""
        with self.transaction():
            self.conn.execute("DELETE FROM lemma_versions WHERE version <> ?", (version,))
            self.conn.execute("INSERT OR IGNORE INTO lemma_versions(version) VALUES (?)", (version,))
            vid = self.lemma_cache_version_id(version)
            self.conn.executemany(
                "INSERT OR REPLACE INTO segment_lemmas(segment_id, version_id, text_hash, content, terms) "
                "VALUES (?, ?, ?, ?, ?)", ((sid, vid, h, c, t) for sid, h, c, t in rows))
            self.conn.executemany("INSERT OR IGNORE INTO lemma_forms(version_id, form, lemma) VALUES (?, ?, ?)",
                                  ((vid, f, lem) for f, lem in forms.items()))

    # ------------------------------------------------------------------ the token cache (schema 6)
    def cached_segment_tokens(self, version: str) -> dict[int, tuple[str, bytes]]:
        """Segment id -> (text hash, encoded tokens) of every segment whose tokens are cached under
        ``version`` (:mod:`qualcode.text.tokens`)."""
        vid = self.lemma_cache_version_id(version)
        if vid is None:
            return {}
        return {sid: (h, bytes(b)) for sid, h, b in self.conn.execute(
            "SELECT segment_id, text_hash, tokens FROM segment_tokens WHERE version_id = ?", (vid,))}

    def cached_token_hashes(self, version: str) -> dict[int, str]:
        """Segment id -> text hash of every segment whose tokens are cached under ``version``."""
        vid = self.lemma_cache_version_id(version)
        if vid is None:
            return {}
        return dict(self.conn.execute("SELECT segment_id, text_hash FROM segment_tokens WHERE version_id = ?",
                                      (vid,)))

    def cached_token_flags(self, version: str) -> dict[str, int]:
        """Token form (case kept) -> lexical flags bit mask, for every form cached under ``version``."""
        vid = self.lemma_cache_version_id(version)
        if vid is None:
            return {}
        return dict(self.conn.execute("SELECT form, flags FROM token_forms WHERE version_id = ?", (vid,)))

    def cached_rule_tokens(self, version: str) -> dict[str, str]:
        """Rule word or phrase -> JSON list of its token texts, for every one cached under ``version``."""
        vid = self.lemma_cache_version_id(version)
        if vid is None:
            return {}
        return dict(self.conn.execute("SELECT text, tokens FROM rule_tokens WHERE version_id = ?", (vid,)))

    def save_segment_tokens(self, version: str, rows: Iterable[tuple[int, str, bytes]] = (),
                            flags: dict[str, int] | None = None, rule_tokens: dict[str, str] | None = None) -> None:
        """Store (segment id, text hash, encoded tokens) rows, token form flags and rule words' tokens (JSON)
        under ``version``, in one transaction; rows of any other version are dropped (with that version's
        lemmas). Not an audited act: derived from the texts and the codebook, never undone."""
        with self.transaction():
            self.conn.execute("DELETE FROM lemma_versions WHERE version <> ?", (version,))
            self.conn.execute("INSERT OR IGNORE INTO lemma_versions(version) VALUES (?)", (version,))
            vid = self.lemma_cache_version_id(version)
            self.conn.executemany(
                "INSERT OR REPLACE INTO segment_tokens(segment_id, version_id, text_hash, tokens) VALUES (?, ?, ?, ?)",
                ((sid, vid, h, t) for sid, h, t in rows))
            self.conn.executemany("INSERT OR IGNORE INTO token_forms(version_id, form, flags) VALUES (?, ?, ?)",
                                  ((vid, f, v) for f, v in (flags or {}).items()))
            self.conn.executemany("INSERT OR REPLACE INTO rule_tokens(version_id, text, tokens) VALUES (?, ?, ?)",
                                  ((vid, t, j) for t, j in (rule_tokens or {}).items()))
