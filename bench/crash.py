"""Crash safety: kill `qualcode ingest` and `qualcode sheet import` with SIGKILL at random moments.

    .venv/bin/python bench/crash.py [--trials 50] [--seed 1]

After every kill the project must open, pass ``PRAGMA integrity_check``, and hold the import
either completely or not at all. Prints, per command, how many trials ended with the import
absent, present, or broken (the last must be 0). tests/test_crash.py runs a few trials of the
same functions.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "transcripts_sample"
QUALCODE = [sys.executable, "-m", "qualcode"]


def _env() -> dict:
    return dict(os.environ, QUALCODE_CODER="tester",
                PYTHONPATH=os.pathsep.join([str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(
                    os.pathsep) if p]))


def counts(path: Path) -> dict:
    con = sqlite3.connect(path)
    try:
        q = lambda sql: con.execute(sql).fetchone()[0]  # noqa: E731
        return {"sources": q("SELECT COUNT(*) FROM sources"), "segments": q("SELECT COUNT(*) FROM segments"),
                "participants": q("SELECT COUNT(*) FROM participants"), "codings": q("SELECT COUNT(*) FROM codings"),
                "acts": q("SELECT COUNT(*) FROM audit_log")}
    finally:
        con.close()


def classify(got: dict, before: dict, after: dict) -> str:
    if got == before:
        return "absent"
    if got == after:
        return "present"
    return f"BROKEN: partial import {got} (before {before}, after {after})"


class Scenario:
    """A base project, a command that imports something, and the counts before and after."""

    name = ""

    def __init__(self, workdir: Path):
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.base = self.dir / f"{self.name}-base.qualcode"
        self.setup()
        self.before = counts(self.base)
        full = self.dir / f"{self.name}-full.qualcode"
        shutil.copy(self.base, full)
        t = time.perf_counter()
        res = subprocess.run(QUALCODE + ["-p", str(full)] + self.args(), capture_output=True, text=True,
                             env=_env(), cwd=self.dir, timeout=300)
        self.duration = time.perf_counter() - t
        if res.returncode != 0:
            raise RuntimeError(f"{self.name}: the uninterrupted run failed: {res.stderr}")
        self.after = counts(full)

    def setup(self) -> None:
        raise NotImplementedError

    def args(self) -> list[str]:
        raise NotImplementedError

    def trial(self, delay: float, n: int) -> str:
        """Run the command, SIGKILL it after ``delay`` seconds; return 'absent', 'present' or 'BROKEN: …'."""
        from qualcode.store import Store

        project = self.dir / f"{self.name}-trial{n}.qualcode"
        for suffix in ("", "-wal", "-shm"):
            Path(str(project) + suffix).unlink(missing_ok=True)
        shutil.copy(self.base, project)
        proc = subprocess.Popen(QUALCODE + ["-p", str(project)] + self.args(), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, env=_env(), cwd=self.dir)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        try:
            store = Store.open(project)
            ok = store.conn.execute("PRAGMA integrity_check").fetchone()[0]
            store.close()
        except Exception as exc:  # noqa: BLE001 - any failure to open is the finding
            return f"BROKEN: does not open ({exc})"
        if ok != "ok":
            return f"BROKEN: integrity_check says {ok}"
        got = counts(project)
        for suffix in ("", "-wal", "-shm"):
            Path(str(project) + suffix).unlink(missing_ok=True)
        return classify(got, self.before, self.after)

    def delays(self, rng: random.Random, n: int) -> list[float]:
        """Kill moments spread over the whole run, half of them in its last third (where it writes)."""
        d = self.duration
        return [rng.uniform(0.05, 1.0) * d if i % 2 else rng.uniform(0.8, 1.3) * d for i in range(n)]


class IngestScenario(Scenario):
    name = "ingest"
    split = "sentences"     # more work in the write phase; the tests use "turn" to stay quick

    def setup(self) -> None:
        from qualcode.store import Store

        Store.create(self.base).close()

    def args(self) -> list[str]:
        return ["ingest", *(str(SAMPLE / f"F{i}.txt") for i in (1, 2, 3)), "--participants",
                str(SAMPLE / "participants.csv"), "--split", self.split]


class SheetImportScenario(Scenario):
    name = "sheet-import"

    def setup(self) -> None:
        import openpyxl

        from qualcode.export.sheet import export_sheet
        from qualcode.ingest import ingest
        from qualcode.store import Store

        store = Store.create(self.base)
        ingest(store, [SAMPLE / f"F{i}.txt" for i in (1, 2, 3)], participants=str(SAMPLE / "participants.csv"))
        with store.act("codes"):
            t = store.add_theme("work", "Werk", "#E69F00")
            for key in ("pros", "cons", "coach"):
                store.add_code(key, key.title(), t)
        sheet = self.dir / "sheet.xlsx"
        export_sheet(store, str(sheet), coder="tester")
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        store.close()
        wb = openpyxl.load_workbook(sheet)
        ws = wb["Coding"]
        header = [c.value for c in ws[1]]
        col = header.index("code 1") + 1
        for r in range(2, ws.max_row + 1):
            ws.cell(r, col, ("pros", "cons", "coach")[r % 3])
        wb.save(sheet)
        self.sheet = sheet

    def args(self) -> list[str]:
        return ["sheet", "import", str(self.dir / "sheet.xlsx")]


SCENARIOS = {"ingest": IngestScenario, "sheet-import": SheetImportScenario}


def run(kind: str, workdir: Path, trials: int, seed: int) -> dict[str, int]:
    sc = SCENARIOS[kind](workdir)
    rng = random.Random(seed)
    tally: dict[str, int] = {}
    for n, delay in enumerate(sc.delays(rng, trials)):
        outcome = sc.trial(delay, n)
        key = outcome if not outcome.startswith("BROKEN") else "broken"
        tally[key] = tally.get(key, 0) + 1
        if key == "broken":
            print(f"  trial {n} (kill after {delay:.2f}s): {outcome}", file=sys.stderr)
    tally["_duration"] = round(sc.duration, 2)
    return tally


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=50, help="kills per command (default 50)")
    ap.add_argument("--seed", type=int, default=1, help="random seed of the kill moments")
    ap.add_argument("--workdir", default=None, help="scratch folder (default: a temporary one)")
    ns = ap.parse_args()
    import tempfile

    broken = 0
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(ns.workdir or tmp)
        for kind in SCENARIOS:
            t = run(kind, work / kind, ns.trials, ns.seed)
            broken += t.get("broken", 0)
            print(f"{kind}: {ns.trials} SIGKILLs (uninterrupted run {t['_duration']} s): "
                  f"absent {t.get('absent', 0)}, present {t.get('present', 0)}, broken {t.get('broken', 0)}")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
