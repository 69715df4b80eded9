"""The supervisor report (step 6): HTML, DOCX or Markdown.

:func:`build_report` gathers everything from the store once (themes in the
order the student set, their status, definition, key messages, spread over
groups and participants, representative quotes with "(F2 P2)" keys, supervisor
comments, the six steps' state and the figures); the writers only lay it out.
HTML is one self-contained file (figures as data: URIs, print CSS); DOCX uses
Word's own heading styles, a table per theme's quotes and embedded figures;
Markdown writes its figures next to it as PNG files.
"""

from __future__ import annotations

import base64
import datetime as _dt
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from .quotes import pick_quotes, rank_by_typicality

FORMATS = ("html", "docx", "md")
N_QUOTES = 3
MAX_GROUPS_LISTED = 12

LABELS = {
    "en": {
        "title": "Thematic analysis report", "project": "Project", "generated": "Generated",
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
    lemmas: dict = {}  # shared across themes: a segment coded under two themes is lemmatised once
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
        ranked = rank_by_typicality(fresh, store.language, docs_cache=lemmas)
        picked = pick_quotes(ranked, n_quotes)
        shown += [(q, t["name"]) for q in picked]
        sections.append(ThemeSection(
            id=t["id"], key=t["key"], name=t["name"], colour=t["colour"], status=t["status"],
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
                    generated=_dt.datetime.now().strftime("%Y-%m-%d %H:%M"), steps=steps, themes=sections)
    if figures and themes:
        report.figures["fragments"] = charts.fragments_per_theme(
            themes, {t["id"]: spread.get(t["id"], {}).get("fragments", 0) for t in themes},
            title=L["fig_fragments"], xlabel=L["n_fragments"])
        report.figures["heatmap"] = charts.theme_group_heatmap(themes, groups, by_group, title=L["fig_heatmap"],
                                                               group_label=L["focus_group"])
        report.figures["map"] = charts.thematic_map(themes, codes, store.code_cooccurrence(), title=L["fig_map"])
        report.captions = {"fragments": L["fig_fragments"], "heatmap": L["fig_heatmap"], "map": L["fig_map"]}
    return report


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

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(Path(__file__).parent.parent / "templates")),
                             autoescape=True, trim_blocks=True, lstrip_blocks=True)
    images = {k: "data:image/png;base64," + base64.b64encode(v).decode("ascii") for k, v in report.figures.items()}
    return env.get_template("report.html.j2").render(r=report, L=report.labels, images=images)


def render_markdown(report: Report, figure_names: dict[str, str] | None = None) -> str:
    L = report.labels
    out = [f"# {L['title']}: {report.project}", "", f"{L['generated']}: {report.generated}", "",
           f"## {L['steps']}", "", f"| {L['step']} | | {L['state']} |", "|---|---|---|"]
    for s in report.steps:
        out.append(f"| {s['n']}. {s['name']} | {L['done'] if s['done'] else L['open']} | {s['state']} |")
    out += ["", f"## {L['themes']}", ""]
    for i, t in enumerate(report.themes, start=1):
        out += [f"### {i}. {t.name}", "", f"**{L['status']}:** {t.status_label}  ",
                f"**{L['spread']}:** {t.fragments} {L['fragments']}, {t.groups} {L['groups']}, "
                f"{t.participants} {L['participants']} ({_groups(t.per_group)})", "",
                f"**{L['definition']}:** {t.definition or L['no_definition']}", ""]
        if t.key_messages:
            out += [f"**{L['key_messages']}:**", ""] + [f"- {m}" for m in t.key_messages] + [""]
        if t.codes:
            out += [f"**{L['codes']}:** " + ", ".join(f"{c['name']} ({c['n_segments']})" for c in t.codes), ""]
        out += [f"**{L['quotes']}:**", ""]
        out += [f"> “{_md(q['text'])}” ({q['key']}){_md(_also(q, L))}\n" for q in t.quotes] or [L["no_quotes"], ""]
        if t.elsewhere:
            out += [f"*{_md(_elsewhere(t, L))}*", ""]
        if t.supervisor:
            out += [f"**{L['supervisor']}:**", ""]
            out += [f"- {m['author']} ({m['created_at'][:10]}): {_md(m['text'])}" for m in t.supervisor] + [""]
    if report.figures:
        out += [f"## {L['figures']}", ""]
        for name in report.figures:
            target = (figure_names or {}).get(name, f"{name}.png")
            out += [f"![{report.captions.get(name, name)}]({target})", ""]
    return "\n".join(out).rstrip() + "\n"


def _groups(pairs) -> str:
    return ", ".join(g if n is None else f"{g}: {n}" for g, n in pairs)


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def write_docx(report: Report, path: Path) -> None:
    import io

    from docx import Document
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.shared import Cm, Pt, RGBColor

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


def write_report(store, out: str | Path, *, fmt: str | None = None, language: str | None = None) -> list[Path]:
    """Write the report to ``out`` in ``fmt`` (default: from the file extension). Returns the files written
    (Markdown also writes its figures as ``<stem>-<figure>.png`` next to it)."""
    out = Path(out)
    fmt = (fmt or out.suffix.lstrip(".")).lower()
    if fmt not in FORMATS:
        raise InputError(f"report format must be html, docx or md (from --format or the file extension), "
                         f"not '{fmt or out.name}'.")
    if not out.parent.exists():
        raise InputError(f"folder {out.parent} does not exist; create it first.")
    report = build_report(store, language)
    written = [out]
    tmp = out.with_name(out.name + ".tmp")
    if fmt == "html":
        tmp.write_text(render_html(report), encoding="utf-8")
    elif fmt == "md":
        names = {k: f"{out.stem}-{k}.png" for k in report.figures}
        for k, png in report.figures.items():
            (out.parent / names[k]).write_bytes(png)
            written.append(out.parent / names[k])
        tmp.write_text(render_markdown(report, names), encoding="utf-8")
    else:
        write_docx(report, tmp)
    tmp.replace(out)
    return written
