"""Backups: the 'qualcode backup' commands, restore, and automatic backups before destructive acts."""

from __future__ import annotations

import sqlite3

import pytest

from tests.helpers import tiny_codebook


def backup_names(path) -> list[str]:
    folder = path.parent / (path.name + ".backups")
    return sorted(p.name for p in folder.glob("*.qualcode")) if folder.exists() else []


def n_themes(path) -> int:
    con = sqlite3.connect(path)
    try:
        return con.execute("SELECT COUNT(*) FROM themes").fetchone()[0]
    finally:
        con.close()


def test_backup_create_list_restore_prune(sample_path, run):
    r = run(sample_path, "backup", "list")
    assert r.exit_code == 0 and r.stdout.strip() == "no backups yet"
    r = run(sample_path, "backup", "create", "--reason", "voor de merge")
    assert r.exit_code == 0 and r.stdout.startswith("wrote ") and r.stdout.rstrip().endswith("-voor-de-merge.qualcode")
    [made] = backup_names(sample_path)
    # change the project, then restore the backup
    r = run(sample_path, "theme", "add", "nieuw", "Een nieuw thema")
    assert r.exit_code == 0, r.output
    assert n_themes(sample_path) == 1
    r = run(sample_path, "backup", "list")
    assert made in r.stdout
    r = run(sample_path, "backup", "restore", made[:15])   # a unique prefix is enough
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith(f"restored {made[:15]}; the state before the restore is in ")
    assert n_themes(sample_path) == 0
    names = backup_names(sample_path)
    assert len(names) == 2 and any("before-restore" in n for n in names)
    # the pre-restore backup holds the theme: restoring it undoes the restore
    before_restore = next(n for n in names if "before-restore" in n)
    assert run(sample_path, "backup", "restore", before_restore).exit_code == 0
    assert n_themes(sample_path) == 1
    r = run(sample_path, "backup", "prune", "--keep", "1", "--yes")
    assert r.exit_code == 0 and r.stdout.strip() == "deleted 2 backup(s)"
    assert len(backup_names(sample_path)) == 1


def test_restore_unknown_backup(sample_path, run):
    r = run(sample_path, "backup", "restore", "2019")
    assert r.exit_code == 1
    assert r.stderr.strip() == "Error: no single backup matches '2019' (see 'qualcode backup list')."


def test_restore_refuses_a_damaged_backup(sample_path, run, tmp_path):
    bad = tmp_path / "bad.qualcode"
    good = sample_path.read_bytes()
    bad.write_bytes(good[:4096] + b"\x00" * 4096 + good[8192:])
    r = run(sample_path, "backup", "restore", bad)
    assert r.exit_code == 1
    msg = r.stderr.strip()
    assert msg.startswith("Error: bad.qualcode is not a qualcode backup (") and msg.endswith("; nothing was restored.")
    assert n_themes(sample_path) == 0


def test_prune_asks_first(sample_path, run):
    run(sample_path, "backup", "create")
    r = run(sample_path, "backup", "prune", input="n\n")
    assert r.exit_code == 1 and len(backup_names(sample_path)) == 1


# --------------------------------------------------- automatic backups (issues 3 and 4)
def _coded(sample_path):
    from qualcode.store import Store

    with Store.open(sample_path) as store:
        ids = tiny_codebook(store)
        seg = next(store.segments(role="participant"))
        with store.act("code"):
            store.add_coding(seg["id"], ids["pros"], "tester")


@pytest.mark.parametrize("args,reason", [
    (["undo"], "before-undo"),
    (["theme", "merge", "care", "work"], "before-theme-merge"),
    (["code", "merge", "cons", "pros"], "before-code-merge"),
])
def test_destructive_acts_back_up_first(sample_path, run, args, reason):
    _coded(sample_path)
    r = run(sample_path, *args)
    assert r.exit_code == 0, r.output
    names = backup_names(sample_path)
    assert len(names) == 1 and reason in names[0]
    # the backup holds the state before the act
    con = sqlite3.connect(sample_path.parent / (sample_path.name + ".backups") / names[0])
    try:
        assert con.execute("SELECT COUNT(*) FROM themes").fetchone()[0] == 2
        assert con.execute("SELECT COUNT(*) FROM codes").fetchone()[0] == 4
    finally:
        con.close()


def test_codebook_apply_force_backs_up(sample_path, run):
    from pathlib import Path

    codebook = Path(__file__).resolve().parent.parent / "codebooks" / "ips.yaml"
    if not codebook.exists():
        pytest.skip("codebooks/ips.yaml (issue 3) is not there")
    _coded(sample_path)   # the shipped codebook lacks the coded code 'pros'
    assert run(sample_path, "codebook", "apply", codebook).exit_code == 1
    assert backup_names(sample_path) == []
    r = run(sample_path, "codebook", "apply", codebook, "--force")
    assert r.exit_code == 0, r.output
    assert any("before-codebook-apply" in n for n in backup_names(sample_path))
