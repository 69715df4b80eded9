"""Small helpers every Excel export shares.

* Text is always written as text: a cell whose value starts with ``=``, ``+``,
  ``-``, ``@``, tab or carriage return is stored with type string, never as a
  formula (OWASP CSV/formula-injection guidance), so a quote such as
  "- ja maar…" reads naturally and cannot run.
* Text passes :func:`qualcode.files.textsafe.xml_text` (characters XML cannot hold are replaced, one for
  one), so a transcript with a stray control character still gives a workbook that opens.
* Styles are created once per workbook and reused.
* Sheets are written row by row (``write_only`` workbooks) so memory stays flat.
"""

from __future__ import annotations

import contextlib
import math
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from ..files.atomic import atomic_output
from ..files.textsafe import ILLEGAL_XML_CHARS, xml_text

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
def write_only_workbook(path) -> Iterator[Any]:
    """A new write-only openpyxl ``Workbook``, saved to ``path`` when the block ends without an error.

    The file is written beside ``path`` and renamed into place (qualcode.files.atomic), and openpyxl's
    per-sheet temporary files (every row until the save) are made in the same private folder and
    removed with it, so a failed or interrupted export leaves the previous file and no text behind."""
    from openpyxl import Workbook

    with atomic_output(Path(path), scratch=True) as tmp:
        wb = Workbook(write_only=True)
        try:
            yield wb
            wb.save(tmp)
        except BaseException:
            close_quietly(wb)
            raise


def close_quietly(wb) -> None:
    """Finish the sheets of a workbook whose export failed, ignoring errors, so openpyxl's half-written
    sheet streams end now (in the private folder) instead of failing noisily when garbage-collected."""
    for ws in wb.worksheets:
        with contextlib.suppress(Exception):
            ws.close()


def hex_fill(colour: str | None):
    from openpyxl.styles import PatternFill

    if not colour:
        return None
    return _fill(colour.lstrip("#").upper())


@lru_cache(maxsize=256)
def _fill(rgb: str):
    from openpyxl.styles import PatternFill

    return PatternFill("solid", start_color="FF" + rgb, end_color="FF" + rgb)


def light(colour: str, amount: float = 0.6) -> str:
    """A lighter tint of '#RRGGBB' (for row fills that keep text readable)."""
    c = colour.lstrip("#")
    rgb = [int(c[i:i + 2], 16) for i in (0, 2, 4)]
    mixed = [round(v + (255 - v) * amount) for v in rgb]
    return "#" + "".join(f"{v:02X}" for v in mixed)


class Styles:
    """Styles made once per workbook."""

    def __init__(self):
        from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

        self.header_font = Font(bold=True, color="FFFFFFFF")
        self.header_fill = PatternFill("solid", start_color="FF1F3A5F", end_color="FF1F3A5F")
        self.bold = Font(bold=True)
        self.wrap = Alignment(wrap_text=True, vertical="top")
        self.top = Alignment(vertical="top")
        self.thin = Border(bottom=Side(style="thin", color="FFBBBBBB"))


def cell(ws, value: Any, *, fill=None, font=None, alignment=None, number_format: str | None = None):
    """A write-only cell whose text can never become a formula."""
    from openpyxl.cell import WriteOnlyCell

    v = clean(value)
    c = WriteOnlyCell(ws, value=v)
    if isinstance(v, str):
        c.data_type = "s"
    if fill is not None:
        c.fill = fill
    if font is not None:
        c.font = font
    if alignment is not None:
        c.alignment = alignment
    if number_format:
        c.number_format = number_format
    return c


def set_text(c, value: Any) -> None:
    """Set a normal (not write-only) cell's value; text stays text."""
    v = clean(value)
    c.value = v
    if isinstance(v, str):
        c.data_type = "s"


def write_table(wb, title: str, header: Sequence[str], rows: Iterable[Sequence[Any]], *,
                widths: Sequence[float] | None = None, wrap_cols: Iterable[int] = (), styles: Styles | None = None,
                row_fills: Iterable | None = None, freeze: str = "A2", autofilter: bool = True):
    """Append a sheet to a write-only workbook: styled header, frozen, filtered, set widths.

    ``row_fills`` (optional) gives a fill (or None) per row, in step with ``rows``.
    """
    from openpyxl.utils import get_column_letter

    st = styles or Styles()
    ws = wb.create_sheet(title=safe_title(title))
    widths = list(widths) if widths else [max(10, min(60, len(h) + 4)) for h in header]
    for i, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = w
    if freeze:
        ws.freeze_panes = freeze
    n = 0
    wraps = set(wrap_cols)
    ws.append([cell(ws, h, font=st.header_font, fill=st.header_fill) for h in header])
    fills = iter(row_fills) if row_fills is not None else None
    for row in rows:
        fill = next(fills) if fills is not None else None
        ws.append([cell(ws, v, fill=fill, alignment=st.wrap if i in wraps else None) for i, v in enumerate(row)])
        n += 1
    if autofilter and header:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(header))}{n + 1}"
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


# ------------------------------------------------------------------ fast streamed rows
class CellStyle:
    """One combination of fill, font, alignment and number format, made once and shared by many
    cells. Compared by identity (make each combination once, e.g. through a dict)."""

    __slots__ = ("fill", "font", "alignment", "number_format")

    def __init__(self, fill=None, font=None, alignment=None, number_format: str | None = None):
        self.fill, self.font, self.alignment, self.number_format = fill, font, alignment, number_format

    def kwargs(self) -> dict:
        return {"fill": self.fill, "font": self.font, "alignment": self.alignment,
                "number_format": self.number_format}


class CellRows:
    """Rows of a write-only sheet as openpyxl cells (one ``WriteOnlyCell`` per value, through
    :func:`cell`). The plain, reference way; :class:`StreamRows` writes the same rows faster."""

    def __init__(self, ws):
        self.ws = ws

    def append(self, values: Sequence[Any], styles: Sequence[CellStyle | None] | None = None) -> None:
        ws = self.ws
        if styles is None:
            ws.append([cell(ws, v) for v in values])
        else:
            ws.append([cell(ws, v, **s.kwargs()) if s is not None else cell(ws, v) for v, s in zip(values, styles)])

    def close(self) -> None:
        """Nothing to do: openpyxl finishes the sheet when the workbook is saved."""

    def discard(self) -> None:
        pass


_NEEDS_CARE = re.compile(f"[&<>\r{ILLEGAL_XML_CHARS}]")
_MAX_TEXT = 32767  # Excel's limit on a cell's text; openpyxl cuts longer text to it as well


class StreamRows:
    """Rows of a write-only sheet serialised straight to SpreadsheetML, without a cell object per
    value: the same XML openpyxl writes for :class:`CellRows` (inline strings, numbers, the same
    style ids), several times faster. Text is always written as text, never as a formula.

    Use it instead of ``ws.append`` for a whole sheet: set widths, panes, filters, conditional
    formats and charts on ``ws`` as usual, append every row here, then :meth:`close` before the
    workbook is saved. openpyxl then writes the sheet around an empty ``<sheetData>`` and the rows
    are put in its place. Values may be str, int, float, bool or None (written as empty text)."""

    def __init__(self, ws):
        import tempfile

        self.ws = ws
        self._fh = tempfile.TemporaryFile()
        self._buf: list[str] = []
        self._row = 0
        self._letters: list[str] = []
        self._sattr: dict[CellStyle | None, str] = {None: ""}

    def _style_attr(self, style: CellStyle) -> str:
        """' s="N"' for a style (registered with the workbook on first use, as openpyxl does)."""
        from openpyxl.cell import WriteOnlyCell

        c = WriteOnlyCell(self.ws)
        if style.fill is not None:
            c.fill = style.fill
        if style.font is not None:
            c.font = style.font
        if style.alignment is not None:
            c.alignment = style.alignment
        if style.number_format:
            c.number_format = style.number_format
        attr = self._sattr[style] = f' s="{c.style_id}"' if c.has_style else ""
        return attr

    def append(self, values: Sequence[Any], styles: Sequence[CellStyle | None] | None = None) -> None:
        """Write one row: ``values`` and, optionally, a style (or None) for each value."""
        self._row += 1
        r = str(self._row)
        letters = self._letters
        if len(values) > len(letters):
            from openpyxl.utils import get_column_letter

            letters.extend(get_column_letter(i) for i in range(len(letters) + 1, len(values) + 1))
        sattr = self._sattr
        parts = [f'<row r="{r}">']
        add = parts.append
        for i, v in enumerate(values):
            if styles is None:
                s = ""
            else:
                s = sattr.get(styles[i])
                if s is None:
                    s = self._style_attr(styles[i])
            if v is None:
                v = ""
            if isinstance(v, str):
                if _NEEDS_CARE.search(v) is not None or len(v) > _MAX_TEXT:
                    v = xml_text(v)[:_MAX_TEXT]
                    esc = v.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
                else:
                    esc = v
                if not v:
                    add(f'<c r="{letters[i]}{r}"{s} t="inlineStr"></c>')
                elif v != v.strip():
                    add(f'<c r="{letters[i]}{r}"{s} t="inlineStr"><is><t xml:space="preserve">{esc}</t></is></c>')
                else:
                    add(f'<c r="{letters[i]}{r}"{s} t="inlineStr"><is><t>{esc}</t></is></c>')
            elif type(v) is int:
                add(f'<c r="{letters[i]}{r}"{s} t="n"><v>{"%.16g" % v}</v></c>')
            else:
                add(self._other_xml(letters[i] + r, s, v, i))
        add("</row>")
        self._buf.append("".join(parts))
        if len(self._buf) >= 2000:
            self._flush()

    def _other_xml(self, ref: str, s: str, v: Any, i: int) -> str:
        from openpyxl.compat.numbers import NUMERIC_TYPES

        if isinstance(v, bool):
            return f'<c r="{ref}"{s} t="b"><v>{int(v)}</v></c>'
        if isinstance(v, NUMERIC_TYPES):
            num = "" if math.isnan(v) or math.isinf(v) else "%.16g" % v
            return f'<c r="{ref}"{s} t="n"><v>{num}</v></c>'
        raise TypeError(f"cannot stream a {type(v).__name__} to a worksheet cell (row {self._row}, column {i + 1})")

    def _flush(self) -> None:
        if self._buf:
            self._fh.write("".join(self._buf).encode("ascii", "xmlcharrefreplace"))
            self._buf.clear()

    def close(self) -> None:
        """Finish the sheet: openpyxl writes it with empty sheet data, then the rows go in."""
        import shutil

        self._flush()
        ws = self.ws
        ws.close()
        path = ws._writer.out  # the sheet's temporary file, which openpyxl copies into the archive
        with open(path, "rb") as fh:
            data = fh.read()
        for empty in (b"<sheetData></sheetData>", b"<sheetData/>", b"<sheetData />"):
            k = data.find(empty)
            if k >= 0:
                break
        else:
            raise RuntimeError(f"openpyxl wrote sheet '{ws.title}' without an empty <sheetData> element")
        with open(path, "wb") as out:
            out.write(data[:k] + b"<sheetData>")
            self._fh.seek(0)
            shutil.copyfileobj(self._fh, out, 1 << 20)
            out.write(b"</sheetData>" + data[k + len(empty):])
        self._fh.close()

    def discard(self) -> None:
        self._buf.clear()
        self._fh.close()
