"""State in SQLite (sqlite-utils, WAL): sources seen, snapshots, changes and the alert outbox.

A source's new snapshot, its changes and their outbox rows are written in one transaction: a crash
leaves either all of them or none, so an alert is never lost and never raised twice for one change. A pass may group
many sources' records into one transaction (`batch()`); each source's rows still go in together or not at all. The outbox is
the source of truth for delivery; rows are marked delivered only after the destination confirmed.
No secret is ever written here.

Several processes share the database (the worker, `monitor check`, `status`, `deliver`): every write transaction
starts with BEGIN IMMEDIATE, so it waits (up to BUSY_TIMEOUT) for another writer instead of failing at once, which
is what a deferred transaction that read before it wrote did ("database is locked"). A state that cannot be used
(not a database, corrupt, truncated, empty, foreign, unreadable, a full disk) raises StateError with one line that
says so; the CLI exits 3. The state directory is made 0700 and the database with its -wal and -shm 0600, whatever
the umask: the outbox holds what is about to be said in Slack.
"""
from __future__ import annotations

import asyncio
import errno
import functools
import json
import os
import secrets
import sqlite3
import stat
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence, TypeVar

import sqlite_utils

from ..claimant import Claimant, current as current_claimant
from ..models import Block, Vanished

SCHEMA_VERSION = 6
DB_NAME = "monitor.db"
BUSY_TIMEOUT = 30.0  # seconds a write waits for another process's write transaction before giving up
SQLITE_MAGIC = b"SQLite format 3\x00"
SNAPSHOT_COLUMNS = "taken_at, title, blocks, etag, last_modified, body_hash, definition, fingerprint, vanished"
# A batch commits after this many sources' records or this many seconds, whichever comes first.
BATCH_RECORDS = 50
BATCH_SECONDS = 0.5


class StateError(Exception):
    """The state cannot be used as it is. The message is one line for the operator: what is wrong with which file
    and what to do. Nothing recorded is lost by the refusal (a failed transaction leaves the state as it was)."""


_F = TypeVar("_F", bound=Callable[..., Any])
_RESTORE = "restore it from a backup, or move it away to start afresh (every source then takes a new baseline and " \
           "alerts not yet delivered are lost)"


def describe(error: sqlite3.Error, path: Path) -> str | None:
    """The operator's line for an SQLite error that is the state's fault, or None for one that is ours (a bug)."""
    code = getattr(error, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    if primary == 13:  # SQLITE_FULL
        return f"could not write {path}: the disk is full ({error}); free some space and run again, nothing " \
               "recorded was lost"
    if primary == 10:  # SQLITE_IOERR and its extended codes (a failing or full disk, a file-size limit)
        verb = "read" if code in (266, 522) else "write"  # SQLITE_IOERR_READ, SQLITE_IOERR_SHORT_READ
        return f"could not {verb} {path}: {error} (is the disk full or failing?); nothing recorded was lost"
    if primary == 11:  # SQLITE_CORRUPT
        return f"{path} is corrupt ({error}); {_RESTORE}"
    if primary == 26:  # SQLITE_NOTADB
        return f"{path} is not a SQLite database; {_RESTORE}"
    if primary in (3, 8, 23):  # SQLITE_PERM, SQLITE_READONLY, SQLITE_AUTH
        return f"permission denied writing {path} ({error}); run monitor as the user that owns the state, or fix " \
               "its permissions"
    if primary == 14:  # SQLITE_CANTOPEN: a directory, no permission, a vanished directory
        return _unopenable(path) or f"cannot open {path} ({error})"
    if primary in (5, 6, 15):  # SQLITE_BUSY, SQLITE_LOCKED, SQLITE_PROTOCOL
        return f"{path} is locked by another process (waited up to {BUSY_TIMEOUT:g} s: {error}); try again"
    return None


def _unopenable(path: Path) -> str | None:
    """Why `path` (or its -wal/-shm) cannot be opened, when the file system can tell."""
    for candidate in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            st = candidate.stat()
        except FileNotFoundError:
            continue
        except OSError as e:
            return _os_problem(e, candidate)
        if stat.S_ISDIR(st.st_mode):
            return f"{candidate} is a directory, not a database file; move it away"
        if not os.access(candidate, os.R_OK | os.W_OK):
            return f"permission denied: cannot read and write {candidate} (owner uid {st.st_uid}, mode " \
                   f"{stat.S_IMODE(st.st_mode):04o}); run monitor as the user that owns the state, or fix its " \
                   "permissions"
    if not os.access(path.parent, os.W_OK | os.X_OK):
        return f"permission denied: cannot write in {path.parent}; run monitor as the user that owns the state, " \
               "or fix its permissions"
    return None


def _os_problem(error: OSError, path: Path) -> str:
    if error.errno in (errno.EACCES, errno.EPERM):
        return f"permission denied on {path}; run monitor as the user that owns the state, or fix its permissions"
    if error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return f"could not write {path}: the disk is full ({error.strerror}); free some space and run again"
    if error.errno == errno.ENOTDIR:
        return f"{path}: a part of the path is a file, not a directory"
    if error.errno == errno.EROFS:
        return f"could not write {path}: the file system is read-only"
    return f"{path}: {error.strerror or error}"


def _guarded(method: _F) -> _F:
    """Turn the SQLite errors that are the state's fault into StateError; every other error is a bug and stays."""

    @functools.wraps(method)
    def wrapper(self: "Store", *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as e:
            problem = describe(e, self.path)
            if problem is None:
                raise
            raise StateError(problem) from e

    return wrapper  # type: ignore[return-value]


def ensure_state_dir(state_dir: str | os.PathLike) -> Path:
    """The state directory, made (with any missing parents) 0700 whatever the umask. An existing directory's mode
    is the operator's business and is left as it is."""
    path = Path(state_dir)
    missing: list[Path] = []
    probe = path
    try:
        while not probe.exists() and probe != probe.parent:
            missing.append(probe)
            probe = probe.parent
        for directory in reversed(missing):
            try:
                os.mkdir(directory, 0o700)
            except FileExistsError:
                continue  # made meanwhile by another process: theirs
            os.chmod(directory, 0o700)  # mkdir's mode is cut by the umask, never widened
    except OSError as e:
        raise StateError(f"cannot create the state directory: {_os_problem(e, Path(e.filename or path))}") from None
    if not path.is_dir():
        raise StateError(f"the state directory {path} is not a directory")
    return path


def _private(db_path: Path) -> None:
    """The database, its -wal and its -shm readable and writable by their owner only (SQLite gives the -wal and
    -shm it creates the database file's mode)."""
    for candidate in (db_path, db_path.with_name(db_path.name + "-wal"), db_path.with_name(db_path.name + "-shm")):
        try:
            st = candidate.stat()
            if stat.S_ISREG(st.st_mode) and st.st_uid == os.geteuid() and stat.S_IMODE(st.st_mode) != 0o600:
                os.chmod(candidate, 0o600)
        except OSError:
            continue  # gone meanwhile (the last connection removed it) or not ours to change


def inspect_database(db_path: Path) -> bool:
    """Refuse a file that is not a usable database before SQLite opens it (and, given an empty file, silently
    makes a new database of it: a re-baseline that loses the outbox). Returns whether the database exists."""
    try:
        st = db_path.stat()
    except FileNotFoundError:
        return False
    except OSError as e:
        raise StateError(_os_problem(e, db_path)) from None
    if stat.S_ISDIR(st.st_mode):
        raise StateError(f"{db_path} is a directory, not a database file; move it away")
    if not stat.S_ISREG(st.st_mode):
        raise StateError(f"{db_path} is not a regular file; move it away")
    if st.st_size == 0:
        raise StateError(f"{db_path} is empty (0 bytes), so it is not the state monitor wrote; refusing to start "
                         f"over in its place: {_RESTORE.replace('move it away', 'delete it')}")
    try:
        with open(db_path, "rb") as f:
            header = f.read(100)
    except OSError as e:
        raise StateError(_os_problem(e, db_path)) from None
    if not header.startswith(SQLITE_MAGIC[: len(header)]) or len(header) < len(SQLITE_MAGIC):
        raise StateError(f"{db_path} is not a SQLite database; {_RESTORE}")
    if len(header) < 100:
        raise StateError(f"{db_path} is truncated ({st.st_size} bytes); {_RESTORE}")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    valid = pages and header[24:28] == header[92:96]  # SQLite's rule for trusting the in-header size
    try:  # pages still in the -wal may lie beyond the file's end: only a checkpointed file can be judged
        wal_size = db_path.with_name(db_path.name + "-wal").stat().st_size
    except OSError:
        wal_size = 0
    if valid and pages * page_size > st.st_size and not wal_size:
        raise StateError(f"{db_path} is truncated ({st.st_size:,} of {pages * page_size:,} bytes); {_RESTORE}")
    return True


def _create(db_path: Path) -> None:
    """Make a new database under another name and link it into place: `monitor.db` is never seen half-made (or
    empty, which `inspect_database` refuses), and it is 0600 from the start."""
    temporary = db_path.with_name(f".{db_path.name}.new-{os.getpid()}-{secrets.token_hex(4)}")
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.fchmod(fd, 0o600)
        os.close(fd)
        conn = sqlite3.connect(temporary, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=WAL")  # kept in the file's header
            db = sqlite_utils.Database(conn)
            Store(db, db_path)._migrate()
        finally:
            conn.close()
        try:
            os.link(temporary, db_path)
        except FileExistsError:
            pass  # another process made it meanwhile: use theirs
        except OSError:
            if not db_path.exists():  # a file system without hard links
                os.rename(temporary, db_path)
    except OSError as e:
        raise StateError(_os_problem(e, db_path)) from None
    finally:
        for leftover in (temporary, *(temporary.with_name(temporary.name + x) for x in ("-journal", "-wal", "-shm"))):
            try:
                os.unlink(leftover)
            except OSError:
                pass


def iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_change_id(now: datetime) -> str:
    """Short, sortable by time, and easy to type into `monitor show`."""
    return f"{int(now.timestamp()):x}{secrets.token_hex(3)}"


@dataclass(frozen=True)
class Snapshot:
    blocks: tuple[Block, ...]
    taken_at: str
    title: str = ""
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    definition: str = ""  # Source.definition when taken: a new selector makes it no longer comparable
    fingerprint: str | None = None  # Page.fingerprint of the page the blocks were read from
    vanished: tuple[Vanished, ...] = ()  # blocks that left the page lately and may come back (diff.remember_vanished)


@dataclass(frozen=True)
class SnapshotHead:
    """A stored snapshot without its blocks: what a check needs before its fetch, and often all it needs."""

    etag: str | None
    last_modified: str | None
    body_hash: str | None
    definition: str = ""
    fingerprint: str | None = None


@dataclass
class ChangeRecord:
    """A change as stored and as printed by `check --json` (see `as_json`)."""

    id: str
    source: str
    jurisdiction: str
    url: str
    kind: str  # legal | operational
    alert: bool
    event: str
    severity: str
    summary: str
    added: list[str]
    removed: list[str]
    detected_at: str
    source_name: str = ""
    direction: str = "neutral"
    measure: str | None = None
    explanation: dict[str, Any] = field(default_factory=dict)
    channels: tuple[str, ...] = ()
    group: str | None = None  # the cause a failure shares with others (monitor/causes.py), alerted as a group

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "source": self.source, "jurisdiction": self.jurisdiction, "url": self.url,
                "kind": self.kind, "alert": self.alert, "event": self.event, "severity": self.severity,
                "summary": self.summary, "added": self.added, "removed": self.removed,
                "detected_at": self.detected_at, "direction": self.direction, "measure": self.measure,
                "source_name": self.source_name, "group": self.group}

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> "ChangeRecord":
        return cls(id=row["id"], source=row["source_id"], jurisdiction=row["jurisdiction"], url=row["url"],
                   kind=row["kind"], alert=bool(row["alert"]), event=row["event"], severity=row["severity"],
                   summary=row["summary"], added=json.loads(row["added"]), removed=json.loads(row["removed"]),
                   detected_at=row["detected_at"], source_name=row.get("source_name") or "",
                   direction=row.get("direction") or "neutral", measure=row.get("measure"),
                   explanation=json.loads(row.get("explanation") or "{}"), group=row.get("failure_group"))


@dataclass(frozen=True)
class OutboxItem:
    """One alert for one channel ("" = the default channel). `link` is the source's configured URL (from the
    sources table, never from the page) and `thread_key` names the measure whose thread a follow-up joins."""

    id: int
    change: ChangeRecord
    channel: str
    attempts: int
    thread_key: str
    next_attempt_at: str = ""
    link: str | None = None
    status: str = "pending"  # or "sending": claimed by a process that may have died


@dataclass
class _Batch:
    """The open batch: records since its transaction began, when it began, and the timer that commits it."""

    records: int = 0
    started: float = 0.0
    timer: asyncio.TimerHandle | None = None
    failed: StateError | None = None  # a commit by the timer failed: the next record or the batch's end says so


class Store:
    def __init__(self, db: sqlite_utils.Database, path: str | os.PathLike | None = None):
        self.db = db
        self.path = Path(path) if path is not None else Path(DB_NAME)  # for messages
        self.claimant = current_claimant()
        self._claimant_text = self.claimant.encode()
        self._source_columns: set[str] = set()  # of the sources table, read when a state has a key not seen yet
        self._batch: _Batch | None = None

    @classmethod
    def open(cls, state_dir: str | os.PathLike) -> "Store":
        """Open (or make) the state in `state_dir`; raises StateError, with the operator's line, if it is unusable."""
        db_path = ensure_state_dir(state_dir) / DB_NAME
        if not inspect_database(db_path):
            _create(db_path)
        _private(db_path)
        try:
            conn = sqlite3.connect(db_path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as e:
            raise StateError(describe(e, db_path) or f"cannot open {db_path} ({e})") from None
        store = cls(sqlite_utils.Database(conn), db_path)
        try:
            store._prepare()
        except BaseException:
            conn.close()
            raise
        _private(db_path)
        return store

    def close(self) -> None:
        self.db.conn.close()

    # -- schema ---------------------------------------------------------------------------------------------
    @_guarded
    def _prepare(self) -> None:
        db = self.db
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        other = sorted(t for t in tables if t != "meta" and not t.startswith("sqlite_"))
        # No tables, or only a meta table without a version, is a state whose first start was cut short: made now.
        if other and ("meta" not in tables or
                      not db.execute("SELECT 1 FROM meta WHERE key = 'schema_version'").fetchone()):
            raise StateError(f"{self.path} is not a kratom-monitor state database (it holds the tables "
                             f"{', '.join(other) or 'none'}); point --state-dir at monitor's own state, or move it "
                             "away to start afresh")
        if db.journal_mode != "wal":
            db.enable_wal()
        db.execute("PRAGMA synchronous=NORMAL")
        self._migrate()

    def _migrate(self) -> None:
        """Bring the schema up to SCHEMA_VERSION. Writes only when there is something to migrate, and then in a
        BEGIN IMMEDIATE transaction that reads the version again (another process may have migrated meanwhile)."""
        db = self.db
        if self._version() == SCHEMA_VERSION:
            return
        with self._transaction():
            db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
            version = self._version()
            for step in range(version + 1, SCHEMA_VERSION + 1):
                MIGRATIONS[step](db)
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)",
                       [str(SCHEMA_VERSION)])

    def _version(self) -> int:
        if not self.db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").fetchone():
            return 0  # a database being made
        row = self.db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        try:
            version = int(row[0]) if row else 0
        except (TypeError, ValueError):
            raise StateError(f"{self.path} has an unreadable schema version ({row[0]!r}); {_RESTORE}") from None
        if version > SCHEMA_VERSION:
            raise StateError(f"{self.path} was written by a newer monitor (schema {version}, this one knows "
                             f"{SCHEMA_VERSION}); run that version, or restore a backup made by this one")
        return version

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """A write transaction: BEGIN IMMEDIATE takes the write lock first, waiting up to BUSY_TIMEOUT for another
        process's; nested in an open transaction (a batch), a savepoint, so this part commits whole or not at all."""
        conn = self.db.conn
        if conn.in_transaction:
            with self.db.atomic():  # sqlite-utils' savepoint
                yield
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        try:
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    # -- snapshots and source state ------------------------------------------------------------------------
    @_guarded
    def snapshot(self, source_id: str) -> Snapshot | None:
        row = self.db.execute(f"SELECT {SNAPSHOT_COLUMNS} FROM snapshots WHERE source_id = ?", [source_id]).fetchone()
        if row is None:
            return None
        taken_at, title, blocks, etag, last_modified, body_hash, definition, fingerprint, vanished = row
        return Snapshot(blocks=tuple(Block.from_dict(b) for b in json.loads(blocks)), taken_at=taken_at,
                        title=title or "", etag=etag, last_modified=last_modified, body_hash=body_hash,
                        definition=definition or "", fingerprint=fingerprint,
                        vanished=tuple(Vanished.from_dict(v) for v in json.loads(vanished or "[]")))

    @_guarded
    def snapshot_head(self, source_id: str) -> SnapshotHead | None:
        """The stored snapshot's validators, body hash, definition and fingerprint, without reading or decoding its
        blocks."""
        row = self.db.execute("SELECT etag, last_modified, body_hash, definition, fingerprint FROM snapshots "
                              "WHERE source_id = ?", [source_id]).fetchone()
        return SnapshotHead(row[0], row[1], row[2], row[3] or "", row[4]) if row else None

    @_guarded
    def source_state(self, source_id: str) -> dict[str, Any]:
        rows = list(self.db.query("SELECT * FROM sources WHERE id = ?", [source_id]))
        return rows[0] if rows else {}

    @_guarded
    def record(self, source_id: str, state: dict[str, Any], snapshot: Snapshot | None = None,
               changes: Sequence[ChangeRecord] = (), restamp: SnapshotHead | None = None) -> None:
        """One source's pass, all or nothing: its state, its new snapshot (or new validators and definition for the
        stored one: `restamp`), its changes and their outbox rows."""
        self._open_batch()
        with self._transaction():
            self._upsert_source({"id": source_id, **state})
            if restamp is not None:
                self.db.execute("UPDATE snapshots SET etag = ?, last_modified = ?, definition = ? WHERE source_id = ?",
                                [restamp.etag, restamp.last_modified, restamp.definition, source_id])
            if snapshot is not None:
                self.db.execute(
                    "INSERT OR REPLACE INTO snapshots (source_id, taken_at, title, blocks, block_count, etag, "
                    "last_modified, body_hash, definition, fingerprint, vanished) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [source_id, snapshot.taken_at, snapshot.title,
                     json.dumps([b.to_dict() for b in snapshot.blocks], ensure_ascii=False),
                     len(snapshot.blocks), snapshot.etag, snapshot.last_modified, snapshot.body_hash,
                     snapshot.definition, snapshot.fingerprint,
                     json.dumps([v.to_dict() for v in snapshot.vanished], ensure_ascii=False)])
            for change in changes:
                self._insert_change(change)
        batch = self._batch
        if batch is not None and self.db.conn.in_transaction:
            batch.records += 1
            if batch.records >= BATCH_RECORDS or time.monotonic() - batch.started >= BATCH_SECONDS:
                self._commit_batch()

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Group the `record`s made meanwhile into one transaction per BATCH_RECORDS sources or BATCH_SECONDS: far
        fewer commits, and each source's rows still commit together or not at all (a `record` is a savepoint in the
        batch). Whatever was recorded is committed when the block ends, however it ends.

        The transaction begins (BEGIN IMMEDIATE) at a batch's first record, not before, and holds the write lock for
        at most about BATCH_SECONDS: a timer on the running event loop commits it even when no record comes along
        (the pass is waiting for slow pages), so the worker beside a `monitor check` is never kept waiting long."""
        if self._batch is not None or self.db.conn.in_transaction:
            yield
            return
        self._batch = _Batch()
        try:
            yield
        finally:
            batch, failed = self._batch, None
            try:
                if batch.failed is None and self.db.conn.in_transaction:
                    self._commit_batch()
            except StateError as e:
                failed = e
            finally:
                self._batch = None
                if batch.timer is not None:
                    batch.timer.cancel()
            failed = failed or batch.failed
            if failed is not None:
                raise failed

    def _open_batch(self) -> None:
        """At a batch's first record (or its first after a commit), begin its transaction and arm its timer."""
        batch = self._batch
        if batch is None:
            return
        if batch.failed is not None:
            raise batch.failed
        if self.db.conn.in_transaction:
            return
        self.db.conn.execute("BEGIN IMMEDIATE")
        batch.records, batch.started = 0, time.monotonic()
        try:
            batch.timer = asyncio.get_running_loop().call_later(BATCH_SECONDS, self._commit_batch_later)
        except RuntimeError:  # no event loop: records come one after another, nothing waits in between
            batch.timer = None

    def _commit_batch(self) -> None:
        batch = self._batch
        if batch is not None and batch.timer is not None:
            batch.timer.cancel()
            batch.timer = None
        try:
            self.db.conn.execute("COMMIT")
        except sqlite3.Error as e:
            if self.db.conn.in_transaction:
                self.db.conn.execute("ROLLBACK")  # those sources are checked again next pass: nothing is lost
            problem = describe(e, self.path)
            if problem is None:
                raise
            raise StateError(problem) from e

    def _commit_batch_later(self) -> None:
        """The timer: commit the batch's open transaction between two records (never inside one: the timer runs
        on the event loop, and so does every `record`)."""
        batch = self._batch
        if batch is None or batch.timer is None or not self.db.conn.in_transaction:
            return
        batch.timer = None
        try:
            self._commit_batch()
        except StateError as e:
            batch.failed = e

    def _upsert_source(self, row: dict[str, Any]) -> None:
        """sqlite-utils' upsert(alter=True) reads the schema on every call: this binds one statement per set of
        columns (sqlite3 caches it), and leaves to sqlite-utils only a row it could not bind as it is (a column not
        in the table yet, a value to encode)."""
        plain = all(v is None or isinstance(v, (str, int, float)) for v in row.values())
        if plain and not row.keys() <= self._source_columns:
            self._source_columns = set(self.db["sources"].columns_dict)
        if not plain or not row.keys() <= self._source_columns:
            self.db["sources"].upsert(row, pk="id", alter=True)  # adds the column, encodes the value
            return
        columns = list(row)
        updates = ", ".join(f"[{c}] = excluded.[{c}]" for c in columns if c != "id")
        self.db.execute(f"INSERT INTO sources ({', '.join(f'[{c}]' for c in columns)}) VALUES "
                        f"({', '.join('?' * len(columns))}) ON CONFLICT(id) DO "
                        + (f"UPDATE SET {updates}" if updates else "NOTHING"), list(row.values()))

    @_guarded
    def add_changes(self, changes: Sequence[ChangeRecord]) -> None:
        """Changes from no source's pass (the worker's notice that a sources.yaml edit was refused), with their
        outbox rows, all or nothing. Unlike `record`, no row appears in `sources` (and so in `monitor status`)."""
        with self._transaction():
            for change in changes:
                self._insert_change(change)

    def _insert_change(self, c: ChangeRecord) -> None:
        self.db.execute(
            "INSERT INTO changes (id, source_id, source_name, jurisdiction, url, detected_at, kind, alert, event, "
            "severity, direction, measure, summary, added, removed, explanation, failure_group) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [c.id, c.source, c.source_name, c.jurisdiction, c.url, c.detected_at, c.kind, int(c.alert), c.event,
             c.severity, c.direction, c.measure, c.summary, json.dumps(c.added, ensure_ascii=False),
             json.dumps(c.removed, ensure_ascii=False), json.dumps(c.explanation, ensure_ascii=False), c.group])
        if c.alert:
            self._queue(c)

    def promote(self, change: ChangeRecord) -> None:
        """Alert a change recorded without one: a failure that turned out to be alone in its group is reported on
        its own after all (monitor/incidents.py), as the same change rather than a second record of it."""
        with self._transaction():
            self.db.execute("UPDATE changes SET alert = 1 WHERE id = ?", [change.id])
            self._queue(change)

    def _queue(self, c: ChangeRecord) -> None:
        """The outbox rows of an alerted change, one per channel."""
        from ..extract.measures import measure_key

        key = measure_key(c.measure) if c.kind == "legal" else ""
        thread_key = f"{c.jurisdiction}:{key}" if key else ""  # one thread per measure, whichever source saw it
        for channel in c.channels or ("",):
            self.db.execute(
                "INSERT INTO outbox (change_id, channel, thread_key, created_at, status, attempts, "
                "next_attempt_at) VALUES (?, ?, ?, ?, 'pending', 0, ?)",
                [c.id, channel, thread_key, c.detected_at, c.detected_at])

    # -- outbox ---------------------------------------------------------------------------------------------
    @_guarded
    def due_outbox(self, limit: int = 200) -> list[OutboxItem]:
        """Rows still to send, oldest first: pending ones, and 'sending' ones whose sender may have died.
        Whether each may be sent now is `claim`'s decision."""
        rows = self.db.query(
            "SELECT o.id AS outbox_id, o.channel, o.attempts, o.thread_key, o.next_attempt_at, o.status AS o_status, "
            "s.url AS source_url, c.* FROM outbox o "
            "JOIN changes c ON c.id = o.change_id LEFT JOIN sources s ON s.id = c.source_id "
            "WHERE o.status IN ('pending', 'sending') ORDER BY o.id LIMIT ?", [limit])
        return [OutboxItem(id=r["outbox_id"], change=ChangeRecord.from_row(r), channel=r["channel"] or "",
                           attempts=r["attempts"], thread_key=r["thread_key"] or "",
                           next_attempt_at=r["next_attempt_at"] or "", link=r["source_url"], status=r["o_status"])
                for r in rows]

    @_guarded
    def claim(self, outbox_id: int, now: datetime, lease: timedelta, force: bool = False) -> bool:
        """Take a row for sending, atomically, and mark it with this process's identity: False while it waits out
        a backoff (unless `force`) or another process is sending it. A sender that dies is found out by
        `release_orphans`; the lease is the last resort, for a claim no one here can judge (another host)."""
        cur = self.db.execute(
            "UPDATE outbox SET status = 'sending', next_attempt_at = ?, claimed_by = ? WHERE id = ? AND "
            "((status = 'pending' AND (? OR next_attempt_at <= ?)) OR (status = 'sending' AND next_attempt_at <= ?))",
            [iso(now + lease), self._claimant_text, outbox_id, int(force), iso(now), iso(now)])
        return cur.rowcount == 1

    @_guarded
    def release_orphans(self, now: datetime) -> list[tuple[str, Claimant]]:
        """Put back in line, at once, the rows left 'sending' by a process that no longer runs (killed mid-post);
        a live sender's row is left to it. Returns the change id and claimant of each row released. The message
        may have reached Slack before its sender died: it is then sent a second time, as the outbox promises."""
        released = []
        for row_id, change_id, claimed_by in self.db.execute(
                "SELECT id, change_id, claimed_by FROM outbox WHERE status = 'sending'").fetchall():
            claimant = Claimant.decode(claimed_by)
            if claimant is None or not claimant.is_gone():
                continue
            note = f"pid {claimant.pid} ended while sending this alert; sent again (it may arrive twice)"
            cur = self.db.execute(
                "UPDATE outbox SET status = 'pending', next_attempt_at = ?, claimed_by = NULL, last_error = ? "
                "WHERE id = ? AND status = 'sending' AND claimed_by = ?", [iso(now), note, row_id, claimed_by])
            if cur.rowcount == 1:
                released.append((change_id, claimant))
        return released

    @_guarded
    def release_own(self, now: datetime) -> list[str]:
        """Put back in line the rows this process is sending (it is stopping and gives up waiting for Slack);
        returns their change ids. Slack may still take the message: then it arrives twice."""
        rows = self.db.execute("SELECT id, change_id FROM outbox WHERE status = 'sending' AND claimed_by = ?",
                               [self._claimant_text]).fetchall()
        released = []
        for row_id, change_id in rows:
            cur = self.db.execute(
                "UPDATE outbox SET status = 'pending', next_attempt_at = ?, claimed_by = NULL WHERE id = ? AND "
                "status = 'sending' AND claimed_by = ?", [iso(now), row_id, self._claimant_text])
            if cur.rowcount == 1:
                released.append(change_id)
        return released

    @_guarded
    def outbox_counts(self) -> dict[str, int]:
        return {r["status"]: r["n"] for r in self.db.query("SELECT status, count(*) AS n FROM outbox GROUP BY status")}

    @_guarded
    def undelivered(self, limit: int = 20) -> list[dict[str, Any]]:
        """Rows not yet delivered, oldest first, with what went wrong: for `monitor status`."""
        return list(self.db.query(
            "SELECT o.change_id, o.channel, o.status, o.attempts, o.next_attempt_at, o.last_error, c.summary "
            "FROM outbox o JOIN changes c ON c.id = o.change_id WHERE o.status != 'delivered' ORDER BY o.id LIMIT ?",
            [limit]))

    @_guarded
    def mark_delivered(self, outbox_id: int, now: datetime, ts: str | None, channel_id: str | None) -> None:
        self.db.execute("UPDATE outbox SET status = 'delivered', delivered_at = ?, ts = ?, channel_id = ?, "
                        "attempts = attempts + 1, last_error = NULL, claimed_by = NULL WHERE id = ?",
                        [iso(now), ts, channel_id, outbox_id])

    @_guarded
    def mark_attempt_failed(self, outbox_id: int, error: str, next_attempt: datetime, permanent: bool) -> None:
        """Back in line at `next_attempt`, or held (permanent) until released: never dropped."""
        self.db.execute("UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?, "
                        "status = ?, claimed_by = NULL WHERE id = ?",
                        [error[:500], iso(next_attempt), "held" if permanent else "pending", outbox_id])

    @_guarded
    def release_held(self, now: datetime) -> int:
        """Put rows held for a permanent error (bad token, missing channel) back in line; returns how many."""
        cur = self.db.execute("UPDATE outbox SET status = 'pending', next_attempt_at = ? WHERE status = 'held'",
                              [iso(now)])
        return cur.rowcount

    @_guarded
    def swap_destination(self, fingerprint: str) -> bool:
        """Remember the delivery settings' fingerprint; True when it differs from a previously stored one."""
        row = self.db.execute("SELECT value FROM meta WHERE key = 'delivery_destination'").fetchone()
        if row and row[0] == fingerprint:
            return False
        self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('delivery_destination', ?)", [fingerprint])
        return row is not None

    @_guarded
    def thread_ts(self, destination: str, thread_key: str) -> str | None:
        if not thread_key:
            return None
        row = self.db.execute("SELECT ts FROM threads WHERE channel = ? AND thread_key = ?",
                              [destination, thread_key]).fetchone()
        return row[0] if row else None

    @_guarded
    def set_thread(self, destination: str, thread_key: str, ts: str) -> None:
        """The first alert about a measure in a channel starts its thread; later ones reply there."""
        if thread_key and ts:
            self.db.execute("INSERT OR IGNORE INTO threads (channel, thread_key, ts) VALUES (?, ?, ?)",
                            [destination, thread_key, ts])

    # -- reading --------------------------------------------------------------------------------------------
    @_guarded
    def change(self, change_id: str) -> ChangeRecord | None:
        """The change with this id, or the only one whose id starts with it."""
        rows = list(self.db.query("SELECT * FROM changes WHERE id = ?", [change_id]))
        if rows:
            return ChangeRecord.from_row(rows[0])
        found = self.changes_by_prefix(change_id, 2)
        return found[0] if len(found) == 1 else None

    @_guarded
    def deliveries(self, change_id: str) -> list[dict[str, Any]]:
        return list(self.db.query("SELECT channel, status, attempts, ts, delivered_at, last_error FROM outbox "
                                  "WHERE change_id = ? ORDER BY id", [change_id]))

    @_guarded
    def changes_by_prefix(self, prefix: str, limit: int = 10) -> list[ChangeRecord]:
        """Changes whose id starts with `prefix`, by id: what `monitor show` lists when a prefix is ambiguous."""
        like = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        rows = self.db.query("SELECT * FROM changes WHERE id LIKE ? ESCAPE '\\' ORDER BY id LIMIT ?", [like, limit])
        return [ChangeRecord.from_row(r) for r in rows]

    @_guarded
    def history(self, source_id: str | None = None, limit: int = 20, *, since: str | None = None,
                jurisdiction: str | None = None, severities: Sequence[str] = (),
                events: Sequence[str] = ()) -> list[ChangeRecord]:
        """Changes, newest first: of one source; detected at or after `since` (an `iso` time); in `jurisdiction` or
        under it (US-FL: US-FL and US-FL-MIAMI); of one of `severities`; of one of `events`."""
        where: list[str] = []
        params: list[Any] = []
        if source_id:
            where.append("source_id = ?")
            params.append(source_id)
        if since:
            where.append("detected_at >= ?")
            params.append(since)
        if jurisdiction:
            where.append("(jurisdiction = ? OR substr(jurisdiction, 1, ?) = ?)")
            params += [jurisdiction, len(jurisdiction) + 1, jurisdiction + "-"]
        for column, values in (("severity", severities), ("event", events)):
            if values:
                where.append(f"{column} IN ({', '.join('?' * len(values))})")
                params += list(values)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        rows = self.db.query(f"SELECT * FROM changes {clause} ORDER BY detected_at DESC, id DESC LIMIT ?",
                             [*params, limit])
        return [ChangeRecord.from_row(r) for r in rows]

    @_guarded
    def source_ids(self) -> set[str]:
        """Every source the state knows: checked ones, and those only changes remember."""
        return {r[0] for r in self.db.execute("SELECT id FROM sources UNION SELECT source_id FROM changes") if r[0]}

    @_guarded
    def events(self) -> set[str]:
        return {r[0] for r in self.db.execute("SELECT DISTINCT event FROM changes") if r[0]}

    @_guarded
    def sources(self) -> list[dict[str, Any]]:
        return list(self.db.query("SELECT * FROM sources ORDER BY id"))

    @_guarded
    def latest_legal_by_jurisdiction(self) -> list[dict[str, Any]]:
        return list(self.db.query(
            "SELECT jurisdiction, event, severity, summary, detected_at, id FROM changes c WHERE kind = 'legal' AND "
            "id = (SELECT id FROM changes d WHERE d.kind = 'legal' AND d.jurisdiction = c.jurisdiction "
            "ORDER BY detected_at DESC, id DESC LIMIT 1) ORDER BY jurisdiction"))

    @_guarded
    def set_schedule(self, next_runs: Iterable[tuple[str, str | None]]) -> None:
        with self._transaction():
            for source_id, next_run in next_runs:
                self.db["sources"].upsert({"id": source_id, "next_run": next_run}, pk="id", alter=True)


def _migrate_1(db: sqlite_utils.Database) -> None:
    db.execute("""CREATE TABLE IF NOT EXISTS sources (
        id TEXT PRIMARY KEY, name TEXT, url TEXT, jurisdiction TEXT, kind TEXT, first_seen TEXT,
        last_checked TEXT, last_status TEXT, last_error TEXT, last_error_class TEXT, http_status INTEGER,
        last_duration REAL, consecutive_failures INTEGER DEFAULT 0, failing_since TEXT,
        failure_notified INTEGER DEFAULT 0, held_passes INTEGER DEFAULT 0, last_change_at TEXT, next_run TEXT)""")
    db.execute("""CREATE TABLE IF NOT EXISTS snapshots (
        source_id TEXT PRIMARY KEY, taken_at TEXT, title TEXT, blocks TEXT, block_count INTEGER, etag TEXT,
        last_modified TEXT, body_hash TEXT)""")
    db.execute("""CREATE TABLE IF NOT EXISTS changes (
        id TEXT PRIMARY KEY, source_id TEXT, source_name TEXT, jurisdiction TEXT, url TEXT, detected_at TEXT,
        kind TEXT, alert INTEGER, event TEXT, severity TEXT, direction TEXT, measure TEXT, summary TEXT,
        added TEXT, removed TEXT, explanation TEXT)""")
    db.execute("CREATE INDEX IF NOT EXISTS changes_source ON changes (source_id, detected_at)")
    db.execute("""CREATE TABLE IF NOT EXISTS outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT, change_id TEXT REFERENCES changes(id), channel TEXT,
        thread_key TEXT, created_at TEXT, status TEXT, attempts INTEGER DEFAULT 0, next_attempt_at TEXT,
        last_error TEXT, ts TEXT, channel_id TEXT, delivered_at TEXT)""")
    db.execute("CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (status, next_attempt_at)")
    db.execute("""CREATE TABLE IF NOT EXISTS threads (
        channel TEXT, thread_key TEXT, ts TEXT, PRIMARY KEY (channel, thread_key))""")


def _migrate_2(db: sqlite_utils.Database) -> None:
    """Snapshots remember which source definition (url, kind, selectors) produced them; sources their last good
    check."""
    db.execute("ALTER TABLE snapshots ADD COLUMN definition TEXT DEFAULT ''")
    db.execute("ALTER TABLE sources ADD COLUMN last_ok TEXT")  # the last good check: what "since" means


def _migrate_3(db: sqlite_utils.Database) -> None:
    """Snapshots remember the fingerprint of the page their blocks were read from (see Page.fingerprint)."""
    db.execute("ALTER TABLE snapshots ADD COLUMN fingerprint TEXT")


def _migrate_4(db: sqlite_utils.Database) -> None:
    """Outbox rows being sent name their sender (monitor.claimant), so a dead sender's row is released at once."""
    db.execute("ALTER TABLE outbox ADD COLUMN claimed_by TEXT")


def _migrate_5(db: sqlite_utils.Database) -> None:
    """Failures carry the cause they share with others (monitor/causes.py); incidents group them (one row per cause
    and spell, monitor/incidents.py), so the operator gets one notice per cause and a restart re-announces nothing."""
    db.execute("ALTER TABLE changes ADD COLUMN failure_group TEXT")
    db.execute("ALTER TABLE sources ADD COLUMN failure_group TEXT")
    db.execute("ALTER TABLE sources ADD COLUMN failure_host TEXT")
    db.execute("""CREATE TABLE IF NOT EXISTS incidents (
        id TEXT PRIMARY KEY, cause TEXT NOT NULL, opened_at TEXT, due_at TEXT, announced_at TEXT, closed_at TEXT,
        members TEXT DEFAULT '{}', announced_hosts TEXT DEFAULT '[]', lone TEXT, notices INTEGER DEFAULT 0)""")
    db.execute("CREATE UNIQUE INDEX IF NOT EXISTS incidents_open ON incidents (cause) WHERE closed_at IS NULL")


def _migrate_6(db: sqlite_utils.Database) -> None:
    """Snapshots remember the blocks that left the page lately; sources count their good checks, the clock those
    blocks are remembered by (see diff.remember_vanished)."""
    db.execute("ALTER TABLE snapshots ADD COLUMN vanished TEXT")
    db.execute("ALTER TABLE sources ADD COLUMN ok_checks INTEGER DEFAULT 0")


MIGRATIONS = {1: _migrate_1, 2: _migrate_2, 3: _migrate_3, 4: _migrate_4, 5: _migrate_5, 6: _migrate_6}
