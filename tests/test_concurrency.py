"""Two commands on one project at the same time (issue 22): no lost write, no double undo, no act
written on top of a state it did not read. Deterministic: each test pauses the first command at a
chosen point inside its transaction (by wrapping one store method) and runs the second command
from another thread there; the outcome does not depend on timing. Where a test gives the second
command time to finish, that is an upper bound on waiting, never an assertion about speed."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from qualcode.themes import retheme as T
from qualcode.errors import BusyError, ChangedError
from qualcode.store import Store

from tests.helpers import tiny_codebook
from tests.test_themes_helpers import build_project, dump


@pytest.fixture
def project(tmp_path) -> Path:
    path = tmp_path / "p.qualcode"
    store = Store.create(path, language="nl")
    build_project(store)
    tiny_codebook(store)
    T.define_theme(store, "care", definition="Zorg en werk.", key_messages=["Eerste boodschap."])
    from qualcode.text.lemmas import refresh

    refresh(store)  # as ingest does: later commands only read the lemma cache
    store.close()
    return path


class Second:
    """Runs ``fn(store)`` on its own connection in a thread; ``.result`` or ``.error`` afterwards."""

    def __init__(self, path: Path, fn):
        self.path, self.fn = path, fn
        self.done = threading.Event()
        self.result = self.error = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        store = Store.open(self.path)
        store.activity = "qualcode second"
        try:
            self.result = self.fn(store)
        except Exception as exc:  # noqa: BLE001 - handed to the test
            self.error = exc
        finally:
            store.close()
            self.done.set()

    def start(self):
        self.thread.start()
        return self

    def join(self):
        self.thread.join(timeout=120)
        assert not self.thread.is_alive()
        return self


def pause_inside(store, method: str, during):
    """Make ``store.<method>`` call ``during()`` the first time, before doing its work."""
    real = getattr(store, method)
    calls = []

    def wrapped(*a, **k):
        if not calls:
            calls.append(1)
            during()
        return real(*a, **k)

    setattr(store, method, wrapped)


def test_two_key_messages_added_at_once_both_survive(project):
    """Was: both 'theme define --add' reported success and one key message was lost."""
    first = Store.open(project)
    second = None

    def during():  # the first command has read the theme and is about to write
        nonlocal second
        second = Second(project, lambda s: T.define_theme(s, "care", key_messages=["Van de tweede."],
                                                          add=True)).start()
        second.done.wait(timeout=1.0)  # cannot finish while the first holds the write lock

    pause_inside(first, "update_theme", during)
    T.define_theme(first, "care", key_messages=["Van de eerste."], add=True)
    second.join()
    assert second.error is None
    assert first.theme("care")["key_messages"] == ["Eerste boodschap.", "Van de eerste.", "Van de tweede."]
    first.close()


def test_a_writer_that_cannot_wait_names_the_command_it_waited_for(project, monkeypatch):
    first = Store.open(project)
    first.activity = "qualcode theme merge"
    second = None

    def during():
        nonlocal second
        monkeypatch.setenv("QUALCODE_BUSY_TIMEOUT", "0.2")
        second = Second(project, lambda s: T.add_memo(s, "theme:care", "tweede", author="bob")).start().join()

    pause_inside(first, "update_theme", during)
    T.define_theme(first, "care", key_messages=["Van de eerste."], add=True)
    assert isinstance(second.error, BusyError)
    msg = str(second.error)
    assert msg.startswith("the project p.qualcode is busy: 'qualcode theme merge' (process ")
    assert msg.endswith("is writing to it and did not finish within 0.2 s. Try again when it has finished.")
    assert not Path(str(project) + "-writer").exists()  # the note is gone once the writer is done
    first.close()


def test_two_undos_at_once_undo_two_different_acts(project):
    """Was: both printed 'undone #8'; #8 was undone twice and #7 never."""
    store = Store.open(project)
    T.add_theme(store, "a", "A")
    T.add_theme(store, "b", "B")
    top = store.history(1)[0]["id"]
    first, second = Store.open(project), None

    def during():
        nonlocal second
        second = Second(project, lambda s: s.undo(1)).start()
        second.done.wait(timeout=1.0)

    pause_inside(first, "_reverse", during)
    undone_first = first.undo(1)
    second.join()
    assert second.error is None
    assert [a["id"] for a in undone_first] == [top]
    assert [a["id"] for a in second.result] == [top - 1]
    undo_of = [r["undo_of"] for r in store.history() if r["command"] == "undo"]
    assert sorted(undo_of) == [top - 1, top]
    assert [t["key"] for t in store.themes()] == ["work", "care"]
    for s in (store, first):
        s.close()


def test_autocode_while_a_merge_commits_writes_nothing_and_says_why(project):
    """Was: 'unexpected IntegrityError: FOREIGN KEY constraint failed. This is a bug'."""
    from qualcode.coding import autocode as rules

    store = Store.open(project)
    before = dump(store)
    merged = None

    def during():  # autocode has read the codebook and segments; a merge commits now
        nonlocal merged
        merged = Second(project, lambda s: T.merge_codes(s, "cons", "pros", backup=False)).start().join()

    pause_inside(store, "rule_segment_texts", during)  # called after the codebook was read
    with pytest.raises(ChangedError) as e:
        rules.autocode(store)
    assert merged.error is None
    assert str(e.value).startswith("the project changed while this command was working (#")
    assert "code merge by " in str(e.value)
    assert str(e.value).endswith("nothing was written. Run the command again.")
    after = Store.open(project)
    assert [c["key"] for c in after.codes()] == ["pros", "coach", "intake"]
    assert after.conn.execute("SELECT COUNT(*) FROM codings WHERE coder = 'rules'").fetchone()[0] == 0
    store.close()
    # run again: now it works on the merged codebook
    store = Store.open(project)
    result = rules.autocode(store)
    assert result.added > 0
    assert dump(store) != before
    for s in (store, after):
        s.close()


def test_backup_inside_a_write_transaction_shows_the_state_before(project):
    store = Store.open(project)
    with store.transaction():
        store.update_theme(store.theme("care")["id"], definition="veranderd")
        saved = store.backup("inside")
    copy = Store.open(saved)
    assert copy.theme("care")["definition"] == "Zorg en werk."
    copy.close()
    store.close()


# ------------------------------------------------------------------------------------ exports
@pytest.fixture(scope="module")
def sample_project(tmp_path_factory) -> Path:
    """F1 and F2 of the sample with the shipped codebook and its rule codings."""
    from qualcode.codebook.yamlfile import apply_codebook, load_codebook
    from qualcode.coding.autocode import autocode
    from qualcode.ingest import ingest

    root = Path(__file__).resolve().parent.parent
    path = tmp_path_factory.mktemp("conc") / "base.qualcode"
    store = Store.create(path)
    apply_codebook(store, load_codebook(root / "codebooks" / "ips.yaml"))
    ingest(store, [root / "transcripts_sample" / f"F{i}.txt" for i in (1, 2)],
           participants=str(root / "transcripts_sample" / "participants.csv"))
    autocode(store)
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return path


@pytest.fixture
def sample(sample_project, tmp_path) -> Path:
    import shutil

    path = tmp_path / "p.qualcode"
    shutil.copy(sample_project, path)
    return path


def _sheet(path: Path, name: str) -> list[tuple]:
    """The rows of the analysis workbook's sheet named ``name`` in English (the sample project is
    Dutch, so its workbook's sheet has the Dutch name of the language catalogues)."""
    import openpyxl

    from qualcode.reports.catalogues import catalogue

    key = next(k for k, v in catalogue("en").items() if k.startswith("sheet_") and v == name)
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        return list(wb[catalogue("nl")[key]].iter_rows(values_only=True))
    finally:
        wb.close()


def test_a_workbook_shows_the_project_at_one_moment(sample, tmp_path):
    """Was: Codebook and coded-fragments sheets before a merge, By theme and the audit log after it."""
    from qualcode.excel.analysis import write_workbook

    store = Store.open(sample)
    last = store.history(1)[0]["id"]
    merged = None

    def during():  # half the workbook is written; a theme merge and a code merge commit now
        nonlocal merged
        merged = Second(sample, lambda s: (T.merge_themes(s, "support", "collaboration", backup=False),
                                           T.merge_codes(s, "co_afremmen_herval", "co_werk_bij_intake",
                                                         backup=False))).start().join()

    pause_inside(store, "theme_spread", during)
    out = tmp_path / "analysis.xlsx"
    write_workbook(store, out)
    assert merged.error is None
    codebook = {r[1] for r in _sheet(out, "Codebook")[1:] if r[0] == "thema"}
    summary = {r[0] for r in _sheet(out, "Theme summary")[1:] if r[0]}
    assert "support" in codebook and codebook == summary
    codes = {r[1] for r in _sheet(out, "Codebook")[1:] if r[0] == "code"}
    assert "co_afremmen_herval" in codes
    assert max(r[0] for r in _sheet(out, "Audit log")[1:]) == last
    import openpyxl

    props = openpyxl.load_workbook(out, read_only=True).properties
    assert props.description.startswith(f"Het project zoals het was na handeling #{last} van ")   # Dutch project
    store.close()
    after = Store.open(sample)  # the merges did commit
    assert "support" not in {t["key"] for t in after.themes()}
    after.close()


def test_pseudonymise_waits_for_a_running_export(sample, tmp_path):
    """Was: a workbook started before 'pseudonymise' and finished after it held names in two sheets
    and placeholders in another."""
    from qualcode.excel.analysis import write_workbook
    from qualcode.privacy.pseudonyms import NameEntry, pseudonymise

    store = Store.open(sample)
    pseudo = None

    def during():  # the export is reading; a pseudonymisation starts and must wait for it
        nonlocal pseudo
        pseudo = Second(sample, lambda s: pseudonymise(s, names=[NameEntry("VDAB", "organisatie")])).start()
        pseudo.done.wait(timeout=1.0)
        assert not pseudo.done.is_set()

    pause_inside(store, "theme_spread", during)
    out = tmp_path / "analysis.xlsx"
    write_workbook(store, out)
    pseudo.join()
    assert pseudo.error is None and pseudo.result.sources_changed == 2
    fragments = " ".join(str(v) for r in _sheet(out, "Coded fragments") for v in r)
    quotes = " ".join(str(v) for r in _sheet(out, "Quotes") for v in r)
    assert "[organisatie " not in fragments + quotes  # the whole workbook is from before
    store.close()


def test_an_export_waits_while_a_pseudonymisation_runs(sample, tmp_path, monkeypatch):
    from qualcode.excel.analysis import write_workbook
    from qualcode.privacy.pseudonyms import NameEntry, pseudonymise

    store = Store.open(sample)
    export = None

    def during():  # pseudonymising; an export that may wait only briefly is refused
        nonlocal export
        monkeypatch.setenv("QUALCODE_BUSY_TIMEOUT", "0.2")
        export = Second(sample, lambda s: write_workbook(s, tmp_path / "analysis.xlsx")).start().join()

    pause_inside(store, "update_source_text", during)
    pseudonymise(store, names=[NameEntry("VDAB", "organisatie")])
    assert isinstance(export.error, BusyError)
    assert str(export.error) == ("the project p.qualcode is busy: it is being pseudonymised; export again when "
                                 "that has finished.")
    assert not (tmp_path / "analysis.xlsx").exists()
    store.close()


def test_a_report_says_which_moment_it_shows(sample, tmp_path):
    from qualcode.reports.report import write_report

    store = Store.open(sample)
    last = store.history(1)[0]
    md = write_report(store, tmp_path / "report.md")[0]  # then its figures
    assert f"het project zoals het was na handeling #{last['id']} van {last['at']}" in md.read_text(encoding="utf-8")
    store.close()
