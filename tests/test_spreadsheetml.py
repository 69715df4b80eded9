"""qualcode's own xlsx writer (qualcode.excel.spreadsheetml), read back with openpyxl.

Every kind of value and style, every sheet setting the exports use (widths, hidden columns,
frozen panes, filters, colour scales, drop-down lists, print set-up, hyperlinks, hidden sheets,
row heights) and native charts; the parts' element order; what it refuses.
"""

from __future__ import annotations

import datetime
import zipfile

import pytest
from openpyxl import load_workbook

from qualcode.excel.spreadsheetml import (Alignment, BarChart, Border, Cell, CellStyle, Fill, Font, Link, Series,
                                           Workbook, column_letter, split_ref)

TRICKY = ["=SUM(A1:A3)", "+32 procent", "- ja maar", "@iedereen", "#N/A", "a & b < c > d \"e\" 'f'",
          "  spaties voor en na  ", "regel\r\nnieuwe regel\ttab", "stuur\x01teken\x1f weg", "café € 😀",
          "niet\x0bin\x0cXML\ufffe\uffff \x85C1 blijft", "", "x" * 40_000, "\n"]


def _expected_text(t: str) -> str | None:
    """What a cell holding ``t`` reads back as: XML-illegal characters replaced one for one, cut to
    Excel's 32,767 characters, empty text as an empty cell."""
    out = "".join(" " if ch in "\x0b\x0c" else "\ufffd" if ch in "\ufffe\uffff" or (ord(ch) < 32 and ch not in "\t\n\r")
                  else ch for ch in t)[:32767]
    return out or None


def _save(tmp_path, build, name="t.xlsx"):
    wb = Workbook(title="Titel & zo", description="beschrijving")
    build(wb)
    out = tmp_path / name
    wb.save(out)
    return out


def test_values_round_trip_as_written(tmp_path):
    import numpy as np

    numbers = [0, -7, 12345678901234567890, 2.5, 1e-300, True, False, np.int64(42), np.float64(0.5)]

    def build(wb):
        ws = wb.add_sheet("t")
        ws.append(TRICKY)
        ws.append(numbers + [None, float("nan"), float("inf"), Cell("gestyled", CellStyle(font=Font(bold=True)))])
        ws.append([])
        ws.append(["na een lege rij"])

    wb = load_workbook(_save(tmp_path, build))
    ws = wb["t"]
    got = [c.value for c in ws[1]]
    assert got == [_expected_text(t) for t in TRICKY]
    assert all(c.data_type == "s" for c in ws[1] if c.value is not None)   # '=SUM(...)' is text, not a formula
    row2 = [c.value for c in ws[2]]
    assert row2[:9] == [0, -7, float("%.16g" % 12345678901234567890), 2.5, 1e-300, True, False, 42, 0.5]
    assert row2[9:12] == [None, None, None] and row2[12] == "gestyled" and ws[2][12].font.b
    assert ws.max_row == 4 and ws["A4"].value == "na een lege rij"
    assert wb.properties.title == "Titel & zo" and wb.properties.description == "beschrijving"
    assert wb.properties.creator == "qualcode"


def test_styles_read_back(tmp_path):
    styles = [CellStyle(fill=Fill("#E69F00")),
              CellStyle(font=Font(bold=True, colour="#FFFFFF", size=13), fill=Fill("1F3A5F")),
              CellStyle(alignment=Alignment(wrap_text=True, vertical="top", horizontal="center")),
              CellStyle(number_format="0.0%"), CellStyle(number_format="0.00%"),
              CellStyle(border=Border(bottom="#BBBBBB"), font=Font(italic=True, underline=True)), None]

    def build(wb):
        ws = wb.add_sheet("s")
        ws.append([0.25] * len(styles), styles)
        ws.append(["again"] * len(styles), styles)   # the same styles share their cell formats

    wb = load_workbook(_save(tmp_path, build))
    a, b, c, d, e, f, g = wb["s"][1]
    assert a.fill.fill_type == "solid" and a.fill.fgColor.rgb == "FFE69F00"
    assert b.font.b and b.font.sz == 13 and b.font.color.rgb == "FFFFFFFF" and b.fill.fgColor.rgb == "FF1F3A5F"
    assert c.alignment.wrap_text and c.alignment.vertical == "top" and c.alignment.horizontal == "center"
    assert d.number_format == "0.0%" and e.number_format == "0.00%"
    assert f.border.bottom.style == "thin" and f.border.bottom.color.rgb == "FFBBBBBB" and f.font.i and f.font.u
    assert g.fill.fill_type is None and not g.font.b and g.number_format == "General"
    assert [x.style_id for x in wb["s"][1]] == [x.style_id for x in wb["s"][2]]
    with zipfile.ZipFile(tmp_path / "t.xlsx") as z:
        styles_xml = z.read("xl/styles.xml").decode()
    assert styles_xml.count("<xf ") == 1 + 1 + 6   # cellStyleXfs, the default format, six distinct styles


def test_sheet_settings_read_back(tmp_path):
    def build(wb):
        ws = wb.add_sheet("Coding", widths=[9, 80], freeze="C2")
        ws.set_width(4, 16, hidden=True)
        for i in range(1, 6):
            ws.append([f"r{i}", i, i * 2, "id"], height=30 if i == 2 else None)
        ws.autofilter("A1:D5")
        ws.colour_scale("B2:C5")
        ws.list_validation("B2:B5", choices=["ann", 'zeg "ja"', "none"], prompt="kies", prompt_title="wie")
        ws.list_validation("C2:C5", source="=Codebook!$E$2:$E$9")
        ws.print_setup(landscape=True, fit_width=True, repeat_rows=1)
        ws.append([Link("https://example.org/a?b=1&c=2", "bron"), Link("https://example.org")])
        wb.add_sheet("Matrices", freeze="B1").append(["x"])
        wb.add_sheet("_meta", hidden=True).append(["format", "1"])

    wb = load_workbook(_save(tmp_path, build))
    ws = wb["Coding"]
    assert ws.freeze_panes == "C2" and wb["Matrices"].freeze_panes == "B1"
    assert ws.column_dimensions["A"].width == 9 and ws.column_dimensions["B"].width == 80
    assert ws.column_dimensions["D"].hidden and ws.row_dimensions[2].height == 30
    assert ws.auto_filter.ref == "A1:D5"
    (cf,) = list(ws.conditional_formatting)
    assert str(cf.sqref) == "B2:C5" and cf.rules[0].type == "colorScale"
    assert [c.rgb for c in cf.rules[0].colorScale.color] == ["FFFFFFFF", "FFE8743B"]
    dv1, dv2 = ws.data_validations.dataValidation
    assert dv1.type == "list" and dv1.formula1 == '"ann,zeg ""ja"",none"' and str(dv1.sqref) == "B2:B5"
    assert dv1.prompt == "kies" and dv1.promptTitle == "wie" and dv1.showInputMessage and not dv1.showErrorMessage
    assert dv2.formula1 == "Codebook!$E$2:$E$9" and not dv2.showInputMessage
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.fitToWidth == 1
    assert ws.page_setup.fitToHeight == 0 and ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_title_rows == "$1:$1"
    assert ws["A6"].value == "bron" and ws["A6"].hyperlink.target == "https://example.org/a?b=1&c=2"
    assert ws["B6"].value == "https://example.org" and ws["B6"].font.u == "single"
    assert wb["_meta"].sheet_state == "hidden" and wb["Coding"].sheet_state == "visible"


def test_charts_are_native_and_point_at_their_cells(tmp_path):
    def build(wb):
        ws = wb.add_sheet("It's")
        ws.append(["theme", "F1", "F2", "total"])
        for k, name in enumerate(["Zorg", "Werk"]):
            ws.append([name, k, k + 1, 2 * k + 1])
        ws.add_chart(BarChart("Per thema", [Series(4, 2, 3, title_row=1, colours=["#E69F00", "#0072B2"])],
                              category_column=1, anchor="F1", legend=False, width_cm=13))
        ws.add_chart(BarChart("Thema × groep", [Series(c, 2, 3, title_row=1) for c in (2, 3)],
                              category_column=1, anchor="P1", horizontal=False))

    out = _save(tmp_path, build)
    with zipfile.ZipFile(out) as z:
        names = z.namelist()
        c1, c2 = z.read("xl/charts/chart1.xml").decode(), z.read("xl/charts/chart2.xml").decode()
        drawing = z.read("xl/drawings/drawing1.xml").decode()
        assert "xl/worksheets/_rels/sheet1.xml.rels" in names and "xl/drawings/_rels/drawing1.xml.rels" in names
    assert '<c:barDir val="bar"/>' in c1 and "E69F00" in c1 and "0072B2" in c1 and "<c:legend>" not in c1
    assert "<c:f>'It''s'!$D$2:$D$3</c:f>" in c1 and "<c:f>'It''s'!$A$2:$A$3</c:f>" in c1
    assert "<c:f>'It''s'!$D$1</c:f>" in c1 and "Per thema" in c1
    assert '<c:barDir val="col"/>' in c2 and c2.count("<c:ser>") == 2 and "<c:legend>" in c2
    # every category labelled (readers drop crowded labels otherwise); horizontal bars top-down in the
    # table's order with the value axis kept below them, columns left to right
    assert '<c:tickLblSkip val="1"/>' in c1 and '<c:tickLblSkip val="1"/>' in c2
    assert '<c:orientation val="maxMin"/>' in c1 and '<c:crosses val="max"/>' in c1
    assert '<c:orientation val="maxMin"/>' not in c2 and '<c:crosses val="max"/>' not in c2
    assert "<xdr:col>5</xdr:col>" in drawing and 'cx="4680000" cy="2700000"' in drawing
    wb = load_workbook(out)   # openpyxl opens it with the charts in place
    assert wb["It's"]["D3"].value == 3


# the order CT_Worksheet (ECMA-376) demands for the elements qualcode writes
_SHEET_ORDER = ["sheetPr", "dimension", "sheetViews", "sheetFormatPr", "cols", "sheetData", "autoFilter",
                "conditionalFormatting", "dataValidations", "hyperlinks", "printOptions", "pageMargins",
                "pageSetup", "headerFooter", "drawing"]


def test_sheet_elements_in_schema_order(tmp_path):
    def build(wb):
        ws = wb.add_sheet("all", widths=[10], freeze="A2")
        ws.append(["a", 1])
        ws.append([Link("https://example.org", "x"), 2])
        ws.autofilter("A1:B2")
        ws.colour_scale("B2:B2")
        ws.list_validation("A2:A2", choices=["x"])
        ws.print_setup(landscape=True, fit_width=True, repeat_rows=1, header="kop", footer="{page}")
        ws.add_chart(BarChart("c", [Series(2, 1, 2)], category_column=1, anchor="D1"))

    from lxml import etree

    with zipfile.ZipFile(_save(tmp_path, build)) as z:
        root = etree.fromstring(z.read("xl/worksheets/sheet1.xml"))
        for name in z.namelist():
            if name.endswith((".xml", ".rels")):
                etree.fromstring(z.read(name))   # every part is well-formed XML
    tags = [etree.QName(e).localname for e in root]
    assert tags == [t for t in _SHEET_ORDER if t in tags] and len(tags) >= 12


def test_page_header_footer_and_margins(tmp_path):
    """print_setup's page header (left) and footer (right, with page fields) and margins, as
    openpyxl reads them back; '&' in the text is doubled (a single one would start a field code;
    openpyxl shows the codes as written)."""
    def build(wb):
        ws = wb.add_sheet("Quotes")
        ws.append(["q"])
        ws.print_setup(fit_width=True, repeat_rows=1, margins=(0.4, 0.4, 0.6, 0.6),
                       header="IPS & co · Quotes", footer="page {page} of {pages}", header_size=8)
        plain = wb.add_sheet("Plain")
        plain.append(["p"])
        plain.print_setup(landscape=True)

    path = _save(tmp_path, build)
    wb = load_workbook(path)
    ws = wb["Quotes"]
    assert ws.oddHeader.left.text.strip() == "IPS && co · Quotes" and ws.oddHeader.left.size == 8
    assert ws.oddFooter.right.text.strip() == "page &P of &N" and ws.oddFooter.right.size == 8
    assert ws.page_setup.paperSize == 9 and ws.page_setup.orientation != "landscape"
    m = ws.page_margins
    assert (m.left, m.right, m.top, m.bottom) == (0.4, 0.4, 0.6, 0.6)
    plain = wb["Plain"]
    assert plain.page_setup.paperSize == 9 and plain.page_setup.orientation == "landscape"
    assert not plain.oddHeader.left.text and plain.page_margins.left == 0.75
    with zipfile.ZipFile(path) as z:
        xml = z.read("xl/worksheets/sheet1.xml").decode()
    assert "<oddHeader>&amp;L&amp;8 IPS &amp;&amp; co · Quotes</oddHeader>" in xml


def test_refuses_what_it_cannot_write(tmp_path):
    wb = Workbook()
    ws = wb.add_sheet("t")
    with pytest.raises(TypeError, match=r"cannot write a date to a worksheet cell \(sheet 't', row 1, column 2\)"):
        ws.append(["ok", datetime.date(2024, 1, 1)])
    for bad in ("", "a" * 32, "a/b", "x[1]", "v?"):
        with pytest.raises(ValueError, match="not a valid sheet title"):
            wb.add_sheet(bad)
    with pytest.raises(ValueError, match="at most 255 characters"):
        ws.list_validation("A1:A2", choices=["x" * 200, "y" * 100])
    with pytest.raises(ValueError, match="not a colour"):
        ws.append(["x"], [CellStyle(fill=Fill("red"))])
    assert wb.add_sheet("T").title == "T1"   # titles are unique regardless of case, as in Excel
    wb.discard()


def test_references():
    assert [column_letter(i) for i in (1, 26, 27, 52, 702, 703, 16384)] == ["A", "Z", "AA", "AZ", "ZZ", "AAA", "XFD"]
    assert split_ref("B3") == (3, 2) and split_ref("$AA$10") == (10, 27)
    with pytest.raises(ValueError):
        column_letter(16385)


def test_nothing_left_in_the_temp_folder(tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    wb = Workbook()
    ws = wb.add_sheet("t")
    for i in range(3000):
        ws.append([i, "tekst " * 5])
    wb.save(tmp_path / "out.xlsx")
    assert [p.name for p in tmp_path.iterdir()] == ["out.xlsx"]
    assert load_workbook(tmp_path / "out.xlsx")["t"].max_row == 3000


def test_print_titles_repeat_the_key_columns_and_the_header_row(tmp_path):
    def build(wb):
        ws = wb.add_sheet("Co'ding & more")
        ws.append(["key", "text", "code"])
        ws.append(["F1 P1", "tekst", "x"])
        ws.print_setup(landscape=True, repeat_rows=1, repeat_cols=2)
        other = wb.add_sheet("rows only")
        other.append(["a"])
        other.print_setup(repeat_rows=1)

    wb = load_workbook(_save(tmp_path, build))
    assert wb["Co'ding & more"].print_title_cols == "$A:$B" and wb["Co'ding & more"].print_title_rows == "$1:$1"
    assert wb["rows only"].print_title_cols is None and wb["rows only"].print_title_rows == "$1:$1"
