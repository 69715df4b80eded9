"""CodeSuggester (estimator contract, determinism), the self-evaluation (no leakage) and the
project-level suggest / accept round trip, on small generated data."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone

from qualcode.coding.suggest import (BaselineSuggester, CodeSuggester, evaluate, split_scheme, verdict)
from qualcode.errors import NotFittedError, QualcodeError

MONEY = ["the money from the job helps", "my salary pays the rent", "the wage is low but it is money",
         "benefits and salary together", "paid work gives money for food", "the pay check came"]
STRESS = ["work brings stress and pressure", "the pressure at work is too much", "deadlines give me stress",
          "too much stress with the boss", "pressure every single day", "stress keeps me awake"]
OTHER = ["I like the weather today", "we went to the park", "coffee is ready", "the train was late",
         "my cat sleeps all day", "the meeting starts now"]


def corpus(n_sources: int = 4):
    """Documents, code lists and source names: each source has money, stress, both and no-code turns."""
    X, y, g = [], [], []
    for s in range(n_sources):
        for i in range(6):
            k = (i + s) % 6
            X.append({"id": f"s{s}-m{i}", "text": MONEY[k], "context": "what about money?"})
            y.append(["money"])
            X.append({"id": f"s{s}-s{i}", "text": STRESS[k], "context": "how is work?"})
            y.append(["stress"])
            X.append({"id": f"s{s}-o{i}", "text": OTHER[k], "context": "anything else?"})
            y.append([])
        X.append({"id": f"s{s}-b", "text": MONEY[s] + " but " + STRESS[s], "context": ""})
        y.append(["money", "stress"])
        g.extend([f"T{s}"] * 19)
    return X, y, g


def test_estimator_contract():
    est = CodeSuggester(language="en", C=2.0, context_weight=0.3)
    params = est.get_params()
    assert params["C"] == 2.0 and params["context_weight"] == 0.3 and params["language"] == "en"
    twin = clone(est)
    assert twin is not est and twin.get_params() == params
    assert not hasattr(twin, "coef_")
    with pytest.raises(NotFittedError, match="not fitted yet"):
        est.predict(["money"])
    with pytest.raises(NotFittedError, match="not fitted yet"):
        est.predict_proba(["money"])
    with pytest.raises(NotFittedError):
        BaselineSuggester().predict_proba(["money"])
    X, y, _ = corpus(2)
    assert est.fit(X, y) is est
    assert list(est.classes_) == ["money", "stress"]
    assert [a for a in vars(est) if a.endswith("_") and not a.startswith("_")]
    # a clone of a fitted estimator is unfitted again
    assert not hasattr(clone(est), "coef_")


def test_learns_multi_label_and_drivers():
    X, y, _ = corpus(3)
    est = CodeSuggester(language="en", random_state=0).fit(X, y)
    pred = est.predict(["the salary is money", "so much stress and pressure", "the park and the cat"])
    assert pred[0] == ["money"] and pred[1] == ["stress"] and pred[2] == []
    p = est.predict_proba(["my salary and the stress of the pressure"])
    assert p.shape == (1, 2) and (p > 0.3).all()
    words = est.drivers(["the salary is money for food"], "money")[0]
    assert words and set(words) <= {"salary", "money", "food"}


def test_calibrated_only_with_enough_examples():
    X, y, _ = corpus(3)
    est = CodeSuggester(language="en", min_calibration=8).fit(X, y)
    assert est.calibrated_.all()  # 21 examples per code
    few = CodeSuggester(language="en", min_calibration=100).fit(X, y)
    assert not few.calibrated_.any()


def test_codebook_prior_gives_a_code_without_examples():
    X, y, _ = corpus(2)
    prior = {"coach": "job coach support on the work floor", "money": "", "stress": ""}
    est = CodeSuggester(language="en", codebook=prior).fit(X, y)
    assert list(est.classes_) == ["coach", "money", "stress"]
    assert est.n_examples_.tolist() == [0, 14, 14]
    p = est.predict_proba(["the job coach gave support", "the weather is nice"])
    assert p[0, 0] > p[1, 0]  # the codebook's words alone already point at 'coach'


def test_same_seed_same_result():
    X, y, _ = corpus(3)
    a = CodeSuggester(language="en", random_state=7).fit(X, y).predict_proba(X)
    b = CodeSuggester(language="en", random_state=7).fit(X, y).predict_proba(X)
    assert np.array_equal(a, b)


class Spy(CodeSuggester):
    """Records the segment ids each fit saw and each predict was asked about."""

    log: list = []

    def fit(self, X, y, sample_weight=None):
        Spy.log.append(("fit", {x["id"] for x in X}))
        return super().fit(X, y, sample_weight)

    def predict_proba(self, X):
        Spy.log.append(("predict", {x["id"] for x in X}))
        return super().predict_proba(X)


def test_evaluation_never_fits_on_the_test_transcript():
    X, y, g = corpus(4)
    Spy.log = []
    ev = evaluate(lambda: Spy(language="en"), X, y, g)
    fits = [ids for kind, ids in Spy.log if kind == "fit"]
    tests = [ids for kind, ids in Spy.log if kind == "predict"]
    assert len(fits) == len(tests) == 4
    source_of = {x["id"]: s for x, s in zip(X, g)}
    for fit_ids, test_ids in zip(fits, tests):
        assert not fit_ids & test_ids
        held_out = {source_of[i] for i in test_ids}
        assert len(held_out) == 1 and held_out.isdisjoint({source_of[i] for i in fit_ids})
    assert set().union(*tests) == {x["id"] for x in X}  # every segment scored exactly once, held out
    assert ev.scheme == "leave-one-transcript-out over 4 transcripts"


def test_evaluation_figures():
    X, y, g = corpus(4)
    ev = evaluate(lambda: CodeSuggester(language="en"), X, y, g)
    assert ev.n_segments == 76 and ev.n_coded == 52 and not ev.single_label
    by = {c.code: c for c in ev.codes}
    assert by["money"].support == 28 and by["stress"].support == 28
    assert ev.top1_precision > 0.9 and ev.top3_recall == 1.0 and ev.macro_f1 > 0.8
    text = "\n".join(ev.lines())
    assert "top-1 precision" in text and "did not see" in text and "money" in text


def test_many_transcripts_use_grouped_folds():
    groups = [f"T{i}" for i in range(50) for _ in range(2)]
    scheme, splits = split_scheme(groups, max_loto=40, n_folds=10)
    assert scheme == "grouped 10-fold by transcript over 50 transcripts" and len(splits) == 10
    for train, test in splits:
        assert {groups[i] for i in train}.isdisjoint({groups[i] for i in test})
    with pytest.raises(QualcodeError, match="at least two transcripts"):
        split_scheme(["T1", "T1"])


def test_verdicts():
    assert verdict(3, 1.0, 1.0) == "too few examples"
    assert verdict(20, 0.9, 0.7) == "reliable"
    assert verdict(20, 0.6, 0.9) == "check every one"
    assert verdict(20, None, 0.0) == "check every one"


def test_single_label_data_scores_the_top_code():
    X, y, g = corpus(4)
    keep = [i for i, v in enumerate(y) if len(v) == 1]
    ev = evaluate(lambda: BaselineSuggester(), [X[i] for i in keep], [y[i] for i in keep], [g[i] for i in keep])
    assert ev.single_label
    assert sum(c.suggested for c in ev.codes) == len(keep)  # exactly one code per segment
