"""qualcode's own .xlsx writer: the whole SpreadsheetML package, streamed row by row.

Every workbook qualcode writes goes through this module. It owns the whole file (no other
library's internals are involved), so a release of another package cannot change or break it:

* ``[Content_Types].xml``, the package and workbook relationships, ``docProps/core.xml``
  (title, description, creator) and ``docProps/app.xml``;
* ``xl/workbook.xml``: the sheets in order (visible or hidden) and the defined names Excel
  uses for filters (``_xlnm._FilterDatabase``) and print titles (``_xlnm.Print_Titles``);
* ``xl/styles.xml``: one cell format per distinct :class:`CellStyle` (fill, font, alignment,
  number format, bottom border), made on first use and shared by every cell that uses it;
* one ``xl/worksheets/sheetN.xml`` per sheet: frozen panes, column widths (and hidden columns),
  the rows (inline strings, numbers, booleans; row heights), auto-filter, conditional formats
  (two-colour scales), list validations (drop-downs), hyperlinks, print set-up (orientation,
  fit to page width, header rows repeated on every page, margins, page header and footer text)
  and a drawing of its charts;
* ``xl/drawings`` and ``xl/charts``: native clustered bar/column charts whose data are cells of
  the same sheet (a colour per bar when asked).

Rows are written as they come to a temporary file per sheet (in the system temp folder, which
:func:`qualcode.files.atomic.atomic_output` with ``scratch=True`` points at its private folder) and
copied into the archive on :meth:`Workbook.save`, so memory stays flat for any number of rows.

Text is always written as text: a value that starts with ``=``, ``+``, ``-`` or ``@`` is an
inline string, never a formula. Characters XML 1.0 cannot hold are replaced through
:func:`qualcode.files.textsafe.xml_text` (the one filter), and text longer than the 32,767 characters an
Excel cell holds is cut to that length. The same input gives the same parts, byte for byte; only
times differ from run to run (the zip entries' dates and the created/modified times in
``docProps/core.xml``).

The element order inside each part follows the ECMA-376 schema (Excel refuses a sheet whose
elements are out of order; LibreOffice and openpyxl are more forgiving).
"""

from __future__ import annotations

import math
import numbers
import re
import tempfile
import zipfile
from datetime import datetime, timezone
from typing import Any, NamedTuple, Sequence

from ..files.textsafe import ILLEGAL_XML_CHARS, xml_text

MAX_ROWS = 1_048_576      # rows per worksheet
MAX_COLUMNS = 16_384      # columns per worksheet
MAX_TEXT = 32_767         # characters per cell

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_CHART_NS = "http://schemas.openxmlformats.org/drawingml/2006/chart"
_A_NS = "http://schemas.openxmlformats.org/drawingml/2006/main"
_XDR_NS = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"
_CT = "application/vnd.openxmlformats-"
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_EMU_PER_CM = 360_000


# ------------------------------------------------------------------ styles
def argb(colour: str) -> str:
    """'#RRGGBB', 'RRGGBB' or 'AARRGGBB' as the 'AARRGGBB' form SpreadsheetML stores (opaque)."""
    c = colour.lstrip("#").upper()
    if len(c) == 6:
        c = "FF" + c
    if len(c) != 8 or any(ch not in "0123456789ABCDEF" for ch in c):
        raise ValueError(f"not a colour: {colour!r} (use '#RRGGBB')")
    return c


class Fill(NamedTuple):
    """A solid background colour ('#RRGGBB')."""
    colour: str


class Font(NamedTuple):
    """Calibri in the default size unless ``size`` says otherwise; ``colour`` is '#RRGGBB'."""
    bold: bool = False
    italic: bool = False
    underline: bool = False
    colour: str | None = None
    size: float | None = None


class Alignment(NamedTuple):
    """``horizontal``: left, center, right; ``vertical``: top, center, bottom; ``wrap_text``."""
    horizontal: str | None = None
    vertical: str | None = None
    wrap_text: bool = False


class Border(NamedTuple):
    """A thin line under the cell in ``bottom`` ('#RRGGBB')."""
    bottom: str | None = None


class CellStyle(NamedTuple):
    """What a cell looks like; equal styles share one cell format in the file."""
    fill: Fill | None = None
    font: Font | None = None
    alignment: Alignment | None = None
    number_format: str | None = None
    border: Border | None = None


class Cell(NamedTuple):
    """A value with its own style, for :meth:`Sheet.append` (plain values take the row's styles)."""
    value: Any
    style: CellStyle | None = None


class Link(NamedTuple):
    """A hyperlink cell: ``text`` shown (the address when empty), ``url`` opened on a click."""
    url: str
    text: str = ""


LINK_FONT = Font(underline=True, colour="#0563C1")
_BUILTIN_FORMATS = {"General": 0, "0": 1, "0.00": 2, "#,##0": 3, "#,##0.00": 4, "0%": 9, "0.00%": 10,
                    "@": 49}


class _StyleBook:
    """The workbook's styles part: fonts, fills, borders, number formats and the cell formats
    (``xf``) that combine them, each made once, in order of first use."""

    def __init__(self):
        self.fonts: dict[Font, int] = {Font(): 0}
        self.fills: dict[Fill | None, int] = {None: 0}   # 1 is Excel's reserved gray125
        self.borders: dict[Border | None, int] = {None: 0}
        self.formats: dict[str, int] = {}
        self.xfs: dict[CellStyle, int] = {CellStyle(): 0}

    def index(self, style: CellStyle | None) -> int:
        if style is None:
            return 0
        i = self.xfs.get(style)
        if i is None:
            if style.font is not None:
                self.fonts.setdefault(style.font, len(self.fonts))
            if style.fill is not None:
                argb(style.fill.colour)  # a bad colour fails here, where it was asked for
                self.fills.setdefault(style.fill, len(self.fills) + 1)
            if style.border is not None:
                self.borders.setdefault(style.border, len(self.borders))
            nf = style.number_format
            if nf and nf not in _BUILTIN_FORMATS:
                self.formats.setdefault(nf, 164 + len(self.formats))
            i = self.xfs[style] = len(self.xfs)
        return i

    def xml(self) -> str:
        out = [_HEAD, f'<styleSheet xmlns="{_MAIN}">']
        if self.formats:
            out.append(f'<numFmts count="{len(self.formats)}">')
            out += [f'<numFmt numFmtId="{i}" formatCode="{_attr(code)}"/>' for code, i in self.formats.items()]
            out.append("</numFmts>")
        out.append(f'<fonts count="{len(self.fonts)}">')
        for f in self.fonts:
            out.append("<font>" + ("<b/>" if f.bold else "") + ("<i/>" if f.italic else "")
                       + ('<u/>' if f.underline else "") + f'<sz val="{_num(f.size or 11)}"/>'
                       + (f'<color rgb="{argb(f.colour)}"/>' if f.colour else "")
                       + '<name val="Calibri"/><family val="2"/></font>')
        out.append(f'</fonts><fills count="{len(self.fills) + 1}">'
                   '<fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>')
        for fill in self.fills:
            if fill is not None:
                c = argb(fill.colour)
                out.append(f'<fill><patternFill patternType="solid"><fgColor rgb="{c}"/><bgColor rgb="{c}"/>'
                           "</patternFill></fill>")
        out.append(f'</fills><borders count="{len(self.borders)}">')
        for b in self.borders:
            bottom = (f'<bottom style="thin"><color rgb="{argb(b.bottom)}"/></bottom>' if b is not None and b.bottom
                      else "<bottom/>")
            out.append(f"<border><left/><right/><top/>{bottom}<diagonal/></border>")
        out.append('</borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
                   f'</cellStyleXfs><cellXfs count="{len(self.xfs)}">')
        for st in self.xfs:
            out.append(self._xf(st))
        out.append('</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
                   '<dxfs count="0"/><tableStyles count="0"/></styleSheet>')
        return "".join(out)

    def _xf(self, st: CellStyle) -> str:
        nf = st.number_format
        num = (_BUILTIN_FORMATS.get(nf) if nf in _BUILTIN_FORMATS else self.formats[nf]) if nf else 0
        font = self.fonts[st.font] if st.font is not None else 0
        fill = self.fills[st.fill] if st.fill is not None else 0
        border = self.borders[st.border] if st.border is not None else 0
        attrs = f'numFmtId="{num}" fontId="{font}" fillId="{fill}" borderId="{border}" xfId="0"'
        attrs += "".join(f' apply{k}="1"' for k, on in (("NumberFormat", num), ("Font", font), ("Fill", fill),
                                                         ("Border", border), ("Alignment", st.alignment)) if on)
        a = st.alignment
        if not a:
            return f"<xf {attrs}/>"
        inner = "".join(f' {k}="{v}"' for k, v in (("horizontal", a.horizontal), ("vertical", a.vertical),
                                                  ("wrapText", "1" if a.wrap_text else None)) if v)
        return f"<xf {attrs}><alignment{inner}/></xf>"


# ------------------------------------------------------------------ helpers
def column_letter(index: int) -> str:
    """'A' for column 1, 'AA' for 27 (columns counted from 1)."""
    if not 1 <= index <= MAX_COLUMNS:
        raise ValueError(f"column {index} is outside 1..{MAX_COLUMNS}")
    s = ""
    while index:
        index, r = divmod(index - 1, 26)
        s = chr(65 + r) + s
    return s


_REF = re.compile(r"^\$?([A-Z]{1,3})\$?(\d+)$")


def split_ref(ref: str) -> tuple[int, int]:
    """'B3' -> (row 3, column 2), both counted from 1."""
    m = _REF.match(ref.upper())
    if not m:
        raise ValueError(f"not a cell reference: {ref!r}")
    col = 0
    for ch in m.group(1):
        col = col * 26 + ord(ch) - 64
    return int(m.group(2)), col


def _attr(value: Any) -> str:
    s = xml_text(str(value))
    return (s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
            .replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;"))


def _text(value: str) -> str:
    return xml_text(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _num(v: float) -> str:
    return "%.16g" % v


def quote_sheet(title: str) -> str:
    """A sheet name as formulas write it: 'It''s'."""
    return "'" + title.replace("'", "''") + "'"


def _abs(ref: str) -> str:
    """'A1:B3' -> '$A$1:$B$3' (a row-only or absolute reference is returned unchanged)."""
    return ":".join(re.sub(r"^([A-Z]+)(\d+)$", r"$\1$\2", part) for part in ref.split(":"))


# ------------------------------------------------------------------ charts
class Series(NamedTuple):
    """One data series of a chart: values in ``column`` (from 1), rows ``first``..``last``; the
    series' name is the cell in ``title_row`` of that column (None: no name). ``colours``: one
    '#RRGGBB' per bar (None: the chart's automatic colour)."""
    column: int
    first: int
    last: int
    title_row: int | None = None
    colours: Sequence[str] | None = None


class BarChart(NamedTuple):
    """A clustered bar (``horizontal``) or column chart of cells of its own sheet; categories are
    the cells of ``category_column`` in the series' rows. Size in centimetres, placed with its top
    left corner on cell ``anchor``."""
    title: str
    series: Sequence[Series]
    category_column: int
    anchor: str
    horizontal: bool = True
    legend: bool = True
    width_cm: float = 15.0
    height_cm: float = 7.5


#: Series colours, in order (the classic Office chart palette), for series without colours of their own.
SERIES_COLOURS = ("#4F81BD", "#C0504D", "#9BBB59", "#8064A2", "#4BACC6", "#F79646")


def _chart_xml(chart: BarChart, sheet: str) -> str:
    q = quote_sheet(sheet)
    cat_col = column_letter(chart.category_column)
    out = [_HEAD, f'<c:chartSpace xmlns:c="{_CHART_NS}" xmlns:a="{_A_NS}" xmlns:r="{_REL}">',
           '<c:roundedCorners val="0"/><c:chart>',
           f'<c:title><c:tx><c:rich><a:bodyPr/><a:p><a:pPr><a:defRPr/></a:pPr><a:r><a:t>{_text(chart.title)}</a:t></a:r></a:p></c:rich>'
           '</c:tx><c:overlay val="0"/></c:title><c:autoTitleDeleted val="0"/><c:plotArea><c:layout/>',
           f'<c:barChart><c:barDir val="{"bar" if chart.horizontal else "col"}"/><c:grouping val="clustered"/>'
           '<c:varyColors val="0"/>']
    for i, s in enumerate(chart.series):
        col = column_letter(s.column)
        out.append(f'<c:ser><c:idx val="{i}"/><c:order val="{i}"/>')
        if s.title_row is not None:
            out.append(f"<c:tx><c:strRef><c:f>{_text(q)}!${col}${s.title_row}</c:f></c:strRef></c:tx>")
        fill = argb(SERIES_COLOURS[i % len(SERIES_COLOURS)])[2:]   # readers draw a series without a fill blank
        out.append(f'<c:spPr><a:solidFill><a:srgbClr val="{fill}"/></a:solidFill></c:spPr><c:invertIfNegative val="0"/>')
        for k, colour in enumerate(s.colours or ()):
            out.append(f'<c:dPt><c:idx val="{k}"/><c:invertIfNegative val="0"/><c:bubble3D val="0"/><c:spPr>'
                       f'<a:solidFill><a:srgbClr val="{argb(colour)[2:]}"/></a:solidFill></c:spPr></c:dPt>')
        out.append(f"<c:cat><c:strRef><c:f>{_text(q)}!${cat_col}${s.first}:${cat_col}${s.last}</c:f></c:strRef>"
                   f"</c:cat><c:val><c:numRef><c:f>{_text(q)}!${col}${s.first}:${col}${s.last}</c:f></c:numRef>"
                   "</c:val></c:ser>")
    # the axes as plain as LibreOffice and Excel draw them well: every category label (wrapped when
    # long; tickLblSkip 1, or a reader drops labels it finds crowded), grey value gridlines (drawn only with a line given), no tick marks; <c:delete val="0"/>
    # or Excel hides the axes
    # horizontal bars run top to bottom in the table's order (reversed category axis, the value axis
    # crossing it at its last category so it stays below the bars)
    cat_pos = "l" if chart.horizontal else "b"
    order, val_crosses = ("maxMin", '<c:crosses val="max"/>') if chart.horizontal else ("minMax", "")
    out.append('<c:gapWidth val="150"/><c:axId val="10"/><c:axId val="100"/></c:barChart>'
               f'<c:catAx><c:axId val="10"/><c:scaling><c:orientation val="{order}"/></c:scaling><c:delete val="0"/>'
               f'<c:axPos val="{cat_pos}"/><c:majorTickMark val="none"/><c:minorTickMark val="none"/>'
               '<c:crossAx val="100"/><c:lblOffset val="100"/><c:tickLblSkip val="1"/></c:catAx>'
               '<c:valAx><c:axId val="100"/><c:scaling><c:orientation val="minMax"/></c:scaling><c:delete val="0"/>'
               '<c:axPos val="l"/><c:majorGridlines><c:spPr><a:ln w="6350"><a:solidFill><a:srgbClr val="B3B3B3"/>'
               '</a:solidFill></a:ln></c:spPr></c:majorGridlines><c:majorTickMark val="none"/><c:minorTickMark val="none"/>'
               f'<c:crossAx val="10"/>{val_crosses}</c:valAx></c:plotArea>')
    if chart.legend:
        out.append('<c:legend><c:legendPos val="r"/><c:overlay val="0"/></c:legend>')
    out.append('<c:plotVisOnly val="1"/><c:dispBlanksAs val="gap"/></c:chart></c:chartSpace>')
    return "".join(out)


def _drawing_xml(charts: Sequence[BarChart]) -> str:
    out = [_HEAD, f'<xdr:wsDr xmlns:xdr="{_XDR_NS}" xmlns:a="{_A_NS}">']
    for i, ch in enumerate(charts, start=1):
        row, col = split_ref(ch.anchor)
        cx, cy = round(ch.width_cm * _EMU_PER_CM), round(ch.height_cm * _EMU_PER_CM)
        out.append(f"<xdr:oneCellAnchor><xdr:from><xdr:col>{col - 1}</xdr:col><xdr:colOff>0</xdr:colOff>"
                   f"<xdr:row>{row - 1}</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:from>"
                   f'<xdr:ext cx="{cx}" cy="{cy}"/><xdr:graphicFrame macro=""><xdr:nvGraphicFramePr>'
                   f'<xdr:cNvPr id="{i + 1}" name="Chart {i}"/><xdr:cNvGraphicFramePr/></xdr:nvGraphicFramePr>'
                   '<xdr:xfrm><a:off x="0" y="0"/><a:ext cx="0" cy="0"/></xdr:xfrm><a:graphic>'
                   f'<a:graphicData uri="{_CHART_NS}"><c:chart xmlns:c="{_CHART_NS}" xmlns:r="{_REL}" '
                   f'r:id="rId{i}"/></a:graphicData></a:graphic></xdr:graphicFrame><xdr:clientData/>'
                   "</xdr:oneCellAnchor>")
    out.append("</xdr:wsDr>")
    return "".join(out)


def _rels_xml(rels: Sequence[tuple[str, str, bool]]) -> str:
    """Relationships (type, target, external) numbered rId1, rId2, ..."""
    out = [_HEAD, f'<Relationships xmlns="{_PKG_REL}">']
    for i, (kind, target, external) in enumerate(rels, start=1):
        mode = ' TargetMode="External"' if external else ""
        out.append(f'<Relationship Id="rId{i}" Type="{kind}" Target="{_attr(target)}"{mode}/>')
    out.append("</Relationships>")
    return "".join(out)


# ------------------------------------------------------------------ sheets
_NEEDS_CARE = re.compile(f"[&<>\r{ILLEGAL_XML_CHARS}]")


class Sheet:
    """One worksheet. Set widths, panes and the rest at any time before :meth:`Workbook.save`;
    rows are written in order with :meth:`append` (they cannot be changed afterwards)."""

    def __init__(self, book: "Workbook", title: str):
        self.book = book
        self.title = title
        self.hidden = False
        self.freeze: str | None = None
        self.rows = 0                       # rows written so far
        self.columns = 0                    # the widest row so far
        self._widths: dict[int, tuple[float | None, bool]] = {}
        self._filter: str | None = None
        self._scales: list[tuple[str, str]] = []
        self._validations: list[str] = []
        self._links: list[tuple[str, str]] = []
        self._charts: list[BarChart] = []
        self._print: dict | None = None
        self._fh = tempfile.TemporaryFile()
        self._buf: list[str] = []
        self._letters: list[str] = []
        self._sattr: dict[CellStyle | None, str] = {None: ""}

    # ---- sheet settings
    def set_width(self, column: int, width: float | None, *, hidden: bool = False) -> None:
        """Width (in characters) of ``column`` (from 1); ``hidden`` hides it."""
        column_letter(column)
        self._widths[column] = (width, hidden)

    def set_widths(self, widths: Sequence[float]) -> None:
        """Widths of the first columns, in order."""
        for i, w in enumerate(widths, start=1):
            self.set_width(i, w)

    def autofilter(self, ref: str) -> None:
        """Filter buttons on the header row of ``ref`` ('A1:L20')."""
        self._filter = ref

    def colour_scale(self, ref: str, start_colour: str = "#FFFFFF", end_colour: str = "#E8743B",
                     start_value: float = 0) -> None:
        """A two-colour scale on ``ref``: ``start_colour`` at ``start_value``, ``end_colour`` at the maximum."""
        rule = (f'<cfRule type="colorScale" priority="{{p}}"><colorScale><cfvo type="num" val="{_num(start_value)}"/>'
                f'<cfvo type="max"/><color rgb="{argb(start_colour)}"/><color rgb="{argb(end_colour)}"/>'
                "</colorScale></cfRule>")
        self._scales.append((ref, rule))

    def list_validation(self, ref: str, *, choices: Sequence[str] | None = None, source: str | None = None,
                        prompt: str | None = None, prompt_title: str | None = None,
                        show_error: bool = False) -> None:
        """A drop-down list on the cells of ``ref``: either fixed ``choices`` (at most 255 characters
        together, as Excel allows) or the cells of ``source`` ("Codebook!$E$2:$E$9"). With
        ``show_error`` False a value not in the list is accepted as typed."""
        if (choices is None) == (source is None):
            raise ValueError("give either choices or source")
        if choices is not None:
            listed = ",".join(xml_text(c).replace('"', '""') for c in choices)
            if len(listed) > 255:
                raise ValueError(f"a drop-down list holds at most 255 characters; these choices need {len(listed)}")
            formula = f'"{listed}"'
        else:
            formula = source.lstrip("=")
        attrs = ' type="list" allowBlank="1"'
        attrs += f' showInputMessage="{1 if prompt else 0}" showErrorMessage="{1 if show_error else 0}"'
        if prompt_title:
            attrs += f' promptTitle="{_attr(prompt_title)}"'
        if prompt:
            attrs += f' prompt="{_attr(prompt)}"'
        self._validations.append(f'<dataValidation{attrs} sqref="{ref}"><formula1>{_text(formula)}</formula1>'
                                 "</dataValidation>")

    def print_setup(self, *, landscape: bool = False, fit_width: bool = False, repeat_rows: int = 0,
                    repeat_cols: int = 0, margins: tuple[float, float, float, float] | None = None,
                    header: str | None = None, footer: str | None = None, header_size: int = 8) -> None:
        """Print on A4, in landscape, scaled to the page width (any number of pages down), with the first
        ``repeat_rows`` rows (the header) repeated at the top of every page and the first
        ``repeat_cols`` columns (the keys) at the left of every page, so a page that holds the columns
        further right still says which row it is. ``margins``: (left, right, top, bottom) in inches;
        ``header``: text at the left of every page's header, ``footer``: text at the right of its
        footer, in which ``{page}`` and ``{pages}`` become the page number and the number of pages
        (both in ``header_size`` points)."""
        self._print = {"landscape": landscape, "fit_width": fit_width, "repeat_rows": repeat_rows,
                       "repeat_cols": repeat_cols, "margins": margins, "header": header, "footer": footer,
                       "size": int(header_size)}

    def add_chart(self, chart: BarChart) -> None:
        """A native chart of cells of this sheet (see :class:`BarChart`)."""
        split_ref(chart.anchor)
        self._charts.append(chart)

    # ---- rows
    def append(self, values: Sequence[Any], styles: Sequence[CellStyle | None] | None = None, *,
               height: float | None = None) -> None:
        """Write the next row. ``values``: str, int, float, bool, None (an empty cell), :class:`Cell`
        (a value with its own style) or :class:`Link`; ``styles``: a style (or None) per value;
        ``height`` in points (None: as tall as the text needs)."""
        self.rows += 1
        if self.rows > MAX_ROWS:
            raise ValueError(f"sheet '{self.title}' would pass Excel's {MAX_ROWS:,} rows")
        r = str(self.rows)
        n = len(values)
        letters = self._letters
        if n > len(letters):
            letters.extend(column_letter(i) for i in range(len(letters) + 1, n + 1))
            self.columns = n
        sattr = self._sattr
        head = f'<row r="{r}"' + (f' ht="{_num(height)}" customHeight="1">' if height is not None else ">")
        if not n:
            self._buf.append(head[:-1] + "/>")
            return
        parts = [head]
        add = parts.append
        for i, v in enumerate(values):
            style = styles[i] if styles is not None else None
            if type(v) is Cell:
                v, style = v.value, v.style if v.style is not None else style
            s = sattr.get(style)
            if s is None:
                s = self._style_attr(style)
            if type(v) is str:
                if not v:
                    if s:
                        add(f'<c r="{letters[i]}{r}"{s}/>')
                    continue
                if _NEEDS_CARE.search(v) is not None or len(v) > MAX_TEXT:
                    v = xml_text(v)[:MAX_TEXT]
                    esc = v.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
                else:
                    esc = v
                if v != v.strip():
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
            self.flush()

    def _style_attr(self, style: CellStyle) -> str:
        i = self.book.styles.index(style)
        attr = self._sattr[style] = f' s="{i}"' if i else ""
        return attr

    def _other_xml(self, ref: str, s: str, v: Any, i: int) -> str:
        if v is None:
            return f'<c r="{ref}"{s}/>' if s else ""
        if isinstance(v, bool):
            return f'<c r="{ref}"{s} t="b"><v>{int(v)}</v></c>'
        if isinstance(v, numbers.Real):   # also numpy's numbers
            if math.isnan(v) or math.isinf(v):
                return f'<c r="{ref}"{s}/>' if s else ""
            return f'<c r="{ref}"{s} t="n"><v>{_num(v)}</v></c>'
        if isinstance(v, str):   # a str subclass
            return self._str_xml(ref, s, str(v))
        if isinstance(v, Link):
            self._links.append((ref, v.url))
            if not s:
                s = self._sattr.get(_LINK_STYLE) or self._style_attr(_LINK_STYLE)
            return self._str_xml(ref, s, v.text or v.url)
        raise TypeError(f"cannot write a {type(v).__name__} to a worksheet cell "
                        f"(sheet '{self.title}', row {self.rows}, column {i + 1})")

    def _str_xml(self, ref: str, s: str, v: str) -> str:
        v = xml_text(v)[:MAX_TEXT]
        if not v:
            return f'<c r="{ref}"{s}/>' if s else ""
        space = ' xml:space="preserve"' if v != v.strip() else ""
        return f'<c r="{ref}"{s} t="inlineStr"><is><t{space}>{_text(v).replace(chr(13), "&#13;")}</t></is></c>'

    def flush(self) -> None:
        """Write the rows appended so far to the sheet's temporary file."""
        if self._buf:
            self._fh.write("".join(self._buf).encode("utf-8"))
            self._buf.clear()

    # ---- the part
    def _head_xml(self, index: int, selected: bool) -> str:
        out = [_HEAD, f'<worksheet xmlns="{_MAIN}" xmlns:r="{_REL}">']
        if self._print and self._print["fit_width"]:
            out.append('<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>')
        last = f"{column_letter(self.columns)}{self.rows}" if self.rows and self.columns else ""
        out.append(f'<dimension ref="A1{":" + last if last and last != "A1" else ""}"/>')
        out.append("<sheetViews><sheetView" + (' tabSelected="1"' if selected else "") + ' workbookViewId="0">')
        out.append(self._pane_xml())
        out.append('</sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"/>')
        if self._widths:
            out.append("<cols>")
            for col in sorted(self._widths):
                width, hidden = self._widths[col]
                w = f' width="{_num(width)}" customWidth="1"' if width is not None else ' width="9.140625"'
                out.append(f'<col min="{col}" max="{col}"{w}' + (' hidden="1"' if hidden else "") + "/>")
            out.append("</cols>")
        out.append("<sheetData>")
        return "".join(out)

    def _pane_xml(self) -> str:
        if not self.freeze or self.freeze.upper() == "A1":
            return '<selection activeCell="A1" sqref="A1"/>'
        row, col = split_ref(self.freeze)
        ref = f"{column_letter(col)}{row}"
        xs, ys = col - 1, row - 1
        pane = {(True, True): "bottomRight", (False, True): "bottomLeft", (True, False): "topRight"}[(xs > 0, ys > 0)]
        attrs = (f' xSplit="{xs}"' if xs else "") + (f' ySplit="{ys}"' if ys else "")
        out = [f'<pane{attrs} topLeftCell="{ref}" activePane="{pane}" state="frozen"/>']
        if pane == "bottomRight":
            out.append(f'<selection pane="topRight" activeCell="{column_letter(col)}1" sqref="{column_letter(col)}1"/>')
            out.append(f'<selection pane="bottomLeft" activeCell="A{row}" sqref="A{row}"/>')
        out.append(f'<selection pane="{pane}" activeCell="{ref}" sqref="{ref}"/>')
        return "".join(out)

    def _tail_xml(self, drawing_rel: int | None, link_rels: list[int]) -> str:
        out = ["</sheetData>"]
        if self._filter:
            out.append(f'<autoFilter ref="{self._filter}"/>')
        for p, (ref, rule) in enumerate(self._scales, start=1):
            out.append(f'<conditionalFormatting sqref="{ref}">{rule.format(p=p)}</conditionalFormatting>')
        if self._validations:
            out.append(f'<dataValidations count="{len(self._validations)}">{"".join(self._validations)}'
                       "</dataValidations>")
        if self._links:
            out.append("<hyperlinks>" + "".join(f'<hyperlink ref="{ref}" r:id="rId{k}"/>'
                                                for (ref, _), k in zip(self._links, link_rels)) + "</hyperlinks>")
        left, right, top, bottom = (self._print or {}).get("margins") or (0.75, 0.75, 1, 1)
        out.append(f'<pageMargins left="{_num(left)}" right="{_num(right)}" top="{_num(top)}" '
                   f'bottom="{_num(bottom)}" header="0.5" footer="0.5"/>')
        if self._print:
            # A4 (paper size 9): the paper of the study's users; without it, a reader may assume Letter
            attrs = ' paperSize="9"' + (' orientation="landscape"' if self._print["landscape"] else "")
            if self._print["fit_width"]:
                attrs += ' fitToWidth="1" fitToHeight="0"'
            out.append(f"<pageSetup{attrs}/>")
            out.append(self._header_footer_xml())
        if drawing_rel is not None:
            out.append(f'<drawing r:id="rId{drawing_rel}"/>')
        out.append("</worksheet>")
        return "".join(out)

    def _header_footer_xml(self) -> str:
        """The page header (left) and footer (right) of :meth:`print_setup`; '&' in the text is
        doubled (a single one starts a field code) and the font size is the code '&N' before it."""
        p = self._print or {}
        size = f'&{p.get("size", 8)}'
        parts = []
        if p.get("header"):
            parts.append("<oddHeader>" + _text(f"&L{size} " + xml_text(p["header"]).replace("&", "&&")) + "</oddHeader>")
        if p.get("footer"):
            text = xml_text(p["footer"]).replace("&", "&&").replace("{page}", "&P").replace("{pages}", "&N")
            parts.append("<oddFooter>" + _text(f"&R{size} " + text) + "</oddFooter>")
        return "<headerFooter>" + "".join(parts) + "</headerFooter>" if parts else ""

    def close(self) -> None:
        """Release the sheet's temporary file (done by :meth:`Workbook.save` and :meth:`Workbook.discard`)."""
        self._buf.clear()
        self._fh.close()


_LINK_STYLE = CellStyle(font=LINK_FONT)


# ------------------------------------------------------------------ the workbook
class Workbook:
    """A new workbook: add sheets with :meth:`add_sheet`, fill them, then :meth:`save` once.
    ``title`` and ``description`` show in Excel under File > Info."""

    def __init__(self, *, title: str | None = None, description: str | None = None, creator: str = "qualcode",
                 compresslevel: int = 6):
        self.title, self.description, self.creator = title, description, creator
        self.compresslevel = compresslevel
        self.styles = _StyleBook()
        self.sheets: list[Sheet] = []

    @property
    def sheetnames(self) -> list[str]:
        return [s.title for s in self.sheets]

    def add_sheet(self, title: str, *, widths: Sequence[float] = (), freeze: str | None = None,
                  hidden: bool = False) -> Sheet:
        """A new sheet at the end. ``title`` must be a valid sheet name (at most 31 characters, none
        of ``[]*?/\\:``); a title already used gets a number ('Notes1')."""
        if not title or len(title) > 31 or re.search(r"[\[\]\*\?/\\:]", title) or xml_text(title) != title:
            raise ValueError(f"not a valid sheet title: {title!r}")
        taken = {t.lower() for t in self.sheetnames}
        base, k = title, 0
        while title.lower() in taken:
            k += 1
            title = f"{base[:31 - len(str(k))]}{k}"
        sheet = Sheet(self, title)
        sheet.set_widths(widths)
        sheet.freeze, sheet.hidden = freeze, hidden
        self.sheets.append(sheet)
        return sheet

    def save(self, path) -> None:
        """Write the whole package to ``path`` and release the sheets' temporary files."""
        if not self.sheets:
            self.add_sheet("Sheet")
        visible = [i for i, s in enumerate(self.sheets) if not s.hidden]
        if not visible:
            raise ValueError("a workbook needs at least one visible sheet")
        try:
            with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, allowZip64=True,
                                 compresslevel=self.compresslevel) as zf:
                self._write(zf, visible[0])
        finally:
            self.discard()

    def discard(self) -> None:
        """Release every sheet's temporary file without writing anything."""
        for s in self.sheets:
            s.close()

    def _write(self, zf: zipfile.ZipFile, active: int) -> None:
        def put(name: str, text: str) -> None:
            zf.writestr(name, text.encode("utf-8"))

        overrides = [("/xl/workbook.xml", "officedocument.spreadsheetml.sheet.main+xml"),
                     ("/xl/styles.xml", "officedocument.spreadsheetml.styles+xml"),
                     ("/docProps/core.xml", "package.core-properties+xml"),
                     ("/docProps/app.xml", "officedocument.extended-properties+xml")]
        n_chart = 0
        for i, sheet in enumerate(self.sheets, start=1):
            overrides.append((f"/xl/worksheets/sheet{i}.xml", "officedocument.spreadsheetml.worksheet+xml"))
            rels: list[tuple[str, str, bool]] = []
            drawing_rel = None
            if sheet._charts:
                rels.append((f"{_REL}/drawing", f"../drawings/drawing{i}.xml", False))
                drawing_rel = len(rels)
                overrides.append((f"/xl/drawings/drawing{i}.xml", "officedocument.drawing+xml"))
                chart_rels = []
                for chart in sheet._charts:
                    n_chart += 1
                    put(f"xl/charts/chart{n_chart}.xml", _chart_xml(chart, sheet.title))
                    overrides.append((f"/xl/charts/chart{n_chart}.xml", "officedocument.drawingml.chart+xml"))
                    chart_rels.append((f"{_REL}/chart", f"../charts/chart{n_chart}.xml", False))
                put(f"xl/drawings/drawing{i}.xml", _drawing_xml(sheet._charts))
                put(f"xl/drawings/_rels/drawing{i}.xml.rels", _rels_xml(chart_rels))
            link_rels = []
            for _, url in sheet._links:
                rels.append((f"{_REL}/hyperlink", url, True))
                link_rels.append(len(rels))
            if rels:
                put(f"xl/worksheets/_rels/sheet{i}.xml.rels", _rels_xml(rels))
            sheet.flush()
            with zf.open(f"xl/worksheets/sheet{i}.xml", "w", force_zip64=True) as out:
                out.write(sheet._head_xml(i, selected=(i - 1 == active)).encode("utf-8"))
                sheet._fh.seek(0)
                while chunk := sheet._fh.read(1 << 20):
                    out.write(chunk)
                out.write(sheet._tail_xml(drawing_rel, link_rels).encode("utf-8"))
        put("xl/workbook.xml", self._workbook_xml(active))
        put("xl/_rels/workbook.xml.rels", _rels_xml(
            [(f"{_REL}/worksheet", f"worksheets/sheet{i}.xml", False) for i in range(1, len(self.sheets) + 1)]
            + [(f"{_REL}/styles", "styles.xml", False)]))
        put("xl/styles.xml", self.styles.xml())
        put("docProps/core.xml", self._core_xml())
        put("docProps/app.xml", _HEAD + '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
            'extended-properties"><Application>qualcode</Application></Properties>')
        put("_rels/.rels", _rels_xml([
            (f"{_REL}/officeDocument", "xl/workbook.xml", False),
            (f"{_PKG_REL}/metadata/core-properties", "docProps/core.xml", False),
            (f"{_REL}/extended-properties", "docProps/app.xml", False)]))
        put("[Content_Types].xml", _HEAD + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            f'content-types"><Default Extension="rels" ContentType="{_CT}package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            + "".join(f'<Override PartName="{p}" ContentType="{_CT}{t}"/>' for p, t in overrides) + "</Types>")

    def _workbook_xml(self, active: int) -> str:
        out = [_HEAD, f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><workbookPr/><bookViews>'
               f'<workbookView activeTab="{active}"' + (f' firstSheet="{active}"' if active else "") + "/></bookViews><sheets>"]
        names = []
        for i, s in enumerate(self.sheets):
            state = ' state="hidden"' if s.hidden else ""
            out.append(f'<sheet name="{_attr(s.title)}" sheetId="{i + 1}"{state} r:id="rId{i + 1}"/>')
            q = quote_sheet(s.title)
            if s._filter:
                names.append(f'<definedName name="_xlnm._FilterDatabase" localSheetId="{i}" hidden="1">'
                             f"{_text(q)}!{_abs(s._filter)}</definedName>")
            titles = []
            if s._print and s._print.get("repeat_cols"):
                titles.append(f'{q}!$A:${column_letter(s._print["repeat_cols"])}')
            if s._print and s._print["repeat_rows"]:
                titles.append(f'{q}!$1:${s._print["repeat_rows"]}')
            if titles:
                names.append(f'<definedName name="_xlnm.Print_Titles" localSheetId="{i}">'
                             f'{_text(",".join(titles))}</definedName>')
        out.append("</sheets>")
        if names:
            out.append("<definedNames>" + "".join(names) + "</definedNames>")
        out.append('<calcPr calcId="191029"/></workbook>')
        return "".join(out)

    def _core_xml(self) -> str:
        now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        parts = [f"<dc:creator>{_text(self.creator)}</dc:creator>"]
        if self.title:
            parts.append(f"<dc:title>{_text(self.title)}</dc:title>")
        if self.description:
            parts.append(f"<dc:description>{_text(self.description)}</dc:description>")
        return (_HEAD + '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
                'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/'
                'terms/" xmlns:dcmitype="http://purl.org/dc/dcmitype/" '
                'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">' + "".join(parts)
                + f'<dcterms:created xsi:type="dcterms:W3CDTF">{now}</dcterms:created>'
                f'<dcterms:modified xsi:type="dcterms:W3CDTF">{now}</dcterms:modified></cp:coreProperties>')
