"""Re-ingest rules (same file, --replace carrying codings over) and group detection."""

from __future__ import annotations

import pytest

from qualcode.errors import ConflictError
from qualcode.ingest import ingest
from qualcode.store import Store

try:  # tests/ may or may not be a package
    from tests.test_ingest_helpers import dump
except ImportError:  # pragma: no cover
    from test_ingest_helpers import dump

PEOPLE = "group,participant,gender\nF1,P1,vrouw\nF1,P2,man\nF1,P3,vrouw\n"
F1 = ("# group: F1\n"
      "Moderator: Welkom.\n"
      "P1: Structuur, dat is wat werk mij geeft.\n"
      "P2: Voor mij is het vooral stress.\n"
      "P3: Ik twijfel nog.\n")


@pytest.fixture
def project(tmp_path, run):
    path = tmp_path / "p.qualcode"
    (tmp_path / "participants.csv").write_text(PEOPLE, encoding="utf-8")
    (tmp_path / "F1.txt").write_text(F1, encoding="utf-8")
    assert run(path, "init").exit_code == 0
    assert run(path, "ingest", tmp_path / "F1.txt", "--participants", tmp_path / "participants.csv").exit_code == 0
    return path


def code_segments(project, tiny_codebook_factory, texts: dict[str, str]):
    """Code the segments with the given text with the given code keys (as coder 'anna'); memo on the first."""
    with Store.open(project) as store:
        codes = tiny_codebook_factory(store)
        by_text = {s["text"]: s["id"] for s in store.segments()}
        with store.act("code"):
            for text, code in texts.items():
                store.add_coding(by_text[text], codes[code], "anna")
            store.add_memo("segment", by_text[next(iter(texts))], "opvallend", "anna")
            store.add_memo("source", store.source("F1.txt")["id"], "over de hele groep", "anna")


def codings(project):
    with Store.open(project) as store:
        return sorted((c["segment_text"], c["code_id"], c["coder"], c["origin"], c["guid"])
                      for c in store.codings_in_source(store.source("F1.txt")["id"]))


def test_same_file_again_is_a_no_op_with_a_message(run, project, tmp_path):
    before = dump(project)
    res = run(project, "ingest", tmp_path / "F1.txt", "--participants", tmp_path / "participants.csv")
    assert res.exit_code == 0
    assert res.stdout == "F1.txt: already ingested with the same content; nothing to do\n"
    assert dump(project) == before  # not even an audit-log row


def test_same_content_under_another_name_is_skipped(run, project, tmp_path):
    copy = tmp_path / "kopie_F1.txt"
    copy.write_text(F1, encoding="utf-8")
    before = dump(project)
    res = run(project, "ingest", copy)
    assert res.stdout == "kopie_F1.txt: same content as 'F1.txt', which is already ingested; nothing to do\n"
    assert dump(project) == before


def test_changed_participant_attributes_are_updated(run, project, tmp_path):
    (tmp_path / "participants.csv").write_text(PEOPLE.replace("F1,P2,man", "F1,P2,vrouw"), encoding="utf-8")
    res = run(project, "ingest", "--participants", tmp_path / "participants.csv")
    assert res.stdout == "participants: 0 added, 1 updated\n"
    with Store.open(project) as store:
        assert [p["gender"] for p in store.participants()] == ["vrouw", "vrouw", "vrouw"]


def test_replace_carries_codings_and_memos_over_unchanged_text(run, project, tmp_path, tiny_codebook_factory):
    code_segments(project, tiny_codebook_factory, {"Structuur, dat is wat werk mij geeft.": "pros",
                                                   "Voor mij is het vooral stress.": "cons"})
    before = codings(project)
    with Store.open(project) as store:
        old_ids = {s["text"]: s["id"] for s in store.segments()}
        source_id = store.source("F1.txt")["id"]
    # a new turn at the top and a changed, uncoded turn at the end
    (tmp_path / "F1.txt").write_text(F1.replace("Moderator: Welkom.\n", "Moderator: Welkom.\nP3: Dag!\n")
                                     .replace("Ik twijfel nog.", "Ik twijfel nog altijd."), encoding="utf-8")
    res = run(project, "ingest", tmp_path / "F1.txt", "--replace")
    assert res.exit_code == 0, res.output
    assert res.stdout.splitlines() == [
        "F1.txt: replaced, group F1 (from the '# group:' header), 5 turns, 5 segments, 19 words",
        "  replaced; 2 coding(s) carried over to unchanged segments",
    ]
    assert codings(project) == before  # same text, code, coder, origin and guid
    with Store.open(project) as store:
        src = store.source("F1.txt")
        assert src["id"] == source_id  # replaced in place
        segs = list(store.segments())
        assert [s["text"] for s in segs] == ["Welkom.", "Dag!", "Structuur, dat is wat werk mij geeft.",
                                             "Voor mij is het vooral stress.", "Ik twijfel nog altijd."]
        for s in segs:
            assert s["text"] == src["text"][s["start"]:s["end"]]
        memo = store.memos("segment")[0]
        assert store.segment(memo["target_id"])["text"] == "Structuur, dat is wat werk mij geeft."
        assert memo["target_id"] != old_ids["Structuur, dat is wat werk mij geeft."]
        assert [m["text"] for m in store.memos("source", source_id)] == ["over de hele groep"]
        assert store.history(1)[0]["command"] == "ingest"


def test_replace_refuses_when_a_coded_segment_changed(run, project, tmp_path, tiny_codebook_factory):
    code_segments(project, tiny_codebook_factory, {"Voor mij is het vooral stress.": "cons"})
    (tmp_path / "F1.txt").write_text(F1.replace("vooral stress", "soms stress"), encoding="utf-8")
    before = dump(project)
    res = run(project, "ingest", tmp_path / "F1.txt", "--replace")
    assert res.exit_code == 1
    assert res.stderr == (
        "Error: F1.txt: cannot replace: 1 coding(s) sit on segments whose text or speaker changed (first: "
        "segment 3, P2: 'Voor mij is het vooral stress.'). Export the codings ('qualcode sheet export') and remove "
        "them, or fix the file so those passages are unchanged.\n")
    assert dump(project) == before


def test_replace_refuses_when_the_speaker_of_a_coded_segment_changed(project, tmp_path, tiny_codebook_factory):
    code_segments(project, tiny_codebook_factory, {"Voor mij is het vooral stress.": "cons"})
    (tmp_path / "F1.txt").write_text(F1.replace("P2: Voor mij", "P3: Voor mij"), encoding="utf-8")
    with Store.open(project) as store:
        with pytest.raises(ConflictError) as exc:
            ingest(store, [str(tmp_path / "F1.txt")], replace=True)
    assert "1 coding(s) sit on segments whose text or speaker changed (first: segment 3, P2:" in str(exc.value)


def test_replace_then_undo_of_the_coding_act_still_works(project, tmp_path, tiny_codebook_factory):
    code_segments(project, tiny_codebook_factory, {"Ik twijfel nog.": "intake"})
    (tmp_path / "F1.txt").write_text(F1 + "P1: Nog iets.\n", encoding="utf-8")
    with Store.open(project) as store:
        ingest(store, [str(tmp_path / "F1.txt")], replace=True)
        assert store.count_codings() == 1
        store.undo(1)  # the 'code' act: its coding kept its id through the replace
        assert store.count_codings() == 0


# ----------------------------------------------------------- group detection
@pytest.mark.parametrize("name, content, option, expected", [
    ("F1.txt", "P1: Ja.\n", None, "group F1 (from the file name)"),
    ("focusgroep2.txt", "P1: Ja.\n", None, "group F2 (from the file name)"),
    ("Focus group 3.md", "P1: Ja.\n", None, "group F3 (from the file name)"),
    ("interview_4.txt", "P1: Ja.\n", None, "group I4 (from the file name)"),
    ("gesprek.txt", "# group: F5\nP1: Ja.\n", None, "group F5 (from the '# group:' header)"),
    ("gesprek.txt", "# groep: focusgroep 6\nP1: Ja.\n", None, "group F6 (from the '# group:' header)"),
    ("gesprek.txt", "# group: F2 — Halle, zorgverleners\nP1: Ja.\n", None, "group F2 (from the '# group:' header)"),
    ("gesprek.txt", "# group: Halle\nP1: Ja.\n", None, "group Halle (from the '# group:' header)"),
    ("gesprek.txt", "F7 P1: Ja.\n", None, "group F7 (from the speaker labels)"),
    ("F1.txt", "# group: F5\nP1: Ja.\n", None, "group F5 (from the '# group:' header)"),
    ("F1.txt", "P1: Ja.\n", "8", "group F8 (from --group)"),
])
def test_group_detection_says_which_was_used(empty_store, tmp_path, name, content, option, expected):
    f = tmp_path / name
    f.write_text(content, encoding="utf-8")
    report = ingest(empty_store, [str(f)], group=option, allow_new_speakers=True)
    assert report.lines()[0].startswith(f"{name}: added, {expected}, 1 turns")
    assert empty_store.source(name)["group_origin"] == expected.split("(from ")[1].rstrip(")")


def test_group_option_overriding_a_header_is_noted(empty_store, tmp_path):
    f = tmp_path / "F1.txt"
    f.write_text("# group: F5\nP1: Ja.\n", encoding="utf-8")
    report = ingest(empty_store, [str(f)], group="F2", allow_new_speakers=True)
    assert report.lines() == [
        "F1.txt: added, group F2 (from --group), 1 turns, 1 segments, 1 words",
        "  note: --group F2 overrides group F5 from the '# group:' header",
        "new speakers created (--allow-new-speakers): F2 P1",
    ]
