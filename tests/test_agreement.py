"""Agreement statistics: reference equality, bootstrap, units, done marks and errors."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from qualcode.agreement import measures as ag
from qualcode.errors import NotFoundError, QualcodeError


# ------------------------------------------------------------------ data
@st.composite
def codings(draw, min_coders=2, max_coders=6, missing=True):
    m = draw(st.integers(min_coders, max_coders))
    n = draw(st.integers(2, 40))
    k = draw(st.integers(2, 4))
    cells = st.one_of(st.none(), st.integers(0, k - 1)) if missing else st.integers(0, k - 1)
    return [draw(st.lists(cells, min_size=n, max_size=n)) for _ in range(m)]


def as_float(data) -> np.ndarray:
    return np.array([[np.nan if v is None else float(v) for v in row] for row in data])


def plain_fleiss(data) -> float:
    """Fleiss (1971) written out loop by loop, on the units every coder rated."""
    m = len(data)
    units = [[row[j] for row in data] for j in range(len(data[0]))]
    units = [u for u in units if all(v is not None for v in u)]
    cats = sorted({v for u in units for v in u})
    n = len(units)
    p_i = []
    totals = {c: 0 for c in cats}
    for u in units:
        counts = {c: u.count(c) for c in cats}
        for c in cats:
            totals[c] += counts[c]
        p_i.append((sum(x * x for x in counts.values()) - m) / (m * (m - 1)))
    p_bar = sum(p_i) / n
    p_e = sum((totals[c] / (n * m)) ** 2 for c in cats)
    return (p_bar - p_e) / (1 - p_e)


def plain_percent(data) -> float:
    agree = pairs = 0
    for j in range(len(data[0])):
        vals = [row[j] for row in data if row[j] is not None]
        for a in range(len(vals)):
            for b in range(len(vals)):
                if a != b:
                    pairs += 1
                    agree += vals[a] == vals[b]
    return agree / pairs


# ------------------------------------------------------- reference equality
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(codings())
def test_alpha_equals_krippendorff_package(data):
    import krippendorff

    arr = as_float(data)
    pairable = (np.sum(~np.isnan(arr), axis=0) >= 2).sum()
    values = {v for row in data for v in row if v is not None}
    assume(pairable >= 1 and len(values) >= 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ref = krippendorff.alpha(reliability_data=arr, level_of_measurement="nominal")
        except (ValueError, ZeroDivisionError):
            ref = float("nan")
    ours = ag.krippendorff_alpha(data)
    assert ours == pytest.approx(ref, abs=1e-9, nan_ok=True)  # NaN only where the reference gives NaN


@settings(max_examples=150, deadline=None)
@given(codings(min_coders=2, max_coders=2))
def test_cohen_equals_sklearn(data):
    from sklearn.metrics import cohen_kappa_score

    a, b = data
    both = [(x, y) for x, y in zip(a, b) if x is not None and y is not None]
    assume(len(both) >= 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = cohen_kappa_score([x for x, _ in both], [y for _, y in both])
    ours = ag.cohen_kappa(a, b)
    assert ours == pytest.approx(ref, abs=1e-9, nan_ok=True)  # NaN only where the reference gives NaN


@settings(max_examples=150, deadline=None)
@given(codings())
def test_fleiss_equals_plain_implementation(data):
    complete = [j for j in range(len(data[0])) if all(row[j] is not None for row in data)]
    assume(complete)
    values = {row[j] for row in data for j in complete}
    assume(len(values) >= 2)
    assert ag.fleiss_kappa(data) == pytest.approx(plain_fleiss(data), abs=1e-9)


@settings(max_examples=100, deadline=None)
@given(codings())
def test_percent_agreement_equals_pair_count(data):
    assume(any(sum(row[j] is not None for row in data) >= 2 for j in range(len(data[0]))))
    assert ag.percent_agreement(data) == pytest.approx(plain_percent(data), abs=1e-12)


def test_textbook_values():
    # Two coders, 10 units, 2 categories: observed .80, expected .50 -> kappa .60.
    a = [1, 1, 1, 1, 1, 0, 0, 0, 0, 0]
    b = [1, 1, 1, 1, 0, 1, 0, 0, 0, 0]
    st_ = ag.agreement_stats([a, b])
    assert st_["percent"].value == pytest.approx(0.8)
    assert st_["cohen"].value == pytest.approx(0.6)
    # Krippendorff's alpha for the same data: 1 - (n-1) * D_o / D_e = 1 - 19 * 4 / 200.
    assert st_["alpha"].value == pytest.approx(1 - 19 * 4 / 200)
    # Strings, and a constant variable where chance agreement is total: kappa undefined.
    assert ag.cohen_kappa(["x", "y", "x"], ["x", "y", "y"]) == pytest.approx(0.4)
    assert math.isnan(ag.cohen_kappa([1, 1, 1], [1, 1, 1]))


def test_bands():
    assert [ag.landis_koch(v) for v in (-0.1, 0.0, 0.2, 0.21, 0.4, 0.55, 0.61, 0.8, 0.81, 1.0)] == [
        "poor", "slight", "slight", "fair", "fair", "moderate", "substantial", "substantial", "almost perfect",
        "almost perfect"]
    assert [ag.krippendorff_band(v) for v in (0.5, 0.667, 0.7999, 0.8)] == [
        "unreliable", "tentative", "tentative", "reliable"]
    assert ag.landis_koch(float("nan")) == "n/a"


# -------------------------------------------------------------- bootstrap
def test_bootstrap_matches_naive_resampling():
    rng = np.random.default_rng(3)
    data = rng.integers(0, 3, size=(3, 25)).tolist()
    data[0][0] = None
    got = ag.agreement_stats(data, n_boot=200, seed=11)
    # The same resamples drawn and computed one by one.
    idx = np.random.default_rng(11).integers(0, 25, size=(200, 25))
    draws = {s: [] for s in ag.STATISTICS}
    for row in idx:
        res = ag.agreement_stats([[d[j] for j in row] for d in data])
        for s in ag.STATISTICS:
            draws[s].append(res[s].value)
    for s in ("percent", "fleiss", "alpha"):
        d = np.array(draws[s], dtype=float)
        assert got[s].low == pytest.approx(np.nanpercentile(d, 2.5), abs=1e-12)
        assert got[s].high == pytest.approx(np.nanpercentile(d, 97.5), abs=1e-12)
        assert got[s].low <= got[s].value <= got[s].high
    assert math.isnan(got["cohen"].value) and math.isnan(got["cohen"].low)


def test_bootstrap_is_seeded():
    data = np.random.default_rng(5).integers(0, 2, size=(2, 60)).tolist()
    a = ag.agreement_stats(data, n_boot=300, seed=1)
    b = ag.agreement_stats(data, n_boot=300, seed=1)
    c = ag.agreement_stats(data, n_boot=300, seed=2)
    assert (a["alpha"].low, a["alpha"].high) == (b["alpha"].low, b["alpha"].high)
    assert (a["alpha"].low, a["alpha"].high) != (c["alpha"].low, c["alpha"].high)


def test_bootstrap_is_fast_enough_for_big_projects():
    # 5000 segments x 40 codes x 3 coders with 1000 resamples: vectorised, so it runs in seconds.
    rng = np.random.default_rng(0)
    x = (rng.random((3, 5000, 40)) < 0.1).astype(np.int64)
    counts = np.stack([3 - x.sum(0), x.sum(0)], axis=-1)
    feats = ag._unit_features(counts, 3, None)
    est = ag._estimates(feats, 3, 2, 1000, 1)
    assert len(est["alpha"]) == 40
    assert all(e.low <= e.value <= e.high for e in est["alpha"])


# ------------------------------------------------------ project level
@pytest.fixture
def two_coders(sample_store, tiny_codebook_factory):
    """coder_a codes F1 and F2, coder_b codes F1 only (participant segments), deterministic."""
    ids = tiny_codebook_factory(sample_store)
    rng = np.random.default_rng(42)
    segs = list(sample_store.segments(role="participant"))
    truth = {}
    with sample_store.act("test codings"):
        for s in segs:
            if s["group_label"] not in ("F1", "F2"):
                continue
            for key, cid in ids.items():
                a = rng.random() < (0.25 if key != "intake" else 0.01)
                b = a if (key == "intake" or rng.random() < 0.85) else not a
                truth[(s["id"], key)] = (a, b)
                if a:
                    sample_store.add_coding(s["id"], cid, "coder_a")
                if b and s["group_label"] == "F1":
                    sample_store.add_coding(s["id"], cid, "coder_b")
    return sample_store, ids, truth


def test_units_and_done_marks(two_coders):
    store, ids, truth = two_coders
    f1 = {s["id"] for s in store.segments(group="F1", role="participant")}
    u = ag.collect_units(store, ["coder_a", "coder_b"])
    coded_a = {s for s in store.segment_codes("coder_a")}
    coded_b = {s for s in store.segment_codes("coder_b")}
    assert set(u.segment_ids) == coded_a & coded_b
    assert u.n_left_out == len(coded_a ^ coded_b)
    # coder_b marks F1 done: every F1 segment coder_a coded now counts, uncoded ones as 'not applied'.
    n = ag.mark_done(store, "coder_b", ["F1.txt"])
    assert n == 1
    assert [(p["coder"], p["source"]) for p in store.coder_progress()] == [("coder_b", "F1.txt")]
    u = ag.collect_units(store, ["coder_a", "coder_b"])
    assert set(u.segment_ids) == coded_a & f1
    ag.mark_done(store, "coder_a", ["F1"])   # a focus group label marks its transcripts
    u = ag.collect_units(store, ["coder_a", "coder_b"])
    assert set(u.segment_ids) == f1
    assert u.n_left_out == len(coded_a - f1)
    assert store.history(1)[0]["command"] == "agreement done"
    store.undo(1)
    assert store.done_sources("coder_a") == set()
    assert ag.mark_done(store, "coder_b", ["F1.txt"], undo=True) == 1
    assert store.done_sources("coder_b") == set()
    with pytest.raises(NotFoundError) as e:
        ag.mark_done(store, "coder_b", ["F4.txt"])
    assert str(e.value) == "unknown transcript or focus group 'F4.txt'. Did you mean: F3.txt, F2.txt, F1.txt?"


def test_compute_agreement_equals_direct_statistics(two_coders):
    store, ids, truth = two_coders
    ag.mark_done(store, "coder_a", ["F1.txt"])
    ag.mark_done(store, "coder_b", ["F1.txt"])
    rep = ag.compute_agreement(store, ["coder_a", "coder_b"], codes=list(ids), groups=["F1"], n_boot=200,
                               seed=3)
    f1 = [s["id"] for s in store.segments(group="F1", role="participant")]
    assert rep.n_segments == len(f1) and rep.units.n_left_out == 0
    pooled_a, pooled_b = [], []
    for r in rep.codes:
        a = [int(truth[(s, r.code)][0]) for s in f1]
        b = [int(truth[(s, r.code)][1]) for s in f1]
        pooled_a += a
        pooled_b += b
        direct = ag.agreement_stats([a, b])
        for s in ag.STATISTICS:
            assert r.stats[s].value == pytest.approx(direct[s].value, abs=1e-12)
        assert r.positives == sum(x or y for x, y in zip(a, b))
        assert r.per_coder == {"coder_a": sum(a), "coder_b": sum(b)}
    direct = ag.agreement_stats([pooled_a, pooled_b])
    for s in ag.STATISTICS:
        assert rep.overall.stats[s].value == pytest.approx(direct[s].value, abs=1e-12)
    intake = next(r for r in rep.codes if r.code == "intake")
    assert intake.warning.startswith(f"only {intake.positives} of {len(f1)} segments have this code")
    assert [r.code for r in rep.codes if r.warning] == ["intake"]
    assert any(line.startswith("Warning: intake: only") for line in rep.notes())
    table = rep.table()
    assert table[-1][0] == "(overall, pooled)"
    assert rep.header()[4] == "Cohen's kappa [95% CI]"


def test_three_coders_no_cohen(two_coders):
    store, ids, _ = two_coders
    with store.act("third"):
        for sid, keys in store.segment_codes("coder_b").items():
            for k in keys:
                store.add_coding(sid, ids[k], "coder_c")
    rep = ag.compute_agreement(store, ["coder_a", "coder_b", "coder_c"], n_boot=50)
    assert "Cohen's kappa [95% CI]" not in rep.header()
    assert all(math.isnan(r.stats["cohen"].value) for r in rep.codes)
    assert all(np.isfinite(r.stats["fleiss"].value) for r in rep.codes if r.positives)


def test_errors(two_coders, empty_store):
    store, ids, _ = two_coders
    with pytest.raises(NotFoundError) as e:
        ag.compute_agreement(store, ["coder_a", "codr_b"])
    assert str(e.value) == "unknown coder 'codr_b'. Did you mean: coder_b, coder_a?"
    with pytest.raises(QualcodeError) as e:
        ag.compute_agreement(store, ["coder_a"])
    assert str(e.value) == ("agreement needs at least two coders; give them as --coders NAME,NAME (coders with "
                            "codings: coder_a, coder_b).")
    with pytest.raises(QualcodeError) as e:
        ag.compute_agreement(store, ["coder_a", "coder_b"], groups=["F2"])
    assert str(e.value) == (
        "coders coder_a, coder_b have no segments in common in F2: a segment counts when every coder coded it, "
        "or when they marked its transcript as done (qualcode agreement done --coder NAME --source FILE).")
    with pytest.raises(NotFoundError) as e:
        ag.compute_agreement(store, ["coder_a", "coder_b"], codes=["pro"])
    assert str(e.value).startswith("unknown code 'pro'. Did you mean: pros")
    with pytest.raises(QualcodeError) as e:
        ag.compute_agreement(empty_store)
    assert str(e.value) == ("agreement needs at least two coders with codings; this project has codings by none. "
                            "Import a second coder's sheet first (qualcode sheet import FILE --coder NAME).")
    with store.act("coder without codings"):
        store.ensure_coder("coder_x")
    with pytest.raises(QualcodeError) as e:
        ag.compute_agreement(store, ["coder_a", "coder_x"])
    assert str(e.value) == ("coder 'coder_x' has no codings yet; import their coding sheet first "
                            "(qualcode sheet import FILE --coder coder_x).")


def test_nominal_agreement(sample_store, tiny_codebook_factory):
    ids = tiny_codebook_factory(sample_store)
    segs = [s["id"] for s in sample_store.segments(group="F1", role="participant")][:30]
    values = {"a": ["pros", "cons", "coach"] * 10, "b": ["pros", "cons", "cons"] * 10}
    with sample_store.act("nominal"):
        for coder, vals in values.items():
            for sid, v in zip(segs, vals):
                sample_store.add_coding(sid, ids[v], coder)
    stats, n = ag.nominal_agreement(sample_store, ["a", "b"], ["pros", "cons", "coach"])
    assert n == 30
    assert stats["cohen"].value == pytest.approx(ag.cohen_kappa(values["a"], values["b"]))
    assert stats["fleiss"].value == pytest.approx(plain_fleiss([values["a"], values["b"]]))


def test_bootstrap_chunk_size_does_not_change_the_resamples():
    """Memory-bounded chunks (issue 10) draw the same resamples as large chunks."""
    import numpy as np

    from qualcode.agreement.measures import _bootstrap_sums

    feats = np.random.default_rng(3).random((500, 4, 3))
    big = np.concatenate(list(_bootstrap_sums(feats, 40, seed=11, chunk=250, budget_bytes=10**9)))
    small = np.concatenate(list(_bootstrap_sums(feats, 40, seed=11, chunk=250, budget_bytes=3 * 8 * 500 * 3)))
    assert big.shape == small.shape == (40, 4, 3)
    assert np.allclose(big, small)


def _pattern_case(seed: int = 5, m: int = 3, n: int = 400, g: int = 5):
    rng = np.random.default_rng(seed)
    x = (rng.random((m, n, g)) < 0.15).astype(np.int64)
    counts = np.stack([m - x.sum(0), x.sum(0)], axis=-1)
    per_unit = ag._unit_features(counts, m, None)
    patterns, inverse = np.unique(x.transpose(1, 0, 2).reshape(n, m * g), axis=0, return_inverse=True)
    xu = patterns.reshape(-1, m, g).transpose(1, 0, 2)
    pat = ag._unit_features(np.stack([m - xu.sum(0), xu.sum(0)], axis=-1), m, None)
    return per_unit, pat, inverse.reshape(-1)


def test_distinct_pattern_features_give_the_per_unit_estimates_and_intervals():
    """Working on distinct coder patterns (issue 10) gives the same point estimates as per-segment
    features, and intervals that agree within the bootstrap's own Monte Carlo error (the pattern
    path draws how often each pattern is resampled, from the same distribution)."""
    m = 3
    per_unit, pat, inverse = _pattern_case(m=m)
    assert pat.shape[0] < per_unit.shape[0]
    a = ag._estimates(per_unit, m, 2, 4000, 9)
    b = ag._estimates(pat, m, 2, 4000, 9, counts=np.bincount(inverse))
    for s in ag.STATISTICS:
        for ea, eb in zip(a[s], b[s]):
            assert ea.value == pytest.approx(eb.value, abs=1e-12, nan_ok=True)
            assert np.isfinite(ea.low) == np.isfinite(eb.low)
            if np.isfinite(ea.low):
                assert abs(ea.low - eb.low) < 0.03 and abs(ea.high - eb.high) < 0.03


def test_pattern_resample_weights_follow_the_unit_bootstrap():
    """Each resample draws n units in all; a pattern's draws average n x its share of the units and
    vary as a binomial, as when units are drawn one by one."""
    _, pat, inverse = _pattern_case()
    n = len(inverse)
    share = np.bincount(inverse, minlength=pat.shape[0]) / n
    ones = np.zeros((pat.shape[0], 1, 1))
    ones[:, 0, 0] = 1.0
    totals = np.concatenate(list(ag._bootstrap_sums(ones, 3000, seed=4, counts=np.bincount(inverse))))[:, 0, 0]
    assert np.all(totals == n)
    first = np.zeros_like(ones)
    top = int(np.argmax(share))
    first[top, 0, 0] = 1.0
    w = np.concatenate(list(ag._bootstrap_sums(first, 3000, seed=4, counts=np.bincount(inverse))))[:, 0, 0]
    p = share[top]
    assert w.mean() == pytest.approx(n * p, rel=0.02)
    assert w.var() == pytest.approx(n * p * (1 - p), rel=0.1)


def test_pattern_bootstrap_chunk_size_does_not_change_the_resamples():
    _, pat, inverse = _pattern_case()
    counts = np.bincount(inverse)
    big = np.concatenate(list(ag._bootstrap_sums(pat, 40, seed=11, budget_bytes=10**9, counts=counts)))
    small = np.concatenate(list(ag._bootstrap_sums(pat, 40, seed=11, budget_bytes=3 * 8 * pat.shape[0] * 3,
                                                   counts=counts)))
    assert big.shape == small.shape
    assert np.allclose(big, small)
