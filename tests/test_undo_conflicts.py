"""Undo refuses, changing nothing, when a later act depends on the undone one through a unique key
rather than through the same row (found by the property test in test_undo_themes.py)."""

import pytest

from qualcode.themes import retheme as T
from qualcode.errors import ConflictError


def _tables(store):
    out = {}
    for t in ("themes", "codes", "codings", "memos", "audit_log"):
        out[t] = [tuple(r) for r in store.conn.execute(f"SELECT * FROM {t} ORDER BY 1")]
    return out


def test_undo_of_a_split_refuses_when_a_later_merge_reused_the_coding(sample_store, tiny_codebook_factory):
    store = sample_store
    codes = tiny_codebook_factory(store)
    seg = next(store.segments(role="participant"))["id"]
    with store.act("coding"):
        store.add_codings([(seg, codes["pros"])], "ann", "manual")
        store.add_codings([(seg, codes["cons"])], "ann", "manual")
    # 1: move ann's 'pros' coding of the segment to a new code
    T.split_code(store, "pros", "pros_part", "Voordelen (deel)", segment_ids=[seg])
    split_id = store.history(1)[0]["id"]
    # 2: merge 'cons' into 'pros': the segment gets a 'pros' coding again, as a different row
    T.merge_codes(store, "cons", "pros", backup=False)
    before = _tables(store)
    with pytest.raises(ConflictError) as err:
        store.undo(audit_id=split_id)
    assert str(err.value).startswith(f"cannot undo #{split_id} (code split): a later act made rows that clash")
    assert _tables(store) == before
    # undoing in order still restores everything
    store.undo(2)
    assert {(c["segment_id"], c["code"]) for c in store.codings(coder="ann")} == {(seg, "pros"), (seg, "cons")}
