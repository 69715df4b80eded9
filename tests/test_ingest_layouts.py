"""Transcripts as the real tools write them (tests/data): Teams, Zoom, Otter, Word, LibreOffice,
RTF and spreadsheets, with speakers' real names mapped to keys ('F1 P3').

Every layout is ingested to the right keys, and no name appears anywhere qualcode writes:
the project file itself, the segments listing, the coding sheet, the workbook, the reports
(HTML, Markdown, Word) and the REFI-QDA export.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from tests.helpers import tiny_codebook

DATA = Path(__file__).resolve().parent / "data"
NAMES = ["Jan Peeters", "Els Vermeulen", "Koen Janssens", "Sofie Maes", "An De Smet"]
SURNAMES = ["Peeters", "Vermeulen", "Janssens", "Maes", "De Smet"]

M, P1, P2, P3, P4 = "F1 Moderator", "F1 P1", "F1 P2", "F1 P3", "F1 P4"
# file -> (key of each segment, first words of each segment)
LAYOUTS = {
    "teams.vtt": [(M, "Goeiemorgen allemaal"), (M, "P1, wilt gij"), (P1, "Ja hoor"), (P2, "En ik ben jobcoach"),
                  (P3, "Voor mij is werk"), (P4, "Dat herken ik"), (M, "Wat bedoelt ge"), (P4, "Dat ge van")],
    "zoom.vtt": [(M, "Goeiemiddag"), (P2, "Ja, ik hoor"), (P3, "Ik ook"), (M, "Geen probleem"),
                 (P1, "Een werkgever"), (P1, "En iemand")],
    "zoom.txt": [(M, "Goeiemiddag"), (P4, "Voor mij was"), (P3, "Bij mij viel dat eerlijk gezegd tegen.\nIk moest"),
                 (M, "Hoe kwam dat"), (P3, "Te weinig tijd")],
    "zoom_captions.txt": [(M, "Goeiemorgen"), (P2, "Ja, geen"), (P1, "Voor mij ook"), (M, "Dan de eerste vraag"),
                          (P2, "Erbij horen")],
    "names.txt": [(M, "Welkom"), (P1, "Ik werk in"), (P2, "Ik zit nog thuis"), (M, "Wat houdt u"),
                  (P2, "De angst dat ik het niet volhoud, denk ik.\nDat is het probleem: ge begint"),
                  (P4, "Dat ken ik")],
    "otter.txt": [(M, "Goeiemorgen"), (P3, "Werk geeft"), (P4, "Bij mij is dat"), (M, "En hoe zien"),
                  (P3, "Een paar dagen")],
    "names.md": [(M, "Wat hebt ge"), (P1, "Begrip"), (P3, "Duidelijke"), (M, "En van de"), (P4, "Dat ze blijft")],
    "teams.docx": [(M, "Goeiemorgen allemaal"), (P3, "Voor mij hoort"), (P4, "Bij mij net wel"), (M, "Wat bedoelt"),
                   (P4, "Opstaan")],
    "teams_old.docx": [(M, "Welkom iedereen"), (P2, "Ik ben jobcoach"), (P1, "En ik werk"), (M, "Dank u"),
                       (P1, "Dat had mij")],
    "otter.docx": [(M, "Wie wil"), (P2, "Ik wil wel"), (M, "Hoe verloopt"), (P2, "Met ups")],
    "names.docx": [(M, "Wat zou u"), (P3, "Een proefperiode"),
                   (P1, "Ja, dat is voor veel mensen de grootste schrik.\nDat is het probleem"),
                   (M, "Herkent"), (P4, "Ik wel")],
    "names.odt": [(M, "Wat  zou u"), (P3, "Een  proefperiode"),
                  (P1, "Ja,  dat is voor veel mensen de grootste schrik.\nDat is het probleem"),
                  (M, "Herkent"), (P4, "Ik  wel")],
    "names.rtf": [(M, "Wat maakt"), (P2, "Niet weten"), (P1, "Bij mij is het"), (M, "Zou een jobcoach"),
                  (P2, "Die kan mee")],
    "table.csv": [(M, "Wat zijn"), (P1, "Het gat"), (P1, "En dan kijken"), (P2, "Bij mij is het vooral"),
                  (M, "Herkent de rest"), (P3, "Ja. Na een halve")],
    "table.xlsx": [(M, "Wat is een goeie"), (P3, "Iemand die"), (P4, "En die durft"), (M, "Zijn er zo"),
                   (P3, "Meer dan")],
    "interview_1.txt": [("I1 Interviewer", "Hoe lang"), ("I1 P1", "Ik werk al tien"), ("I1 Interviewer", "Waarom"),
                        ("I1 P1", "Ik wou"), ("I1 Interviewer", "En wat"), ("I1 P1", "De papieren")],
}


@pytest.fixture(scope="module")
def layouts_project(tmp_path_factory):
    """All layouts in one project, in one ingest, matched through the participants file's name column."""
    from qualcode.ingest import ingest
    from qualcode.store import Store

    pytest.importorskip("striprtf")
    d = tmp_path_factory.mktemp("layouts")
    path = d / "layouts.qualcode"
    store = Store.create(path)
    report = ingest(store, [str(DATA / f) for f in LAYOUTS], participants=str(DATA / "participants_names.csv"))
    ids = tiny_codebook(store)
    with store.act("code"):  # every segment coded, so reports quote every speaker
        for k, s in enumerate(store.segments()):
            store.add_coding(s["id"], ids["pros"] if k % 2 else ids["coach"], "tester")
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return path, report


@pytest.mark.parametrize("name", list(LAYOUTS))
def test_each_layout_gets_the_right_keys(layouts_project, name):
    from qualcode.store import Store

    store = Store.open(layouts_project[0])
    try:
        text = store.source(name)["text"]
        segs = list(store.segments(source=name))
        for s in segs:
            assert s["text"] == text[s["start"]:s["end"]]
        got = [(s["key"], s["text"]) for s in segs]
        assert [k for k, _ in got] == [k for k, _ in LAYOUTS[name]], got
        for (_, seg_text), (_, start) in zip(got, LAYOUTS[name]):
            assert seg_text.startswith(start), (seg_text, start)
        moderators = [s for s in segs if s["key"].endswith(("Moderator", "Interviewer"))]
        assert all(s["role"] == "moderator" and s["participant_id"] is None for s in moderators)
    finally:
        store.close()


def test_the_report_says_where_each_group_came_from(layouts_project):
    lines = layouts_project[1].lines()
    assert "teams.vtt: added, group F1 (from the speakers' names in the participants file), 7 turns, 8 segments, " \
           "82 words" in lines
    assert "interview_1.txt: added, group I1 (from the file name), 6 turns, 6 segments, 66 words" in lines
    assert ("  note: 1 row(s) with text but no speaker (first: line 5) kept as unattributed context: in the stored "
            "text, not segments (--strict refuses them)") in lines
    assert not any(n in line for line in lines for n in SURNAMES)


def _all_text(path: Path) -> str:
    data = path.read_bytes()
    if data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return "\n".join(zf.read(n).decode("utf-8", "replace") for n in zf.namelist())
    return data.decode("utf-8", "replace")


EXPORTS = [
    ("segments.txt", ["segments"]),
    ("sheet.xlsx", ["sheet", "export", "{out}"]),
    ("workbook.xlsx", ["export", "workbook", "{out}"]),
    ("report.html", ["report", "--out", "{out}"]),
    ("report.md", ["report", "--out", "{out}"]),
    ("report.docx", ["report", "--out", "{out}"]),
    ("project.qdpx", ["export", "refi", "{out}"]),
    ("overview.md", ["overview", "--out", "{out}"]),
    ("participants.txt", ["participants"]),
    ("kwic.txt", ["kwic", "werk"]),
]


@pytest.mark.parametrize("name,args", EXPORTS)
def test_no_name_in_any_output(layouts_project, tmp_path, name, args):
    from click.testing import CliRunner

    from qualcode.cli import cli

    out = tmp_path / name
    r = CliRunner().invoke(cli, ["-p", str(layouts_project[0]), *[a.replace("{out}", str(out)) for a in args]],
                           env={"QUALCODE_CODER": "tester"})
    assert r.exit_code == 0, r.output
    text = _all_text(out) if out.exists() else r.output
    assert "F1 P3" in text or "F1_P3" in text or "(F1 P3)" in text or name == "kwic.txt"
    for n in SURNAMES:
        assert n.lower() not in text.lower(), f"{name} holds '{n}'"


def test_no_name_in_the_project_file(layouts_project):
    data = layouts_project[0].read_bytes().decode("utf-8", "replace").lower()
    for n in SURNAMES:
        assert n.lower() not in data


def test_the_binary_layouts_match_their_generator(tmp_path):
    """tests/data/*.docx, *.odt and table.xlsx are what make_layouts.py writes."""
    import importlib.util

    from qualcode.ingest.parse import docx_text, odt_text
    from qualcode.ingest.tables import read_rows

    spec = importlib.util.spec_from_file_location("make_layouts", DATA / "make_layouts.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.main(tmp_path)
    for f in ("teams.docx", "teams_old.docx", "otter.docx", "names.docx"):
        assert docx_text(str(tmp_path / f)) == docx_text(str(DATA / f))
    assert odt_text(str(tmp_path / "names.odt")) == odt_text(str(DATA / "names.odt"))
    assert read_rows(str(tmp_path / "table.xlsx")) == read_rows(str(DATA / "table.xlsx"))
