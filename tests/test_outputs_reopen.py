"""Every output qualcode writes opens again, in full, in the library that reads it.

A project whose transcript, codebook, memos and coder hold every character XML 1.0 forbids (C0
controls, U+FFFE, U+FFFF), C1 controls, the neighbours of the surrogate range and astral
characters is written to each output kind; each file is then read back completely: xlsx with
openpyxl (every sheet, every cell) after every XML part has gone through a strict XML parser,
docx with python-docx, REFI with lxml and the REFI XSD, HTML with html.parser, Markdown and CSV as
strict UTF-8 text, PNG figures with Pillow. The property test at the end runs random text through
ingest and the main exports and re-opens each.
"""

from __future__ import annotations

import csv
import html.parser
import tempfile
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from qualcode.files.textsafe import ILLEGAL_XML, xml_text

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "refi-samples"

# what a transcript can hold that XML cannot, or only just
C0 = "".join(chr(c) for c in range(1, 32) if c not in (9, 10, 13))   # NUL: refused by ingest (binary)
C1 = "".join(chr(c) for c in range(0x80, 0xA0))
EDGES = "\ud7ff\ue000\ufffd\ufffe\uffff\U0001F600\U0010FFFF\x7f\ufdd0"
NASTY = f"ctl[{C0}] c1[{C1}] edges[{EDGES}]"


# ------------------------------------------------------------------ readers
def reopen_zip_xml(path: Path) -> list[str]:
    """The archive's members, after checking its CRCs and parsing every XML part strictly."""
    from lxml import etree

    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None
        names = zf.namelist()
        for name in names:
            if name.endswith((".xml", ".rels", ".qde", ".vml")):
                etree.fromstring(zf.read(name))      # XMLSyntaxError on any character XML 1.0 forbids
    return names


def reopen_xlsx(path: Path) -> dict[str, list[tuple]]:
    """Every sheet's every row (values) through openpyxl's full (not read-only) reader."""
    from openpyxl import load_workbook

    reopen_zip_xml(path)
    wb = load_workbook(path)
    try:
        return {ws.title: [tuple(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets}
    finally:
        wb.close()


def texts(sheets: dict[str, list[tuple]]) -> list[str]:
    return [v for rows in sheets.values() for r in rows for v in r if isinstance(v, str)]


def reopen_docx(path: Path) -> list[str]:
    import docx

    reopen_zip_xml(path)
    d = docx.Document(str(path))
    out = [p.text for p in d.paragraphs]
    for t in d.tables:
        out += [c.text for row in t.rows for c in row.cells]
    return out


class _Collect(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.data: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in ("meta", "img", "br", "link", "hr", "input", "col", "source", "wbr"):
            self.open.append(tag)

    def handle_endtag(self, tag):
        if tag in self.open:
            while self.open and self.open.pop() != tag:
                pass

    def handle_data(self, data):
        self.data.append(data)


def reopen_html(path: Path) -> str:
    text = path.read_text(encoding="utf-8")          # strict UTF-8
    assert ILLEGAL_XML.search(text) is None
    p = _Collect()
    p.feed(text)
    p.close()
    assert p.open == [], f"unclosed elements {p.open}"
    return " ".join(p.data)


def reopen_markdown(path: Path) -> str:
    import re

    from PIL import Image

    text = path.read_text(encoding="utf-8")
    assert ILLEGAL_XML.search(text) is None
    for target in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text):
        with Image.open(path.parent / target) as im:
            im.verify()
    return text


def reopen_refi(path: Path, *, codebook_only: bool = False, need_schema: bool = True) -> dict:
    """A REFI file checked against the REFI schema (shared/refi-samples); returns its parts. Without
    the schema the test is skipped, or (``need_schema=False``) the file is only parsed."""
    from lxml import etree

    xsd = SHARED / ("Codebook.xsd" if codebook_only else "Project-mrt2019.xsd")
    if xsd.exists():
        schema = etree.XMLSchema(etree.parse(str(xsd)))
    elif need_schema:
        pytest.skip(f"{xsd} is not there (the shared REFI samples are not checked out)")
    else:
        schema = None
    if codebook_only:
        doc = etree.fromstring(path.read_bytes())
        if schema is not None:
            schema.assertValid(doc)
        return {"xml": doc, "sources": {}}
    names = reopen_zip_xml(path)
    with zipfile.ZipFile(path) as zf:
        doc = etree.fromstring(zf.read("project.qde"))
        if schema is not None:
            schema.assertValid(doc)
        sources = {n: zf.read(n).decode("utf-8") for n in names if n.startswith("sources/")}
    return {"xml": doc, "sources": sources}


# ------------------------------------------------------------------ the project
def nasty_project(folder: Path, piece: str = NASTY):
    """The transcript holds ``piece`` in a participant turn (with enough ordinary words around it
    that ingest does not take it for binary data); codebook, memos, definitions and a coder name
    hold it too. Two coders code differently (for the agreement outputs)."""
    from qualcode.ingest import ingest
    from qualcode.store import Store

    store = Store.create(folder / "p.qualcode", language="nl", name="nasty")
    n_controls = sum(1 for ch in piece if ord(ch) < 32 and ch not in "\t\n\x0c\r")
    filler = "Ik vind het werk goed en de jobcoach helpt mij elke week opnieuw. " * (2 + n_controls // 1)
    lines = ["Moderator: Wat betekent werk voor jullie?",
             f"P1: {filler}{piece} en verder {filler}",
             f"P2: Werk geeft structuur. {filler}",
             "Moderator: En de jobcoach?",
             f"P1: De jobcoach {piece} komt langs. {filler}",
             f"P2: Mail jan@voorbeeld.be maar. {filler}"]
    (folder / "F1.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    ingest(store, [str(folder / "F1.txt")], allow_new_speakers=True)
    odd_coder = "coder" + piece[:12]
    with store.act("test codebook"):
        t = store.add_theme("work", f"Werk {piece}", "#E69F00", f"Over werk {piece}")
        store.add_theme("empty", "Leeg", "#56B4E9", "")
        pros = store.add_code("pros", f"Voordelen {piece}", t, include=f"trots {piece}")
        coach = store.add_code("coach", "Jobcoach", t)
    segs = [s for s in store.segments() if s["role"] == "participant"]
    with store.act("test coding"):
        for i, s in enumerate(segs):
            store.add_coding(s["id"], pros, "ann")
            store.add_coding(s["id"], pros if i % 2 else coach, "bob")
            store.add_coding(s["id"], coach, odd_coder)
        store.update_theme(t, definition=f"Wat werk geeft {piece}", key_messages=[f"Trots {piece}"])
        store.add_memo("theme", t, f"Memo {piece}", "ann")
        store.add_memo("theme", t, f"Opmerking {piece}", "supervisor", kind="supervisor")
        store.add_memo("segment", segs[0]["id"], f"Segmentmemo {piece}", "ann")
    return store, odd_coder


@pytest.fixture
def nasty(tmp_path):
    store, odd = nasty_project(tmp_path)
    yield store, odd, tmp_path
    store.close()


def _participant_texts(store) -> list[str]:
    return [s["text"] for s in store.segments() if s["role"] == "participant"]


def _clean_folder(folder: Path, expected: set[str]) -> None:
    """Only the outputs (and the project with its SQLite side files) are in the folder."""
    left = {p.name for p in folder.iterdir()} - expected
    left = {n for n in left if not n.startswith("p.qualcode") and n != "F1.txt"}
    assert left == set(), f"left behind: {left}"


# ------------------------------------------------------------------ one test per output kind
def test_the_project_keeps_the_text_exactly(nasty):
    store, _, _ = nasty
    src = store.sources()[0]
    text = store.source(src["id"])["text"]
    assert NASTY in text                                  # ingest keeps every character (offsets stay valid)
    assert "\uffff" in text and "\x85" in text
    for s in store.segments():
        assert text[s["start"]:s["end"]] == s["text"]


def test_coding_sheet_reopens_and_round_trips(nasty):
    from qualcode.excel.coding_sheet import export_sheet, import_sheet

    store, _, folder = nasty
    out = folder / "coding.xlsx"
    export_sheet(store, str(out), "ann")
    sheets = reopen_xlsx(out)
    assert set(sheets) == {"Coding", "Codebook", "_qualcode"}
    header = sheets["Coding"][0]
    by_text = [r[header.index("text")] for r in sheets["Coding"][1:]]
    assert by_text == [xml_text(s["text"]) for s in store.segments()]
    assert any("\ufffd" in t for t in by_text) and any("\x85" in t for t in by_text)   # C1 kept
    # unedited, the sheet imports without a single problem (the filtered text is not an "edit")
    result = import_sheet(store, str(out), "ann")
    assert result.problems == [] and result.n_added == 0 and result.n_removed == 0 and result.memos == 0
    _clean_folder(folder, {"coding.xlsx"})


def test_analysis_workbook_reopens(nasty):
    from qualcode.excel.analysis import write_workbook

    store, _, folder = nasty
    out = folder / "analysis.xlsx"
    summary = write_workbook(store, out)
    sheets = reopen_xlsx(out)
    assert list(sheets) == summary.sheets
    all_text = texts(sheets)
    assert f"Memo {xml_text(NASTY)}" in all_text
    assert not any(ILLEGAL_XML.search(t) for t in all_text)
    _clean_folder(folder, {"analysis.xlsx"})


def test_agreement_and_disagreement_workbooks_reopen(nasty):
    from qualcode.agreement.measures import compute_agreement
    from qualcode.agreement.workbook import write_agreement_report, write_disagreements

    store, odd, folder = nasty
    report = compute_agreement(store, ["ann", "bob", odd], n_boot=50)
    write_agreement_report(report, store, folder / "agreement.xlsx")
    sheets = reopen_xlsx(folder / "agreement.xlsx")
    assert {"Agreement", "Notes"} <= set(sheets)
    assert any(xml_text(odd) in t for t in texts(sheets))
    result = write_disagreements(store, ["ann", "bob", odd], folder / "disagreements.xlsx")
    sheets = reopen_xlsx(folder / "disagreements.xlsx")
    rows = sheets["Disagreements"]
    assert len(rows) - 1 == result.n_disagreements > 0
    assert {r[3] for r in rows[1:]} <= {xml_text(t) for t in _participant_texts(store)}
    _clean_folder(folder, {"agreement.xlsx", "disagreements.xlsx"})


def test_suggestion_sheet_reopens(nasty):
    from qualcode.coding.suggest import export_suggestions

    store, _, folder = nasty
    codes = store.code_ids()
    segs = [s for s in store.segments() if s["role"] == "participant"]
    with store.act("test suggestions"):
        store.add_suggestions([(s["id"], codes["pros"], 0.7, f"trots {NASTY[:20]}") for s in segs],
                              coder="ann", source="model")
    n = export_suggestions(store, str(folder / "suggestions.xlsx"), coder="ann")
    sheets = reopen_xlsx(folder / "suggestions.xlsx")
    rows = next(iter(sheets.values()))
    assert n == len(segs) == len(rows) - 1
    assert {r[5] for r in rows[1:]} == {xml_text(t) for t in _participant_texts(store)}


def test_discover_sheet_and_markdown_reopen(nasty):
    from qualcode.coding.discover import discover, write_clusters

    store, _, folder = nasty
    with store.act("uncode"):
        for coder in list(store.coders()):
            store.remove_codings([(s["id"], c) for s in store.segments() for c in store.code_ids().values()],
                                 coder)
    found = discover(store, n_clusters=2, seed=0)
    assert found.clusters
    write_clusters(found, str(folder / "clusters.xlsx"))
    sheets = reopen_xlsx(folder / "clusters.xlsx")
    assert set(sheets) == {"Clusters", "Segments"}
    assert {r[4] for r in sheets["Segments"][1:]} <= {xml_text(t) for t in _participant_texts(store)}
    write_clusters(found, str(folder / "clusters.md"))
    assert reopen_markdown(folder / "clusters.md").startswith("# Candidate codes")


def test_overview_and_review_reopen(nasty):
    from qualcode.familiarise.overview import build_overview, write_overview
    from qualcode.themes.review import run_review, write_review

    store, _, folder = nasty
    ov = build_overview(store)
    write_overview(ov, folder / "overview.xlsx")
    sheets = reopen_xlsx(folder / "overview.xlsx")
    assert set(sheets) == {"Groups", "Participants", "Distinctive terms"}
    assert len(sheets["Participants"]) - 1 == len(ov.participants)
    write_overview(ov, folder / "overview.md")
    assert "## Participants" in reopen_markdown(folder / "overview.md")
    write_review(run_review(store, remember=False), folder / "review.xlsx")
    sheets = reopen_xlsx(folder / "review.xlsx")
    assert {"Warnings", "Integrity", "Coverage", "About coherence"} <= set(sheets)


def test_codebook_exports_reopen(nasty):
    import yaml

    from qualcode.codebook.yamlfile import codebook_from_xlsx, export_codebook

    store, _, folder = nasty
    export_codebook(store, str(folder / "codebook.xlsx"))
    sheets = reopen_xlsx(folder / "codebook.xlsx")
    assert set(sheets) == {"Codebook", "About"}
    back = codebook_from_xlsx(folder / "codebook.xlsx")
    assert [c.name for c in back.codes] == [xml_text(f"Voordelen {NASTY}"), "Jobcoach"]
    export_codebook(store, str(folder / "codebook.yaml"))
    data = yaml.safe_load((folder / "codebook.yaml").read_text(encoding="utf-8"))
    assert data["themes"][0]["name"] == f"Werk {NASTY}"      # YAML escapes them: exact round trip


def test_refi_project_and_codebook_are_schema_valid(nasty):
    from qualcode.refi.export import export_refi

    store, _, folder = nasty
    export_refi(store, folder / "p.qdpx")
    refi = reopen_refi(folder / "p.qdpx")
    text = store.source(store.sources()[0]["id"])["text"]
    assert list(refi["sources"].values()) == [text]       # the source file keeps the text as stored
    ns = {"q": "urn:QDA-XML:project:1.0"}
    sels = refi["xml"].findall(".//q:PlainTextSelection", ns)
    assert len(sels) == len(_participant_texts(store))          # every coded segment, none twice
    for sel in sels:
        start, end = int(sel.get("startPosition")), int(sel.get("endPosition"))
        assert text[start:end] in {s["text"] for s in store.segments()}
    export_refi(store, folder / "p.qdc")
    reopen_refi(folder / "p.qdc", codebook_only=True)
    _clean_folder(folder, {"p.qdpx", "p.qdc"})


@pytest.mark.parametrize("fmt", ["html", "docx", "md"])
def test_report_reopens(nasty, fmt, recwarn):
    from qualcode.reports.report import write_report

    store, _, folder = nasty
    written = write_report(store, folder / f"report.{fmt}")
    assert [str(w.message) for w in recwarn if "Glyph" in str(w.message)] == []   # nothing raw on the terminal
    out = folder / f"report.{fmt}"
    if fmt == "html":
        body = reopen_html(out)
    elif fmt == "docx":
        body = " ".join(reopen_docx(out))
    else:
        body = reopen_markdown(out)
        assert len(written) == 4 and all(p.exists() for p in written)
    name = xml_text(f"Werk {NASTY}")                        # the theme's name, C1 controls and all
    if fmt == "md":                                         # as inert Markdown (issue 23)
        from qualcode.reports.report import _md

        name = _md(name)
    assert name in body
    assert "Trots" in body and "Opmerking" in body
    _clean_folder(folder, {p.name for p in written})


def test_pseudonymisation_key_reopens(nasty):
    from qualcode.privacy.pseudonyms import pseudonymise, write_mapping

    store, _, folder = nasty
    report = pseudonymise(store, detect=("email",), dry_run=True)
    write_mapping(report, folder / "key.csv")
    with open(folder / "key.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["placeholder", "category", "original"]
    assert [r[2] for r in rows[1:]] == ["jan@voorbeeld.be"]


def test_report_writers_take_lone_surrogates(tmp_path):
    """Text that never went through the store (a command-line argument that was not UTF-8 holds lone
    surrogates) cannot break a docx or HTML report either."""
    from qualcode.reports.report import LABELS, Report, ThemeSection, render_html, render_markdown, write_docx

    bad = "naam \udcff\ud800 en \x01"
    sec = ThemeSection(id=1, key="k", name=bad, colour="#112233", status="candidate", status_label=bad,
                       definition=bad, key_messages=[bad], fragments=1, groups=1, participants=1,
                       per_group=[("F1", 1)], codes=[{"name": bad, "n_segments": 1}],
                       quotes=[{"text": bad, "key": "F1 P1"}],
                       supervisor=[{"author": bad, "created_at": "2026-01-01", "text": bad}])
    report = Report(language="en", labels=LABELS["en"], project=bad, generated="now", steps=[], themes=[sec])
    write_docx(report, tmp_path / "r.docx")
    assert "naam \ufffd\ufffd en \ufffd" in " ".join(reopen_docx(tmp_path / "r.docx"))
    (tmp_path / "r.html").write_text(render_html(report), encoding="utf-8")
    assert "naam \ufffd\ufffd en \ufffd" in reopen_html(tmp_path / "r.html")
    assert ILLEGAL_XML.search(render_markdown(report)) is None


# ------------------------------------------------------------------ property: random text, every output
_SPECIAL = st.sampled_from(list(C0 + C1 + EDGES + "\t\r\n &<>\"'=+-@"))
_ANY = st.characters(codec="utf-8", exclude_characters="\x00")   # surrogates cannot be in a UTF-8 file
PIECES = st.text(alphabet=st.one_of(_SPECIAL, _ANY), min_size=1, max_size=40)


def run_pipeline(piece: str) -> int:
    """Ingest a transcript holding ``piece``, write every main output, re-open each. Returns the
    number of outputs re-opened."""
    from qualcode.refi.export import export_refi
    from qualcode.reports.report import write_report
    from qualcode.excel.coding_sheet import export_sheet
    from qualcode.excel.analysis import write_workbook

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        store, _ = nasty_project(folder, piece)
        try:
            export_sheet(store, str(folder / "coding.xlsx"), "ann")
            sheet = reopen_xlsx(folder / "coding.xlsx")["Coding"]
            assert [r[3] for r in sheet[1:]] == [xml_text(s["text"]) for s in store.segments()]
            write_workbook(store, folder / "analysis.xlsx")
            assert f"Memo {xml_text(piece)}" in texts(reopen_xlsx(folder / "analysis.xlsx"))
            write_report(store, folder / "report.html")
            reopen_html(folder / "report.html")
            write_report(store, folder / "report.docx")
            reopen_docx(folder / "report.docx")
            write_report(store, folder / "report.md")
            reopen_markdown(folder / "report.md")
            export_refi(store, folder / "p.qdpx")
            refi = reopen_refi(folder / "p.qdpx", need_schema=False)
            assert list(refi["sources"].values()) == [store.source(store.sources()[0]["id"])["text"]]
        finally:
            store.close()
        leftovers = [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]
        assert leftovers == []
    return 6


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(PIECES)
@example(NASTY)
@example("\x0b\x0c\ufffe\uffff")
@example("\U0001F600\ud7ff\ue000\U0010FFFF")
@example("=SUM(A1)\x85\x9f")
def test_random_text_through_every_output_reopens(piece):
    assert run_pipeline(piece) == 6


# ------------------------------------------------------------------ the report that started it (issue 15, item 2)
def test_cli_transcript_with_uffff_gives_workbook_and_sheet_that_open(tmp_path, run):
    """U+FFFF in a transcript made 'export workbook' exit 0 with a file nothing could open, and
    'sheet export' fail with 'unexpected ValueError ... This is a bug'."""
    project = tmp_path / "study.qualcode"
    (tmp_path / "F1.txt").write_text("Moderator: Wat denkt ge?\nP1: Werk\uffff geeft \x01structuur.\n"
                                     "P2: Ja, \ufffe maar de stress\x0c blijft.\n", encoding="utf-8")
    assert run(project, "init").exit_code == 0
    assert run(project, "ingest", str(tmp_path / "F1.txt"), "--allow-new-speakers").exit_code == 0
    result = run(project, "export", "workbook", str(tmp_path / "analysis.xlsx"))
    assert result.exit_code == 0, result.stderr
    reopen_xlsx(tmp_path / "analysis.xlsx")
    result = run(project, "sheet", "export", str(tmp_path / "coding.xlsx"))
    assert result.exit_code == 0, result.stderr
    rows = reopen_xlsx(tmp_path / "coding.xlsx")["Coding"]
    assert [r[3] for r in rows[1:]] == ["Wat denkt ge?", "Werk\ufffd geeft \ufffdstructuur.",
                                        "Ja, \ufffd maar de stress  blijft."]
    result = run(project, "sheet", "import", str(tmp_path / "coding.xlsx"))
    assert result.exit_code == 0 and "problem" not in result.stdout.lower(), result.stdout + result.stderr
