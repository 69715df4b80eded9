"""The fast (streamed) analysis workbook equals the plain one cell for cell (issue 10).

``write_workbook`` streams the rows of its ten sheets as XML (``xlsxutil.StreamRows``) instead of
making an openpyxl cell per value. ``write_workbook(..., streamed=False)`` writes the same rows the
plain way, one ``WriteOnlyCell`` per value through ``xlsxutil.cell``: that is the reference. Both
files are read back with openpyxl and compared sheet by sheet, cell by cell: value, data type,
fill, font, alignment and number format, and the sheet-level settings (widths, frozen panes,
filters, conditional formats, charts). Text that looks like a formula, needs escaping, has
control characters or is longer than Excel allows goes through both writers.
"""

from __future__ import annotations

import math
import zipfile
from pathlib import Path

import pytest

from test_workbook import make_project

ROOT = Path(__file__).resolve().parent.parent

# text an Excel writer can get wrong: formula starts, XML specials, whitespace, control characters,
# characters outside ASCII and the BMP, an error-code look-alike, and text over Excel's 32,767 limit
TRICKY = ["=SUM(A1:A3)", "+32 procent", "- ja maar", "@iedereen", "#N/A", "a & b < c > d \"e\" 'f'",
          "  spaties voor en na  ", "regel\r\nnieuwe regel\ttab", "stuur\x01teken\x1f weg", "café € 😀",
          "niet\x0bin\x0cXML\ufffe\uffff \x85C1 blijft",
          "", "x" * 40_000, "\n"]


def _tricky_project(store) -> None:
    """The three sample groups, coded with the shipped IPS codebook's rules, plus tricky text in a
    participant attribute, a theme description, memos and a manual coding by a second coder."""
    from qualcode.codebook.yamlfile import apply_codebook, load_codebook
    from qualcode.coding.autocode import autocode

    apply_codebook(store, load_codebook(ROOT / "codebooks" / "ips.yaml"), source="ips.yaml")
    with store.act("autocode"):
        autocode(store)
    theme = store.themes()[0]
    with store.act("tricky text"):
        store.conn.execute("UPDATE themes SET description = ? WHERE id = ?", ("=1+1 " + TRICKY[5], theme["id"]))
        for i, text in enumerate(TRICKY):
            store.add_memo("theme" if i % 2 else "project", theme["id"] if i % 2 else None, text or "(leeg)",
                           "tester")
        p = store.participants(include_identifying=False)[0]
        store.set_participant_attributes(p["id"], {"functie": "=cmd|' /C calc'!A0"})
        seg = next(s for s in store.segments(role="participant"))
        store.add_coding(seg["id"], store.codes()[0]["id"], "coder_b", "manual")


def _style(c) -> tuple:
    f, a, fo = c.fill, c.alignment, c.font
    return (f.fill_type, f.fgColor.rgb if f.fill_type else None, a.wrap_text, a.vertical, a.horizontal,
            fo.b, fo.sz, fo.color.rgb if fo.color is not None else None, c.number_format)


def _value(v):
    return "nan" if isinstance(v, float) and math.isnan(v) else v


def assert_same_workbook(a: Path, b: Path) -> int:
    """Every sheet, cell (value, type, style) and sheet setting of ``a`` equals ``b``; returns the cells compared."""
    from openpyxl import load_workbook

    wa, wb = load_workbook(a), load_workbook(b)
    assert wa.sheetnames == wb.sheetnames
    n = 0
    for sa, sb in zip(wa.worksheets, wb.worksheets):
        where = f"sheet {sa.title!r}"
        assert (sa.max_row, sa.max_column) == (sb.max_row, sb.max_column), where
        for ra, rb in zip(sa.iter_rows(), sb.iter_rows(), strict=True):
            for ca, cb in zip(ra, rb, strict=True):
                got = (_value(ca.value), ca.data_type, _style(ca))
                assert got == (_value(cb.value), cb.data_type, _style(cb)), f"{where}, cell {ca.coordinate}"
                n += 1
        assert sa.freeze_panes == sb.freeze_panes, where
        assert sa.auto_filter.ref == sb.auto_filter.ref, where
        widths = lambda ws: {k: d.width for k, d in ws.column_dimensions.items()}  # noqa: E731
        assert widths(sa) == widths(sb), where
        cf = lambda ws: sorted((str(r.sqref), len(r.rules)) for r in ws.conditional_formatting)  # noqa: E731
        assert cf(sa) == cf(sb), where
        assert len(sa._charts) == len(sb._charts), where
    return n


@pytest.fixture(scope="module")
def sample_books(tmp_path_factory, _sample_project_file):
    import shutil

    from qualcode.excel.analysis import write_workbook
    from qualcode.store import Store

    d = tmp_path_factory.mktemp("equivalence")
    shutil.copy(_sample_project_file, d / "sample.qualcode")
    store = Store.open(d / "sample.qualcode")
    _tricky_project(store)
    fast, plain = d / "streamed.xlsx", d / "plain.xlsx"
    s1 = write_workbook(store, fast)
    s2 = write_workbook(store, plain, streamed=False)
    yield store, fast, plain, s1, s2
    store.close()


def test_streamed_equals_plain_cell_for_cell(sample_books):
    store, fast, plain, s1, s2 = sample_books
    assert s1.sheets == s2.sheets and s1.fragments == s2.fragments > 100
    cells = assert_same_workbook(fast, plain)
    assert cells > s1.fragments * 12   # the Coded fragments sheet alone has 12 cells per fragment


def test_streamed_sheet_xml_is_what_openpyxl_writes(sample_books):
    """Stronger than equal cells: the streamed sheets are byte for byte the XML openpyxl writes for
    the same cells, and the workbook's style table is the same (same style ids in the same order)."""
    _, fast, plain, _, _ = sample_books
    with zipfile.ZipFile(fast) as za, zipfile.ZipFile(plain) as zb:
        names = sorted(n for n in za.namelist() if not n.startswith("docProps/"))
        assert names == sorted(n for n in zb.namelist() if not n.startswith("docProps/"))
        for name in names:
            assert za.read(name) == zb.read(name), name


def test_tricky_text_stays_text_in_the_streamed_workbook(sample_books):
    from openpyxl import load_workbook

    from qualcode.excel.xlsx import light

    store, fast, _, _, _ = sample_books
    wb = load_workbook(fast)
    memos = [r for r in wb["Memos"].iter_rows(min_row=2)]
    texts = [r[6].value for r in memos]
    for t in TRICKY:
        # characters XML cannot hold are replaced one for one: VT and FF by a space, the rest by U+FFFD
        expected = "".join(" " if ch in "\x0b\x0c" else "\ufffd" if ch in "\ufffe\uffff" or ord(ch) < 32
                           and ch not in "\t\n\r" else ch for ch in (t or "(leeg)"))[:32767]
        assert expected in texts, repr(t[:30])
    for r in memos:
        assert r[6].data_type == "s"
    long_cell = next(r[6] for r in memos if r[6].value.startswith("xxx"))
    assert len(long_cell.value) == 32767
    codebook = {r[1].value: r for r in wb["Codebook"].iter_rows(min_row=2)}
    theme = store.themes()[0]
    cell = codebook[theme["key"]][6]
    assert cell.value.startswith("=1+1 a & b") and cell.data_type == "s"
    assert cell.fill.fgColor.rgb == "FF" + light(theme["colour"], 0.65).lstrip("#")   # the theme's light tint
    people = wb["Participants"]
    header = [c.value for c in people[1]]
    col = header.index("functie")
    assert "=cmd|' /C calc'!A0" in [r[col].value for r in people.iter_rows(min_row=2)]
    # the Theme summary's long-text columns keep their set widths
    assert [wb["Theme summary"].column_dimensions[c].width for c in "DEIJ"] == [45, 45, 80, 40]


def test_mini_project_equivalent(tmp_path):
    """The hand-built project of test_workbook (formula-like fragments, two coders, a theme without
    codes, identifying attributes) gives the same workbook both ways."""
    from qualcode.excel.analysis import write_workbook

    store = make_project(tmp_path / "mini.qualcode")
    try:
        write_workbook(store, tmp_path / "a.xlsx")
        write_workbook(store, tmp_path / "b.xlsx", streamed=False)
    finally:
        store.close()
    assert assert_same_workbook(tmp_path / "a.xlsx", tmp_path / "b.xlsx") > 100


def test_stream_rows_values_and_styles_match_cells(tmp_path):
    """StreamRows against CellRows for every kind of value they accept, with and without styles."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    from qualcode.excel.xlsx import CellRows, CellStyle, StreamRows

    values = [*TRICKY, 0, -7, 12345678901234567890, 2.5, 1e-300, float("nan"), float("inf"), True, False, None]
    fill = PatternFill("solid", start_color="FFE69F00", end_color="FFE69F00")
    styles = [CellStyle(fill=fill), CellStyle(font=Font(bold=True), alignment=Alignment(wrap_text=True)),
              CellStyle(number_format="0.0%"), None]
    files = []
    for kind in (StreamRows, CellRows):
        wb = Workbook(write_only=True)
        ws = wb.create_sheet("t")
        ws.column_dimensions["B"].width = 30
        ws.freeze_panes = "A2"
        out = kind(ws)
        out.append(["header", "row"])
        out.append(values, [styles[i % len(styles)] for i in range(len(values))])
        out.append([])
        out.append(list(reversed(values)))
        ws.auto_filter.ref = "A1:B4"
        out.close()
        files.append(tmp_path / f"{kind.__name__}.xlsx")
        wb.save(files[-1])
    assert assert_same_workbook(*files) >= 2 * len(values)


def test_stream_rows_refuses_values_it_cannot_write(tmp_path):
    import datetime

    from openpyxl import Workbook

    from qualcode.excel.xlsx import StreamRows

    wb = Workbook(write_only=True)
    out = StreamRows(wb.create_sheet("t"))
    with pytest.raises(TypeError, match="cannot stream a date to a worksheet cell \\(row 1, column 2\\)"):
        out.append(["ok", datetime.date(2024, 1, 1)])
    out.discard()


def test_lemma_cache_does_not_change_the_ranking(sample_books):
    from qualcode.reports.quotes import rank_by_typicality

    store = sample_books[0]
    cache: dict = {}
    for t in store.themes():
        segs = store.theme_fragments(t["id"])
        plain = [(s["id"], round(x, 12)) for s, x in rank_by_typicality(segs, "nl")]
        cached = [(s["id"], round(x, 12)) for s, x in rank_by_typicality(segs, "nl", docs_cache=cache)]
        assert plain == cached and len(plain) > 1
    assert cache   # filled, and reused by the later themes


def test_coded_fragment_rows_equal_dicts(sample_books):
    store = sample_books[0]
    rows = [dict(r) for r in store.iter_coded_fragments("theme", as_dict=False)]
    assert rows == list(store.iter_coded_fragments("theme")) and rows
