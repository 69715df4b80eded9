"""The supervisor report (step 6): HTML, DOCX or Markdown.

:func:`build_report` gathers everything from the store once (themes in the
order the student set, their status, definition, key messages, spread over
groups and participants, representative quotes with "(F2 P2)" keys, supervisor
comments, the six steps' state and the figures); the writers only lay it out.
HTML is one self-contained file (figures as inline SVG, print CSS); DOCX uses
Word's own heading styles, a table per theme's quotes and embedded figures (PNG);
Markdown writes its figures next to it as PNG files. Each figure is laid out once
(qualcode.reports.charts) and rendered as SVG and PNG (qualcode.reports.drawing). Every writer passes the report's text
through qualcode.files.textsafe (characters XML cannot hold replaced) and writes its files atomically.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..files import atomic
from ..codebook.yamlfile import normalise_colour
from ..errors import InputError
from ..files.textsafe import xml_safe_tree
from ..reports.catalogues import all_catalogues
from .quotes import report_quotes
from ..store.core import exported

FORMATS = ("html", "docx", "md")
N_QUOTES = 3
MAX_GROUPS_LISTED = 12

LABELS = all_catalogues()   # language -> its strings (qualcode.reports.catalogues)


@dataclass
class ThemeSection:
    id: int
    key: str
    name: str
    colour: str
    status: str
    status_label: str
    definition: str
    key_messages: list[str]
    fragments: int
    groups: int
    participants: int
    per_group: list[tuple[str, int]]
    codes: list[dict]
    quotes: list[dict]          # text, key, segment_id, participant_id, also (other themes coding this fragment)
    supervisor: list[dict]
    elsewhere: list[dict] = field(default_factory=list)  # quotes of earlier themes coded here too: key, theme
    memos: list[dict] = field(default_factory=list)      # the researcher's own theme memos (--memos)


@dataclass(frozen=True)
class Figure:
    """One figure as the writers need it: SVG for the HTML report, PNG for DOCX and Markdown (empty
    when the report was built without: ``build_report(png=False)``)."""
    svg: str
    png: bytes = b""


@dataclass
class Report:
    language: str
    labels: dict
    project: str
    generated: str
    steps: list[dict]
    themes: list[ThemeSection]
    whose: str = ""                                           # whose codings it shows (its first lines)
    figures: dict[str, Figure] = field(default_factory=dict)  # name -> the figure as SVG and PNG
    captions: dict[str, str] = field(default_factory=dict)


def build_report(store, language: str | None = None, *, n_quotes: int = N_QUOTES, figures: bool = True,
                 png: bool = True, coders=None, memos: bool = False, progress=None) -> Report:
    """Everything the report shows, in the theme order the student set, from the codings of
    ``coders`` (names as ``--coder``; default: the project's analyst, see qualcode.coding.coders).
    ``memos``: also each theme's own memos (not only supervisor comments). ``png``: the figures as PNG
    too (DOCX and Markdown need it; the HTML report shows their SVG). ``progress``: a callback
    ``progress(items, label)`` (qualcode.cli.progress) or None."""
    from ..coding.coders import resolve_coders
    from ..text.lemmas import load
    from . import charts

    lang = language or ("nl" if store.language == "nl" else "en")
    if lang not in LABELS:
        raise InputError(f"report language must be one of {', '.join(LABELS)}, not '{lang}'.")
    L = LABELS[lang]
    whose = resolve_coders(store, coders)
    who = list(whose.coders)
    themes = store.themes()
    spread = store.theme_spread(who)
    by_group = store.theme_by_group(who)
    groups = store.groups()
    codes = store.codes(coders=who)
    sections = []
    fragments = {t["id"]: store.theme_fragments(t["id"], who)
                 for t in (themes if progress is None else progress(themes, "reading themes"))}
    coded_under: dict[int, list[str]] = {}  # segment id -> names of the themes coding (part of) it
    for t in themes:
        for f in fragments[t["id"]]:
            names = coded_under.setdefault(f["segment_id"], [])
            if t["name"] not in names:
                names.append(t["name"])
    # each turn is quoted once per report (qualcode.reports.quotes.report_quotes)
    quotes = report_quotes(store, themes, fragments, n_quotes, docs_cache={}, lemmas=load(store).content)
    shown: list[tuple[dict, str]] = []
    for t in themes:
        sp = spread.get(t["id"], {})
        mine = {f["segment_id"] for f in fragments[t["id"]]}
        elsewhere = [{"key": q["key"], "theme": name, "text": q["quote"]} for q, name in shown
                     if q["segment_id"] in mine]
        picked = quotes[t["id"]]
        shown += [(q, t["name"]) for q in picked]
        sections.append(ThemeSection(
            # a colour that is not #RRGGBB (a project from before colours were checked) would be CSS
            # in the HTML report's style attribute: fall back to grey
            id=t["id"], key=t["key"], name=t["name"], colour=normalise_colour(t["colour"]) or "#999999",
            status=t["status"],
            status_label=L["status_names"].get(t["status"], t["status"]), definition=t["definition"],
            key_messages=list(t["key_messages"]), fragments=sp.get("fragments", 0), groups=sp.get("groups", 0),
            participants=sp.get("participants", 0),
            per_group=_per_group(t["id"], groups, by_group),
            codes=[c for c in codes if c["theme_id"] == t["id"]],
            quotes=[{"text": q["quote"], "key": q["key"], "segment_id": q["segment_id"],
                     "participant_id": q["participant_id"], "pinned": q["pinned"],
                     "also": [n for n in coded_under.get(q["segment_id"], []) if n != t["name"]]} for q in picked],
            supervisor=store.memos("theme", t["id"], kind="supervisor"), elsewhere=elsewhere,
            memos=store.memos("theme", t["id"], kind="memo") if memos else []))
    c = store.step_counts(who)
    c["reviewed"] = c["status_reviewed"] + c["status_defined"] + c["status_reported"]
    n = c["themes"]
    done = [c["sources"] > 0, c["codings"] > 0, n > 0 and c["themes_with_codes"] == n,
            n > 0 and c["reviewed"] == n, n > 0 and c["themes_defined"] == n, n > 0 and c["status_reported"] == n]
    steps = [{"n": i + 1, "name": L["step_names"][i], "state": L[f"s{i + 1}"].format(**c), "done": done[i]}
             for i in range(6)]
    report = Report(language=lang, labels=L, project=store.meta("name") or Path(store.path).stem,
                    generated=f"{_dt.datetime.now():%Y-%m-%d %H:%M}, {L['as_of'].format(**store.as_of())}",
                    steps=steps, themes=sections, whose=whose.describe(L))
    if figures and themes:
        figs = _Figures(store, png)
        if progress is not None:
            list(progress(["figures"], "drawing figures"))
        report.figures["fragments"] = figs.draw(
            "fragments", charts.fragments_per_theme, themes, {t["id"]: spread.get(t["id"], {}).get("fragments", 0) for t in themes},
            title=L["fig_fragments"], xlabel=L["n_fragments"])
        report.figures["heatmap"] = figs.draw("heatmap", charts.theme_group_heatmap, themes, groups, by_group,
                                              title=L["fig_heatmap"], group_label=L["focus_group"])
        report.figures["map"] = figs.draw("map", charts.thematic_map, themes, codes, store.code_cooccurrence(who),
                                          title=L["fig_map"])
        figs.save()
        report.captions = {"fragments": L["fig_fragments"], "heatmap": L["fig_heatmap"], "map": L["fig_map"]}
    return report


class _Figures:
    """Lays out and renders a figure only when the project holds none of exactly the same figure (the
    same chart function and inputs, the same drawing code, Pillow and font), and stores what it
    rendered (its SVG and its PNG, two entries of the figure cache) for the next report. With ``png``
    false only the SVG is made (an HTML report)."""

    def __init__(self, store, png: bool = True):
        import hashlib

        from PIL import __version__ as pillow   # PIL's package alone: its drawing modules load when needed

        from ..text.nlp import package_version

        self.store = store
        # the drawing code itself: a change to how a figure is laid out or painted draws it anew
        code = hashlib.sha256(b"".join((Path(__file__).parent / f).read_bytes() for f in ("charts.py", "drawing.py")))
        self.version = f"charts {code.hexdigest()[:16]}; pillow {pillow}; font-lato {package_version('font_lato')}"
        self.png = png
        self.drawn: dict[str, bytes] = {}
        self.used: list[str] = []

    def draw(self, name: str, func, *args, **kwargs) -> Figure:
        import hashlib

        from . import drawing

        key = hashlib.sha256(repr((func.__name__, self.version, args, sorted(kwargs.items()))).encode()).hexdigest()
        wanted = {"svg": drawing.to_svg, **({"png": drawing.to_png} if self.png else {})}
        got = {kind: self.store.cached_figure(f"{key}.{kind}") for kind in wanted}
        chart = None
        for kind, render in wanted.items():
            if got[kind] is None:
                chart = chart or func(*args, **kwargs)
                out = render(chart, f"figure-{name}") if kind == "svg" else render(chart)
                got[kind] = self.drawn[f"{key}.{kind}"] = out.encode("utf-8") if kind == "svg" else out
            else:
                self.used.append(f"{key}.{kind}")
        return Figure(svg=got["svg"].decode("utf-8"), png=got.get("png") or b"")

    def save(self) -> None:
        self.store.save_figures(self.drawn, self.used)


def _also(q: dict, L: dict) -> str:
    return f" — {L['also_coded']}: {', '.join(q['also'])}" if q.get("also") else ""


def _elsewhere(t, L: dict) -> str:
    return f"{L['elsewhere']}: " + "; ".join(f"({e['key']}) {e['theme']}" for e in t.elsewhere)


def _per_group(theme_id: int, groups: list[str], by_group: dict) -> list[tuple[str, int]]:
    """Fragments per group; with many groups only the MAX_GROUPS_LISTED groups with most fragments."""
    pairs = [(g, by_group.get((theme_id, g), 0)) for g in groups]
    if len(pairs) > MAX_GROUPS_LISTED:
        pairs = sorted(pairs, key=lambda p: -p[1])[:MAX_GROUPS_LISTED] + [("…", None)]
    return pairs


# ------------------------------------------------------------------ writers
def render_html(report: Report) -> str:
    import jinja2

    report = xml_safe_tree(report)   # no character HTML or XML forbids (qualcode.files.textsafe)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(Path(__file__).parent.parent / "templates")),
                             autoescape=True, trim_blocks=True, lstrip_blocks=True)
    from markupsafe import Markup

    # our own SVG (qualcode.reports.drawing escapes every text and checks every colour)
    images = {k: Markup(f.svg) for k, f in report.figures.items()}
    return env.get_template("report.html.j2").render(r=report, L=report.labels, images=images)


def render_markdown(report: Report, figure_names: dict[str, str] | None = None) -> str:
    """The report as Markdown. Every text taken from the project (names, definitions, memos, quotes,
    keys) passes :func:`_md`, so no HTML tag, image or link in the data reaches a Markdown viewer."""
    report = xml_safe_tree(report)   # no control characters in a text file read in terminals and viewers
    L = report.labels
    out = [f"# {L['title']}: {_md(report.project)}", "", f"*{_md(report.whose)}*", "",
           f"{L['generated']}: {report.generated}", "",
           f"## {L['steps']}", "", f"| {L['step']} | | {L['state']} |", "|---|---|---|"]
    for s in report.steps:
        out.append(f"| {s['n']}. {s['name']} | {L['done'] if s['done'] else L['open']} | {s['state']} |")
    out += ["", f"## {L['themes']}", ""]
    for i, t in enumerate(report.themes, start=1):
        out += [f"### {i}. {_md(t.name)}", "", f"**{L['status']}:** {_md(t.status_label)}  ",
                f"**{L['spread']}:** {t.fragments} {L['fragments']}, {t.groups} {L['groups']}, "
                f"{t.participants} {L['participants']} ({_groups(t.per_group)})", "",
                f"**{L['definition']}:** {_md(t.definition) if t.definition else L['no_definition']}", ""]
        if t.key_messages:
            out += [f"**{L['key_messages']}:**", ""] + [f"- {_md(m)}" for m in t.key_messages] + [""]
        if t.codes:
            out += [f"**{L['codes']}:** " + ", ".join(f"{_md(c['name'])} ({c['n_segments']})" for c in t.codes), ""]
        out += [f"**{L['quotes']}:**", ""]
        out += [f"> “{_md(q['text'])}” ({_md(q['key'])})" + (f" {_md(_also(q, L))}" if q.get("also") else "") + "\n"
                for q in t.quotes] or [L["no_quotes"], ""]
        if t.elsewhere:
            out += [f"*{_md(_elsewhere(t, L))}*", ""]
        for label, memos in ((L["memos"], t.memos), (L["supervisor"], t.supervisor)):
            if memos:
                out += [f"**{label}:**", ""]
                out += [f"- {_md(m['author'])} ({_md(str(m['created_at'])[:10])}): {_md(m['text'])}"
                        for m in memos] + [""]
    if report.figures:
        out += [f"## {L['figures']}", ""]
        for name in report.figures:
            target = (figure_names or {}).get(name, f"{name}.png")
            out += [f"![{report.captions.get(name, name)}]({target})", ""]
    return "\n".join(out).rstrip() + "\n"


def _groups(pairs) -> str:
    return ", ".join(_md(g) if n is None else f"{_md(g)}: {n}" for g, n in pairs)


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#!|~^$])")


def _md(text) -> str:
    """Project text as inert Markdown on one line: HTML's < > & become entities (no tag, comment or
    autolink survives), Markdown's punctuation is backslash-escaped (no image, link, emphasis, code or
    table cell), line breaks become spaces, and a leading list or quote marker is escaped."""
    s = " ".join(str(text or "").split())
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    s = _MD_SPECIAL.sub(r"\\\1", s)
    s = re.sub(r"^(\d+)([.)])", r"\1\\\2", s)  # '1. ' would start a numbered list
    return "\\" + s if s[:1] in ("-", "+", "=") else s


def write_docx(report: Report, path: Path) -> None:
    from docx import Document
    from docx.shared import Pt, RGBColor

    report = xml_safe_tree(report)   # python-docx refuses characters XML cannot hold (qualcode.files.textsafe)
    L = report.labels
    doc = Document()
    doc.core_properties.title = f"{L['title']}: {report.project}"
    doc.add_heading(f"{L['title']}: {report.project}", level=0)
    doc.add_paragraph().add_run(report.whose).bold = True
    doc.add_paragraph(f"{L['generated']}: {report.generated}")
    section = doc.sections[0]
    text_width = section.page_width - section.left_margin - section.right_margin
    doc.add_heading(L["steps"], level=1)
    table = doc.add_table(rows=1, cols=3)
    table.style = "Light Grid Accent 1"
    for c, h in zip(table.rows[0].cells, [L["step"], "", L["state"]]):
        c.text = h
    for s in report.steps:
        cells = table.add_row().cells
        cells[0].text = f"{s['n']}. {s['name']}"
        cells[1].text = L["done"] if s["done"] else L["open"]
        cells[2].text = s["state"]
    doc.add_heading(L["themes"], level=1)
    for i, t in enumerate(report.themes, start=1):
        h = doc.add_heading(f"{i}. {t.name}", level=2)
        rgb = t.colour.lstrip("#")
        for run in h.runs:
            run.font.color.rgb = RGBColor.from_string(rgb.upper())
        p = doc.add_paragraph()
        p.add_run(f"{L['status']}: ").bold = True
        p.add_run(t.status_label)
        p = doc.add_paragraph()
        p.add_run(f"{L['spread']}: ").bold = True
        p.add_run(f"{t.fragments} {L['fragments']}, {t.groups} {L['groups']}, {t.participants} {L['participants']}"
                  f" ({_groups(t.per_group)})")
        doc.add_heading(L["definition"], level=3)
        doc.add_paragraph(t.definition or L["no_definition"])
        if t.key_messages:
            doc.add_heading(L["key_messages"], level=3)
            for m in t.key_messages:
                doc.add_paragraph(m, style="List Bullet")
        if t.codes:
            doc.add_heading(L["codes"], level=3)
            doc.add_paragraph(", ".join(f"{c['name']} ({c['n_segments']})" for c in t.codes))
        doc.add_heading(L["quotes"], level=3)
        if t.quotes:
            _quote_table(doc, t.quotes, L, text_width)
        else:
            doc.add_paragraph(L["no_quotes"])
        if t.elsewhere:
            doc.add_paragraph().add_run(_elsewhere(t, L)).italic = True
        for label, memos in ((L["memos"], t.memos), (L["supervisor"], t.supervisor)):
            if memos:
                doc.add_heading(label, level=3)
                for m in memos:
                    para = doc.add_paragraph(style="List Bullet")
                    para.add_run(f"{m['author']} ({m['created_at'][:10]}): ").bold = True
                    para.add_run(m["text"])
    if report.figures:
        doc.add_heading(L["figures"], level=1)
        for name, fig in report.figures.items():
            _picture(doc, fig.png, text_width)
            cap = doc.add_paragraph(report.captions.get(name, name), style="Caption")
            for run in cap.runs:
                run.font.size = Pt(9)
    doc.save(str(path))


QUOTE_SHARE = 0.8   # of the text width: the quote column of a DOCX quote table (the key gets the rest)


def _quote_table(doc, quotes: list[dict], L: dict, text_width: int) -> None:
    """A two-column table, quote (80% of the text width) and key, in plain text: a table style with
    no first-column or header emphasis, so quotes are not bold; the header row is bold and repeats."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    qt = doc.add_table(rows=1, cols=2)
    qt.style = "Table Grid"
    qt.autofit = False
    widths = (int(text_width * QUOTE_SHARE), text_width - int(text_width * QUOTE_SHARE))
    for col, w in zip(qt.columns, widths):
        col.width = w
    for cell_, h in zip(qt.rows[0].cells, (L["quote"], L["key"])):
        cell_.paragraphs[0].add_run(h).bold = True
    header = qt.rows[0]._tr.get_or_add_trPr()
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    header.append(repeat)
    for q in quotes:
        cells = qt.add_row().cells
        cells[0].paragraphs[0].add_run(f"“{q['text']}”")
        if q.get("also"):
            cells[0].paragraphs[0].add_run(_also(q, L)).italic = True
        cells[1].paragraphs[0].add_run(f"({q['key']})")
    for row in qt.rows:
        for c, w in zip(row.cells, widths):
            c.width = w


def _picture(doc, png: bytes, text_width: int) -> None:
    """A figure as wide as the text, or less when that would make it taller than 60% of the page."""
    import io
    import struct

    section = doc.sections[0]
    width_px, height_px = struct.unpack(">II", png[16:24])   # the PNG's IHDR
    max_height = int((section.page_height - section.top_margin - section.bottom_margin) * 0.6)
    width = text_width
    if height_px and width * height_px / width_px > max_height:
        width = int(max_height * width_px / height_px)
    doc.add_picture(io.BytesIO(png), width=width)


def report_formats(out: str | Path, fmt: str | None) -> list[str]:
    """The formats asked for: ``fmt`` as one format or a comma-separated list (``html,docx,md``), or
    the one the extension of ``out`` names. Raises InputError for an unknown one."""
    out = Path(out)
    wanted = [f.strip().lower() for f in (fmt or out.suffix.lstrip(".")).split(",") if f.strip()]
    bad = [f for f in wanted if f not in FORMATS]
    if bad or not wanted:
        raise InputError(f"report format must be html, docx or md (from --format or the file extension), "
                         f"not '{(bad or [fmt or out.name])[0]}'.")
    return list(dict.fromkeys(wanted))


def report_paths(out: str | Path, formats: list[str]) -> list[Path]:
    """Where each format is written: ``out`` itself for one format; for several, ``out`` with each
    format's extension (``reports/report.html`` -> report.html, report.docx, report.md)."""
    out = Path(out)
    if len(formats) == 1:
        return [out]
    stem = out.with_suffix("") if out.suffix.lstrip(".").lower() in FORMATS else out
    return [stem.with_name(f"{stem.name}.{f}") for f in formats]


@exported
def write_report(store, out: str | Path, *, fmt: str | None = None, language: str | None = None,
                 coders=None, memos: bool = False, progress=None) -> list[Path]:
    """Write the report to ``out`` in ``fmt`` (default: from the file extension). ``fmt`` may name several
    formats (``html,docx,md``): the report and its figures are then built once and written in each, to
    ``out`` with each format's extension. Returns the files written (Markdown also writes its figures as
    ``<stem>-<figure>.png`` next to it)."""
    out = Path(out)
    formats = report_formats(out, fmt)
    if not out.parent.exists():
        raise InputError(f"folder {out.parent} does not exist; create it first.")
    report = build_report(store, language, coders=coders, memos=memos, progress=progress,
                          png=any(f != "html" for f in formats))
    written = []
    for f, path in zip(formats, report_paths(out, formats)):
        written += _write_one(report, path, f)
    return written


def _write_one(report: Report, out: Path, fmt: str) -> list[Path]:
    written = [out]
    if fmt == "html":
        atomic.write_text(out, render_html(report))
    elif fmt == "md":
        names = {k: f"{out.stem}-{k}.png" for k in report.figures}
        for k, fig in report.figures.items():
            atomic.write_bytes(out.parent / names[k], fig.png)
            written.append(out.parent / names[k])
        atomic.write_text(out, render_markdown(report, names))
    else:
        with atomic.atomic_output(out) as tmp:
            write_docx(report, tmp)
    return written
