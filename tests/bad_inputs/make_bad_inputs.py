"""Write the hostile and broken input corpus used by tests/test_bad_inputs.py.

    python tests/bad_inputs/make_bad_inputs.py OUTDIR

writes one file per case plus ``cases.json``: a list of {"file", "command", "why"} where
``command`` is the qualcode argument list to run ({file} stands for the file's path and
{good} for a valid transcript written next to it). Every case must end with exactly one
``Error: …`` line and exit code 1, and change nothing in the project.

The files are generated (not checked in) because some are large on purpose: a 10 MB single
line, zip bombs with a high expansion ratio. The generator itself stays small in memory.
"""

from __future__ import annotations

import codecs
import io
import json
import sys
import zipfile
from pathlib import Path

GOOD = "# group: F1\nModerator: Welkom allemaal.\nP1: Ik werk in een ziekenhuis.\nP2: En ik in de thuiszorg.\n"
W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
DOC_XML = f'<?xml version="1.0"?><w:document {W}><w:body>{{body}}</w:body></w:document>'
CONTENT_TYPES = ('<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                 '<Default Extension="xml" ContentType="application/xml"/></Types>')
LAUGHS = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lololololololololol">'
          + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
          + ']>')
XXE = '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'


def para(text: str) -> str:
    return f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p>"


def docx_bytes(document: str | bytes | None, extra: dict | None = None, compress=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compress) as zf:
        zf.writestr("[Content_Types].xml", CONTENT_TYPES)
        if document is not None:
            zf.writestr("word/document.xml", document)
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return buf.getvalue()


def good_docx_body() -> str:
    return "".join(para(x) for x in GOOD.splitlines())


def xlsx_bytes(sheet_xml: str | bytes | None = None, extra: dict | None = None) -> bytes:
    """A minimal workbook; ``sheet_xml`` replaces the first sheet's XML."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["group", "speaker", "text"])
    ws.append(["F1", "P1", "Ik werk in een ziekenhuis."])
    raw = io.BytesIO()
    wb.save(raw)
    src = zipfile.ZipFile(io.BytesIO(raw.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for info in src.infolist():
            data = src.read(info.filename)
            if sheet_xml is not None and info.filename == "xl/worksheets/sheet1.xml":
                data = sheet_xml
            zf.writestr(info.filename, data)
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return out.getvalue()


def table_xlsx(rows: list[list]) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    for r in rows:
        wb.active.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def sheet_xml_with(prefix: str, cell_value: str) -> str:
    return (f'{prefix}<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
            f'<row r="1"><c r="A1" t="inlineStr"><is><t>{cell_value}</t></is></c></row></sheetData></worksheet>')


def bomb_zip(name: str, size: int, others: dict | None = None) -> bytes:
    """One highly compressible entry of ``size`` bytes, written in chunks (bounded memory)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for n, d in (others or {}).items():
            zf.writestr(n, d)
        with zf.open(name, "w", force_zip64=True) as fh:
            chunk = b" " * (1 << 20)
            for _ in range(size // len(chunk)):
                fh.write(chunk)
    return buf.getvalue()


def inflate_member(archive: bytes | Path, member: str, size: int = 64 * 1024 * 1024) -> bytes:
    """A copy of a real archive (workbook, document) whose ``member`` XML is padded with ``size``
    bytes of white space after its root tag: still well-formed, but a zip bomb."""
    raw = Path(archive).read_bytes() if isinstance(archive, Path) else archive
    src = zipfile.ZipFile(io.BytesIO(raw))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename != member:
                zf.writestr(info.filename, data)
                continue
            cut = data.index(b">", data.index(b"<", data.index(b"?>") + 2 if b"?>" in data else 0)) + 1
            with zf.open(member, "w", force_zip64=True) as fh:
                fh.write(data[:cut])
                chunk = b" " * (1 << 20)
                for _ in range(size // len(chunk)):
                    fh.write(chunk)
                fh.write(data[cut:])
    return buf.getvalue()


def many_entries(n: int) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for i in range(n):
            zf.writestr(f"x/{i}", b"")
    return buf.getvalue()


def cases() -> list[tuple[str, bytes | None, list[str], str]]:
    """(file name, content, command, why)."""
    ingest = ["ingest", "{file}"]
    comments = ["sheet", "import-comments", "{file}", "--author", "promotor"]
    labelled = "P1: Ik werk in een ziekenhuis, allez.\n"
    big = 10 * 1024 * 1024
    good_doc = docx_bytes(DOC_XML.format(body=good_docx_body()))
    out: list[tuple[str, bytes | None, list[str], str]] = [
        # --- encodings
        ("cp1252_undefined_bytes.txt", b"P1: caf\x81 \x8d \x90 \x9d\n" * 3, ingest, "bytes undefined in Windows-1252"),
        ("utf16_no_bom.txt", GOOD.encode("utf-16-le"), ingest, "UTF-16 without a byte-order mark"),
        ("utf16_be_no_bom.txt", GOOD.encode("utf-16-be"), ingest, "UTF-16 BE without a byte-order mark"),
        ("utf32_bom.txt", GOOD.encode("utf-32"), ingest, "UTF-32"),
        ("utf8_bom_invalid.txt", codecs.BOM_UTF8 + b"P1: ok \xff\xfe broken\n", ingest, "UTF-8 BOM, invalid bytes"),
        ("utf16_bom_odd_length.txt", codecs.BOM_UTF16_LE + "P1: hallo".encode("utf-16-le") + b"\x00\xd8",
         ingest, "UTF-16 with a lone surrogate at the end"),
        ("only_bom.txt", codecs.BOM_UTF8, ingest, "a byte-order mark and nothing else"),
        ("utf16_bom_only_spaces.txt", "   \n\t \n".encode("utf-16"), ingest, "UTF-16 white space"),
        # --- empty, white space, no labels
        ("empty.txt", b"", ingest, "empty file"),
        ("empty.md", b"", ingest, "empty markdown"),
        ("whitespace.txt", b"  \n\t\n   \r\n\n", ingest, "white space only"),
        ("newlines_only.md", b"\n" * 5000, ingest, "newlines only"),
        ("no_labels.txt", b"Dit is een transcript zonder sprekers.\nNog een regel.\n", ingest, "no speaker labels"),
        ("only_comments.txt", b"# group: F1\n# opname 1\n# einde\n", ingest, "only header and comment lines"),
        ("labels_mid_line.txt", b"Toen zei P1: ja. En P2: nee.\n", ingest, "labels not at line start"),
        # --- participants and groups
        ("unknown_participants.txt", b"# group: F1\nP1: ja.\nP99: wie ben ik?\nP42: ik ook niet.\n", ingest,
         "labels for participants not in the metadata"),
        ("unknown_group.txt", b"# group: F9\nP1: ja.\n", ingest, "a group that is not in the metadata"),
        ("several_groups.txt", b"F1 P1: ja.\nF2 P2: nee.\n", ingest, "labels of two groups in one file"),
        ("header_label_conflict.txt", b"# group: F1\nF2 P1: ja.\n", ingest, "header and labels disagree"),
        ("no_group.txt", labelled.encode(), ingest, "no group in header, labels or file name"),
        # --- binary and control characters
        ("png_as_text.txt", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, ingest, "a PNG with a .txt name"),
        ("random_bytes.md", bytes((i * 7919 + 13) % 256 for i in range(4096)), ingest, "random bytes"),
        ("elf_as_text.txt", b"\x7fELF\x02\x01\x01" + b"\x00" * 64, ingest, "an executable"),
        ("nul_in_middle.txt", b"P1: ja\x00nee\nP2: goed\n", ingest, "a NUL byte inside the text"),
        ("control_chars.txt", b"P1: " + bytes(range(1, 9)) * 200 + b"\n", ingest, "mostly control characters"),
        ("zip_as_text.txt", good_doc, ingest, "a Word file renamed to .txt"),
        # --- huge
        ("huge_single_line.txt", b"x" * big, ingest, "10 MB on one line without labels"),
        ("huge_single_line_unknown.txt", b"# group: F1\nP77: " + b"blabla " * (big // 7) + b"\n", ingest,
         "10 MB turn of an unknown speaker"),
        ("huge_single_line.csv", b"group,speaker,text\n" + b"a" * big, ingest, "10 MB single line in a CSV"),
        # --- subtitles
        ("no_header.vtt", b"00:00:01.000 --> 00:00:02.000\nP1: hallo\n", ingest, "WebVTT without WEBVTT"),
        ("no_speakers.vtt", b"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nhallo\n", ingest, "cues without speakers"),
        ("binary.srt", b"\x00\x01\x02" * 100, ingest, "binary data as .srt"),
        ("no_cues.srt", b"1\nhallo\n\n2\nwereld\n", ingest, "SRT without time lines"),
        # --- unsupported
        ("transcript.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", ingest, "a PDF"),
        ("transcript.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512, ingest, "an old .doc"),
        ("noextension", GOOD.encode(), ingest, "no file extension"),
        # --- docx
        ("text_renamed.docx", GOOD.encode(), ingest, "a text file renamed to .docx"),
        ("no_document_xml.docx", docx_bytes(None, {"word/other.xml": "<a/>"}), ingest, "no word/document.xml"),
        ("billion_laughs.docx", docx_bytes(LAUGHS + DOC_XML.replace("<?xml version=\"1.0\"?>", "").format(
            body=para("&lol9;"))), ingest, "XML entity expansion (billion laughs)"),
        ("xxe.docx", docx_bytes(XXE + DOC_XML.replace("<?xml version=\"1.0\"?>", "").format(body=para("&xxe;"))),
         ingest, "external entity (XXE)"),
        ("bomb.docx", bomb_zip("word/document.xml", 64 * 1024 * 1024, {"[Content_Types].xml": CONTENT_TYPES}),
         ingest, "zip bomb: 64 MiB of spaces"),
        ("zip_slip.docx", docx_bytes(DOC_XML.format(body=good_docx_body()), {"../../evil.txt": "boo"}), ingest,
         "zip entry with ../ path"),
        ("zip_absolute.docx", docx_bytes(DOC_XML.format(body=good_docx_body()), {"/etc/evil": "boo"}), ingest,
         "zip entry with an absolute path"),
        ("zip_drive.docx", docx_bytes(DOC_XML.format(body=good_docx_body()), {"C:/evil": "boo"}), ingest,
         "zip entry with a drive letter"),
        ("zip_backslash.docx", docx_bytes(DOC_XML.format(body=good_docx_body()), {"..\\..\\evil.txt": "boo"}),
         ingest, "zip entry with ..\\ path"),
        ("truncated.docx", good_doc[: len(good_doc) // 2], ingest, "a Word file cut in half"),
        ("malformed_xml.docx", docx_bytes("<w:document><w:body><w:p>"), ingest, "malformed XML"),
        ("empty_document.docx", docx_bytes(DOC_XML.format(body="")), ingest, "a Word file without text"),
        ("too_many_entries.docx", many_entries(20_001), ingest, "more than 20,000 zip entries"),
        ("no_labels.docx", docx_bytes(DOC_XML.format(body=para("Geen sprekers hier."))), ingest,
         "a Word file without speaker labels"),
        # --- xlsx / csv tables
        ("text_renamed.xlsx", GOOD.encode(), ingest, "a text file renamed to .xlsx"),
        ("billion_laughs.xlsx", xlsx_bytes(sheet_xml_with(LAUGHS, "&lol9;")), ingest, "entity expansion in a sheet"),
        ("xxe.xlsx", xlsx_bytes(sheet_xml_with(XXE, "&xxe;")), ingest, "external entity in a sheet"),
        ("bomb.xlsx", bomb_zip("xl/worksheets/sheet1.xml", 64 * 1024 * 1024), ingest, "zip bomb named .xlsx"),
        ("bomb_valid_workbook.xlsx", inflate_member(xlsx_bytes(), "xl/worksheets/sheet1.xml"), ingest,
         "a well-formed workbook whose sheet expands to 64 MiB"),
        ("bomb_valid_document.docx", inflate_member(good_doc, "word/document.xml"), ingest,
         "a well-formed Word document that expands to 64 MiB"),
        ("zip_slip.xlsx", xlsx_bytes(None, {"../evil.xml": "<a/>"}), ingest, "zip entry with ../ in a workbook"),
        ("no_text_column.xlsx", table_xlsx([["group", "who", "said"], ["F1", "P1", "ja"]]), ingest,
         "no text column"),
        ("empty_workbook.xlsx", table_xlsx([]), ingest, "an empty workbook"),
        ("empty.csv", b"", ingest, "empty CSV"),
        ("header_only.csv", b"group,speaker,text\n", ingest, "CSV with only a header"),
        ("nul.csv", b"group,speaker,text\nF1,P1,ja\x00\n", ingest, "CSV with a NUL byte"),
        ("no_text_column.csv", b"group,who,said\nF1,P1,ja\n", ingest, "CSV without a text column"),
        ("unknown_speaker.csv", b"group,speaker,text\nF1,P55,ja\n", ingest, "CSV with an unknown speaker"),
        ("binary.csv", bytes(range(256)) * 8, ingest, "binary data as .csv"),
        # --- participants metadata
        ("participants_empty.csv", b"", ["ingest", "--participants", "{file}", "{good}"], "empty participants file"),
        ("participants_no_columns.csv", b"naam,leeftijd\nJan,40\n", ["ingest", "--participants", "{file}", "{good}"],
         "participants file without group/participant columns"),
        ("participants_binary.csv", b"\x89PNG\r\n\x1a\n\x00\x00", ["ingest", "--participants", "{file}", "{good}"],
         "binary participants file"),
        ("participants_bomb.xlsx", bomb_zip("xl/worksheets/sheet1.xml", 64 * 1024 * 1024),
         ["ingest", "--participants", "{file}", "{good}"], "zip bomb as participants workbook"),
        # --- a good file followed by a bad one: nothing of the good one may be written
        ("second_is_bad.txt", b"\x00\x01binary", ["ingest", "{good}", "{file}"], "a good file then a bad one"),
        # --- every other command that reads a user's workbook
        ("codebook_bomb.xlsx", inflate_member(xlsx_bytes(), "xl/worksheets/sheet1.xml"),
         ["codebook", "apply", "{file}"], "a codebook workbook that expands to 64 MiB"),
        ("codebook_billion_laughs.xlsx", xlsx_bytes(sheet_xml_with(LAUGHS, "&lol9;")), ["codebook", "apply", "{file}"],
         "entity expansion in a codebook workbook"),
        ("comments_bomb.xlsx", inflate_member(xlsx_bytes(), "xl/worksheets/sheet1.xml"), comments,
         "a commented workbook that expands to 64 MiB"),
        ("comments_zip_slip.xlsx", xlsx_bytes(None, {"../../evil.xml": "<a/>"}), comments,
         "a ../ entry in a commented workbook"),
        ("suggestions_bomb.xlsx", inflate_member(xlsx_bytes(), "xl/worksheets/sheet1.xml"),
         ["suggest", "accept", "{file}"], "a suggestions workbook that expands to 64 MiB"),
        ("suggestions_xxe.xlsx", xlsx_bytes(sheet_xml_with(XXE, "&xxe;")), ["suggest", "accept", "{file}"],
         "an external entity in a suggestions workbook"),
        # --- names list for pseudonymise
        ("names_binary.csv", b"\x00\x01\x02\x03" * 64, ["pseudonymise", "--names", "{file}"], "binary names list"),
        ("names_no_column.csv", b"wie\nJan\n", ["pseudonymise", "--names", "{file}"],
         "names list without a name column"),
    ]
    out += codebook_bombs()
    return out


CODEBOOK_HEAD = """name: bom
language: nl
themes:
  - id: t
    name: T
    colour: "#E69F00"
    codes:
      - id: c
        name: C
        rules:
          patterns:
"""


def codebook_bombs() -> list[tuple[str, bytes, list[str], str]]:
    """Hostile codebooks (issue 23): refused by 'codebook apply' before anything is built."""
    apply = ["codebook", "apply", "{file}"]
    # aliases in a mapping key: 9**6 list items from about 300 bytes (PyYAML builds every one)
    alias = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{n}: &{n} [{', '.join(['*' + p] * 9)}]\n" for p, n in zip("abcde", "bcdef")) + \
        "? [" + ", ".join(["*f"] * 9) + "]\n: x\n"
    return [
        ("codebook_alias_bomb.yaml", alias.encode(), apply, "YAML aliases in a mapping key (billion laughs)"),
        ("codebook_nested_lists.yaml", ("themes: " + "[" * 200_000 + "]" * 200_000 + "\n").encode(), apply,
         "200,000 nested YAML lists"),
        ("codebook_nested_maps.yaml", ("themes:\n" + "".join("  " * i + f"k{i}:\n" for i in range(2000))).encode(),
         apply, "2,000 nested YAML mappings by indentation"),
        ("codebook_tokens_stars.yaml", (CODEBOOK_HEAD + '            - tokens: [{LOWER: werk}, {OP: "*"}, {OP: "*"}, '
                                        '{OP: "*"}, {OP: "*"}, {LOWER: geld}]\n').encode(), apply,
         "a token pattern with four '*' wildcards (minutes per segment in spaCy's Matcher)"),
        ("codebook_tokens_wide.yaml", (CODEBOOK_HEAD + '            - tokens: [{LOWER: werk}, {OP: "{0,100000}"}, '
                                       '{LOWER: geld}]\n').encode(), apply,
         "a token pattern that spaCy expands to 100,000 tokens"),
        ("codebook_tokens_optional.yaml", (CODEBOOK_HEAD + '            - tokens: [{LOWER: werk}, {OP: "*"}, '
                                           + ", ".join(['{OP: "?"}'] * 9) + ', {LOWER: geld}]\n').encode(), apply,
         "a '*' followed by nine optional words (80 s on one 1,000-word segment)"),
        ("codebook_tokens_edge.yaml", (CODEBOOK_HEAD + '            - tokens: [{OP: "+"}, {LOWER: geld}]\n').encode(),
         apply, "a token pattern starting with a wildcard that matches every span"),
        ("codebook_tokens_regex.yaml", (CODEBOOK_HEAD + "            - tokens: [{LOWER: {REGEX: '^(a|aa)+$'}}]\n")
         .encode(), apply, "a catastrophic regular expression in a token predicate (run by spaCy with re)"),
    ]


def write_all(outdir: str | Path) -> list[dict]:
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    (outdir / "F1_good.txt").write_text(GOOD, encoding="utf-8")
    manifest = []
    for name, data, command, why in cases():
        if data is not None:
            (outdir / name).write_bytes(data)
        manifest.append({"file": name, "command": command, "why": why})
    (outdir / "cases.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return manifest


if __name__ == "__main__":
    m = write_all(sys.argv[1] if len(sys.argv) > 1 else "bad_inputs_out")
    print(f"wrote {len(m)} cases")


# ------------------------------------------------------------------ coding sheets
def sheet_cases(good: str | Path, foreign: str | Path, outdir: str | Path) -> list[dict]:
    """Badly edited copies of a coding sheet exported by ``qualcode sheet export``.

    ``good`` was exported from the project under test, ``foreign`` from another project.
    Returns manifest entries like :func:`write_all` (command: sheet import)."""
    import shutil

    import openpyxl

    outdir = Path(outdir)
    made: list[dict] = []

    def variant(name: str, why: str, edit=None):
        path = outdir / name
        if edit is not None:
            wb = openpyxl.load_workbook(good)
            edit(wb, wb["Coding"])
            wb.save(path)
        made.append({"file": name, "command": ["sheet", "import", "{file}"], "why": why})
        return path

    def col(ws, header):
        return [c.value for c in ws[1]].index(header) + 1

    def put_code(ws, row, value, n=1):
        ws.cell(row, col(ws, f"code {n}"), value)

    variant("sheet_deleted_id_column.xlsx", "the hidden id column was deleted",
            lambda wb, ws: ws.delete_cols(col(ws, "qualcode id")))
    variant("sheet_renamed_id_header.xlsx", "the id column's header was renamed",
            lambda wb, ws: ws.cell(1, col(ws, "qualcode id"), "id"))

    def merged(wb, ws):
        put_code(ws, 2, "pros")
        c = col(ws, "code 1")
        ws.merge_cells(start_row=2, end_row=4, start_column=c, end_column=c)
    variant("sheet_merged_code_cells.xlsx", "code cells merged over three rows", merged)

    def merged_ids(wb, ws):
        c = col(ws, "qualcode id")
        ws.merge_cells(start_row=2, end_row=3, start_column=c, end_column=c)
    variant("sheet_merged_id_cells.xlsx", "id cells merged", merged_ids)
    variant("sheet_formula_code_cell.xlsx", "a formula in a code cell",
            lambda wb, ws: (put_code(ws, 2, "pros"), put_code(ws, 3, "=E2")))
    variant("sheet_formula_id_cell.xlsx", "a formula in the id column",
            lambda wb, ws: ws.cell(2, col(ws, "qualcode id"), '="1:"&"abc"'))
    variant("sheet_renamed_sheet.xlsx", "the Coding sheet was renamed", lambda wb, ws: setattr(ws, "title", "Blad1"))

    def copied(wb, ws):
        other = wb.copy_worksheet(ws)
        other.title = "Coding (2)"
        other.cell(2, col(ws, "code 1"), "pros")
    variant("sheet_coded_in_a_copy.xlsx", "codes typed into an extra copy of the sheet", copied)
    variant("sheet_unknown_code.xlsx", "a code id that does not exist", lambda wb, ws: put_code(ws, 2, "prox"))
    variant("sheet_edited_text.xlsx", "the transcript text was edited",
            lambda wb, ws: ws.cell(2, col(ws, "text"), "iets heel anders"))
    variant("sheet_edited_id.xlsx", "an id was edited",
            lambda wb, ws: ws.cell(2, col(ws, "qualcode id"), "1:0000000000"))

    def dup(wb, ws):  # a copied row codes another fragment of its turn (issue 16): here words not in it
        ws.append([c.value for c in ws[2]])
        ws.cell(ws.max_row, col(ws, "fragment"), "woorden die niet in de beurt staan")
        put_code(ws, ws.max_row, "pros")
    variant("sheet_duplicated_row.xlsx", "a row copied twice, its fragment not in the row's text", dup)
    variant("sheet_deleted_rows.xlsx", "rows deleted", lambda wb, ws: ws.delete_rows(2, 3))
    variant("sheet_added_row.xlsx", "a row added by hand",
            lambda wb, ws: ws.append(["F1 P1", "P1", "", "nieuw", "pros"]))
    variant("sheet_header_deleted.xlsx", "the header row was deleted", lambda wb, ws: ws.delete_rows(1))
    variant("sheet_emptied.xlsx", "every row deleted", lambda wb, ws: ws.delete_rows(1, ws.max_row))
    variant("sheet_other_coder.xlsx", "the sheet of another coder",
            lambda wb, ws: wb["_qualcode"].cell(2, 2, "iemand-anders"))
    shutil.copy(foreign, outdir / "sheet_other_project.xlsx")
    variant("sheet_other_project.xlsx", "a sheet exported from another project")
    (outdir / "sheet_text_renamed.xlsx").write_text(GOOD, encoding="utf-8")
    variant("sheet_text_renamed.xlsx", "a text file named .xlsx")
    (outdir / "sheet_bomb.xlsx").write_bytes(bomb_zip("xl/worksheets/sheet1.xml", 64 * 1024 * 1024))
    variant("sheet_bomb.xlsx", "a zip bomb named like a sheet")
    (outdir / "sheet_bomb_valid.xlsx").write_bytes(inflate_member(Path(good), "xl/worksheets/sheet1.xml"))
    variant("sheet_bomb_valid.xlsx", "the real coding sheet, its sheet XML padded to 64 MiB")
    (outdir / "sheet_billion_laughs.xlsx").write_bytes(xlsx_bytes(sheet_xml_with(LAUGHS, "&lol9;")))
    variant("sheet_billion_laughs.xlsx", "entity expansion in the sheet XML")
    (outdir / "sheet_zip_slip.xlsx").write_bytes(xlsx_bytes(None, {"../../evil.xml": "<a/>"}))
    variant("sheet_zip_slip.xlsx", "a ../ entry in the sheet archive")
    return made


# ------------------------------------------------------------------ REFI-QDA
def refi_cases(good_qdpx: str | Path, outdir: str | Path) -> list[dict]:
    """Broken and hostile REFI-QDA files, most of them edited copies of ``good_qdpx``
    (written by ``qualcode export refi``). Manifest entries with command ``import refi``."""
    import re

    outdir = Path(outdir)
    src = zipfile.ZipFile(good_qdpx)
    members = {n: src.read(n) for n in src.namelist()}
    qde_name = next(n for n in members if n.lower().endswith(".qde"))
    qde = members[qde_name].decode("utf-8")
    made: list[dict] = []

    def write(name: str, data: bytes, why: str):
        (outdir / name).write_bytes(data)
        made.append({"file": name, "command": ["import", "refi", "{file}"], "why": why})

    def repack(new_qde: str | bytes | None = None, drop=(), extra: dict | None = None) -> bytes:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for n, d in members.items():
                if n in drop:
                    continue
                if n == qde_name and new_qde is not None:
                    d = new_qde.encode("utf-8") if isinstance(new_qde, str) else new_qde
                zf.writestr(n, d)
            for n, d in (extra or {}).items():
                zf.writestr(n, d)
        return buf.getvalue()

    body = qde.split("?>", 1)[1] if qde.startswith("<?xml") else qde
    first_text = next(n for n in members if n.startswith("sources/"))
    write("refi_text_renamed.qdpx", GOOD.encode(), "a text file named .qdpx")
    write("refi_truncated.qdpx", (lambda b: b[: len(b) // 2])(Path(good_qdpx).read_bytes()), "a .qdpx cut in half")
    write("refi_zip_slip.qdpx", repack(extra={"../../evil.txt": "boo"}), "a ../ entry in the archive")
    write("refi_bomb.qdpx", bomb_zip("sources/big.txt", 64 * 1024 * 1024, {qde_name: members[qde_name]}),
          "a zip bomb inside the archive")
    write("refi_billion_laughs.qdpx", repack(LAUGHS + body.replace("<Project ", "<Project x=\"&lol9;\" ", 1)),
          "entity expansion in project.qde")
    write("refi_xxe.qde", (XXE + body.replace("<Project ", "<Project x=\"&xxe;\" ", 1)).encode(),
          "an external entity in a .qde file")
    write("refi_billion_laughs.qdc", (LAUGHS + '<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes><Code '
                                      'guid="a" name="&lol9;" isCodable="true"/></Codes></CodeBook>').encode(),
          "entity expansion in a codebook")
    write("refi_malformed.qde", qde[: len(qde) // 2].encode(), "a .qde cut in half")
    write("refi_no_qde.qdpx", repack(drop=(qde_name,)), "no project.qde inside")
    write("refi_wrong_root.qde", b'<?xml version="1.0"?><Nope/>', "XML that is not a REFI project")
    write("refi_empty.qde", b"", "an empty .qde")
    write("refi_binary.qde", bytes(range(256)) * 4, "binary data as .qde")
    write("refi_missing_source.qdpx", repack(drop=(first_text,)), "a source text missing from the archive")
    write("refi_path_escape.qdpx", repack(re.sub(r'plainTextPath="[^"]+"', 'plainTextPath="internal://../../../etc/'
                                                 'passwd"', qde, count=1)), "a source path that leaves the archive")
    write("refi_binary_source.qdpx", _replace_member(members, first_text, b"\xff\xfe\x00\x00" * 100),
          "a source text that is not text")
    write("refi_bad_offsets.qdpx", repack(re.sub(r'endPosition="\d+"', 'endPosition="99999999"', qde, count=1)),
          "a selection beyond the end of its text")
    write("refi_negative_offsets.qdpx", repack(re.sub(r'startPosition="\d+"', 'startPosition="-5"', qde, count=1)),
          "a selection with a negative start")
    write("refi_unknown_code.qdpx", repack(re.sub(r'(<CodeRef targetGUID=")[^"]+', r"\g<1>0000-not-a-code", qde,
                                                  count=1)), "a coding that points at no code")
    write("refi_duplicate_guid.qdpx", repack(_duplicate_guid(qde)), "two elements with the same GUID")
    return made


def _replace_member(members: dict, name: str, data: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, d in members.items():
            zf.writestr(n, data if n == name else d)
    return buf.getvalue()


def _duplicate_guid(qde: str) -> str:
    import re

    guids = re.findall(r'<Code guid="([^"]+)"', qde)
    return qde.replace(f'guid="{guids[1]}"', f'guid="{guids[0]}"', 1) if len(guids) > 1 else qde
