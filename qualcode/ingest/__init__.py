"""Ingest: transcripts and participants metadata into the project.

All files are read and checked first; only when every one is usable is
anything written, in one transaction. Bad input writes nothing.
"""

from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from ..files.bulk import gc_paused
from ..errors import ConflictError, InputError
from ..text.nlp import count_words
from ..store.core import serialised
from .parse import (LabelOptions, Parsed, decode, docx_text, group_from_filename, normalise_group, odt_text,
                    parse_labelled, parse_subtitles)
from .speakers import SpeakerContext, build_context, group_from_names, resolve, write_names_file
from .tables import parse_utterance_table

TEXT_FORMATS = {".txt": "txt", ".md": "md", ".markdown": "md", ".text": "txt"}
TABLE_FORMATS = (".csv", ".tsv", ".xlsx", ".xlsm")
SPLITS = ("turn", "sentences", "paragraphs")
LARGE_TURNS = 300  # splitting more turns than this into sentences takes long enough for a progress bar


@dataclass
class SourceReport:
    name: str
    group: str
    group_origin: str
    turns: int = 0
    segments: int = 0
    words: int = 0
    status: str = "added"          # added, replaced, skipped
    message: str = ""
    notes: list[str] = field(default_factory=list)


@dataclass
class IngestReport:
    sources: list[SourceReport] = field(default_factory=list)
    participants_added: int = 0
    participants_updated: int = 0
    speakers_created: list[str] = field(default_factory=list)
    codings_imported: int = 0
    names_file: str = ""          # where the name -> key table was written (it holds names!)
    names_numbered: int = 0
    new_codes: list[str] = field(default_factory=list)   # codes created from a coded table (--create-codes)

    def lines(self) -> list[str]:
        out = []
        for s in self.sources:
            if s.status == "skipped":
                out.append(f"{s.name}: {s.message}")
                continue
            out.append(f"{s.name}: {s.status}, group {s.group} (from {s.group_origin}), {s.turns} turns, "
                       f"{s.segments} segments, {s.words} words")
            if s.message:
                out.append(f"  {s.message}")
            out.extend(f"  note: {n}" for n in s.notes)
        if self.participants_added or self.participants_updated:
            out.append(f"participants: {self.participants_added} added, {self.participants_updated} updated")
        if self.speakers_created:
            out.append(f"new speakers created (--allow-new-speakers): {', '.join(self.speakers_created)}")
        if self.new_codes:
            out.append(f"new codes (--create-codes, under the theme for new codes): {', '.join(self.new_codes)}")
        if self.codings_imported:
            out.append(f"codings imported from tables: {self.codings_imported}")
        if self.names_file:
            out.append(f"{self.names_numbered} speaker name(s) numbered; the name -> key table is in "
                       f"{self.names_file}. It holds real names: keep it apart from anything you share. qualcode "
                       "reads it again on later ingests into this project, so the same people keep their keys")
        return out


def parse_column_options(values: Iterable[str]) -> dict[str, str]:
    """``--column ROLE=NAME`` values -> {role (lower case): column name}."""
    mapping = {}
    for value in values:
        if "=" not in value:
            raise InputError(f"--column takes ROLE=NAME, got '{value}'")
        role, name = value.split("=", 1)
        mapping[role.strip().lower()] = name.strip()
    return mapping


def read_source(path: str, *, columns: dict | None = None, group: str | None = None,
                opts: LabelOptions | None = None, strict: bool = False,
                group_column: bool = False) -> list[Parsed]:
    """Read one input file into one or more Parsed sources (tables may hold several groups)."""
    p = Path(path)
    if not p.exists():
        raise InputError("does not exist", path=path)
    if p.is_dir():
        raise InputError("is a folder; give the transcript files (e.g. folder/*.txt)", path=path)
    ext = p.suffix.lower()
    if group_column and ext not in TABLE_FORMATS:
        raise InputError("--group-from column works only for tables (.csv, .tsv, .xlsx); use --group-from "
                         "filename or folder for other files", path=path)
    if ext in TEXT_FORMATS:
        text, enc = decode(p.read_bytes(), path)
        return [parse_labelled(text, path, TEXT_FORMATS[ext], enc, opts)]
    if ext in (".docx", ".odt"):
        text = docx_text(path) if ext == ".docx" else odt_text(path)
        if not text.strip():
            raise InputError(f"is an empty {'Word' if ext == '.docx' else 'LibreOffice'} document", path=path)
        return [parse_labelled(text.replace("\r\n", "\n").replace("\r", "\n"), path, ext[1:], ext[1:], opts)]
    if ext == ".rtf":
        text = rtf_text(p.read_bytes(), path)
        return [parse_labelled(text, path, "rtf", "rtf", opts)]
    if ext in (".vtt", ".srt"):
        text, enc = decode(p.read_bytes(), path)
        return [parse_subtitles(text, path, ext[1:], enc, opts)]
    if ext in TABLE_FORMATS:
        return parse_utterance_table(path, columns=columns, group=group, opts=opts, strict=strict,
                                     group_column=group_column)
    if ext == ".qdpx":
        raise InputError("is a REFI-QDA project, not a transcript; import it with 'qualcode import refi "
                         f"{p.name}'", path=path)
    if ext == ".zip":
        raise InputError(_zip_hint(path), path=path)
    raise InputError(f"has an unsupported file type '{ext}'; qualcode reads .txt, .md, .docx, .odt, .rtf, .vtt, "
                     ".srt, .csv and .xlsx", path=path)


def _zip_hint(path: str) -> str:
    import zipfile

    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
    except (zipfile.BadZipFile, OSError):
        return "is not a readable ZIP archive"
    qdpx = [n for n in names if n.lower().endswith(".qdpx")]
    if qdpx:
        inner = qdpx[0].rsplit("/", 1)[-1]
        return (f"is a ZIP archive that holds a REFI-QDA project ({inner}); unzip it and import that with "
                f"'qualcode import refi {inner}'")
    if "project.qde" in names:
        return "is a REFI-QDA project saved as .zip; rename it to .qdpx and use 'qualcode import refi'"
    return "is a ZIP archive; unzip it and ingest the transcripts inside"


def rtf_text(data: bytes, path: str) -> str:
    """Plain text of a Rich Text Format file (striprtf), with LF line endings."""
    try:
        from striprtf.striprtf import rtf_to_text
    except ImportError:
        raise InputError("is an RTF file and the RTF reader (striprtf) is not installed; run 'pip install "
                         "striprtf' or save the file as .docx or .txt", path=path) from None
    if not data.lstrip().startswith(b"{\\rtf"):
        raise InputError("is not an RTF file (it does not start with '{\\rtf')", path=path)
    raw = data.decode("latin-1")
    try:
        text = rtf_to_text(raw, errors="ignore")
    except Exception as exc:  # a damaged file can fail anywhere in the parser
        raise InputError(f"cannot be read as RTF ({type(exc).__name__}); save it as .docx or .txt", path=path) from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise InputError("is an empty RTF document", path=path)
    return text


def segment_spans(text: str, turn_start: int, turn_end: int, split: str, language: str) -> list[tuple[int, int]]:
    """Cut one turn into segment spans (offsets into ``text``)."""
    if split == "turn" or turn_end <= turn_start:
        return [(turn_start, turn_end)]
    body = text[turn_start:turn_end]
    spans = []
    if split == "paragraphs":
        pos = 0
        for part in body.split("\n"):
            s, e = pos, pos + len(part)
            pos = e + 1
            lead = len(part) - len(part.lstrip())
            if part.strip():
                spans.append((turn_start + s + lead, turn_start + s + len(part.rstrip())))
    else:
        from ..text.nlp import pipeline

        nlp = pipeline(language)
        with nlp.select_pipes(enable=["sentencizer"]):
            doc = nlp(body)
        for sent in doc.sents:
            s, e = sent.start_char, sent.end_char
            while s < e and body[s].isspace():
                s += 1
            while e > s and body[e - 1].isspace():
                e -= 1
            if e > s:
                spans.append((turn_start + s, turn_start + e))
    return spans or [(turn_start, turn_end)]


GROUP_FROM = ("filename", "column", "folder")


@gc_paused
# one write transaction from the first read to the last write: a second ingest of the same file at the same
# time waits for this one (up to QUALCODE_BUSY_TIMEOUT), then finds the file already ingested
@serialised
def ingest(store, paths: Iterable[str], *, participants: str | None = None, group: str | None = None,
           split: str = "turn", replace: bool = False, allow_new_speakers: bool = False,
           columns: dict | None = None, coder: str | None = None,
           progress: Callable[[Iterable, str], Iterable] | None = None,
           speaker_labels: Iterable[str] = (), moderators: Iterable[str] = (), default_speaker: str | None = None,
           names_file: str | None = None, group_from: str | None = None, strict: bool = False,
           create_codes: bool = False) -> IngestReport:
    """Ingest transcripts (and optionally participants metadata) into ``store``.

    A coded table's codes are found by id or by name; with ``create_codes`` those the codebook lacks are
    created (ids made from the names, names kept as written, under the theme 'nieuw'/'new').

    Speakers named in the files are mapped to keys (see :mod:`qualcode.ingest.speakers`); names
    numbered with ``allow_new_speakers`` are added to ``names_file`` (default: beside the project)."""
    if split not in SPLITS:
        raise InputError(f"unknown split '{split}'; use one of {', '.join(SPLITS)}")
    if group_from is not None and group_from not in GROUP_FROM:
        raise InputError(f"unknown --group-from '{group_from}'; use one of {', '.join(GROUP_FROM)}")
    if group and group_from:
        raise InputError("give either --group or --group-from, not both")
    paths = [str(p) for p in paths]
    if not paths and not participants:
        raise InputError("nothing to ingest: give transcript files and/or --participants FILE")
    forced_group = normalise_group(group) if group else None
    report = IngestReport()
    names_path = Path(names_file) if names_file else default_names_file(store)
    if names_path.exists() and not names_path.is_file():
        raise InputError(f"--names-file {names_path} is a folder; give a file name such as {names_path / 'names.csv'}")
    if allow_new_speakers and not names_path.parent.is_dir():
        raise InputError(f"--names-file {names_path}: the folder {names_path.parent} does not exist; create it or "
                         "choose another place for the name -> key table")

    # 1. read everything -------------------------------------------------
    ctx, people = build_context(participants=participants, speaker_labels=tuple(speaker_labels),
                                moderators=tuple(moderators), default_speaker=default_speaker,
                                allow_new=allow_new_speakers, names_file=str(names_path))
    opts = ctx.label_options
    parsed_all: list[tuple[str, Parsed, str | None]] = []
    problems: list[InputError] = []
    iterator = progress(paths, "Reading") if (progress and len(paths) > 1) else paths
    for path in iterator:
        try:
            file_group = forced_group or _group_from(path, group_from)
            for parsed in read_source(path, columns=columns, group=file_group, opts=opts, strict=strict,
                                      group_column=group_from == "column"):
                parsed_all.append((path, parsed, file_group))
        except InputError as exc:
            problems.append(exc)

    # 2. decide groups, resolve speakers, check codes ----------------------
    plans, new_speakers = _plan_groups(store, parsed_all, people, group_from, ctx, problems)
    code_ids = store.code_ids()
    new_codes = _table_codes(store, plans, create_codes, problems)
    _raise_problems(problems, len(paths))

    # 3. re-ingest rules ---------------------------------------------------
    writes = _apply_reingest_rules(store, plans, replace, report)

    # 4. write, all or nothing --------------------------------------------
    people = _changed_people(store, people)
    if not writes and not people and not new_speakers:
        return report  # nothing new: the project is left exactly as it was
    with store.act("ingest", summary="", undoable=False, capture=False) as act:
        if new_codes:
            from ..codebook.newcodes import create_codes as add_codes

            report.new_codes = add_codes(store, new_codes)
            code_ids = store.code_ids()
        pid_map = _write_participants(store, people, new_speakers, report)
        loop = progress(writes, "Ingesting") if (progress and len(writes) > 1) else writes
        for write in loop:
            turn_progress = progress if (progress and len(writes) == 1) else None
            report.sources.append(_write_source(store, write, pid_map, code_ids, split=split, coder=coder,
                                                progress=turn_progress, report=report))
        added = [s for s in report.sources if s.status != "skipped"]
        act.summary = (f"{len(added)} source(s), {sum(s.segments for s in added)} segments; "
                       f"{report.participants_added} participants added")
        act.details = {"files": [s.name for s in added], "skipped": [s.name for s in report.sources
                                                                      if s.status == "skipped"]}
        written = write_names_file(ctx, names_path)  # inside the act: a failure here writes nothing
        if written:
            report.names_file = str(written.resolve())
            report.names_numbered = len(ctx.new_names)
    _lemmatise_once(store)
    return report


def _table_codes(store, plans: list[tuple], create: bool, problems: list[InputError]) -> list:
    """Resolve the codes of coded tables to code keys (by id or name, any capitals), rewriting the parsed
    codings; the codes the codebook lacks become NewCode (with ``create``) or a problem."""
    from ..codebook.newcodes import did_you_mean, find_code, plan_new_codes

    codes = store.codes()
    resolved: dict[str, str | None] = {}
    missing: dict[str, str] = {}   # code as written -> the file it is in
    for path, parsed, *_ in plans:
        for _, c, _ in parsed.codings:
            if c not in resolved:
                resolved[c] = find_code(c, codes)
                if resolved[c] is None:
                    missing.setdefault(c, path)
    if missing and not create:
        for path in dict.fromkeys(missing.values()):
            mine = [c for c, p in missing.items() if p == path]
            hint = did_you_mean(mine[0], codes) if len(mine) == 1 else ""
            problems.append(InputError(f"uses codes that are not in the project's codebook: "
                                       f"{', '.join(mine[:10])}.{hint} Load a codebook that has them ('qualcode "
                                       "codebook apply'), or create them with --create-codes", path=path))
        return []
    new = []
    if missing:
        try:
            new = plan_new_codes(store, list(missing), where={c: f"{p}" for c, p in missing.items()})
        except InputError as exc:
            problems.append(exc)
            return []
        by_name = {" ".join(c.name.split()).casefold(): c.key for c in new}
        for c in missing:
            resolved[c] = by_name.get(" ".join(c.split()).casefold(), resolved[c])
    for path, parsed, *_ in plans:
        parsed.codings = [(t, resolved[c] or c, who) for t, c, who in parsed.codings]
    return new


def _lemmatise_once(store) -> None:
    """Lemmatise the new segments now, once, for every later command. A language spaCy
    does not support is reported by the command that needs lemmas, not here."""
    from ..errors import QualcodeError
    from ..text.lemmas import refresh

    try:
        refresh(store)
    except QualcodeError:
        pass


def default_names_file(store) -> Path:
    """Where the name -> key table goes unless --names-file says otherwise: beside the project file."""
    project = Path(getattr(store, "path", "project.qualcode"))
    return project.with_name(project.stem + "-speaker-names.csv")


def _group_from(path: str, how: str | None) -> str | None:
    """The group a file gets from --group-from filename or folder (column: from the table itself)."""
    if how == "filename":
        name = Path(path).name
        return group_from_filename(name) or normalise_group(Path(path).stem)
    if how == "folder":
        folder = Path(path).resolve().parent.name
        return normalise_group(folder) if folder else None
    return None


def _raise_problems(problems: list[InputError], n_files: int) -> None:
    """One problem: its own message. Several: every one, each with its file and line, in one error."""
    if not problems:
        return
    if len(problems) == 1:
        raise problems[0]
    files = len({p.path for p in problems})
    lines = "\n".join(f"  {p}" for p in problems)
    raise InputError(f"{len(problems)} problems in {files} of {n_files} file(s); nothing was written. Fix them "
                     f"and run the same command again:\n{lines}")


def _plan_groups(store, parsed_all: list[tuple[str, Parsed, str | None]], people: list[dict],
                 group_from: str | None, ctx: SpeakerContext,
                 problems: list[InputError]) -> tuple[list[tuple], set[tuple[str, str]]]:
    """Each parsed source's name and focus group (with where the group came from), its speakers
    resolved to keys, and the speakers that are not in the participants metadata; refuses unknown
    groups and speakers unless allowed. Problems are collected in ``problems``."""
    known = {(p["group"], p["label"]) for p in people} | set(store.participant_ids())
    known_groups = {g for g, _ in known} | {g for g, _ in ctx.names if g}
    stored = {}
    for g, label in store.participant_ids():
        stored.setdefault(g, set()).add(label)
    new_speakers: set[tuple[str, str]] = set()
    plans = []
    origin_of_forced = {None: "--group", "filename": "the file name (--group-from)",
                        "folder": "the folder name (--group-from)", "column": "the group column"}
    for path, parsed, forced_group in parsed_all:
        try:
            name = parsed.name or Path(path).name
            if forced_group and group_from != "column":
                g, origin = forced_group, origin_of_forced[group_from]
                if parsed.group and parsed.group != g:
                    if parsed.group_origin == "the speaker labels":
                        raise InputError(f"{'--group' if not group_from else 'its ' + group_from} says {g} but the "
                                         f"speaker labels say {parsed.group}; leave out "
                                         f"{'--group' if not group_from else '--group-from'} or fix the labels",
                                         path=path)
                    opt = "--group" if not group_from else f"--group-from {group_from} gives"
                    parsed.notes.append(f"{opt} {g} overrides group {parsed.group} from {parsed.group_origin}")
            elif parsed.group:
                g, origin = parsed.group, parsed.group_origin
            else:
                g, origin = group_from_filename(name), "the file name"
                if not g:
                    g, origin = group_from_names(ctx, parsed), "the speakers' names in the participants file"
                if not g:
                    raise InputError("cannot tell which focus group this is; use --group F1, a '# group: F1' "
                                     "header line, or a file name such as F1.txt", path=path)
            if known_groups and g not in known_groups and not ctx.allow_new:
                raise InputError(f"group {g} (from {origin}) is not a known group (known: "
                                 f"{', '.join(sorted(known_groups))}); check the group, or add its participants "
                                 "with --participants", path=path)
            resolve(ctx, parsed, g, path, stored.get(g, set()))
            unknown = {}
            for t in parsed.turns:
                if t.role == "participant" and (g, t.speaker) not in known:
                    unknown.setdefault(t.speaker, t.line)
            if unknown and not ctx.allow_new:
                listing = ", ".join(f"{g} {s} (line {ln})" for s, ln in sorted(unknown.items(), key=lambda x: x[1]))
                hint = ("add them to the participants file" if known else "give --participants FILE")
                raise InputError(f"speakers not in the participants metadata: {listing}; {hint}, or use "
                                 "--allow-new-speakers to create them", path=path)
            new_speakers.update((g, s) for s in unknown)
            plans.append((path, parsed, name, g, origin))
        except InputError as exc:
            problems.append(exc)
    return plans, new_speakers


def _apply_reingest_rules(store, plans: list[tuple], replace: bool, report: IngestReport) -> list[tuple]:
    """The sources to write: the same file again is skipped (noted in ``report``), a changed file
    needs ``replace``, and two different files may not share a name."""
    by_sha = {s["file_sha256"]: s for s in store.sources()}
    writes = []
    this_run: dict[str, str] = {}
    for path, parsed, name, g, origin in plans:
        file_sha = _file_sha(path, parsed)
        text_sha = hashlib.sha256(parsed.text.encode("utf-8")).hexdigest()
        if name in this_run:
            if this_run[name] == file_sha:
                continue  # the same file named twice on the command line
            raise InputError(f"has the same file name as another file in this ingest; qualcode keys sources by "
                             f"file name, so rename one of them", path=path)
        this_run[name] = file_sha
        existing = store.source_by_name(name)
        if existing and existing["file_sha256"] == file_sha:
            report.sources.append(SourceReport(name, g, origin, status="skipped",
                                               message="already ingested with the same content; nothing to do"))
            continue
        if not existing and file_sha in by_sha:
            report.sources.append(SourceReport(name, g, origin, status="skipped",
                                               message=f"same content as '{by_sha[file_sha]['name']}', which is "
                                                       "already ingested; nothing to do"))
            continue
        if existing and not replace:
            raise ConflictError(f"{name}: a different version of this file is already ingested; use --replace to "
                                "replace it (codings on unchanged text are carried over)")
        writes.append((path, parsed, name, g, origin, file_sha, text_sha, existing))
    return writes


def _changed_people(store, people: list[dict]) -> list[dict]:
    """The participants rows that are new or change an attribute of a participant already stored."""
    current = {(p["group"], p["label"]): p for p in store.participants()}
    return [p for p in people if (p["group"], p["label"]) not in current
            or any(str(v).strip() != current[(p["group"], p["label"])].get(k, "")
                   for k, v in p["attributes"].items())]


def _write_participants(store, people: list[dict], new_speakers: set[tuple[str, str]],
                        report: IngestReport) -> dict[tuple[str, str], int]:
    """Add or update participants and create new speakers; returns (group, label) -> participant id."""
    pid_map = store.participant_ids()
    for p in people:
        key = (p["group"], p["label"])
        if key in pid_map:
            store.set_participant_attributes(pid_map[key], p["attributes"])
            report.participants_updated += 1
        else:
            pid_map[key] = store.add_participant(p["group"], p["label"], p["attributes"])
            report.participants_added += 1
    for g, s in sorted(new_speakers):
        if (g, s) not in pid_map:
            pid_map[(g, s)] = store.add_participant(g, s)
            report.speakers_created.append(f"{g} {s}")
    return pid_map


def _write_source(store, write: tuple, pid_map: dict, code_ids: dict[str, int], *, split: str,
                  coder: str | None, progress, report: IngestReport) -> SourceReport:
    """Store one source with its segments (and, for a replaced source, its carried-over codings and memos,
    for a table, its codings); ``progress`` (one large file only) shows the sentence split."""
    path, parsed, name, g, origin, file_sha, text_sha, existing = write
    old_codings, old_segments, old_memos = [], [], []
    rows, ordinal, words, turn_no = [], 0, 0, 0
    turn_segments: dict[int, list[int]] = {}
    turns = parsed.turns
    language = store.language  # read once, not per segment
    if progress and split == "sentences" and len(turns) > LARGE_TURNS:
        turns = progress(turns, f"Splitting {name}")  # one large file: show progress per turn
    for idx, t in enumerate(turns):
        if not (t.continues and turn_no):
            turn_no += 1
        for s, e in segment_spans(parsed.text, t.start, t.end, split, language):
            ordinal += 1
            seg_text = parsed.text[s:e]
            n = count_words(seg_text)
            words += n
            rows.append({"ordinal": ordinal, "turn": turn_no, "speaker": t.speaker, "role": t.role,
                         "participant_id": pid_map.get((g, t.speaker)) if t.role == "participant" else None,
                         "start": s, "end": e, "timestamp": t.timestamp, "text": seg_text, "n_words": n})
            turn_segments.setdefault(idx, []).append(ordinal)
    fields = dict(format=parsed.format, group_label=g, group_origin=origin, text=parsed.text,
                  sha256=text_sha, file_sha256=file_sha, encoding=parsed.encoding, n_words=words)
    if existing:  # replaced in place: the source keeps its id, guid, memos and coder progress
        sid = existing["id"]
        old_codings = store.codings_in_source(sid)
        old_segments = store.segment_offsets(sid)
        old_ids = {s["id"] for s in old_segments}
        old_memos = [m for m in store.memos("segment") if m["target_id"] in old_ids]
        store.replace_source(sid, **fields)
    else:
        sid = store.add_source(name=name, **fields)
    store.add_segments(sid, rows)
    rep = SourceReport(name, g, origin, turns=turn_no, segments=len(rows), words=words,
                       status="replaced" if existing else "added", notes=list(parsed.notes))
    if existing:  # before new codings, so the carried-over ones get their old ids back
        rep.message = _carry_over(store, name, sid, old_segments, old_codings, old_memos)
    if parsed.codings:
        seg_ids = {s["ordinal"]: s["id"] for s in store.segment_offsets(sid)}
        by_coder: dict[str, list] = {}
        for turn_idx, code, who in parsed.codings:
            for o in turn_segments.get(turn_idx, []):
                by_coder.setdefault(who or coder or "imported", []).append((seg_ids[o], code_ids[code]))
        for who, pairs in by_coder.items():
            report.codings_imported += store.add_codings(pairs, who, "imported")
    return rep


def _file_sha(path: str, parsed: Parsed) -> str:
    h = hashlib.sha256(Path(path).read_bytes())
    if parsed.name and "#" in parsed.name:  # one group of a multi-group table
        h.update(parsed.name.encode())
    return h.hexdigest()


def _carry_over(store, name: str, sid: int, old_segments: list[dict], old_codings: list[dict],
                old_memos: list[dict]) -> str:
    """Move codings and memos from the replaced segments to new segments with the same speaker
    and text (matched in order).

    Refuses (raising, so the whole ingest rolls back) when a coded segment changed."""
    new_segments = store.segment_offsets(sid)
    a = [(s["speaker"], s["text"]) for s in old_segments]
    b = [(s["speaker"], s["text"]) for s in new_segments]
    mapping: dict[int, int] = {}
    for block in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_matching_blocks():
        for k in range(block.size):
            mapping[old_segments[block.a + k]["id"]] = new_segments[block.b + k]["id"]
    lost = [c for c in old_codings if c["segment_id"] not in mapping]
    if lost:
        first = lost[0]
        excerpt = " ".join(first["segment_text"].split())
        excerpt = excerpt if len(excerpt) <= 40 else excerpt[:40] + "…"
        raise ConflictError(
            f"{name}: cannot replace: {len(lost)} coding(s) sit on segments whose text or speaker changed "
            f"(first: segment {first['ordinal']}, {first['speaker']}: '{excerpt}'). Export the codings "
            "('qualcode sheet export') and remove them, or fix the file so those passages are unchanged.")
    # a fragment keeps its words: its offsets move with its (unchanged) segment
    shift = {s["id"]: s["start"] for s in new_segments}
    old_start = {s["id"]: s["start"] for s in old_segments}
    rows = [dict(c, segment_id=mapping[c["segment_id"]],
                 **({} if c.get("start") is None else
                    {"start": c["start"] + shift[mapping[c["segment_id"]]] - old_start[c["segment_id"]],
                     "end": c["end"] + shift[mapping[c["segment_id"]]] - old_start[c["segment_id"]]}))
            for c in old_codings]
    store.restore_coding_rows(rows)
    moved = 0
    for m in old_memos:
        if m["target_id"] in mapping:
            store.retarget_memo(m["id"], "segment", mapping[m["target_id"]])
        else:  # its passage changed: keep the memo, on the source
            store.retarget_memo(m["id"], "source", sid)
            moved += 1
    msg = (f"replaced; {len(rows)} coding(s) carried over to unchanged segments" if rows
           else "replaced; it had no codings")
    if moved:
        msg += f"; {moved} memo(s) on changed passages now sit on the source"
    return msg
