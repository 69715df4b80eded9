"""Interactive speed: every user command on the demo project, as a student runs them one at a time.

    python bench/interactive.py [--runs 5] [--demo-runs 1] [--only overview,kwic] [--skip-demo] [--demo-calls]

Builds the demo project exactly as `make demo` does (the Makefile's own steps, run with this
Python's environment in bench/out/interactive/, so reports/ of the checkout is left alone), then
times each command as a fresh process (median of --runs) next to `python -c "import pandas"`
measured in the same run, and prints seconds and the ratio to that import. The last row is the
whole demo after installation (`make demo` minus creating .venv), timed --demo-runs times. With
--demo-calls the demo is run once more at the end, each of its qualcode calls timed by a wrapper given
to the Makefile as QC, and each call's seconds are printed (where the demo's time goes).

Targets (issue 24): overview, review, kwic, export workbook, report, autocode --dry-run and
discover <= 2.5x the pandas import; suggest --evaluate <= 6x; the demo <= 30x.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / "out" / "interactive"
BIN = Path(sys.executable).parent
PROJECT = "reports/ips-demo.qualcode"

# (label, arguments after `qualcode -p PROJECT`, target ratio or None)
COMMANDS: list[tuple[str, list[str], float | None]] = [
    ("status", ["status"], None),
    ("segments", ["segments", "--group", "F2", "--participant", "P2", "--limit", "3"], None),
    ("kwic", ["kwic", "werk*", "--limit", "20"], 2.5),
    ("overview", ["overview"], 2.5),
    ("overview --out .xlsx", ["overview", "--out", "reports/b-overview.xlsx", "--force"], 2.5),
    ("autocode --dry-run", ["autocode", "--dry-run"], 2.5),
    ("history", ["history", "--limit", "9"], None),
    ("theme list", ["theme", "list"], None),
    ("code rename", ["code", "rename", "pw_inactiviteitsval", "Inactiviteitsval (bench)"], None),
    ("undo", ["undo"], None),
    ("memo list", ["memo", "list"], None),
    ("counts", ["counts", "--by", "group"], None),
    ("review", ["review"], 2.5),
    ("review --out .xlsx", ["review", "--out", "reports/b-review.xlsx", "--force"], 2.5),
    ("suggest --evaluate", ["suggest", "--evaluate", "--coder", "rules"], 6.0),
    ("suggest --evaluate (plain)", ["suggest", "--evaluate", "--coder", "rules", "--semantic", "off"], 6.0),
    ("suggest --group F3", ["suggest", "--coder", "rules", "--group", "F3", "--out", "reports/b-sugg.xlsx",
                            "--force"], None),
    ("discover", ["discover", "--n", "8"], 2.5),
    ("sheet export", ["sheet", "export", "reports/b-coding.xlsx", "--coder", "rules", "--force"], None),
    ("agreement", ["agreement", "--coders", "coder_a,coder_b", "--groups", "F1"], None),
    ("export workbook", ["export", "workbook", "reports/b-analysis.xlsx", "--force"], 2.5),
    ("report html", ["report", "--format", "html", "--out", "reports/b-report.html", "--force"], 2.5),
    ("report docx", ["report", "--format", "docx", "--out", "reports/b-report.docx", "--force"], 2.5),
    ("report md", ["report", "--format", "md", "--out", "reports/b-report.md", "--force"], 2.5),
    ("report html,docx,md", ["report", "--format", "html,docx,md", "--out", "reports/b-report3.html", "--force"],
     2.5),
    # the same with the figures drawn every time (the project's figure cache emptied before each run)
    ("report html (draws)", ["report", "--format", "html", "--out", "reports/b-report.html", "--force"], 2.5),
    ("report html,docx,md (draws)", ["report", "--format", "html,docx,md", "--out", "reports/b-report3.html",
                                     "--force"], 2.5),
    ("export refi", ["export", "refi", "reports/b-ips.qdpx", "--force"], None),
]
DEMO_TARGET = 30.0
FORGET_FIGURES = ("import sqlite3, sys\ncon = sqlite3.connect(sys.argv[1])\n"
                  "try:\n    con.execute('DELETE FROM figure_cache')\n    con.commit()\n"
                  "except sqlite3.OperationalError:\n    pass  # a qualcode without the figure cache\n")


def _env() -> dict:
    env = dict(os.environ)
    # as on a student's machine, Python keeps compiled modules: pip compiled pandas' when installing it,
    # and qualcode's are written on the first run (a shell with PYTHONDONTWRITEBYTECODE set would make
    # every qualcode process compile its modules again while pandas reads its compiled ones)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["QUALCODE_CODER"] = env.get("QUALCODE_CODER", "student")
    return env


def _make_demo(quiet: bool = True) -> float:
    """Run the Makefile's demo steps (not the venv step) in WORK; returns the seconds taken."""
    if WORK.exists():
        shutil.rmtree(WORK)
    WORK.mkdir(parents=True)
    for name in ("codebooks", "transcripts_sample", "bench"):
        (WORK / name).symlink_to(ROOT / name)
    cmd = ["make", "-s", "-f", str(ROOT / "Makefile"), "-o", f"{BIN}/.installed", f"BIN={BIN}", "demo"]
    t0 = time.perf_counter()
    r = subprocess.run(cmd, cwd=WORK, env=_env(), capture_output=quiet, text=True)
    took = time.perf_counter() - t0
    if r.returncode:
        raise SystemExit(f"the demo failed:\n{r.stdout if quiet else ''}\n{r.stderr if quiet else ''}")
    return took


# The Makefile's QC for --demo-calls: runs qualcode and appends "seconds<TAB>arguments" to the log.
TIMED_QC = ("import subprocess, sys, time\n"
            "t0 = time.perf_counter()\n"
            "rc = subprocess.call([sys.argv[1], *sys.argv[3:]])\n"
            "with open(sys.argv[2], 'a', encoding='utf-8') as log:\n"
            "    log.write(f'{time.perf_counter() - t0:.3f}\\t' + ' '.join(sys.argv[5:]) + '\\n')\n"
            "sys.exit(rc)\n")


def _demo_calls() -> list[tuple[float, str]]:
    """Run the demo once more in WORK with every qualcode call timed; (seconds, arguments) in order."""
    shutil.rmtree(WORK / "reports", ignore_errors=True)
    (WORK / "timed_qc.py").write_text(TIMED_QC, encoding="utf-8")
    log = WORK / "demo-calls.log"
    log.unlink(missing_ok=True)
    qc = " ".join(shlex.quote(str(a)) for a in (sys.executable, WORK / "timed_qc.py", BIN / "qualcode", log, "-p",
                                                 PROJECT))
    cmd = ["make", "-s", "-f", str(ROOT / "Makefile"), "-o", f"{BIN}/.installed", f"BIN={BIN}", f"QC={qc}", "demo"]
    r = subprocess.run(cmd, cwd=WORK, env=_env(), capture_output=True, text=True)
    if r.returncode:
        raise SystemExit(f"the timed demo failed:\n{r.stdout}\n{r.stderr}")
    rows = []
    for line in log.read_text(encoding="utf-8").splitlines():
        seconds, _, args = line.partition("\t")
        rows.append((float(seconds), args))
    return rows


PANDAS = [sys.executable, "-c", "import pandas"]


def _timed(cmd: list[str], runs: int, after: list[str] | None = None, before: list[str] | None = None,
           reference: list[float] | None = None) -> list[float]:
    """Seconds of ``runs`` fresh processes of ``cmd``; with ``reference``, a `python -c "import pandas"`
    run is timed just before each one and appended to it, so a row's ratio compares runs made under the
    same load of a shared machine."""
    times = []
    for _ in range(runs):
        if reference is not None:
            t0 = time.perf_counter()
            subprocess.run(PANDAS, capture_output=True, check=True, env=_env())
            reference.append(time.perf_counter() - t0)
        if before:
            subprocess.run(before, cwd=WORK, env=_env(), capture_output=True, check=True)
        t0 = time.perf_counter()
        r = subprocess.run(cmd, cwd=WORK, env=_env(), capture_output=True, text=True)
        times.append(time.perf_counter() - t0)
        if r.returncode:
            raise SystemExit(f"{' '.join(cmd)} failed:\n{r.stderr}")
        if after:
            subprocess.run(after, cwd=WORK, env=_env(), capture_output=True, check=True)
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5, help="fresh processes per command (median reported)")
    ap.add_argument("--demo-runs", type=int, default=1, help="times the whole demo is run (median reported)")
    ap.add_argument("--only", action="append", default=[],
                    help="label of a command to time (repeatable; a value that is no label is read as "
                         "comma-separated labels); default all")
    ap.add_argument("--skip-demo", action="store_true",
                    help="reuse the demo project left in bench/out/interactive by an earlier run")
    ap.add_argument("--demo-calls", action="store_true",
                    help="at the end, run the demo once more with each qualcode call timed and print each "
                         "call's seconds")
    args = ap.parse_args()
    demo_times: list[float] = []
    demo_pandas: list[float] = []   # the pandas import timed just before and after each demo run
    WORK.mkdir(parents=True, exist_ok=True)  # the reference timings run in it before the first demo
    if not args.skip_demo or not (WORK / PROJECT).exists():
        for _ in range(max(args.demo_runs, 1)):
            demo_pandas += _timed(PANDAS, 3)
            demo_times.append(_make_demo())
            demo_pandas += _timed(PANDAS, 3)
    qc = [str(BIN / "qualcode"), "-p", PROJECT]
    pandas_all = _timed(PANDAS, args.runs)
    pandas = statistics.median(pandas_all)
    labels = {label for label, _, _ in COMMANDS}
    only = {o.strip() for o in args.only if o.strip() in labels}
    only |= {p.strip() for o in args.only if o.strip() not in labels for p in o.split(",") if p.strip()}
    print(f"demo project (3 transcripts), median of {args.runs} fresh processes; ratio = median seconds / median "
          f"of `python -c \"import pandas\"` timed alternately with the command's runs (column 'pandas s')")
    print(f"{'command':<28}{'median s':>9}{'min s':>8}{'max s':>8}{'pandas s':>9}{'ratio':>8}{'target':>8}  verdict")
    print(f"{'python -c import pandas':<28}{pandas:>9.2f}{min(pandas_all):>8.2f}{max(pandas_all):>8.2f}"
          f"{pandas:>9.2f}{1.0:>8.2f}", flush=True)
    for label, argv, target in COMMANDS:
        if only and label not in only:
            continue
        # a command that changes the project is undone after each run (untimed); undo redoes one first
        rename = qc + ["code", "rename", "pw_inactiviteitsval", "Inactiviteitsval (bench)"]
        forget = [sys.executable, "-c", FORGET_FIGURES, str(WORK / PROJECT)]
        ref: list[float] = []
        try:
            times = _timed(qc + argv, args.runs, after=qc + ["undo"] if label == "code rename" else None,
                           before=rename if label == "undo" else forget if "(draws)" in label else None,
                           reference=ref)
        except (SystemExit, subprocess.CalledProcessError) as exc:  # e.g. an option this version lacks
            print(f"{label[:28]:<28}  failed: {str(exc).strip().splitlines()[-1]}", flush=True)
            continue
        pandas_all += ref
        med, ref_med = statistics.median(times), statistics.median(ref)
        ratio = med / ref_med
        verdict = "" if target is None else ("ok" if ratio <= target else "OVER")
        tgt = "" if target is None else f"{target:.1f}x"
        print(f"{label[:28]:<28}{med:>9.2f}{min(times):>8.2f}{max(times):>8.2f}{ref_med:>9.2f}{ratio:>8.2f}{tgt:>8}"
              f"  {verdict}", flush=True)
    pandas = statistics.median(pandas_all)
    print(f"(python -c \"import pandas\" over the whole run: median {pandas:.2f} s, min {min(pandas_all):.2f}, "
          f"max {max(pandas_all):.2f} s; the spread is the noise of the shared machine)")
    if demo_times:
        med, ref_med = statistics.median(demo_times), statistics.median(demo_pandas)
        ratio = med / ref_med
        print(f"{'demo (after install)':<28}{med:>9.1f}{min(demo_times):>8.1f}{max(demo_times):>8.1f}{ref_med:>9.2f}"
              f"{ratio:>8.1f}{DEMO_TARGET:>7.0f}x  {'ok' if ratio <= DEMO_TARGET else 'OVER'}  (pandas timed just "
              "before and after the demo)")
    if args.demo_calls:
        rows = _demo_calls()
        print(f"\nthe demo's qualcode calls in one more run: {len(rows)} calls, {sum(t for t, _ in rows):.1f} s")
        for t, call in rows:
            print(f"{t:>7.2f}  {call[:90]}")


if __name__ == "__main__":
    main()
