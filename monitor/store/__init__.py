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

The package, by concept: `records` (what is stored: Snapshot, ChangeRecord, OutboxItem...), `schema` (SCHEMA_VERSION,
MIGRATIONS), `files` (opening the state safely, StateError, the write transaction), `outbox` (the outbox methods) and
here the Store itself. Every name other modules use is importable from `monitor.store`.
"""
from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ContextManager, Iterable, Iterator, Sequence

import sqlite_utils

from ..claimant import current as current_claimant
from ..models import Block, Vanished
# Re-exported as well: what other modules import from monitor.store (SQLITE_MAGIC, OutboxItem, iso, new_change_id...).
from .files import (BUSY_TIMEOUT, DB_NAME, SQLITE_MAGIC, StateError, _create, _guarded, _private, _RESTORE, describe,
                    ensure_state_dir, inspect_database, transaction)
from .outbox import OutboxMixin
from .records import ChangeRecord, OutboxItem, Snapshot, SnapshotHead, iso, new_change_id
from .schema import MIGRATIONS, SCHEMA_VERSION

SNAPSHOT_COLUMNS = "taken_at, title, blocks, etag, last_modified, body_hash, definition, fingerprint, vanished"
# A batch commits after this many sources' records or this many seconds, whichever comes first.
BATCH_RECORDS = 50
BATCH_SECONDS = 0.5


@dataclass
class _Batch:
    """The open batch: records since its transaction began, when it began, and the timer that commits it."""

    records: int = 0
    started: float = 0.0
    timer: asyncio.TimerHandle | None = None
    failed: StateError | None = None  # a commit by the timer failed: the next record or the batch's end says so


class Store(OutboxMixin):
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
            _create(db_path, lambda db: Store(db, db_path)._migrate())
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

    def _transaction(self) -> ContextManager[None]:
        """A write transaction on this state, or a savepoint in the open one (see files.transaction)."""
        return transaction(self.db)

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
