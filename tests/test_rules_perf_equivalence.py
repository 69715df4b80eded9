"""The optimised autocoder (batched arrays, prefilters, bulk undo records) gives exactly what a
straightforward matcher gives: every rule tried on every token of every segment, no caches."""

from __future__ import annotations

import random
import re
import shutil
from pathlib import Path

import pytest

from qualcode.codebook.yamlfile import apply_codebook, load_codebook, parse_codebook
from qualcode.coding.autocode import autocode, compile_rules, dutch_stem, match_texts, rule_codes
from qualcode.errors import ProjectError
from qualcode.text.nlp import SimplemmaLemmatizer, pipeline

ROOT = Path(__file__).resolve().parent.parent


# ------------------------------------------------------------------ the reference
def reference_matches(codes: list[dict], texts: list[str], language: str = "nl") -> list[dict[str, set]]:
    """Per text, code key -> set of (start, end) character spans, computed the plain way."""
    import spacy
    from spacy.matcher import Matcher

    nlp = spacy.blank(language)
    lemma = SimplemmaLemmatizer(language).lemma

    def tokens(text: str) -> list[tuple[str, str, int, int]]:
        return [(t.lower_, lemma(t.lower_), t.idx, t.idx + len(t.text)) for t in nlp.make_doc(text)]

    # each rule becomes (code, list of per-token tests) or (code, regex) or (code, Matcher)
    sequences: list[tuple[str, list]] = []
    regexes: list[tuple[str, re.Pattern]] = []
    matchers: list[tuple[str, Matcher]] = []
    for c in codes:
        key, rules = c["key"], c.get("rules") or {}
        words = [str(w).strip().lower() for k in ("keywords", "phrases", "hints") for w in rules.get(k, [])]
        plain = [w for w in words if w and "*" not in w]
        for w in words:
            if not w:
                continue
            if "*" not in w:
                sequences.append((key, [("lemma", lem) for _, lem, _, _ in tokens(w)]))
            else:
                steps = []
                for part in w.split():
                    if "*" in part:
                        rx = "".join(r"\w*" if ch == "*" else re.escape(ch) for ch in part)
                        steps.append(("wild", re.compile(rx)))
                    else:
                        steps.append(("lemma", tokens(part)[0][1]))
                sequences.append((key, steps))
        if language == "nl":
            for w in plain:
                stem = dutch_stem(w) if " " not in w else None
                if stem and stem not in plain:
                    sequences.append((key, [("lower", low) for low, _, _, _ in tokens(stem)]))
        for p in rules.get("patterns", []):
            if "regex" in p:
                regexes.append((key, re.compile(p["regex"], re.IGNORECASE)))
            else:
                m = Matcher(nlp.vocab)
                m.add(key, [p["tokens"]])
                matchers.append((key, m))

    # what each token offers: its lemma, its lower-case form and the wildcards its form fits
    wild = sorted({want.pattern for _, steps in sequences for kind, want in steps if kind == "wild"})
    fits_wild: dict[str, set] = {}
    by_first: dict[tuple, list] = {}
    for key, steps in sequences:
        steps = [(kind, want.pattern if kind == "wild" else want) for kind, want in steps]
        by_first.setdefault(steps[0], []).append((key, steps))

    def offers(low: str, lem: str) -> set:
        if low not in fits_wild:
            fits_wild[low] = {("wild", w) for w in wild if re.fullmatch(w, low)}
        return {("lemma", lem), ("lower", low)} | fits_wild[low]

    out = []
    for text in texts:
        toks = tokens(text)
        have = [offers(low, lem) for low, lem, _, _ in toks]
        found: dict[str, set] = {}
        for i in range(len(toks)):  # every sequence that could start at token i, tried in full
            for first in have[i]:
                for key, steps in by_first.get(first, ()):
                    n = len(steps)
                    if i + n <= len(toks) and all(steps[k] in have[i + k] for k in range(n)):
                        found.setdefault(key, set()).add((toks[i][2], toks[i + n - 1][3]))
        if matchers:
            doc = nlp.make_doc(text)
            for tok in doc:
                tok.lemma_ = lemma(tok.lower_)
            for key, m in matchers:
                for _, start, end in m(doc):
                    found.setdefault(key, set()).add((doc[start].idx, doc[end - 1].idx + len(doc[end - 1].text)))
        for key, rx in regexes:
            for hit in rx.finditer(text):
                if hit.end() > hit.start():
                    found.setdefault(key, set()).add(hit.span())
        out.append(found)
    return out


def optimised(codes: list[dict], texts: list[str], batch_size: int = 1000) -> list[dict[str, set]]:
    compiled = compile_rules(codes, pipeline("nl"))
    return [{k: set(v) for k, v in f.items()} for f in match_texts(compiled, texts, batch_size=batch_size)]


# ------------------------------------------------------------------ generated data
TRICKY_CODES = [
    {"key": "werk", "rules": {"keywords": ["werken", "Job"]}},                     # lemma + bare stem "werk"
    {"key": "herval", "rules": {"keywords": ["hervallen", "herval"]}},             # stem equal to a keyword
    {"key": "stage", "rules": {"keywords": ["stage*", "*coach", "w*k"], "phrases": ["niet betaald"]}},
    {"key": "coach", "rules": {"keywords": ["*coach*", "jobcoach"]}},              # overlaps with 'stage'
    {"key": "steps", "rules": {"phrases": ["stap voor stap", "aan de slag", "lange* termijn",
                                            "eerste* stap*"]}},
    {"key": "money", "rules": {"keywords": ["uitkering", "geld", "betaald*"], "phrases": ["geen loon"]}},
    {"key": "near", "rules": {"patterns": [{"tokens": [
        {"LOWER": {"IN": ["meteen", "direct", "snel"]}}, {"OP": "*", "IS_PUNCT": False},
        {"LEMMA": {"IN": ["werken", "job", "solliciteren"]}}]}]}},
    {"key": "shape", "rules": {"patterns": [{"tokens": [{"LOWER": {"REGEX": "^vdab"}}, {"IS_PUNCT": True}]}]}},
    {"key": "orth", "rules": {"patterns": [{"tokens": [{"ORTH": "VDAB"}, {"LOWER": "kantoor", "OP": "?"}]},
                                           {"tokens": [{"TEXT": "Stress"}, {"LEMMA": "zijn", "OP": "+"}]}]}},
    {"key": "regex", "rules": {"patterns": [
        {"regex": r"\bvdab\w*"},
        {"regex": r"\b(stage|vrijwilligers\w*)\b[^.?!]{0,40}\b(nooit|geen|niet)\b"},
        {"regex": r"x*"},                                                       # only empty matches: never
        {"regex": r"^ja\b"},
        {"regex": r"(?-i:VDAB)\s+\w+"},                                          # case-sensitive part
        {"regex": r"oriëntatie|\bkantoor"}]}},
    {"key": "unused", "rules": {"keywords": ["olifant"], "phrases": ["nooit gezien"]}},
]

WORDS = ("ik werk werkte gewerkt werken werkt Werken WERK job jobs jobke hervallen herval hervalt stage stages "
         "Stageplaats STAGE stagiair jobcoach Jobcoaches coach coaching wrak week wk werkweek niet betaald "
         "betaalde onbetaald uitkering uitkeringen geld geen loon stap voor Stap stappen eerste eerstes "
         "langere lange termijn termijnen aan de slag meteen direct snel Snel solliciteren solliciteerde vdab "
         "VDAB VDAB-kantoor vdab-consulent kantoor stress Stress is was zijn vrijwilligerswerk nooit ja Ja "
         "nee euh 's morgens e-mail 2024 t.e.m.").split()
PUNCT = [",", ".", "!", "?", ";", " -", ":", "'", "\n"]


def generated_texts(n: int = 1500, seed: int = 7) -> list[str]:
    rnd = random.Random(seed)
    texts = ["", "   ", ".", "Ja.", "ja, stap voor stap", "Stap, voor stap.", "stap voor\nstap",
             "Meteen, werken!", "Meteen terug gaan werken.", "VDAB. Kantoor", "De VDAB kantoor",
             "Stress is zijn", "Lange termijn, langere termijn en lange-termijn", "eerste stappen, Eerste Stap",
             "stage, daar kreeg ik nooit een job voor", "Vrijwilligerswerk? geen sprake van",
             "De ſtage: nooit betaald", "ORIËNTATIE op het KANTOOR", "vdab kantoor, VDAB Kantoor"]
    for _ in range(n):
        out = []
        for _ in range(rnd.randint(0, 40)):
            w = rnd.choice(WORDS)
            w = rnd.choice([w, w, w.upper(), w.capitalize()])
            out.append(w + (rnd.choice(PUNCT) if rnd.random() < 0.2 else ""))
        texts.append(" ".join(out))
    return texts


def test_generated_texts_match_the_reference():
    texts = generated_texts()
    expected = reference_matches(TRICKY_CODES, texts)
    got = optimised(TRICKY_CODES, texts)
    assert got == expected
    # the data exercise every kind of rule, including ones that match nothing
    per_code = {c["key"]: sum(c["key"] in f for f in got) for c in TRICKY_CODES}
    assert per_code["unused"] == 0 and all(n > 10 for k, n in per_code.items() if k != "unused"), per_code


def test_batch_size_does_not_change_results():
    texts = generated_texts(300, seed=3)
    assert optimised(TRICKY_CODES, texts, batch_size=1) == optimised(TRICKY_CODES, texts, batch_size=7) \
        == optimised(TRICKY_CODES, texts, batch_size=10_000)


@pytest.mark.parametrize("pattern, needs", [
    (r"\b(stage|vrijwilligers\w*)\b[^.?!]{0,40}\b(nooit|geen)\b", ("stage", "vrijwilligers")),
    (r"\bVDAB\w*", ("vdab",)),
    (r"ab?cd", ("cd",)),
    (r"(?:foo)+|BAR", ("bar", "foo")),
    (r"x*", None),            # can match without any letter
    (r"foo|b?", None),        # one branch needs nothing
    (r"oriëntatie", None),    # not ASCII: case folding beyond lower()
    (r"(a|b)c", None),        # single letters: no help
])
def test_what_a_regular_expression_needs(pattern, needs):
    from qualcode.coding.autocode import regex_needs

    assert regex_needs(re.compile(pattern, re.IGNORECASE)) == needs


def test_span_order_within_a_code():
    """Spans come per rule kind (phrases, stems, token patterns, wildcards, regexes), each in text order."""
    compiled = compile_rules(TRICKY_CODES, pipeline("nl"))
    found = compiled.match_doc(next(iter(pipeline("nl").pipe(["Stages waren niet betaald, de stage ook."]))))
    assert found["stage"] == [(13, 25), (0, 6), (30, 35)]


# ------------------------------------------------------------------ the sample project
@pytest.fixture
def ips_store(sample_store):
    apply_codebook(sample_store, load_codebook(ROOT / "codebooks" / "ips.yaml"), source="ips.yaml")
    return sample_store


def test_sample_project_autocode_equals_the_reference(ips_store):
    codes = rule_codes(ips_store)
    segs = ips_store.rule_segment_texts(role="participant")
    expected = reference_matches(codes, [t for _, t in segs])
    # a code with rules: overruled_by is left out where a code it names matches too (rulescore.overrule)
    over = {c["key"]: set(c["rules"].get("overruled_by", [])) for c in codes}
    expected = [{k: v for k, v in f.items() if not over[k] & set(f)} for f in expected]
    result = autocode(ips_store, min_score=0, introductions=True)  # every match, as the reference finds them
    key_of = {c["id"]: c["key"] for c in codes}
    got = {(s, key_of[c]) for s, c in ips_store.coding_pairs("rules")}
    want = {(sid, key) for (sid, _), found in zip(segs, expected) for key in found}
    assert got == want and len(got) == result.added > 1000
    assert result.per_code == {c["key"]: sum(c["key"] in f for f in expected) for c in codes}
    assert result.n_coded == sum(1 for f in expected if f)


def _audit_records(store, audit_id: int) -> list[tuple]:
    return [tuple(r) for r in store.conn.execute(
        "SELECT seq, tbl, op, row_key, old, new FROM audit_changes WHERE audit_id = ? ORDER BY seq", (audit_id,))]


def test_bulk_undo_records_equal_the_trigger_records_and_undo(ips_store, sample_path, tmp_path, monkeypatch):
    import contextlib

    from qualcode.store import Store

    # a second copy of the same project, autocoded with the per-row triggers
    other_path = tmp_path / "other.qualcode"
    ips_store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copy(sample_path, other_path)
    fast = autocode(ips_store)
    fast_act = ips_store.last_act_id()
    with Store.open(other_path) as other:
        monkeypatch.setattr(type(other), "captured_inserts", lambda self, table: contextlib.nullcontext())
        slow = autocode(other)
        assert _audit_records(other, other.last_act_id()) == _audit_records(ips_store, fast_act)
        assert slow.added == fast.added
    records = _audit_records(ips_store, fast_act)
    # the coder 'rules' first, then each coding and its explanation (an open rule suggestion)
    assert len(records) == 2 * fast.added + 1 and records[0][1:3] == ("coders", "insert")
    assert {r[1] for r in records[1:]} == {"codings", "suggestions"}
    ips_store.undo()
    assert ips_store.coding_pairs("rules") == set() and ips_store.suggestions(source="rules") == []


def test_rerun_removes_stale_codings_and_undo_restores_them(ips_store):
    autocode(ips_store)
    first = ips_store.coding_pairs("rules")
    code = ips_store.code("st_jobcoach")
    # narrow one code's rules: its rule codings that no longer match are removed, others stay
    with ips_store.act("narrow"):
        ips_store.update_code(code["id"], rules={"keywords": ["jobcoach"], "overruled_by": ["co_jobcoach_zorgteam"]})
    second = autocode(ips_store)
    after = ips_store.coding_pairs("rules")
    assert second.removed > 0 and second.added == 0 and after < first
    assert {c for _, c in first - after} == {code["id"]}
    ips_store.undo()  # the second autocode
    assert ips_store.coding_pairs("rules") == first


def test_other_changes_inside_captured_inserts_are_refused(ips_store):
    seg = ips_store.rule_segment_texts()[0][0]
    code = ips_store.code("st_jobcoach")["id"]
    before = ips_store.last_act_id()
    with pytest.raises(ProjectError) as exc:
        with ips_store.act("mixed"):
            ips_store.ensure_coder("ann")
            with ips_store.captured_inserts("codings"):
                ips_store.add_codings([(seg, code)], "ann", "manual")
                ips_store.conn.execute("UPDATE codes SET name = 'x' WHERE id = ?", (code,))
    assert str(exc.value) == ("internal error: 3 changes in a block of inserts into codings, 1 new rows; "
                              "nothing was changed.")
    assert ips_store.last_act_id() == before and ips_store.coding_pairs("ann") == set()
    assert ips_store.code("st_jobcoach")["name"] != "x"


def test_codebook_in_yaml_and_generated_rules_agree_on_generated_text():
    """ips.yaml's real rules on generated Dutch-like text (its own vocabulary) agree too."""
    cb = load_codebook(ROOT / "codebooks" / "ips.yaml")
    codes = [{"key": c.id, "rules": c.rules} for c in cb.codes]
    vocab = sorted({w for c in codes for k in ("keywords", "phrases") for p in c["rules"].get(k, [])
                    for w in str(p).replace("*", "").split()} | set(WORDS))
    rnd = random.Random(11)
    texts = [" ".join(rnd.choice(vocab) + (rnd.choice(PUNCT) if rnd.random() < 0.15 else "")
                      for _ in range(rnd.randint(1, 30))) for _ in range(800)]
    expected = reference_matches(codes, texts)
    assert optimised(codes, texts) == expected
    assert sum(1 for f in expected if f) > 600


def test_parse_codebook_rules_used_by_autocode(empty_store, tmp_path):
    """End to end on a small project with the tricky rules: store codings equal the reference."""
    from qualcode.ingest import ingest

    texts = [t for t in generated_texts(120, seed=5) if t.strip() and ":" not in t and "#" not in t]
    lines = ["# group: F1"] + [f"P{i % 5 + 1}: {' '.join(t.split())}" for i, t in enumerate(texts)]
    f = tmp_path / "F1.txt"
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ingest(empty_store, [f], allow_new_speakers=True)
    cb = {"name": "t", "language": "nl", "themes": [{"id": "th", "name": "T", "colour": "#112233", "codes": [
        {"id": c["key"], "name": c["key"], "rules": c["rules"]} for c in TRICKY_CODES]}]}
    apply_codebook(empty_store, parse_codebook(cb), source="t")
    segs = empty_store.rule_segment_texts()
    expected = reference_matches(rule_codes(empty_store), [t for _, t in segs])
    result = autocode(empty_store, min_score=0, introductions=True)
    key_of = {c["id"]: c["key"] for c in empty_store.codes()}
    assert {(s, key_of[c]) for s, c in empty_store.coding_pairs("rules")} == \
        {(sid, k) for (sid, _), found in zip(segs, expected) for k in found}
    assert result.n_segments == len(segs) > 80
