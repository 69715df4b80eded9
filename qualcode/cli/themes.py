"""Theme commands (steps 3-5): theme, code rename/merge/move/split, status, review, history, undo, memo.

``cli/__init__.py`` adds the ``code`` subcommands to the ``code`` group of ``cli/codebook.py``."""

from __future__ import annotations

import json

import click

from ..themes.retheme import STATUSES
from .common import Env, QualcodeGroup, echo_json, echo_table, json_option, pass_env, progress_factory, refuse_overwrite


def _ids(value: str | None) -> list[int] | None:
    if value is None:
        return None
    from ..errors import InputError

    parts = [p.strip() for p in value.split(",") if p.strip()]
    bad = [p for p in parts if not p.isdigit()]
    if bad or not parts:
        raise InputError(f"--segments takes segment ids separated by commas, e.g. 12,15,31; got '{value}'.")
    return [int(p) for p in parts]


# -------------------------------------------------------------------- theme
@click.group(cls=QualcodeGroup)
def theme():
    """Group codes into themes and take them through steps 3-5 (candidate, reviewed, defined, reported)."""


@theme.command("add")
@click.argument("key")
@click.argument("name")
@click.option("--description", default="", help="What the theme is about (a working description).")
@click.option("--colour", default=None, metavar="#RRGGBB", help="Theme colour (default: a free one).")
@pass_env
def theme_add(env: Env, key, name, description, colour):
    """Add a candidate theme KEY (lower-case id) called NAME."""
    from ..themes.retheme import add_theme

    t = add_theme(env.open(), key, name, description=description, colour=colour)
    click.echo(f"added theme {t['key']} ({t['name']}, {t['colour']}), status {t['status']}")


@theme.command("rename")
@click.argument("theme_ref", metavar="THEME")
@click.argument("name", required=False)
@click.option("--key", default=None, help="Also give the theme a new id.")
@pass_env
def theme_rename(env: Env, theme_ref, name, key):
    """Give THEME a new NAME (its final name in step 5) and/or a new id."""
    from ..themes.retheme import rename_theme

    t = rename_theme(env.open(), theme_ref, name, key=key)
    click.echo(f"theme {t['key']} is now called {t['name']}")


@theme.command("merge")
@click.argument("source", metavar="THEME")
@click.argument("target", metavar="INTO")
@pass_env
def theme_merge(env: Env, source, target):
    """Merge THEME into INTO: its codes, memos and key messages move, THEME disappears (backup first)."""
    from ..themes.retheme import merge_themes

    r = merge_themes(env.open(), source, target)
    click.echo(f"merged theme {r['from']} into {r['into']} ({r['codes_moved']} code(s) moved); "
               "undo with 'qualcode undo'")


@theme.command("split")
@click.argument("theme_ref", metavar="THEME")
@click.argument("new_key")
@click.argument("new_name")
@click.option("--code", "codes", multiple=True, required=True, metavar="CODE",
              help="A code of THEME that goes to the new theme (repeatable).")
@click.option("--description", default="", help="Working description of the new theme.")
@pass_env
def theme_split(env: Env, theme_ref, new_key, new_name, codes, description):
    """Move some codes of THEME to a new candidate theme NEW_KEY called NEW_NAME."""
    from ..themes.retheme import split_theme

    r = split_theme(env.open(), theme_ref, codes, new_key, new_name, description=description)
    click.echo(f"new theme {r['new']} with {', '.join(r['codes'])} (from {r['from']})")


@theme.command("move-code")
@click.argument("code_ref", metavar="CODE")
@click.argument("theme_ref", metavar="THEME")
@pass_env
def theme_move_code(env: Env, code_ref, theme_ref):
    """Put CODE under THEME."""
    _move_code(env, code_ref, theme_ref)


def _move_code(env: Env, code_ref: str, theme_ref: str) -> None:
    from ..themes.retheme import move_code

    r = move_code(env.open(), code_ref, theme_ref)
    click.echo(f"moved code {r['code']} from {r['from']} to {r['to']}")


@theme.command("define")
@click.argument("theme_ref", metavar="THEME")
@click.option("--definition", default=None, help="What the theme is and is not (step 5).")
@click.option("--key-message", "messages", multiple=True, help="A key message of the theme (repeatable).")
@click.option("--add", is_flag=True, help="Add the key messages to the existing ones instead of replacing them.")
@click.option("--name", default=None, help="Also set the theme's final name.")
@pass_env
def theme_define(env: Env, theme_ref, definition, messages, add, name):
    """Write THEME's definition and key messages."""
    from ..themes.retheme import define_theme

    t = define_theme(env.open(), theme_ref, definition=definition, key_messages=messages, add=add, name=name)
    click.echo(f"theme {t['key']}: definition of {len(t['definition'].split())} words, "
               f"{len(t['key_messages'])} key message(s)")


@theme.command("set-status")
@click.argument("theme_refs", nargs=-1, metavar="THEME...")
@click.argument("status", type=click.Choice(STATUSES))
@click.option("--back", is_flag=True, help="Allow moving the themes back to an earlier step.")
@pass_env
def theme_set_status(env: Env, theme_refs, status, back):
    """Move THEME (one or more) to STATUS: candidate -> reviewed -> defined -> reported.

    \b
    Several themes move together, in one act that one 'qualcode undo' reverses;
    if one of them cannot move (e.g. it has no definition yet), none does:
      qualcode theme set-status pathways paid_work support reviewed
    """
    from ..themes.retheme import set_statuses

    for t in set_statuses(env.open(), theme_refs, status, back=back):
        click.echo(f"theme {t['key']} is now {t['status']}")


@theme.command("set-exclusive")
@click.argument("ref", metavar="THEME")
@click.option("--off", is_flag=True, help="Make the codes no longer mutually exclusive.")
@pass_env
def theme_set_exclusive(env: Env, ref, off):
    """Declare THEME's codes mutually exclusive (one per segment); THEME may also be a code with sub-codes.

    \b
    'qualcode agreement' then also reports one categorical kappa and alpha for the
    set, and 'qualcode review' flags segments that carry two of its codes.
    Undo with 'qualcode undo'.
    """
    from ..themes.retheme import set_exclusive

    r = set_exclusive(env.open(), ref, on=not off)
    if off:
        click.echo(f"{r['kind']} {r['key']} is no longer an exclusive set")
        return
    click.echo(f"{r['kind']} {r['key']} is an exclusive set: {', '.join(r['codes'])}")
    if r["double_coded"]:
        click.echo(f"{r['double_coded']} segment(s) already carry two of its codes from one coder; "
                   "'qualcode review' lists them")


@theme.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@pass_env
def theme_list(env: Env, as_json):
    """List themes with status, codes, coded segments and key messages."""
    from ..themes.retheme import list_themes

    rows = list_themes(env.open())
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    echo_table(["id", "name", "status", "codes", "segments", "key messages"],
               [[t["key"], t["name"], t["status"], t["n_codes"], t["n_segments"], len(t["key_messages"])]
                for t in rows])


@theme.command("show")
@click.argument("theme_ref", metavar="THEME")
@click.option("--segments", "n", default=10, show_default=True, help="How many coded segments to show (0: all).")
@pass_env
def theme_show(env: Env, theme_ref, n):
    """Show THEME: definition, key messages, codes, voices, memos and coded segments."""
    from ..themes.retheme import format_theme, show_theme

    click.echo(format_theme(show_theme(env.open(), theme_ref, max_segments=n or None)))


# -------------------------------------------------------- code subcommands
@click.command("rename")
@click.argument("code_ref", metavar="CODE")
@click.argument("name", required=False)
@click.option("--key", default=None, help="Also give the code a new id.")
@pass_env
def code_rename(env: Env, code_ref, name, key):
    """Give CODE a new NAME and/or a new id."""
    from ..themes.retheme import rename_code

    c = rename_code(env.open(), code_ref, name, key=key)
    click.echo(f"code {c['key']} is now called {c['name']}")


@click.command("merge")
@click.argument("source", metavar="CODE")
@click.argument("target", metavar="INTO")
@pass_env
def code_merge(env: Env, source, target):
    """Merge CODE into INTO: codings move, duplicates collapse, CODE disappears (backup first)."""
    from ..themes.retheme import merge_codes

    r = merge_codes(env.open(), source, target)
    click.echo(f"merged code {r['from']} into {r['into']}: {r['moved']} coding(s) moved, "
               f"{r['collapsed']} duplicate(s) collapsed")


@click.command("move")
@click.argument("code_ref", metavar="CODE")
@click.argument("theme_ref", metavar="THEME")
@pass_env
def code_move(env: Env, code_ref, theme_ref):
    """Put CODE under THEME (same as 'theme move-code')."""
    _move_code(env, code_ref, theme_ref)


@click.command("split")
@click.argument("code_ref", metavar="CODE")
@click.argument("new_key")
@click.argument("new_name")
@click.option("--segments", default=None, metavar="ID,ID", help="Segment ids that go to the new code.")
@click.option("--group", default=None, help="Only segments of this focus group, e.g. F2.")
@click.option("--participant", default=None, help="Only segments of this participant, e.g. 'F2 P2'.")
@click.option("--contains", default=None, help="Only segments whose text contains this (case-insensitive).")
@click.option("--theme", "theme_ref", default=None, help="Theme of the new code (default: CODE's theme).")
@pass_env
def code_split(env: Env, code_ref, new_key, new_name, segments, group, participant, contains, theme_ref):
    """Move some of CODE's codings (by ids or a filter) to a new code NEW_KEY called NEW_NAME."""
    from ..themes.retheme import split_code

    r = split_code(env.open(), code_ref, new_key, new_name, segment_ids=_ids(segments), group=group,
                   participant=participant, contains=contains, theme=theme_ref)
    click.echo(f"new code {r['new']}: {r['moved']} coding(s) on {len(r['segments'])} segment(s) moved from "
               f"{r['from']}")


# --------------------------------------------------------- status, review
@click.command()
@json_option
@pass_env
def status(env: Env, as_json):
    """Where the project stands in the six steps, and the next sensible action."""
    from ..status import format_status, project_status

    s = project_status(env.open())
    if as_json:
        echo_json("status", s)
    else:
        click.echo(format_status(s))


@click.command()
@click.option("--out", type=click.Path(dir_okay=False), help="Also write the review to this .xlsx file.")
@click.option("--coder", default=None, metavar="NAME",
              help="Only this coder's codings ('rules' for autocode's rule matches); default: the project's "
                   "analyst ('qualcode config analyst'), else everyone's.")
@click.option("--force", is_flag=True, help="Overwrite --out if it exists.")
@json_option
@pass_env
def review(env: Env, out, coder, force, as_json):
    """Step 4: re-read integrity, coverage, spread, thin/fat themes and codes, coherence, exclusive sets."""
    from ..themes.review import check_out_path, format_review, run_review, write_review

    if out:
        check_out_path(out)
        refuse_overwrite(out, force)
    store = env.open()
    r = run_review(store, coder=coder or store.analyst() or None, progress=progress_factory())
    if as_json:
        echo_json("review", r.to_dict())
    else:
        click.echo(format_review(r))
    if out:
        click.echo(f"wrote {write_review(r, out)}", err=as_json)


# --------------------------------------------------------- history, undo
@click.command()
@click.option("--limit", default=20, show_default=True, help="How many acts to show (0: all).")
@pass_env
def history(env: Env, limit):
    """The audit log: every act with who, when and what (newest first)."""
    from ..themes.retheme import history_rows

    echo_table(["#", "at", "who", "command", "summary", "state"],
               [[a["id"], a["at"], a["actor"], a["command"], a["summary"], a["state"]]
                for a in history_rows(env.open(), limit or None)], max_width=70)


@click.command()
@click.argument("n", type=int, default=1, required=False)
@click.option("--id", "audit_id", type=int, default=None, help="Undo this act (a number from 'qualcode history').")
@pass_env
def undo(env: Env, n, audit_id):
    """Reverse the last N acts (default 1) exactly; the project is backed up first."""
    from ..themes.retheme import undo as run

    for a in run(env.open(), n, audit_id=audit_id):
        click.echo(f"undone #{a['id']} {a['command']}: {a['summary']}")


# -------------------------------------------------------------------- memo
@click.group(cls=QualcodeGroup)
def memo():
    """Memos: the analysis logbook, on the project, a theme, a code or a segment."""


@memo.command("add")
@click.argument("target")
@click.argument("text")
@click.option("--author", envvar="QUALCODE_CODER", default=None, help="Author (env QUALCODE_CODER; default: you).")
@pass_env
def memo_add(env: Env, target, text, author):
    """Add a memo TEXT on TARGET: project, theme:KEY, code:KEY or segment:ID."""
    from ..themes.retheme import add_memo

    m = add_memo(env.open(), target, text, author=author)
    click.echo(f"memo #{m['id']} on {m['target']} by {m['author']} at {m['created_at']}")


@memo.command("list")
@click.argument("target", required=False)
@pass_env
def memo_list(env: Env, target):
    """List memos (all, or those on TARGET: project, theme:KEY, code:KEY, segment:ID)."""
    from ..themes.retheme import list_memos

    echo_table(["#", "on", "author", "at", "text"],
               [[m["id"], m["target"], m["author"], m["created_at"], m["text"]]
                for m in list_memos(env.open(), target)])


@memo.command("show")
@click.argument("memo_id", type=int)
@pass_env
def memo_show(env: Env, memo_id):
    """Show one memo in full."""
    from ..themes.retheme import show_memo

    m = show_memo(env.open(), memo_id)
    click.echo(f"memo #{m['id']} on {m['target']} ({m['kind']})\nby {m['author']} at {m['created_at']}\n\n{m['text']}")
