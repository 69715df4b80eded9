"""Compare the cell values of two sets of .xlsx files (e.g. reports/ made before and after a change).

    python bench/compare_xlsx.py BEFORE_DIR AFTER_DIR [--ignore-column 'Audit log:at' ...]

For every .xlsx in BEFORE_DIR, the file of the same name in AFTER_DIR is read with openpyxl
(read-only, cached values) and compared sheet by sheet: sheet names in order, then every row's
values (trailing empty cells and trailing empty rows ignored, since a writer may or may not store
an empty cell). Prints one line per file, the differing cells (at most 10 per sheet), and exits 1
if any value differs. Not a test: the demo's project carries timestamps, so two runs differ where
a cell shows when something happened; ``--ignore-column SHEET:HEADER`` leaves such a column out
(header in row 1), and ``--ignore-pattern REGEX`` leaves out cells whose both values match it.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path


def rows(path: Path) -> dict[str, list[list]]:
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        out = {}
        for ws in wb.worksheets:
            ws.reset_dimensions()
            rs = [list(r) for r in ws.iter_rows(values_only=True)]
            for r in rs:
                while r and r[-1] is None:
                    r.pop()
            while rs and not rs[-1]:
                rs.pop()
            out[ws.title] = rs
        return out
    finally:
        wb.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("before", type=Path)
    ap.add_argument("after", type=Path)
    ap.add_argument("--ignore-column", action="append", default=[], help="SHEET:HEADER of a column to leave out")
    ap.add_argument("--ignore-pattern", help="leave out cells whose before and after values both match this")
    args = ap.parse_args()
    ignore = {tuple(x.split(":", 1)) for x in args.ignore_column}
    pattern = re.compile(args.ignore_pattern) if args.ignore_pattern else None
    bad = 0
    for a in sorted(args.before.glob("*.xlsx")):
        b = args.after / a.name
        if not b.exists():
            print(f"{a.name}: missing in {args.after}")
            bad += 1
            continue
        ra, rb = rows(a), rows(b)
        diffs, cells, skipped = [], 0, 0
        if list(ra) != list(rb):
            diffs.append(f"sheets differ: {list(ra)} vs {list(rb)}")
        for title in ra:
            sa, sb = ra[title], rb.get(title, [])
            header = sa[0] if sa else []
            skip_cols = {i for i, h in enumerate(header) if (title, str(h)) in ignore}
            if len(sa) != len(sb):
                diffs.append(f"{title}: {len(sa)} rows vs {len(sb)}")
            shown = 0
            for r, (x, y) in enumerate(zip(sa, sb), start=1):
                for c in range(max(len(x), len(y))):
                    va = x[c] if c < len(x) else None
                    vb = y[c] if c < len(y) else None
                    cells += 1
                    if c in skip_cols or va == vb:
                        continue
                    if pattern and pattern.search(str(va)) and pattern.search(str(vb)):
                        skipped += 1
                        continue
                    if shown < 10:
                        diffs.append(f"{title}!R{r}C{c + 1}: {str(va)[:60]!r} vs {str(vb)[:60]!r}")
                    shown += 1
        status = "same" if not diffs else "DIFFERENT"
        print(f"{a.name}: {status} ({cells} cells compared, {len(ra)} sheets"
              + (f", {skipped} cells matching the ignore pattern" if skipped else "") + ")")
        for d in diffs:
            print("   ", d)
        bad += bool(diffs)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
