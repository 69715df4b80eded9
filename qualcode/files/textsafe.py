"""The one filter for characters that XML 1.0 (and so xlsx, docx, REFI) cannot hold.

XML 1.0 allows tab, line feed, carriage return, U+0020-U+D7FF, U+E000-U+FFFD and the astral
planes. A transcript may hold the rest: C0 control characters (a form feed from a Word page
break, a vertical tab from a manual line break, stray bytes), the non-characters U+FFFE and
U+FFFF, and (from a command-line argument that was not valid UTF-8) lone surrogates.

The project keeps such text exactly as ingested (offsets into it stay valid); every writer of
an output file (xlsx, docx, REFI XML and its source texts, HTML and Markdown reports) passes its
text through :func:`xml_text` first, which replaces each illegal character by ONE character, so
lengths and offsets in the output match the stored text:

* vertical tab (U+000B) and form feed (U+000C) become a space (they are layout breaks);
* every other illegal character becomes U+FFFD, the replacement character "�", so the reader
  sees that something was there.

Ingest stores text with these characters as they are (it refuses only NUL, and a file where more
than about 1% of the characters are C0 controls, as binary data: :data:`BINARY_HINT_CHARS`).

C1 controls (U+0080-U+009F) are legal in XML 1.0 (only discouraged); every reader qualcode's
outputs are opened with (openpyxl, Excel, LibreOffice, python-docx, lxml) accepts them, so they
are written unchanged: the coding sheet round trip gives them back exactly.

Text without illegal characters (nearly all) costs one regular-expression scan and is returned
as the same object.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

#: Every character XML 1.0 forbids (the complement of its ``Char`` production).
ILLEGAL_XML_CHARS = "\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff"
ILLEGAL_XML = re.compile(f"[{ILLEGAL_XML_CHARS}]")
REPLACEMENT = "\ufffd"

#: Control characters a text file rarely holds (C0 but tab, LF, FF, CR): ingest counts them to tell
#: binary data from a transcript, and otherwise stores the text with them, unchanged.
BINARY_HINT_CHARS = re.compile("[\x00-\x08\x0b\x0e-\x1f]")
_AS_SPACE = {"\x0b": " ", "\x0c": " "}


def _replace(m: re.Match) -> str:
    return _AS_SPACE.get(m.group(), REPLACEMENT)


def xml_text(value: str) -> str:
    """``value`` with every character XML 1.0 forbids replaced by one character (see the module)."""
    if ILLEGAL_XML.search(value) is None:
        return value
    return ILLEGAL_XML.sub(_replace, value)


#: Lone surrogates (from a command-line argument that was not valid UTF-8): UTF-8 cannot encode them.
SURROGATES = re.compile("[\ud800-\udfff]")


def utf8_text(value: str) -> str:
    """``value`` for a plain UTF-8 text file (REFI-QDA source texts): exactly as stored, control
    characters included (offsets refer to it), except lone surrogates, which become U+FFFD one for one."""
    return SURROGATES.sub(REPLACEMENT, value) if SURROGATES.search(value) else value


def xml_safe(value: Any) -> Any:
    """:func:`xml_text` for a string, anything else unchanged."""
    return xml_text(value) if isinstance(value, str) else value


def xml_safe_tree(obj: Any) -> Any:
    """A copy of ``obj`` with :func:`xml_text` applied to every string inside it (through lists,
    tuples, dicts (keys too) and dataclasses); other values (numbers, bytes) as they are."""
    if isinstance(obj, str):
        return xml_text(obj)
    if isinstance(obj, list):
        return [xml_safe_tree(v) for v in obj]
    if isinstance(obj, tuple):
        return tuple(xml_safe_tree(v) for v in obj)
    if isinstance(obj, dict):
        return {xml_safe_tree(k): xml_safe_tree(v) for k, v in obj.items()}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.replace(obj, **{f.name: xml_safe_tree(getattr(obj, f.name))
                                           for f in dataclasses.fields(obj) if f.init})
    return obj


# Characters a terminal acts on instead of showing: C0 controls but tab and line ends (ESC starts
# sequences that move the cursor, retitle the window, hide text or make links), DEL, C1 controls
# (\x9b is a one-byte ESC [) and the bidirectional overrides that reorder what is shown.
# Control characters (all but tab and line feed) that no name a student types may hold.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_TERMINAL_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def terminal_safe(text: str) -> str:
    """``text`` with every character a terminal would act on written out as ``\\uXXXX`` (the CLI
    passes everything it prints through this)."""
    return _TERMINAL_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
