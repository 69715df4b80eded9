"""Pseudonymisation: names, e-mail addresses and phone numbers out of the stored texts.

What is replaced
----------------
* names from a user list (people, organisations, places), matched as whole
  words, exactly as written in the list (``--ignore-case`` to relax);
* names after a form of address ('meneer Peeters', 'dokter Janssens',
  'mevrouw De Smet'): the built-in detector, which finds only these;
* optionally the Dutch de-identification package ``deduce`` (``--detect deduce``)
  for person names anywhere, when it is installed;
* e-mail addresses;
* phone numbers in Belgian (+32, 0032, 0…, mobile 04xx) and Dutch (+31, 0031,
  06, 0xx) formats.

Placeholders are numbered per category and stable across the whole project:
the same person is ``[naam 3]`` everywhere (names compared without case and
spacing differences, phone numbers by their digits, so '0475 12 34 56' and
'+32 475 123 456' share one placeholder). A later run continues the numbering
after the highest placeholder already in the texts.

Offsets stay consistent: each source's text is rewritten and every segment's
start/end is moved with it, so ``segment.text == source.text[start:end]`` and
codings (which point at segments) keep pointing at the same words. The rewrite
is one act that cannot be undone; SQLite's ``secure_delete`` and a VACUUM make
sure the old text does not stay behind in the file. Backups made earlier still
hold the original text: the caller is told so.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError, OutputError
from ..store.core import DatabaseError

CATEGORIES = {"naam": "naam", "name": "naam", "person": "naam", "persoon": "naam", "people": "naam",
              "personen": "naam", "organisatie": "organisatie", "organisation": "organisatie",
              "organization": "organisatie", "org": "organisatie", "plaats": "plaats", "place": "plaats",
              "location": "plaats", "locatie": "plaats", "city": "plaats", "gemeente": "plaats"}
PLACEHOLDER_RE = re.compile(r"\[(naam|organisatie|plaats|e-mail|telefoon) (\d+)\]")

EMAIL_RE = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}(?![\w-])")
_SEP = r"(?:[ \t]?[./-][ \t]?|[ \t])?"
PHONE_RE = re.compile(
    r"(?<![\w+])(?:(?:\+|00)[ \t]?3[12][ \t]?(?:\(0\)[ \t]?)?|0)"   # +32 / 0032 / +31 (0) / 0
    rf"[1-9](?:{_SEP}\d){{7,8}}(?![\d])")
TITLES = ("meneer", "mijnheer", "mevrouw", "mevr.", "mevr", "dhr.", "dhr", "mr.", "dokter", "dr.", "dr",
          "professor", "prof.", "juffrouw", "juf", "meester", "zuster", "broeder", "pater")
_NAMEPART = r"(?:(?i:van|de|der|den|het|ter|ten|te|la|le|du|d')[ \t]+)*[A-Z][\w'-]+"
TITLE_RE = re.compile(r"(?<!\w)(?i:" + "|".join(re.escape(t) for t in TITLES) + r")[ \t]+(?P<name>" + _NAMEPART
                      + r"(?:[ \t]+" + _NAMEPART + r")?)")
PRIORITY = {"e-mail": 0, "telefoon": 1, "lijst": 2, "titel": 3, "deduce": 4}


@dataclass
class NameEntry:
    name: str
    category: str     # naam, organisatie, plaats


@dataclass
class Replacement:
    source: str
    start: int                    # offsets in the text before this run
    end: int
    original: str
    category: str                 # naam organisatie plaats e-mail telefoon
    placeholder: str
    found_by: str                 # lijst, titel, deduce, e-mail, telefoon
    key: str = ""                 # '(F2 P2)' of the segment it falls in, else the source name
    segment_id: int | None = None


@dataclass
class PseudonymiseReport:
    replacements: list[Replacement] = field(default_factory=list)
    other_fields: int = 0         # memos, code examples, audit images changed
    sources_changed: int = 0
    segments_moved: int = 0
    dry_run: bool = False
    backups: int = 0              # existing backups that still hold the original text
    mapping_file: str = ""        # the key written (before the act committed), if asked for
    field_originals: list[tuple[str, str, str]] = field(default_factory=list)  # memos, history: (ph, cat, orig)
    warnings: list[str] = field(default_factory=list)
    relabels: list[tuple[str, str, str, str]] = field(default_factory=list)  # (role, group, old label, new)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.replacements:
            out[r.category] = out.get(r.category, 0) + 1
        return out

    def mapping(self) -> list[tuple[str, str, str]]:
        """(placeholder, category, original) rows, one per distinct original spelling."""
        seen, rows = set(), []
        for _, g, old, new in self.relabels:
            rows.append((f"{g} {new}", "spreker", old))
        found = [(r.placeholder, r.category, r.original) for r in self.replacements] + self.field_originals
        for placeholder, category, original in found:
            if (placeholder, original) not in seen:
                seen.add((placeholder, original))
                rows.append((placeholder, category, original))
        speakers = [r for r in rows if r[1] == "spreker"]
        rest = [r for r in rows if r[1] != "spreker"]
        return speakers + sorted(rest, key=lambda t: (t[1], int(t[0].rsplit(" ", 1)[1].rstrip("]")), t[2]))

    def lines(self) -> list[str]:
        out = []
        if self.dry_run:
            for _, g, old, new in self.relabels:
                out.append(f"({g} {old}) speaker label -> {g} {new}")
            for r in self.replacements:
                out.append(f"{r.key}  {r.original!r} -> {r.placeholder}  ({r.found_by})")
        counts = self.counts()
        total = sum(counts.values())
        what = ", ".join(f"{n} {c}" for c, n in sorted(counts.items())) or "nothing found"
        distinct = len({r.placeholder for r in self.replacements})
        if self.dry_run:
            relabel = f", {len(self.relabels)} speaker label(s) renumbered" if self.relabels else ""
            out.append(f"dry run: {total} replacement(s) would be made ({what}), {distinct} distinct placeholder(s)"
                       f"{relabel}; nothing was changed")
        else:
            out.append(f"replaced {total} occurrence(s) ({what}) with {distinct} placeholder(s) in "
                       f"{self.sources_changed} source(s); {self.segments_moved} segment(s) re-positioned, "
                       f"{self.other_fields} memo/example/history field(s) rewritten")
            if self.relabels:
                out.append(f"{len(self.relabels)} speaker label(s) that were names now are keys: "
                           + ", ".join(f"{g} {new}" for _, g, _, new in self.relabels))
            if self.backups:
                out.append(f"warning: {self.backups} backup(s) made before this still hold the original names; "
                           "delete them with 'qualcode backup prune' once you no longer need them")
            if self.mapping_file:
                out.append(f"wrote the key {self.mapping_file}")
        out.extend(f"warning: {w}" for w in self.warnings)
        return out


# ------------------------------------------------------------------ names list
def read_names(path: str | Path) -> list[NameEntry]:
    """A CSV with a 'name' column and an optional 'category' column (person, organisation, place)."""
    from ..ingest.parse import decode

    path = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"cannot be read ({exc.strerror or exc})", path=path) from None
    text, _ = decode(data, path)
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = list(csv.reader(io.StringIO(text), dialect))
    header = [h.strip().lower() for h in rows[0]]
    name_col = next((i for i, h in enumerate(header) if h in ("name", "naam", "names", "namen")), None)
    if name_col is None:
        raise InputError("has no 'name' column; the first row must name the columns, e.g. 'name,category'",
                         path=path, line=1)
    cat_col = next((i for i, h in enumerate(header) if h in ("category", "categorie", "type", "soort")), None)
    out = []
    for lineno, row in enumerate(rows[1:], start=2):
        if not row or not any(c.strip() for c in row):
            continue
        name = row[name_col].strip() if name_col < len(row) else ""
        if not name:
            raise InputError("has an empty name", path=path, line=lineno)
        raw = row[cat_col].strip().lower() if cat_col is not None and cat_col < len(row) else ""
        if raw and raw not in CATEGORIES:
            raise InputError(f"unknown category '{raw}'; use person, organisation or place "
                             "(persoon, organisatie, plaats)", path=path, line=lineno)
        out.append(NameEntry(name, CATEGORIES.get(raw, "naam")))
    if not out:
        raise InputError("lists no names", path=path)
    return out


# ------------------------------------------------------------------ finding
def _list_pattern(entries: list[NameEntry], ignore_case: bool) -> list[tuple[re.Pattern, str]]:
    pats = []
    for e in sorted(entries, key=lambda e: -len(e.name)):
        body = r"\s+".join(re.escape(w) for w in e.name.split())
        pats.append((re.compile(rf"(?<!\w){body}(?!\w)", re.IGNORECASE if ignore_case else 0), e.category))
    return pats


def _deduce_names(text: str) -> list[tuple[int, int]]:
    try:
        from deduce import Deduce  # optional extra: pip install qualcode[deduce]
    except ImportError:
        raise InputError("--detect deduce needs the optional package 'deduce' "
                         "(pip install 'qualcode[deduce]'); see docs/privacy.md") from None
    global _DEDUCE
    if _DEDUCE is None:
        _DEDUCE = Deduce()
    doc = _DEDUCE.deidentify(text)
    return [(a.start_char, a.end_char) for a in doc.annotations
            if str(getattr(a, "tag", "")).startswith(("persoon", "patient", "naam"))]


_DEDUCE = None


# Characters that hide a name or number from a plain match without changing how it reads.
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff\u180e"), None)


def fold(text: str) -> tuple[str, list[int] | None]:
    """``text`` as matched: NFKC, invisible characters (soft hyphen, zero-width space and joiners,
    word joiner) removed, every Unicode space a plain space. Returns the folded text and, for each
    of its characters plus one past the end, the offset in ``text`` it came from (None when the
    text needs no folding: plain ASCII, the usual case)."""
    import unicodedata

    if text.isascii():
        return text, None
    out: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        if ord(ch) in _INVISIBLE:
            continue
        if ch.isspace():
            piece = " " if ch not in "\n\r\t" else ch
        else:
            piece = unicodedata.normalize("NFKC", ch)
        out.append(piece)
        where.extend([i] * len(piece))
    where.append(len(text))
    return "".join(out), where


def find_spans(text: str, patterns: list[tuple[re.Pattern, str]], detect: tuple[str, ...] = ("titles",)
               ) -> list[tuple[int, int, str, str]]:
    """Non-overlapping (start, end, category, found_by) spans to replace, in text order. Matching
    sees the folded text (see :func:`fold`), so 'Mevrouw\u00a0Peeters', 'Pee\u00adters' or a phone
    number with thin spaces are found; the spans are offsets in ``text`` itself."""
    folded, where = fold(text)
    spans = _find_folded(folded, patterns, detect)
    if where is None:
        return spans
    return [(where[s], where[e - 1] + 1, cat, how) for s, e, cat, how in spans if e > s]


def _find_folded(text: str, patterns: list[tuple[re.Pattern, str]], detect: tuple[str, ...]
                 ) -> list[tuple[int, int, str, str]]:
    cands = []
    for m in EMAIL_RE.finditer(text):
        cands.append((m.start(), m.end(), "e-mail", "e-mail"))
    for m in PHONE_RE.finditer(text):
        cands.append((m.start(), m.end(), "telefoon", "telefoon"))
    for pat, cat in patterns:
        for m in pat.finditer(text):
            cands.append((m.start(), m.end(), cat, "lijst"))
    if "titles" in detect:
        for m in TITLE_RE.finditer(text):
            cands.append((m.start("name"), m.end("name"), "naam", "titel"))
    if "deduce" in detect:
        cands.extend((s, e, "naam", "deduce") for s, e in _deduce_names(text))
    cands.sort(key=lambda c: (c[0], -(c[1] - c[0]), PRIORITY[c[3]]))
    out, last = [], 0
    for c in cands:
        if c[0] >= last and c[1] > c[0]:
            out.append(c)
            last = c[1]
    return out


def _norm(original: str, category: str) -> str:
    if category == "telefoon":   # the national significant number: +32 475…, 0032 475… and 0475… agree
        digits = re.sub(r"\D", "", original.replace("(0)", ""))
        if original.lstrip().startswith(("+", "00")):
            digits = digits.lstrip("0")[2:]
        return digits.lstrip("0")
    return " ".join(original.casefold().split())


class Numberer:
    """Stable placeholders: one number per distinct original within a category."""

    def __init__(self, existing_texts):
        self.next: dict[str, int] = {}
        for t in existing_texts:
            for m in PLACEHOLDER_RE.finditer(t):
                self.next[m.group(1)] = max(self.next.get(m.group(1), 0), int(m.group(2)))
        self.seen: dict[tuple[str, str], str] = {}

    def __call__(self, original: str, category: str) -> str:
        k = (category, _norm(original, category))
        if k not in self.seen:
            n = self.next.get(category, 0) + 1
            self.next[category] = n
            self.seen[k] = f"[{category} {n}]"
        return self.seen[k]


def rewrite(text: str, spans: list[tuple[int, int, str]]) -> tuple[str, list[tuple[int, int, int, int]]]:
    """Apply (start, end, replacement) spans; return new text and (old_start, old_end, new_start, new_end)."""
    parts, moves, pos, shift = [], [], 0, 0
    for s, e, rep in spans:
        parts.append(text[pos:s])
        parts.append(rep)
        moves.append((s, e, s + shift, s + shift + len(rep)))
        shift += len(rep) - (e - s)
        pos = e
    parts.append(text[pos:])
    return "".join(parts), moves


def map_offset(offset: int, moves: list[tuple[int, int, int, int]], *, is_end: bool) -> int:
    """Where an old offset lands in the new text (a start inside a replaced span moves to the span's
    start, an end inside it to the span's end)."""
    shift = 0
    for s, e, ns, ne in moves:
        if (offset <= s) if is_end else (offset < s):
            break
        if (offset <= e) if is_end else (offset < e):
            return ne if is_end else ns
        shift = ne - e
    return offset + shift


# ------------------------------------------------------------------ the act
def pseudonymise(store, *, names: list[NameEntry] | None = None, detect: tuple[str, ...] = ("titles",),
                 ignore_case: bool = False, dry_run: bool = False,
                 mapping_out: str | Path | None = None) -> PseudonymiseReport:
    """Replace names, e-mail addresses and phone numbers in every stored text (see module doc).

    It waits until running exports have finished (and exports wait for it), reads and rewrites in
    one write transaction, and writes the key ``mapping_out`` (placeholder -> original) before that
    transaction commits: if the key cannot be written, nothing is pseudonymised. Folding the freed
    pages away afterwards (VACUUM) needs free disk space; if that fails the act still stands and the
    report says so."""
    written: list[Path] = []
    try:
        with store.pseudonymisation_lock(), store.transaction():
            report = _pseudonymise(store, names=names, detect=detect, ignore_case=ignore_case, dry_run=dry_run,
                                   mapping_out=mapping_out, written=written)
    except BaseException:
        for key in written:  # the key of a pseudonymisation that did not commit: names for nothing
            key.unlink(missing_ok=True)
        raise
    if not dry_run:  # also when nothing new was found: a rerun compacts what a full disk left
        try:
            _relemmatise(store)
            store.scrub_free_space()
        except DatabaseError as exc:
            report.warnings.append(
                f"the texts are pseudonymised, but the file could not be compacted ({exc}); deleted text may "
                "remain in unused pages of the project file until you free disk space and run "
                "'qualcode pseudonymise' again (it will find nothing new and compact the file).")
    return report


def _pseudonymise(store, *, names, detect, ignore_case, dry_run, mapping_out, written) -> PseudonymiseReport:
    from ..text.nlp import count_words
    from ..store.privacy import TEXT_COLUMNS

    relabels = speaker_relabels(store)
    old_labels = [NameEntry(old, "naam") for _, _, old, _ in relabels if len(old) >= 3]
    patterns = _list_pattern(list(names or []) + old_labels, ignore_case)
    sources = [store.source(s["id"]) for s in store.sources()]
    fields = list(store.text_fields())
    number = Numberer([s["text"] for s in sources] + [f[3] for f in fields])
    report = PseudonymiseReport(dry_run=dry_run, backups=len(store.backups()), relabels=relabels)

    plans = []
    for src in sources:
        spans = find_spans(src["text"], patterns, detect)
        if not spans:
            continue
        segs = store.segment_offsets(src["id"])
        keys = {s["id"]: f"({s['key']})" for s in store.segments(source=src["name"])}
        reps = []
        for s, e, cat, how in spans:
            original = src["text"][s:e]
            seg = next((g for g in segs if g["start"] <= s < g["end"]), None)
            reps.append(Replacement(src["name"], s, e, original, cat, number(original, cat), how,
                                    key=keys[seg["id"]] if seg else f"({src['name']})",
                                    segment_id=seg["id"] if seg else None))
        report.replacements.extend(reps)
        plans.append((src, segs, reps))

    def scrub(text: str) -> str:
        found = find_spans(text, patterns, detect)
        spans = [(s, e, number(text[s:e], c)) for s, e, c, _ in found]
        report.field_originals.extend((ph, c, text[s:e]) for (s, e, ph), (_, _, c, _) in zip(spans, found))
        return rewrite(text, spans)[0]

    field_updates = [(f, scrub(f[3])) for f in fields]
    field_updates = [(f, new) for f, new in field_updates if new != f[3]]
    audit_updates = []
    for audit_id, seq, tbl, old, new in store.audit_images():
        new_imgs = []
        for img in (old, new):
            if not img:
                new_imgs.append(img)
                continue
            d = json.loads(img)
            for col in TEXT_COLUMNS[tbl]:
                if isinstance(d.get(col), str):
                    d[col] = scrub(d[col])
            new_imgs.append(json.dumps(d, ensure_ascii=False))
        if new_imgs != [old, new]:
            audit_updates.append((audit_id, seq, *new_imgs))
    if dry_run or not (plans or field_updates or audit_updates or relabels):
        report.dry_run = dry_run
        if not dry_run and mapping_out:
            report.warnings.append(f"nothing to replace, so no key was written ({mapping_out} is untouched).")
        return report

    store.secure_delete(True)
    with store.act("pseudonymise", undoable=False, capture=False) as act:
        for src, segs, reps in plans:
            new_text, moves = rewrite(src["text"], [(r.start, r.end, r.placeholder) for r in reps])
            store.update_source_text(src["id"], new_text, hashlib.sha256(new_text.encode("utf-8")).hexdigest(),
                                     count_words(new_text))
            store.drop_refi_read_record(src["guid"])  # hashes of the old text could confirm a guessed name
            for g in segs:
                ns = map_offset(g["start"], moves, is_end=False)
                ne = max(ns, map_offset(g["end"], moves, is_end=True))
                if (ns, ne) != (g["start"], g["end"]) or new_text[ns:ne] != g["text"]:
                    seg_text = new_text[ns:ne]
                    store.move_segment(g["id"], ns, ne, seg_text, count_words(seg_text))
                    report.segments_moved += 1
            for cid, fs, fe in store.fragment_spans_of_source(src["id"]):  # fragments move with their words
                ns = map_offset(fs, moves, is_end=False)
                store.move_fragment(cid, ns, max(ns + 1, map_offset(fe, moves, is_end=True)))
            report.sources_changed += 1
        pids = {(p["group"], p["label"]): p["id"] for p in store.participants()}
        for role, g, old, new in relabels:
            if role == "participant":
                store.relabel_participant(pids[(g, old)], new)
            else:
                store.relabel_moderator(g, old, new)
        for (tbl, rid, col, _), new in field_updates:
            store.set_text_field(tbl, rid, col, new)
        for audit_id, seq, old, new in audit_updates:
            store.set_audit_images(audit_id, seq, old, new)
        report.other_fields = len(field_updates) + len(audit_updates)
        act.summary = " ".join(report.lines()[:1])[:200]
        act.details = {"counts": report.counts(), "sources": report.sources_changed}
        store.clear_lemma_cache()   # cached lemmas and word forms hold the original names
        store.clear_figures()       # and cached report figures may show them
        store.clear_embeddings()    # sentence vectors were computed from the original texts
        if mapping_out:  # before the commit: no pseudonymisation without its key
            written.append(write_mapping(report, mapping_out))
            report.mapping_file = str(written[-1])
    return report


def _relemmatise(store) -> None:
    """Lemmatise the pseudonymised texts once, for later commands."""
    from ..errors import QualcodeError
    from ..text.lemmas import refresh

    try:
        refresh(store)
    except QualcodeError:  # a language spaCy does not support: the command that needs lemmas says so
        pass


def speaker_relabels(store) -> list[tuple[str, str, str, str]]:
    """Speaker labels that may be names (projects ingested before names were mapped to keys):
    participants whose label is not a number such as P3 get the next free number of their group;
    moderators labelled other than Moderator/Interviewer/… become 'Moderator' (then 'Moderator 2', …).
    Returns (role, group, old label, new label)."""
    from ..ingest.parse import MODERATOR_WORDS

    out = []
    used: dict[str, set[int]] = {}
    people = store.participants()
    for p in people:
        m = re.fullmatch(r"P(\d+)", p["label"])
        if m:
            used.setdefault(p["group"], set()).add(int(m.group(1)))
    for p in people:
        if not re.fullmatch(r"P\d+", p["label"]):
            taken = used.setdefault(p["group"], set())
            n = max(taken, default=0) + 1
            taken.add(n)
            out.append(("participant", p["group"], p["label"], f"P{n}"))
    canonical = set(MODERATOR_WORDS.values())
    moderators: dict[str, list[str]] = {}
    for row in store.talk_stats():
        if row["role"] == "moderator":
            moderators.setdefault(row["group"], []).append(row["speaker"])
    for g, labels in moderators.items():
        ok = {lab for lab in labels if lab in canonical or re.fullmatch(r"(?:Moderator|Interviewer) \d{1,2}", lab)}
        k = 1 + sum(lab == "Moderator" or lab.startswith("Moderator ") for lab in ok)
        for lab in labels:
            if lab not in ok:
                new = "Moderator" if k == 1 else f"Moderator {k}"
                k += 1
                out.append(("moderator", g, lab, new))
    return out


def write_mapping(report: PseudonymiseReport, path: str | Path) -> Path:
    """The key from placeholders back to the originals, as CSV (store it apart from the project!).
    Written completely (temporary file beside it, flushed to disk, renamed) or not at all."""
    from ..files.atomic import atomic_output
    from ..files.csvout import write_csv

    path = Path(path)
    try:
        with atomic_output(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as fh:
            write_csv(fh, ["placeholder", "category", "original"], report.mapping())
    except OutputError as exc:
        raise OutputError(f"{exc} Nothing was pseudonymised.") from None
    return path


def mark_identifying(store, name: str, identifying: bool = True) -> dict:
    """Mark (or unmark) a participant attribute as identifying: never exported or reported. Returns
    ``{"attribute": name, "identifying": identifying}``."""
    with store.act("attribute identifying", summary=f"{name}: {'identifying' if identifying else 'not identifying'}",
                   details={"attribute": name, "identifying": identifying}):
        store.set_attribute_identifying(name, identifying)
    return {"attribute": name, "identifying": identifying}
