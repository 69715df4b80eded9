"""Privacy that holds (issue 23): names in theme and code names do not come back through undo,
and typography (non-breaking and thin spaces, soft hyphens, zero-width characters) does not hide a
name or a phone number from pseudonymisation or its dry run."""

from __future__ import annotations

import re

import pytest

from qualcode.themes import retheme as T
from qualcode.privacy.pseudonyms import NameEntry, find_spans, fold, pseudonymise


@pytest.fixture
def project(tmp_path, tiny_codebook_factory):
    from qualcode.ingest import ingest
    from qualcode.store import Store

    t = tmp_path / "F1.txt"
    t.write_text("# group: F1\n"
                 "Moderator: Wat denkt ge daarvan?\n"
                 "P1: Mevrouw\u00a0Claes zei dat het goed ging.\n"
                 "P2: Bel Jan\u00a0Peeters op 0475\u202f12\u202f34\u202f56 of +32\u2009475\u200998\u200976\u200954.\n"
                 "P1: Pee\u00adters en So\u200bfie waren er ook, en mail naar sofie\u200b@voorbeeld.be.\n",
                 encoding="utf-8")
    store = Store.create(tmp_path / "p.qualcode")
    ingest(store, [t], allow_new_speakers=True)
    tiny_codebook_factory(store)
    yield store
    store.close()


NAMES = [NameEntry("Jan Peeters", "naam"), NameEntry("Peeters", "naam"), NameEntry("Sofie", "naam")]


def test_undo_after_pseudonymise_does_not_bring_a_name_back(project):
    T.rename_theme(project, "care", "Steun volgens Jan Peeters")
    T.rename_code(project, "coach", "Jobcoach van Sofie")
    T.rename_theme(project, "care", "Zorg en werk")
    pseudonymise(project, names=NAMES)
    T.undo(project, 1)  # the second rename: back to the name the theme had before it
    assert re.fullmatch(r"Steun volgens \[naam \d\]", project.theme("care")["name"])
    assert re.fullmatch(r"Jobcoach van \[naam \d\]", project.code("coach")["name"])
    raw = " ".join(str(v) for row in project.conn.execute("SELECT old, new FROM audit_changes") for v in row)
    assert "Peeters" not in raw and "Sofie" not in raw
    T.undo(project, 2)
    assert project.theme("care")["name"] == "Zorg en werk"


def test_typography_does_not_hide_names_or_numbers(project):
    dry = pseudonymise(project, names=NAMES, dry_run=True)
    found = sorted((r.original, r.category) for r in dry.replacements)
    assert found == sorted([
        ("Claes", "naam"), ("Jan\u00a0Peeters", "naam"), ("0475\u202f12\u202f34\u202f56", "telefoon"),
        ("+32\u2009475\u200998\u200976\u200954", "telefoon"), ("Pee\u00adters", "naam"), ("So\u200bfie", "naam"),
        ("sofie\u200b@voorbeeld.be", "e-mail")])
    pseudonymise(project, names=NAMES)
    text = project.source(project.sources()[0]["id"])["text"]
    folded = fold(text)[0]
    for leaked in ("Claes", "Peeters", "Sofie", "sofie", "0475", "475"):
        assert leaked not in folded
    for seg in project.segments():  # offsets moved with the text
        assert text[seg["start"]:seg["end"]] == seg["text"]


@pytest.mark.parametrize("text", ["Sof\u00adie", "So\ufb01e", "Sofie", "S\u200bo\u200bf\u200bi\u200be"])
def test_spans_are_offsets_in_the_original_text(text):
    line = f"Ik zag {text} gisteren."
    spans = find_spans(line, [(p, c) for p, c in __import__("qualcode.privacy.pseudonyms", fromlist=["x"])._list_pattern(
        [NameEntry("Sofie", "naam")], False)])
    assert [line[s:e] for s, e, *_ in spans] == [text]  # a ligature 'ﬁ' folds to 'fi': still the name


def test_pseudonymise_forgets_what_a_refi_import_read(project):
    """The per-segment hashes a REFI import keeps for review could confirm a guessed name."""
    src = project.sources()[0]
    with project.act("import refi (test)"):
        project.set_refi_read_record(src["guid"], {"file": "x.qdpx", "segments": {"g": "0123456789abcdef"}})
    pseudonymise(project, names=NAMES)
    assert project.refi_read_record(src["guid"]) is None
