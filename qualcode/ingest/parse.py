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
from ..files.textsafe import BINARY_HINT_CHARS

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
    raw: str | None = None       # a label still to be resolved (a name, 'R', 'Student'); speaker is '' until then
    kind: str = ""               # 'name' (may identify someone), 'lone' (R, Respondent), 'label' (Student, Q)
    label_span: tuple[int, int] | None = None  # text to replace by the key once known (a name in the label)
    by_key: bool = True          # False: label_span is dropped, not replaced (a name in brackets)


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
    unattributed: int = 0        # words in lines that belong to no one (before the first label, rows without speaker)
    preamble: list = field(default_factory=list)  # while parsing: lines before the first label


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


# ------------------------------------------------------ other label forms
# A line that *starts like a label* (a short prefix of capitalised words, a known short form such
# as 'I' or 'R', then a colon) but is not one of LABEL_RE's forms is never merged silently into
# the previous turn: it becomes a turn whose label ``ingest`` must resolve (a name from the
# participants file, --moderator, --speaker-label) or refuse.
_WORD = r"[^\W\d_][\w'’.-]*"
_LABELISH_RE = re.compile(
    rf"""^[ \t]*(?:\[?(?P<ts1>{_TS})\]?[ \t]+)?(?:\*\*|__)?
        (?P<label>{_WORD}(?:[ \t]+[\w'’.-]+){{0,4}}?)
        (?P<paren>[ \t]*\([^()\n:]{{1,40}}\))?
        (?:[ \t]*\((?P<ts2>{_TS})\))?
        (?:\*\*|__)?[ \t]*:(?:\*\*|__)?(?=[ \t]|$)[ \t]*""", re.VERBOSE)
# 'Jan Peeters   0:03' or '[Jan Peeters] 10:02:13' alone on a line, the words on the next lines
# (Teams .docx, Otter, Zoom saved captions)
_NAME_TIME_RE = re.compile(
    rf"""^[ \t]*\[?(?P<label>{_WORD}(?:[ \t]+[\w'’.-]+){{0,4}}?)(?P<paren>[ \t]*\([^()\n:]{{1,40}}\))?\]?
        [ \t]+(?P<ts>{_TS})(?:[ \t]*[AaPp][Mm])?[ \t]*$""", re.VERBOSE)
# a cue timing line in a text file ('0:0:5.100 --> 0:0:8.250', older Teams .docx)
_CUE_RANGE_RE = re.compile(r"^[ \t]*(?P<a>\d{1,2}(?::\d{1,2}){1,2}(?:[.,]\d{1,3})?)[ \t]*-->[ \t]*"
                           r"\d{1,2}(?::\d{1,2}){1,2}(?:[.,]\d{1,3})?[ \t]*$")
# Teams' own lines: 'An De Smet started transcription' (not anyone's words)
_SYSTEM_LINE_RE = re.compile(r"^[ \t]*\S.{0,80}?\s(?:started|stopped) transcription[ \t]*$|"
                             r"^[ \t]*\S.{0,80}?\sheeft (?:de )?transcriptie (?:gestart|gestopt|beëindigd)[ \t]*$")
_NAME_ONLY_RE = re.compile(rf"^[ \t]*(?P<label>{_WORD}(?:[ \t]+[\w'’.-]+){{0,4}})(?P<paren>[ \t]*\([^()\n:]{{1,40}}\))?[ \t]*$")

PARTICLES = {"van", "de", "der", "den", "het", "ter", "ten", "te", "'t", "’t", "la", "le", "du", "da", "di", "von",
             "vanden", "vander", "el", "al", "bin", "ben", "dos", "das", "del", "della", "op", "in", "'s", "’s",
             "and", "en"}
# Words that start sentences or header lines ('Datum: 12 maart'), never speakers.
NOT_LABELS = {
    "ja", "nee", "neen", "kijk", "dus", "maar", "en", "want", "allez", "oké", "oke", "ok", "okay", "euh", "goed",
    "wel", "zie", "let", "nota", "noot", "opmerking", "opmerkingen", "vraag", "vragen", "antwoord", "stelling",
    "datum", "tijd", "uur", "locatie", "plaats", "duur", "titel", "onderwerp", "thema", "aanwezig", "aanwezigen",
    "afwezig", "deelnemers", "transcriptie", "transcript", "opname", "project", "sessie", "groep", "focusgroep",
    "bron", "context", "samenvatting", "conclusie", "inleiding", "afsluiting", "pauze", "einde", "start", "begin",
    "note", "notes", "date", "time", "location", "duration", "title", "subject", "topic", "present", "absent",
    "participants", "attendees", "recording", "session", "group", "source", "summary", "so", "well", "yes", "no",
    "and", "but", "because", "example", "voorbeeld", "bijvoorbeeld", "tip", "opgelet", "waarom", "wat", "hoe",
    "wie", "waar", "wanneer", "ik", "ge", "gij", "je", "jij", "wij", "we", "zij", "ze", "hij", "dat", "dit",
    "het", "een", "daarom", "eerlijk", "concreet", "kortom", "trouwens", "enfin", "nu", "toen", "then", "now",
    "bon", "awel", "ah", "oh", "hé", "he", "nou", "tja", "zeg", "luister", "ook", "eerst", "tot", "vooral",
    "yeah", "right", "um", "uh", "like", "look", "listen", "see", "anyway", "basically", "honestly", "also", "first",
    "second", "finally", "question", "answer", "question(s)", "remark", "warning", "important", "belangrijk",
    "ps", "nb", "n.b", "edit", "update", "agenda", "actiepunt", "actiepunten", "besluit", "conclusion", "intro",
}
# Labels that say a role, not who: shown in messages (a name never is).
ROLE_WORDS = {
    "student", "studente", "studenten", "leerling", "leerlingen", "docent", "leerkracht", "leraar", "lerares",
    "coach", "jobcoach", "begeleider", "begeleidster", "ouder", "ouders", "q", "a", "speaker", "spreker",
    "onbekend", "unknown", "observer", "notulist", "tolk", "interpreter", "assistant", "assistent", "host",
    "gast", "guest", "werkgever", "employer", "expert",
    "ervaringsdeskundige", "zorgverlener", "hulpverlener", "iedereen", "allen", "all", "everyone", "meerdere",
    "several", "groep", "audience", "publiek", "stem", "voice",
}
# A participant label without a number: the one participant of an interview.
LONE_WORDS = {"r", "resp", "respondent", "participant", "participante", "deelnemer", "deelneemster",
              "geïnterviewde", "geinterviewde", "interviewee", "bevraagde", "client", "cliënt", "klant", "patient",
              "patiënt"}
SHORT_MODERATORS = {"i": "Interviewer", "m": "Moderator", "iv": "Interviewer", "mod": "Moderator"}
_NUMBERED_MOD_RE = re.compile(rf"(?P<w>i|iv|m|{_MOD})[ \t]?(?P<n>\d{{1,2}})", re.IGNORECASE)


@dataclass(slots=True)
class LabelHit:
    speaker: str                 # '' while unresolved
    role: str
    raw: str | None              # the label as written, when it must be resolved
    kind: str                    # '', 'name', 'lone', 'label'
    body: int                    # offset in the line where the spoken words start
    timestamp: float | None
    group: str | None = None
    label_span: tuple[int, int] | None = None   # within the line: text to replace once resolved
    by_key: bool = True          # replace label_span by the key; False: drop it (a name in brackets)


def _labelish(label: str) -> bool:
    """True for a short prefix that reads like a speaker: capitalised words (with name particles
    and numbers), or a known short form ('I', 'R')."""
    words = label.split()
    if not words or len(label) > 40 or len(words) > 5:
        return False
    low = label.casefold()
    if low in SHORT_MODERATORS or low in LONE_WORDS or _NUMBERED_MOD_RE.fullmatch(label):
        return True
    if words[0].casefold().strip(".") in NOT_LABELS or not words[0][0].isupper():
        return False
    return all(w[0].isupper() or w.isdigit() or w.casefold() in PARTICLES for w in words[1:])


def shown_label(raw: str) -> bool:
    """Whether a label may be repeated in a message: a role word, a short code or a numbered label,
    never something that may be a name."""
    low = " ".join(raw.split()).casefold()
    return low in ROLE_WORDS or len(low) <= 2 or any(c.isdigit() for c in low)


def norm_label(raw: str) -> str:
    """How labels and names are compared: trimmed, spaces collapsed, case folded."""
    return " ".join(str(raw).split()).casefold()


def classify(label: str) -> tuple[str, str, str | None, str]:
    """(speaker, role, raw, kind) for a label that LABEL_RE did not take; speaker '' means unresolved."""
    low = norm_label(label)
    if low in MODERATOR_WORDS:
        return MODERATOR_WORDS[low], "moderator", None, ""
    if low in SHORT_MODERATORS:
        return SHORT_MODERATORS[low], "moderator", None, ""
    m = _NUMBERED_MOD_RE.fullmatch(label.strip())
    if m:
        w = m.group("w").casefold()
        base = SHORT_MODERATORS.get(w) or MODERATOR_WORDS.get(w, "Moderator")
        return f"{base} {int(m.group('n'))}", "moderator", None, ""
    if re.fullmatch(_PERSON, label.strip(), re.IGNORECASE):
        return normalise_person(label), "participant", None, ""
    raw = " ".join(label.split())
    if low in LONE_WORDS:
        return "", "participant", raw, "lone"
    return "", "participant", raw, ("label" if shown_label(label) else "name")


def match_label(line: str, text_labels: frozenset | set = frozenset()) -> LabelHit | None:
    """The speaker label at the start of ``line``, if it has one."""
    m = LABEL_RE.match(line)
    if m:
        raw = m.group("person") or m.group("mod")
        speaker, role = speaker_of(raw)
        g = normalise_group(m.group("grp").replace(" ", "")) if m.group("grp") else None
        return LabelHit(speaker, role, None, "", m.end(), parse_timestamp(m.group("ts1") or m.group("ts2")), g)
    m = _LABELISH_RE.match(line)
    if m and _labelish(m.group("label")):
        if norm_label(m.group("label")) in text_labels:
            return None
        return _hit(m, m.end(), parse_timestamp(m.group("ts1") or m.group("ts2")))
    m = _NAME_TIME_RE.match(line)
    if m and _labelish(m.group("label")) and norm_label(m.group("label")) not in text_labels:
        return _hit(m, len(line), parse_timestamp(m.group("ts")))
    return None


def match_name_line(line: str, text_labels: frozenset | set = frozenset()) -> LabelHit | None:
    """A line that is only a speaker's name (after a cue timing line in an older Teams .docx)."""
    m = _NAME_ONLY_RE.match(line)
    if m and _labelish(m.group("label")) and norm_label(m.group("label")) not in text_labels:
        return _hit(m, len(line), None)
    return None


def _hit(m: re.Match, body: int, ts: float | None) -> LabelHit:
    paren = m.group("paren")
    speaker, role, raw, kind = classify(m.group("label"))
    hit = LabelHit(speaker, role, raw, kind, body, ts)
    if raw is not None and kind in ("name", "lone"):  # replaced by the key once known
        hit.label_span = (m.start("label"), m.end("paren") if paren else m.end("label"))
    elif paren:                                # 'Moderator (Anna)': the name in brackets goes
        hit.label_span = (m.end("label"), m.end("paren"))
        hit.by_key = False
    return hit


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
_CONTROL_CHARS = BINARY_HINT_CHARS   # control characters other than tab, LF, FF, CR (qualcode.files.textsafe)
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
@dataclass(frozen=True)
class LabelOptions:
    """What the user said about labels: labels that are ordinary text (``--speaker-label X=text``)
    and who speaks in unlabelled lines (``--default-speaker``)."""
    text_labels: frozenset = frozenset()
    default: tuple[str, str] | None = None     # (speaker, role)


def _turn(hit: LabelHit, line_start: int, body_start: int, body_end: int, lineno: int) -> Turn:
    span = (line_start + hit.label_span[0], line_start + hit.label_span[1]) if hit.label_span else None
    return Turn(speaker=hit.speaker, role=hit.role, start=body_start, end=body_end, line=lineno,
                timestamp=hit.timestamp, group=hit.group, raw=hit.raw, kind=hit.kind, label_span=span,
                by_key=hit.by_key)


def parse_labelled(text: str, path: str, fmt: str = "txt", encoding: str = "utf-8",
                   opts: LabelOptions | None = None) -> Parsed:
    """Transcript text with speaker labels at line start. Unlabelled lines continue the
    previous turn (or, with a default speaker, are that speaker's); '#' lines are headers or comments."""
    from ..text.nlp import count_words

    opts = opts or LabelOptions()
    parsed = _parse_lines(text, path, fmt, encoding, opts, everything_default=False)
    if not parsed.turns and opts.default:
        parsed = _parse_lines(text, path, fmt, encoding, opts, everything_default=True)
    turns = parsed.turns
    if not turns:
        raise InputError("no speaker labels found; expected lines such as 'P2: …', 'F1 P2: …', "
                         "'Moderator: …' or '[00:12:03] P2: …' (or, if no line has a label, say who speaks "
                         "with --default-speaker P1)", path=path)
    label_groups = {t.group for t in turns if t.group}
    group = parsed.group
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
    if parsed.preamble:
        parsed.unattributed = sum(count_words(line) for line in parsed.preamble)
        parsed.notes.append(f"{len(parsed.preamble)} line(s) before the first speaker label belong to no one; "
                            "they stay in the stored text but are not segments")
    parsed.preamble = []
    return parsed


def _parse_lines(text: str, path: str, fmt: str, encoding: str, opts: LabelOptions,
                 everything_default: bool) -> Parsed:
    turns: list[Turn] = []
    group = None
    group_origin = ""
    preamble: list[str] = []
    pos = 0
    cur: Turn | None = None
    after_cue: float | None | bool = False   # the line before was a cue timing line (its start time)
    cur_default = False                      # cur was started by an unlabelled line (--default-speaker)
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
        if _SYSTEM_LINE_RE.match(line):
            continue
        cue = _CUE_RANGE_RE.match(line)
        if cue:  # 'hh:mm:ss.fff --> …' (older Teams .docx): the speaker's name follows on its own line
            after_cue = parse_timestamp(cue.group("a"))
            continue
        hit = match_label(line, opts.text_labels)
        if hit is None and after_cue is not False:
            hit = match_name_line(line, opts.text_labels)
            if hit is not None and hit.timestamp is None:
                hit.timestamp = after_cue
        after_cue = False
        if hit:
            body_start = line_start + hit.body
            body = line[hit.body:].rstrip()
            cur = _turn(hit, line_start, body_start, body_start + len(body), lineno)
            cur_default = False
            turns.append(cur)
            continue
        if opts.default and (cur is not None or everything_default):
            if cur is None or (not cur_default and cur.end > cur.start and cur.speaker != opts.default[0]):
                lead = len(line) - len(line.lstrip())
                cur = Turn(speaker=opts.default[0], role=opts.default[1], start=line_start + lead,
                           end=line_start + len(line.rstrip()), line=lineno)
                turns.append(cur)
                cur_default = True
                continue
        if cur is None:
            preamble.append(line)
            continue
        if cur.end <= cur.start:  # 'P2:' alone on its line: the turn starts on this line
            cur.start = line_start + len(line) - len(line.lstrip())
        cur.end = line_start + len(line.rstrip())
    parsed = Parsed(text=text, turns=turns, format=fmt, encoding=encoding, group=group, group_origin=group_origin)
    parsed.preamble = preamble
    return parsed


# -------------------------------------------------------------- subtitles
_CUE_TIME = re.compile(r"^\s*(?P<a>(?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})\s*-->\s*(?P<b>(?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})")
_VOICE = re.compile(r"^<v(?:\.[\w.-]+)?\s+(?P<who>[^>]+)>")


def parse_subtitles(text: str, path: str, fmt: str, encoding: str = "utf-8",
                    opts: LabelOptions | None = None) -> Parsed:
    """WebVTT or SRT: each cue is a segment; consecutive cues of one speaker form one turn.
    The speaker comes from ``<v Name>`` (Teams) or a ``Name:`` label (Zoom); cues without one
    continue the previous speaker (cues before the first speaker are noted and left out), or,
    with a default speaker, are that speaker's."""
    from ..text.nlp import count_words

    opts = opts or LabelOptions()
    lines = text.split("\n")
    if fmt == "vtt" and not lines[0].lstrip("\ufeff").startswith("WEBVTT"):
        raise InputError("is not a WebVTT file (the first line must start with 'WEBVTT')", path=path, line=1)
    offsets, pos = [], 0
    for line in lines:
        offsets.append(pos)
        pos += len(line) + 1
    turns: list[Turn] = []
    i = 0
    prev: Turn | None = None
    orphans = orphan_words = 0
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
        hit = None
        if vm:
            who = vm.group("who").strip()
            lead = vm.start("who") + (len(vm.group("who")) - len(vm.group("who").lstrip()))
            if re.fullmatch(_PERSON, who, re.IGNORECASE) or norm_label(who) in MODERATOR_WORDS:
                sp, role = speaker_of(who)
                hit = LabelHit(sp, role, None, "", vm.end(), ts)
            else:
                sp, role, raw, kind = classify(who)
                hit = LabelHit(sp, role, raw, kind, vm.end(), ts,
                               label_span=(lead, lead + len(who)) if kind in ("name", "lone") else None)
            if text[start:end].endswith("</v>"):
                end -= 4
        else:
            hit = match_label(payload.split("\n", 1)[0], opts.text_labels)
            if hit is not None:
                hit.timestamp = ts
        if hit is not None:
            t = _turn(hit, start, start + hit.body, end, first + 1)
        elif opts.default and (prev is None or prev.raw is not None or prev.speaker != opts.default[0]
                               or prev.role != opts.default[1]):
            t = Turn(speaker=opts.default[0], role=opts.default[1], start=start, end=end, line=first + 1,
                     timestamp=ts)
        elif prev is not None:
            t = Turn(speaker=prev.speaker, role=prev.role, start=start, end=end, line=first + 1, timestamp=ts,
                     raw=prev.raw, kind=prev.kind)
        else:
            orphans += 1
            orphan_words += count_words(payload)
            i = j
            continue
        while t.start < t.end and text[t.start] in " \t":
            t.start += 1
        t.continues = bool(turns) and _same_speaker(turns[-1], t)
        turns.append(t)
        prev = t
        i = j
    if not turns:
        raise InputError("no cues with a speaker found; expected '<v Name>…', 'Name: …' or 'P2: …' in the cue "
                         "text (or say who speaks with --default-speaker P1)", path=path)
    parsed = Parsed(text=text, turns=turns, format=fmt, encoding=encoding, unattributed=orphan_words)
    if orphans:
        parsed.notes.append(f"{orphans} cue(s) before the first speaker label belong to no one; they stay in "
                            "the stored text but are not segments")
    return parsed


def _same_speaker(a: Turn, b: Turn) -> bool:
    if a.raw is not None or b.raw is not None:
        return a.raw is not None and b.raw is not None and norm_label(a.raw) == norm_label(b.raw)
    return a.speaker == b.speaker and a.role == b.role


# ------------------------------------------------------------------- docx
W_NS = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def docx_text(path: str) -> str:
    """The paragraphs of a .docx as lines of text (tabs and line breaks kept)."""
    import zipfile

    from ..files.guards import check_zip, parse_xml, read_zip_member

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


# -------------------------------------------------------------------- odt
ODF_TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
ODF_OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"


def odt_text(path: str) -> str:
    """The paragraphs and headings of a LibreOffice/OpenDocument text (.odt) as lines of text
    (tabs, repeated spaces and line breaks kept; footnotes left out)."""
    import zipfile

    from ..files.guards import check_zip, parse_xml, read_zip_member

    check_zip(path, "OpenDocument text")
    with zipfile.ZipFile(path) as zf:
        if "content.xml" not in zf.namelist():
            raise InputError("is not an OpenDocument text (no content.xml inside)", path=path)
        root = parse_xml(read_zip_member(zf, "content.xml"), path, "the document")
    body = next(root.iter(f"{ODF_OFFICE}text"), None)
    paras: list[str] = []
    paragraph_tags = (f"{ODF_TEXT}p", f"{ODF_TEXT}h")

    def inline(el) -> str:
        buf = [el.text or ""]
        for c in el:
            if c.tag == f"{ODF_TEXT}s":
                buf.append(" " * int(c.get(f"{ODF_TEXT}c", "1") or 1))
            elif c.tag == f"{ODF_TEXT}tab":
                buf.append("\t")
            elif c.tag == f"{ODF_TEXT}line-break":
                buf.append("\n")
            elif c.tag not in (f"{ODF_TEXT}note", f"{ODF_OFFICE}annotation"):
                buf.append(inline(c))
            buf.append(c.tail or "")
        return "".join(buf)

    def walk(el) -> None:
        for c in el:
            if c.tag in paragraph_tags:
                paras.append(inline(c))
            else:
                walk(c)

    if body is not None:
        walk(body)
    return "\n".join(paras)
