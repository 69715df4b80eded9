"""The YAML codebook: loading, every validation error (exact message), applying, exporting."""

from __future__ import annotations

from pathlib import Path

import pytest

from qualcode.codebook.yamlfile import (
    HOLDING_CODE,
    apply_codebook,
    codebook_from_store,
    export_codebook,
    load_codebook,
    to_yaml,
)
from qualcode.errors import CodebookError, ConflictError

ROOT = Path(__file__).resolve().parent.parent

BASE = """\
name: Test
language: nl
themes:
  - id: work
    name: Werk
    colour: "#E69F00"
    codes:
      - id: pros
        name: Voordelen
        rules:
          keywords: [structuur]
"""


def write(tmp_path, text: str, name: str = "cb.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def error_of(tmp_path, text: str) -> str:
    p = write(tmp_path, text)
    with pytest.raises(CodebookError) as exc:
        load_codebook(p)
    return str(exc.value).replace(str(p), "cb.yaml")


# ------------------------------------------------------------------ loading
def test_shipped_codebooks_load():
    ips = load_codebook(ROOT / "codebooks" / "ips.yaml")
    assert ips.language == "nl"
    assert [t.id for t in ips.themes] == ["pathways", "paid_work", "support", "collaboration"]
    assert all(t.colour.startswith("#") and t.description for t in ips.themes)
    assert len(ips.codes) >= 12
    assert all(c.has_rules() and c.description for c in ips.codes)
    # every theme has codes, and nesting is kept
    assert {c.theme for c in ips.codes} == {t.id for t in ips.themes}
    assert ips.code("voortraject_voordelen").parent == "voortraject"
    en = load_codebook(ROOT / "codebooks" / "example_en.yaml")
    assert en.language == "en" and en.codes


def test_nested_and_top_level_codes(tmp_path):
    text = BASE + """\
        codes:
          - id: pride
            name: Trots
codes:
  - id: loose
    name: Los
    theme: work
    colour: "#123abc"
"""
    cb = load_codebook(write(tmp_path, text))
    assert [(c.id, c.theme, c.parent) for c in cb.codes] == [
        ("pros", "work", None), ("pride", "work", "pros"), ("loose", "work", None)]
    assert cb.code("loose").colour == "#123ABC"
    assert cb.code("pros").rules == {"keywords": ["structuur"]}


# ------------------------------------------------------------------ validation errors
@pytest.mark.parametrize("text, message", [
    (BASE + "      - id: pros\n        name: Nog eens\n",
     "cb.yaml, line 12, themes[0].codes[1].id: duplicate code id 'pros' (first defined on line 8)."),
    (BASE + '  - id: work\n    name: W2\n    colour: "#000000"\n',
     "cb.yaml, line 12, themes[1].id: duplicate theme id 'work' (first defined on line 4)."),
    (BASE.replace('"#E69F00"', "red"),
     "cb.yaml, line 6, themes[0].colour: colour 'red' is not of the form #RRGGBB (e.g. \"#E69F00\"; quote it in "
     "YAML)."),
    (BASE.replace('"#E69F00"', "#E69F00"),
     "cb.yaml, line 6, themes[0].colour: colour is empty; write it in quotes, e.g. colour: \"#E69F00\" (a bare # "
     "starts a YAML comment)."),
    (BASE.replace("    colour:", '    colur: "#E69F00"\n    colour:'),
     "cb.yaml, line 6, themes[0].colur: unknown key 'colur'. Did you mean: colour?"),
    (BASE.replace("          keywords:", "          keywrds:"),
     "cb.yaml, line 11, themes[0].codes[0].rules.keywrds: unknown key 'keywrds'. Did you mean: keywords?"),
    (BASE + "codes:\n  - id: loose\n    name: Los\n",
     "cb.yaml, line 13, codes[0]: code 'loose' has no theme: put it under a theme's 'codes' or add "
     "'theme: THEME_ID'."),
    (BASE + "codes:\n  - id: loose\n    name: Los\n    theme: wrk\n",
     "cb.yaml, line 15, codes[0].theme: code 'loose' names unknown theme 'wrk'. Did you mean: work?"),
    (BASE + "          patterns:\n            - regex: '(werk'\n",
     "cb.yaml, line 13, themes[0].codes[0].rules.patterns[0].regex: invalid regular expression '(werk': missing ), "
     "unterminated subpattern at position 0."),
    (BASE + "          patterns:\n            - tokens: [{LEMA: werk}]\n",
     "cb.yaml, line 13, themes[0].codes[0].rules.patterns[0].tokens[0].LEMA: unknown token attribute 'LEMA'. "
     "Did you mean: LEMMA, LIKE_EMAIL, LIKE_NUM?"),
    (BASE + "          patterns:\n            - tokens: [{LOWER: {REGEX: '[a'}}]\n",
     "cb.yaml, line 13, themes[0].codes[0].rules.patterns[0].tokens[0].LOWER: invalid regular expression '[a': "
     "unterminated character set at position 0."),
    (BASE + "          patterns:\n            - tokens: [{LOWER: {ONE_OF: [a, b]}}]\n",
     "cb.yaml, line 13, themes[0].codes[0].rules.patterns[0].tokens[0].LOWER: unknown predicate 'ONE_OF'; use one "
     "of IN, NOT_IN, REGEX, FUZZY, IS_SUBSET, IS_SUPERSET, INTERSECTS, ==, !=, >=, <=, >, <."),
    (BASE.replace("        name: Voordelen\n", ""),
     "cb.yaml, line 8, themes[0].codes[0]: missing required key 'name'."),
    (BASE.replace("    name: Werk\n", "    name: Werk\n    name: Job\n"),
     "cb.yaml, line 6: duplicate key 'name' (first on line 5)."),
    (BASE.replace("id: pros", "id: uncategorised"),
     "cb.yaml, line 8, themes[0].codes[0].id: the code id 'uncategorised' is reserved for codings of removed codes; "
     "choose another id."),
    (BASE.replace("id: pros", "id: '1pros'"),
     "cb.yaml, line 8, themes[0].codes[0].id: code id '1pros' must start with a letter and use only letters, "
     "digits, '_', '-' or '.'."),
    ("name: X\n", "cb.yaml, line 1, themes: 'themes' must be a non-empty list of themes (each with id, name, "
                  "colour)."),
    ("", "cb.yaml: the codebook is empty; it needs at least 'name' and 'themes'."),
    (BASE + "  - id: [\n",
     "cb.yaml, line 13: invalid YAML: expected the node content, but found '<stream end>'. Check indentation and "
     "quotes (colours need quotes: \"#E69F00\")."),
    (BASE.replace("language: nl", "language: Dutch"),
     "cb.yaml, line 2, language: language 'dutch' must be a language code such as 'nl' or 'en'."),
])
def test_validation_errors(tmp_path, text, message):
    assert error_of(tmp_path, text) == message


def test_missing_file(tmp_path):
    with pytest.raises(CodebookError, match=r"nope.yaml: file not found."):
        load_codebook(tmp_path / "nope.yaml")


# ------------------------------------------------------------------ apply
def _cb(tmp_path, text, name="cb.yaml"):
    return load_codebook(write(tmp_path, text, name))


def test_apply_adds_changes_and_removes(tmp_path, empty_store):
    store = empty_store
    r1 = apply_codebook(store, _cb(tmp_path, BASE + "      - id: cons\n        name: Nadelen\n"), source="v1")
    assert r1.added == ["pros", "cons"] and r1.themes_added == ["work"]
    assert r1.lines()[0] == "codebook 'Test' from v1: 2 codes added, 0 changed, 0 removed"
    v2 = BASE.replace("Voordelen", "Pluspunten") + "      - id: pride\n        name: Trots\n"
    r2 = apply_codebook(store, _cb(tmp_path, v2, "v2.yaml"), source="v2")
    assert r2.added == ["pride"] and r2.removed == ["cons"] and r2.changed == [("pros", ["name"])]
    assert [c["key"] for c in store.codes()] == ["pros", "pride"]
    assert store.code("pros")["name"] == "Pluspunten"
    assert store.meta("codebook_name") == "Test"
    assert store.history(1)[0]["command"] == "codebook apply"
    # applying the same file again changes nothing
    r3 = apply_codebook(store, _cb(tmp_path, v2, "v2.yaml"), source="v2")
    assert (r3.added, r3.changed, r3.removed) == ([], [], [])


def test_apply_refuses_to_remove_coded_code(tmp_path, sample_store):
    store = sample_store
    apply_codebook(store, _cb(tmp_path, BASE + "      - id: cons\n        name: Nadelen\n"), source="v1")
    cons = store.code("cons")["id"]
    with store.act("test"):
        store.add_coding(1, cons, "ann")
        store.add_coding(2, cons, "ann")
    n_backups = len(store.backups())
    with pytest.raises(ConflictError) as exc:
        apply_codebook(store, _cb(tmp_path, BASE, "v2.yaml"), source="v2.yaml")
    assert str(exc.value) == (
        "the codebook v2.yaml removes codes that have codings: cons (2 codings). Keep them in the codebook, merge "
        "them into another code first, or use --force to move their codings to the holding code 'uncategorised'.")
    assert store.code("cons")["id"] == cons and len(store.backups()) == n_backups
    report = apply_codebook(store, _cb(tmp_path, BASE, "v2.yaml"), source="v2.yaml", force=True)
    assert report.removed == ["cons"] and report.moved == 2
    assert len(store.backups()) == n_backups + 1
    held = store.codings(code=HOLDING_CODE)
    assert sorted(c["segment_id"] for c in held) == [1, 2] and {c["coder"] for c in held} == {"ann"}
    assert "cons" not in store.code_ids()


def test_export_yaml_and_xlsx_round_trip(tmp_path, empty_store):
    src = load_codebook(ROOT / "codebooks" / "ips.yaml")
    apply_codebook(empty_store, src, source="ips.yaml")
    y = tmp_path / "out.yaml"
    x = tmp_path / "out.xlsx"
    written = export_codebook(empty_store, str(y))
    assert (len(written.themes), [c.id for c in written.codes]) == (4, [c.id for c in src.codes])
    export_codebook(empty_store, str(x))
    for back in (load_codebook(y), load_codebook(x)):
        assert [(c.id, c.theme, c.parent, c.rules) for c in back.codes] == [
            (c.id, c.theme, c.parent, c.rules) for c in src.codes]
        assert [(t.id, t.colour, t.description) for t in back.themes] == [
            (t.id, t.colour, t.description) for t in src.themes]
    from openpyxl import load_workbook

    ws = load_workbook(x)["Codebook"]
    assert ws["A2"].value == "pathways" and ws["E2"].value == "voortraject"
    assert ws["A2"].fill.fgColor.rgb == "FFF5D999"  # light tint of #E69F00
    assert to_yaml(codebook_from_store(empty_store)) == y.read_text(encoding="utf-8")


def test_export_refuses_unknown_suffix(empty_store, tmp_path):
    with pytest.raises(CodebookError, match=r"out.txt: choose a file name ending in .xlsx, .yaml or .yml."):
        export_codebook(empty_store, str(tmp_path / "out.txt"))


def test_token_patterns_are_normalised(tmp_path):
    text = BASE + "          patterns:\n            - tokens: [{lemma: {in: [werk, job]}}, {lower: stress, op: '?'}]\n"
    cb = load_codebook(write(tmp_path, text))
    assert cb.code("pros").rules["patterns"] == [
        {"tokens": [{"LEMMA": {"IN": ["werk", "job"]}}, {"LOWER": "stress", "OP": "?"}]}]


# ------------------------------------------------------------ exclusive sets (issue 20)
EXCLUSIVE = """\
name: MI
language: en
themes:
  - id: behaviour
    name: Therapist behaviour
    colour: "#E69F00"
    exclusive: true
    codes:
      - id: question
        name: Question
        exclusive: true
        codes:
          - {id: open, name: Open question}
          - {id: closed, name: Closed question}
      - {id: reflection, name: Reflection}
  - id: talk
    name: Client talk
    colour: "#56B4E9"
    codes:
      - {id: change, name: Change talk}
"""


def test_exclusive_round_trips_through_the_project_yaml_and_xlsx(tmp_path, empty_store):
    cb = _cb(tmp_path, EXCLUSIVE)
    assert [(t.id, t.exclusive) for t in cb.themes] == [("behaviour", True), ("talk", False)]
    assert [c.id for c in cb.codes if c.exclusive] == ["question"]
    report = apply_codebook(empty_store, cb, source="mi.yaml")
    assert report.added == ["question", "open", "closed", "reflection", "change"]
    assert empty_store.theme("behaviour")["exclusive"] is True and empty_store.code("question")["exclusive"] is True
    y, x = tmp_path / "out.yaml", tmp_path / "out.xlsx"
    export_codebook(empty_store, str(y))
    export_codebook(empty_store, str(x))
    text = y.read_text(encoding="utf-8")
    assert text.count("exclusive: true") == 2
    for back in (load_codebook(y), load_codebook(x)):
        assert [(t.id, t.exclusive) for t in back.themes] == [("behaviour", True), ("talk", False)]
        assert [(c.id, c.parent, c.exclusive) for c in back.codes] == [(c.id, c.parent, c.exclusive) for c in cb.codes]
    # dropping the key in the file switches the set off, as a change of the theme
    r = apply_codebook(empty_store, _cb(tmp_path, EXCLUSIVE.replace("    exclusive: true\n", "", 1), "v2.yaml"))
    assert r.themes_changed == ["behaviour"] and empty_store.theme("behaviour")["exclusive"] is False
    empty_store.undo(1)
    assert empty_store.theme("behaviour")["exclusive"] is True
    from qualcode.cli.formatting import codebook_lines
    from qualcode.codebook.yamlfile import codebook_tree

    tree = codebook_tree(empty_store)
    assert [(t["key"], t["exclusive"]) for t in tree["themes"]] == [("behaviour", True), ("talk", False)]
    lines = codebook_lines(tree)
    assert "behaviour  Therapist behaviour  #E69F00  [exclusive: one of its codes per segment]" in lines
    assert "  question  Question  [0 codings]  [exclusive: one of its sub-codes per segment]" in lines
    assert "talk  Client talk  #56B4E9" in lines


def test_codebook_sheet_without_exclusive_columns_still_reads(tmp_path, empty_store):
    from openpyxl import load_workbook

    apply_codebook(empty_store, _cb(tmp_path, EXCLUSIVE), source="mi.yaml")
    x = tmp_path / "out.xlsx"
    export_codebook(empty_store, str(x))
    wb = load_workbook(x)
    ws = wb["Codebook"]
    assert [c.value for c in ws[1]][-4:] == ["theme exclusive", "code exclusive", "hints", "overruled by"]
    ws.delete_cols(16, 4)                        # a sheet exported before the columns existed
    wb.save(x)
    back = load_codebook(x)
    assert not any(t.exclusive for t in back.themes) and not any(c.exclusive for c in back.codes)


@pytest.mark.parametrize("text, message", [
    (EXCLUSIVE.replace("    exclusive: true\n", "    exclusive: sometimes\n", 1),
     "cb.yaml, line 7, themes[0].exclusive: 'exclusive' must be true or false, got 'sometimes'."),
    (EXCLUSIVE.replace("      - {id: change, name: Change talk}\n",
                       "      - {id: change, name: Change talk}\n    exclusive: true\n"),
     "cb.yaml, line 21, themes[1].exclusive: theme 'talk' is exclusive but has 1 codes; an exclusive set needs at "
     "least two (mutually exclusive categories such as question, reflection, other)."),
    (EXCLUSIVE.replace("      - {id: reflection, name: Reflection}\n",
                       "      - {id: reflection, name: Reflection, exclusive: true}\n"),
     "cb.yaml, line 15, themes[0].codes[1].exclusive: code 'reflection' is exclusive but has 0 sub-codes; an "
     "exclusive set needs at least two (mutually exclusive categories such as question, reflection, other)."),
])
def test_exclusive_validation(tmp_path, text, message):
    assert error_of(tmp_path, text) == message
