"""docs/notebook.md shows real output: run its cells on the demo state it names and compare (issue 8).

When the shipped codebook or the coding rules change, the numbers change: regenerate the
shown output with ``.venv/bin/python tests/test_api_notebook_doc.py``.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "notebook.md"
BLOCK = re.compile(r"```python\n(?P<code>.*?)```\n(?:```\n(?P<shown>.*?)```\n)?", flags=re.S)


def build_demo(folder: Path) -> Path:
    """The demo project after 'make demo-step1 demo-step2': codebook, three groups, rule coding."""
    from qualcode.coding.autocode import autocode
    from qualcode.ingest import ingest
    from qualcode.ingest.project import init_project
    from qualcode.store import Store

    sample = ROOT / "transcripts_sample"
    (folder / "reports").mkdir(exist_ok=True)
    project = folder / "reports" / "ips-demo.qualcode"
    init_project(str(project), codebook=str(ROOT / "codebooks" / "ips.yaml"), language="nl")
    with Store.open(project) as store:
        ingest(store, [sample / "F1.txt", sample / "F2.txt", sample / "F3.txt"],
               participants=str(sample / "participants.csv"))
        autocode(store)
    return project


def run_cells(doc: str) -> list[tuple[re.Match, str]]:
    """Run the example section's cells in order (in the current folder); (match, real output) per cell."""
    import pandas as pd

    pd.set_option("display.width", 100)
    head, example = doc.split("## Example", 1)
    ns: dict = {}
    out = []
    try:
        for m in BLOCK.finditer(example):
            *body, last = m.group("code").rstrip("\n").split("\n")
            exec("\n".join(body), ns)
            value = eval(last, ns)
            out.append((m, value.to_string() if isinstance(value, pd.DataFrame) else repr(value)))
    finally:
        if "p" in ns:
            ns["p"].close()
    return out


@pytest.mark.slow
def test_notebook_example_output_is_real(tmp_path, monkeypatch):
    build_demo(tmp_path)
    monkeypatch.chdir(tmp_path)
    results = run_cells(DOC.read_text("utf-8"))
    assert len(results) >= 6
    for m, real in results:
        assert m.group("shown") is not None, m.group("code")
        assert real == m.group("shown").rstrip("\n"), (
            "docs/notebook.md is out of date; regenerate it with .venv/bin/python tests/test_api_notebook_doc.py")


def _write() -> None:
    doc = DOC.read_text("utf-8")
    head, example = doc.split("## Example", 1)
    here = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        build_demo(Path(tmp))
        os.chdir(tmp)
        try:
            results = run_cells(doc)
        finally:
            os.chdir(here)
    pieces, pos = [], 0
    for m, real in results:
        pieces.append(example[pos:m.start()])
        pieces.append(f"```python\n{m.group('code')}```\n```\n{real}\n```\n")
        pos = m.end()
    pieces.append(example[pos:])
    DOC.write_text(head + "## Example" + "".join(pieces), "utf-8")
    print(f"rewrote {DOC}")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    _write()
