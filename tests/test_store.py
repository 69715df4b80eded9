"""The project store: schema version, pragmas, all-or-nothing acts, undo, backups, bad files."""

from __future__ import annotations

import sqlite3

import pytest

from qualcode.errors import ConflictError, NotFoundError, ProjectError
from qualcode.store import SCHEMA_VERSION, Store


class Boom(Exception):
    pass


def test_new_project_has_schema_version_foreign_keys_and_wal(tmp_path):
    path = tmp_path / "p.qualcode"
    with Store.create(path, language="en", name="studie") as store:
        assert store.schema_version == SCHEMA_VERSION
        assert store.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.language == "en"
        assert store.meta("name") == "studie"
        assert store.meta("application") == "qualcode"
    with Store.open(path) as store:  # settings hold on every connection
        assert store.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_foreign_keys_are_enforced(empty_store):
    with pytest.raises(sqlite3.IntegrityError):
        with empty_store.transaction():
            empty_store.add_segments(999, [{"ordinal": 1, "turn": 1, "speaker": "P1", "role": "participant",
                                            "start": 0, "end": 1, "text": "x"}])
    assert empty_store.count_segments() == 0


def test_create_refuses_an_existing_file_and_force_keeps_a_backup(tmp_path):
    path = tmp_path / "p.qualcode"
    Store.create(path).close()
    with pytest.raises(ProjectError) as exc:
        Store.create(path)
    assert str(exc.value) == (f"{path} already exists. Use another path with -p, or --force to start over "
                              "(the old file is kept as a backup).")
    Store.create(path, force=True).close()
    backups = list((tmp_path / "p.qualcode.backups").glob("*-replaced-by-init.qualcode"))
    assert len(backups) == 1


def test_an_act_is_all_or_nothing(empty_store):
    with pytest.raises(Boom):
        with empty_store.act("test act", summary="half"):
            empty_store.add_participant("F1", "P1", {"gender": "vrouw"})
            empty_store.add_theme("t", "Thema", "#000000")
            raise Boom()
    assert empty_store.participants() == []
    assert empty_store.themes() == []
    assert empty_store.history() == []  # the audit row went too
    assert empty_store.conn.execute("SELECT COUNT(*) FROM audit_changes").fetchone()[0] == 0
    assert not empty_store.conn.in_transaction
    with empty_store.act("next act"):  # the store is usable afterwards
        empty_store.add_participant("F1", "P1")
    assert [a["command"] for a in empty_store.history()] == ["next act"]


def test_nested_acts_are_one_act(empty_store):
    with empty_store.act("outer", summary="s") as outer:
        with empty_store.act("inner") as inner:
            assert inner is outer
            empty_store.add_participant("F1", "P1")
        outer.details = {"n": 1}
    hist = empty_store.history()
    assert [(a["command"], a["summary"], a["details"]) for a in hist] == [("outer", "s", {"n": 1})]


def test_a_failing_commit_rolls_back_and_leaves_the_store_usable(empty_store):
    with pytest.raises(sqlite3.IntegrityError):
        with empty_store.transaction():
            empty_store.conn.execute("PRAGMA defer_foreign_keys = ON")
            empty_store.conn.execute(
                "INSERT INTO participants(guid, group_label, label) VALUES ('g', 'F9', 'P1')")  # no group F9
    assert not empty_store.conn.in_transaction
    assert empty_store.participants() == []
    with empty_store.transaction():
        empty_store.add_participant("F1", "P1")
    assert len(empty_store.participants()) == 1


def test_undo_reverses_an_act_exactly(empty_store):
    with empty_store.act("add people"):
        pid = empty_store.add_participant("F1", "P1", {"gender": "vrouw"})
    with empty_store.act("change gender") as act:
        empty_store.set_participant_attributes(pid, {"gender": "man", "age_band": "30-40"})
    assert empty_store.participants()[0]["gender"] == "man"
    done = empty_store.undo(1)
    assert [d["id"] for d in done] == [act.id]
    assert empty_store.participants()[0]["gender"] == "vrouw"
    assert empty_store.attribute_names() == ["gender"]  # the attribute the act added is gone too
    hist = empty_store.history()
    assert hist[0]["command"] == "undo" and hist[0]["summary"] == f"undo of #{act.id} (change gender)"
    assert hist[1]["undone_at"] is not None
    empty_store.undo(1)
    assert empty_store.participants() == []
    with pytest.raises(ConflictError) as exc:
        empty_store.undo(1)
    assert str(exc.value) == "nothing to undo."


def test_undo_refuses_while_a_later_act_depends_on_it(empty_store):
    with empty_store.act("add") as first:
        pid = empty_store.add_participant("F1", "P1", {"gender": "vrouw"})
    with empty_store.act("edit") as second:
        empty_store.set_participant_attributes(pid, {"gender": "man"})
    assert [b["id"] for b in empty_store.blockers(first.id)] == [second.id]
    with pytest.raises(ConflictError) as exc:
        empty_store.undo(audit_id=first.id)
    assert str(exc.value) == (f"cannot undo #{first.id} (add): later act #{second.id} (edit: ) depends on it. "
                              f"Undo #{second.id} first.")
    assert empty_store.participants()[0]["gender"] == "man"  # nothing changed
    empty_store.undo(2)  # undoing both, newest first, is fine
    assert empty_store.participants() == []
    assert empty_store.blockers(first.id) == []


def test_undo_of_unknown_or_not_undoable_acts(empty_store, tmp_path):
    with pytest.raises(NotFoundError) as exc:
        empty_store.undo(audit_id=42)
    assert str(exc.value) == "no act #42 in the history (see 'qualcode history')."
    f = tmp_path / "F1.txt"
    f.write_text("P1: Ja.\n", encoding="utf-8")
    from qualcode.ingest import ingest

    ingest(empty_store, [str(f)], allow_new_speakers=True)
    ingest_act = empty_store.history(1)[0]
    assert ingest_act["undoable"] == 0
    with pytest.raises(ConflictError) as exc:
        empty_store.undo(audit_id=ingest_act["id"])
    assert str(exc.value) == f"act #{ingest_act['id']} (ingest): it cannot be undone."


def test_backup_and_restore(empty_store):
    with empty_store.act("add"):
        empty_store.add_participant("F1", "P1")
    backup = empty_store.backup("before test")
    assert backup.name.endswith("-before-test.qualcode")
    assert backup.parent == empty_store.path.parent / (empty_store.path.name + ".backups")
    with empty_store.act("add more"):
        empty_store.add_participant("F1", "P2")
    saved = empty_store.restore(backup)
    assert [p["key"] for p in empty_store.participants()] == ["F1 P1"]
    assert saved in empty_store.backups() and backup in empty_store.backups()
    # the state before the restore was kept
    with Store.open(saved) as old:
        assert [p["key"] for p in old.participants()] == ["F1 P1", "F1 P2"]
    # restoring by name prefix
    empty_store.restore(saved.name[:-9])
    assert len(empty_store.participants()) == 2


def test_restore_refuses_what_is_not_a_backup(empty_store, tmp_path):
    junk = tmp_path / "junk.qualcode"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(ProjectError) as exc:
        empty_store.restore(junk)
    assert str(exc.value) == "junk.qualcode is not a qualcode backup (file is not a database); nothing was restored."
    with pytest.raises(NotFoundError) as exc:
        empty_store.restore("2099")
    assert str(exc.value) == "no single backup matches '2099' (see 'qualcode backup list')."


def test_open_missing_folder_empty_and_non_project_files(tmp_path):
    missing = tmp_path / "nope.qualcode"
    with pytest.raises(ProjectError) as exc:
        Store.open(missing)
    assert str(exc.value) == (f"no project at {missing}. Create one with 'qualcode init', or choose one with "
                              "-p PATH (or QUALCODE_PROJECT).")
    with pytest.raises(ProjectError) as exc:
        Store.open(tmp_path)
    assert str(exc.value) == f"{tmp_path} is a folder, not a qualcode project file."
    empty = tmp_path / "empty.qualcode"
    empty.write_bytes(b"")
    with pytest.raises(ProjectError) as exc:
        Store.open(empty)
    assert str(exc.value) == f"{empty} is an empty file, not a qualcode project."
    text = tmp_path / "notes.txt"
    text.write_text("P1: ja\n", encoding="utf-8")
    with pytest.raises(ProjectError) as exc:
        Store.open(text)
    assert str(exc.value) == f"{text} is not a qualcode project (not an SQLite file)."


def test_open_another_sqlite_file_leaves_it_untouched(tmp_path):
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    before = other.read_bytes()
    with pytest.raises(ProjectError) as exc:
        Store.open(other)
    assert str(exc.value) == f"{other} is not a qualcode project (no such table: meta)."
    assert other.read_bytes() == before  # not switched to WAL or otherwise changed
    assert not (tmp_path / "other.db-wal").exists()


def test_open_a_project_from_a_newer_qualcode(tmp_path):
    path = tmp_path / "p.qualcode"
    with Store.create(path) as store:
        store.conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(ProjectError) as exc:
        Store.open(path)
    assert str(exc.value) == (f"{path} was made by a newer qualcode (schema {SCHEMA_VERSION + 1}; this one reads "
                              f"up to {SCHEMA_VERSION}). Upgrade qualcode to open it.")


def test_open_error_through_the_cli(run, tmp_path):
    res = run(tmp_path / "nope.qualcode", "sources")
    assert res.exit_code == 1
    assert res.stderr == (f"Error: no project at {tmp_path / 'nope.qualcode'}. Create one with 'qualcode init', "
                          "or choose one with -p PATH (or QUALCODE_PROJECT).\n")


def test_segment_lookup_errors(sample_store, empty_store):
    with pytest.raises(NotFoundError) as exc:
        empty_store.segment(5)
    assert str(exc.value) == "unknown segment '5'. The project has no segments yet; see 'qualcode segments'."
    n = sample_store.count_segments()
    with pytest.raises(NotFoundError) as exc:
        sample_store.segment(n + 1)
    assert str(exc.value) == f"unknown segment '{n + 1}'. Segment ids run from 1 to {n}; see 'qualcode segments'."


def test_long_id_lists_do_not_hit_sqlites_variable_limit(tmp_path):
    """Lists of ids longer than SQLite's 32,766 variables (a 1,000-transcript project) still work."""
    from qualcode.store import Store
    from qualcode.store.core import sql_in

    store = Store.create(tmp_path / "big.qualcode")
    with store.act("big source"):
        sid = store.add_source(name="F1.txt", format="txt", group_label="F1", group_origin="test", text="ja\n" * 40000,
                               sha256="x", file_sha256="y", encoding="utf-8", n_words=40000)
        store.add_segments(sid, [{"ordinal": i + 1, "turn": i + 1, "speaker": "Moderator", "role": "moderator",
                                  "start": 3 * i, "end": 3 * i + 2, "text": "ja"} for i in range(40000)])
    ids = [s["id"] for s in store.segments()]
    assert len(list(store.segments(ids=ids))) == 40000
    assert [s["id"] for s in store.segments(ids=ids[:3])] == ids[:3]
    assert list(store.segments(ids=[])) == []
    assert sql_in("x", [1, 2]) == ("x IN (?,?)", [1, 2])
    store.close()
