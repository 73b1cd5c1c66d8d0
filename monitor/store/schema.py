"""The state's schema: its version, and the step that brings a state from each version to the next.

`MIGRATIONS[n]` takes a state at version n - 1 to version n; `Store._migrate` runs the steps due, in one
BEGIN IMMEDIATE transaction, and records SCHEMA_VERSION. The tables are described in docs/state.md.
"""
from __future__ import annotations

import sqlite_utils

SCHEMA_VERSION = 6


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
