"""Exclusive code sets (issue 20): the flag, the act that sets it, categorical agreement per set against
the reference packages, coding errors (two codes of one set), and the review check."""

from __future__ import annotations

import shutil
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from qualcode.agreement import measures as ag
from qualcode.errors import ConflictError, NotFoundError, QualcodeError
from qualcode.store import Store

SET = ("pros", "cons", "mixed")
CELLS = [(), ("pros",), ("cons",), ("mixed",), ("pros_money",), ("pros", "pros_money"), ("pros", "cons"),
         ("cons", "mixed")]
CODERS = ("c0", "c1", "c2", "c3")


def codebook_with_set(store, *, flag: bool = True) -> dict[str, int]:
    """Theme 'work' (pros with sub-code pros_money, cons, mixed), theme 'care' (coach with sub-codes)."""
    with store.act("test codebook"):
        t1 = store.add_theme("work", "Betaald werk", "#E69F00", exclusive=flag)
        t2 = store.add_theme("care", "Zorg en werk", "#56B4E9")
        ids = {k: store.add_code(k, k.title(), t1) for k in SET}
        ids["pros_money"] = store.add_code("pros_money", "Geld", t1, parent_id=ids["pros"])
        ids["coach"] = store.add_code("coach", "Jobcoach", t2)
        ids["coach_good"] = store.add_code("coach_good", "Goede coach", t2, parent_id=ids["coach"])
        ids["coach_bad"] = store.add_code("coach_bad", "Slechte coach", t2, parent_id=ids["coach"])
    return ids


def plain_fleiss(data) -> float:
    m = len(data)
    units = [u for u in zip(*data) if all(v is not None for v in u)]
    cats = sorted({v for u in units for v in u})
    p_bar = sum((sum(u.count(c) ** 2 for c in cats) - m) / (m * (m - 1)) for u in units) / len(units)
    p_e = sum((sum(u.count(c) for u in units) / (len(units) * m)) ** 2 for c in cats)
    return (p_bar - p_e) / (1 - p_e)


# ------------------------------------------------------------ sets
def test_exclusive_sets_fold_sub_codes_and_check_names(sample_store):
    codebook_with_set(sample_store)
    [work] = ag.exclusive_sets(sample_store)
    assert (work.key, work.kind, work.codes) == ("work", "theme", list(SET))
    assert work.fold == {"pros": "pros", "cons": "cons", "mixed": "mixed", "pros_money": "pros"}
    coach = ag.exclusive_sets(sample_store, ["coach"], flagged=False)
    assert [(x.key, x.kind, x.codes) for x in coach] == [("coach", "code", ["coach_good", "coach_bad"])]
    assert [x.key for x in ag.exclusive_sets(sample_store, ["Betaald werk", "coach"])] == ["work", "coach"]
    with pytest.raises(NotFoundError) as e:
        ag.exclusive_sets(sample_store, ["werk"])
    assert str(e.value) == ("no theme or parent code 'werk' to treat as an exclusive set. Did you mean: work? An "
                            "exclusive set is a theme (themes: work, care) or a code with sub-codes (pros, coach).")
    with pytest.raises(QualcodeError) as e:
        ag.exclusive_sets(sample_store, ["cons"])
    assert str(e.value) == ("code 'cons' has no sub-codes, so it cannot be an exclusive set; name its theme (work) "
                            "or a code with sub-codes (pros, coach).")
    with pytest.raises(QualcodeError) as e:
        ag.exclusive_sets(sample_store, ["pros"])
    assert str(e.value) == "code 'pros' has 1 sub-code; an exclusive set needs at least two mutually exclusive codes."


def test_set_exclusive_is_an_act_with_undo(sample_store):
    from qualcode.themes.retheme import set_exclusive

    ids = codebook_with_set(sample_store, flag=False)
    seg = [s["id"] for s in sample_store.segments(role="participant")][:3]
    with sample_store.act("codings"):
        sample_store.add_coding(seg[0], ids["coach_good"], "a")
        sample_store.add_coding(seg[0], ids["coach_bad"], "a")     # two of the set from one coder
        sample_store.add_coding(seg[1], ids["coach_good"], "a")
        sample_store.add_coding(seg[1], ids["coach_bad"], "b")     # different coders: no error
    r = set_exclusive(sample_store, "coach")
    assert r == {"key": "coach", "kind": "code", "codes": ["coach_good", "coach_bad"], "exclusive": True,
                 "double_coded": 1}
    assert sample_store.code("coach")["exclusive"] is True
    assert sample_store.history(1)[0]["command"] == "theme set-exclusive"
    with pytest.raises(ConflictError) as e:
        set_exclusive(sample_store, "coach")
    assert str(e.value) == "code 'coach' is already an exclusive set."
    sample_store.undo(1)
    assert sample_store.code("coach")["exclusive"] is False
    set_exclusive(sample_store, "work")
    assert set_exclusive(sample_store, "work", on=False)["exclusive"] is False
    assert sample_store.theme("work")["exclusive"] is False
    with pytest.raises(NotFoundError) as e:
        set_exclusive(sample_store, "work", on=False)
    assert str(e.value) == "'work' is not an exclusive set; exclusive sets: none."
    with pytest.raises(QualcodeError) as e:
        set_exclusive(sample_store, "care")
    assert str(e.value) == "theme 'care' has 1 code; an exclusive set needs at least two mutually exclusive codes."
    assert [h["command"] for h in sample_store.history(3)] == ["theme set-exclusive"] * 2 + ["undo"]


# ------------------------------------------------ against the references
@pytest.fixture(scope="module")
def set_project(_sample_project_file, tmp_path_factory):
    path = tmp_path_factory.mktemp("exclusive") / "p.qualcode"
    shutil.copy(_sample_project_file, path)
    store = Store.open(path)
    ids = codebook_with_set(store)
    f1 = [s["id"] for s in store.segments(group="F1", role="participant")]
    segs = f1[:30]
    with store.act("a coding outside the drawn segments, so that every coder has codings"):
        for c in CODERS:
            store.add_coding(f1[30], ids["coach"], c)
    for c in CODERS:
        ag.mark_done(store, c, ["F1.txt"])
    yield store, ids, segs
    store.close()


def _enter(store, ids, segs, data) -> None:
    with store.act("hypothesis codings"):
        for c in CODERS:
            store.remove_codings(segs, c, by="segment")
        for c, row in zip(CODERS, data):
            for sid, cell in zip(segs, row):
                for k in cell:
                    store.add_coding(sid, ids[k], c)


def _value(cell):
    folded = {"pros" if k == "pros_money" else k for k in cell}
    return ag.NONE if not folded else (next(iter(folded)) if len(folded) == 1 else None)


@st.composite
def set_codings(draw):
    m = draw(st.integers(2, 4))
    n = draw(st.integers(2, 30))
    return [draw(st.lists(st.sampled_from(range(len(CELLS))), min_size=n, max_size=n)) for _ in range(m)]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(set_codings())
@example([[1, 2, 6], [1, 5, 0]])          # pros + its sub-code is one category; a double code is missing
@example([[0, 0], [1, 1]])                # one coder applied nothing of the set: '(none)' disagrees
def test_set_figures_equal_the_reference_packages(set_project, data):
    import krippendorff
    from sklearn.metrics import cohen_kappa_score

    store, ids, segs = set_project
    cells = [[CELLS[i] for i in row] for row in data]
    _enter(store, ids, segs, cells)
    m, n = len(cells), len(cells[0])
    coders = list(CODERS[:m])
    used = [j for j in range(n) if any(row[j] for row in cells)]
    assume(used)
    labels = [[_value(row[j]) for j in used] for row in cells]
    rep = ag.compute_agreement(store, coders, codes=list(SET) + ["coach"], groups=["F1"], n_boot=0)
    [res] = rep.exclusive
    assert (res.key, res.codes, res.n_units) == ("work", list(SET), len(used))
    expected_double = sorted((segs[j], coders[i], [c for c in SET if c in {_value((k,)) for k in cells[i][j]}])
                             for i in range(m) for j in range(n) if _value(cells[i][j]) is None)
    assert sorted((d["segment_id"], d["coder"], d["codes"]) for d in res.double_coded) == expected_double
    values = sorted({v for row in labels for v in row if v is not None})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        arr = np.array([[np.nan if v is None else float(values.index(v)) for v in row] for row in labels])
        try:
            ref_alpha = krippendorff.alpha(reliability_data=arr, level_of_measurement="nominal")
        except (ValueError, ZeroDivisionError):
            ref_alpha = float("nan")
        if len(values) >= 2 and (np.sum(~np.isnan(arr), axis=0) >= 2).any():
            assert res.stats["alpha"].value == pytest.approx(ref_alpha, abs=1e-9, nan_ok=True)
        if m == 2:
            both = [(a, b) for a, b in zip(*labels) if a is not None and b is not None]
            if both:
                ref = cohen_kappa_score([a for a, _ in both], [b for _, b in both])
                assert res.stats["cohen"].value == pytest.approx(ref, abs=1e-9, nan_ok=True)
        else:
            assert np.isnan(res.stats["cohen"].value)
    complete = [u for u in zip(*labels) if None not in u]
    if complete and len({v for u in complete for v in u}) >= 2:
        assert res.stats["fleiss"].value == pytest.approx(plain_fleiss(labels), abs=1e-9)


def test_set_intervals_are_seeded_and_contain_the_value(set_project):
    store, ids, segs = set_project
    rng = np.random.default_rng(3)
    cells = [[CELLS[i] for i in rng.integers(1, 5, size=30)] for _ in range(3)]
    cells[1] = [c if rng.random() < 0.7 else CELLS[3] for c in cells[0]]
    _enter(store, ids, segs, cells)
    a = ag.compute_agreement(store, ["c0", "c1", "c2"], codes=list(SET), groups=["F1"], n_boot=300, seed=5)
    b = ag.compute_agreement(store, ["c0", "c1", "c2"], codes=list(SET), groups=["F1"], n_boot=300, seed=5)
    for s in ("fleiss", "alpha", "percent"):
        e = a.exclusive[0].stats[s]
        assert e.low <= e.value <= e.high and e.low < e.high
        assert (e.low, e.high) == (b.exclusive[0].stats[s].low, b.exclusive[0].stats[s].high)


def test_exclusive_on_request_and_no_set_without_its_codes(set_project):
    store, ids, segs = set_project
    cells = [[CELLS[1], ("coach_good",), ("coach_bad",)], [CELLS[1], ("coach_good",), ("coach_good",)]]
    _enter(store, ids, segs[:3], cells)
    rep = ag.compute_agreement(store, ["c0", "c1"], codes=["coach_good", "coach_bad"], groups=["F1"], n_boot=0,
                               exclusive=["coach"])
    assert [x.key for x in rep.exclusive] == ["coach"]          # 'work' is flagged but none of its codes compared
    [coach] = rep.exclusive
    assert coach.n_units == 2
    assert coach.stats["percent"].value == pytest.approx(0.5)
    assert not store.code("coach")["exclusive"]                 # the codebook is unchanged


# ------------------------------------------------------------ review
def test_review_flags_two_codes_of_an_exclusive_set(sample_store):
    from qualcode.themes.review import run_review

    ids = codebook_with_set(sample_store)
    segs = list(sample_store.segments(group="F2", role="participant"))[:2]
    with sample_store.act("codings"):
        sample_store.add_coding(segs[0]["id"], ids["pros_money"], "a")
        sample_store.add_coding(segs[0]["id"], ids["cons"], "a")
        sample_store.add_coding(segs[1]["id"], ids["pros"], "a")
        sample_store.add_coding(segs[1]["id"], ids["pros_money"], "a")   # one category: fine
        sample_store.add_coding(segs[1]["id"], ids["mixed"], "b")
    r = run_review(sample_store, remember=False)
    s = segs[0]
    assert r.exclusive == [{"set": "work", "kind": "theme", "segment_id": s["id"], "key": s["key"],
                            "source": "F2.txt", "coder": "a", "codes": ["pros", "cons"]}]
    [w] = r.by_check("exclusive")
    assert w.subject == "theme work"
    assert w.message == ("1 time(s) one coder gave a segment two or more of its mutually exclusive codes (pros, cons, "
                         f"mixed): #{s['id']} ({s['key']}, a: pros, cons).")
    assert w.command == "qualcode segments --source F2.txt --codes; qualcode uncode SEGMENT_ID CODE_ID --coder a"
    assert run_review(sample_store, coder="b", remember=False).exclusive == []


def test_theme_set_exclusive_command(sample_path, run):
    store = Store.open(sample_path)
    ids = codebook_with_set(store, flag=False)
    seg = next(store.segments(role="participant"))["id"]
    with store.act("codings"):
        store.add_coding(seg, ids["pros"], "a")
        store.add_coding(seg, ids["cons"], "a")
    store.close()
    r = run(sample_path, "theme", "set-exclusive", "work")
    assert r.exit_code == 0, r.output
    assert r.stdout == ("theme work is an exclusive set: pros, cons, mixed\n"
                        "1 segment(s) already carry two of its codes from one coder; 'qualcode review' lists them\n")
    assert run(sample_path, "theme", "set-exclusive", "coach").stdout == (
        "code coach is an exclusive set: coach_good, coach_bad\n")
    r = run(sample_path, "theme", "set-exclusive", "work")
    assert r.exit_code == 1 and r.stderr == "Error: theme 'work' is already an exclusive set.\n"
    assert run(sample_path, "undo").exit_code == 0                      # coach again not exclusive
    assert run(sample_path, "theme", "set-exclusive", "work", "--off").stdout == (
        "theme work is no longer an exclusive set\n")
    r = run(sample_path, "theme", "set-exclusive", "coach", "--off")
    assert r.exit_code == 1 and r.stderr == "Error: 'coach' is not an exclusive set; exclusive sets: none.\n"
    store = Store.open(sample_path)
    assert not store.theme("work")["exclusive"] and not store.code("coach")["exclusive"]
    store.close()
