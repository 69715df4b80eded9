"""Start-up latency of everyday commands, each as a separate process.

    python bench/startup.py [--n 100] [--runs 7]

Builds (once) a project from bench/make_corpus.py's N-transcript corpus, then times
`qualcode --help`, `qualcode status` and `qualcode segments --group F1` as fresh
processes (median and max of several runs) against the targets of the performance
issue (help <= 0.3 s, status <= 0.5 s).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
QC = [sys.executable, "-m", "qualcode"]
QC_BIN = Path(sys.executable).parent / "qualcode"


def ensure_project(n: int) -> Path:
    corpus = OUT / f"corpus_{n}"
    if not (corpus / "participants.csv").exists():
        subprocess.run([sys.executable, str(ROOT / "bench" / "make_corpus.py"), str(n), "--seed", "1"], check=True)
    project = OUT / f"startup_{n}.qualcode"
    if not project.exists():
        subprocess.run([str(QC_BIN), "-p", str(project), "init", "--codebook", str(ROOT / "codebooks" / "ips.yaml")],
                       check=True, capture_output=True)
        files = sorted(str(p) for p in corpus.glob("F*.txt"))
        subprocess.run([str(QC_BIN), "-p", str(project), "ingest", *files, "--participants",
                        str(corpus / "participants.csv")], check=True, capture_output=True)
        subprocess.run([str(QC_BIN), "-p", str(project), "autocode"], check=True, capture_output=True)
    return project


def timed(cmd: list[str], runs: int) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        r = subprocess.run(cmd, capture_output=True)
        times.append(time.perf_counter() - t0)
        if r.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed:\n{r.stderr.decode()}")
    return statistics.median(times), max(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100, help="transcripts in the project")
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    project = ensure_project(args.n)
    rows = [
        ("qualcode --help", [str(QC_BIN), "--help"], 0.3),
        ("qualcode status", [str(QC_BIN), "-p", str(project), "status"], 0.5),
        ("qualcode segments --group F1", [str(QC_BIN), "-p", str(project), "segments", "--group", "F1"], None),
    ]
    base_med, _ = timed([sys.executable, "-c", "pass"], args.runs)
    print(f"start-up times on a {args.n}-transcript project ({args.runs} runs each, fresh processes)")
    print(f"{'command':<32}{'median s':>10}{'max s':>8}{'target s':>10}  verdict")
    print(f"{'(bare python -c pass)':<32}{base_med:>10.3f}")
    for label, cmd, target in rows:
        med, mx = timed(cmd, args.runs)
        verdict = "" if target is None else ("ok" if med <= target else "OVER TARGET")
        tgt = "" if target is None else f"{target:.2f}"
        print(f"{label:<32}{med:>10.3f}{mx:>8.3f}{tgt:>10}  {verdict}")


if __name__ == "__main__":
    main()
