"""Crash safety: a few SIGKILL trials of `qualcode ingest` and `qualcode sheet import` (bench/crash.py
runs 50 of each). After each kill the project opens, passes PRAGMA integrity_check, and holds the
import completely or not at all."""

from __future__ import annotations

import importlib.util
import random
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location(
    "crash_bench", Path(__file__).resolve().parent.parent / "bench" / "crash.py")
crash = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(crash)

TRIALS = 3


class QuickIngest(crash.IngestScenario):
    split = "turn"


@pytest.mark.slow
@pytest.mark.parametrize("scenario", [QuickIngest, crash.SheetImportScenario], ids=["ingest", "sheet-import"])
def test_sigkill_leaves_import_all_or_nothing(scenario, tmp_path):
    sc = scenario(tmp_path)
    assert sc.after != sc.before            # the uninterrupted run does import something
    rng = random.Random(11)
    outcomes = [sc.trial(delay, n) for n, delay in enumerate(sc.delays(rng, TRIALS))]
    assert all(o in ("absent", "present") for o in outcomes), outcomes


@pytest.mark.slow
@pytest.mark.parametrize("scenario", [crash.WorkbookScenario, crash.RefiImportScenario, crash.PseudonymiseScenario,
                                      crash.RestoreScenario],
                         ids=["export-workbook", "import-refi", "pseudonymise", "backup-restore"])
def test_sigkill_leaves_outputs_whole_and_no_temporary_file_with_text(scenario, tmp_path):
    """bench/crash.py runs 20 or more of each; here two kills each, at seeded moments."""
    sc = scenario(tmp_path)
    rng = random.Random(5)
    outcomes = [sc.trial(delay, n) for n, delay in enumerate(sc.delays(rng, 2))]
    assert all(o.split(" + ")[0] in ("absent", "present") for o in outcomes), outcomes


def test_classify_detects_a_partial_import():
    before, after = {"sources": 0, "segments": 0}, {"sources": 3, "segments": 90}
    assert crash.classify(dict(before), before, after) == "absent"
    assert crash.classify(dict(after), before, after) == "present"
    assert crash.classify({"sources": 3, "segments": 40}, before, after).startswith("BROKEN: partial import")
