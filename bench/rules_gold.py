"""Precision and recall of the codebook's rules against the hand-coded gold standard.

Run:  PYTHONPATH=. python bench/rules_gold.py [CODEBOOK] [--min-score X] [--gold FILE]... [--errors CODE]
                                            [--before OLD_CODEBOOK]

Builds a scratch project from transcripts_sample/F1-F3 with CODEBOOK (default codebooks/ips.yaml),
runs the rules (``autocode`` in dry-run mode, nothing written) and compares the (segment, code)
pairs with the gold standard (default: bench/gold/ips-gold.csv, halves A and B,
bench/gold/ips-gold-c.csv, sample C, and bench/gold/ips-gold-d.csv, sample D), per half and for all. ``--errors CODE`` (or ``all``) prints
each false positive with the rules that matched and its score, and each false negative with the
rules that matched under the threshold, if any; ``--before OLD.yaml`` prints markdown tables of the
old and the new rules side by side. A parent code counts as right on a segment the gold standard
gives the parent or one of its sub-codes (a rule for "voortraject" finds the topic; the sub-codes
judge it). Prints tables; asserts nothing. How the gold standard was made: bench/gold/README.md.
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
GOLD_C = ROOT / "bench" / "gold" / "ips-gold-c.csv"
GOLD_D = ROOT / "bench" / "gold" / "ips-gold-d.csv"   # coded blind after round 3: its held-out sample


def read_gold(path: Path = GOLD) -> dict[tuple[str, int], tuple[str, set[str]]]:
    """(source, ordinal) -> (half, codes); a file without a ``half`` column is one half, "C"."""
    with open(path, newline="", encoding="utf-8") as f:
        return {(r["source"], int(r["ordinal"])): (r.get("half") or "C", {c for c in r["codes"].split(";") if c})
                for r in csv.DictReader(f)}


def read_notes(paths) -> dict[tuple[str, int], str]:
    """(source, ordinal) -> the coder's note on the segment, where the gold file has a ``note`` column."""
    out = {}
    for path in paths:
        with open(path, newline="", encoding="utf-8") as f:
            out.update({(r["source"], int(r["ordinal"])): r["note"] for r in csv.DictReader(f) if r.get("note")})
    return out


def read_golds(paths) -> dict[tuple[str, int], tuple[str, set[str]]]:
    """The segments of several gold-standard files; a segment in two of them is an error."""
    out: dict = {}
    for path in paths:
        part = read_gold(Path(path))
        twice = sorted(set(part) & set(out))
        if twice:
            raise SystemExit(f"{path}: segments already in another gold file: {twice[:5]}")
        out.update(part)
    return out


def rule_pairs(codebook: Path, min_score: float | None = None) -> tuple[dict[tuple[str, int], set[str]], dict, dict]:
    """(source, ordinal) -> codes the rules give, for every participant segment; code -> parent; code -> name."""
    found, parents, names, _, _ = rule_matches(codebook, min_score)
    return found, parents, names


def rule_matches(codebook: Path, min_score: float | None = None):
    """As :func:`rule_pairs`, plus (source, ordinal, code) -> (score, why) of every match coded and
    (source, ordinal) -> the segment's text."""
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
        segs = list(store.segments(role="participant"))
        store.close()
    where = {s["id"]: (s["source"], s["ordinal"]) for s in segs}
    found: dict[tuple[str, int], set[str]] = {k: set() for k in where.values()}
    why = {}
    for m in result.matches:
        found[where[m.segment_id]].add(m.code)
        why[(*where[m.segment_id], m.code)] = (m.score, m.why())
    texts = {where[s["id"]]: s["text"] for s in segs}
    return found, {c.id: c.parent for c in cb.codes}, {c.id: c.name for c in cb.codes}, why, texts


def errors(gold, found, parents, why, weak, texts, code: str, notes=None) -> list[str]:
    """The false positives and false negatives of ``code`` (every code: "all"), one block each: the
    half, segment, the gold codes, the rules that matched (for a false negative: those that matched
    under the threshold, from ``weak``) and the segment's text."""
    lines = []
    for c in (parents if code == "all" else [code]):
        fp, fn = [], []
        for key, (half, codes) in sorted(gold.items()):
            rolled = codes | {parents[x] for x in codes if parents.get(x)}
            hit = c in found.get(key, set())
            if hit and c not in rolled:
                fp.append((key, half, codes, why.get((*key, c))))
            elif c in rolled and not hit:
                fn.append((key, half, codes, weak.get((*key, c))))
        for kind, items in (("false positive", fp), ("false negative", fn)):
            for (src, ordinal), half, codes, w in items:
                rules = f"score {w[0]:.2f}: {w[1]}" if w else "no rule matched"
                note = (notes or {}).get((src, ordinal))
                lines.append(f"[{c}] {kind} {half} {src}#{ordinal} gold: {', '.join(sorted(codes)) or '-'}"
                             + (f" (note: {note})" if note else ""))
                lines.append(f"    {rules}")
                lines.append(f"    {' '.join(texts[(src, ordinal)].split())}")
    return lines


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


W = 15  # width of a table column


def table(gold, found, parents, only: str | None = None) -> list[str]:
    names = sorted({h for h, _ in gold.values()})
    halves = [(h, h) for h in names] + ([("all", None)] if len(names) > 1 else [])
    if only:
        halves = [(only, only)]
    per = {name: scores(gold, found, parents, h) for name, h in halves}
    head = f"{'code':26}" + "".join(f"{'P ' + n:>{W}}{'R ' + n:>{W}}" for n, _ in halves)
    lines = [head]
    for code in parents:
        row = f"{code:26}"
        for name, _ in halves:
            tp, nr, ng = per[name][code]
            row += f"{fmt(tp, nr):>{W}}{fmt(tp, ng):>{W}}"
        lines.append(row)
    row = f"{'micro':26}"
    for name, _ in halves:
        tp, nr, ng = (sum(v[i] for v in per[name].values()) for i in range(3))
        row += f"{fmt(tp, nr):>{W}}{fmt(tp, ng):>{W}}"
    lines.append(row)
    n_all = {name: sum(1 for h, _ in gold.values() if hh is None or h == hh) for name, hh in halves}
    coded = {name: sum(1 for k, (h, _) in gold.items() if (hh is None or h == hh) and found.get(k))
             for name, hh in halves}
    lines.append("segments with a rule match: " + ", ".join(f"{n} {coded[n]}/{n_all[n]}" for n, _ in halves))
    total = len(found)
    if not only:
        lines.append(f"all participant segments with a rule match: {sum(1 for v in found.values() if v)}/{total}")
    return lines


def markdown(gold, before, after, parents) -> list[str]:
    """Two markdown tables, precision and recall, per code and half: ``before`` and ``after`` are the
    rules' (segment -> codes) of two codebooks."""
    names = sorted({h for h, _ in gold.values()})
    halves = [(h, h) for h in names] + [("all", None)]
    per = {(which, n): scores(gold, found, parents, h)
           for which, found in (("before", before), ("now", after)) for n, h in halves}
    out = []
    for title, col in (("precision (right/matched)", 1), ("recall (right/gold)", 2)):
        out.append(f"{title}:")
        out.append("")
        out.append("| code | " + " | ".join(f"{w} {n}" for n, _ in halves for w in ("before", "now")) + " |")
        out.append("|---|" + "---|" * (2 * len(halves)))
        for code in list(parents) + ["**micro**"]:
            cells = []
            for n, _ in halves:
                for w in ("before", "now"):
                    v = per[(w, n)]
                    tp, den = ((sum(x[0] for x in v.values()), sum(x[col] for x in v.values()))
                               if code == "**micro**" else (v[code][0], v[code][col]))
                    cells.append(f"{tp / den:.2f} ({tp}/{den})" if den else "- (0/0)")
            out.append(f"| {code} | " + " | ".join(cells) + " |")
        out.append("")
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("codebook", nargs="?", default=str(ROOT / "codebooks" / "ips.yaml"))
    ap.add_argument("--min-score", type=float, default=None,
                    help="Passed to autocode (default: autocode's own default).")
    ap.add_argument("--half", default=None,
                    help="Only this half (A while fixing rules, so that B stays unseen).")
    ap.add_argument("--gold", type=Path, action="append", default=None,
                    help="Gold-standard CSV: source, ordinal, codes (';'-separated) and optionally half "
                         "(a file without one is half C); repeat for several (default: "
                         "bench/gold/ips-gold.csv, halves A and B, bench/gold/ips-gold-c.csv, sample C, and "
                         "bench/gold/ips-gold-d.csv, sample D).")
    ap.add_argument("--errors", metavar="CODE", default=None,
                    help="Also print the false positives and false negatives of CODE ('all': every code) with "
                         "the rules that matched and the segment's text.")
    ap.add_argument("--before", metavar="CODEBOOK", default=None,
                    help="Instead of the table, print markdown tables of precision and recall per code and half, "
                         "this CODEBOOK's rules against CODEBOOK's (how bench/gold/README.md's tables are made).")
    args = ap.parse_args(argv)
    paths = args.gold or [GOLD, GOLD_C, GOLD_D]
    gold = read_golds(paths)
    found, parents, _, why, texts = rule_matches(Path(args.codebook), args.min_score)
    missing = [k for k in gold if k not in found]
    if missing:
        raise SystemExit(f"gold segments not in the sample project: {missing[:5]}")
    if args.errors and args.errors != "all" and args.errors not in parents:
        raise SystemExit(f"unknown code '{args.errors}'; the codes are: {', '.join(parents)}")
    if args.before:
        before = rule_pairs(Path(args.before), args.min_score)[0]
        print("\n".join(markdown(gold, before, found, parents)))
        return
    print(f"codebook {args.codebook}; gold standard {', '.join(str(p) for p in paths)} "
          f"({len(gold)} segments; P = precision, R = recall, (right/matched), (right/gold))")
    print("\n".join(table(gold, found, parents, args.half)))
    if args.errors:
        weak = rule_matches(Path(args.codebook), 0.0)[3]
        print("\n".join(errors(gold, found, parents, why, weak, texts, args.errors, read_notes(paths))))


if __name__ == "__main__":
    main()
