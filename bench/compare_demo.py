"""Compare two runs of `make demo`: are the outputs the same to a reader?

    python bench/compare_demo.py BEFORE_DIR AFTER_DIR

Compares, file by file in the two reports/ folders:
* every .xlsx: every sheet's name and every cell's value (openpyxl, values only);
* report.md and report.html: the text, line by line;
* every .docx: the text of every paragraph and table cell, in order;
* every .csv and .md: the text.
Times of the run (the report's "moment" line, the audit log's stamps) and the coding sheet's
per-project row keys are replaced by placeholders before comparing; the lines with a time are counted. Prints one line per file and exits 1 if any differ.
Used once per restructuring (a change of layout must not change what the student reads).
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

TIME = re.compile(r"\b\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?Z?")
# The coding sheet's row keys carry a per-project random part ("12:f72aba0fad"): a fresh project
# made by the same commands gets new ones.
ROW_KEY = re.compile(r"^(\d+):[0-9a-f]{10}$")


def normal(v):
    if isinstance(v, str):
        return ROW_KEY.sub(r"\1:<key>", TIME.sub("<time>", v))
    return v


def _trimmed(row: tuple) -> tuple:
    """A row without its trailing empty cells (how wide a reader pads rows depends on the sheet's
    recorded dimension, which is not part of what a reader sees)."""
    end = len(row)
    while end and row[end - 1] is None:
        end -= 1
    return row[:end]


def xlsx_values(path: Path) -> list:
    from openpyxl import load_workbook
    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        out = []
        for ws in wb.worksheets:
            rows = [_trimmed(tuple(normal(v) for v in row))
                    for row in ws.iter_rows(values_only=True)]
            out.append((ws.title, rows))
        return out
    finally:
        wb.close()


def docx_text(path: Path) -> list[str]:
    import docx
    d = docx.Document(str(path))
    lines = [p.text for p in d.paragraphs]
    for t in d.tables:
        for row in t.rows:
            lines.append(" | ".join(c.text for c in row.cells))
    return lines


def text_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def without_times(lines: list[str]) -> tuple[list[str], int]:
    kept = [TIME.sub("<time>", x) for x in lines]
    return kept, sum(1 for a, b in zip(lines, kept) if a != b)


def compare(before: Path, after: Path) -> int:
    differ = 0
    names = sorted({p.name for p in before.iterdir() if p.is_file()} |
                   {p.name for p in after.iterdir() if p.is_file()})
    for name in names:
        a, b = before / name, after / name
        suffix = a.suffix.lower() if a.exists() else b.suffix.lower()
        if suffix not in (".xlsx", ".docx", ".md", ".html", ".csv"):
            continue
        if not a.exists() or not b.exists():
            print(f"{name}: only in {'after' if b.exists() else 'before'}")
            differ += 1
            continue
        if suffix == ".xlsx":
            va, vb = xlsx_values(a), xlsx_values(b)
            cells = sum(len(r) for _, rows in va for r in rows)
            same = va == vb
            detail = f"{len(va)} sheets, {cells} cells"
        else:
            la = docx_text(a) if suffix == ".docx" else text_lines(a)
            lb = docx_text(b) if suffix == ".docx" else text_lines(b)
            (la, ta), (lb, _) = without_times(la), without_times(lb)
            same = la == lb
            detail = f"{len(la)} lines ({ta} with a time left out)"
        print(f"{name}: {'same' if same else 'DIFFERENT'} ({detail})")
        differ += not same
    print(f"{differ} file(s) differ")
    return 1 if differ else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(compare(Path(sys.argv[1]), Path(sys.argv[2])))
