"""Precision and recall of the codebook's rules against the hand-coded gold standard.

Run:  PYTHONPATH=. python bench/rules_gold.py [CODEBOOK] [--min-score X]

Builds a scratch project from transcripts_sample/F1-F3 with CODEBOOK (default codebooks/ips.yaml),
runs the rules (``autocode`` in dry-run mode, nothing written) and compares the (segment, code)
pairs with bench/gold/ips-gold.csv, for half A (looked at while fixing the rules), half B (held out)
and both. A parent code counts as right on a segment the gold standard gives the parent or one of
its sub-codes (a rule for "voortraject" finds the topic; the sub-codes judge it). Prints a table;
asserts nothing. How the gold standard was made: bench/gold/README.md.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
GOLD = ROOT / "bench" / "gold" / "ips-gold.csv"


def read_gold(path: Path = GOLD) -> dict[tuple[str, int], tuple[str, set[str]]]:
    """(source, ordinal) -> (half, codes); a file without a ``half`` column is one half, "C"."""
    with open(path, newline="", encoding="utf-8") as f:
        return {(r["source"], int(r["ordinal"])): (r.get("half") or "C", {c for c in r["codes"].split(";") if c})
                for r in csv.DictReader(f)}


def rule_pairs(codebook: Path, min_score: float | None = None) -> tuple[dict[tuple[str, int], set[str]], dict, dict]:
    """(source, ordinal) -> codes the rules give, for every participant segment; code -> parent; code -> name."""
    from qualcode.codebook.yamlfile import apply_codebook, load_codebook
    from qualcode.coding.autocode import autocode
    from qualcode.ingest import ingest
    from qualcode.store import Store

    cb = load_codebook(codebook)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.create(Path(tmp) / "g.qualcode", language=cb.language)
        apply_codebook(store, cb)
        sample = ROOT / "transcripts_sample"
        ingest(store, [sample / f"F{i}.txt" for i in (1, 2, 3)], participants=str(sample / "participants.csv"))
        kwargs = {} if min_score is None else {"min_score": min_score}
        result = autocode(store, dry_run=True, **kwargs)
        where = {s["id"]: (s["source"], s["ordinal"]) for s in store.segments(role="participant")}
        store.close()
    found: dict[tuple[str, int], set[str]] = {k: set() for k in where.values()}
    for m in result.matches:
        found[where[m.segment_id]].add(m.code)
    return found, {c.id: c.parent for c in cb.codes}, {c.id: c.name for c in cb.codes}


def scores(gold, found, parents, half: str | None) -> dict[str, tuple[int, int, int]]:
    """code -> (true positives, rule matches, gold segments) on the gold segments of ``half`` (None: all)."""
    out = {}
    for code in parents:
        tp = n_rule = n_gold = 0
        for key, (h, codes) in gold.items():
            if half and h != half:
                continue
            rolled = codes | {parents[c] for c in codes if parents.get(c)}
            hit, truth = code in found.get(key, set()), code in rolled
            tp += hit and truth
            n_rule += hit
            n_gold += truth
        out[code] = (tp, n_rule, n_gold)
    return out


def fmt(tp: int, n: int) -> str:
    return f"{tp / n:.2f} ({tp}/{n})" if n else "  -  (0/0)"


def table(gold, found, parents, only: str | None = None) -> list[str]:
    names = sorted({h for h, _ in gold.values()})
    halves = [(h, h) for h in names] + ([("all", None)] if len(names) > 1 else [])
    if only:
        halves = [(only, only)]
    per = {name: scores(gold, found, parents, h) for name, h in halves}
    head = f"{'code':26}" + "".join(f"{'P ' + n:>14}{'R ' + n:>14}" for n, _ in halves)
    lines = [head]
    for code in parents:
        row = f"{code:26}"
        for name, _ in halves:
            tp, nr, ng = per[name][code]
            row += f"{fmt(tp, nr):>14}{fmt(tp, ng):>14}"
        lines.append(row)
    row = f"{'micro':26}"
    for name, _ in halves:
        tp, nr, ng = (sum(v[i] for v in per[name].values()) for i in range(3))
        row += f"{fmt(tp, nr):>14}{fmt(tp, ng):>14}"
    lines.append(row)
    n_all = {name: sum(1 for h, _ in gold.values() if hh is None or h == hh) for name, hh in halves}
    coded = {name: sum(1 for k, (h, _) in gold.items() if (hh is None or h == hh) and found.get(k))
             for name, hh in halves}
    lines.append("segments with a rule match: " + ", ".join(f"{n} {coded[n]}/{n_all[n]}" for n, _ in halves))
    total = len(found)
    if not only:
        lines.append(f"all participant segments with a rule match: {sum(1 for v in found.values() if v)}/{total}")
    return lines


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("codebook", nargs="?", default=str(ROOT / "codebooks" / "ips.yaml"))
    ap.add_argument("--min-score", type=float, default=None,
                    help="Passed to autocode (default: autocode's own default).")
    ap.add_argument("--half", default=None,
                    help="Only this half (A while fixing rules, so that B stays unseen).")
    ap.add_argument("--gold", type=Path, default=GOLD,
                    help="Gold-standard CSV: source, ordinal, codes (';'-separated) and optionally half "
                         "(default bench/gold/ips-gold.csv; bench/gold/ips-gold-c.csv is the second, "
                         "blind-coded sample).")
    args = ap.parse_args(argv)
    gold = read_gold(args.gold)
    found, parents, _ = rule_pairs(Path(args.codebook), args.min_score)
    missing = [k for k in gold if k not in found]
    if missing:
        raise SystemExit(f"gold segments not in the sample project: {missing[:5]}")
    print(f"codebook {args.codebook}; gold standard {args.gold} "
          f"({len(gold)} segments; P = precision, R = recall, (right/matched), (right/gold))")
    print("\n".join(table(gold, found, parents, args.half)))


if __name__ == "__main__":
    main()
