"""The ``qualcode`` command line.

Each module in this package holds the commands of one area and keeps their
bodies short: parse options, open the project, call one library function,
print the result. Heavy libraries are imported inside the commands, so
``qualcode --help`` answers at once, and running a command imports only the
module that defines it (see COMMANDS below), so a small command starts fast.
"""

from __future__ import annotations

import sys
from collections.abc import MutableMapping

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


#: Every command of ``qualcode`` by name: the module of this package that defines it and its name
#: there. Running a command imports only its own module (and the modules of its group's subcommands
#: named in SUBCOMMANDS, when one of those runs); ``qualcode --help`` imports them all, to list each
#: command with its short help. The command modules only define commands (importing one adds nothing
#: anywhere); every command joins its group here, in one place.
COMMANDS: dict[str, str] = {
    # step 1 (cli/project.py)
    "init": "project:init", "ingest": "project:ingest", "overview": "project:overview",
    "resegment": "project:resegment", "segments": "project:segments", "kwic": "project:kwic",
    "sources": "project:sources", "participants": "project:participants", "counts": "project:counts",
    # step 2 (cli/codebook.py, cli/suggest.py)
    "codebook": "codebook:codebook", "code": "codebook:code", "uncode": "codebook:uncode",
    "autocode": "codebook:autocode", "sheet": "codebook:sheet",
    "suggest": "suggest:suggest", "discover": "suggest:discover",
    # steps 3-5 (cli/themes.py)
    "theme": "themes:theme", "status": "themes:status", "review": "themes:review", "history": "themes:history",
    "undo": "themes:undo", "memo": "themes:memo",
    # step 6 (cli/reports.py)
    "export": "reports:export", "report": "reports:report", "quotes": "reports:quotes", "quote": "reports:quote",
    "config": "reports:config",
    # also (cli/agreement.py, cli/refi.py, cli/privacy.py)
    "agreement": "agreement:agreement", "import": "refi:import_group", "pseudonymise": "privacy:pseudonymise",
    "attribute": "privacy:attribute", "backup": "privacy:backup",
    # the local web workspace (cli/web.py)
    "serve": "web:serve",
}

#: Subcommands defined in a module other than their group's, by group.
SUBCOMMANDS: dict[str, dict[str, str]] = {
    # code rename|merge|move|split: defined with the theme commands
    "code": {"rename": "themes:code_rename", "merge": "themes:code_merge", "move": "themes:code_move",
             "split": "themes:code_split"},
    "sheet": {"import-comments": "reports:import_comments"},  # reads the analysis workbook
    "export": {"refi": "refi:export_refi"},  # defined with import refi
}


class LazyCommands(MutableMapping):
    """A group's subcommands by name (click's ``Group.commands``), each imported from its module
    when it is first looked up: naming them (``list_commands``, ``in``, suggestions for a mistyped
    name) imports nothing."""

    def __init__(self, where: dict[str, str], loaded: dict | None = None,
                 subcommands: dict[str, dict[str, str]] | None = None):
        self._where = dict(where)          # name -> "module:attribute" (a module of this package)
        self._loaded = dict(loaded or {})  # name -> click.Command
        self._subcommands = subcommands or {}

    def __getitem__(self, name: str) -> click.Command:
        if name in self._loaded:
            return self._loaded[name]
        module, _, attribute = self._where[name].partition(":")  # KeyError: no such command
        # __import__ rather than importlib.import_module: `python -X importtime` reports only imports
        # made through it, and the command module's import is the one to see there
        command = getattr(__import__(f"{__name__}.{module}", fromlist=[attribute]), attribute)
        if name in self._subcommands and isinstance(command, click.Group):
            command.commands = LazyCommands(self._subcommands[name], command.commands)
        self._loaded[name] = command
        return command

    def __setitem__(self, name: str, command: click.Command) -> None:
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        if name not in self:
            raise KeyError(name)
        self._loaded.pop(name, None)
        self._where.pop(name, None)

    def __contains__(self, name) -> bool:
        return name in self._loaded or name in self._where

    def __iter__(self):
        return iter(sorted(set(self._where) | set(self._loaded)))

    def __len__(self) -> int:
        return len(set(self._where) | set(self._loaded))


cli.commands = LazyCommands(COMMANDS, cli.commands, SUBCOMMANDS)


def main(argv: list[str] | None = None) -> None:
    """Console entry point."""
    try:
        cli.main(args=argv, prog_name="qualcode", standalone_mode=True)
    except QualcodeError as exc:  # pragma: no cover - the group already converts these
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)


__all__ = ["cli", "main", "Env"]
