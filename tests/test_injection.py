"""Injection through project data (issue 23): the Markdown and HTML reports show every text from the
project inertly (no tag, script, iframe or remote image reaches a viewer), and every CSV qualcode
writes guards formulas in every cell, its header included, and quotes cells holding ``;`` (the
separator in Dutch and Belgian Excel)."""

from __future__ import annotations

import csv
import io
import re

import pytest

from qualcode.files.csvout import write_csv

EVIL = ('<script>alert(1)</script> <iframe src="http://evil.example/f"></iframe> '
        '![pixel](http://evil.example/p.png) <img src="http://evil.example/i.png"> [klik](javascript:alert(1)) '
        '<!-- c --> **vet** `code` | cel')


@pytest.fixture
def evil_store(empty_store, tmp_path, tiny_codebook_factory):
    from qualcode.ingest import ingest

    t = tmp_path / "F1.txt"
    t.write_text("# group: F1\nModerator: Welkom.\nP1: " + EVIL + "\nP2: " + EVIL.upper() + "\n", encoding="utf-8")
    ingest(empty_store, [t], allow_new_speakers=True)
    ids = tiny_codebook_factory(empty_store)
    th = empty_store.themes()[0]
    segs = list(empty_store.segments(role="participant"))
    with empty_store.act("evil"):
        empty_store.update_theme(th["id"], name="Werk " + EVIL, definition=EVIL, key_messages=[EVIL, "# kop"])
        empty_store.update_code(ids["pros"], name="<b onmouseover=x>Voordelen</b> ![a](http://evil.example/c.png)")
        for s in segs:
            empty_store.add_coding(s["id"], ids["pros"], "tester")
        empty_store.add_memo("theme", th["id"], EVIL, "<i>promotor</i>", kind="supervisor")
    return empty_store


def _render(md: str) -> str:
    markdown_it = pytest.importorskip("markdown_it")
    return markdown_it.MarkdownIt("commonmark", {"html": True}).enable("table").render(md)


def test_markdown_report_passes_no_html_image_or_link(evil_store):
    from qualcode.reports.report import build_report, render_markdown

    md = render_markdown(build_report(evil_store, figures=False))
    html = _render(md)
    # what a viewer would act on: tags and URLs in attributes
    assert not re.search(r"<(script|iframe|img|b|i)\b", html), html
    assert 'href="' not in html and 'src="' not in html  # no attribute; escaped text shows src=&quot;
    assert "<strong>vet</strong>" not in html and "<code>" not in html
    # ... while the text itself is all there, readable
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 4  # theme name, definition, message, memo, quote
    assert "![pixel](http://evil.example/p.png)" in html
    assert "&lt;i&gt;promotor&lt;/i&gt;" in html
    # the only images are the report's own figures (none here) and no line starts a heading from data
    assert "<h1>kop" not in html and "# kop" in html


def test_markdown_escape_of_one_field():
    from qualcode.reports.report import _md

    assert _md("<script>x</script>") == "&lt;script&gt;x&lt;/script&gt;"
    assert _md("![a](http://e/x.png)") == r"\!\[a\]\(http://e/x.png\)"
    assert _md("1. eerste\nregel") == r"1\. eerste regel"
    assert _md("- lijst") == r"\- lijst"
    assert _md("VDAB-kantoor, 3.5 uur & meer") == "VDAB-kantoor, 3.5 uur &amp; meer"
    assert _md(None) == ""


def test_html_report_escapes_data_and_keeps_colours_as_colours(evil_store):
    from qualcode.reports.report import build_report, render_html

    th = evil_store.themes()[0]
    with evil_store.act("bad colour"):
        # a colour stored before colours were checked: it must not become CSS
        evil_store.update_theme(th["id"], colour="red; background: url(http://evil.example/x)")
    html = render_html(build_report(evil_store, figures=False))
    assert "<script>alert" not in html and "<iframe" not in html and 'src="http://evil' not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "evil.example/x" not in html and 'style="--theme: #999999"' in html


# ------------------------------------------------------------------ CSV
def test_write_csv_guards_every_cell_and_quotes_semicolons():
    buf = io.StringIO()
    write_csv(buf, ["code", '=HYPERLINK("http://evil","x")', "F1;=cmd|' /C calc'!A0", "total"],
              [["-pros", 3, 2, 5], ["@cons", 0, 1.5, 1]])
    text = buf.getvalue()
    assert text.splitlines() == [
        'code,"\'=HYPERLINK(""http://evil"",""x"")","F1;\'=cmd|\' /C calc\'!A0",total',
        "'-pros,3,2,5", "'@cons,0,1.5,1"]
    assert list(csv.reader(io.StringIO(text)))[0][2] == "F1;'=cmd|' /C calc'!A0"
    # read with ';' as separator (Dutch/Belgian Excel): the ';' stays inside its quoted cell
    for sep in (",", ";"):
        cells = [c for row in csv.reader(io.StringIO(text), delimiter=sep) for c in row]
        assert not any(c.startswith(("=", "+", "-", "@")) for c in cells), (sep, cells)


def test_counts_csv_header_from_hostile_source_and_group_names(empty_store, tmp_path, run,
                                                              tiny_codebook_factory):
    from qualcode.ingest import ingest

    t = tmp_path / "=HYPERLINK(1).txt"
    t.write_text("# group: F1;=cmd|' /C calc'!A0\nModerator: Welkom.\nP1: Ja.\nP2: Nee.\n", encoding="utf-8")
    ingest(empty_store, [t], allow_new_speakers=True)
    ids = tiny_codebook_factory(empty_store)
    with empty_store.act("code"):
        for s in empty_store.segments(role="participant"):
            empty_store.add_coding(s["id"], ids["pros"], "tester")
    path = empty_store.path
    empty_store.close()
    for by in ("source", "group", "participant"):
        r = run(path, "counts", "--csv", "--by", by)
        assert r.exit_code == 0, r.output
        header = next(csv.reader(io.StringIO(r.stdout)))
        assert header[0] == "code" and header[-1] == "total"
        assert all(not h.startswith(("=", "+", "-", "@")) for h in header), header
        assert header[1].startswith("'=") or header[1].startswith("F1;"), header
        first_line = r.stdout.splitlines()[0]
        assert all(f'"{h}"' in first_line for h in header[1:-1] if ";" in h), first_line
        cells = [c for row in csv.reader(io.StringIO(r.stdout), delimiter=";") for c in row]
        assert not any(c.startswith(("=", "+", "-", "@")) for c in cells), cells


# ------------------------------------------------------------------ terminal output
EVIL_TERM = "Voor\x1b]0;pwned\x07delen\x9b2J \u202egnp.exe\x00"
SHOWN = r"Voor\u001b]0;pwned\u0007delen\u009b2J \u202egnp.exe\u0000"


def test_terminal_safe_escapes_what_a_terminal_acts_on():
    from qualcode.cli.common import terminal_safe

    assert terminal_safe(EVIL_TERM) == SHOWN
    assert terminal_safe("tab\there\r\nnext line, é ü ✓ 😀") == "tab\there\r\nnext line, é ü ✓ 😀"


def test_control_characters_from_codebook_and_memo_are_escaped_on_the_terminal(empty_store, tmp_path, run,
                                                                            tiny_codebook_factory):
    ids = tiny_codebook_factory(empty_store)
    with empty_store.act("evil"):
        empty_store.update_code(ids["pros"], name=EVIL_TERM)
        empty_store.add_memo("project", None, "memo " + EVIL_TERM, "ann")
    path = empty_store.path
    empty_store.close()
    for args in (["codebook", "show"], ["memo", "list"]):
        r = run(path, *args)
        assert r.exit_code == 0, r.output
        assert SHOWN[:40] in r.stdout, r.stdout
        assert not any(ch in r.stdout for ch in "\x1b\x07\x9b\x00\u202e"), repr(r.stdout)


def test_control_characters_in_an_error_line_are_escaped(empty_store, run):
    path = empty_store.path
    empty_store.close()
    r = run(path, "memo", "list", "code:\x1b]0;x\x07")
    assert r.exit_code == 1
    assert "\x1b" not in r.stderr and "\x07" not in r.stderr and r"\u001b]0;x\u0007" in r.stderr, repr(r.stderr)
    assert len(r.stderr.strip().splitlines()) == 1
