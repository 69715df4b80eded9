"""The lemma cache (issue 24): segments are lemmatised once, at ingest, and every command reads the
stored lemmas; the results are the same as lemmatising afresh, a changed text or lemmatiser version
recomputes them, and a version-1 project gets the cache tables by migration."""

from __future__ import annotations

import importlib
import json
import sqlite3
from collections import Counter
from pathlib import Path

import pytest

from qualcode.text import lemmas as lemma_cache, nlp
from qualcode.store import Store

ROOT = Path(__file__).resolve().parent.parent


def _forget_in_memory_lemmas(store) -> None:
    """As in a fresh process: no lemmas held by the lemmatiser, the pipeline or the store."""
    nlp.lemmatizer.cache_clear()
    nlp.pipeline.cache_clear()
    store._lemma_cache = None


def _coded(store):
    from qualcode.codebook.yamlfile import apply_codebook, load_codebook
    from qualcode.coding.autocode import autocode

    apply_codebook(store, load_codebook(ROOT / "codebooks" / "ips.yaml"), source="ips.yaml")
    autocode(store)
    return store


@pytest.fixture
def coded_store(sample_store):
    return _coded(sample_store)


def _everything(store) -> dict:
    """The outputs of every command that reads lemmas, as text."""
    from qualcode.coding.discover import discover
    from qualcode.coding.autocode import autocode
    from qualcode.reports.report import build_report, render_markdown
    from qualcode.familiarise.overview import build_overview, format_overview, kwic
    from qualcode.themes.review import format_review, run_review

    out = {"overview": format_overview(build_overview(store))}
    for term in ("werk*", "werken", "gewerkt", "begeleiding", "astronauten"):  # the last is in no text
        out[f"kwic {term}"] = json.dumps(kwic(store, term), ensure_ascii=False)
    out["review"] = format_review(run_review(store, remember=False))
    dry = autocode(store, dry_run=True)
    out["autocode"] = "\n".join(dry.lines(limit=10_000))
    report = build_report(store, "en", figures=False)
    report.generated = "(time)"
    out["report"] = render_markdown(report)
    out["discover"] = "\n".join(discover(store, n_clusters=6).lines())
    return out


def test_results_identical_with_and_without_the_cache(coded_store):
    store = coded_store
    assert store.conn.execute("SELECT COUNT(*) FROM segment_lemmas").fetchone()[0] == store.count_segments()
    _forget_in_memory_lemmas(store)
    cached = _everything(store)
    store._lemma_cache = None
    assert lemma_cache.load(store).computed == 0            # everything came from the project file
    # without the cache: every stored lemma gone, so every command lemmatises afresh
    with store.transaction():
        store.conn.execute("DELETE FROM lemma_versions")
    assert store.conn.execute("SELECT COUNT(*) FROM segment_lemmas").fetchone()[0] == 0
    _forget_in_memory_lemmas(store)
    fresh = _everything(store)
    _forget_in_memory_lemmas(store)
    assert lemma_cache.load(store).computed == 0            # ... once: the first command stored them again
    assert set(cached) == set(fresh)
    for name in cached:
        assert cached[name] == fresh[name], name
    assert "werk" in cached["kwic werk*"] and cached["kwic astronauten"] == "[]"


def test_reading_the_cache_loads_no_lemmatiser_table(coded_store):
    """With the cache, overview, kwic of a word in the texts, review and the report never call simplemma."""
    from qualcode.reports.report import build_report
    from qualcode.familiarise.overview import build_overview, kwic
    from qualcode.themes.review import run_review

    store = coded_store
    _forget_in_memory_lemmas(store)
    build_overview(store)
    kwic(store, "gewerkt")
    run_review(store, remember=False)
    build_report(store, "en", figures=False)
    assert nlp.lemmatizer(store.language)._loaded is False
    kwic(store, "astronauten")     # a word of no text: now simplemma is asked
    assert nlp.lemmatizer(store.language)._loaded is True


def test_cached_lemmas_are_those_of_the_definitions(sample_store):
    """What the cache holds equals content_lemmas, the overview's term rule and simplemma, computed afresh."""
    store = sample_store
    _forget_in_memory_lemmas(store)
    lang = store.language
    held = lemma_cache.load(store)
    forms = store.cached_lemma_forms(lemma_cache.cache_version(store))
    _forget_in_memory_lemmas(store)
    pipe = nlp.pipeline(lang)
    stops = nlp.stop_words(lang)
    segs = list(store.segments())
    for seg, doc in zip(segs, pipe.pipe([s["text"] for s in segs])):
        assert held.content[seg["id"]] == nlp.content_lemmas(seg["text"], lang)
        terms = [tok.lemma_.lower() or tok.lower_ for tok in doc
                 if tok.is_alpha and len(tok) >= 3 and tok.lower_ not in stops
                 and (tok.lemma_.lower() or tok.lower_) not in stops]
        assert held.terms[seg["id"]] == terms
    import simplemma

    sample = sorted(forms)[::97]
    assert len(sample) > 20
    for form in sample:
        expected = simplemma.lemmatize(form, lang=lang).lower() if form[:1].isalpha() else form
        assert forms[form] == expected, form


def test_a_changed_text_is_lemmatised_again(sample_store):
    store = sample_store
    seg = next(s for s in store.segments(role="participant") if len(s["text"]) > 40)
    before = lemma_cache.load(store).content[seg["id"]]
    new_text = "Ik heb jarenlang als vrachtwagenchauffeur gewerkt."
    with store.transaction():
        store.move_segment(seg["id"], seg["start"], seg["end"], new_text, 6)
    after = lemma_cache.load(store)
    assert after.computed == 1
    assert after.content[seg["id"]] == nlp.content_lemmas(new_text, store.language) != before
    _forget_in_memory_lemmas(store)
    assert lemma_cache.load(store).content[seg["id"]] == after.content[seg["id"]]   # and it was stored


def test_a_new_lemmatiser_version_recomputes_everything(sample_store, monkeypatch):
    store = sample_store
    n = store.count_segments()
    before = lemma_cache.load(store)
    assert before.computed == 0
    monkeypatch.setattr(lemma_cache, "FORMAT", lemma_cache.FORMAT + 1)
    monkeypatch.setattr(lemma_cache, "CHUNK", 100)             # and lemmatised 100 segments at a time
    after = lemma_cache.load(store)
    assert after.computed == n and after.content == before.content and after.terms == before.terms
    versions = [r[0] for r in store.conn.execute("SELECT version FROM lemma_versions")]
    assert versions == [lemma_cache.cache_version(store)]      # the old version's rows are gone
    assert store.conn.execute("SELECT COUNT(*) FROM segment_lemmas").fetchone()[0] == n


def test_the_version_names_lemmatiser_language_stop_words_and_pipeline(sample_store):
    from importlib.metadata import version

    v = lemma_cache.cache_version(sample_store)
    assert f"simplemma {version('simplemma')}; spacy {version('spacy')}; nl; " in v and "pipeline blank" in v
    assert "stop words " in v


def test_ingest_lemmatises_once(empty_store, tmp_path):
    from qualcode.ingest import ingest

    (tmp_path / "F1.txt").write_text("Moderator: Wat doet u?\nP1: Ik werkte vroeger in een winkel.\n",
                                     encoding="utf-8")
    ingest(empty_store, [str(tmp_path / "F1.txt")], allow_new_speakers=True)
    rows = {sid: json.loads(c) for sid, c in empty_store.conn.execute("SELECT segment_id, content FROM segment_lemmas")}
    assert sorted(rows.values()) == sorted([nlp.content_lemmas("Wat doet u?", "nl"),
                                            nlp.content_lemmas("Ik werkte vroeger in een winkel.", "nl")])
    assert ["werken", "winkel"] in rows.values()   # "vroeger" is a Dutch stop word


def test_version_1_project_is_migrated_and_fills_its_cache(sample_path):
    """A project made before the caches existed (schema 1): opening it backs it up, adds the empty lemma
    and figure cache tables, and the first command that needs lemmas fills them."""
    from qualcode.familiarise.overview import build_overview

    try:
        from tests.test_migration import as_version_1
    except ImportError:  # pragma: no cover
        from test_migration import as_version_1

    as_version_1(sample_path)
    store = Store.open(sample_path)
    try:
        assert store.schema_version >= 2
        [backup] = store.backups()
        assert "before-migration-v1-to-v" in backup.name
        assert store.conn.execute("SELECT COUNT(*) FROM segment_lemmas").fetchone()[0] == 0
        assert store.conn.execute("SELECT COUNT(*) FROM figure_cache").fetchone()[0] == 0
        _forget_in_memory_lemmas(store)
        build_overview(store)
        assert store.conn.execute("SELECT COUNT(*) FROM segment_lemmas").fetchone()[0] == store.count_segments()
        assert store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        store.close()


@pytest.mark.parametrize("language", ["nl", "en"])
def test_shipped_stop_words_equal_spacys(language):
    """qualcode/data/stopwords-*.txt were written once from spaCy's lists; they must still agree."""
    spacy_words = set(importlib.import_module(f"spacy.lang.{language}.stop_words").STOP_WORDS)
    assert nlp.stop_words(language) == frozenset(spacy_words | nlp.FILLERS[language])
    shipped = (ROOT / "qualcode" / "data" / f"stopwords-{language}.txt").read_text(encoding="utf-8")
    assert {w for w in shipped.splitlines() if w and not w.startswith("#")} == spacy_words


def test_deleting_a_source_deletes_its_cached_lemmas(coded_store):
    """Deleting a source deletes its cached lemmas with it (foreign key cascade)."""
    store = coded_store
    src = store.sources()[0]
    n_src = Counter(s["source_id"] for s in store.segments())[src["id"]]
    before = store.conn.execute("SELECT COUNT(*) FROM segment_lemmas").fetchone()[0]
    with store.transaction():
        store.conn.execute("DELETE FROM codings WHERE segment_id IN (SELECT id FROM segments WHERE source_id = ?)",
                           (src["id"],))
        store.delete_source(src["id"])
    assert store.conn.execute("SELECT COUNT(*) FROM segment_lemmas").fetchone()[0] == before - n_src


def test_pseudonymisation_leaves_no_name_in_the_cache(empty_store, tmp_path):
    """Cached lemmas and word forms of the original texts hold the names (lower-cased): pseudonymise drops
    them and lemmatises the new texts, so no trace is left in the file."""
    from qualcode.ingest import ingest
    from qualcode.privacy.pseudonyms import pseudonymise, read_names

    store = empty_store
    (tmp_path / "F1.txt").write_text("Moderator: Wie helpt u?\nP1: Mijn jobcoach Wieteke Zandvoort belde gisteren "
                                     "over mijn werk.\n", encoding="utf-8")
    ingest(store, [str(tmp_path / "F1.txt")], allow_new_speakers=True)
    assert "wieteke" in store.cached_lemma_forms(lemma_cache.cache_version(store))
    names = tmp_path / "names.csv"
    names.write_text("name,category\nWieteke Zandvoort,person\n", encoding="utf-8")
    pseudonymise(store, names=read_names(names))
    [seg] = store.segments(role="participant")
    assert "Wieteke" not in seg["text"]
    _forget_in_memory_lemmas(store)
    held = lemma_cache.load(store)
    assert held.computed == 0                                # lemmatised again by pseudonymise itself
    assert "werk" in held.content[seg["id"]] and "wieteke" not in held.content[seg["id"]]
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw = Path(store.path).read_bytes().lower()
    assert b"wieteke" not in raw and b"zandvoort" not in raw
