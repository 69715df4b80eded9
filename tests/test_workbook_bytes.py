"""The analysis workbook of a tricky project: the same bytes every time, tricky text kept as text.

Text that looks like a formula, needs escaping, has control characters or is longer than Excel
allows goes through the workbook writer and is read back with openpyxl. The writer itself
(every kind of value and style, sheet settings, charts) is tested in tests/test_spreadsheetml.py.
"""

from __future__ import annotations

import re
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


@pytest.fixture(scope="module")
def sample_books(tmp_path_factory, _sample_project_file):
    import shutil

    from qualcode.excel.analysis import write_workbook
    from qualcode.store import Store

    d = tmp_path_factory.mktemp("equivalence")
    shutil.copy(_sample_project_file, d / "sample.qualcode")
    store = Store.open(d / "sample.qualcode")
    _tricky_project(store)
    first, again = d / "first.xlsx", d / "again.xlsx"
    everyone = store.coders_with_codings()   # every coder's codings, rule matches too: the most rows
    s1 = write_workbook(store, first, coders=everyone)
    s2 = write_workbook(store, again, coders=everyone)
    yield store, first, again, s1, s2
    store.close()


def test_same_project_gives_the_same_bytes(sample_books):
    """Written twice from the same project, every part of the package is byte for byte the same
    except the created/modified times in docProps/core.xml (the zip entries' dates may differ too)."""
    _, first, again, s1, s2 = sample_books
    assert s1.sheets == s2.sheets and s1.fragments == s2.fragments > 100
    with zipfile.ZipFile(first) as za, zipfile.ZipFile(again) as zb:
        assert za.namelist() == zb.namelist()
        for name in za.namelist():
            if name != "docProps/core.xml":
                assert za.read(name) == zb.read(name), name
    strip = re.compile(rb"<dcterms:(created|modified)[^>]*>[^<]*</dcterms:\1>")
    with zipfile.ZipFile(first) as za, zipfile.ZipFile(again) as zb:
        assert strip.sub(b"", za.read("docProps/core.xml")) == strip.sub(b"", zb.read("docProps/core.xml"))


def test_tricky_text_stays_text_in_the_workbook(sample_books):
    from openpyxl import load_workbook

    from qualcode.excel.xlsx import light
    from qualcode.reports.catalogues import catalogue

    store, first, _, _, _ = sample_books
    wb = load_workbook(first)
    L = catalogue(store.language)   # the sample project is Dutch: Dutch sheet names
    memos = [r for r in wb[L["sheet_memos"]].iter_rows(min_row=2)]
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
    codebook = {r[1].value: r for r in wb[L["sheet_codebook"]].iter_rows(min_row=2)}
    theme = store.themes()[0]
    cell = codebook[theme["key"]][6]
    assert cell.value.startswith("=1+1 a & b") and cell.data_type == "s"
    assert cell.fill.fgColor.rgb == "FF" + light(theme["colour"], 0.65).lstrip("#")   # the theme's light tint
    people = wb[L["sheet_participants"]]
    header = [c.value for c in people[1]]
    col = header.index("functie")
    assert "=cmd|' /C calc'!A0" in [r[col].value for r in people.iter_rows(min_row=2)]
    # the Theme summary's long-text columns keep their set widths
    assert [wb[L["sheet_summary"]].column_dimensions[c].width for c in "DEIJ"] == [40, 45, 70, 30]


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
