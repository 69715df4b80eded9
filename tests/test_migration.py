"""Schema migrations: an older project file opens, is backed up, then migrated in one transaction.

The generic tests register a migration of their own from the current version to the next
(adding a column and an index, as a real migration would) and open a genuine file made by the
current code: exactly the situation of a student opening last year's project with a newer
qualcode. The real migrations are tested on files laid out as their old version was.
"""

from __future__ import annotations

import sqlite3

import pytest

import qualcode.store.core as core
from qualcode.errors import ProjectError
from qualcode.store import Store


CUR = core.SCHEMA_VERSION


def _to_next(conn) -> None:
    conn.execute("ALTER TABLE sources ADD COLUMN pseudonymised_at TEXT")
    conn.execute("CREATE INDEX segments_source ON segments(source_id)")


@pytest.fixture
def v2(monkeypatch):
    """Pretend this qualcode reads schema CUR + 1 and knows how to migrate CUR -> CUR + 1."""
    monkeypatch.setattr(core, "SCHEMA_VERSION", CUR + 1)
    monkeypatch.setitem(core.MIGRATIONS, CUR, _to_next)


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
        assert store.schema_version == CUR + 1
        cols = [r[1] for r in store.conn.execute("PRAGMA table_info(sources)")]
        assert "pseudonymised_at" in cols
        assert store.count_segments() == segments_before          # the data came along
        [backup] = store.backups()
        assert f"before-migration-v{CUR}-to-v{CUR + 1}" in backup.name
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

    monkeypatch.setattr(core, "SCHEMA_VERSION", CUR + 1)
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
    assert str(e.value) == f"{sample_path} uses schema {CUR}; it needs migrating to {CUR + 1}."


def test_newer_project_is_refused(sample_path, run):
    con = sqlite3.connect(sample_path)
    con.execute("PRAGMA user_version = 99")
    con.close()
    r = run(sample_path, "sources")
    assert r.exit_code == 1
    assert r.stderr.strip() == (f"Error: {sample_path} was made by a newer qualcode (schema 99; this one reads up "
                                f"to {core.SCHEMA_VERSION}). Upgrade qualcode to open it.")


# ------------------------------------------------------------ real migrations
def as_version_1(path) -> None:
    """Turn a current project file into the version-1 layout: no ``exclusive`` columns (version 2,
    issue 20) and no lemma and figure caches (version 3, issue 24)."""
    as_version_3(path)
    con = sqlite3.connect(path)
    con.execute("ALTER TABLE themes DROP COLUMN exclusive")
    con.execute("ALTER TABLE codes DROP COLUMN exclusive")
    for table in ("segment_lemmas", "lemma_forms", "lemma_versions", "figure_cache"):
        con.execute(f"DROP TABLE {table}")
    con.execute("PRAGMA user_version = 1")
    con.commit()
    con.close()


def test_migration_1_to_2_adds_exclusive_flags(sample_path, tiny_codebook_factory):
    from qualcode.themes.retheme import set_exclusive

    store = Store.open(sample_path)
    tiny_codebook_factory(store)
    seg = next(iter(store.segments(role="participant")))["id"]
    with store.act("a coding"):
        store.add_coding(seg, store.code("pros")["id"], "coder_a")
    store.close()
    as_version_1(sample_path)
    con = sqlite3.connect(sample_path)
    assert "exclusive" not in [r[1] for r in con.execute("PRAGMA table_info(themes)")]
    con.close()
    store = Store.open(sample_path)
    try:
        assert store.schema_version == core.SCHEMA_VERSION
        assert [(t["key"], t["exclusive"]) for t in store.themes()] == [("work", False), ("care", False)]
        assert {c["exclusive"] for c in store.codes()} == {False}
        assert store.count_codings() == 1
        assert any(f"before-migration-v1-to-v{core.SCHEMA_VERSION}" in b.name for b in store.backups())
        # the flag works on the migrated project, and undo of an act from before the migration still works
        set_exclusive(store, "work")
        assert store.theme("work")["exclusive"] is True
        store.undo(1)
        assert store.theme("work")["exclusive"] is False
        store.undo(1)                      # the coding, recorded under schema 1
        assert store.count_codings() == 0
    finally:
        store.close()


def as_version_3(path) -> None:
    """Turn a current project file into the version-3 layout: codings without span columns and
    unique on (segment, code, coder), as schemas 1 to 3 made them (fragments, version 4: issue 16)."""
    as_version_4(path)
    con = sqlite3.connect(path)
    con.execute("PRAGMA foreign_keys = OFF")
    con.executescript("""
        ALTER TABLE codings RENAME TO codings_v3;
        DROP INDEX codings_unique; DROP INDEX codings_code; DROP INDEX codings_coder;
        CREATE TABLE codings (
            id         INTEGER PRIMARY KEY,
            guid       TEXT NOT NULL UNIQUE,
            segment_id INTEGER NOT NULL REFERENCES segments(id) ON DELETE CASCADE,
            code_id    INTEGER NOT NULL REFERENCES codes(id),
            coder      TEXT NOT NULL REFERENCES coders(name) ON UPDATE CASCADE,
            origin     TEXT NOT NULL
                       CHECK (origin IN ('manual', 'rule', 'suggested', 'imported', 'consensus')),
            created_at TEXT NOT NULL,
            UNIQUE (segment_id, code_id, coder)
        );
        CREATE INDEX codings_code ON codings(code_id);
        CREATE INDEX codings_coder ON codings(coder);
        INSERT INTO codings SELECT id, guid, segment_id, code_id, coder, origin, created_at FROM codings_v3;
        DROP TABLE codings_v3;
        PRAGMA user_version = 3;
    """)
    con.commit()
    con.close()


def test_migration_3_to_4_codings_become_spans_of_their_segments(sample_path, tiny_codebook_factory):
    store = Store.open(sample_path)
    tiny_codebook_factory(store)
    segs = [s["id"] for s in store.segments(role="participant")][:3]
    with store.act("codings"):
        for s in segs:
            store.add_coding(s, store.code("pros")["id"], "coder_a")
        store.add_coding(segs[0], store.code("cons")["id"], "coder_b")
    before = sorted((r["id"], r["guid"], r["segment_id"], r["code"], r["coder"], r["text"], r["start"], r["end"])
                    for r in store.codings())
    store.close()
    as_version_3(sample_path)
    con = sqlite3.connect(sample_path)
    assert "start" not in [r[1] for r in con.execute("PRAGMA table_info(codings)")]
    con.close()
    store = Store.open(sample_path)
    try:
        assert store.schema_version == core.SCHEMA_VERSION
        after = sorted((r["id"], r["guid"], r["segment_id"], r["code"], r["coder"], r["text"], r["start"], r["end"])
                       for r in store.codings())
        assert after == before                      # nothing lost: every coding is its segment's span
        assert all(not r["fragment"] for r in store.codings())
        assert any(f"before-migration-v3-to-v{core.SCHEMA_VERSION}" in b.name for b in store.backups())
        # a fragment can now be coded beside the whole-segment coding of the same code
        seg = store.segment(segs[0])
        with store.act("a fragment"):
            assert store.add_coding(seg["id"], store.code("pros")["id"], "coder_a",
                                    span=(seg["start"], seg["start"] + 5))
            # the same span twice is one coding; the segment's own span is the whole segment
            assert not store.add_coding(seg["id"], store.code("pros")["id"], "coder_a",
                                        span=(seg["start"], seg["start"] + 5))
            assert not store.add_coding(seg["id"], store.code("pros")["id"], "coder_a",
                                        span=(seg["start"], seg["end"]))
        assert store.count_codings() == 5
        [frag] = [r for r in store.codings() if r["fragment"]]
        assert frag["text"] == seg["text"][:5] and frag["start"] == seg["start"]
        store.undo(1)                                # the fragment act
        assert store.count_codings() == 4
        store.undo(1)                                # the codings recorded under schema 2
        assert store.count_codings() == 0
    finally:
        store.close()


def as_version_5(path) -> None:
    """Turn a current project file into the version-5 layout: no token cache (version 6)."""
    con = sqlite3.connect(path)
    for table in ("segment_tokens", "token_forms", "rule_tokens"):
        con.execute(f"DROP TABLE {table}")
    con.execute("PRAGMA user_version = 5")
    con.commit()
    con.close()


def as_version_4(path) -> None:
    """Turn a current project file into the version-4 layout: no embedding cache (version 5)."""
    as_version_5(path)
    con = sqlite3.connect(path)
    con.execute("DROP TABLE segment_embeddings")
    con.execute("PRAGMA user_version = 4")
    con.commit()
    con.close()


def test_migration_4_to_5_adds_an_empty_embedding_cache(sample_path):
    store = Store.open(sample_path)
    segments = store.count_segments()
    store.close()
    as_version_4(sample_path)
    con = sqlite3.connect(sample_path)
    assert not con.execute("SELECT name FROM sqlite_master WHERE name = 'segment_embeddings'").fetchall()
    con.close()
    store = Store.open(sample_path)
    try:
        assert store.schema_version == core.SCHEMA_VERSION
        assert store.count_segments() == segments
        assert store.cached_embeddings("usem3-test") == {}
        assert any(f"before-migration-v4-to-v{core.SCHEMA_VERSION}" in b.name for b in store.backups())
        sid = next(iter(store.segments()))["id"]
        store.save_embeddings("usem3-test", [(sid, "abc", b"\x00\x3c" * 4)])
        assert store.cached_embeddings("usem3-test") == {sid: ("abc", b"\x00\x3c" * 4)}
        store.save_embeddings("usem3-newer", [])          # another encoder version: the old rows go
        assert store.cached_embeddings("usem3-test") == {}
    finally:
        store.close()


def test_migration_5_to_6_adds_a_token_cache_filled_when_first_needed(sample_path):
    """A project made before the token cache (schema 5): opening it backs it up and adds the empty token
    tables; the lemma cache it already has is kept, and the first command that reads lemmas computes every
    segment's tokens once."""
    from qualcode.familiarise.overview import build_overview
    from qualcode.text import lemmas

    store = Store.open(sample_path)
    n = store.count_segments()
    lemma_rows = store.conn.execute("SELECT COUNT(*) FROM segment_lemmas").fetchone()[0]
    store.close()
    assert lemma_rows == n
    as_version_5(sample_path)
    con = sqlite3.connect(sample_path)
    assert not con.execute("SELECT name FROM sqlite_master WHERE name = 'segment_tokens'").fetchall()
    con.close()
    store = Store.open(sample_path)
    try:
        assert store.schema_version == core.SCHEMA_VERSION
        assert any(f"before-migration-v5-to-v{core.SCHEMA_VERSION}" in b.name for b in store.backups())
        assert store.conn.execute("SELECT COUNT(*) FROM segment_lemmas").fetchone()[0] == n
        version = lemmas.cache_version(store)
        assert store.cached_segment_tokens(version) == {}
        build_overview(store)
        held = store.cached_segment_tokens(version)
        assert len(held) == n and all(blob for _, blob in held.values())
        store._lemma_cache = None
        assert lemmas.load(store).computed == 0        # computed once, read from then on
        assert store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        store.close()
