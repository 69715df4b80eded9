"""What users see, rendered: the analysis workbook and the Word report through LibreOffice (PDF),
checked for page counts within stated bounds, no blank pages, every sheet fitted to the page width,
and the last row of the theme x participant heat map coloured (a pixel check on the rendered page).

LibreOffice is installed by .ci/run; without it these tests are skipped with the reason. The project
is made here: 75 participant turns of about 45 words (near the 50-word cap a quote is shortened to),
four themes, one coder: 75 quotes.
"""

from __future__ import annotations

import hashlib
import math
import re
import shutil
import subprocess
from pathlib import Path

import pytest

QUOTE_PAGES_PER_100 = 14  # the Quotes sheet prints in at most this many A4 pages per 100 quotes of ~45 words
REPORT_PAGES = 14         # the Word report of four themes prints in at most this many pages

WORDS = ("werk stage begeleiding jobcoach uitkering stress ritme trots collega werkgever zorg herstel "
         "vrijwilligerswerk structuur angst schulden tempo dromen werkvloer contract uren loon").split()
THEMES = [("start", "Een voortraject"), ("paid", "Betaald werk"), ("care", "Werk en zorg"),
          ("last", "Laatste thema van de lijst")]


def _turn(i: int) -> str:
    words = [WORDS[(i * 7 + k * 3) % len(WORDS)] for k in range(44)]
    return "Ik vind " + " ".join(words[:20]) + ". En dan " + " ".join(words[20:]) + "."


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice or not shutil.which("pdftotext") or not shutil.which("pdftoppm"):
        pytest.skip("LibreOffice (soffice) and poppler-utils (pdftotext, pdftoppm) are needed; .ci/run installs them")
    from qualcode.excel.analysis import write_workbook
    from qualcode.reports.report import write_report
    from qualcode.store import Store

    d = tmp_path_factory.mktemp("render")
    store = Store.create(d / "render.qualcode", language="nl", name="render")
    with store.act("test ingest", undoable=False, capture=False):
        pids = {(g, f"P{k}"): store.add_participant(g, f"P{k}", {"geslacht": "vrouw" if k % 2 else "man"})
                for g in ("F1", "F2", "F3") for k in range(1, 5)}
        for g in ("F1", "F2", "F3"):
            text, rows = "", []
            for i in range(25):
                who, said = f"P{1 + i % 4}", _turn(i + 100 * int(g[1]))
                start = len(text) + len(who) + 2
                text += f"{who}: {said}\n"
                rows.append({"ordinal": i + 1, "turn": i + 1, "speaker": who, "role": "participant",
                             "participant_id": pids[(g, who)], "start": start, "end": start + len(said),
                             "text": said, "n_words": len(said.split())})
            sha = hashlib.sha256(text.encode()).hexdigest()
            sid = store.add_source(name=f"{g}.txt", format="txt", group_label=g, group_origin="option", text=text,
                                   sha256=sha, file_sha256=sha, encoding="utf-8", n_words=len(text.split()))
            store.add_segments(sid, rows)
    with store.act("test codebook"):
        codes = []
        for n, (key, name) in enumerate(THEMES):
            tid = store.add_theme(key, name, ["#E69F00", "#56B4E9", "#009E73", "#CC79A7"][n], position=n)
            store.update_theme(tid, definition=f"Wat deelnemers zeggen over {name.lower()}.",
                               key_messages=[f"Een kernboodschap over {name.lower()}."])
            codes += [store.add_code(f"{key}_a", f"{name} (a)", tid), store.add_code(f"{key}_b", f"{name} (b)", tid)]
    with store.act("test coding"):
        for i, s in enumerate(store.segments(role="participant")):
            store.add_coding(s["id"], codes[i % len(codes)], "anna", "manual")
    workbook, report = d / "analysis.xlsx", d / "report.docx"
    write_workbook(store, workbook)
    write_report(store, report)
    n_quotes = sum(1 for _ in store.segments(role="participant"))
    store.close()
    subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{d / 'lo-profile'}", "--convert-to",
                    "pdf", "--outdir", str(d), str(workbook), str(report)], capture_output=True, timeout=300,
                   check=True)
    return d, n_quotes


def _pages(pdf: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    return text.split("\f")[:-1]


def _sheet_of(page: str) -> str:
    """The sheet a workbook page belongs to: its page header reads 'project · sheet'."""
    head = next((line for line in page.splitlines() if "·" in line), "")
    return head.split("·", 1)[1].strip() if head else ""


def test_workbook_prints_within_bounds_without_blank_pages(rendered):
    from qualcode.reports.catalogues import catalogue

    d, n_quotes = rendered
    pages = _pages(d / "analysis.pdf")
    assert all(p.strip() for p in pages), "a blank page"
    per_sheet: dict[str, int] = {}
    for p in pages:
        per_sheet[_sheet_of(p)] = per_sheet.get(_sheet_of(p), 0) + 1
    L = catalogue("nl")
    assert set(per_sheet) == {L[k] for k in ("sheet_codebook", "sheet_fragments", "sheet_by_theme",
                                             "sheet_summary", "sheet_quotes", "sheet_matrices", "sheet_framework",
                                             "sheet_cooccurrence", "sheet_counts", "sheet_participants",
                                             "sheet_audit", "sheet_memos")}, per_sheet
    assert per_sheet[L["sheet_quotes"]] <= math.ceil(QUOTE_PAGES_PER_100 * n_quotes / 100), per_sheet
    # fitted to the page width: no sheet spills columns onto extra pages (small sheets print on one)
    for key in ("sheet_codebook", "sheet_summary", "sheet_matrices", "sheet_cooccurrence", "sheet_counts",
                "sheet_participants", "sheet_memos"):
        assert per_sheet[L[key]] == 1, (key, per_sheet)
    # the header row repeats: every page of the Quotes sheet shows the quote column's header
    quote_pages = [p for p in pages if _sheet_of(p) == L["sheet_quotes"]]
    assert all("rang" in p for p in quote_pages)


def test_last_heat_map_row_is_coloured(rendered):
    """The theme x participant heat map colours its last theme's row (its range once stopped a row short)."""
    from PIL import Image

    from qualcode.reports.catalogues import catalogue

    d, _ = rendered
    pages = _pages(d / "analysis.pdf")
    n = next(i for i, p in enumerate(pages, start=1) if _sheet_of(p) == catalogue("nl")["sheet_matrices"])
    bbox = subprocess.run(["pdftotext", "-bbox", "-f", str(n), "-l", str(n), str(d / "analysis.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    # the words 'lijst' of 'Laatste thema van de lijst': once in block 1 (groups), once in block 2 (participants)
    # (the charts beside block 1 name the theme too: only words in the first column count)
    rows = [tuple(float(v) for v in m) for m in re.findall(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">lijst</word>', bbox)
        if float(m[0]) < 200]
    assert len(rows) == 2, bbox[:2000]
    subprocess.run(["pdftoppm", "-png", "-r", "72", "-f", str(n), "-l", str(n), str(d / "analysis.pdf"),
                    str(d / "matrices")], check=True)
    img = Image.open(next(d.glob("matrices*.png"))).convert("RGB")
    for x_min, y_min, x_max, y_max in rows:
        y = int((y_min + y_max) / 2)
        right = [img.getpixel((x, y)) for x in range(int(x_max) + 40, img.size[0] - 1)]
        heat = [px for px in right if px[0] > 200 and px[0] - px[2] > 40 and px[1] < 235]   # orange tints
        assert len(heat) > 10, f"no heat-map colour in the last theme's row at y={y}"


def test_word_report_prints_within_bounds_without_blank_pages(rendered):
    d, _ = rendered
    pages = _pages(d / "report.pdf")
    assert 3 <= len(pages) <= REPORT_PAGES
    assert all(p.strip() for p in pages), "a blank page"
    assert "Getoonde coderingen: anna" in pages[0]   # the first lines say whose codings it shows
