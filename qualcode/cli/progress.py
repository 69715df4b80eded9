"""The one progress display of the command line: a bar on stderr while long library work runs.

Nothing at all is shown when stderr is not a terminal (pipes, files, tests, CI).

Library functions that can take more than a second on a large project take ``progress=None``, a
callable ``progress(items, label)`` that yields the items back one by one; :func:`progress_factory`
gives the CLI's (or None). The library never prints.
"""

from __future__ import annotations

import sys


def progress_factory(stream=None):
    """A progress callback for long library work: a bar on a terminal, None (silent) otherwise."""
    stream = stream or sys.stderr
    if not stream.isatty():
        return None

    def progress(items, label):
        import click

        items = list(items)
        with click.progressbar(items, label=label, file=stream, show_pos=True) as bar:
            yield from bar

    return progress

