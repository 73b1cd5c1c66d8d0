"""State in SQLite (sqlite-utils, WAL): sources seen, snapshots, changes and the alert outbox.

A source's new snapshot, its changes and their outbox rows are written in one transaction (`db.atomic()`): a crash
leaves either all of them or none, so an alert is never lost and never raised twice for one change. A pass may group
many sources' records into one transaction (`batch()`); each source's rows still go in together or not at all. The outbox is
the source of truth for delivery; rows are marked delivered only after the destination confirmed.
No secret is ever written here.
"""
from __future__ import annotations

import json
import os
import secrets
import sqlite3
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import sqlite_utils

from .models import Block, Vanished

SCHEMA_VERSION = 4
DB_NAME = "monitor.db"
SNAPSHOT_COLUMNS = "taken_at, title, blocks, etag, last_modified, body_hash, definition, fingerprint, vanished"
# A batch commits after this many sources' records or this many seconds, whichever comes first.
BATCH_RECORDS = 50
BATCH_SECONDS = 0.5


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

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "source": self.source, "jurisdiction": self.jurisdiction, "url": self.url,
                "kind": self.kind, "alert": self.alert, "event": self.event, "severity": self.severity,
                "summary": self.summary, "added": self.added, "removed": self.removed,
                "detected_at": self.detected_at, "direction": self.direction, "measure": self.measure,
                "source_name": self.source_name}

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> "ChangeRecord":
        return cls(id=row["id"], source=row["source_id"], jurisdiction=row["jurisdiction"], url=row["url"],
                   kind=row["kind"], alert=bool(row["alert"]), event=row["event"], severity=row["severity"],
                   summary=row["summary"], added=json.loads(row["added"]), removed=json.loads(row["removed"]),
                   detected_at=row["detected_at"], source_name=row.get("source_name") or "",
                   direction=row.get("direction") or "neutral", measure=row.get("measure"),
                   explanation=json.loads(row.get("explanation") or "{}"))


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


class Store:
    def __init__(self, db: sqlite_utils.Database):
        self.db = db
        self._source_columns: set[str] = set()  # of the sources table, read when a state has a key not seen yet
        self._batch: tuple[int, float] | None = None  # records and start time of the open batch transaction

    @classmethod
    def open(cls, state_dir: str | os.PathLike) -> "Store":
        path = Path(state_dir)
        path.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path / DB_NAME, timeout=30, isolation_level=None, check_same_thread=False)
        db = sqlite_utils.Database(conn)
        if db.journal_mode != "wal":
            db.enable_wal()
        conn.execute("PRAGMA synchronous=NORMAL")
        store = cls(db)
        store._migrate()
        return store

    def close(self) -> None:
        self.db.conn.close()

    # -- schema ---------------------------------------------------------------------------------------------
    def _migrate(self) -> None:
        db = self.db
        db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        version = int(row[0]) if row else 0
        if version > SCHEMA_VERSION:
            raise RuntimeError(f"state was written by a newer monitor (schema {version} > {SCHEMA_VERSION})")
        with db.atomic():
            for step in range(version + 1, SCHEMA_VERSION + 1):
                MIGRATIONS[step](db)
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)",
                       [str(SCHEMA_VERSION)])

    # -- snapshots and source state ------------------------------------------------------------------------
    def snapshot(self, source_id: str) -> Snapshot | None:
        row = self.db.execute(f"SELECT {SNAPSHOT_COLUMNS} FROM snapshots WHERE source_id = ?", [source_id]).fetchone()
        if row is None:
            return None
        taken_at, title, blocks, etag, last_modified, body_hash, definition, fingerprint, vanished = row
        return Snapshot(blocks=tuple(Block.from_dict(b) for b in json.loads(blocks)), taken_at=taken_at,
                        title=title or "", etag=etag, last_modified=last_modified, body_hash=body_hash,
                        definition=definition or "", fingerprint=fingerprint,
                        vanished=tuple(Vanished.from_dict(v) for v in json.loads(vanished or "[]")))

    def snapshot_head(self, source_id: str) -> SnapshotHead | None:
        """The stored snapshot's validators, body hash, definition and fingerprint, without reading or decoding its
        blocks."""
        row = self.db.execute("SELECT etag, last_modified, body_hash, definition, fingerprint FROM snapshots "
                              "WHERE source_id = ?", [source_id]).fetchone()
        return SnapshotHead(row[0], row[1], row[2], row[3] or "", row[4]) if row else None

    def source_state(self, source_id: str) -> dict[str, Any]:
        rows = list(self.db.query("SELECT * FROM sources WHERE id = ?", [source_id]))
        return rows[0] if rows else {}

    def record(self, source_id: str, state: dict[str, Any], snapshot: Snapshot | None = None,
               changes: Sequence[ChangeRecord] = (), restamp: SnapshotHead | None = None) -> None:
        """One source's pass, all or nothing: its state, its new snapshot (or new validators and definition for the
        stored one: `restamp`), its changes and their outbox rows."""
        with self.db.atomic():
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
        if self._batch is not None:
            count, started = self._batch
            if count + 1 >= BATCH_RECORDS or time.monotonic() - started >= BATCH_SECONDS:
                self.db.conn.execute("COMMIT")
                self.db.conn.execute("BEGIN")
                self._batch = (0, time.monotonic())
            else:
                self._batch = (count + 1, started)

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Group the `record`s made meanwhile into one transaction per BATCH_RECORDS sources or BATCH_SECONDS: far
        fewer commits, and each source's rows still commit together or not at all (a `record` is a savepoint in the
        batch). Whatever was recorded is committed when the block ends, however it ends."""
        if self._batch is not None or self.db.conn.in_transaction:
            yield
            return
        self.db.conn.execute("BEGIN")
        self._batch = (0, time.monotonic())
        try:
            yield
        finally:
            self._batch = None
            if self.db.conn.in_transaction:
                self.db.conn.execute("COMMIT")

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

    def add_changes(self, changes: Sequence[ChangeRecord]) -> None:
        """Changes from no source's pass (the worker's notice that a sources.yaml edit was refused), with their
        outbox rows, all or nothing. Unlike `record`, no row appears in `sources` (and so in `monitor status`)."""
        with self.db.atomic():
            for change in changes:
                self._insert_change(change)

    def _insert_change(self, c: ChangeRecord) -> None:
        self.db.execute(
            "INSERT INTO changes (id, source_id, source_name, jurisdiction, url, detected_at, kind, alert, event, "
            "severity, direction, measure, summary, added, removed, explanation) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [c.id, c.source, c.source_name, c.jurisdiction, c.url, c.detected_at, c.kind, int(c.alert), c.event,
             c.severity, c.direction, c.measure, c.summary, json.dumps(c.added, ensure_ascii=False),
             json.dumps(c.removed, ensure_ascii=False), json.dumps(c.explanation, ensure_ascii=False)])
        if c.alert:
            from .detect.measures import measure_key

            key = measure_key(c.measure) if c.kind == "legal" else ""
            thread_key = f"{c.jurisdiction}:{key}" if key else ""  # one thread per measure, whichever source saw it
            for channel in c.channels or ("",):
                self.db.execute(
                    "INSERT INTO outbox (change_id, channel, thread_key, created_at, status, attempts, "
                    "next_attempt_at) VALUES (?, ?, ?, ?, 'pending', 0, ?)",
                    [c.id, channel, thread_key, c.detected_at, c.detected_at])

    # -- outbox ---------------------------------------------------------------------------------------------
    def due_outbox(self, limit: int = 200) -> list[OutboxItem]:
        """Rows still to send, oldest first: pending ones, and 'sending' ones whose sender may have died.
        Whether each may be sent now is `claim`'s decision."""
        rows = self.db.query(
            "SELECT o.id AS outbox_id, o.channel, o.attempts, o.thread_key, o.next_attempt_at, s.url AS source_url, "
            "c.* FROM outbox o "
            "JOIN changes c ON c.id = o.change_id LEFT JOIN sources s ON s.id = c.source_id "
            "WHERE o.status IN ('pending', 'sending') ORDER BY o.id LIMIT ?", [limit])
        return [OutboxItem(id=r["outbox_id"], change=ChangeRecord.from_row(r), channel=r["channel"] or "",
                           attempts=r["attempts"], thread_key=r["thread_key"] or "",
                           next_attempt_at=r["next_attempt_at"] or "", link=r["source_url"])
                for r in rows]

    def claim(self, outbox_id: int, now: datetime, lease: timedelta, force: bool = False) -> bool:
        """Take a row for sending, atomically, for `lease`: False while it waits out a backoff (unless `force`) or
        another process is sending it. A sender that dies leaves the row to be retried when the lease ends."""
        cur = self.db.execute(
            "UPDATE outbox SET status = 'sending', next_attempt_at = ? WHERE id = ? AND "
            "((status = 'pending' AND (? OR next_attempt_at <= ?)) OR (status = 'sending' AND next_attempt_at <= ?))",
            [iso(now + lease), outbox_id, int(force), iso(now), iso(now)])
        return cur.rowcount == 1

    def outbox_counts(self) -> dict[str, int]:
        return {r["status"]: r["n"] for r in self.db.query("SELECT status, count(*) AS n FROM outbox GROUP BY status")}

    def undelivered(self, limit: int = 20) -> list[dict[str, Any]]:
        """Rows not yet delivered, oldest first, with what went wrong: for `monitor status`."""
        return list(self.db.query(
            "SELECT o.change_id, o.channel, o.status, o.attempts, o.next_attempt_at, o.last_error, c.summary "
            "FROM outbox o JOIN changes c ON c.id = o.change_id WHERE o.status != 'delivered' ORDER BY o.id LIMIT ?",
            [limit]))

    def mark_delivered(self, outbox_id: int, now: datetime, ts: str | None, channel_id: str | None) -> None:
        self.db.execute("UPDATE outbox SET status = 'delivered', delivered_at = ?, ts = ?, channel_id = ?, "
                        "attempts = attempts + 1, last_error = NULL WHERE id = ?",
                        [iso(now), ts, channel_id, outbox_id])

    def mark_attempt_failed(self, outbox_id: int, error: str, next_attempt: datetime, permanent: bool) -> None:
        """Back in line at `next_attempt`, or held (permanent) until released: never dropped."""
        self.db.execute("UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?, "
                        "status = ? WHERE id = ?",
                        [error[:500], iso(next_attempt), "held" if permanent else "pending", outbox_id])

    def release_held(self, now: datetime) -> int:
        """Put rows held for a permanent error (bad token, missing channel) back in line; returns how many."""
        cur = self.db.execute("UPDATE outbox SET status = 'pending', next_attempt_at = ? WHERE status = 'held'",
                              [iso(now)])
        return cur.rowcount

    def swap_destination(self, fingerprint: str) -> bool:
        """Remember the delivery settings' fingerprint; True when it differs from a previously stored one."""
        row = self.db.execute("SELECT value FROM meta WHERE key = 'delivery_destination'").fetchone()
        if row and row[0] == fingerprint:
            return False
        self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('delivery_destination', ?)", [fingerprint])
        return row is not None

    def thread_ts(self, destination: str, thread_key: str) -> str | None:
        if not thread_key:
            return None
        row = self.db.execute("SELECT ts FROM threads WHERE channel = ? AND thread_key = ?",
                              [destination, thread_key]).fetchone()
        return row[0] if row else None

    def set_thread(self, destination: str, thread_key: str, ts: str) -> None:
        """The first alert about a measure in a channel starts its thread; later ones reply there."""
        if thread_key and ts:
            self.db.execute("INSERT OR IGNORE INTO threads (channel, thread_key, ts) VALUES (?, ?, ?)",
                            [destination, thread_key, ts])

    # -- reading --------------------------------------------------------------------------------------------
    def change(self, change_id: str) -> ChangeRecord | None:
        rows = list(self.db.query("SELECT * FROM changes WHERE id = ?", [change_id]))
        if not rows:
            prefix = change_id.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            rows = list(self.db.query("SELECT * FROM changes WHERE id LIKE ? ESCAPE '\\' ORDER BY id LIMIT 2",
                                      [prefix + "%"]))
            if len(rows) != 1:
                return None
        return ChangeRecord.from_row(rows[0])

    def deliveries(self, change_id: str) -> list[dict[str, Any]]:
        return list(self.db.query("SELECT channel, status, attempts, ts, delivered_at, last_error FROM outbox "
                                  "WHERE change_id = ? ORDER BY id", [change_id]))

    def history(self, source_id: str | None = None, limit: int = 20) -> list[ChangeRecord]:
        where, params = ("WHERE source_id = ?", [source_id]) if source_id else ("", [])
        rows = self.db.query(f"SELECT * FROM changes {where} ORDER BY detected_at DESC, id DESC LIMIT ?",
                             [*params, limit])
        return [ChangeRecord.from_row(r) for r in rows]

    def sources(self) -> list[dict[str, Any]]:
        return list(self.db.query("SELECT * FROM sources ORDER BY id"))

    def latest_legal_by_jurisdiction(self) -> list[dict[str, Any]]:
        return list(self.db.query(
            "SELECT jurisdiction, event, severity, summary, detected_at, id FROM changes c WHERE kind = 'legal' AND "
            "id = (SELECT id FROM changes d WHERE d.kind = 'legal' AND d.jurisdiction = c.jurisdiction "
            "ORDER BY detected_at DESC, id DESC LIMIT 1) ORDER BY jurisdiction"))

    def set_schedule(self, next_runs: Iterable[tuple[str, str | None]]) -> None:
        with self.db.atomic():
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
    """Snapshots remember the blocks that left the page lately; sources count their good checks, the clock those
    blocks are remembered by (see diff.remember_vanished)."""
    db.execute("ALTER TABLE snapshots ADD COLUMN vanished TEXT")
    db.execute("ALTER TABLE sources ADD COLUMN ok_checks INTEGER DEFAULT 0")


MIGRATIONS = {1: _migrate_1, 2: _migrate_2, 3: _migrate_3, 4: _migrate_4}
