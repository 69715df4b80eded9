"""The suggester's own logistic regression (qualcode/coding/logistic.py) and transcript splits, checked against
scikit-learn (a test dependency only): liblinear's coefficients and probabilities, StratifiedKFold's folds,
LeaveOneGroupOut's and GroupKFold's splits; and the suggester with its own solver against the suggester with
liblinear on the same data."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, LeaveOneGroupOut, StratifiedKFold

from qualcode.coding.logistic import RowSpace, solve_lower, solve_upper_t, unique_rows
from qualcode.coding.suggest import CodeSuggester, split_scheme, stratified_folds

# Tolerances: scikit-learn is run to tol=1e-10; ours stops at a gradient 1e-5 times its size at zero.
COEF_TOL = 1e-3
PROBA_TOL = 1e-4


def data(seed=0, n=160, d=600, K=3, duplicates=True):
    rng = np.random.RandomState(seed)
    X = sp.random(n, d, density=0.03, random_state=seed + 1, format="csr")
    X.data = rng.rand(X.nnz)
    if duplicates:  # repeated segments ("Ja.") must be merged without changing the fit
        X = sp.vstack([X, X[:5]], format="csr")
    Y = rng.rand(X.shape[0], K) < np.array([0.1, 0.3, 0.5])[:K]
    Y[:, 0] |= np.asarray(X[:, :40].sum(axis=1)).ravel() > 0.6  # something learnable
    w = rng.rand(X.shape[0]) + 0.5
    return X, Y, w


def liblinear(X, yk, w, C):
    return LogisticRegression(C=C, solver="liblinear", tol=1e-10, max_iter=100_000).fit(X, yk, sample_weight=w)


@pytest.mark.parametrize("C", [0.5, 4.0])
def test_coefficients_and_probabilities_equal_liblinear(C):
    X, Y, w = data()
    space = RowSpace(X)
    assert len(space.first) == X.shape[0] - 5  # the five repeated rows were merged
    A, used = space.fit(Y, w, C=C)
    coef, b = space.coefficients(A, used)
    for k in range(Y.shape[1]):
        m = liblinear(X, Y[:, k], w, C)
        assert np.abs(coef[k] - m.coef_[0]).max() < COEF_TOL
        assert abs(b[k] - m.intercept_[0]) < COEF_TOL
        ours = 1 / (1 + np.exp(-(X @ coef[k] + b[k])))
        assert np.abs(ours - m.predict_proba(X)[:, 1]).max() < PROBA_TOL
    # the scores from the Gram matrix are those of the coefficients
    assert np.allclose(space.scores(A, used), X @ coef.T + b, atol=1e-10)


def test_dense_block_equals_liblinear_on_the_joined_matrix():
    X, Y, w = data(seed=3, duplicates=False)
    dense = np.random.RandomState(4).randn(X.shape[0], 20) * 0.3
    space = RowSpace(X, dense)
    A, used = space.fit(Y, w, C=2.0)
    coef, b = space.coefficients(A, used)
    joined = sp.hstack([X, sp.csr_matrix(dense)], format="csr")
    assert coef.shape == (Y.shape[1], joined.shape[1])
    for k in range(Y.shape[1]):
        m = liblinear(joined, Y[:, k], w, 2.0)
        assert np.abs(coef[k] - m.coef_[0]).max() < COEF_TOL
        assert np.abs(1 / (1 + np.exp(-(joined @ coef[k] + b[k]))) - m.predict_proba(joined)[:, 1]).max() < PROBA_TOL


def test_rows_and_zero_weights_leave_segments_out():
    X, Y, w = data(seed=5)
    space = RowSpace(X)
    rows = np.arange(0, X.shape[0], 2)
    A, used = space.fit(Y, w, C=4.0, rows=rows)
    coef, b = space.coefficients(A, used)
    # the same as liblinear on those rows alone ...
    for k in range(Y.shape[1]):
        m = liblinear(X[rows], Y[rows, k], w[rows], 4.0)
        assert np.abs(coef[k] - m.coef_[0]).max() < COEF_TOL
    # ... and as giving the other rows zero weight, per code (one code sees all rows, the others half)
    W = np.repeat(w[:, None], Y.shape[1], axis=1)
    W[1::2, 1:] = 0.0
    A2, used2 = space.fit(Y, W, C=4.0)
    coef2, _ = space.coefficients(A2, used2)
    assert np.abs(coef2[1:] - coef[1:]).max() < COEF_TOL
    assert np.abs(coef2[0] - liblinear(X, Y[:, 0], w, 4.0).coef_[0]).max() < COEF_TOL


def test_warm_start_reaches_the_same_model():
    X, Y, w = data(seed=7)
    space = RowSpace(X)
    A, used = space.fit(Y, w, C=4.0)
    rows = np.arange(40, X.shape[0])
    cold, used_c = space.fit(Y, w, C=4.0, rows=rows)
    warm, used_w = space.fit(Y, w, C=4.0, rows=rows, start=space.scores(A, used))
    assert np.array_equal(used_c, used_w)
    assert np.abs(space.scores(cold, used_c) - space.scores(warm, used_w)).max() < 1e-3


def test_same_data_same_coefficients():
    X, Y, w = data(seed=9)
    a = RowSpace(X).fit(Y, w, C=4.0)[0]
    b = RowSpace(X).fit(Y, w, C=4.0)[0]
    assert np.array_equal(a, b)


def test_a_code_with_no_examples_gets_low_scores():
    X, Y, w = data(seed=2)
    Y[:, 1] = False
    space = RowSpace(X)
    A, used = space.fit(Y, w, C=4.0)
    assert (space.scores(A, used)[:, 1] < 0).all()


def test_triangular_solves_and_duplicate_detection():
    rng = np.random.RandomState(0)
    M = rng.rand(150, 150)
    L = np.linalg.cholesky(M @ M.T + 150 * np.eye(150))
    B = rng.rand(150, 4)
    assert np.allclose(L @ solve_lower(L, B), B, atol=1e-10)
    assert np.allclose(L.T @ solve_upper_t(L, B), B, atol=1e-10)
    X = sp.csr_matrix(np.array([[1.0, 0, 2], [0, 1, 0], [1.0, 0, 2], [0, 0, 0], [0, 0, 0]]))
    first, group = unique_rows(X)
    assert first.tolist() == [0, 1, 3] and group.tolist() == [0, 1, 0, 2, 2]
    first, group = unique_rows(X, np.array([[0.0], [0], [1], [0], [0]]))  # the dense block tells 0 and 2 apart
    assert first.tolist() == [0, 1, 2, 3]


@pytest.mark.parametrize("seed", [0, 1, 7])
@pytest.mark.parametrize("n_splits", [2, 3, 5])
def test_stratified_folds_equal_sklearn(seed, n_splits):
    rng = np.random.RandomState(seed + 100)
    for y in (rng.rand(97) < 0.2, rng.rand(40) < 0.6, np.r_[np.ones(8), np.zeros(30)]):
        y = y.astype(int)
        ours = stratified_folds(y, n_splits, seed)
        for f, (_, test) in enumerate(StratifiedKFold(n_splits, shuffle=True, random_state=seed).split(y, y)):
            assert np.array_equal(np.flatnonzero(ours == f), test)


def test_transcript_splits_equal_sklearn():
    rng = np.random.RandomState(0)
    groups = [f"T{rng.randint(0, 60):02d}" for _ in range(900)]
    idx = np.arange(len(groups))
    scheme, splits = split_scheme(groups, max_loto=100)
    assert scheme.startswith("leave-one-transcript-out")
    theirs = list(LeaveOneGroupOut().split(idx, groups=groups))
    assert len(splits) == len(theirs)
    assert all(np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]) for a, b in zip(splits, theirs))
    scheme, splits = split_scheme(groups, max_loto=40, n_folds=10)
    assert scheme.startswith("grouped 10-fold")
    theirs = list(GroupKFold(n_splits=10).split(idx, groups=groups))
    assert all(np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]) for a, b in zip(splits, theirs))


def test_suggester_equals_the_liblinear_suggester():
    """The whole estimator (features, codebook prior, calibration on the same stratified folds) with its own
    solver and with scikit-learn's liblinear (``row_space_max=0`` forces the latter, the large-project path)."""
    from test_suggest import corpus

    X, y, _ = corpus(3)
    prior = {"coach": "job coach support on the work floor"}
    ours = CodeSuggester(language="en", codebook=prior, random_state=0).fit(X, y)
    theirs = CodeSuggester(language="en", codebook=prior, random_state=0, row_space_max=0).fit(X, y)
    texts = ["the salary is money", "so much stress and pressure", "the park and the cat", "a job coach helps"]
    assert np.abs(ours.decision_function(texts) - theirs.decision_function(texts)).max() < 1e-3
    assert np.array_equal(ours.calibrated_, theirs.calibrated_)
    assert np.abs(ours.platt_ - theirs.platt_).max() < 1e-2
    assert np.abs(ours.predict_proba(texts) - theirs.predict_proba(texts)).max() < 1e-3
    assert ours.predict(texts) == theirs.predict(texts)


def test_held_out_calibration_equals_the_liblinear_path():
    """Large projects calibrate on one held-out third; the row-space fit does it as liblinear did."""
    from test_suggest import corpus

    X, y, _ = corpus(6)  # 114 segments, held-out calibration above 50
    ours = CodeSuggester(language="en", holdout_above=50, random_state=1).fit(X, y)
    theirs = CodeSuggester(language="en", holdout_above=50, random_state=1, row_space_max=0).fit(X, y)
    assert ours.calibrated_.all() and np.array_equal(ours.calibrated_, theirs.calibrated_)
    assert np.abs(ours.platt_ - theirs.platt_).max() < 1e-2
    assert np.abs(ours.predict_proba(X) - theirs.predict_proba(X)).max() < 1e-3
