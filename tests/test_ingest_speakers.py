"""Speaker labels and names: nothing is merged silently, names become keys, and each bad case
gives one line with its fix, exit code 1 and an unchanged project."""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path

import pytest

try:  # tests/ may or may not be a package
    from tests.test_ingest_helpers import dump
except ImportError:  # pragma: no cover
    from test_ingest_helpers import dump

from qualcode.ingest import ingest
from qualcode.ingest.parse import match_label, parse_labelled

DATA = Path(__file__).resolve().parent / "data"
LONG = ("Ik werk al jaren in de zorg en ik zie elke week mensen die graag opnieuw aan de slag willen gaan, "
        "maar die botsen op regels, op wachtlijsten en op werkgevers die schrik hebben. ")


@pytest.fixture
def project(tmp_path, run):
    path = tmp_path / "p.qualcode"
    assert run(path, "init").exit_code == 0
    return path


def refused(run, project, args, message):
    before = dump(project)
    res = run(project, "ingest", *args)
    assert res.exit_code == 1, res.output
    assert res.stdout == ""
    assert res.stderr == f"Error: {message}\n"
    assert dump(project) == before
    assert not list(project.parent.glob("*-speaker-names.csv"))


def keys(store, name):
    text = store.source(name)["text"]
    segs = list(store.segments(source=name))
    assert all(s["text"] == text[s["start"]:s["end"]] for s in segs)
    return [(s["key"], s["role"], s["text"]) for s in segs]


# --------------------------------------------------------- what is a label
@pytest.mark.parametrize("line, speaker, role", [
    ("I: Waarom?", "Interviewer", "moderator"),
    ("M: Waarom?", "Moderator", "moderator"),
    ("Interviewer 1: Waarom?", "Interviewer 1", "moderator"),
    ("INTERVIEWER 2: Waarom?", "Interviewer 2", "moderator"),
    ("Moderator (Anna): Waarom?", "Moderator", "moderator"),
    ("P2: Waarom?", "P2", "participant"),
    ("Deelnemer 4: Waarom?", "P4", "participant"),
])
def test_known_forms(line, speaker, role):
    hit = match_label(line)
    assert (hit.speaker, hit.role, hit.raw) == (speaker, role, None)
    assert line[hit.body:] == "Waarom?"


@pytest.mark.parametrize("line, raw, kind", [
    ("R: Omdat.", "R", "lone"),
    ("Respondent: Omdat.", "Respondent", "lone"),
    ("Client: Omdat.", "Client", "lone"),
    ("Student: Omdat.", "Student", "label"),
    ("Spreker 3: Omdat.", None, ""),            # a numbered person label: P3
    ("Q: Omdat.", "Q", "label"),
    ("Jan Peeters: Omdat.", "Jan Peeters", "name"),
    ("An De Smet: Omdat.", "An De Smet", "name"),
    ("Jan van den Berg (Guest): Omdat.", "Jan van den Berg", "name"),
    ("00:01:02 Sofie Maes: Omdat.", "Sofie Maes", "name"),
    ("**Koen Janssens:** Omdat.", "Koen Janssens", "name"),
    ("De Smet: Omdat.", "De Smet", "name"),
    ("Speaker 1: Omdat.", "Speaker 1", "label"),
])
def test_label_like_prefixes_must_be_resolved(line, raw, kind):
    hit = match_label(line)
    assert (hit.raw, hit.kind) == (raw, kind)
    assert line[hit.body:] == "Omdat."


@pytest.mark.parametrize("line", [
    "Dat is het probleem: niemand durft.",
    "Kijk: zo gaat dat.",
    "Datum: 12 maart 2024",
    "Opmerking: de opname viel even weg.",
    "ja: dat klopt",
    "Eén ding nog: de koffie was koud.",
    "Om 10:30 begonnen we.",
    "Het was 10:30",
    "we zeiden: ja",
    "Yeah: sure.",
    "De vraag: is dat zo?",
    "Ten eerste: de uren.",
])
def test_ordinary_sentences_with_a_colon_are_not_labels(line):
    assert match_label(line) is None


def test_the_sample_transcripts_parse_as_before():
    """Every line of the sample either has a label LABEL_RE knew before, or is no label at all."""
    from tests.helpers import SAMPLE
    from qualcode.ingest.parse import LABEL_RE, decode

    for f in sorted(SAMPLE.glob("F*.txt")) + [SAMPLE / "english" / "interview_en.txt"]:
        text, _ = decode(f.read_bytes(), str(f))
        for line in text.split("\n"):
            hit = match_label(line)
            assert (hit is None) == (LABEL_RE.match(line) is None), line
            assert hit is None or hit.raw is None


# ------------------------------------------------- no silent merging (CLI)
def test_unknown_label_is_reported_with_its_line_and_fix(run, project, tmp_path):
    f = tmp_path / "F9.txt"
    f.write_text("Moderator: Hoe lang werkt ge al?\nP1: Ik werk al tien jaar in de zorg.\nStudent: Waarom?\n"
                 "P1: Omdat het moet.\nStudent: Oké.\n", encoding="utf-8")
    refused(run, project, [f],
            f"{f}, line 3: 'Student:' is not a speaker label qualcode knows (also line 5); say who it is with "
            "--speaker-label \"Student=P1\" (or \"Student=Moderator\"; \"Student=text\" if it is not a speaker)")
    res = run(project, "ingest", f, "--speaker-label", "Student=Moderator", "--allow-new-speakers")
    assert res.exit_code == 0, res.output


def test_interview_question_is_no_longer_merged(empty_store, tmp_path):
    f = tmp_path / "F9.txt"
    f.write_text("Moderator: Vertel eens.\nP1: Ik werk al tien jaar in de zorg.\nI: Waarom?\nP1: Omdat ik het graag "
                 "doe.\n", encoding="utf-8")
    ingest(empty_store, [str(f)], allow_new_speakers=True)
    assert keys(empty_store, "F9.txt") == [
        ("F9 Moderator", "moderator", "Vertel eens."), ("F9 P1", "participant", "Ik werk al tien jaar in de zorg."),
        ("F9 Interviewer", "moderator", "Waarom?"), ("F9 P1", "participant", "Omdat ik het graag doe.")]


def test_moderator_name_in_brackets_is_dropped(empty_store, tmp_path):
    f = tmp_path / "F2.txt"
    f.write_text("Moderator (Anna): Welkom.\nP1: Dank u.\n", encoding="utf-8")
    ingest(empty_store, [str(f)], allow_new_speakers=True)
    assert empty_store.source("F2.txt")["text"] == "Moderator: Welkom.\nP1: Dank u.\n"
    assert keys(empty_store, "F2.txt") == [("F2 Moderator", "moderator", "Welkom."),
                                           ("F2 P1", "participant", "Dank u.")]


def test_unknown_name_is_reported_without_the_name(run, project, tmp_path):
    f = tmp_path / "F3.txt"
    f.write_text("Moderator: Welkom.\nP1: Dank u.\nJan Peeters: En ik ben de nieuwe.\n", encoding="utf-8")
    refused(run, project, [f],
            f"{f}, line 3: 1 speaker name(s) are not in the participants file (first spoken on line(s) 3; names are "
            "never repeated in messages); map them in the participants file's name column, name the moderator with "
            "--moderator NAME, add --allow-new-speakers to number them P1, P2, … in order of appearance, or use "
            "--speaker-label \"WORD=text\" for a line that only looks like a label")


def test_respondent_among_numbered_participants_needs_a_key(run, project, tmp_path):
    f = tmp_path / "F4.txt"
    f.write_text("Moderator: Welkom.\nP1: Dank u.\nR: En ik?\n", encoding="utf-8")
    refused(run, project, [f, "--allow-new-speakers"],
            f"{f}, line 3: 'R:' marks a participant without a number, but this file has other participants too; "
            "say who it is with --speaker-label \"R=P1\"")


def test_one_to_one_interview_with_i_and_r(empty_store):
    ingest(empty_store, [str(DATA / "interview_1.txt")], allow_new_speakers=True)
    assert [k for k, _, _ in keys(empty_store, "interview_1.txt")] == ["I1 Interviewer", "I1 P1"] * 3


# -------------------------------------------------- who the words fall to
def test_moderator_only_labels_are_refused(run, project):
    f = DATA / "interview_2.txt"
    refused(run, project, [f, "--allow-new-speakers"],
            f"{f}: 74 of 74 words fall to the moderator, 0 to no one and 0 to participants; if the unlabelled lines "
            "are the participant's (a one-to-one interview), add --default-speaker P1, otherwise label the "
            "participants' lines (P1: …)")


def test_default_speaker_takes_the_unlabelled_lines(empty_store):
    ingest(empty_store, [str(DATA / "interview_2.txt")], allow_new_speakers=True, default_speaker="P1")
    got = keys(empty_store, "interview_2.txt")
    assert [k for k, _, _ in got] == ["I2 Moderator", "I2 P1"] * 3
    assert got[1][2].startswith("Ik werk al tien jaar") and got[2][2] == "Waarom?"


def test_mostly_moderator_is_refused_with_figures(run, project, tmp_path):
    f = tmp_path / "F5.txt"
    f.write_text(f"Moderator: {LONG * 6}\nIk ook, zei iemand.\nP1: Ja.\n", encoding="utf-8")
    refused(run, project, [f, "--allow-new-speakers"],
            f"{f}: 208 of 209 words (99%) fall to the moderator and 1 to participants; the participants' lines "
            "probably have no label. If unlabelled lines are the participant's (a one-to-one interview), add "
            "--default-speaker P1; otherwise label them (P1: …)")


def test_mostly_no_one_is_refused_with_figures(run, project, tmp_path):
    f = tmp_path / "F6.txt"
    f.write_text(f"{LONG * 6}\nModerator: Vraag?\nP1: Antwoord.\n", encoding="utf-8")
    refused(run, project, [f, "--allow-new-speakers"],
            f"{f}: 204 of 206 words (99%) belong to no one (lines before the first speaker label or rows without a "
            "speaker); label them, or say who speaks in them with --default-speaker KEY")


def test_text_without_any_label_and_a_default_speaker(empty_store, tmp_path):
    f = tmp_path / "I3.txt"
    f.write_text("Ik begin gewoon te vertellen.\nEn dan nog iets.\n", encoding="utf-8")
    ingest(empty_store, [str(f)], allow_new_speakers=True, default_speaker="P1")
    assert keys(empty_store, "I3.txt") == [("I3 P1", "participant",
                                            "Ik begin gewoon te vertellen.\nEn dan nog iets.")]


# ------------------------------------------------------------ names -> keys
def test_allow_new_speakers_numbers_names_and_keeps_the_table(run, project, tmp_path):
    res = run(project, "ingest", DATA / "teams.vtt", "--group", "F1", "--moderator", " an de smet ",
              "--allow-new-speakers")
    assert res.exit_code == 0, res.output
    table = project.parent / "p-speaker-names.csv"
    assert f"the name -> key table is in {table}. It holds real names" in res.stdout
    assert "Peeters" not in res.stdout
    rows = list(csv.reader(table.open(encoding="utf-8")))
    assert rows == [["group", "participant", "name", "role"], ["F1", "P1", "Jan Peeters", "participant"],
                    ["F1", "P2", "Els Vermeulen", "participant"], ["F1", "P3", "Koen Janssens", "participant"],
                    ["F1", "P4", "Sofie Maes", "participant"]]
    assert not [p for p in project.parent.iterdir() if p.name.startswith(".names-")]
    # a later file with the same people: the table gives them the same keys, no new names
    res = run(project, "ingest", DATA / "zoom.vtt", "--group", "F1", "--moderator", "An De Smet")
    assert res.exit_code == 0, res.output
    from qualcode.store import Store

    store = Store.open(project)
    assert [k for k, _, _ in keys(store, "zoom.vtt")] == ["F1 Moderator", "F1 P2", "F1 P3", "F1 Moderator",
                                                         "F1 P1", "F1 P1"]
    assert "Jan Peeters" not in store.source("teams.vtt")["text"]
    assert "<v P1>Ja hoor." in store.source("teams.vtt")["text"]
    store.close()


def test_names_file_option_and_case_insensitive_names(empty_store, tmp_path):
    f = tmp_path / "F7.csv"
    f.write_text("speaker,sentence\nAn De Smet,Vraag?\n Jan  Peeters ,Eerste.\nJAN PEETERS,Tweede.\n"
                 "jan peeters,Derde.\n", encoding="utf-8")
    table = tmp_path / "elders" / "sleutel.csv"
    table.parent.mkdir()
    report = ingest(empty_store, [str(f)], allow_new_speakers=True, moderators=["an de smet"],
                    names_file=str(table))
    assert report.names_numbered == 1 and report.names_file == str(table.resolve())
    assert [k for k, _, _ in keys(empty_store, "F7.csv")] == ["F7 Moderator", "F7 P1", "F7 P1", "F7 P1"]
    assert [p["key"] for p in empty_store.participants()] == ["F7 P1"]


def test_participants_file_with_names_and_roles(run, project, tmp_path):
    people = tmp_path / "people.csv"
    people.write_text("group,participant,name,role\nF1,P1,Jan Peeters,deelnemer\nF1,P1,Els Vermeulen,deelnemer\n",
                      encoding="utf-8")
    refused(run, project, ["--participants", people], f"{people}, line 3: lists F1 P1 twice (also line 2)")
    people.write_text("group,participant,name\nF1,P1,Jan Peeters\nF1,P2,jan peeters\n", encoding="utf-8")
    refused(run, project, ["--participants", people],
            f"{people}, line 3: lists the same name twice in F1 (also line 2); a name must point to one person")
    people.write_text("group,participant,name,role\nF1,P1,Jan Peeters,deelnemer\n,,,moderator\n", encoding="utf-8")
    refused(run, project, ["--participants", people],
            f"{people}, line 3: has a moderator row without a name; give the moderator's name in the name column "
            "(or leave the row out)")


def test_names_never_become_attributes(empty_store):
    ingest(empty_store, [], participants=str(DATA / "participants_names.csv"))
    people = empty_store.participants()
    assert "name" not in people[0] and people[0]["role"] == "deelnemer"
    assert [p["key"] for p in people] == ["F1 P1", "F1 P2", "F1 P3", "F1 P4", "I1 P1", "I2 P1"]


# ----------------------------------------------------------- option errors
def test_bad_option_values(run, project, tmp_path):
    f = tmp_path / "F1.txt"
    f.write_text("Moderator: Dag.\nP1: Dag.\n", encoding="utf-8")
    refused(run, project, [f, "--speaker-label", "Student"],
            "--speaker-label takes LABEL=KEY (e.g. \"Student=Moderator\", \"R=P1\", \"Citaat=text\"), got 'Student'")
    refused(run, project, [f, "--speaker-label", "Student=Jan"],
            "--speaker-label 'Jan': the key must be a participant number such as P1 or F1 P1, or Moderator")
    refused(run, project, [f, "--default-speaker", "iemand"],
            "--default-speaker 'iemand': the key must be a participant number such as P1 or F1 P1, or Moderator")


# ------------------------------------------------------------------ batches
def test_a_batch_reports_every_problem_and_writes_nothing(run, project, tmp_path):
    good = tmp_path / "F1.csv"
    good.write_text("speaker,text\nModerator,Vraag?\nP1,Antwoord.\n", encoding="utf-8")
    bad1 = tmp_path / "F2.csv"
    bad1.write_text("speaker,woorden\nP1,hallo\n", encoding="utf-8")
    bad2 = tmp_path / "F3.txt"
    bad2.write_text("Moderator: Dag.\nP1: Dag.\nStudent: Hallo.\n", encoding="utf-8")
    bad3 = tmp_path / "F4.csv"
    bad3.write_text("speaker,text\nP1,hallo\n,los\n", encoding="utf-8")
    refused(run, project, [good, bad1, bad2, bad3, "--allow-new-speakers", "--strict"],
            "3 problems in 3 of 4 file(s); nothing was written. Fix them and run the same command again:\n"
            f"  {bad1}: has no text column (columns found: speaker, woorden); accepted names for the text column: "
            "text, tekst, sentence, sentences, zin, zinnen, utterance, utterances, utterance_text, uiting, uitspraak, "
            "content, inhoud, transcript, transcriptie, fragment, message, bericht, speech, turn, beurt, quote, "
            "citaat, dialogue, line; or say which column it is with --column text=woorden\n"
            f"  {bad3}, line 3: has a row with text but no speaker (--strict); fill in the speaker, or leave out "
            "--strict to keep such rows as unattributed context\n"
            f"  {bad2}, line 3: 'Student:' is not a speaker label qualcode knows; say who it is with --speaker-label "
            "\"Student=P1\" (or \"Student=Moderator\"; \"Student=text\" if it is not a speaker)")


@pytest.mark.parametrize("how, expected", [
    ("filename", ["klas3a", "klas3b"]),
    ("folder", ["school_1", "school_2"]),
    ("column", ["F7", "F8"]),
])
def test_group_from(empty_store, tmp_path, how, expected):
    """One command, each file its own group."""
    files = []
    for k, (folder, name) in enumerate([("school_1", "klas3a.csv"), ("school_2", "klas3b.csv")]):
        d = tmp_path / folder
        d.mkdir()
        f = d / name
        f.write_text(f"groep,spreker,zin\n{7 + k},Leerkracht,Vraag?\n{7 + k},P1,Antwoord.\n", encoding="utf-8")
        files.append(str(f))
    ingest(empty_store, files, group_from=how, allow_new_speakers=True, speaker_labels=["Leerkracht=Moderator"])
    assert sorted(s["group_label"] for s in empty_store.sources()) == expected
    assert sorted(p["key"] for p in empty_store.participants()) == [f"{g} P1" for g in expected]


def test_group_from_column_needs_a_table(run, project, tmp_path):
    f = tmp_path / "F1.txt"
    f.write_text("Moderator: Dag.\nP1: Dag.\n", encoding="utf-8")
    refused(run, project, [f, "--group-from", "column"],
            f"{f}: --group-from column works only for tables (.csv, .tsv, .xlsx); use --group-from filename or "
            "folder for other files")


def test_rows_without_speaker_are_context(empty_store, tmp_path):
    f = tmp_path / "F1.csv"
    f.write_text("Speaker,Sentence\nModerator,Vraag?\n,[onverstaanbaar]\nP1,Antwoord.\n", encoding="utf-8")
    report = ingest(empty_store, [str(f)], allow_new_speakers=True)
    assert "  note: 1 row(s) with text but no speaker (first: line 3) kept as unattributed context: in the stored " \
           "text, not segments (--strict refuses them)" in report.lines()
    assert empty_store.source("F1.csv")["text"] == "Moderator: Vraag?\n[onverstaanbaar]\nP1: Antwoord.\n"
    assert [k for k, _, _ in keys(empty_store, "F1.csv")] == ["F1 Moderator", "F1 P1"]


# ------------------------------------------------------------------ formats
def test_zip_with_a_refi_project_gets_a_hint(run, project, tmp_path):
    z = tmp_path / "export.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("project/studie.qdpx", b"PK")
    refused(run, project, [z], f"{z}: is a ZIP archive that holds a REFI-QDA project (studie.qdpx); unzip it and "
                               "import that with 'qualcode import refi studie.qdpx'")
    q = tmp_path / "studie.qdpx"
    q.write_bytes(b"PK")
    refused(run, project, [q], f"{q}: is a REFI-QDA project, not a transcript; import it with 'qualcode import refi "
                               "studie.qdpx'")


def test_odt_line_breaks_and_spaces(tmp_path):
    from qualcode.ingest.parse import odt_text

    assert odt_text(str(DATA / "names.odt")).split("\n")[1] == "An De Smet: Wat  zou u helpen om te starten?"


def test_parse_keeps_offsets_when_names_are_replaced():
    from qualcode.ingest.speakers import redact

    text = "Jan Peeters: Dag An De Smet.\nAn De Smet (Gast): Dag.\n"
    parsed = parse_labelled(text, "F1.txt")
    for t, key in zip(parsed.turns, ["P1", "Moderator"]):
        t.speaker = key
    redact(parsed)
    assert parsed.text == "P1: Dag Moderator.\nModerator: Dag.\n"
    assert [parsed.text[t.start:t.end] for t in parsed.turns] == ["Dag Moderator.", "Dag."]


# --------------------------------------------------------------- pseudonymise
def test_pseudonymise_renumbers_speaker_labels_of_older_projects(empty_store):
    """Projects ingested before names were mapped kept names as participant labels."""
    store = empty_store
    text = "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v Jan Peeters>Dag.</v>\n"
    with store.act("old ingest", undoable=False, capture=False):
        sid = store.add_source(name="F1.vtt", format="vtt", group_label="F1", group_origin="--group", text=text,
                               sha256="x", file_sha256="y", encoding="utf-8", n_words=1)
        pid = store.add_participant("F1", "Jan Peeters")
        pid2 = store.add_participant("F1", "P1")
        start = text.index("Dag.")
        store.add_segments(sid, [{"ordinal": 1, "turn": 1, "speaker": "Jan Peeters", "role": "participant",
                                  "participant_id": pid, "start": start, "end": start + 4, "timestamp": 1.0,
                                  "text": "Dag.", "n_words": 1}])
    assert pid2
    from qualcode.privacy.pseudonyms import pseudonymise

    report = pseudonymise(store)
    assert "1 speaker label(s) that were names now are keys: F1 P2" in report.lines()
    assert [p["key"] for p in store.participants()] == ["F1 P1", "F1 P2"]
    seg = next(iter(store.segments()))
    assert (seg["key"], seg["speaker"], seg["text"]) == ("F1 P2", "P2", "Dag.")
    assert "Peeters" not in store.source("F1.vtt")["text"]
    assert report.mapping()[0] == ("F1 P2", "spreker", "Jan Peeters")


def test_names_file_in_a_missing_folder_is_refused_first(run, project, tmp_path):
    where = tmp_path / "nergens" / "sleutel.csv"
    refused(run, project, [DATA / "teams.vtt", "--group", "F1", "--allow-new-speakers", "--names-file", where],
            f"--names-file {where}: the folder {where.parent} does not exist; create it or choose another place for "
            "the name -> key table")


def test_names_table_that_cannot_be_written_leaves_the_project_unchanged(empty_store, monkeypatch, tmp_path):
    import qualcode.files.atomic
    from qualcode.errors import InputError

    def broken(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(qualcode.files.atomic.os, "replace", broken)
    table = tmp_path / "sleutel.csv"
    with pytest.raises(InputError) as exc:
        ingest(empty_store, [str(DATA / "zoom.vtt")], group="F1", moderators=["An De Smet"], allow_new_speakers=True,
               names_file=str(table))
    assert str(exc.value) == (f"{table}: cannot write the name -> key table (No space left on device); nothing was "
                              "ingested. Choose another place with --names-file")
    assert empty_store.sources() == [] and empty_store.participants() == []
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith("empty.qualcode")] == []


def test_one_voice_in_a_group_is_noted(empty_store, tmp_path):
    f = tmp_path / "F8.txt"
    f.write_text(f"Moderator: Vertel.\nP1: {LONG * 6}\nP2: Ja.\n", encoding="utf-8")
    report = ingest(empty_store, [str(f)], allow_new_speakers=True)
    assert ("  note: F8 P1 speaks 204 of the 206 words (99%); if some lines lack their label, they were counted as "
            "this speaker's (check with 'qualcode segments')") in report.lines()


# ------------------------------------------------------------ property test
from hypothesis import example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

SPEAKERS = {"Jan Peeters": "P1", "An De Smet": "Moderator", "Els Vermeulen (Gast)": "P2", "Koen Janssens": "P3"}
_body = st.lists(st.sampled_from(["ja", "dat", "klopt", "jan peeters", "An De Smet", "werk", "Peetersen", ",", "."]),
                 min_size=1, max_size=8).map(" ".join)
STYLES = ["{n}: ", "00:01:02 {n}: ", "**{n}:** ", "{n}  0:03\n"]


@settings(max_examples=80, deadline=None)
@given(turns=st.lists(st.tuples(st.sampled_from(sorted(SPEAKERS)), st.sampled_from(STYLES), _body),
                      min_size=1, max_size=6))
@example(turns=[("Jan Peeters", "{n}: ", "jan peeters")])
@example(turns=[("Els Vermeulen (Gast)", "{n}  0:03\n", "An De Smet .")])
def test_names_are_replaced_and_offsets_follow(turns):
    """Whatever the label style and wherever a full name is mentioned, every turn keeps exactly its
    words (with names replaced by keys) and no full name is left in the text."""
    from qualcode.ingest.speakers import redact

    text = "\n".join(style.format(n=name) + body for name, style, body in turns) + "\n"
    parsed = parse_labelled(text, "F1.txt")
    assert len(parsed.turns) == len(turns)
    for t, (name, _, _) in zip(parsed.turns, turns):
        t.speaker = SPEAKERS[name]
    redact(parsed, {"jan peeters": "P1", "an de smet": "Moderator"})  # known from the participants file
    low = parsed.text.lower()
    assert "jan peeters" not in low and "an de smet" not in low and "vermeulen" not in low
    assert "peetersen" in low or "Peetersen" not in text
    for t, (_, _, body) in zip(parsed.turns, turns):
        want = body.replace("jan peeters", "P1").replace("An De Smet", "Moderator")
        assert parsed.text[t.start:t.end] == want


def test_numbered_names_without_a_moderator_are_noted(empty_store):
    report = ingest(empty_store, [str(DATA / "zoom.vtt")], group="F1", allow_new_speakers=True)
    assert ("  note: 4 speaker name(s) numbered as participants and no moderator in this file; if one of them is the "
            "moderator, check before coding and ingest again with --moderator NAME (in a new project, or after "
            "'qualcode init --force')") in report.lines()
    assert [p["key"] for p in empty_store.participants()] == ["F1 P1", "F1 P2", "F1 P3", "F1 P4"]
