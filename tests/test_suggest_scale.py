"""What keeps `qualcode suggest` fast on large projects: the stratified training sample (with
its base-rate correction), calibration on one held-out slice, and the one-pass segment documents."""

from __future__ import annotations

import numpy as np
import pytest

from qualcode.coding import suggest as lib
from qualcode.coding.suggest import CodeSuggester, SuggestResult

from test_suggest import corpus
from test_suggest_project import coded_store  # noqa: F401  (fixture)


def labels(n_rare=6, n_common=120, n_none=300):
    """Code lists with one rare code, one common code and many uncoded segments."""
    return [["rare"]] * n_rare + [["common"]] * n_common + [[]] * n_none


def test_no_sample_below_the_cap():
    est = CodeSuggester(max_samples=1000)
    assert est.sample_indices(labels(), ["rare", "common"]) is None
    assert CodeSuggester(max_samples=None).sample_indices(labels(), ["rare", "common"]) is None


def test_sample_is_stratified_sorted_and_deterministic():
    y = labels()
    est = CodeSuggester(max_samples=100, random_state=3)
    keep = est.sample_indices(y, ["rare", "common"])
    assert len(keep) == 100 and list(keep) == sorted(set(keep.tolist()))
    kept = [y[i] for i in keep]
    assert kept.count(["rare"]) == 6        # the quota (100 / 4 = 25) takes every rare example
    assert kept.count(["common"]) >= 25     # and at least 25 of the common code's
    assert np.array_equal(keep, CodeSuggester(max_samples=100, random_state=3).sample_indices(y, ["rare", "common"]))
    other = CodeSuggester(max_samples=100, random_state=4).sample_indices(y, ["rare", "common"])
    assert not np.array_equal(keep, other)


def test_fit_on_a_sample_reports_it_and_corrects_the_base_rate():
    X, y, _ = corpus(4)  # 76 segments: 28 money, 28 stress (4 of them both), 24 uncoded
    est = CodeSuggester(language="en", max_samples=40, random_state=0).fit(X, y)
    assert (est.n_seen_, est.n_used_) == (76, 40)
    assert est.n_examples_.tolist() == [28, 28]  # counted over every segment, not the sample
    # the quota (40 / 4 = 10 per code) is met first, the rest of the budget is filled at random
    keep = est.sample_indices(y, ["money", "stress"])
    for k, code in enumerate(["money", "stress"]):
        pos = sum(code in y[i] for i in keep)
        expected = np.log((pos / 28) / ((40 - pos) / 48))
        assert est.prior_shift_[k] == pytest.approx(expected)
    full = CodeSuggester(language="en", max_samples=None).fit(X, y)
    assert not full.prior_shift_.any() and full.n_used_ == 76
    # the shift is taken off the log-odds of the sampled model's probabilities
    p = est.predict_proba(["the salary is money"])
    s = est.decision_function(["the salary is money"])
    z = np.where(est.calibrated_, s * est.platt_[:, 0] + est.platt_[:, 1], s) - est.prior_shift_
    assert np.allclose(p, 1 / (1 + np.exp(-z)))
    assert est.predict(["the salary is money", "deadlines give me stress"]) == [["money"], ["stress"]]


def test_held_out_calibration_on_many_segments_is_deterministic():
    X, y, _ = corpus(6)  # 114 segments
    a = CodeSuggester(language="en", holdout_above=50, random_state=1).fit(X, y)
    assert a.calibrated_.all() and (a.platt_[:, 0] > 0).all()  # higher score, higher probability
    b = CodeSuggester(language="en", holdout_above=50, random_state=1).fit(X, y)
    assert np.array_equal(a.predict_proba(X), b.predict_proba(X))
    kfold = CodeSuggester(language="en", holdout_above=None, random_state=1).fit(X, y)
    assert not np.allclose(a.platt_, kfold.platt_)  # really another calibration path
    assert a.predict(["my salary pays the rent", "the park and the cat"]) == [["money"], []]


def test_result_says_when_it_learnt_from_a_sample():
    r = SuggestResult(coder="ann", method="model", n_training=52_000, n_used=20_000, n_targets=5)
    assert r.lines()[0] == ("Learnt from a sample of 20,000 of 52,000 segments of coder 'ann' "
                            "(stratified by code; see docs/suggest.md).")
    r = SuggestResult(coder="ann", method="model", n_training=48, n_used=48)
    assert r.lines()[0] == "Learnt from 48 segments of coder 'ann'."


def test_segment_docs_context_is_the_previous_turn(coded_store):  # noqa: F811
    docs = lib.segment_docs(coded_store)
    segs = list(coded_store.segments())
    turns = {}
    for s in segs:
        turns.setdefault((s["source_id"], s["turn"]), []).append(s["text"])
    assert len(docs) == len(segs)
    for s in segs:
        want = " ".join(turns.get((s["source_id"], s["turn"] - 1), []))[-1000:]
        d = docs[s["id"]]
        assert d["context"] == want and d["text"] == s["text"] and d["group"] == s["group_label"]
    assert any(d["context"] == "what about money and work?" for d in docs.values())


def test_suggest_on_a_project_with_a_sample(coded_store, monkeypatch):  # noqa: F811
    made = lib.make_suggester

    def small(store, **kw):
        return made(store, **kw).set_params(max_samples=30)

    monkeypatch.setattr(lib, "make_suggester", small)
    result = lib.suggest(coded_store, coder="ann")
    assert result.n_training == 48 and result.n_used == 30
    assert result.lines()[0].startswith("Learnt from a sample of 30 of 48 segments of coder 'ann'")
    assert result.n_suggestions > 0
