"""Step 1, familiarise: talk per group and participant, distinctive words, keywords in context.

Who spoke how much, how balanced each group was, which words
set each group apart, and keyword-in-context reading."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ..files.atomic import write_text
from ..errors import InputError
from ..store.core import from_snapshot
from ..files.textsafe import xml_text


def gini(values: list[float]) -> float:
    """Gini coefficient of non-negative values: 0 = everyone equal, towards 1 = one voice."""
    vals = sorted(v for v in values if v >= 0)
    n = len(vals)
    total = sum(vals)
    if n < 2 or total == 0:
        return 0.0
    cum = sum((i + 1) * v for i, v in enumerate(vals))
    return (2 * cum) / (n * total) - (n + 1) / n


def log_likelihood(a: int, b: int, c: int, d: int) -> float:
    """Dunning's G2 for a word seen a times in a corpus of c tokens and b times in one of d."""
    e1 = c * (a + b) / (c + d)
    e2 = d * (a + b) / (c + d)
    g = 0.0
    if a:
        g += a * math.log(a / e1)
    if b:
        g += b * math.log(b / e2)
    return 2 * g


@dataclass
class Overview:
    groups: list[dict] = field(default_factory=list)
    participants: list[dict] = field(default_factory=list)
    terms: dict[str, list[dict]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """Plain data for ``--json`` (see docs/json.md)."""
        return {"groups": [dict(g) for g in self.groups], "participants": [dict(p) for p in self.participants],
                "terms": {g: [dict(t) for t in rows] for g, rows in self.terms.items()}}


@from_snapshot
def build_overview(store, top_terms: int = 12) -> Overview:
    stats = store.talk_stats()
    people = store.participants()
    ov = Overview()
    def blank(g: str) -> dict:
        return {"group": g, "sources": 0, "participants": 0, "turns": 0, "words": 0, "moderator_turns": 0,
                "moderator_words": 0}

    by_group = {g: blank(g) for g in store.groups()}
    for s in store.sources():
        by_group.setdefault(s["group_label"], blank(s["group_label"]))["sources"] += 1
    talk = {(r["group"], r["speaker"]): r for r in stats if r["role"] == "participant"}
    for r in stats:
        g = by_group[r["group"]]
        if r["role"] == "participant":
            g["turns"] += r["turns"]
            g["words"] += r["words"] or 0
        else:
            g["moderator_turns"] += r["turns"]
            g["moderator_words"] += r["words"] or 0
    shares: dict[str, list[float]] = {}
    for p in people:
        t = talk.get((p["group"], p["label"]), {})
        words = t.get("words") or 0
        gw = by_group.get(p["group"], {}).get("words") or 0
        share = words / gw if gw else 0.0
        shares.setdefault(p["group"], []).append(share)
        by_group[p["group"]]["participants"] += 1
        ov.participants.append({"group": p["group"], "participant": p["label"], "key": p["key"],
                                "turns": t.get("turns", 0), "words": words, "share": share})
    for g, row in by_group.items():
        row["gini"] = gini(shares.get(g, []))
        row["largest_share"] = max(shares.get(g, [0.0]) or [0.0])
    ov.groups = [by_group[g] for g in store.groups() if g in by_group]
    ov.terms = distinctive_terms(store, top_terms)
    return ov


def distinctive_terms(store, top: int = 12) -> dict[str, list[dict]]:
    """Per group, the lemmas most over-represented in its participants' talk (log-likelihood
    keyness against the other groups; plain frequency when there is one group)."""
    from ..text.lemmas import load

    terms = load(store).terms  # lemmatised once, at ingest (see qualcode.text.lemmas.analyse)
    counts: dict[str, Counter] = {}
    for seg in store.segments(role="participant"):
        counts.setdefault(seg["group_label"], Counter()).update(terms[seg["id"]])
    out: dict[str, list[dict]] = {}
    total = Counter()
    for c in counts.values():
        total.update(c)
    n_total = sum(total.values())
    for g, c in counts.items():
        n_g = sum(c.values())
        n_rest = n_total - n_g
        rows = []
        if n_rest == 0:
            rows = [{"term": w, "count": k, "keyness": float(k)} for w, k in c.most_common(top)]
        else:
            for w, k in c.items():
                if k < 3:
                    continue
                rest = total[w] - k
                if k / n_g <= rest / n_rest:
                    continue
                rows.append({"term": w, "count": k, "keyness": log_likelihood(k, rest, n_g, n_rest)})
            rows.sort(key=lambda r: -r["keyness"])
            rows = rows[:top]
        out[g] = rows
    return out


def format_overview(ov: Overview) -> str:
    lines = ["Focus groups", f"{'group':<7}{'sources':>8}{'people':>8}{'turns':>8}{'words':>9}{'mod. words':>12}"
             f"{'Gini':>7}{'top share':>11}"]
    for g in ov.groups:
        lines.append(f"{g['group']:<7}{g['sources']:>8}{g['participants']:>8}{g['turns']:>8}{g['words']:>9}"
                     f"{g['moderator_words']:>12}{g['gini']:>7.2f}{g['largest_share']:>10.0%}")
    if not any(g["sources"] for g in ov.groups):
        lines.append("(no transcripts yet: run 'qualcode ingest FILES --participants FILE')")
    lines += ["", "Gini of talk share: 0 = every participant spoke equally; towards 1 = a few voices dominate.", "",
              "Participants", f"{'key':<8}{'turns':>7}{'words':>8}{'share of group':>16}"]
    for p in ov.participants:
        lines.append(f"{p['key']:<8}{p['turns']:>7}{p['words']:>8}{p['share']:>15.0%}  {_bar(p['share'])}")
    lines += ["", "Distinctive terms per group (lemmas, log-likelihood keyness against the other groups)"]
    for g, rows in ov.terms.items():
        lines.append(f"{g}: " + ", ".join(f"{r['term']} ({r['count']})" for r in rows))
    return "\n".join(lines)


def _bar(share: float, width: int = 20) -> str:
    return "█" * round(share * width)


def write_overview(ov: Overview, out: str | Path) -> Path:
    out = Path(out)
    if out.suffix.lower() in (".md", ".xlsx"):
        out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".md":
        write_text(out, xml_text(_markdown(ov)))
    elif out.suffix.lower() == ".xlsx":
        _xlsx(ov, out)
    else:
        raise InputError(f"cannot write '{out.suffix}'; use .md or .xlsx", path=str(out))
    return out


def _markdown(ov: Overview) -> str:
    md = ["# Overview (step 1: familiarise)", "", "## Focus groups", "",
          "| group | sources | participants | participant turns | participant words | moderator words | Gini | largest share |",
          "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for g in ov.groups:
        md.append(f"| {g['group']} | {g['sources']} | {g['participants']} | {g['turns']} | {g['words']} | "
                  f"{g['moderator_words']} | {g['gini']:.2f} | {g['largest_share']:.0%} |")
    md += ["", "Gini of talk share: 0 means every participant spoke equally; towards 1, a few voices dominate "
           "(the reference study names unequal talk as a limitation).", "", "## Participants", "",
           "| key | turns | words | share of group's talk |", "|---|---:|---:|---:|"]
    for p in ov.participants:
        md.append(f"| {p['key']} | {p['turns']} | {p['words']} | {p['share']:.1%} |")
    md += ["", "## Distinctive terms per group", "",
           "Lemmas over-represented in a group's participant talk (log-likelihood keyness against the other "
           "groups; stop words and fillers left out).", ""]
    for g, rows in ov.terms.items():
        md.append(f"- **{g}**: " + ", ".join(f"{r['term']} ({r['count']})" for r in rows))
    return "\n".join(md) + "\n"


def _xlsx(ov: Overview, out: Path) -> None:
    from ..excel.xlsx import Styles, write_only_workbook, write_table

    with write_only_workbook(out) as wb:
        st = Styles()
        write_table(wb, "Groups", ["group", "sources", "participants", "participant turns", "participant words",
                                   "moderator words", "Gini of talk share", "largest share"],
                    ([g["group"], g["sources"], g["participants"], g["turns"], g["words"], g["moderator_words"],
                      round(g["gini"], 3), round(g["largest_share"], 3)] for g in ov.groups), styles=st)
        write_table(wb, "Participants", ["key", "group", "participant", "turns", "words", "share of group"],
                    ([p["key"], p["group"], p["participant"], p["turns"], p["words"], round(p["share"], 4)]
                     for p in ov.participants), styles=st)
        write_table(wb, "Distinctive terms", ["group", "rank", "term", "count", "keyness (G2)"],
                    ([g, i + 1, r["term"], r["count"], round(r["keyness"], 2)]
                     for g, rows in ov.terms.items() for i, r in enumerate(rows)), styles=st)


def kwic(store, term: str, *, width: int = 40, group: str | None = None, limit: int | None = None) -> list[dict]:
    """Keyword in context: every participant or moderator segment where a token's lemma
    (or form) equals the term's lemma; a trailing '*' matches as a prefix. Each hit lists the
    codes of coded fragments that hold it (``fragment_codes``)."""
    from ..text.lemmas import load
    from ..text.nlp import lemma, WORD_RE

    if not term.strip().rstrip("*"):
        raise InputError("give a term to look for (a word, or the start of one followed by *)")
    lang = store.language
    load(store)  # teaches the lemmatiser every word form of the project: no lemmatising below
    prefix = term.endswith("*")
    t = term.rstrip("*").lower()
    target = lemma(t, lang)
    out = []
    fragments: dict[int, list[dict]] = {}
    for f in store.fragment_codings():
        fragments.setdefault(f["segment_id"], []).append(f)
    for seg in store.segments(group=group):
        text = seg["text"]
        for m in WORD_RE.finditer(text):
            w = m.group(0).lower()
            hit = w.startswith(t) if prefix else (w == t or lemma(w, lang) == target)
            if not hit:
                continue
            left = text[max(0, m.start() - width):m.start()].replace("\n", " ")
            right = text[m.end():m.end() + width].replace("\n", " ")
            at, to = seg["start"] + m.start(), seg["start"] + m.end()
            inside = []  # codes of coded fragments holding the hit (whole-segment codes: 'segments --codes')
            for f in fragments.get(seg["id"], ()):
                if f["start"] <= at and to <= f["end"] and f["code"] not in inside:
                    inside.append(f["code"])
            out.append({"segment_id": seg["id"], "key": seg["key"], "left": left, "match": m.group(0),
                        "right": right, "fragment_codes": inside})
            if limit and len(out) >= limit:
                return out
    return out


UNITS = ("source", "group", "participant")


def parse_by(store, by: str) -> tuple[str, str]:
    """``--by`` as (rows, unit): rows 'code' (default) or 'theme'; unit 'source' (default), 'group',
    'participant' or a participant attribute that does not identify anyone ('theme,gender')."""
    from ..errors import InputError, unknown

    parts = [p.strip() for p in (by or "").split(",") if p.strip()]
    rows = "theme" if "theme" in parts else "code"
    rest = [p for p in parts if p not in ("theme", "code")]
    if len(rest) > 1:
        raise InputError(f"--by takes at most one unit besides 'theme' or 'code', not '{by}' "
                         "(e.g. --by theme,gender).")
    unit = rest[0] if rest else "source"
    if unit not in UNITS:
        if unit in store.identifying_attributes():
            raise InputError(f"'{unit}' identifies participants, so it is never counted or exported; "
                             "count by another attribute.")
        known = store.attribute_names(include_identifying=False)
        if unit not in known:
            raise unknown("unit for --by", unit, [*UNITS, *known])
    return rows, unit


def code_count_table(store, by: str = "source", coder: str | None = None, *,
                     coders=None) -> tuple[list[str], list[list]]:
    """A code x unit (or theme x unit, ``by='theme,gender'``) table of coded-segment counts: header
    and rows (one row per code or theme, in codebook order, a column per unit, a total column).
    ``coder`` or ``coders``: only their codings."""
    from ..store.segments import natural_key

    rows_of, unit = parse_by(store, by)
    counts = store.code_counts_by(unit, coder, coders=coders, rows=rows_of)
    units = sorted({u for u, _, _ in counts}, key=natural_key)
    cell = {(u, k): n for u, k, n in counts}
    keys = [c["key"] for c in store.codes()] if rows_of == "code" else [t["key"] for t in store.themes()]
    rows = []
    for k in keys:
        vals = [cell.get((u, k), 0) for u in units]
        rows.append([k, *vals, sum(vals)])
    return [rows_of, *[u or "(no value)" for u in units], "total"], rows


def code_count_document(store, by: str = "source", coder: str | None = None, *, coders=None) -> dict:
    """The table as plain data for ``--json``: the units, and per code (or theme) its counts and total."""
    header, rows = code_count_table(store, by=by, coder=coder, coders=coders)
    units = header[1:-1]
    who = [coder] if coder else list(coders) if coders is not None else None
    return {"by": by, "coder": ", ".join(who) if who else None, "coders": who, "rows": header[0], "units": units,
            "codes": [{"code": r[0], "counts": dict(zip(units, r[1:-1])), "total": r[-1]} for r in rows]}
