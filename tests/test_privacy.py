"""Pseudonymisation (qualcode.privacy.pseudonyms) and identifying attributes."""

from __future__ import annotations

import csv
import random
import re

import pytest

from qualcode.errors import InputError
from qualcode.privacy.pseudonyms import (
    EMAIL_RE,
    PHONE_RE,
    NameEntry,
    map_offset,
    pseudonymise,
    read_names,
    rewrite,
    write_mapping,
)

PEOPLE = ["Jan Peeters", "Marleen", "Kris Van den Broeck", "Sofie", "Ahmed El Amrani", "Lies", "Bart Wouters",
          "Hilde", "Tom De Smet", "Annelies Claes", "Wim", "Fatima", "Joris Maes", "Els", "Koen Jacobs",
          "Nathalie", "Dirk", "Greet Verhoeven"]
ORGS = ["OPZ Geel", "GTB", "CGG Ahasverus", "Huize Sint-Jozef", "VDAB Halle", "Emmaüs"]
PLACES = ["Vilvoorde", "Halle", "Zemst", "Machelen", "Grimbergen", "Lennik"]
EMAILS = ["jan.peeters@opz-geel.be", "marleen_x@telenet.be", "k.vdbroeck@gmail.com", "info@gtb.be",
          "sofie+werk@hotmail.nl", "a.elamrani@cgg.be", "lies@example.org", "bart.w@vdab.be",
          "hilde.t@zorg.nl", "tom@desmet.eu"]
PHONES = ["0475 12 34 56", "+32 475 98 76 54", "0032 2 123 45 67", "02/123.45.68", "053 21 43 65",
          "+31 6 12345678", "06-12345678", "0031 20 123 4567", "010-1234567", "0497/11.22.33"]
FILLER = ["ik vond dat eigenlijk wel straf", "de jobcoach kwam elke week langs", "dat gaf veel structuur",
          "allez, ge moet dat zien he", "de werkdruk was soms te hoog", "bij de intake vroegen ze niks over werk"]


def seeded_transcript(seed: int = 7) -> str:
    """30 names (18 people, 6 organisations, 6 places), 10 e-mail addresses and 10 phone numbers."""
    rng = random.Random(seed)
    items = ([(n, "naam") for n in PEOPLE] + [(n, "organisatie") for n in ORGS] + [(n, "plaats") for n in PLACES]
             + [(e, "e-mail") for e in EMAILS] + [(p, "telefoon") for p in PHONES])
    rng.shuffle(items)
    lines = ["# group: F1"]
    speakers = ["Moderator", "P1", "P2", "P3", "P4"]
    for i, (thing, _) in enumerate(items):
        who = speakers[i % len(speakers)]
        a, b = rng.sample(FILLER, 2)
        lines.append(f"{who}: {a.capitalize()}, en toen zei {thing} dat {b}.")
    return "\n".join(lines) + "\n"


def names_csv(path):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["name", "category"])
        w.writerows([(n, "person") for n in PEOPLE] + [(n, "organisation") for n in ORGS]
                    + [(n, "place") for n in PLACES])
    return path


@pytest.fixture
def seeded(tmp_path, tiny_codebook_factory):
    from qualcode.ingest import ingest
    from qualcode.store import Store

    t = tmp_path / "F1.txt"
    t.write_text(seeded_transcript(), encoding="utf-8")
    store = Store.create(tmp_path / "p.qualcode")
    ingest(store, [t], allow_new_speakers=True)
    codes = tiny_codebook_factory(store)
    segs = list(store.segments())
    with store.act("code"):
        for k, s in enumerate(segs):
            store.add_coding(s["id"], list(codes.values())[k % 4], "tester")
        store.add_memo("segment", segs[3]["id"], "Check wat Jan Peeters hier bedoelt", "tester")
    with store.act("theme define", summary="definitie zoals Greet Verhoeven het zei"):
        store.update_theme(store.themes()[0]["id"], definition="Zoals Hilde zei: werk geeft structuur")
    yield store, tmp_path
    store.close()


def expected(text: str) -> str:
    """The text with every seeded item removed, placeholders reduced to their category."""
    for thing in sorted(PEOPLE + ORGS + PLACES + EMAILS + PHONES, key=len, reverse=True):
        text = text.replace(thing, "<X>")
    return text


def strip_placeholders(text: str) -> str:
    return re.sub(r"\[(naam|organisatie|plaats|e-mail|telefoon) \d+\]", "<X>", text)


def test_acceptance_30_names_10_emails_10_phones(seeded):
    store, tmp = seeded
    before = {s["id"]: s["text"] for s in store.segments()}
    codings_before = sorted((c["segment_id"], c["code_id"]) for c in store.codings())
    report = pseudonymise(store, names=read_names(names_csv(tmp / "names.csv")))
    counts = report.counts()
    assert counts == {"naam": 18, "organisatie": 6, "plaats": 6, "e-mail": 10, "telefoon": 10}
    src = store.source(1)
    for thing in PEOPLE + ORGS + PLACES + EMAILS + PHONES:
        assert thing not in src["text"]
    # every segment still holds the same (non-name) words, and offsets are consistent
    for s in store.segments():
        assert src["text"][s["start"]:s["end"]] == s["text"]
        assert strip_placeholders(s["text"]) == expected(before[s["id"]])
    # codings point at the same segments, hence the same words
    assert sorted((c["segment_id"], c["code_id"]) for c in store.codings()) == codings_before
    # the memo lost its name too, with the same placeholder as in the text
    memo = store.memos("segment")[0]["text"]
    jan = next(r.placeholder for r in report.replacements if r.original == "Jan Peeters")
    assert memo == f"Check wat {jan} hier bedoelt"
    # nothing of the originals is left anywhere in the file (secure_delete + VACUUM)
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw = (tmp / "p.qualcode").read_bytes()
    for thing in ["Kris Van den Broeck", "a.elamrani@cgg.be", "+32 475 98 76 54", "Grimbergen", "Hilde",
                  "Greet Verhoeven", "Jan Peeters"]:
        assert thing.encode() not in raw
    # not undoable
    last = store.conn.execute("SELECT command, undoable FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
    assert tuple(last) == ("pseudonymise", 0)


def test_placeholders_are_stable_and_numbering_continues(empty_store, tmp_path):
    from qualcode.ingest import ingest

    f = tmp_path / "F1.txt"
    f.write_text("P1: Jan zag jan en Jan. Bel 0475 12 34 56 of +32 475 12 34 56.\nP2: Piet ook.\n", encoding="utf-8")
    ingest(empty_store, [f], allow_new_speakers=True)
    pseudonymise(empty_store, names=[NameEntry("Jan", "naam")])
    text = empty_store.source(1)["text"]
    assert text == "P1: [naam 1] zag jan en [naam 1]. Bel [telefoon 1] of [telefoon 1].\nP2: Piet ook.\n"
    pseudonymise(empty_store, names=[NameEntry("Piet", "naam"), NameEntry("jan", "naam")])
    text = empty_store.source(1)["text"]
    # a later run does not know the earlier originals (no mapping is kept in the project), so it
    # continues the numbering: 'jan' becomes [naam 2] even though it is the same person
    assert text == "P1: [naam 1] zag [naam 2] en [naam 1]. Bel [telefoon 1] of [telefoon 1].\nP2: [naam 3] ook.\n"


def test_dry_run_lists_keys_and_changes_nothing(seeded):
    store, tmp = seeded
    before = store.source(1)["text"]
    report = pseudonymise(store, names=[NameEntry("Marleen", "naam")], dry_run=True)
    lines = report.lines()
    assert store.source(1)["text"] == before
    marleen = [ln for ln in lines if "'Marleen'" in ln]
    assert len(marleen) == 1 and re.match(r"\(F1 (P\d|Moderator)\)  'Marleen' -> \[naam 1\]  \(lijst\)", marleen[0])
    assert lines[-1].startswith("dry run: 21 replacement(s) would be made")


def test_title_detection_and_offsets_across_segments(empty_store, tmp_path):
    from qualcode.ingest import ingest

    f = tmp_path / "F2.txt"
    f.write_text("Moderator: Dag mevrouw De Smet.\nP1: Dokter Janssens zei dat.\n"
                 "P2: Meneer van der Berg belde.\n", encoding="utf-8")
    ingest(empty_store, [f], allow_new_speakers=True)
    pseudonymise(empty_store)
    segs = [s["text"] for s in empty_store.segments()]
    assert segs == ["Dag mevrouw [naam 1].", "Dokter [naam 2] zei dat.", "Meneer [naam 3] belde."]


def test_offset_mapping_inside_and_around_spans():
    text = "abcNAMEdef"
    new, moves = rewrite(text, [(3, 7, "[n]")])
    assert new == "abc[n]def"
    assert map_offset(3, moves, is_end=False) == 3 and map_offset(7, moves, is_end=False) == 6
    assert map_offset(5, moves, is_end=False) == 3 and map_offset(5, moves, is_end=True) == 6
    assert map_offset(3, moves, is_end=True) == 3 and map_offset(10, moves, is_end=True) == 9


@pytest.mark.parametrize("phone", PHONES + ["+32 (0)2 123 45 67", "0486.12.34.56"])
def test_phone_formats(phone):
    m = PHONE_RE.search(f"bel {phone}, dank u")
    assert m and m.group(0) == phone


@pytest.mark.parametrize("text", ["in 2018 en 2019", "0,5 procent", "zo'n 600 trajecten", "tussen 30-40 jaar",
                                  "15 jaar ervaring", "om 10:30 uur"])
def test_no_false_phones(text):
    assert not PHONE_RE.search(text)


def test_phone_identity():
    from qualcode.privacy.pseudonyms import _norm

    same = ["0475 12 34 56", "+32 475 12 34 56", "0032 475/12.34.56", "+32 (0)475 12 34 56"]
    assert {_norm(p, "telefoon") for p in same} == {"475123456"}
    assert _norm("+31 20 123 4567", "telefoon") == _norm("020-1234567", "telefoon")
    assert _norm("0475 12 34 57", "telefoon") != _norm("0475 12 34 56", "telefoon")


def test_email_regex():
    assert [m.group(0) for m in EMAIL_RE.finditer("mail a.b@c.be, of x@y.nl.")] == ["a.b@c.be", "x@y.nl"]


def test_read_names_errors(tmp_path):
    p = tmp_path / "n.csv"
    p.write_text("wie,soort\nJan,persoon\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        read_names(p)
    assert str(e.value) == (f"{p}, line 1: has no 'name' column; the first row must name the columns, "
                            "e.g. 'name,category'")
    p.write_text("name,category\nJan,hond\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        read_names(p)
    assert str(e.value) == (f"{p}, line 2: unknown category 'hond'; use person, organisation or place "
                            "(persoon, organisatie, plaats)")
    p.write_text("naam;categorie\nAZ Sint-Jan;organisatie\nHalle;plaats\nJef;\n", encoding="utf-8")
    assert [(n.name, n.category) for n in read_names(p)] == [("AZ Sint-Jan", "organisatie"), ("Halle", "plaats"),
                                                             ("Jef", "naam")]


def test_cli_pseudonymise_mapping_and_backup_warning(seeded, run):
    store, tmp = seeded
    store.backup("before-test")
    path = store.path
    store.close()
    names = names_csv(tmp / "names.csv")
    r = run(path, "pseudonymise", "--names", names, "--mapping-out", tmp / "key.csv")
    assert r.exit_code == 0, r.output
    assert "replaced 50 occurrence(s)" in r.stdout
    assert ("warning: 1 backup(s) made before this still hold the original names; delete them with "
            "'qualcode backup prune' once you no longer need them") in r.stdout
    assert "store it separately from the project" in r.stderr
    rows = list(csv.reader(open(tmp / "key.csv", encoding="utf-8")))
    assert rows[0] == ["placeholder", "category", "original"]
    originals = {row[2].lstrip("'") for row in rows[1:]}
    assert set(PEOPLE + ORGS + PLACES + EMAILS) <= originals
    # a phone starting with '+' is neutralised against formula injection in the CSV
    assert "'+32 475 98 76 54" in {row[2] for row in rows[1:]}
    r = run(path, "pseudonymise", "--names", names, "--mapping-out", tmp / "key.csv")
    assert r.exit_code == 1
    assert r.stderr.strip() == f"Error: {tmp / 'key.csv'} already exists; use --force to overwrite it."


def test_write_mapping_only_when_asked(seeded):
    store, tmp = seeded
    before = set(tmp.iterdir())
    pseudonymise(store, names=[NameEntry("Sofie", "naam")])
    assert {p for p in tmp.iterdir() if p.suffix == ".csv"} - before == set()
    report = pseudonymise(store, names=[NameEntry("Lies", "naam")], dry_run=True)
    assert write_mapping(report, tmp / "m.csv").read_text(encoding="utf-8").splitlines() == [
        "placeholder,category,original", "[naam 2],naam,Lies"]


# ------------------------------------------------------------ identifying attributes
def test_cli_attribute_identifying(sample_path, run):
    r = run(sample_path, "attribute", "identifying", "years_experience")
    assert r.exit_code == 0
    assert r.stdout.startswith("attribute 'years_experience' is now identifying")
    r = run(sample_path, "participants", "--group", "F1")
    assert "years_experience*" in r.stdout
    r = run(sample_path, "attribute", "identifying", "shoe_size")
    assert r.exit_code == 1
    assert r.stderr.startswith("Error: unknown participant attribute 'shoe_size'.")
    r = run(sample_path, "attribute", "identifying", "years_experience", "--off")
    assert "no longer identifying" in r.stdout


def test_cli_dry_run_and_missing_deduce(seeded, run):
    store, tmp = seeded
    path = store.path
    before = store.source(1)["text"]
    store.close()
    r = run(path, "pseudonymise", "--dry-run", "--detect", "none")
    assert r.exit_code == 0, r.output
    lines = r.stdout.strip().splitlines()
    assert len(lines) == 21          # 10 e-mails + 10 phones + the summary
    assert any(re.fullmatch(r"\(F1 (P\d|Moderator)\)  'jan\.peeters@opz-geel\.be' -> \[e-mail \d+\]  \(e-mail\)", ln)
               for ln in lines)
    # '+31 6 12345678' and '06-12345678' are one number, so one placeholder
    assert lines[-1] == ("dry run: 20 replacement(s) would be made (10 e-mail, 10 telefoon), 19 distinct "
                         "placeholder(s); nothing was changed")
    from qualcode.store import Store

    with Store.open(path) as s2:
        assert s2.source(1)["text"] == before
    try:
        import deduce  # noqa: F401
    except ImportError:
        r = run(path, "pseudonymise", "--detect", "deduce")
        assert r.exit_code == 1
        assert r.stderr.strip() == ("Error: --detect deduce needs the optional package 'deduce' "
                                    "(pip install 'qualcode[deduce]'); see docs/privacy.md")


def test_commands_have_help_and_are_documented():
    from pathlib import Path

    from qualcode.cli import cli

    docs = (Path(__file__).resolve().parent.parent / "docs" / "privacy.md").read_text(encoding="utf-8")
    commands = [("pseudonymise", cli.commands["pseudonymise"])]
    for group in ("attribute", "backup"):
        g = cli.commands[group]
        assert g.help
        commands += [(f"{group} {n}", c) for n, c in g.commands.items()]
    for name, cmd in commands:
        assert cmd.help, name
        assert all(p.help for p in cmd.params if p.param_type_name == "option"), name
        assert f"qualcode {name}" in docs, f"'qualcode {name}' is not in docs/privacy.md"


def test_undo_after_pseudonymise_never_brings_names_back(seeded):
    store, _ = seeded
    tid = store.themes()[0]["id"]
    with store.act("theme define"):
        store.update_theme(tid, definition="Een nieuwe definitie")
    pseudonymise(store, names=[NameEntry("Hilde", "naam")])
    store.undo(1)        # reverses 'theme define' (pseudonymise itself is not undoable)
    definition = store.theme(tid)["definition"]
    assert definition == "Zoals [naam 1] zei: werk geeft structuur"
