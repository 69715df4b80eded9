"""One `ingest` of many spreadsheet transcripts: time and peak memory at each size.

    python bench/ingest_batch.py [--n 100,1000] [--rows 400] [--format csv|xlsx] [--seed 1]

Writes N classroom transcripts (one table each: Speaker, Sentence; ~ROWS rows; speakers are
invented full names, one teacher per file as the moderator, about one row in 50 without a
speaker) into a temporary folder, then ingests them all in one call in a fresh process, the
way a teacher would:

    qualcode ingest *.csv --group-from filename --moderator NAME --allow-new-speakers

and prints wall time, rows per second and peak resident memory for each N, with the ratio
t(N) / t(previous N) (linear growth: about N / previous N). Nothing is written outside the
temporary folder.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIRST = ["Jan", "An", "Els", "Koen", "Sofie", "Pieter", "Lotte", "Wout", "Nele", "Bram", "Hanne", "Jens", "Lien",
         "Stijn", "Fien", "Ruben", "Marie", "Thijs", "Lore", "Arne"]
LAST = ["Peeters", "De Smet", "Vermeulen", "Janssens", "Maes", "Claes", "Wouters", "Goossens", "Mertens", "Willems",
        "Jacobs", "Dubois", "Lambrechts", "Van Damme", "De Backer"]
WORDS = ("ik denk dat werk voor mij vooral structuur geeft maar soms ook stress en dan is het goed dat er iemand "
         "is die meekijkt euh ja allez de begeleiding de school de stage het team de werkgever een collega "
         "vandaag morgen altijd nooit eigenlijk gewoon echt wel niet zo heel erg moeilijk makkelijk").split()
TEACHER = "Docent Hilde Van Damme"


def write_corpus(folder: Path, n: int, rows: int, fmt: str, seed: int) -> None:
    rnd = random.Random(seed)
    for i in range(1, n + 1):
        people = rnd.sample([f"{f} {l}" for f in FIRST for l in LAST], 6)
        table = [("Speaker", "Sentence")]
        for r in range(rows):
            if r % 50 == 49:
                who = ""
            elif r % 4 == 0:
                who = TEACHER
            else:
                who = rnd.choice(people)
            table.append((who, " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(6, 24))).capitalize() + "."))
        name = folder / f"klas_{i:04d}.{fmt}"
        if fmt == "csv":
            import csv

            with open(name, "w", newline="", encoding="utf-8") as fh:
                csv.writer(fh).writerows(table)
        else:
            import openpyxl

            wb = openpyxl.Workbook(write_only=True)
            ws = wb.create_sheet()
            for row in table:
                ws.append(list(row))
            wb.save(name)


def child(folder: str, project: str) -> None:
    """Run in a fresh process: one ingest of every file in ``folder``; print figures as JSON."""
    sys.path.insert(0, str(ROOT))
    t0 = time.perf_counter()
    from qualcode.ingest import ingest
    from qualcode.store import Store

    store = Store.create(project)
    files = sorted(str(p) for p in Path(folder).iterdir() if p.suffix in (".csv", ".xlsx"))
    report = ingest(store, files, group_from="filename", moderators=[TEACHER], allow_new_speakers=True,
                    names_file=str(Path(project).with_suffix(".names.csv")))
    store.close()
    seconds = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB on Linux
    print(json.dumps({"files": len(files), "segments": sum(s.segments for s in report.sources),
                      "speakers": len(report.speakers_created), "seconds": seconds, "peak_mib": rss}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", default="100,1000", help="comma-separated numbers of files")
    ap.add_argument("--rows", type=int, default=400, help="rows per file")
    ap.add_argument("--format", choices=["csv", "xlsx"], default="csv")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--child", nargs=2, metavar=("FOLDER", "PROJECT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return
    print(f"{'files':>6} {'rows':>8} {'segments':>9} {'seconds':>8} {'rows/s':>8} {'peak MiB':>9} {'t/t_prev':>9}")
    prev = None
    for n in (int(x) for x in args.n.split(",")):
        with tempfile.TemporaryDirectory(prefix="qualcode-batch-") as tmp:
            corpus = Path(tmp) / "corpus"
            corpus.mkdir()
            write_corpus(corpus, n, args.rows, args.format, args.seed)
            out = subprocess.run([sys.executable, __file__, "--child", str(corpus), str(Path(tmp) / "b.qualcode")],
                                 capture_output=True, text=True)
            if out.returncode != 0:
                raise SystemExit(out.stderr)
            fig = json.loads(out.stdout.strip().splitlines()[-1])
        ratio = f"{fig['seconds'] / prev:.2f}" if prev else "-"
        rows = n * args.rows
        print(f"{n:>6} {rows:>8} {fig['segments']:>9} {fig['seconds']:>8.1f} {rows / fig['seconds']:>8.0f} "
              f"{fig['peak_mib']:>9.0f} {ratio:>9}")
        prev = fig["seconds"]


if __name__ == "__main__":
    main()
