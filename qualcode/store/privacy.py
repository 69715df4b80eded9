"""Queries for pseudonymisation: every stored text that may hold a name, and scrubbing the file after.

Pseudonymisation rewrites stored text in place. Besides sources, segments and speaker labels
(see :mod:`.segments`), names can sit in memos, in code examples and in the row
images the audit log keeps for undo; these methods reach them. After the
rewrite, :meth:`PrivacyMixin.scrub_free_space` makes sure the old text does
not linger in free pages of the file or in the write-ahead log.
"""

from __future__ import annotations

from typing import Iterator

# Text columns that may hold words from the transcripts or a person's name: free text, and the
# names students give themes and codes ("Steun volgens Jan"). Identifiers, colours, statuses and
# times are left alone. The audit log's row images of these tables are scrubbed the same way, so an
# undo after a pseudonymisation cannot bring a name back.
TEXT_COLUMNS = {
    "memos": ("text",),
    "codes": ("name", "example", "description", "include", "exclude", "rules"),
    "themes": ("name", "definition", "key_messages", "description"),
    "suggestions": ("drivers",),
    "participant_attributes": ("value",),
    "groups": ("description",),
    "sources": ("name",),         # a file name such as 'interview Jan Peeters.txt'

    "audit_log": ("summary", "details"),
}
AUDITED_TEXT = ("memos", "codes", "themes", "suggestions", "participant_attributes")


class PrivacyMixin:
    def secure_delete(self, on: bool = True) -> None:
        """Overwrite deleted or replaced content with zeros (SQLite ``secure_delete``)."""
        self.conn.execute(f"PRAGMA secure_delete = {'ON' if on else 'OFF'}")

    def text_fields(self) -> Iterator[tuple[str, int, str, str]]:
        """(table, rowid, column, text) of every text in :data:`TEXT_COLUMNS`: memos, theme and
        code names and texts, suggestion drivers, attribute values, group descriptions, and the
        audit log's summaries and details."""
        for tbl, cols in TEXT_COLUMNS.items():
            for col in cols:
                for rid, text in self.conn.execute(f'SELECT rowid, "{col}" FROM {tbl}'):
                    if text:
                        yield tbl, rid, col, text

    def set_text_field(self, table: str, row_id: int, column: str, text: str) -> None:
        """Rewrite one text of :meth:`text_fields` (``row_id`` is its rowid)."""
        if column not in TEXT_COLUMNS.get(table, ()):
            raise ValueError(f"{table}.{column} is not a pseudonymisable text column")
        self.conn.execute(f'UPDATE {table} SET "{column}" = ? WHERE rowid = ?', (text, row_id))

    def audit_images(self) -> Iterator[tuple[int, int, str, str | None, str | None]]:
        """(audit_id, seq, table, old JSON, new JSON) of recorded rows that carry text."""
        marks = ",".join("?" * len(AUDITED_TEXT))
        yield from self.conn.execute(
            f"SELECT audit_id, seq, tbl, old, new FROM audit_changes WHERE tbl IN ({marks})", AUDITED_TEXT)

    def set_audit_images(self, audit_id: int, seq: int, old: str | None, new: str | None) -> None:
        self.conn.execute("UPDATE audit_changes SET old = ?, new = ? WHERE audit_id = ? AND seq = ?",
                          (old, new, audit_id, seq))

    def scrub_free_space(self) -> None:
        """Fold the write-ahead log into the file and rebuild it, so no replaced text remains."""
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.conn.execute("VACUUM")
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
