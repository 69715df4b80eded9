"""Read a REFI-QDA file (.qdpx project archive, bare .qde project, .qdc codebook) into a model.

Everything that can go wrong is found here, before the project is touched:

* the archive is checked with :func:`qualcode.files.guards.check_zip`; the project may be called
  ``project.qde`` or anything ``*.qde``; source files may sit in ``sources/`` or ``Sources/``;
* XML is parsed with defusedxml (no entities, no external references), a leading BOM is
  dropped, elements are matched by local name (tools use several namespaces), and the
  document must follow the REFI schema (``qualcode/data/refi-*.xsd``);
* every text selection is placed in its source's text (see :class:`TextIndex`), end exclusive.
  How positions count (characters or UTF-16 units, CRLF as 1 or 2, BOM counted or not) is
  decided per source from the file's own evidence, never from the tool's name
  (:mod:`.refi_units`); when the evidence is unclear the import is refused. A selection
  whose ``name`` quotes its text is checked against it, and one that cannot be placed is
  reported, never placed somewhere else.
"""

from __future__ import annotations

import bisect
import re
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ..codebook.yamlfile import normalise_colour
from ..errors import InputError
from ..files.guards import check_zip, parse_xml, read_zip_member
from . import CODEBOOK_NS, PROJECT_NS, QUALCODE_ORIGIN_PREFIX
from .units import ReadBack, Unit, decide_units, fit_warning, parse_offsets, text_hash

ELLIPSES = ("…", "...")


# ----------------------------------------------------------------- the model
@dataclass
class RefiCode:
    guid: str
    name: str
    codable: bool
    colour: str | None
    description: str
    children: list["RefiCode"] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class RefiCoding:
    guid: str
    code_guid: str
    user_guid: str | None
    created: str | None


@dataclass
class RefiSelection:
    guid: str
    name: str
    start: int                       # as written in the file
    end: int
    description: str
    user_guid: str | None
    created: str | None
    codings: list[RefiCoding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    placed: tuple[int, int] | None = None   # offsets into RefiSource.text once placed
    unit: str = ""                   # how its positions were counted ('UTF-16 units, CRLF as 2'), when placed
    refused: str = ""                # why it could not be placed
    read_hash: str = ""              # refi_units.text_hash of its text read straight from the file


@dataclass
class RefiSource:
    guid: str
    name: str
    kind: str                        # TextSource, PDFSource, ...
    text: str | None = None          # LF line endings; None when the text is not in the file
    text_from: str = ""              # 'plainTextPath', 'PlainTextContent', 'docx'
    missing: str = ""                # why there is no text
    selections: list[RefiSelection] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)
    description: str = ""
    file_name: str = ""              # base name of plainTextPath
    bom: bool = False                # its text file started with a byte-order mark
    choice: object = None            # refi_units.UnitChoice: how its positions were counted, and why


@dataclass
class RefiCase:
    guid: str
    name: str
    description: str
    variables: dict[str, str] = field(default_factory=dict)
    source_refs: list[str] = field(default_factory=list)
    selection_refs: list[str] = field(default_factory=list)


@dataclass
class RefiNote:
    guid: str
    name: str
    text: str
    user_guid: str | None
    created: str | None


@dataclass
class RefiProject:
    path: str
    kind: str                        # 'qdpx', 'qde' or 'qdc'
    name: str = ""
    origin: str = ""
    users: dict[str, str] = field(default_factory=dict)        # guid -> display name
    codes: list[RefiCode] = field(default_factory=list)        # top level, nested
    sources: list[RefiSource] = field(default_factory=list)
    cases: list[RefiCase] = field(default_factory=list)
    notes: list[RefiNote] = field(default_factory=list)
    project_notes: list[str] = field(default_factory=list)     # NoteRef on the project
    note_links: list[tuple[str, str]] = field(default_factory=list)  # (note guid, target guid) from Links
    skipped: list[str] = field(default_factory=list)           # what was not imported, and why
    units: list = field(default_factory=list)                  # refi_units.UnitChoice per source with text
    warnings: list[str] = field(default_factory=list)          # placed, but worth a look (shown as notes)

    def all_codes(self) -> list[RefiCode]:
        out: list[RefiCode] = []

        def walk(codes):
            for c in codes:
                out.append(c)
                walk(c.children)
        walk(self.codes)
        return out

    def selections(self) -> list[RefiSelection]:
        return [sel for s in self.sources for sel in s.selections]


# ------------------------------------------------------------- text offsets
class TextIndex:
    """Maps positions in a source's original text to offsets in the stored text (LF line endings,
    no BOM), for any way of counting (:class:`~.refi_units.Unit`): characters or UTF-16 units, a
    CRLF as one position or two, a leading BOM counted or not.

    Only the characters that take two positions are kept: a character outside the Basic
    Multilingual Plane (counting UTF-16 units) and the LF of a CRLF pair (counting CRLF as 2).
    A position is mapped by counting those before it (binary search), so building the index
    costs two regex scans instead of a Python loop over every character.
    """

    _CRLF = re.compile("\r\n")
    _ASTRAL = re.compile("[\U00010000-\U0010FFFF]")

    def __init__(self, raw: str, bom: bool = False):
        self.raw = raw
        self.bom = bom
        self.text = raw.replace("\r\n", "\n").replace("\r", "\n")
        # stored-text offsets of the LF of each CRLF pair, and of each astral character
        self.crlf = [m.start() - i for i, m in enumerate(self._CRLF.finditer(raw))]
        self.astral = [m.start() for m in self._ASTRAL.finditer(self.text)]
        self._tables: dict = {}

    def _table(self, unit) -> tuple[list[int], list[int], list[bool]]:
        """For ``unit``: the positions of the second half of each double-width character, their stored
        offsets, and whether each is a CRLF (else a surrogate pair)."""
        key = (unit.utf16 and bool(self.astral), unit.crlf2 and bool(self.crlf))
        if key not in self._tables:
            if key == (True, True):
                both = sorted([(o, False) for o in self.astral] + [(o, True) for o in self.crlf])
            elif key[0]:
                both = [(o, False) for o in self.astral]
            elif key[1]:
                both = [(o, True) for o in self.crlf]
            else:
                both = []
            offs = [o for o, _ in both]
            self._tables[key] = ([o + j + 1 for j, o in enumerate(offs)], offs, [c for _, c in both])
        return self._tables[key]

    def length_in(self, unit) -> int:
        second, _, _ = self._table(unit)
        return len(self.text) + len(second) + (1 if unit.bom and self.bom else 0)

    def _map(self, pos: int, unit, table) -> int | None:
        second, offs, is_crlf = table
        if unit.bom and self.bom:
            pos = max(pos - 1, 0)
        k = bisect.bisect_left(second, pos)
        if k < len(second) and second[k] == pos:      # between the two halves of a character
            return offs[k] if is_crlf[k] else None
        return pos - k

    def locate(self, start: int, end: int, unit) -> tuple[int, int] | None:
        """Stored-text offsets of a selection counted in ``unit``, or None when it falls outside the text or
        inside a character."""
        if start < 0 or end < start or end > self.length_in(unit):
            return None
        table = self._table(unit)
        if not table[0]:
            shift = 1 if unit.bom and self.bom else 0
            return max(start - shift, 0), max(end - shift, 0)
        a, b = self._map(start, unit, table), self._map(end, unit, table)
        if a is None or b is None:
            return None
        return a, b

    def locate_all(self, selections, unit) -> list[tuple[int, int] | None]:
        """:meth:`locate` for many selections (objects with ``start`` and ``end``), in one tight loop."""
        second, offs, is_crlf = self._table(unit)
        n = self.length_in(unit)
        lead = 1 if unit.bom and self.bom else 0
        out: list[tuple[int, int] | None] = []
        append = out.append
        if not second:
            for sel in selections:
                a, b = sel.start, sel.end
                append((max(a - lead, 0), max(b - lead, 0)) if 0 <= a <= b <= n else None)
            return out
        bl, m = bisect.bisect_left, len(second)
        for sel in selections:
            a, b = sel.start, sel.end
            if not 0 <= a <= b <= n:
                append(None)
                continue
            span = []
            for pos in (a, b):
                pos = max(pos - lead, 0)
                k = bl(second, pos)
                if k < m and second[k] == pos:
                    if not is_crlf[k]:
                        break
                    span.append(offs[k])
                else:
                    span.append(pos - k)
            append((span[0], span[1]) if len(span) == 2 else None)
        return out

    def length(self, unit: str) -> int:
        return self.length_in(Unit(utf16=unit == "utf16"))

    def place(self, start: int, end: int, unit: str) -> tuple[int, int] | None:
        """Stored-text offsets for a selection counted in 'codepoints' or 'utf16' (CRLF as 2, no BOM)."""
        return self.locate(start, end, Unit(utf16=unit == "utf16"))


def quote_matches(name: str, text: str) -> bool:
    """Does a selection's ``name`` quote ``text`` (whole, or cut with an ellipsis)?"""
    if name == text and name.strip() and not name.rstrip().endswith(ELLIPSES):
        return True    # the common case, decided without normalising whitespace
    n = " ".join(name.split())
    if not n:
        return not text.split()
    for ell in ELLIPSES:
        if n.endswith(ell):
            stem = n[: -len(ell)].rstrip()
            if not stem:
                return False
            # Normalising a prefix of the text gives a prefix of the normalised text; a long
            # enough one decides, so a long segment is not normalised whole for a short quote.
            head = " ".join(text[: 2 * len(stem) + 16].split())
            if len(head) < len(stem):
                head = " ".join(text.split())
            return head.startswith(stem)
    return n == " ".join(text.split())


def quote_shaped(name: str, start: int, end: int) -> bool:
    """Does ``name`` look like the quoted text (as ATLAS.ti writes it) rather than a label?"""
    if not name.strip():
        return False
    if name.rstrip().endswith(ELLIPSES):
        return True
    width = end - start
    return len(name) == width or len(name.encode("utf-16-le", "surrogatepass")) // 2 == width


def place_selections(source: RefiSource, index: TextIndex, choice) -> None:
    """Place every selection of ``source`` counting ``choice.unit`` (decided by
    :func:`.refi_units.decide_unit`), or say why not. A selection whose name quotes its text must match it."""
    unit, label = choice.unit, choice.unit.label(choice.dims)
    # reading the file's text straight gives the stored text itself when nothing shifts positions
    reader = None if (not unit.utf16 and not (unit.bom and index.bom) and "\r" not in index.raw) \
        else ReadBack(index.raw, index.bom, unit)
    spans = choice.spans if choice.spans is not None else index.locate_all(source.selections, unit)
    for sel, span in zip(source.selections, spans):
        if span is None:
            sel.refused = (f"it runs past the end of the text counting {label}" if sel.end > index.length_in(unit)
                           else f"its positions fall inside a character counting {label}")
            continue
        text = index.text[span[0]:span[1]]
        if quote_shaped(sel.name, sel.start, sel.end) and not quote_matches(sel.name, text):
            sel.refused = ("the text at its positions does not match the quote in its name "
                           f"('{_short(sel.name)}'), counting {label}")
            continue
        read = text if reader is None else reader.text(sel.start, sel.end)
        if read != text:      # the index and plain slicing disagree: never place on doubtful text
            sel.refused = f"its text could not be read consistently counting {label} (please report this)"
            continue
        sel.placed, sel.unit, sel.read_hash = span, label, text_hash(read)


def check_extent(source: RefiSource, index: TextIndex, path: str) -> None:
    """Raise for a selection that lies outside its text however positions are counted."""
    longest = len(index.text) + len(index.astral) + len(index.crlf) + (1 if index.bom else 0)
    for sel in source.selections:
        if sel.start < 0 or sel.end < sel.start or sel.end > longest:
            raise InputError(
                f"selection {sel.guid} in source '{source.name}' runs from {sel.start} to {sel.end}, past the "
                f"end of its text ({len(index.raw)} characters); the file is damaged or its source text does not "
                "belong to it. Nothing was imported", path=path)


def _short(s: str, n: int = 40) -> str:
    s = " ".join(s.split())
    return s if len(s) <= n else s[: n - 1] + "…"


# --------------------------------------------------------------- reading
# The tree is parsed with local names (no namespaces: tools write REFI elements in several), so
# elements are found by name with ElementTree's own find/findall, which run in C for a plain name.
def kid_text(el, name: str) -> str:
    c = el.find(name)
    return (c.text or "") if c is not None else ""


def read_refi(path: str | Path, *, offsets: str | None = None) -> RefiProject:
    """Read, validate and place a .qdpx, .qde or .qdc file. Raises InputError; writes nothing.

    ``offsets`` says how the file counts positions (see :func:`.refi_units.parse_offsets`, e.g. 'utf16'
    or 'codepoints,crlf1'); without it the unit is decided per source from the file's evidence."""
    offsets = parse_offsets(offsets)
    path = Path(path)
    if not path.exists():
        raise InputError("does not exist", path=str(path))
    if path.is_dir():
        raise InputError("is a folder; give a .qdpx, .qde or .qdc file", path=str(path))
    ext = path.suffix.lower()
    if ext == ".qdpx":
        return _read_qdpx(path, offsets)
    if ext in (".qde", ".qdc"):
        data = path.read_bytes()
        kind = "qdc" if ext == ".qdc" else "qde"
        project = RefiProject(path=str(path), kind=ext[1:])
        with _SchemaCheck(data, kind, str(path), path.name) as data:
            root = _parse(data, str(path), path.name, kind)
            if ext == ".qdc":
                _read_codebook(root, project)
            else:
                _read_project(root, project, members=None, offsets=offsets)
        return project
    raise InputError(f"is not a REFI-QDA file (type '{ext}'); qualcode imports .qdpx projects, .qde project files "
                     "and .qdc codebooks", path=str(path))


def _read_qdpx(path: Path, offsets: dict[str, bool]) -> RefiProject:
    check_zip(path, "REFI-QDA project (.qdpx)")
    with zipfile.ZipFile(path) as zf:
        names = [n for n in zf.namelist() if not n.endswith("/")]
        qde = [n for n in names if n.lower().endswith(".qde")]
        if not qde:
            raise InputError("has no project.qde inside, so it is not a REFI-QDA project export; nothing was "
                             "imported", path=str(path))
        qde.sort(key=lambda n: (n.lower() != "project.qde", n.count("/"), n))
        data = read_zip_member(zf, qde[0])
        project = RefiProject(path=str(path), kind="qdpx")
        with _SchemaCheck(data, "qde", str(path), qde[0]) as data:
            root = _parse(data, str(path), qde[0], "qde")
            _read_project(root, project, members=_ZipMembers(zf, names), offsets=offsets)
    return project


class _ZipMembers:
    """Source files in a .qdpx, found case-insensitively under sources/ (or Sources/)."""

    def __init__(self, zf: zipfile.ZipFile, names: list[str]):
        self.zf = zf
        self.by_lower = {n.lower(): n for n in names}

    def find(self, ref: str) -> str | None:
        if not ref:
            return None
        ref = ref.replace("\\", "/")
        for prefix in ("internal://", "relative://"):
            if ref.lower().startswith(prefix):
                ref = ref[len(prefix):]
        ref = ref.lstrip("/")
        base = PurePosixPath(ref).name
        for cand in (f"sources/{ref}", ref, f"sources/{base}"):
            hit = self.by_lower.get(cand.lower())
            if hit:
                return hit
        return None

    def read(self, name: str) -> bytes:
        return read_zip_member(self.zf, name)


def _parse(data: bytes, path: str, member: str, kind: str):
    """Parse with defusedxml and strip namespaces; raise InputError. Run inside a _SchemaCheck."""
    root = parse_xml(data, path, member, local_names=True)
    _unique_guids(root, path, member)
    expected = "CodeBook" if kind == "qdc" else "Project"
    if root.tag != expected:
        raise InputError(f"{member} has a <{root.tag}> root element where a REFI-QDA "
                         f"{'codebook' if kind == 'qdc' else 'project'} has <{expected}>; nothing was imported",
                         path=path)
    return root


class _SchemaCheck:
    """The schema check (:func:`_validate`) of a REFI document, around the reading of it.

    ``with _SchemaCheck(data, ...) as data:`` yields the bytes without a BOM. The check parses them
    a second time with lxml (resolving nothing) in a thread while the body parses and reads them
    with defusedxml: lxml releases the GIL for much of its work. A document with a DTD is checked
    after the body instead, so lxml only sees it once defusedxml has accepted it.

    On leaving, a schema error wins over any error the body raised (a document that breaks the
    schema can trip the reader in odd ways; the schema message is the one that explains it),
    except that defusedxml's verdict on XML that lxml cannot parse at all comes first."""

    def __init__(self, data: bytes, kind: str, path: str, member: str):
        import threading

        if data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        self.data = data
        self.args = (data, kind, path, member)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="refi-schema-check", daemon=True)

    def _run(self) -> None:
        try:
            _validate(*self.args)
        except BaseException as exc:   # raised in the caller's thread by __exit__
            self.error = exc

    def __enter__(self) -> bytes:
        head = self.data[:64 * 1024].upper()
        if b"<!DOCTYPE" not in head and b"<!ENTITY" not in head:
            self.thread.start()
        return self.data

    def __exit__(self, exc_type, exc, tb) -> bool:
        if self.thread.ident is not None:
            self.thread.join()
        elif exc is None:
            self._run()
        if exc is not None and not isinstance(exc, Exception):   # KeyboardInterrupt and the like
            return False
        if self.error is not None and not (exc is not None and isinstance(self.error, _Unparsable)):
            raise self.error.with_traceback(None) from None
        return False


def _load_schema(kind: str):
    """The lxml XMLSchema for 'qde' (project) or 'qdc' (codebook)."""
    from lxml import etree

    name = "refi-codebook.xsd" if kind == "qdc" else "refi-project.xsd"
    xsd = Path(__file__).resolve().parent.parent / "data" / name
    return etree.XMLSchema(etree.parse(str(xsd)))


class _Unparsable(InputError):
    """lxml could not parse the document (defusedxml's own error, if it has one, is reported instead)."""


def _validate(data: bytes, kind: str, path: str, member: str) -> None:
    """Check against the REFI schema, reading any QDA-XML namespace (or none) as the 1.0 one."""
    from lxml import etree

    # This parser resolves no entities and fetches nothing; documents with a DTD reach it only after
    # defusedxml has accepted them.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        tree = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise _Unparsable(f"{member} is not well-formed XML ({exc})", path=path) from None
    sch = _load_schema(kind)     # a few ms; loaded here because this may run in a fresh thread
    if sch.validate(tree):
        return
    # Not valid as written: read any QDA-XML namespace (or none) as the 1.0 one and check again.
    # (The schemas have no wildcards, so a valid document already has every element in 1.0.)
    ns = CODEBOOK_NS if kind == "qdc" else PROJECT_NS
    for el in tree.iter():
        if not isinstance(el.tag, str):
            continue
        q = etree.QName(el)
        if q.namespace is None or q.namespace.startswith("urn:QDA-XML:"):
            el.tag = f"{{{ns}}}{q.localname}"
    etree.cleanup_namespaces(tree)
    if not sch.validate(tree):
        err = sch.error_log.filter_from_errors()[0] if sch.error_log.filter_from_errors() else sch.error_log[0]
        msg = re.sub(r"\{urn:QDA-XML:[a-z]+:[0-9.:]+\}", "", err.message)
        raise InputError(f"{member} does not follow the REFI-QDA schema (line {err.line}: {msg}); nothing was "
                         "imported", path=path)


def _unique_guids(root, path: str, member: str) -> None:
    """The guids of what qualcode imports must be unique (the schema cannot say so). Only those: ATLAS.ti
    gives a PDF selection and its text representation one guid, and a codebook's MemberCode refers by guid."""
    seen: dict[str, str] = {}
    wanted = {"Code", "User", "Case", "Variable", "Note", "Coding"}
    elements = [el for el in root.iter() if el.tag in wanted]
    sources = root.find("Sources")
    for src in sources.findall("TextSource") if sources is not None else []:
        elements.append(src)
        elements += src.findall("PlainTextSelection")
    keys = [g.strip("{}").lower() for g in (el.get("guid") for el in elements) if g]
    if len(set(keys)) == len(keys):
        return
    for el in elements:      # there is a duplicate: find the first pair, in document order, to name it
        g = el.get("guid")
        if not g:
            continue
        key = g.strip("{}").lower()
        if key in seen:
            raise InputError(f"{member} gives two elements the same GUID {g} (<{seen[key]}> and <{el.tag}>); "
                             "every element needs its own GUID. Nothing was imported", path=path)
        seen[key] = el.tag


def _attr_guid(el, name: str = "guid") -> str | None:
    v = el.get(name)
    return v.strip("{}") if v else None


def _read_codes(parent) -> list[RefiCode]:
    out = []
    for c in parent.findall("Code"):
        # '#abc' -> '#AABBCC', spaces dropped; a colour that is none (' red ') is left to the theme's palette
        colour = normalise_colour(c.get("color"))
        out.append(RefiCode(
            guid=_attr_guid(c), name=c.get("name", ""),
            codable=c.get("isCodable", "true").strip().lower() in ("true", "1"),
            colour=colour, description=kid_text(c, "Description"),
            children=_read_codes(c), notes=[_attr_guid(n, "targetGUID") for n in c.findall("NoteRef")]))
    return out


def _read_codebook(root, project: RefiProject) -> None:
    project.origin = root.get("origin", "")
    codes = root.find("Codes")
    project.codes = _read_codes(codes) if codes is not None else []
    sets = root.find("Sets")
    if sets is not None and len(sets):
        project.skipped.append(f"{len(sets)} set(s): not imported (qualcode has no sets)")


def _variables(el, var_names: dict[str, str]) -> dict[str, str]:
    out = {}
    for vv in el.findall("VariableValue"):
        ref = vv.find("VariableRef")
        name = var_names.get(_attr_guid(ref, "targetGUID") or "", "") if ref is not None else ""
        value = None
        for c in vv:
            if c.tag.endswith("Value") and c.tag != "VariableValue":
                value = (c.text or "").strip()
        if name and value is not None:
            out[name] = value
    return out


def _read_project(root, project: RefiProject, members: _ZipMembers | None, offsets: dict[str, bool]) -> None:
    project.name = root.get("name", "")
    project.origin = root.get("origin", "")
    users = root.find("Users")
    for u in users.findall("User") if users is not None else []:
        project.users[_attr_guid(u)] = u.get("name") or u.get("id") or _attr_guid(u)
    cb = root.find("CodeBook")
    if cb is not None and cb.find("Codes") is not None:
        project.codes = _read_codes(cb.find("Codes"))
    var_names = {}
    variables = root.find("Variables")
    for v in variables.findall("Variable") if variables is not None else []:
        var_names[_attr_guid(v)] = v.get("name", "")
    cases = root.find("Cases")
    for c in cases.findall("Case") if cases is not None else []:
        project.cases.append(RefiCase(
            guid=_attr_guid(c), name=c.get("name", ""), description=kid_text(c, "Description"),
            variables=_variables(c, var_names),
            source_refs=[_attr_guid(r, "targetGUID") for r in c.findall("SourceRef")],
            selection_refs=[_attr_guid(r, "targetGUID") for r in c.findall("SelectionRef")]))
    sources = root.find("Sources")
    placing = []
    for s in list(sources) if sources is not None else []:
        kind = s.tag
        name = s.get("name") or _attr_guid(s)
        if kind != "TextSource":
            n_sel = sum(1 for c in s.iter() if c.tag.endswith("Selection"))
            project.skipped.append(f"{kind} '{name}': only text sources are imported"
                                   + (f" ({n_sel} selection(s) on it not imported)" if n_sel else ""))
            continue
        src = RefiSource(guid=_attr_guid(s), name=name, kind=kind, description=kid_text(s, "Description"),
                         variables=_variables(s, var_names),
                         notes=[_attr_guid(n, "targetGUID") for n in s.findall("NoteRef")])
        for sel in s.iterfind("PlainTextSelection"):
            description, codings, notes = None, [], []
            for c in sel:      # one pass over the children (there are tens of thousands of selections)
                tag = c.tag
                if tag == "Coding":
                    codings.append(_coding(c))
                elif tag == "NoteRef":
                    notes.append(_attr_guid(c, "targetGUID"))
                elif tag == "Description" and description is None:
                    description = c.text or ""
            src.selections.append(RefiSelection(
                guid=_attr_guid(sel), name=sel.get("name", ""), start=int(sel.get("startPosition")),
                end=int(sel.get("endPosition")), description=description or "",
                user_guid=_attr_guid(sel, "creatingUser"), created=sel.get("creationDateTime"),
                codings=codings, notes=notes))
        whole = s.findall("Coding")
        if whole:
            project.skipped.append(f"source '{name}': {len(whole)} coding(s) of the whole source not "
                                   "imported (qualcode codes segments)")
        raw = _source_text(s, src, members, project.path)
        if raw is not None:
            index = TextIndex(raw, bom=src.bom)
            src.text = index.text
            check_extent(src, index, project.path)
            placing.append((src, index))
        else:
            for sel in src.selections:
                sel.refused = f"its source text is not available ({src.missing})"
        project.sources.append(src)
    # every source's unit is decided (or the import refused) before any selection is placed
    why = None
    if not offsets and project.origin.lower().startswith(QUALCODE_ORIGIN_PREFIX):
        # our own exporter: stored text (LF, no BOM), character offsets; the quoted names are still checked
        offsets, why = {"utf16": False, "crlf2": True, "bom": False}, "written by qualcode, which counts characters"
    choices = decide_units(placing, offsets, project.path, quote_shaped, quote_matches, why)
    for (src, index), choice in zip(placing, choices):
        src.choice = choice
        place_selections(src, index, choice)
        if not choice.evidence and why is None:
            project.warnings += fit_warning(src)
    project.units = choices
    notes = root.find("Notes")
    for n in notes.findall("Note") if notes is not None else []:
        text = kid_text(n, "PlainTextContent")
        if not text and members is not None and n.get("plainTextPath"):
            member = members.find(n.get("plainTextPath"))
            if member:
                text = _decode(members.read(member), project.path, member)
        project.notes.append(RefiNote(guid=_attr_guid(n), name=n.get("name", ""), text=text,
                                      user_guid=_attr_guid(n, "creatingUser"), created=n.get("creationDateTime")))
    project.project_notes = [_attr_guid(n, "targetGUID") for n in root.findall("NoteRef")]
    links = root.find("Links")
    note_guids = {n.guid for n in project.notes}
    for link in links.findall("Link") if links is not None else []:
        a, b = _attr_guid(link, "originGUID"), _attr_guid(link, "targetGUID")
        if a in note_guids and b:
            project.note_links.append((a, b))
        elif b in note_guids and a:
            project.note_links.append((b, a))
    for tag in ("Sets", "Graphs"):
        el = root.find(tag)
        if el is not None and len(el):
            project.skipped.append(f"{len(el)} {tag[:-1].lower()}(s): not imported (qualcode has no {tag.lower()})")


def _coding(el) -> RefiCoding:
    ref = el.find("CodeRef")
    get = el.get
    guid, user = get("guid"), get("creatingUser")
    return RefiCoding(guid=guid.strip("{}") if guid else None, code_guid=_attr_guid(ref, "targetGUID"),
                      user_guid=user.strip("{}") if user else None, created=get("creationDateTime"))


def _decode(data: bytes, path: str, member: str) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"source file {member} is not UTF-8 text (byte 0x{data[exc.start]:02x} at position "
                         f"{exc.start}), as REFI-QDA requires; nothing was imported", path=path) from None


def _source_text(el, src: RefiSource, members: _ZipMembers | None, path: str) -> str | None:
    """The source's plain text as written (BOM dropped, line endings kept), or None with src.missing set."""
    content = el.find("PlainTextContent")
    if content is not None and content.text:
        src.text_from = "PlainTextContent"
        return content.text
    ref = el.get("plainTextPath", "")
    src.file_name = PurePosixPath(ref.replace("\\", "/")).name if ref else ""
    if members is None:
        src.missing = "a .qde file alone holds no source files; import the .qdpx archive instead"
        return None
    raw = None
    member = members.find(ref)
    if member:
        data = members.read(member)
        src.bom = data.startswith(b"\xef\xbb\xbf")
        raw = _decode(data, path, member)
        src.text_from = "plainTextPath"
    if raw is None or not raw.strip():
        docx = members.find(el.get("richTextPath", ""))
        if docx and docx.lower().endswith(".docx"):
            from ..ingest.parse import docx_text

            with tempfile.TemporaryDirectory() as tmp:
                target = Path(tmp) / "source.docx"
                target.write_bytes(members.read(docx))
                raw = docx_text(str(target))
            src.text_from, src.bom = "docx", False
    if raw is None:
        src.missing = f"'{ref or '(no plainTextPath)'}' is not in the archive"
        return None
    return raw
