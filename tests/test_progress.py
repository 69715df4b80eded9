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

    from qualcode.cli import codebook, suggest

    for fn in (reports.report, reports.export_workbook, themes.review, suggest.discover, codebook.autocode):
        assert "progress=progress_factory()" in inspect.getsource(fn.callback), fn.name


def test_autocode_shows_every_participant_segment_once(sample_store):
    """autocode passes each participant segment it matches through the progress callback."""
    from pathlib import Path

    from qualcode.codebook.yamlfile import apply_codebook, load_codebook
    from qualcode.coding.autocode import autocode

    store = sample_store
    apply_codebook(store, load_codebook(Path(__file__).resolve().parent.parent / "codebooks" / "ips.yaml"),
                   source="ips.yaml")
    seen: list = []

    def progress(items, label):
        seen.append(label)
        for item in items:
            seen.append(item)
            yield item

    n = autocode(store, dry_run=True, progress=progress).n_segments
    assert seen[0] == "matching rules" and 0 < len(seen) - 1 <= n
    assert len({sid for sid, _ in seen[1:]}) == len(seen) - 1
