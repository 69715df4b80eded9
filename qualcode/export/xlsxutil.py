"""Small helpers every Excel export shares.

* Text is always written as text: a cell whose value starts with ``=``, ``+``,
  ``-``, ``@``, tab or carriage return is stored with type string, never as a
  formula (OWASP CSV/formula-injection guidance), so a quote such as
  "- ja maar…" reads naturally and cannot run.
* Styles are created once per workbook and reused.
* Sheets are written row by row (``write_only`` workbooks) so memory stays flat.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Iterable, Sequence

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def clean(value: Any) -> Any:
    """A value Excel can store: illegal control characters removed, None as ''."""
    if value is None:
        return ""
    if isinstance(value, str):
        return _ILLEGAL.sub("", value)
    return value


def csv_safe(value: Any) -> str:
    """Text for a CSV cell: a leading quote mark neutralises formula starts."""
    s = "" if value is None else str(value)
    return "'" + s if s.startswith(FORMULA_START) else s


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
    t = re.sub(r"[\[\]\*\?/\\:]", "-", title).strip("'") or "Sheet"
    return t[:31]


def fit_widths(rows: Sequence[Sequence[Any]], header: Sequence[str], *, cap: int = 60, floor: int = 8) -> list[float]:
    """Column widths that fit the content (sampled), capped so long text wraps instead."""
    widths = [len(str(h)) + 2 for h in header]
    for row in rows[:500]:
        for i, v in enumerate(row[:len(widths)]):
            longest = max((len(part) for part in str(v if v is not None else "").split("\n")), default=0)
            widths[i] = max(widths[i], longest + 2)
    return [max(floor, min(cap, w)) for w in widths]
