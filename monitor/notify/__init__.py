"""Delivering stored alerts: the outbox is drained oldest first, to Slack when configured, else to the console.

A row is marked delivered only after the destination confirmed it; a failure is retried later with backoff, and a
permanent failure (bad token, unknown channel) is held and reported instead of retried in a hot loop.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Mapping, Protocol

from ..config import Settings
from ..models import severity_rank
from ..store import ChangeRecord, Store

log = logging.getLogger("monitor.notify")
MAX_BACKOFF = timedelta(hours=1)


@dataclass(frozen=True)
class Delivery:
    ok: bool
    ts: str | None = None
    channel_id: str | None = None
    error: str = ""
    permanent: bool = False
    retry_after: float | None = None


class Notifier(Protocol):
    name: str

    def send(self, change: ChangeRecord, channel: str, thread_ts: str | None) -> Delivery: ...


def route(settings: Settings, change: ChangeRecord) -> tuple[str, ...]:
    """Channels for a change: "" is the default channel; routes add channels by severity and jurisdiction."""
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
    failed: int = 0
    held: int = 0
    errors: list[str] = None  # type: ignore[assignment]

    def __post_init__(self):
        self.errors = self.errors or []


def deliver_pending(store: Store, notifier: Notifier, now: Callable[[], datetime], limit: int = 200) -> DeliveryReport:
    """Send due outbox rows oldest first. Stops at the first transient failure: the destination is down."""
    report = DeliveryReport()
    for item in store.due_outbox(now(), limit):
        thread = store.thread_ts(item.channel, item.thread_key)
        result = notifier.send(item.change, item.channel, thread)
        if result.ok:
            store.mark_delivered(item.id, now(), result.ts, result.channel_id)
            if result.ts and not thread:
                store.set_thread(item.channel, item.thread_key, result.ts)
            report.delivered += 1
            continue
        backoff = timedelta(seconds=result.retry_after) if result.retry_after else \
            min(MAX_BACKOFF, timedelta(seconds=30 * 2 ** min(item.attempts, 7)))
        store.mark_attempt_failed(item.id, result.error, now() + backoff, result.permanent)
        report.errors.append(result.error)
        if result.permanent:
            report.held += 1
            log.error("alert %s held: %s", item.change.id, result.error)
            continue
        report.failed += 1
        log.warning("alert %s not delivered, will retry: %s", item.change.id, result.error)
        break
    return report


def make_notifier(env: Mapping[str, str], stream=None) -> Notifier:
    """Slack when SLACK_BOT_TOKEN+SLACK_CHANNEL or SLACK_WEBHOOK_URL is set, else the console."""
    from .console import ConsoleNotifier
    from .slack import SlackBotNotifier, SlackWebhookNotifier

    if env.get("SLACK_BOT_TOKEN") and env.get("SLACK_CHANNEL"):
        return SlackBotNotifier(env["SLACK_BOT_TOKEN"], env["SLACK_CHANNEL"], env.get("SLACK_API_URL"))
    if env.get("SLACK_WEBHOOK_URL"):
        return SlackWebhookNotifier(env["SLACK_WEBHOOK_URL"])
    return ConsoleNotifier(stream)
