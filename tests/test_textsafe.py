"""The one filter for characters XML 1.0 cannot hold (qualcode/files/textsafe.py)."""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import example, given, settings
from hypothesis import strategies as st

from qualcode.files.textsafe import ILLEGAL_XML, REPLACEMENT, xml_safe, xml_safe_tree, xml_text

ROOT = Path(__file__).resolve().parent.parent


def _xml_char(c: int) -> bool:
    """The XML 1.0 Char production, written out from the specification."""
    return c in (0x9, 0xA, 0xD) or 0x20 <= c <= 0xD7FF or 0xE000 <= c <= 0xFFFD or 0x10000 <= c <= 0x10FFFF


def test_the_filter_matches_the_xml_specification_for_every_code_point():
    wrong = [c for c in range(0x110000) if (ILLEGAL_XML.match(chr(c)) is None) != _xml_char(c)]
    assert wrong == []


def test_replacement_is_one_for_one():
    assert xml_text("a\x0bb\x0cc") == "a b c"                       # layout breaks become spaces
    assert xml_text("a\x01b\x1fc\ufffed\uffffe\ud800f\udfff") == "a�b�c�d�e�f�"
    assert xml_text("\x00") == REPLACEMENT
    kept = "\t\n\r \x7f\x80\x85\x9f\ud7ff\ue000\ufdd0\ufffd\U0001F600\U0010FFFF"   # legal, C1 included
    assert xml_text(kept) == kept


def test_clean_text_is_returned_as_is():
    s = "Ik vind ’t één probleem 😀" * 10
    assert xml_text(s) is s


def test_tree_and_non_text_values():
    from dataclasses import dataclass

    @dataclass
    class Box:
        name: str
        items: list
        blob: bytes

    box = Box("a\x01", [("b\uffff", 1), {"k\x02": "v\x03"}], b"\x01")
    assert xml_safe_tree(box) == Box("a�", [("b�", 1), {"k�": "v�"}], b"\x01")
    assert box.name == "a\x01"                                          # the original is not changed
    assert xml_safe(3) == 3 and xml_safe(None) is None and xml_safe("\x01") == "�"


def test_there_is_one_rule_for_illegal_characters_in_the_code():
    """No writer keeps a character class of its own for XML-illegal characters."""
    pattern = re.compile(r"\\x0b\\x0c|\\x0e-\\x1f|\\ufffe")
    found = [str(p.relative_to(ROOT)) for p in (ROOT / "qualcode").rglob("*.py")
             if pattern.search(p.read_text(encoding="utf-8"))]
    assert found == ["qualcode/files/textsafe.py"]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=()), max_size=60))
@example("\x00\x0b\x0c\ud800\udfff\ufffe\uffff\x85")
@example("")
def test_filtered_text_is_xml_and_keeps_its_length(s):
    from lxml import etree

    out = xml_text(s)
    assert len(out) == len(s)
    assert all(a == b for a, b in zip(s, out) if _xml_char(ord(a)))
    el = etree.Element("t")
    el.text = out.replace("\r", "\n")       # lxml refuses nothing XML allows
    assert (etree.fromstring(etree.tostring(el, encoding="utf-8")).text or "") == el.text


def test_utf8_text_replaces_only_lone_surrogates():
    from qualcode.files.textsafe import utf8_text

    text = "a\x01b\x0c\ud800c\udfff😀"
    assert utf8_text(text) == "a\x01b\x0c\ufffdc\ufffd😀"
    assert len(utf8_text(text)) == len(text)
    plain = "geen probleem\x0b"
    assert utf8_text(plain) is plain


def test_one_module_holds_the_character_rules():
    """No other module writes its own class of XML-illegal or surrogate characters."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "qualcode"
    marks = ("\\x00-\\x08", "\\ud800-\\udfff", "ILLEGAL_CHARACTERS_RE", "\\x0e-\\x1f")
    found = sorted(str(p.relative_to(root)) for p in root.rglob("*.py")
                   if any(m in p.read_text(encoding="utf-8") for m in marks))
    assert found == ["files/textsafe.py"]
