"""The analysis workbook (step 6): twelve sheets that mirror the reference study's Excel method.

1 Codebook · 2 Coded fragments · 3 By theme · 4 Theme summary · 5 Quotes ·
6 Matrices (theme × group, theme × participant, native charts) · 7 Framework matrix ·
8 Co-occurrence · 9 Counts by attribute · 10 Participants · 11 Audit log · 12 Memos.

It shows one analysis: the codings of the coders :func:`qualcode.coding.coders.resolve_coders`
chooses (``--coder``; default the project's analyst; rule matches only when asked for). Every
sheet name, header and label comes from the project language's catalogue
(:mod:`qualcode.reports.catalogues`). Every sheet is set up for printing: A4, landscape when wide,
fitted to the page width, its header row repeated on each page, rows with wrapped text given a
height that shows the text (LibreOffice and Excel), page numbers in the footer.

The workbook is written by qualcode's own writer (:mod:`.spreadsheetml`): rows stream
from the store to the file one at a time, serialised straight to XML, and styles are made
once (``Styles``, the per-theme fills and one ``CellStyle`` per combination), so memory
stays flat for large projects. Text always goes through :mod:`.xlsx`, so a quote that
starts with ``=`` or ``-`` stays text.

Other areas add sheets without editing this module::

    from qualcode.excel.analysis import register_sheet

    @register_sheet
    def write_agreement(wb, store, styles):   # wb: a spreadsheetml.Workbook
        ws = wb.add_sheet("Agreement")        # or xlsx.write_table(wb, ...)
        ...

Writers run after the standard sheets, in registration order, when the workbook shows two or more
coders' codings (comparing coders is what they add). Modules named in
``PLUGIN_MODULES`` are imported (when they exist) before writing, so their
``register_sheet`` calls take effect without any other import; ``write_workbook``
also takes ``extra_sheets=[...]`` for one-off writers.
"""

from __future__ import annotations

import importlib
import json
import math
import re
from dataclasses import dataclass, field
from itertools import chain, islice
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from ..store.core import exported
from ..files.textsafe import xml_text
from ..reports.catalogues import catalogue
from ..reports.quotes import cite, rank_by_typicality, report_quotes, shorten, short_quote
from .xlsx import (PORTRAIT_WIDTH, Alignment, BarChart, CellStyle, Font, Series, Styles, column_letter, fit_widths,
                   hex_fill, light, read_xlsx, row_height, safe_title, write_only_workbook)

SheetWriter = Callable[[Any, Any, Styles], None]
_EXTRA_SHEETS: list[SheetWriter] = []
PLUGIN_MODULES = ("qualcode.agreement.workbook",)

SHEET_KEYS = ("sheet_codebook", "sheet_fragments", "sheet_by_theme", "sheet_summary", "sheet_quotes",
              "sheet_matrices", "sheet_framework", "sheet_cooccurrence", "sheet_counts", "sheet_participants",
              "sheet_audit", "sheet_memos")
SHEETS = tuple(catalogue("en")[k] for k in SHEET_KEYS)   # the English names (a Dutch project's: its own)
THEME_SUMMARY = "Theme summary"
COMMENTS_HEADER = "supervisor comments"
N_SUMMARY_QUOTES = 3
ZIP_LEVEL = 1   # deflate level of the .xlsx: 1 zips a large workbook ~3x faster than level 6, ~20% larger
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
    whose: str = ""

    def lines(self) -> list[str]:
        out = [self.whose] if self.whose else []
        out.append(f"wrote {self.path}: {len(self.sheets)} sheets, {self.themes} themes, "
                   f"{self.fragments} coded fragment rows")
        continued = [t for t in self.sheets if re.search(r" \(\d+\)$", t)]
        if continued:
            out.append(f"more rows than an Excel sheet holds ({MAX_SHEET_ROWS:,}); continued in: "
                       + ", ".join(continued))
        return out


class _Ctx:
    """What every sheet writer shares: the store, styles made once, theme fills, quote rankings."""

    def __init__(self, store, styles: Styles, coders=None):
        from ..coding.coders import resolve_coders

        self.store = store
        self.whose = resolve_coders(store, coders)
        self.who = list(self.whose.coders)
        self.L = catalogue(store.language)
        self.st = styles
        self._styles: dict[tuple, CellStyle | None] = {}
        self._keep: list = []
        self.themes = store.themes()
        self.spread = store.theme_spread(self.who)
        self.theme_fill = {t["id"]: hex_fill(t["colour"]) for t in self.themes}
        self.theme_light = {t["id"]: hex_fill(light(t["colour"], 0.65)) for t in self.themes}
        self.title_font = Font(bold=True, size=13)
        self.center = Alignment(horizontal="center", vertical="top")
        self.language = store.language
        self._ranked: dict[int, list] = {}
        self._docs: dict[int, str] = {}   # segment id -> content lemmas, shared by the themes' rankings
        self.attrs = store.attribute_names(include_identifying=False)
        self.people = store.participants(include_identifying=False)
        self.project = store.meta("name") or Path(store.path).stem
        self._quotes: dict | None = None

    def quotes(self) -> dict[int, list[dict]]:
        """theme id -> the report's quotes of the theme (qualcode.reports.quotes.report_quotes)."""
        if self._quotes is None:
            self._quotes = report_quotes(self.store, self.themes, None, N_SUMMARY_QUOTES, ranked=self.ranked)
        return self._quotes

    def pins(self) -> dict[str, set[int]]:
        from ..reports.quotes import pinned_segments

        return pinned_segments(self.store)

    def ranked(self, theme_id: int) -> list[tuple[dict, float]]:
        """The theme's participant fragments, most typical first, without their text (kept small for
        large projects; fetch text with :meth:`texts`)."""
        if theme_id not in self._ranked:
            from ..text.lemmas import load

            ranked = rank_by_typicality(self.store.theme_fragments(theme_id, self.who), self.language,
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

    def texts(self, rows: Iterable[dict]) -> dict[tuple[int, int, int], str]:
        """Ranked fragment id -> its words (a whole segment's text, or the coded part of it)."""
        return self.store.unit_texts(r["id"] for r in rows)


# ------------------------------------------------------------------ helpers
def _sheet(wb, ctx: "_Ctx", title: str, widths: Sequence[float], freeze: str | None = "A2",
           title_rows: bool = True):
    """A new sheet with column widths, frozen panes and print set-up (:func:`_print_setup`), and where
    its rows go (the sheet itself)."""
    ws = wb.add_sheet(safe_title(title), widths=widths, freeze=freeze)
    _print_setup(ws, ctx, widths, title_rows)
    return ws, ws




def _print_setup(ws, ctx: "_Ctx", widths: Sequence[float], title_rows: str | None) -> None:
    """A4, landscape when the columns are wider than a portrait page, fitted to one page wide (as many
    pages tall as needed), ``title_rows`` repeated on every page, the project and sheet in the page
    header and 'page N of M' in the footer."""
    ws.print_setup(landscape=sum(widths) > PORTRAIT_WIDTH, fit_width=True, repeat_rows=1 if title_rows else 0,
                   margins=(0.4, 0.4, 0.6, 0.6),
                   header=ctx.L["page_header"].format(project=ctx.project, sheet=ws.title),
                   footer=ctx.L["page_footer"].format(page="{page}", pages="{pages}"), header_size=8)


class _Paged:
    """Rows of one table over as many sheets as it needs: after :data:`MAX_SHEET_ROWS` rows the table
    goes on in a new sheet 'Title (2)' (then '(3)', ...) made by ``new_sheet(k)``, which starts with
    the table's first row (its header) again. ``sheets`` holds (worksheet, rows written) per sheet."""

    def __init__(self, ws, out, new_sheet):
        self.new_sheet = new_sheet
        self.sheets: list[list] = [[ws, 0]]
        self._out = out
        self._first: tuple | None = None

    def append(self, values, styles=None, height: float | None = None) -> None:
        """Append a row; ``height`` (points) sets its height (None: one line)."""
        if self._first is None:
            self._first = (list(values), styles)
        elif self.sheets[-1][1] >= MAX_SHEET_ROWS:
            ws, self._out = self.new_sheet(len(self.sheets) + 1)
            self.sheets.append([ws, 0])
            self._put(*self._first)
        self._put(values, styles, height)

    def _put(self, values, styles, height: float | None = None) -> None:
        self._out.append(values, styles, height=height or None)
        self.sheets[-1][1] += 1


def _paged_sheet(wb, ctx: "_Ctx", title: str, widths: Sequence[float], freeze: str | None = "A2",
                 title_rows: bool = True):
    """:func:`_sheet` for a table that may pass Excel's row limit (see :class:`_Paged`)."""
    ws, out = _sheet(wb, ctx, title, widths, freeze, title_rows)
    return ws, _Paged(ws, out, lambda k: _sheet(wb, ctx, f"{safe_title(title)[:26]} ({k})", widths, freeze,
                                                title_rows))


def _header(out, ctx: "_Ctx", header: Sequence[str], widths: Sequence[float] | None = None) -> None:
    """The header row (wrapped, tall enough for its longest name when ``widths`` are given)."""
    st = ctx.st
    styles = [ctx.style(fill=st.header_fill, font=st.header_font, alignment=st.wrap)] * len(header)
    if widths is not None and isinstance(out, _Paged):
        out.append(header, styles, row_height(header, dict(enumerate(widths)), bold=True))
    else:
        out.append(header, styles)


def _table(wb, ctx: _Ctx, title: str, header: Sequence[str], rows: Iterable[tuple[Sequence[Any], Any]], *,
           wrap_cols: Iterable[int] = (), exact_fill_col: int | None = None, colour_col: int | None = None,
           caps: dict[int, int] | None = None, number_formats: dict[int, str] | None = None,
           widths: dict[int, float] | None = None):
    """A filtered, frozen sheet from ``(values, theme_id)`` rows; rows with a theme get its light fill
    and ``exact_fill_col`` gets the theme's own colour; ``colour_col`` is filled with the colour it names.
    Widths fit the first 300 rows, except the columns given in ``widths`` (column index -> width)."""
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
    _header(out, ctx, header, fitted)
    row_styles: dict[tuple, list] = {}   # (theme id, number of values) -> a style per column

    def styles_for(tid, n: int) -> list:
        key = (tid, n)
        if key not in row_styles:
            fill = ctx.theme_light.get(tid)
            row_styles[key] = [ctx.style(fill=ctx.theme_fill.get(tid) if i == exact_fill_col else fill,
                                         alignment=st.wrap if i in wraps else st.top, number_format=nf.get(i))
                               for i in range(n)]
        return row_styles[key]

    wrap_widths = {i: fitted[i] for i in wraps if i < len(fitted)}
    for values, tid in chain(head, it):
        styles = styles_for(tid, len(values))
        if colour_col is not None and colour_col < len(values) and values[colour_col]:
            styles = list(styles)
            styles[colour_col] = ctx.style(fill=hex_fill(values[colour_col]),
                                           alignment=st.wrap if colour_col in wraps else st.top,
                                           number_format=nf.get(colour_col))
        out.append(values, styles, row_height(values, wrap_widths))
    for sheet, n_rows in out.sheets:
        sheet.autofilter(f"A1:{column_letter(len(header))}{n_rows}")
    return ws


def _heat(ws, ref: str) -> None:
    ws.colour_scale(ref, start_colour="#FFFFFF", end_colour="#E8743B", start_value=0)


# ------------------------------------------------------------------ sheets
def _codebook(wb, ctx: _Ctx) -> None:
    L = ctx.L
    header = [L[k] for k in ("h_type", "h_key", "h_name", "h_theme", "h_colour", "h_status", "h_description",
                             "h_include", "h_exclude", "h_fragments", "h_codings")]
    status = L["status_names"]

    def rows():
        codes_by_theme: dict = {}
        for c in ctx.store.codes(coders=ctx.who):
            codes_by_theme.setdefault(c["theme_id"], []).append(c)
        for t in ctx.themes:
            sp = ctx.spread.get(t["id"], {})
            yield ([L["v_theme"], t["key"], t["name"], t["name"], t["colour"], status.get(t["status"], t["status"]),
                    t["description"], "", "", sp.get("fragments", 0), sp.get("codings", 0)], t["id"])
            for c in codes_by_theme.get(t["id"], []):
                yield ([L["v_code"], c["key"], c["name"], t["name"], c["display_colour"], "", c["description"],
                        c["include"], c["exclude"], c["n_segments"], c["n_codings"]], t["id"])
        for c in codes_by_theme.get(None, []):
            yield ([L["v_code"], c["key"], c["name"], "", c["display_colour"] or "", "", c["description"],
                    c["include"], c["exclude"], c["n_segments"], c["n_codings"]], None)

    _table(wb, ctx, L["sheet_codebook"], header, rows(), wrap_cols=(2, 3, 6, 7, 8), exact_fill_col=3,
           colour_col=4, caps={2: 30, 3: 30, 6: 50, 7: 40, 8: 40})


_FRAGMENT_HEADER = ["key", "group", "participant", "source", "segment", "segment id", "theme", "code", "code name",
                    "coder", "origin", "fragment"]
_FRAGMENT_KEYS = ("h_key", "h_group", "h_participant", "h_source", "h_segment", "h_segment_id", "h_theme", "h_code",
                  "h_code_name", "h_coder", "h_origin", "h_fragment")


def _fragment_values(r) -> list:
    return [f"({r['key']})", r["group_label"], r["participant"] or r["speaker"], r["source"], r["ordinal"],
            r["segment_id"], r["theme_name"] or "", r["code"], r["code_name"], r["coder"], r["origin"], r["text"]]


def _fragments(wb, ctx: _Ctx) -> int:
    count = 0

    def rows():
        nonlocal count
        for r in ctx.store.iter_coded_fragments("transcript", as_dict=False, coders=ctx.who):
            count += 1
            yield _fragment_values(r), r["theme_id"]

    _table(wb, ctx, ctx.L["sheet_fragments"], [ctx.L[k] for k in _FRAGMENT_KEYS], rows(), wrap_cols=(6, 8, 11),
           exact_fill_col=6, caps={6: 24, 8: 24, 11: 80})
    return count


def _by_theme(wb, ctx: _Ctx) -> None:
    """Fragments grouped by theme then code: a colour band per theme, a subtotal row per code and theme."""
    st, L = ctx.st, ctx.L
    widths = [11, 6, 14, 24, 9, 80, 10, 10]
    ws, out = _paged_sheet(wb, ctx, L["sheet_by_theme"], widths)
    header = [L[k] for k in ("h_key", "h_group", "h_code", "h_code_name", "h_segment_id", "h_fragment", "h_coder",
                             "h_origin")]
    _header(out, ctx, header, widths)
    bold = Font(bold=True)
    names = {t["id"]: t["name"] for t in ctx.themes}
    row_styles: dict = {}
    wrap_widths = {3: widths[3], 5: widths[5]}

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
            row_styles[tid] = [ctx.style(fill=fill, alignment=st.wrap if i in (3, 5) else st.top)
                               for i in range(len(header))]
        return row_styles[tid]

    def total(tid, n):
        return L["total_theme"].format(theme=names.get(tid, L["no_theme"]))

    cur_theme, cur_code, n_code, theme_segs = object(), None, 0, set()
    for r in ctx.store.iter_coded_fragments("theme", as_dict=False, coders=ctx.who):
        code, tid = r["code"], r["theme_id"]
        if code != cur_code and cur_code is not None:
            subtotal(cur_theme, L["subtotal"].format(code=cur_code), n_code)
        if tid != cur_theme:
            if cur_code is not None:
                subtotal(cur_theme, total(cur_theme, len(theme_segs)), len(theme_segs))
            cur_theme, theme_segs = tid, set()
            band(cur_theme, r["theme_name"] or L["no_theme"])
        if code != cur_code:
            cur_code, n_code = code, 0
        n_code += 1
        theme_segs.add(r["segment_id"])
        values = [f"({r['key']})", r["group_label"], code, r["code_name"], r["segment_id"], r["text"],
                  r["coder"], r["origin"]]
        out.append(values, styles_for(tid), row_height(values, wrap_widths))
    if cur_code is not None:
        subtotal(cur_theme, L["subtotal"].format(code=cur_code), n_code)
        subtotal(cur_theme, total(cur_theme, len(theme_segs)), len(theme_segs))


def _summary(wb, ctx: _Ctx) -> None:
    L = ctx.L
    header = [L[k] for k in ("h_theme_key", "h_theme", "h_status", "h_definition", "h_key_messages", "h_fragments",
                             "h_groups", "h_participants", "h_quotes", "h_comments")]
    quotes = ctx.quotes()

    def rows():
        for t in ctx.themes:
            sp = ctx.spread.get(t["id"], {})
            yield ([t["key"], t["name"], L["status_names"].get(t["status"], t["status"]), t["definition"],
                    "\n".join(f"• {m}" for m in t["key_messages"]), sp.get("fragments", 0), sp.get("groups", 0),
                    sp.get("participants", 0), "\n\n".join(cite(q["quote"], q["key"]) for q in quotes[t["id"]]),
                    ""], t["id"])

    # widths are fixed before the first row: a write-only sheet writes its columns with that row
    _table(wb, ctx, L["sheet_summary"], header, rows(), wrap_cols=(1, 3, 4, 8, 9), exact_fill_col=1,
           widths={0: 14, 1: 22, 2: 11, 3: 40, 4: 45, 5: 10, 6: 8, 7: 10, 8: 70, 9: 30})


def _quotes(wb, ctx: _Ctx) -> None:
    """Every participant fragment per theme, most typical first (pinned ones first), as citable quotes."""
    st, L = ctx.st, ctx.L
    header = [L["h_rank"], L["h_quote"], L["h_key"], L["h_group"], L["h_participant"], *ctx.attrs,
              L["h_segment_id"], L["h_pinned"]]
    widths = [6, 80, 10, 7, 11, *[12] * len(ctx.attrs), 10, 9]
    ws, out = _paged_sheet(wb, ctx, L["sheet_quotes"], widths, freeze="A2")
    pattrs = {p["id"]: p for p in ctx.people}
    top, wrap = ctx.style(alignment=st.top), ctx.style(alignment=st.wrap)
    styles = [top, wrap] + [top] * (len(header) - 2)
    pins = ctx.pins()
    _header(out, ctx, header, widths)
    wrap_widths = {1: widths[1]}
    for t in ctx.themes:
        fill = ctx.theme_fill[t["id"]]
        out.append([t["name"]] + [""] * (len(header) - 1),
                   [ctx.style(fill=fill, font=ctx.title_font)] + [ctx.style(fill=fill)] * (len(header) - 1))
        pinned = pins.get(t["key"], set())
        ranked = ctx.ranked(t["id"])
        ranked = [p for p in ranked if p[0]["segment_id"] in pinned] + [
            p for p in ranked if p[0]["segment_id"] not in pinned]
        for k in range(0, len(ranked), 500):
            chunk = ranked[k:k + 500]
            text = ctx.texts(s for s, _ in chunk)
            for i, (s, _score) in enumerate(chunk, start=k + 1):
                p = pattrs.get(s["participant_id"], {})
                values = [i, cite(shorten(text[s["id"]], s["fragment"]), s["key"]), f"({s['key']})", s["group"],
                          s["participant"], *[p.get(a, "") for a in ctx.attrs], s["segment_id"],
                          L["yes"] if s["segment_id"] in pinned else ""]
                out.append(values, styles, row_height(values, wrap_widths))
        if not ranked:
            out.append(["", L["no_fragments"]])


def _matrices(wb, ctx: _Ctx) -> None:
    st, store, L = ctx.st, ctx.store, ctx.L
    groups = store.groups()
    people = [p for p in ctx.people]
    by_group = store.theme_by_group(ctx.who)
    by_person = store.theme_by_participant(ctx.who)
    width_cols = max(len(groups) + 2, len(people) + 1)
    name_width = min(50, max([len(t["name"]) for t in ctx.themes] + [12]) + 2)
    ws, out = _sheet(wb, ctx, L["sheet_matrices"], [name_width] + [8] * (width_cols - 1), freeze="B1",
                     title_rows=False)
    themes = ctx.themes
    nt = len(themes)
    title = ctx.style(font=ctx.title_font)
    row = 0   # rows written so far

    def put(values, styles=None):
        nonlocal row
        out.append(values, styles)
        row += 1

    # block 1: theme × group (rows 1 title, 2 header, 3.. themes)
    put([L["m_group"]], [title])
    _header(out, ctx, [L["h_theme"], *groups, L["h_total"]])
    row += 1
    first = row + 1
    for t in themes:
        vals = [by_group.get((t["id"], g), 0) for g in groups]
        put([t["name"], *vals, ctx.spread.get(t["id"], {}).get("fragments", 0)],
            [ctx.style(fill=ctx.theme_fill[t["id"]])] + [None] * len(vals) + [ctx.style(font=st.bold)])
    if nt and groups:
        _heat(ws, f"B{first}:{column_letter(len(groups) + 1)}{first + nt - 1}")

    # native charts to the right of block 1
    # a horizontal bar per theme needs about 0.9 cm for its wrapped label to be drawn
    theme_chart_cm = max(7.5, 3.0 + 0.9 * nt)
    if nt:
        total_col = len(groups) + 2
        ws.add_chart(BarChart(L["chart_theme"], [Series(total_col, 3, nt + 2, title_row=2,
                                                        colours=[t["colour"] for t in themes])],
                              category_column=1, anchor=f"{column_letter(total_col + 2)}1", horizontal=True,
                              legend=False, width_cm=13, height_cm=theme_chart_cm))
        if 0 < len(groups) <= MAX_CHART_GROUPS:
            ws.add_chart(BarChart(L["chart_group"], [Series(c, 3, nt + 2, title_row=2)
                                                     for c in range(2, len(groups) + 2)],
                                  category_column=1, anchor=f"{column_letter(total_col + 11)}1",
                                  horizontal=False, width_cm=15, height_cm=7.5))
    # keep the next block below the charts (a row is about 0.5 cm tall)
    while row < 2 + math.ceil(theme_chart_cm / 0.5):
        put([])
    put([])
    # block 2: theme × participant
    put([L["m_participant"]], [title])
    _header(out, ctx, [L["h_theme"], *[p["key"] for p in people]])
    row += 1
    first = row + 1
    for t in themes:
        put([t["name"], *[by_person.get((t["id"], p["id"]), 0) for p in people]],
            [ctx.style(fill=ctx.theme_fill[t["id"]])] + [None] * len(people))
    if nt and people:
        _heat(ws, f"B{first}:{column_letter(len(people) + 1)}{first + nt - 1}")


def _framework(wb, ctx: _Ctx) -> None:
    """The framework matrix: a row per participant, a column per theme, in each cell that participant's
    most typical fragment of the theme (shortened), wrapped, with a row height that shows it."""
    st, L = ctx.st, ctx.L
    themes = ctx.themes
    widths = [10] + [34] * len(themes)
    ws, out = _paged_sheet(wb, ctx, L["sheet_framework"], widths, freeze="B2")
    _header(out, ctx, [L["h_participant"], *[t["name"] for t in themes]], widths)
    best: dict[tuple[int, int], list] = {}   # (participant, theme) -> [most typical fragment id, count]
    for t in themes:
        for s, _score in ctx.ranked(t["id"]):
            best.setdefault((s["participant_id"], t["id"]), [s["id"], 0])[1] += 1
    styles = [ctx.style(font=st.bold, alignment=st.top)] + [ctx.style(alignment=st.wrap)] * len(themes)
    wrap_widths = {i + 1: widths[i + 1] for i in range(len(themes))}
    for p in ctx.people:
        mine = {t["id"]: best[(p["id"], t["id"])] for t in themes if (p["id"], t["id"]) in best}
        if not mine:
            continue
        text = ctx.store.unit_texts(v[0] for v in mine.values())
        vals = []
        for t in themes:
            sid, n = mine.get(t["id"], (None, 0))
            vals.append(short_quote(text[sid], 160) + (" " + L["more"].format(n=n - 1) if n > 1 else "") if sid else "")
        values = [p["key"], *vals]
        out.append(values, styles, row_height(values, wrap_widths))


def _cooccurrence(wb, ctx: _Ctx) -> None:
    st, L = ctx.st, ctx.L
    codes = ctx.store.codes(coders=ctx.who)
    co = ctx.store.code_cooccurrence(ctx.who)
    ws, out = _sheet(wb, ctx, L["sheet_cooccurrence"], [24, 20] + [8] * len(codes), freeze="C2")
    _header(out, ctx, [L["h_code"], L["h_theme"], *[c["key"] for c in codes]])
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
        _heat(ws, f"C2:{column_letter(len(codes) + 2)}{len(codes) + 1}")
    out.append([])
    out.append([L["co_note"]])


def _counts(wb, ctx: _Ctx) -> None:
    """Coded fragments per theme and value of each participant attribute that identifies nobody
    (as ``qualcode counts --by theme,ATTRIBUTE``), one heat-mapped block per attribute."""
    from ..store.segments import natural_key

    st, L, store = ctx.st, ctx.L, ctx.store
    blocks = []
    counts: dict[str, dict[tuple[str, str], int]] = {}
    for a, value, theme, n in store.theme_counts_by_attribute(ctx.who):
        counts.setdefault(a, {})[(value, theme)] = n
    for a in ctx.attrs:
        cell = counts.get(a, {})
        blocks.append((a, sorted({v for v, _ in cell}, key=natural_key), cell))
    most = max([len(v) for _, v, _ in blocks] + [1])
    name_width = min(50, max([len(t["name"]) for t in ctx.themes] + [12]) + 2)
    ws, out = _sheet(wb, ctx, L["sheet_counts"], [name_width] + [12] * (most + 1), freeze="B1", title_rows=False)
    title = ctx.style(font=ctx.title_font)
    row = 0
    if not blocks:
        out.append([L["counts_none"]])
    for a, values, cell in blocks:
        out.append([L["counts_title"].format(attribute=a)], [title])
        _header(out, ctx, [L["h_theme"], *[v or "(–)" for v in values], L["h_total"]])
        row += 2
        first = row + 1
        for t in ctx.themes:
            vals = [cell.get((v, t["key"]), 0) for v in values]
            out.append([t["name"], *vals, sum(vals)],
                       [ctx.style(fill=ctx.theme_fill[t["id"]])] + [None] * len(vals) + [ctx.style(font=st.bold)])
            row += 1
        if ctx.themes and values:
            _heat(ws, f"B{first}:{column_letter(len(values) + 1)}{first + len(ctx.themes) - 1}")
        out.append([])
        row += 1


def _participants(wb, ctx: _Ctx) -> None:
    L = ctx.L
    talk = ctx.store.participant_talk(ctx.who)
    header = [L["h_key"], L["h_group"], L["h_participant"], *ctx.attrs, L["h_turns"], L["h_words"], L["h_share"],
              L["h_coded"]]
    share_col = 3 + len(ctx.attrs) + 2

    def rows():
        for p in ctx.people:
            t = talk.get(p["id"], {})
            yield ([p["key"], p["group"], p["label"], *[p.get(a, "") for a in ctx.attrs], t.get("turns", 0),
                    t.get("words", 0), round(t.get("share", 0.0), 4), t.get("coded", 0)], None)

    _table(wb, ctx, L["sheet_participants"], header, rows(), number_formats={share_col: "0.0%"})


def _audit(wb, ctx: _Ctx) -> None:
    L = ctx.L
    header = [L[k] for k in ("h_number", "h_at", "h_actor", "h_command", "h_summary", "h_details", "h_undoable",
                             "h_undone")]

    def rows():
        for a in reversed(ctx.store.history()):
            yield ([a["id"], a["at"], a["actor"], a["command"], a["summary"],
                    json.dumps(a["details"], ensure_ascii=False), L["yes"] if a["undoable"] else L["no"],
                    a["undone_at"] or ""], None)

    _table(wb, ctx, L["sheet_audit"], header, rows(), wrap_cols=(4, 5), caps={4: 50, 5: 50})


def _memos(wb, ctx: _Ctx) -> None:
    L = ctx.L
    header = [L[k] for k in ("h_number", "h_created", "h_author", "h_kind", "h_about", "h_target", "h_memo")]
    theme_ids = {t["name"]: t["id"] for t in ctx.themes}

    def rows():
        for m in ctx.store.memos_with_targets():
            tid = theme_ids.get(m["target_label"]) if m["target_type"] == "theme" else None
            yield ([m["id"], m["created_at"], m["author"], L["memo_kinds"].get(m["kind"], m["kind"]),
                    L["target_types"].get(m["target_type"], m["target_type"]), m["target_label"] or "", m["text"]], tid)

    _table(wb, ctx, L["sheet_memos"], header, rows(), wrap_cols=(5, 6), caps={5: 30, 6: 80})


SHEET_WRITERS = (_codebook, _fragments, _by_theme, _summary, _quotes, _matrices, _framework, _cooccurrence, _counts,
                 _participants, _audit, _memos)


@exported
def write_workbook(store, path: str | Path, *, extra_sheets: Iterable[SheetWriter] = (),
                   coders=None, progress=None) -> WorkbookSummary:
    """Write the analysis workbook (twelve sheets, plus registered and ``extra_sheets`` writers) to ``path``,
    from the codings of ``coders`` (see qualcode.coding.coders.resolve_coders; default the analyst's).
    ``progress``: a callback ``progress(items, label)`` (qualcode.cli.progress) or None."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    st = Styles()
    ctx = _Ctx(store, st, coders=coders)
    state = store.as_of()  # the moment the export's snapshot shows (File > Info in Excel)
    # written beside the target and renamed into place; the sheets' row files (every row, so full
    # quotes) live in the same private folder and go with it (qualcode.files.atomic)
    with write_only_workbook(path, title=xml_text(ctx.L["wb_title"].format(name=ctx.project)),
                             description=xml_text(ctx.L["wb_description"].format(**state) + " "
                                                  + ctx.whose.describe(ctx.L)),
                             compresslevel=ZIP_LEVEL) as wb:
        n = 0
        for write in SHEET_WRITERS if progress is None else progress(SHEET_WRITERS, "writing sheets"):
            written = write(wb, ctx)
            if write is _fragments:
                n = written
        extra = registered_sheets() if len(ctx.who) >= 2 else []
        for writer in [*extra, *extra_sheets]:
            writer(wb, store, st)
        titles = list(wb.sheetnames)
    return WorkbookSummary(path=path, sheets=titles, fragments=n, themes=len(ctx.themes), whose=ctx.whose.describe())


# ------------------------------------------------------------ comments back in
def import_comments(store, path: str | Path, author: str) -> list[dict]:
    """Read the 'supervisor comments' column of the Theme summary sheet back as theme memos
    (kind 'supervisor'). A comment already stored for that theme by that author is not added twice.
    Returns the memos added: theme key and text."""
    from ..errors import InputError
    from ..reports.catalogues import all_catalogues

    path = Path(path)
    if not path.exists():
        raise InputError("file not found; export it first with 'qualcode export workbook'.", path=str(path))
    names = all_catalogues().values()
    candidates = list(dict.fromkeys([THEME_SUMMARY, *(L["sheet_summary"] for L in names)]))
    # a comment typed as "=..." comes back as typed (formulas as their text)
    book = read_xlsx(path, "analysis workbook", sheets=candidates, formulas=True)
    sheet = next((n for n in candidates if n in book), None)
    if sheet is None:
        raise InputError(f"no sheet '{THEME_SUMMARY}'; use a workbook made by 'qualcode export workbook'.",
                         path=str(path))
    rows = book[sheet].rows
    header = [str(h or "").strip().lower() for h in (rows[0] if rows else [])]
    columns = []
    for need in ("h_theme_key", "h_comments"):
        found_at = [header.index(L[need]) for L in names if L[need] in header]
        if not found_at:
            english = {"h_theme_key": "theme key", "h_comments": COMMENTS_HEADER}[need]
            raise InputError(f"no '{english}' column in the header row.", path=str(path), where=f"sheet '{sheet}'")
        columns.append(found_at[0])
    ki, ci = columns
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
                             path=str(path), where=f"sheet '{sheet}', cell A{n}")
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
