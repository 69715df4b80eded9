"""The analysis workbook (step 6): ten sheets that mirror the reference study's Excel method.

1 Codebook · 2 Coded fragments · 3 By theme · 4 Theme summary · 5 Quotes ·
6 Matrices (theme × group, theme × participant, framework matrix, native charts) ·
7 Co-occurrence · 8 Participants · 9 Audit log · 10 Memos.

The workbook is written with ``Workbook(write_only=True)``: rows stream from the
store to the file one at a time, and styles are made once (``Styles``, the per-theme
fills and one ``CellStyle`` per combination), so memory stays flat for large projects.
The ten sheets' rows are serialised straight to XML by ``xlsxutil.StreamRows`` (no
openpyxl cell object per value: a large export is several times faster);
``write_workbook(..., streamed=False)`` writes the same rows as openpyxl cells, and the
tests check that both give the same workbook cell for cell. Text always goes through
:mod:`.xlsxutil`, so a quote that starts with ``=`` or ``-`` stays text.

Other areas add sheets without editing this module::

    from qualcode.excel.analysis import register_sheet

    @register_sheet
    def write_agreement(wb, store, styles):   # wb: the write-only Workbook
        ws = wb.create_sheet("Agreement")     # or xlsxutil.write_table(wb, ...)
        ...

Writers run after the ten sheets, in registration order. Modules named in
``PLUGIN_MODULES`` are imported (when they exist) before writing, so their
``register_sheet`` calls take effect without any other import; ``write_workbook``
also takes ``extra_sheets=[...]`` for one-off writers.
"""

from __future__ import annotations

import importlib
import json
import re
from dataclasses import dataclass, field
from itertools import chain, islice
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from ..files.atomic import atomic_output
from ..store.core import exported
from ..files.textsafe import xml_text
from ..reports.quotes import cite, pick_quotes, rank_by_typicality, short_quote
from .xlsx import CellRows, CellStyle, Styles, StreamRows, fit_widths, hex_fill, light, safe_title

SheetWriter = Callable[[Any, Any, Styles], None]
_EXTRA_SHEETS: list[SheetWriter] = []
PLUGIN_MODULES = ("qualcode.agreement.workbook",)

SHEETS = ("Codebook", "Coded fragments", "By theme", "Theme summary", "Quotes", "Matrices", "Co-occurrence",
          "Participants", "Audit log", "Memos")
THEME_SUMMARY = "Theme summary"
COMMENTS_HEADER = "supervisor comments"
N_SUMMARY_QUOTES = 3
ZIP_LEVEL = 1   # deflate level of the .xlsx: 1 zips a large workbook ~3x faster than openpyxl's 6, ~20% larger
MAX_CHART_GROUPS = 25   # more focus groups than this: no theme x group chart (the heat-map table stays)
MAX_SHEET_ROWS = 1_048_576  # Excel's rows per worksheet: a longer table goes on in 'Title (2)', 'Title (3)'...


def register_sheet(writer: SheetWriter) -> SheetWriter:
    """Add a sheet writer ``writer(wb, store, styles)`` run after the ten standard sheets."""
    if writer not in _EXTRA_SHEETS:
        _EXTRA_SHEETS.append(writer)
    return writer


def registered_sheets() -> list[SheetWriter]:
    for name in PLUGIN_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
    return list(_EXTRA_SHEETS)


@dataclass
class WorkbookSummary:
    path: Path
    sheets: list[str] = field(default_factory=list)
    fragments: int = 0
    themes: int = 0

    def lines(self) -> list[str]:
        out = [f"wrote {self.path}: {len(self.sheets)} sheets, {self.themes} themes, "
               f"{self.fragments} coded fragment rows"]
        continued = [t for t in self.sheets if re.search(r" \(\d+\)$", t)]
        if continued:
            out.append(f"more rows than an Excel sheet holds ({MAX_SHEET_ROWS:,}); continued in: "
                       + ", ".join(continued))
        return out


class _Ctx:
    """What every sheet writer shares: the store, styles made once, theme fills, quote rankings."""

    def __init__(self, store, styles: Styles, streamed: bool = True):
        from openpyxl.styles import Alignment, Font

        self.store = store
        self.st = styles
        self.streamed = streamed
        self._styles: dict[tuple, CellStyle | None] = {}
        self._keep: list = []
        self.writers: list = []
        self.themes = store.themes()
        self.spread = store.theme_spread()
        self.theme_fill = {t["id"]: hex_fill(t["colour"]) for t in self.themes}
        self.theme_light = {t["id"]: hex_fill(light(t["colour"], 0.65)) for t in self.themes}
        self.title_font = Font(bold=True, size=13)
        self.center = Alignment(horizontal="center", vertical="top")
        self.language = store.language
        self._ranked: dict[int, list] = {}
        self._docs: dict[int, str] = {}   # segment id -> content lemmas, shared by the themes' rankings
        self.attrs = store.attribute_names(include_identifying=False)
        self.people = store.participants(include_identifying=False)

    def ranked(self, theme_id: int) -> list[tuple[dict, float]]:
        """The theme's participant fragments, most typical first, without their text (kept small for
        large projects; fetch text with :meth:`texts`)."""
        if theme_id not in self._ranked:
            from ..text.lemmas import load

            ranked = rank_by_typicality(self.store.theme_fragments(theme_id), self.language,
                                        docs_cache=self._docs, lemmas=load(self.store).content)
            self._ranked[theme_id] = [({k: v for k, v in s.items() if k != "text"}, score) for s, score in ranked]
            if len(self._ranked) >= len(self.themes):
                self._docs.clear()   # every theme ranked: the lemmas are not needed any more
        return self._ranked[theme_id]

    def style(self, fill=None, font=None, alignment=None, number_format: str | None = None) -> CellStyle | None:
        """The one :class:`CellStyle` of this combination (None when it sets nothing)."""
        key = (id(fill), id(font), id(alignment), number_format)
        try:
            return self._styles[key]
        except KeyError:
            st = None
            if fill is not None or font is not None or alignment is not None or number_format:
                st = CellStyle(fill, font, alignment, number_format)
            self._styles[key] = st
            self._keep.append((fill, font, alignment))  # the ids in the keys stay valid
            return st

    def rows(self, ws):
        """Where a sheet's rows go: streamed XML (the default) or plain openpyxl cells (reference)."""
        out = StreamRows(ws) if self.streamed else CellRows(ws)
        self.writers.append(out)
        return out

    def texts(self, rows: Iterable[dict]) -> dict[tuple[int, int, int], str]:
        """Ranked fragment id -> its words (a whole segment's text, or the coded part of it)."""
        return self.store.unit_texts(r["id"] for r in rows)


# ------------------------------------------------------------------ helpers
def _sheet(wb, ctx: "_Ctx", title: str, widths: Sequence[float], freeze: str | None = "A2"):
    """A new sheet with column widths and frozen panes, and where its rows go (see :meth:`_Ctx.rows`)."""
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(title=safe_title(title))
    for i, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = w
    if freeze:
        ws.freeze_panes = freeze
    return ws, ctx.rows(ws)


class _Paged:
    """Rows of one table over as many sheets as it needs: after :data:`MAX_SHEET_ROWS` rows the table
    goes on in a new sheet 'Title (2)' (then '(3)', ...) made by ``new_sheet(k)``, which starts with
    the table's first row (its header) again. ``sheets`` holds (worksheet, rows written) per sheet."""

    def __init__(self, ws, out, new_sheet):
        self.new_sheet = new_sheet
        self.sheets: list[list] = [[ws, 0]]
        self._out = out
        self._first: tuple | None = None

    def append(self, values, styles=None) -> None:
        if self._first is None:
            self._first = (list(values), styles)
        elif self.sheets[-1][1] >= MAX_SHEET_ROWS:
            ws, self._out = self.new_sheet(len(self.sheets) + 1)
            self.sheets.append([ws, 0])
            self._put(*self._first)
        self._put(values, styles)

    def _put(self, values, styles) -> None:
        self._out.append(values, styles)
        self.sheets[-1][1] += 1


def _paged_sheet(wb, ctx: "_Ctx", title: str, widths: Sequence[float], freeze: str | None = "A2"):
    """:func:`_sheet` for a table that may pass Excel's row limit (see :class:`_Paged`)."""
    ws, out = _sheet(wb, ctx, title, widths, freeze)
    return ws, _Paged(ws, out, lambda k: _sheet(wb, ctx, f"{safe_title(title)[:26]} ({k})", widths, freeze))


def _header(out, ctx: "_Ctx", header: Sequence[str]) -> None:
    st = ctx.st
    out.append(header, [ctx.style(fill=st.header_fill, font=st.header_font, alignment=st.wrap)] * len(header))


def _table(wb, ctx: _Ctx, title: str, header: Sequence[str], rows: Iterable[tuple[Sequence[Any], Any]], *,
           wrap_cols: Iterable[int] = (), exact_fill_col: int | None = None, colour_col: int | None = None,
           caps: dict[int, int] | None = None, number_formats: dict[int, str] | None = None,
           widths: dict[int, float] | None = None):
    """A filtered, frozen sheet from ``(values, theme_id)`` rows; rows with a theme get its light fill
    and ``exact_fill_col`` gets the theme's own colour; ``colour_col`` is filled with the colour it names.
    Widths fit the first 300 rows, except the columns given in ``widths`` (column index -> width)."""
    from openpyxl.utils import get_column_letter

    it = iter(rows)
    head = list(islice(it, 300))
    fitted = fit_widths([r for r, _ in head], header, cap=60)
    for i, cap in (caps or {}).items():
        fitted[i] = min(fitted[i], cap)
    fitted = [(widths or {}).get(i, w) for i, w in enumerate(fitted)]
    ws, out = _paged_sheet(wb, ctx, title, fitted)
    st = ctx.st
    wraps = set(wrap_cols)
    nf = number_formats or {}
    _header(out, ctx, header)
    row_styles: dict[tuple, list] = {}   # (theme id, number of values) -> a style per column

    def styles_for(tid, n: int) -> list:
        key = (tid, n)
        if key not in row_styles:
            fill = ctx.theme_light.get(tid)
            row_styles[key] = [ctx.style(fill=ctx.theme_fill.get(tid) if i == exact_fill_col else fill,
                                         alignment=st.wrap if i in wraps else st.top, number_format=nf.get(i))
                               for i in range(n)]
        return row_styles[key]

    for values, tid in chain(head, it):
        styles = styles_for(tid, len(values))
        if colour_col is not None and colour_col < len(values) and values[colour_col]:
            styles = list(styles)
            styles[colour_col] = ctx.style(fill=hex_fill(values[colour_col]),
                                           alignment=st.wrap if colour_col in wraps else st.top,
                                           number_format=nf.get(colour_col))
        out.append(values, styles)
    for sheet, n_rows in out.sheets:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(header))}{n_rows}"
    return ws


def _heat(ws, ref: str) -> None:
    from openpyxl.formatting.rule import ColorScaleRule

    ws.conditional_formatting.add(ref, ColorScaleRule(start_type="num", start_value=0, start_color="FFFFFFFF",
                                                      end_type="max", end_color="FFE8743B"))


# ------------------------------------------------------------------ sheets
def _codebook(wb, ctx: _Ctx) -> None:
    header = ["type", "key", "name", "theme", "colour", "status", "description", "include", "exclude",
              "fragments", "codings"]

    def rows():
        codes_by_theme: dict = {}
        for c in ctx.store.codes():
            codes_by_theme.setdefault(c["theme_id"], []).append(c)
        for t in ctx.themes:
            sp = ctx.spread.get(t["id"], {})
            yield (["theme", t["key"], t["name"], t["name"], t["colour"], t["status"], t["description"], "", "",
                    sp.get("fragments", 0), sp.get("codings", 0)], t["id"])
            for c in codes_by_theme.get(t["id"], []):
                yield (["code", c["key"], c["name"], t["name"], c["display_colour"], "", c["description"],
                        c["include"], c["exclude"], c["n_segments"], c["n_codings"]], t["id"])
        for c in codes_by_theme.get(None, []):
            yield (["code", c["key"], c["name"], "", c["display_colour"] or "", "", c["description"],
                    c["include"], c["exclude"], c["n_segments"], c["n_codings"]], None)

    _table(wb, ctx, "Codebook", header, rows(), wrap_cols=(6, 7, 8), exact_fill_col=3, colour_col=4,
           caps={6: 50, 7: 40, 8: 40})


_FRAGMENT_HEADER = ["key", "group", "participant", "source", "segment", "segment id", "theme", "code", "code name",
                    "coder", "origin", "fragment"]


def _fragment_values(r) -> list:
    return [f"({r['key']})", r["group_label"], r["participant"] or r["speaker"], r["source"], r["ordinal"],
            r["segment_id"], r["theme_name"] or "", r["code"], r["code_name"], r["coder"], r["origin"], r["text"]]


def _fragments(wb, ctx: _Ctx) -> int:
    count = 0

    def rows():
        nonlocal count
        for r in ctx.store.iter_coded_fragments("transcript", as_dict=False):
            count += 1
            yield _fragment_values(r), r["theme_id"]

    _table(wb, ctx, "Coded fragments", _FRAGMENT_HEADER, rows(), wrap_cols=(11,), exact_fill_col=6,
           caps={11: 90})
    return count


def _by_theme(wb, ctx: _Ctx) -> None:
    """Fragments grouped by theme then code: a colour band per theme, a subtotal row per code and theme."""
    from openpyxl.styles import Font

    st = ctx.st
    ws, out = _paged_sheet(wb, ctx, "By theme", [12, 6, 12, 28, 10, 90, 10, 10])
    header = ["key", "group", "code", "code name", "segment id", "fragment", "coder", "origin"]
    _header(out, ctx, header)
    bold = Font(bold=True)
    names = {t["id"]: t["name"] for t in ctx.themes}
    row_styles: dict = {}

    def band(tid, label):
        fill = ctx.theme_fill.get(tid)
        out.append([label] + [""] * (len(header) - 1),
                   [ctx.style(fill=fill, font=bold)] + [ctx.style(fill=fill)] * (len(header) - 1))

    def subtotal(tid, label, n):
        fill = ctx.theme_light.get(tid)
        plain, strong = ctx.style(fill=fill), ctx.style(fill=fill, font=bold)
        out.append(["", "", label, "", n], [plain, plain, strong, plain, strong])

    def styles_for(tid):
        if tid not in row_styles:
            fill = ctx.theme_light.get(tid)
            row_styles[tid] = [ctx.style(fill=fill, alignment=st.wrap if i == 5 else st.top)
                               for i in range(len(header))]
        return row_styles[tid]

    cur_theme, cur_code, n_code, theme_segs = object(), None, 0, set()
    for r in ctx.store.iter_coded_fragments("theme", as_dict=False):
        code, tid = r["code"], r["theme_id"]
        if code != cur_code and cur_code is not None:
            subtotal(cur_theme, f"subtotal {cur_code}", n_code)
        if tid != cur_theme:
            if cur_code is not None:
                subtotal(cur_theme, f"total {names.get(cur_theme, '(no theme)')}: fragments", len(theme_segs))
            cur_theme, theme_segs = tid, set()
            band(cur_theme, r["theme_name"] or "(no theme)")
        if code != cur_code:
            cur_code, n_code = code, 0
        n_code += 1
        theme_segs.add(r["segment_id"])
        out.append([f"({r['key']})", r["group_label"], code, r["code_name"], r["segment_id"], r["text"],
                    r["coder"], r["origin"]], styles_for(tid))
    if cur_code is not None:
        subtotal(cur_theme, f"subtotal {cur_code}", n_code)
        subtotal(cur_theme, f"total {names.get(cur_theme, '(no theme)')}: fragments", len(theme_segs))


def _summary(wb, ctx: _Ctx) -> None:
    header = ["theme key", "theme", "status", "definition", "key messages", "fragments", "groups", "participants",
              "representative quotes", COMMENTS_HEADER]

    def rows():
        for t in ctx.themes:
            sp = ctx.spread.get(t["id"], {})
            quotes = pick_quotes(ctx.ranked(t["id"]), N_SUMMARY_QUOTES)
            text = ctx.texts(quotes)
            yield ([t["key"], t["name"], t["status"], t["definition"],
                    "\n".join(f"• {m}" for m in t["key_messages"]), sp.get("fragments", 0), sp.get("groups", 0),
                    sp.get("participants", 0), "\n\n".join(cite(text[q["id"]], q["key"]) for q in quotes), ""],
                   t["id"])

    # widths are fixed before the first row: a write-only sheet writes its columns with that row
    _table(wb, ctx, THEME_SUMMARY, header, rows(), wrap_cols=(3, 4, 8, 9), exact_fill_col=1,
           widths={3: 45, 4: 45, 8: 80, 9: 40})


def _quotes(wb, ctx: _Ctx) -> None:
    st = ctx.st
    header = ["rank", "quote with key (paste into the thesis)", "key", "group", "participant", *ctx.attrs,
              "segment id"]
    ws, out = _sheet(wb, ctx, "Quotes", [6, 90, 10, 7, 11, *[14] * len(ctx.attrs), 10], freeze=None)
    pattrs = {p["id"]: p for p in ctx.people}
    top, wrap = ctx.style(alignment=st.top), ctx.style(alignment=st.wrap)
    styles = [top, wrap] + [top] * (len(header) - 2)
    for t in ctx.themes:
        fill = ctx.theme_fill[t["id"]]
        out.append([t["name"]] + [""] * (len(header) - 1),
                   [ctx.style(fill=fill, font=ctx.title_font)] + [ctx.style(fill=fill)] * (len(header) - 1))
        _header(out, ctx, header)
        ranked = ctx.ranked(t["id"])
        for k in range(0, len(ranked), 500):
            chunk = ranked[k:k + 500]
            text = ctx.texts(s for s, _ in chunk)
            for i, (s, _score) in enumerate(chunk, start=k + 1):
                p = pattrs.get(s["participant_id"], {})
                out.append([i, cite(text[s["id"]], s["key"]), f"({s['key']})", s["group"], s["participant"],
                            *[p.get(a, "") for a in ctx.attrs], s["segment_id"]], styles)
        if not ranked:
            out.append(["", "(no participant fragments yet)"])
        out.append([])


def _matrices(wb, ctx: _Ctx) -> None:
    from openpyxl.chart import BarChart, Reference
    from openpyxl.chart.marker import DataPoint
    from openpyxl.utils import get_column_letter

    st, store = ctx.st, ctx.store
    groups = store.groups()
    people = [p for p in ctx.people]
    by_group = store.theme_by_group()
    by_person = store.theme_by_participant()
    width_cols = max(len(groups) + 2, len(people) + 1, len(ctx.themes) + 1)
    ws, out = _sheet(wb, ctx, "Matrices", [28] + [9] * (width_cols - 1), freeze="B1")
    themes = ctx.themes
    nt = len(themes)
    title = ctx.style(font=ctx.title_font)

    # block 1: theme × group (rows 1 title, 2 header, 3.. themes)
    out.append(["Coded fragments per theme and focus group"], [title])
    _header(out, ctx, ["theme", *groups, "total"])
    for t in themes:
        vals = [by_group.get((t["id"], g), 0) for g in groups]
        out.append([t["name"], *vals, ctx.spread.get(t["id"], {}).get("fragments", 0)],
                   [ctx.style(fill=ctx.theme_fill[t["id"]])] + [None] * len(vals) + [ctx.style(font=st.bold)])
    if nt and groups:
        _heat(ws, f"B3:{get_column_letter(len(groups) + 1)}{nt + 2}")
    row = nt + 2

    # native charts to the right of block 1
    if nt:
        total_col = len(groups) + 2
        c1 = BarChart()
        c1.type = "bar"
        c1.title = "Coded fragments per theme"
        c1.legend = None
        c1.add_data(Reference(ws, min_col=total_col, min_row=2, max_row=nt + 2), titles_from_data=True)
        c1.set_categories(Reference(ws, min_col=1, min_row=3, max_row=nt + 2))
        ser = c1.series[0]
        for i, t in enumerate(themes):
            pt = DataPoint(idx=i)
            pt.graphicalProperties.solidFill = t["colour"].lstrip("#").upper()
            ser.dPt.append(pt)
        c1.height, c1.width = 7.5, 13
        anchor_col = get_column_letter(total_col + 2)
        ws.add_chart(c1, f"{anchor_col}1")
        if 0 < len(groups) <= MAX_CHART_GROUPS:
            c2 = BarChart()
            c2.type = "col"
            c2.grouping = "clustered"
            c2.title = "Theme × focus group"
            c2.add_data(Reference(ws, min_col=2, max_col=len(groups) + 1, min_row=2, max_row=nt + 2),
                        titles_from_data=True)
            c2.set_categories(Reference(ws, min_col=1, min_row=3, max_row=nt + 2))
            c2.height, c2.width = 7.5, 15
            ws.add_chart(c2, f"{get_column_letter(total_col + 11)}1")
    # keep the next block below the charts (15 rows tall)
    while row < 17:
        out.append([])
        row += 1
    out.append([])
    # block 2: theme × participant
    out.append(["Coded fragments per theme and participant"], [title])
    _header(out, ctx, ["theme", *[p["key"] for p in people]])
    start = row + 3
    for t in themes:
        out.append([t["name"], *[by_person.get((t["id"], p["id"]), 0) for p in people]],
                   [ctx.style(fill=ctx.theme_fill[t["id"]])] + [None] * len(people))
    if nt and people:
        _heat(ws, f"B{start}:{get_column_letter(len(people) + 1)}{start + nt - 1}")
    out.append([])
    # block 3: framework matrix (rows participants, columns themes, cells short quotes)
    out.append(["Framework matrix: the most typical fragment of each participant per theme"], [title])
    _header(out, ctx, ["participant", *[t["name"] for t in themes]])
    best: dict[tuple[int, int], list] = {}   # (participant, theme) -> [most typical segment id, count]
    for t in themes:
        for s, _score in ctx.ranked(t["id"]):
            best.setdefault((s["participant_id"], t["id"]), [s["id"], 0])[1] += 1
    styles = [ctx.style(font=st.bold)] + [ctx.style(alignment=st.wrap)] * nt
    for p in people:
        mine = {t["id"]: best[(p["id"], t["id"])] for t in themes if (p["id"], t["id"]) in best}
        text = ctx.store.unit_texts(v[0] for v in mine.values())
        vals = []
        for t in themes:
            sid, n = mine.get(t["id"], (None, 0))
            vals.append(short_quote(text[sid], 140) + (f" (+{n - 1} more)" if n > 1 else "") if sid else "")
        out.append([p["key"], *vals], styles)


def _cooccurrence(wb, ctx: _Ctx) -> None:
    from openpyxl.utils import get_column_letter

    st = ctx.st
    codes = ctx.store.codes()
    co = ctx.store.code_cooccurrence()
    ws, out = _sheet(wb, ctx, "Co-occurrence", [24, 20] + [8] * len(codes), freeze="C2")
    _header(out, ctx, ["code", "theme", *[c["key"] for c in codes]])
    for a in codes:
        vals = []
        for b in codes:
            if a["id"] == b["id"]:
                vals.append(a["n_segments"])
            else:
                vals.append(co.get((min(a["id"], b["id"]), max(a["id"], b["id"])), 0))
        light_fill = ctx.theme_light.get(a["theme_id"])
        out.append([a["key"], a["theme_name"] or "", *vals],
                   [ctx.style(font=st.bold, fill=light_fill), ctx.style(fill=light_fill)] + [None] * len(vals))
    if codes:
        _heat(ws, f"C2:{get_column_letter(len(codes) + 2)}{len(codes) + 1}")
    out.append([])
    out.append(["Cells: segments coded with both codes (diagonal: segments with the code), any coder."])


def _participants(wb, ctx: _Ctx) -> None:
    talk = ctx.store.participant_talk()
    header = ["key", "group", "participant", *ctx.attrs, "turns", "words", "talk share in group",
              "coded fragments"]
    share_col = 3 + len(ctx.attrs) + 2

    def rows():
        for p in ctx.people:
            t = talk.get(p["id"], {})
            yield ([p["key"], p["group"], p["label"], *[p.get(a, "") for a in ctx.attrs], t.get("turns", 0),
                    t.get("words", 0), round(t.get("share", 0.0), 4), t.get("coded", 0)], None)

    _table(wb, ctx, "Participants", header, rows(), number_formats={share_col: "0.0%"})


def _audit(wb, ctx: _Ctx) -> None:
    header = ["#", "at", "actor", "command", "summary", "details", "undoable", "undone at"]

    def rows():
        for a in reversed(ctx.store.history()):
            yield ([a["id"], a["at"], a["actor"], a["command"], a["summary"],
                    json.dumps(a["details"], ensure_ascii=False), "yes" if a["undoable"] else "no",
                    a["undone_at"] or ""], None)

    _table(wb, ctx, "Audit log", header, rows(), wrap_cols=(4, 5), caps={4: 60, 5: 50})


def _memos(wb, ctx: _Ctx) -> None:
    header = ["#", "created at", "author", "kind", "about", "target", "memo"]
    theme_ids = {t["name"]: t["id"] for t in ctx.themes}

    def rows():
        for m in ctx.store.memos_with_targets():
            tid = theme_ids.get(m["target_label"]) if m["target_type"] == "theme" else None
            yield ([m["id"], m["created_at"], m["author"], m["kind"], m["target_type"], m["target_label"] or "",
                    m["text"]], tid)

    _table(wb, ctx, "Memos", header, rows(), wrap_cols=(6,), caps={6: 90})


@exported
def write_workbook(store, path: str | Path, *, extra_sheets: Iterable[SheetWriter] = (),
                   streamed: bool = True) -> WorkbookSummary:
    """Write the ten-sheet analysis workbook (plus registered and ``extra_sheets`` writers) to ``path``.

    ``streamed=False`` writes the ten sheets' rows as one openpyxl cell per value instead of
    streaming their XML: slower, the same workbook cell for cell (the tests compare the two)."""
    from openpyxl import Workbook

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # written beside the target and renamed into place; openpyxl's per-sheet temporary files (every
    # row, so full quotes) live in the same private folder and go with it (qualcode.files.atomic)
    with atomic_output(path, scratch=True) as tmp:
        wb = Workbook(write_only=True)
        state = store.as_of()  # the moment the export's snapshot shows (File > Info in Excel)
        wb.properties.title = xml_text(f"qualcode analysis workbook: {store.meta('name') or path.stem}")
        wb.properties.description = f"The project as it was after act #{state['act']} of {state['at']}."
        st = Styles()
        ctx = _Ctx(store, st, streamed=streamed)
        try:
            _codebook(wb, ctx)
            n = _fragments(wb, ctx)
            _by_theme(wb, ctx)
            _summary(wb, ctx)
            _quotes(wb, ctx)
            _matrices(wb, ctx)
            _cooccurrence(wb, ctx)
            _participants(wb, ctx)
            _audit(wb, ctx)
            _memos(wb, ctx)
            for out in ctx.writers:
                out.close()
            for writer in [*registered_sheets(), *extra_sheets]:
                writer(wb, store, st)
            titles = [ws.title for ws in wb.worksheets]
            _save(wb, tmp)
        except BaseException:
            _discard(wb, ctx)
            raise
    return WorkbookSummary(path=path, sheets=titles, fragments=n, themes=len(ctx.themes))


def _save(wb, path: Path) -> None:
    """``wb.save(path)`` with a faster zip compression level (see ``ZIP_LEVEL``)."""
    from zipfile import ZIP_DEFLATED, ZipFile

    from openpyxl.writer.excel import ExcelWriter

    with ZipFile(path, "w", ZIP_DEFLATED, allowZip64=True, compresslevel=ZIP_LEVEL) as archive:
        ExcelWriter(wb, archive).save()


def _discard(wb, ctx: _Ctx) -> None:
    """Finish the half-written sheets of a failed export quietly (their temp files are removed)."""
    import contextlib

    for out in ctx.writers:
        with contextlib.suppress(Exception):
            out.discard()
    for ws in wb.worksheets:
        with contextlib.suppress(Exception):
            ws.close()


# ------------------------------------------------------------ comments back in
def import_comments(store, path: str | Path, author: str) -> list[dict]:
    """Read the 'supervisor comments' column of the Theme summary sheet back as theme memos
    (kind 'supervisor'). A comment already stored for that theme by that author is not added twice.
    Returns the memos added: theme key and text."""
    from openpyxl import load_workbook

    from ..errors import InputError

    path = Path(path)
    if not path.exists():
        raise InputError("file not found; export it first with 'qualcode export workbook'.", path=str(path))
    from ..files.guards import guard_archive

    guard_archive(path, "analysis workbook")  # zip bombs, ../ entries, DTDs
    try:
        wb = load_workbook(path, read_only=True, data_only=False)  # a comment typed as "=..." comes back as typed
    except Exception as exc:  # zip or XML damage
        raise InputError(f"cannot read this workbook ({exc}).", path=str(path)) from None
    try:
        if THEME_SUMMARY not in wb.sheetnames:
            raise InputError(f"no sheet '{THEME_SUMMARY}'; use a workbook made by 'qualcode export workbook'.",
                             path=str(path))
        rows = list(wb[THEME_SUMMARY].iter_rows(values_only=True))
    finally:
        wb.close()
    header = [str(h or "").strip().lower() for h in (rows[0] if rows else [])]
    for need in ("theme key", COMMENTS_HEADER):
        if need not in header:
            raise InputError(f"no '{need}' column in the header row.", path=str(path),
                             where=f"sheet '{THEME_SUMMARY}'")
    ki, ci = header.index("theme key"), header.index(COMMENTS_HEADER)
    found = []
    known = {t["key"]: t for t in store.themes()}
    for n, r in enumerate(rows[1:], start=2):
        text = str(r[ci]).strip() if ci < len(r) and r[ci] is not None else ""
        if not text:
            continue
        key = str(r[ki] or "").strip()
        if key not in known:
            from ..errors import close_matches

            raise InputError(f"unknown theme '{key}'.{close_matches(key, known)} Nothing was imported.",
                             path=str(path), where=f"sheet '{THEME_SUMMARY}', cell A{n}")
        found.append((known[key], text))
    added = []
    with store.act("sheet import-comments", actor=author, summary="", details={"file": str(path)}) as act:
        for theme, text in found:
            existing = {m["text"] for m in store.memos("theme", theme["id"], kind="supervisor")
                        if m["author"] == author}
            if text in existing:
                continue
            store.add_memo("theme", theme["id"], text, author, kind="supervisor")
            added.append({"theme": theme["key"], "text": text})
        act.summary = f"{len(added)} supervisor comment(s) from {author} on {len({a['theme'] for a in added})} theme(s)"
        act.details["added"] = len(added)
    return added
