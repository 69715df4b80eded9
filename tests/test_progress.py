"""The one progress helper of the command line: a bar on a terminal, nothing otherwise."""

from __future__ import annotations

import io

from qualcode.cli.progress import progress_factory


class _Tty(io.StringIO):
    def isatty(self):
        return True


def test_hidden_when_not_a_terminal():
    assert progress_factory(io.StringIO()) is None


def test_a_bar_on_a_terminal_that_yields_every_item():
    out = _Tty()
    progress = progress_factory(out)
    assert list(progress(range(3), "writing sheets")) == [0, 1, 2]
    assert "writing sheets" in out.getvalue()


def test_commands_use_it(monkeypatch, tmp_path):
    """report, export workbook and review pass the shared helper's callback to the library."""
    import inspect

    from qualcode.cli import reports, themes

    from qualcode.cli import suggest

    for fn in (reports.report, reports.export_workbook, themes.review, suggest.discover):
        assert "progress=progress_factory()" in inspect.getsource(fn.callback), fn.name
