"""Pseudonymisation, identifying attributes and backups: pseudonymise, attribute, backup."""

from __future__ import annotations

import click

from .common import Env, QualcodeGroup, echo_table, pass_env, refuse_overwrite


@click.command()
@click.option("--names", "names_file", type=click.Path(dir_okay=False),
              help="CSV with a 'name' column and an optional 'category' column (person, organisation, place).")
@click.option("--detect", type=click.Choice(["titles", "deduce", "none"]), multiple=True,
              help="Name detection besides the list: 'titles' (names after meneer/mevrouw/dokter…, the default), "
                   "'deduce' (optional package), 'none'. Repeatable.")
@click.option("--ignore-case", is_flag=True, help="Match names from the list regardless of capitals.")
@click.option("--dry-run", is_flag=True, help="List every replacement with its (F2 P2) key; change nothing.")
@click.option("--mapping-out", type=click.Path(dir_okay=False),
              help="Also write placeholder -> original as CSV. Keep it apart from the project file!")
@click.option("--force", is_flag=True, help="Overwrite --mapping-out if it exists.")
@pass_env
def pseudonymise(env: Env, names_file, detect, ignore_case, dry_run, mapping_out, force):
    """Replace names, e-mail addresses and phone numbers in the texts with [naam 1]-style placeholders.

    Offsets, segments and codings move with the text. This cannot be undone,
    and backups made earlier still hold the original text.

    \b
    Examples:
      qualcode pseudonymise --names names.csv --dry-run
      qualcode pseudonymise --names names.csv --mapping-out /media/usb/key.csv
    """
    from ..privacy.pseudonyms import pseudonymise as run, read_names

    if mapping_out:
        refuse_overwrite(mapping_out, force)
    chosen = tuple(d for d in (detect or ("titles",)) if d != "none")
    report = run(env.open(), names=read_names(names_file) if names_file else None, detect=chosen,
                 ignore_case=ignore_case, dry_run=dry_run, mapping_out=None if dry_run else mapping_out)
    for line in report.lines():
        click.echo(line)
    if report.mapping_file:
        click.echo("warning: the mapping file links placeholders to real names; store it separately from the "
                   "project (not on the same USB stick, not in the same e-mail).", err=True)


@click.group(cls=QualcodeGroup)
def attribute():
    """Participant attributes: mark those that identify people (never exported or reported)."""


@attribute.command("identifying")
@click.argument("name")
@click.option("--off", is_flag=True, help="Unmark: the attribute may be exported again.")
@pass_env
def attribute_identifying(env: Env, name, off):
    """Mark participant attribute NAME as identifying (e.g. a real name or e-mail column)."""
    from ..privacy.pseudonyms import mark_identifying
    from .formatting import identifying

    click.echo(identifying(mark_identifying(env.open(), name, not off)))


@click.group(cls=QualcodeGroup)
def backup():
    """Backups of the project file (made automatically before destructive acts)."""


@backup.command("list")
@pass_env
def backup_list(env: Env):
    """List the backups, oldest first."""
    rows = [[p.name, f"{p.stat().st_size // 1024} KiB"] for p in env.open().backups()]
    if not rows:
        click.echo("no backups yet")
        return
    echo_table(["backup", "size"], rows, max_width=90)


@backup.command("create")
@click.option("--reason", default="manual", show_default=True, help="A word to put in the backup's name.")
@pass_env
def backup_create(env: Env, reason):
    """Make a backup now."""
    click.echo(f"wrote {env.open().backup(reason)}")


@backup.command("restore")
@click.argument("backup_name")
@pass_env
def backup_restore(env: Env, backup_name):
    """Replace the project with BACKUP_NAME (a file name from 'backup list', or its start).

    The current state is backed up first, so a restore can itself be reversed.
    """
    store = env.open()
    saved = store.restore(backup_name)
    click.echo(f"restored {backup_name}; the state before the restore is in {saved.name}")


@backup.command("prune")
@click.option("--keep", default=0, show_default=True, help="Keep this many of the newest backups.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_env
def backup_prune(env: Env, keep, yes):
    """Delete old backups (e.g. after pseudonymising: they still hold the original names)."""
    store = env.open()
    n = max(len(store.backups()) - max(keep, 0), 0)
    if n and not yes:
        click.confirm(f"delete {n} backup(s)?", abort=True)
    click.echo(f"deleted {len(store.prune_backups(keep))} backup(s)")
