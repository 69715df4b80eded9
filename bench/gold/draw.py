"""Draw the gold-standard sample: participant segments of transcripts_sample/ F1-F3, seeded.

    python bench/gold/draw.py PROJECT.qualcode > sample.tsv

The project is the demo project (``init --codebook codebooks/ips.yaml`` + ``ingest`` of F1-F3).
160 participant segments are drawn with ``random.Random(19)``; the first 80 drawn form half A
(looked at while fixing the rules), the next 80 half B (held out). Prints source, ordinal, half
and text, tab-separated, in transcript order within each half. It prints no rule and no match.
"""

from __future__ import annotations

import random
import sys

SEED = 19
SIZE = 160


def draw(store) -> list[tuple[str, int, str, str]]:
    segs = [s for s in store.segments(role="participant")]
    chosen = random.Random(SEED).sample(range(len(segs)), SIZE)
    out = []
    for n, i in enumerate(chosen):
        s = segs[i]
        out.append((s["source"], s["ordinal"], "A" if n < SIZE // 2 else "B", s["text"]))
    return sorted(out, key=lambda r: (r[2], r[0], r[1]))


def main(path: str) -> None:
    from qualcode.store import Store

    with Store.open(path, read_only=True) as store:
        for source, ordinal, half, text in draw(store):
            print(f"{source}\t{ordinal}\t{half}\t{' '.join(text.split())}")


if __name__ == "__main__":
    main(sys.argv[1])
