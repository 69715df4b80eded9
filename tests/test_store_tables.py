"""The store's table modules: the one way to remove codings, re-coding with duplicates collapsed, and
the rule that every store module says in one line what it holds."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import qualcode.store

STORE_DIR = Path(qualcode.store.__file__).parent


@pytest.fixture
def coded(sample_store, tiny_codebook_factory):
    """Two participant segments: on the first, ann has pros (whole) and pros on a fragment, bob has
    pros and cons (whole); on the second, ann has cons (whole)."""
    store = sample_store
    ids = tiny_codebook_factory(store)
    s1, s2 = [s for s in store.segments(role="participant") if len(s["text"]) > 20][:2]
    frag = (s1["start"] + 2, s1["start"] + 10)
    with store.act("test codings"):
        store.add_coding(s1["id"], ids["pros"], "ann")
        store.add_coding(s1["id"], ids["pros"], "ann", span=frag)
        store.add_coding(s1["id"], ids["pros"], "bob")
        store.add_coding(s1["id"], ids["cons"], "bob")
        store.add_coding(s2["id"], ids["cons"], "ann")
    return store, ids, s1, s2, frag


def held(store) -> set[tuple]:
    """Every coding as (segment id, code key, coder, start or None)."""
    return {(c["segment_id"], c["code"], c["coder"], c["start"] if c["fragment"] else None)
            for c in store.codings()}


def test_remove_by_segment_and_code_takes_whole_and_fragment_of_one_coder(coded):
    store, ids, s1, s2, frag = coded
    before = held(store)
    with store.act("t"):
        assert store.remove_codings([(s1["id"], ids["pros"])], "ann") == 2
    assert before - held(store) == {(s1["id"], "pros", "ann", None), (s1["id"], "pros", "ann", frag[0])}


def test_remove_by_span_takes_only_that_span(coded):
    store, ids, s1, s2, frag = coded
    before = held(store)
    with store.act("t"):
        assert store.remove_codings([(s1["id"], ids["pros"], frag)], "ann", by="span") == 1
    assert before - held(store) == {(s1["id"], "pros", "ann", frag[0])}
    with store.act("t"):  # None is the whole-segment coding only
        assert store.remove_codings([(s1["id"], ids["pros"], None)], "ann", by="span") == 1
    assert before - held(store) == {(s1["id"], "pros", "ann", frag[0]), (s1["id"], "pros", "ann", None)}


def test_the_segments_own_span_is_the_whole_segment(coded):
    store, ids, s1, s2, frag = coded
    with store.act("t"):
        assert store.remove_codings([(s1["id"], ids["pros"], (s1["start"], s1["end"]))], "bob", by="span") == 1
    assert (s1["id"], "pros", "bob", None) not in held(store)
    assert (s1["id"], "pros", "ann", None) in held(store)  # another coder's is left alone


def test_remove_by_segment_code_and_coding_id(coded):
    store, ids, s1, s2, frag = coded
    with store.act("t"):
        assert store.remove_codings([s1["id"]], "bob", by="segment") == 2
    assert {c for c in held(store) if c[2] == "bob"} == set()
    with store.act("t"):  # any coder's
        assert store.remove_codings([ids["cons"]], by="code") == 1
    assert held(store) == {(s1["id"], "pros", "ann", None), (s1["id"], "pros", "ann", frag[0])}
    one = store.codings(coder="ann")[0]["id"]
    with store.act("t"):
        assert store.remove_codings([one], by="coding") == 1
        assert store.remove_codings([one], by="coding") == 0
    assert len(held(store)) == 1


def test_an_unknown_way_to_remove_is_refused(coded):
    store = coded[0]
    with pytest.raises(ValueError, match="by must be one of segment_code, span, segment, code, coding, not 'theme'"):
        store.remove_codings([1], by="theme")


def test_removing_is_undone_exactly(coded):
    store, ids, s1, s2, frag = coded
    before = held(store)
    with store.act("remove"):
        store.remove_codings([s1["id"], s2["id"]], by="segment")
    assert held(store) == set()
    store.undo()
    assert held(store) == before


def test_a_removed_code_leaves_its_codings_on_the_holding_code_once(coded):
    store, ids, s1, s2, frag = coded
    with store.act("t"):
        holding = store.ensure_holding_code("_removed", "Removed", "#999999")
        store.add_coding(s1["id"], holding, "bob")  # bob's pros on s1 would be a duplicate of this one
        moved = store.remove_code_keeping_codings(ids["pros"], holding)
    assert moved == 2  # ann's whole and ann's fragment; bob's collapsed into the one he had
    assert {c for c in held(store) if c[1] == "_removed"} == {
        (s1["id"], "_removed", "ann", None), (s1["id"], "_removed", "ann", frag[0]), (s1["id"], "_removed", "bob", None)}
    assert "pros" not in store.code_ids()


def test_merging_codes_collapses_duplicates_but_keeps_a_fragment(coded):
    store, ids, s1, s2, frag = coded
    with store.act("t"):
        store.add_coding(s1["id"], ids["cons"], "ann")  # ann now has cons and pros on s1, whole
        moved, collapsed = store.move_codings(ids["pros"], ids["cons"])
    assert (moved, collapsed) == (1, 2)  # ann's fragment moves; the two whole-segment pros were duplicates
    assert {c for c in held(store) if c[0] == s1["id"]} == {
        (s1["id"], "cons", "ann", None), (s1["id"], "cons", "ann", frag[0]), (s1["id"], "cons", "bob", None)}


def test_every_store_module_says_in_one_line_what_it_holds():
    for path in sorted(STORE_DIR.glob("*.py")):
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
        assert doc, f"{path.name} has no docstring"
        first = doc.splitlines()[0]
        assert first.endswith(".") and len(first) <= 110, f"{path.name}: {first!r}"


def test_no_store_text_names_an_issue_number():
    for path in sorted(STORE_DIR.glob("*.py")):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\bissue\s*#?\d+|\(#\d+\)", text, re.IGNORECASE), path.name
