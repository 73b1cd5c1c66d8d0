"""The alert outbox: the rows an alerted change queues, one per channel, and how senders claim, deliver, retry and
release them. The outbox is the source of truth for delivery; a row is marked delivered only after the destination
confirmed, and a row is never dropped."""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlite_utils

from ..claimant import Claimant
from .files import _guarded
from .records import ChangeRecord, OutboxItem, iso


class OutboxMixin:
    """Store's outbox methods. They use the Store's database, path (for messages) and claimant."""

    db: sqlite_utils.Database
    path: Path
    _claimant_text: str

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
