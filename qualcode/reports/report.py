"""The supervisor report (step 6): HTML, DOCX or Markdown.

:func:`build_report` gathers everything from the store once (themes in the
order the student set, their status, definition, key messages, spread over
groups and participants, representative quotes with "(F2 P2)" keys, supervisor
comments, the six steps' state and the figures); the writers only lay it out.
HTML is one self-contained file (figures as data: URIs, print CSS); DOCX uses
Word's own heading styles, a table per theme's quotes and embedded figures;
Markdown writes its figures next to it as PNG files. Every writer passes the report's text
through qualcode.files.textsafe (characters XML cannot hold replaced) and writes its files atomically.
"""

from __future__ import annotations

import base64
import datetime as _dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..files import atomic
from ..codebook.yamlfile import normalise_colour
from ..errors import InputError
from ..files.textsafe import xml_safe_tree
from .quotes import pick_quotes, rank_by_typicality
from ..store.core import exported

FORMATS = ("html", "docx", "md")
N_QUOTES = 3
MAX_GROUPS_LISTED = 12

LABELS = {
    "en": {
        "title": "Thematic analysis report", "project": "Project", "generated": "Generated",
        "as_of": "the project as it was after act #{act} of {at}",
        "steps": "The six steps", "themes": "Themes", "status": "Status", "definition": "Definition",
        "key_messages": "Key messages", "spread": "Spread", "quotes": "Illustrative quotes",
        "quote": "Quote", "key": "Key", "codes": "Codes", "supervisor": "Supervisor comments",
        "figures": "Figures", "fragments": "coded fragments", "groups": "focus groups",
        "participants": "participants", "per_group": "per group", "no_definition": "(no definition yet)",
        "no_quotes": "(no coded participant fragments yet)", "none": "(none yet)", "step": "Step",
        "state": "State", "done": "done", "open": "open",
        "also_coded": "also coded under", "elsewhere": "Also coded here (quoted under another theme)",
        "fig_fragments": "Coded fragments per theme", "fig_heatmap": "Coded fragments per theme and focus group",
        "fig_map": "Thematic map: themes, their codes and the strongest co-occurrences",
        "focus_group": "focus group", "n_fragments": "coded fragments",
        "step_names": ["Familiarise with the data", "Generate initial codes", "Search for themes",
                       "Review themes", "Define and name themes", "Write the report"],
        "status_names": {"candidate": "candidate", "reviewed": "reviewed", "defined": "defined",
                         "reported": "reported"},
        "s1": "{sources} transcripts, {segments} participant segments",
        "s2": "{codes} codes ({codes_used} used), {codings} codings on {coded_segments} segments",
        "s3": "{themes_with_codes} of {themes} themes hold codes",
        "s4": "{reviewed} of {themes} themes reviewed",
        "s5": "{themes_defined} of {themes} themes defined",
        "s6": "{status_reported} of {themes} themes reported; {memos} memos; {acts} acts in the log",
        "contents": "Contents",
    },
    "nl": {
        "title": "Rapport thematische analyse", "project": "Project", "generated": "Aangemaakt",
        "as_of": "het project zoals het was na handeling #{act} van {at}",
        "steps": "De zes stappen", "themes": "Thema's", "status": "Status", "definition": "Definitie",
        "key_messages": "Kernboodschappen", "spread": "Spreiding", "quotes": "Illustratieve citaten",
        "quote": "Citaat", "key": "Sleutel", "codes": "Codes", "supervisor": "Opmerkingen van de promotor",
        "figures": "Figuren", "fragments": "gecodeerde fragmenten", "groups": "focusgroepen",
        "participants": "deelnemers", "per_group": "per groep", "no_definition": "(nog geen definitie)",
        "no_quotes": "(nog geen gecodeerde fragmenten van deelnemers)", "none": "(nog geen)", "step": "Stap",
        "state": "Stand", "done": "klaar", "open": "open",
        "also_coded": "ook gecodeerd onder", "elsewhere": "Ook hier gecodeerd (geciteerd bij een ander thema)",
        "fig_fragments": "Gecodeerde fragmenten per thema",
        "fig_heatmap": "Gecodeerde fragmenten per thema en focusgroep",
        "fig_map": "Thematische kaart: thema's, hun codes en de sterkste co-occurrenties",
        "focus_group": "focusgroep", "n_fragments": "gecodeerde fragmenten",
        "step_names": ["Vertrouwd raken met de data", "Initiële codes genereren", "Thema's zoeken",
                       "Thema's reviewen", "Thema's definiëren en benoemen", "Het rapport schrijven"],
        "status_names": {"candidate": "kandidaat", "reviewed": "gereviewd", "defined": "gedefinieerd",
                         "reported": "gerapporteerd"},
        "s1": "{sources} transcripten, {segments} segmenten van deelnemers",
        "s2": "{codes} codes ({codes_used} gebruikt), {codings} coderingen op {coded_segments} segmenten",
        "s3": "{themes_with_codes} van {themes} thema's bevatten codes",
        "s4": "{reviewed} van {themes} thema's gereviewd",
        "s5": "{themes_defined} van {themes} thema's gedefinieerd",
        "s6": "{status_reported} van {themes} thema's gerapporteerd; {memos} memo's; {acts} handelingen in het logboek",
        "contents": "Inhoud",
    },
}


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


@dataclass
class Report:
    language: str
    labels: dict
    project: str
    generated: str
    steps: list[dict]
    themes: list[ThemeSection]
    figures: dict[str, bytes] = field(default_factory=dict)   # name -> PNG
    captions: dict[str, str] = field(default_factory=dict)


def build_report(store, language: str | None = None, *, n_quotes: int = N_QUOTES, figures: bool = True) -> Report:
    """Everything the report shows, in the theme order the student set."""
    from ..text.lemmas import load
    from . import charts

    lang = language or ("nl" if store.language == "nl" else "en")
    if lang not in LABELS:
        raise InputError(f"report language must be one of {', '.join(LABELS)}, not '{lang}'.")
    L = LABELS[lang]
    themes = store.themes()
    spread = store.theme_spread()
    by_group = store.theme_by_group()
    groups = store.groups()
    codes = store.codes()
    sections = []
    docs: dict = {}  # shared across themes: a segment coded under two themes is joined once
    content = load(store).content  # lemmatised once, at ingest
    fragments = {t["id"]: store.theme_fragments(t["id"]) for t in themes}
    coded_under: dict[tuple, list[str]] = {}  # fragment id -> names of the themes coding it
    for t in themes:
        for f in fragments[t["id"]]:
            coded_under.setdefault(f["id"], []).append(t["name"])
    shown: list[tuple[dict, str]] = []  # (quote, theme name): a quote is shown once per report
    for t in themes:
        sp = spread.get(t["id"], {})
        mine = fragments[t["id"]]
        elsewhere = [{"key": q["key"], "theme": name, "text": " ".join(q["text"].split())} for q, name in shown
                     if any(_overlap(q, f) for f in mine)]
        # the coded fragment is the quote: a turn with a fragment coded here is not quoted whole as well
        trimmed = {f["segment_id"] for f in mine if f["fragment"]}
        fresh = [f for f in mine if (f["fragment"] or f["segment_id"] not in trimmed)
                 and not any(_overlap(q, f) for q, _ in shown)]
        ranked = rank_by_typicality(fresh, store.language, docs_cache=docs, lemmas=content)
        picked = pick_quotes(ranked, n_quotes)
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
            quotes=[{"text": " ".join(q["text"].split()), "key": q["key"], "segment_id": q["segment_id"],
                     "participant_id": q["participant_id"],
                     "also": [n for n in coded_under.get(q["id"], []) if n != t["name"]]} for q in picked],
            supervisor=store.memos("theme", t["id"], kind="supervisor"), elsewhere=elsewhere))
    c = store.step_counts()
    c["reviewed"] = c["status_reviewed"] + c["status_defined"] + c["status_reported"]
    n = c["themes"]
    done = [c["sources"] > 0, c["codings"] > 0, n > 0 and c["themes_with_codes"] == n,
            n > 0 and c["reviewed"] == n, n > 0 and c["themes_defined"] == n, n > 0 and c["status_reported"] == n]
    steps = [{"n": i + 1, "name": L["step_names"][i], "state": L[f"s{i + 1}"].format(**c), "done": done[i]}
             for i in range(6)]
    report = Report(language=lang, labels=L, project=store.meta("name") or Path(store.path).stem,
                    generated=f"{_dt.datetime.now():%Y-%m-%d %H:%M}, {L['as_of'].format(**store.as_of())}", steps=steps, themes=sections)
    if figures and themes:
        figs = _Figures(store)
        report.figures["fragments"] = figs.draw(
            charts.fragments_per_theme, themes, {t["id"]: spread.get(t["id"], {}).get("fragments", 0) for t in themes},
            title=L["fig_fragments"], xlabel=L["n_fragments"])
        report.figures["heatmap"] = figs.draw(charts.theme_group_heatmap, themes, groups, by_group,
                                              title=L["fig_heatmap"], group_label=L["focus_group"])
        report.figures["map"] = figs.draw(charts.thematic_map, themes, codes, store.code_cooccurrence(),
                                          title=L["fig_map"])
        figs.save()
        report.captions = {"fragments": L["fig_fragments"], "heatmap": L["fig_heatmap"], "map": L["fig_map"]}
    return report


class _Figures:
    """Draws a figure only when the project holds no PNG of exactly the same figure (the same chart
    function and inputs, the same matplotlib), and stores what it drew for the next report."""

    def __init__(self, store):
        from ..text.nlp import package_version

        self.store = store
        self.version = f"matplotlib {package_version('matplotlib')}; charts {CHARTS_FORMAT}"
        self.drawn: dict[str, bytes] = {}
        self.used: list[str] = []

    def draw(self, func, *args, **kwargs) -> bytes:
        import hashlib

        key = hashlib.sha256(repr((func.__name__, self.version, args, sorted(kwargs.items()))).encode()).hexdigest()
        png = self.store.cached_figure(key)
        if png is None:
            png = self.drawn[key] = func(*args, **kwargs)
        else:
            self.used.append(key)
        return png

    def save(self) -> None:
        self.store.save_figures(self.drawn, self.used)


CHARTS_FORMAT = 1  # bump when charts.py draws differently from the same inputs


def _overlap(a: dict, b: dict) -> bool:
    """Whether two theme fragments (see ``theme_fragments``) share words of one segment."""
    return a["segment_id"] == b["segment_id"] and a["start"] < b["end"] and b["start"] < a["end"]


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
    images = {k: "data:image/png;base64," + base64.b64encode(v).decode("ascii") for k, v in report.figures.items()}
    return env.get_template("report.html.j2").render(r=report, L=report.labels, images=images)


def render_markdown(report: Report, figure_names: dict[str, str] | None = None) -> str:
    """The report as Markdown. Every text taken from the project (names, definitions, memos, quotes,
    keys) passes :func:`_md`, so no HTML tag, image or link in the data reaches a Markdown viewer."""
    report = xml_safe_tree(report)   # no control characters in a text file read in terminals and viewers
    L = report.labels
    out = [f"# {L['title']}: {_md(report.project)}", "", f"{L['generated']}: {report.generated}", "",
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
        if t.supervisor:
            out += [f"**{L['supervisor']}:**", ""]
            out += [f"- {_md(m['author'])} ({_md(str(m['created_at'])[:10])}): {_md(m['text'])}"
                    for m in t.supervisor] + [""]
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
    import io

    from docx import Document
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.shared import Cm, Pt, RGBColor

    report = xml_safe_tree(report)   # python-docx refuses characters XML cannot hold (qualcode.files.textsafe)
    L = report.labels
    doc = Document()
    doc.core_properties.title = f"{L['title']}: {report.project}"
    doc.add_heading(f"{L['title']}: {report.project}", level=0)
    doc.add_paragraph(f"{L['generated']}: {report.generated}")
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
            qt = doc.add_table(rows=1, cols=2)
            qt.style = "Light List Accent 1"
            qt.alignment = WD_TABLE_ALIGNMENT.CENTER
            qt.rows[0].cells[0].text = L["quote"]
            qt.rows[0].cells[1].text = L["key"]
            for q in t.quotes:
                cells = qt.add_row().cells
                run = cells[0].paragraphs[0].add_run(f"“{q['text']}”")
                run.italic = True
                cells[1].text = f"({q['key']})"
                if q.get("also"):
                    cells[0].paragraphs[0].add_run(_also(q, L))
            for row in qt.rows:
                row.cells[0].width, row.cells[1].width = Cm(13.5), Cm(2.5)
        else:
            doc.add_paragraph(L["no_quotes"])
        if t.elsewhere:
            doc.add_paragraph().add_run(_elsewhere(t, L)).italic = True
        if t.supervisor:
            doc.add_heading(L["supervisor"], level=3)
            for m in t.supervisor:
                para = doc.add_paragraph(style="List Bullet")
                para.add_run(f"{m['author']} ({m['created_at'][:10]}): ").bold = True
                para.add_run(m["text"])
    if report.figures:
        doc.add_heading(L["figures"], level=1)
        for name, png in report.figures.items():
            doc.add_picture(io.BytesIO(png), width=Cm(15))
            cap = doc.add_paragraph(report.captions.get(name, name), style="Caption")
            for run in cap.runs:
                run.font.size = Pt(9)
    doc.save(str(path))


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
def write_report(store, out: str | Path, *, fmt: str | None = None, language: str | None = None) -> list[Path]:
    """Write the report to ``out`` in ``fmt`` (default: from the file extension). ``fmt`` may name several
    formats (``html,docx,md``): the report and its figures are then built once and written in each, to
    ``out`` with each format's extension. Returns the files written (Markdown also writes its figures as
    ``<stem>-<figure>.png`` next to it)."""
    out = Path(out)
    formats = report_formats(out, fmt)
    if not out.parent.exists():
        raise InputError(f"folder {out.parent} does not exist; create it first.")
    report = build_report(store, language)
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
        for k, png in report.figures.items():
            atomic.write_bytes(out.parent / names[k], png)
            written.append(out.parent / names[k])
        atomic.write_text(out, render_markdown(report, names))
    else:
        with atomic.atomic_output(out) as tmp:
            write_docx(report, tmp)
    return written
