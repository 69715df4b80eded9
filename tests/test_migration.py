"""Schema migrations: an older project file opens, is backed up, then migrated in one transaction.

Only schema version 1 exists so far, so these tests register a version-2 migration of their own
(adding a column and an index, as a real migration would) and open a genuine version-1 file
made by the current code: exactly the situation of a student opening last year's project with
a newer qualcode.
"""

from __future__ import annotations

import sqlite3

import pytest

import qualcode.store.core as core
from qualcode.errors import ProjectError
from qualcode.store import Store


def _v1_to_v2(conn) -> None:
    conn.execute("ALTER TABLE sources ADD COLUMN pseudonymised_at TEXT")
    conn.execute("CREATE INDEX segments_source ON segments(source_id)")


@pytest.fixture
def v2(monkeypatch):
    """Pretend this qualcode reads schema 2 and knows how to migrate 1 -> 2."""
    monkeypatch.setattr(core, "SCHEMA_VERSION", 2)
    monkeypatch.setitem(core.MIGRATIONS, 1, _v1_to_v2)


def user_version(path) -> int:
    con = sqlite3.connect(path)
    try:
        return con.execute("PRAGMA user_version").fetchone()[0]
    finally:
        con.close()


def test_current_projects_are_version_1_and_migrations_chain():
    from qualcode.store.schema import MIGRATIONS, SCHEMA_VERSION

    assert SCHEMA_VERSION >= 1
    # every version below the current one has a migration to the next
    assert all(v in MIGRATIONS for v in range(1, SCHEMA_VERSION))


def test_old_project_is_backed_up_and_migrated(sample_path, v2):
    assert user_version(sample_path) == 1
    segments_before = sqlite3.connect(sample_path).execute("SELECT COUNT(*) FROM segments").fetchone()[0]
    store = Store.open(sample_path)
    try:
        assert store.schema_version == 2
        cols = [r[1] for r in store.conn.execute("PRAGMA table_info(sources)")]
        assert "pseudonymised_at" in cols
        assert store.count_segments() == segments_before          # the data came along
        [backup] = store.backups()
        assert "before-migration-v1-to-v2" in backup.name
    finally:
        store.close()
    assert user_version(backup) == 1                                # the backup is the old file, untouched
    con = sqlite3.connect(backup)
    assert "pseudonymised_at" not in [r[1] for r in con.execute("PRAGMA table_info(sources)")]
    con.close()
    # opening again does not migrate (or back up) twice
    Store.open(sample_path).close()
    assert len(list((sample_path.parent / (sample_path.name + ".backups")).iterdir())) == 1


def test_failed_migration_changes_nothing(sample_path, monkeypatch):
    def broken(conn):
        conn.execute("ALTER TABLE sources ADD COLUMN half_done TEXT")
        raise RuntimeError("migration bug")

    monkeypatch.setattr(core, "SCHEMA_VERSION", 2)
    monkeypatch.setitem(core.MIGRATIONS, 1, broken)
    with pytest.raises(RuntimeError, match="migration bug"):
        Store.open(sample_path)
    assert user_version(sample_path) == 1
    con = sqlite3.connect(sample_path)
    assert "half_done" not in [r[1] for r in con.execute("PRAGMA table_info(sources)")]
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()


def test_migration_can_be_refused(sample_path, v2):
    with pytest.raises(ProjectError) as e:
        Store.open(sample_path, migrate=False)
    assert str(e.value) == f"{sample_path} uses schema 1; it needs migrating to 2."


def test_newer_project_is_refused(sample_path, run):
    con = sqlite3.connect(sample_path)
    con.execute("PRAGMA user_version = 99")
    con.close()
    r = run(sample_path, "sources")
    assert r.exit_code == 1
    assert r.stderr.strip() == (f"Error: {sample_path} was made by a newer qualcode (schema 99; this one reads up "
                                f"to {core.SCHEMA_VERSION}). Upgrade qualcode to open it.")
