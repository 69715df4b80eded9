"""Hostile codebooks (issue 23): YAML anchors/aliases and deep nesting, catastrophic regular
expressions, token patterns whose matching explodes, colours with spaces. Each is refused with
an error naming the file, line, code and rule, before anything is built or written."""

from __future__ import annotations

import pytest

from qualcode.codebook.yamlfile import (
    MAX_OPTIONAL_WITH_OPEN,
    MAX_PATTERN_TOKENS,
    apply_codebook,
    load_codebook,
    normalise_colour,
    parse_codebook,
)
from qualcode.coding import saferegex
from qualcode.coding.autocode import autocode, compile_rules, match_texts
from qualcode.coding.saferegex import TimedRegex, nested_repeat
from qualcode.errors import CodebookError

HEAD = """\
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
          patterns:
"""


def error_of(tmp_path, text: str) -> str:
    p = tmp_path / "cb.yaml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(CodebookError) as exc:
        load_codebook(p)
    return str(exc.value).replace(str(p), "cb.yaml")


# ------------------------------------------------------------------ YAML
def test_yaml_alias_bomb_in_a_mapping_key_is_refused_at_the_first_anchor(tmp_path):
    bomb = ("a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
            "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n? [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n: x\n")
    assert error_of(tmp_path, bomb) == (
        "cb.yaml, line 1: an anchor (&a): YAML anchors and aliases are not allowed in a codebook (they can make a "
        "small file expand without limit); write each value out in full.")


def test_an_alias_alone_is_refused_too(tmp_path):
    # an alias to an undefined anchor never reaches PyYAML's own error
    assert error_of(tmp_path, "name: *n\n") == (
        "cb.yaml, line 1: an alias (*n): YAML anchors and aliases are not allowed in a codebook (they can make a "
        "small file expand without limit); write each value out in full.")


@pytest.mark.parametrize("text, line", [
    ("themes: " + "[" * 100_000 + "]" * 100_000 + "\n", 1),
    ("themes: " + "{a: " * 5000 + "}" * 5000 + "\n", 1),
    ("themes:\n" + "".join("  " * i + "- \n" for i in range(3000)), 41),
])
def test_deeply_nested_yaml_is_a_clear_error_not_a_recursion_error(tmp_path, text, line):
    assert error_of(tmp_path, text) == (
        f"cb.yaml, line {line}: lists and mappings are nested more than 40 levels deep; a codebook needs far fewer "
        "(check the indentation and brackets).")


def test_nesting_just_under_the_limit_still_loads_as_yaml(tmp_path):
    # 39 levels of sub-codes' lists below 'themes' is valid YAML; the codebook validator then judges it
    text = "name: x\nthemes: " + "[" * 39 + "]" * 39 + "\n"
    msg = error_of(tmp_path, text)
    assert "nested more than" not in msg and "expected a mapping" in msg


# ------------------------------------------------------------------ colours
@pytest.mark.parametrize("raw, colour", [("  #abc  ", "#AABBCC"), ("#e69f00", "#E69F00"), (" #E69F00\t", "#E69F00"),
                                         ("red", None), ("#abcd", None), ("", None), (None, None), ("#ggg", None)])
def test_normalise_colour(raw, colour):
    assert normalise_colour(raw) == colour


def test_codebook_colour_with_spaces_and_three_digits_is_normalised(tmp_path):
    p = tmp_path / "cb.yaml"
    p.write_text(HEAD.replace('"#E69F00"', '"  #abc  "').replace("          patterns:\n", "          keywords: [a]\n"),
                 encoding="utf-8")
    assert load_codebook(p).themes[0].colour == "#AABBCC"


# ------------------------------------------------------------------ token patterns
@pytest.mark.parametrize("tokens, message", [
    ('[{LOWER: werk}, {OP: "*"}, {OP: "*"}, {OP: "*"}, {LOWER: geld}]',
     "code 'pros': the token pattern [{\"LOWER\": \"werk\"}, {\"OP\": \"*\"}, {\"OP\": \"*\"}, {\"OP\": \"*\"}, "
     "{\"LOWER\": \"geld\"}] has 3 open-ended operators ('*', '+' or '{n,}'); at most one is allowed (each one "
     "multiplies the matching work by the length of the segment); give the others an upper bound such as {0,3}."),
    ('[{LOWER: werk, OP: "+"}, {LOWER: geld, OP: "{2,}"}]',
     "code 'pros': the token pattern [{\"LOWER\": \"werk\", \"OP\": \"+\"}, {\"LOWER\": \"geld\", \"OP\": \"{2,}\"}] "
     "has 2 open-ended operators ('*', '+' or '{n,}'); at most one is allowed (each one multiplies the matching "
     "work by the length of the segment); give the others an upper bound such as {0,3}."),
    ('[{LOWER: werk}, {OP: "{0,500}"}, {LOWER: geld}]',
     "code 'pros': the token pattern [{\"LOWER\": \"werk\"}, {\"OP\": \"{0,500}\"}, {\"LOWER\": \"geld\"}] spans up "
     "to 502 words; at most 12 are allowed (longer patterns make matching explode); split it into shorter "
     "patterns."),
    ('[{OP: "*"}, {LOWER: geld}]',
     "code 'pros': the token pattern [{\"OP\": \"*\"}, {\"LOWER\": \"geld\"}] starts or ends with a repeated token "
     "that matches any word; it adds nothing to which segments match but makes one match per extra word; "
     "remove it."),
])
def test_token_patterns_beyond_the_complexity_bound_are_refused(tmp_path, tokens, message):
    assert error_of(tmp_path, HEAD + f"            - tokens: {tokens}\n") == (
        "cb.yaml, line 12, themes[0].codes[0].rules.patterns[0].tokens: " + message)


def test_token_patterns_at_the_bound_are_accepted(tmp_path):
    at_limit = "[{LOWER: werk}, {OP: '*', IS_PUNCT: false}, " + ", ".join(["{OP: '?'}"] * MAX_OPTIONAL_WITH_OPEN) \
        + ", {LOWER: geld}]"
    wide = "[{LOWER: werk}, " + ", ".join(["{OP: '?'}"] * (MAX_PATTERN_TOKENS - 2)) + ", {LOWER: geld}]"
    p = tmp_path / "cb.yaml"
    p.write_text(HEAD + f"            - tokens: {at_limit}\n            - tokens: [{{LOWER: a}}, {{OP: '{{0,11}}'}}]\n"
                 f"            - tokens: {wide}\n", encoding="utf-8")
    assert len(load_codebook(p).codes[0].rules["patterns"]) == 3
    p.write_text(HEAD + "            - tokens: [{LOWER: a}, {OP: '*'}, {OP: '{1,3}'}, {OP: '?'}, {OP: '?'}, "
                 "{LOWER: b}]\n", encoding="utf-8")
    with pytest.raises(CodebookError, match="an open-ended operator and 4 optional words"):
        load_codebook(p)
    p.write_text(HEAD + "            - tokens: [{LOWER: a}, {OP: '{0,12}'}]\n", encoding="utf-8")
    with pytest.raises(CodebookError, match="spans up to 13 words; at most 12"):
        load_codebook(p)


def test_catastrophic_regex_in_a_token_predicate_is_refused(tmp_path):
    assert error_of(tmp_path, HEAD + "            - tokens: [{LOWER: {REGEX: '^(a+)+$'}}]\n") == (
        "cb.yaml, line 12, themes[0].codes[0].rules.patterns[0].tokens[0].LOWER: code 'pros': the regular "
        "expression '^(a+)+$' repeats a repeat (as '(a+)+' does), which can take hours on one long word; write it "
        "without the outer repeat, or give that repeat an upper bound such as {0,3}.")


@pytest.mark.parametrize("pattern, bad", [
    (r"(a+)+$", True), (r"(a|aa)+", True), (r"(\w*\s?)*x", True), (r"((ab)*c)+", True), (r"(?:xy|x)*z", True),
    (r"(?:x|y)*z", False),
    (r"\bwerk\w*", False), (r"(\w+ ){0,3}geld", False), (r"a+b+c*", False), (r"(abc)+", False), (r"[(", False),
])
def test_nested_repeat(pattern, bad):
    assert nested_repeat(pattern) is bad


# ------------------------------------------------------------------ regex rules run with a time-out
def test_timed_regex_matches_like_re():
    rx = TimedRegex(r"\bvdab\w*", "vdab")
    assert [m.span() for m in rx.finditer("Het VDAB-kantoor en vdabwerk")] == [(4, 8), (20, 28)]
    with pytest.raises(CodebookError, match=r"^code x: invalid regular expression '\(a': "):
        TimedRegex("(a", "x")


def test_catastrophic_regex_rule_stops_autocode_with_the_code_and_rule(empty_store, tmp_path, monkeypatch):
    from qualcode.ingest import ingest

    monkeypatch.setattr(saferegex, "REGEX_TIMEOUT", 0.2)
    f = tmp_path / "F1.txt"
    f.write_text("# group: F1\nModerator: Welkom.\nP1: " + "a" * 60 + "b\nP2: Gewoon werk.\n", encoding="utf-8")
    ingest(empty_store, [f], allow_new_speakers=True)
    apply_codebook(empty_store, parse_codebook({"name": "t", "themes": [{"id": "th", "name": "T", "colour": "#112233",
                   "codes": [{"id": "bomb", "name": "B", "rules": {"patterns": [{"regex": "(a|aa)+$"}]}},
                             {"id": "werk", "name": "W", "rules": {"keywords": ["werk"]}}]}]}), source="t")
    before = empty_store.conn.execute("SELECT COUNT(*) FROM codings").fetchone()[0]
    with pytest.raises(CodebookError) as exc:
        autocode(empty_store)
    assert str(exc.value) == (
        "code bomb: the regular expression '(a|aa)+$' took more than 0.2 s on one segment of 61 characters (it "
        "backtracks without end, as '(a|aa)+' does); rewrite it without a repeat inside a repeat, e.g. 'a+' "
        "instead of '(a|aa)+'. Nothing was written.")
    assert empty_store.conn.execute("SELECT COUNT(*) FROM codings").fetchone()[0] == before


def test_regex_rules_still_find_the_same_spans():
    from qualcode.text.nlp import pipeline

    compiled = compile_rules([{"key": "v", "rules": {"patterns": [{"regex": r"\bvdab\w*"}]}}], pipeline("nl"))
    assert list(match_texts(compiled, ["Het VDAB-kantoor belde.", "niets"])) == [{"v": [(4, 8)]}, {}]
