"""Every command has help text and appears in the README or docs/ (CONVENTIONS: tests and docs)."""

from pathlib import Path

import click

from qualcode.cli import cli

ROOT = Path(__file__).resolve().parent.parent


def walk(group: click.Group, prefix: tuple[str, ...] = ()):
    for name, cmd in sorted(group.commands.items()):
        path = prefix + (name,)
        yield path, cmd
        if isinstance(cmd, click.Group):
            yield from walk(cmd, path)


def all_docs() -> str:
    parts = [(ROOT / "README.md").read_text(encoding="utf-8")]
    parts += [p.read_text(encoding="utf-8") for p in sorted((ROOT / "docs").glob("*.md"))]
    parts.append((ROOT / "codebooks" / "README.md").read_text(encoding="utf-8"))
    return " ".join("\n".join(parts).split())


def test_there_are_many_commands():
    names = {" ".join(p) for p, _ in walk(cli)}
    for expected in ("init", "ingest", "overview", "segments", "kwic", "autocode", "sheet export", "sheet import",
                     "theme merge", "undo", "review", "status", "export workbook", "report", "suggest", "discover",
                     "agreement", "export refi", "import refi", "pseudonymise", "backup restore"):
        assert expected in names


def test_every_command_and_option_has_help():
    missing = []
    for path, cmd in walk(cli):
        if not (cmd.help or cmd.short_help or "").strip():
            missing.append(" ".join(path))
        for param in cmd.params:
            if isinstance(param, click.Option) and not (param.help or "").strip():
                missing.append(f"{' '.join(path)} {param.opts[0]}")
    assert missing == []


def test_every_command_appears_in_the_docs():
    docs = all_docs()
    undocumented = [" ".join(p) for p, _ in walk(cli) if f"qualcode {' '.join(p)}" not in docs]
    assert undocumented == []
