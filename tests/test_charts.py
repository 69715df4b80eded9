"""The report's figures as drawing primitives (qualcode.reports.charts) and their two renderings
(qualcode.reports.drawing): the description holds the right values, the SVG is safe, well-formed
XML, and SVG and PNG put the same text in the same place at the same width."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import pytest

from qualcode.files.textsafe import xml_text
from qualcode.reports import charts, drawing

SVG = "{http://www.w3.org/2000/svg}"
THEMES = [{"id": 1, "name": "Een onbetaald, stapsgewijs voortraject", "colour": "#E69F00"},
          {"id": 2, "name": "Wanneer meteen betaald werk een goed idee is", "colour": "#0072B2"},
          {"id": 3, "name": "Financiële zorgen en het ‘uitkeringsval’-gevoel", "colour": "#56b4e9"},
          {"id": 4, "name": "Leeg", "colour": "#CC79A7"}]
COUNTS = {1: 84, 2: 22, 3: 46, 4: 0}


def _bars(chart):
    return [r for r in chart.items if isinstance(r, drawing.Rect) and r.stroke == charts.AXIS and r.fill]


def test_bar_lengths_are_proportional_to_the_counts_and_every_theme_is_labelled():
    chart = charts.fragments_per_theme(THEMES, COUNTS, title="Gecodeerde fragmenten per thema",
                                       xlabel="gecodeerde fragmenten")
    bars = _bars(chart)
    assert [b.fill for b in bars] == ["#E69F00", "#0072B2", "#56B4E9", "#CC79A7"]   # the codebook's colours, in order
    assert [b.y for b in bars] == sorted(b.y for b in bars)                          # first theme on top
    per = bars[0].w / 84
    assert [round(b.w / per, 6) for b in bars] == [84, 22, 46, 0]
    assert [t.text for t in chart.texts("value")] == ["84", "22", "46", "0"]
    for bar, value in zip(bars, chart.texts("value")):                              # each count at its bar's end
        assert value.x == pytest.approx(bar.x + bar.w + 4) and bar.y < value.y < bar.y + bar.h
    labels = " ".join(t.text for t in chart.texts("theme"))
    assert all(" ".join(drawing.wrap(t["name"], 30)) in labels for t in THEMES)
    ticks = [int(t.text) for t in chart.texts("tick")]
    assert ticks[0] == 0 and ticks[-1] >= 84 and len(ticks) <= 7
    assert chart.texts("title")[0].text == "Gecodeerde fragmenten per thema"
    assert chart.desc.startswith("Een onbetaald, stapsgewijs voortraject: 84; Wanneer")
    assert max(t.box[2] for t in chart.texts()) <= chart.width                     # no text cut off
    assert min(t.box[0] for t in chart.texts()) >= 0


def test_heatmap_cells_darker_for_more_fragments_with_readable_counts():
    groups = ["F1", "F2", "F3"]
    counts = {(1, "F1"): 27, (1, "F2"): 26, (1, "F3"): 31, (2, "F1"): 8, (2, "F2"): 0, (2, "F3"): 7,
              (3, "F1"): 41, (3, "F2"): 1, (4, "F3"): 15}
    chart = charts.theme_group_heatmap(THEMES, groups, counts, title="t", group_label="focusgroep")
    cells = [r for r in chart.items if isinstance(r, drawing.Rect) and r.fill and r.w > 20]
    assert len(cells) == len(THEMES) * len(groups)
    values = [counts.get((t["id"], g), 0) for t in THEMES for g in groups]
    assert [t.text for t in chart.texts("count")] == [str(v) for v in values]

    def luminance(c):
        r, g, b = (int(c[i:i + 2], 16) for i in (1, 3, 5))
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    by_count = sorted(zip(values, (luminance(c.fill) for c in cells)))
    assert all(l1 >= l2 for (v1, l1), (v2, l2) in zip(by_count, by_count[1:]) if v1 <= v2)   # more: darker
    assert all(l1 > l2 for (v1, l1), (v2, l2) in zip(by_count, by_count[1:]) if v1 < v2)
    assert cells[values.index(0)].fill == charts.heat(0.0) and cells[values.index(41)].fill == charts.heat(1.0)
    for t, v in zip(chart.texts("count"), values):              # light text on the darkest cells only
        assert t.colour == ("#FFFFFF" if v > 0.6 * 41 else charts.INK)
    assert [t.text for t in chart.texts("group")] == groups
    assert [t.text for t in chart.texts("axis")] == ["focusgroep"]


def test_heat_scale_and_ticks():
    lum = [sum(int(charts.heat(f / 10)[i:i + 2], 16) for i in (1, 3, 5)) for f in range(11)]
    assert lum == sorted(lum, reverse=True) and len(set(lum)) == 11
    assert charts.ticks(0) == [0, 1]
    assert charts.ticks(27) == [0, 5, 10, 15, 20, 25, 30]
    assert charts.ticks(92) == [0, 20, 40, 60, 80, 100]
    assert charts.ticks(6) == [0, 1, 2, 3, 4, 5, 6]
    assert charts.ticks(12345)[-1] >= 12345 and len(charts.ticks(12345)) <= 7


HOSTILE = [{"id": 1, "name": "</text><script>alert(1)</script> & <b>vet</b>\x07", "colour": "red\" onload=\"x"},
           {"id": 2, "name": "]]><!-- ' \"", "colour": "#12345"}]


@pytest.mark.parametrize("make", [
    lambda: charts.fragments_per_theme(HOSTILE, {1: 3, 2: 1}, title="T <i>", xlabel="x & y"),
    lambda: charts.theme_group_heatmap(HOSTILE, ["F1", "<F2>"], {(1, "F1"): 2}, title="t", group_label="g"),
    lambda: charts.thematic_map(HOSTILE, [{"id": 9, "theme_id": 1, "name": "<code>", "display_colour": "url(#x)",
                                           "n_segments": 3}], {}, title="kaart"),
], ids=["bars", "heatmap", "map"])
def test_svg_is_well_formed_xml_without_script_and_names_stay_text(make):
    chart = make()
    svg = drawing.to_svg(chart, "figure-x")
    root = ET.fromstring(svg)                                       # well-formed XML
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    assert root.get("aria-labelledby") == "figure-x-title figure-x-desc"
    assert root.find(f"{SVG}title").text == chart.title
    assert root.find(f"{SVG}desc").text == xml_text(chart.desc)     # the control character replaced
    tags = {el.tag for el in root.iter()}
    assert tags <= {f"{SVG}{t}" for t in ("svg", "title", "desc", "rect", "line", "circle", "text")}
    assert not [a for el in root.iter() for a in el.attrib if a.startswith("on") or "href" in a]
    colours = {v for el in root.iter() for a, v in el.attrib.items() if a in ("fill", "stroke")}
    assert all(c == "none" or c.startswith("#") and len(c) == 7 for c in colours), colours   # "red\" onload" never
    texts = [el.text for el in root.iter(f"{SVG}text")]
    assert texts == [t.text for t in chart.texts()]                # the names as text, not markup
    assert "\x07" not in svg and "<script" not in svg


def test_svg_and_png_place_the_same_texts_at_the_measured_width():
    """The PNG paints each text with the font it was measured with: its ink spans about the measured
    width; the SVG gives a browser that width as textLength, so both renderings lay out alike."""
    from PIL import Image

    t = drawing.text(20, 40, "Financiële zorgen", 16, colour="#000000")
    chart = drawing.Chart(width=200, height=60, title="t", items=[t])
    root = ET.fromstring(drawing.to_svg(chart))
    el = root.find(f"{SVG}text")
    assert float(el.get("textLength")) == pytest.approx(t.width, abs=0.05) and el.get("x") == "20"
    img = Image.open(io.BytesIO(drawing.to_png(chart))).convert("L")
    assert img.size == (200 * drawing.SCALE, 60 * drawing.SCALE)
    ink = img.point(lambda v: 255 if v < 128 else 0).getbbox()
    left, top, right, bottom = (v / drawing.SCALE for v in ink)
    assert abs(left - 20) < 2 and abs(right - (20 + t.width)) < 2         # starts at x, as wide as measured
    assert bottom <= 40 + drawing.DESCENT * 16 + 0.5 and top >= 40 - drawing.ASCENT * 16 - 0.5   # inside its box
    assert drawing.text_width("ë", 16) > 0 and drawing.text_width("Wwww", 16) > drawing.text_width("iiii", 16)


def test_png_paints_the_codebook_colours():
    from PIL import Image

    chart = charts.fragments_per_theme(THEMES, COUNTS, title="t", xlabel="x")
    img = Image.open(io.BytesIO(drawing.to_png(chart))).convert("RGB")
    colours = {rgb for _, rgb in img.getcolors(maxcolors=1 << 20)}
    for t in THEMES[:3]:
        assert tuple(int(t["colour"][i:i + 2], 16) for i in (1, 3, 5)) in colours


def test_separate_moves_overlapping_boxes_apart_and_leaves_free_ones():
    movable = [[0, 0, 50, 10], [10, 2, 60, 12], [200, 200, 220, 210]]
    fixed = [[20, -20, 40, 30]]
    shifts = charts.separate([list(b) for b in movable], fixed)
    moved = [(b[0] + dx, b[1] + dy, b[2] + dx, b[3] + dy) for b, (dx, dy) in zip(movable, shifts)]
    assert shifts[2] == (0.0, 0.0)
    boxes = moved + [tuple(fixed[0])]
    assert not [(i, j) for i in range(len(boxes)) for j in range(i + 1, len(boxes))
                if boxes[i][0] < boxes[j][2] and boxes[j][0] < boxes[i][2]
                and boxes[i][1] < boxes[j][3] and boxes[j][1] < boxes[i][3]]


def test_any_text_a_project_holds_is_measured_and_painted():
    """Control characters (C0 are replaced, C1 kept), right-to-left marks, emoji and combining accents:
    measured and painted without error, the same width every time (Pillow's basic layout, no libraqm)."""
    name = "\ufffd\x00] c1[\x80\x81\x82\x83\x84\x85\x86\u202e\u200f x\U0001F600 e\u0301 " + "é" * 3
    chart = charts.fragments_per_theme([{"id": 1, "name": name, "colour": "#E69F00"}], {1: 2}, title=name,
                                       xlabel=name)
    assert drawing.to_png(chart).startswith(b"\x89PNG") and ET.fromstring(drawing.to_svg(chart)) is not None
    assert drawing.text_width(xml_text(name), 13) == drawing.text_width(xml_text(name), 13) > 0
