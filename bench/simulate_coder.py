"""Simulate two human coders for the demo (the codings are invented, not real coders' work).

    python bench/simulate_coder.py RULES.xlsx CODER_A.xlsx CODER_B.xlsx [--seed 7]

RULES.xlsx is a coding sheet exported for the rule coder (``qualcode sheet export --coder rules``);
CODER_A.xlsx and CODER_B.xlsx are (empty) coding sheets exported for the two simulated coders over
the same segments. coder_a gets exactly the rule coder's codes; coder_b gets each of those codes
with probability 1 - DROP and, per segment, one extra code drawn from the codebook with probability
ADD. On a share FRAGMENT of the coded turns of at least two sentences, both coders code only the
turn's meaningful part (here: its longest sentence) by writing it in the sheet's ``fragment``
column, as a student trims a turn to the words that carry the code (issue 16). The sheets are
filled in place (matched on the hidden 'qualcode id' column, as a student's edits would be) and
then go back in with ``qualcode sheet import``. Deterministic for a given seed.
"""

from __future__ import annotations

import argparse
import random
import re

import openpyxl

DROP = 0.20
ADD = 0.06
FRAGMENT = 0.25


def _columns(ws):
    header = [str(c.value or "").strip().lower() for c in ws[1]]
    code_cols = [i for i, h in enumerate(header) if h.startswith("code ")]
    return header.index("qualcode id"), code_cols


def meaningful_part(text: str) -> str | None:
    """The longest sentence of a turn of two or more sentences (at least 8 words, once in the turn)."""
    sentences = [x for x in re.split(r"(?<=[.!?])\s+", (text or "").strip()) if x]
    if len(sentences) < 2:
        return None
    fits = [x for x in sentences if len(x.split()) >= 8 and text.count(x) == 1]
    return max(fits, key=len) if fits else None


def read_texts(path: str) -> dict[str, str]:
    wb = openpyxl.load_workbook(path, read_only=True)
    rows = list(wb["Coding"].iter_rows(values_only=True))
    header = [str(h or "").strip().lower() for h in rows[0]]
    id_i, text_i = header.index("qualcode id"), header.index("text")
    wb.close()
    return {row[id_i]: row[text_i] for row in rows[1:] if row[id_i]}


def read_codes(path: str) -> tuple[dict[str, list[str]], list[str]]:
    wb = openpyxl.load_workbook(path, read_only=True)
    ws = wb["Coding"]
    rows = list(ws.iter_rows(values_only=True))
    header = [str(h or "").strip().lower() for h in rows[0]]
    id_i = header.index("qualcode id")
    code_is = [i for i, h in enumerate(header) if h.startswith("code ")]
    codes = {row[id_i]: [row[i] for i in code_is if row[i]] for row in rows[1:] if row[id_i]}
    book = wb["Codebook"]
    book_rows = list(book.iter_rows(values_only=True))
    key_i = [str(h or "").strip().lower() for h in book_rows[0]].index("code")
    keys = [r[key_i] for r in book_rows[1:] if r[key_i]]
    wb.close()
    return codes, keys


def fill(path: str, codes: dict[str, list[str]], fragments: dict[str, str] | None = None) -> int:
    wb = openpyxl.load_workbook(path)
    ws = wb["Coding"]
    id_i, code_is = _columns(ws)
    header = [str(c.value or "").strip().lower() for c in ws[1]]
    frag_i = header.index("fragment") if "fragment" in header else None
    need = max((len(v) for v in codes.values()), default=0)
    while len(code_is) < need:  # the import finds 'code N' columns by header, wherever they are
        ws.cell(row=1, column=ws.max_column + 1, value=f"code {len(code_is) + 1}")
        code_is.append(ws.max_column - 1)
    n = 0
    for row in ws.iter_rows(min_row=2, max_col=ws.max_column):
        mine = codes.get(row[id_i].value, [])
        for j, i in enumerate(code_is):
            row[i].value = mine[j] if j < len(mine) else None
        if frag_i is not None and mine:
            row[frag_i].value = (fragments or {}).get(row[id_i].value)
        n += len(mine)
    wb.save(path)
    return n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("rules")
    ap.add_argument("coder_a")
    ap.add_argument("coder_b")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    rules, keys = read_codes(args.rules)
    perturbed = {}
    for seg_id in sorted(rules):
        kept = [c for c in rules[seg_id] if rng.random() >= DROP]
        if rng.random() < ADD:
            extra = rng.choice(keys)
            if extra not in kept:
                kept.append(extra)
        perturbed[seg_id] = kept
    texts = read_texts(args.rules)
    pick = random.Random(args.seed + 1000)  # its own stream: the codes drawn above stay as they were
    fragments = {}
    for seg_id in sorted(rules):
        part = meaningful_part(texts.get(seg_id, "")) if rules[seg_id] else None
        if part and pick.random() < FRAGMENT:
            fragments[seg_id] = part
    n_a = fill(args.coder_a, rules, fragments)
    n_b = fill(args.coder_b, perturbed, fragments)
    print(f"simulated coders (seed {args.seed}): coder_a {n_a} codes (copy of the rule coder), coder_b {n_b} codes "
          f"(each dropped with p={DROP}, one extra code per segment with p={ADD}); {len(fragments)} turns coded "
          f"on their longest sentence only (fragment column, p={FRAGMENT})")


if __name__ == "__main__":
    main()
