"""Main-theme accuracy and Cohen's kappa of the codebook-only ranking against hand-coded segments.

Run:  PYTHONPATH=. python bench/main_theme.py [--gold PATH] [--codebook YAML] [--transcripts DIR | --project P]

The gold CSV has the columns ``source`` and ``ordinal`` (the segment: its transcript's file name and
its position, as ``qualcode segments`` and the coding sheet show them) and either ``main_theme`` (a
theme key or name) or ``codes`` (code keys or names separated by ``;``); a ``half`` column, when
there is one, gives a row per half as well. Without ``main_theme`` the gold theme comes from the codes
through the codebook: the theme of the codes when they share one; when they span several themes the
segment is *ambiguous* and a method is right when its top theme is any of them (how many segments are
ambiguous is printed). Segments without a gold theme are left out.

Builds a scratch project from the transcripts (default transcripts_sample/F1-F3 and its
participants.csv) with the codebook (default codebooks/ips.yaml), no codings, and compares:

* ``rules >= 0.5``: today's behaviour, the theme of the highest-scoring rule match that autocode codes
  (ties: codebook order); a segment without a match counts wrong;
* ``rules, any match``: the same with every match, weak ones included (``--min-score 0``);
* ``words only``: the ranking without the rules (shared words with the codes' profiles);
* ``ranking``: :func:`qualcode.coding.themerank.rank_segments` (rules + shared words);
* ``ranking + vectors``: the same with sentence vectors (only when the ``semantic`` extra is installed).

Printed per method: accuracy (top theme right), Cohen's kappa (top theme against the gold theme, an
ambiguous segment's gold theme being the predicted one when it is among its themes, else its first in
codebook order; "no theme" is a label of its own), top-2 accuracy, and the accuracy on the segments
without a rule match of 0.5 or more. Asserts nothing.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
GOLD = ROOT / "bench" / "gold" / "ips-gold.csv"


def read_gold(path: Path, codes: list[dict], themes: list[dict]) -> list[dict]:
    """Rows with source, ordinal, half and the set of gold themes (possibly empty)."""
    code_theme = {}
    for c in codes:
        code_theme[c["key"].lower()] = c["theme"]
        code_theme[c["name"].lower()] = c["theme"]
    theme_key = {}
    for t in themes:
        theme_key[t["key"].lower()] = t["key"]
        theme_key[t["name"].lower()] = t["key"]
    out = []
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        cols = set(reader.fieldnames or [])
        if not {"source", "ordinal"} <= cols or not ({"main_theme", "codes"} & cols):
            raise SystemExit(f"{path}: needs the columns source, ordinal and main_theme or codes; has {sorted(cols)}")
        for n, r in enumerate(reader, start=2):
            if "main_theme" in cols and (r.get("main_theme") or "").strip():
                name = r["main_theme"].strip().lower()
                if name not in theme_key:
                    raise SystemExit(f"{path}, line {n}: unknown theme '{r['main_theme']}' (the codebook's themes: "
                                     f"{', '.join(t['key'] for t in themes)})")
                gold = {theme_key[name]}
            else:
                gold = set()
                for c in (r.get("codes") or "").replace(",", ";").split(";"):
                    c = c.strip().lower()
                    if not c:
                        continue
                    if c not in code_theme:
                        raise SystemExit(f"{path}, line {n}: unknown code '{c}'")
                    if code_theme[c]:
                        gold.add(code_theme[c])
            out.append({"source": r["source"], "ordinal": int(r["ordinal"]), "half": r.get("half") or "",
                        "gold": gold})
    return out


def build_project(tmp: Path, codebook: Path, transcripts: Path):
    from qualcode.codebook.yamlfile import apply_codebook, load_codebook
    from qualcode.ingest import ingest
    from qualcode.store import Store

    cb = load_codebook(codebook)
    store = Store.create(tmp / "bench.qualcode", language=cb.language)
    apply_codebook(store, cb)
    files = sorted(p for p in transcripts.iterdir() if p.suffix in (".txt", ".docx", ".vtt", ".srt")
                   and p.name.lower() != "readme.txt")
    parts = transcripts / "participants.csv"
    ingest(store, files, participants=str(parts) if parts.exists() else None)
    return store


def rule_orders(store, min_score: float, theme_keys: list[str]) -> dict[int, list[str]]:
    """Segment id -> themes of its rule matches, best score first (ties: codebook order of the code)."""
    from qualcode.coding.autocode import autocode

    codes = store.codes()
    pos = {c["key"]: i for i, c in enumerate(codes)}
    theme_of = {c["key"]: c["theme"] for c in codes}
    per: dict[int, list] = {}
    for m in autocode(store, dry_run=True, min_score=min_score).matches:
        per.setdefault(m.segment_id, []).append((-m.score, pos[m.code], m.code))
    out = {}
    for sid, ms in per.items():
        order = []
        for _, _, code in sorted(ms):
            if theme_of[code] and theme_of[code] not in order:
                order.append(theme_of[code])
        out[sid] = order
    return out


def kappa(pairs: list[tuple[str, str]]) -> float:
    n = len(pairs)
    po = sum(a == b for a, b in pairs) / n
    ca, cb = Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
    pe = sum(ca[k] * cb[k] for k in set(ca) | set(cb)) / (n * n)
    return (po - pe) / (1 - pe) if pe < 1 else float("nan")


def score(rows, orders: dict[int, list[str]], where, theme_keys, strong: set[int]) -> dict:
    n = right = top2 = amb = n_free = right_free = 0
    pairs = []
    for r in rows:
        gold = r["gold"]
        if not gold:
            continue
        sid = where[(r["source"], r["ordinal"])]
        order = orders.get(sid, [])
        top = order[0] if order else "(none)"
        n += 1
        amb += len(gold) > 1
        right += top in gold
        top2 += bool(set(order[:2]) & gold)
        if sid not in strong:
            n_free += 1
            right_free += top in gold
        label = top if top in gold else sorted(gold, key=theme_keys.index)[0]
        pairs.append((label, top))
    return {"n": n, "acc": right / n if n else float("nan"), "right": right, "kappa": kappa(pairs) if n else float("nan"),
            "top2": top2 / n if n else float("nan"), "amb": amb, "n_free": n_free, "right_free": right_free}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gold", type=Path, default=GOLD, help="Gold CSV (default bench/gold/ips-gold.csv).")
    ap.add_argument("--codebook", type=Path, default=ROOT / "codebooks" / "ips.yaml")
    ap.add_argument("--transcripts", type=Path, default=None,
                    help="Folder of transcripts (and participants.csv) the gold rows refer to "
                         "(default transcripts_sample, F1-F3).")
    ap.add_argument("--project", type=Path, default=None,
                    help="Use this existing project instead of building one (its codings are not used).")
    ap.add_argument("--half", default=None, help="Only the rows of this half (e.g. A while choosing, so that B "
                                                 "stays unseen).")
    ap.add_argument("--no-semantic", action="store_true", help="Leave out the sentence-vector row.")
    args = ap.parse_args(argv)

    from qualcode.coding import semantic
    from qualcode.coding.themerank import rank_segments
    from qualcode.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        if args.project:
            store = Store.open(args.project)
        elif args.transcripts:
            store = build_project(Path(tmp), args.codebook, args.transcripts)
        else:
            store = build_project(Path(tmp), args.codebook, ROOT / "transcripts_sample")
        try:
            themes = store.themes()
            theme_keys = [t["key"] for t in themes]
            rows = read_gold(args.gold, store.codes(), themes)
            where = {}
            for s in store.segments():   # a gold row may name its transcript with or without the extension
                where[(s["source"], s["ordinal"])] = s["id"]
                where.setdefault((Path(s["source"]).stem, s["ordinal"]), s["id"])
            missing = [(r["source"], r["ordinal"]) for r in rows if (r["source"], r["ordinal"]) not in where]
            if missing:
                raise SystemExit(f"gold segments not in the project: {missing[:5]}")
            methods: dict[str, dict[int, list[str]]] = {}
            methods["rules >= 0.5"] = rule_orders(store, 0.5, theme_keys)
            methods["rules, any match"] = rule_orders(store, 0.0, theme_keys)
            strong = set(methods["rules >= 0.5"])
            for name, kw in (("words only", {"rules": False}), ("ranking", {}),
                             ("ranking + vectors", {"semantic": True})):
                if kw.get("semantic") and (args.no_semantic or not semantic.available()):
                    continue
                ranking = rank_segments(store, **kw)
                methods[name] = {s.segment_id: [t.key for t in s.themes] for s in ranking.segments}
        finally:
            store.close()

    if args.half:
        rows = [r for r in rows if r["half"] == args.half]
    halves = sorted({r["half"] for r in rows if r["half"]})
    parts = [(f"half {h}", [r for r in rows if r["half"] == h]) for h in halves] + [("all", rows)]
    n_gold = sum(1 for r in rows if r["gold"])
    print(f"gold {args.gold} ({len(rows)} segments, {n_gold} with a gold theme, "
          f"{sum(1 for r in rows if len(r['gold']) > 1)} ambiguous: codes of several themes)")
    print("acc: top theme right; kappa: Cohen's; top-2: right theme among the first two; "
          "no-rule acc: on the segments without a rule match >= 0.5")
    for label, part in parts:
        print(f"\n{label}")
        print(f"{'method':20} {'n':>4} {'acc':>12} {'kappa':>6} {'top-2':>6} {'no-rule acc':>14} {'ambiguous':>9}")
        for name, orders in methods.items():
            s = score(part, orders, where, theme_keys, strong)
            free = f"{s['right_free'] / s['n_free']:.2f} ({s['right_free']}/{s['n_free']})" if s["n_free"] else "-"
            print(f"{name:20} {s['n']:>4} {s['acc']:.2f} ({s['right']:>3}) {s['kappa']:>6.2f} {s['top2']:>6.2f} "
                  f"{free:>14} {s['amb']:>9}")


if __name__ == "__main__":
    main()
