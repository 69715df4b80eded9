"""The Excel coding round trip: export, edit as a student would, import back."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from qualcode.errors import InputError
from qualcode.excel.coding_sheet import SheetImportError, export_sheet, import_sheet

def set_text(c, value) -> None:
    """Set an openpyxl cell's value as Excel does for typed text: text stays text, never a formula."""
    c.value = value
    if isinstance(value, str):
        c.data_type = "s"


TRANSCRIPT = """\
# group: F1
Moderator: Welkom. Wat denken jullie over werk?
P1: Werk geeft mij structuur en ik ben er trots op.
P2: - ja maar de werkdruk, dat is stress.
P1: =SUM(A1) is geen formule hier.
P3: Een jobcoach in het team, bij de intake al.
P2: Ja.
"""


def make_project(tmp_path, name="p.qualcode", transcript=TRANSCRIPT):
    from qualcode.ingest import ingest
    from qualcode.store import Store
    from tests.helpers import tiny_codebook

    store = Store.create(tmp_path / name, language="nl")
    f = tmp_path / f"{name}.F1.txt"
    f.write_text(transcript, encoding="utf-8")
    ingest(store, [f], group="F1", allow_new_speakers=True)
    tiny_codebook(store)
    return store


@pytest.fixture
def store(tmp_path):
    s = make_project(tmp_path)
    yield s
    s.close()


def seg_ids(store) -> list[int]:
    return [s["id"] for s in store.segments()]


def code(store, sid, key, coder="ann"):
    with store.act("test"):
        store.add_coding(sid, store.code(key)["id"], coder)


def codings(store, coder="ann") -> set[tuple[int, str]]:
    return {(c["segment_id"], c["code"]) for c in store.codings(coder=coder)}


class Sheet:
    """The Coding sheet opened for editing, with columns found by header."""

    def __init__(self, path):
        self.path = path
        self.wb = load_workbook(path)
        self.ws = self.wb["Coding"]
        self.cols = {c.value: c.column for c in self.ws[1]}

    def rows(self) -> list[int]:
        return list(range(2, self.ws.max_row + 1))

    def row_of(self, sid: int) -> int:
        for r in self.rows():
            v = self.ws.cell(r, self.cols["qualcode id"]).value
            if v and v.split(":")[0] == str(sid):
                return r
        raise KeyError(sid)

    def set(self, r: int, header: str, value) -> None:
        self.ws.cell(r, self.cols[header]).value = value

    def get(self, r: int, header: str):
        return self.ws.cell(r, self.cols[header]).value

    def set_codes(self, r: int, codes: list[str]) -> None:
        for i in range(1, 100):
            if f"code {i}" not in self.cols:
                break
            self.set(r, f"code {i}", codes[i - 1] if i <= len(codes) else None)

    def shuffle(self, seed: int = 1) -> None:
        width = self.ws.max_column
        data = [[self.ws.cell(r, c).value for c in range(1, width + 1)] for r in self.rows()]
        random.Random(seed).shuffle(data)
        for r, values in zip(self.rows(), data):
            for c, v in enumerate(values, start=1):
                set_text(self.ws.cell(r, c), v)  # as Excel's sort: text stays text

    def save(self) -> None:
        self.wb.save(self.path)


# ------------------------------------------------------------------ export
def shown_codes(sh: "Sheet", fragments: bool = False) -> set[tuple]:
    """(segment id, code) per code cell of an exported sheet; with ``fragments``, (segment id, code,
    fragment words or "")."""
    shown = set()
    for r in sh.rows():
        sid = int(sh.get(r, "qualcode id").split(":")[0])
        words = (sh.get(r, "fragment") or "",) if fragments else ()
        shown |= {(sid, sh.get(r, h), *words) for h in sh.cols if h.startswith("code ") and sh.get(r, h)}
    return shown


def test_export_content(store, tmp_path):
    ids = seg_ids(store)
    code(store, ids[1], "cons")
    code(store, ids[1], "pros")
    out = tmp_path / "coding.xlsx"
    written = export_sheet(store, str(out), coder="ann")
    assert (written.path, written.segments, written.coded, written.fragment_rows, written.codes) == (str(out), 6, 1, 0, 4)
    from qualcode.cli.formatting import sheet_written

    assert sheet_written(written).startswith(f"wrote {out}: 6 segments (1 with codes by ann), 4 codes in the "
                                             "drop-down lists.")
    wb = load_workbook(out)
    ws = wb["Coding"]
    header = [c.value for c in ws[1]]
    assert header == ["key", "speaker", "time", "text", "fragment", "code 1", "code 2", "code 3", "code 4", "memo",
                      "qualcode id"]
    assert [ws.cell(r, 1).value for r in range(2, 8)] == ["F1 Moderator", "F1 P1", "F1 P2", "F1 P1", "F1 P3",
                                                         "F1 P2"]
    assert ws["D3"].value == "Werk geeft mij structuur en ik ben er trots op."
    assert ws["E3"].value is None                                  # no fragment: the whole segment
    assert ws["F3"].value == "pros" and ws["G3"].value == "cons" and ws["H3"].value is None
    assert ws["D5"].value == "=SUM(A1) is geen formule hier." and ws["D5"].data_type == "s"
    assert ws["D4"].value.startswith("- ja maar") and ws["D4"].data_type == "s"
    assert ws.column_dimensions["K"].hidden and ws.freeze_panes == "F2" and ws.auto_filter.ref == "A1:K7"
    assert ws["K3"].value.startswith(f"{ids[1]}:") and len(ws["K3"].value.split(":")[1]) == 10
    # the row takes the (light) colour of its first code's theme; uncoded rows stay white
    assert ws["A3"].fill.fgColor.rgb == "FFF5D999" and ws["A2"].fill.fill_type is None
    dv = ws.data_validations.dataValidation[0]
    # stored as Excel stores it: the range without a leading "="
    # the drop-down offers the codes' names (the Codebook sheet's 'code name' column)
    assert dv.type == "list" and dv.formula1 == "Codebook!$F$2:$F$5" and str(dv.sqref) == "F2:I7"
    cb = wb["Codebook"]
    assert [cb.cell(r, 5).value for r in range(2, 6)] == ["pros", "cons", "coach", "intake"]
    assert cb.cell(1, 6).value == "code name" and all(cb.cell(r, 6).value for r in range(2, 6))
    # printed landscape with the header row and the key column on every page
    assert ws.page_setup.orientation == "landscape"
    assert ws.print_title_rows == "$1:$1" and ws.print_title_cols == "$A:$A"
    assert cb["C2"].value == "#E69F00" and cb["M2"].value == "structuur; trots"
    meta = wb["_qualcode"]
    assert meta.sheet_state == "hidden"
    assert [c.value for c in meta[5] if c.value] == ["code columns", "code 1, code 2, code 3, code 4"]
    assert [c.value for c in meta[6]] == ["segments", *ids]


def test_export_unknown_group(store, tmp_path):
    with pytest.raises(Exception) as exc:
        export_sheet(store, str(tmp_path / "x.xlsx"), coder="ann", group="F9")
    assert str(exc.value) == "unknown group 'F9'. Did you mean: F1?"


# ------------------------------------------------------------------ round trip
def test_no_edits_changes_nothing(store, tmp_path):
    ids = seg_ids(store)
    code(store, ids[1], "pros")
    out = tmp_path / "coding.xlsx"
    export_sheet(store, str(out), coder="ann")
    before = codings(store)
    result = import_sheet(store, str(out), coder="ann")
    assert codings(store) == before
    assert result.lines() == [f"{out}: 6 rows read for coder ann: 0 codings added, 0 removed, 0 memos added",
                              "nothing changed."]


def test_student_edits_survive_sorting_hiding_notes_and_recolouring(store, tmp_path):
    from openpyxl.styles import PatternFill

    ids = seg_ids(store)
    code(store, ids[1], "pros")
    code(store, ids[2], "cons")
    out = tmp_path / "coding.xlsx"
    export_sheet(store, str(out), coder="ann")
    sh = Sheet(out)
    sh.shuffle()
    sh.set_codes(sh.row_of(ids[1]), ["pros", "cons"])           # add a code
    sh.set_codes(sh.row_of(ids[2]), [])                         # remove a code
    sh.set(sh.row_of(ids[4]), "code 3", "Coach; intake")        # two codes in one cell, any case
    sh.set(sh.row_of(ids[3]), "memo", "Ironisch bedoeld?")
    sh.ws.insert_cols(3)                                        # a notes column of her own
    sh.ws.cell(1, 3).value = "mijn notities"
    sh.ws.cell(2, 3).value = "nakijken"
    sh.ws.column_dimensions["A"].hidden = True
    for r in sh.rows():
        sh.ws.cell(r, 1).fill = PatternFill("solid", start_color="FFFF0000")
    sh.save()
    result = import_sheet(store, str(out), coder="ann")
    assert codings(store) == {(ids[1], "pros"), (ids[1], "cons"), (ids[4], "coach"), (ids[4], "intake")}
    assert result.added == {"cons": 1, "coach": 1, "intake": 1} and result.removed == {"cons": 1}
    assert result.lines() == [f"{out}: 6 rows read for coder ann: 3 codings added, 1 removed, 1 memos added",
                              "  coach: +1 -0", "  cons: +1 -1", "  intake: +1 -0"]
    assert [m["text"] for m in store.memos("segment", ids[3])] == ["Ironisch bedoeld?"]
    assert {c["origin"] for c in store.codings(coder="ann")} == {"manual"}
    assert store.history(1)[0]["command"] == "sheet import"
    # export again: exactly those codes, and the memo; importing that again changes nothing
    out2 = tmp_path / "again.xlsx"
    export_sheet(store, str(out2), coder="ann")
    sh2 = Sheet(out2)
    assert [sh2.get(sh2.row_of(ids[1]), f"code {i}") for i in (1, 2, 3)] == ["pros", "cons", None]
    assert [sh2.get(sh2.row_of(ids[4]), f"code {i}") for i in (1, 2)] == ["coach", "intake"]
    assert sh2.get(sh2.row_of(ids[3]), "memo") == "Ironisch bedoeld?"
    again = import_sheet(store, str(out2), coder="ann")
    assert (again.n_added, again.n_removed, again.memos) == (0, 0, 0)


def test_memo_appended_text_becomes_new_memo(store, tmp_path):
    ids = seg_ids(store)
    with store.act("memo"):
        store.add_memo("segment", ids[1], "Eerste gedachte.", "ann")
    out = tmp_path / "coding.xlsx"
    export_sheet(store, str(out), coder="ann")
    sh = Sheet(out)
    r = sh.row_of(ids[1])
    assert sh.get(r, "memo") == "Eerste gedachte."
    sh.set(r, "memo", "Eerste gedachte.\n\nTweede gedachte.")
    sh.save()
    assert import_sheet(store, str(out), coder="ann").memos == 1
    assert [m["text"] for m in store.memos("segment", ids[1])] == ["Eerste gedachte.", "Tweede gedachte."]


# ------------------------------------------------------------------ import errors
def _refusal(store, path, **kwargs) -> str:
    """The one-line error of an import that is refused outright."""
    with pytest.raises(InputError) as exc:
        import_sheet(store, str(path), **kwargs)
    return str(exc.value)


def _problem(store, out, coder="ann") -> str:
    before = codings(store)
    with pytest.raises(SheetImportError) as exc:
        import_sheet(store, str(out), coder=coder)
    assert codings(store) == before  # nothing written
    return str(exc.value).replace(str(out), "coding.xlsx")


HEAD = ("coding.xlsx: 1 problem; nothing was imported (fix them, or use --accept-partial to import the other "
        "rows):\n  ")


@pytest.fixture
def exported(store, tmp_path):
    out = tmp_path / "coding.xlsx"
    export_sheet(store, str(out), coder="ann")
    return out


def test_error_unknown_code(store, exported):
    sh = Sheet(exported)
    sh.set(3, "code 2", "prso")
    sh.set(4, "code 1", "cons")
    sh.save()
    assert _problem(store, exported) == HEAD + (
        "sheet Coding, row 3, cell G3: unknown code 'prso'. Did you mean: pros (Voordelen)? To create it, import "
        "with --new-codes.")


def test_error_edited_text(store, exported):
    sh = Sheet(exported)
    sh.set(3, "text", "Werk geeft mij niets.")
    sh.save()
    sid = seg_ids(store)[1]
    assert _problem(store, exported) == HEAD + (
        f"sheet Coding, row 3, cell D3: the text of segment #{sid} was edited; only code and memo cells are read, "
        "so undo the edit (the transcript is kept).")


def test_error_deleted_row(store, exported):
    sh = Sheet(exported)
    sh.ws.delete_rows(4)
    sh.save()
    sid = seg_ids(store)[2]
    assert _problem(store, exported) == HEAD + (
        f"sheet Coding: the row of segment #{sid} (F1 P2) is missing (deleted?); its codings are left as they were.")


def test_duplicated_rows_code_two_fragments_of_one_turn(store, exported):
    """Excel's copy row: each copy keeps the hidden id; each copy's fragment gets that row's codes."""
    sh = Sheet(exported)
    r = sh.row_of(seg_ids(store)[1])           # 'Werk geeft mij structuur en ik ben er trots op.'
    for c in range(1, sh.ws.max_column + 1):
        sh.ws.cell(8, c).value = sh.ws.cell(r, c).value
        sh.ws.cell(9, c).value = sh.ws.cell(r, c).value
    sh.set(8, "fragment", "Werk geeft mij  STRUCTUUR")   # spaces and case do not matter
    sh.set_codes(8, ["pros"])
    sh.set(9, "fragment", "ik ben er trots op")
    sh.set_codes(9, ["pros", "cons"])
    sh.set_codes(r, ["intake"])                  # the original row: the whole segment
    sh.save()
    result = import_sheet(store, str(exported), coder="ann")
    assert result.n_added == 4 and result.n_removed == 0
    got = sorted((c["code"], c["text"], c["fragment"]) for c in store.codings(coder="ann"))
    assert got == [("cons", "ik ben er trots op", 1), ("intake", "Werk geeft mij structuur en ik ben er trots op.", 0),
                   ("pros", "Werk geeft mij structuur", 1), ("pros", "ik ben er trots op", 1)]
    # the next export shows each fragment on its own row beneath its segment, and importing it is a no-op
    again = exported.parent / "again.xlsx"
    export_sheet(store, str(again), coder="ann")
    sh2 = Sheet(again)
    r2 = sh2.row_of(seg_ids(store)[1])
    assert [(sh2.get(i, "fragment"), sh2.get(i, "code 1"), sh2.get(i, "code 2")) for i in (r2, r2 + 1, r2 + 2)] == [
        (None, "intake", None), ("Werk geeft mij structuur", "pros", None), ("ik ben er trots op", "pros", "cons")]
    assert sh2.get(r2 + 1, "qualcode id").startswith(sh2.get(r2, "qualcode id") + "@")
    assert sh2.get(r2 + 1, "memo") is None
    result = import_sheet(store, str(again), coder="ann")
    assert (result.n_added, result.n_removed) == (0, 0)
    # deleting a fragment's row removes that fragment's codings only
    sh2.ws.delete_rows(r2 + 2)
    sh2.save()
    result = import_sheet(store, str(again), coder="ann")
    assert result.removed == {"cons": 1, "pros": 1}
    assert sorted((c["code"], c["text"]) for c in store.codings(coder="ann")) == [
        ("intake", "Werk geeft mij structuur en ik ben er trots op."), ("pros", "Werk geeft mij structuur")]


def test_error_fragment_not_in_the_row_or_twice_writes_nothing(store, exported):
    sh = Sheet(exported)
    r = sh.row_of(seg_ids(store)[1])
    sh.set(r, "fragment", "structuur en werkdruk")
    sh.set_codes(r, ["pros"])
    r2 = sh.row_of(seg_ids(store)[4])             # 'Een jobcoach in het team, bij de intake al.'
    sh.set(r2, "fragment", "e")
    sh.set_codes(r2, ["coach"])
    sh.save()
    assert _problem(store, exported) == HEAD.replace("1 problem;", "2 problems;") + (
        f"sheet Coding, row {r}, cell E{r}: the fragment 'structuur en werkdruk' is not in the segment's text; copy "
        "the words from the segment's text itself (differences in spaces, quote marks and capitals do not matter), "
        "or leave it empty to code the whole segment.\n"
        f"  sheet Coding, row {r2}, cell E{r2}: the fragment 'e' occurs 5 times in the segment's text; add a few "
        "words before or after it so that it occurs once.")
    assert codings(store) == set()


def test_old_sheet_without_fragment_column_leaves_fragments_alone(store, exported):
    sid = seg_ids(store)[1]
    seg = store.segment(sid)
    with store.act("a fragment"):
        store.add_coding(sid, store.code("cons")["id"], "ann", span=(seg["start"], seg["start"] + 4))
    sh = Sheet(exported)
    sh.ws.delete_cols(sh.cols["fragment"])
    sh.save()
    sh = Sheet(exported)
    sh.set_codes(sh.row_of(sid), ["pros"])
    sh.save()
    import_sheet(store, str(exported), coder="ann")
    assert sorted((c["code"], c["text"]) for c in store.codings(coder="ann")) == [
        ("cons", "Werk"), ("pros", "Werk geeft mij structuur en ik ben er trots op.")]


def test_error_segment_no_longer_exists(store, exported):
    sh = Sheet(exported)
    sh.set(3, "qualcode id", "9999:0123456789")
    sh.save()
    sid = seg_ids(store)[1]
    assert _problem(store, exported) == (
        "coding.xlsx: 2 problems; nothing was imported (fix them, or use --accept-partial to import the other "
        "rows):\n"
        "  sheet Coding, row 3, cell J3: segment #9999 no longer exists in the project (transcript replaced or "
        "removed?); export a new sheet.\n"
        f"  sheet Coding: the row of segment #{sid} (F1 P1) is missing (deleted?); its codings are left as they "
        "were.")


def test_error_edited_id_and_bad_id_and_added_row(store, exported):
    sh = Sheet(exported)
    sid = seg_ids(store)[1]
    sh.set(3, "qualcode id", f"{sid}:0000000000")
    sh.set(4, "qualcode id", "hallo")
    sh.set(8, "text", "Een rij die ik zelf toevoegde.")
    sh.save()
    msg = _problem(store, exported)
    assert msg.splitlines()[1:4] == [
        f"  sheet Coding, row 3, cell J3: the id of segment #{sid} does not match the project (the id was edited, "
        "or the transcript changed since the export).",
        "  sheet Coding, row 4, cell J4: 'hallo' is not a qualcode id; do not edit that column.",
        "  sheet Coding, row 8, cell J8: row has no qualcode id (a row added by hand?); add codes to the exported "
        "rows only."]


def test_error_wrong_sheet_and_coder(store, exported, tmp_path):
    got = _refusal(store, exported, coder="bob")
    assert got == (f"{exported}: this sheet holds the codes of coder 'ann', not 'bob'; import it with "
                   "--coder ann, or export a sheet for 'bob'.")
    sh = Sheet(exported)
    sh.ws.delete_cols(sh.cols["qualcode id"])
    sh.save()
    got = _refusal(store, exported, coder="ann")
    assert got == (f"{exported}: sheet Coding has no 'qualcode id' column (it may be hidden, but must "
                   "not be deleted or renamed); export the sheet again.")
    sh.ws.title = "Blad1"
    sh.save()
    got = _refusal(store, exported)
    assert got == (f"{exported}: no sheet named 'Coding'; export a coding sheet with 'qualcode sheet "
                   "export' and code in that one.")
    bad = tmp_path / "bad.xlsx"
    bad.write_text("not a workbook")
    got = _refusal(store, bad)
    assert got == f"{bad}: is not a valid coding workbook (not a ZIP archive; is it damaged or renamed?)"


def test_error_deleted_code_column(store, exported):
    sh = Sheet(exported)
    sh.ws.delete_cols(sh.cols["code 2"])
    sh.save()
    got = _refusal(store, exported, coder="ann")
    assert got == (f"{exported}: sheet Coding lacks the column(s) code 2 it was exported with; their "
                   "codes would be lost. Put the column(s) back (hide them if you like) and import again.")


def test_accept_partial_imports_good_rows(store, exported):
    ids = seg_ids(store)
    sh = Sheet(exported)
    sh.set(3, "code 1", "prso")
    sh.set(4, "code 1", "cons")
    sh.save()
    result = import_sheet(store, str(exported), coder="ann", accept_partial=True)
    assert codings(store) == {(ids[2], "cons")}
    assert [str(p) for p in result.problems] == [
        "sheet Coding, row 3, cell F3: unknown code 'prso'. Did you mean: pros (Voordelen)? To create it, import "
        "with --new-codes."]
    assert result.lines()[-2:] == ["1 problems; 1 rows left unchanged (--accept-partial):",
                                   "  sheet Coding, row 3, cell F3: unknown code 'prso'. Did you mean: pros (Voordelen)? To create "
                                   "it, import with --new-codes."]


# ------------------------------------------------------------------ property
CODES = ["pros", "cons", "coach", "intake"]
assignment = st.lists(st.sets(st.sampled_from(CODES), max_size=3), min_size=1, max_size=8)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n_turns=st.integers(min_value=1, max_value=8), before=assignment, after=assignment,
       seed=st.integers(min_value=0, max_value=1000))
def test_round_trip_property(tmp_path_factory, n_turns, before, after, seed):
    """Export, sort the rows, set each row's codes to a new assignment, import: exactly that assignment."""
    tmp = tmp_path_factory.mktemp("prop")
    lines = "\n".join(f"P{i % 3 + 1}: Beurt nummer {i} over werk." for i in range(n_turns))
    store = make_project(tmp, transcript=f"# group: F1\n{lines}\n")
    try:
        ids = seg_ids(store)
        with store.act("seed"):
            for sid, codes in zip(ids, before):
                for c in codes:
                    store.add_coding(sid, store.code(c)["id"], "ann")
        out = tmp / "coding.xlsx"
        export_sheet(store, str(out), coder="ann")
        sh = Sheet(out)
        sh.shuffle(seed)
        expected = set()
        for sid, codes in zip(ids, after + [set()] * len(ids)):
            ordered = sorted(codes)
            sh.set_codes(sh.row_of(sid), ordered[:3])
            expected |= {(sid, c) for c in ordered[:3]}
        sh.save()
        import_sheet(store, str(out), coder="ann")
        assert codings(store) == expected
        # and the next export shows exactly those codes
        out2 = tmp / "again.xlsx"
        export_sheet(store, str(out2), coder="ann")
        assert shown_codes(Sheet(out2)) == expected
    finally:
        store.close()


def test_error_formula_merged_cells_and_copied_sheet(store, exported, tmp_path):
    sh = Sheet(exported)
    sh.set(3, "code 1", "pros")
    sh.set(4, "code 1", "=E3")
    sh.ws.merge_cells("G5:G7")
    sh.save()
    assert _problem(store, exported) == (
        "coding.xlsx: 2 problems; nothing was imported (fix them, or use --accept-partial to import the other "
        "rows):\n"
        "  sheet Coding, row 4, cell F4: a formula in a code cell cannot be read reliably; type the code id itself.\n"
        "  sheet Coding, row 5, cell G5: cells G5:G7 are merged; unmerge them and give every row its own code cells.")
    result = import_sheet(store, str(exported), coder="ann", accept_partial=True)
    assert codings(store) == {(seg_ids(store)[1], "pros")} and len(result.problems) == 2
    sh = Sheet(exported)
    copy = sh.wb.copy_worksheet(sh.ws)
    copy.title = "Coding (2)"
    sh.save()
    got = _refusal(store, exported, coder="ann")
    assert got == (f"{exported}: sheet 'Coding (2)' is a copy of the Coding sheet, and only 'Coding' is "
                   "read; move your codes into 'Coding' and delete the copy.")


def test_export_one_group_and_import(store, tmp_path):
    from qualcode.ingest import ingest

    f2 = tmp_path / "F2.txt"
    f2.write_text("# group: F2\nP1: Mijn jobcoach belde elke week.\nP2: Ik niet.\n", encoding="utf-8")
    ingest(store, [f2], allow_new_speakers=True)
    out = tmp_path / "f2.xlsx"
    assert export_sheet(store, str(out), coder="ann", group="F2").segments == 2
    sh = Sheet(out)
    assert [sh.get(r, "key") for r in sh.rows()] == ["F2 P1", "F2 P2"]
    sh.set(2, "code 1", "coach")
    sh.save()
    result = import_sheet(store, str(out), coder="ann")
    f2_first = next(s["id"] for s in store.segments(group="F2"))
    assert codings(store) == {(f2_first, "coach")} and result.rows == 2


# ------------------------------------------------------------------ property: fragments
def spans_of(store, coder="ann") -> set[tuple[int, str, str]]:
    return {(c["segment_id"], c["code"], c["text"] if c["fragment"] else "") for c in store.codings(coder=coder)}


# (turn index, first word, number of words (0: the whole turn), code); turns read
# 'Beurt nummer I over werk en zorg .' so every run of words occurs once.
fragment_codings = st.lists(st.tuples(st.integers(0, 5), st.integers(0, 6), st.integers(0, 3),
                                      st.sampled_from(CODES)), max_size=10)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n_turns=st.integers(min_value=1, max_value=6), before=fragment_codings, added=fragment_codings,
       seed=st.integers(min_value=0, max_value=1000))
def test_round_trip_property_with_fragments(tmp_path_factory, n_turns, before, added, seed):
    """Random fragment codings: export, sort, import unchanged changes nothing; duplicated rows with
    other fragments add exactly those; the next export shows every coding on its own row."""
    tmp = tmp_path_factory.mktemp("propf")
    lines = "\n".join(f"P{i % 3 + 1}: Beurt nummer {i} over werk en zorg ." for i in range(n_turns))
    store = make_project(tmp, transcript=f"# group: F1\n{lines}\n")

    def span(seg, first, n):
        words = seg["text"].split(" ")
        if n == 0 or first >= len(words):
            return None
        part = " ".join(words[first:first + n])
        at = seg["text"].index(part)
        return seg["start"] + at, seg["start"] + at + len(part)

    try:
        segs = list(store.segments())
        with store.act("seed"):
            for t, first, n, c in before:
                seg = segs[t % len(segs)]
                store.add_coding(seg["id"], store.code(c)["id"], "ann", span=span(seg, first, n))
        start = spans_of(store)
        out = tmp / "coding.xlsx"
        export_sheet(store, str(out), coder="ann")
        sh = Sheet(out)
        sh.shuffle(seed)
        sh.save()
        result = import_sheet(store, str(out), coder="ann")
        assert (result.n_added, result.n_removed) == (0, 0) and spans_of(store) == start
        # duplicate rows (copies go to the end, as a student pasting them would) with new fragments
        sh = Sheet(out)
        expected = set(start)
        width = sh.ws.max_column
        for t, first, n, c in added:
            seg = segs[t % len(segs)]
            src = sh.row_of(seg["id"])
            new = sh.ws.max_row + 1
            for col in range(1, width + 1):
                set_text(sh.ws.cell(new, col), sh.ws.cell(src, col).value)
            sp = span(seg, first, n)
            words = "" if sp is None else seg["text"][sp[0] - seg["start"]:sp[1] - seg["start"]]
            sh.set(new, "fragment", words.upper() or None)
            sh.set_codes(new, [c])
            expected.add((seg["id"], c, words))
        sh.save()
        import_sheet(store, str(out), coder="ann")
        assert spans_of(store) == expected
        out2 = tmp / "again.xlsx"
        export_sheet(store, str(out2), coder="ann")
        assert shown_codes(Sheet(out2), fragments=True) == expected
        assert (import_sheet(store, str(out2), coder="ann").n_added, spans_of(store)) == (0, expected)
    finally:
        store.close()


def test_a_name_picked_from_the_drop_down_imports_as_its_code(store, tmp_path):
    """The drop-down offers the codes' names; what a student picks there must come back as that code."""
    from openpyxl import load_workbook as load

    out = tmp_path / "names.xlsx"
    export_sheet(store, str(out), coder="ann")
    wb = load(out)
    names = {wb["Codebook"].cell(r, 5).value: wb["Codebook"].cell(r, 6).value for r in range(2, 6)}
    wb.close()
    sh = Sheet(out)
    assert names["coach"] and names["coach"] != "coach"
    sh.set(2, "code 1", names["coach"])
    sh.save()
    import_sheet(store, str(out), coder="ann")
    first = seg_ids(store)[0]
    assert (first, "coach") in codings(store)
