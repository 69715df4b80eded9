"""Deductive autocoding with the codebook's rules (spaCy PhraseMatcher/Matcher on lemmas)."""

from __future__ import annotations

from pathlib import Path

import pytest

from qualcode.codebook.yamlfile import apply_codebook, load_codebook, parse_codebook
from qualcode.coding.autocode import autocode, compile_rules, highlight, match_texts
from qualcode.errors import NotFoundError, QualcodeError
from qualcode.text.nlp import pipeline

ROOT = Path(__file__).resolve().parent.parent

TRANSCRIPT = """\
# group: F1
Moderator: Wat denken jullie over werk?
P1: Ik werkte vroeger in een winkel, dat gaf mij structuur.
P2: Euh, die stageplaats was niet betaald. Ik had wel een jobcoach.
P1: Stap voor stap, dat is beter. Mijn uitkering verliezen, daar had ik schrik voor.
P3: Ja.
P2: Het VDAB-kantoor belde nooit terug, en de werkdruk was te hoog.
"""

CODEBOOK = {
    "name": "t", "language": "nl",
    "themes": [{"id": "th", "name": "Thema", "colour": "#112233", "codes": [
        {"id": "work", "name": "Werk", "rules": {"keywords": ["werken"]}},
        {"id": "structure", "name": "Structuur", "rules": {"keywords": ["STRUCTUUR"]}},
        {"id": "stage", "name": "Stage", "rules": {"keywords": ["stage*"], "phrases": ["niet betaald"]}},
        {"id": "coach", "name": "Coach", "rules": {"keywords": ["*coach"]}},
        {"id": "steps", "name": "Stapsgewijs", "rules": {"phrases": ["stap voor stap"]}},
        {"id": "benefit", "name": "Uitkering", "rules": {"patterns": [
            {"tokens": [{"LEMMA": "uitkering"}, {"LOWER": "verliezen"}]}]}},
        {"id": "vdab", "name": "VDAB", "rules": {"patterns": [{"regex": r"\bvdab\w*"}]}},
        {"id": "unused", "name": "Nooit", "rules": {"keywords": ["olifant"]}},
        {"id": "norules", "name": "Zonder regels"},
    ]}],
}


@pytest.fixture
def store(empty_store, tmp_path):
    from qualcode.ingest import ingest

    f = tmp_path / "F1.txt"
    f.write_text(TRANSCRIPT, encoding="utf-8")
    ingest(empty_store, [f], allow_new_speakers=True)
    apply_codebook(empty_store, parse_codebook(CODEBOOK), source="test")
    return empty_store


def seg_id(store, fragment: str) -> int:
    return next(s["id"] for s in store.segments() if fragment in s["text"])


def test_lemmas_wildcards_phrases_and_patterns():
    nlp = pipeline("nl")
    compiled = compile_rules([{"key": c["id"], "rules": c.get("rules", {})}
                              for c in CODEBOOK["themes"][0]["codes"]], nlp)
    texts = ["Ik heb daar gewerkt.", "Werk is goed.", "De stageplaats, de Stages!", "Mijn jobcoach en coach.",
             "Zo stap voor stap.", "Uitkeringen verliezen.", "vdab-consulent", "Ik werk niet graag met olifanten"]
    found = list(match_texts(compiled, texts))
    assert set(found[0]) == {"work"} and found[0]["work"] == [(12, 19)]       # gewerkt -> werken
    assert found[1] == {"work": [(0, 4)]}                                     # werk: the stem of werken
    assert found[2]["stage"] == [(3, 14), (19, 25)]                           # prefix wildcard, any case
    assert found[3]["coach"] == [(5, 13), (17, 22)]                           # suffix wildcard: compounds
    assert found[4]["steps"] == [(3, 17)]
    assert found[5]["benefit"] == [(0, 21)]                                   # token pattern on lemmas
    assert found[6]["vdab"] == [(0, 4)]                                         # regex, case-insensitive
    assert "unused" in found[7] and "work" in found[7]                       # olifanten -> olifant


def test_autocode_records_rule_codings(store):
    result = autocode(store)
    assert result.codes == ["work", "structure", "stage", "coach", "steps", "benefit", "vdab", "unused"]
    assert result.per_code == {"work": 1, "structure": 1, "stage": 1, "coach": 1, "steps": 1, "benefit": 1,
                               "vdab": 1, "unused": 0}
    assert (result.n_segments, result.n_coded) == (5, 4)  # "Ja." is not coded; moderator turns are skipped
    codings = store.codings(coder="rules")
    assert {c["origin"] for c in codings} == {"rule"} and len(codings) == result.added == 7
    assert {c["code"] for c in codings if c["segment_id"] == seg_id(store, "stageplaats")} == {"stage", "coach"}
    assert result.lines()[-2:] == ["4 of 5 participant segments matched (80%)",
                                   "codings by 'rules': 7 added, 0 removed (manual codings untouched)"]
    assert store.history(1)[0]["command"] == "autocode"


def test_autocode_is_idempotent_and_leaves_manual_codings(store):
    seg = seg_id(store, "structuur")
    with store.act("manual"):
        store.add_coding(seg, store.code("work")["id"], "ann", "manual")
        store.add_coding(seg, store.code("vdab")["id"], "ann", "manual")
    first = autocode(store)
    again = autocode(store)
    assert (again.added, again.removed) == (0, 0)
    assert again.per_code == first.per_code
    assert {(c["code"], c["origin"]) for c in store.codings(coder="ann")} == {("work", "manual"), ("vdab", "manual")}
    # a rule that no longer matches loses its rule codings on the next run, and only those
    cb = dict(CODEBOOK)
    cb["themes"] = [dict(CODEBOOK["themes"][0])]
    cb["themes"][0]["codes"] = [c if c["id"] != "work" else {**c, "rules": {"keywords": ["olifant"]}}
                                for c in CODEBOOK["themes"][0]["codes"]]
    apply_codebook(store, parse_codebook(cb), source="v2")
    third = autocode(store, codes=["work"])
    assert (third.added, third.removed) == (0, 1)
    assert [c["code"] for c in store.codings(coder="ann")] == ["work", "vdab"]


def test_dry_run_writes_nothing_and_highlights(store):
    before = len(store.history())
    result = autocode(store, codes=["stage", "work"], dry_run=True)
    assert store.codings() == [] and len(store.history()) == before
    lines = result.lines()
    sid = seg_id(store, "stageplaats")
    at = lines.index(f"#{sid} (F1 P2) stage 0.90: Euh, die [stageplaats] was [niet betaald]. Ik had wel een jobcoach.")
    # which rules of the code matched, with the words they matched: the phrase counts most
    assert lines[at + 1] == """    why: phrase 'niet betaald' ("niet betaald"); keyword 'stage*' ("stageplaats")"""
    assert lines[-1] == "dry run: nothing was written."


def test_highlight_merges_and_shortens():
    text = "a" * 200 + " werk " + "b" * 200
    out = highlight(text, [(201, 205), (203, 205)])
    assert out == "… " + "a" * 59 + " [werk] " + "b" * 59 + " …"
    assert highlight("Ik werk graag, echt graag.", [(3, 7), (14, 25), (20, 25)]) == "Ik [werk] graag,[ echt graag]."


def test_unknown_code_and_no_rules(store, tmp_path):
    from qualcode.store import Store

    with pytest.raises(NotFoundError) as exc:
        autocode(store, codes=["stag"])
    assert str(exc.value) == "unknown code 'stag'. Did you mean: stage?"
    bare = Store.create(tmp_path / "bare.qualcode")
    with pytest.raises(QualcodeError) as exc:
        autocode(bare)
    bare.close()
    assert str(exc.value) == ("no code in the codebook has rules (keywords, phrases or patterns); add some to the "
                              "YAML codebook and run 'qualcode codebook apply FILE'.")


def test_sample_acceptance(sample_store):
    """The shipped IPS codebook codes a quarter to a half of the sample's participant segments (no longer
    nearly every mention of work: bench/rules_gold.py has its precision), and every code matches."""
    apply_codebook(sample_store, load_codebook(ROOT / "codebooks" / "ips.yaml"), source="ips.yaml")
    result = autocode(sample_store)
    assert 0.25 <= result.share <= 0.5
    assert result.per_code["meteen_betaald_werk"] < 60  # 255 of 892 when "werkske" and "jobke" were keywords
    assert result.introductions == 25  # the three introduction rounds
    assert all(n > 0 for n in result.per_code.values()), result.per_code
    themes = {c["theme"] for c in sample_store.codings(coder="rules")}
    assert themes == {"pathways", "paid_work", "support", "collaboration"}


@pytest.mark.parametrize("verb, stem", [("werken", "werk"), ("hervallen", "herval"), ("leven", "leef"),
                                        ("verliezen", "verlies"), ("lopen", "loop"), ("gaan", None),
                                        ("stress", None)])
def test_dutch_stem(verb, stem):
    from qualcode.coding.autocode import dutch_stem

    assert dutch_stem(verb) == stem


def test_token_patterns_with_and_without_required_words():
    from qualcode.coding.autocode import required_words

    nlp = pipeline("nl")
    codes = [
        {"key": "near", "rules": {"patterns": [{"tokens": [
            {"LOWER": {"IN": ["meteen", "direct"]}}, {"OP": "*", "IS_PUNCT": False}, {"LEMMA": "werken"}]}]}},
        {"key": "shape", "rules": {"patterns": [{"tokens": [{"LOWER": {"REGEX": "^vdab"}}, {"IS_PUNCT": True}]}]}},
        {"key": "phrase", "rules": {"phrases": ["lange* termijn"]}},
    ]
    compiled = compile_rules(codes, nlp)
    texts = ["Ik wil meteen terug gaan werken.", "Meteen, werken!", "De VDAB-consulent.", "Op langere termijn."]
    found = list(match_texts(compiled, texts))
    assert found[0] == {"near": [(7, 31)]}
    assert found[1] == {}                       # the punctuation stops the gap
    assert found[2] == {"shape": [(3, 18)]}     # a pattern naming no word runs on every segment
    assert found[3] == {"phrase": [(3, 18)]}
    req = required_words(codes[0]["rules"]["patterns"][0]["tokens"], nlp.vocab.strings)
    assert [sorted(nlp.vocab.strings[h] for h in s) for s in req] == [["direct", "meteen"], ["werken"]]
    assert required_words(codes[1]["rules"]["patterns"][0]["tokens"], nlp.vocab.strings) == []


def test_invalid_token_pattern_is_reported():
    with pytest.raises(QualcodeError) as exc:
        compile_rules([{"key": "bad", "rules": {"patterns": [{"tokens": [{"LOWER": {"FOO": 1}}]}]}}], pipeline("nl"))
    assert str(exc.value).startswith("code bad: invalid token pattern [{'LOWER': {'FOO': 1}}]:")
