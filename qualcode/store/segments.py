"""Queries for focus groups, sources, participants and their attributes, and segments."""

from __future__ import annotations

import json
import re
from typing import Iterable, Iterator

from ..errors import NotFoundError, unknown
from .core import SEGMENT_IS_CODED, SPEAKER_KEY, TRANSCRIPT_ORDER, Where, new_guid, now, sql_in

SEGMENT_COLUMNS = ("id", "source_id", "source", "group_label", "ordinal", "turn", "speaker", "role",
                   "participant_id", "participant", "key", "start", "end", "timestamp", "text", "n_words")

_SEGMENT_SELECT = f"""
SELECT s.id, s.source_id, src.name AS source, src.group_label, s.ordinal, s.turn, s.speaker, s.role,
       s.participant_id, p.label AS participant,
       {SPEAKER_KEY} AS key,
       s.start, s."end", s.timestamp, s.text, s.n_words
FROM segments s JOIN sources src ON src.id = s.source_id
LEFT JOIN participants p ON p.id = s.participant_id
"""


class SegmentsMixin:
    # ------------------------------------------------------------------ groups
    def groups(self) -> list[str]:
        return [r[0] for r in self.conn.execute(
            "SELECT label FROM groups ORDER BY length(label), label")]

    def ensure_group(self, label: str) -> None:
        self.conn.execute("INSERT OR IGNORE INTO groups(label) VALUES (?)", (label,))

    # ----------------------------------------------------------------- sources
    def source_file_hashes(self) -> set[str]:
        """The sha256 of every file a source was read from."""
        return {r[0] for r in self.conn.execute("SELECT file_sha256 FROM sources")}

    def sources(self) -> list[dict]:
        rows = self.conn.execute(
            """SELECT src.id, src.guid, src.name, src.format, src.group_label, src.group_origin, src.sha256,
                      src.file_sha256, src.encoding, src.n_words, src.imported_at, length(src.text) AS n_chars,
                      (SELECT COUNT(*) FROM segments s WHERE s.source_id = src.id) AS n_segments
               FROM sources src ORDER BY src.group_label, src.name""").fetchall()
        return [dict(r) for r in rows]

    def source(self, ref: int | str) -> dict:
        if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
            row = self.conn.execute("SELECT * FROM sources WHERE id = ?", (int(ref),)).fetchone()
            found = dict(row) if row else None
        else:
            found = self.source_by_name(ref)
        if found is None:
            raise unknown("source", str(ref), [s["name"] for s in self.sources()])
        return found

    def source_by_name(self, name: str) -> dict | None:
        row = self.conn.execute("SELECT * FROM sources WHERE name = ?", (name,)).fetchone()
        return dict(row) if row else None

    def source_rows(self) -> list[dict]:
        """Every source with its text, in name order."""
        return [dict(r) for r in self.conn.execute("SELECT * FROM sources ORDER BY name")]

    def add_source(self, *, name: str, format: str, group_label: str, group_origin: str, text: str,
                   sha256: str, file_sha256: str, encoding: str, n_words: int, guid: str | None = None) -> int:
        self.ensure_group(group_label)
        cur = self.conn.execute(
            """INSERT INTO sources(guid, name, format, group_label, group_origin, text, sha256, file_sha256,
                                   encoding, n_words, imported_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)""",
            (guid or new_guid(), name, format, group_label, group_origin, text, sha256, file_sha256,
             encoding, n_words, now()))
        return cur.lastrowid

    def delete_source(self, source_id: int) -> None:
        self.conn.execute("DELETE FROM sources WHERE id = ?", (source_id,))

    def replace_source(self, source_id: int, *, format: str, group_label: str, group_origin: str, text: str,
                       sha256: str, file_sha256: str, encoding: str, n_words: int) -> None:
        """Give a source new content in place (its id, guid, memos and coder progress stay) and
        delete its segments (their codings go with them; the caller carries them over)."""
        self.ensure_group(group_label)
        self.conn.execute("DELETE FROM segments WHERE source_id = ?", (source_id,))
        self.conn.execute(
            """UPDATE sources SET format = ?, group_label = ?, group_origin = ?, text = ?, sha256 = ?,
                                  file_sha256 = ?, encoding = ?, n_words = ?, imported_at = ? WHERE id = ?""",
            (format, group_label, group_origin, text, sha256, file_sha256, encoding, n_words, now(), source_id))

    def source_texts(self) -> Iterator[tuple[int, str, str]]:
        """(id, text, sha256) of every source; for integrity checks."""
        yield from self.conn.execute("SELECT id, text, sha256 FROM sources ORDER BY id")

    def update_source_text(self, source_id: int, text: str, sha256: str, n_words: int) -> None:
        self.conn.execute("UPDATE sources SET text = ?, sha256 = ?, n_words = ? WHERE id = ?",
                          (text, sha256, n_words, source_id))

    # ------------------------------------------------- what a REFI import read
    # What a REFI import read for each segment (a hash of its text as the file gave it) is kept in
    # meta, one row per source: key 'refi_read:<source guid>', value JSON {"file", "unit", "text_sha256",
    # "segments": {segment guid: hash}}. ``qualcode review`` re-checks it.
    def refi_read_record(self, source_guid: str) -> dict | None:
        value = self.meta(f"refi_read:{source_guid}", "")
        return json.loads(value) if value else None

    def set_refi_read_record(self, source_guid: str, record: dict) -> None:
        self.set_meta(f"refi_read:{source_guid}", json.dumps(record, ensure_ascii=False, sort_keys=True))

    def drop_refi_read_record(self, source_guid: str) -> None:
        """Forget what an import read for a source (its text was changed on purpose: pseudonymised)."""
        self.conn.execute("DELETE FROM meta WHERE key = ?", (f"refi_read:{source_guid}",))

    def refi_read_records(self) -> list[tuple[str, dict]]:
        return [(k.split(":", 1)[1], json.loads(v)) for k, v in self.conn.execute(
            "SELECT key, value FROM meta WHERE key LIKE 'refi\\_read:%' ESCAPE '\\' ORDER BY key")]

    # ------------------------------------------------------------ participants
    def attribute_names(self, *, include_identifying: bool = True) -> list[str]:
        sql = "SELECT name FROM attributes"
        if not include_identifying:
            sql += " WHERE identifying = 0"
        return [r[0] for r in self.conn.execute(sql + " ORDER BY position, name")]

    def identifying_attributes(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT name FROM attributes WHERE identifying = 1 ORDER BY name")]

    def set_attribute_identifying(self, name: str, identifying: bool) -> None:
        if not self.conn.execute("SELECT 1 FROM attributes WHERE name = ?", (name,)).fetchone():
            raise unknown("participant attribute", name, self.attribute_names())
        self.conn.execute("UPDATE attributes SET identifying = ? WHERE name = ?", (int(identifying), name))

    def participants(self, group: str | None = None, *, include_identifying: bool = True) -> list[dict]:
        """Participants with their attributes, in group then number order.

        Each row: id, guid, group, label, key ('F2 P2') and one entry per attribute.
        """
        where = Where().equals("group_label", group or None)
        people = [dict(r) for r in self.conn.execute(
            "SELECT id, guid, group_label, label FROM participants" + where.sql, where.args)]
        attrs = self.attribute_names(include_identifying=include_identifying)
        values: dict[int, dict] = {}
        for pid, name, value in self.conn.execute("SELECT participant_id, name, value FROM participant_attributes"):
            values.setdefault(pid, {})[name] = value
        out = []
        for p in people:
            row = {"id": p["id"], "guid": p["guid"], "group": p["group_label"], "label": p["label"],
                   "key": f"{p['group_label']} {p['label']}"}
            for a in attrs:
                row[a] = values.get(p["id"], {}).get(a, "")
            out.append(row)
        out.sort(key=lambda r: (natural_key(r["group"]), natural_key(r["label"])))
        return out

    def participant_ids(self) -> dict[tuple[str, str], int]:
        return {(g, l): i for i, g, l in self.conn.execute("SELECT id, group_label, label FROM participants")}

    def participant_id(self, group: str, label: str) -> int | None:
        row = self.conn.execute("SELECT id FROM participants WHERE group_label = ? AND label = ?",
                                (group, label)).fetchone()
        return row[0] if row else None

    def add_participant(self, group: str, label: str, attributes: dict | None = None,
                        guid: str | None = None) -> int:
        self.ensure_group(group)
        cur = self.conn.execute("INSERT INTO participants(guid, group_label, label) VALUES (?,?,?)",
                                (guid or new_guid(), group, label))
        pid = cur.lastrowid
        if attributes:
            self.set_participant_attributes(pid, attributes)
        return pid

    def set_participant_attributes(self, participant_id: int, attributes: dict) -> None:
        for name, value in attributes.items():
            self.conn.execute(
                "INSERT OR IGNORE INTO attributes(name, position) VALUES (?, (SELECT COUNT(*) FROM attributes))",
                (name,))
            if value is None or str(value).strip() == "":
                self.conn.execute("DELETE FROM participant_attributes WHERE participant_id = ? AND name = ?",
                                  (participant_id, name))
            else:
                self.conn.execute(
                    "INSERT INTO participant_attributes(participant_id, name, value) VALUES (?,?,?) "
                    "ON CONFLICT(participant_id, name) DO UPDATE SET value = excluded.value",
                    (participant_id, name, str(value)))

    def relabel_participant(self, participant_id: int, label: str) -> None:
        """Give a participant a new label (its key becomes group + label), on its segments too."""
        self.conn.execute("UPDATE participants SET label = ? WHERE id = ?", (label, participant_id))
        self.conn.execute("UPDATE segments SET speaker = ? WHERE participant_id = ?", (label, participant_id))

    def relabel_moderator(self, group: str, old: str, new: str) -> int:
        """Rename a moderator's speaker label on the segments of one group; returns segments changed."""
        cur = self.conn.execute(
            "UPDATE segments SET speaker = ? WHERE role = 'moderator' AND speaker = ? AND source_id IN "
            "(SELECT id FROM sources WHERE group_label = ?)", (new, old, group))
        return cur.rowcount

    # ---------------------------------------------------------------- segments
    def add_segments(self, source_id: int, rows: Iterable[dict]) -> int:
        """Insert segments of one source; rows carry ordinal, turn, speaker, role, participant_id,
        start, end, timestamp, text, n_words."""
        data = [(r.get("guid") or new_guid(), source_id, r["ordinal"], r["turn"], r["speaker"], r["role"],
                 r.get("participant_id"), r["start"], r["end"], r.get("timestamp"), r["text"],
                 r.get("n_words", 0)) for r in rows]
        self.conn.executemany(
            """INSERT INTO segments(guid, source_id, ordinal, turn, speaker, role, participant_id, start, "end",
                                    timestamp, text, n_words) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)""", data)
        return len(data)

    def segment_guid(self, segment_id: int) -> str | None:
        row = self.conn.execute("SELECT guid FROM segments WHERE id = ?", (int(segment_id),)).fetchone()
        return row[0] if row else None

    def segment_ids_by_guid(self, guids) -> dict[str, int]:
        """guid -> segment id, for the guids that name a segment."""
        from .core import sql_in

        sql, args = sql_in("guid", list(guids))
        return {g: i for g, i in self.conn.execute(f"SELECT guid, id FROM segments WHERE {sql}", args)}

    def segments(self, *, group: str | None = None, participant: str | None = None,
                 source: str | None = None, role: str | None = None, ids: Iterable[int] | None = None,
                 limit: int | None = None) -> Iterator[dict]:
        """Segments in transcript order (group, source, ordinal), filtered."""
        where = (Where().equals("src.group_label", group or None).equals("p.label", participant or None)
                 .equals("src.name", source or None).equals("s.role", role or None)
                 .within("s.id", None if ids is None else [int(i) for i in ids]))
        sql = _SEGMENT_SELECT + where.sql
        sql += " ORDER BY " + TRANSCRIPT_ORDER
        if limit:
            sql += f" LIMIT {int(limit)}"
        for r in self.conn.execute(sql, where.args):
            yield dict(r)

    def segment(self, segment_id: int) -> dict:
        row = self.conn.execute(_SEGMENT_SELECT + " WHERE s.id = ?", (int(segment_id),)).fetchone()
        if row is None:
            n = self.conn.execute("SELECT MAX(id) FROM segments").fetchone()[0]
            span = f" Segment ids run from 1 to {n};" if n else " The project has no segments yet;"
            raise NotFoundError(f"unknown segment '{segment_id}'.{span} see 'qualcode segments'.")
        return dict(row)

    def segment_exists(self, segment_id: int) -> bool:
        return self.conn.execute("SELECT 1 FROM segments WHERE id = ?", (int(segment_id),)).fetchone() is not None

    def count_segments(self, role: str | None = None) -> int:
        where = Where().equals("role", role or None)
        return self.conn.execute("SELECT COUNT(*) FROM segments" + where.sql, where.args).fetchone()[0]

    def segment_offsets(self, source_id: int) -> list[dict]:
        return [dict(r) for r in self.conn.execute(
            'SELECT id, ordinal, start, "end", speaker, text FROM segments WHERE source_id = ? ORDER BY ordinal',
            (source_id,))]

    def ordinals(self, source_id: int) -> set[int]:
        return {r[0] for r in self.conn.execute("SELECT ordinal FROM segments WHERE source_id = ?", (source_id,))}

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

    def segments_of_source_guid(self, source_guid: str) -> list[dict]:
        """The segments of one source (by guid) with their text and whether they are coded."""
        return [dict(r) for r in self.conn.execute(
            f"""SELECT s.id AS segment_id, s.guid, s.ordinal, s.start, s."end", s.text, src.name AS source,
                      src.sha256 AS source_sha256,
                      {SEGMENT_IS_CODED} AS coded
               FROM segments s JOIN sources src ON src.id = s.source_id WHERE src.guid = ?
               ORDER BY s.ordinal""", (source_guid,))]

    def segment_guids(self, ids: Iterable[int] | None = None) -> dict[int, str]:
        rows = self.conn.execute("SELECT id, guid FROM segments")
        wanted = set(ids) if ids is not None else None
        return {i: g for i, g in rows if wanted is None or i in wanted}

    def segment_guids_of_source(self, source_id: int) -> dict[str, int]:
        """guid -> id for the segments of one source."""
        return {g: i for i, g in self.conn.execute("SELECT id, guid FROM segments WHERE source_id = ?",
                                                    (source_id,))}

    def segment_texts(self, ids) -> dict[int, str]:
        """segment id -> text, for the given ids."""
        return {i: text for i, text in self._segments_by_id(ids, "text")}

    def unit_texts(self, ids) -> dict[tuple[int, int, int], str]:
        """(segment id, start, end) -> the words of that span (as :meth:`theme_fragments` ids)."""
        ids = [tuple(int(x) for x in i) for i in ids]
        segs = {i: (s0, text) for i, s0, text in self._segments_by_id({i[0] for i in ids}, "start, text")}
        out = {}
        for sid, start, end in ids:
            s0, text = segs[sid]
            out[(sid, start, end)] = text[start - s0:end - s0]
        return out

    def _segments_by_id(self, ids, columns: str) -> list[tuple]:
        """(id, ``columns``...) of the segments with the given ids, in id order."""
        cond, args = sql_in("id", sorted({int(i) for i in ids}))
        return [tuple(r) for r in self.conn.execute(f"SELECT id, {columns} FROM segments WHERE {cond} ORDER BY id",
                                                    args)]

    def segment_id_texts(self) -> list[tuple[int, str]]:
        return [tuple(r) for r in self.conn.execute("SELECT id, text FROM segments ORDER BY id")]

    def rule_segment_texts(self, *, role: str | None = "participant") -> list[tuple[int, str]]:
        """(segment id, text) in transcript order, participant turns only by default."""
        return self._transcript_segments("s.id, s.text", roles=[role] if role else None)

    def agreement_segments(self, *, groups: Iterable[str] | None = None,
                           roles: Iterable[str] | None = ("participant",)) -> list[tuple[int, int]]:
        """(segment id, source id) of candidate units, in transcript order."""
        return self._transcript_segments("s.id, s.source_id", groups=groups, roles=roles)

    def _transcript_segments(self, columns: str, *, groups: Iterable[str] | None = None,
                             roles: Iterable[str] | None = None) -> list[tuple]:
        """``columns`` of the segments (of some groups and roles) in transcript order."""
        where = Where().within("src.group_label", groups).within("s.role", roles)
        sql = f"SELECT {columns} FROM segments s JOIN sources src ON src.id = s.source_id{where.sql} ORDER BY "
        return [tuple(r) for r in self.conn.execute(sql + TRANSCRIPT_ORDER, where.args)]

    def move_segment(self, segment_id: int, start: int, end: int, text: str, n_words: int) -> None:
        self.conn.execute('UPDATE segments SET start = ?, "end" = ?, text = ?, n_words = ? WHERE id = ?',
                          (start, end, text, n_words, segment_id))

    def talk_stats(self) -> list[dict]:
        """Per group and speaker: turns, segments and words (participants and moderators)."""
        rows = self.conn.execute(
            """SELECT src.group_label AS "group", s.role, COALESCE(p.label, s.speaker) AS speaker,
                      s.participant_id, COUNT(DISTINCT s.source_id || ':' || s.turn) AS turns,
                      COUNT(*) AS segments, SUM(s.n_words) AS words
               FROM segments s JOIN sources src ON src.id = s.source_id
               LEFT JOIN participants p ON p.id = s.participant_id
               GROUP BY src.group_label, s.role, COALESCE(p.label, s.speaker), s.participant_id""").fetchall()
        out = [dict(r) for r in rows]
        out.sort(key=lambda r: (natural_key(r["group"]), r["role"] != "participant", natural_key(r["speaker"])))
        return out

    def integrity_rows(self) -> list[dict]:
        """Every segment with its text and the source text at its offsets (compared in SQL)."""
        rows = self.conn.execute(
            f"""SELECT s.id AS segment_id, src.name AS source, src.group_label, s.ordinal, s.start, s."end",
                      s.text, substr(src.text, s.start + 1, s."end" - s.start) AS source_text,
                      {SEGMENT_IS_CODED} AS coded
               FROM segments s JOIN sources src ON src.id = s.source_id
               WHERE s.text IS NOT substr(src.text, s.start + 1, s."end" - s.start)
               ORDER BY src.name, s.ordinal""").fetchall()
        return [dict(r) for r in rows]

    # --------------------------------------------------------------- resegment
    def resegment_rows(self, source_id: int) -> tuple[list[dict], list[dict]]:
        """The segments of a source (all columns, in order) and the codings on them with their
        effective span (a whole-segment coding has its segment's): for re-cutting the source."""
        segs = [dict(r) for r in self.conn.execute(
            "SELECT * FROM segments WHERE source_id = ? ORDER BY ordinal", (source_id,))]
        codings = [dict(r) for r in self.conn.execute(
            """SELECT g.id, g.segment_id, g.code_id, g.coder,
                      COALESCE(g.start, s.start) AS start, COALESCE(g."end", s."end") AS "end"
               FROM codings g JOIN segments s ON s.id = g.segment_id WHERE s.source_id = ? ORDER BY g.id""",
            (source_id,))]
        return segs, codings

    def swap_segments(self, source_id: int, rows: list[dict], moves: list[tuple[int, int, int | None, int | None]],
                      memo_moves: list[tuple[int, int]], *, extra: Iterable[tuple] = (),
                      gone: Iterable[int] = ()) -> dict[int, int]:
        """Replace a source's segments by ``rows`` (as :meth:`add_segments`): codings move to
        (coding id, new segment index, start, end) and memos to (memo id, new segment index), keeping
        their ids and guids; ``extra`` (coding id to copy, index, start, end) adds codings like an
        existing one, ``gone`` removes codings; the old segments (and their suggestions) go.
        Returns index -> new id."""
        old = [r[0] for r in self.conn.execute("SELECT id FROM segments WHERE source_id = ?", (source_id,))]
        self.conn.execute("UPDATE segments SET ordinal = -ordinal WHERE source_id = ?", (source_id,))
        self.add_segments(source_id, rows)
        new_ids = {i: r[0] for i, r in enumerate(self.conn.execute(
            "SELECT id FROM segments WHERE source_id = ? AND ordinal > 0 ORDER BY ordinal", (source_id,)))}
        self.place_codings([(cid, new_ids[i], a, b) for cid, i, a, b in moves])
        self.copy_codings([(cid, new_ids[i], a, b) for cid, i, a, b in extra])
        self.remove_codings(gone, by="coding")
        for mid, i in memo_moves:
            self.retarget_memo(mid, "segment", new_ids[i])
        self.conn.executemany("DELETE FROM segments WHERE id = ?", [(i,) for i in old])
        return new_ids

    def source_overview(self) -> list[dict]:
        """Every source with its group, segment count, number of codings and of coded segments."""
        return [dict(r) for r in self.conn.execute(
            """SELECT src.id, src.name, src.group_label, src.n_words,
                      (SELECT COUNT(*) FROM segments s WHERE s.source_id = src.id) AS n_segments,
                      (SELECT COUNT(*) FROM codings g JOIN segments s ON s.id = g.segment_id
                       WHERE s.source_id = src.id) AS n_codings,
                      (SELECT COUNT(DISTINCT g.segment_id) FROM codings g JOIN segments s ON s.id = g.segment_id
                       WHERE s.source_id = src.id) AS n_coded
               FROM sources src ORDER BY length(src.group_label), src.group_label, src.name""")]

    def segment_sources(self, segment_ids) -> dict[int, int]:
        """segment id -> its source's id."""
        ids = [int(i) for i in segment_ids]
        if not ids:
            return {}
        from .core import sql_in

        cond, args = sql_in("id", ids)
        return {r[0]: r[1] for r in self.conn.execute(f"SELECT id, source_id FROM segments WHERE {cond}", args)}

    def source_order(self) -> list[int]:
        """Source ids in reading order (group, then name)."""
        return [r[0] for r in self.conn.execute(
            "SELECT id FROM sources ORDER BY length(group_label), group_label, name")]


def natural_key(label: str) -> tuple:
    """Sort 'F2' before 'F10' and 'P2' before 'P10'."""
    return tuple(int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", str(label or "")))
