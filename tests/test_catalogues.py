"""Language catalogues: the workbook, the report and the charts in the project's language."""

from __future__ import annotations

from qualcode.reports.catalogues import all_catalogues, catalogue

from test_workbook import make_project


def test_both_catalogues_have_the_same_keys_and_kinds():
    cats = all_catalogues()
    assert set(cats) == {"nl", "en"}
    assert set(cats["nl"]) == set(cats["en"])
    for k in cats["en"]:
        assert type(cats["nl"][k]) is type(cats["en"][k]), k
        if isinstance(cats["en"][k], dict):
            assert set(cats["nl"][k]) == set(cats["en"][k]), k
        if isinstance(cats["en"][k], list):
            assert len(cats["nl"][k]) == len(cats["en"][k]), k
        if isinstance(cats["en"][k], str):   # the same placeholders
            import re

            assert sorted(re.findall(r"{(\w+)}", cats["nl"][k])) == sorted(re.findall(r"{(\w+)}", cats["en"][k])), k


def _english_only() -> set[str]:
    en, nl = catalogue("en"), catalogue("nl")
    return {v for k, v in en.items() if isinstance(v, str) and v != nl[k]}


def test_dutch_workbook_has_no_english_sheet_name_or_header(tmp_path):
    from openpyxl import load_workbook

    from qualcode.excel.analysis import write_workbook

    store = make_project(tmp_path / "nl.qualcode", language="nl")
    out = tmp_path / "analysis.xlsx"
    write_workbook(store, out, coders=["anna", "ben"])
    english = _english_only()
    wb = load_workbook(out)
    attrs = set(store.attribute_names())   # the researcher's own column names
    assert not set(wb.sheetnames) & english, wb.sheetnames
    for ws in wb.worksheets:
        for row in ws.iter_rows(max_row=60, values_only=True):   # headers, titles, labels
            for v in row:
                if isinstance(v, str) and v not in attrs:
                    assert v not in english, (ws.title, v)
                    assert not any(v.startswith(e.split("{")[0]) for e in english if "{" in e and len(e.split("{")[0]) > 5), (ws.title, v)
    for chart_xml in _chart_titles(out):
        assert chart_xml not in english
    assert "Codeboek" in wb.sheetnames and "Citaten" in wb.sheetnames
    store.close()


def _chart_titles(path) -> list[str]:
    import re
    import zipfile

    with zipfile.ZipFile(path) as z:
        return [t for n in z.namelist() if n.startswith("xl/charts/chart")
                for t in re.findall(r"<a:t>([^<]*)</a:t>", z.read(n).decode())]


def test_english_project_gets_english_workbook(tmp_path):
    from openpyxl import load_workbook

    from qualcode.excel.analysis import SHEETS, write_workbook

    store = make_project(tmp_path / "en.qualcode", language="en")
    out = tmp_path / "analysis.xlsx"
    write_workbook(store, out)
    assert load_workbook(out, read_only=True).sheetnames[:12] == list(SHEETS)
    assert _chart_titles(out)[:1] == ["Coded fragments per theme"]
    store.close()
