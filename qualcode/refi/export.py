"""Export a project as REFI-QDA: a .qdpx project archive or a .qdc codebook.

Layout (element order as in the REFI 1.0 schema, shipped in ``qualcode/data``):

* ``Users``: the coders (and memo authors), with their stored guids.
* ``CodeBook``: each theme is a non-codable code (``isCodable="false"``, the theme's colour)
  with its codes beneath it (nested by parent code); codes without a theme are top-level
  codable codes. A code's ``Description`` holds its description, then ``Include:``,
  ``Exclude:`` and ``Example:`` paragraphs and a last line ``qualcode id: KEY`` so that a
  re-import keeps the codebook ids. Colours are ``#RRGGBB`` (a code without its own colour
  gets its theme's).
* ``Variables`` and ``Cases``: every participant is a case named ``F2 P2`` with a
  ``focus group`` variable and their attributes, never the identifying ones; a case refers
  to the selections of its speaker (moderators get a case of their own, e.g. ``F1 Moderator``).
* ``Sources``: one ``TextSource`` per source, its text in ``sources/<guid>.txt`` (UTF-8, LF),
  with one ``PlainTextSelection`` per coded segment (or per segment with ``all_segments``)
  and one per coded fragment (its exact positions, inside its segment's selection, with the
  description 'fragment · in selection GUID'):
  character offsets into that text, end exclusive, ``name`` = the quoted text (cut at 100
  characters with "…"), ``Description`` = "segment N · turn T · (F2 P2) · at S s", and one
  ``Coding`` per coder and code.
* ``Notes``: memos, referred to from what they are about (a participant memo through a ``Link``).

Every guid is the one stored in the project, so exporting twice gives the same ids.
"""

from __future__ import annotations

import re
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree as ET

from .. import __version__
from ..files.atomic import atomic_output
from ..errors import InputError
from . import CODEBOOK_NS, GROUP_VARIABLE, PROJECT_NS
from ..store.core import exported
from ..files.textsafe import utf8_text, xml_text

QUOTE_CHARS = 100
_DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$")
_ZIP_TIME = (2020, 1, 1, 0, 0, 0)
_COLOUR_RE = re.compile(r"^#[0-9A-Fa-f]{6}$")


def source_file_text(text: str) -> str:
    """A source's text for its UTF-8 ``sources/<guid>.txt`` file: exactly the stored text (a plain
    text file can hold control characters, and the selections' offsets refer to it), except lone
    surrogates, which UTF-8 cannot hold, become U+FFFD (one for one, offsets unchanged)."""
    return utf8_text(text)


def colour(value: str | None) -> str | None:
    return value.upper() if value and _COLOUR_RE.match(value) else None


@dataclass
class ExportReport:
    path: str
    kind: str
    themes: int = 0
    codes: int = 0
    sources: int = 0
    selections: int = 0
    codings: int = 0
    cases: int = 0
    notes: int = 0

    def lines(self) -> list[str]:
        if self.kind == "qdc":
            return [f"wrote {self.path}: REFI-QDA codebook with {self.themes} themes and {self.codes} codes"]
        return [f"wrote {self.path}: REFI-QDA project with {self.themes} themes, {self.codes} codes, "
                f"{self.sources} sources, {self.selections} selections, {self.codings} codings, "
                f"{self.cases} cases, {self.notes} notes"]


@exported
def export_refi(store, path: str | Path, *, all_segments: bool = False) -> ExportReport:
    """Write ``path``: a .qdpx project or, for a .qdc path, the codebook only."""
    path = Path(path)
    ext = path.suffix.lower()
    if ext not in (".qdpx", ".qdc"):
        raise InputError("REFI-QDA exports end in .qdpx (whole project) or .qdc (codebook only)", path=str(path))
    builder = _Builder(store, codebook_only=ext == ".qdc", all_segments=all_segments)
    with atomic_output(path) as tmp:   # written in full beside the target, then moved into place
        if ext == ".qdc":
            tmp.write_bytes(_serialise(builder.codebook_document()))
        else:
            root, texts = builder.project_document()
            with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
                _write(zf, "project.qde", _serialise(root))
                for guid, text in texts:
                    _write(zf, f"sources/{guid}.txt", source_file_text(text).encode("utf-8"))
    builder.report.path = str(path)
    return builder.report


def project_xml(store, *, all_segments: bool = False) -> bytes:
    """The project.qde document alone (for tests and tools)."""
    root, _ = _Builder(store, codebook_only=False, all_segments=all_segments).project_document()
    return _serialise(root)


def _write(zf: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    zf.writestr(info, data)


def _serialise(root: ET.Element) -> bytes:
    """The document as UTF-8 XML; every text and attribute value passes the XML character filter
    (qualcode.files.textsafe) here, so no value can make the file unreadable."""
    for el in root.iter():
        if el.text:
            el.text = xml_text(el.text)
        for k, v in el.attrib.items():
            el.attrib[k] = xml_text(v)
    ET.indent(root, space=" ")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def quote(text: str) -> str:
    """The selection name: the text, cut at 100 characters with an ellipsis."""
    text = xml_text(text)
    return text if len(text) <= QUOTE_CHARS else text[: QUOTE_CHARS - 1].rstrip() + "…"


def code_description(row: dict) -> str:
    """Description, Include/Exclude/Example paragraphs and the 'qualcode id: KEY' line."""
    parts = [row.get("description") or ""]
    out = parts[0]
    for label in ("include", "exclude", "example"):
        if row.get(label):
            out += f"\n\n{label.capitalize()}: {row[label]}"
    return xml_text((out + "\n\n" if out else "") + f"qualcode id: {row['key']}")


def segment_description(seg: dict) -> str:
    who = f"{seg['group_label']} {seg['participant'] or seg['speaker']}"
    out = f"segment {seg['ordinal']} · turn {seg['turn']} · ({who})"
    if seg.get("timestamp") is not None:
        out += f" · at {seg['timestamp']!r} s"
    return out


def _fragment_guid(segment_guid: str, start: int, end: int) -> str:
    """The same guid for the same fragment in every export, from any project holding the segment."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"qualcode:fragment:{segment_guid}:{start}-{end}"))


def _dt(value: str | None) -> str | None:
    return value if value and _DATETIME_RE.match(value) else None


class _Builder:
    def __init__(self, store, *, codebook_only: bool, all_segments: bool):
        self.store = store
        self.codebook_only = codebook_only
        self.all_segments = all_segments
        self.project_guid = store.meta("project_guid") or str(uuid.uuid4())
        self.report = ExportReport(path="", kind="qdc" if codebook_only else "qdpx")
        self.memos = [] if codebook_only else store.memos()
        self.notes_on: dict[tuple[str, int | None], list[str]] = {}
        for m in self.memos:
            self.notes_on.setdefault((m["target_type"], m["target_id"]), []).append(m["guid"])

    def derived(self, what: str) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"qualcode:{self.project_guid}:{what}"))

    # ------------------------------------------------------------- codebook
    def _codes(self, parent: ET.Element) -> None:
        themes = self.store.themes()
        codes = self.store.codes()
        children: dict[int | None, list[dict]] = {}
        ids = {c["id"] for c in codes}
        for c in codes:
            key = c["parent_id"] if c["parent_id"] in ids else None
            children.setdefault(key, []).append(c)

        def add_code(el: ET.Element, c: dict) -> None:
            ce = ET.SubElement(el, "Code", guid=c["guid"], name=xml_text(c["name"]), isCodable="true")
            rgb = colour(c.get("display_colour") or c.get("colour"))
            if rgb:
                ce.set("color", rgb)
            ET.SubElement(ce, "Description").text = code_description(c)
            self._noterefs(ce, "code", c["id"])
            self.report.codes += 1
            for child in children.get(c["id"], []):
                add_code(ce, child)

        for t in themes:
            te = ET.SubElement(parent, "Code", guid=t["guid"], name=xml_text(t["name"]), isCodable="false")
            if colour(t["colour"]):
                te.set("color", colour(t["colour"]))
            ET.SubElement(te, "Description").text = code_description(t)
            self._noterefs(te, "theme", t["id"])
            self.report.themes += 1
            for c in children.get(None, []):
                if c["theme_id"] == t["id"]:
                    add_code(te, c)
        for c in children.get(None, []):
            if c["theme_id"] is None:
                add_code(parent, c)

    def _noterefs(self, el: ET.Element, ttype: str, tid: int | None) -> None:
        if self.codebook_only:
            return
        for g in self.notes_on.get((ttype, tid), []):
            ET.SubElement(el, "NoteRef", targetGUID=g)
            self.noted.add(g)

    def codebook_document(self) -> ET.Element:
        root = ET.Element("CodeBook", xmlns=CODEBOOK_NS, origin=f"qualcode {__version__}")
        codes = ET.SubElement(root, "Codes")
        self.noted: set[str] = set()
        self._codes(codes)
        if not len(codes):
            raise InputError("the project has no themes or codes to export; load a codebook first "
                             "('qualcode codebook apply')")
        return root

    # -------------------------------------------------------------- project
    def project_document(self) -> tuple[ET.Element, list[tuple[str, str]]]:
        st = self.store
        self.noted = set()
        root = ET.Element("Project", xmlns=PROJECT_NS, name=st.meta("name") or "qualcode project",
                          origin=f"qualcode {__version__}")
        created = _dt(st.meta("created_at"))
        if created:
            root.set("creationDateTime", created)
        users = self._users()
        if users:
            ue = ET.SubElement(root, "Users")
            for name, guid in users.items():
                ET.SubElement(ue, "User", guid=guid, name=name)
        if st.themes() or st.codes():
            cb = ET.SubElement(root, "CodeBook")
            self._codes(ET.SubElement(cb, "Codes"))

        codings = st.coding_rows()
        exported = {c["segment_id"] for c in codings}
        exported |= {m["target_id"] for m in self.memos if m["target_type"] == "segment"}
        segments = st.segment_rows(None if self.all_segments else exported)
        attrs = st.attribute_names(include_identifying=False)

        var_guid = {name: self.derived(f"variable:{name}") for name in [GROUP_VARIABLE] + attrs}
        ve = ET.SubElement(root, "Variables")
        for name, guid in var_guid.items():
            ET.SubElement(ve, "Variable", guid=guid, name=name, typeOfVariable="Text")

        self._cases(root, segments, attrs, var_guid)
        texts = self._sources(root, segments, codings, var_guid)
        self._notes(root, users)
        return root, texts

    def _cases(self, root: ET.Element, segments: list[dict], attrs: list[str], var_guid: dict[str, str]) -> None:
        """<Cases>: one per participant (non-identifying attributes as variables), and one per other speaker
        (moderator, speakers without a participant record), each with its selections."""
        people = self.store.participants(include_identifying=False)
        by_speaker: dict[tuple, list[dict]] = {}
        for s in segments:
            key = ("p", s["participant_id"]) if s["participant_id"] else ("s", s["group_label"], s["speaker"], s["role"])
            by_speaker.setdefault(key, []).append(s)
        cases = ET.SubElement(root, "Cases")
        self.case_guid: dict[int, str] = {}
        for p in people:
            case = ET.SubElement(cases, "Case", guid=p["guid"], name=p["key"])
            self._value(case, var_guid[GROUP_VARIABLE], p["group"])
            for a in attrs:
                if p.get(a):
                    self._value(case, var_guid[a], p[a])
            for s in by_speaker.get(("p", p["id"]), []):
                ET.SubElement(case, "SelectionRef", targetGUID=s["guid"])
            self.case_guid[p["id"]] = p["guid"]
        for key, segs in sorted((k, v) for k, v in by_speaker.items() if k[0] == "s"):
            _, group, speaker, role = key
            if role == "participant" and not segs[0]["participant_id"] and speaker == "unattributed":
                continue
            case = ET.SubElement(cases, "Case", guid=self.derived(f"speaker:{group}:{speaker}"),
                                 name=f"{group} {speaker}")
            ET.SubElement(case, "Description").text = f"{role} turns without a participant record"
            self._value(case, var_guid[GROUP_VARIABLE], group)
            for s in segs:
                ET.SubElement(case, "SelectionRef", targetGUID=s["guid"])
        self.report.cases = len(cases)
        if not len(cases):
            root.remove(cases)

    def _sources(self, root: ET.Element, segments: list[dict], codings: list[dict],
                 var_guid: dict[str, str]) -> list[tuple[str, str]]:
        """<Sources>: every text source with its selections, their codings and note references.
        Returns (guid, text) of each source, for the sources/ folder of the .qdpx."""
        st = self.store
        codings_by_seg: dict[int, list[dict]] = {}
        for c in codings:
            codings_by_seg.setdefault(c["segment_id"], []).append(c)
        coder_guids = st.coder_guids()
        segs_by_source: dict[int, list[dict]] = {}
        for s in segments:
            segs_by_source.setdefault(s["source_id"], []).append(s)
        texts = []
        sources = st.source_rows()
        if sources:
            se = ET.SubElement(root, "Sources")
            for src in sources:
                te = ET.SubElement(se, "TextSource", guid=src["guid"], name=xml_text(src["name"]),
                                   plainTextPath=f"internal://{src['guid']}.txt")
                if _dt(src["imported_at"]):
                    te.set("creationDateTime", src["imported_at"])
                for s in sorted(segs_by_source.get(src["id"], []), key=lambda r: r["ordinal"]):
                    sel = ET.SubElement(te, "PlainTextSelection", guid=s["guid"], name=quote(s["text"]),
                                        startPosition=str(s["start"]), endPosition=str(s["end"]))
                    ET.SubElement(sel, "Description").text = segment_description(s)
                    mine = codings_by_seg.get(s["id"], [])
                    self._codings(sel, [c for c in mine if c["start"] is None], coder_guids)
                    self._noterefs(sel, "segment", s["id"])
                    self.report.selections += 1
                    spans: dict[tuple[int, int], list[dict]] = {}
                    for c in mine:
                        if c["start"] is not None:
                            spans.setdefault((c["start"], c["end"]), []).append(c)
                    for (a, b), on_span in sorted(spans.items()):  # fragments: their exact positions
                        fe = ET.SubElement(te, "PlainTextSelection", guid=_fragment_guid(s["guid"], a, b),
                                           name=quote(src["text"][a:b]), startPosition=str(a), endPosition=str(b))
                        ET.SubElement(fe, "Description").text = f"fragment · in selection {s['guid']}"
                        self._codings(fe, on_span, coder_guids)
                        self.report.selections += 1
                self._noterefs(te, "source", src["id"])
                self._value(te, var_guid[GROUP_VARIABLE], src["group_label"])
                texts.append((src["guid"], src["text"]))
                self.report.sources += 1
        return texts

    def _codings(self, sel: ET.Element, codings: list[dict], coder_guids: dict[str, str]) -> None:
        for c in codings:
            ce = ET.SubElement(sel, "Coding", guid=c["guid"])
            if c["coder"] in coder_guids:
                ce.set("creatingUser", coder_guids[c["coder"]])
            if _dt(c["created_at"]):
                ce.set("creationDateTime", c["created_at"])
            ET.SubElement(ce, "CodeRef", targetGUID=c["code_guid"])
            self.report.codings += 1

    def _users(self) -> dict[str, str]:
        users = dict(self.store.coder_guids())
        for m in self.memos:
            users.setdefault(m["author"], self.derived(f"user:{m['author']}"))
        return users

    @staticmethod
    def _value(el: ET.Element, var_guid: str, value: str) -> None:
        vv = ET.SubElement(el, "VariableValue")
        ET.SubElement(vv, "VariableRef", targetGUID=var_guid)
        ET.SubElement(vv, "TextValue").text = xml_text(str(value))

    def _notes(self, root: ET.Element, users: dict[str, str]) -> None:
        if not self.memos:
            return
        ne = ET.SubElement(root, "Notes")
        links = []
        for m in self.memos:
            note = ET.SubElement(ne, "Note", guid=m["guid"],
                                 name="Supervisor comment" if m["kind"] == "supervisor" else "Memo",
                                 creatingUser=users[m["author"]])
            if _dt(m["created_at"]):
                note.set("creationDateTime", m["created_at"])
            ET.SubElement(note, "PlainTextContent").text = xml_text(m["text"])
            self.report.notes += 1
            if m["guid"] in self.noted:
                continue
            if m["target_type"] == "participant" and m["target_id"] in self.case_guid:
                links.append((m["guid"], self.case_guid[m["target_id"]]))
            else:
                ET.SubElement(root, "NoteRef", targetGUID=m["guid"])   # placed after Notes below
        if links:
            le = ET.Element("Links")
            for note_guid, case_guid in links:
                ET.SubElement(le, "Link", guid=self.derived(f"link:{note_guid}"), name="memo",
                              direction="OneWay", originGUID=note_guid, targetGUID=case_guid)
            root.insert(list(root).index(ne) + 1, le)
