"""Queries for the web workspace's pages: one source's codings, suggestions and memos at once."""

from __future__ import annotations

from ..errors import NotFoundError

_SOURCE_CODINGS = """
SELECT g.id, g.segment_id, g.code_id, cd.key AS code, cd.name AS code_name, t.key AS theme,
       t.name AS theme_name, COALESCE(cd.colour, t.colour, '#999999') AS colour, g.coder, g.origin,
       g.start AS fstart, g."end" AS fend, s.start AS sstart, s."end" AS send
FROM codings g JOIN segments s ON s.id = g.segment_id JOIN codes cd ON cd.id = g.code_id
LEFT JOIN themes t ON t.id = cd.theme_id
"""


def _with_span(row) -> dict:
    """A coding row with start and end: its fragment's, or its segment's for a whole-segment coding."""
    d = dict(row)
    fstart, fend, sstart, send = d.pop("fstart"), d.pop("fend"), d.pop("sstart"), d.pop("send")
    d["fragment"] = fstart is not None
    d["start"], d["end"] = (fstart, fend) if d["fragment"] else (sstart, send)
    return d


class WorkspaceMixin:
    def source_codings(self, source_id: int) -> list[dict]:
        """Codings of one source's segments: id, segment_id, code_id, code, code_name, theme, theme_name,
        colour, coder, origin, start, end (the span in the source's text; the segment's own for a
        whole-segment coding) and fragment (True for part of a segment), in codebook order."""
        rows = self.conn.execute(
            _SOURCE_CODINGS + " WHERE s.source_id = ? ORDER BY s.ordinal, IFNULL(t.position, 1e9), cd.position, g.id",
            (int(source_id),))
        return [_with_span(r) for r in rows]

    def coding(self, coding_id: int) -> dict:
        """One coding with its code, theme and span (keys as :meth:`source_codings`, plus source_id)."""
        row = self.conn.execute(
            _SOURCE_CODINGS.replace("SELECT g.id,", "SELECT s.source_id, g.id,") + " WHERE g.id = ?",
            (int(coding_id),)).fetchone()
        if row is None:
            raise NotFoundError(f"coding #{coding_id} is not in the project (any more); reload the page to see "
                                "the codings as they are now.")
        return _with_span(row)

    def source_suggestion_rows(self, source_id: int, status: str = "open") -> list[dict]:
        """Suggestions on one source's segments: id, segment_id, code_id, code, code_name, coder,
        confidence, drivers, source, status."""
        return [dict(r) for r in self.conn.execute(
            """SELECT sg.id, sg.segment_id, sg.code_id, c.key AS code, c.name AS code_name, sg.coder,
                      sg.confidence, sg.drivers, sg.source, sg.status
               FROM suggestions sg JOIN codes c ON c.id = sg.code_id JOIN segments s ON s.id = sg.segment_id
               WHERE s.source_id = ? AND sg.status = ? ORDER BY s.ordinal, sg.confidence DESC, c.position""",
            (int(source_id), status))]

    def source_segment_memos(self, source_id: int) -> list[dict]:
        """Memos on one source's segments, oldest first."""
        return [dict(r) for r in self.conn.execute(
            """SELECT m.* FROM memos m JOIN segments s ON s.id = m.target_id
               WHERE m.target_type = 'segment' AND s.source_id = ? ORDER BY m.created_at, m.id""",
            (int(source_id),))]

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

    def code_names(self) -> list[dict]:
        """Codes in codebook order with their theme's key and name and display colour, without counts
        (cheap: for pickers and filters)."""
        return [dict(r) for r in self.conn.execute(
            """SELECT c.key, c.name, t.key AS theme, t.name AS theme_name,
                      COALESCE(c.colour, t.colour) AS display_colour
               FROM codes c LEFT JOIN themes t ON t.id = c.theme_id
               ORDER BY COALESCE(t.position, 1e9), t.id, c.position, c.id""")]

    def theme_names(self) -> list[dict]:
        """Themes in report order: key and name only."""
        return [dict(r) for r in self.conn.execute("SELECT key, name FROM themes ORDER BY position, id")]

    def source_order(self) -> list[int]:
        """Source ids in reading order (group, then name)."""
        return [r[0] for r in self.conn.execute(
            "SELECT id FROM sources ORDER BY length(group_label), group_label, name")]
