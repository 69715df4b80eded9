"""Every command defined in a ``qualcode.cli`` module is reachable from ``qualcode``, once, and
no command module adds anything to a group (commands join their groups only in ``cli/__init__.py``)."""

from __future__ import annotations

import importlib
import pkgutil

import click


def _tree(group: click.Group, path: tuple[str, ...] = ()) -> dict[tuple[str, ...], click.Command]:
    out: dict[tuple[str, ...], click.Command] = {}
    for name, cmd in group.commands.items():
        out[path + (name,)] = cmd
        if isinstance(cmd, click.Group):
            out.update(_tree(cmd, path + (name,)))
    return out


def _command_modules():
    import qualcode.cli as pkg

    for info in pkgutil.iter_modules(pkg.__path__):
        yield importlib.import_module(f"qualcode.cli.{info.name}")


def test_every_defined_command_is_registered_once():
    from qualcode.cli import cli

    reachable = list(_tree(cli).values())
    defined = {(m.__name__, name): obj for m in _command_modules() for name, obj in vars(m).items()
               if isinstance(obj, click.Command) and obj is not cli}
    assert len(defined) > 40
    missing = sorted(f"{mod}.{name}" for (mod, name), obj in defined.items() if not any(obj is r for r in reachable))
    assert missing == []
    twice = sorted({c.name for c in reachable if sum(c is r for r in reachable) > 1})
    assert twice == []


def test_only_the_package_module_adds_commands_to_groups():
    """A command module that added itself to a group (``@cli.command``, ``add_command`` on
    another module's group) would register by import side effect, in an order nobody sees."""
    from pathlib import Path

    import qualcode.cli as pkg

    offenders = []
    for path in sorted(Path(pkg.__file__).parent.glob("*.py")):
        if path.name == "__init__.py":
            continue
        text = path.read_text(encoding="utf-8")
        offenders += [f"{path.name}: {needle}" for needle in ("add_command(", "@cli.", "from . import cli", "__import__(")
                      if needle in text]
    assert offenders == []


def test_subcommands_defined_in_another_module_are_in_their_group():
    from qualcode.cli import cli, refi, reports, themes

    tree = _tree(cli)
    assert tree[("code", "merge")] is themes.code_merge
    assert tree[("code", "split")] is themes.code_split
    assert tree[("sheet", "import-comments")] is reports.import_comments
    assert tree[("export", "refi")] is refi.export_refi
