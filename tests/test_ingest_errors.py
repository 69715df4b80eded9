"""Bad input gives one clear line and exit code 1 through the CLI, and writes nothing."""

from __future__ import annotations

import pytest

try:  # tests/ may or may not be a package
    from tests.test_ingest_helpers import dump
except ImportError:  # pragma: no cover
    from test_ingest_helpers import dump

PEOPLE = "group,participant,gender\nF1,P1,vrouw\nF1,P2,man\nF1,P3,vrouw\nF2,P1,man\nF2,P2,vrouw\n"
F1 = "# group: F1\nModerator: Welkom.\nP1: Dank u.\nP2: Ik werk in een keuken.\nP3: En ik niet.\n"


@pytest.fixture
def project(tmp_path, run):
    """A project with participants of F1 and F2 and F1.txt ingested."""
    path = tmp_path / "p.qualcode"
    (tmp_path / "participants.csv").write_text(PEOPLE, encoding="utf-8")
    (tmp_path / "F1.txt").write_text(F1, encoding="utf-8")
    assert run(path, "init").exit_code == 0
    res = run(path, "ingest", tmp_path / "F1.txt", "--participants", tmp_path / "participants.csv")
    assert res.exit_code == 0, res.output
    return path


def refused(run, project, args, message):
    before = dump(project)
    res = run(project, "ingest", *args)
    assert res.exit_code == 1
    assert res.stdout == ""
    assert res.stderr == f"Error: {message}\n"
    assert dump(project) == before


def test_fixture_project_is_as_expected(project):
    d = dump(project)
    assert len(d["participants"]) == 5
    assert len(d["sources"]) == 1
    assert len(d["segments"]) == 4


def test_empty_file(run, project, tmp_path):
    f = tmp_path / "F2.txt"
    f.write_bytes(b"")
    refused(run, project, [f], f"{f}: the file is empty")


def test_white_space_only_file(run, project, tmp_path):
    f = tmp_path / "F2.txt"
    f.write_text("  \n\n\t\n", encoding="utf-8")
    refused(run, project, [f], f"{f}: contains only white space")


def test_binary_file_with_nul_bytes(run, project, tmp_path):
    f = tmp_path / "F2.txt"
    f.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    refused(run, project, [f], f"{f}: is not a text file (it contains NUL bytes: binary data, or UTF-16 without "
                               "a byte-order mark); save it as UTF-8 text")


def test_binary_file_without_nul_bytes(run, project, tmp_path):
    f = tmp_path / "F2.txt"
    f.write_bytes(bytes(range(1, 32)) * 20)
    refused(run, project, [f], f"{f}: looks like binary data, not a text transcript")


def test_no_speaker_labels(run, project, tmp_path):
    f = tmp_path / "F2.txt"
    f.write_text("Dit is een verslag zonder sprekers.\nNog een regel.\n", encoding="utf-8")
    refused(run, project, [f], f"{f}: no speaker labels found; expected lines such as 'P2: …', 'F1 P2: …', "
                               "'Moderator: …' or '[00:12:03] P2: …' (or, if no line has a label, say who "
                               "speaks with --default-speaker P1)")


def test_unknown_group(run, project, tmp_path):
    f = tmp_path / "F9.txt"
    f.write_text("P1: Hallo.\n", encoding="utf-8")
    refused(run, project, [f], f"{f}: group F9 (from the file name) is not a known group (known: F1, F2); check "
                               "the group, or add its participants with --participants")


def test_group_cannot_be_told(run, project, tmp_path):
    f = tmp_path / "gesprek.txt"
    f.write_text("P1: Hallo.\n", encoding="utf-8")
    refused(run, project, [f], f"{f}: cannot tell which focus group this is; use --group F1, a '# group: F1' "
                               "header line, or a file name such as F1.txt")


def test_duplicate_participant_rows(run, project, tmp_path):
    p = tmp_path / "dup.csv"
    p.write_text("group,participant,gender\nF3,P1,man\nF3,P2,vrouw\nF3,2,man\n", encoding="utf-8")
    refused(run, project, ["--participants", p], f"{p}, line 4: lists F3 P2 twice (also line 3)")


def test_participants_file_without_participant_column(run, project, tmp_path):
    p = tmp_path / "people.csv"
    p.write_text("group,name,gender\nF3,Jan,man\n", encoding="utf-8")
    refused(run, project, ["--participants", p],
            f"{p}: has no participant column (columns found: group, name, gender); accepted names for the "
            "participant column: participant, deelnemer, respondent, participant_id, id, p, nummer, speaker; rename "
            "the column to one of these")


def test_table_without_text_column(run, project, tmp_path):
    f = tmp_path / "F2.csv"
    f.write_text("Group,Speaker,Words\nF2,P1,hallo\n", encoding="utf-8")
    refused(run, project, [f], f"{f}: has no text column (columns found: Group, Speaker, Words); accepted names for "
                               "the text column: text, tekst, sentence, sentences, zin, zinnen, utterance, utterances, "
                               "utterance_text, uiting, uitspraak, content, inhoud, transcript, transcriptie, "
                               "fragment, message, bericht, speech, turn, beurt, quote, citaat, dialogue, line; or "
                               "say which column it is with --column text=Words")


def test_table_row_without_speaker(run, project, tmp_path):
    f = tmp_path / "F2.csv"
    f.write_text("speaker,text\nP1,hallo\n,zwevende tekst\n", encoding="utf-8")
    refused(run, project, ["--strict", f], f"{f}, line 3: has a row with text but no speaker (--strict); fill in the "
                                           "speaker, or leave out --strict to keep such rows as unattributed context")


def test_unknown_speakers_without_allow_new_speakers(run, project, tmp_path):
    f = tmp_path / "F2.txt"
    f.write_text("Moderator: Dag.\nP1: Hallo.\nP7: Ik sta niet op de lijst.\nP8: Ik ook niet.\nP7: Nog eens.\n",
                 encoding="utf-8")
    refused(run, project, [f], f"{f}: speakers not in the participants metadata: F2 P7 (line 3), F2 P8 (line 4); "
                               "add them to the participants file, or use --allow-new-speakers to create them")


def test_unknown_speakers_are_created_with_the_option(run, project, tmp_path):
    f = tmp_path / "F2.txt"
    f.write_text("P1: Hallo.\nP7: Ik sta niet op de lijst.\n", encoding="utf-8")
    res = run(project, "ingest", f, "--allow-new-speakers")
    assert res.exit_code == 0
    assert "new speakers created (--allow-new-speakers): F2 P7" in res.stdout.splitlines()
    assert len(dump(project)["participants"]) == 6


def test_changed_file_without_replace(run, project, tmp_path):
    f = tmp_path / "F1.txt"
    f.write_text(F1 + "P1: Nog iets.\n", encoding="utf-8")
    refused(run, project, [f], "F1.txt: a different version of this file is already ingested; use --replace to "
                               "replace it (codings on unchanged text are carried over)")


def test_one_bad_file_among_good_ones_writes_nothing(run, project, tmp_path):
    good = tmp_path / "F2.txt"
    good.write_text("P1: Hallo.\nP2: Dag.\n", encoding="utf-8")
    bad = tmp_path / "F2b.txt"
    bad.write_bytes(b"")
    refused(run, project, [good, bad], f"{bad}: the file is empty")


def test_labels_naming_several_groups(run, project, tmp_path):
    f = tmp_path / "samen.txt"
    f.write_text("F1 P1: Hallo.\nF2 P1: Dag.\n", encoding="utf-8")
    refused(run, project, [f], f"{f}: speaker labels name several groups (F1, F2); put each focus group in its "
                               "own file")


def test_group_option_against_labels(run, project, tmp_path):
    f = tmp_path / "samen.txt"
    f.write_text("F1 P1: Hallo.\n", encoding="utf-8")
    refused(run, project, [f, "--group", "F2"],
            f"{f}: --group says F2 but the speaker labels say F1; leave out --group or fix the labels")


def test_missing_file_and_unsupported_type(run, project, tmp_path):
    refused(run, project, [tmp_path / "nope.txt"], f"{tmp_path / 'nope.txt'}: does not exist")
    f = tmp_path / "F2.pdf"
    f.write_bytes(b"%PDF-1.4")
    refused(run, project, [f], f"{f}: has an unsupported file type '.pdf'; qualcode reads .txt, .md, .docx, .odt, .rtf, "
                               ".vtt, .srt, .csv and .xlsx")


def test_damaged_docx(run, project, tmp_path):
    f = tmp_path / "F2.docx"
    f.write_bytes(b"PK\x03\x04 not really a zip")
    refused(run, project, [f], f"{f}: is not a valid Word document (not a ZIP archive; is it damaged or renamed?)")


def test_same_name_twice_in_one_ingest(run, project, tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a, b = tmp_path / "a" / "F2.txt", tmp_path / "b" / "F2.txt"
    a.write_text("P1: Hallo.\n", encoding="utf-8")
    b.write_text("P2: Iets anders.\n", encoding="utf-8")
    refused(run, project, [a, b], f"{b}: has the same file name as another file in this ingest; qualcode keys "
                                  "sources by file name, so rename one of them")


def test_nothing_to_ingest(run, project):
    refused(run, project, [], "nothing to ingest: give transcript files and/or --participants FILE")


def test_column_option_needs_role_equals_name(run, project, tmp_path):
    f = tmp_path / "F2.csv"
    f.write_text("wie,wat\nP1,hallo\n", encoding="utf-8")
    refused(run, project, [f, "--column", "text"], "--column takes ROLE=NAME, got 'text'")
    refused(run, project, [f, "--column", "text=inhoud", "--column", "speaker=wie"],
            f"{f}: has no column 'inhoud' (given for text); columns found: wie, wat")
