"""qualcode resegment (issue 16): re-cutting segments keeps every coding on its words."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from qualcode.ingest.resegment import resegment

try:  # at import time, not inside a Hypothesis test: importing test_sheet defines @given tests
    from tests.test_sheet import make_project
except ImportError:  # pragma: no cover
    from test_sheet import make_project

TRANSCRIPT = """\
# group: F1
Moderator: Welkom allemaal. Wat denken jullie over werk?
P1: Werk geeft mij structuur. En ik ben er trots op.
Het is soms zwaar.
P2: Maar de werkdruk, dat is stress. Echt waar. Ik stop ermee.
P3: Een jobcoach in het team. Bij de intake al.
"""


def make(tmp_path, name="p.qualcode"):
    return make_project(tmp_path, name=name, transcript=TRANSCRIPT)


def coded_chars(store) -> dict[tuple[str, str], set[int]]:
    """(code, coder) -> the offsets of the non-space characters it codes in each source."""
    out: dict[tuple[str, str], set[int]] = {}
    text = store.conn.execute("SELECT text FROM sources").fetchone()[0]
    for c in store.codings():
        chars = {i for i in range(c["start"], c["end"]) if not text[i].isspace()}
        out.setdefault((c["code"], c["coder"]), set()).update(chars)
    return out


def texts(store) -> list[tuple]:
    return sorted((c["code"], c["coder"], c["text"], bool(c["fragment"])) for c in store.codings())


def test_sentences_and_back_keeps_codings_and_memos(tmp_path):
    store = make(tmp_path)
    try:
        segs = list(store.segments())
        p1 = segs[1]
        assert p1["text"].startswith("Werk geeft mij structuur.")
        with store.act("codings"):
            store.add_coding(p1["id"], store.code("pros")["id"], "ann")                      # the whole turn
            a = p1["start"] + p1["text"].index("ik ben er trots")
            store.add_coding(p1["id"], store.code("cons")["id"], "ann", span=(a, a + len("ik ben er trots")))
            store.add_memo("segment", p1["id"], "over trots", "ann")
        before = texts(store)
        chars = coded_chars(store)
        report = resegment(store, "sentences")
        assert report.sources == [("p.qualcode.F1.txt", 4, 10)]
        assert [s["text"] for s in store.segments()][2:5] == [
            "Werk geeft mij structuur.", "En ik ben er trots op.", "Het is soms zwaar."]
        # the whole-turn coding is now one coding per sentence; the fragment stays a fragment
        assert texts(store) == [("cons", "ann", "ik ben er trots", True),
                                ("pros", "ann", "En ik ben er trots op.", False),
                                ("pros", "ann", "Het is soms zwaar.", False),
                                ("pros", "ann", "Werk geeft mij structuur.", False)]
        assert coded_chars(store) == chars
        [memo] = store.memos("segment")
        assert store.segment(memo["target_id"])["text"] == "Werk geeft mij structuur."
        assert report.lines()[1] == ("cut into sentences: 2 coding(s) kept on their words (1 now on part of a "
                                     "segment), 1 segment memo(s) moved")
        resegment(store, "turns")
        assert texts(store) == before                       # back to turns: the same codings
        assert [s["text"] for s in store.segments()] == [s["text"] for s in segs]
        assert store.segment(store.memos("segment")[0]["target_id"])["text"] == p1["text"]
        assert any("before-resegment" in b.name for b in store.backups())
    finally:
        store.close()


def test_cli_resegment_and_errors(tmp_path, run):
    store = make(tmp_path)
    path = store.path
    store.close()
    r = run(path, "resegment", "--split", "paragraphs")
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines()[0] == "p.qualcode.F1.txt: 4 -> 5 segments"
    r = run(path, "resegment", "--split", "sentences", "--source", "F9.txt")
    assert r.exit_code == 1 and r.stderr.startswith("Error: unknown source 'F9.txt'")


def test_a_span_across_segments_or_turns_is_refused(tmp_path):
    from qualcode.errors import ConflictError

    store = make(tmp_path)
    try:
        resegment(store, "sentences")
        s1, s2 = [s for s in store.segments()][2:4]
        with pytest.raises(ConflictError, match="runs over more than one segment of P1's turn"):
            store.add_coding(s1["id"], store.code("pros")["id"], "ann", span=(s1["start"], s2["end"]))
        last = list(store.segments())[-1]
        with pytest.raises(ConflictError, match="does not lie within one speaker's turn"):
            store.add_coding(s2["id"], store.code("pros")["id"], "ann", span=(s2["start"], last["end"]))
    finally:
        store.close()


# (segment index, first word, number of words (0: whole segment), code, coder)
codings_strategy = st.lists(st.tuples(st.integers(0, 9), st.integers(0, 12), st.integers(0, 5),
                                      st.sampled_from(["pros", "cons", "coach"]), st.sampled_from(["ann", "bob"])),
                            max_size=12)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(start=st.sampled_from(["turns", "sentences", "paragraphs"]), codings=codings_strategy,
       steps=st.lists(st.sampled_from(["turns", "sentences", "paragraphs"]), min_size=1, max_size=3))
@example(start="turns", codings=[(1, 0, 0, "pros", "ann"), (1, 4, 3, "pros", "ann")], steps=["sentences", "turns"])
def test_resegment_keeps_every_coded_word(tmp_path_factory, start, codings, steps):
    tmp = tmp_path_factory.mktemp("rs")
    store = make(tmp)
    try:
        if start != "turns":
            resegment(store, start)
        segs = list(store.segments())
        with store.act("codings"):
            for i, first, n, code, coder in codings:
                seg = segs[i % len(segs)]
                words = seg["text"].split(" ")
                span = None
                if n and first < len(words):
                    part = " ".join(words[first:first + n]).strip()
                    if part:
                        at = seg["text"].index(part)
                        span = (seg["start"] + at, seg["start"] + at + len(part))
                store.add_coding(seg["id"], store.code(code)["id"], coder, span=span)
        chars = coded_chars(store)
        for split in steps:
            resegment(store, split)
            assert coded_chars(store) == chars
            text = store.conn.execute("SELECT text FROM sources").fetchone()[0]
            for c in store.codings():                     # every coding reads its words from the source
                assert text[c["start"]:c["end"]] == c["text"]
                seg = store.segment(c["segment_id"])
                assert seg["start"] <= c["start"] < c["end"] <= seg["end"]
    finally:
        store.close()
