"""Crash safety: kill every writing command with SIGKILL at random moments.

    .venv/bin/python bench/crash.py [--trials 50] [--seed 1] [--only NAME ...]

Commands: ingest, sheet import, export workbook, report (docx), import refi into a new project,
theme merge, undo, pseudonymise (with --mapping-out) and backup restore. After every kill:

* the project opens and passes ``PRAGMA integrity_check``, and holds the act either completely or
  not at all ('absent' / 'present');
* every output file is complete (it opens with the library that reads it) or absent, and an
  output that existed before the run is either unchanged or replaced by a complete one;
* no file is left in the run's temporary folder (TMPDIR) or beside the outputs, except
  qualcode's own hidden temporary names, which are counted as 'leftover' (the next run of the
  same command removes them);
* every backup that ``qualcode backup list`` shows opens and passes the integrity check.

Prints a table: per command, trials ending absent, present, with a leftover, or broken (the last
must be 0). tests/test_crash.py runs a few trials of the same scenarios.
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
                "acts": q("SELECT COUNT(*) FROM audit_log"), "themes": q("SELECT COUNT(*) FROM themes"),
                "codes": q("SELECT COUNT(*) FROM codes"), "undone": q("SELECT COUNT(undone_at) FROM audit_log"),
                "text": q("SELECT group_concat(sha256, ',') FROM (SELECT sha256 FROM sources ORDER BY id)")}
    finally:
        con.close()


def classify(got: dict, before: dict, after: dict) -> str:
    if got == before:
        return "absent"
    if got == after:
        return "present"
    return f"BROKEN: partial import {got} (before {before}, after {after})"


QUALCODE_NOTES = ("-wal", "-shm", "-lock", "-writer")


def is_qualcode_temp(name: str) -> bool:
    """qualcode's own temporary names: hidden, ending in .part or .tmp (removed by the next run)."""
    return name.startswith(".") and (".part" in name or name.endswith(".tmp"))


class Scenario:
    """A base project, a command that changes it or writes outputs, and the state before and after.

    Subclasses set ``name``, ``outputs`` (files the command writes, relative to its folder),
    ``creates_project`` (the command makes the project: import refi) and write ``setup`` (make
    ``self.base`` and the inputs in ``self.dir``) and ``args``. ``old_outputs`` puts an earlier
    version of each output in place before the command runs, to check it survives a kill."""

    name = ""
    outputs: tuple[str, ...] = ()
    creates_project = False
    old_outputs = True
    PROJECT = "project.qualcode"

    def __init__(self, workdir: Path):
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.base = self.dir / f"{self.name}-base.qualcode"
        self.setup()
        self.before = None if self.creates_project else counts(self.base)
        run = self._prepare("full")
        t = time.perf_counter()
        res = subprocess.run(QUALCODE + ["-p", self.PROJECT] + self.args(), capture_output=True, text=True,
                             env=self._env(run), cwd=run, timeout=600)
        self.duration = time.perf_counter() - t
        if res.returncode != 0:
            raise RuntimeError(f"{self.name}: the uninterrupted run failed: {res.stderr}")
        self.after = counts(run / self.PROJECT)
        for out in self.outputs:
            if not self.complete(run / out):
                raise RuntimeError(f"{self.name}: the uninterrupted run wrote an incomplete {out}")

    def setup(self) -> None:
        raise NotImplementedError

    def args(self) -> list[str]:
        raise NotImplementedError

    def complete(self, path: Path) -> bool:
        """Does the output at ``path`` open fully with the library that reads it?"""
        try:
            if path.suffix == ".xlsx":
                import openpyxl

                wb = openpyxl.load_workbook(path, read_only=True)
                for ws in wb.worksheets:
                    for _ in ws.iter_rows(values_only=True):
                        pass
                wb.close()
            elif path.suffix == ".docx":
                import docx

                docx.Document(str(path))
            elif path.suffix == ".csv":
                text = path.read_text(encoding="utf-8")
                return text.startswith("placeholder,") and text.endswith("\n")
            else:
                return path.stat().st_size > 0
        except Exception:  # noqa: BLE001 - any failure to read is the finding
            return False
        return True

    def _env(self, run: Path) -> dict:
        tmp = run / "tmp"
        tmp.mkdir(exist_ok=True)
        return dict(_env(), TMPDIR=str(tmp), TEMP=str(tmp), TMP=str(tmp))

    def _prepare(self, label: str) -> Path:
        run = self.dir / label
        if run.exists():
            shutil.rmtree(run)
        run.mkdir()
        if not self.creates_project:
            shutil.copy(self.base, run / self.PROJECT)
            backups = Path(str(self.base) + ".backups")
            if backups.exists():
                shutil.copytree(backups, run / (self.PROJECT + ".backups"))
        if self.old_outputs:
            for out in self.outputs:
                old = self.dir / ("old" + Path(out).suffix)
                if old.exists():
                    shutil.copy(old, run / out)
        return run

    def trial(self, delay: float, n: int) -> str:
        """Run the command, SIGKILL it after ``delay`` seconds; return 'absent', 'present',
        '... + leftover' or 'BROKEN: …'."""
        from qualcode.store import Store

        run = self._prepare(f"trial{n}")
        olds = {out: (run / out).read_bytes() for out in self.outputs if (run / out).exists()}
        proc = subprocess.Popen(QUALCODE + ["-p", self.PROJECT] + self.args(), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, env=self._env(run), cwd=run)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        project = run / self.PROJECT
        leftovers = []
        if self.creates_project and not project.exists():
            outcome = "absent"
        else:
            try:
                store = Store.open(project)
                ok = store.conn.execute("PRAGMA integrity_check").fetchone()[0]
                backups = store.backups()
                store.close()
            except Exception as exc:  # noqa: BLE001 - any failure to open is the finding
                return f"BROKEN: does not open ({exc})"
            if ok != "ok":
                return f"BROKEN: integrity_check says {ok}"
            for b in backups:
                try:
                    con = sqlite3.connect(b.resolve().as_uri() + "?mode=ro", uri=True)
                    bad = con.execute("PRAGMA integrity_check").fetchone()[0] != "ok"
                    con.close()
                except sqlite3.DatabaseError:
                    bad = True
                if bad:
                    return f"BROKEN: backup list shows {b.name}, which is not a whole project"
            outcome = classify(counts(project), self.before or {}, self.after)
            if outcome.startswith("BROKEN"):
                return outcome
        for out in self.outputs:
            path = run / out
            if path.exists() and not self.complete(path):
                if olds.get(out) != path.read_bytes():
                    return f"BROKEN: {out} is neither the earlier file nor complete"
        expected = {self.PROJECT, "tmp", *self.outputs, *self.inputs()}
        for p in run.rglob("*"):
            rel = p.relative_to(run)
            top = rel.parts[0]
            if top == "tmp":
                if p.is_file():
                    return f"BROKEN: temporary file {rel} left in TMPDIR"
                continue
            if top in expected or top == self.PROJECT + ".backups" or any(
                    top == self.PROJECT + x for x in QUALCODE_NOTES):
                if p.is_file() and is_qualcode_temp(p.name):
                    leftovers.append(str(rel))
                continue
            if is_qualcode_temp(top):
                leftovers.append(str(rel))
                continue
            return f"BROKEN: unexpected file {rel} left behind"
        problem = self.check(run, outcome)
        if problem:
            return f"BROKEN: {problem}"
        shutil.rmtree(run, ignore_errors=True)
        return outcome + (" + leftover" if leftovers else "")

    def inputs(self) -> tuple[str, ...]:
        return ()

    def check(self, run: Path, outcome: str) -> str:
        """A scenario's own check after a kill: '' when fine, else what is wrong."""
        return ""

    def delays(self, rng: random.Random, n: int) -> list[float]:
        """Kill moments spread over the whole run, half of them in its last third (where it writes)."""
        d = self.duration
        return [rng.uniform(0.05, 1.0) * d if i % 2 else rng.uniform(0.8, 1.3) * d for i in range(n)]


def _sample_project(path: Path, *, autocode: bool = True) -> None:
    """The three sample focus groups with the shipped codebook (and its rule codings)."""
    from qualcode.codebook.yamlfile import apply_codebook, load_codebook
    from qualcode.ingest import ingest
    from qualcode.store import Store

    store = Store.create(path)
    apply_codebook(store, load_codebook(ROOT / "codebooks" / "ips.yaml"))
    ingest(store, [SAMPLE / f"F{i}.txt" for i in (1, 2, 3)], participants=str(SAMPLE / "participants.csv"))
    if autocode:
        from qualcode.coding.autocode import autocode as run_rules

        run_rules(store)
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()


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

        from qualcode.excel.coding_sheet import export_sheet
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


class WorkbookScenario(Scenario):
    name = "export-workbook"
    outputs = ("analysis.xlsx",)

    def setup(self) -> None:
        _sample_project(self.base)
        # an earlier workbook at the output path, which a kill must leave whole
        subprocess.run(QUALCODE + ["-p", str(self.base), "export", "workbook", str(self.dir / "old.xlsx")],
                       check=True, capture_output=True, env=_env())

    def args(self) -> list[str]:
        return ["export", "workbook", "analysis.xlsx", "--force"]


class ReportScenario(Scenario):
    name = "report"
    outputs = ("report.docx",)

    def setup(self) -> None:
        _sample_project(self.base)
        subprocess.run(QUALCODE + ["-p", str(self.base), "report", "--format", "docx", "--out",
                                   str(self.dir / "old.docx")], check=True, capture_output=True, env=_env())

    def args(self) -> list[str]:
        return ["report", "--format", "docx", "--out", "report.docx", "--force"]


class RefiImportScenario(Scenario):
    name = "import-refi"
    creates_project = True

    def setup(self) -> None:
        _sample_project(self.base)
        subprocess.run(QUALCODE + ["-p", str(self.base), "export", "refi", str(self.dir / "study.qdpx")],
                       check=True, capture_output=True, env=_env())

    def args(self) -> list[str]:
        return ["import", "refi", str(self.dir / "study.qdpx")]


class ThemeMergeScenario(Scenario):
    name = "theme-merge"

    def setup(self) -> None:
        _sample_project(self.base)

    def args(self) -> list[str]:
        return ["theme", "merge", "support", "collaboration"]


class UndoScenario(Scenario):
    name = "undo"

    def setup(self) -> None:
        _sample_project(self.base)
        subprocess.run(QUALCODE + ["-p", str(self.base), "code", "merge", "co_afremmen_herval", "co_werk_bij_intake"],
                       check=True, capture_output=True, env=_env())

    def args(self) -> list[str]:
        return ["undo"]


class PseudonymiseScenario(Scenario):
    name = "pseudonymise"
    outputs = ("key.csv",)
    old_outputs = False

    def setup(self) -> None:
        _sample_project(self.base)
        (self.dir / "names.csv").write_text("name\nJan\nAn\nMarleen\nPeeters\n", encoding="utf-8")

    def args(self) -> list[str]:
        return ["pseudonymise", "--names", str(self.dir / "names.csv"), "--mapping-out", "key.csv"]

    def check(self, run: Path, outcome: str) -> str:
        # the key is written before the act commits: a committed pseudonymisation always has it
        if outcome.startswith("present") and not self.complete(run / "key.csv"):
            return "the texts were pseudonymised but the key file is missing or incomplete"
        return ""


class RestoreScenario(Scenario):
    name = "backup-restore"

    def setup(self) -> None:
        _sample_project(self.base, autocode=False)
        from qualcode.store import Store

        store = Store.open(self.base)
        store.backup("before-autocode")
        from qualcode.coding.autocode import autocode as run_rules

        run_rules(store)
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        store.close()

    def args(self) -> list[str]:
        return ["backup", "restore", "2"]


SCENARIOS = {"ingest": IngestScenario, "sheet-import": SheetImportScenario, "export-workbook": WorkbookScenario,
             "report": ReportScenario, "import-refi": RefiImportScenario, "theme-merge": ThemeMergeScenario,
             "undo": UndoScenario, "pseudonymise": PseudonymiseScenario, "backup-restore": RestoreScenario}


def run(kind: str, workdir: Path, trials: int, seed: int) -> dict[str, int]:
    sc = SCENARIOS[kind](workdir)
    rng = random.Random(seed)
    tally: dict[str, int] = {}
    for n, delay in enumerate(sc.delays(rng, trials)):
        outcome = sc.trial(delay, n)
        key = outcome if not outcome.startswith("BROKEN") else "broken"
        tally[key] = tally.get(key, 0) + 1
        if key == "broken":
            print(f"  {kind} trial {n} (kill after {delay:.2f}s): {outcome}", file=sys.stderr)
    tally["_duration"] = round(sc.duration, 2)
    return tally


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=50, help="kills per command (default 50)")
    ap.add_argument("--seed", type=int, default=1, help="random seed of the kill moments")
    ap.add_argument("--workdir", default=None, help="scratch folder (default: a temporary one)")
    ap.add_argument("--only", nargs="*", choices=list(SCENARIOS), help="only these commands")
    ns = ap.parse_args()
    import tempfile

    broken = 0
    print(f"| command | SIGKILLs | run (s) | absent | present | with leftover | broken |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(ns.workdir or tmp)
        for kind in ns.only or SCENARIOS:
            t = run(kind, work / kind, ns.trials, ns.seed)
            broken += t.get("broken", 0)
            left = sum(v for k, v in t.items() if k.endswith("leftover"))
            absent = t.get("absent", 0) + t.get("absent + leftover", 0)
            present = t.get("present", 0) + t.get("present + leftover", 0)
            print(f"| {kind} | {ns.trials} | {t['_duration']} | {absent} | {present} | {left} | "
                  f"{t.get('broken', 0)} |", flush=True)
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
