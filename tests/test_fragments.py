"""Fragments (issue 16): codings on an exact span inside a segment, found from the words given."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from qualcode.coding.fragments import FragmentNotFound, find_fragment
from qualcode.store import Store


# ---------------------------------------------------------------- finding the words
TEXT = "Ik vond het “heel fijn” om te werken.  Maar de  werkdruk, dat was soms te veel."


def test_exact_words_are_found():
    assert find_fragment(TEXT, "de  werkdruk") == (TEXT.index("de  werkdruk"), TEXT.index("de  werkdruk") + 12)


def test_empty_means_whole_segment():
    assert find_fragment(TEXT, "") is None
    assert find_fragment(TEXT, "   ") is None


def test_spaces_quotes_and_case_do_not_matter():
    start, end = find_fragment(TEXT, 'het "HEEL fijn" om')
    assert TEXT[start:end] == "het “heel fijn” om"
    start, end = find_fragment(TEXT, "maar de werkdruk,\n dat")
    assert TEXT[start:end] == "Maar de  werkdruk, dat"


def test_not_found_and_found_twice_are_errors_naming_the_place():
    with pytest.raises(FragmentNotFound) as exc:
        find_fragment(TEXT, "vakantie", where="segment 7")
    assert str(exc.value) == (
        "the fragment 'vakantie' is not in the segment's text (segment 7); copy the words from the segment's "
        "text itself (differences in spaces, quote marks and capitals do not matter), or leave it empty to "
        "code the whole segment.")
    with pytest.raises(FragmentNotFound, match=r"'te' occurs 2 times in the segment's text \(segment 7\); add a few"):
        find_fragment(TEXT, "te", where="segment 7")
    with pytest.raises(FragmentNotFound, match="occurs 2 times"):
        find_fragment("Werk is werk.", "WERK")


words = st.text(alphabet="abcAB “”\"' \n\t.é😀", min_size=1, max_size=30)


@settings(deadline=None, max_examples=200)
@given(prefix=words, middle=words, suffix=words)
@example(prefix="a", middle="b", suffix="c")
def test_found_span_reads_back_as_the_words(prefix, middle, suffix):
    text = prefix + "|" + middle + "#" + suffix
    needle = "|" + middle + "#"
    start, end = find_fragment(text, needle)
    assert text[start:end] == needle.strip()


# ---------------------------------------------------------------- CLI
@pytest.fixture
def coded(sample_path, tiny_codebook_factory):
    store = Store.open(sample_path)
    tiny_codebook_factory(store)
    seg = next(s for s in store.segments(role="participant") if len(s["text"].split()) > 12)
    store.close()
    return sample_path, seg


def test_cli_code_and_uncode_a_fragment(coded, run):
    path, seg = coded
    words = " ".join(seg["text"].split()[2:6])
    r = run(path, "code", seg["id"], "pros", "--fragment", words.upper())
    assert r.exit_code == 0, r.output
    assert r.stdout.strip() == "coded 1 fragment(s) with pros as tester"
    r = run(path, "code", seg["id"], "pros")                      # the whole segment too: another coding
    assert r.stdout.strip() == "coded 1 segment(s) with pros as tester"
    with Store.open(path) as store:
        rows = store.codings()
        assert sorted((r["fragment"], r["text"]) for r in rows) == [
            (0, seg["text"]), (1, seg["text"][seg["text"].index(words.split()[0]):][:len(words)])]
        [frag] = [r for r in rows if r["fragment"]]
        assert store.segment(seg["id"])["text"][frag["start"] - seg["start"]:frag["end"] - seg["start"]] == frag["text"]
    r = run(path, "segments", "--codes", "--group", seg["group_label"], "--limit", "200")
    assert f"pros: “{frag['text']}”" in r.stdout
    r = run(path, "uncode", seg["id"], "pros", "--fragment", words)
    assert r.exit_code == 0, r.output
    with Store.open(path) as store:
        assert [(r["fragment"], r["code"]) for r in store.codings()] == [(0, "pros")]
    r = run(path, "undo")
    assert r.exit_code == 0
    with Store.open(path) as store:
        assert store.count_codings() == 2


def test_cli_fragment_not_in_segment_writes_nothing(coded, run):
    path, seg = coded
    r = run(path, "code", seg["id"], "pros", "--fragment", "zebra giraffe olifant")
    assert r.exit_code == 1
    assert r.stderr.startswith(f"Error: the fragment 'zebra giraffe olifant' is not in the segment's text "
                               f"(segment {seg['id']});")
    with Store.open(path) as store:
        assert store.count_codings() == 0
    r = run(path, "uncode", seg["id"], "pros", "--fragment", seg["text"].split()[3])
    assert r.exit_code == 1


def test_fragments_move_with_their_words_when_names_are_pseudonymised(empty_store, tmp_path):
    from qualcode.ingest import ingest
    from qualcode.privacy.pseudonyms import NameEntry, pseudonymise
    from tests.helpers import tiny_codebook

    f = tmp_path / "F1.txt"
    f.write_text("P1: Jan zei dat Jan het werk met structuur en trots deed.\nP2: Piet ook.\n", encoding="utf-8")
    ingest(empty_store, [f], allow_new_speakers=True)
    tiny_codebook(empty_store)
    seg = next(iter(empty_store.segments()))
    a = seg["start"] + seg["text"].index("Jan het werk")
    b = seg["start"] + seg["text"].index("structuur") + len("structuur")
    with empty_store.act("fragment"):
        empty_store.add_coding(seg["id"], empty_store.code("pros")["id"], "ann", span=(a, b))
    pseudonymise(empty_store, names=[NameEntry("Jan", "naam")])
    [c] = empty_store.codings()
    assert c["text"] == "[naam 1] het werk met structuur"
    assert empty_store.segment(seg["id"])["text"] == "[naam 1] zei dat [naam 1] het werk met structuur en trots deed."


def test_cli_kwic_marks_hits_inside_coded_fragments(coded, run):
    path, seg = coded
    words = seg["text"].split()
    target = next(w.strip(".,?!") for w in words[3:] if len(w.strip(".,?!")) > 4 and w.isalpha())
    run(path, "code", seg["id"], "cons", "--fragment", " ".join(words[2:]).strip())
    r = run(path, "kwic", target, "--group", seg["group_label"])
    line = next(ln for ln in r.stdout.splitlines() if f"#{seg['id']}" in ln)
    assert line.endswith(f"#{seg['id']} [cons]")


def test_review_rereads_fragments_against_their_segment(coded):
    from qualcode.themes.review import format_review, run_review

    path, seg = coded
    with Store.open(path) as store:
        with store.act("fragment"):
            store.add_coding(seg["id"], store.code("pros")["id"], "ann", span=(seg["start"] + 1, seg["start"] + 6))
        r = run_review(store)
        assert r.fragments_checked == 1 and not [x for x in r.integrity if x["kind"] == "fragment"]
        assert ", 1 coded fragment(s) re-read; 0 problem(s)" in format_review(r).splitlines()[0]
        # a damaged project: the fragment's offsets point outside its segment
        store.conn.execute('UPDATE codings SET "end" = ? WHERE start IS NOT NULL', (seg["end"] + 3,))
        store.conn.commit()
        r = run_review(store)
        [bad] = [x for x in r.integrity if x["kind"] == "fragment"]
        assert bad["segment_id"] == seg["id"] and bad["coded"] is True
        [w] = [w for w in r.by_check("integrity") if w.subject.startswith("coding #")]
        assert w.message == (f"its fragment {seg['start'] + 1}-{seg['end'] + 3} is no longer inside its segment "
                             f"({seg['start']}-{seg['end']}).")


def test_agreement_unit_counts_fragments_of_a_segment_once(coded):
    path, seg = coded
    with Store.open(path) as store:
        with store.act("codings"):
            pros = store.code("pros")["id"]
            store.add_coding(seg["id"], pros, "ann", span=(seg["start"], seg["start"] + 4))
            store.add_coding(seg["id"], pros, "ann", span=(seg["start"] + 6, seg["start"] + 12))
            store.add_coding(seg["id"], pros, "bob")
        assert store.coder_codings(["ann", "bob"]) == [(seg["id"], "pros", "ann"), (seg["id"], "pros", "bob")]


def test_merging_codes_keeps_fragments_apart_from_whole_segment_codings(coded):
    from qualcode.themes.retheme import merge_codes

    path, seg = coded
    with Store.open(path) as store:
        with store.act("codings"):
            store.add_coding(seg["id"], store.code("pros")["id"], "ann", span=(seg["start"], seg["start"] + 5))
            store.add_coding(seg["id"], store.code("cons")["id"], "ann")
            store.add_coding(seg["id"], store.code("cons")["id"], "ann", span=(seg["start"], seg["start"] + 5))
        merge_codes(store, "pros", "cons")
        assert sorted((c["code"], c["text"]) for c in store.codings()) == [
            ("cons", seg["text"][:5]), ("cons", seg["text"])]


def test_workbook_coded_fragments_and_quotes_show_the_fragment(coded, tmp_path):
    from openpyxl import load_workbook

    from qualcode.excel.analysis import write_workbook

    path, seg = coded
    words = seg["text"][:seg["text"].index(" ", 30)]
    with Store.open(path) as store:
        with store.act("codings"):
            store.add_coding(seg["id"], store.code("pros")["id"], "ann", span=(seg["start"], seg["start"] + len(words)))
        out = tmp_path / "w.xlsx"
        write_workbook(store, out)
    wb = load_workbook(out, read_only=True)
    cells = [str(c) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for c in row if c]
    assert words in cells                                     # the coded-fragments sheets: the words
    assert f"“{' '.join(words.split())}” ({seg['key']})" in cells   # the quotes sheet: cited with its key
    assert seg["text"] not in cells                           # the whole turn is not shown as coded
