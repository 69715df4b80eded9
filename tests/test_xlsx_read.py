"""The one xlsx reader (qualcode.excel.xlsx.read_xlsx): every user workbook is opened through it."""

from __future__ import annotations

import zipfile

import pytest
from openpyxl import Workbook

from qualcode.errors import InputError
from qualcode.excel.xlsx import read_xlsx


def _book(path, edit=None):
    wb = Workbook()
    ws = wb.active
    ws.title = "Coding"
    ws.append(["key", "text", "code 1"])
    ws.append(["F1 P1", "=SUM(A1:A2)", "pros"])
    ws.append(["F1 P2", "- ja maar", None, None, "verder"])
    ws["C2"] = "=A1"                     # a formula
    ws["B2"].data_type = "s"             # text that only looks like one
    ws.merge_cells("A4:B5")
    ws["A4"] = "samengevoegd"
    other = wb.create_sheet("Codebook")
    other.append(["code"])
    other.append(["pros"])
    if edit:
        edit(wb)
    wb.save(path)
    return path


def test_values_formulas_merged_and_padding(tmp_path):
    book = read_xlsx(_book(tmp_path / "a.xlsx"), "coding workbook", formulas=True, merged=True)
    assert book.sheetnames == ["Coding", "Codebook"] and "Codebook" in book
    rows = book["Coding"].rows
    assert rows[0] == ["key", "text", "code 1", None, None]          # every row as wide as the widest
    assert rows[1] == ["F1 P1", "=SUM(A1:A2)", "=A1", None, None]
    assert rows[2][4] == "verder" and rows[3][0] == "samengevoegd"
    assert book["Coding"].formulas == {(2, 2)}                        # C2, not the text in B2
    assert book["Coding"].merged == [(4, 5, 1, 2, "A4:B5")]


def test_cached_values_and_chosen_sheets(tmp_path):
    book = read_xlsx(_book(tmp_path / "a.xlsx"), sheets=[1, "Nope"])
    assert list(book.sheets) == ["Codebook"] and book.sheetnames == ["Coding", "Codebook"]
    assert book["Codebook"].rows == [["code"], ["pros"]] and book["Codebook"].formulas == set()


def test_a_wrong_stored_size_does_not_cut_rows(tmp_path):
    """Some writers store the size 'A1' whatever the sheet holds; the rows are read as written."""
    path = _book(tmp_path / "a.xlsx")
    fixed = tmp_path / "b.xlsx"
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(fixed, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b'<dimension ref="A1:E5"/>', b'<dimension ref="A1"/>')
                assert b'<dimension ref="A1"/>' in data
            zout.writestr(item, data)
    assert read_xlsx(fixed)["Coding"].rows[2][4] == "verder"


def test_missing_damaged_and_hostile_files_are_refused(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        read_xlsx(tmp_path / "none.xlsx")
    bad = tmp_path / "bad.xlsx"
    bad.write_text("not a workbook")
    with pytest.raises(InputError, match=r"bad.xlsx: is not a valid suggestions workbook \(not a ZIP archive"):
        read_xlsx(bad, "suggestions workbook")
    evil = tmp_path / "evil.xlsx"
    with zipfile.ZipFile(evil, "w") as z:
        z.writestr("../../etc/x.xml", "<a/>")
    with pytest.raises(InputError, match="unsafe path"):
        read_xlsx(evil)
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/worksheets/sheet1.xml", b"<a>" + b" " * (8 * 1024 * 1024) + b"</a>")
    with pytest.raises(InputError, match="zip bomb"):
        read_xlsx(bomb)
    not_xlsx = tmp_path / "plain.zip.xlsx"
    with zipfile.ZipFile(not_xlsx, "w") as z:
        z.writestr("hello.txt", "hi")
    with pytest.raises(InputError, match=r"cannot be read as an Excel workbook \("):
        read_xlsx(not_xlsx)


def test_the_workbook_is_closed_on_every_way_out(tmp_path, monkeypatch):
    import openpyxl

    opened = []
    real = openpyxl.load_workbook

    def tracking(*args, **kw):
        wb = real(*args, **kw)
        wb.close = lambda wb=wb, close=wb.close: (opened.remove(wb), close())[1]
        opened.append(wb)
        return wb

    monkeypatch.setattr(openpyxl, "load_workbook", tracking)
    path = _book(tmp_path / "a.xlsx")
    read_xlsx(path)
    assert opened == []
    broken = tmp_path / "broken.xlsx"    # opens, then fails while its sheet is read
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(broken, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data[: len(data) // 2]
            zout.writestr(item, data)
    with pytest.raises(InputError, match=r"broken.xlsx: cannot be read as an Excel workbook \("):
        read_xlsx(broken)
    assert opened == []


def test_every_workbook_reader_uses_it():
    """No module but qualcode/excel/xlsx.py opens a workbook with openpyxl."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "qualcode"
    users = sorted(str(p.relative_to(root)) for p in root.rglob("*.py") if "load_workbook" in p.read_text())
    assert users == ["excel/xlsx.py"]
