"""End-to-end pipeline timings against the floor, for growing corpora.

    python bench/pipeline.py --n 10,100,1000 [--stages ingest,autocode,...]

For each N it builds a fresh project from bench/make_corpus.py's corpus and runs, each
as a fresh process (so imports count, as for a user): ingest, autocode, suggest (fit on
the rule coder's codings of every group but F1, predict for F1), agreement (against a simulated second coder), workbook export and report.
Beside them it measures, in the same run on the same data, the floor:

* spaCy floor: a bare ``spacy.blank("nl")`` ``nlp.pipe`` pass over the same segment texts;
* xlsx floor: an openpyxl ``write_only`` dump of exactly the cells of the exported
  workbook, without styles.

It prints seconds, words per second and peak memory per stage, the ratio
qualcode / floor for ingest + autocode + workbook, and t(N) / t(previous N).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
STAGE = [sys.executable, str(ROOT / "bench" / "_stage.py")]
ALL_STAGES = ("ingest", "autocode", "suggest", "agreement", "workbook", "report")


def stage(tmp: Path, name: str, kind: str, *args: str) -> dict:
    res = tmp / f"{name}.json"
    proc = subprocess.run([*STAGE, str(res), kind, *args], capture_output=True, text=True)
    if proc.returncode != 0 or not res.exists():
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        print(f"  ! stage {name} failed: {' | '.join(tail)}", file=sys.stderr)
        return {"seconds": float("nan"), "peak_mb": float("nan"), "exit": proc.returncode}
    return json.loads(res.read_text())


def corpus(n: int) -> tuple[Path, int]:
    folder = OUT / f"corpus_{n}"
    if not (folder / "participants.csv").exists():
        subprocess.run([sys.executable, str(ROOT / "bench" / "make_corpus.py"), str(n), "--seed", "1"], check=True)
    words = sum(len(p.read_text(encoding="utf-8").split()) for p in folder.glob("F*.txt"))
    return folder, words


def run_n(n: int, stages: tuple[str, ...]) -> dict:
    folder, words = corpus(n)
    tmp = Path(tempfile.mkdtemp(prefix=f"qc-bench-{n}-"))
    project = str(tmp / "bench.qualcode")
    files = sorted(str(p) for p in folder.glob("F*.txt"))
    qc = ("qualcode", "-p", project)
    r: dict[str, dict] = {}
    init = subprocess.run([sys.executable, "-m", "qualcode", "-p", project, "init", "--codebook",
                           str(ROOT / "codebooks" / "ips.yaml")], capture_output=True, text=True)
    if init.returncode != 0:
        raise SystemExit(init.stderr)
    r["ingest"] = stage(tmp, "ingest", *qc, "ingest", *files, "--participants", str(folder / "participants.csv"))
    r["floor_spacy"] = stage(tmp, "floor_spacy", "floor-spacy", project)
    if "autocode" in stages:
        r["autocode"] = stage(tmp, "autocode", *qc, "autocode")
    if "suggest" in stages:
        # fit on every group but F1 (the rule coder's codings), predict for F1
        r["suggest"] = stage(tmp, "suggest", *qc, "suggest", "--coder", "rules", "--group", "F1", "--out",
                             str(tmp / "sugg.xlsx"))
    if "agreement" in stages:
        stage(tmp, "simulate", "simulate-coder", project, "coder_b", "7")
        r["agreement"] = stage(tmp, "agreement", *qc, "agreement", "--coders", "rules,coder_b", "--out",
                               str(tmp / "agreement.xlsx"))
    if "workbook" in stages:
        wb = str(tmp / "analysis.xlsx")
        r["workbook"] = stage(tmp, "workbook", *qc, "export", "workbook", wb)
        r["floor_xlsx"] = stage(tmp, "floor_xlsx", "floor-xlsx", wb)
    if "report" in stages:
        r["report"] = stage(tmp, "report", *qc, "report", "--format", "html", "--out", str(tmp / "report.html"))
    shutil.rmtree(tmp, ignore_errors=True)
    return {"n": n, "words": words, "stages": r}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", default="10,100", help="comma-separated corpus sizes (transcripts)")
    ap.add_argument("--stages", default=",".join(ALL_STAGES), help=f"subset of {','.join(ALL_STAGES)}")
    ap.add_argument("--json", type=Path, help="also write all figures to this JSON file")
    args = ap.parse_args()
    sizes = [int(x) for x in args.n.split(",")]
    stages = tuple(s for s in args.stages.split(",") if s)
    results = []
    for n in sizes:
        print(f"running N={n} …", file=sys.stderr, flush=True)
        results.append(run_n(n, stages))
    print_tables(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


def print_tables(results: list[dict]) -> None:
    names = ["ingest", "autocode", "suggest", "agreement", "workbook", "report", "floor_spacy", "floor_xlsx"]
    print(f"\n{'N':>5} {'words':>11}  {'stage':<12}{'seconds':>9}{'words/s':>12}{'peak MB':>9}")
    for res in results:
        for name in names:
            if name not in res["stages"]:
                continue
            s = res["stages"][name]
            wps = res["words"] / s["seconds"] if s["seconds"] and s["seconds"] == s["seconds"] else float("nan")
            print(f"{res['n']:>5} {res['words']:>11,}  {name:<12}{s['seconds']:>9.2f}{wps:>12,.0f}{s['peak_mb']:>9.0f}")
    print("\nqualcode / floor (ingest + autocode + workbook  vs  spaCy floor + xlsx floor)")
    print(f"{'N':>5}{'qualcode s':>12}{'floor s':>10}{'ratio':>8}   target <= 1.5 at N=100")
    for res in results:
        s = res["stages"]
        if not all(k in s for k in ("ingest", "autocode", "workbook", "floor_spacy", "floor_xlsx")):
            continue
        q = s["ingest"]["seconds"] + s["autocode"]["seconds"] + s["workbook"]["seconds"]
        f = s["floor_spacy"]["seconds"] + s["floor_xlsx"]["seconds"]
        print(f"{res['n']:>5}{q:>12.2f}{f:>10.2f}{q / f:>8.2f}")
    if len(results) > 1:
        print("\nscaling: t(N) / t(previous N) per stage (target t1000 / t100 <= 11); peak MB at largest N "
              "(target <= 1,500 at N=1000)")
        for prev, cur in zip(results, results[1:]):
            parts = []
            for name in names[:6]:
                if name in prev["stages"] and name in cur["stages"]:
                    a, b = prev["stages"][name]["seconds"], cur["stages"][name]["seconds"]
                    parts.append(f"{name} {b / a:.1f}x")
            print(f"  N {prev['n']} -> {cur['n']} (words x{cur['words'] / prev['words']:.1f}): " + ", ".join(parts))


if __name__ == "__main__":
    main()
