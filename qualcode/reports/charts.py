"""The report's figures, laid out by qualcode as drawing primitives (:mod:`.drawing`).

Each function returns a :class:`~qualcode.reports.drawing.Chart`, which the report writes as SVG
(HTML) and PNG (DOCX, Markdown); all sizes are pixels of a nominal 96-dpi page.

* :func:`fragments_per_theme`: horizontal bars in the themes' own colours.
* :func:`theme_group_heatmap`: coded fragments per theme and focus group.
* :func:`thematic_map`: themes as large circles, their codes around them, and the
  strongest code co-occurrences as lines whose width follows the count; no label overlaps
  another, a theme's box or a marker (:func:`separate`).
"""

from __future__ import annotations

import math

from .drawing import Chart, Circle, Line, Rect, block, block_texts, colour, text_width, wrap

PAD = 14              # white margin around a figure
TITLE_SIZE = 16
LABEL_SIZE = 13       # theme names beside bars and heat-map rows
TICK_SIZE = 12
INK = "#222222"
AXIS = "#333333"


def _title(items: list, title: str, width_chars: int = 70) -> float:
    """The figure's title at its top left; returns the y below it."""
    lines = wrap(title, width_chars)
    items += block_texts(lines, PAD, PAD, TITLE_SIZE, colour=INK, role="title")
    return PAD + block(lines, TITLE_SIZE)[1] + 14


def ticks(top: float, most: int = 6) -> list[int]:
    """Round tick values (steps of 1, 2 or 5 times a power of ten) from 0 to at least ``top``, at most
    ``most`` steps."""
    if top <= 0:
        return [0, 1]
    mag = 10 ** max(0, math.floor(math.log10(top / most)))
    step = next(f * mag for f in (1, 2, 5, 10) if top / (f * mag) <= most)
    return [i * step for i in range(math.ceil(top / step) + 1)]


def _row_labels(themes: list[dict]) -> tuple[list[list[str]], float]:
    names = [wrap(t["name"], 30) for t in themes]
    return names, max((block(ls, LABEL_SIZE)[0] for ls in names), default=0.0)


def _middle(lines: list[str], size: float, centre: float) -> float:
    """The top of a label of ``lines`` centred on ``centre``."""
    return centre - block(lines, size)[1] / 2


# ------------------------------------------------------------------ bars
def fragments_per_theme(themes: list[dict], counts: dict[int, int], *, title: str, xlabel: str) -> Chart:
    """One bar per theme, top to bottom in the order given; bar length proportional to the count."""
    width = 720.0
    items: list = []
    y = _title(items, title)
    names, label_w = _row_labels(themes)
    values = [counts.get(t["id"], 0) for t in themes]
    scale = ticks(max(values, default=0))
    x0 = PAD + label_w + 10
    x1 = width - PAD - text_width(str(max(values, default=0)), TICK_SIZE) - 10
    per = (x1 - x0) / scale[-1]
    top = y
    for t, lines, v in zip(themes, names, values):
        row = max(38.0, block(lines, LABEL_SIZE)[1] + 14)
        mid = y + row / 2
        bar = row * 0.78
        items.append(Rect(x0, mid - bar / 2, v * per, bar, fill=colour(t["colour"]), stroke=AXIS, stroke_width=0.5))
        items += block_texts(lines, x0 - 8, _middle(lines, LABEL_SIZE, mid), LABEL_SIZE, anchor="end", role="theme")
        items += block_texts([str(v)], x0 + v * per + 4, _middle(["0"], TICK_SIZE, mid), TICK_SIZE, role="value")
        y += row
    y += 4
    items += [Line(x0, top - 4, x0, y, AXIS, 1.0), Line(x0, y, x1, y, AXIS, 1.0)]
    for s in scale:
        x = x0 + s * per
        items.append(Line(x, y, x, y + 5, AXIS, 1.0))
        items += block_texts([str(s)], x, y + 8, TICK_SIZE, anchor="middle", role="tick")
    y += 8 + block(["0"], TICK_SIZE)[1] + 8
    items += block_texts([xlabel], (x0 + x1) / 2, y, LABEL_SIZE, anchor="middle", role="axis")
    y += block([xlabel], LABEL_SIZE)[1] + PAD
    desc = "; ".join(f"{t['name']}: {v}" for t, v in zip(themes, values))
    return Chart(width, y, title, desc, items)


# ------------------------------------------------------------------ heat map
MAX_ANNOTATED_GROUPS = 25
# white to dark orange, light for few fragments and dark for many (a sequential scale, readable in grey)
HEAT = ((0.0, (0xFF, 0xF5, 0xEB)), (0.25, (0xFD, 0xD0, 0xA2)), (0.5, (0xFD, 0x8D, 0x3C)),
        (0.75, (0xD9, 0x48, 0x01)), (1.0, (0x7F, 0x27, 0x04)))


def heat(frac: float) -> str:
    """The heat map's colour for ``frac`` of the largest count (0..1)."""
    frac = min(max(frac, 0.0), 1.0)
    for (f0, c0), (f1, c1) in zip(HEAT, HEAT[1:]):
        if frac <= f1:
            k = (frac - f0) / (f1 - f0)
            return "#" + "".join(f"{round(a + (b - a) * k):02X}" for a, b in zip(c0, c1))
    return "#7F2704"


def theme_group_heatmap(themes: list[dict], groups: list[str], counts: dict[tuple[int, str], int], *,
                        title: str, group_label: str) -> Chart:
    """Themes down, groups across, the count in each cell (up to ``MAX_ANNOTATED_GROUPS`` groups) and
    a colour scale. Many groups (a large project) give narrow columns in a bounded width and only as
    many group labels as fit side by side."""
    items: list = []
    y = _title(items, title)
    names, label_w = _row_labels(themes)
    data = [[counts.get((t["id"], g), 0) for g in groups] for t in themes]
    most = max((v for row in data for v in row), default=0)
    x0 = PAD + label_w + 10
    n = max(len(groups), 1)
    cell = max(2.0, min(110.0, (1000 - x0 - 90) / n))
    annotate = len(groups) <= MAX_ANNOTATED_GROUPS
    top = y
    for t, lines, row in zip(themes, names, data):
        h = max(40.0, block(lines, LABEL_SIZE)[1] + 14)
        mid = y + h / 2
        items += block_texts(lines, x0 - 8, _middle(lines, LABEL_SIZE, mid), LABEL_SIZE, anchor="end", role="theme")
        for j, v in enumerate(row):
            items.append(Rect(x0 + j * cell, y, cell, h, fill=heat(v / most if most else 0.0)))
            if annotate:
                items += block_texts([str(v)], x0 + (j + 0.5) * cell, _middle(["0"], TICK_SIZE, mid), TICK_SIZE,
                                     anchor="middle", colour="#FFFFFF" if v > 0.6 * most else INK, role="count")
        y += h
    x1 = x0 + n * cell
    items.append(Rect(x0, top, x1 - x0, y - top, stroke=AXIS, stroke_width=0.8))
    widest = max((text_width(g, TICK_SIZE) for g in groups), default=0.0)
    step = max(1, math.ceil((widest + 8) / cell))
    for j in range(0, len(groups), step):
        x = x0 + (j + 0.5) * cell
        items.append(Line(x, y, x, y + 4, AXIS, 1.0))
        items += block_texts([groups[j]], x, y + 7, TICK_SIZE, anchor="middle", role="group")
    bottom = y + 7 + block(["F"], TICK_SIZE)[1] + 8
    items += block_texts([group_label], (x0 + x1) / 2, bottom, LABEL_SIZE, anchor="middle", role="axis")
    bottom += block([group_label], LABEL_SIZE)[1] + PAD
    # the colour scale: a bar of the colours from 0 (bottom) to the largest count (top), with round ticks
    lx = x1 + 18
    scale = [s for s in ticks(most or 1) if s <= (most or 1)]
    parts = 64
    for k in range(parts):   # from the bottom up, each band reaching 1 px under the next (no seam between)
        over = 1.0 if k < parts - 1 else 0.0
        items.append(Rect(lx, top + (y - top) * (parts - 1 - k) / parts - over, 14, (y - top) / parts + over,
                          fill=heat((k + 0.5) / parts)))
    items.append(Rect(lx, top, 14, y - top, stroke=AXIS, stroke_width=0.6))
    for s in scale:
        sy = y - (y - top) * s / (most or 1)
        items.append(Line(lx + 14, sy, lx + 18, sy, AXIS, 0.8))
        items += block_texts([str(s)], lx + 21, _middle(["0"], 11, sy), 11, role="tick")
    width = max(lx + 21 + text_width(str(scale[-1]), 11) + PAD, x0 + (len(groups) - 0.5) * cell + widest / 2 + PAD,
                PAD + text_width(title[:70], TITLE_SIZE) + PAD)
    desc = "; ".join(f"{t['name']}: " + ", ".join(f"{g} {v}" for g, v in zip(groups, row))
                     for t, row in zip(themes, data))
    return Chart(width, bottom, title, desc, items)


# ------------------------------------------------------------------ thematic map
def separate(movable: list[list[float]], fixed: list[list[float]], *, rounds: int = 300,
             pad: float = 3.0) -> list[tuple[float, float]]:
    """How far to move each ``movable`` box (left, top, right, bottom) so that no two of them, and none
    of them and a ``fixed`` box, overlap: each round pushes every overlapping pair apart along the line
    between their centres (a box pushed off a fixed one moves alone, and twice as far). Returns each
    box's (dx, dy). Boxes are compared only with those whose left edges are near (sorted by it), so a
    map of a hundred labels takes a fraction of a second."""
    from bisect import bisect_left

    base = [(b[0] - pad, b[1] - pad, b[2] + pad, b[3] + pad) for b in movable]
    walls = sorted((b[0] - pad, b[1] - pad, b[2] + pad, b[3] + pad) for b in fixed)
    wall_left = [w[0] for w in walls]
    widest_wall = max((w[2] - w[0] for w in walls), default=0.0)
    shift = [[0.0, 0.0] for _ in movable]
    boxes = list(base)

    def push(p, a, b, share, tie):
        dx, dy = ((a[0] + a[2]) - (b[0] + b[2])) / 2, ((a[1] + a[3]) - (b[1] + b[3])) / 2
        if not dx and not dy:
            dy = tie
        step = max(1.5, min(min(a[3], b[3]) - max(a[1], b[1]), 6.0)) * share
        norm = math.hypot(dx, dy)
        p[0] += dx / norm * step
        p[1] += dy / norm * step

    for _ in range(rounds):
        moved = False
        pushes = [[0.0, 0.0] for _ in movable]
        order = sorted(range(len(boxes)), key=lambda k: boxes[k][0])
        for n, i in enumerate(order):
            a = boxes[i]
            for j in order[n + 1:]:                       # movable boxes starting left of a's right edge
                b = boxes[j]
                if b[0] >= a[2]:
                    break
                if a[1] >= b[3] or b[1] >= a[3] or b[2] <= a[0]:
                    continue
                push(pushes[i], a, b, 0.5, 1.0 if i < j else -1.0)
                push(pushes[j], b, a, 0.5, 1.0 if j < i else -1.0)
                moved = True
            for w in walls[bisect_left(wall_left, a[0] - widest_wall):bisect_left(wall_left, a[2])]:
                if a[0] >= w[2] or a[1] >= w[3] or w[1] >= a[3]:
                    continue
                push(pushes[i], a, w, 1.0, 1.0)
                moved = True
        if not moved:
            break
        for sh, p in zip(shift, pushes):
            sh[0] += p[0]
            sh[1] += p[1]
        boxes = [(b[0] + sh[0], b[1] + sh[1], b[2] + sh[0], b[3] + sh[1]) for b, sh in zip(base, shift)]
    return [(sh[0], sh[1]) for sh in shift]


CODE_SIZE = 12.5
THEME_SIZE = 13.5
COUNT_SIZE = 11
THEME_R = 19.0
BOX_PAD = 5.0


def _code_radius(n_segments) -> float:
    return math.sqrt(40 + 25 * (n_segments or 0) ** 0.5) / 2 * 1.25


def thematic_map(themes: list[dict], codes: list[dict], cooccurrence: dict[tuple[int, int], int], *,
                 title: str, top_links: int = 8) -> Chart:
    """Themes on a circle, each theme's codes on a fan around it (facing away from the centre), the
    ``top_links`` strongest co-occurrences as grey lines with their count; no theme or code label
    overlaps another label, a theme's box or a marker."""
    n = max(len(themes), 1)
    radius = 0.0 if n == 1 else max(3.5, 1.6 * n)
    ring = max(2.3, 0.4 * radius)
    unit = max(16.0, min(36.0, 290 / (radius + ring)))       # pixels per unit of the layout
    pos_theme: dict = {}
    theme_angle: dict = {}
    for i, t in enumerate(themes):
        a = math.pi / 2 - 2 * math.pi * i / n + (math.pi / 2 if n == 2 else 0.0)
        theme_angle[t["id"]] = a
        pos_theme[t["id"]] = (radius * unit * math.cos(a), -radius * unit * math.sin(a))
    by_theme: dict = {}
    for c in codes:
        by_theme.setdefault(c["theme_id"], []).append(c)
    pos_code: dict = {}
    code_angle: dict = {}
    for tid, cs in by_theme.items():
        cx, cy = pos_theme.get(tid, (0.0, 0.0))
        k = len(cs)
        if n == 1 or tid not in theme_angle:   # a full ring
            angles = [2 * math.pi * j / max(k, 1) + 0.4 for j in range(k)]
        else:                                  # a fan facing away from the centre
            span = min(math.radians(200), math.radians(55) * max(k - 1, 1))
            angles = [theme_angle[tid] + (span * (j / (k - 1) - 0.5) if k > 1 else 0.0) for j in range(k)]
        for c, a in zip(cs, angles):
            pos_code[c["id"]] = (cx + ring * unit * math.cos(a), cy - ring * unit * math.sin(a))
            code_angle[c["id"]] = a
    names = {c["id"]: c["name"] for c in codes}
    links = sorted(((v, k) for k, v in cooccurrence.items() if v > 0 and k[0] in pos_code and k[1] in pos_code),
                   key=lambda p: (-p[0], p[1]))[:top_links]
    strongest = links[0][0] if links else 1
    # fixed things labels keep clear of: markers (a theme's box lies on its own); theme boxes in the first
    # pass (code labels only)
    markers = [(x - THEME_R, y - THEME_R, x + THEME_R, y + THEME_R) for x, y in pos_theme.values()]
    code_r = {c["id"]: _code_radius(c.get("n_segments")) for c in codes if c["id"] in pos_code}
    markers += [(x - code_r[i], y - code_r[i], x + code_r[i], y + code_r[i]) for i, (x, y) in pos_code.items()]
    # labels: (lines, size, bold, box)
    code_labels = []
    for c in codes:
        if c["id"] not in pos_code:
            continue
        x, y = pos_code[c["id"]]
        a = code_angle[c["id"]]
        lines = wrap(c["name"], 20)
        w, h = block(lines, CODE_SIZE)
        gap = code_r[c["id"]] + 4
        ax, ay = x + gap * math.cos(a), y - gap * math.sin(a)
        left = ax if math.cos(a) > 0.3 else ax - w if math.cos(a) < -0.3 else ax - w / 2
        top = ay - h if math.sin(a) > 0.3 else ay if math.sin(a) < -0.3 else ay - h / 2
        code_labels.append((lines, [left, top, left + w, top + h]))
    theme_labels = []
    for t in themes:
        x, y = pos_theme[t["id"]]
        lines = wrap(t["name"], 18)
        w, h = block(lines, THEME_SIZE, bold=True)
        theme_labels.append((lines, [x - w / 2 - BOX_PAD, y - h / 2 - BOX_PAD, x + w / 2 + BOX_PAD,
                                     y + h / 2 + BOX_PAD]))
    _move(code_labels, separate([b for _, b in code_labels], [b for _, b in theme_labels] + markers))
    everyone = theme_labels + code_labels   # themes that crowd each other (or a code's marker) too
    _move(everyone, separate([b for _, b in everyone], markers[len(pos_theme):], rounds=80))
    counts = _place_counts(links, pos_code, [b for _, b in everyone] + markers)
    # the canvas: everything drawn, moved right and down below the title
    boxes = [b for _, b in everyone] + markers + [b for _, b in counts]
    left = min(b[0] for b in boxes) if boxes else 0.0
    top_ = min(b[1] for b in boxes) if boxes else 0.0
    items: list = []
    y0 = _title(items, title, 60)
    ox, oy = PAD - left, y0 + 6 - top_
    width = max((b[2] for b in boxes), default=0.0) + ox + PAD
    width = max(width, PAD + max(text_width(ln, TITLE_SIZE) for ln in wrap(title, 60)) + PAD)
    height = max((b[3] for b in boxes), default=0.0) + oy + PAD

    def at(p):
        return p[0] + ox, p[1] + oy

    for v, (a, b) in links:
        (x1, y1), (x2, y2) = at(pos_code[a]), at(pos_code[b])
        items.append(Line(x1, y1, x2, y2, "#555555", 0.9 + 4.5 * v / strongest, opacity=0.5))
    for tid, cs in by_theme.items():
        cx, cy = at(pos_theme.get(tid, (0.0, 0.0)))
        for c in cs:
            x, y = at(pos_code[c["id"]])
            items.append(Line(cx, cy, x, y, colour(c.get("display_colour")), 1.5))
    for c in codes:
        if c["id"] in pos_code:
            x, y = at(pos_code[c["id"]])
            items.append(Circle(x, y, code_r[c["id"]], colour(c.get("display_colour"), "#BBBBBB"), "#333333", 0.7))
    for t in themes:
        x, y = at(pos_theme[t["id"]])
        items.append(Circle(x, y, THEME_R, colour(t["colour"]), "#222222", 1.2))
    for v, box in counts:
        items.append(Rect(box[0] + ox, box[1] + oy, box[2] - box[0], box[3] - box[1], fill="#FFFFFF",
                          radius=3, opacity=0.85))
        items += block_texts([str(v)], (box[0] + box[2]) / 2 + ox, box[1] + oy + (box[3] - box[1] -
                             block(["0"], COUNT_SIZE)[1]) / 2, COUNT_SIZE, anchor="middle", colour="#333333",
                             role="count")
    for t, (lines, b) in zip(themes, theme_labels):
        items.append(Rect(b[0] + ox, b[1] + oy, b[2] - b[0], b[3] - b[1], fill="#FFFFFF", stroke=colour(t["colour"]),
                          stroke_width=2.0, radius=5, opacity=0.92))
        items += block_texts(lines, (b[0] + b[2]) / 2 + ox, b[1] + oy + BOX_PAD, THEME_SIZE, anchor="middle",
                             bold=True, role="theme")
    for c, (lines, b) in zip([c for c in codes if c["id"] in pos_code], code_labels):
        anchor_x = {"start": b[0], "middle": (b[0] + b[2]) / 2, "end": b[2]}
        a = code_angle[c["id"]]
        side = "start" if math.cos(a) > 0.3 else "end" if math.cos(a) < -0.3 else "middle"
        items += block_texts(lines, anchor_x[side] + ox, b[1] + oy, CODE_SIZE, anchor=side, role="code")
    desc = "; ".join(f"{t['name']}: " + ", ".join(c["name"] for c in by_theme.get(t["id"], [])) for t in themes)
    if links:
        desc += ". " + "; ".join(f"{names[a]} – {names[b]}: {v}" for v, (a, b) in links)
    return Chart(width, height, title, desc, items)


COUNT_SPOTS = (0.5, 0.45, 0.55, 0.4, 0.6, 0.35, 0.65, 0.3, 0.7, 0.25, 0.75, 0.2, 0.8, 0.15, 0.85, 0.1, 0.9)


def _place_counts(links: list, pos: dict, taken: list) -> list[tuple[int, tuple]]:
    """Each link's count in a small box on its line: in the middle, or the spot nearest the middle
    (of ``COUNT_SPOTS``, fractions of the line) that covers no label, marker or earlier count; where
    every spot is covered, the free place nearest to the one that covers fewest."""
    placed: list[tuple[int, tuple]] = []
    for v, (a, b) in links:
        (x1, y1), (x2, y2) = pos[a], pos[b]
        w, h = text_width(str(v), COUNT_SIZE) + 4, COUNT_SIZE * 1.24
        best = None
        for f in COUNT_SPOTS:
            mx, my = x1 + (x2 - x1) * f, y1 + (y2 - y1) * f
            box = (mx - w / 2, my - h / 2, mx + w / 2, my + h / 2)
            hits = sum(box[0] < o[2] and o[0] < box[2] and box[1] < o[3] and o[1] < box[3]
                       for o in taken + [p for _, p in placed])
            if best is None or hits < best[0]:
                best = (hits, box)
            if not hits:
                break
        box = best[1]
        if best[0]:   # no free spot on the line (a short link among crowded labels): the nearest free one
            box = _nearest_free(box, taken + [p for _, p in placed])
        placed.append((v, box))
    return placed


def _nearest_free(box: tuple, taken: list, reach: float = 150.0) -> tuple:
    """``box`` moved to the nearest place (on rings 3 pixels apart, 16 directions each) where it covers
    none of ``taken``; as it is if there is none within ``reach`` pixels."""
    for r in range(3, int(reach), 3):
        for k in range(16):
            dx, dy = r * math.cos(k * math.pi / 8), r * math.sin(k * math.pi / 8)
            moved = (box[0] + dx, box[1] + dy, box[2] + dx, box[3] + dy)
            if not any(moved[0] < o[2] and o[0] < moved[2] and moved[1] < o[3] and o[1] < moved[3] for o in taken):
                return moved
    return box


def _move(labels: list, shifts: list[tuple[float, float]]) -> None:
    for (_, box), (dx, dy) in zip(labels, shifts):
        box[0] += dx
        box[2] += dx
        box[1] += dy
        box[3] += dy

