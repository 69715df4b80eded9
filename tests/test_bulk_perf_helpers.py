"""Helpers behind the bulk-load speed-ups (issue 10): time-ordered GUIDs and the paused collector."""

from __future__ import annotations

import gc
import re
import subprocess
import sys
import uuid

import pytest

from qualcode.files.bulk import gc_paused
from qualcode.store.core import new_guid

# the GUID pattern of the REFI-QDA schema
REFI_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def test_new_guids_are_version_7_uuids_in_creation_order():
    guids = [new_guid() for _ in range(20_000)]
    assert len(set(guids)) == len(guids)
    assert guids == sorted(guids)
    for g in guids[:50] + guids[-50:]:
        assert REFI_GUID.fullmatch(g)
        u = uuid.UUID(g)
        assert str(u) == g
        assert (u.version, u.variant) == (7, uuid.RFC_4122)


def test_guid_carries_the_time_of_creation():
    import time

    before = time.time_ns() // 1_000_000
    g = new_guid()
    after = time.time_ns() // 1_000_000
    assert before <= uuid.UUID(g).int >> 80 <= after


def test_guids_of_separate_processes_differ():
    code = "from qualcode.store.core import new_guid; print('\\n'.join(new_guid() for _ in range(2000)))"
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
            for _ in range(3)]
    everything = [g for run in runs for g in run]
    assert len(everything) == 6000 and len(set(everything)) == 6000


def test_gc_paused_pauses_and_restores_the_collector():
    seen = []

    @gc_paused
    def work(fail: bool):
        seen.append(gc.isenabled())
        if fail:
            raise ValueError("boom")
        return 42

    assert gc.isenabled()
    assert work(False) == 42
    assert seen == [False] and gc.isenabled()
    with pytest.raises(ValueError):
        work(True)
    assert seen == [False, False] and gc.isenabled()
    # a caller that had paused it already keeps it paused
    gc.disable()
    try:
        work(False)
        assert not gc.isenabled()
    finally:
        gc.enable()
