"""Every input format and every speaker-label style ingests into exact segments.

Each test writes a small file into tmp_path, ingests it and checks speakers, roles,
timestamps, the group, and that every segment's text is exactly
``source_text[start:end]``.
"""

from __future__ import annotations

import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qualcode.ingest import ingest, read_source, segment_spans
from qualcode.ingest.parse import LABEL_RE, decode, parse_labelled


def ingest_one(store, path, **kw):
    kw.setdefault("allow_new_speakers", True)
    return ingest(store, [str(path)], **kw)


def segments_of(store, name):
    """Segments of one source, after checking every offset against the stored text."""
    text = store.source(name)["text"]
    segs = list(store.segments(source=name))
    for s in segs:
        assert s["text"] == text[s["start"]:s["end"]]
    return segs


def spoken(store, name):
    return [(s["speaker"], s["role"], s["timestamp"], s["text"]) for s in segments_of(store, name)]


# ------------------------------------------------------------ label styles
@pytest.mark.parametrize("line, speaker, role, ts, text", [
    ("P2: Ik werk nu drie dagen.", "P2", "participant", None, "Ik werk nu drie dagen."),
    ("F1 P2: Ik werk nu drie dagen.", "P2", "participant", None, "Ik werk nu drie dagen."),
    ("Moderator: Wat denkt ge daarvan?", "Moderator", "moderator", None, "Wat denkt ge daarvan?"),
    ("Interviewer: En toen?", "Interviewer", "moderator", None, "En toen?"),
    ("[00:12:03] P2: Allez, ja.", "P2", "participant", 723.0, "Allez, ja."),
    ("P2 (00:12:03): Allez, ja.", "P2", "participant", 723.0, "Allez, ja."),
    ("[01:02] P3: Kort.", "P3", "participant", 62.0, "Kort."),
    ("Deelnemer 2: Euh, dat weet ik niet.", "P2", "participant", None, "Euh, dat weet ik niet."),
    ("deelnemer 12: Klein geschreven.", "P12", "participant", None, "Klein geschreven."),
    ("Respondent 4: Ja.", "P4", "participant", None, "Ja."),
    ("F1 Moderator: Welkom.", "Moderator", "moderator", None, "Welkom."),
    ("  P5 :   Met spaties.  ", "P5", "participant", None, "Met spaties."),
])
def test_each_label_style(empty_store, tmp_path, line, speaker, role, ts, text):
    f = tmp_path / "F1.txt"
    f.write_text(f"{line}\nP9: Tweede beurt.\n", encoding="utf-8")
    ingest_one(empty_store, f)
    got = spoken(empty_store, "F1.txt")
    assert got == [(speaker, role, ts, text), ("P9", "participant", None, "Tweede beurt.")]
    assert empty_store.source("F1.txt")["group_label"] == "F1"


def test_moderator_turns_have_no_participant(empty_store, tmp_path):
    f = tmp_path / "F1.txt"
    f.write_text("Moderator: Vraag?\nP2: Antwoord.\n", encoding="utf-8")
    ingest_one(empty_store, f)
    segs = segments_of(empty_store, "F1.txt")
    assert [s["participant_id"] is None for s in segs] == [True, False]
    assert [s["key"] for s in segs] == ["F1 Moderator", "F1 P2"]
    assert [p["key"] for p in empty_store.participants()] == ["F1 P2"]


def test_continuation_lines_belong_to_the_previous_turn(empty_store, tmp_path):
    f = tmp_path / "F2.txt"
    f.write_text("Moderator: Vertel eens.\n"
                 "P2: Eerste regel van mijn verhaal,\n"
                 "   en dit gaat nog verder,\n"
                 "\n"
                 "en na een lege regel ook nog.\n"
                 "P3:\n"
                 "Mijn tekst begint op de volgende regel.\n", encoding="utf-8")
    ingest_one(empty_store, f)
    got = spoken(empty_store, "F2.txt")
    assert got == [
        ("Moderator", "moderator", None, "Vertel eens."),
        ("P2", "participant", None,
         "Eerste regel van mijn verhaal,\n   en dit gaat nog verder,\n\nen na een lege regel ook nog."),
        ("P3", "participant", None, "Mijn tekst begint op de volgende regel."),
    ]
    turns = [s["turn"] for s in segments_of(empty_store, "F2.txt")]
    assert turns == [1, 2, 3]


def test_lines_before_the_first_label_are_noted_not_lost(empty_store, tmp_path):
    f = tmp_path / "F1.txt"
    f.write_text("Transcript opgenomen in het voorjaar\nP2: Ja.\n", encoding="utf-8")
    report = ingest_one(empty_store, f)
    assert ("  note: 1 line(s) before the first speaker label belong to no one; they stay in the stored "
            "text but are not segments") in report.lines()
    assert empty_store.source("F1.txt")["text"].startswith("Transcript opgenomen")
    assert spoken(empty_store, "F1.txt") == [("P2", "participant", None, "Ja.")]


def test_group_named_in_labels(empty_store, tmp_path):
    f = tmp_path / "sessie.txt"
    f.write_text("F3 P1: Hallo.\nModerator: Dag.\nF3 P2: Ook hallo.\n", encoding="utf-8")
    report = ingest_one(empty_store, f)
    assert report.lines()[0].startswith("sessie.txt: added, group F3 (from the speaker labels), 3 turns")
    assert {p["key"] for p in empty_store.participants()} == {"F3 P1", "F3 P2"}


# ------------------------------------------------------------------- markdown
def test_markdown_with_bold_labels(empty_store, tmp_path):
    f = tmp_path / "focusgroep2.md"
    f.write_text("# Focusgroep 2\n\n"
                 "**Moderator:** Welkom allemaal.\n\n"
                 "**P2:** Dank u. *Ik* werk in de thuiszorg.\n"
                 "**P3**: Ik ook, he.\n"
                 "__P4__: Onderstreept label.\n", encoding="utf-8")
    report = ingest_one(empty_store, f)
    assert report.lines()[0].startswith("focusgroep2.md: added, group F2 (from the file name)")
    assert spoken(empty_store, "focusgroep2.md") == [
        ("Moderator", "moderator", None, "Welkom allemaal."),
        ("P2", "participant", None, "Dank u. *Ik* werk in de thuiszorg."),
        ("P3", "participant", None, "Ik ook, he."),
        ("P4", "participant", None, "Onderstreept label."),
    ]
    assert empty_store.source("focusgroep2.md")["format"] == "md"


# ----------------------------------------------------------------------- docx
def _docx(path, paragraphs):
    """A Word file of ``paragraphs`` (a (first, second) pair: one paragraph with a line break inside)."""
    from tests.data.make_layouts import write_docx

    write_docx(path, paragraphs)


def test_docx_paragraphs_with_labels(empty_store, tmp_path):
    f = tmp_path / "F1.docx"
    _docx(f, ["Focusgroep 1, verzonnen", "Moderator: Wat is werk voor jullie?",
              "[00:01:05] P1: Structuur, vooral.", ("P2: Voor mij is het trots.", "En geld, natuurlijk."),
              "Vervolg van P2 in een nieuwe alinea.", "Deelnemer 3: Ik twijfel."])
    report = ingest_one(empty_store, f)
    assert report.lines()[0].startswith("F1.docx: added, group F1 (from the file name), 4 turns")
    assert spoken(empty_store, "F1.docx") == [
        ("Moderator", "moderator", None, "Wat is werk voor jullie?"),
        ("P1", "participant", 65.0, "Structuur, vooral."),
        ("P2", "participant", None,
         "Voor mij is het trots.\nEn geld, natuurlijk.\nVervolg van P2 in een nieuwe alinea."),
        ("P3", "participant", None, "Ik twijfel."),
    ]
    assert empty_store.source("F1.docx")["format"] == "docx"


def test_docx_header_paragraph_sets_group(empty_store, tmp_path):
    f = tmp_path / "verslag.docx"
    _docx(f, ["# group: F2", "P1: Ja.", "Moderator: Goed."])
    report = ingest_one(empty_store, f)
    assert "group F2 (from the '# group:' header)" in report.lines()[0]


# ------------------------------------------------------------------ subtitles
def test_vtt_voice_tags(empty_store, tmp_path):
    f = tmp_path / "F1.vtt"
    f.write_text("WEBVTT\n\n"
                 "NOTE verzonnen voorbeeld\n\n"
                 "1\n00:00:01.000 --> 00:00:04.000\n<v Moderator>Welkom allemaal.</v>\n\n"
                 "2\n00:00:04.500 --> 00:00:07.000\n<v P2>Ik werk in een keuken,\neen paar dagen.</v>\n\n"
                 "3\n00:00:07.000 --> 00:00:09.000\n<v P2>Dat doet deugd.\n\n"
                 "4\n00:01:02.250 --> 00:01:05.000\n<v.loud P3>Ja!</v>\n", encoding="utf-8")
    ingest_one(empty_store, f)
    assert spoken(empty_store, "F1.vtt") == [
        ("Moderator", "moderator", 1.0, "Welkom allemaal."),
        ("P2", "participant", 4.5, "Ik werk in een keuken,\neen paar dagen."),
        ("P2", "participant", 7.0, "Dat doet deugd."),
        ("P3", "participant", 62.25, "Ja!"),
    ]
    # consecutive cues of one speaker form one turn
    assert [s["turn"] for s in segments_of(empty_store, "F1.vtt")] == [1, 2, 2, 3]


def test_vtt_colon_labels_and_unlabelled_cues(empty_store, tmp_path):
    f = tmp_path / "F2.vtt"
    f.write_text("WEBVTT\n\n"
                 "00:00.000 --> 00:02.000\nruis voor de start\n\n"
                 "00:02.000 --> 00:04.000\nModerator: Wie begint?\n\n"
                 "00:04.000 --> 00:06.000\nP1: Ik wel.\n\n"
                 "00:06.000 --> 00:08.000\nnog steeds P1 aan het woord\n", encoding="utf-8")
    report = ingest_one(empty_store, f)
    assert ("  note: 1 cue(s) before the first speaker label belong to no one; they stay in the stored text "
            "but are not segments") in report.lines()
    assert spoken(empty_store, "F2.vtt") == [
        ("Moderator", "moderator", 2.0, "Wie begint?"),
        ("P1", "participant", 4.0, "Ik wel."),
        ("P1", "participant", 6.0, "nog steeds P1 aan het woord"),
    ]


def test_srt(empty_store, tmp_path):
    f = tmp_path / "F3.srt"
    f.write_bytes("1\r\n00:00:01,000 --> 00:00:02,500\r\nModerator: Dag.\r\n\r\n"
                  "2\r\n01:00:03,000 --> 01:00:04,000\r\nP4: Hallo,\r\nik ben er.\r\n".encode("utf-8"))
    ingest_one(empty_store, f)
    assert spoken(empty_store, "F3.srt") == [
        ("Moderator", "moderator", 1.0, "Dag."),
        ("P4", "participant", 3603.0, "Hallo,\nik ben er."),
    ]
    assert empty_store.source("F3.srt")["format"] == "srt"


def test_vtt_without_header_is_refused(tmp_path):
    f = tmp_path / "F1.vtt"
    f.write_text("00:00:01.000 --> 00:00:02.000\nP1: Ja.\n", encoding="utf-8")
    with pytest.raises(Exception) as exc:
        read_source(str(f))
    assert str(exc.value) == f"{f}, line 1: is not a WebVTT file (the first line must start with 'WEBVTT')"


# --------------------------------------------------------------------- tables
@pytest.mark.parametrize("delimiter", [";", ","])
def test_csv_utterance_table(empty_store, tmp_path, delimiter):
    d = delimiter
    f = tmp_path / "gesprekken.csv"
    f.write_text(f"Groep{d}Spreker{d}Tekst{d}Tijd\n"
                 f'F1{d}Moderator{d}"Goed, wie begint?"{d}00:00:05\n'
                 f'F1{d}P2{d}"Ik; of toch, ik denk het, ja"{d}00:00:09\n'
                 f"F2{d}Deelnemer 1{d}Hier ook{d}\n", encoding="utf-8")
    report = ingest_one(empty_store, f)
    assert [line.split(",")[0] for line in report.lines()[:2]] == [
        "gesprekken.csv#F1: added", "gesprekken.csv#F2: added"]
    assert "group F1 (from the group column)" in report.lines()[0]
    assert spoken(empty_store, "gesprekken.csv#F1") == [
        ("Moderator", "moderator", 5.0, "Goed, wie begint?"),
        ("P2", "participant", 9.0, "Ik; of toch, ik denk het, ja"),
    ]
    assert spoken(empty_store, "gesprekken.csv#F2") == [("P1", "participant", None, "Hier ook")]


def test_csv_without_group_column_takes_group_from_file_name(empty_store, tmp_path):
    f = tmp_path / "F3.csv"
    f.write_text("speaker,text\nP1,Eerste\nP2,Tweede\n", encoding="utf-8")
    report = ingest_one(empty_store, f)
    assert report.lines()[0].startswith("F3.csv: added, group F3 (from the file name), 2 turns")
    assert spoken(empty_store, "F3.csv") == [("P1", "participant", None, "Eerste"),
                                             ("P2", "participant", None, "Tweede")]


def test_csv_column_override(empty_store, tmp_path):
    f = tmp_path / "F1.csv"
    f.write_text("wie,wat\nP1,Iets\n", encoding="utf-8")
    ingest_one(empty_store, f, columns={"speaker": "wie", "text": "WAT"})
    assert spoken(empty_store, "F1.csv") == [("P1", "participant", None, "Iets")]


def test_xlsx_utterance_table(empty_store, tmp_path):
    from openpyxl import Workbook

    f = tmp_path / "transcript.xlsx"
    wb = Workbook()
    ws = wb.active
    ws.append(["GROUP", "Speaker", "Utterance", "Timestamp"])
    ws.append([None, None, None, None])  # empty rows are skipped
    ws.append(["F2", "Moderator", "Wat betekent werk?", "00:10:00"])
    ws.append([2, "P5", "=geen formule, gewoon tekst", datetime.time(0, 10, 30)])
    ws.cell(row=4, column=3).data_type = "s"  # typed as text in Excel, not a formula
    wb.save(f)
    ingest_one(empty_store, f)
    assert spoken(empty_store, "transcript.xlsx") == [
        ("Moderator", "moderator", 600.0, "Wat betekent werk?"),
        ("P5", "participant", 630.0, "=geen formule, gewoon tekst"),
    ]
    assert empty_store.source("transcript.xlsx")["group_label"] == "F2"


# --------------------------------------------------------------- splitting
LONG = ("Moderator: Vertel.\n"
        "P2: Ik werk nu drie dagen. Dat is zwaar! Maar ik doe het graag?\n"
        "Echt waar. En ook dit.\n")


def test_split_sentences_keeps_offsets(empty_store, tmp_path):
    f = tmp_path / "F1.txt"
    f.write_text(LONG, encoding="utf-8")
    report = ingest_one(empty_store, f, split="sentences")
    segs = segments_of(empty_store, "F1.txt")
    assert [s["text"] for s in segs] == ["Vertel.", "Ik werk nu drie dagen.", "Dat is zwaar!",
                                         "Maar ik doe het graag?", "Echt waar.", "En ook dit."]
    assert [s["turn"] for s in segs] == [1, 2, 2, 2, 2, 2]
    assert [s["ordinal"] for s in segs] == [1, 2, 3, 4, 5, 6]
    assert report.lines()[0].startswith("F1.txt: added, group F1 (from the file name), 2 turns, 6 segments")


def test_split_paragraphs_keeps_offsets(empty_store, tmp_path):
    f = tmp_path / "F1.txt"
    f.write_text(LONG + "   met inspringing  \n", encoding="utf-8")
    ingest_one(empty_store, f, split="paragraphs")
    segs = segments_of(empty_store, "F1.txt")
    assert [s["text"] for s in segs] == ["Vertel.", "Ik werk nu drie dagen. Dat is zwaar! Maar ik doe het graag?",
                                         "Echt waar. En ook dit.", "met inspringing"]
    assert [s["turn"] for s in segs] == [1, 2, 2, 2]


def test_unknown_split_is_refused(empty_store, tmp_path):
    with pytest.raises(Exception) as exc:
        ingest(empty_store, [], split="words")
    assert str(exc.value) == "unknown split 'words'; use one of turn, sentences, paragraphs"


# --------------------------------------------------------------- participants
def test_participants_from_xlsx_with_attributes(empty_store, tmp_path):
    from openpyxl import Workbook

    people = tmp_path / "deelnemers.xlsx"
    wb = Workbook()
    ws = wb.active
    ws.append(["Groep", "Deelnemer", "Geslacht", "Leeftijd", "IPS-kennis"])
    ws.append(["F1", 1, "vrouw", "40-50", "notie"])
    ws.append([1, "P2", "man", "50-65", None])
    ws.append(["focusgroep 2", "deelnemer 1", "man", "30-40", "basis"])
    wb.save(people)
    f = tmp_path / "F1.txt"
    f.write_text("P1: Ja.\nP2: Nee.\n", encoding="utf-8")
    report = ingest(empty_store, [str(f)], participants=str(people))
    assert "participants: 3 added, 0 updated" in report.lines()
    rows = [(p["key"], p["Geslacht"], p["Leeftijd"], p["IPS-kennis"]) for p in empty_store.participants()]
    assert rows == [("F1 P1", "vrouw", "40-50", "notie"), ("F1 P2", "man", "50-65", ""),
                    ("F2 P1", "man", "30-40", "basis")]
    assert empty_store.attribute_names() == ["Geslacht", "Leeftijd", "IPS-kennis"]
    segs = list(empty_store.segments(source="F1.txt"))
    assert [s["key"] for s in segs] == ["F1 P1", "F1 P2"]
    assert all(s["participant_id"] for s in segs)


def test_sample_participants_file(empty_store):
    from tests.helpers import SAMPLE

    ingest(empty_store, [], participants=str(SAMPLE / "participants.csv"))
    people = empty_store.participants()
    assert [sum(p["group"] == g for p in people) for g in ("F1", "F2", "F3")] == [6, 5, 9]
    assert {"gender", "age_band", "ips_knowledge", "organisation_type", "day_activity"} <= set(people[0])


# ------------------------------------------------------------ property test

STYLES = ["{s}: ", "F1 {s}: ", "[00:01:02] {s}: ", "{s} (00:01:02): ", "**{s}:** "]
_line = st.text(alphabet="abcdeéëklmnoz ’,.?!-", min_size=1, max_size=30).map(str.strip).filter(
    lambda t: t and not t.startswith("#") and not LABEL_RE.match(t))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(turns=st.lists(st.tuples(st.sampled_from(["P1", "P2", "P13", "Moderator", "Interviewer"]),
                                st.sampled_from(STYLES), st.lists(_line, min_size=1, max_size=3)),
                      min_size=1, max_size=6),
       newline=st.sampled_from(["\n", "\r\n", "\r"]))
def test_offsets_are_exact_for_any_transcript(turns, newline):
    lines = []
    for speaker, style, body in turns:
        lines.append(style.format(s=speaker) + body[0])
        lines.extend(body[1:])
    raw = newline.join(lines).encode("utf-8")
    text, _ = decode(raw, "F1.txt")
    parsed = parse_labelled(text, "F1.txt")
    assert [(t.speaker, text[t.start:t.end]) for t in parsed.turns] == [
        (speaker, "\n".join(body)) for speaker, _, body in turns]
    for t in parsed.turns:
        for split in ("sentences", "paragraphs"):
            for s, e in segment_spans(text, t.start, t.end, split, "nl"):
                assert t.start <= s < e <= t.end
                assert text[s:e] == text[s:e].strip()


def test_table_with_codes_column_imports_codings(empty_store, tmp_path, tiny_codebook_factory):
    tiny_codebook_factory(empty_store)
    f = tmp_path / "F1.csv"
    f.write_text("speaker,text,codes,coder\nModerator,Vraag?,n/a,\nP1,Structuur en trots,pros;coach,anna\n"
                 "P2,Stress,cons,\n", encoding="utf-8")
    report = ingest(empty_store, [str(f)], allow_new_speakers=True, coder="bert")
    assert "codings imported from tables: 3" in report.lines()
    got = sorted((c["key"], c["code"], c["coder"], c["origin"]) for c in empty_store.codings())
    assert got == [("F1 P1", "coach", "anna", "imported"), ("F1 P1", "pros", "anna", "imported"),
                   ("F1 P2", "cons", "bert", "imported")]


def test_table_with_unknown_codes_is_refused(empty_store, tmp_path, tiny_codebook_factory):
    tiny_codebook_factory(empty_store)
    f = tmp_path / "F1.csv"
    f.write_text("speaker,text,codes\nP1,Iets,pros;nieuw\n", encoding="utf-8")
    with pytest.raises(Exception) as exc:
        ingest(empty_store, [str(f)], allow_new_speakers=True)
    assert str(exc.value) == (f"{f}: uses codes that are not in the project's codebook: nieuw. Load a codebook "
                              "that has them ('qualcode codebook apply'), or create them with --create-codes")
    assert empty_store.sources() == []
