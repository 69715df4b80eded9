"""Encodings and line endings: what is detected, what is refused, and offsets into the stored text."""

from __future__ import annotations

import codecs

import pytest

from qualcode.errors import InputError
from qualcode.ingest import ingest
from qualcode.ingest.parse import decode

TEXT = "Moderator: Wat vindt ge van café’s?\nP2: Ik vind ’t één probleem, zeker in de Kempen.\n"


def _ingest(store, path):
    return ingest(store, [str(path)], allow_new_speakers=True)


def _check(store, name, encoding):
    src = store.source(name)
    assert src["encoding"] == encoding
    segs = list(store.segments(source=name))
    for s in segs:
        assert s["text"] == src["text"][s["start"]:s["end"]]
    assert [s["text"] for s in segs] == ["Wat vindt ge van café’s?", "Ik vind ’t één probleem, zeker in de Kempen."]
    return src


@pytest.mark.parametrize("data, encoding", [
    (TEXT.encode("utf-8"), "utf-8"),
    (codecs.BOM_UTF8 + TEXT.encode("utf-8"), "utf-8-sig"),
    (TEXT.encode("utf-16"), "utf-16"),                           # native order with BOM
    (codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"), "utf-16"),
    (codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"), "utf-16"),
    (TEXT.encode("cp1252"), "windows-1252"),                     # Word's "plain text" export
], ids=["utf8", "utf8-bom", "utf16", "utf16-le", "utf16-be", "cp1252"])
def test_encodings_are_detected(empty_store, tmp_path, data, encoding):
    f = tmp_path / "F1.txt"
    f.write_bytes(data)
    _ingest(empty_store, f)
    src = _check(empty_store, "F1.txt", encoding)
    assert src["text"] == TEXT  # no BOM kept, ’ é ë decoded


def test_cp1252_bytes_are_the_word_characters():
    # 0x92 is the curly apostrophe Word writes; 0xe9 é; 0xeb ë
    text, enc = decode(b"P2: caf\xe9 \x92t \xebn\n", "x.txt")
    assert (text, enc) == ("P2: café ’t ën\n", "windows-1252")


@pytest.mark.parametrize("newline", ["\r\n", "\n", "\r"], ids=["crlf", "lf", "cr"])
def test_line_endings_offsets_refer_to_the_stored_text(empty_store, tmp_path, newline):
    f = tmp_path / "F1.txt"
    body = ["Moderator: Eerste vraag.", "P2: Eerste regel", "tweede regel van P2.", "P3: Kort."]
    f.write_bytes(newline.join(body).encode("utf-8"))
    _ingest(empty_store, f)
    src = empty_store.source("F1.txt")
    assert src["text"] == "\n".join(body)  # stored with LF
    segs = list(empty_store.segments(source="F1.txt"))
    assert [(s["start"], s["end"]) for s in segs] == [(11, 24), (29, 62), (67, 72)]
    assert [src["text"][s["start"]:s["end"]] for s in segs] == [
        "Eerste vraag.", "Eerste regel\ntweede regel van P2.", "Kort."]


def test_mixed_line_endings(empty_store, tmp_path):
    f = tmp_path / "F1.txt"
    f.write_bytes(b"P1: a\r\nP2: b\rP3: c\nP4: d")
    _ingest(empty_store, f)
    assert [s["text"] for s in empty_store.segments(source="F1.txt")] == ["a", "b", "c", "d"]


def test_utf16_without_bom_is_refused_with_the_file_name(tmp_path):
    path = str(tmp_path / "F1.txt")
    with pytest.raises(InputError) as exc:
        decode(TEXT.encode("utf-16-le"), path)
    assert str(exc.value) == (f"{path}: is not a text file (it contains NUL bytes: binary data, or UTF-16 without "
                              "a byte-order mark); save it as UTF-8 text")


def test_utf32_is_refused(tmp_path):
    path = str(tmp_path / "F1.txt")
    with pytest.raises(InputError) as exc:
        decode(TEXT.encode("utf-32"), path)
    assert str(exc.value) == f"{path}: is encoded as UTF-32, which qualcode does not read; save it as UTF-8"


def test_undecodable_bytes_are_refused(tmp_path):
    # 0x81 and 0x8d are undefined in Windows-1252 and invalid as UTF-8 here
    path = str(tmp_path / "F1.txt")
    with pytest.raises(InputError) as exc:
        decode(b"P2: \x81\x8d\n", path)
    assert str(exc.value) == (f"{path}: is not UTF-8, UTF-16 or Windows-1252 text (byte 0x81 at position 4); "
                              "save it as UTF-8")


def test_broken_utf8_after_bom_is_refused(tmp_path):
    # the position counts from the start of the file, BOM included
    path = str(tmp_path / "F1.txt")
    with pytest.raises(InputError) as exc:
        decode(codecs.BOM_UTF8 + b"P2: caf\xe9\n", path)
    assert str(exc.value) == f"{path}: claims to be UTF-8 (byte-order mark) but byte 10 (counting from 0) is invalid"


def test_encoding_error_through_the_cli_names_the_file(run, tmp_path):
    project = tmp_path / "p.qualcode"
    assert run(project, "init").exit_code == 0
    f = tmp_path / "F1.txt"
    f.write_bytes(b"P2: \x81\x8d\n")
    res = run(project, "ingest", f, "--allow-new-speakers")
    assert res.exit_code == 1
    assert res.stderr == (f"Error: {f}: is not UTF-8, UTF-16 or Windows-1252 text (byte 0x81 at position 4); "
                          "save it as UTF-8\n")
