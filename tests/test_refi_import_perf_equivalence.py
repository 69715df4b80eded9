"""The REFI import's shortcuts (issue 10) give exactly what the plain ways give.

* source word counts are pieced together from the segments' counts (``count_words_pieced``);
* a selection whose name is its text is matched without normalising whitespace;
* the schema check runs in a thread beside the defusedxml parse, and its verdict still comes
  first, except that defusedxml reports XML that is not well-formed in its own words.
"""

from __future__ import annotations

import io
import zipfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qualcode.errors import InputError
from qualcode.refi.read import ELLIPSES, quote_matches, read_refi
from qualcode.text.nlp import count_words, count_words_pieced
from qualcode.files.guards import parse_xml

NS = "urn:QDA-XML:project:1.0"
G = "{:08x}-0000-4000-8000-000000000000".format

# letters, joiners and separators: every way a piece edge can meet a word
texts = st.text(alphabet=st.sampled_from(list("ab é-'’ \n\t.,:1")), max_size=60)


@st.composite
def text_and_pieces(draw):
    text = draw(texts)
    n = len(text)
    spans = draw(st.lists(st.tuples(st.integers(0, n), st.integers(0, n)), max_size=8))
    pieces = [(min(a, b), max(a, b)) for a, b in spans]
    return text, [(s, e, count_words(text[s:e])) for s, e in pieces]


@settings(max_examples=500, deadline=None)
@given(text_and_pieces())
def test_pieced_word_count_equals_counting_the_whole_text(case):
    text, pieces = case
    assert count_words_pieced(text, pieces) == count_words(text)


@settings(max_examples=200, deadline=None)
@given(texts)
def test_pieced_word_count_on_turn_shaped_pieces(body):
    # the shape the import sees: labelled lines, each line's text a piece
    lines = [f"P{i}: {part}" for i, part in enumerate(body.split("\n"))]
    text = "\n".join(lines) + "\n"
    pieces, pos = [], 0
    for line in lines:
        s = pos + line.index(":") + 2
        e = pos + len(line)
        pieces.append((s, e, count_words(text[s:e])))
        pos = e + 1
    assert count_words_pieced(text, pieces) == count_words(text)


def reference_quote_matches(name: str, text: str) -> bool:
    """The matching rule without the shortcut."""
    n, t = " ".join(name.split()), " ".join(text.split())
    if not n:
        return not t
    for ell in ELLIPSES:
        if n.endswith(ell):
            stem = n[: -len(ell)].rstrip()
            return bool(stem) and t.startswith(stem)
    return n == t


quote_text = st.text(alphabet=st.sampled_from(list("ab \n….")), max_size=12)
long_text = st.lists(st.sampled_from(["a", "b", " ", "\n", "     ", "\n\n\n\n"]), max_size=60).map("".join)


@settings(max_examples=500, deadline=None)
@given(quote_text, quote_text, st.booleans())
def test_quote_match_shortcut_agrees_with_the_rule(name, text, same):
    if same:
        text = name
    assert quote_matches(name, text) == reference_quote_matches(name, text)


@settings(max_examples=500, deadline=None)
@given(long_text, st.integers(0, 200), st.sampled_from(ELLIPSES), st.text(alphabet="ab ", max_size=3))
def test_cut_quotes_of_long_whitespace_heavy_texts(text, cut, ellipsis, noise):
    # a quote cut with an ellipsis, its stem taken from the text (sometimes changed a little)
    name = " ".join(text[:cut].split()) + noise + ellipsis
    assert quote_matches(name, text) == reference_quote_matches(name, text)


def qdpx(tmp_path, qde: str, name: str = "p.qdpx"):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("project.qde", qde)
        zf.writestr(f"sources/{G(10)}.txt", "P1: ja, dat is zo.\n")
    path = tmp_path / name
    path.write_bytes(buf.getvalue())
    return path


def test_schema_error_wins_over_an_error_the_reader_would_hit(tmp_path):
    # no startPosition: the schema requires it, and the reader would fail on int(None)
    path = qdpx(tmp_path, f'<Project xmlns="{NS}" name="t"><Sources><TextSource guid="{G(10)}" '
                          f'plainTextPath="internal://{G(10)}.txt"><PlainTextSelection guid="{G(20)}" '
                          'endPosition="3"/></TextSource></Sources></Project>')
    with pytest.raises(InputError) as err:
        read_refi(path)
    assert "does not follow the REFI-QDA schema" in str(err.value)
    assert "startPosition" in str(err.value)


def test_not_well_formed_xml_is_reported_by_defusedxml(tmp_path):
    broken = f'<Project xmlns="{NS}" name="t"><Sources></Project>'
    path = qdpx(tmp_path, broken)
    with pytest.raises(InputError) as expected:
        parse_xml(broken.encode(), str(path), "project.qde")
    with pytest.raises(InputError) as err:
        read_refi(path)
    assert str(err.value) == str(expected.value)
    assert "is not well-formed XML (mismatched tag" in str(err.value)


def test_a_valid_project_with_a_duplicate_guid_names_the_pair(tmp_path):
    # schema-valid, so the reader's own error (found while the schema check runs) is the one reported
    users = f'<Users><User guid="{G(1)}" name="a"/><User guid="{G(1).upper()}" name="b"/></Users>'
    path = qdpx(tmp_path, f'<Project xmlns="{NS}" name="t">{users}</Project>')
    with pytest.raises(InputError) as err:
        read_refi(path)
    assert f"gives two elements the same GUID {G(1).upper()} (<User> and <User>)" in str(err.value)


def test_imported_source_word_counts_equal_counting_the_text(tmp_path, sample_store):
    from qualcode.refi.export import export_refi
    from qualcode.refi.importer import import_refi_new
    from qualcode.store import Store

    out = tmp_path / "all.qdpx"
    export_refi(sample_store, out, all_segments=True)      # every segment: the pieces tile each text
    import_refi_new(tmp_path / "back.qualcode", out)
    with Store.open(tmp_path / "back.qualcode") as st_:
        rows = st_.conn.execute("SELECT id, text, n_words FROM sources").fetchall()
        assert rows
        for r in rows:
            assert r["n_words"] == count_words(r["text"])
        for seg in st_.conn.execute("SELECT text, n_words FROM segments"):
            assert seg["n_words"] == count_words(seg["text"])
