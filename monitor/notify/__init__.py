"""Delivering stored alerts: the outbox is drained oldest first, to Slack when configured, else to the console.

The outbox (written with the change, in one transaction) is the source of truth. A row is claimed before it is
sent and marked delivered as soon as the destination confirms, so a crash can repeat at most the one message in
flight and never loses one. A row left claimed by a process that has died is released by the next drain, in any
process; a row a live process is sending holds up only the rows behind it for the same destination. When Slack is
down the whole queue waits (backoff on its oldest row), so alerts arrive in order; a refusal that retrying cannot
fix (bad token, unknown channel) holds the row and tells the operator.
Held rows go back in line when the Slack settings change (a fingerprint, never the secret, is kept to notice) or
on `monitor deliver --retry-held`.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Mapping, Protocol

from ..config import Settings
from ..models import severity_rank
from ..store import ChangeRecord, OutboxItem, Store, iso, new_change_id

log = logging.getLogger("monitor.notify")
FIRST_BACKOFF = timedelta(minutes=1)  # doubles per failed attempt of the oldest row
MAX_BACKOFF = timedelta(hours=1)
LEASE = timedelta(minutes=10)  # longer than one send can take (timeouts, a short 429 wait, a resend)
PASS_BUDGET = timedelta(minutes=2)  # a check pass stops delivering after this; the rest goes next pass


@dataclass(frozen=True)
class Delivery:
    """What one send came to. `error` is for the operator and never contains a secret."""

    ok: bool
    ts: str | None = None
    channel_id: str | None = None
    error: str = ""
    permanent: bool = False  # retrying cannot help until someone fixes the cause: the row is held
    workspace: bool = False  # the refusal covers every channel (a bad token, a revoked webhook)
    retry_after: float | None = None  # seconds Slack asked us to wait (429)


class Notifier(Protocol):
    name: str
    fingerprint: str  # a digest of the destination settings ("" for the console): held rows retry when it changes

    def destination(self, channel: str) -> str:
        """Where a row for `channel` ("" = default) really goes: the key for threads and duplicate routes."""

    def send(self, change: ChangeRecord, channel: str, thread_ts: str | None, link: str | None) -> Delivery: ...


def route(settings: Settings, change: ChangeRecord) -> tuple[str, ...]:
    """Channels for a change: "" is the default channel; routes add channels by severity and jurisdiction prefix
    ("US" matches US-FL); operational notices go to settings.ops_channel when set."""
    if change.kind == "operational":
        return (settings.ops_channel or "",)
    channels = [""]
    for r in settings.routes:
        if severity_rank(change.severity) >= severity_rank(r.min_severity) and \
                (not r.jurisdiction or change.jurisdiction == r.jurisdiction
                 or change.jurisdiction.startswith(r.jurisdiction + "-")):
            channels.append(r.channel)
    return tuple(dict.fromkeys(channels))


@dataclass
class DeliveryReport:
    delivered: int = 0
    retry_at: datetime | None = None  # when the queue is next tried, if a failure or a backoff stopped this call
    released: int = 0
    pending: int = 0  # left in the outbox after this call
    held_total: int = 0

    def reminder(self) -> str:
        """For `monitor check`/`deliver`: what still waits, and what the operator can do about it."""
        parts = []
        if self.pending:
            when = f" (next try after {self.retry_at:%H:%M:%S} UTC)" if self.retry_at else ""
            parts.append(f"{self.pending} alert(s) wait in the outbox{when}; `monitor deliver` tries now")
        if self.held_total:
            parts.append(f"{self.held_total} alert(s) are held after Slack refused them (`monitor status` says why); "
                         "fix the cause, then run `monitor deliver --retry-held`")
        return "; ".join(parts)


def next_attempt_delay(attempts: int, retry_after: float | None) -> timedelta:
    if retry_after:
        return timedelta(seconds=retry_after)
    return min(MAX_BACKOFF, FIRST_BACKOFF * 2 ** min(attempts, 10))


def deliver_pending(store: Store, notifier: Notifier, now: Callable[[], datetime], *, force: bool = False,
                    retry_held: bool = False, budget: timedelta = PASS_BUDGET, limit: int = 200) -> DeliveryReport:
    """Send outbox rows oldest first; each is marked delivered the moment the destination confirms it. Stops at
    the first transient failure (Slack is down: everything waits) or when `budget` is spent. A row that cannot be
    claimed (its backoff, or a live process sending it) holds up the rows behind it for its destination only.
    Rows left 'sending' by a dead process are released first. `force` ignores the backoff (`monitor deliver`);
    `retry_held` releases held rows first."""
    report = DeliveryReport()
    for change_id, claimant in store.release_orphans(now()):
        log.warning("alert %s was being sent by pid %d, which has ended: it is sent again (it may arrive twice)",
                    change_id, claimant.pid)
    if notifier.fingerprint and store.swap_destination(notifier.fingerprint) or retry_held:
        report.released = store.release_held(now())
        if report.released:
            log.info("%d held alert(s) will be tried again", report.released)
    refused: dict[str, str] = {}  # destination ("*" = all) -> the refusal seen in this call
    waiting: set[str] = set()  # destinations whose oldest row cannot be sent now: the rows behind it wait too
    deadline = now() + budget
    for item in store.due_outbox(limit):
        started = now()
        if started > deadline:
            break
        destination = notifier.destination(item.channel)
        if destination in waiting:
            continue
        if not store.claim(item.id, started, LEASE, force):  # waiting out a backoff, or being sent by another
            waiting.add(destination)  # process: that channel's later rows wait, so its order is kept; the
            due = _parse(item.next_attempt_at)  # other channels go on
            if item.status == "pending" and due and due > started:
                report.retry_at = min(report.retry_at or due, due)
            continue
        earlier = _delivered_to(store, notifier, item, destination)
        if earlier is not None:  # two routes that lead to one channel: one message
            store.mark_delivered(item.id, started, earlier or None, None)
            continue
        if refused.get("*") or refused.get(destination):  # refused moments ago: no need to ask again
            _hold(store, item, refused.get("*") or refused[destination], started)
            continue
        thread = store.thread_ts(destination, item.thread_key)
        result = notifier.send(item.change, item.channel, thread, item.link)
        if result.ok:
            store.mark_delivered(item.id, now(), result.ts, result.channel_id)
            if result.ts and not thread:
                store.set_thread(destination, item.thread_key, result.ts)
            report.delivered += 1
        elif result.permanent:
            refused["*" if result.workspace else destination] = result.error
            _hold(store, item, result.error, now())
        else:
            report.retry_at = now() + next_attempt_delay(item.attempts, result.retry_after)
            store.mark_attempt_failed(item.id, result.error, report.retry_at, permanent=False)
            log.warning("alert %s not delivered, kept in the outbox: %s; next try after %s", item.change.id,
                        result.error, f"{report.retry_at:%H:%M:%S} UTC")
            break
    counts = store.outbox_counts()
    report.pending = counts.get("pending", 0) + counts.get("sending", 0)
    report.held_total = counts.get("held", 0)
    return report


def _parse(stamp: str) -> datetime | None:
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None


def _hold(store: Store, item: OutboxItem, error: str, when: datetime) -> None:
    """Keep the row until someone fixes the cause, and say so (stderr for `monitor check`, the worker's log)."""
    store.mark_attempt_failed(item.id, error, when, permanent=True)
    log.error("alert %s held: %s", item.change.id, error)


def _delivered_to(store: Store, notifier: Notifier, item: OutboxItem, destination: str) -> str | None:
    """The ts ("" if none) of this change's delivery to the same destination by another row, else None."""
    for d in store.deliveries(item.change.id):
        if d["status"] == "delivered" and notifier.destination(d["channel"] or "") == destination:
            return d["ts"] or ""
    return None


def probe_alert(now: datetime) -> ChangeRecord:
    """What `monitor test-slack` posts: an operational notice that says plainly no law changed."""
    return ChangeRecord(
        id=new_change_id(now), source="monitor", jurisdiction="US", url="", kind="operational", alert=True,
        event="test", severity="info", summary="Test message from `monitor test-slack`: Slack delivery works. "
                                               "No legal change is reported.",
        added=[], removed=[], detected_at=iso(now), source_name="kratom-monitor test")


def make_notifier(env: Mapping[str, str], stream=None) -> Notifier:
    """Slack when SLACK_BOT_TOKEN+SLACK_CHANNEL or SLACK_WEBHOOK_URL is set, else the console."""
    from .console import ConsoleNotifier

    if env.get("SLACK_BOT_TOKEN") and env.get("SLACK_CHANNEL"):
        from .slack import SlackBotNotifier  # slack_sdk only when Slack is configured

        return SlackBotNotifier(env["SLACK_BOT_TOKEN"], env["SLACK_CHANNEL"], env.get("SLACK_API_URL"))
    if env.get("SLACK_WEBHOOK_URL"):
        from .slack import SlackWebhookNotifier

        return SlackWebhookNotifier(env["SLACK_WEBHOOK_URL"])
    half = [k for k in ("SLACK_BOT_TOKEN", "SLACK_CHANNEL") if env.get(k)]
    if half:
        log.warning("%s is set but %s is not: alerts go to the console, not Slack", half[0],
                    "SLACK_CHANNEL" if half[0] == "SLACK_BOT_TOKEN" else "SLACK_BOT_TOKEN")
    return ConsoleNotifier(stream)
