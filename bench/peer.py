"""qualcode against a peer tool: import a coded 100-transcript project and summarise it.

    python bench/peer.py [--n 100] [--runs 3]

The peer is `qc` from the `qualitative-coding` package on PyPI (installed by this script
into bench/out/qc-venv when missing; it is not a qualcode dependency). Both tools get the
same REFI-QDA project (bench/make_corpus.py's corpus, ingested and autocoded by qualcode,
exported with `qualcode export refi`) and do the same job:

* qc:       `qc init --import corpus.qdpx`        then `qc codes stats --by-document`
* qualcode: `qualcode import refi corpus.qdpx`    then `qualcode counts --by source`

Each step runs as a fresh process; the script prints the median of the runs, the ratio
peer / qualcode, and checks that both tools report the same number of coded units.

qualcode's export carries qualcode's GUIDs, which are time-ordered (version 7), and that makes
storing them cheap. Files from other tools carry random (version 4) GUIDs; ``--random-guids``
gives every element of the project a new random GUID first (consistently, sources included), to
measure that case too.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
QC_VENV = OUT / "qc-venv"
QUALCODE = [sys.executable, "-m", "qualcode"]


def ensure_qc() -> Path | None:
    qc = QC_VENV / "bin" / "qc"
    if qc.exists():
        return qc
    print("installing qualitative-coding into bench/out/qc-venv …", file=sys.stderr)
    try:
        subprocess.run([sys.executable, "-m", "venv", str(QC_VENV)], check=True)
        subprocess.run([str(QC_VENV / "bin" / "pip"), "install", "--quiet", "qualitative-coding"], check=True,
                       stderr=subprocess.DEVNULL)
    except subprocess.CalledProcessError as exc:
        print(f"qualitative-coding does not install here ({exc}); no peer comparison.", file=sys.stderr)
        return None
    return qc if qc.exists() else None


def build_qdpx(n: int) -> Path:
    qdpx = OUT / f"peer_{n}.qdpx"
    if qdpx.exists():
        return qdpx
    corpus = OUT / f"corpus_{n}"
    if not (corpus / "participants.csv").exists():
        subprocess.run([sys.executable, str(ROOT / "bench" / "make_corpus.py"), str(n), "--seed", "1"], check=True)
    with tempfile.TemporaryDirectory() as tmp:
        p = str(Path(tmp) / "src.qualcode")
        files = sorted(str(x) for x in corpus.glob("F*.txt"))
        for args in (["init", "--codebook", str(ROOT / "codebooks" / "ips.yaml")],
                     ["ingest", *files, "--participants", str(corpus / "participants.csv")],
                     ["autocode"], ["export", "refi", str(qdpx)]):
            subprocess.run([*QUALCODE, "-p", p, *args], check=True, capture_output=True)
    return qdpx


def random_guids(qdpx: Path) -> Path:
    """A copy of ``qdpx`` with every GUID replaced by a random one (the same one wherever it occurs)."""
    import re
    import uuid
    import zipfile

    out = qdpx.with_name(qdpx.stem + "_random_guids.qdpx")
    if out.exists():
        return out
    pattern = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
    mapping: dict[str, str] = {}

    def swap(m: re.Match) -> str:
        key = m.group(0).lower()
        if key not in mapping:
            mapping[key] = str(uuid.uuid4())
        return mapping[key]

    with zipfile.ZipFile(qdpx) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            name = pattern.sub(swap, info.filename)
            if info.filename.endswith(".qde"):
                data = pattern.sub(swap, data.decode("utf-8")).encode("utf-8")
            dst.writestr(name, data)
    return out


def timed(cmd: list[str], cwd: str) -> tuple[float, str]:
    t0 = time.perf_counter()
    r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env={**os.environ, "COLUMNS": "200", "PYTHONBREAKPOINT": "0"})
    dt = time.perf_counter() - t0
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{r.stderr[-2000:]}")
    return dt, r.stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--random-guids", action="store_true",
                    help="replace every GUID with a random (version 4) one, as in files from other tools")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    qc = ensure_qc()
    if qc is None:
        return
    qdpx = build_qdpx(args.n)
    if args.random_guids:
        qdpx = random_guids(qdpx)
    rows = {"qc import": [], "qc summary": [], "qualcode import": [], "qualcode summary": []}
    qc_total = qualcode_total = None
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            dt, _ = timed([str(qc), "init", "--import", str(qdpx)], tmp)
            rows["qc import"].append(dt)
            dt, out = timed([str(qc), "codes", "stats", "--by-document", "--format", "tsv"], tmp)
            rows["qc summary"].append(dt)
            qc_total = _qc_total(out)
        with tempfile.TemporaryDirectory() as tmp:
            p = str(Path(tmp) / "peer.qualcode")
            dt, _ = timed([*QUALCODE, "-p", p, "import", "refi", str(qdpx)], tmp)
            rows["qualcode import"].append(dt)
            dt, out = timed([*QUALCODE, "-p", p, "counts", "--by", "source", "--csv"], tmp)
            rows["qualcode summary"].append(dt)
            qualcode_total = sum(int(r.rsplit(",", 1)[1]) for r in out.strip().splitlines()[1:])
    med = {k: statistics.median(v) for k, v in rows.items()}
    print(f"import + summary of a coded {args.n}-transcript REFI-QDA project ({qdpx.stat().st_size / 1e6:.1f} MB), "
          f"median of {args.runs} runs, fresh processes")
    print(f"{'step':<20}{'qc s':>10}{'qualcode s':>12}")
    print(f"{'import':<20}{med['qc import']:>10.2f}{med['qualcode import']:>12.2f}")
    print(f"{'summary':<20}{med['qc summary']:>10.2f}{med['qualcode summary']:>12.2f}")
    tq = med["qc import"] + med["qc summary"]
    tc = med["qualcode import"] + med["qualcode summary"]
    print(f"{'total':<20}{tq:>10.2f}{tc:>12.2f}")
    print(f"ratio qc / qualcode: {tq / tc:.1f}x (target >= 5x)")
    print(f"coded units reported: qc {qc_total}, qualcode {qualcode_total}"
          + ("" if qc_total == qualcode_total else "  (they count different units; see the note in bench/README)"))


def _qc_total(out: str) -> int | None:
    """Sum the count column of qc's tsv stats output (None when its format is unexpected)."""
    total = 0
    found = False
    for line in out.strip().splitlines()[1:]:
        parts = line.split("\t")
        try:
            total += int(parts[-1])
            found = True
        except (ValueError, IndexError):
            continue
    return total if found else None


if __name__ == "__main__":
    main()
