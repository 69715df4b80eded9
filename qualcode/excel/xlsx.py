"""Small helpers every Excel file shares: the one writer's conveniences and the one reader.

* Every workbook is written by qualcode's own writer (:mod:`.spreadsheetml`), which owns the whole
  file: no other library's internals are involved.
* Text is always written as text: a cell whose value starts with ``=``, ``+``,
  ``-``, ``@``, tab or carriage return is stored with type string, never as a
  formula (OWASP CSV/formula-injection guidance), so a quote such as
  "- ja maar…" reads naturally and cannot run.
* Text passes :func:`qualcode.files.textsafe.xml_text` (characters XML cannot hold are replaced, one for
  one), so a transcript with a stray control character still gives a workbook that opens.
* Styles are plain values (:class:`Fill`, :class:`Font`, :class:`Alignment`, :class:`CellStyle`);
  equal styles share one cell format in the file.
* Sheets are written row by row, so memory stays flat.
* Every user workbook is read by :func:`read_xlsx`: archive checks first (qualcode.files.guards), read-only,
  always closed, rows padded to the same width.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from ..files.atomic import atomic_output
from ..errors import InputError
from ..files.textsafe import xml_text
from .spreadsheetml import (Alignment, BarChart, Border, Cell, CellStyle, Fill, Font, Link, Series, Sheet,
                            Workbook, column_letter, split_ref)

__all__ = ["Alignment", "BarChart", "Border", "Cell", "CellStyle", "Fill", "Font", "Link", "Series", "Sheet",
           "Workbook", "Styles", "XlsxData", "cell", "clean", "column_letter", "csv_safe", "fit_widths", "hex_fill",
           "light", "read_xlsx", "safe_title", "split_ref", "style", "write_only_workbook", "write_table"]

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def clean(value: Any) -> Any:
    """A value Excel can store: characters XML cannot hold replaced (see qualcode.files.textsafe), None as ''."""
    if value is None:
        return ""
    if isinstance(value, str):
        return xml_text(value)
    return value


def csv_safe(value: Any) -> str:
    """Text for a CSV cell: a leading quote mark neutralises formula starts."""
    s = "" if value is None else str(value)
    return "'" + s if s.startswith(FORMULA_START) else s


@contextlib.contextmanager
def write_only_workbook(path, *, title: str | None = None, description: str | None = None,
                        compresslevel: int = 6) -> Iterator[Workbook]:
    """A new :class:`~.spreadsheetml.Workbook`, saved to ``path`` when the block ends without an error.

    The file is written beside ``path`` and renamed into place (qualcode.files.atomic); the sheets' row
    files are made in the same private folder and removed with it, so a failed or interrupted export
    leaves the previous file and no text behind."""
    with atomic_output(Path(path), scratch=True) as tmp:
        wb = Workbook(title=title, description=description, compresslevel=compresslevel)
        try:
            yield wb
        except BaseException:
            wb.discard()
            raise
        wb.save(tmp)


def hex_fill(colour: str | None) -> Fill | None:
    """A solid fill of '#RRGGBB' (None for no colour)."""
    if not colour:
        return None
    return Fill("#" + colour.lstrip("#").upper())


def light(colour: str, amount: float = 0.6) -> str:
    """A lighter tint of '#RRGGBB' (for row fills that keep text readable)."""
    c = colour.lstrip("#")
    rgb = [int(c[i:i + 2], 16) for i in (0, 2, 4)]
    mixed = [round(v + (255 - v) * amount) for v in rgb]
    return "#" + "".join(f"{v:02X}" for v in mixed)


class Styles:
    """The styles every sheet shares."""

    def __init__(self):
        self.header_font = Font(bold=True, colour="#FFFFFF")
        self.header_fill = Fill("#1F3A5F")
        self.bold = Font(bold=True)
        self.wrap = Alignment(wrap_text=True, vertical="top")
        self.top = Alignment(vertical="top")
        self.thin = Border(bottom="#BBBBBB")


def style(fill: Fill | None = None, font: Font | None = None, alignment: Alignment | None = None,
          number_format: str | None = None, border: Border | None = None) -> CellStyle | None:
    """The :class:`CellStyle` of these parts (None when it sets nothing)."""
    if fill is None and font is None and alignment is None and not number_format and border is None:
        return None
    return CellStyle(fill, font, alignment, number_format or None, border)


LINE_HEIGHT = 15.0     # points per line of 11-point text
PORTRAIT_WIDTH = 95    # column width units that fit an A4 page upright; wider sheets print landscape
MAX_ROW_HEIGHT = 409   # Excel's tallest row


def row_height(values: Sequence[Any], wrap_widths: dict[int, float], bold: bool = False) -> float | None:
    """The height (points) a row needs to show its wrapped cells' text whole, or None for one line.
    ``wrap_widths``: column index -> width (characters) of the columns that wrap. An estimate (the
    characters over the characters a line holds, plus one line per line break), erring tall."""
    lines = 1
    n_values = len(values)
    for i, width in wrap_widths.items():
        if i < n_values:
            v = values[i]
            if v.__class__ is str and v:
                per_line = int(max(1.0, width * (1.0 if bold else 1.1)))   # characters of proportional text a line holds
                n = -(-len(v) // per_line) + v.count("\n")
                if n > lines:
                    lines = n
    return None if lines == 1 else min(MAX_ROW_HEIGHT, lines * LINE_HEIGHT + 2)


def cell(value: Any, *, fill: Fill | None = None, font: Font | None = None, alignment: Alignment | None = None,
         number_format: str | None = None) -> Cell:
    """A value with its own style, for ``Sheet.append``; text stays text (never a formula)."""
    return Cell(clean(value), style(fill, font, alignment, number_format))


def write_table(wb: Workbook, title: str, header: Sequence[str], rows: Iterable[Sequence[Any]], *,
                widths: Sequence[float] | None = None, wrap_cols: Iterable[int] = (), styles: Styles | None = None,
                row_fills: Iterable | None = None, freeze: str = "A2", autofilter: bool = True) -> Sheet:
    """Append a sheet: styled header, frozen, filtered, set widths, set up to print one page wide.

    ``row_fills`` (optional) gives a fill (or None) per row, in step with ``rows``.
    """
    st = styles or Styles()
    widths = list(widths) if widths else [max(10, min(60, len(h) + 4)) for h in header]
    ws = wb.add_sheet(safe_title(title), widths=widths, freeze=freeze or None)
    wraps = set(wrap_cols)
    head = style(fill=st.header_fill, font=st.header_font)
    ws.append(list(header), [head] * len(header))
    fills = iter(row_fills) if row_fills is not None else None
    # wrapped columns get rows as tall as their text (readers do not all size rows on opening)
    wrap_widths = {i: widths[i] for i in wraps if i < len(widths)}
    plain: dict = {}
    for row in rows:
        fill = next(fills) if fills is not None else None
        n = len(row)
        key = (fill, n)
        if key not in plain:
            plain[key] = [style(fill=fill, alignment=st.wrap if i in wraps else None) for i in range(n)]
        ws.append(row, plain[key], height=row_height(row, wrap_widths) if wrap_widths else None)
    if autofilter and header:
        ws.autofilter(f"A1:{column_letter(len(header))}{ws.rows}")
    # printed: A4 one page wide, landscape when wider than an upright page, the header row on every page
    ws.print_setup(landscape=sum(widths) > PORTRAIT_WIDTH, fit_width=True, repeat_rows=1 if header else 0,
                   header=ws.title, footer="{page} / {pages}")
    return ws


def safe_title(title: str) -> str:
    """A valid, at most 31-character sheet title."""
    t = re.sub(r"[\[\]\*\?/\\:]", "-", xml_text(title)).strip("'") or "Sheet"
    return t[:31]


def fit_widths(rows: Sequence[Sequence[Any]], header: Sequence[str], *, cap: int = 60, floor: int = 8) -> list[float]:
    """Column widths that fit the content (sampled), capped so long text wraps instead."""
    widths = [len(str(h)) + 2 for h in header]
    for row in rows[:500]:
        for i, v in enumerate(row[:len(widths)]):
            longest = max((len(part) for part in str(v if v is not None else "").split("\n")), default=0)
            widths[i] = max(widths[i], longest + 2)
    return [max(floor, min(cap, w)) for w in widths]


# ------------------------------------------------------------------ the one reader
@dataclass
class SheetData:
    """One sheet as read: ``rows`` of values from row 1 (each as long as the widest row, empty
    cells None); with ``formulas`` the (row from 1, column from 0) of every cell holding a formula;
    with ``merged`` every merged range as (min_row, max_row, min_col, max_col, 'A1:B2'), from 1."""
    title: str
    rows: list[list] = field(default_factory=list)
    formulas: set[tuple[int, int]] = field(default_factory=set)
    merged: list[tuple[int, int, int, int, str]] = field(default_factory=list)


@dataclass
class XlsxData:
    """A workbook as read by :func:`read_xlsx`: its sheet names in order and the sheets asked for."""
    sheetnames: list[str]
    sheets: dict[str, SheetData]

    def __contains__(self, title: str) -> bool:
        return title in self.sheets

    def __getitem__(self, title: str) -> SheetData:
        return self.sheets[title]


def read_xlsx(path: str | Path, what: str = "Excel workbook", *, sheets: Iterable[str | int] | None = None,
              formulas: bool = False, merged: bool = False) -> XlsxData:
    """Read a user's .xlsx: the one way qualcode opens a workbook someone hands it.

    The archive is checked first (:func:`qualcode.files.guards.check_zip`: unsafe paths, zip bombs,
    DTDs), then read with openpyxl read-only and closed on every way out. ``sheets`` names the
    sheets to read (by title, or by position from 0; titles that do not exist are skipped: look in
    ``sheetnames``); None reads them all. Values are the cached results of formulas, unless
    ``formulas`` is set: then a formula cell gives its formula text ('=SUM(A1:A3)') and its place
    is listed in ``SheetData.formulas``. ``merged`` lists merged ranges (read from the sheet's XML
    part, which read-only openpyxl does not report). Raises :class:`InputError` naming ``what`` for
    a missing, damaged or hostile file."""
    from ..files.guards import check_zip

    path = Path(path)
    if not path.exists():
        raise InputError("does not exist", path=str(path))
    check_zip(path, what)
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=not formulas)
    except Exception as exc:  # openpyxl raises many kinds on damaged files
        detail = " ".join(str(exc).split())[:200]
        raise InputError(f"cannot be read as an {what} ({type(exc).__name__}: {detail}); is it an .xlsx file "
                         "saved by Excel or LibreOffice?", path=str(path)) from None
    try:
        names = list(wb.sheetnames)
        wanted = names if sheets is None else [names[s] if isinstance(s, int) else s for s in sheets
                                                if (isinstance(s, int) and -len(names) <= s < len(names))
                                                or (isinstance(s, str) and s in names)]
        out: dict[str, SheetData] = {}
        for title in wanted:
            data = out[title] = SheetData(title)
            ws = wb[title]
            ws.reset_dimensions()   # a stored size can be wrong (some writers put 'A1'): read the rows as written
            if formulas:
                for r_i, row in enumerate(ws.iter_rows(), start=1):
                    values = []
                    for c_i, c in enumerate(row):
                        if getattr(c, "data_type", None) == "f":
                            data.formulas.add((r_i, c_i))
                        values.append(c.value)
                    data.rows.append(values)
            else:
                data.rows = [list(r) for r in ws.iter_rows(values_only=True)]
            width = max((len(r) for r in data.rows), default=0)
            for r in data.rows:
                if len(r) < width:
                    r.extend([None] * (width - len(r)))
    except InputError:
        raise
    except Exception as exc:
        detail = " ".join(str(exc).split())[:200]
        raise InputError(f"cannot be read as an {what} ({type(exc).__name__}: {detail})", path=str(path)) from None
    finally:
        wb.close()
    if merged and out:
        for title, ranges in _merged_ranges(path, list(out)).items():
            out[title].merged = ranges
    return XlsxData(names, out)


def _merged_ranges(path: Path, titles: list[str]) -> dict[str, list[tuple[int, int, int, int, str]]]:
    """The merged ranges of the named sheets, from their XML parts (found through workbook.xml and
    its relationships). The archive has passed check_zip; parts are parsed with defusedxml."""
    import posixpath
    import zipfile

    from ..files.guards import parse_xml, read_zip_member

    found: dict[str, list] = {}
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())

        def part(name: str):
            return parse_xml(read_zip_member(zf, name), str(path), "workbook part", local_names=True)

        wb_name = "xl/workbook.xml"
        for rel in part("_rels/.rels").iter("Relationship"):
            if rel.get("Type", "").endswith("/officeDocument"):
                wb_name = rel.get("Target", wb_name).lstrip("/")
        base = posixpath.dirname(wb_name)
        rels_name = posixpath.join(base, "_rels", posixpath.basename(wb_name) + ".rels")
        targets = {r.get("Id"): r.get("Target", "") for r in part(rels_name).iter("Relationship")}
        for sheet in part(wb_name).iter("sheet"):
            title = sheet.get("name")
            rid = next((v for k, v in sheet.attrib.items() if k == "id"), None)
            target = targets.get(rid or "", "")
            name = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(base, target))
            if title not in titles or name not in names:
                continue
            ranges = []
            for m in part(name).iter("mergeCell"):
                ref = m.get("ref", "")
                if ":" not in ref:
                    continue
                (r1, c1), (r2, c2) = (split_ref(x) for x in ref.split(":"))
                ranges.append((min(r1, r2), max(r1, r2), min(c1, c2), max(c1, c2), ref))
            found[title] = ranges
    return found
