"""Codebook and coding commands: codebook, code, uncode, autocode, sheet.

The ``sheet`` and ``code`` groups are created here; ``cli/__init__.py`` adds the
subcommands defined in other modules (``sheet import-comments``, ``code rename|merge|move|split``).
"""

from __future__ import annotations

import click

from .common import Env, QualcodeGroup, coder_option, pass_env, progress_factory, refuse_overwrite, resolve_coder


class DefaultCommandGroup(QualcodeGroup):
    """A group that runs its default subcommand when the first argument is not a
    subcommand name, so ``qualcode code 12 stress`` means ``qualcode code apply 12 stress``."""

    default_command = "apply"

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = [self.default_command, *args]
        return super().parse_args(ctx, args)

    def format_usage(self, ctx, formatter):
        formatter.write_usage(ctx.command_path, "SEGMENT_ID... CODE_ID | COMMAND [ARGS]...")


# ------------------------------------------------------------------ codebook
@click.group(cls=QualcodeGroup)
def codebook():
    """Show, check, export and apply the YAML codebook (themes, codes, rules)."""


@codebook.command("show")
@click.option("--rules", "show_rules", is_flag=True, help="Also list each code's keywords, phrases and patterns.")
@pass_env
def codebook_show(env: Env, show_rules):
    """List the project's themes and codes with their number of codings."""
    from ..codebook.yamlfile import codebook_tree
    from .formatting import codebook_lines

    for line in codebook_lines(codebook_tree(env.open()), rules=show_rules):
        click.echo(line)


@codebook.command("validate")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def codebook_validate(file):
    """Check a YAML codebook without changing any project."""
    from ..codebook.yamlfile import load_codebook

    cb = load_codebook(file)
    click.echo(f"{file}: valid ({len(cb.themes)} themes, {len(cb.codes)} codes, "
               f"{sum(1 for c in cb.codes if c.has_rules())} with rules)")


@codebook.command("export")
@click.argument("out", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Overwrite OUT if it exists.")
@pass_env
def codebook_export(env: Env, out, force):
    """Write the project's codebook as Excel (.xlsx, with colours) or YAML (.yaml/.yml)."""
    from ..codebook.yamlfile import export_codebook

    refuse_overwrite(out, force)
    cb = export_codebook(env.open(), out)
    click.echo(f"wrote {out}: {len(cb.themes)} themes, {len(cb.codes)} codes")


@codebook.command("apply")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--force", is_flag=True,
              help="Remove codes that have codings; their codings move to the holding code 'uncategorised'.")
@pass_env
def codebook_apply(env: Env, file, force):
    """Update the project's codebook from FILE (YAML or an exported .xlsx), reporting what changed."""
    from ..codebook.yamlfile import apply_codebook, load_codebook

    report = apply_codebook(env.open(), load_codebook(file), source=file, force=force)
    for line in report.lines():
        click.echo(line)


# ------------------------------------------------------------------ coding
@click.group(cls=DefaultCommandGroup)
def code():
    """Code segments: 'qualcode code SEGMENT_ID... CODE_ID' (same as 'code apply').

    Other subcommands change codes themselves (rename, merge, move).
    """


@code.command("apply")
@click.argument("segment_ids", nargs=-1, required=True, metavar="SEGMENT_ID... CODE_ID")
@coder_option
@click.option("--fragment", default=None, metavar="WORDS",
              help="Code only these words of the segment (found exactly, else ignoring spaces, quote marks "
                   "and capitals; they must occur once).")
@pass_env
def code_apply(env: Env, segment_ids, coder, fragment):
    """Give one or more segments (or a fragment of each: --fragment) a code (origin manual)."""
    from ..coding.manual import code_segments
    from .formatting import coded

    *segs, code_id = segment_ids
    if not segs:
        raise click.UsageError("give at least one SEGMENT_ID and then a CODE_ID.")
    click.echo(coded(code_segments(env.open(), segs, code_id, coder=resolve_coder(coder), fragment=fragment)))


@click.command()
@click.argument("segment_ids", nargs=-1, required=True, metavar="SEGMENT_ID... CODE_ID")
@coder_option
@click.option("--fragment", default=None, metavar="WORDS",
              help="Remove only the coding on these words of the segment; without it every coding of the "
                   "code on the segment goes.")
@pass_env
def uncode(env: Env, segment_ids, coder, fragment):
    """Remove a code from one or more segments (only this coder's coding)."""
    from ..coding.manual import uncode_segments
    from .formatting import uncoded

    *segs, code_id = segment_ids
    if not segs:
        raise click.UsageError("give at least one SEGMENT_ID and then a CODE_ID.")
    click.echo(uncoded(uncode_segments(env.open(), segs, code_id, coder=resolve_coder(coder), fragment=fragment)))


@click.command()
@click.option("--codes", default=None, metavar="ID,ID",
              help="Only these codes (comma-separated ids); default every code with rules.")
@click.option("--dry-run", is_flag=True,
              help="Show each match: its score, the matched words in [brackets] and why (which keyword, phrase, "
                   "pattern or hint of the code matched); write nothing.")
@click.option("--limit", default=20, show_default=True, help="With --dry-run: at most this many matches shown.")
@click.option("--min-score", type=click.FloatRange(0, 1), default=None, metavar="X",
              help="Code only matches scoring at least X (0-1; default 0.5: one keyword, phrase or pattern, "
                   "or two hints; 0 gives every match).")
@click.option("--introductions", is_flag=True,
              help="Also code the turns of the introduction round (left out by default).")
@pass_env
def autocode(env: Env, codes, dry_run, limit, min_score, introductions):
    """Apply the codebook's keyword, phrase and pattern rules (coder 'rules', origin rule).

    Each match is scored (how specific and how many rules matched, negation, a passing mention in a
    long turn) and explained; rule codings are suggestions until you confirm them ('qualcode code
    confirm'). Manual codings are never touched; running it again changes nothing unless the rules
    or transcripts changed.
    """
    from ..coding.autocode import autocode as run

    wanted = [c.strip() for c in codes.split(",") if c.strip()] if codes else None
    result = run(env.open(), codes=wanted, dry_run=dry_run, min_score=min_score, introductions=introductions,
                 progress=progress_factory())
    for line in result.lines(limit=limit):
        click.echo(line)


@code.command("confirm")
@click.argument("segment_ids", nargs=-1, metavar="[SEGMENT_ID]...")
@click.option("--code", "code_id", default=None, metavar="ID", help="Only the rule codings of this code.")
@click.option("--min-score", type=click.FloatRange(0, 1), default=None, metavar="X",
              help="Only rule codings scoring at least X.")
@coder_option
@pass_env
def code_confirm(env: Env, segment_ids, code_id, min_score, coder):
    """Make rule codings (from 'autocode') your own codings, in one act (undo with 'qualcode undo').

    Choose them by segment ids, --code and/or --min-score, e.g. 'qualcode code confirm --code
    st_jobcoach --min-score 0.7' or 'qualcode code confirm 12 40 --code st_jobcoach'.
    """
    from ..coding.autocode import confirm_rule_codings

    result = confirm_rule_codings(env.open(), coder=resolve_coder(coder), code=code_id, segment_ids=segment_ids,
                                  min_score=min_score)
    for line in result.lines():
        click.echo(line)


@code.command("reject")
@click.argument("segment_ids", nargs=-1, required=True, metavar="SEGMENT_ID... CODE_ID")
@coder_option
@pass_env
def code_reject(env: Env, segment_ids, coder):
    """Reject rule codings of a code on segments: they go, and 'autocode' does not code them again."""
    from ..coding.autocode import reject_rule_codings

    *segs, code_id = segment_ids
    if not segs:
        raise click.UsageError("give at least one SEGMENT_ID and then a CODE_ID.")
    for line in reject_rule_codings(env.open(), segs, code_id, coder=resolve_coder(coder)).lines():
        click.echo(line)


# ------------------------------------------------------------------ sheet
@click.group(cls=QualcodeGroup)
def sheet():
    """The Excel coding round trip: export a coding sheet, code in Excel, import it back."""


@sheet.command("export")
@click.argument("out", type=click.Path(dir_okay=False))
@coder_option
@click.option("--group", default=None, metavar="F1", help="Only this focus group.")
@click.option("--main-theme", is_flag=True,
              help="Add a column with each participant segment's suggested main theme, its score and why, from the "
                   "codebook alone (as 'qualcode suggest themes'; with sentence vectors when the semantic extra is "
                   "installed).")
@click.option("--force", is_flag=True, help="Overwrite OUT if it exists.")
@pass_env
def sheet_export(env: Env, out, coder, group, main_theme, force):
    """Write a coding workbook: one row per segment, drop-down code columns, a memo column."""
    from ..excel.coding_sheet import export_sheet
    from .formatting import sheet_written

    refuse_overwrite(out, force)
    semantic = False
    if main_theme:
        from ..coding.semantic import wanted

        semantic = wanted("auto")
    click.echo(sheet_written(export_sheet(env.open(), out, coder=resolve_coder(coder), group=group,
                                          main_theme=main_theme, semantic=semantic)))


@sheet.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--coder", envvar="QUALCODE_CODER", default=None, metavar="NAME",
              help="Coder name (env QUALCODE_CODER; default: the coder the sheet was exported for).")
@click.option("--accept-partial", is_flag=True, help="Import the good rows even when some rows have problems.")
@click.option("--new-codes", is_flag=True,
              help="Create the codes typed in code cells that the codebook lacks (under the theme 'nieuw'/'new') "
                   "and the codes added as rows on the Codebook sheet (under the theme named there).")
@pass_env
def sheet_import(env: Env, file, coder, accept_partial, new_codes):
    """Read a coding workbook back: codings added/removed per code, memos; one transaction.

    Code cells take code ids or code names; with --new-codes, new codes are created in the same act."""
    from ..excel.coding_sheet import import_sheet

    result = import_sheet(env.open(), file, coder=coder, accept_partial=accept_partial, new_codes=new_codes)
    for line in result.lines():
        click.echo(line)


__all__ = ["codebook", "code", "sheet", "uncode", "autocode", "DefaultCommandGroup"]
