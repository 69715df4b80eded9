"""Read-only aggregate queries used by status, review, reports and agreement.

Counting rule used everywhere in step 6: a *fragment* is a coded segment. A
theme's fragment count is the number of distinct segments that carry at least
one of its codes (by any coder), so a segment coded twice inside one theme
counts once for that theme, and a segment coded under two themes counts once
for each (as the reference study copied it under both).
"""

from __future__ import annotations

from typing import Iterator, Sequence

from .codebook import _CODING_SELECT
from .core import sql_in

_ORDER_TRANSCRIPT = (" ORDER BY length(src.group_label), src.group_label, src.name, s.ordinal, t.position, "
                     "cd.position, c.coder")
_ORDER_THEME = (" ORDER BY COALESCE(t.position, 1e9), t.id, cd.position, cd.id, length(src.group_label), "
                "src.group_label, src.name, s.ordinal, c.coder")


def by_coders(column: str, coders: Sequence[str] | None) -> tuple[str, list]:
    """`` AND column IN (coders)`` and its arguments; nothing when ``coders`` is None (every coder)."""
    if coders is None:
        return "", []
    sql, args = sql_in(column, list(coders))
    return " AND " + sql, args


class AnalysisMixin:
    # ------------------------------------------------------------ fragments
    def iter_coded_fragments(self, order: str = "transcript", *, as_dict: bool = True,
                             coders: Sequence[str] | None = None) -> Iterator[dict]:
        """Every coding with its segment, code and theme, streamed one row at a time.

        ``order``: 'transcript' (group, source, segment) or 'theme' (theme position, code
        position, then transcript order). Row keys as :meth:`codings`. ``as_dict=False`` yields the
        read-only ``sqlite3.Row`` objects themselves (indexed by the same keys; cheaper for exports).
        ``coders``: only these coders' codings (None: everyone's), as every query below."""
        if order not in ("transcript", "theme"):
            raise ValueError("order must be 'transcript' or 'theme'")
        who, args = by_coders("c.coder", coders)
        sql = _CODING_SELECT + (" WHERE 1" + who if who else "") + (
            _ORDER_TRANSCRIPT if order == "transcript" else _ORDER_THEME)
        rows = self.conn.execute(sql, args)
        if not as_dict:
            yield from rows
            return
        for r in rows:
            yield dict(r)

    def theme_fragments(self, theme_id: int, coders: Sequence[str] | None = None) -> list[dict]:
        """Distinct participant fragments coded under a theme: a whole segment, or the coded part of
        one (issue 16). Keys: id ((segment id, start, end): one per span), segment_id, start, end,
        text (the fragment's words), n_words, fragment (True for part of a segment), group,
        participant, participant_id, key, codes (keys of the theme's codes on it)."""
        who, args = by_coders("g.coder", coders)
        rows = self.conn.execute(
            """SELECT s.id, g.start AS fstart, g."end" AS fend, s.start AS sstart, s."end" AS send,
                      s.text, s.n_words, src.group_label AS "group", p.label AS participant,
                      p.id AS participant_id, p.group_label || ' ' || p.label AS key,
                      group_concat(DISTINCT cd.key) AS codes
               FROM codings g JOIN codes cd ON cd.id = g.code_id JOIN segments s ON s.id = g.segment_id
               JOIN sources src ON src.id = s.source_id JOIN participants p ON p.id = s.participant_id
               WHERE cd.theme_id = ? AND s.role = 'participant'""" + who + """
               GROUP BY s.id, g.start, g."end"
               ORDER BY s.id, IFNULL(g.start, -1), IFNULL(g."end", -1)""", (theme_id, *args)).fetchall()
        out = []
        for r in rows:
            d = {k: r[k] for k in ("group", "participant", "participant_id", "key")}
            d["codes"] = sorted((r["codes"] or "").split(","))
            if r["fstart"] is None:
                d.update(start=r["sstart"], end=r["send"], text=r["text"], n_words=r["n_words"], fragment=False)
            else:
                text = r["text"][r["fstart"] - r["sstart"]:r["fend"] - r["sstart"]]
                d.update(start=r["fstart"], end=r["fend"], text=text, n_words=len(text.split()), fragment=True)
            d.update(id=(r["id"], d["start"], d["end"]), segment_id=r["id"])
            out.append(d)
        return out

    def unit_texts(self, ids) -> dict[tuple[int, int, int], str]:
        """(segment id, start, end) -> the words of that span (as :meth:`theme_fragments` ids)."""
        ids = [tuple(int(x) for x in i) for i in ids]
        segs: dict[int, tuple[int, str]] = {}
        need = sorted({i[0] for i in ids})
        for k in range(0, len(need), 500):
            chunk = need[k:k + 500]
            segs.update((r[0], (r[1], r[2])) for r in self.conn.execute(
                f"SELECT id, start, text FROM segments WHERE id IN ({','.join('?' * len(chunk))})", chunk))
        out = {}
        for sid, start, end in ids:
            s0, text = segs[sid]
            out[(sid, start, end)] = text[start - s0:end - s0]
        return out

    def segment_texts(self, ids) -> dict[int, str]:
        """segment id -> text, for the given ids (fetched in chunks)."""
        ids = [int(i) for i in ids]
        out: dict[int, str] = {}
        for k in range(0, len(ids), 500):
            chunk = ids[k:k + 500]
            out.update(self.conn.execute(
                f"SELECT id, text FROM segments WHERE id IN ({','.join('?' * len(chunk))})", chunk).fetchall())
        return out

    # ------------------------------------------------------------ spreads
    def theme_spread(self, coders: Sequence[str] | None = None) -> dict[int, dict]:
        """theme id -> fragments (distinct segments), codings, groups and participants reached."""
        who, args = by_coders("g.coder", coders)
        out = {t: {"fragments": 0, "codings": 0, "groups": 0, "participants": 0}
               for (t,) in self.conn.execute("SELECT id FROM themes")}
        for tid, frags, codings, groups, people in self.conn.execute(
                """SELECT cd.theme_id, COUNT(DISTINCT g.segment_id), COUNT(*), COUNT(DISTINCT src.group_label),
                          COUNT(DISTINCT s.participant_id)
                   FROM codings g JOIN codes cd ON cd.id = g.code_id JOIN segments s ON s.id = g.segment_id
                   JOIN sources src ON src.id = s.source_id
                   WHERE cd.theme_id IS NOT NULL""" + who + " GROUP BY cd.theme_id", args):
            out[tid] = {"fragments": frags, "codings": codings, "groups": groups, "participants": people}
        return out

    def theme_by_group(self, coders: Sequence[str] | None = None) -> dict[tuple[int, str], int]:
        """(theme id, group) -> distinct coded segments."""
        who, args = by_coders("g.coder", coders)
        return {(t, g): n for t, g, n in self.conn.execute(
            """SELECT cd.theme_id, src.group_label, COUNT(DISTINCT g.segment_id)
               FROM codings g JOIN codes cd ON cd.id = g.code_id JOIN segments s ON s.id = g.segment_id
               JOIN sources src ON src.id = s.source_id
               WHERE cd.theme_id IS NOT NULL""" + who + " GROUP BY cd.theme_id, src.group_label", args)}

    def theme_by_participant(self, coders: Sequence[str] | None = None) -> dict[tuple[int, int], int]:
        """(theme id, participant id) -> distinct coded segments."""
        who, args = by_coders("g.coder", coders)
        return {(t, p): n for t, p, n in self.conn.execute(
            """SELECT cd.theme_id, s.participant_id, COUNT(DISTINCT g.segment_id)
               FROM codings g JOIN codes cd ON cd.id = g.code_id JOIN segments s ON s.id = g.segment_id
               WHERE cd.theme_id IS NOT NULL AND s.participant_id IS NOT NULL""" + who + """
               GROUP BY cd.theme_id, s.participant_id""", args)}

    def code_cooccurrence(self, coders: Sequence[str] | None = None) -> dict[tuple[int, int], int]:
        """(code id a, code id b) with a < b -> segments carrying both (any of ``coders``)."""
        who, args = by_coders("coder", coders)
        return {(a, b): n for a, b, n in self.conn.execute(
            """WITH sc AS (SELECT DISTINCT segment_id, code_id FROM codings WHERE 1""" + who + """)
               SELECT x.code_id, y.code_id, COUNT(*) FROM sc x JOIN sc y
                 ON y.segment_id = x.segment_id AND y.code_id > x.code_id
               GROUP BY x.code_id, y.code_id""", args)}

    def participant_talk(self, coders: Sequence[str] | None = None) -> list[dict]:
        """Per participant: words, turns, segments, share of their group's participant words, coded segments."""
        who, args = by_coders("g.coder", coders)
        coded = dict(self.conn.execute(
            """SELECT s.participant_id, COUNT(DISTINCT g.segment_id) FROM codings g
               JOIN segments s ON s.id = g.segment_id WHERE s.participant_id IS NOT NULL""" + who + """
               GROUP BY s.participant_id""", args))
        stats = [r for r in self.talk_stats() if r["role"] == "participant" and r["participant_id"]]
        group_words: dict[str, int] = {}
        for r in stats:
            group_words[r["group"]] = group_words.get(r["group"], 0) + (r["words"] or 0)
        out = {}
        for r in stats:
            total = group_words.get(r["group"]) or 0
            out[r["participant_id"]] = {"words": r["words"] or 0, "turns": r["turns"], "segments": r["segments"],
                                        "share": (r["words"] or 0) / total if total else 0.0,
                                        "coded": coded.get(r["participant_id"], 0)}
        return out

    def memos_with_targets(self) -> list[dict]:
        """All memos with a readable label of what they are about."""
        rows = self.conn.execute(
            """SELECT m.*, CASE m.target_type
                   WHEN 'project' THEN 'project'
                   WHEN 'theme' THEN (SELECT name FROM themes WHERE id = m.target_id)
                   WHEN 'code' THEN (SELECT key FROM codes WHERE id = m.target_id)
                   WHEN 'source' THEN (SELECT name FROM sources WHERE id = m.target_id)
                   WHEN 'participant' THEN (SELECT group_label || ' ' || label FROM participants
                                            WHERE id = m.target_id)
                   WHEN 'segment' THEN (SELECT src.group_label || ' ' || s.speaker || ' #' || s.id
                                        FROM segments s JOIN sources src ON src.id = s.source_id
                                        WHERE s.id = m.target_id)
                 END AS target_label
               FROM memos m ORDER BY m.created_at, m.id""").fetchall()
        return [dict(r) for r in rows]

    def step_counts(self, coders: Sequence[str] | None = None) -> dict[str, int]:
        """Figures for the six steps' state: sources, segments, codes, codings, themes by status
        (codings of ``coders`` only, when given)."""
        who, args = by_coders("coder", coders)
        q = lambda sql: self.conn.execute(sql).fetchone()[0]  # noqa: E731
        qc = lambda sql: self.conn.execute(sql + who, args).fetchone()[0]  # noqa: E731
        out = {
            "sources": q("SELECT COUNT(*) FROM sources"),
            "segments": q("SELECT COUNT(*) FROM segments WHERE role = 'participant'"),
            "codes": q("SELECT COUNT(*) FROM codes"),
            "codes_used": qc("SELECT COUNT(DISTINCT code_id) FROM codings WHERE 1"),
            "codings": qc("SELECT COUNT(*) FROM codings WHERE 1"),
            "coded_segments": qc("SELECT COUNT(DISTINCT segment_id) FROM codings WHERE 1"),
            "themes": q("SELECT COUNT(*) FROM themes"),
            "themes_with_codes": q("SELECT COUNT(DISTINCT theme_id) FROM codes WHERE theme_id IS NOT NULL"),
            "themes_defined": q("SELECT COUNT(*) FROM themes WHERE definition != ''"),
            "memos": q("SELECT COUNT(*) FROM memos"),
            "acts": q("SELECT COUNT(*) FROM audit_log"),
        }
        for status in ("candidate", "reviewed", "defined", "reported"):
            out[f"status_{status}"] = q(f"SELECT COUNT(*) FROM themes WHERE status = '{status}'")
        return out
