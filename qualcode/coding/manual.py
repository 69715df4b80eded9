"""Scripted manual coding: ``qualcode code SEGMENT_ID... CODE_ID`` and ``qualcode uncode``."""

from __future__ import annotations

from ..errors import NotFoundError
from ..store.core import serialised


def _resolve(store, segment_ids, code_id: str) -> tuple[list[int], dict]:
    code = store.code(code_id)  # unknown ids raise with close matches
    ids = []
    for s in segment_ids:
        text = str(s).lstrip("#")
        if not text.isdigit():
            raise NotFoundError(f"segment ids are numbers (see 'qualcode segments'), got '{s}'.")
        ids.append(store.segment(int(text))["id"])
    return ids, code


@serialised
def code_segments(store, segment_ids, code_id: str, *, coder: str) -> str:
    """Give segments a code (origin manual) in one act; returns a summary line."""
    ids, code = _resolve(store, segment_ids, code_id)
    with store.act("code", actor=coder, details={"code": code["key"], "segments": ids}) as act:
        new = sum(store.add_coding(i, code["id"], coder, "manual") for i in ids)
        act.summary = f"{code['key']} on {new} segment(s) by {coder}"
    had = len(ids) - new
    return f"coded {new} segment(s) with {code['key']} as {coder}" + (f" ({had} already had it)" if had else "")


@serialised
def uncode_segments(store, segment_ids, code_id: str, *, coder: str) -> str:
    """Remove this coder's coding of ``code_id`` from segments in one act; returns a summary line."""
    ids, code = _resolve(store, segment_ids, code_id)
    with store.act("uncode", actor=coder, details={"code": code["key"], "segments": ids}) as act:
        gone = sum(store.remove_coding(i, code["id"], coder) for i in ids)
        if not gone:  # raising inside the act rolls it back: no empty audit row
            raise NotFoundError(f"coder '{coder}' has no coding {code['key']} on segment(s) "
                                f"{', '.join(map(str, ids))}; nothing was removed.")
        act.summary = f"{code['key']} removed from {gone} segment(s) for {coder}"
    return f"removed {code['key']} from {gone} segment(s) for {coder}"
