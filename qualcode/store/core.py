"""The SQLite project file: connection, schema migrations, meta, transactions, acts and backups.

Opening and creating the file, running the migrations of :mod:`.schema`, meta data, transactions
and read snapshots, audited acts (with the row capture :mod:`.audit` replays for undo), backups.

Only the ``qualcode.store`` package imports ``sqlite3``; everything else talks
to a :class:`Store`. A user-level act (ingest a file, merge two themes, import a
sheet) runs inside :meth:`StoreCore.act`: one transaction that also writes its
audit-log row and, for audited tables, the row images needed to undo it.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import functools
import itertools
import json
import os
import re
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

from ..errors import BusyError, ChangedError, NotFoundError, ProjectError
from .schema import AUDITED_TABLES, MIGRATIONS, PRIMARY_KEYS, SCHEMA, SCHEMA_VERSION

APPLICATION = "qualcode"

# Raised by SQLite for a busy or unusable file; the CLI reports it without importing sqlite3.
DatabaseError = sqlite3.OperationalError
# ... and for a file whose pages are damaged ("database disk image is malformed"), found mid-command.
DamagedFileError = sqlite3.DatabaseError
_SQLITE_BUSY = 5
_SQLITE_BUSY_SNAPSHOT = 517  # SQLITE_BUSY | (2 << 8): a read snapshot went stale before its first write


def _within(scope):
    """A decorator running ``fn(store, ...)`` inside ``scope(store)`` (a context manager)."""
    def decorator(fn):
        @functools.wraps(fn)
        def wrapper(store, *args, **kwargs):
            with scope(store):
                return fn(store, *args, **kwargs)
        return wrapper
    return decorator


def _export_scope(store):
    stack = contextlib.ExitStack()
    stack.enter_context(store.exclusive_of_pseudonymisation())
    stack.enter_context(store.snapshot())
    return stack


#: For a library function ``fn(store, ...)`` that reads, decides and then writes (one act): run all
#: of it inside one write transaction, so nothing another command commits can fall between what it
#: read and what it writes. A second command doing the same waits for the first.
serialised = _within(lambda store: store.transaction())

#: For a library function ``fn(store, ...)`` that reads a lot (long work such as autocode that
#: writes only at the end): run it on one read snapshot. Long work whose project changed meanwhile
#: writes nothing and says so (:class:`ChangedError`) instead of writing on top of a state it did
#: not read.
from_snapshot = _within(lambda store: store.snapshot())

#: For a library function ``fn(store, ...)`` that writes project content to a file: one read
#: snapshot, taken while no pseudonymisation runs. A pseudonymisation waits for running exports to
#: finish, and an export waits for a running pseudonymisation, so no file can hold names that the
#: project no longer has.
exported = _within(_export_scope)


def busy_timeout() -> float:
    """Seconds a command waits for another command's write to finish (QUALCODE_BUSY_TIMEOUT, default 30)."""
    try:
        return max(0.0, float(os.environ.get("QUALCODE_BUSY_TIMEOUT", "30")))
    except ValueError:
        return 30.0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists but belongs to someone else, or the platform cannot tell
        return True
    return True


def now() -> str:
    """The current UTC time as ISO 8601 with seconds, e.g. '2026-11-23T10:02:11Z'."""
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# a random start (74 bits of os.urandom, as secrets.randbits would give; secrets itself costs a small
# command more to import than the rest of this module)
_GUID_COUNTER = itertools.count(int.from_bytes(os.urandom(10), "big") >> 6)
_LOW_74 = (1 << 74) - 1
_LOW_62 = (1 << 62) - 1


def new_guid() -> str:
    """A new GUID: a version 7 UUID (RFC 9562), the Unix time in milliseconds followed by 74 bits
    that start at a random value for each process and count up (the RFC's monotonic counter).

    Unlike random (version 4) UUIDs, GUIDs made one after another sort one after another, so a
    large ingest or import appends to the unique GUID indexes instead of writing all over them;
    at 1,000 transcripts that keeps insert time per row flat. Two processes can only collide if
    they run in the same milliseconds with random starting points within the few thousand
    values each uses there, out of 2**74."""
    n = next(_GUID_COUNTER) & _LOW_74
    x = ((time.time_ns() // 1_000_000) << 80) | (0x7 << 76) | ((n >> 62) << 64) | (0b10 << 62) | (n & _LOW_62)
    h = f"{x:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"



def default_actor() -> str:
    """The coder / author name: $QUALCODE_CODER, else the OS user name."""
    name = os.environ.get("QUALCODE_CODER")
    if name:
        return name
    import getpass

    try:
        return getpass.getuser() or "coder"
    except Exception:  # pragma: no cover - no user database (some containers)
        return "coder"


def sql_in(column: str, values: Iterable) -> tuple[str, list]:
    """SQL for ``column IN (values)`` and its arguments, for lists of any length: short lists as
    ``?`` marks, long ones (SQLite allows at most 32,766 variables) as one JSON parameter.
    An empty list matches nothing."""
    vals = list(values)
    if not vals:
        return "0", []
    if len(vals) <= 500:
        return f"{column} IN ({','.join('?' * len(vals))})", vals
    return f"{column} IN (SELECT value FROM json_each(?))", [json.dumps(vals)]


#: Transcript order of segments ``s`` of sources ``src``: group (F2 before F10), source, segment.
TRANSCRIPT_ORDER = "length(src.group_label), src.group_label, src.name, s.ordinal"

#: The speaker key ('F2 P2') of segment ``s`` of source ``src`` with participant ``p`` (LEFT JOINed):
#: the participant's, or group and speaker label for a moderator.
SPEAKER_KEY = ("CASE WHEN p.id IS NULL THEN src.group_label || ' ' || s.speaker "
               "ELSE p.group_label || ' ' || p.label END")

#: Whether segment ``s`` carries any coding.
SEGMENT_IS_CODED = "EXISTS (SELECT 1 FROM codings g WHERE g.segment_id = s.id)"


class Where:
    """Conditions ANDed into a WHERE clause, with their arguments; a condition on None is left out."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.args: list = []

    def equals(self, column: str, value) -> "Where":
        if value is not None:
            self.parts.append(f"{column} = ?")
            self.args.append(value)
        return self

    def holds(self, condition: str, *args) -> "Where":
        """A condition written out, with its arguments."""
        self.parts.append(condition)
        self.args.extend(args)
        return self

    def within(self, column: str, values: Iterable | None) -> "Where":
        """``column IN (values)``; an empty list matches nothing."""
        if values is not None:
            sql, args = sql_in(column, values)
            self.parts.append(sql)
            self.args.extend(args)
        return self

    @property
    def sql(self) -> str:
        return " WHERE " + " AND ".join(self.parts) if self.parts else ""

    @property
    def and_sql(self) -> str:
        """The conditions after a WHERE written out already (`` AND ...``), or ''."""
        return "".join(" AND " + p for p in self.parts)


@dataclass
class Act:
    """A user-level act in progress; fill ``summary`` and ``details`` as it runs."""

    id: int
    command: str
    actor: str
    summary: str = ""
    details: dict = field(default_factory=dict)


class StoreCore:
    """Connection, schema, transactions, acts and backups. The queries on each table live in the
    mixins :class:`~qualcode.store.Store` is made of."""

    def __init__(self, conn: sqlite3.Connection, path: Path):
        self.conn = conn
        self.path = path
        self._in_tx = False
        self._act: Act | None = None
        # who acts when an act names no actor: a caller serving one coder sets it (the web workspace);
        # None: default_actor()
        self.actor: str | None = None
        self._triggers_installed = False
        self._fk_cache: list[tuple[str, str, str]] | None = None
        self._held_lock: str | None = None

    # ------------------------------------------------------------------ open
    @classmethod
    def create(cls, path: str | os.PathLike, *, language: str = "nl", name: str = "",
               force: bool = False) -> "StoreCore":
        path = Path(path)
        if path.exists():
            if not force:
                raise ProjectError(
                    f"{path} already exists. Use another path with -p, or --force to start over "
                    "(the old file is kept as a backup).")
            backup_dir = _backup_dir(path)
            backup_dir.mkdir(parents=True, exist_ok=True)
            import shutil

            shutil.copy2(path, backup_dir / f"{_stamp()}-replaced-by-init.qualcode")
            _unlink_project(path)
        if path.parent and not path.parent.exists():
            raise ProjectError(f"folder {path.parent} does not exist.")
        conn = _connect(path)
        try:
            with conn:
                conn.executescript(SCHEMA)
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                meta = {
                    "application": APPLICATION,
                    "project_guid": new_guid(),
                    "language": language,
                    "name": name or path.stem,
                    "created_at": now(),
                    "codebook_name": "",
                    "spacy_pipeline": "",
                }
                conn.executemany("INSERT INTO meta(key, value) VALUES (?, ?)", meta.items())
        except Exception:
            conn.close()
            _unlink_project(path)
            raise
        return cls(conn, path)

    @classmethod
    @contextlib.contextmanager
    def building(cls, path: str | os.PathLike, *, language: str = "nl", name: str = "") -> Iterator["StoreCore"]:
        """A new project that appears at ``path`` only when complete: it is built under a hidden
        temporary name beside it and renamed into place at the end. If the work fails, or the
        process is killed, no project file is left at ``path`` (the next attempt removes the
        temporary file a killed one left)."""
        path = Path(path)
        if path.exists():
            raise ProjectError(f"{path} already exists. Use another path with -p.")
        part = path.with_name(f".{path.name}.part")
        _unlink_project(part)
        store = cls.create(part, language=language, name=name or path.stem)
        try:
            yield store
            store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            store.close()
            if path.exists():
                raise ProjectError(f"{path} appeared while the project was being built; it was left as it is.")
            os.replace(part, path)
            _unlink_project(part)  # the empty -wal/-shm of the temporary name, if any
        except BaseException:
            with contextlib.suppress(Exception):
                store.close()
            _unlink_project(part)
            raise
        store.path = path

    @classmethod
    def open(cls, path: str | os.PathLike, *, migrate: bool = True, read_only: bool = False) -> "StoreCore":
        """Open a project. ``read_only`` connects with SQLite's read-only URI (and ``immutable`` when
        the folder cannot be written, where SQLite could not make the WAL index beside the file), so
        a project on a read-only share or CD opens; every write is then refused."""
        path = Path(path)
        if not path.exists():
            raise ProjectError(
                f"no project at {path}. Create one with 'qualcode init', or choose one with "
                "-p PATH (or QUALCODE_PROJECT).")
        if path.is_dir():
            raise ProjectError(f"{path} is a folder, not a qualcode project file.")
        with open(path, "rb") as fh:
            head = fh.read(16)
        if not head:
            raise ProjectError(f"{path} is an empty file, not a qualcode project.")
        if head != b"SQLite format 3\x00":
            raise ProjectError(f"{path} is not a qualcode project (not an SQLite file).")
        # WAL only once we know the file is ours
        conn = _connect_read_only(path) if read_only else _connect(path, wal=False)
        try:
            try:
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                app = conn.execute("SELECT value FROM meta WHERE key = 'application'").fetchone()
            except sqlite3.DatabaseError as exc:
                raise _open_error(path, exc) from None
            if not app or app[0] != APPLICATION:
                raise ProjectError(f"{path} is an SQLite file but not a qualcode project.")
            if version > SCHEMA_VERSION:
                raise ProjectError(
                    f"{path} was made by a newer qualcode (schema {version}; this one reads up to "
                    f"{SCHEMA_VERSION}). Upgrade qualcode to open it.")
            if not read_only:
                conn.execute("PRAGMA journal_mode = WAL")
            store = cls(conn, path)
            if version < SCHEMA_VERSION:
                if not migrate:
                    raise ProjectError(f"{path} uses schema {version}; it needs migrating to {SCHEMA_VERSION}.")
                store._migrate(version)
            return store
        except Exception:
            conn.close()
            raise

    def _migrate(self, version: int) -> None:
        self.backup(f"before-migration-v{version}-to-v{SCHEMA_VERSION}")
        self.conn.execute("PRAGMA foreign_keys = OFF")
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            for v in range(version, SCHEMA_VERSION):
                MIGRATIONS[v](self.conn)
            self.conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            problems = self.conn.execute("PRAGMA foreign_key_check").fetchall()
            if problems:
                raise ProjectError(f"migration left {len(problems)} broken references; nothing was changed.")
            self.conn.execute("COMMIT")
        except Exception:
            self.conn.execute("ROLLBACK")
            raise
        finally:
            self.conn.execute("PRAGMA foreign_keys = ON")

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.execute("PRAGMA optimize")
        self.conn.close()

    def discard(self) -> None:
        """Close the store and delete its file: for a new project whose first act failed half-way."""
        self.close()
        _unlink_project(self.path)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def schema_version(self) -> int:
        return self.conn.execute("PRAGMA user_version").fetchone()[0]

    # ------------------------------------------------------------ meta data
    def meta(self, key: str, default: str = "") -> str:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute("INSERT INTO meta(key, value) VALUES (?, ?) "
                          "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, str(value)))

    @property
    def language(self) -> str:
        return self.meta("language", "nl")

    def make_read_only(self) -> None:
        """Refuse every write on this connection from now on (SQLite query_only; for the notebook API)."""
        self.conn.execute("PRAGMA query_only = ON")

    # --------------------------------------------------------------- GUIDs
    def guid_index(self, table: str) -> dict[str, int]:
        """guid -> id for themes, codes, sources, segments, participants, memos or codings."""
        return {g: i for i, g in self.conn.execute(f"SELECT id, guid FROM {_guid_table(table)}")}

    def guid_taken(self, table: str, guid: str | None) -> bool:
        """Is ``guid`` already used in ``table`` (one indexed look-up)?"""
        return guid is not None and self.conn.execute(
            f"SELECT 1 FROM {_guid_table(table)} WHERE guid = ?", (guid,)).fetchone() is not None

    # ---------------------------------------------------------- transactions
    #: What this connection is doing, for the message another command gets while it writes
    #: (the CLI sets e.g. "qualcode theme merge"; never text from the project).
    activity = "qualcode (Python API)"

    @contextlib.contextmanager
    def transaction(self, *, immediate: bool = True) -> Iterator[sqlite3.Connection]:
        """All or nothing. Nested calls join the outer transaction.

        ``immediate`` (the default) takes the write lock at once, so the reads that decide what to
        write see the state the writes apply to: two writers serialise, the second waits (up to
        ``QUALCODE_BUSY_TIMEOUT`` seconds, default 30) and then reads the first one's result.
        With ``immediate=False`` the transaction starts as a read snapshot (for exports, and for
        long work that reads first and writes at the end): its reads see one consistent moment,
        and its first write fails with :class:`ChangedError` if another command committed in
        between, instead of writing on top of a state it did not read."""
        if self._in_tx:
            yield self.conn
            return
        seen = None
        try:
            self.conn.execute("BEGIN IMMEDIATE" if immediate else "BEGIN DEFERRED")
            if immediate:
                self._announce_writer()
            else:
                seen = self.last_act_id()  # the read snapshot starts here
        except sqlite3.OperationalError as exc:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise self._busy_error(exc) from None
        self._in_tx = True
        try:
            yield self.conn
            self.conn.execute("COMMIT")  # may fail (e.g. deferred foreign keys): rolled back below
        except sqlite3.OperationalError as exc:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            if getattr(exc, "sqlite_errorcode", None) == _SQLITE_BUSY_SNAPSHOT and seen is not None:
                raise self._changed_error(seen) from None
            if getattr(exc, "sqlite_errorcode", None) in (_SQLITE_BUSY, _SQLITE_BUSY_SNAPSHOT):
                raise self._busy_error(exc) from None
            raise
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise
        finally:
            self._in_tx = False
            self._retire_writer()

    def snapshot(self):
        """A read transaction: everything read inside it shows the project at one moment, even
        while other commands commit (SQLite's write-ahead log keeps that moment for us)."""
        return self.transaction(immediate=False)

    def as_of(self) -> dict:
        """The moment the project is read at: the newest act's number and time (inside a
        snapshot, the moment the snapshot shows)."""
        row = self.conn.execute("SELECT id, at FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
        return {"act": row["id"], "at": row["at"]} if row else {"act": 0, "at": ""}

    # Who is writing: a small file beside the project, present only while a write transaction is
    # open, so that a command that has to wait can say which command it waits for.
    def _writer_file(self) -> Path:
        return Path(str(self.path) + "-writer")

    def _announce_writer(self) -> None:
        with contextlib.suppress(OSError):
            self._writer_file().write_text(json.dumps(
                {"pid": os.getpid(), "what": self.activity, "since": now()}), encoding="utf-8")
            self._announced = True

    def _retire_writer(self) -> None:
        if getattr(self, "_announced", False):
            self._announced = False
            with contextlib.suppress(OSError):
                info = json.loads(self._writer_file().read_text(encoding="utf-8"))
                if info.get("pid") == os.getpid():
                    self._writer_file().unlink()

    def _busy_error(self, exc: Exception) -> Exception:
        code = getattr(exc, "sqlite_errorcode", None)
        if code not in (_SQLITE_BUSY, _SQLITE_BUSY_SNAPSHOT) and "locked" not in str(exc):
            return exc
        who = "another program"
        with contextlib.suppress(OSError, ValueError, TypeError, AttributeError):
            info = json.loads(self._writer_file().read_text(encoding="utf-8"))
            if _alive(int(info["pid"])):
                who = f"'{info['what']}' (process {int(info['pid'])}, writing since {info['since']})"
        return BusyError(f"the project {self.path.name} is busy: {who} is writing to it and did not finish "
                         f"within {busy_timeout():g} s. Try again when it has finished.")

    # Exports against pseudonymisation: an advisory lock on a small file beside the project, shared
    # by exports, exclusive for a pseudonymisation. (POSIX only: on Windows there is no such lock,
    # and docs/privacy.md says to close other qualcode commands before pseudonymising.)
    @contextlib.contextmanager
    def exclusive_of_pseudonymisation(self):
        """Held by an export while it reads: waits while a pseudonymisation runs."""
        with self._file_lock(exclusive=False):
            yield

    @contextlib.contextmanager
    def pseudonymisation_lock(self):
        """Held by a pseudonymisation: waits until running exports have finished."""
        with self._file_lock(exclusive=True):
            yield

    @contextlib.contextmanager
    def _file_lock(self, *, exclusive: bool):
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows
            yield
            return
        if self._held_lock is not None:  # nested: already held by this connection
            yield
            return
        path = Path(str(self.path) + "-lock")
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:  # a read-only folder: nothing can pseudonymise there either
            yield
            return
        deadline = time.monotonic() + busy_timeout()
        try:
            while True:
                try:
                    fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise BusyError(
                            f"the project {self.path.name} is busy: " + (
                                "an export is still reading it; pseudonymise when it has finished."
                                if exclusive else "it is being pseudonymised; export again when that "
                                "has finished.")) from None
                    time.sleep(0.05)
            self._held_lock = "exclusive" if exclusive else "shared"
            try:
                yield
            finally:
                self._held_lock = None
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def _changed_error(self, seen: int) -> Exception:
        acts = self.conn.execute("SELECT id, command, actor FROM audit_log WHERE id > ? ORDER BY id",
                                 (seen,)).fetchall()
        named = ", ".join(f"#{a['id']} {a['command']} by {a['actor']}" for a in acts[:3]) or "another command"
        return ChangedError(f"the project changed while this command was working ({named}); nothing was "
                            "written. Run the command again.")

    def _settle_analyst(self, act: "Act") -> None:
        """End of an act: the codebook mixin records the project's first person who coded (a store
        without it records nothing)."""

    @contextlib.contextmanager
    def act(self, command: str, *, actor: str | None = None, summary: str = "",
            details: dict | None = None, undoable: bool = True, capture: bool = True) -> Iterator[Act]:
        """One user-level act: one transaction plus its audit-log row.

        With ``capture`` (the default) every row change to the audited tables
        is recorded so :meth:`undo` can reverse the act exactly. Acts that also
        change sources or segments should pass ``undoable=False``.
        """
        if self._act is not None:  # nested act: part of the outer one
            yield self._act
            return
        actor = actor or self.actor or default_actor()
        with self.transaction():
            cur = self.conn.execute(
                "INSERT INTO audit_log(at, actor, command, summary, details, undoable) VALUES (?,?,?,?,?,?)",
                (now(), actor, command, summary, json.dumps(details or {}, ensure_ascii=False),
                 1 if (undoable and capture) else 0))
            act = Act(id=cur.lastrowid, command=command, actor=actor, summary=summary,
                      details=dict(details or {}))
            if capture:
                self._install_triggers()
                self.conn.execute("INSERT INTO temp._qc_ctx(audit_id) VALUES (?)", (act.id,))
            self._act = act
            try:
                yield act
                self._settle_analyst(act)   # the first person who codes (store/codebook.py)
                self.conn.execute("UPDATE audit_log SET summary = ?, details = ? WHERE id = ?",
                                  (act.summary, json.dumps(act.details, ensure_ascii=False, default=str),
                                   act.id))
            finally:
                self._act = None
                if capture:
                    self.conn.execute("DELETE FROM temp._qc_ctx")

    @contextlib.contextmanager
    def captured_inserts(self, table: str) -> Iterator[None]:
        """Inside a capturing act, a block that only inserts rows into ``table`` (one keyed by an
        integer ``id``): instead of the per-row insert trigger (whose mere presence costs more
        than the insert itself), the new rows' undo records are written afterwards in one
        statement: the same records, in insertion order. Any other change in the block is
        refused (the act is rolled back)."""
        capturing = self._act is not None and self.conn.execute(
            "SELECT 1 FROM sqlite_temp_master WHERE type = 'table' AND name = '_qc_ctx'").fetchone() \
            and self.conn.execute("SELECT audit_id FROM temp._qc_ctx").fetchone()
        if not capturing:
            yield
            return
        if PRIMARY_KEYS[table] != ("id",):
            raise ValueError(f"captured_inserts needs a table keyed by id, not {table}")
        audit_id = capturing[0]
        first_new = self.conn.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}").fetchone()[0]
        changes = self.conn.total_changes
        self.conn.execute(f"DROP TRIGGER temp._qc_{table}_ins")
        try:
            yield
        finally:
            self.conn.execute(self._trigger_sql(table)["ins"])
        changes = self.conn.total_changes - changes
        recorded = self.conn.execute(
            f"""INSERT INTO audit_changes(audit_id, seq, tbl, op, row_key, old, new)
                SELECT ?, (SELECT COALESCE(MAX(seq), 0) FROM audit_changes WHERE audit_id = ?)
                          + row_number() OVER (ORDER BY id), ?, 'insert', json_array(id), NULL, NULL
                FROM {table} WHERE id > ?""", (audit_id, audit_id, table, first_new)).rowcount
        if recorded != changes:  # something else changed, or new ids were not above the old ones
            raise ProjectError(f"internal error: {changes} changes in a block of inserts into {table}, "
                               f"{recorded} new rows; nothing was changed.")

    def _install_triggers(self) -> None:
        # Checked every time rather than remembered: the triggers are created inside the act's
        # transaction, so an act that fails rolls their creation back too.
        if self._triggers_installed and self.conn.execute(
                "SELECT 1 FROM sqlite_temp_master WHERE type = 'table' AND name = '_qc_ctx'").fetchone():
            return
        self.conn.execute("CREATE TEMP TABLE IF NOT EXISTS _qc_ctx (audit_id INTEGER)")
        for tbl in AUDITED_TABLES:
            for sql in self._trigger_sql(tbl).values():
                self.conn.execute(sql)
        self._triggers_installed = True

    def _trigger_sql(self, tbl: str) -> dict[str, str]:
        """The statements creating the capture triggers of one audited table, by operation."""
        seq = "(SELECT COALESCE(MAX(seq), 0) + 1 FROM audit_changes WHERE audit_id = x.audit_id)"
        cols = [r[1] for r in self.conn.execute(f"PRAGMA main.table_info({tbl})")]
        pk = PRIMARY_KEYS[tbl]

        def image(prefix: str) -> str:
            return "json_object(" + ", ".join(f"'{col}', {prefix}.\"{col}\"" for col in cols) + ")"

        def key(prefix: str) -> str:
            return "json_array(" + ", ".join(f'{prefix}."{k}"' for k in pk) + ")"

        when = "WHEN (SELECT audit_id FROM temp._qc_ctx) IS NOT NULL"
        return {
            "ins": f"""CREATE TEMP TRIGGER IF NOT EXISTS _qc_{tbl}_ins AFTER INSERT ON main.{tbl} {when}
                BEGIN INSERT INTO audit_changes(audit_id, seq, tbl, op, row_key, old, new)
                SELECT x.audit_id, {seq}, '{tbl}', 'insert', {key('NEW')}, NULL, NULL FROM temp._qc_ctx x; END""",
            "upd": f"""CREATE TEMP TRIGGER IF NOT EXISTS _qc_{tbl}_upd AFTER UPDATE ON main.{tbl} {when}
                BEGIN INSERT INTO audit_changes(audit_id, seq, tbl, op, row_key, old, new)
                SELECT x.audit_id, {seq}, '{tbl}', 'update', {key('OLD')}, {image('OLD')}, {image('NEW')}
                FROM temp._qc_ctx x; END""",
            "del": f"""CREATE TEMP TRIGGER IF NOT EXISTS _qc_{tbl}_del AFTER DELETE ON main.{tbl} {when}
                BEGIN INSERT INTO audit_changes(audit_id, seq, tbl, op, row_key, old, new)
                SELECT x.audit_id, {seq}, '{tbl}', 'delete', {key('OLD')}, {image('OLD')}, NULL
                FROM temp._qc_ctx x; END""",
        }

    def last_act_id(self) -> int:
        """The id of the newest audit-log row (0 before the first act)."""
        return self.conn.execute("SELECT COALESCE(MAX(id), 0) FROM audit_log").fetchone()[0]

    # --------------------------------------------------------------- backups
    def backup(self, reason: str) -> Path:
        """Copy the whole project as last committed (consistently, via SQLite's backup API).

        The copy is read through a connection of its own, so a backup can be taken inside an
        act's write transaction (it shows the project before the act). It is written under a
        temporary name and renamed when complete: a backup that was interrupted (killed, disk
        full) is never listed, and the next backup removes what it left."""
        folder = _backup_dir(self.path)
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob(".*.part*"):
            with contextlib.suppress(OSError):
                stale.unlink()
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", reason).strip("-")[:60] or "backup"
        target = folder / f"{_stamp()}-{slug}.qualcode"
        i = 1
        while target.exists():
            target = folder / f"{_stamp()}-{slug}-{i}.qualcode"
            i += 1
        part = folder / f".{target.name}.part"
        src = sqlite3.connect(self.path.resolve().as_uri() + "?mode=ro", uri=True, timeout=busy_timeout())
        try:
            dest = sqlite3.connect(part, isolation_level=None)
            try:
                src.backup(dest)
                dest.execute("PRAGMA journal_mode = DELETE")
            finally:
                dest.close()
            with open(part, "rb") as fh:
                os.fsync(fh.fileno())
            os.replace(part, target)
        except BaseException as exc:
            for leftover in (part, Path(str(part) + "-journal")):
                with contextlib.suppress(OSError):
                    leftover.unlink()
            if isinstance(exc, OSError) or isinstance(exc, sqlite3.OperationalError):
                raise ProjectError(f"could not write a backup in {folder} ({_os_reason(exc)}); nothing was "
                                   "changed.") from None
            raise
        finally:
            src.close()
        return target

    def backups(self) -> list[Path]:
        folder = _backup_dir(self.path)
        return sorted(folder.glob("*.qualcode")) if folder.exists() else []

    def prune_backups(self, keep: int = 0) -> list[Path]:
        """Delete all backups but the ``keep`` newest; returns the deleted paths."""
        old = self.backups()
        doomed = old[:-keep] if keep > 0 else old
        for p in doomed:
            os.remove(p)
        return doomed

    def restore(self, backup: str | os.PathLike) -> Path:
        """Replace the project's content with a backup's; the current state is backed up first."""
        src_path = Path(backup)
        if not src_path.exists():
            candidates = [p for p in self.backups() if p.name.startswith(str(backup))]
            if len(candidates) != 1:
                raise NotFoundError(f"no single backup matches '{backup}' (see 'qualcode backup list').")
            src_path = candidates[0]
        src = sqlite3.connect(src_path.resolve().as_uri() + "?mode=ro", uri=True)
        try:
            try:
                ok = src.execute("PRAGMA integrity_check").fetchone()[0]
                app = src.execute("SELECT value FROM meta WHERE key = 'application'").fetchone()
                version = src.execute("PRAGMA user_version").fetchone()[0]
            except sqlite3.DatabaseError as exc:
                raise ProjectError(f"{src_path.name} is not a qualcode backup ({exc}); nothing was restored.") from None
            if ok != "ok":
                raise ProjectError(f"backup {src_path.name} is damaged ({ok}); nothing was restored.")
            if not app or app[0] != APPLICATION or version != self.schema_version:
                raise ProjectError(f"{src_path.name} is not a backup of a qualcode project with schema "
                                   f"{self.schema_version}; nothing was restored.")
            saved = self.backup("before-restore")
            src.backup(self.conn)
        finally:
            src.close()
        return saved


_GUID_TABLES = ("themes", "codes", "sources", "segments", "participants", "memos", "codings")


def _guid_table(table: str) -> str:
    if table not in _GUID_TABLES:
        raise ValueError(table)
    return table


def _os_reason(exc: BaseException) -> str:
    """'disk full', 'permission denied', ... for an OSError or SQLite's equivalent."""
    import errno

    text = str(exc).lower()
    if getattr(exc, "errno", None) in (errno.ENOSPC, errno.EFBIG) or "full" in text:
        return "the disk is full"
    if getattr(exc, "errno", None) in (errno.EACCES, errno.EPERM, errno.EROFS) or "readonly" in text \
            or "read-only" in text:
        return "no permission to write there"
    return getattr(exc, "strerror", None) or str(exc)


def _stamp() -> str:
    return _dt.datetime.now().strftime("%Y%m%d-%H%M%S")


def _unlink_project(path: Path) -> None:
    """Delete a project file with its SQLite -wal and -shm companions and qualcode's lock and
    writer notes (those that exist)."""
    for suffix in ("", "-wal", "-shm", "-lock", "-writer"):
        Path(str(path) + suffix).unlink(missing_ok=True)


def _backup_dir(path: Path) -> Path:
    return Path(str(path) + ".backups")


def _connect(path: Path, wal: bool = True) -> sqlite3.Connection:
    # Up to 64 MiB of page cache (SQLite's default is 2 MiB, taken only as pages are used): large
    # imports insert random GUIDs into unique indexes, and a small cache spills to disk mid-transaction.
    return _sqlite(path, path, ["foreign_keys = ON", *(["journal_mode = WAL"] if wal else []), "synchronous = FULL",
                                f"busy_timeout = {int(busy_timeout() * 1000)}", "cache_size = -65536"])


def _connect_read_only(path: Path) -> sqlite3.Connection:
    """A connection that never writes: ``mode=ro``, plus ``immutable=1`` when the folder is read-only
    (SQLite then reads the file as it is, without the -shm index it cannot create there)."""
    folder_writable = os.access(path.resolve().parent, os.W_OK)
    wal = Path(str(path) + "-wal")
    if not folder_writable and wal.exists() and wal.stat().st_size > 0:
        raise ProjectError(f"cannot read {path}: its folder is read-only and it has changes not yet written into "
                           f"the file ({wal.name}), which SQLite can only read with write access to the folder. "
                           "Open it once where it can be written, or copy the project with its -wal file to a "
                           "folder you can write to.")
    uri = path.resolve().as_uri() + ("?mode=ro" if folder_writable else "?mode=ro&immutable=1")
    return _sqlite(path, uri, ["query_only = ON", f"busy_timeout = {int(busy_timeout() * 1000)}",
                               "cache_size = -65536"], uri=True)


def _sqlite(path: Path, target, pragmas: list[str], *, uri: bool = False) -> sqlite3.Connection:
    """A connection to ``target`` (the project's path or URI) with rows by name and ``pragmas`` set."""
    try:
        conn = sqlite3.connect(target, uri=uri, isolation_level=None, timeout=busy_timeout())
    except sqlite3.OperationalError as exc:
        raise ProjectError(f"cannot open {path}: {exc}.") from None
    conn.row_factory = sqlite3.Row
    try:
        for pragma in pragmas:
            conn.execute(f"PRAGMA {pragma}")
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise _open_error(path, exc) from None
    return conn


def _open_error(path: Path, exc: Exception) -> ProjectError:
    """Why an SQLite file could not be opened: its content (not a project, damaged) or its place
    (a full disk, a read-only folder), which SQLite reports alike as an I/O error."""
    text = str(exc)
    if "no such table" in text:
        return ProjectError(f"{path} is not a qualcode project ({text}).")
    if "not a database" in text or "malformed" in text:
        return ProjectError(f"{path} is not a qualcode project, or it is damaged ({text}). Restore a backup "
                            "with 'qualcode backup restore'.")
    folder = path.resolve().parent
    if not os.access(folder, os.W_OK) or not os.access(path, os.W_OK):
        return ProjectError(f"cannot open {path}: its folder or the file is read-only, and qualcode needs to write "
                            "beside it. Copy the project to a folder you can write to (the Python API can read it "
                            "where it is: qualcode.Project.open).")
    with contextlib.suppress(OSError):
        st = os.statvfs(folder)
        if st.f_bavail * st.f_frsize < (1 << 20):
            return ProjectError(f"cannot open {path}: the disk is full. Free some space and try again.")
    return ProjectError(f"cannot open {path} ({text}).")
