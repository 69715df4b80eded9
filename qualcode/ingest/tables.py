"""Tables: utterance tables (one row per turn) and participants metadata, from CSV or XLSX.

Column names are matched case-insensitively against a list of usual names
(Dutch and English); ``columns={'text': 'utterance_text'}`` overrides them.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from ..errors import InputError
from .parse import (_PERSON, MODERATOR_WORDS, LabelOptions, Parsed, Turn, classify, decode, norm_label,
                    normalise_group, parse_timestamp, speaker_of)

COLUMN_NAMES = {
    "group": ("group", "groep", "focus_group", "focusgroep", "focus group", "fg", "group_id"),
    "speaker": ("speaker", "spreker", "participant", "deelnemer", "respondent", "interlocutor", "who", "wie",
                "label", "speaker_name", "name", "naam", "person", "persoon", "author"),
    "text": ("text", "tekst", "sentence", "sentences", "zin", "zinnen", "utterance", "utterances", "utterance_text",
             "uiting", "uitspraak", "content", "inhoud", "transcript", "transcriptie", "fragment", "message",
             "bericht", "speech", "turn", "beurt", "quote", "citaat", "dialogue", "line"),
    "timestamp": ("timestamp", "time", "tijd", "start", "begin", "tijdstip"),
    "codes": ("codes", "code", "coding", "codering"),
    "coder": ("coder", "codeur", "annotator", "annotator_id"),
}
# Values of a codes column that mean "no code here" (e.g. AnnoMI's 'n/a' on client turns).
NO_CODE = {"n/a", "na", "-", "none", "geen"}
PARTICIPANT_COLUMNS = {
    "group": COLUMN_NAMES["group"],
    "participant": ("participant", "deelnemer", "respondent", "participant_id", "id", "p", "nummer", "speaker"),
    "name": ("name", "naam", "speaker", "spreker", "speaker_name", "full_name", "volledige naam", "voornaam"),
}
# values of a participants file's role column that make the row a moderator (matched by name)
MODERATOR_ROLES = {"moderator", "moderatrice", "co-moderator", "interviewer", "facilitator", "gespreksleider",
                   "onderzoeker", "researcher", "observator", "observer"}


def read_rows(path: str) -> tuple[list[str], list[list[str]], list[int]]:
    """Header, data rows (as strings) and the 1-based sheet/file line of each row."""
    p = Path(path)
    ext = p.suffix.lower()
    if ext in (".xlsx", ".xlsm"):
        return _read_xlsx(path)
    if ext in (".csv", ".tsv", ".txt"):
        data = p.read_bytes()
        text, _ = decode(data, path)
        try:
            dialect = csv.Sniffer().sniff(text[:20_000], delimiters=",;\t")
            delim = dialect.delimiter
        except csv.Error:
            delim = "\t" if ext == ".tsv" else ","
        reader = csv.reader(io.StringIO(text), delimiter=delim)
        try:
            rows = list(reader)
        except csv.Error as exc:
            raise InputError(f"is not a readable CSV table ({exc})", path=path) from None
        rows_with_line = [(i, r) for i, r in enumerate(rows, start=1) if any(c.strip() for c in r)]
        if not rows_with_line:
            raise InputError("has no rows", path=path)
        header = [h.strip() for h in rows_with_line[0][1]]
        body = rows_with_line[1:]
        return header, [r for _, r in body], [i for i, _ in body]
    raise InputError(f"has an unsupported table type '{ext}'; use .csv or .xlsx", path=path)


def _read_xlsx(path: str):
    from ..excel.xlsx import read_xlsx

    book = read_xlsx(path, "Excel workbook", sheets=[0])
    header: list[str] | None = None
    body, lines = [], []
    for i, row in enumerate(book[book.sheetnames[0]].rows, start=1):
        cells = ["" if v is None else _cell_str(v) for v in row]
        if not any(c.strip() for c in cells):
            continue
        if header is None:
            header = [c.strip() for c in cells]
            continue
        body.append(cells)
        lines.append(i)
    if header is None:
        raise InputError("has no rows", path=path)
    return header, body, lines


def _cell_str(v) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def find_columns(header: list[str], wanted: dict[str, tuple], path: str, required: tuple[str, ...],
                 overrides: dict[str, str] | None = None, column_option: bool = True) -> dict[str, int]:
    lowered = [h.strip().lower() for h in header]
    found: dict[str, int] = {}
    for role, names in wanted.items():
        if overrides and role in overrides:
            name = overrides[role].strip().lower()
            if name not in lowered:
                raise InputError(f"has no column '{overrides[role]}' (given for {role}); columns found: "
                                 f"{', '.join(header)}", path=path)
            found[role] = lowered.index(name)
            continue
        for n in names:
            if n in lowered and lowered.index(n) not in found.values():
                found[role] = lowered.index(n)
                break
    missing = [r for r in required if r not in found]
    if missing:
        r = missing[0]
        names = ", ".join(wanted[r])
        example = next((h.strip() for i, h in enumerate(header) if h.strip() and i not in found.values()), "NAME")
        fix = (f"; or say which column it is with --column {r}={example if ' ' not in example else repr(example)}"
               if column_option else f"; rename the column to one of these")
        raise InputError(f"has no {r} column (columns found: {', '.join(h or '?' for h in header)}); accepted "
                         f"names for the {r} column: {names}{fix}", path=path)
    return found


def cell_speaker(who: str) -> tuple[str, str, str | None, str]:
    """(speaker, role, raw, kind) for a speaker cell, as for a label in a text transcript."""
    if re.fullmatch(_PERSON, who.strip(), re.IGNORECASE) or norm_label(who) in MODERATOR_WORDS:
        return (*speaker_of(who), None, "")
    return classify(who)


def parse_utterance_table(path: str, *, columns: dict[str, str] | None = None, group: str | None = None,
                          opts: LabelOptions | None = None, strict: bool = False,
                          group_column: bool = False) -> list[Parsed]:
    """One row per utterance. Returns one Parsed per focus group in the table; the stored
    text is rebuilt as 'SPEAKER: text' lines so it reads like a transcript. A row with text but
    no speaker is kept in the stored text as unattributed context (not a segment), refused with
    ``strict``, or given to the default speaker."""
    from ..text.nlp import count_words

    opts = opts or LabelOptions()
    header, rows, lines = read_rows(path)
    cols = find_columns(header, COLUMN_NAMES, path, ("speaker", "text"), columns)
    if group_column and "group" not in cols:
        raise InputError(f"has no group column for --group-from column (columns found: {', '.join(header)}); "
                         f"accepted names: {', '.join(COLUMN_NAMES['group'])}; or say which with --column "
                         "group=NAME", path=path)
    by_group: dict[str, list] = {}
    order: list[str] = []
    code_cols = _code_columns(header, cols)
    for row, line in zip(rows, lines):
        def get(role):
            i = cols.get(role)
            return row[i].strip() if i is not None and i < len(row) else ""
        text = get("text")
        who = get("speaker")
        if not who and not text:
            continue
        if not who and strict:
            raise InputError("has a row with text but no speaker (--strict); fill in the speaker, or leave out "
                             "--strict to keep such rows as unattributed context", path=path, line=line)
        g = normalise_group(get("group")) if "group" in cols and get("group") else group
        key = g or ""
        if key not in by_group:
            by_group[key] = []
            order.append(key)
        codes = []
        if "codes" in cols and get("codes"):
            codes.extend(c.strip() for c in re.split(r"[;,]", get("codes"))
                         if c.strip() and c.strip().lower() not in NO_CODE)
        for name, i in code_cols:
            v = row[i].strip() if i < len(row) else ""
            if v not in ("", "0", "0.0", "false", "False", "FALSE", "nee", "no"):
                codes.append(name)
        by_group[key].append((who, text, get("timestamp"), line, codes, get("coder")))
    if not order:
        raise InputError("has a header but no utterance rows", path=path)
    out = []
    name = Path(path).name
    seen_speakers: dict[str, tuple] = {}
    for key in order:
        buf, turns, codings = [], [], []
        pos = 0
        context, context_words, first_context = 0, 0, None
        for who, text, ts, line, codes, coder in by_group[key]:
            if not who and not opts.default:   # unattributed context: in the text, not a segment
                buf.append(text + "\n")
                pos += len(text) + 1
                context += 1
                context_words += count_words(text)
                first_context = first_context or line
                continue
            if who:
                if who not in seen_speakers:  # a table repeats a handful of speakers many times
                    seen_speakers[who] = cell_speaker(who)
                speaker, role, raw, kind = seen_speakers[who]
            else:
                (speaker, role), raw, kind = opts.default, None, ""
            shown = raw if raw is not None else speaker
            prefix = f"{shown}: "
            start = pos + len(prefix)
            buf.append(prefix + text + "\n")
            span = (pos, pos + len(shown)) if kind in ("name", "lone") else None
            pos += len(prefix) + len(text) + 1
            turns.append(Turn(speaker=speaker, role=role, start=start, end=start + len(text), line=line,
                              timestamp=parse_timestamp(ts) if ts else None, raw=raw, kind=kind, label_span=span))
            for c in codes:
                codings.append((len(turns) - 1, c, coder or None))
        parsed = Parsed(text="".join(buf), turns=turns, format=Path(path).suffix.lower().lstrip("."),
                        group=key or None, group_origin="the group column" if "group" in cols else "",
                        name=f"{name}#{key}" if len(order) > 1 else name, codings=codings,
                        unattributed=context_words)
        if context:
            parsed.notes.append(f"{context} row(s) with text but no speaker (first: line {first_context}) kept as "
                                "unattributed context: in the stored text, not segments (--strict refuses them)")
        out.append(parsed)
    return out


def _code_columns(header: list[str], cols: dict[str, int]) -> list[tuple[str, int]]:
    """0/1 columns named 'code:<id>' (one per code)."""
    used = set(cols.values())
    out = []
    for i, h in enumerate(header):
        m = re.fullmatch(r"\s*code\s*[:=]\s*(\S+)\s*", h, re.I)
        if m and i not in used:
            out.append((m.group(1), i))
    return out


def read_participants(path: str) -> list[dict]:
    """Participants metadata: [{'group': 'F1', 'label': 'P2', 'attributes': {...}, 'line': 3}, ...]."""
    return read_participants_and_names(path)[0]


def name_key(name: str) -> str:
    """How a speaker's name is matched: without a trailing '(Guest)'-style remark, trimmed, spaces
    collapsed, case folded."""
    return norm_label(re.sub(r"\s*\([^()]*\)\s*$", "", str(name)))


def read_participants_and_names(path: str) -> tuple[list[dict], list[dict]]:
    """Participants metadata plus the speaker names it maps to keys.

    A ``name`` (or ``speaker``) column maps each person's name to their group and number; a row whose
    ``role`` (or participant cell) says moderator/interviewer is a moderator, matched by name and never
    a participant. Names never become attributes. Returns (people, names) where names are
    ``{'name': key, 'group': 'F1' or None, 'label': 'P2' or 'Moderator', 'role': ..., 'line': 4}``."""
    header, rows, lines = read_rows(path)
    cols = find_columns(header, PARTICIPANT_COLUMNS, path, ("group", "participant"), column_option=False)
    lowered = [h.strip().lower() for h in header]
    role_col = next((i for i, h in enumerate(lowered) if h in ("role", "rol") and i not in cols.values()), None)
    seen: dict[tuple[str, str], int] = {}
    seen_names: dict[tuple[str | None, str], int] = {}
    out, names = [], []
    attr_cols = [(i, h.strip()) for i, h in enumerate(header) if i not in cols.values() and h.strip()]

    def cell(row, i):
        return row[i].strip() if i is not None and i < len(row) else ""

    for row, line in zip(rows, lines):
        g_raw, p_raw = cell(row, cols["group"]), cell(row, cols["participant"])
        person_name = cell(row, cols.get("name"))
        is_mod = (cell(row, role_col).lower() in MODERATOR_ROLES) or (p_raw and speaker_of(p_raw)[1] == "moderator")
        if is_mod:
            if not person_name:
                if p_raw and speaker_of(p_raw)[1] == "moderator" and "name" not in cols:
                    raise InputError(f"lists '{p_raw}' as a participant; moderators are not participants", path=path,
                                     line=line)
                raise InputError("has a moderator row without a name; give the moderator's name in the name column "
                                 "(or leave the row out)", path=path, line=line)
            label = speaker_of(p_raw)[0] if p_raw and speaker_of(p_raw)[1] == "moderator" else "Moderator"
            g = normalise_group(g_raw) if g_raw else None
            _add_name(names, seen_names, person_name, g, label, "moderator", path, line)
            continue
        if not g_raw or not p_raw:
            raise InputError("has a row without a group or participant", path=path, line=line)
        g, (p, role) = normalise_group(g_raw), speaker_of(p_raw)
        if (g, p) in seen:
            raise InputError(f"lists {g} {p} twice (also line {seen[(g, p)]})", path=path, line=line)
        seen[(g, p)] = line
        if person_name:
            _add_name(names, seen_names, person_name, g, p, "participant", path, line)
        attrs = {name: (row[i].strip() if i < len(row) else "") for i, name in attr_cols}
        out.append({"group": g, "label": p, "attributes": attrs, "line": line})
    if not out and not names:
        raise InputError("lists no participants", path=path)
    return out, names


def _add_name(names: list, seen: dict, raw: str, group: str | None, label: str, role: str, path: str,
              line: int) -> None:
    key = name_key(raw)
    if (group, key) in seen:
        raise InputError(f"lists the same name twice in {group or 'the moderators'} (also line {seen[(group, key)]}); "
                         "a name must point to one person", path=path, line=line)
    seen[(group, key)] = line
    names.append({"name": key, "group": group, "label": label, "role": role, "line": line})
