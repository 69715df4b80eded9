"""Report figures drawn with matplotlib (Agg backend, no display needed), returned as PNG bytes.

* :func:`fragments_per_theme`: horizontal bars in the themes' own colours.
* :func:`theme_group_heatmap`: coded fragments per theme and focus group.
* :func:`thematic_map`: themes as large circles, their codes around them, and the
  strongest code co-occurrences as lines whose width follows the count.
"""

from __future__ import annotations

import io
import math

from ..files.textsafe import xml_text


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _png(fig) -> bytes:
    import warnings

    from matplotlib.text import Text

    for t in fig.findobj(Text):           # labels from the project: the same filter as every output
        if t.get_text():
            t.set_text(xml_text(t.get_text()))
    buf = io.BytesIO()
    with warnings.catch_warnings():       # a character the font lacks (a C1 control) is drawn as a box
        warnings.filterwarnings("ignore", message="Glyph .* missing from", category=UserWarning)
        fig.savefig(buf, format="png", dpi=130, bbox_inches="tight", metadata={"Software": None})
    _plt().close(fig)
    return buf.getvalue()


def _wrap(text: str, width: int = 22) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width)) or text


def fragments_per_theme(themes: list[dict], counts: dict[int, int], *, title: str, xlabel: str) -> bytes:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 0.55 * max(len(themes), 2) + 1.2))
    names = [_wrap(t["name"], 30) for t in themes][::-1]
    values = [counts.get(t["id"], 0) for t in themes][::-1]
    bars = ax.barh(names, values, color=[t["colour"] for t in themes][::-1], edgecolor="#333333", linewidth=0.4)
    for b, v in zip(bars, values):
        ax.text(b.get_width(), b.get_y() + b.get_height() / 2, f" {v}", va="center", fontsize=9)
    ax.set_title(title, fontsize=12, loc="left")
    ax.set_xlabel(xlabel)
    ax.spines[["top", "right"]].set_visible(False)
    ax.margins(x=0.12)
    return _png(fig)


MAX_ANNOTATED_GROUPS = 25


def theme_group_heatmap(themes: list[dict], groups: list[str], counts: dict[tuple[int, str], int], *,
                        title: str, group_label: str) -> bytes:
    """Themes down, groups across. Many groups (a large project) give a fixed-width figure, counts
    written in the cells only up to ``MAX_ANNOTATED_GROUPS`` groups, and thinned group labels."""
    plt = _plt()
    data = [[counts.get((t["id"], g), 0) for g in groups] for t in themes]
    width = min(14.0, 1.1 * max(len(groups), 2) + 3.5)
    fig, ax = plt.subplots(figsize=(width, 0.55 * max(len(themes), 2) + 1.4))
    im = ax.imshow(data or [[0]], cmap="Oranges", aspect="auto", vmin=0, interpolation="nearest")
    step = max(1, -(-len(groups) // 30))
    ax.set_xticks(range(0, len(groups), step), groups[::step], rotation=90 if step > 1 else 0,
                  fontsize=8 if step > 1 else 10)
    ax.set_yticks(range(len(themes)), [_wrap(t["name"], 30) for t in themes])
    if len(groups) <= MAX_ANNOTATED_GROUPS:
        top = max((v for row in data for v in row), default=0) or 1
        for i, row in enumerate(data):
            for j, v in enumerate(row):
                ax.text(j, i, str(v), ha="center", va="center", fontsize=9,
                        color="white" if v > 0.6 * top else "black")
    ax.set_xlabel(group_label)
    ax.set_title(title, fontsize=12, loc="left")
    fig.colorbar(im, ax=ax, fraction=0.04, pad=0.02)
    return _png(fig)


def thematic_map(themes: list[dict], codes: list[dict], cooccurrence: dict[tuple[int, int], int], *,
                 title: str, top_links: int = 8) -> bytes:
    """Themes on a circle, each theme's codes on a small circle around it, strongest co-occurrences as lines."""
    plt = _plt()
    n = max(len(themes), 1)
    fig, ax = plt.subplots(figsize=(9, 8.5) if n > 3 else (9, 6))
    radius = 0 if n == 1 else max(3.5, 1.6 * n)
    ring = max(2.3, 0.4 * radius)
    pos_theme, pos_code = {}, {}
    theme_angle, code_angle = {}, {}
    for i, t in enumerate(themes):
        a = math.pi / 2 - 2 * math.pi * i / n + (math.pi / 2 if n == 2 else 0.0)
        theme_angle[t["id"]] = a
        pos_theme[t["id"]] = (radius * math.cos(a), radius * math.sin(a))
    by_theme: dict = {}
    for c in codes:
        by_theme.setdefault(c["theme_id"], []).append(c)
    for tid, cs in by_theme.items():
        cx, cy = pos_theme.get(tid, (0.0, 0.0))
        k = len(cs)
        if n == 1 or tid not in theme_angle:   # a full ring
            angles = [2 * math.pi * j / max(k, 1) + 0.4 for j in range(k)]
        else:                                  # a fan facing away from the centre
            span = min(math.radians(200), math.radians(55) * max(k - 1, 1))
            angles = [theme_angle[tid] + (span * (j / (k - 1) - 0.5) if k > 1 else 0.0) for j in range(k)]
        for c, a in zip(cs, angles):
            pos_code[c["id"]] = (cx + ring * math.cos(a), cy + ring * math.sin(a))
            code_angle[c["id"]] = a
    links = sorted(((v, k) for k, v in cooccurrence.items() if v > 0 and k[0] in pos_code and k[1] in pos_code),
                   key=lambda p: (-p[0], p[1]))[:top_links]
    top = links[0][0] if links else 1
    for v, (a, b) in links:
        (x1, y1), (x2, y2) = pos_code[a], pos_code[b]
        ax.plot([x1, x2], [y1, y2], color="#555555", alpha=0.55, linewidth=0.8 + 4 * v / top, zorder=1)
        ax.text((x1 + x2) / 2, (y1 + y2) / 2, str(v), fontsize=7, color="#333333", zorder=1.5,
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8})
    for tid, cs in by_theme.items():
        cx, cy = pos_theme.get(tid, (0.0, 0.0))
        for c in cs:
            x, y = pos_code[c["id"]]
            ax.plot([cx, x], [cy, y], color=c.get("display_colour") or "#999999", linewidth=1.2, zorder=1)
            size = 40 + 25 * (c.get("n_segments") or 0) ** 0.5
            ax.scatter([x], [y], s=size, color=c.get("display_colour") or "#BBBBBB", edgecolor="#333333",
                       linewidth=0.5, zorder=2)
            a = code_angle[c["id"]]
            ha = "left" if math.cos(a) > 0.3 else "right" if math.cos(a) < -0.3 else "center"
            va = "bottom" if math.sin(a) > 0.3 else "top" if math.sin(a) < -0.3 else "center"
            ax.text(x + 0.45 * math.cos(a), y + 0.45 * math.sin(a), _wrap(c["name"], 20), ha=ha, va=va,
                    fontsize=7.5, zorder=3)
    for t in themes:
        x, y = pos_theme[t["id"]]
        ax.scatter([x], [y], s=900, color=t["colour"], edgecolor="#222222", linewidth=1, zorder=2)
        ax.text(x, y, _wrap(t["name"], 18), ha="center", va="center", fontsize=8.5, fontweight="bold", zorder=5,
                bbox={"boxstyle": "round,pad=0.3", "fc": "white", "ec": t["colour"], "lw": 1.5, "alpha": 0.92})
    ax.set_title(_wrap(title, 60), fontsize=11, loc="left")
    ax.set_aspect("equal")
    ax.axis("off")
    ax.margins(0.15)
    return _png(fig)
