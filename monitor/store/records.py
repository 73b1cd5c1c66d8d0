"""The records the state holds and hands out: snapshots, changes and outbox rows, and the small helpers that name
and time them."""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from ..models import Block, Vanished


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
