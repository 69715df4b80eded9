"""The analysis workbook (issue 5): every sheet read back with openpyxl and checked against the store."""

from __future__ import annotations

import hashlib
import re
import zipfile
from pathlib import Path

import pytest

# ------------------------------------------------------------------ a small project built with the store API
COLOURS = {"work": "#E69F00", "care": "#56B4E9", "later": "#009E73"}
TRANSCRIPTS = {
    "F1": [
        ("Moderator", "Betaald werk draagt bij aan herstel, wat denken jullie daarvan?"),
        ("P1", "Werk geeft structuur en een ritme, je staat op met een doel en dat maakt je trots op jezelf."),
        ("P2", "=HYPERLINK(\"http://example.org\") dat typte een collega ooit in ons verslag, maar ernstig: "
               "de werkdruk en de stress kunnen een herval uitlokken."),
        ("P1", "De jobcoach die mee in het team zit, die kent de cliënt en kan snel schakelen met de werkgever."),
        ("P2", "- ja maar, de stress van deadlines is voor veel van onze mensen echt te veel, allez."),
        ("P1", "Structuur en trots, dat hoor ik het vaakst als mensen over hun job vertellen."),
    ],
    "F2": [
        ("Moderator", "Vragen jullie bij de intake naar werk?"),
        ("P1", "Bij de intake vragen wij eigenlijk zelden naar werk, dat komt pas veel later ter sprake."),
        ("P2", "+32 procent van onze cliënten wil werken, zei iemand, en een jobcoach zou daarbij helpen."),
        ("P1", "@iedereen: de werkdruk in een gewone job is hoog, en de stress is reëel voor onze mensen."),
        ("P2", "Een jobcoach in het team, een dag per week, dat lijkt mij een goed idee voor de intake ook."),
        ("P2", "Werk geeft trots en structuur, maar ook stress; het hangt af van de werkgever en de job."),
    ],
}
PEOPLE = {("F1", "P1"): {"gender": "vrouw", "name": "Anna Peeters"},
          ("F1", "P2"): {"gender": "man", "name": "Bart Janssens"},
          ("F2", "P1"): {"gender": "vrouw", "name": "Carla Maes"},
          ("F2", "P2"): {"gender": "man", "name": "Dirk Wouters"}}
# (group, ordinal) -> [(code, coder, origin)]
CODINGS = {
    ("F1", 2): [("pros", "anna", "manual"), ("pros", "ben", "rule")],
    ("F1", 3): [("cons", "anna", "manual")],
    ("F1", 4): [("coach", "anna", "manual")],
    ("F1", 5): [("cons", "anna", "manual"), ("cons", "ben", "rule")],
    ("F1", 6): [("pros", "anna", "manual")],
    ("F2", 2): [("intake", "anna", "manual")],
    ("F2", 3): [("coach", "anna", "manual"), ("pros", "anna", "manual")],
    ("F2", 4): [("cons", "anna", "manual")],
    ("F2", 5): [("coach", "anna", "manual"), ("intake", "anna", "manual")],
    ("F2", 6): [("pros", "anna", "manual"), ("cons", "anna", "manual")],
}


def make_project(path: Path, language: str = "nl"):
    """Two groups (F1, F2) with P1 and P2 each, a moderator, an identifying 'name' attribute,
    three themes (one without codes), four codes, two coders, definitions, key messages, a memo.
    The first coder, anna, becomes the project's analyst."""
    from qualcode.store import Store

    store = Store.create(path, language=language, name="mini")
    with store.act("test ingest", undoable=False, capture=False):
        pids = {k: store.add_participant(k[0], k[1], v) for k, v in PEOPLE.items()}
        store.set_attribute_identifying("name", True)
        for group, turns in TRANSCRIPTS.items():
            text, rows, pos = "", [], 0
            for i, (speaker, said) in enumerate(turns, start=1):
                line = f"{speaker}: "
                start = len(text) + len(line)
                text += line + said + "\n"
                rows.append({"ordinal": i, "turn": i, "speaker": speaker,
                             "role": "moderator" if speaker == "Moderator" else "participant",
                             "participant_id": pids.get((group, speaker)), "start": start,
                             "end": start + len(said), "text": said, "n_words": len(said.split())})
            sha = hashlib.sha256(text.encode()).hexdigest()
            sid = store.add_source(name=f"{group}.txt", format="txt", group_label=group, group_origin="option",
                                   text=text, sha256=sha, file_sha256=sha, encoding="utf-8",
                                   n_words=len(text.split()))
            store.add_segments(sid, rows)
    with store.act("test codebook"):
        care = store.add_theme("care", "Zorg en werk", COLOURS["care"], "Samenwerking zorg en werk", position=0)
        work = store.add_theme("work", "Betaald werk", COLOURS["work"], "Voor- en nadelen van betaald werk",
                               position=1)
        store.add_theme("later", "Nog te bekijken", COLOURS["later"], "", position=2)
        codes = {"pros": store.add_code("pros", "Voordelen", work, include="trots, structuur"),
                 "cons": store.add_code("cons", "Nadelen", work, exclude="=niet over zorg"),
                 "coach": store.add_code("coach", "Jobcoach", care),
                 "intake": store.add_code("intake", "Werk bij intake", care)}
    segs = {(s["group_label"], s["ordinal"]): s["id"] for s in store.segments()}
    with store.act("test coding"):
        for (g, o), items in CODINGS.items():
            for code, coder, origin in items:
                store.add_coding(segs[(g, o)], codes[code], coder, origin=origin)
    with store.act("theme define"):
        store.update_theme(work, definition="Wat betaald werk oplevert en wat het kost.",
                           key_messages=["Werk geeft structuur en trots", "=Stress blijft een risico"],
                           status="defined")
        store.update_theme(care, status="reviewed", key_messages=["Een jobcoach in het team"])
        store.add_memo("theme", work, "Trots komt in beide groepen terug.", "anna")
    return store


@pytest.fixture
def mini(tmp_path):
    store = make_project(tmp_path / "mini.qualcode", language="en")   # English sheet names and headers
    yield store
    store.close()


@pytest.fixture
def book(mini, tmp_path):
    from openpyxl import load_workbook

    from qualcode.excel.analysis import write_workbook

    out = tmp_path / "analysis.xlsx"
    summary = write_workbook(mini, out, coders=["anna", "ben"])   # both coders: every coding shows
    wb = load_workbook(out)
    yield mini, wb, out, summary
    wb.close()


def _rows(ws):
    return [list(r) for r in ws.iter_rows(values_only=True)]


def _expected_key(store, segment_id) -> str:
    s = store.segment(segment_id)
    return f"({s['group_label']} {s['participant']})"


# ------------------------------------------------------------------ tests
def test_twelve_sheets_in_order(book):
    from qualcode.excel.analysis import SHEETS

    _, wb, _, summary = book
    assert len(SHEETS) == 12
    assert wb.sheetnames[:12] == list(SHEETS)
    assert summary.sheets[:12] == list(SHEETS)


def test_codebook_sheet_colours_and_counts(book):
    store, wb, _, _ = book
    ws = wb["Codebook"]
    header = [c.value for c in ws[1]]
    spread = store.theme_spread()
    seen = set()
    for row in ws.iter_rows(min_row=2):
        kind, key = row[0].value, row[1].value
        colour_cell = row[header.index("colour")]
        if kind == "theme":
            t = store.theme(key)
            seen.add(key)
            assert colour_cell.value == t["colour"]
            assert colour_cell.fill.fgColor.rgb == "FF" + t["colour"].lstrip("#")
            assert row[header.index("fragments")].value == spread[t["id"]]["fragments"]
            assert row[header.index("status")].value == t["status"]
        else:
            c = store.code(key)
            assert colour_cell.fill.fgColor.rgb == "FF" + c["display_colour"].lstrip("#")
            assert row[header.index("codings")].value == store.count_codings(c["id"])
    assert seen == {"work", "care", "later"}
    assert spread[store.theme("work")["id"]]["fragments"] == 7  # F1 2,3,5,6 and F2 3,4,6


def test_coded_fragments_one_row_per_coding_with_matching_keys(book):
    store, wb, _, summary = book
    ws = wb["Coded fragments"]
    header = [c.value for c in ws[1]]
    rows = list(ws.iter_rows(min_row=2))
    assert len(rows) == store.count_codings() == summary.fragments == 15
    colours = {t["name"]: t["colour"] for t in store.themes()}
    for row in rows:
        values = {h: c.value for h, c in zip(header, row)}
        assert values["key"] == _expected_key(store, values["segment id"])
        assert values["fragment"] == store.segment(values["segment id"])["text"]
        theme_cell = row[header.index("theme")]
        assert theme_cell.fill.fgColor.rgb == "FF" + colours[values["theme"]].lstrip("#")
    # a segment with two codes appears on two rows; transcript order
    f2_3 = [r for r in rows if r[header.index("group")].value == "F2" and r[header.index("segment")].value == 3]
    assert sorted(r[header.index("code")].value for r in f2_3) == ["coach", "pros"]
    order = [(r[header.index("group")].value, r[header.index("segment")].value) for r in rows]
    assert order == sorted(order)
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == f"A1:L{len(rows) + 1}"


def test_formula_like_text_stays_text(book):
    _, wb, out, _ = book
    found = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, str) and c.value[:1] in "=+-@":
                    assert c.data_type == "s", (ws.title, c.coordinate, c.value)
                    found.append(c.value)
    assert any(v.startswith("=HYPERLINK") for v in found)
    assert any(v.startswith("- ja maar") for v in found)
    assert "=niet over zorg" in found
    with zipfile.ZipFile(out) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/sheet"):
                assert b"<f>" not in z.read(name) and b"<f " not in z.read(name), name


def test_by_theme_bands_and_subtotals(book):
    store, wb, _, _ = book
    rows = _rows(wb["By theme"])
    bands = [r[0] for r in rows if r[0] in {t["name"] for t in store.themes()}]
    assert bands == ["Zorg en werk", "Betaald werk"]  # theme position order; 'later' has no codings
    subtotals = {r[2]: r[4] for r in rows if isinstance(r[2], str) and r[2].startswith("subtotal ")}
    for code in ("pros", "cons", "coach", "intake"):
        assert subtotals[f"subtotal {code}"] == store.count_codings(store.code(code)["id"])
    totals = {r[2]: r[4] for r in rows if isinstance(r[2], str) and r[2].startswith("total ")}
    spread = store.theme_spread()
    assert totals["total Betaald werk: fragments"] == spread[store.theme("work")["id"]]["fragments"]


def test_theme_summary_counts_quotes_and_comment_column(book):
    store, wb, _, _ = book
    rows = _rows(wb["Theme summary"])
    header = rows[0]
    assert header[-1] == "supervisor comments"
    body = rows[1:]
    assert [r[0] for r in body] == [t["key"] for t in store.themes()]  # every theme, in position order
    spread = store.theme_spread()
    for r in body:
        t = store.theme(r[0])
        v = dict(zip(header, r))
        assert v["definition"] == (t["definition"] or None)
        assert (v["fragments"], v["groups"], v["participants"]) == (
            spread[t["id"]]["fragments"], spread[t["id"]]["groups"], spread[t["id"]]["participants"])
        frags = {(s["key"], " ".join(s["text"].split())) for s in store.theme_fragments(t["id"])}
        quotes = re.findall(r"“(.+?)” \((F\d P\d)\)", v["representative quotes"] or "")
        assert len(quotes) == min(3, len(frags))
        for text, key in quotes:
            assert (key, text) in frags
        assert v["supervisor comments"] is None
    work = dict(zip(header, body[1]))
    assert work["key messages"] == "• Werk geeft structuur en trots\n• =Stress blijft een risico"


def test_quotes_sheet_one_table_per_theme_keys_match(book):
    store, wb, _, _ = book
    rows = _rows(wb["Quotes"])
    titles = [r[0] for r in rows if r[0] in {t["name"] for t in store.themes()}]
    assert titles == [t["name"] for t in store.themes()]
    header = next(r for r in rows if r[0] == "rank")
    assert "name" not in header and "gender" in header  # identifying attribute left out
    n = 0
    for r in rows:
        if isinstance(r[0], int):
            v = dict(zip(header, r))
            assert v["key"] == _expected_key(store, v["segment id"])
            assert v["quote with key (paste into the thesis)"].endswith(v["key"])
            n += 1
    assert n == sum(len(store.theme_fragments(t["id"])) for t in store.themes())


def test_matrices_counts_heatmaps_and_charts(book):
    store, wb, out, _ = book
    ws = wb["Matrices"]
    rows = _rows(ws)
    assert rows[1][:4] == ["theme", "F1", "F2", "total"]
    by_group = store.theme_by_group()
    for t, r in zip(store.themes(), rows[2:5]):
        assert r[0] == t["name"]
        assert r[1:3] == [by_group.get((t["id"], "F1"), 0), by_group.get((t["id"], "F2"), 0)]
    # theme x participant block
    i = next(n for n, r in enumerate(rows) if r[0] == "Coded fragments per theme and participant")
    assert rows[i + 1][:5] == ["theme", "F1 P1", "F1 P2", "F2 P1", "F2 P2"]
    by_person = store.theme_by_participant()
    people = {p["key"]: p["id"] for p in store.participants()}
    for t, r in zip(store.themes(), rows[i + 2:i + 5]):
        assert r[1:5] == [by_person.get((t["id"], people[k]), 0) for k in rows[i + 1][1:5]]
    # framework matrix (its own sheet): rows participants, columns themes
    frame = _rows(wb["Framework matrix"])
    assert frame[0][:4] == ["participant", "Zorg en werk", "Betaald werk", "Nog te bekijken"]
    assert [r[0] for r in frame[1:5]] == ["F1 P1", "F1 P2", "F2 P1", "F2 P2"]
    assert "jobcoach" in frame[1][1].lower()  # F1 P1 on care: the jobcoach fragment
    assert len(ws.conditional_formatting) == 2
    with zipfile.ZipFile(out) as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
        assert len(charts) == 2
        xml = b"".join(z.read(n) for n in charts)
    for colour in COLOURS.values():
        assert colour.lstrip("#").encode() in xml  # bars in the themes' colours


def test_cooccurrence_participants_audit_memos(book):
    store, wb, _, _ = book
    co = _rows(wb["Co-occurrence"])
    keys = co[0][2:6]
    assert keys == ["coach", "intake", "pros", "cons"]  # codebook order: theme position, then code
    m = {r[0]: dict(zip(keys, r[2:6])) for r in co[1:5]}
    assert m["coach"]["intake"] == m["intake"]["coach"] == 1   # F2 segment 5
    assert m["pros"]["cons"] == 1                               # F2 segment 6
    assert m["pros"]["pros"] == 4                               # segments with 'pros'
    people = _rows(wb["Participants"])
    header = people[0]
    assert "name" not in header and "gender" in header
    share = {r[0]: r[header.index("talk share in group")] for r in people[1:]}
    assert abs(share["F1 P1"] + share["F1 P2"] - 1) < 1e-3
    talk = store.participant_talk()
    pid = {p["key"]: p["id"] for p in store.participants()}
    assert share["F2 P2"] == round(talk[pid["F2 P2"]]["share"], 4)
    audit = _rows(wb["Audit log"])
    assert [r[3] for r in audit[1:]] == [a["command"] for a in reversed(store.history())]
    memos = _rows(wb["Memos"])
    assert memos[1][4:7] == ["theme", "Betaald werk", "Trots komt in beide groepen terug."]


def test_no_identifying_value_anywhere(book):
    _, wb, _, _ = book
    for ws in wb.worksheets:
        for row in ws.iter_rows(values_only=True):
            for v in row:
                assert not (isinstance(v, str) and any(n in v for n in ("Peeters", "Janssens", "Maes", "Wouters")))


def test_extra_sheet_writers(mini, tmp_path):
    from openpyxl import load_workbook

    from qualcode.excel import analysis as wbmod
    from qualcode.excel.xlsx import write_table

    def comparison(wb, store, styles):
        write_table(wb, "Extra check", ["coder", "codings"],
                    ([c, len(store.codings(coder=c))] for c in store.coders_with_codings()), styles=styles)

    out = tmp_path / "x.xlsx"
    wbmod.write_workbook(mini, out, extra_sheets=[comparison])
    wb = load_workbook(out)
    assert wb.sheetnames[-1] == "Extra check"
    assert _rows(wb["Extra check"])[1:] == [["anna", 13], ["ben", 2]]
    assert wbmod.register_sheet(comparison) is comparison
    try:
        assert comparison in wbmod.registered_sheets()
    finally:
        wbmod._EXTRA_SHEETS.remove(comparison)


def test_failed_export_leaves_no_file(mini, tmp_path):
    from qualcode.excel.analysis import write_workbook

    def broken(wb, store, styles):
        raise RuntimeError("boom")

    out = tmp_path / "broken.xlsx"
    with pytest.raises(RuntimeError):
        write_workbook(mini, out, extra_sheets=[broken])
    assert not out.exists() and not (tmp_path / "broken.xlsx.tmp").exists()


# ------------------------------------------------------------------ supervisor comments back in
def _comment(path: Path, theme_key: str, text: str) -> None:
    from openpyxl import load_workbook

    wb = load_workbook(path)
    ws = wb["Theme summary"]
    header = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2):
        if row[0].value == theme_key:
            row[header.index("supervisor comments")].value = text
    wb.save(path)
    wb.close()


def test_import_comments_become_supervisor_memos_once(book):
    from qualcode.excel.analysis import import_comments

    store, _, out, _ = book
    _comment(out, "work", "Splits voordelen en nadelen in twee subthema's.")
    _comment(out, "care", "Mooi; voeg een citaat uit F1 toe.")
    added = import_comments(store, out, "prof. Claes")
    assert added == [{"theme": "care", "text": "Mooi; voeg een citaat uit F1 toe."},
                     {"theme": "work", "text": "Splits voordelen en nadelen in twee subthema's."}]
    memos = store.memos("theme", store.theme("work")["id"], kind="supervisor")
    assert [(m["author"], m["text"]) for m in memos] == [
        ("prof. Claes", "Splits voordelen en nadelen in twee subthema's.")]
    assert store.history(1)[0]["command"] == "sheet import-comments"
    assert import_comments(store, out, "prof. Claes") == []      # nothing twice
    store.undo(2)                                                # both imports are acts that undo
    assert store.memos(kind="supervisor") == []


def test_import_comments_unknown_theme_changes_nothing(book):
    from openpyxl import load_workbook

    from qualcode.errors import InputError
    from qualcode.excel.analysis import import_comments

    store, _, out, _ = book
    wb = load_workbook(out)
    ws = wb["Theme summary"]
    ws["A3"].value = "wrok"
    ws["J2"].value = "goed"
    ws["J3"].value = "te breed"
    wb.save(out)
    with pytest.raises(InputError) as e:
        import_comments(store, out, "prof")
    assert str(e.value) == (f"{out}, sheet 'Theme summary', cell A3: unknown theme 'wrok'. Did you mean: work? "
                            "Nothing was imported.")
    assert store.memos(kind="supervisor") == []


def test_import_comments_wrong_workbook(mini, tmp_path):
    from openpyxl import Workbook

    from qualcode.errors import InputError
    from qualcode.excel.analysis import import_comments

    p = tmp_path / "other.xlsx"
    Workbook().save(p)
    with pytest.raises(InputError) as e:
        import_comments(mini, p, "prof")
    assert str(e.value) == f"{p}: no sheet 'Theme summary'; use a workbook made by 'qualcode export workbook'."


# (LibreOffice renders the workbook in tests/test_render.py: pages, blank pages, heat-map colours)


def test_every_conditional_format_covers_its_data_rows_exactly(book):
    """Each heat map's range spans exactly its table's rows (every theme or code, the last included) and
    its count columns; the rows above (header) and below (blank) are outside it."""
    store, wb, _, _ = book
    labels = {t["name"] for t in store.themes()} | {c["key"] for c in store.codes()}
    seen = 0
    for ws in wb.worksheets:
        for cf in ws.conditional_formatting:
            for rng in cf.sqref.ranges:
                seen += 1
                rows = range(rng.min_row, rng.max_row + 1)
                assert all(ws.cell(r, 1).value in labels for r in rows), (ws.title, str(rng))
                assert ws.cell(rng.min_row - 1, 1).value not in labels, (ws.title, str(rng))
                assert ws.cell(rng.max_row + 1, 1).value not in labels, (ws.title, str(rng))
                assert all(isinstance(ws.cell(r, c).value, int) for r in rows
                           for c in range(rng.min_col, rng.max_col + 1)), (ws.title, str(rng))
    assert seen >= 4   # theme x group, theme x participant, co-occurrence, counts by gender


def test_every_sheet_is_set_up_for_printing(book):
    _, wb, _, _ = book
    for ws in wb.worksheets[:12]:
        assert ws.page_setup.paperSize == 9 and ws.page_setup.fitToWidth == 1, ws.title   # A4, one page wide
        assert ws.page_setup.fitToHeight == 0 and ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        assert ws.oddFooter.right.text == "page &P of &N", ws.title
    assert wb["Quotes"].print_title_rows == "$1:$1" and wb["Quotes"].page_setup.orientation == "landscape"
    assert wb["Codebook"].print_title_rows == "$1:$1"


def test_wrapped_rows_get_heights_that_show_their_text(book):
    from qualcode.excel.xlsx import LINE_HEIGHT

    _, wb, _, _ = book
    ws = wb["Framework matrix"]
    assert ws.row_dimensions[1].height and ws.row_dimensions[1].height >= LINE_HEIGHT   # theme names wrap
    quotes = wb["Quotes"]
    tall = [r for r in range(2, quotes.max_row + 1) if quotes.row_dimensions[r].height]
    long_quote = [r for r in range(2, quotes.max_row + 1) if len(str(quotes.cell(r, 2).value or "")) > 120]
    assert long_quote and set(long_quote) <= set(tall)
