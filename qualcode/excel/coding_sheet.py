"""The Excel coding round trip: a coding workbook out, the student's codes back in.

Export (:func:`export_sheet`) writes the sheet ``Coding`` with one row per segment in
transcript order: key ("F1 P2"), speaker, time, text, a ``fragment`` column, the coder's
current codes in ``code 1..N`` columns (drop-down lists of code ids), a ``memo`` column, after
``autocode`` a ``why`` column (which rules of which codes matched, with scores; import ignores it), on request
a ``main theme (suggested)`` column (the codebook-only ranking's first theme, its score and why; ignored too), and a
hidden ``qualcode id`` column holding ``SEGMENT_ID:CHECKSUM``. An empty ``fragment`` means the
codes are on the whole segment; words in it (pasted, or trimmed from the text) put the row's
codes on just those words. Each fragment the coder coded gets its own row beneath its segment's
row, with the same id; a student codes another fragment by duplicating a row (Excel's copy row). Rows are coloured by the theme
of their first code. A ``Codebook`` sheet lists codes with colours and include/exclude
criteria; a hidden ``_qualcode`` sheet records the coder and which segments were exported.

Import (:func:`import_sheet`) finds columns by their header, never by position, and rows
by their id, never by order, so sorting, filtering, hiding or adding columns and
recolouring do not matter. Problems (unknown codes, edited text, deleted or
foreign rows, fragments not in the row's text or in it twice) are collected with sheet,
row and cell; unless ``accept_partial`` nothing is written. The rows of one segment together
say what the coder's codings on it are: (fragment, code) pairs on their rows are kept or added,
others removed. A sheet without a ``fragment`` column (exported before fragments) manages
whole-segment codings only and leaves fragments alone. The import is one audited act.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from ..store.core import exported
from ..files.textsafe import xml_text

SHEET = "Coding"
CODEBOOK_SHEET = "Codebook"
META_SHEET = "_qualcode"
ID_HEADER = "qualcode id"
MEMO_HEADER = "memo"
TEXT_HEADER = "text"
FRAGMENT_HEADER = "fragment"
WHY_HEADER = "why"   # the rules behind the rule codings of the segment (read-only: import ignores it)
MAIN_THEME_HEADER = "main theme (suggested)"   # with main_theme: the codebook-only ranking's first theme (ignored)
FORMAT = "qualcode coding sheet 1"
_CODE_HEADER = re.compile(r"^code\s*\d*$", re.IGNORECASE)
CELL_LIMIT = 32767       # Excel's limit on the text of one cell (in UTF-16 units)
META_IDS_PER_ROW = 10000  # segment ids per row of the hidden sheet (Excel has 16,384 columns)
_SPLIT = re.compile(r"[,;\n]+")


class SheetImportError(InputError):
    """The coding sheet has problems; nothing was imported."""

    def __init__(self, message: str, problems: list["Problem"], path: str):
        super().__init__(message, path=path)
        self.problems = problems


@dataclass
class Problem:
    row: int | None
    cell: str | None
    what: str
    sheet: str = SHEET

    def __str__(self) -> str:
        where = f"sheet {self.sheet}"
        if self.row is not None:
            where += f", row {self.row}"
        if self.cell:
            where += f", cell {self.cell}"
        return f"{where}: {self.what}"


def checksum(guid: str, text: str) -> str:
    """A short fingerprint of a segment (its guid and text) for the hidden id column."""
    return hashlib.sha256(f"{guid}\n{text}".encode("utf-8")).hexdigest()[:10]


def _norm(text) -> str:
    """Text compared between sheet and project: white space collapsed, and characters XML cannot hold
    replaced as the export replaced them (qualcode.files.textsafe), so an unedited cell matches."""
    return " ".join(xml_text(str(text or "")).split())


def split_cell_text(text: str, limit: int = CELL_LIMIT) -> list[str]:
    """``text`` in pieces that each fit one Excel cell (``limit`` UTF-16 units; a character
    outside the Basic Multilingual Plane counts two and is never cut in half). Joined, the
    pieces are ``text`` again; one piece for short text (``['']`` for no text)."""
    if len(text) * 2 <= limit:
        return [text]
    pieces, start, units = [], 0, 0
    for i, ch in enumerate(text):
        w = 2 if ord(ch) > 0xFFFF else 1
        if units + w > limit:
            pieces.append(text[start:i])
            start, units = i, 0
        units += w
    pieces.append(text[start:])
    return pieces


def _more_columns(header: list[str], name: str) -> list[int]:
    """Indexes of the continuation columns 'NAME (2)', 'NAME (3)', ... of a long text, in order."""
    found = {int(m.group(1)): i for i, h in enumerate(header) if (m := re.fullmatch(rf"{name} \((\d+)\)", h))}
    return [found[k] for k in sorted(found)]


# ------------------------------------------------------------------ export
@dataclass(frozen=True)
class SheetExport:
    """A coding sheet :func:`export_sheet` wrote: its rows (segments), how many of them the coder
    had coded, the extra rows for coded fragments, and the codes in its drop-down lists."""

    path: str
    coder: str
    segments: int
    coded: int
    fragment_rows: int
    codes: int


@exported
def export_sheet(store, path: str, coder: str, group: str | None = None, *, main_theme: bool = False,
                 semantic: bool = False) -> SheetExport:
    """Write the coding workbook for ``coder`` (optionally one focus group); returns what it holds. With
    ``main_theme``, a column gives each participant segment's suggested main theme, its score and why
    (:func:`qualcode.coding.themerank.rank_segments`, with sentence vectors when ``semantic``)."""
    from ..codebook.yamlfile import codebook_from_store, codebook_rows, write_codebook_sheet
    from ..errors import unknown
    from ..ingest.project import format_timestamp
    from .xlsx import row_height
    from .xlsx import Styles, column_letter, hex_fill, light, style, write_only_workbook

    if group and group not in store.groups():
        raise unknown("group", group, store.groups())
    segs = list(store.segments(group=group))
    if not segs:
        raise InputError("the project has no segments to code yet; run 'qualcode ingest' first.")
    codes = store.codes()
    colour = {c["key"]: c["display_colour"] for c in codes}
    spans = store.coder_spans(coder)
    current = {sid: by.get(None, []) for sid, by in spans.items()}
    memos = store.segment_memo_texts(coder)
    guids = store.segment_guids()
    n_code_cols = max(3, max((len(v) for by in spans.values() for v in by.values()), default=0) + 2)
    # a turn or memo longer than a cell holds goes on in 'text (2)', 'text (3)'... (read back joined)
    texts = {s["id"]: split_cell_text(s["text"]) for s in segs}
    memo_texts = {sid: split_cell_text("\n\n".join(m)) for sid, m in memos.items()}
    n_text = max(len(v) for v in texts.values())
    n_memo = max([len(v) for v in memo_texts.values()] + [1])
    why = rule_reasons(store)
    themes = main_themes(store, group, semantic) if main_theme else None
    header = ["key", "speaker", "time", TEXT_HEADER] + [f"{TEXT_HEADER} ({k})" for k in range(2, n_text + 1)] + [
        FRAGMENT_HEADER] + [f"code {i}" for i in range(1, n_code_cols + 1)] + [MEMO_HEADER] + [
        f"{MEMO_HEADER} ({k})" for k in range(2, n_memo + 1)] + ([WHY_HEADER] if why else []) + (
        [MAIN_THEME_HEADER] if themes is not None else []) + [ID_HEADER]
    frag_col = 3 + n_text    # 0-based index of 'fragment'
    first_code = frag_col + 1  # 0-based index of 'code 1'
    st = Styles()
    n_rows = 0
    with write_only_workbook(path) as wb:
        # the text column is as wide as fits beside key, speaker and time on a landscape A4 page
        widths = [13, 11, 9, 62] + [62] * (n_text - 1) + [40] + [22] * n_code_cols + [40] * n_memo + (
            [60] if why else []) + ([50] if themes is not None else []) + [16]
        ws = wb.add_sheet(SHEET, widths=widths, freeze=f"{column_letter(first_code + 1)}2")
        id_col = column_letter(len(header))
        ws.set_width(len(header), widths[-1], hidden=True)
        wrapped = set(range(3, first_code)) | set(range(first_code + n_code_cols, len(header) - 1))
        wrap_widths = {i: widths[i] for i in wrapped}
        ws.append(header, [style(font=st.header_font, fill=st.header_fill)] * len(header))
        row_styles: dict = {}   # the row's fill -> a style per column
        for s in segs:
            by_span = spans.get(s["id"], {})
            seg_id = f"{s['id']}:{checksum(guids[s['id']], s['text'])}"
            # the segment's own row (whole-segment codes), then one row per coded fragment beneath it
            for span in [None] + sorted(k for k in by_span if k is not None):
                mine = by_span.get(span, [])
                fill = hex_fill(light(colour[mine[0]])) if mine and colour.get(mine[0]) else None
                fragment, row_id = "", seg_id
                if span is not None:  # the segment's text is its source's text from its start
                    rel = (span[0] - s["start"], span[1] - s["start"])
                    fragment = s["text"][rel[0]:rel[1]]
                    row_id = f"{seg_id}@{rel[0]}-{rel[1]}"  # where the fragment is, should its words occur twice
                values = [s["key"], s["speaker"], format_timestamp(s["timestamp"])] + _padded(texts[s["id"]], n_text)
                values += [fragment] + mine + [""] * (n_code_cols - len(mine))
                values += _padded(memo_texts.get(s["id"], [""]) if span is None else [""], n_memo)
                if why:
                    values.append(why.get(s["id"], "") if span is None else "")
                if themes is not None:
                    values.append(themes.get(s["id"], "") if span is None else "")
                values.append(row_id)
                if fill not in row_styles:
                    row_styles[fill] = [style(fill=fill if i < first_code else None,
                                              alignment=st.wrap if i in wrapped else st.top)
                                        for i in range(len(header))]
                # LibreOffice shows a wrapped turn whole only with a row height (Excel too, on print)
                ws.append(values, row_styles[fill], height=row_height(values, wrap_widths))
                n_rows += 1
        last = n_rows + 1
        ws.autofilter(f"A1:{id_col}{last}")
        cb = codebook_from_store(store)
        n_codes = len(cb.codes)
        if n_codes:
            first, end = column_letter(first_code + 1), column_letter(first_code + n_code_cols)
            # the drop-down lists the codes' names (the Codebook sheet's 'code name' column); a cell may hold
            # a code's id or its name, and the import reads both
            ws.list_validation(f"{first}2:{end}{last}", source=f"Codebook!$F$2:$F${len(codebook_rows(cb)) + 1}",
                               prompt="Pick a code from the list (or type its id; see the Codebook sheet).",
                               prompt_title="code")
        # printed: landscape, the header row on every page and the key column beside every page's columns
        ws.print_setup(landscape=True, repeat_rows=1, repeat_cols=1)
        write_codebook_sheet(wb, cb)
        meta = wb.add_sheet(META_SHEET, hidden=True)
        for k, v in (("format", FORMAT), ("coder", coder), ("group", group or ""), ("project", store.path.name),
                     ("code columns", ", ".join(f"code {i}" for i in range(1, n_code_cols + 1)))):
            meta.append([k, v])
        ids = [s["id"] for s in segs]
        for k in range(0, len(ids), META_IDS_PER_ROW):  # one row of 18,000 ids would pass Excel's last column
            meta.append(["segments"] + ids[k:k + META_IDS_PER_ROW])
    n_coded = sum(1 for s in segs if any(spans.get(s["id"], {}).values()))
    n_frag = sum(1 for s in segs for k in spans.get(s["id"], {}) if k is not None)
    return SheetExport(str(path), coder, len(segs), n_coded, n_frag, n_codes)


def main_themes(store, group: str | None, semantic: bool) -> dict[int, str]:
    """segment id -> 'theme (score, basis): why' of each participant segment's suggested main theme."""
    from ..coding.themerank import rank_segments

    out = {}
    for s in rank_segments(store, group=group, semantic=semantic).segments:
        m = s.main
        out[s.segment_id] = (f"{m.key} ({m.score:.2f}, {s.basis}): {m.why}" if s.evidence
                             else "- (nothing in common with the codebook)")[:CELL_LIMIT // 2]
    return out


def rule_reasons(store) -> dict[int, str]:
    """segment id -> why the rules coded it: one line per code the rules coded there (or suggested and were
    confirmed), ``code (score): the rules that matched``, most confident first. Empty without autocode."""
    out: dict[int, list[str]] = {}
    for r in store.suggestions(source="rules"):
        if r["status"] == "rejected" or not r["drivers"]:
            continue
        mark = ", confirmed" if r["status"] == "accepted" else ""
        out.setdefault(r["segment_id"], []).append(f"{r['code']} ({r['confidence']:.2f}{mark}): {r['drivers']}")
    return {sid: "\n".join(lines)[:CELL_LIMIT // 2] for sid, lines in out.items()}


def _padded(pieces: list[str], n: int) -> list[str]:
    return pieces + [""] * (n - len(pieces))


# ------------------------------------------------------------------ import
@dataclass
class ImportResult:
    path: str
    coder: str
    rows: int = 0
    added: dict[str, int] = field(default_factory=dict)
    removed: dict[str, int] = field(default_factory=dict)
    memos: int = 0
    problems: list[Problem] = field(default_factory=list)
    skipped_rows: int = 0
    new_codes: list[str] = field(default_factory=list)   # codes created by --new-codes
    notes: list[str] = field(default_factory=list)       # what was read but not done

    @property
    def n_added(self) -> int:
        return sum(self.added.values())

    @property
    def n_removed(self) -> int:
        return sum(self.removed.values())

    def lines(self) -> list[str]:
        out = [f"{self.path}: {self.rows} rows read for coder {self.coder}: {self.n_added} codings added, "
               f"{self.n_removed} removed, {self.memos} memos added"]
        if self.new_codes:
            out.append(f"new codes: {', '.join(self.new_codes)} (see them with 'qualcode codebook show')")
        for code in sorted(set(self.added) | set(self.removed)):
            out.append(f"  {code}: +{self.added.get(code, 0)} -{self.removed.get(code, 0)}")
        if self.problems:
            out.append(f"{len(self.problems)} problems; {self.skipped_rows} rows left unchanged (--accept-partial):")
            out.extend(f"  {p}" for p in self.problems)
        out += self.notes
        if not (self.n_added or self.n_removed or self.memos or self.new_codes):
            out.append("nothing changed.")
        return out


def _joined(row: list, columns: list[int]) -> str:
    """The text of a cell and its continuation cells, joined back."""
    return "".join(str(row[i]) for i in columns if row[i] is not None)


@dataclass
class _Sheet:
    rows: list[list]
    meta: dict[str, list]
    formulas: set[tuple[int, int]]          # (row, column index from 0) of cells holding a formula
    merged: list[tuple[int, int, int, int, str]]  # min_row, max_row, min_col, max_col (from 1), "E2:E4"
    codebook: list[dict] = field(default_factory=list)  # rows of the Codebook sheet: header -> value, 'row'


def _read(path: str) -> _Sheet:
    """The Coding sheet's values, which cells hold formulas and which are merged, and the hidden meta sheet.

    Formulas are read as formulas (not cached values) so that none passes as an empty cell."""
    from .xlsx import read_xlsx

    book = read_xlsx(path, "coding workbook", formulas=True, merged=True)
    if SHEET not in book:
        raise InputError(f"no sheet named '{SHEET}'; export a coding sheet with 'qualcode sheet export' and "
                         "code in that one.", path=path)
    for title in book.sheetnames:
        rows = book[title].rows
        if title != SHEET and rows and any(_norm(v).lower() == ID_HEADER for v in rows[0]):
            raise InputError(f"sheet '{title}' is a copy of the {SHEET} sheet, and only '{SHEET}' is "
                             f"read; move your codes into '{SHEET}' and delete the copy.", path=path)
    coding = book[SHEET]
    codebook: list[dict] = []
    if CODEBOOK_SHEET in book:
        cb_rows = [list(r) for r in book[CODEBOOK_SHEET].rows]
        if cb_rows:
            head = [_norm(h).lower() for h in cb_rows[0]]
            for r_i, r in enumerate(cb_rows[1:], start=2):
                if any(v is not None and str(v).strip() for v in r):
                    codebook.append({"row": r_i, **{h: _norm(v) for h, v in zip(head, r) if h and v is not None}})
    meta: dict[str, list] = {}
    if META_SHEET in book:
        for r in book[META_SHEET].rows:
            if r and r[0] is not None:  # a long list ('segments') goes on over several rows with the same key
                meta.setdefault(str(r[0]), []).extend(v for v in r[1:] if v is not None)
    return _Sheet(coding.rows, meta, coding.formulas, coding.merged, codebook)


def _codebook_tab_codes(store, sheet: "_Sheet") -> tuple[list, list[Problem]]:
    """The codes on the sheet's Codebook tab that the project does not have (rows the student added), as
    NewCode, with problems for rows that cannot become a code (no id and no name, a bad name)."""
    from ..codebook.ids import KEY_RE, slug
    from ..codebook.newcodes import NewCode, check_name, new_theme

    known = {c["key"] for c in store.codes()}
    themes = {t["key"]: t["name"] for t in store.themes()}
    theme_of_name = {_norm(n).lower(): k for k, n in themes.items()}
    out, problems, taken = [], [], set(known)
    for r in sheet.codebook:
        key, name = r.get("code", ""), r.get("code name", "")
        if not key and not name:
            continue
        if key in known:
            continue
        try:
            name = check_name(name or key)
        except InputError as exc:
            problems.append(Problem(r["row"], None, exc.raw_message, sheet=CODEBOOK_SHEET))
            continue
        key = key if key and KEY_RE.match(key) and key not in taken else slug(name)
        base, n = key, 2
        while key in taken:
            key, n = f"{base}_{n}", n + 1
        taken.add(key)
        theme_key, theme_name = r.get("theme", ""), r.get("theme name", "")
        if not theme_key and theme_name:
            theme_key = theme_of_name.get(theme_name.lower(), slug(theme_name, "theme"))
        if not theme_key:
            theme_key, theme_name = new_theme(store.language)
        elif not KEY_RE.match(theme_key):
            theme_key = theme_of_name.get(theme_key.lower(), slug(theme_key, "theme"))
        out.append(NewCode(key=key, name=name, theme=theme_key, theme_name=theme_name or themes.get(theme_key, ""),
                           description=r.get("description", ""), include=r.get("include", ""),
                           exclude=r.get("exclude", ""), example=r.get("example", "")))
    return out, problems


def import_sheet(store, path: str, coder: str | None = None, accept_partial: bool = False,
                 new_codes: bool = False) -> ImportResult:
    """Read a coding workbook back into the project for ``coder`` (default: the coder it was exported for).

    A code cell may hold code ids or code names. With ``new_codes``, a code typed that the project does not
    have is created (under the theme 'nieuw'/'new'), and so are the codes added as rows on the Codebook tab
    (under the theme named there); without it, both are problems."""
    from ..codebook.newcodes import did_you_mean, find_code, plan_new_codes
    from ..store import default_actor
    from .xlsx import column_letter

    sheet = _read(path)
    rows, meta = sheet.rows, sheet.meta
    sheet_coder = str(meta.get("coder", [""])[0]) if meta.get("coder") else ""
    coder = coder or sheet_coder or default_actor()
    if sheet_coder and coder != sheet_coder:
        raise InputError(f"this sheet holds the codes of coder '{sheet_coder}', not '{coder}'; import it with "
                         f"--coder {sheet_coder}, or export a sheet for '{coder}'.", path=path)
    if not rows:
        raise InputError(f"sheet {SHEET} is empty.", path=path)
    header = [_norm(h).lower() for h in rows[0]]
    if ID_HEADER not in header:
        raise InputError(f"sheet {SHEET} has no '{ID_HEADER}' column (it may be hidden, but must not be deleted "
                         "or renamed); export the sheet again.", path=path)
    id_i = header.index(ID_HEADER)
    text_i = header.index(TEXT_HEADER) if TEXT_HEADER in header else None
    frag_i = header.index(FRAGMENT_HEADER) if FRAGMENT_HEADER in header else None
    memo_i = header.index(MEMO_HEADER) if MEMO_HEADER in header else None
    text_is = ([text_i] if text_i is not None else []) + _more_columns(header, TEXT_HEADER)
    memo_is = ([memo_i] if memo_i is not None else []) + _more_columns(header, MEMO_HEADER)
    code_is = [i for i, h in enumerate(header) if _CODE_HEADER.match(h)]
    col = lambda i: column_letter(i + 1)  # noqa: E731

    gone = [h for h in str((meta.get("code columns") or [""])[0]).split(", ") if h and h not in header]
    if gone:
        raise InputError(f"sheet {SHEET} lacks the column(s) {', '.join(gone)} it was exported with; their codes "
                         "would be lost. Put the column(s) back (hide them if you like) and import again.", path=path)
    code_rows = store.codes()
    known = {c["key"]: c["id"] for c in code_rows}
    tab_new, problems = _codebook_tab_codes(store, sheet)
    if not new_codes:
        problems = []  # the tab is only read for new codes
    notes = [] if new_codes or not tab_new else [
        f"the Codebook sheet lists {len(tab_new)} code(s) the project does not have ("
        + ", ".join(f"{c.name}" for c in tab_new[:5]) + (", …" if len(tab_new) > 5 else "")
        + "): added there, or removed from the project since the export; import with --new-codes to create them."]
    reachable = code_rows + ([{"key": c.key, "name": c.name} for c in tab_new] if new_codes else [])
    typed_new: dict[str, str] = {}   # name as typed -> the cell it was first typed in
    guids = store.segment_guids()
    bad_rows: set[int] = set()
    seen: dict[int, int] = {}
    rows_of: dict[int, list[int]] = {}
    wanted: dict[int, dict[tuple[int, int] | None, list[str]]] = {}
    memo_cells: dict[int, list[str]] = {}
    n_rows = 0
    for r_i, row in enumerate(rows[1:], start=2):
        row = row + [None] * (len(header) - len(row))
        if all(v is None or str(v).strip() == "" for v in row):
            continue
        n_rows += 1
        if (r_i, id_i) in sheet.formulas:
            problems.append(Problem(r_i, f"{col(id_i)}{r_i}", "the id cell holds a formula; do not edit that column."))
            continue
        raw_id = _norm(row[id_i])
        m = re.fullmatch(r"(\d+):([0-9a-f]{10})(?:@(\d+)-(\d+))?", raw_id)
        where_id = f"{col(id_i)}{r_i}"
        if not raw_id:
            problems.append(Problem(r_i, where_id, "row has no qualcode id (a row added by hand?); add codes to the "
                                                   "exported rows only."))
            continue
        if not m:
            problems.append(Problem(r_i, where_id, f"'{raw_id}' is not a qualcode id; do not edit that column."))
            continue
        sid, check = int(m.group(1)), m.group(2)
        was = (int(m.group(3)), int(m.group(4))) if m.group(3) else None
        rows_of.setdefault(sid, []).append(r_i)
        if sid in seen:  # a duplicated row: another fragment of the same segment, or the same one again
            if sid in bad_rows or sid not in wanted:
                continue
        else:
            seen[sid] = r_i
        if sid not in wanted and sid not in guids:
            problems.append(Problem(r_i, where_id, f"segment #{sid} no longer exists in the project (transcript "
                                                   "replaced or removed?); export a new sheet."))
            continue
        seg = store.segment(sid)
        if sid not in wanted and check != checksum(guids[sid], seg["text"]):
            problems.append(Problem(r_i, where_id, f"the id of segment #{sid} does not match the project (the id "
                                                   "was edited, or the transcript changed since the export)."))
            bad_rows.add(sid)
            continue
        if text_i is not None and _norm(_joined(row, text_is)) != _norm(seg["text"]):
            problems.append(Problem(r_i, f"{col(text_i)}{r_i}", f"the text of segment #{sid} was edited; "
                                    "only code and memo cells are read, so undo the edit (the transcript is kept)."))
            bad_rows.add(sid)
            continue
        flagged = [f"{col(i)}{r_i}" for i in code_is if (r_i, i) in sheet.formulas]
        if flagged:
            problems.append(Problem(r_i, flagged[0], "a formula in a code cell cannot be read reliably; type the "
                                                     "code id itself."))
            bad_rows.add(sid)
            continue
        codes: list[str] = []
        row_ok = True
        for i in code_is:
            cell_text = str(row[i] if row[i] is not None else "")
            whole = find_code(cell_text, reachable)  # a code's name may hold a comma
            for word in [whole] if whole else _SPLIT.split(cell_text):
                word = word.strip()
                if not word:
                    continue
                key = find_code(word, reachable)  # the id or the name, any capitals: 'Pros' is 'pros'
                if key is None and new_codes:
                    typed_new.setdefault(word, f"sheet {SHEET}, row {r_i}, cell {col(i)}{r_i}")
                    key = "\x00new:" + word
                if key is None:
                    hint = did_you_mean(word, reachable)
                    problems.append(Problem(r_i, f"{col(i)}{r_i}",
                                            f"unknown code '{word}'.{hint} To create it, import with --new-codes."))
                    row_ok = False
                elif key not in codes:
                    codes.append(key)
        span = None
        if frag_i is not None and row_ok:
            span, problem = _fragment_span(seg, row[frag_i], was, (r_i, frag_i) in sheet.formulas)
            if problem:
                problems.append(Problem(r_i, f"{col(frag_i)}{r_i}", problem))
                row_ok = False
        if not row_ok:
            bad_rows.add(sid)
            continue
        on_span = wanted.setdefault(sid, {}).setdefault(span, [])
        on_span += [c for c in codes if c not in on_span]
        if memo_i is not None:
            memo = _joined(row, memo_is).strip()
            have = memo_cells.setdefault(sid, [])
            if memo and memo not in have:
                have.append(memo)
    read_cols = {i + 1 for i in [id_i, *code_is, *text_is]}
    for min_r, max_r, min_c, max_c, coord in sheet.merged:
        if max_r > 1 and any(min_c <= c <= max_c for c in read_cols):
            problems.append(Problem(max(min_r, 2), coord.split(":")[0],
                                    f"cells {coord} are merged; unmerge them and give every row its own code cells."))
            bad_rows.update(s for s, rs in rows_of.items() if any(min_r <= r <= max_r for r in rs))
    for sid in bad_rows:
        wanted.pop(sid, None)
        memo_cells.pop(sid, None)
    for sid in (int(x) for x in meta.get("segments", [])):
        if sid not in seen and sid in guids:
            seg = store.segment(sid)
            problems.append(Problem(None, None, f"the row of segment #{sid} ({seg['key']}) is missing (deleted?); "
                                                "its codings are left as they were."))
    new = list(tab_new) if new_codes else []
    if typed_new:
        by_name = {}
        try:
            planned = plan_new_codes(store, [w for w in typed_new if find_code(w, reachable) is None],
                                     where=typed_new)
        except InputError as exc:
            raise InputError(f"{exc.raw_message} Nothing was imported.", path=path) from None
        taken = {c.key for c in new}
        for c in planned:
            base, n = c.key, 2
            while c.key in taken:
                c.key, n = f"{base}_{n}", n + 1
            taken.add(c.key)
            by_name[" ".join(c.name.split()).casefold()] = c.key
        new += planned
        for by_span in wanted.values():
            for span, codes in by_span.items():
                by_span[span] = list(dict.fromkeys(
                    by_name.get(" ".join(c[len("\x00new:"):].split()).casefold(), c) if c.startswith("\x00new:")
                    else c for c in codes))
    result = ImportResult(path=path, coder=coder, rows=n_rows, problems=problems, notes=notes,
                          skipped_rows=len(bad_rows) + sum(1 for p in problems if p.row is None))
    if problems and not accept_partial:
        listing = "\n".join(f"  {p}" for p in problems)
        raise SheetImportError(f"{len(problems)} problem{'s' if len(problems) != 1 else ''}; nothing was imported "
                               f"(fix them, or use --accept-partial to import the other rows):\n{listing}",
                               problems, path)
    _apply(store, result, wanted, {sid: "\n\n".join(m) for sid, m in memo_cells.items()}, known, coder,
           fragments=frag_i is not None, new=new)
    return result


def _fragment_span(seg: dict, value, was: tuple[int, int] | None,
                   formula: bool) -> tuple[tuple[int, int] | None, str]:
    """The span (into the source's text) a row's fragment cell stands for, None for the whole
    segment, and a problem ('' when none). ``was``: where the exported fragment was in the segment,
    from the hidden id, used when the cell still holds exactly those words."""
    from ..coding.fragments import FragmentNotFound, find_fragment

    if formula:
        return None, "a formula in the fragment cell cannot be read reliably; paste the words themselves."
    text = seg["text"]
    words = "" if value is None else str(value)
    if was is not None and 0 <= was[0] < was[1] <= len(text) and words.strip() == text[was[0]:was[1]].strip() \
            and text[was[0]:was[1]].strip():
        rel = was
    else:
        try:
            rel = find_fragment(text, words)
        except FragmentNotFound as exc:
            return None, exc.raw_message
    if rel is None or rel == (0, len(text)):
        return None, ""
    return (seg["start"] + rel[0], seg["start"] + rel[1]), ""


def _apply(store, result: ImportResult, wanted: dict[int, dict[tuple[int, int] | None, list[str]]],
           memo_cells: dict[int, str], known: dict[str, int], coder: str, *, fragments: bool = True,
           new: list | None = None) -> None:
    """Make the coder's codings on each segment in ``wanted`` exactly its (span, code) pairs. Without
    a fragment column (``fragments`` False) only whole-segment codings are compared."""
    current = store.coder_spans(coder)
    memos = store.segment_memo_texts(coder)
    key_of = {v: k for k, v in known.items()}
    with store.act("sheet import", actor=coder, details={"file": Path(result.path).name}) as act:
        if new:  # codes typed in the sheet or added on its Codebook tab, created in the same act
            from ..codebook.newcodes import create_codes

            result.new_codes = create_codes(store, new)
            known = {**known, **{c["key"]: c["id"] for c in store.codes() if c["key"] in result.new_codes}}
            key_of = {v: k for k, v in known.items()}
            act.details["new_codes"] = result.new_codes
        add, add_frag, remove = [], [], []
        for sid, by_span in wanted.items():
            want = {(span, c) for span, codes in by_span.items() for c in codes}
            have = {(span, c) for span, codes in current.get(sid, {}).items() for c in codes
                    if c in known and (fragments or span is None)}
            for span, c in sorted(want - have, key=_pair_order):
                (add if span is None else add_frag).append((sid, known[c], span))
            remove += [(sid, known[c], span) for span, c in sorted(have - want, key=_pair_order)]
        store.add_codings([(sid, cid) for sid, cid, _ in add], coder, "manual")
        for sid, cid, span in add_frag:
            store.add_coding(sid, cid, coder, "manual", span=span)
        store.remove_codings(remove, coder, by="span")
        for _, cid, _ in add + add_frag:
            result.added[key_of[cid]] = result.added.get(key_of[cid], 0) + 1
        for _, cid, _ in remove:
            result.removed[key_of[cid]] = result.removed.get(key_of[cid], 0) + 1
        for sid, text in memo_cells.items():
            old = [xml_text(m) for m in memos.get(sid, [])]   # as the export wrote them
            joined = "\n\n".join(old)
            if not text or _norm(text) == _norm(joined) or text in old:
                continue
            new = text[len(joined):].strip() if joined and text.startswith(joined) else text
            if new:
                store.add_memo("segment", sid, new, coder)
                result.memos += 1
        act.summary = f"{result.n_added} codings added, {result.n_removed} removed, {result.memos} memos"
        act.details.update(added=result.added, removed=result.removed, problems=len(result.problems))


def _pair_order(pair: tuple) -> tuple:
    span, code = pair
    return (-1, -1, code) if span is None else (span[0], span[1], code)
