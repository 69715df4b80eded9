"""Run one qualcode command (or a floor task) in this process and report its cost.

    python bench/_stage.py RESULT.json qualcode ARGS...
    python bench/_stage.py RESULT.json floor-spacy PROJECT
    python bench/_stage.py RESULT.json floor-xlsx WORKBOOK.xlsx
    python bench/_stage.py RESULT.json simulate-coder PROJECT NAME SEED

Writes {"seconds": wall time including imports, "peak_mb": peak resident memory} to
RESULT.json. Used by bench/pipeline.py so every stage is a fresh process, as for a user.
"""

from __future__ import annotations

import json
import resource
import sys
import time

T0 = time.perf_counter()


def floor_spacy(project: str) -> None:
    """A bare spacy.blank('nl') nlp.pipe pass over the project's segment texts."""
    import spacy

    from qualcode.store import Store

    store = Store.open(project)
    texts = [s["text"] for s in store.segments()]
    store.close()
    global T0
    T0 = time.perf_counter()  # the floor is the pass itself, not reading the texts
    nlp = spacy.blank("nl")
    n = 0
    for doc in nlp.pipe(texts, batch_size=1000):
        n += len(doc)
    print(f"floor-spacy: {n} tokens")


def floor_xlsx(workbook: str) -> None:
    """An openpyxl write_only dump of exactly the cells of a workbook, without styles."""
    import openpyxl

    wb = openpyxl.load_workbook(workbook, read_only=True)
    sheets = [(ws.title, [list(r) for r in ws.iter_rows(values_only=True)]) for ws in wb.worksheets]
    wb.close()
    global T0
    T0 = time.perf_counter()
    out = openpyxl.Workbook(write_only=True)
    cells = 0
    for title, rows in sheets:
        ws = out.create_sheet(title)
        for r in rows:
            ws.append(r)
            cells += len(r)
    out.save(workbook + ".floor.xlsx")
    print(f"floor-xlsx: {cells} cells in {len(sheets)} sheets")


def simulate_coder(project: str, name: str, seed: str) -> None:
    """A second coder: the rule codings with 15% dropped and 5% of segments given a random extra code."""
    import random

    from qualcode.store import Store

    rng = random.Random(int(seed))
    store = Store.open(project)
    ids = store.code_ids()
    codes = list(ids.values())
    pairs = []
    for sid, keys in store.segment_codes(coder="rules").items():
        for k in keys:
            if rng.random() > 0.15:
                pairs.append((sid, ids[k]))
    for seg in store.segments(role="participant"):
        if rng.random() < 0.05:
            pairs.append((seg["id"], rng.choice(codes)))
    from qualcode.agreement.measures import mark_done

    with store.act("simulate coder (benchmark)", capture=False, undoable=False):
        store.add_codings(pairs, name, "manual")
    names = [s["name"] for s in store.sources()]
    for coder in ("rules", name):
        mark_done(store, coder, names)
    store.close()


def main() -> None:
    result, kind, *args = sys.argv[1:]
    code = 0
    if kind == "qualcode":
        from qualcode.cli import cli

        try:
            cli.main(args=args, prog_name="qualcode", standalone_mode=False)
        except SystemExit as exc:
            code = exc.code or 0
        except Exception as exc:  # report, but still write the figures
            print(f"stage failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            code = 1
    elif kind == "floor-spacy":
        floor_spacy(*args)
    elif kind == "floor-xlsx":
        floor_xlsx(*args)
    elif kind == "simulate-coder":
        simulate_coder(*args)
    else:
        raise SystemExit(f"unknown stage kind {kind}")
    seconds = time.perf_counter() - T0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with open(result, "w") as fh:
        json.dump({"seconds": seconds, "peak_mb": peak_mb, "exit": code}, fh)
    sys.exit(code)


if __name__ == "__main__":
    main()
