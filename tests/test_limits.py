"""Scale limits (issue 23), each tested at the limit: more segments than a row of the hidden sheet
could hold (Excel's last column), a turn and a memo longer than an Excel cell, more rows than a
worksheet holds, a turn longer than spaCy's max_length, a project in a read-only folder."""

from __future__ import annotations

import hashlib

import pytest

from qualcode.excel import coding_sheet as sheet_mod
from qualcode.excel.coding_sheet import CELL_LIMIT, export_sheet, import_sheet, split_cell_text


def add_source(store, name: str, turns: list[tuple[str, str]], group: str = "F1") -> int:
    """A source with the given (speaker, text) turns, straight through the store (no ingest)."""
    text = "\n".join(f"{sp}: {t}" for sp, t in turns)
    with store.act("test source"):
        pid = {}
        for sp, _ in turns:
            if sp.startswith("P") and sp not in pid:
                pid[sp] = store.add_participant(group, sp)
        sid = store.add_source(name=name, format="txt", group_label=group, group_origin="header", text=text,
                               sha256=hashlib.sha256(text.encode()).hexdigest(),
                               file_sha256=hashlib.sha256(name.encode()).hexdigest(), encoding="utf-8",
                               n_words=len(text.split()))
        rows, pos = [], 0
        for k, (sp, t) in enumerate(turns, start=1):
            start = pos + len(sp) + 2
            rows.append({"ordinal": k, "turn": k, "speaker": sp, "role": "participant" if sp in pid else "moderator",
                         "participant_id": pid.get(sp), "start": start, "end": start + len(t), "text": t,
                         "n_words": len(t.split())})
            pos = start + len(t) + 1
        store.add_segments(sid, rows)
    return sid


# ------------------------------------------------------------------ cell text
@pytest.mark.parametrize("text, sizes", [
    ("", [0]), ("a" * CELL_LIMIT, [CELL_LIMIT]), ("a" * (CELL_LIMIT + 1), [CELL_LIMIT, 1]),
    ("a" * (2 * CELL_LIMIT + 5), [CELL_LIMIT, CELL_LIMIT, 5]),
    # a character outside the BMP counts two in Excel and is never cut in half
    ("a" * (CELL_LIMIT - 1) + "\U0001F600" + "b", [CELL_LIMIT - 1, 2]),
])
def test_split_cell_text(text, sizes):
    pieces = split_cell_text(text)
    assert "".join(pieces) == text
    assert [len(p) for p in pieces] == sizes
    assert all(len(p.encode("utf-16-le")) // 2 <= CELL_LIMIT for p in pieces)


def test_a_turn_and_a_memo_longer_than_a_cell_survive_the_round_trip(empty_store, tmp_path, tiny_codebook_factory):
    from openpyxl import load_workbook

    long_turn = ("Ik vertel een lang verhaal over mijn werk. " * 1700)[:2 * CELL_LIMIT + 10]  # 3 cells
    at_limit = "x" * CELL_LIMIT
    add_source(empty_store, "F1.txt", [("P1", long_turn), ("P2", at_limit), ("P1", "Kort.")])
    ids = tiny_codebook_factory(empty_store)
    segs = list(empty_store.segments())
    with empty_store.act("memo"):
        empty_store.add_memo("segment", segs[0]["id"], "m" * (CELL_LIMIT + 100), "ann")
        empty_store.add_coding(segs[0]["id"], ids["pros"], "ann")
    out = tmp_path / "sheet.xlsx"
    export_sheet(empty_store, str(out), coder="ann")
    ws = load_workbook(out)["Coding"]
    header = [c.value for c in ws[1]]
    assert header[:6] == ["key", "speaker", "time", "text", "text (2)", "text (3)"]
    assert "memo (2)" in header and header[-1] == "qualcode id"
    assert "".join(ws.cell(2, k).value or "" for k in (4, 5, 6)) == long_turn
    assert ws.cell(3, 4).value == at_limit and ws.cell(3, 5).value is None
    # unedited, the round trip changes nothing
    res = import_sheet(empty_store, str(out), coder="ann")
    assert (res.n_added, res.n_removed, res.memos, res.problems) == (0, 0, 0, [])
    # edited text in a continuation cell is caught like any edit
    wb = load_workbook(out)
    wb["Coding"].cell(2, 5, "anders")
    wb.save(out)
    with pytest.raises(sheet_mod.SheetImportError, match="the text of segment #1 was edited"):
        import_sheet(empty_store, str(out), coder="ann")


def test_more_segments_than_excel_has_columns(empty_store, tmp_path, tiny_codebook_factory):
    """18,278 ids in one row of the hidden sheet passed openpyxl's last column ('Invalid column index
    18279') and Excel's (16,384) long before: the ids now go down several rows."""
    n = 18_300
    add_source(empty_store, "F1.txt", [(f"P{1 + k % 7}", f"zin {k}") for k in range(n)])
    tiny_codebook_factory(empty_store)
    out = tmp_path / "sheet.xlsx"
    assert export_sheet(empty_store, str(out), coder="ann").segments == n
    from openpyxl import load_workbook

    meta = load_workbook(out, read_only=True)["_qualcode"]
    rows = [r for r in meta.iter_rows(values_only=True) if r and r[0] == "segments"]
    assert len(rows) == 2 and max(len(r) for r in rows) <= 16_384
    res = import_sheet(empty_store, str(out), coder="ann")
    assert (res.rows, res.n_added, res.problems) == (n, 0, [])


# ------------------------------------------------------------------ rows per worksheet
def test_workbook_tables_longer_than_a_sheet_go_on_in_continuation_sheets(empty_store, tmp_path, monkeypatch,
                                                                          tiny_codebook_factory):
    """Excel's 1,048,576 rows, tested with the limit set to 5: the header plus 4 rows per sheet."""
    from openpyxl import load_workbook

    from qualcode.excel import analysis as workbook

    monkeypatch.setattr(workbook, "MAX_SHEET_ROWS", 5)
    add_source(empty_store, "F1.txt", [(f"P{1 + k % 3}", f"fragment {k}") for k in range(10)])
    ids = tiny_codebook_factory(empty_store)
    with empty_store.act("code"):
        for s in empty_store.segments(role="participant"):
            empty_store.add_coding(s["id"], ids["pros"], "ann")
    out = tmp_path / "wb.xlsx"
    empty_store.set_meta("language", "en")   # English sheet names and headers
    summary = workbook.write_workbook(empty_store, out)
    wb = load_workbook(out)
    names = wb.sheetnames
    assert names[names.index("Coded fragments"):names.index("Coded fragments") + 4] == [
        "Coded fragments", "Coded fragments (2)", "Coded fragments (3)", "By theme"]
    pages = [wb[n] for n in ("Coded fragments", "Coded fragments (2)", "Coded fragments (3)")]
    assert [p.max_row for p in pages] == [5, 5, 3]  # 10 fragments: 4 + 4 + 2, each under the header
    assert all([c.value for c in p[1]] == workbook._FRAGMENT_HEADER for p in pages)
    assert all(p.print_title_rows == "$1:$1" for p in pages)   # each continuation prints its header
    got = [p.cell(r, 12).value for p in pages for r in range(2, p.max_row + 1)]
    assert sorted(got) == sorted(f"fragment {k}" for k in range(10))
    assert pages[1].auto_filter.ref == "A1:L5" and pages[2].auto_filter.ref == "A1:L3"
    assert "By theme (4)" in names and "By theme (5)" not in names  # band + 10 rows + 2 subtotals: 13 rows
    assert all(wb[n].max_row <= 5 for n in names if n.startswith(("Coded fragments", "By theme")))
    assert summary.lines()[2] == ("more rows than an Excel sheet holds (5); continued in: Codebook (2), "
                                  "Coded fragments (2), Coded fragments (3), By theme (2), By theme (3), By theme (4), "
                                  "Quotes (2), Quotes (3), Quotes (4)")


def test_workbook_at_the_row_limit_stays_on_one_sheet(empty_store, tmp_path, monkeypatch, tiny_codebook_factory):
    from openpyxl import load_workbook

    from qualcode.excel import analysis as workbook

    monkeypatch.setattr(workbook, "MAX_SHEET_ROWS", 11)  # header + exactly 10 fragments
    add_source(empty_store, "F1.txt", [(f"P{1 + k % 3}", f"fragment {k}") for k in range(10)])
    ids = tiny_codebook_factory(empty_store)
    with empty_store.act("code"):
        for s in empty_store.segments(role="participant"):
            empty_store.add_coding(s["id"], ids["pros"], "ann")
    empty_store.set_meta("language", "en")
    workbook.write_workbook(empty_store, tmp_path / "wb.xlsx")
    names = load_workbook(tmp_path / "wb.xlsx").sheetnames
    assert "Coded fragments" in names and "Coded fragments (2)" not in names


# ------------------------------------------------------------------ spaCy's max_length
def test_a_turn_over_a_million_characters_is_autocoded_and_overviewed(empty_store):
    """spaCy refuses texts over nlp.max_length (1,000,000 by default); the blank pipeline takes longer ones."""
    from qualcode.codebook.yamlfile import apply_codebook, parse_codebook
    from qualcode.coding.autocode import autocode
    from qualcode.familiarise.overview import distinctive_terms

    words = ["ik", "werk", "graag", "in", "de", "zorg", "met", "structuur"]
    long_turn = " ".join(words[k % len(words)] for k in range(220_000))
    long_turn = (long_turn + " jobcoach")[-1_000_001:]
    assert len(long_turn) == 1_000_001
    add_source(empty_store, "F1.txt", [("P1", long_turn), ("P2", "Kort en goed.")])
    add_source(empty_store, "F2.txt", [("P1", "Iets anders."), ("P2", "Nog iets.")], group="F2")
    apply_codebook(empty_store, parse_codebook({"name": "t", "themes": [{"id": "th", "name": "T", "colour": "#112233",
                   "codes": [{"id": "coach", "name": "C", "rules": {"keywords": ["jobcoach"]}},
                             {"id": "kort", "name": "K", "rules": {"keywords": ["kort"]}}]}]}), source="t")
    result = autocode(empty_store)
    assert result.per_code == {"coach": 1, "kort": 1}
    terms = distinctive_terms(empty_store)
    assert "structuur" in [t["term"] for t in terms["F1"]]


def test_the_blank_pipeline_takes_long_texts():
    from qualcode.text.nlp import BLANK_MAX_LENGTH, pipeline

    assert pipeline("nl").max_length == BLANK_MAX_LENGTH >= 10_000_000


# ------------------------------------------------------------------ read-only folder
@pytest.fixture
def ro_project(tmp_path, tiny_codebook_factory):
    """A closed project (no -wal/-shm left) in a folder made read-only; root ignores the mode, so
    os.access, which qualcode asks, is made to say what it says to a student."""
    import stat

    from qualcode.store import Store

    folder = tmp_path / "share"
    folder.mkdir()
    path = folder / "p.qualcode"
    store = Store.create(path)
    add_source(store, "F1.txt", [("P1", "Ik werk graag."), ("P2", "Ik ook.")])
    tiny_codebook_factory(store)
    store.close()
    assert sorted(p.name for p in folder.iterdir()) == ["p.qualcode"]
    path.chmod(stat.S_IRUSR | stat.S_IRGRP)
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    yield path
    folder.chmod(stat.S_IRWXU)
    path.chmod(stat.S_IRUSR | stat.S_IWUSR)


def _deny_writes(monkeypatch, folder):
    import os

    from qualcode.store import core

    real = os.access

    def access(p, mode, *a, **k):
        if mode & os.W_OK and str(p).startswith(str(folder)):
            return False
        return real(p, mode, *a, **k)

    monkeypatch.setattr(core.os, "access", access)


def test_the_read_only_api_opens_a_project_in_a_read_only_folder(ro_project, monkeypatch):
    import os

    from qualcode import Project
    from qualcode.errors import ProjectError
    from qualcode.store import Store

    folder = ro_project.parent
    if os.access(folder, os.W_OK):  # root: the folder's mode is not enforced; let qualcode see it as a student
        _deny_writes(monkeypatch, folder)
    with pytest.raises(ProjectError, match="its folder or the file is read-only") if os.geteuid() else \
            _opens_anyway():
        Store.open(ro_project).close()
    with Project.open(ro_project) as p:
        assert list(p.segments().text) == ["Ik werk graag.", "Ik ook."]
        assert set(p.codes().key) >= {"pros", "cons"}
        with pytest.raises(Exception, match="readonly|read-only|query_only|attempt to write"):
            p.store.conn.execute("INSERT INTO coders(name, guid) VALUES ('x', 'y')")
    assert sorted(x.name for x in folder.iterdir()) == ["p.qualcode"]  # no -wal, -shm or lock left behind


class _opens_anyway:
    """As root the writable open succeeds (permissions are not enforced); nothing to assert then."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_read_only_folder_with_unmerged_changes_is_a_clear_error(ro_project, monkeypatch):
    import stat

    from qualcode import Project
    from qualcode.errors import ProjectError

    folder = ro_project.parent
    folder.chmod(stat.S_IRWXU)
    (folder / "p.qualcode-wal").write_bytes(b"\0" * 100)
    _deny_writes(monkeypatch, folder)
    with pytest.raises(ProjectError) as exc:
        Project.open(ro_project)
    assert str(exc.value).startswith(f"cannot read {ro_project}: its folder is read-only and it has changes not "
                                     "yet written into the file (p.qualcode-wal)")


def test_a_pipeline_that_refuses_a_long_text_is_a_clear_error(empty_store, run, monkeypatch):
    """A trained pipeline named in the codebook keeps spaCy's max_length (its parser needs the memory):
    a longer turn is one clear line, not 'a bug in qualcode'. Simulated with a short limit."""
    from qualcode.text import nlp
    from qualcode.codebook.yamlfile import apply_codebook, parse_codebook

    add_source(empty_store, "F1.txt", [("P1", "werk " * 60), ("P2", "Kort.")])
    apply_codebook(empty_store, parse_codebook({"name": "t", "themes": [{"id": "th", "name": "T", "colour": "#112233",
                   "codes": [{"id": "w", "name": "W", "rules": {"keywords": ["werk"]}}]}]}), source="t")
    path = empty_store.path
    empty_store.close()
    nlp.pipeline.cache_clear()
    monkeypatch.setattr(nlp, "BLANK_MAX_LENGTH", 100)
    try:
        r = run(path, "autocode")
    finally:
        nlp.pipeline.cache_clear()
    assert r.exit_code == 1
    assert r.stderr.strip() == (
        "Error: a segment is longer than the spaCy pipeline named in the codebook ('spacy_pipeline') takes (its "
        "nlp.max_length); split that turn in the transcript, or remove 'spacy_pipeline' to use the built-in "
        "pipeline, which takes long texts. Nothing was written.")
