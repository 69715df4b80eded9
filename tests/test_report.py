"""The supervisor report (issue 5): HTML, DOCX and Markdown read back and checked against the store."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from test_workbook import COLOURS, make_project


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    """One project, one supervisor comment, all three formats written once for the module."""
    from qualcode.reports.report import write_report

    d = tmp_path_factory.mktemp("report")
    store = make_project(d / "mini.qualcode")
    with store.act("sheet import-comments", actor="prof. Claes"):
        store.add_memo("theme", store.theme("care")["id"], "Voeg een citaat uit F1 toe.", "prof. Claes",
                       kind="supervisor")
    files = {fmt: write_report(store, d / f"report.{fmt}", language="en") for fmt in ("html", "docx", "md")}
    files["nl"] = write_report(store, d / "rapport.html", language="nl")
    yield store, d, files
    store.close()


def _key_of(store, segment_id: int) -> str:
    s = store.segment(segment_id)
    return f"{s['group_label']} {s['participant']}"


# ------------------------------------------------------------------ HTML
def test_html_every_theme_in_order_with_counts_colours_and_keys(outputs):
    import lxml.html

    store, d, _ = outputs
    doc = lxml.html.fromstring((d / "report.html").read_text(encoding="utf-8"))
    sections = doc.xpath("//section[@class='theme']")
    themes = store.themes()
    assert [s.get("data-theme") for s in sections] == [t["key"] for t in themes] == ["care", "work", "later"]
    spread = store.theme_spread()
    for s, t in zip(sections, themes):
        assert s.get("data-colour") == t["colour"] == COLOURS[t["key"]]
        assert t["name"] in s.xpath("string(.//h3)")
        assert int(s.xpath(".//span[@class='fragments']")[0].get("data-n")) == spread[t["id"]]["fragments"]
        assert int(s.xpath(".//span[@class='participants']")[0].get("data-n")) == spread[t["id"]]["participants"]
        quotes = s.xpath(".//blockquote")
        assert len(quotes) == min(3, len(store.theme_fragments(t["id"])))
        for q in quotes:
            key = q.xpath("string(./cite)")
            assert key == f"({_key_of(store, int(q.get('data-segment')))})"
            assert " ".join(store.segment(int(q.get("data-segment")))["text"].split()) in q.text_content()
    work = sections[1]
    assert work.xpath(".//ul[@class='key-messages']/li/text()") == ["Werk geeft structuur en trots",
                                                                     "=Stress blijft een risico"]
    assert "Wat betaald werk oplevert" in work.xpath("string(.//p[@class='definition'])")
    assert "defined" in work.xpath("string(.//span[contains(@class, 'status')])")


def test_html_is_self_contained_with_figures_and_print_css(outputs):
    import lxml.html

    _, d, _ = outputs
    text = (d / "report.html").read_text(encoding="utf-8")
    doc = lxml.html.fromstring(text)
    svgs = doc.xpath("//figure/svg")      # the figures inline, each named for screen readers
    assert [f.get("id") for f in doc.xpath("//figure")] == ["figure-fragments", "figure-heatmap", "figure-map"]
    assert len(svgs) == 3 and all(s.get("role") == "img" for s in svgs)
    for s in svgs:
        title, desc = (doc.get_element_by_id(i) for i in s.get("aria-labelledby").split())
        assert title.text == s.getparent().xpath("string(figcaption)") and desc.text
    assert not doc.xpath("//img | //link[@href] | //script | //svg//*[@*[contains(name(), 'href')]]")
    assert "@media print" in text
    assert not re.search(r"""(src|href)=["']https?:""", text)


def test_html_shows_steps_and_supervisor_comments(outputs):
    import lxml.html

    store, d, _ = outputs
    doc = lxml.html.fromstring((d / "report.html").read_text(encoding="utf-8"))
    steps = doc.xpath("//table[@class='steps']/tbody/tr")
    assert len(steps) == 6
    assert steps[0].xpath("string(td[3])") == "2 transcripts, 10 participant segments"
    assert steps[4].xpath("string(td[3])") == "1 of 3 themes defined"
    care = doc.xpath("//section[@data-theme='care']")[0]
    assert "prof. Claes" in care.xpath("string(.//div[@class='supervisor'])")
    assert "Voeg een citaat uit F1 toe." in care.xpath("string(.//div[@class='supervisor'])")


def test_html_dutch_labels(outputs):
    import lxml.html

    _, d, _ = outputs
    doc = lxml.html.fromstring((d / "rapport.html").read_text(encoding="utf-8"))
    assert doc.xpath("string(//h1)") == "Rapport thematische analyse"
    assert doc.get("lang") == "nl"
    h4 = doc.xpath("//section[@data-theme='work']//h4/text()")
    assert h4[:3] == ["Definitie", "Kernboodschappen", "Codes"]
    assert "gedefinieerd" in doc.xpath("string(//section[@data-theme='work']//span[contains(@class,'status')])")


# ------------------------------------------------------------------ DOCX
def test_docx_headings_quote_tables_and_figures(outputs):
    from docx import Document

    store, d, _ = outputs
    doc = Document(str(d / "report.docx"))
    h2 = [p.text for p in doc.paragraphs if p.style.name == "Heading 2"]
    assert h2 == [f"{i}. {t['name']}" for i, t in enumerate(store.themes(), start=1)]
    assert [p.text for p in doc.paragraphs if p.style.name == "Heading 1"] == ["The six steps", "Themes", "Figures"]
    quote_tables = [t for t in doc.tables if t.rows[0].cells[0].text == "Quote"]
    assert len(quote_tables) == 2  # 'later' has no fragments
    frags = {t["key"]: {(s["key"], " ".join(s["text"].split())) for s in store.theme_fragments(t["id"])}
             for t in store.themes()}
    for table, key in zip(quote_tables, ["care", "work"]):
        for row in table.rows[1:]:
            text = row.cells[0].text.strip("“”")
            who = row.cells[1].text.strip("()")
            assert (who, text) in frags[key]
    assert len(doc.inline_shapes) == 3
    heading_colour = next(p for p in doc.paragraphs if p.style.name == "Heading 2").runs[0].font.color.rgb
    assert str(heading_colour) == COLOURS["care"].lstrip("#")


# ------------------------------------------------------------------ Markdown
def test_markdown_themes_quotes_and_figure_files(outputs):
    store, d, files = outputs
    text = (d / "report.md").read_text(encoding="utf-8")
    heads = re.findall(r"^### \d+\. (.+)$", text, flags=re.M)
    assert heads == [t["name"] for t in store.themes()]
    keys = re.findall(r"^> “.+” \((F\d P\d)\)$", text, flags=re.M)
    assert len(keys) == 6
    for name in ("fragments", "heatmap", "map"):
        png = d / f"report-{name}.png"
        assert png in files["md"] and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"](report-{name}.png)" in text


def test_bad_format_and_folder_messages(outputs, tmp_path):
    from qualcode.errors import InputError
    from qualcode.reports.report import write_report

    store, _, _ = outputs
    with pytest.raises(InputError) as e:
        write_report(store, tmp_path / "report.pdf")
    assert str(e.value) == ("report format must be html, docx or md (from --format or the file extension), "
                            "not 'pdf'.")
    with pytest.raises(InputError) as e:
        write_report(store, tmp_path / "nope" / "report.html")
    assert str(e.value) == f"folder {tmp_path / 'nope'} does not exist; create it first."


# ------------------------------------------------------------------ quote choice
def test_quotes_typical_spread_over_participants_and_deterministic():
    from qualcode.reports.quotes import representative_quotes

    segs = [
        {"id": 1, "key": "F1 P1", "text": "werk geeft structuur en trots en een ritme in de week voor mij"},
        {"id": 2, "key": "F1 P1", "text": "werk geeft structuur en trots en ritme, echt structuur voor mij"},
        {"id": 3, "key": "F1 P2", "text": "structuur en trots door werk, dat geeft een ritme aan de week"},
        {"id": 4, "key": "F2 P1", "text": "de koffie in de kantine was koud vandaag en het regende buiten hard"},
        {"id": 5, "key": "F2 P2", "text": "ja"},
    ]
    picked = representative_quotes(segs, 2)
    assert [q["key"] for q in picked] == ["F1 P1", "F1 P2"]          # typical ones, two different people
    assert picked[0]["id"] in (1, 2)
    assert representative_quotes(list(reversed(segs)), 2) == picked   # order of input does not matter
    assert all(q["id"] != 5 for q in representative_quotes(segs, 4))  # too short while longer ones exist


# ------------------------------------------------------------------ rendered in a real browser
def test_html_renders_in_headless_chromium(outputs, tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        pytest.skip("Chromium is not installed (Debian package 'chromium'); .ci/run installs it")
    from PIL import Image

    _, d, _ = outputs
    shot = tmp_path / "shot.png"
    proc = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
         "--window-size=1000,1400", f"--screenshot={shot}", (d / "report.html").as_uri()],
        capture_output=True, text=True, timeout=120)
    assert shot.exists(), proc.stderr[-2000:]
    img = Image.open(shot).convert("RGB")
    assert img.size == (1000, 1400)
    colours = img.getcolors(maxcolors=1 << 20)
    non_white = sum(n for n, rgb in colours if rgb != (255, 255, 255))
    assert len(colours) > 50 and non_white > 0.02 * img.size[0] * img.size[1]
    # the first theme's colour bar (#56B4E9) is drawn
    assert any(abs(r - 0x56) < 8 and abs(g - 0xB4) < 8 and abs(b - 0xE9) < 8 for _, (r, g, b) in colours)


# ------------------------------------------------------------------ large projects stay readable
def test_many_groups_heatmap_bounded_and_spread_truncated():
    import io

    from PIL import Image

    from qualcode.reports import charts, drawing
    from qualcode.reports.report import MAX_GROUPS_LISTED, _per_group

    groups = [f"F{i}" for i in range(1, 201)]
    counts = {(1, g): i % 7 for i, g in enumerate(groups)}
    chart = charts.theme_group_heatmap([{"id": 1, "name": "Werk", "colour": "#E69F00"}], groups, counts,
                                       title="t", group_label="g")
    width, height = Image.open(io.BytesIO(drawing.to_png(chart))).size
    assert chart.width <= 1050 and width < 14 * 130 + 400 and height < 1000
    assert chart.texts("count") == []                               # no numbers in 200 narrow cells
    labels = chart.texts("group")                                   # thinned: as many as fit side by side
    assert 10 < len(labels) < 200 and labels[0].text == "F1"
    assert all(a.box[2] < b.box[0] for a, b in zip(labels, labels[1:]))
    spread = _per_group(1, groups, counts)
    assert len(spread) == MAX_GROUPS_LISTED + 1 and spread[-1] == ("…", None)
    assert [n for _, n in spread[:-1]] == [6] * MAX_GROUPS_LISTED          # the groups with most fragments
    assert _per_group(1, groups[:3], counts) == [("F1", 0), ("F2", 1), ("F3", 2)]


def test_unchanged_figures_are_reused_from_the_project(tmp_path, monkeypatch):
    """A second report with nothing changed draws no figure (not even Pillow's drawing is needed); a change draws
    the figures that show it again (issue 24)."""
    from qualcode.reports import charts
    from qualcode.reports.report import build_report

    store = make_project(tmp_path / "cache.qualcode")
    drawn = []
    for name in ("fragments_per_theme", "theme_group_heatmap", "thematic_map"):
        real = getattr(charts, name)

        def spy(*a, _real=real, **k):
            drawn.append(_real.__name__)
            return _real(*a, **k)

        spy.__name__ = name
        monkeypatch.setattr(charts, name, spy)
    first = build_report(store, "en").figures
    assert sorted(drawn) == ["fragments_per_theme", "thematic_map", "theme_group_heatmap"]
    drawn.clear()
    second = build_report(store, "en").figures
    assert drawn == [] and second == first                       # the same PNG bytes, from the project
    build_report(store, "nl")                                    # other labels: other figures
    assert len(drawn) == 3
    drawn.clear()
    with store.act("theme rename"):
        store.conn.execute("UPDATE themes SET name = 'Zorg en werk samen' WHERE key = 'care'")
    third = build_report(store, "en").figures
    assert sorted(drawn) == ["fragments_per_theme", "thematic_map", "theme_group_heatmap"]
    assert third["fragments"] != first["fragments"]
    assert store.conn.execute("SELECT COUNT(*) FROM figure_cache").fetchone()[0] == 18   # each as SVG and PNG
    store.close()


# ------------------------------------------------------------------ fragments (issue 16)
def test_quotes_are_fragments_shown_once_and_say_where_else_they_are_coded(sample_path, tiny_codebook_factory):
    """A quote is the coded fragment; a fragment coded under two themes is quoted once, with a note,
    and the other theme's section says it is coded there too."""
    from qualcode.reports.report import build_report, render_markdown
    from qualcode.store import Store

    store = Store.open(sample_path)
    try:
        tiny_codebook_factory(store)
        seg = next(s for s in store.segments(role="participant") if s["n_words"] > 40)
        words = seg["text"].split(" ")
        part = " ".join(words[3:15])
        start = seg["start"] + seg["text"].index(part)
        with store.act("codings"):
            for key in ("pros", "coach"):     # one fragment, two themes
                store.add_coding(seg["id"], store.code(key)["id"], "ann", span=(start, start + len(part)))
        report = build_report(store, language="en", figures=False)
        work, care = report.themes
        assert [(q["text"], q["key"], q["also"]) for q in work.quotes] == [
            (" ".join(part.split()), seg["key"], ["Zorg en werk"])]
        assert care.quotes == []                                    # not repeated silently ...
        assert care.elsewhere == [{"key": seg["key"], "theme": "Betaald werk", "text": " ".join(part.split())}]
        md = render_markdown(report)
        assert md.count(" ".join(part.split()[:6])) == 1            # ... and shown once in the report
        assert f"({seg['key']}) — also coded under: Zorg en werk" in md    # (Markdown-escaped, issue 23:)
        assert f"*Also coded here \\(quoted under another theme\\): \\({seg['key']}\\) Betaald werk*" in md
        assert seg["text"] not in md                               # the quote is the fragment, not the turn
    finally:
        store.close()


# ------------------------------------------------------------------ the thematic map's labels
@pytest.mark.parametrize("n_themes,n_codes", [(6, 3), (3, 6), (8, 2), (1, 7), (2, 4)])
def test_thematic_map_labels_do_not_overlap(n_themes, n_codes):
    """No two labels' boxes (themes and codes, as measured with the font that paints them) intersect, and
    no code label covers a theme's box, with long names too; every theme and code is labelled."""
    from qualcode.reports import charts, drawing

    themes = [{"id": t, "name": f"Thema {t} met een vrij lange naam over werk en zorg", "colour": "#E69F00"}
              for t in range(1, n_themes + 1)]
    codes = [{"id": 100 * t + k, "theme_id": t, "name": f"Code {k} over drempels en begeleiding",
              "display_colour": "#56B4E9", "n_segments": 10 + k} for t in range(1, n_themes + 1)
             for k in range(n_codes)]
    co = {(codes[i]["id"], codes[i + 1]["id"]): 5 + i for i in range(0, len(codes) - 1, 2)}
    chart = charts.thematic_map(themes, codes, co, title="Thematische kaart")
    labels = chart.texts("theme") + chart.texts("code")
    assert [t.text for t in chart.texts("theme")] == [ln for t in themes for ln in drawing.wrap(t["name"], 18)]
    assert [t.text for t in chart.texts("code")] == [ln for c in codes for ln in drawing.wrap(c["name"], 20)]
    boxes = [t.box for t in labels]
    clashes = [(labels[i].text, labels[j].text) for i in range(len(boxes)) for j in range(i + 1, len(boxes))
               if _overlap(boxes[i], boxes[j])]
    assert clashes == []
    theme_boxes = [(r.x, r.y, r.x + r.w, r.y + r.h) for r in chart.items
                   if isinstance(r, drawing.Rect) and r.stroke == "#E69F00"]
    assert len(theme_boxes) == n_themes
    assert [t.text for t in chart.texts("code") if any(_overlap(t.box, b) for b in theme_boxes)] == []
    inside = [t.text for t in chart.items if isinstance(t, drawing.Text)
              if t.box[0] < 0 or t.box[1] < 0 or t.box[2] > chart.width or t.box[3] > chart.height]
    assert inside == []                                            # nothing cut off at the edges


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def test_docx_quote_table_is_80_20_and_plain(outputs):
    from docx import Document

    _, d, _ = outputs
    doc = Document(str(d / "report.docx"))
    table = next(t for t in doc.tables if t.rows[0].cells[0].text in ("Citaat", "Quote"))
    grid = [c.width for c in table.columns]
    assert abs(grid[0] / sum(grid) - 0.8) < 0.01
    assert table.style.name == "Table Grid"
    quote_run = table.rows[1].cells[0].paragraphs[0].runs[0]
    assert not quote_run.bold and not quote_run.italic        # plain quote text
    assert doc.paragraphs[1].text.startswith(("Getoonde coderingen", "Codings shown"))   # whose codings, first
