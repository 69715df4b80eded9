"""Property: any sequence of re-theming acts, then undo of all of them, gives back the exact start."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from qualcode.themes import retheme as T
from qualcode.errors import QualcodeError
from qualcode.store import Store
try:  # tests/ may or may not be a package
    from tests.test_themes_helpers import build_project, dump
except ImportError:  # pragma: no cover
    from test_themes_helpers import build_project, dump

OPS = ("theme_add", "theme_rename", "theme_merge", "theme_split", "move_code", "define", "set_status",
       "code_rename", "code_merge", "code_split", "memo")


def _start(path: Path) -> Store:
    store = Store.create(path, language="nl")
    store.conn.execute("PRAGMA synchronous = OFF")  # durability is not what these tests are about
    segs = build_project(store)
    from tests.helpers import tiny_codebook

    codes = tiny_codebook(store)
    ids = list(segs)
    with store.act("start codings"):
        store.add_codings([(ids[i], codes[c]) for i, c in
                           [(0, "pros"), (1, "cons"), (2, "coach"), (3, "intake"), (4, "pros"), (5, "coach"),
                            (6, "cons"), (7, "pros")]], "ann", "manual")
        store.add_codings([(ids[i], codes[c]) for i, c in
                           [(0, "pros"), (0, "cons"), (1, "cons"), (5, "intake"), (6, "pros")]], "bob", "rule")
        T.define_theme(store, "care", definition="Zorg en werk.", key_messages=["Samen werken."])
        store.add_memo("code", codes["coach"], "jobcoach-memo", "ann")
    return store


def _apply(store, op: str, a: int, b: int, n: int) -> bool:
    themes = [t["key"] for t in store.themes()]
    codes = [c["key"] for c in store.codes()]
    th = lambda i: themes[i % len(themes)]  # noqa: E731
    cd = lambda i: codes[i % len(codes)]  # noqa: E731
    try:
        if op == "theme_add":
            T.add_theme(store, f"t{n}", f"Thema {n}")
        elif op == "theme_rename":
            T.rename_theme(store, th(a), f"Naam {n}", key=f"r{n}" if b % 2 else None)
        elif op == "theme_merge":
            T.merge_themes(store, th(a), th(b), backup=False)
        elif op == "theme_split":
            T.split_theme(store, th(a), [c["key"] for c in store.codes(th(a))][:1 + b % 2], f"s{n}", f"Split {n}")
        elif op == "move_code":
            T.move_code(store, cd(a), th(b))
        elif op == "define":
            T.define_theme(store, th(a), definition=f"def {n}", key_messages=[f"km {n}", f"km {b}"], add=bool(b % 2))
        elif op == "set_status":
            T.set_status(store, th(a), T.STATUSES[b % 4], back=True)
        elif op == "code_rename":
            T.rename_code(store, cd(a), f"Code {n}", key=f"c{n}" if b % 2 else None)
        elif op == "code_merge":
            T.merge_codes(store, cd(a), cd(b), backup=False)
        elif op == "code_split":
            T.split_code(store, cd(a), f"k{n}", f"Split {n}", contains="werk" if b % 2 else "e")
        elif op == "memo":
            T.add_memo(store, f"theme:{th(a)}", f"memo {n}", author="ann")
    except QualcodeError:
        return False  # refused: must have changed nothing
    return True


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, 7), st.integers(0, 7)), min_size=1, max_size=12))
def test_undo_all_restores_exact_start(steps):
    with tempfile.TemporaryDirectory() as tmp:
        store = _start(Path(tmp) / "p.qualcode")
        try:
            start = dump(store)
            done = 0
            for n, (op, a, b) in enumerate(steps):
                before = dump(store)
                if _apply(store, op, a, b, n):
                    done += 1
                else:
                    assert dump(store) == before
            if done:
                undone = T.undo(store, done)
                assert len(undone) == done
            assert dump(store) == start
            assert store.conn.execute("PRAGMA foreign_key_check").fetchall() == []
        finally:
            store.close()


def test_undo_one_merge_restores_codings(tmp_path):
    store = _start(tmp_path / "p.qualcode")
    start = dump(store)
    T.merge_codes(store, "cons", "pros")
    assert dump(store) != start
    assert [p.name.split("-", 2)[-1] for p in store.backups()] == ["before-code-merge.qualcode"]
    T.undo(store, 1)
    assert dump(store) == start
    assert [p.name.split("-", 2)[-1] for p in store.backups()][-1] == "before-undo.qualcode"
    store.close()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, 7), st.integers(0, 7)), min_size=2, max_size=8),
       st.integers(0, 7))
def test_undo_of_one_earlier_act_is_exact_or_refused(steps, pick):
    """Undoing one act out of order either refuses (changing nothing) or leaves a consistent project that
    the remaining undos take back to the start."""
    from qualcode.errors import ConflictError

    with tempfile.TemporaryDirectory() as tmp:
        store = _start(Path(tmp) / "p.qualcode")
        try:
            start = dump(store)
            first = store.history(1)[0]["id"] + 1
            for n, (op, a, b) in enumerate(steps):
                _apply(store, op, a, b, n)
            standing = [a for a in store.undoable_acts() if a["id"] >= first]
            if not standing:
                return
            target = standing[pick % len(standing)]["id"]
            before = dump(store)
            try:
                store.undo(audit_id=target)
            except ConflictError as exc:
                assert str(exc).startswith(f"cannot undo #{target} (")
                assert dump(store) == before
            assert store.conn.execute("PRAGMA foreign_key_check").fetchall() == []
            rest = len([a for a in store.undoable_acts() if a["id"] >= first])
            if rest:
                store.undo(rest)
            assert dump(store) == start
        finally:
            store.close()


def test_undo_refuses_removing_a_theme_a_later_act_moved_codes_into(tmp_path):
    store = _start(tmp_path / "p.qualcode")
    T.add_theme(store, "stigma", "Stigma")
    add_id = store.history(1)[0]["id"]
    T.move_code(store, "intake", "stigma")
    move_id = store.history(1)[0]["id"]
    before = dump(store)
    from qualcode.errors import ConflictError
    import pytest

    with pytest.raises(ConflictError) as e:
        store.undo(audit_id=add_id)
    assert str(e.value) == (f"cannot undo #{add_id} (theme add): later act #{move_id} (theme move-code: moved code "
                            "intake from care to stigma) depends on it. Undo #{move_id} first.".replace(
                                "#{move_id}", f"#{move_id}"))
    assert dump(store) == before
    store.close()


# ------------------------------------------------------- out-of-order undo never strands a project
STEP = st.one_of(
    st.tuples(st.sampled_from(OPS), st.integers(0, 7), st.integers(0, 7)),
    st.tuples(st.just("undo_one"), st.integers(0, 7), st.just(0)),
)


def _run_then_undo_everything(steps) -> None:
    """Apply ``steps`` (re-theming acts and out-of-order undos of one earlier act, each either done or
    refused); then undoing every act still standing must succeed and give back the exact start."""
    from qualcode.errors import ConflictError

    with tempfile.TemporaryDirectory() as tmp:
        store = _start(Path(tmp) / "p.qualcode")
        try:
            start = dump(store)
            first = store.history(1)[0]["id"] + 1
            for n, (op, a, b) in enumerate(steps):
                if op != "undo_one":
                    _apply(store, op, a, b, n)
                    continue
                standing = [x for x in store.undoable_acts() if x["id"] >= first]
                if not standing:
                    continue
                target = standing[a % len(standing)]["id"]
                before = dump(store)
                try:
                    store.undo(audit_id=target)
                except ConflictError as exc:
                    # a refusal names a real, standing act, never the undo that was rolled back
                    assert dump(store) == before
                    named = [int(x) for x in __import__("re").findall(r"Undo #(\d+) first", str(exc))]
                    ids = {x["id"] for x in store.undoable_acts()}
                    assert all(i in ids for i in named), (str(exc), ids)
                assert store.conn.execute("PRAGMA foreign_key_check").fetchall() == []
            rest = len([x for x in store.undoable_acts() if x["id"] >= first])
            if rest:
                store.undo(rest)
            assert dump(store) == start
        finally:
            store.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(STEP, min_size=2, max_size=10))
@example([("theme_add", 0, 0), ("move_code", 3, 2), ("code_merge", 3, 0), ("undo_one", 2, 0)])
def test_out_of_order_undos_never_strand_the_project(steps):
    _run_then_undo_everything(steps)


def test_undo_of_a_theme_whose_moved_code_was_merged_away_is_refused(tmp_path):
    """Regression: a theme added, a code moved into it, that code merged into another. Undoing the
    theme add used to succeed (nothing referred to the theme any more), after which undoing the merge
    was refused for ever, naming the undo act that was running ('Undo #7 first')."""
    from qualcode.errors import ConflictError
    import pytest

    store = _start(tmp_path / "p.qualcode")
    start = dump(store)
    T.add_theme(store, "stigma", "Stigma")
    add_id = store.history(1)[0]["id"]
    T.move_code(store, "intake", "stigma")
    move_id = store.history(1)[0]["id"]
    T.merge_codes(store, "intake", "pros", backup=False)
    before = dump(store)
    with pytest.raises(ConflictError) as e:
        store.undo(audit_id=add_id)
    assert str(e.value) == (f"cannot undo #{add_id} (theme add): later act #{move_id} (theme move-code: moved code "
                            f"intake from care to stigma) depends on it. Undo #{move_id} first.")
    assert dump(store) == before
    assert len(store.undo(3)) == 3
    assert dump(store) == start
    store.close()
