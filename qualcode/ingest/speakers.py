"""Speaker labels and names -> keys ('F1 P3'), and the checks that stop silent mistakes.

Names are identifying. They are used only to match: once a file's speakers are resolved, every
name in its labels (and every other mention of a speaker's full name in the text) is replaced
by the speaker's key before anything is stored, so no name reaches segments, exports or reports.
The only place qualcode writes names is the name -> key table (:func:`write_names_file`), a file
the researcher keeps apart from what they share.
"""

from __future__ import annotations

import csv
import io
import re
from bisect import bisect_right
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from .parse import (LONE_WORDS, MODERATOR_WORDS, LabelOptions, Parsed, norm_label, normalise_group,
                    normalise_person, speaker_of)
from .tables import name_key, read_participants_and_names

TEXT_VALUES = {"text", "tekst", "none", "geen"}
MIN_WORDS_FOR_SHARES = 200     # below this a file is too short to judge who talks how much
MODERATOR_SHARE = 0.75         # a moderator with this share of the words: participants' lines lack labels
NO_ONE_SHARE = 0.5             # this share in lines of no one: the labels are missing
ONE_SPEAKER_SHARE = 0.8        # one of several participants with this share: noted, labels may be missing


@dataclass
class SpeakerContext:
    """Everything that says who a label or name is, for one ingest."""
    labels: dict[str, tuple[str | None, str, str]] = field(default_factory=dict)  # --speaker-label
    names: dict[tuple[str | None, str], tuple[str, str]] = field(default_factory=dict)  # (group, name) -> key
    moderators: set[str] = field(default_factory=set)                          # --moderator names
    allow_new: bool = False
    default_given: bool = False
    new_names: list[dict] = field(default_factory=list)   # names numbered here, for the names file
    assigned: dict[tuple[str, str], str] = field(default_factory=dict)        # (group, name) -> 'P4'
    used: dict[str, set[int]] = field(default_factory=dict)                   # group -> P-numbers taken
    names_in: dict[str | None, dict[str, str]] = field(default_factory=dict)  # group -> {name: key}
    assigned_in: dict[str, dict[str, str]] = field(default_factory=dict)      # group -> {name: new key}
    groups_of: dict[str, set[str]] = field(default_factory=dict)               # name -> groups it is in

    @property
    def label_options(self) -> LabelOptions:
        return LabelOptions(text_labels=frozenset(k for k, v in self.labels.items() if v[1] == "text"),
                            default=self._default)

    _default: tuple[str, str] | None = None


def parse_key(value: str, option: str) -> tuple[str | None, str, str]:
    """'P3', 'F1 P3', 'Deelnemer 3', 'Moderator' -> (group or None, speaker, role)."""
    v = " ".join(value.split())
    m = re.fullmatch(r"(?P<g>(?:F|FG|I|G)[ _-]?\d{1,3})[ _-]+(?P<p>.+)", v, re.IGNORECASE)
    group = None
    if m and speaker_of(m.group("p"))[1] == "moderator" or m and re.fullmatch(r"P\d{1,3}", normalise_person(m.group("p"))):
        group, v = normalise_group(m.group("g")), m.group("p")
    speaker, role = speaker_of(v)
    if role == "participant" and not re.fullmatch(r"P\d{1,3}", speaker):
        raise InputError(f"{option} '{value}': the key must be a participant number such as P1 or F1 P1, or "
                         "Moderator")
    return group, speaker, role


def build_context(*, participants: str | None = None, speaker_labels: tuple[str, ...] = (),
                  moderators: tuple[str, ...] = (), default_speaker: str | None = None,
                  allow_new: bool = False, names_file: str | None = None) -> tuple[SpeakerContext, list[dict]]:
    """The speaker context and the participants rows (from ``participants``)."""
    ctx = SpeakerContext(allow_new=allow_new, default_given=bool(default_speaker))
    for value in speaker_labels:
        if "=" not in value:
            raise InputError(f"--speaker-label takes LABEL=KEY (e.g. \"Student=Moderator\", \"R=P1\", \"Citaat=text\"), "
                             f"got '{value}'")
        left, right = (x.strip() for x in value.split("=", 1))
        if not left:
            raise InputError(f"--speaker-label '{value}': give the label before '='")
        if right.casefold() in TEXT_VALUES:
            ctx.labels[norm_label(left)] = (None, "text", "text")
        else:
            ctx.labels[norm_label(left)] = parse_key(right, "--speaker-label")
    if default_speaker:
        _, speaker, role = parse_key(default_speaker, "--default-speaker")
        ctx._default = (speaker, role)
    ctx.moderators = {name_key(m) for m in moderators if m.strip()}
    people: list[dict] = []
    sources = []
    if names_file and Path(names_file).is_file():
        sources.append(names_file)
    if participants:
        sources.append(participants)
    for src in sources:
        rows, names = read_participants_and_names(src)
        if src == participants:
            people = rows
        for n in names:
            ctx.names[(n["group"], n["name"])] = (n["label"], n["role"])
            ctx.names_in.setdefault(n["group"], {})[n["name"]] = n["label"]
            if n["group"]:
                ctx.groups_of.setdefault(n["name"], set()).add(n["group"])
    for p in people:
        _take(ctx, p["group"], p["label"])
    for (g, _), (label, role) in ctx.names.items():
        if g and role == "participant":
            _take(ctx, g, label)
    return ctx, people


def _take(ctx: SpeakerContext, group: str, label: str) -> None:
    m = re.fullmatch(r"P(\d+)", label)
    if m:
        ctx.used.setdefault(group, set()).add(int(m.group(1)))


def _next_free(ctx: SpeakerContext, group: str) -> str:
    used = ctx.used.setdefault(group, set())
    n = max(used, default=0) + 1
    used.add(n)
    return f"P{n}"


def group_from_names(ctx: SpeakerContext, parsed: Parsed) -> str | None:
    """The one group the names in a file point to, if they point to exactly one."""
    raws = {name_key(t.raw) for t in parsed.turns if t.raw is not None}
    groups = {g for n in raws for g in ctx.groups_of.get(n, ())}
    return groups.pop() if len(groups) == 1 else None


def resolve(ctx: SpeakerContext, parsed: Parsed, group: str, path: str, taken: set[str]) -> None:
    """Give every turn of ``parsed`` its key, or raise one error that names the lines and the fix;
    then check who the words fall to and replace the names in the text by keys."""
    for label in taken:
        _take(ctx, group, label)
    for t in parsed.turns:
        if t.raw is None and t.role == "participant":
            _take(ctx, group, t.speaker)
    moderator_names: dict[str, str] = {}
    unknown_labels: dict[str, list[int]] = {}
    unknown_names: dict[str, list[int]] = {}
    lone = []
    keys_of: dict[str, tuple[str, str]] = {}
    numbered: set[str] = set()
    for t in parsed.turns:
        if t.raw is None:
            continue
        if t.raw not in keys_of:
            keys_of[t.raw] = (norm_label(t.raw), name_key(t.raw))
        kn, nk = keys_of[t.raw]
        hit = ctx.labels.get(kn) or ctx.labels.get(nk)
        if hit:
            t.speaker, t.role = hit[1], hit[2]
            if hit[2] == "participant" and hit[0] and hit[0] != group:
                raise InputError(f"--speaker-label gives key {hit[0]} {hit[1]} but this file is group {group}; "
                                 f"use --speaker-label \"LABEL={hit[1]}\"", path=path, line=t.line)
            continue
        named = ctx.names.get((group, nk)) or ctx.names.get((None, nk))
        if named is None and nk in ctx.moderators:
            named = ("Moderator", "moderator")
        if named:
            label, role = named
            if role == "moderator" and label == "Moderator":   # several moderators in one file stay apart
                label = moderator_names.setdefault(nk, "Moderator" if not moderator_names
                                                   else f"Moderator {len(moderator_names) + 1}")
            t.speaker, t.role = label, role
            continue
        if t.kind == "lone":
            lone.append(t)
            continue
        if (group, nk) in ctx.assigned:
            t.speaker, t.role = ctx.assigned[(group, nk)], "participant"
            continue
        if ctx.allow_new and t.kind == "name":  # a role word ('Student', 'Q') could be either side: ask
            key = _next_free(ctx, group)
            ctx.assigned[(group, nk)] = key
            ctx.assigned_in.setdefault(group, {})[nk] = key
            ctx.new_names.append({"group": group, "participant": key, "name": t.raw, "role": "participant"})
            t.speaker, t.role = key, "participant"
            numbered.add(nk)
            continue
        (unknown_labels if t.kind == "label" else unknown_names).setdefault(kn, []).append(t.line)
    if numbered and not any(t.role == "moderator" for t in parsed.turns):
        parsed.notes.append(f"{len(numbered)} speaker name(s) numbered as participants and no moderator in this file; "
                            "if one of them is the moderator, check before coding and ingest again with --moderator "
                            "NAME (in a new project, or after 'qualcode init --force')")
    if lone:
        others = {t.speaker for t in parsed.turns if t.role == "participant" and t.speaker and t.kind != "lone"}
        kinds = {norm_label(t.raw) for t in lone}
        if others or len(kinds) > 1:
            first = lone[0]
            raise InputError(f"'{first.raw}:' marks a participant without a number, but this file has other "
                             f"participants too; say who it is with --speaker-label \"{first.raw}=P1\"",
                             path=path, line=first.line)
        for t in lone:  # the one participant of an interview
            t.speaker, t.role = "P1", "participant"
    if unknown_labels:
        (kn, lines), *rest = sorted(unknown_labels.items(), key=lambda kv: kv[1][0])
        raw = next(t.raw for t in parsed.turns if t.raw is not None and norm_label(t.raw) == kn)
        also = f" (also line {', '.join(map(str, lines[1:4]))}{', …' if len(lines) > 4 else ''})" if lines[1:] else ""
        more = f"; {len(rest)} other unknown label(s) follow" if rest else ""
        raise InputError(f"'{raw}:' is not a speaker label qualcode knows{also}{more}; say who it is with "
                         f"--speaker-label \"{raw}=P1\" (or \"{raw}=Moderator\"; \"{raw}=text\" if it is not a "
                         "speaker)", path=path, line=lines[0])
    if unknown_names:
        firsts = sorted(v[0] for v in unknown_names.values())
        shown = ", ".join(map(str, firsts[:6])) + (", …" if len(firsts) > 6 else "")
        raise InputError(f"{len(unknown_names)} speaker name(s) are not in the participants file (first spoken on "
                         f"line(s) {shown}; names are never repeated in messages); map them in the participants "
                         "file's name column, name the moderator with --moderator NAME, add --allow-new-speakers "
                         "to number them P1, P2, … in order of appearance, or use --speaker-label \"WORD=text\" "
                         "for a line that only looks like a label",
                         path=path, line=firsts[0])
    check_shares(parsed, path, ctx.default_given, group)
    known = dict(ctx.names_in.get(None, {}))
    known.update(ctx.names_in.get(group, {}))
    known.update({n: "Moderator" for n in ctx.moderators})
    known.update(ctx.assigned_in.get(group, {}))
    redact(parsed, known)


def check_shares(parsed: Parsed, path: str, default_given: bool, group: str = "") -> None:
    """Refuse a file whose words fall (almost) all to the moderator or to no one: its labels are missing."""
    if default_given:
        return
    from ..text.nlp import count_words

    mod = part = 0
    per_person: dict[str, int] = {}
    for t in parsed.turns:
        n = count_words(parsed.text[t.start:t.end])
        if t.role == "moderator":
            mod += n
        else:
            part += n
            per_person[t.speaker] = per_person.get(t.speaker, 0) + n
    none = parsed.unattributed
    total = mod + part + none
    if not total:
        return
    if part == 0:
        raise InputError(f"{mod} of {total} words fall to the moderator, {none} to no one and 0 to participants; "
                         "if the unlabelled lines are the participant's (a one-to-one interview), add "
                         "--default-speaker P1, otherwise label the participants' lines (P1: …)", path=path)
    if total < MIN_WORDS_FOR_SHARES:
        return
    if mod >= MODERATOR_SHARE * total:
        raise InputError(f"{mod} of {total} words ({100 * mod // total}%) fall to the moderator and {part} to "
                         "participants; the participants' lines probably have no label. If unlabelled lines are "
                         "the participant's (a one-to-one interview), add --default-speaker P1; otherwise label "
                         "them (P1: …)", path=path)
    top = max(per_person.items(), key=lambda kv: kv[1]) if len(per_person) > 1 else None
    if top and top[1] >= ONE_SPEAKER_SHARE * total:  # a focus group with one voice: labels may be missing
        parsed.notes.append(f"{f'{group} ' if group else ''}{top[0]} speaks {top[1]} of the {total} words ({100 * top[1] // total}%); if some "
                            "lines lack their label, they were counted as this speaker's (check with 'qualcode "
                            "segments')")
    if none >= NO_ONE_SHARE * total:
        raise InputError(f"{none} of {total} words ({100 * none // total}%) belong to no one (lines before the first "
                         "speaker label or rows without a speaker); label them, or say who speaks in them with "
                         "--default-speaker KEY", path=path)


def redact(parsed: Parsed, known: dict[str, str] | None = None) -> None:
    """Replace names in labels, and every other mention of a speaker's name or of a name ``known``
    for this group (name key -> key), by the key, moving every turn's offsets with the text."""
    spans: list[tuple[int, int, str]] = []
    names: dict[str, str] = {n: k for n, k in (known or {}).items() if len(n) >= 3}
    for t in parsed.turns:
        if t.label_span:
            spans.append((t.label_span[0], t.label_span[1], t.speaker if t.by_key else ""))
        if t.raw is not None and t.kind == "name" and len(t.raw) >= 3:
            names.setdefault(t.raw, t.speaker)
    if names:
        taken = [(s, e) for s, e, _ in spans]
        pattern = re.compile(r"(?<!\w)(?:" + "|".join(
            r"[ \t]+".join(re.escape(w) for w in n.split()) for n in sorted(names, key=len, reverse=True))
            + r")(?!\w)", re.IGNORECASE)
        by_key = {name_key(n): k for n, k in names.items()}
        starts = sorted(taken)
        for m in pattern.finditer(parsed.text):
            i = bisect_right(starts, (m.start(), float("inf"))) - 1
            if i >= 0 and starts[i][0] <= m.start() < starts[i][1]:
                continue  # the label itself
            spans.append((m.start(), m.end(), by_key.get(name_key(m.group(0)), "")))
    for t in parsed.turns:
        t.raw = None if t.kind == "name" else t.raw
        t.label_span = None
    if not spans:
        return
    spans.sort()
    text = parsed.text
    pieces, olds, news, deltas = [], [], [], []
    last = delta = 0
    for s, e, r in spans:
        if s < last:
            continue
        pieces.append(text[last:s])
        pieces.append(r)
        olds.append((s, e))
        news.append(s + delta)
        delta += len(r) - (e - s)
        deltas.append(delta)
        last = e
    pieces.append(text[last:])
    starts = [s for s, _ in olds]

    def move(o: int) -> int:
        i = bisect_right(starts, o) - 1
        if i < 0:
            return o
        s, e = olds[i]
        if o >= e or o == s:
            return o + (deltas[i] if o >= e else deltas[i - 1] if i else 0)
        return news[i] + len(pieces[2 * i + 1])  # inside a replaced span: to its end

    for t in parsed.turns:
        t.start, t.end = move(t.start), move(t.end)
        t.end = max(t.end, t.start)
    parsed.text = "".join(pieces)


def write_names_file(ctx: SpeakerContext, path: str | Path) -> Path | None:
    """Add the names numbered in this ingest to the name -> key table (CSV: group, participant, name, role),
    written atomically; the file is also a participants file for later ingests."""
    if not ctx.new_names:
        return None
    from ..excel.xlsx import csv_safe

    path = Path(path)
    rows: list[list[str]] = []
    if path.exists():
        from .parse import decode

        text, _ = decode(path.read_bytes(), str(path))
        rows = [r for r in csv.reader(io.StringIO(text)) if any(c.strip() for c in r)][1:]
    rows.extend([n["group"], n["participant"], n["name"], n["role"]] for n in ctx.new_names)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["group", "participant", "name", "role"])
    w.writerows([csv_safe(v) for v in r] for r in rows)
    from ..files.atomic import write_text
    from ..errors import OutputError

    try:
        write_text(path, buf.getvalue(), newline="")   # temporary file beside it, then renamed (qualcode.files.atomic)
    except OutputError as exc:
        raise InputError(f"cannot write the name -> key table ({exc.reason}); nothing was ingested. "
                         "Choose another place with --names-file", path=str(path)) from None
    return path


__all__ = ["SpeakerContext", "build_context", "resolve", "check_shares", "redact", "write_names_file",
           "group_from_names", "parse_key", "LONE_WORDS", "MODERATOR_WORDS"]
