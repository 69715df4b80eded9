"""Intercoder agreement commands: agreement, agreement done, agreement disagreements, agreement resolve."""

from __future__ import annotations

import click

from .common import Env, echo_json, echo_table, json_option, pass_env, refuse_overwrite


def _list(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [v.strip() for v in value.split(",") if v.strip()]


def _common(f):
    f = click.option("--include-moderator", is_flag=True,
                     help="Also count moderator turns as units (default: participant segments only).")(f)
    f = click.option("--groups", metavar="F1,F2", default=None,
                     help="Only these focus groups (comma-separated; default: all).")(f)
    f = click.option("--codes", metavar="CODE,CODE", default=None,
                     help="Only these codes (comma-separated code keys; default: every code the coders used).")(f)
    f = click.option("--coders", metavar="A,B", default=None,
                     help="Coders to compare, comma-separated (default: every coder with codings).")(f)
    return f


@click.group("agreement", invoke_without_command=True)
@_common
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="Also write the figures, notes and a coder comparison to this .xlsx file.")
@click.option("--resamples", type=click.IntRange(0, 100_000), default=1000, show_default=True,
              help="Bootstrap resamples for the 95% confidence intervals (0: none).")
@click.option("--seed", type=int, default=7, show_default=True, help="Random seed of the bootstrap.")
@click.option("--force", is_flag=True, help="Overwrite --out if it exists (files under reports/ always are).")
@click.option("--exclusive", "exclusive", multiple=True, metavar="THEME",
              help="Also treat this theme (or code with sub-codes) as a set of mutually exclusive codes, without "
                   "changing the codebook (repeatable, or comma-separated).")
@json_option
@pass_env
@click.pass_context
def agreement(ctx: click.Context, env: Env, coders, codes, groups, include_moderator, out, resamples, seed,
              force, exclusive, as_json) -> None:
    """Intercoder agreement per code and overall, with 95% confidence intervals.

    \b
    Unit: one segment x one code (applied or not). Only segments every coder
    has seen count: coded by them, or in a transcript they marked done
    ('qualcode agreement done'). Shows percent agreement, Cohen's kappa (two
    coders), Fleiss' kappa and Krippendorff's alpha, with interpretation bands.
    For each exclusive set (see 'qualcode theme set-exclusive', --exclusive)
    the same statistics on one categorical variable: which code of the set.
    """
    if ctx.invoked_subcommand is not None:
        return
    from ..agreement.measures import compute_agreement

    if out:
        refuse_overwrite(out, force)
    store = env.open()
    with store.exclusive_of_pseudonymisation(), store.snapshot():  # figures and file from one moment
        report = compute_agreement(store, _list(coders), codes=_list(codes), groups=_list(groups),
                                   include_moderator=include_moderator, n_boot=resamples, seed=seed,
                                   exclusive=[x for v in exclusive for x in _list(v)])
        if as_json:
            echo_json("agreement", report.to_dict())
        else:
            notes = report.notes()
            click.echo(notes[0])
            echo_table(report.header(), report.table(), max_width=40)
            if report.exclusive:
                click.echo("")
                echo_table(report.exclusive_header(), report.exclusive_table(), max_width=40)
            for line in notes[1:] + report.exclusive_notes():
                click.echo(line)
        if out:
            from ..agreement.workbook import write_agreement_report

            click.echo(f"Wrote {write_agreement_report(report, store, out)}", err=as_json)


@agreement.command("done")
@click.option("--coder", required=True, metavar="NAME", help="The coder who finished the transcripts.")
@click.option("--source", "sources", multiple=True, required=True, metavar="FILE",
              help="Transcript name as ingested (e.g. F1.txt) or a focus group (F1); repeat for more.")
@click.option("--undo", is_flag=True, help="Remove the 'done' marks instead.")
@pass_env
def done(env: Env, coder: str, sources: tuple[str, ...], undo: bool) -> None:
    """Mark transcripts as fully coded by a coder.

    In a done transcript, segments the coder left uncoded count as 'not applied';
    elsewhere they are left out of the agreement figures.
    """
    from ..agreement.units import mark_done

    n = mark_done(env.open(), coder, sources, undo=undo)
    click.echo(f"{'Removed' if undo else 'Added'} {n} 'done' marks for {coder}.")


@agreement.command("disagreements")
@_common
@click.option("--out", type=click.Path(dir_okay=False), required=True,
              help="The .xlsx disagreement sheet to write.")
@click.option("--force", is_flag=True, help="Overwrite --out if it exists (files under reports/ always are).")
@pass_env
def disagreements_cmd(env: Env, coders, codes, groups, include_moderator, out, force) -> None:
    """Write every shared segment where the coders differ, with a consensus column to fill in."""
    from ..agreement.units import check_coders
    from ..agreement.workbook import write_disagreements

    refuse_overwrite(out, force)
    store = env.open()
    result = write_disagreements(store, check_coders(store, _list(coders)), out, codes=_list(codes),
                                 groups=_list(groups), include_moderator=include_moderator)
    for line in result.lines():
        click.echo(line)


@agreement.command("resolve")
@click.argument("sheet", type=click.Path(dir_okay=False))
@click.option("--as", "coder", default="consensus", show_default=True, metavar="NAME",
              help="Coder name for the consensus codings (origin 'consensus').")
@click.option("--no-agreed", is_flag=True,
              help="Do not copy the codes of segments where the coders already agreed.")
@pass_env
def resolve(env: Env, sheet: str, coder: str, no_agreed: bool) -> None:
    """Import a filled-in disagreement sheet as a consensus coder's codings (one undoable act)."""
    from ..agreement.workbook import resolve_disagreements

    report = resolve_disagreements(env.open(), sheet, coder=coder, include_agreed=not no_agreed)
    for line in report.lines():
        click.echo(line)
