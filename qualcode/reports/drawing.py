"""Report figures as simple drawing primitives, rendered twice: as SVG text and as PNG.

A chart function (:mod:`.charts`) lays its figure out once, in pixels of a nominal 96-dpi page,
as a :class:`Chart` of :class:`Rect`, :class:`Line`, :class:`Circle` and :class:`Text` items
(painted in list order). :func:`to_svg` writes it as an SVG document (inline in the HTML report:
crisp at any zoom, its text selectable, a ``<title>`` and ``<desc>`` for screen readers) and
:func:`to_png` paints it with Pillow (the DOCX report and Markdown's image files).

Every text is measured with the font the PNG is painted with (Lato, from the ``font-lato``
package, regular and bold), so a layout that avoids overlaps in the PNG avoids them in the SVG
too: each SVG text carries its measured width as ``textLength``, and a browser without Lato
stretches or squeezes its fallback font to exactly that width. No system font is used.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from functools import lru_cache
from html import escape   # (xml.sax.saxutils would load urllib, http and email: 20 ms)

from ..codebook.yamlfile import normalise_colour
from ..files.textsafe import xml_text

SCALE = 1.5          # PNG pixels per chart pixel (a 720-px figure is 1080 px wide: 170 dpi across an A4 page)
SUPERSAMPLE = 2      # circles and slanted lines painted this many times larger again and reduced: smooth
FONT_FAMILY = "Lato, 'Helvetica Neue', Arial, sans-serif"
ASCENT = 0.80        # of the font size: a text's box above its baseline (Lato's capitals and ascenders)
DESCENT = 0.22       # ... and below it (descenders); a line of text is 1.02 x size tall
LINE_HEIGHT = 1.25   # of the font size: from one baseline to the next in a label of several lines


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float
    fill: str | None = None
    stroke: str | None = None
    stroke_width: float = 0.0
    radius: float = 0.0
    opacity: float = 1.0


@dataclass(frozen=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    colour: str
    width: float = 1.0
    opacity: float = 1.0


@dataclass(frozen=True)
class Circle:
    cx: float
    cy: float
    r: float
    fill: str
    stroke: str | None = None
    stroke_width: float = 0.0


@dataclass(frozen=True)
class Text:
    """One line of text; ``y`` is its baseline, ``anchor`` says whether ``x`` is its start, middle or
    end. ``width`` is as measured (:func:`text_width`); ``role`` names what it labels (for tests and
    readers of the description: "title", "axis", "tick", "value", "theme", "code", "count", "group")."""
    x: float
    y: float
    text: str
    size: float
    width: float
    colour: str = "#222222"
    anchor: str = "start"
    bold: bool = False
    role: str = ""

    @property
    def box(self) -> tuple[float, float, float, float]:
        """Its box as drawn: (left, top, right, bottom)."""
        left = self.x - {"start": 0.0, "middle": self.width / 2, "end": self.width}[self.anchor]
        return (left, self.y - ASCENT * self.size, left + self.width, self.y + DESCENT * self.size)


@dataclass
class Chart:
    """A figure: its size in pixels, what it shows in words (``title`` for the figure's heading,
    ``desc`` for screen readers: the numbers it draws) and its items: the shapes painted in order,
    then the texts over all of them (in both renderings)."""
    width: float
    height: float
    title: str
    desc: str = ""
    items: list = field(default_factory=list)

    def texts(self, role: str | None = None) -> list[Text]:
        return [t for t in self.items if isinstance(t, Text) and (role is None or t.role == role)]


# ------------------------------------------------------------------ text
@lru_cache(maxsize=64)
def _font(px: float, bold: bool):
    import font_lato
    from PIL import ImageFont

    # Pillow's basic layout (FreeType with kerning), never libraqm: the same widths wherever qualcode
    # runs, and no failure on text raqm refuses (a run of C1 control characters)
    return ImageFont.truetype(font_lato.font_files["LatoBold" if bold else "Lato"], px,
                              layout_engine=ImageFont.Layout.BASIC)


@lru_cache(maxsize=4096)   # a layout measures the same label more than once
def text_width(text: str, size: float, bold: bool = False) -> float:
    """Width in chart pixels of ``text`` at ``size`` pixels, as the PNG paints it."""
    return _font(size * SCALE, bold).getlength(text) / SCALE


def text(x: float, y: float, s: str, size: float, *, colour: str = "#222222", anchor: str = "start",
         bold: bool = False, role: str = "") -> Text:
    """A measured :class:`Text`; the string goes through the character filter every output uses."""
    s = xml_text(s)
    return Text(x, y, s, size, text_width(s, size, bold), colour, anchor, bold, role)


def wrap(s: str, width: int) -> list[str]:
    import textwrap

    return textwrap.wrap(s, width, break_on_hyphens=False) or [s]


def block(lines: list[str], size: float, bold: bool = False) -> tuple[float, float]:
    """Width and height of a label of several lines."""
    w = max((text_width(xml_text(ln), size, bold) for ln in lines), default=0.0)
    return w, (len(lines) - 1) * LINE_HEIGHT * size + (ASCENT + DESCENT) * size


def block_texts(lines: list[str], x: float, top: float, size: float, **kw) -> list[Text]:
    """The lines of a label whose box starts at ``top``; ``x`` as ``anchor`` says."""
    return [text(x, top + ASCENT * size + i * LINE_HEIGHT * size, ln, size, **kw) for i, ln in enumerate(lines)]


# ------------------------------------------------------------------ SVG
def colour(value, default: str = "#999999") -> str:
    """``value`` as '#RRGGBB', or ``default`` for anything else (a colour from the project is never
    written into the SVG or handed to Pillow unchecked)."""
    return normalise_colour(value) or default


def _n(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def to_svg(chart: Chart, ident: str = "figure") -> str:
    """The chart as an SVG document (no script, no external reference); ``ident`` prefixes the ids
    of its title and description, so several figures can sit inline in one HTML page."""
    w, h = _n(chart.width), _n(chart.height)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" '
           f'role="img" aria-labelledby="{ident}-title {ident}-desc" font-family="{escape(FONT_FAMILY)}">',
           f'<title id="{ident}-title">{escape(xml_text(chart.title), quote=False)}</title>',
           f'<desc id="{ident}-desc">{escape(xml_text(chart.desc), quote=False)}</desc>',
           f'<rect width="{w}" height="{h}" fill="#ffffff"/>']
    for it in [it for it in chart.items if not isinstance(it, Text)] + chart.texts():
        if isinstance(it, Rect):
            a = f'x="{_n(it.x)}" y="{_n(it.y)}" width="{_n(it.w)}" height="{_n(it.h)}"'
            if it.radius:
                a += f' rx="{_n(it.radius)}"'
            out.append(f"<rect {a}{_paint(it.fill, it.stroke, it.stroke_width, it.opacity)}/>")
        elif isinstance(it, Line):
            out.append(f'<line x1="{_n(it.x1)}" y1="{_n(it.y1)}" x2="{_n(it.x2)}" y2="{_n(it.y2)}" '
                       f'stroke="{colour(it.colour)}" stroke-width="{_n(it.width)}" stroke-linecap="round"'
                       + (f' stroke-opacity="{it.opacity:.2f}"' if it.opacity < 1 else "") + "/>")
        elif isinstance(it, Circle):
            out.append(f'<circle cx="{_n(it.cx)}" cy="{_n(it.cy)}" r="{_n(it.r)}"'
                       f"{_paint(it.fill, it.stroke, it.stroke_width)}/>")
        elif isinstance(it, Text):
            anchor = "" if it.anchor == "start" else f' text-anchor="{it.anchor}"'
            out.append(f'<text x="{_n(it.x)}" y="{_n(it.y)}" font-size="{_n(it.size)}" fill="{colour(it.colour)}"{anchor}'
                       + (' font-weight="bold"' if it.bold else "")
                       + (f' textLength="{it.width:.1f}" lengthAdjust="spacingAndGlyphs"' if it.width else "")
                       + f">{escape(it.text, quote=False)}</text>")
    out.append("</svg>")
    return "\n".join(out)


def _paint(fill, stroke, stroke_width, opacity=1.0) -> str:
    s = f' fill="{colour(fill) if fill else "none"}"'
    if opacity < 1:
        s += f' fill-opacity="{opacity:.2f}"'
    if stroke and stroke_width:
        s += f' stroke="{colour(stroke)}" stroke-width="{_n(stroke_width)}"'
    return s


# ------------------------------------------------------------------ PNG
def _rgba(value: str, opacity: float = 1.0) -> tuple[int, int, int, int]:
    c = colour(value).lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16), round(255 * opacity)


def to_png(chart: Chart) -> bytes:
    """The chart painted with Pillow at ``SCALE`` PNG pixels per chart pixel: its shapes (painted
    ``SUPERSAMPLE`` times larger again and reduced when there are circles or slanted lines, so they
    are smooth), then its texts over them (FreeType smooths those itself)."""
    from PIL import Image, ImageDraw

    shapes = [it for it in chart.items if not isinstance(it, Text)]
    ss = SUPERSAMPLE if any(isinstance(it, Circle) or isinstance(it, Line) and it.x1 != it.x2 and it.y1 != it.y2
                            for it in shapes) else 1   # rectangles and level lines are sharp as they are
    img = Image.new("RGB", (math.ceil(chart.width * SCALE) * ss, math.ceil(chart.height * SCALE) * ss), "white")
    _shapes(ImageDraw.Draw(img, "RGBA"), shapes, SCALE * ss)
    if ss > 1:
        img = img.reduce(ss)
    draw = ImageDraw.Draw(img, "RGBA")
    for it in chart.texts():
        draw.text((it.x * SCALE, it.y * SCALE), it.text, font=_font(it.size * SCALE, it.bold),
                  fill=_rgba(it.colour), anchor={"start": "ls", "middle": "ms", "end": "rs"}[it.anchor])
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=3)
    return buf.getvalue()


def _shapes(draw, items: list, k: float) -> None:
    """Paint ``items`` (no texts) in order, ``k`` image pixels per chart pixel."""
    for it in items:
        if isinstance(it, Rect):
            box = [it.x * k, it.y * k, (it.x + it.w) * k, (it.y + it.h) * k]
            fill = _rgba(it.fill, it.opacity) if it.fill else None
            outline = _rgba(it.stroke) if it.stroke and it.stroke_width else None
            width = max(1, round(it.stroke_width * k)) if outline else 0
            if it.radius:
                draw.rounded_rectangle(box, radius=it.radius * k, fill=fill, outline=outline, width=width)
            else:
                draw.rectangle(box, fill=fill, outline=outline, width=width)
        elif isinstance(it, Line):
            width = max(1, round(it.width * k))
            ends = [(it.x1 * k, it.y1 * k), (it.x2 * k, it.y2 * k)]
            draw.line(ends, fill=_rgba(it.colour, it.opacity), width=width)
            if width > 3 and it.opacity == 1:   # round caps, as the SVG's (not on see-through lines: no darker dots)
                for x, y in ends:
                    draw.ellipse([x - width / 2, y - width / 2, x + width / 2, y + width / 2], fill=_rgba(it.colour))
        elif isinstance(it, Circle):
            box = [(it.cx - it.r) * k, (it.cy - it.r) * k, (it.cx + it.r) * k, (it.cy + it.r) * k]
            outline = _rgba(it.stroke) if it.stroke and it.stroke_width else None
            draw.ellipse(box, fill=_rgba(it.fill), outline=outline,
                         width=max(1, round(it.stroke_width * k)) if outline else 0)
