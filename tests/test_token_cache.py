"""The token cache: autocode matches over the tokens stored at ingest (qualcode.text.tokens) with a matcher
of our own (qualcode.coding.tokenmatch) instead of spaCy, and gives exactly what the spaCy path gives: the
same spans per rule, the same matches, scores and explanations, on the sample transcripts with the shipped
codebook, on other texts and codebooks, and (property test) the same spans as spaCy's Matcher for random
token patterns on random texts."""

from __future__ import annotations

import shutil
from dataclasses import asdict
from pathlib import Path

import pytest
from hypothesis import example, given, settings, strategies as st

from qualcode.codebook.yamlfile import apply_codebook, load_codebook
from qualcode.coding import autocode as ac
from qualcode.coding.tokenmatch import TokenView, compile_pattern
from qualcode.store import Store
from qualcode.text import lemmas, nlp, tokens

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
SAMPLE = ROOT / "transcripts_sample"

# token patterns of every kind the stored-token matcher covers, as a codebook would hold them
PATTERN_CODES = [
    {"key": "pat_nl", "rules": {"patterns": [
        {"tokens": [{"LEMMA": "werken"}, {"OP": "?"}, {"LOWER": {"IN": ["job", "werk", "stage"]}}]},
        {"tokens": [{"LOWER": {"IN": ["geen", "niet", "nie"]}}, {"IS_ALPHA": True, "OP": "{1,2}"},
                    {"LOWER": {"REGEX": "^(betaa|werk|job)"}}]},
        {"tokens": [{"LIKE_NUM": True}, {"LOWER": {"IN": ["jaar", "maanden", "weken", "dagen"]}}]},
        {"tokens": [{"IS_PUNCT": False, "IS_STOP": False, "LENGTH": {">=": 12}}]},
        {"tokens": [{"ORTH": "Ik"}, {"LEMMA": {"NOT_IN": ["zijn", "hebben"]}, "IS_ALPHA": True},
                    {"IS_ALPHA": True, "OP": "*"}, {"LEMMA": "werk"}]},
        {"tokens": [{"TEXT": {"REGEX": "^[A-Z]{2,}$"}}]},
        {"tokens": [{"LOWER": "de"}, {"LOWER": "begeleiding", "OP": "!"}, {"IS_PUNCT": True, "OP": "+"}]},
        {"tokens": [{"IS_TITLE": True}, {"IS_TITLE": True, "OP": "{,2}"}, {"IS_DIGIT": True, "OP": "?"}]},
        {"tokens": [{"LENGTH": {"IN": [1, 2]}, "IS_UPPER": True}, {"IS_LOWER": True, "OP": "{2}"}]},
    ]}},
    {"key": "pat_en", "rules": {"patterns": [
        {"tokens": [{"LEMMA": {"IN": ["work", "working"]}}, {"LOWER": {"IN": ["from", "at"]}},
                    {"LOWER": "home"}]},
        {"tokens": [{"LOWER": {"IN": ["not", "no", "never"]}}, {"OP": "?"}, {"IS_ALPHA": True, "LENGTH": {">": 5}}]},
        {"tokens": [{"LIKE_NUM": True, "OP": "+"}, {"LOWER": {"REGEX": "^(hours?|days?|minutes)$"}}]},
        {"tokens": [{"IS_QUOTE": True}, {"IS_ALPHA": True, "OP": "{1,3}"}]},
    ]}},
    {"key": "words", "rules": {"keywords": ["werken", "Job", "stage*", "*coach", "team", "commute", "home"],
                               "phrases": ["niet betaald", "aan de slag", "eerste* stap*", "work from home",
                                           "stap voor stap", "in de zorg", "the office"],
                               "hints": ["begeleiding", "werken", "stress", "miss*"]}},
    {"key": "twice", "rules": {"keywords": ["werk", "werk", "werken"], "hints": ["werk"],
                               "patterns": [{"tokens": [{"LEMMA": "werk"}]}, {"tokens": [{"LEMMA": "werk"}]},
                                            {"regex": r"\bwerk\w*"}]}},
]


def _codes(store) -> list[dict]:
    return [c for c in store.codes() if any(c["rules"].get(k) for k in ("keywords", "phrases", "patterns", "hints"))]


def _match_rows(matches) -> list:
    return [(m.segment_id, m.code, m.spans, [asdict(h) for h in m.hits], m.score, m.why()) for m in matches]


def assert_same_as_spacy(store, codes: list[dict]) -> int:
    """The stored-token rules and the spaCy rules find the same spans per rule on every segment, and the
    same scored matches (spans, rule hits, scores, explanations, order); returns how many matches."""
    segs = store.rule_segment_texts(role=None)
    compiled = ac.spacy_rules(store, codes)            # also stores the tokens of the rule words
    stored = ac.stored_rules(store, codes, segs)
    assert stored is not None
    theirs = list(compiled.rule_spans(segs))
    ours = stored.rule_spans(segs)
    assert len(ours) == len(theirs) == len(segs)
    for (sid, _), a, b in zip(segs, ours, theirs):
        assert {k: sorted(v) for k, v in a.items()} == {k: sorted(v) for k, v in b.items()}, sid
    ma, below_a = ac.score_matches(stored, segs, store.language, 0.0)
    mb, below_b = ac.score_matches(compiled, segs, store.language, 0.0)
    assert _match_rows(ma) == _match_rows(mb) and below_a == below_b
    return len(ma)


@pytest.fixture
def ips_store(sample_store):
    apply_codebook(sample_store, load_codebook(ROOT / "codebooks" / "ips.yaml"), source="ips.yaml")
    return sample_store


def test_the_sample_with_the_shipped_codebook(ips_store):
    store = ips_store
    codes = _codes(store)
    # the sample was ingested before the codebook was applied: its words' tokens are not stored yet
    assert ac.stored_rules(store, codes, store.rule_segment_texts()) is None
    assert assert_same_as_spacy(store, codes) > 700
    # and the whole of autocode, dry run and written, is the same as with spaCy
    dry = "\n".join(ac.autocode(store, dry_run=True, min_score=0.0).lines(limit=100_000))
    assert "why: " in dry


def test_autocode_output_is_the_same_with_and_without_spacy(ips_store, monkeypatch):
    store = ips_store
    seg = next(s for s in store.segments(role="participant") if "stage" in s["text"].lower())
    new_text = "Ik heb geen betaald werk, maar een stage. Dat gaat stap voor stap, zegt mijn jobcoach."
    with store.transaction():   # an edited text: its tokens are computed again when next read
        store.move_segment(seg["id"], seg["start"], seg["end"], new_text, 17)
    fast = ac.autocode(store, dry_run=True, min_score=0.0)
    assert ac.stored_rules(store, _codes(store), store.rule_segment_texts()) is not None
    monkeypatch.setattr(ac, "stored_rules", lambda *a, **k: None)
    slow = ac.autocode(store, dry_run=True, min_score=0.0)
    assert fast.lines(limit=100_000) == slow.lines(limit=100_000)
    assert _match_rows(fast.matches) == _match_rows(slow.matches)
    assert any(m.segment_id == seg["id"] for m in fast.matches)


def test_token_patterns_flags_and_tricky_words_on_the_sample_and_other_texts(sample_store, tmp_path):
    from qualcode.ingest import ingest

    from tests.test_rules_perf_equivalence import TRICKY_CODES

    codes = [{"key": c["key"], "rules": c["rules"]} for c in TRICKY_CODES + PATTERN_CODES]
    assert assert_same_as_spacy(sample_store, codes) > 500
    with Store.create(tmp_path / "other.qualcode", language="nl") as store:
        files = {"interview_1.txt": "F4.txt", "zoom.txt": "F5.txt", "otter.txt": "F6.txt", "names.txt": "F7.txt"}
        for name, group in files.items():
            shutil.copy(DATA / name, tmp_path / group)
        ingest(store, [tmp_path / g for g in files.values()], allow_new_speakers=True)
        assert assert_same_as_spacy(store, codes) > 20


def test_the_english_example_codebook_on_the_english_interview(tmp_path):
    from qualcode.ingest import ingest

    with Store.create(tmp_path / "en.qualcode", language="en") as store:
        apply_codebook(store, load_codebook(ROOT / "codebooks" / "example_en.yaml"), source="example_en.yaml")
        ingest(store, [SAMPLE / "english" / "interview_en.txt"],
               participants=str(SAMPLE / "english" / "participants.csv"))
        codes = _codes(store)
        assert any("tokens" in p for c in codes for p in c["rules"].get("patterns", []))
        # applied before ingest: the rule words were cut into tokens in ingest's spaCy pass
        assert ac.stored_rules(store, codes, store.rule_segment_texts(role=None)) is not None
        assert assert_same_as_spacy(store, codes) >= 10
        extra = [{"key": c["key"], "rules": c["rules"]} for c in PATTERN_CODES]
        assert assert_same_as_spacy(store, extra) > 20


def test_what_the_stored_tokens_cannot_do_falls_back_to_spacy(ips_store):
    store = ips_store
    codes = _codes(store)
    segs = store.rule_segment_texts()
    ac.spacy_rules(store, codes)
    assert ac.stored_rules(store, codes, segs) is not None
    for unsupported in ([{"NORM": "werk"}], [{"IS_SENT_START": True}], [{"LOWER": {"FUZZY": "werk"}}],
                        [{"LOWER": "werk", "OP": "{0}"}], [{"IS_ALPHA": 1}], [{"LENGTH": "5"}], []):
        assert compile_pattern(unsupported) is None, unsupported
        odd = codes + [{"key": "odd", "rules": {"patterns": [{"tokens": unsupported}]}}]
        assert ac.stored_rules(store, odd, segs) is None
    # a segment without stored tokens (or with an edited text) is not matched from the cache
    sid, text = segs[0]
    assert ac.stored_rules(store, codes, [(sid, text + " En nog iets.")]) is None
    with store.transaction():
        store.conn.execute("DELETE FROM segment_tokens WHERE segment_id = ?", (sid,))
    assert ac.stored_rules(store, codes, segs) is None
    assert ac.stored_rules(store, codes, segs[1:]) is not None


def test_a_trained_pipeline_is_matched_with_spacy(ips_store):
    store = ips_store
    with store.act("meta"):
        store.set_meta("spacy_pipeline", "nl_core_news_sm")
    assert ac.stored_rules(store, _codes(store), store.rule_segment_texts()) is None


def test_tokens_are_stored_compactly_and_give_back_the_text(sample_store):
    store = sample_store
    version = lemmas.cache_version(store)
    held = store.cached_segment_tokens(version)
    pipe = nlp.pipeline(store.language)
    texts = dict(store.segment_id_texts())
    assert set(held) == set(texts)
    n_tokens = n_bytes = 0
    for sid, doc in zip(texts, pipe.pipe(texts.values())):
        h, blob = held[sid]
        assert h == lemmas.text_hash(texts[sid])
        spans = tokens.decode(blob)
        assert spans == [(t.idx, t.idx + len(t.text)) for t in doc]
        n_tokens, n_bytes = n_tokens + len(doc), n_bytes + len(blob)
    assert n_bytes < 1.1 * n_tokens                    # about one byte a token
    flags = store.cached_token_flags(version)
    assert flags["werk"] & tokens.FLAGS["IS_ALPHA"] and flags["."] & tokens.FLAGS["IS_PUNCT"]
    assert flags["de"] & tokens.FLAGS["IS_STOP"] and not flags["werk"] & tokens.FLAGS["IS_PUNCT"]
    assert tokens.decode(tokens.encode([300, 2], [1, 0])) == [(0, 300), (301, 303)]   # a long token: 2 bytes
    assert tokens.decode(tokens.encode([70_000, 2], [0, 1])) == [(0, 70_000), (70_000, 70_002)]  # 4 bytes
    assert tokens.decode(tokens.encode([3, 1, 127], [1, 0, 1])) == [(0, 3), (4, 5), (5, 132)]
    assert tokens.decode(tokens.encode([], [])) == []


# ------------------------------------------------------------------ property: our matcher = spaCy's Matcher
WORDS = {
    "nl": ["Ik", "ik", "werk", "werkte", "gewerkt", "werken", "niet", "nie", "geen", "job", "Job", "JOB", "stage",
           "de", "het", "een", "betaald", "Betaald", "3", "2024", "twee", ",", ".", "!", "?", "(", ")", '"', "€",
           "'t", "e-mail", "vdab.be", "jobcoach", "VDAB", "zes", "maanden"],
    "en": ["I", "i", "work", "worked", "working", "works", "not", "no", "never", "job", "Job", "JOB", "the",
           "a", "home", "from", "at", "3", "2024", "two", ",", ".", "!", "?", "(", ")", '"', "$", "don't",
           "can't", "e-mail", "nhs.uk", "team", "Team", "hours"],
}
FLAG_NAMES = sorted(tokens.FLAGS)
OPS = [None, "?", "*", "+", "!", "{2}", "{1,2}", "{0,2}", "{,2}", "{2,}", "{0,}"]
REGEXES = ["^w", "k$", "^[A-Z]", "[0-9]", "^.$", "ij|or", "^(job|werk)"]


@st.composite
def token_specs(draw, language: str) -> dict:
    words = WORDS[language]
    spec: dict = {}
    for _ in range(draw(st.integers(0, 2))):
        kind = draw(st.sampled_from(["LOWER", "LEMMA", "ORTH", "TEXT", "LENGTH", "FLAG"]))
        if kind == "LENGTH":
            spec["LENGTH"] = draw(st.one_of(st.integers(1, 6), st.fixed_dictionaries(
                {draw(st.sampled_from([">=", "<=", ">", "<", "==", "!="])): st.integers(1, 6)}),
                st.fixed_dictionaries({"IN": st.lists(st.integers(1, 6), max_size=3)})))
        elif kind == "FLAG":
            spec[draw(st.sampled_from(FLAG_NAMES))] = draw(st.booleans())
        else:
            pool = [w.lower() for w in words] if kind == "LOWER" else words
            if kind == "LEMMA":
                pool = sorted({nlp.lemma(w, language) for w in words})
            spec[kind] = draw(st.one_of(
                st.sampled_from(pool),
                st.fixed_dictionaries({"IN": st.lists(st.sampled_from(pool), max_size=3)}),
                st.fixed_dictionaries({"NOT_IN": st.lists(st.sampled_from(pool), max_size=3)}),
                st.fixed_dictionaries({"REGEX": st.sampled_from(REGEXES)})))
    op = draw(st.sampled_from(OPS))
    if op is not None:
        spec["OP"] = op
    return spec


@st.composite
def cases(draw):
    language = draw(st.sampled_from(["nl", "en"]))
    pattern = draw(st.lists(token_specs(language), min_size=1, max_size=4))
    words = draw(st.lists(st.sampled_from(WORDS[language]), min_size=1, max_size=12))
    seps = draw(st.lists(st.sampled_from([" ", " ", " ", "  ", "\n"]), min_size=len(words), max_size=len(words)))
    text = "".join(w + s for w, s in zip(words, seps)).rstrip(" ")
    return language, pattern, text


@settings(max_examples=150, deadline=None)
@given(cases())
@example(("nl", [{"LOWER": "werk", "OP": "*"}, {"LOWER": "werk"}], "werk werk werk ."))
@example(("en", [{"IS_ALPHA": True, "OP": "+"}, {"LOWER": "not", "OP": "!"}], "I don't work  at home"))
@example(("nl", [{"LEMMA": "werken", "OP": "?"}, {"OP": "{0,2}"}, {"IS_PUNCT": True}], "Ik werkte, niet!"))
def test_our_matcher_finds_what_spacys_matcher_finds(case):
    from spacy.matcher import Matcher

    language, pattern, text = case
    pipe = nlp.pipeline(language)
    doc = next(iter(pipe.pipe([text], disable=[p for p in pipe.pipe_names if p != "qualcode_lemmatizer"])))
    matcher = Matcher(pipe.vocab, validate=True)
    matcher.add("p", [pattern])
    theirs = sorted({(s, e) for _, s, e in matcher(doc)})
    compiled = compile_pattern(pattern)
    assert compiled is not None
    starts, ends = tokens.bounds(tokens.doc_tokens(doc, text))
    flags, ok = tokens.forms_ok(pipe, tokens.docs_forms([doc]))
    assert ok
    view = TokenView.from_text(text, starts, ends, nlp.lemmatizer(language).lemma, flags)
    assert view.lemma == [t.lemma_ for t in doc] and view.orth == [t.text for t in doc]
    assert compiled.find(view) == theirs
