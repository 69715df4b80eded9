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


# ------------------------------------------------ the code suggester's fitted vectorizer (word and char n-grams)
TEXTS = ["Ik werk nu bij een IPS-jobcoach, en da's goe!", "Werken?  Ge moet eerst stabiliseren.",
         "de  arbeidsre-integratie duurt lang", "euh ja", "", "Ja.", "Ja.", "Mijn jobcoach belt elke week.",
         "Naïeve café-uitbater?", "ik werk werk werk"]
LATER = ["een nieuwe jobcoach", "zzzz qqq", "", "Ja."]


def _sk(**kw):
    from sklearn.feature_extraction.text import TfidfVectorizer as Sk

    return Sk(**kw)


def _ours(kind, lo, hi, by_word=False, **kw):
    from qualcode.text.tfidf import TermIndex, TfidfVectorizer, char_wb_grams, word_grams, words_of

    grams = char_wb_grams if kind == "char" else word_grams
    return TfidfVectorizer(TermIndex(lambda t: grams(t, lo, hi), split=words_of if by_word else None), **kw)


@pytest.mark.parametrize("by_word", [False, True])
@pytest.mark.parametrize("min_df", [1, 2])
def test_char_wb_vectorizer_equals_sklearn(min_df, by_word):
    raw = [t.lower() for t in TEXTS]
    sk = _sk(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=min_df)
    ours = _ours("char", 2, 5, by_word=by_word, sublinear_tf=True, min_df=min_df)
    M = ours.fit_transform(raw)
    assert ours.terms_ == list(sk.fit(raw).get_feature_names_out())
    assert ours.vocabulary_ == sk.vocabulary_
    assert np.allclose(M.toarray(), sk.transform(raw).toarray(), rtol=0, atol=1e-12)
    later = [t.lower() for t in LATER]
    assert np.allclose(ours.transform(later).toarray(), sk.transform(later).toarray(), rtol=0, atol=1e-12)
    assert ours.build_analyzer()("jobcoach") == sk.build_analyzer()("jobcoach")


@pytest.mark.parametrize("ngrams", [(1, 1), (1, 2), (2, 3)])
def test_word_vectorizer_equals_sklearn(ngrams):
    lemmas = [" ".join(t.lower().replace(",", " ").split()) for t in TEXTS]
    sk = _sk(tokenizer=str.split, token_pattern=None, lowercase=False, ngram_range=ngrams, sublinear_tf=True)
    ours = _ours("word", *ngrams, sublinear_tf=True)
    M = ours.fit_transform(lemmas)
    assert ours.terms_ == list(sk.fit(lemmas).get_feature_names_out())
    assert np.allclose(M.toarray(), sk.transform(lemmas).toarray(), rtol=0, atol=1e-12)
    assert np.allclose(ours.transform(LATER).toarray(), sk.transform(LATER).toarray(), rtol=0, atol=1e-12)


def test_vectorizer_max_features_and_min_df_fallback():
    raw = [t.lower() for t in TEXTS]
    ours = _ours("char", 2, 3, min_df=1, max_features=25)
    M = ours.fit_transform(raw)
    counts = {}
    for t in raw:
        for g in ours.build_analyzer()(t):
            counts[g] = counts.get(g, 0) + 1
    expected = sorted(sorted(counts, key=lambda g: (-counts[g], g))[:25])
    assert ours.terms_ == expected and M.shape == (len(raw), 25)
    # no term in two texts: every term is kept (as the suggester did with scikit-learn, catching its error)
    lone = _ours("word", 1, 1, min_df=2)
    assert lone.fit_transform(["aap noot", "mies"]).shape == (2, 3)


def test_each_text_is_analysed_once_per_index():
    from qualcode.text.tfidf import TermIndex, TfidfVectorizer, word_grams

    seen = []
    index = TermIndex(lambda t: seen.append(t) or word_grams(t, 1, 1))
    a = TfidfVectorizer(index).fit_transform(["aap noot", "noot mies"])
    b = TfidfVectorizer(index).fit_transform(["noot mies", "aap noot", "wim"])
    assert seen == ["aap noot", "noot mies", "wim"]
    assert np.allclose(a.toarray(), TfidfVectorizer(TermIndex(lambda t: word_grams(t, 1, 1)))
                       .fit_transform(["aap noot", "noot mies"]).toarray())
    assert b.shape == (3, 4)


@settings(deadline=None, max_examples=40, derandomize=True)
@given(st.lists(st.text(alphabet="ab c?-\n\té", max_size=30), min_size=1, max_size=8),
       st.sampled_from([(1, 1), (2, 3), (2, 5)]))
@example(["a", "  "], (2, 5))
def test_char_wb_vectorizer_equals_sklearn_on_any_text(texts, ngrams):
    ours = _ours("char", *ngrams, by_word=True, sublinear_tf=True)
    if not any(t.split() for t in texts):  # scikit-learn refuses an empty vocabulary; ours has no columns
        assert ours.fit_transform(texts).shape == (len(texts), 0)
        return
    sk = _sk(analyzer="char_wb", ngram_range=ngrams, sublinear_tf=True, lowercase=False)
    M = ours.fit_transform(texts)
    assert ours.terms_ == list(sk.fit(texts).get_feature_names_out())
    assert np.allclose(M.toarray(), sk.transform(texts).toarray(), rtol=0, atol=1e-12)
