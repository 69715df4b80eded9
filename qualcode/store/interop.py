"""Queries for REFI-QDA import and export and for the notebook API (issue 8)."""

from __future__ import annotations

from typing import Iterable

from .core import new_guid, sql_in


class InteropMixin:
    def make_read_only(self) -> None:
        """Refuse every write on this connection from now on (SQLite query_only; for the notebook API)."""
        self.conn.execute("PRAGMA query_only = ON")

    # ---------------------------------------------------------------- export
    def coder_guids(self) -> dict[str, str]:
        """coder name -> guid."""
        return {n: g for n, g in self.conn.execute("SELECT name, guid FROM coders ORDER BY name")}

    def segment_rows(self, ids: Iterable[int] | None = None) -> list[dict]:
        """Raw segment rows (with guid, source guid and participant key) in source then ordinal order."""
        sql = """SELECT s.*, src.guid AS source_guid, src.name AS source, src.group_label,
                        p.guid AS participant_guid, p.label AS participant
                 FROM segments s JOIN sources src ON src.id = s.source_id
                 LEFT JOIN participants p ON p.id = s.participant_id"""
        args: list = []
        if ids is not None:
            cond, args = sql_in("s.id", [int(i) for i in ids])
            sql += f" WHERE {cond}"
        sql += " ORDER BY src.name, s.ordinal"
        return [dict(r) for r in self.conn.execute(sql, args)]

    def source_rows(self) -> list[dict]:
        """Every source with its text, in name order."""
        return [dict(r) for r in self.conn.execute("SELECT * FROM sources ORDER BY name")]

    def coding_rows(self) -> list[dict]:
        """Raw codings with segment and code guids, in segment order."""
        return [dict(r) for r in self.conn.execute(
            """SELECT g.*, s.guid AS segment_guid, c.guid AS code_guid, c.key AS code
               FROM codings g JOIN segments s ON s.id = g.segment_id JOIN codes c ON c.id = g.code_id
               ORDER BY g.segment_id, c.position, c.id, g.coder""")]

    # ---------------------------------------------------------------- import
    # What a REFI import read for each segment (a hash of its text as the file gave it) is kept in
    # meta, one row per source: key 'refi_read:<source guid>', value JSON {"file", "unit", "text_sha256",
    # "segments": {segment guid: hash}}. ``qualcode review`` re-checks it.
    def refi_read_record(self, source_guid: str) -> dict | None:
        import json

        value = self.meta(f"refi_read:{source_guid}", "")
        return json.loads(value) if value else None

    def set_refi_read_record(self, source_guid: str, record: dict) -> None:
        import json

        self.set_meta(f"refi_read:{source_guid}", json.dumps(record, ensure_ascii=False, sort_keys=True))

    def drop_refi_read_record(self, source_guid: str) -> None:
        """Forget what an import read for a source (its text was changed on purpose: pseudonymised)."""
        self.conn.execute("DELETE FROM meta WHERE key = ?", (f"refi_read:{source_guid}",))

    def refi_read_records(self) -> list[tuple[str, dict]]:
        import json

        return [(k.split(":", 1)[1], json.loads(v)) for k, v in self.conn.execute(
            "SELECT key, value FROM meta WHERE key LIKE 'refi\\_read:%' ESCAPE '\\' ORDER BY key")]

    def segments_of_source_guid(self, source_guid: str) -> list[dict]:
        """The segments of one source (by guid) with their text and whether they are coded."""
        return [dict(r) for r in self.conn.execute(
            """SELECT s.id AS segment_id, s.guid, s.ordinal, s.start, s."end", s.text, src.name AS source,
                      src.sha256 AS source_sha256,
                      EXISTS (SELECT 1 FROM codings g WHERE g.segment_id = s.id) AS coded
               FROM segments s JOIN sources src ON src.id = s.source_id WHERE src.guid = ?
               ORDER BY s.ordinal""", (source_guid,))]

    def guid_index(self, table: str) -> dict[str, int]:
        """guid -> id for themes, codes, sources, segments, participants or memos."""
        if table not in ("themes", "codes", "sources", "segments", "participants", "memos", "codings"):
            raise ValueError(table)
        return {g: i for i, g in self.conn.execute(f"SELECT id, guid FROM {table}")}

    def guid_taken(self, table: str, guid: str | None) -> bool:
        """Is ``guid`` already used in ``table`` (one indexed look-up)?"""
        if table not in ("themes", "codes", "sources", "segments", "participants", "memos", "codings"):
            raise ValueError(table)
        return guid is not None and self.conn.execute(
            f"SELECT 1 FROM {table} WHERE guid = ?", (guid,)).fetchone() is not None

    def participant_id(self, group: str, label: str) -> int | None:
        row = self.conn.execute("SELECT id FROM participants WHERE group_label = ? AND label = ?",
                                (group, label)).fetchone()
        return row[0] if row else None

    def segment_guids_of_source(self, source_id: int) -> dict[str, int]:
        """guid -> id for the segments of one source."""
        return {g: i for i, g in self.conn.execute("SELECT id, guid FROM segments WHERE source_id = ?",
                                                    (source_id,))}

    def keys_in_use(self, table: str) -> set[str]:
        if table not in ("themes", "codes"):
            raise ValueError(table)
        return {r[0] for r in self.conn.execute(f"SELECT key FROM {table}")}

    def add_coding_rows(self, rows: Iterable[tuple], coder: str, coder_guid: str | None = None) -> int:
        """Many codings of one coder: (guid, segment_id, code_id, origin, created_at[, span]) rows;
        span (start, end) codes a fragment inside the segment, None the whole segment. Existing
        ones are kept. Returns how many were new."""
        self.ensure_coder(coder, coder_guid)
        cur = self.conn.executemany(
            'INSERT OR IGNORE INTO codings(guid, segment_id, code_id, coder, origin, created_at, start, "end") '
            "VALUES (?,?,?,?,?,?,?,?)",
            ((r[0] or new_guid(), r[1], r[2], coder, r[3], r[4], *(r[5] if len(r) > 5 and r[5] else (None, None)))
             for r in rows))
        return max(cur.rowcount, 0)

    def ordinals(self, source_id: int) -> set[int]:
        return {r[0] for r in self.conn.execute("SELECT ordinal FROM segments WHERE source_id = ?", (source_id,))}

    def coder_guid_taken(self, guid: str) -> str | None:
        row = self.conn.execute("SELECT name FROM coders WHERE guid = ?", (guid,)).fetchone()
        return row[0] if row else None

