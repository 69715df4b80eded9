"""Step 6 commands: export workbook, report, sheet import-comments.

The ``export`` group is created here; other areas attach subcommands to it
(``export refi``).
"""

from __future__ import annotations

import click

from . import cli
from .common import Env, QualcodeGroup, pass_env, refuse_overwrite


@cli.group(cls=QualcodeGroup)
def export():
    """Step 6: write the analysis to files (workbook; REFI-QDA)."""


@export.command("workbook")
@click.argument("out", type=click.Path(dir_okay=False), default="reports/analysis.xlsx", required=False)
@click.option("--force", is_flag=True, help="Overwrite OUT if it exists (files under reports/ are always replaced).")
@pass_env
def export_workbook(env: Env, out, force):
    """Write the analysis workbook OUT (default reports/analysis.xlsx): codebook, coded fragments,
    by theme, theme summary, quotes, matrices with charts, co-occurrence, participants, audit log, memos."""
    from ..excel.analysis import write_workbook

    refuse_overwrite(out, force)
    for line in write_workbook(env.open(), out).lines():
        click.echo(line)


@cli.command()
@click.option("--format", "fmt", default=None, metavar="html|docx|md[,...]",
              help="Output format, or several separated by commas (html,docx,md: built once, figures shared, "
                   "each written to --out with its own extension). Default: from the --out extension.")
@click.option("--out", type=click.Path(dir_okay=False), default="reports/report.html", show_default=True,
              help="File to write; Markdown also writes its figures as <name>-<figure>.png beside it.")
@click.option("--language", type=click.Choice(["nl", "en"]), default=None,
              help="Language of the report's fixed labels (default: the project's language).")
@click.option("--force", is_flag=True, help="Overwrite --out if it exists (files under reports/ are always replaced).")
@pass_env
def report(env: Env, fmt, out, language, force):
    """Step 6: the supervisor report per theme (definition, key messages, spread, quotes keyed
    "(F2 P2)", supervisor comments), the six steps' state and figures."""
    from pathlib import Path

    from ..reports.report import report_formats, report_paths, write_report

    if Path(out).exists():  # a project, backup or transcript at --out: say that first
        refuse_overwrite(out, force)
    for path in report_paths(out, report_formats(out, fmt)):
        refuse_overwrite(path, force)
    for path in write_report(env.open(), out, fmt=fmt, language=language):
        click.echo(f"wrote {path}")


def _import_comments_command():
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

    return import_comments


def _attach() -> None:
    from . import codebook

    group = getattr(codebook, "sheet", None)
    if isinstance(group, click.Group) and "import-comments" not in group.commands:
        group.add_command(_import_comments_command())


_attach()
