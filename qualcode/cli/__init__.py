"""The ``qualcode`` command line.

Each module in this package holds the commands of one area and keeps their
bodies short: parse options, open the project, call one library function,
print the result. Heavy libraries are imported inside the commands, so
``qualcode --help`` answers at once.
"""

from __future__ import annotations

import os
import sys

import click

from ..errors import QualcodeError
from .common import Env, QualcodeGroup


@click.group(cls=QualcodeGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("-p", "--project", "project", envvar="QUALCODE_PROJECT", default="project.qualcode",
              show_default=True, metavar="PATH",
              help="Project file to use (env QUALCODE_PROJECT).")
@click.option("--debug", is_flag=True, help="Show Python tracebacks for errors.")
@click.version_option(package_name="qualcode", prog_name="qualcode")
@click.pass_context
def cli(ctx: click.Context, project: str, debug: bool) -> None:
    """Thematic analysis of focus-group transcripts, step by step (Braun & Clarke).

    \b
    Step 1 familiarise:  init, ingest, resegment, overview, segments, kwic
    Step 2 codes:        codebook, autocode, code, uncode, sheet, suggest, discover
    Step 3-5 themes:     theme, status, review, history, undo, memo
    Step 6 report:       export, report
    Also:                agreement, import, pseudonymise, backup
    In the browser:      serve (read in colour, code by selecting words, theme board)

    Every command works on one project file, chosen with -p PATH or
    QUALCODE_PROJECT (default ./project.qualcode). Start with 'qualcode init'.
    """
    ctx.obj = Env(project_path=project, debug=debug)
    ctx.call_on_close(ctx.obj.close)


def _register() -> None:
    """Every command joins its group here, in one place; the command modules only define them
    (importing a module adds nothing anywhere). Subcommands defined in a module other than their
    group's are marked so."""
    from . import agreement, codebook, privacy, project, refi, reports, suggest, themes, web

    for command in (
        # step 1 (cli/project.py)
        project.init, project.ingest, project.overview, project.resegment, project.segments, project.kwic,
        project.sources, project.participants, project.counts,
        # step 2 (cli/codebook.py, cli/suggest.py)
        codebook.codebook, codebook.code, codebook.uncode, codebook.autocode, codebook.sheet,
        suggest.suggest, suggest.discover,
        # steps 3-5 (cli/themes.py)
        themes.theme, themes.status, themes.review, themes.history, themes.undo, themes.memo,
        # step 6 (cli/reports.py)
        reports.export, reports.report, reports.quotes, reports.quote, reports.config,
        # also (cli/agreement.py, cli/refi.py, cli/privacy.py)
        agreement.agreement, refi.import_group, privacy.pseudonymise, privacy.attribute, privacy.backup,
        # the local web workspace (cli/web.py)
        web.serve,
    ):
        cli.add_command(command)
    for command in (themes.code_rename, themes.code_merge, themes.code_move, themes.code_split):
        codebook.code.add_command(command)  # code rename|merge|move|split: defined with the theme commands
    codebook.sheet.add_command(reports.import_comments)  # sheet import-comments: reads the analysis workbook
    reports.export.add_command(refi.export_refi)  # export refi: defined with import refi


_register()


def main(argv: list[str] | None = None) -> None:
    """Console entry point."""
    try:
        cli.main(args=argv, prog_name="qualcode", standalone_mode=True)
    except QualcodeError as exc:  # pragma: no cover - the group already converts these
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)


__all__ = ["cli", "main", "Env"]
