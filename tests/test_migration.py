"""Schema migrations: an older project file opens, is backed up, then migrated in one transaction.

These tests register a migration of their own from the current version CUR to CUR + 1 (adding a
column and an index, as a real migration would) and open a genuine version-CUR file made by the
current code: exactly the situation of a student opening last year's project with a newer qualcode.
The real migrations have their own tests (e.g. tests/test_lemma_cache.py for 1 -> 2).
"""

from __future__ import annotations

import sqlite3

import pytest

import qualcode.store.core as core
from qualcode.errors import ProjectError
from qualcode.store import Store


CUR = core.SCHEMA_VERSION
NEXT = CUR + 1


def _v1_to_v2(conn) -> None:
    conn.execute("ALTER TABLE sources ADD COLUMN pseudonymised_at TEXT")
    conn.execute("CREATE INDEX segments_source ON segments(source_id)")


@pytest.fixture
def v2(monkeypatch):
    """Pretend this qualcode reads schema NEXT and knows how to migrate CUR -> NEXT."""
    monkeypatch.setattr(core, "SCHEMA_VERSION", NEXT)
    monkeypatch.setitem(core.MIGRATIONS, CUR, _v1_to_v2)


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
    assert user_version(sample_path) == CUR
    segments_before = sqlite3.connect(sample_path).execute("SELECT COUNT(*) FROM segments").fetchone()[0]
    store = Store.open(sample_path)
    try:
        assert store.schema_version == NEXT
        cols = [r[1] for r in store.conn.execute("PRAGMA table_info(sources)")]
        assert "pseudonymised_at" in cols
        assert store.count_segments() == segments_before          # the data came along
        [backup] = store.backups()
        assert f"before-migration-v{CUR}-to-v{NEXT}" in backup.name
    finally:
        store.close()
    assert user_version(backup) == CUR                              # the backup is the old file, untouched
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

    monkeypatch.setattr(core, "SCHEMA_VERSION", NEXT)
    monkeypatch.setitem(core.MIGRATIONS, CUR, broken)
    with pytest.raises(RuntimeError, match="migration bug"):
        Store.open(sample_path)
    assert user_version(sample_path) == CUR
    con = sqlite3.connect(sample_path)
    assert "half_done" not in [r[1] for r in con.execute("PRAGMA table_info(sources)")]
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()


def test_migration_can_be_refused(sample_path, v2):
    with pytest.raises(ProjectError) as e:
        Store.open(sample_path, migrate=False)
    assert str(e.value) == f"{sample_path} uses schema {CUR}; it needs migrating to {NEXT}."


def test_newer_project_is_refused(sample_path, run):
    con = sqlite3.connect(sample_path)
    con.execute("PRAGMA user_version = 99")
    con.close()
    r = run(sample_path, "sources")
    assert r.exit_code == 1
    assert r.stderr.strip() == (f"Error: {sample_path} was made by a newer qualcode (schema 99; this one reads up "
                                f"to {core.SCHEMA_VERSION}). Upgrade qualcode to open it.")
