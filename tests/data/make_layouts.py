"""Write the binary test transcripts of tests/data (Word, LibreOffice, Excel) in the layouts the
real tools write. The names and the words are invented.

    python tests/data/make_layouts.py [FOLDER]     # default: this folder

The text files beside this script (teams.vtt, zoom.vtt, zoom.txt, otter.txt, ...) are written by
hand; tests/test_ingest_layouts.py checks that these binaries still match this script.
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

# Teams .docx as Teams writes it now: a title, the date, the length, "<name> started transcription",
# then per turn a line "Name   m:ss" and the words in the next paragraph (sometimes after a line
# break inside the same paragraph).
TEAMS_DOCX = [
    "Focusgroep werk en herstel-20240312_100215-Vergadering opnemen",
    "12 maart 2024, 10:02AM",
    "41m 7s",
    "An De Smet started transcription",
    "An De Smet   0:03",
    "Goeiemorgen allemaal. Vandaag gaat het over werk en herstel.",
    "Koen Janssens   0:12",
    "Voor mij hoort werk bij herstel, maar niet van in het begin.",
    ("Sofie Maes   0:21", "Bij mij net wel. Werk gaf mij een ritme."),
    "An De Smet   1:05",
    "Wat bedoelt ge met ritme?",
    "Sofie Maes   1:09",
    "Opstaan, de bus nemen, collega's zien. Gewone dingen.",
    "An De Smet stopped transcription",
]

# The older Teams .docx (from Stream): a timing line, the name alone, then the words.
TEAMS_OLD_DOCX = [
    "0:0:3.120 --> 0:0:6.480", "An De Smet", "Welkom iedereen, we starten met een rondje.", "",
    "0:0:7.10 --> 0:0:12.900", "Els Vermeulen", "Ik ben jobcoach sinds een jaar of vijf.", "",
    "0:0:13.300 --> 0:0:18.20", "Jan Peeters", "En ik werk in een sociale werkplaats.", "",
    "0:0:18.600 --> 0:0:21.0", "An De Smet", "Dank u. Wat vindt gij van het idee eerst plaatsen, dan trainen?", "",
    "0:0:21.400 --> 0:0:27.500", "Jan Peeters", "Dat had mij veel tijd bespaard, eerlijk gezegd.",
]

# Otter exports as .docx: "Name  m:ss" then the words, one paragraph each.
OTTER_DOCX = [
    "An De Smet  0:02", "Wie wil beginnen?",
    "Els Vermeulen  0:06", "Ik wil wel. Ik heb drie jaar niet gewerkt en nu zit ik in een traject.",
    "An De Smet  0:15", "Hoe verloopt dat?",
    "Els Vermeulen  0:18", "Met ups en downs. Maar mijn coach blijft, dat helpt.",
]

# A Word or LibreOffice transcript typed by hand: "Name: words".
TYPED = [
    "Focusgroep werk en herstel, verzonnen voorbeeld",
    "An De Smet: Wat zou u helpen om te starten?",
    "Koen Janssens: Een proefperiode zonder dat ik mijn uitkering verlies.",
    "Jan Peeters: Ja, dat is voor veel mensen de grootste schrik.",
    "Dat is het probleem: niemand durft het risico te nemen.",
    "An De Smet: Herkent iedereen dat?",
    "Sofie Maes: Ik wel. Ik heb het één keer gedaan en het was een papierenberg.",
]

# A spreadsheet transcript from another project: Dutch column names, a note row without speaker.
TABLE_XLSX = [
    ("Spreker", "Tijd", "Tekst"),
    ("An De Smet", "00:00:04", "Wat is een goeie werkgever voor jullie?"),
    ("Koen Janssens", "00:00:09", "Iemand die niet alleen naar de cijfers kijkt."),
    ("", "00:00:15", "[gelach]"),
    ("Sofie Maes", "00:00:17", "En die durft te vragen hoe het gaat."),
    ("An De Smet", "00:00:25", "Zijn er zo?"),
    ("koen janssens ", "00:00:27", "Meer dan ge denkt."),
]


def write_docx(path: Path, paragraphs) -> None:
    import docx

    doc = docx.Document()
    for p in paragraphs:
        if isinstance(p, tuple):
            para = doc.add_paragraph(p[0])
            para.add_run().add_break()
            para.add_run(p[1])
        else:
            doc.add_paragraph(p)
    doc.save(str(path))


ODT_MANIFEST = """<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3">
 <manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.text"/>
 <manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
</manifest:manifest>
"""
ODT_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" \
xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" \
xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" office:version="1.3">
<office:automatic-styles><style:style style:name="T1" style:family="text"/></office:automatic-styles>
<office:body><office:text>"""
ODT_TAIL = "</office:text></office:body></office:document-content>"


def write_odt(path: Path, paragraphs) -> None:
    """LibreOffice's layout: the label in a bold span, runs of spaces as <text:s/>, a heading first."""
    from xml.sax.saxutils import escape

    body = [f'<text:h text:outline-level="1">{escape(paragraphs[0])}</text:h>']
    for p in paragraphs[1:]:
        if ": " in p and p.index(": ") < 30 and p[0].isupper() and " is " not in p[:p.index(": ")]:
            label, words = p.split(": ", 1)
            first, _, rest = words.partition(" ")
            body.append(f'<text:p><text:span text:style-name="T1">{escape(label)}:</text:span> '
                        f'{escape(first)}<text:s/> {escape(rest)}</text:p>')
        else:
            body.append(f"<text:p>{escape(p)}</text:p>")
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(zipfile.ZipInfo("mimetype", (2024, 3, 12, 10, 0, 0)), "application/vnd.oasis.opendocument.text")
        for name, data in (("content.xml", ODT_HEAD + "".join(body) + ODT_TAIL),
                           ("META-INF/manifest.xml", ODT_MANIFEST)):
            zf.writestr(zipfile.ZipInfo(name, (2024, 3, 12, 10, 0, 0)), data, compress_type=zipfile.ZIP_DEFLATED)


def write_xlsx(path: Path, rows) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Transcript"
    for r in rows:
        ws.append(list(r))
    wb.save(str(path))


def main(folder: Path = HERE) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    write_docx(folder / "teams.docx", TEAMS_DOCX)
    write_docx(folder / "teams_old.docx", TEAMS_OLD_DOCX)
    write_docx(folder / "otter.docx", OTTER_DOCX)
    write_docx(folder / "names.docx", TYPED)
    write_odt(folder / "names.odt", TYPED)
    write_xlsx(folder / "table.xlsx", TABLE_XLSX)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
