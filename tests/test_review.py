"""Step-4 review checks: integrity (tampering caught), coverage, spread, size, coherence, the sheet."""

from __future__ import annotations

import hashlib

import openpyxl
import pytest

from qualcode.themes import retheme as T
from qualcode.themes.review import run_review, write_review
try:  # tests/ may or may not be a package
    from tests.test_themes_helpers import build_project, coded_project
except ImportError:  # pragma: no cover
    from test_themes_helpers import build_project, coded_project


@pytest.fixture
def proj(empty_store, tiny_codebook_factory):
    segs, codes = coded_project(empty_store, tiny_codebook_factory)
    return empty_store, list(segs), codes


def test_clean_project_has_no_integrity_problems(proj):
    store, _, _ = proj
    r = run_review(store)
    assert (r.sources_checked, r.segments_checked, r.integrity) == (2, 8, [])
    assert r.by_check("integrity") == []


def test_tampered_source_text_is_caught(proj):
    store, ids, _ = proj
    old = store.conn.execute("SELECT text, sha256 FROM sources WHERE name = 'F1.txt'").fetchone()
    # someone edits the stored transcript behind qualcode's back: one word changes (same length) in P1's first turn
    store.conn.execute("UPDATE sources SET text = replace(text, 'trots', 'fiere') WHERE name = 'F1.txt'")
    r = run_review(store)
    new_sha = hashlib.sha256(old["text"].replace("trots", "fiere").encode()).hexdigest()
    kinds = [(i["kind"], i["source"], i["segment_id"]) for i in r.integrity]
    assert kinds == [("source", "F1.txt", None), ("segment", "F1.txt", ids[0])]
    seg = r.integrity[1]
    assert seg["expected"] == "Betaald werk geeft structuur en ik ben fiere op mijn job."
    assert seg["found"] == "Betaald werk geeft structuur en ik ben trots op mijn job."
    assert seg["coded"] is True
    msgs = [w.line() for w in r.by_check("integrity")]
    assert msgs[0] == (f"[integrity] F1.txt: the stored text no longer has the sha256 recorded at ingest "
                       f"({old['sha256'][:12]}… became {new_sha[:12]}…). Look: the source file and whether someone "
                       "edited the project. Try: qualcode backup list; re-ingest with qualcode ingest F1.txt --replace")
    assert msgs[1].startswith(f"[integrity] segment #{ids[0]} (F1.txt ordinal 1): its text differs from the source "
                              "text at its offsets")
    assert msgs[1].endswith("and it is coded. Look: what was said in the source against the segment text. "
                            "Try: qualcode segments --source F1.txt --codes")


def test_shifted_segment_offsets_are_caught(proj):
    store, ids, _ = proj
    store.conn.execute('UPDATE segments SET start = start + 1, "end" = "end" + 1 WHERE id = ?', (ids[5],))
    r = run_review(store)
    assert [(i["kind"], i["segment_id"]) for i in r.integrity] == [("segment", ids[5])]
    assert r.integrity[0]["expected"].startswith("en jobcoach in het team")


def test_coverage_per_group_and_participant(proj):
    store, ids, _ = proj
    r = run_review(store)
    cov = {(c["group"], c["participant"]): (c["segments"], c["uncoded"]) for c in r.coverage}
    assert cov[("F1", "(all)")] == (4, 1) and cov[("F2", "(all)")] == (4, 1)
    assert cov[("F1", "P3")] == (1, 1) and cov[("F2", "P3")] == (1, 1) and cov[("F2", "P2")] == (2, 0)
    # one segment alone is not enough for a participant warning; a group half uncoded is not over half
    assert r.by_check("coverage") == []
    store.conn.execute("DELETE FROM codings WHERE segment_id IN (?, ?)", (ids[5], ids[6]))
    r = run_review(store)
    lines = [w.line() for w in r.by_check("coverage")]
    assert lines == [
        "[coverage] group F2: 3 of 4 participant segments (75%) carry no code. Look: whether this group's talk fits "
        "the codebook or needs new codes. Try: qualcode segments --group F2 --codes; qualcode suggest",
        "[coverage] F2 P2: 2 of 2 segments (100%) carry no code. Look: whether this participant's view is missing "
        "from the themes. Try: qualcode segments --group F2 --participant P2 --codes"]


def test_spread_flags_single_voice_group_and_dominance(proj):
    store, ids, codes = proj
    T.split_theme(store, "care", ["intake"], "intake_theme", "Intake")
    with store.act("more"):
        store.add_coding(ids[3], codes["intake"], "ann")  # F1 P3 only
    r = run_review(store)
    spread = {s["theme"]: s for s in r.spread}
    assert (spread["work"]["participants"], spread["work"]["groups"]) == (4, 2)
    assert (spread["intake_theme"]["participants"], spread["intake_theme"]["top_voice"]) == (1, "F1 P3")
    assert [w.line() for w in r.by_check("spread")] == [
        "[spread] intake_theme: rests on a single voice (F1 P3). Look: whether others said the same in other words. "
        "Try: qualcode theme show intake_theme"]
    # a vocal participant: F2 P2 gets three more 'care' segments
    more = build_project(store, {"F3": [("P9", "De jobcoach hielp mij."), ("P9", "Zonder jobcoach lukte het niet."),
                                        ("P9", "Mijn jobcoach belde mijn baas."), ("P1", "Ja.")]})
    f3 = [s for s, t in more.items() if s > ids[-1]]
    with store.act("vocal"):
        store.add_codings([(s, codes["coach"]) for s in f3[:3]], "ann", "manual")
    lines = [w.line() for w in run_review(store).by_check("spread")]
    assert ("[spread] care: F3 P9 gives 3 of its 5 participant segments (60%): a vocal participant may dominate it. "
            "Look: how the other participants speak about it. Try: qualcode theme show care") in lines


def test_size_flags_empty_thin_and_fat(empty_store):
    store = empty_store
    segs = build_project(store, {"F1": [("P1", f"zin nummer {i} over werk") for i in range(30)]})
    ids = list(segs)
    with store.act("cb"):
        t = store.add_theme("a", "A", "#000000")
        c = {k: store.add_code(k, k, t) for k in ("big", "mid1", "mid2", "mid3", "tiny", "none")}
        store.add_codings([(s, c["big"]) for s in ids[:24]] + [(s, c["mid1"]) for s in ids[:5]]
                          + [(s, c["mid2"]) for s in ids[5:10]] + [(s, c["mid3"]) for s in ids[10:16]]
                          + [(ids[0], c["tiny"])], "ann", "manual")
    size = {(s["level"], s["key"]): s["verdict"] for s in run_review(store).size}
    assert size == {("theme", "a"): "", ("code", "big"): "fat", ("code", "mid1"): "", ("code", "mid2"): "",
                    ("code", "mid3"): "", ("code", "tiny"): "thin", ("code", "none"): "empty"}


def test_coherence_spots_a_theme_that_is_two_themes(empty_store):
    store = empty_store
    turns = {"F1": [("P1", "stress werkdruk deadline"), ("P2", "werkdruk stress overuren"),
                    ("P3", "stress deadline overuren"), ("P1", "jobcoach intake samenwerking"),
                    ("P2", "fiets tuin vakantie"), ("P3", "vakantie tuin zee"), ("P1", "jobcoach intake team"),
                    ("P2", "zee fiets tuin")]}
    ids = list(build_project(store, turns))
    with store.act("cb"):
        pressure = store.add_theme("pressure", "Druk", "#000000")
        mixed = store.add_theme("mixed", "Gemengd", "#111111")
        cp = store.add_code("stress", "Stress", pressure)
        cm = store.add_code("mix", "Mix", mixed)
        store.add_codings([(ids[i], cp) for i in (0, 1, 2)] + [(ids[i], cm) for i in (3, 4, 5, 6, 7)],
                          "ann", "manual")
    r = run_review(store)
    coh = {c["theme"]: c for c in r.coherence}
    assert coh["pressure"]["within"] > coh["pressure"]["between"]
    assert coh["mixed"]["within"] < coh["pressure"]["within"]
    flagged = [w.subject for w in r.by_check("coherence")]
    assert "pressure" not in flagged


def test_review_sheet_reads_back(proj, tmp_path):
    store, _, _ = proj
    store.conn.execute("UPDATE sources SET text = '=' || text WHERE name = 'F2.txt'")
    r = run_review(store)
    out = write_review(r, tmp_path / "review.xlsx")
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Warnings", "Integrity", "Coverage", "Spread", "Size", "Coherence", "About coherence",
                             "Exclusive"]
    rows = list(wb["Warnings"].iter_rows(values_only=True))
    assert rows[0] == ("check", "subject", "message", "look at", "command")
    assert len(rows) - 1 == len(r.warnings)
    assert rows[1][:2] == ("integrity", "F2.txt")
    integ = list(wb["Integrity"].iter_rows(values_only=True))
    assert [x[0] for x in integ[1:]].count("segment") == 4  # every F2 segment shifted by one character
    cov = list(wb["Coverage"].iter_rows(values_only=True))
    assert cov[1] == ("F1", "(all)", 4, 1, 0.25)


def test_review_remembers_warning_count_for_status(proj):
    store, _, _ = proj
    r = run_review(store)
    assert store.meta("review_warnings") == str(len(r.warnings))
    assert store.meta("review_act") == str(store.history(1)[0]["id"])
