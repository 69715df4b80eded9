"""qualcode.text.tfidf (numpy) computes what scikit-learn's TfidfVectorizer computes, and the typicality
ranking of quotes and review's coherence built on it give scikit-learn's results (issue 24)."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from qualcode.text.tfidf import SKLEARN_TOKEN, tfidf

WORDS = ["werk", "zorg", "jobcoach", "stage", "geld", "angst", "herval", "tempo", "uitkering", "team"]


def _dense(X) -> np.ndarray:
    out = np.zeros((X.n_rows, len(X.vocabulary)))
    for i in range(X.n_rows):
        sl = slice(X.indptr[i], X.indptr[i + 1])
        out[i, X.indices[sl]] = X.data[sl]
    return out


def _sklearn(docs, sublinear):
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(analyzer=lambda d: d, sublinear_tf=sublinear)
    M = vec.fit_transform(docs).toarray()
    return list(vec.get_feature_names_out()), M


@settings(deadline=None, max_examples=60, derandomize=True)
@given(st.lists(st.lists(st.sampled_from(WORDS), max_size=12), min_size=1, max_size=15), st.booleans())
@example([["werk"], []], True)
@example([["werk", "werk", "zorg"], ["zorg"], ["geld", "werk"]], False)
def test_equals_sklearn(docs, sublinear):
    if not any(docs):
        with pytest.raises(ValueError):
            tfidf(docs, sublinear_tf=sublinear)
        return
    X = tfidf(docs, sublinear_tf=sublinear)
    names, M = _sklearn(docs, sublinear)
    assert X.vocabulary == names
    assert np.allclose(_dense(X), M, rtol=0, atol=1e-12)
    assert list(X.row_nnz()) == [int((row > 0).sum()) for row in M]


def test_sums_and_dots_equal_the_dense_ones():
    rng = random.Random(3)
    docs = [[rng.choice(WORDS) for _ in range(rng.randint(0, 9))] for _ in range(40)]
    X = tfidf(docs, sublinear_tf=True)
    D = _dense(X)
    w = np.array([rng.randint(0, 2) for _ in range(40)], dtype=float)
    assert np.allclose(X.column_sums(), D.sum(axis=0), atol=1e-12)
    assert np.allclose(X.column_sums(w), (D * w[:, None]).sum(axis=0), atol=1e-12)
    v = np.arange(len(X.vocabulary), dtype=float)
    assert np.allclose(X.dot(v), D @ v, atol=1e-12)


def _typicality_with_sklearn(segments, docs):
    """The ranking as qualcode computed it before issue 24, with scikit-learn."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    X = TfidfVectorizer(token_pattern=r"(?u)\b\w+\b", sublinear_tf=True).fit_transform(docs)
    centroid = X.mean(axis=0).A1
    norm = (centroid ** 2).sum() ** 0.5 or 1.0
    sims = (X @ centroid) / norm
    scored = [(s, float(sims[i])) for i, s in enumerate(segments)]
    scored.sort(key=lambda p: (-round(p[1], 9), p[0]["id"]))
    return scored


def test_typicality_ranking_equals_sklearns(sample_store):
    """Every group's participant segments ranked by typicality: the same order and scores as with
    scikit-learn's TfidfVectorizer."""
    from qualcode.reports.quotes import rank_by_typicality
    from qualcode.text.lemmas import load
    from qualcode.text.nlp import content_lemmas

    content = load(sample_store).content
    for group in sample_store.groups():
        segs = list(sample_store.segments(group=group, role="participant"))
        docs = [" ".join(content_lemmas(s["text"], "nl")) or s["text"].lower() for s in segs]
        ours = rank_by_typicality(segs, "nl", lemmas=content)
        theirs = _typicality_with_sklearn(segs, docs)
        assert [s["id"] for s, _ in ours] == [s["id"] for s, _ in theirs]
        assert np.allclose([v for _, v in ours], [v for _, v in theirs], rtol=0, atol=1e-12)
    assert SKLEARN_TOKEN.findall("mm-hm werk") == ["mm", "hm", "werk"]


def test_review_coherence_equals_sklearns(sample_store):
    """Review's within/between-theme similarities, against the scikit-learn computation they replace."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    from test_lemma_cache import _coded
    from qualcode.text.nlp import content_lemmas
    from qualcode.themes.review import run_review

    store = _coded(sample_store)
    rows = {r["theme"]: r for r in run_review(store, remember=False).coherence}
    pairs = store.coded_segment_pairs(None, level="theme")
    seg_text = {sid: text for _, sid, text in pairs}
    ids = sorted(seg_text)
    index = {sid: i for i, sid in enumerate(ids)}
    X = TfidfVectorizer(analyzer=lambda t: content_lemmas(t, "nl"), norm="l2").fit_transform([seg_text[s] for s in ids])
    members = {}
    for k, sid, _ in pairs:
        members.setdefault(k, []).append(index[sid])
    assert set(rows) == set(members) and len(rows) >= 4
    for k, m in members.items():
        s = np.asarray(X[m].sum(axis=0)).ravel()
        nz = int((X[m].getnnz(axis=1) > 0).sum())
        within = (s @ s - nz) / (len(m) * (len(m) - 1))
        assert rows[k]["within"] == round(float(within), 4)
