"""Turning bytes into stored text and speaker turns.

Every reader returns a :class:`Parsed`: the text qualcode stores (line endings
normalised to LF) and the turns found in it, each with character offsets into
that text, so ``text[turn.start:turn.end]`` is exactly what the speaker said.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field

from ..errors import InputError
from ..textsafe import BINARY_HINT_CHARS

MODERATOR_WORDS = {
    "moderator": "Moderator", "moderatrice": "Moderator", "mod": "Moderator", "co-moderator": "Co-moderator",
    "interviewer": "Interviewer", "int": "Interviewer", "facilitator": "Facilitator",
    "gespreksleider": "Gespreksleider", "onderzoeker": "Onderzoeker", "observator": "Observator",
    "therapist": "Therapist", "counsellor": "Counsellor", "counselor": "Counsellor",
}

_TS = r"\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?"
_PERSON = r"(?:P|R|participant|participante|deelnemer|deelneemster|respondent|spreker)[ \t]?\d{1,3}"
_MOD = "|".join(sorted((re.escape(w) for w in MODERATOR_WORDS), key=len, reverse=True))
LABEL_RE = re.compile(
    rf"""^[ \t]*(?:\[(?P<ts1>{_TS})\][ \t]*)?            # [00:12:03]
        (?:\*\*|__)?                                     # markdown bold
        (?:(?P<grp>F[ \t]?\d{{1,3}})[ \t_-]*)?                  # F1 (group named in the label)
        (?P<label>(?P<person>{_PERSON})|(?P<mod>{_MOD}))
        (?:[ \t]*\((?P<ts2>{_TS})\))?                    # (00:12:03)
        (?:\*\*|__)?[ \t]*:(?:\*\*|__)?[ \t]*""",
    re.IGNORECASE | re.VERBOSE)
HEADER_RE = re.compile(r"^\s*#+\s*(?:group|groep|focusgroep|focus group)\s*:\s*(?P<group>\S.*?)\s*$", re.I)
FILENAME_GROUP_RE = re.compile(
    r"(?:^|[^a-z])(?P<prefix>f|fg|focusgroep|focusgroup|focus[ _-]group|groep|group|interview|i)[ _-]?"
    r"(?P<n>\d{1,3})(?![0-9])",
    re.I)


@dataclass(slots=True)
class Turn:
    speaker: str                 # 'P2', 'Moderator'
    role: str                    # 'participant' | 'moderator'
    start: int
    end: int
    line: int                    # 1-based line of the label in the stored text
    timestamp: float | None = None
    group: str | None = None     # group named in the label itself ('F1 P2: ...')
    continues: bool = False      # same speaker turn as the one before (subtitle cues of one speaker)


@dataclass
class Parsed:
    text: str
    turns: list[Turn]
    format: str
    encoding: str = "utf-8"
    group: str | None = None     # group found in the file (header, labels or a column)
    group_origin: str = ""
    notes: list[str] = field(default_factory=list)
    name: str | None = None      # for sources split out of one table: 'file.csv#F2'
    codings: list = field(default_factory=list)   # (turn index, code key, coder) from coded tables


def normalise_group(raw: str) -> str:
    raw = str(raw).strip()
    m = re.fullmatch(r"(?:f|fg|focusgroep|focusgroup|groep|group)?[ _-]?(\d{1,3})", raw, re.I)
    if m:
        return f"F{int(m.group(1))}"
    return raw.upper() if re.fullmatch(r"[A-Za-z]\d{1,3}", raw) else raw


def _header_group(raw: str) -> str:
    """'focusgroep 1' -> 'F1'; 'F1 — Vilvoorde' -> 'F1'; any other name is kept as written."""
    g = normalise_group(raw)
    if re.fullmatch(r"[A-Z]\d{1,3}", g):
        return g
    first = normalise_group(raw.split()[0])
    return first if re.fullmatch(r"[A-Z]\d{1,3}", first) else g


def normalise_person(raw: str) -> str:
    raw = str(raw).strip()
    m = re.fullmatch(r"(?:p|r|participant|participante|deelnemer|deelneemster|respondent|spreker)?[ _-]?(\d{1,3})",
                     raw, re.I)
    if m:
        return f"P{int(m.group(1))}"
    return raw


def speaker_of(raw: str) -> tuple[str, str]:
    """(normalised speaker, role) for a label such as 'Deelnemer 3' or 'interviewer'."""
    low = raw.strip().lower()
    if low in MODERATOR_WORDS:
        return MODERATOR_WORDS[low], "moderator"
    return normalise_person(raw), "participant"


def parse_timestamp(raw: str | None) -> float | None:
    if not raw:
        return None
    raw = raw.strip().replace(",", ".")
    parts = raw.split(":")
    try:
        nums = [float(p) for p in parts]
    except ValueError:
        return None
    secs = 0.0
    for n in nums:
        secs = secs * 60 + n
    return secs


def group_from_filename(name: str) -> str | None:
    stem = re.sub(r"\.[A-Za-z0-9]+$", "", name.rsplit("/", 1)[-1])
    m = FILENAME_GROUP_RE.search(stem)
    if not m:
        return None
    letter = "I" if m.group("prefix").lower() in ("i", "interview") else "F"
    return f"{letter}{int(m.group('n'))}"


# ------------------------------------------------------------------ decoding
_CONTROL_CHARS = BINARY_HINT_CHARS   # control characters other than tab, LF, FF, CR (qualcode.textsafe)
def decode(data: bytes, path: str) -> tuple[str, str]:
    """Decode a text file: UTF-8 (with or without BOM), UTF-16 with BOM, or Windows-1252.

    Returns (text with LF line endings, encoding name)."""
    if not data:
        raise InputError("the file is empty", path=path)
    if data.startswith(codecs.BOM_UTF8):
        text, enc = _strict(data[3:], "utf-8", path, skipped=3), "utf-8-sig"
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
            raise InputError("is encoded as UTF-32, which qualcode does not read; save it as UTF-8", path=path)
        text, enc = _strict(data, "utf-16", path), "utf-16"
    elif b"\x00" in data:
        raise InputError("is not a text file (it contains NUL bytes: binary data, or UTF-16 without a byte-order "
                         "mark); save it as UTF-8 text", path=path)
    else:
        try:
            text, enc = data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            try:
                text, enc = data.decode("cp1252"), "windows-1252"
            except UnicodeDecodeError as exc:
                raise InputError(f"is not UTF-8, UTF-16 or Windows-1252 text (byte 0x{data[exc.start]:02x} at "
                                 f"position {exc.start}); save it as UTF-8", path=path) from None
    if "\x00" in text:
        raise InputError("contains NUL characters; it is not a plain text transcript", path=path)
    controls = len(_CONTROL_CHARS.findall(text, 0, 100_000))
    if controls > 0.01 * min(len(text), 100_000) + 2:
        raise InputError("looks like binary data, not a text transcript", path=path)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise InputError("contains only white space", path=path)
    return text, enc


def _strict(data: bytes, enc: str, path: str, skipped: int = 0) -> str:
    try:
        return data.decode(enc)
    except UnicodeDecodeError as exc:
        raise InputError(f"claims to be {enc.upper()} (byte-order mark) but byte {exc.start + skipped} "
                         "(counting from 0) is invalid", path=path) from None


# ---------------------------------------------------------- labelled lines
def parse_labelled(text: str, path: str, fmt: str = "txt", encoding: str = "utf-8") -> Parsed:
    """Transcript text with speaker labels at line start. Unlabelled lines continue the
    previous turn; '#' lines are headers or comments."""
    turns: list[Turn] = []
    group = None
    group_origin = ""
    label_groups = set()
    preamble = 0
    pos = 0
    cur: Turn | None = None
    for lineno, line in enumerate(text.split("\n"), start=1):
        line_start = pos
        pos += len(line) + 1
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            m = HEADER_RE.match(line)
            if m and group is None:
                group, group_origin = _header_group(m.group("group")), "the '# group:' header"
            continue
        m = LABEL_RE.match(line)
        if m:
            raw = m.group("person") or m.group("mod")
            speaker, role = speaker_of(raw)
            g = normalise_group(m.group("grp").replace(" ", "")) if m.group("grp") else None
            if g:
                label_groups.add(g)
            body_start = line_start + m.end()
            body = line[m.end():].rstrip()
            cur = Turn(speaker=speaker, role=role, start=body_start, end=body_start + len(body), line=lineno,
                       timestamp=parse_timestamp(m.group("ts1") or m.group("ts2")), group=g)
            turns.append(cur)
            continue
        if cur is None:
            preamble += 1
            continue
        if cur.end <= cur.start:  # 'P2:' alone on its line: the turn starts on this line
            cur.start = line_start + len(line) - len(line.lstrip())
        cur.end = line_start + len(line.rstrip())
    parsed = Parsed(text=text, turns=[t for t in turns], format=fmt, encoding=encoding,
                    group=group, group_origin=group_origin)
    if not turns:
        raise InputError("no speaker labels found; expected lines such as 'P2: …', 'F1 P2: …', "
                         "'Moderator: …' or '[00:12:03] P2: …'", path=path)
    if len(label_groups) > 1:
        raise InputError(f"speaker labels name several groups ({', '.join(sorted(label_groups))}); "
                         "put each focus group in its own file", path=path)
    if label_groups:
        g = label_groups.pop()
        if group and g != group:
            first = next(t for t in turns if t.group)
            raise InputError(f"label says group {g} but the '# group:' header says {group}",
                             path=path, line=first.line)
        if not group:
            parsed.group, parsed.group_origin = g, "the speaker labels"
    empty = [t for t in turns if t.end <= t.start]
    if empty:
        parsed.notes.append(f"{len(empty)} turn(s) with a label but no text (e.g. line {empty[0].line}) kept "
                            "as empty segments")
    if preamble:
        parsed.notes.append(f"{preamble} line(s) before the first speaker label belong to no one; they stay in "
                            "the stored text but are not segments")
    return parsed


# -------------------------------------------------------------- subtitles
_CUE_TIME = re.compile(r"^\s*(?P<a>(?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})\s*-->\s*(?P<b>(?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})")
_VOICE = re.compile(r"^<v(?:\.[\w.-]+)?\s+(?P<who>[^>]+)>")


def parse_subtitles(text: str, path: str, fmt: str, encoding: str = "utf-8") -> Parsed:
    """WebVTT or SRT: each cue is a segment; consecutive cues of one speaker form one turn.
    The speaker comes from ``<v P2>`` or a ``P2:`` label; cues without one continue the
    previous speaker (cues before the first speaker are noted and left out)."""
    lines = text.split("\n")
    if fmt == "vtt" and not lines[0].lstrip("\ufeff").startswith("WEBVTT"):
        raise InputError("is not a WebVTT file (the first line must start with 'WEBVTT')", path=path, line=1)
    offsets, pos = [], 0
    for line in lines:
        offsets.append(pos)
        pos += len(line) + 1
    turns: list[Turn] = []
    i = 0
    speaker = None
    role = "participant"
    orphans = 0
    while i < len(lines):
        m = _CUE_TIME.match(lines[i])
        if not m:
            i += 1
            continue
        ts = parse_timestamp(m.group("a"))
        j = i + 1
        while j < len(lines) and lines[j].strip():
            j += 1
        if j == i + 1:
            i = j
            continue
        first, last = i + 1, j - 1
        start = offsets[first]
        end = offsets[last] + len(lines[last].rstrip())
        payload = text[start:end]
        vm = _VOICE.match(payload)
        lm = LABEL_RE.match(payload)
        if vm:
            speaker, role = speaker_of(vm.group("who"))
            start += vm.end()
            if text[start:end].endswith("</v>"):
                end -= 4
        elif lm:
            speaker, role = speaker_of(lm.group("person") or lm.group("mod"))
            start += lm.end()
        if speaker is not None:
            while start < end and text[start] in " \t":
                start += 1
            same = bool(turns) and turns[-1].speaker == speaker
            turns.append(Turn(speaker=speaker, role=role, start=start, end=end, line=first + 1, timestamp=ts,
                              continues=same))
        else:
            orphans += 1
        i = j
    if not turns:
        raise InputError("no cues with a speaker found; expected '<v P2>…' or 'P2: …' in the cue text",
                         path=path)
    parsed = Parsed(text=text, turns=turns, format=fmt, encoding=encoding)
    if orphans:
        parsed.notes.append(f"{orphans} cue(s) before the first speaker label belong to no one; they stay in "
                            "the stored text but are not segments")
    return parsed


# ------------------------------------------------------------------- docx
W_NS = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def docx_text(path: str) -> str:
    """The paragraphs of a .docx as lines of text (tabs and line breaks kept)."""
    import zipfile

    from ..safety import check_zip, parse_xml, read_zip_member

    check_zip(path, "Word document")
    with zipfile.ZipFile(path) as zf:
        if "word/document.xml" not in zf.namelist():
            raise InputError("is not a Word document (no word/document.xml inside)", path=path)
        root = parse_xml(read_zip_member(zf, "word/document.xml"), path, "the document")
    paras = []
    for p in root.iter(f"{W_NS}p"):
        buf = []
        for el in p.iter():
            if el.tag == f"{W_NS}t" and el.text:
                buf.append(el.text)
            elif el.tag == f"{W_NS}tab":
                buf.append("\t")
            elif el.tag in (f"{W_NS}br", f"{W_NS}cr"):
                buf.append("\n")
        paras.append("".join(buf))
    return "\n".join(paras)
