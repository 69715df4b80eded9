"""Server-side time of the web workspace's pages on a large project.

    python bench/web.py [--n 100] [--turns 400] [--runs 20]

Builds (once, in bench/out/web_N/) a project of N synthetic focus groups of --turns turns each from
bench/make_corpus.py's generator, codes it as a busy project looks (every other participant turn
coded whole by the rules coder, every third one with two overlapping fragments by a student, one
open suggestion in five, a memo in ten), then asks the workspace's application for one
transcript's reading page, the theme board, the history and the transcript list through
Starlette's test client (the same request a browser makes, without the network), --runs times each,
and prints the median and the slowest time per page in milliseconds, and the page's size.
The target (issue 21): a 400-turn transcript page renders in under 200 ms on a 100-transcript
project. Not a test: no test asserts a time.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def build(path: Path, n: int, turns: int) -> None:
    from make_corpus import make

    from qualcode.codebook.yamlfile import apply_codebook, load_codebook
    from qualcode.ingest import ingest
    from qualcode.store import Store

    corpus = path.parent / "corpus"
    make(n, 1, corpus, words_per_transcript=turns * 14, turns=turns)
    part = path.parent / ".building.qualcode"
    for leftover in path.parent.glob(".building.qualcode*"):
        leftover.unlink()
    rng = random.Random(7)
    with Store.create(part, language="nl") as store:
        apply_codebook(store, load_codebook(ROOT / "codebooks" / "ips.yaml"), source="ips.yaml")
        ingest(store, sorted(str(p) for p in corpus.glob("F*.txt")), participants=str(corpus / "participants.csv"))
        codes = [c["id"] for c in store.codes()]
        segs = [s for s in store.segments(role="participant")]
        with store.act("bench codings"):
            store.add_codings(((s["id"], rng.choice(codes)) for s in segs[::2]), "rules", "rule")
            for s in segs[::3]:
                if s["end"] - s["start"] < 30:
                    continue
                a = s["start"] + rng.randrange(0, (s["end"] - s["start"]) // 2)
                store.add_coding(s["id"], rng.choice(codes), "student", "manual", span=(a, min(a + 40, s["end"])))
                store.add_coding(s["id"], rng.choice(codes), "student", "manual",
                                 span=(a + 10, min(a + 80, s["end"])))
            store.add_suggestions(((s["id"], rng.choice(codes), 0.7, "werk") for s in segs[1::5]),
                                  coder="student", source="model")
            for s in segs[::10]:
                store.add_memo("segment", s["id"], "Opvallend.", "student")
    part.rename(path)
    for suffix in ("-wal", "-shm"):
        Path(str(part) + suffix).unlink(missing_ok=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100, help="transcripts in the project")
    ap.add_argument("--turns", type=int, default=400, help="turns per transcript")
    ap.add_argument("--runs", type=int, default=20, help="requests per page")
    args = ap.parse_args()

    from starlette.testclient import TestClient

    from qualcode.store import Store
    from qualcode.web.app import create_app

    folder = ROOT / "bench" / "out" / f"web_{args.n}x{args.turns}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "web.qualcode"
    if not path.exists():
        t0 = time.perf_counter()
        build(path, args.n, args.turns)
        print(f"built {path} in {time.perf_counter() - t0:.0f} s")
    with Store.open(path) as store:
        sources = store.sources()
        middle = sources[len(sources) // 2]
        n_codings = store.count_codings()
    app = create_app(path, coder="student")
    client = TestClient(app, base_url="http://127.0.0.1:8765")
    client.get(f"/?token={app.state.workspace.token}")
    print(f"project: {len(sources)} transcripts, {n_codings} codings; page {middle['name']}: "
          f"{middle['n_segments']} segments")
    print(f"{'page':<28}{'median ms':>10}{'max ms':>10}{'kB':>8}")
    for label, url in ((f"read {middle['name']}", f"/read/{middle['id']}"),
                       (f"read {middle['name']} ?coder", f"/read/{middle['id']}?coder=student"),
                       ("theme board", "/board"), ("history", "/history"), ("transcripts", "/")):
        client.get(url)  # warm: templates compiled, pages of the file in the OS cache
        times = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            r = client.get(url)
            times.append((time.perf_counter() - t0) * 1000)
            assert r.status_code == 200, r.text[:300]
        print(f"{label:<28}{statistics.median(times):>10.1f}{max(times):>10.1f}{len(r.content) / 1024:>8.0f}")


if __name__ == "__main__":
    main()
