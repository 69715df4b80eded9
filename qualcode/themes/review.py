"""Step 4 (reviewing themes): checks that send the analyst back to the data.

``run_review(store)`` returns a :class:`Review` with six checks:

* integrity  - every segment's text still equals its source's text at its
  offsets, and every source's stored text still has the sha256 recorded at
  ingest (the reference study re-read all data to check nothing had drifted);
  a segment imported from a REFI-QDA file still has the text that file gave at
  its positions (a hash kept at import); REFI-imported sources without that
  record (imported before it was kept) are checked for selections that start or
  end inside words, the sign of positions counted in the wrong unit;
* coverage   - participant segments that carry no code, per group and participant;
* spread     - how many groups and participants each theme rests on; themes
  resting on one voice, one group, or dominated by one participant are flagged;
* size       - thin and fat themes and codes, relative to the median;
* coherence  - how alike a theme's segments are to each other compared with
  other themes' segments (TF-IDF cosine), so a theme that may be two themes,
  or that overlaps another, stands out;
* exclusive  - segments where one coder gave two codes of an exclusive set (a
  theme or parent code whose codes exclude each other): a coding error.

Each warning says what to look at and which command helps. Nothing is
changed in the project except the remembered count of open warnings (meta
keys ``review_*``), which ``qualcode status`` shows.
"""

from __future__ import annotations

import hashlib
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from ..store.core import from_snapshot

COHERENCE_EXPLAINED = (
    "coherence: every segment becomes a TF-IDF vector of its content words (lemmas, stop words and fillers "
    "left out). 'within' is the mean cosine similarity (0 = no shared words, 1 = the same words) between "
    "two different segments of the theme; 'between' is the mean cosine between the theme's segments and "
    "other themes' segments. A coherent theme has within clearly above between. Within at or below between "
    "means the segments are no more alike than segments from elsewhere: the theme may be two themes, or "
    "overlap the theme it is closest to.")

# thresholds (documented in docs/themes.md)
UNCODED_SHARE = 0.5      # a participant with more than half their segments uncoded
DOMINANT_SHARE = 0.5     # one participant gives at least half of a theme's segments
THIN_ABS = 2             # at most this many segments (when the median is above twice that) is thin,
THIN_REL = 0.25          # and so is fewer than a quarter of the median
FAT_REL = 3.0            # more than three times the median (and at least FAT_MIN) is fat
FAT_MIN = 10


@dataclass
class ReviewWarning:
    check: str
    subject: str
    message: str
    look: str
    command: str

    def line(self) -> str:
        return f"[{self.check}] {self.subject}: {self.message} Look: {self.look}. Try: {self.command}"


@dataclass
class Review:
    warnings: list[ReviewWarning] = field(default_factory=list)
    integrity: list[dict] = field(default_factory=list)
    sources_checked: int = 0
    segments_checked: int = 0
    fragments_checked: int = 0   # coded fragments re-read
    coverage: list[dict] = field(default_factory=list)
    spread: list[dict] = field(default_factory=list)
    size: list[dict] = field(default_factory=list)
    coherence: list[dict] = field(default_factory=list)
    exclusive: list[dict] = field(default_factory=list)

    def by_check(self, check: str) -> list[ReviewWarning]:
        return [w for w in self.warnings if w.check == check]

    def to_dict(self) -> dict:
        """The review as plain data for ``--json`` (see docs/json.md)."""
        return {"warnings": [{"check": w.check, "subject": w.subject, "message": w.message, "look": w.look,
                              "command": w.command} for w in self.warnings],
                "sources_checked": self.sources_checked, "segments_checked": self.segments_checked,
                "integrity": [dict(x) for x in self.integrity], "coverage": [dict(x) for x in self.coverage],
                "spread": [dict(x) for x in self.spread], "size": [dict(x) for x in self.size],
                "coherence": [dict(x) for x in self.coherence], "exclusive": [dict(x) for x in self.exclusive]}


@from_snapshot
def run_review(store, *, coder: str | None = None, remember: bool = True, progress=None) -> Review:
    """Run every check; with ``remember`` store the warning count for ``qualcode status``.
    ``progress``: a callback ``progress(items, label)`` (qualcode.cli.progress), or None."""
    r = Review()
    checks = [lambda: _integrity(store, r), lambda: _fragment_integrity(store, r)] + [
        (lambda check=check: check(store, r, coder)) for check in (_coverage, _spread, _size, _coherence, _exclusive)]
    for check in checks if progress is None else progress(checks, "reviewing"):
        check()
    if remember:
        from ..store import now

        with store.transaction():
            store.set_meta("review_at", now())
            store.set_meta("review_warnings", str(len(r.warnings)))
            store.set_meta("review_act", str(store.last_act_id()))
    return r


# ---------------------------------------------------------------- integrity
def _integrity(store, r: Review) -> None:
    names = {s["id"]: s["name"] for s in store.sources()}
    for sid, text, sha in store.source_texts():
        r.sources_checked += 1
        now_sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
        if now_sha != sha:
            r.integrity.append({"kind": "source", "source": names[sid], "segment_id": None, "coded": None,
                                "expected": sha, "found": now_sha})
            r.warnings.append(ReviewWarning(
                "integrity", names[sid], f"the stored text no longer has the sha256 recorded at ingest "
                f"({sha[:12]}… became {now_sha[:12]}…).", "the source file and whether someone edited the project",
                f"qualcode backup list; re-ingest with qualcode ingest {names[sid]} --replace"))
    r.segments_checked = store.count_segments()
    for row in store.integrity_rows():
        r.integrity.append({"kind": "segment", "source": row["source"], "segment_id": row["segment_id"],
                            "coded": bool(row["coded"]), "expected": row["source_text"], "found": row["text"]})
        r.warnings.append(ReviewWarning(
            "integrity", f"segment #{row['segment_id']} ({row['source']} ordinal {row['ordinal']})",
            "its text differs from the source text at its offsets "
            f"{row['start']}-{row['end']}" + (" and it is coded" if row["coded"] else "") + ".",
            "what was said in the source against the segment text",
            f"qualcode segments --source {row['source']} --codes"))
    _refi_read(store, r)


def _refi_read(store, r: Review) -> None:
    """Segments imported from a REFI-QDA file whose text is no longer what the file said."""
    from ..refi.units import MIN_DIFFERING, end_ok, start_ok, text_hash

    recorded = set()
    for source_guid, record in store.refi_read_records():
        recorded.add(source_guid)
        segs = store.segments_of_source_guid(source_guid)
        # a source whose text was changed on purpose since (pseudonymised, re-ingested) is checked by its sha256
        if not segs or segs[0]["source_sha256"] != record.get("text_sha256"):
            continue
        want = record.get("segments", {})
        for row in segs:
            h = want.get(row["guid"])
            if h is None or text_hash(row["text"]) == h:
                continue
            r.integrity.append({"kind": "refi", "source": row["source"], "segment_id": row["segment_id"],
                                "coded": bool(row["coded"]), "expected": f"text with hash {h} (as read from "
                                f"{record.get('file', 'the REFI file')})", "found": row["text"]})
            r.warnings.append(ReviewWarning(
                "integrity", f"segment #{row['segment_id']} ({row['source']} ordinal {row['ordinal']})",
                f"its text is not the text {record.get('file', 'the REFI-QDA file')} gives at its positions "
                f"(counting {record.get('unit', 'characters')})" + (" and it is coded" if row["coded"] else "") + ".",
                "the segment's text against the source in the other tool",
                f"qualcode segments --source {row['source']} --codes"))
    for src in store.sources():
        if src["format"] != "refi" or src["guid"] in recorded or not src["n_segments"]:
            continue
        text = store.source(src["id"])["text"]
        segs = store.segments_of_source_guid(src["guid"])
        good = sum(1 for g in segs if g["end"] > g["start"] and start_ok(text, g["start"]) and end_ok(text, g["end"]))
        if len(segs) >= MIN_DIFFERING and good < len(segs) / 2:
            r.integrity.append({"kind": "refi", "source": src["name"], "segment_id": None, "coded": None,
                                "expected": "selections on word boundaries",
                                "found": f"{good} of {len(segs)}"})
            r.warnings.append(ReviewWarning(
                "integrity", src["name"], f"only {good} of {len(segs)} of its segments, imported from a REFI-QDA "
                "file, start and end on word boundaries: their positions may have been counted in the wrong unit "
                "(characters or UTF-16 units), putting codings on the wrong text.",
                "the coded segments against the source in the other tool",
                "import the file again into a new project with qualcode import refi FILE (it now checks the unit)"))


# ----------------------------------------------------------------- coverage
def _coverage(store, r: Review, coder: str | None) -> None:
    rows = store.coverage_rows(coder)
    from ..store.segments import natural_key

    rows.sort(key=lambda x: (natural_key(x["group"]), natural_key(x["participant"])))
    groups: dict[str, list[int]] = {}
    for row in rows:
        row["share_uncoded"] = round(row["uncoded"] / row["segments"], 3) if row["segments"] else 0.0
        g = groups.setdefault(row["group"], [0, 0])
        g[0] += row["segments"]
        g[1] += row["uncoded"]
    for g, (n, u) in groups.items():
        r.coverage.append({"group": g, "participant": "(all)", "segments": n, "uncoded": u,
                           "share_uncoded": round(u / n, 3) if n else 0.0})
        r.coverage.extend(x for x in rows if x["group"] == g)
        if n and u / n > UNCODED_SHARE:
            r.warnings.append(ReviewWarning(
                "coverage", f"group {g}", f"{u} of {n} participant segments ({u / n:.0%}) carry no code.",
                "whether this group's talk fits the codebook or needs new codes",
                f"qualcode segments --group {g} --codes; qualcode suggest"))
    for x in rows:
        if x["segments"] >= 2 and x["share_uncoded"] > UNCODED_SHARE:
            r.warnings.append(ReviewWarning(
                "coverage", f"{x['group']} {x['participant']}",
                f"{x['uncoded']} of {x['segments']} segments ({x['share_uncoded']:.0%}) carry no code.",
                "whether this participant's view is missing from the themes",
                f"qualcode segments --group {x['group']} --participant {x['participant']} --codes"))


# ------------------------------------------------------------------- spread
def _spread(store, r: Review, coder: str | None) -> None:
    n_groups = len(store.groups())
    per: dict[str, dict] = {}
    for row in store.theme_voices(coder):
        t = per.setdefault(row["theme"], {"voices": {}, "groups": set()})
        t["voices"][f"{row['group']} {row['participant']}"] = row["segments"]
        t["groups"].add(row["group"])
    for theme in store.themes():
        t = per.get(theme["key"], {"voices": {}, "groups": set()})
        total = sum(t["voices"].values())
        top, top_n = max(t["voices"].items(), key=lambda kv: kv[1]) if t["voices"] else ("", 0)
        row = {"theme": theme["key"], "segments": total, "participants": len(t["voices"]),
               "groups": len(t["groups"]), "group_list": ", ".join(sorted(t["groups"])),
               "top_voice": top, "top_share": round(top_n / total, 3) if total else 0.0}
        r.spread.append(row)
        show = f"qualcode theme show {theme['key']}"
        if total == 0:
            continue
        if row["participants"] == 1:
            r.warnings.append(ReviewWarning("spread", theme["key"], f"rests on a single voice ({top}).",
                                       "whether others said the same in other words", show))
        elif n_groups > 1 and row["groups"] == 1:
            r.warnings.append(ReviewWarning("spread", theme["key"], f"rests on a single group ({row['group_list']}).",
                                       "whether the other groups touched this, or it is specific to that group",
                                       show))
        if row["participants"] > 1 and total >= 4 and row["top_share"] >= DOMINANT_SHARE:
            r.warnings.append(ReviewWarning(
                "spread", theme["key"], f"{top} gives {top_n} of its {total} participant segments "
                f"({row['top_share']:.0%}): a vocal participant may dominate it.",
                "how the other participants speak about it", show))


# --------------------------------------------------------------------- size
def _size(store, r: Review, coder: str | None) -> None:
    themes = store.themes()
    codes = store.codes()
    if coder:
        counts_t: dict[str, set] = {}
        counts_c: dict[str, set] = {}
        for row in store.codings(coder=coder):
            counts_c.setdefault(row["code"], set()).add(row["segment_id"])
            if row["theme"]:
                counts_t.setdefault(row["theme"], set()).add(row["segment_id"])
        t_n = {t["key"]: len(counts_t.get(t["key"], ())) for t in themes}
        c_n = {c["key"]: len(counts_c.get(c["key"], ())) for c in codes}
    else:
        t_n = {t["key"]: t["n_segments"] for t in themes}
        c_n = {c["key"]: c["n_segments"] for c in codes}
    for level, counts in (("theme", t_n), ("code", c_n)):
        used = [n for n in counts.values() if n]
        med = statistics.median(used) if used else 0
        for key, n in counts.items():
            verdict = ""
            if n == 0:
                verdict = "empty"
            elif n < THIN_REL * med or (n <= THIN_ABS and med > 2 * THIN_ABS):
                verdict = "thin"
            elif med and n > FAT_REL * med and n >= FAT_MIN:
                verdict = "fat"
            r.size.append({"level": level, "key": key, "segments": n, "median": med, "verdict": verdict})
            if verdict == "empty":
                cmd = (f"qualcode theme merge {key} OTHER_THEME" if level == "theme"
                       else f"qualcode code merge {key} OTHER_CODE, or qualcode kwic WORD to find segments")
                r.warnings.append(ReviewWarning("size", f"{level} {key}", "has no coded segments.",
                                           f"whether the {level} is still needed", cmd))
            elif verdict == "thin":
                cmd = (f"qualcode theme merge {key} OTHER_THEME" if level == "theme"
                       else f"qualcode code merge {key} OTHER_CODE")
                r.warnings.append(ReviewWarning("size", f"{level} {key}", f"is thin: {n} segment(s) (median {med:g}).",
                                           f"whether it is a {level} of its own or part of a neighbour", cmd))
            elif verdict == "fat":
                cmd = (f"qualcode theme show {key}; qualcode theme split {key} NEW_KEY NEW_NAME --code CODE"
                       if level == "theme" else f"qualcode code split {key} NEW_KEY NEW_NAME --contains WORD")
                r.warnings.append(ReviewWarning("size", f"{level} {key}", f"is fat: {n} segments (median {med:g}).",
                                           "whether it holds several distinct ideas", cmd))


# ---------------------------------------------------------------- coherence
def _coherence(store, r: Review, coder: str | None) -> None:
    pairs = store.coded_segment_pairs(coder, level="theme")
    present = {k for k, _, _ in pairs}
    keys = [t["key"] for t in store.themes() if t["key"] in present]
    if len(keys) < 2:
        return
    import numpy as np

    from ..text.lemmas import load
    from ..text.nlp import content_lemmas
    from ..text.tfidf import tfidf

    lang = store.language
    cached = load(store).content  # lemmatised once, at ingest
    seg_text = {sid: text for _, sid, text in pairs}
    seg_ids = sorted(seg_text)
    index = {sid: i for i, sid in enumerate(seg_ids)}
    # TfidfVectorizer(analyzer=content_lemmas, norm="l2"), in numpy (qualcode.text.tfidf)
    X = tfidf([cached[s] if s in cached else content_lemmas(seg_text[s], lang) for s in seg_ids])
    nonzero = X.row_nnz() > 0
    members: dict[str, list[int]] = {k: [] for k in keys}
    for k, sid, _ in pairs:
        members[k].append(index[sid])
    sums = {k: X.column_sums(np.bincount(m, minlength=X.n_rows).astype(float)) for k, m in members.items()}
    nz = {k: int(nonzero[m].sum()) for k, m in members.items()}
    sets = {k: set(m) for k, m in members.items()}

    def within(k: str) -> float | None:
        n = len(members[k])
        if n < 2:
            return None
        s = sums[k]
        return float((s @ s - nz[k]) / (n * (n - 1)))  # self-similarities (1 per non-empty vector) left out

    def between(a: str, b: str) -> float:
        shared = sets[a] & sets[b]
        shared_nz = int(sum(nonzero[i] for i in shared))
        pairs_n = len(members[a]) * len(members[b]) - len(shared)
        return float((sums[a] @ sums[b] - shared_nz) / pairs_n) if pairs_n else 0.0

    for k in keys:
        w = within(k)
        others = {o: between(k, o) for o in keys if o != k}
        n_other = sum(len(members[o]) for o in others)
        b_all = (sum(v * len(members[o]) for o, v in others.items()) / n_other) if n_other else 0.0
        closest, close_v = max(others.items(), key=lambda kv: kv[1])
        row = {"theme": k, "segments": len(members[k]), "within": None if w is None else round(w, 4),
               "between": round(b_all, 4), "ratio": round(w / b_all, 2) if w is not None and b_all else None,
               "closest": closest, "closest_between": round(close_v, 4)}
        r.coherence.append(row)
        if w is None:
            continue
        if w <= b_all:
            r.warnings.append(ReviewWarning(
                "coherence", k, f"its segments are no more alike than segments of other themes (within {w:.3f}, "
                f"between {b_all:.3f}): it may be two themes.",
                "the codes of the theme side by side",
                f"qualcode theme show {k}; qualcode theme split {k} NEW_KEY NEW_NAME --code CODE"))
        elif close_v >= w:
            r.warnings.append(ReviewWarning(
                "coherence", k, f"its segments are as alike to theme {closest}'s as to each other "
                f"(within {w:.3f}, with {closest} {close_v:.3f}): the two may overlap.",
                f"themes {k} and {closest} side by side",
                f"qualcode theme show {closest}; qualcode theme merge {k} {closest}"))


# ---------------------------------------------------------------- exclusive
def _exclusive(store, r: Review, coder: str | None, shown: int = 10) -> None:
    from ..agreement.measures import exclusive_sets, set_values

    sets = exclusive_sets(store)
    if not sets:
        return
    per: dict[str, dict[int, set[str]]] = {}
    for sid, key, who in store.coder_codings([coder] if coder else store.coders_with_codings()):
        per.setdefault(who, {}).setdefault(sid, set()).add(key)
    for x in sets:
        if len(x.codes) < 2:
            r.warnings.append(ReviewWarning(
                "exclusive", f"{x.kind} {x.key}", f"is an exclusive set but has only {len(x.codes)} code(s) left, so "
                "it is not compared as a set.", "whether codes were moved or merged out of it",
                f"qualcode theme set-exclusive {x.key} --off"))
            continue
        found = [(sid, who, v) for who, applied in sorted(per.items()) for sid in sorted(applied)
                 if len(v := set_values(applied, sid, x)) > 1]
        if not found:
            continue
        info = {s["id"]: s for s in store.segments(ids=sorted({f[0] for f in found}))}
        rows = [{"set": x.key, "kind": x.kind, "segment_id": sid, "key": info[sid]["key"],
                 "source": info[sid]["source"], "coder": who, "codes": v} for sid, who, v in found]
        rows.sort(key=lambda d: (d["source"], info[d["segment_id"]]["ordinal"], d["coder"]))
        r.exclusive.extend(rows)
        listing = "; ".join(f"#{d['segment_id']} ({d['key']}, {d['coder']}: {', '.join(d['codes'])})"
                            for d in rows[:shown]) + (f"; and {len(rows) - shown} more" if len(rows) > shown else "")
        first = rows[0]
        r.warnings.append(ReviewWarning(
            "exclusive", f"{x.kind} {x.key}",
            f"{len(rows)} time(s) one coder gave a segment two or more of its mutually exclusive codes "
            f"({', '.join(x.codes)}): {listing}.",
            "each segment and the one code that fits it",
            f"qualcode segments --source {first['source']} --codes; qualcode uncode SEGMENT_ID CODE_ID "
            f"--coder {first['coder']}"))


def _fragment_integrity(store, r: Review) -> None:
    """Coded fragments re-read against their segment and source."""
    frags = store.fragment_integrity_rows()
    r.fragments_checked = frags["checked"]
    for row in frags["problems"]:
        r.integrity.append({"kind": "fragment", "source": row["source"], "segment_id": row["segment_id"],
                            "coded": True, "expected": row["segment_text"], "found": row["text"]})
        r.warnings.append(ReviewWarning(
            "integrity", f"coding #{row['id']} ({row['code']}, {row['coder']}) on segment #{row['segment_id']}",
            f"its fragment {row['start']}-{row['end']} is no longer inside its segment "
            f"({row['segment_start']}-{row['segment_end']}).",
            "the words the coding was meant for",
            f"qualcode uncode {row['segment_id']} {row['code']} --coder {row['coder']}"))


# ------------------------------------------------------------------- output
def format_review(r: Review) -> str:
    frags = f", {r.fragments_checked} coded fragment(s)" if r.fragments_checked else ""
    lines = [f"integrity: {r.sources_checked} source(s) and {r.segments_checked} segment(s){frags} re-read; "
             f"{len(r.integrity)} problem(s)"]
    cov = [c for c in r.coverage if c["participant"] == "(all)"]
    if cov:
        lines.append("coverage (uncoded participant segments): " + ", ".join(
            f"{c['group']} {c['uncoded']}/{c['segments']}" for c in cov))
    if r.spread:
        lines.append("spread (participants, groups per theme): " + ", ".join(
            f"{s['theme']} {s['participants']}p/{s['groups']}g" for s in r.spread))
    if r.coherence:
        lines.append("coherence (within vs between):")
        for c in r.coherence:
            w = "n/a" if c["within"] is None else f"{c['within']:.3f}"
            lines.append(f"  {c['theme']:<20} within {w}  between {c['between']:.3f}  closest {c['closest']}")
        lines.append("  " + COHERENCE_EXPLAINED)
    lines.append(f"{len(r.warnings)} warning(s)")
    for w in r.warnings:
        lines.append("  " + w.line())
    return "\n".join(lines)


def check_out_path(out: str | Path) -> Path:
    """The review sheet's path, refused before any work when it is not .xlsx."""
    out = Path(out)
    if out.suffix.lower() != ".xlsx":
        from ..errors import InputError

        raise InputError(f"--out must end in .xlsx, got '{out.name}'.")
    return out


def write_review(r: Review, out: str | Path) -> Path:
    """Write the review to an .xlsx workbook: one sheet of warnings, one per check."""
    from ..excel.xlsx import Styles, write_only_workbook, write_table

    out = check_out_path(out)
    with write_only_workbook(out) as wb:
        st = Styles()
        write_table(wb, "Warnings", ["check", "subject", "message", "look at", "command"],
                    ([w.check, w.subject, w.message, w.look, w.command] for w in r.warnings),
                    widths=[12, 28, 60, 40, 50], wrap_cols=[2, 3, 4], styles=st)
        write_table(wb, "Integrity", ["kind", "source", "segment id", "coded", "expected", "found"],
                    ([i["kind"], i["source"], i["segment_id"], i["coded"], i["expected"], i["found"]]
                     for i in r.integrity), widths=[10, 20, 10, 8, 60, 60], wrap_cols=[4, 5], styles=st)
        write_table(wb, "Coverage", ["group", "participant", "segments", "uncoded", "share uncoded"],
                    ([c["group"], c["participant"], c["segments"], c["uncoded"], c["share_uncoded"]]
                     for c in r.coverage), styles=st)
        write_table(wb, "Spread", ["theme", "segments", "participants", "groups", "group list", "top voice",
                                   "top share"],
                    ([s["theme"], s["segments"], s["participants"], s["groups"], s["group_list"], s["top_voice"],
                      s["top_share"]] for s in r.spread), styles=st)
        write_table(wb, "Size", ["level", "id", "segments", "median", "verdict"],
                    ([s["level"], s["key"], s["segments"], s["median"], s["verdict"]] for s in r.size), styles=st)
        write_table(wb, "Coherence", ["theme", "segments", "within", "between", "ratio", "closest theme",
                                      "between closest"],
                    ([c["theme"], c["segments"], c["within"], c["between"], c["ratio"], c["closest"],
                      c["closest_between"]] for c in r.coherence), styles=st)
        wb.add_sheet("About coherence").append([COHERENCE_EXPLAINED])
        write_table(wb, "Exclusive", ["set", "kind", "segment id", "key", "source", "coder", "codes"],
                    ([x["set"], x["kind"], x["segment_id"], x["key"], x["source"], x["coder"], ", ".join(x["codes"])]
                     for x in r.exclusive), styles=st)
    return out
