"""Quotes a thesis can use: each turn once per report, chosen for the theme (its codes, then spread
over groups and participants, then typicality), coded fragments as marked, long turns shortened at
sentence boundaries, pinned quotes first."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from qualcode.errors import ConflictError, NotFoundError
from qualcode.reports.quotes import MAX_QUOTE_WORDS, choose_quotes, pin_quote, quote_listing, shorten

from test_workbook import make_project


@pytest.fixture
def mini(tmp_path):
    store = make_project(tmp_path / "mini.qualcode")
    yield store
    store.close()


def _frag(i, code, group="F1", key=None, words=12):
    return {"id": (i, 0, 1), "segment_id": i, "key": key or f"{group} P{i}", "group": group, "codes": [code],
            "n_words": words, "text": "woord " * words, "fragment": False}


def test_choose_covers_codes_then_groups_then_participants():
    ranked = [(_frag(1, "a", "F1"), 0.9), (_frag(2, "a", "F1"), 0.8), (_frag(3, "a", "F2"), 0.7),
              (_frag(4, "b", "F1"), 0.1)]
    picked = choose_quotes(ranked, 3)
    assert [q["segment_id"] for q in picked] == [1, 4, 3]   # most typical; code b; then another group


def test_pinned_come_first_and_used_turns_never_return():
    ranked = [(_frag(1, "a"), 0.9), (_frag(2, "a"), 0.8), (_frag(3, "a"), 0.1)]
    used = {2}
    picked = choose_quotes(ranked, 2, pinned={3}, used=used)
    assert [(q["segment_id"], q["pinned"]) for q in picked] == [(3, True), (1, False)]
    assert used == {1, 2, 3}
    assert choose_quotes(ranked, 3, used=used) == []


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 15), st.sampled_from("abc"), st.sampled_from(["F1", "F2", "F3"])),
                max_size=40), st.integers(0, 5))
@example([(1, "a", "F1"), (1, "b", "F2")], 2)
def test_no_turn_twice_across_themes(items, n):
    used: set = set()
    shown = []
    for theme in range(3):
        ranked = [(_frag(i, code, group), 1.0 / (k + 1)) for k, (i, code, group) in enumerate(items)
                  if (i + theme) % 2 == 0 or code == "a"]
        shown += [q["segment_id"] for q in choose_quotes(ranked, n, used=used)]
    assert len(shown) == len(set(shown))


def test_shorten_at_sentence_boundaries():
    long = " ".join(f"Zin {k} heeft hier vijf woorden." for k in range(30))   # 180 words
    out = shorten(long, fragment=False)
    assert out.endswith(". …") and len(out.split()) - 1 <= MAX_QUOTE_WORDS
    assert out.startswith("Zin 0 heeft hier vijf woorden. Zin 1")
    assert shorten(long, fragment=True) == long                      # a marked fragment is quoted as marked
    assert shorten("Kort en goed.", fragment=False) == "Kort en goed."
    one = "woord " * 80
    assert shorten(one, False) == " ".join(["woord"] * MAX_QUOTE_WORDS) + " …"   # no sentence end: cut at a word


def test_report_quotes_unique_and_fragments_as_marked(tmp_path):
    from qualcode.reports.report import build_report

    store = make_project(tmp_path / "p.qualcode")
    seg = next(s for s in store.segments(role="participant") if s["group_label"] == "F2" and s["ordinal"] == 3)
    words = seg["text"].split()
    start = seg["start"] + seg["text"].index(words[2])
    with store.act("code"):
        store.add_coding(seg["id"], store.code("intake")["id"], "anna", "manual", span=(start, start + 20))
    r = build_report(store, figures=False, n_quotes=10)
    ids = [q["segment_id"] for t in r.themes for q in t.quotes]
    assert ids and len(ids) == len(set(ids))                          # each turn once in the report
    care = next(t for t in r.themes if t.key == "care")
    quoted = {q["segment_id"]: q["text"] for q in care.quotes}
    assert quoted.get(seg["id"]) == seg["text"][start - seg["start"]:start - seg["start"] + 20]
    store.close()


def test_pin_and_unpin(mini):
    listing = quote_listing(mini, theme="work", n=1)
    assert len(listing["themes"]) == 1 and len(listing["themes"][0]["quotes"]) == 1
    first = listing["themes"][0]["quotes"][0]["segment_id"]
    other = next(c["segment_id"] for c in mini.codings(coder="anna") if c["theme"] == "work"
                 and c["segment_id"] != first)
    pin = pin_quote(mini, "work", other)
    assert pin["theme"] == "work" and mini.history(1)[0]["command"] == "quote pin"
    quotes = quote_listing(mini, theme="work", n=1)["themes"][0]["quotes"]
    assert [(q["segment_id"], q["pinned"]) for q in quotes] == [(other, True)]
    with pytest.raises(ConflictError, match="already pinned"):
        pin_quote(mini, "work", other)
    care_only = next(c["segment_id"] for c in mini.codings() if c["code"] == "intake")
    with pytest.raises(ConflictError, match="not a participant's turn coded under theme 'work'"):
        pin_quote(mini, "work", care_only)
    pin_quote(mini, "work", other, pin=False)
    with pytest.raises(NotFoundError, match="is not pinned"):
        pin_quote(mini, "work", other, pin=False)
    mini.undo()          # the unpin
    assert quote_listing(mini, theme="work", n=1)["themes"][0]["quotes"][0]["pinned"]


def test_quote_cli(mini, run):
    path = mini.path
    seg = next(c["segment_id"] for c in mini.codings(coder="anna") if c["theme"] == "work")
    key = mini.segment(seg)["key"]
    mini.close()
    r = run(path, "quote", "pin", "work", seg)
    assert r.exit_code == 0 and r.stdout == f"pinned #{seg} ({key}) under work\n"
    r = run(path, "quotes", "--theme", "work")
    assert f"  #{seg} [pinned] “" in r.stdout
    r = run(path, "quote", "unpin", "work", seg)
    assert r.stdout == f"unpinned #{seg} from work\n"
