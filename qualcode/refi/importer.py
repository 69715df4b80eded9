"""Import a REFI-QDA file into a project, in one act.

Mapping (also in docs/interop.md):

* A top-level ``<Code isCodable="false">`` becomes a **theme**; the codes beneath it become
  codes of that theme (nesting kept as parent codes).
* A top-level codable code **with children** becomes a theme of the same name *and* a code
  (so codings on it are kept), with its children as codes beneath that code.
* A top-level codable code without children becomes a code with no theme.
* Each text source becomes a source; its group is the source's ``focus group`` (or
  ``group``) variable, else the group in its file name (``F2.txt``), else its name.
* Each placed text selection becomes a coding on its exact span. Selections
  with the same positions are one passage: one segment with all their codes (NVivo writes
  one selection per code). A selection inside another one's passage is a fragment coding
  inside that segment; a passage inside no other becomes a segment (passages may overlap
  partly). Each ``<Coding>`` is a coding by the coder named in ``creatingUser`` (origin
  ``imported``).
  A selection's speaker comes from a case that refers to it (``SelectionRef``) or to its
  source (``SourceRef``): a case named ``F2 P2`` or ``P2`` becomes participant P2 of the
  source's group, one named ``Moderator`` a moderator turn. Without a case the segment has
  speaker ``unattributed``, role participant and **no participant** (no pseudo-participants
  are invented, so the overview's voice balance is not distorted).
* Notes become memos on what refers to them (project, theme, code, source, segment, and a
  participant through a Link from the note to the case); others become project memos.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from ..files.bulk import gc_paused
from ..errors import ConflictError, InputError
from ..codebook.ids import slug
from ..store.core import now
from . import GROUP_VARIABLE, QUALCODE_ORIGIN_PREFIX
from .read import RefiCode, RefiProject, RefiSelection, read_refi

PALETTE = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#999999")
GROUP_NAMES = (GROUP_VARIABLE, "group", "groep", "focusgroep", "focus group")
UNATTRIBUTED = "unattributed"
DEFAULT_CODER = "imported"
_TRAILER_RE = re.compile(r"(?:\n\n|^)qualcode id: (?P<key>\S+)\s*$")
_FIELD_RE = re.compile(r"\n\n(Include|Exclude|Example): ")
_SEG_RE = re.compile(r"segment (?P<ord>\d+)")
_FRAGMENT_RE = re.compile(r"^fragment · in selection ([0-9A-Fa-f-]{36})")
_TURN_RE = re.compile(r"turn (?P<turn>\d+)")
_TIME_RE = re.compile(r"at (?P<t>\d+(?:\.\d+)?) s\b")


@dataclass
class ImportReport:
    path: str
    origin: str = ""
    themes: int = 0
    codes: int = 0
    codes_in_file: int = 0
    sources: int = 0
    segments: int = 0
    selections_in_file: int = 0
    codings: int = 0
    coders: list[str] = field(default_factory=list)
    participants: int = 0
    memos: int = 0
    refused: list[str] = field(default_factory=list)     # selections not placed, with reasons
    skipped: list[str] = field(default_factory=list)     # other things not imported
    notes: list[str] = field(default_factory=list)
    units: list[str] = field(default_factory=list)       # per source: how positions were counted, and why

    def lines(self) -> list[str]:
        out = [f"imported {Path(self.path).name} (from {self.origin or 'an unnamed tool'}): "
               f"{self.themes} themes, {self.codes} codes, {self.sources} sources, {self.segments} segments, "
               f"{self.codings} codings, {len(self.coders)} coders, {self.participants} participants, "
               f"{self.memos} memos"]
        placed = self.selections_in_file - len(self.refused)
        if self.selections_in_file:
            out.append(f"selections: {placed} of {self.selections_in_file} placed")
        out.extend(f"  positions: {u}" for u in self.units)
        out.extend(f"  note: {n}" for n in self.notes)
        out.extend(f"  not placed: {r}" for r in self.refused)
        out.extend(f"  not imported: {s}" for s in self.skipped)
        return out


@gc_paused
def import_refi(store, path: str | Path, *, project=None, offsets: str | None = None) -> ImportReport:
    """Import ``path`` (.qdpx, .qde, .qdc) into ``store`` in one act. Bad input writes nothing.

    ``offsets`` ('utf16', 'codepoints', optionally ',crlf1|crlf2' and ',bom|nobom') overrides the unit
    of selection positions that is otherwise decided from the file's evidence."""
    project = project or read_refi(path, offsets=offsets)
    plan = _Plan(store, project)
    plan.check()
    undoable = not any(s.text is not None for s in project.sources)
    with store.act("import refi", summary="", undoable=undoable, capture=undoable,
                   details={"file": str(path), "origin": project.origin}) as act:
        plan.write()
        r = plan.report
        act.summary = (f"{Path(str(path)).name}: {r.themes} themes, {r.codes} codes, {r.sources} sources, "
                       f"{r.segments} segments, {r.codings} codings")
        act.details.update({"refused": len(r.refused), "memos": r.memos})
    return plan.report


@gc_paused
def import_refi_new(project_path: str | Path, path: str | Path, *, language: str = "nl",
                    offsets: str | None = None) -> ImportReport:
    """Create a new project at ``project_path`` from a REFI-QDA file. On error no project file is left."""
    from ..errors import ProjectError
    from ..store import Store

    project_path = Path(project_path)
    if project_path.exists():
        raise ProjectError(f"{project_path} already exists. To add this import to it, use --into {project_path}; "
                           "for a new project, choose another path with -p.")
    project = read_refi(path, offsets=offsets)      # every input error before the project file exists
    with Store.building(project_path, language=language, name=project.name or Path(str(path)).stem) as store:
        return import_refi(store, path, project=project)


# ------------------------------------------------------------------ helpers
def _unit_lines(choices) -> list[str]:
    """One line per source whose positions needed deciding; one line for all the others."""
    out = [c.line() for c in choices if c.evidence]
    alike = [c for c in choices if not c.evidence]
    if alike:
        which = f"source {alike[0].source}" if len(alike) == 1 else f"{len(alike)} sources"
        out.append(f"{which}: counted as characters; every way of counting (characters or UTF-16 units, CRLF "
                   "as 1 or 2, BOM or not) gives the same positions for "
                   + ("its selections" if len(alike) == 1 else "their selections"))
    return out


def unique(key: str, taken: set[str]) -> str:
    out, n = key, 2
    while out in taken:
        out, n = f"{key}_{n}", n + 1
    taken.add(out)
    return out


def split_description(text: str) -> dict:
    """Undo qualcode's export layout: description, Include/Exclude/Example paragraphs, 'qualcode id: KEY'."""
    out = {"key": None, "description": text or "", "include": "", "exclude": "", "example": ""}
    m = _TRAILER_RE.search(out["description"])
    if not m:
        return out
    out["key"] = m.group("key")
    body = out["description"][: m.start()]
    parts = _FIELD_RE.split(body)
    out["description"] = parts[0]
    for label, value in zip(parts[1::2], parts[2::2]):
        out[label.lower()] = value
    return out


def derived_guid(base: str, what: str) -> str:
    """A guid made from another one, the same every time (for themes made from codable codes)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"qualcode:{what}:{base.lower()}"))


def _is_uuid(s: str) -> bool:
    try:
        uuid.UUID(s)
        return True
    except (ValueError, TypeError, AttributeError):
        return False


def _natural_group(name: str) -> str:
    from ..ingest.parse import group_from_filename

    return group_from_filename(name) or re.sub(r"\.[A-Za-z0-9]{1,5}$", "", name).strip() or "R1"


# --------------------------------------------------------------------- plan
class _Plan:
    def __init__(self, store, project: RefiProject):
        self.store = store
        self.p = project
        self.qualcode = project.origin.lower().startswith(QUALCODE_ORIGIN_PREFIX)
        self.report = ImportReport(path=project.path, origin=project.origin,
                                   codes_in_file=len(project.all_codes()),
                                   selections_in_file=len(project.selections()), skipped=list(project.skipped),
                                   units=_unit_lines(project.units), notes=list(project.warnings))
        self.code_target: dict[str, tuple[str, int]] = {}   # refi code guid -> ('theme'|'code', id)
        self._speakers: dict[tuple[int, str], tuple[str, str, int | None]] = {}   # (id(case), group) -> speaker

    # ----------------------------------------------------------- validation
    def check(self) -> None:
        known = {c.guid for c in self.p.all_codes()} | set(self.store.guid_index("codes")) \
            | set(self.store.guid_index("themes"))
        for src in self.p.sources:
            for sel in src.selections:
                for c in sel.codings:
                    if c.code_guid not in known:
                        raise InputError(
                            f"selection {sel.guid} in source '{src.name}' is coded with code {c.code_guid}, which "
                            "is not in the codebook (unknown CodeRef); nothing was imported", path=self.p.path)
        existing = {s["guid"]: s for s in self.store.source_rows()}
        names = {s["name"]: s for s in existing.values()}
        for src in self.p.sources:
            if src.text is None:
                continue
            old = existing.get(src.guid)
            if old is not None and old["text"] != src.text:
                raise ConflictError(f"source '{src.name}' is already in the project with a different text; "
                                    "nothing was imported")
            if old is None and self._source_name(src) in names:
                raise ConflictError(f"a different source named '{self._source_name(src)}' is already in the "
                                    "project; rename one of them. Nothing was imported")
        # two sources of the file with one name (a tool allows it, qualcode does not): number them
        seen: dict[str, int] = {}
        for src in self.p.sources:
            if src.text is None or src.guid in existing:
                continue
            name = self._source_name(src)
            seen[name] = seen.get(name, 0) + 1
            if seen[name] > 1:
                src.name, src.file_name = f"{name} ({seen[name]})", ""

    @staticmethod
    def _source_name(src) -> str:
        """The source's name; a name that is only a GUID gives way to its text file's name."""
        if _is_uuid(src.name) and src.file_name and not _is_uuid(Path(src.file_name).stem):
            return src.file_name
        return src.name

    # ---------------------------------------------------------------- write
    def write(self) -> None:
        self._codebook()
        users = self._users()
        participants = self._cases()
        seg_ids = self._sources(users, participants)
        self._memos(users, seg_ids, participants)

    def _codebook(self) -> None:
        st = self.store
        theme_guids, code_guids = st.guid_index("themes"), st.guid_index("codes")
        theme_keys, code_keys = st.keys_in_use("themes"), st.keys_in_use("codes")
        n_themes = len(theme_guids)

        def add_theme(c: RefiCode, guid: str) -> int:
            nonlocal n_themes
            if guid in theme_guids:
                return theme_guids[guid]
            info = split_description(c.description) if self.qualcode else split_description("")
            if not self.qualcode:
                info["description"] = c.description
            key = unique(info["key"] or slug(c.name), theme_keys)
            colour = c.colour or PALETTE[n_themes % len(PALETTE)]
            n_themes += 1
            tid = st.add_theme(key, c.name, colour, info["description"], guid=guid)
            theme_guids[guid] = tid
            self.report.themes += 1
            return tid

        def add_code(c: RefiCode, theme_id: int | None, theme_colour: str | None, parent_id: int | None) -> int:
            if c.guid in code_guids:
                cid = code_guids[c.guid]
            else:
                info = split_description(c.description) if self.qualcode else split_description("")
                if not self.qualcode:
                    info["description"] = c.description
                key = unique(info["key"] or slug(c.name), code_keys)
                colour = c.colour if c.colour and c.colour != theme_colour else None
                cid = st.add_code(key, c.name, theme_id, parent_id=parent_id, description=info["description"],
                                  include=info["include"], exclude=info["exclude"], example=info["example"],
                                  colour=colour, guid=c.guid)
                code_guids[c.guid] = cid
                self.report.codes += 1
            self.code_target[c.guid] = ("code", cid)
            for child in c.children:
                add_code(child, theme_id, theme_colour, cid)
            return cid

        for top in self.p.codes:
            if not top.codable:
                tid = add_theme(top, top.guid)
                self.code_target[top.guid] = ("theme", tid)
                colour = self._theme_colour(tid)
                for child in top.children:
                    add_code(child, tid, colour, None)
            elif top.children:
                tid = add_theme(top, derived_guid(top.guid, "theme"))
                add_code(top, tid, self._theme_colour(tid), None)
            else:
                add_code(top, None, None, None)

    def _theme_colour(self, tid: int) -> str:
        return next(t["colour"] for t in self.store.themes() if t["id"] == tid)

    def _users(self) -> dict[str, str]:
        """refi user guid -> coder name (coders are created when they code something)."""
        out = {}
        for guid, name in self.p.users.items():
            taken = self.store.coder_guid_taken(guid)
            out[guid] = taken or name
        return out

    def _coder(self, users: dict[str, str], *guids) -> tuple[str, str | None]:
        for g in guids:
            if g and g in users:
                return users[g], g
        return DEFAULT_CODER, None

    def _cases(self) -> dict[str, dict]:
        """case guid -> {'case', 'ids': {group: participant id}}. A case with a group variable is a
        participant of that group (made now, with its attributes); others become participants of the
        group of each source they are used in."""
        cases = {c.guid: {"case": c, "ids": {}} for c in self.p.cases}
        for entry in cases.values():
            group = self._case_group(entry["case"])
            if group:
                self._speaker(entry, group)
        return cases

    @staticmethod
    def _case_group(case) -> str | None:
        from ..ingest.parse import normalise_group

        group = next((v for k, v in case.variables.items() if k.lower() in GROUP_NAMES and v), None)
        return normalise_group(group) if group else None

    def _speaker(self, case: dict | None, group: str) -> tuple[str, str, int | None]:
        key = (id(case), group)
        if key not in self._speakers:
            self._speakers[key] = self._find_speaker(case, group)
        return self._speakers[key]

    def _find_speaker(self, case: dict | None, group: str) -> tuple[str, str, int | None]:
        from ..ingest.parse import speaker_of

        if case is None:
            return UNATTRIBUTED, "participant", None
        c = case["case"]
        name = c.name.strip() or "case"
        first, _, rest = name.partition(" ")
        label = rest.strip() if rest and first == group else name
        speaker, role = speaker_of(label)
        if role != "participant":
            return speaker, role, None
        if group not in case["ids"]:
            pid = self.store.participant_id(group, speaker)
            attrs = {k: v for k, v in c.variables.items() if k.lower() not in GROUP_NAMES}
            if pid is None:
                guid = None if self.store.guid_taken("participants", c.guid) else c.guid
                pid = self.store.add_participant(group, speaker, attrs, guid=guid)
                self.report.participants += 1
            elif attrs:
                self.store.set_participant_attributes(pid, attrs)
            case["ids"][group] = pid
        return speaker, role, case["ids"][group]

    def _sources(self, users: dict[str, str], cases: dict[str, dict]) -> dict[str, int]:
        from ..text.nlp import count_words, count_words_pieced

        st = self.store
        by_selection = {g: cases[c.guid] for c in self.p.cases for g in c.selection_refs}
        by_source: dict[str, list] = {}
        for c in self.p.cases:
            for g in c.source_refs:
                by_source.setdefault(g, []).append(cases[c.guid])
        source_guids = st.guid_index("sources")
        seg_guids = st.guid_index("segments")
        seg_ids: dict[str, int] = {}
        coders: set[str] = set()
        for src in self.p.sources:
            placed = [s for s in src.selections if s.placed]
            for sel in src.selections:
                if sel.refused:
                    self.report.refused.append(f"selection {sel.guid} in '{src.name}' "
                                               f"({len(sel.codings)} coding(s)): {sel.refused}")
            if src.text is None:
                if not src.selections:
                    self.report.skipped.append(f"source '{src.name}': {src.missing}")
                continue
            group = next((v for k, v in src.variables.items() if k.lower() in GROUP_NAMES), None)
            if group:
                from ..ingest.parse import normalise_group
                group = normalise_group(group)
            words = {sel.guid: count_words(src.text[sel.placed[0]:sel.placed[1]]) for sel in placed}
            if src.guid in source_guids:
                sid = source_guids[src.guid]
                group = st.source(sid)["group_label"]
            else:
                group = group or _natural_group(self._source_name(src))
                text_sha = hashlib.sha256(src.text.encode("utf-8")).hexdigest()
                sid = st.add_source(name=self._source_name(src), format="refi", group_label=group, group_origin="REFI-QDA import",
                                    text=src.text, sha256=text_sha,
                                    file_sha256=hashlib.sha256(f"{src.guid}:{text_sha}".encode()).hexdigest(),
                                    encoding="utf-8", guid=src.guid,
                                    n_words=count_words_pieced(src.text, [(*sel.placed, words[sel.guid])
                                                                          for sel in placed]))
                source_guids[src.guid] = sid
                self.report.sources += 1
                if not src.text.strip():
                    self.report.notes.append(f"source '{src.name}' has no text (its plain text file"
                                             f"{' and Word document are' if src.text_from == 'docx' else ' is'} "
                                             "empty)")
                elif src.text_from == "docx":
                    self.report.notes.append(f"source '{src.name}': text taken from its Word document "
                                             "(its plain text file is empty)")
            used = st.ordinals(sid)
            rows, pending = [], []
            holder = _holders(self.qualcode, placed, seg_guids)  # selection guid -> guid of its segment's
            for sel in sorted(placed, key=lambda s: (s.placed, s.guid)):
                if holder[sel.guid] != sel.guid:   # another selection's passage holds it
                    pending.append(sel)
                    continue
                if sel.guid in seg_guids:
                    seg_ids[sel.guid] = seg_guids[sel.guid]
                    pending.append(sel)
                    continue
                meta = self._segment_meta(sel)
                ordinal = meta.get("ordinal")
                if ordinal is None or ordinal in used:
                    ordinal = max(used | {0}) + 1
                used.add(ordinal)
                case = by_selection.get(sel.guid) or next(
                    (by_selection[o.guid] for o in placed if holder[o.guid] == sel.guid and o.placed == sel.placed
                     and o.guid in by_selection), None)
                if case is None and len(by_source.get(src.guid, [])) == 1:
                    case = by_source[src.guid][0]
                speaker, role, pid = self._speaker(case, group)
                s, e = sel.placed
                text = src.text[s:e]
                rows.append({"guid": sel.guid, "ordinal": ordinal, "turn": meta.get("turn", ordinal),
                             "speaker": speaker, "role": role, "participant_id": pid, "start": s, "end": e,
                             "timestamp": meta.get("timestamp"), "text": text, "n_words": words[sel.guid]})
                pending.append(sel)
            if rows:
                st.add_segments(sid, rows)
                self.report.segments += len(rows)
                seg_guids.update(st.segment_guids_of_source(sid))
                self._keep_read_hashes(src, sid, [r["guid"] for r in rows])
            batch: dict[tuple[str, str | None], list[tuple]] = {}   # (coder, coder guid) -> coding rows
            seg_span = {sel.guid: sel.placed for sel in placed if holder[sel.guid] == sel.guid}
            for sel in pending:
                seg_ids[sel.guid] = seg_guids[holder[sel.guid]]
                # the selection's exact span; the holding passage's own span is the whole segment
                span = None if sel.placed == seg_span[holder[sel.guid]] else sel.placed
                for c in sel.codings:
                    kind, target = self.code_target.get(c.code_guid) or self._existing_code(c.code_guid)
                    if kind != "code":
                        self.report.skipped.append(f"coding {c.guid} in '{src.name}': its code is a theme "
                                                   "(not codable in qualcode)")
                        continue
                    coder, coder_guid = self._coder(users, c.user_guid, sel.user_guid)
                    batch.setdefault((coder, coder_guid), []).append(
                        (c.guid, seg_ids[sel.guid], target, "imported", c.created or sel.created or now(), span))
            for (coder, coder_guid), coding_rows in batch.items():
                added = st.add_coding_rows(coding_rows, coder, coder_guid)
                if added:
                    self.report.codings += added
                    coders.add(coder)
        self.report.coders = sorted(coders)
        return seg_ids

    def _keep_read_hashes(self, src, sid: int, guids: list[str]) -> None:
        """Keep, per new segment, the hash of its text as read from the file (``qualcode review`` checks it)."""
        st = self.store
        record = st.refi_read_record(src.guid) or {"segments": {}}
        by_guid = {sel.guid: sel for sel in src.selections}
        record["segments"].update({g: by_guid[g].read_hash for g in guids})
        record.update({"file": Path(self.p.path).name, "text_sha256": st.source(sid)["sha256"],
                       "unit": src.choice.unit.label(src.choice.dims) if src.choice else "characters"})
        st.set_refi_read_record(src.guid, record)

    def _existing_code(self, guid: str) -> tuple[str, int]:
        codes = self.store.guid_index("codes")
        if guid in codes:
            return "code", codes[guid]
        return "theme", self.store.guid_index("themes")[guid]

    def _segment_meta(self, sel: RefiSelection) -> dict:
        """Ordinal, turn and time written by qualcode's export in the selection's description."""
        if not self.qualcode or not sel.description:
            return {}
        out: dict = {}
        for rx, key, conv in ((_SEG_RE, "ordinal", int), (_TURN_RE, "turn", int), (_TIME_RE, "timestamp", float)):
            m = rx.search(sel.description)
            if m:
                out[key] = conv(m.group(1))
        return out

    def _memos(self, users: dict[str, str], seg_ids: dict[str, int], cases: dict[str, dict]) -> None:
        st = self.store
        targets: dict[str, tuple[str, int | None]] = {}
        for g in self.p.project_notes:
            targets.setdefault(g, ("project", None))
        for c in self.p.all_codes():
            for g in c.notes:
                if c.guid in self.code_target:
                    targets.setdefault(g, self.code_target[c.guid])
        source_guids = st.guid_index("sources")
        for src in self.p.sources:
            if src.guid in source_guids:
                for g in src.notes:
                    targets.setdefault(g, ("source", source_guids[src.guid]))
            for sel in src.selections:
                for g in sel.notes:
                    if sel.guid in seg_ids:
                        targets.setdefault(g, ("segment", seg_ids[sel.guid]))
        case_pids = {}
        for guid, case in cases.items():
            group = self._case_group(case["case"])
            if group in case["ids"]:
                case_pids[guid] = case["ids"][group]
            elif len(case["ids"]) == 1:
                case_pids[guid] = next(iter(case["ids"].values()))
        for note_guid, target in self.p.note_links:
            if target in seg_ids:
                targets.setdefault(note_guid, ("segment", seg_ids[target]))
            elif target in case_pids:
                targets.setdefault(note_guid, ("participant", case_pids[target]))
            elif target in self.code_target:
                targets.setdefault(note_guid, self.code_target[target])
            elif target in source_guids:
                targets.setdefault(note_guid, ("source", source_guids[target]))
        memo_guids = st.guid_index("memos")
        for n in self.p.notes:
            if n.guid in memo_guids:
                continue
            kind = "supervisor" if n.name.lower().startswith("supervisor comment") else "memo"
            text = n.text
            if not self.qualcode and n.name and n.name not in text:
                text = f"{n.name}\n\n{text}" if text else n.name
            ttype, tid = targets.get(n.guid, ("project", None))
            author = users.get(n.user_guid or "", DEFAULT_CODER)
            st.add_memo(ttype, tid, text, author, kind=kind, guid=n.guid, created_at=n.created or now())
            self.report.memos += 1


def _holders(qualcode: bool, placed: list, seg_guids: dict[str, int]) -> dict[str, str]:
    """selection guid -> guid of the selection whose segment holds it. qualcode's own files say
    so: every segment is a selection, and a fragment names its segment's selection; other files
    are cut into passages (see :func:`_passages`)."""
    if not qualcode:
        return _passages(placed, seg_guids)
    span = {sel.guid: tuple(sel.placed) for sel in placed}
    out = {}
    for sel in placed:
        m = _FRAGMENT_RE.match(sel.description or "")
        home = m.group(1) if m else None
        inside = home in span and span[home][0] <= sel.placed[0] < sel.placed[1] <= span[home][1]
        out[sel.guid] = home if inside else sel.guid
    return out


def _passages(placed: list, seg_guids: dict[str, int]) -> dict[str, str]:
    """selection guid -> the guid of the selection whose segment holds it (itself for a segment).

    Selections with the same positions are one passage; its segment is the selection already a
    segment of the project (a re-import), else the first by guid. A passage inside another
    passage (the outermost one that starts last before it) is held by that passage's segment.
    Sorted by start, then longest first, a container always comes before what it contains, and
    the outermost passages' ends increase with their starts, so the last one is the only candidate."""
    from bisect import bisect_right

    by_span: dict[tuple[int, int], list] = {}
    for sel in sorted(placed, key=lambda s: s.guid):
        by_span.setdefault(tuple(sel.placed), []).append(sel)
    starts: list[int] = []
    outer: list[tuple[int, int]] = []
    owner: dict[tuple[int, int], str] = {}
    out: dict[str, str] = {}
    for span in sorted(by_span, key=lambda sp: (sp[0], -sp[1])):
        sels = by_span[span]
        i = bisect_right(starts, span[0]) - 1
        if i >= 0 and outer[i][1] >= span[1] and outer[i] != span and span[1] > span[0]:
            for sel in sels:
                out[sel.guid] = owner[outer[i]]
            continue
        head = next((sel for sel in sels if sel.guid in seg_guids), sels[0])
        owner[span] = head.guid
        starts.append(span[0])
        outer.append(span)
        for sel in sels:
            out[sel.guid] = head.guid
    return out
