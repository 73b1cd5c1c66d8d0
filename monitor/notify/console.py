"""Alerts printed for a person at a terminal or in a log: the zero-setup destination."""
from __future__ import annotations

import sys

from ..jurisdictions import jurisdiction_name
from ..store import ChangeRecord
from . import Delivery


def format_change(change: ChangeRecord, max_lines: int = 6) -> str:
    head = (f"[{change.severity.upper()}] {change.event.upper()} · {jurisdiction_name(change.jurisdiction)}"
            if change.kind == "legal" else f"[OPERATIONS] {change.event}")
    lines = [head, f"  {change.summary}", f"  source: {change.source_name or change.source}  {change.url}"]
    if change.measure:
        lines.append(f"  measure: {change.measure}  direction: {change.direction}")
    for sign, items in (("+", change.added), ("-", change.removed)):
        for text in items[:max_lines]:
            lines.append(f"  {sign} {text[:300]}")
        if len(items) > max_lines:
            lines.append(f"  {sign} … {len(items) - max_lines} more")
    lines.append(f"  id: {change.id} (monitor show {change.id})")
    return "\n".join(lines)


class ConsoleNotifier:
    """Prints each alert once. No fingerprint: switching to the console does not release alerts Slack refused."""

    name = "console"
    fingerprint = ""

    def __init__(self, stream=None):
        self.stream = stream

    def destination(self, channel: str) -> str:
        return "console"

    def send(self, change: ChangeRecord, channel: str, thread_ts: str | None, link: str | None) -> Delivery:
        print(format_change(change), file=self.stream or sys.stderr, flush=True)
        return Delivery(ok=True)
