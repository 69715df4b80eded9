"""AnnoMI's ten-annotator subset through qualcode: Fleiss' kappa as a careful independent computation gives.

The 7 transcripts (ids 7, 27, 55, 56, 66, 109, 130; 428 utterances) were annotated by all 10
annotators. In AnnoMI-full.csv each utterance appears once per annotator (10 rows, same text).
The transcripts go in through the table ingest (one row per utterance, with annotator 0's label in
the codes column and the annotator in the coder column); the other nine annotators' labels are
added through the store API on the same segments, since one table row is one turn.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from qualcode.agreement import measures as ag


def plain_fleiss(data) -> float:
    """Fleiss (1971), loop by loop, complete data (coders x units)."""
    m, units = len(data), list(zip(*data))
    cats = sorted({v for u in units for v in u})
    p_bar = sum((sum(u.count(c) ** 2 for c in cats) - m) / (m * (m - 1)) for u in units) / len(units)
    p_e = sum((sum(u.count(c) for u in units) / (len(units) * m)) ** 2 for c in cats)
    return (p_bar - p_e) / (1 - p_e)

ANNOMI = Path(__file__).resolve().parents[2] / "shared" / "data" / "annomi" / "AnnoMI-full.csv"
TRANSCRIPTS = (7, 27, 55, 56, 66, 109, 130)
BEHAVIOUR = ("question", "reflection", "therapist_input", "other")
TALK = ("change", "neutral", "sustain")

pytestmark = pytest.mark.skipif(not ANNOMI.exists(), reason="AnnoMI data not available")


@pytest.fixture(scope="module")
def annomi_project(tmp_path_factory):
    from qualcode.ingest import ingest
    from qualcode.store import Store

    with open(ANNOMI, newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if int(r["transcript_id"]) in TRANSCRIPTS]
    label = {}
    for r in rows:
        column = "main_therapist_behaviour" if r["interlocutor"] == "therapist" else "client_talk_type"
        value = r[column]
        assert value in BEHAVIOUR + TALK
        label[(int(r["transcript_id"]), int(r["utterance_id"]), int(r["annotator_id"]))] = value
    utterances = sorted({(int(r["transcript_id"]), int(r["utterance_id"])): r for r in rows}.items())
    assert len(utterances) == 428 and len(rows) == 4280

    tmp = tmp_path_factory.mktemp("annomi")
    table = tmp / "annomi.csv"
    with open(table, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["group", "speaker", "timestamp", "text", "codes", "coder"])
        for (t, u), r in utterances:
            w.writerow([t, r["interlocutor"], r["timestamp"], r["utterance_text"], label[(t, u, 0)], "annotator_0"])
    store = Store.create(tmp / "annomi.qualcode", language="en")
    with store.act("AnnoMI codebook"):
        for theme, codes in (("behaviour", BEHAVIOUR), ("talk", TALK)):
            tid = store.add_theme(theme, theme, "#999999")
            for c in codes:
                store.add_code(c, c, tid)
    ingest(store, [str(table)], allow_new_speakers=True)
    segments = list(store.segments())
    assert len(segments) == 428
    # Table rows were written in (transcript, utterance) order; groups are F<transcript id>.
    by_pos = {}
    for s in segments:
        by_pos.setdefault(s["group_label"], []).append(s["id"])
    code_ids = store.code_ids()
    with store.act("AnnoMI annotators 1-9"):
        for t in TRANSCRIPTS:
            ids = by_pos[f"F{t}"]
            utt = [u for (tt, u), _ in utterances if tt == t]
            assert len(ids) == len(utt)
            for annotator in range(1, 10):
                store.add_codings(((sid, code_ids[label[(t, u, annotator)]]) for sid, u in zip(ids, utt)),
                                  f"annotator_{annotator}", "imported")
    yield store, label, utterances
    store.close()


def test_annomi_fleiss_kappa(annomi_project):
    annomi_project, _, _ = annomi_project
    coders = [f"annotator_{i}" for i in range(10)]
    assert annomi_project.coders_with_codings() == coders
    behaviour, n_b = ag.nominal_agreement(annomi_project, coders, BEHAVIOUR)
    talk, n_t = ag.nominal_agreement(annomi_project, coders, TALK)
    assert n_b == 216 and n_t == 212
    assert round(behaviour["fleiss"].value, 3) == 0.737
    assert round(talk["fleiss"].value, 3) == 0.467
    # Alpha on complete data is close to Fleiss' kappa (it differs only by the small-sample correction).
    assert behaviour["alpha"].value == pytest.approx(behaviour["fleiss"].value, abs=0.005)


def test_annomi_per_code_report(annomi_project):
    """The segment x code report on the same data: every annotator saw every utterance (therapist turns
    are moderator turns to qualcode, hence include_moderator)."""
    store, label, utterances = annomi_project
    coders = [f"annotator_{i}" for i in range(10)]
    rep = ag.compute_agreement(store, coders, codes=list(BEHAVIOUR), include_moderator=True,
                               n_boot=100, seed=1)
    assert rep.n_segments == 428 and rep.units.n_left_out == 0
    question = next(r for r in rep.codes if r.code == "question")
    # Binary 'question or not' over all 428 utterances (client turns are 'not' for everyone), recomputed
    # straight from the CSV with the loop-by-loop Fleiss of test_agreement.
    binary = [[int(label[(t, u, a)] == "question") for (t, u), _ in utterances] for a in range(10)]
    assert question.stats["fleiss"].value == pytest.approx(plain_fleiss(binary), abs=1e-9)
    assert question.positives == sum(any(row[j] for row in binary) for j in range(428))
    assert question.stats["fleiss"].low < question.stats["fleiss"].value < question.stats["fleiss"].high


# ------------------------------------------------- the way a team enters it
CODEBOOK = """\
name: AnnoMI
language: en
themes:
  - id: behaviour
    name: Therapist behaviour
    colour: "#E69F00"
    exclusive: true
    codes:
      - {id: question, name: Question}
      - {id: reflection, name: Reflection}
      - {id: therapist_input, name: Therapist input}
      - {id: other, name: Other}
  - id: talk
    name: Client talk type
    colour: "#56B4E9"
    exclusive: true
    codes:
      - {id: change, name: Change talk}
      - {id: neutral, name: Neutral talk}
      - {id: sustain, name: Sustain talk}
"""


def plain_alpha(data) -> float:
    """Krippendorff's alpha, nominal, complete data (coders x units): 1 - D_o / D_e from the coincidences."""
    m, units = len(data), list(zip(*data))
    cats = sorted({v for u in units for v in u})
    n = m * len(units)
    n_c = {c: sum(u.count(c) for u in units) for c in cats}
    d_o = sum(sum(u.count(a) * u.count(b) for a in cats for b in cats if a != b) / (m - 1) for u in units) / n
    d_e = sum(n_c[a] * n_c[b] for a in cats for b in cats if a != b) / (n * (n - 1))
    return 1 - d_o / d_e


def plain_percent(data) -> float:
    m, units = len(data), list(zip(*data))
    return sum(sum(u.count(c) * (u.count(c) - 1) for c in set(u)) for u in units) / (len(units) * m * (m - 1))


def test_annomi_entered_through_coding_sheets_gives_the_published_kappas(tmp_path, run):
    """Ten annotators, each with their own coding sheet: ingest the transcripts, export a sheet per
    annotator, fill its code column with openpyxl, import it for that coder, mark every transcript
    done, then read the figures from 'qualcode agreement --json'."""
    import json

    import openpyxl

    with open(ANNOMI, newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if int(r["transcript_id"]) in TRANSCRIPTS]
    label = {}
    for r in rows:
        column = "main_therapist_behaviour" if r["interlocutor"] == "therapist" else "client_talk_type"
        label[(int(r["transcript_id"]), int(r["utterance_id"]), int(r["annotator_id"]))] = r[column]
    utterances = sorted({(int(r["transcript_id"]), int(r["utterance_id"])): r for r in rows}.items())
    table = tmp_path / "annomi.csv"
    with open(table, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["group", "speaker", "timestamp", "text"])
        for (t, u), r in utterances:
            w.writerow([t, r["interlocutor"], r["timestamp"], r["utterance_text"]])
    (tmp_path / "annomi.yaml").write_text(CODEBOOK, encoding="utf-8")
    project = tmp_path / "annomi.qualcode"

    def ok(*args):
        res = run(project, *args)
        assert res.exit_code == 0, res.output
        return res

    ok("init", "--codebook", tmp_path / "annomi.yaml")
    ok("ingest", table, "--allow-new-speakers")
    by_group = {}                                           # F7 -> [(utterance id, text)] in order
    for (t, u), r in utterances:
        by_group.setdefault(f"F{t}", []).append((u, r["utterance_text"]))
    for a in range(10):
        coder = f"annotator_{a}"
        sheet = tmp_path / f"{coder}.xlsx"
        ok("sheet", "export", sheet, "--coder", coder)
        wb = openpyxl.load_workbook(sheet)
        ws = wb["Coding"]
        header = [c.value for c in ws[1]]
        key_col, text_col, code_col = header.index("key"), header.index("text"), header.index("code 1")
        seen: dict[str, int] = {}
        for row in ws.iter_rows(min_row=2):
            group = row[key_col].value.split()[0]
            i = seen[group] = seen.get(group, -1) + 1
            u, text = by_group[group][i]
            assert " ".join(row[text_col].value.split()) == " ".join(text.split())   # the right utterance
            row[code_col].value = label[(int(group[1:]), u, a)]
        assert sum(seen.values()) + len(seen) == 428
        wb.save(sheet)
        ok("sheet", "import", sheet, "--coder", coder)
        ok("agreement", "done", "--coder", coder, *[x for t in TRANSCRIPTS for x in ("--source", f"F{t}")])

    res = ok("agreement", "--json", "--include-moderator", "--resamples", "200")
    doc = json.loads(res.stdout)
    assert doc["command"] == "agreement" and doc["n_segments"] == 428 and doc["n_left_out"] == 0
    sets = {s["theme"]: s for s in doc["exclusive_sets"]}
    assert sets["behaviour"]["codes"] == list(BEHAVIOUR) and sets["talk"]["codes"] == list(TALK)
    assert (sets["behaviour"]["n_units"], sets["talk"]["n_units"]) == (216, 212)
    assert round(sets["behaviour"]["fleiss"]["value"], 3) == 0.737
    assert round(sets["talk"]["fleiss"]["value"], 3) == 0.467
    assert sets["behaviour"]["double_coded"] == [] and sets["behaviour"]["cohen"]["value"] is None
    for s in sets.values():
        assert s["fleiss"]["low"] < s["fleiss"]["value"] < s["fleiss"]["high"]
    # Per code: one binary variable (applied or not) over all 428 utterances, straight from the CSV.
    assert [c["code"] for c in doc["codes"]] == list(BEHAVIOUR + TALK)
    for c in doc["codes"]:
        binary = [[int(label[(t, u, a)] == c["code"]) for (t, u), _ in utterances] for a in range(10)]
        assert c["positives"] == sum(any(row[j] for row in binary) for j in range(428))
        assert c["per_coder"] == {f"annotator_{a}": sum(binary[a]) for a in range(10)}
        assert c["fleiss"]["value"] == pytest.approx(plain_fleiss(binary), abs=1e-9)
        assert c["alpha"]["value"] == pytest.approx(plain_alpha(binary), abs=1e-9)
        assert c["percent"]["value"] == pytest.approx(plain_percent(binary), abs=1e-9)
        assert c["cohen"] == {"value": None, "low": None, "high": None}
    # The categorical figures, independently: the annotators' labels on the therapist (client) turns.
    for theme, values in (("behaviour", BEHAVIOUR), ("talk", TALK)):
        data = [[label[(t, u, a)] for (t, u), _ in utterances if label[(t, u, 0)] in values] for a in range(10)]
        assert sets[theme]["fleiss"]["value"] == pytest.approx(plain_fleiss(data), abs=1e-9)
        assert sets[theme]["alpha"]["value"] == pytest.approx(plain_alpha(data), abs=1e-9)
