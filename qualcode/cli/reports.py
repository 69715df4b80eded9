"""Step 6 commands: export workbook, report, sheet import-comments.

The ``export`` group is created here; ``cli/__init__.py`` adds ``export refi`` (defined
in ``refi.py``) to it and ``import-comments`` to the ``sheet`` group.
"""

from __future__ import annotations

import click

from .common import Env, QualcodeGroup, echo_json, json_option, pass_env, progress_factory, refuse_overwrite, whose_option


@click.group(cls=QualcodeGroup)
def export():
    """Step 6: write the analysis to files (workbook; REFI-QDA)."""


@export.command("workbook")
@click.argument("out", type=click.Path(dir_okay=False), default="reports/analysis.xlsx", required=False)
@click.option("--force", is_flag=True, help="Overwrite OUT if it exists (files under reports/ are always replaced).")
@whose_option
@pass_env
def export_workbook(env: Env, out, force, coders):
    """Write the analysis workbook OUT (default reports/analysis.xlsx): codebook, coded fragments,
    by theme, theme summary, quotes, matrices with charts, co-occurrence, counts by attribute,
    participants, audit log, memos; in the project's language, set up for printing."""
    from ..excel.analysis import write_workbook

    refuse_overwrite(out, force)
    for line in write_workbook(env.open(), out, coders=coders, progress=progress_factory()).lines():
        click.echo(line)


@click.command()
@click.option("--format", "fmt", default=None, metavar="html|docx|md[,...]",
              help="Output format, or several separated by commas (html,docx,md: built once, figures shared, "
                   "each written to --out with its own extension). Default: from the --out extension.")
@click.option("--out", type=click.Path(dir_okay=False), default="reports/report.html", show_default=True,
              help="File to write; Markdown also writes its figures as <name>-<figure>.png beside it.")
@click.option("--language", type=click.Choice(["nl", "en"]), default=None,
              help="Language of the report's fixed labels (default: the project's language).")
@click.option("--force", is_flag=True, help="Overwrite --out if it exists (files under reports/ are always replaced).")
@click.option("--memos", is_flag=True, help="Also show your own theme memos (supervisor comments are always shown).")
@whose_option
@pass_env
def report(env: Env, fmt, out, language, force, memos, coders):
    """Step 6: the supervisor report per theme (definition, key messages, spread, quotes keyed
    "(F2 P2)", supervisor comments), the six steps' state and figures. Its first lines say whose
    codings it shows."""
    from pathlib import Path

    from ..reports.report import report_formats, report_paths, write_report

    if Path(out).exists():  # a project, backup or transcript at --out: say that first
        refuse_overwrite(out, force)
    for path in report_paths(out, report_formats(out, fmt)):
        refuse_overwrite(path, force)
    for path in write_report(env.open(), out, fmt=fmt, language=language, coders=coders, memos=memos,
                             progress=progress_factory()):
        click.echo(f"wrote {path}")


@click.command()
@click.option("--theme", help="Only this theme (key or name).")
@click.option("-n", "n_quotes", default=3, show_default=True, help="Quotes per theme (pinned ones always show).")
@whose_option
@json_option
@pass_env
def quotes(env: Env, theme, n_quotes, coders, as_json):
    """The report's quotes per theme, each turn once, pinned first, with segment ids for 'quote pin'."""
    from ..reports.quotes import quote_listing
    from .formatting import quote_lines

    doc = quote_listing(env.open(), theme=theme, n=n_quotes, coders=coders)
    if as_json:
        echo_json("quotes", doc)
        return
    click.echo("\n".join(quote_lines(doc)))


@click.group(cls=QualcodeGroup)
def quote():
    """Pin the quotes a theme must show (pinned quotes come first in report and workbook)."""


@quote.command("pin")
@click.argument("theme")
@click.argument("segment", type=int)
@pass_env
def quote_pin(env: Env, theme, segment):
    """Pin segment SEGMENT (its id, see 'qualcode quotes') as a quote of THEME (one undoable act)."""
    from ..reports.quotes import pin_quote
    from .formatting import pinned

    click.echo(pinned(pin_quote(env.open(), theme, segment)))


@quote.command("unpin")
@click.argument("theme")
@click.argument("segment", type=int)
@pass_env
def quote_unpin(env: Env, theme, segment):
    """Unpin segment SEGMENT from THEME's quotes (one undoable act)."""
    from ..reports.quotes import pin_quote
    from .formatting import pinned

    click.echo(pinned(pin_quote(env.open(), theme, segment, pin=False), pin=False))


@click.group(cls=QualcodeGroup)
def config():
    """Project settings: the analyst whose codings reports show by default."""


@config.command("analyst")
@click.argument("name", required=False)
@pass_env
def config_analyst(env: Env, name):
    """Show the project's analyst, or make NAME the analyst (workbook, report, counts, quotes and review
    show the analyst's codings unless --coder says otherwise). The first person who codes becomes the
    analyst when none is set."""
    from ..coding.coders import set_analyst
    from .formatting import analyst

    store = env.open()
    if not name:
        click.echo(analyst(store.analyst()))
        return
    click.echo(analyst(store.analyst(), name, set_analyst(store, name)))


@click.command("import-comments")
@click.argument("file", type=click.Path(dir_okay=False), default="reports/analysis.xlsx", required=False)
@click.option("--author", required=True, help="Who wrote the comments (the supervisor's name).")
@pass_env
def import_comments(env: Env, file, author):
    """Read the 'supervisor comments' column of the workbook's Theme summary sheet back as theme
    memos (kind supervisor); the next report shows them. A comment already imported is skipped."""
    from ..excel.analysis import import_comments as run

    added = run(env.open(), file, author)
    for a in added:
        click.echo(f"{a['theme']}: {a['text']}")
    click.echo(f"imported {len(added)} supervisor comment(s) from {file}")
