"""qualcode.files.guards: the guards every ZIP and XML input passes through."""

from __future__ import annotations

import io
import zipfile

import pytest

from qualcode.errors import InputError
from qualcode.files.guards import check_zip, parse_xml, read_zip_member


def make_zip(path, entries: dict, compression=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path, "w", compression) as zf:
        for n, d in entries.items():
            zf.writestr(n, d)
    return path


def test_a_normal_archive_passes(tmp_path):
    check_zip(make_zip(tmp_path / "ok.docx", {"word/document.xml": "<a>hallo</a>", "x/y.rels": "<r/>"}))


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_dtd_in_any_xml_entry_is_refused(tmp_path, encoding):
    xml = '<?xml version="1.0"?><!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>'.encode(encoding)
    p = make_zip(tmp_path / "x.xlsx", {"xl/styles.xml": xml})
    with pytest.raises(InputError) as e:
        check_zip(p, "Excel workbook")
    assert str(e.value) == (f"{p}: entry 'xl/styles.xml' declares a DTD (XML entities or external references, as "
                            "used in entity-expansion attacks); refusing to open it")


def test_dtd_in_non_xml_entries_is_not_our_business(tmp_path):
    check_zip(make_zip(tmp_path / "x.qdpx", {"sources/a.txt": "<!DOCTYPE is just text here"}))


def test_small_entries_may_compress_well_but_big_ones_not(tmp_path):
    check_zip(make_zip(tmp_path / "a.docx", {"a.xml": b" " * 1_000_000}))     # under the 2 MiB floor
    p = make_zip(tmp_path / "b.docx", {"b.xml": b" " * 3_000_000})
    with pytest.raises(InputError, match=r"entry 'b.xml' would expand \d+-fold \(a zip bomb\?\)"):
        check_zip(p, "Word document")


def test_lying_size_header_is_caught_while_reading(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("a.txt", b"x" * 5000)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as zf:
        with pytest.raises(InputError, match="entry 'a.txt' is larger than 0 MiB; refusing to read it"):
            read_zip_member(zf, "a.txt", limit=1000)


def test_not_a_zip(tmp_path):
    p = tmp_path / "n.docx"
    p.write_text("hallo")
    with pytest.raises(InputError) as e:
        check_zip(p, "Word document")
    assert str(e.value) == f"{p}: is not a valid Word document (not a ZIP archive; is it damaged or renamed?)"


def test_parse_xml_refuses_entities_and_reports_broken_xml():
    with pytest.raises(InputError, match="uses XML entities or external references"):
        parse_xml(b'<!DOCTYPE a [<!ENTITY e SYSTEM "file:///etc/passwd">]><a>&e;</a>', "f.xml")
    with pytest.raises(InputError, match="is not well-formed XML"):
        parse_xml(b"<a><b></a>", "f.xml")
    assert parse_xml(b"<a>ok</a>", "f.xml").text == "ok"


def test_parse_xml_with_local_names_drops_every_namespace_and_stays_defused():
    xml = (b'<p:Project xmlns:p="urn:QDA-XML:project:1.0" xmlns="urn:QDA-XML:codebook:1.5" '
           b'xmlns:x="urn:other" x:flag="1" name="t"><Codes><Code guid="g"/></Codes><x:Note/></p:Project>')
    root = parse_xml(xml, "f.xml", local_names=True)
    assert [el.tag for el in root.iter()] == ["Project", "Codes", "Code", "Note"]
    assert root.attrib == {"flag": "1", "name": "t"}
    assert root.find("Codes").find("Code").get("guid") == "g"
    # the namespaced form is what the plain parse gives
    assert parse_xml(xml, "f.xml").tag == "{urn:QDA-XML:project:1.0}Project"
    with pytest.raises(InputError, match="uses XML entities or external references"):
        parse_xml(b'<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>', "f.xml", local_names=True)
    with pytest.raises(InputError, match="is not well-formed XML"):
        parse_xml(b"<a><b></a>", "f.xml", local_names=True)
