"""The audit log read back: history, which acts depend on which, and undo."""

from __future__ import annotations

import json
import sqlite3
from typing import Iterable

from ..errors import ConflictError, NotFoundError
from .core import now
from .schema import AUDITED_TABLES, PRIMARY_KEYS


def _audit_row(r: sqlite3.Row) -> dict:
    d = dict(r)
    d["details"] = json.loads(d["details"] or "{}")
    return d


class AuditMixin:
    # ----------------------------------------------------------------- history
    def history(self, limit: int | None = None) -> list[dict]:
        sql = "SELECT * FROM audit_log ORDER BY id DESC"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [_audit_row(r) for r in self.conn.execute(sql)]

    def acts_since(self, audit_id: int, ignore: Iterable[str] = ()) -> int:
        """Acts recorded after ``audit_id``, not counting the commands in ``ignore``."""
        ign = list(ignore)
        marks = ",".join("?" * len(ign)) or "''"
        return self.conn.execute(f"SELECT COUNT(*) FROM audit_log WHERE id > ? AND command NOT IN ({marks})",
                                 (int(audit_id), *ign)).fetchone()[0]

    def undoable_acts(self) -> list[dict]:
        """Acts that can still be undone, newest first."""
        rows = self.conn.execute(
            "SELECT * FROM audit_log WHERE undoable = 1 AND undone_at IS NULL AND undo_of IS NULL "
            "ORDER BY id DESC").fetchall()
        return [_audit_row(r) for r in rows]

    def blockers(self, audit_id: int) -> list[dict]:
        """Later, still-standing acts that depend on act ``audit_id``: they changed a row it changed,
        or a row they changed (before or after) refers, through a foreign key, to a row it inserted
        (a code moved into a theme it added, even if that code was later merged away)."""
        standing = "l.undone_at IS NULL AND l.undo_of IS NULL"
        rows = self.conn.execute(
            f"""SELECT DISTINCT l.* FROM audit_changes a
               JOIN audit_changes b ON b.tbl = a.tbl AND b.row_key = a.row_key AND b.audit_id > a.audit_id
               JOIN audit_log l ON l.id = b.audit_id
               WHERE a.audit_id = ? AND {standing}""", (audit_id,)).fetchall()
        found = {r["id"]: r for r in rows}
        for child, col, parent in self._foreign_keys():
            refs = self.conn.execute(
                f"""SELECT DISTINCT l.* FROM audit_changes a
                   JOIN audit_changes b ON b.tbl = ? AND b.audit_id > a.audit_id
                   JOIN audit_log l ON l.id = b.audit_id
                   WHERE a.audit_id = ? AND a.tbl = ? AND a.op = 'insert' AND {standing}
                     AND (json_extract(b.old, ?) = json_extract(a.row_key, '$[0]')
                          OR json_extract(b.new, ?) = json_extract(a.row_key, '$[0]'))""",
                (child, audit_id, parent, f'$."{col}"', f'$."{col}"')).fetchall()
            found.update((r["id"], r) for r in refs)
        return [_audit_row(found[k]) for k in sorted(found)]

    def _foreign_keys(self) -> list[tuple[str, str, str]]:
        """(child table, column, parent table) for every single-column foreign key between audited
        tables that points at the parent's whole primary key."""
        if self._fk_cache is None:
            fks = []
            for child in AUDITED_TABLES:
                for row in self.conn.execute(f"PRAGMA main.foreign_key_list({child})"):
                    parent, col, to = row[2], row[3], row[4]
                    if parent in PRIMARY_KEYS and (to is None or (to,) == PRIMARY_KEYS[parent]):
                        fks.append((child, col, parent))
            self._fk_cache = fks
        return self._fk_cache

    # -------------------------------------------------------------------- undo
    def undo(self, n: int = 1, *, audit_id: int | None = None, actor: str | None = None) -> list[dict]:
        """Reverse the last ``n`` undoable acts (or the act ``audit_id``) exactly.

        Refuses, changing nothing, when a later act that is not being undone
        changed the same rows. Which acts are standing is read inside the undo's own write
        transaction, so two undos at the same time undo two different acts.
        """
        with self.transaction():
            return self._undo_in_transaction(n, audit_id, actor)

    def _undo_in_transaction(self, n: int, audit_id: int | None, actor: str | None) -> list[dict]:
        standing = self.undoable_acts()
        if audit_id is not None:
            targets = [a for a in standing if a["id"] == audit_id]
            if not targets:
                row = self.conn.execute("SELECT * FROM audit_log WHERE id = ?", (audit_id,)).fetchone()
                if row is None:
                    raise NotFoundError(f"no act #{audit_id} in the history (see 'qualcode history').")
                why = "it was already undone" if row["undone_at"] else "it cannot be undone"
                raise ConflictError(f"act #{audit_id} ({row['command']}): {why}.")
        else:
            if n < 1:
                raise ConflictError("undo takes a number of acts of at least 1.")
            if not standing:
                raise ConflictError("nothing to undo.")
            targets = standing[:n]
        done = []
        with self.transaction():
            self.conn.execute("PRAGMA defer_foreign_keys = ON")
            for act in targets:  # newest first
                blockers = [b for b in self.blockers(act["id"]) if b["id"] not in {t["id"] for t in done}]
                if blockers:
                    b = blockers[0]
                    raise ConflictError(
                        f"cannot undo #{act['id']} ({act['command']}): later act #{b['id']} ({b['command']}: "
                        f"{b['summary']}) depends on it. Undo #{b['id']} first.")
                with self.act("undo", actor=actor, summary=f"undo of #{act['id']} ({act['command']})",
                              details={"undo_of": act["id"]}) as undo_act:
                    try:
                        self._reverse(act["id"])
                    except sqlite3.IntegrityError as exc:
                        # e.g. a later merge gave a segment the very coding this undo would restore
                        raise ConflictError(
                            f"cannot undo #{act['id']} ({act['command']}): a later act made rows that clash with "
                            f"what it would restore ({exc}). Undo the later acts first (see 'qualcode history')."
                        ) from None
                    self._refuse_broken_references(act, undo_act.id)
                    self.conn.execute("UPDATE audit_log SET undoable = 0, undo_of = ? WHERE id = ?",
                                      (act["id"], undo_act.id))
                self.conn.execute("UPDATE audit_log SET undone_at = ? WHERE id = ?", (now(), act["id"]))
                done.append(act)
        return done

    def _refuse_broken_references(self, act: dict, running: int) -> None:
        """After reversing ``act`` inside the undo act ``running``: a row left pointing at a row that
        is not there is a dependency on a later act. Name the newest standing act (never the undo
        that is running, which is rolled back) that changed the broken row or removed the row it
        points at."""
        problems = self.conn.execute("PRAGMA foreign_key_check").fetchall()
        if not problems:
            return
        culprit = """SELECT l.* FROM audit_changes c JOIN audit_log l ON l.id = c.audit_id
                     WHERE c.tbl = ? AND c.row_key = ? AND c.audit_id > ? AND c.audit_id <> ?
                       AND l.undone_at IS NULL AND l.undo_of IS NULL ORDER BY l.id DESC LIMIT 1"""
        for tbl, rowid, parent, fkid in problems:
            if tbl not in PRIMARY_KEYS:
                continue
            cols = ", ".join(f'"{k}"' for k in PRIMARY_KEYS[tbl])
            key = self.conn.execute(f"SELECT json_array({cols}) FROM {tbl} WHERE rowid = ?", (rowid,)).fetchone()
            row = self.conn.execute(culprit, (tbl, key[0] if key else None, act["id"], running)).fetchone()
            if row is None and parent in PRIMARY_KEYS:
                fk = [r for r in self.conn.execute(f"PRAGMA main.foreign_key_list({tbl})") if r[0] == fkid]
                if len(fk) == 1:
                    value = self.conn.execute(f'SELECT json_array("{fk[0][3]}") FROM {tbl} WHERE rowid = ?',
                                              (rowid,)).fetchone()
                    row = self.conn.execute(culprit, (parent, value[0] if value else None, act["id"],
                                                      running)).fetchone()
            if row is not None:
                raise ConflictError(
                    f"cannot undo #{act['id']} ({act['command']}): later act #{row['id']} ({row['command']}: "
                    f"{row['summary']}) depends on it. Undo #{row['id']} first.")
        raise ConflictError(f"cannot undo #{act['id']} ({act['command']}): other rows still refer to what it "
                            "created; undo the later acts first.")

    def _reverse(self, audit_id: int) -> None:
        changes = self.conn.execute(
            "SELECT tbl, op, row_key, old, new FROM audit_changes WHERE audit_id = ? ORDER BY seq DESC",
            (audit_id,)).fetchall()
        for tbl, op, row_key, old, new in changes:
            pk = PRIMARY_KEYS[tbl]
            where = " AND ".join(f'"{k}" = ?' for k in pk)
            if op == "insert":
                self.conn.execute(f"DELETE FROM {tbl} WHERE {where}", json.loads(row_key))
            elif op == "delete":
                img = json.loads(old)
                cols = ", ".join(f'"{c}"' for c in img)
                marks = ", ".join("?" for _ in img)
                self.conn.execute(f"INSERT INTO {tbl} ({cols}) VALUES ({marks})", list(img.values()))
            else:
                img_old, img_new = json.loads(old), json.loads(new)
                sets = ", ".join(f'"{c}" = ?' for c in img_old)
                self.conn.execute(f"UPDATE {tbl} SET {sets} WHERE {where}",
                                  list(img_old.values()) + [img_new[k] for k in pk])
