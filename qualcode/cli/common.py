"""What every command shares: the project environment, error handling, options."""

from __future__ import annotations

import contextlib
import os
import re
import sys
from dataclasses import dataclass, field

import click

from ..errors import QualcodeError
from ..files.textsafe import terminal_safe
from ..store.core import DamagedFileError, DatabaseError


@dataclass
class Env:
    project_path: str
    debug: bool = False
    _store: object = field(default=None, repr=False)

    def open(self):
        """The project's Store, opened once per command."""
        if self._store is None:
            from ..store import Store

            self._store = Store.open(self.project_path)
            ctx = click.get_current_context(silent=True)
            if ctx is not None:  # named to another command that has to wait for this one
                self._store.activity = ctx.command_path
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None


class QualcodeGroup(click.Group):
    """Turns library errors into 'Error: …' on stderr and exit code 1 (tracebacks with --debug)."""

    def invoke(self, ctx: click.Context):
        try:
            with terminal_safe_stdout():
                return self._invoke(ctx)
        except click.ClickException as exc:  # error lines quote names and file content too
            exc.message = terminal_safe(exc.message)
            raise

    def _invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except QualcodeError as exc:
            if _debug(ctx):
                raise
            raise click.ClickException(str(exc)) from None
        except BrokenPipeError:  # output piped into e.g. `head`, which stopped reading: not an error
            try:
                sys.stdout = open(os.devnull, "w")
            finally:
                ctx.exit(0)
        except KeyboardInterrupt:
            raise click.ClickException("interrupted; the project is unchanged by the unfinished act.") from None
        except DatabaseError as exc:
            if _debug(ctx):
                raise
            msg = str(exc)
            if "locked" in msg:
                msg = "the project file is busy (another qualcode command or program has it open); try again."
            elif "full" in msg:
                msg = ("the disk is full, so the project file could not be written; nothing was changed. Free some "
                       "space and run the command again.")
            elif "readonly" in msg or "read-only" in msg:
                msg = ("the project file cannot be written here (read-only file or folder); nothing was changed. "
                       "Copy the project to a folder you can write to, or check its permissions.")
            raise click.ClickException(f"project file problem: {msg}") from None
        except DamagedFileError as exc:  # a page of the file is damaged (seen only when a query reaches it)
            if _debug(ctx) or not any(w in str(exc) for w in ("malformed", "not a database", "disk image")):
                raise _bug(ctx, exc) from None
            env = ctx.find_object(Env)
            where = env.project_path if env is not None else "the project file"
            raise click.ClickException(
                f"{where} is damaged ({exc}); nothing was changed. Restore a backup with 'qualcode backup "
                "restore', or run 'sqlite3 FILE .recover' on a copy to rescue what can be read.") from None
        except OSError as exc:  # disk full, no permission, a file held by another program
            message = _os_error_message(exc)
            if message is not None and not _debug(ctx):
                raise click.ClickException(message) from None
            raise _bug(ctx, exc) from None
        except ValueError as exc:
            if "[E088]" not in str(exc) or _debug(ctx):  # E088: a text longer than the spaCy pipeline takes
                raise _bug(ctx, exc) from None
            raise click.ClickException(
                "a segment is longer than the spaCy pipeline named in the codebook ('spacy_pipeline') takes "
                "(its nlp.max_length); split that turn in the transcript, or remove 'spacy_pipeline' to use the "
                "built-in pipeline, which takes long texts. Nothing was written.") from None
        except Exception as exc:  # a bug: say so plainly
            raise _bug(ctx, exc) from None


class _SafeStdout:
    """sys.stdout for the length of a command: what is written passes :func:`terminal_safe`, so a
    code name or memo holding ESC sequences prints as text. (JSON output is unchanged: json.dumps
    already escapes control characters, and \\uXXXX is what it would write.)"""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text):
        return self._stream.write(terminal_safe(text) if isinstance(text, str) else text)

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def __getattr__(self, name):
        return getattr(self._stream, name)


@contextlib.contextmanager
def terminal_safe_stdout():
    if isinstance(sys.stdout, _SafeStdout):
        yield
        return
    saved = sys.stdout
    sys.stdout = _SafeStdout(saved)
    try:
        yield
    finally:
        sys.stdout = saved


def _bug(ctx: click.Context, exc: Exception) -> Exception:
    """The exception to raise for an unexpected error: itself with --debug, else one plain line."""
    if _debug(ctx):
        return exc
    return click.ClickException(
        f"unexpected {type(exc).__name__}: {exc}. This is a bug in qualcode; run the command again with "
        "--debug for details and report it.")


def _os_error_message(exc: OSError) -> str | None:
    """A one-line message for the foreseeable file-system failures, or None (then it is a bug)."""
    import errno

    where = f" {exc.filename}" if exc.filename else ""
    if exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
        return f"could not write{where}: the disk is full. Free some space and run the command again."
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return (f"no permission to use{where} (a read-only folder or file, or a file open in another program "
                "such as Excel). Close it or choose another path.")
    return None


def _debug(ctx: click.Context) -> bool:
    root = ctx.find_root()
    return bool(getattr(root.obj, "debug", False)) or "--debug" in sys.argv


pass_env = click.make_pass_decorator(Env)


def coder_option(f):
    """--coder NAME (env QUALCODE_CODER, default the OS user name)."""
    return click.option("--coder", envvar="QUALCODE_CODER", default=None, metavar="NAME",
                        help="Coder name (env QUALCODE_CODER; default: your user name).")(f)


def resolve_coder(coder: str | None) -> str:
    from ..store import default_actor

    return coder or default_actor()


def progress_factory():
    """A progress callback for long library work: a bar on a terminal, silent otherwise."""
    if not sys.stderr.isatty():
        return None

    def progress(items, label):
        items = list(items)
        with click.progressbar(items, label=label, file=sys.stderr, show_pos=True) as bar:
            yield from bar

    return progress


def json_option(f):
    """--json: one JSON document on stdout (docs/json.md); other messages go to stderr."""
    return click.option("--json", "as_json", is_flag=True,
                        help="Print one JSON document for scripts (schema in docs/json.md); messages go to stderr.")(f)


def echo_json(command: str, body: dict) -> None:
    from ..files.jsondoc import dumps

    click.echo(dumps(command, body))


def refuse_overwrite(path: str, force: bool) -> None:
    """Refuse to write ``path`` over anything but an earlier output of the same kind (see
    :mod:`qualcode.files.overwrite`); existing outputs need --force, except inside reports/."""
    from pathlib import Path

    from ..files.overwrite import check_output

    env = click.get_current_context().find_object(Env)
    project = env.project_path if env is not None else None
    hashes = None
    if project and Path(path).exists() and Path(project).exists():
        with contextlib.suppress(QualcodeError):
            hashes = env.open().source_file_hashes()
    check_output(path, force, project=project, source_hashes=hashes)


def echo_table(header: list[str], rows: list[list], *, max_width: int = 60) -> None:
    """Print a plain aligned table."""
    cells = [[str(h) for h in header]] + [[_short(v, max_width) for v in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    for n, r in enumerate(cells):
        click.echo("  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip())
        if n == 0:
            click.echo("  ".join("-" * w for w in widths))


def _short(v, width: int) -> str:
    s = "" if v is None else str(v).replace("\n", " ")
    return s if len(s) <= width else s[: width - 1] + "…"
