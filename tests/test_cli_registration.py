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


def test_the_registry_names_each_command_by_its_own_name():
    """COMMANDS and SUBCOMMANDS (cli/__init__.py) say where each command is defined; the name a
    command is listed under is the name it gives itself, and each group's subcommands are all there."""
    from qualcode.cli import COMMANDS, SUBCOMMANDS, cli

    assert sorted(cli.commands) == sorted(COMMANDS)
    for name in COMMANDS:
        assert cli.commands[name].name == name
    for group, subs in SUBCOMMANDS.items():
        for name in subs:
            assert name in cli.commands[group].commands
            assert cli.commands[group].commands[name].name == name


def test_lazy_commands_behave_as_a_mapping():
    import click

    from qualcode.cli import LazyCommands

    extra = click.Command("extra", help="An extra command.")
    commands = LazyCommands({"status": "themes:status", "undo": "themes:undo"}, {"extra": extra})
    assert list(commands) == ["extra", "status", "undo"] and len(commands) == 3
    assert "status" in commands and "nope" not in commands
    assert commands["status"].name == "status" and commands.get("nope") is None
    del commands["undo"]
    assert list(commands) == ["extra", "status"]
    commands["undo"] = extra
    assert commands["undo"] is extra
    try:
        commands["nope"]
    except KeyError:
        pass
    else:
        raise AssertionError("an unknown name must raise KeyError")
