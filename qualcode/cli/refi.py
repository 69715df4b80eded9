"""REFI-QDA import and export: ``import refi`` and ``export refi``.

The ``import`` group is created here; ``cli/__init__.py`` adds ``export refi`` to the
``export`` group that ``reports.py`` creates.
"""

from __future__ import annotations

import click

from .common import Env, QualcodeGroup, pass_env, refuse_overwrite


@click.group("import", cls=QualcodeGroup)
def import_group():
    """Bring in work from other tools (REFI-QDA: NVivo, ATLAS.ti, MAXQDA, QualCoder, qc)."""


@import_group.command("refi")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--into", "into", type=click.Path(dir_okay=False), metavar="PROJECT",
              help="Add to this existing project instead of creating the project given with -p.")
@click.option("--language", type=click.Choice(["nl", "en"]), default="nl", show_default=True,
              help="Language of a new project (for lemmas and stop words).")
@click.option("--offsets", metavar="UNIT",
              help="How the file counts selection positions, when qualcode cannot tell from the file: "
                   "'utf16' (UTF-16 units, as NVivo) or 'codepoints' (characters, as the standard says), "
                   "optionally followed by ',crlf1' or ',crlf2' (a CRLF line break counts 1 or 2) and ',bom' or "
                   "',nobom' (a leading byte-order mark counts or not). Without it the unit is decided per "
                   "source from the file.")
@click.pass_context
def import_refi(ctx: click.Context, file, into, language, offsets):
    """Import a REFI-QDA FILE (.qdpx project, .qde project file or .qdc codebook).

    Without --into a new project is created at the -p path; with --into the import is
    added to that project. Non-codable codes become themes, text sources become sources,
    selections become segments with their codings (origin 'imported'). Selections that
    cannot be placed in their text are listed, never placed elsewhere. Bad input writes
    nothing.

    How positions count (characters or UTF-16 units, CRLF as 1 or 2, BOM or not) is decided
    per source from the file (quoted selection names, else word boundaries); the summary
    says which and why. When the file cannot tell, the import is refused and --offsets
    says it.

    \b
    Examples:
      qualcode -p study.qualcode import refi nvivo-export.qdpx
      qualcode import refi codebook.qdc --into project.qualcode
      qualcode -p study.qualcode import refi nvivo-mac.qdpx --offsets utf16
    """
    from ..refi.importer import import_refi as run, import_refi_new
    from ..store import Store

    env: Env = ctx.find_object(Env)
    if into:
        with Store.open(into) as store:
            report = run(store, file, offsets=offsets)
    else:
        report = import_refi_new(env.project_path, file, language=language, offsets=offsets)
    for line in report.lines():
        click.echo(line)


@click.command("refi")
@click.argument("out", type=click.Path(dir_okay=False))
@click.option("--all-segments", is_flag=True,
              help="Write every segment as a selection, coded or not (a lossless copy for qualcode); "
                   "by default only coded segments and segments with memos.")
@click.option("--force", is_flag=True, help="Overwrite OUT if it exists (files under reports/ are always replaced).")
@pass_env
def export_refi(env: Env, out, all_segments, force):
    """Export as REFI-QDA: OUT ending in .qdpx is the whole project (codebook, sources,
    coded selections per coder, participants as cases without identifying attributes,
    memos as notes); OUT ending in .qdc is the codebook only.

    \b
    Examples:
      qualcode export refi reports/ips.qdpx
      qualcode export refi reports/ips-codebook.qdc
    """
    from ..refi.export import export_refi as run

    refuse_overwrite(out, force)
    for line in run(env.open(), out, all_segments=all_segments).lines():
        click.echo(line)

