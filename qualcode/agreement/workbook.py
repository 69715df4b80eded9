"""Agreement in Excel: the agreement report, coder comparison and disagreement sheets.

The disagreement sheet is what coders fill in to reach consensus (read back by :func:`resolve_disagreements`).

All text goes through :mod:`qualcode.excel.xlsx`, so a segment that starts with '=' or '-' stays text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Iterable, Sequence

from ..errors import InputError, QualcodeError, close_matches
from ..store.core import exported
from ..excel.xlsx import (Styles, cell, column_letter, read_xlsx, row_height, safe_title, write_only_workbook,
                          write_table)

COMPARISON_SHEET = "Coder comparison"
DISAGREEMENT_SHEET = "Disagreements"
CODER_PREFIX = "codes: "
CONSENSUS = "consensus"
CHOICE_ALL, CHOICE_COMMON, CHOICE_NONE = "all", "common", "none"
HELP = (
    "Each row is a segment where the coders applied different codes. In the 'consensus' column choose "
    "a coder's name to keep that coder's codes, 'all' for every code any coder gave, 'common' for the codes "
    "all coders gave, 'none' for no code; or type code keys separated by ';'. Leave it empty to decide later. "
    "Then run: qualcode agreement resolve FILE --as consensus")


def _keys(codes: Iterable[str]) -> str:
    return "; ".join(codes)


def _split(text) -> list[str]:
    return [t.strip() for t in re.split(r"[;,\n]", str(text or "")) if t.strip()]


def _ready(path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


# ----------------------------------------------------------- comparison sheet
def write_comparison_sheet(wb, store, coders: Sequence[str], styles: Styles | None = None, *,
                           codes: Iterable[str] | None = None, title: str = COMPARISON_SHEET) -> int:
    """Append a coder-comparison sheet to a write-only workbook: for every pair of coders and every
    code, the 2 x 2 confusion table on the segments both saw, then the segments behind each
    off-diagonal cell. Returns the number of disagreeing segment x code cells listed."""
    from .measures import collect_units

    st = styles or Styles()
    ws = wb.add_sheet(safe_title(title), widths=(28, 16, 16, 12, 90))
    # printed: landscape A4 as wide as the page (the text column wraps), the sheet's name on every page
    ws.print_setup(landscape=True, fit_width=True, header=title, footer="{page} / {pages}")
    code_names = {c["key"]: c["name"] for c in store.codes()}
    wanted = list(codes) if codes is not None else None
    listed = 0
    for a, b in combinations(coders, 2):
        try:
            units = collect_units(store, [a, b])
        except QualcodeError:
            ws.append([cell(f"{a} compared with {b}: no segments both saw", font=st.bold)])
            ws.append([])
            continue
        seg_ids = units.segment_ids
        shared = set(seg_ids)

        def by_code(coder: str) -> dict[str, set[int]]:
            out: dict[str, set[int]] = {}
            for sid, ks in units.applied[coder].items():
                if sid in shared:
                    for k in ks:
                        out.setdefault(k, set()).add(sid)
            return out

        sets_a, sets_b = by_code(a), by_code(b)
        used = set(sets_a) | set(sets_b)
        keys = wanted if wanted is not None else [k for k in code_names if k in used]
        tables = []
        for key in keys:
            in_a, in_b = sets_a.get(key, set()), sets_b.get(key, set())
            tables.append((key, len(in_a & in_b), sorted(in_a - in_b), sorted(in_b - in_a),
                           len(seg_ids) - len(in_a | in_b)))
        # fetch only the segments that will be listed (not every shared segment with its text)
        segs = {s["id"]: s for s in store.segments(ids=sorted({i for t in tables for i in t[2] + t[3]}))}
        ws.append([cell(f"{a} compared with {b}: {len(seg_ids)} segments both saw", font=st.bold)])
        for key, both, only_a, only_b, neither in tables:
            ws.append([])
            ws.append([cell(f"{key}: {code_names.get(key, key)}", font=st.bold)])
            ws.append([cell(v, font=st.header_font, fill=st.header_fill)
                       for v in ("", f"{b}: applied", f"{b}: not applied")])
            ws.append([cell(f"{a}: applied", font=st.bold), both, len(only_a)])
            ws.append([cell(f"{a}: not applied", font=st.bold), len(only_b), neither])
            if only_a or only_b:
                ws.append([cell(v, font=st.bold) for v in ("disagreement", "key", "source", "segment", "text")])
            for who, ids in ((f"only {a} applied it", only_a), (f"only {b} applied it", only_b)):
                for sid in ids:
                    seg = segs[sid]
                    ws.append([cell(who), cell(seg["key"]), cell(seg["source"]), sid,
                               cell(seg["text"], alignment=st.wrap)],
                              height=row_height(("", "", "", "", seg["text"]), {4: 90}))
                    listed += 1
        ws.append([])
    return listed


def _workbook_coders(store) -> list[str]:
    """Coders shown in the analysis workbook: everyone with codings except the consensus coder(s)."""
    by_origin = store.coder_origins()
    return [c for c in store.coders_with_codings() if by_origin.get(c) != {CONSENSUS}]


def workbook_sheet(wb, store, styles: Styles) -> None:
    """Hook for the analysis workbook: a coder comparison when two or more coders have codings."""
    coders = _workbook_coders(store)
    if len(coders) >= 2:
        write_comparison_sheet(wb, store, coders, styles)


try:  # the analysis workbook picks this module up through PLUGIN_MODULES
    from ..excel.analysis import register_sheet
except ImportError:  # pragma: no cover - workbook module absent
    pass
else:
    register_sheet(workbook_sheet)


# ----------------------------------------------------------- the report file
def write_agreement_report(report, store, path: str | Path) -> Path:
    """reports/agreement.xlsx: the statistics with CIs and bands, the exclusive sets, notes (with every
    double-coded segment of an exclusive set), and the coder comparison."""
    from .measures import LABELS as names
    from .measures import STATISTICS, band

    path = _ready(path)
    with write_only_workbook(path) as wb:
        st = Styles()
        stats = [s for s in STATISTICS if s != "cohen" or len(report.coders) == 2]
        header = ["code", "name", "segments", "positives"] + [f"applied by {c}" for c in report.coders]
        for s in stats:
            header += [names[s], "95% CI low", "95% CI high"] + (["band"] if s != "percent" else [])
        header.append("warning")

        def num(v):
            return round(v, 6) if v == v else "n/a"  # NaN -> n/a

        rows = []
        for r in [*report.codes, report.overall]:
            row = [r.code, r.name, r.n_segments, r.positives] + [r.per_coder[c] for c in report.coders]
            for s in stats:
                e = r.stats[s]
                row += [num(e.value), num(e.low), num(e.high)] + ([band(s, e.value)] if s != "percent" else [])
            row.append(r.warning)
            rows.append(row)
        write_table(wb, "Agreement", header, rows, styles=st,
                    widths=[24, 28, 10, 10] + [12] * (len(header) - 5) + [60], wrap_cols=(len(header) - 1,))
        header = ["exclusive set", "kind", "name", "codes", "units"]
        for s in stats:
            header += [names[s], "95% CI low", "95% CI high"] + (["band"] if s != "percent" else [])
        header.append("double-coded segments")
        rows = []
        for r in report.exclusive:
            row = [r.key, r.kind, r.name, ", ".join(r.codes), r.n_units]
            for s in stats:
                e = r.stats[s]
                row += [num(e.value), num(e.low), num(e.high)] + ([band(s, e.value)] if s != "percent" else [])
            row.append(len(r.double_coded))
            rows.append(row)
        if not rows:
            rows = [["(none: declare a set with 'qualcode theme set-exclusive THEME' or ask with --exclusive THEME)"]]
        write_table(wb, "Exclusive sets", header, rows, styles=st,
                    widths=[18, 8, 24, 40, 8] + [12] * (len(header) - 5))
        write_table(wb, "Notes", ["about these figures"],
                    ([line] for line in report.notes() + report.exclusive_notes(limit=None)), styles=st,
                    widths=[140], wrap_cols=(0,), autofilter=False)
        write_comparison_sheet(wb, store, report.coders, st, codes=[r.code for r in report.codes])
    return path


# -------------------------------------------------------- disagreement sheet
@dataclass
class DisagreementExport:
    path: Path
    coders: list[str]
    n_segments: int           # segments compared
    n_disagreements: int      # rows written

    def lines(self) -> list[str]:
        return [f"Wrote {self.path}: {self.n_disagreements} of {self.n_segments} shared segments where "
                f"{', '.join(self.coders)} differ.",
                "Fill in the 'consensus' column, then: qualcode agreement resolve "
                f"{self.path} --as consensus"]


def disagreements(store, coders: Sequence[str], *, codes: Iterable[str] | None = None,
                  groups: Iterable[str] | None = None, include_moderator: bool = False) -> tuple[list, int]:
    """Segments (in transcript order) where the coders' code sets differ, each as
    (segment row, {coder: [code keys]}), and how many shared segments were compared."""
    from .measures import check_coders, collect_units

    chosen = check_coders(store, coders)
    units = collect_units(store, chosen, groups=groups, include_moderator=include_moderator)
    order = [c["key"] for c in store.codes()]
    wanted = set(codes) if codes is not None else None
    if wanted is not None:
        for k in wanted:
            store.code(k)  # raises an unknown-code error with close matches
    out_ids, sets = [], {}
    for sid in units.segment_ids:
        per = {c: [k for k in order if k in units.applied[c].get(sid, ()) and (wanted is None or k in wanted)]
               for c in chosen}
        if len({tuple(v) for v in per.values()}) > 1:
            out_ids.append(sid)
            sets[sid] = per
    segs = {s["id"]: s for s in store.segments(ids=out_ids)}
    return [(segs[sid], sets[sid]) for sid in out_ids], len(units.segment_ids)


@exported
def write_disagreements(store, coders: Sequence[str], path: str | Path, **kw) -> DisagreementExport:
    """Write the disagreement sheet (with a drop-down consensus column) and a code list."""
    from .measures import check_coders

    chosen = check_coders(store, coders)
    rows, n_compared = disagreements(store, chosen, **kw)
    path = _ready(path)
    with write_only_workbook(path) as wb:
        st = Styles()
        header = ["segment", "key", "source", "text"] + [CODER_PREFIX + c for c in chosen] + [CONSENSUS]
        data = [[s["id"], s["key"], s["source"], s["text"]] + [_keys(per[c]) for c in chosen] + [""]
                for s, per in rows]
        ws = write_table(wb, DISAGREEMENT_SHEET, header, data, styles=st,
                         widths=[9, 10, 12, 80] + [30] * len(chosen) + [30], wrap_cols=range(3, len(header)))
        choices = [*chosen, CHOICE_ALL, CHOICE_COMMON, CHOICE_NONE]
        col = column_letter(len(header))
        if len(",".join(choices)) <= 255:   # Excel's limit for a typed list; longer: the cell takes free text
            ws.list_validation(f"{col}2:{col}{max(2, len(data) + 1)}", choices=choices, prompt_title="consensus",
                               prompt="A coder's name, all, common, none, or code keys separated by ';'")
        write_table(wb, "Codes", ["code", "name", "theme", "description"],
                    ([c["key"], c["name"], c["theme"] or "", c["description"]] for c in store.codes()),
                    styles=st, widths=[28, 30, 16, 80], wrap_cols=(3,))
        write_table(wb, "How to", ["how to use this sheet"], [[HELP]], styles=st, widths=[120], wrap_cols=(0,),
                    autofilter=False)
    return DisagreementExport(path, chosen, n_compared, len(data))


@dataclass
class ResolveReport:
    coder: str
    resolved: int = 0
    undecided: int = 0
    agreed: int = 0
    added: int = 0
    removed: int = 0
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"Consensus coder '{self.coder}': {self.resolved} disagreements resolved, {self.agreed} segments "
               f"where the coders agreed copied, {self.added} codings added, {self.removed} earlier consensus "
               "codings replaced."]
        if self.undecided:
            out.append(f"{self.undecided} rows have an empty consensus cell and were left for later.")
        return out + self.notes


def _read_disagreements(path: Path) -> tuple[list[str], list[tuple[int, list]]]:
    book = read_xlsx(path, "Excel workbook", sheets=[DISAGREEMENT_SHEET])
    if DISAGREEMENT_SHEET not in book:
        raise InputError(f"has no sheet '{DISAGREEMENT_SHEET}'; write one with 'qualcode agreement "
                         "disagreements'", path=str(path))
    rows = list(enumerate(book[DISAGREEMENT_SHEET].rows, start=1))
    if not rows:
        raise InputError(f"sheet '{DISAGREEMENT_SHEET}' is empty", path=str(path))
    header = ["" if h is None else str(h).strip() for h in rows[0][1]]
    return header, rows[1:]


def _chosen_keys(choice: str, per: dict[str, list[str]]) -> list[str]:
    """The code keys a consensus cell stands for: a coder's name (that coder's codes), 'all', 'common',
    'none', or code keys separated by ';'. ``per`` holds each compared coder's codes on the segment."""
    coders = list(per)
    if choice in per:
        return per[choice]
    if choice.lower() == CHOICE_ALL:
        return list(dict.fromkeys(k for c in coders for k in per[c]))
    if choice.lower() == CHOICE_COMMON:
        return [k for k in per[coders[0]] if all(k in per[c] for c in coders[1:])]
    if choice.lower() == CHOICE_NONE:
        return []
    return _split(choice)


def resolve_disagreements(store, path: str | Path, *, coder: str = CONSENSUS,
                          include_agreed: bool = True) -> ResolveReport:
    """Import a filled-in disagreement sheet as codings of ``coder`` (origin 'consensus'), as one act.

    Each row with a consensus choice replaces that coder's codings on the segment. With
    ``include_agreed`` the segments where the compared coders agreed get their common codes too,
    so the consensus coder ends up with a complete coding of the shared segments."""
    from .measures import check_coders, collect_units

    path = Path(path)
    header, rows = _read_disagreements(path)
    coders = [h[len(CODER_PREFIX):] for h in header if h.startswith(CODER_PREFIX)]
    for needed in ("segment", CONSENSUS):
        if needed not in header:
            raise InputError(f"has no '{needed}' column in sheet '{DISAGREEMENT_SHEET}' (columns: "
                             f"{', '.join(h for h in header if h)})", path=str(path))
    if len(coders) < 2:
        raise InputError(f"sheet '{DISAGREEMENT_SHEET}' names fewer than two coders (columns '{CODER_PREFIX}NAME')",
                         path=str(path))
    if coder in coders:
        raise QualcodeError(f"the consensus coder '{coder}' is one of the compared coders; choose another name "
                            "with --as NAME.")
    check_coders(store, coders)
    i_seg, i_cons = header.index("segment"), header.index(CONSENSUS)
    i_coder = {c: header.index(CODER_PREFIX + c) for c in coders}
    col = column_letter(i_cons + 1)
    code_ids = store.code_ids()
    n_segments = store.count_segments()
    chosen: dict[int, list[str]] = {}
    report = ResolveReport(coder)
    for line, row in rows:
        row = row + [None] * (len(header) - len(row))
        if all(v is None or str(v).strip() == "" for v in row):
            continue
        where = f"sheet '{DISAGREEMENT_SHEET}', cell {column_letter(i_seg + 1)}{line}"
        try:
            sid = int(float(str(row[i_seg]).strip()))
        except ValueError:
            raise InputError(f"'{row[i_seg]}' is not a segment number", path=str(path), where=where) from None
        if not store.segment_exists(sid):
            raise InputError(f"segment {sid} is not in this project (segments: {n_segments})", path=str(path),
                             where=where)
        choice = "" if row[i_cons] is None else str(row[i_cons]).strip()
        if not choice:
            report.undecided += 1
            continue
        keys = _chosen_keys(choice, {c: _split(row[i_coder[c]]) for c in coders})
        for k in keys:
            if k not in code_ids:
                raise InputError(f"'{k}' is not a code of this project and not one of "
                                 f"{', '.join([*coders, CHOICE_ALL, CHOICE_COMMON, CHOICE_NONE])}."
                                 f"{close_matches(k, [*code_ids, *coders])}", path=str(path),
                                 where=f"sheet '{DISAGREEMENT_SHEET}', cell {col}{line}")
        chosen[sid] = keys
    report.resolved = len(chosen)
    if include_agreed:
        units = collect_units(store, coders)
        for sid in units.segment_ids:
            if sid in chosen:
                continue
            sets = [units.applied[c].get(sid, set()) for c in coders]
            if sets[0] and all(s == sets[0] for s in sets[1:]):
                chosen[sid] = sorted(sets[0])
                report.agreed += 1
    with store.act("agreement resolve", summary="", details={"file": path.name, "coder": coder,
                                                              "coders": coders}) as act:
        report.removed = store.remove_codings(list(chosen), coder, by="segment")
        pairs = [(sid, code_ids[k]) for sid, ks in chosen.items() for k in ks]
        store.add_codings(pairs, coder, "consensus")  # the coder's codings there were just removed: all new
        report.added = len(pairs)
        act.summary = (f"{report.resolved} disagreements resolved as {coder} ({report.added} codings) from "
                       f"{path.name}")
        act.details.update(resolved=report.resolved, agreed=report.agreed, added=report.added,
                           removed=report.removed)
    return report
