"""Alerts printed for a person at a terminal or in a log: the zero-setup destination.

Page text is shown without its control characters, escape sequences and bidi controls (monitor.safetext): what a
page says must not recolour, clear or retitle the operator's terminal, nor fake a line of the alert.
"""
from __future__ import annotations

import sys
from dataclasses import replace
from typing import Any

from ..jurisdictions import jurisdiction_name
from ..safetext import for_terminal
from ..store import ChangeRecord
from . import Delivery


def printable(change: ChangeRecord) -> ChangeRecord:
    """The change with every text in it (summary, lines, names, the explanation) fit for a terminal."""
    return replace(change, id=for_terminal(change.id), source=for_terminal(change.source),
                   jurisdiction=for_terminal(change.jurisdiction), url=for_terminal(change.url),
                   kind=for_terminal(change.kind), event=for_terminal(change.event),
                   severity=for_terminal(change.severity), summary=for_terminal(change.summary),
                   added=[for_terminal(str(x)) for x in change.added],
                   removed=[for_terminal(str(x)) for x in change.removed],
                   detected_at=for_terminal(change.detected_at), source_name=for_terminal(change.source_name),
                   direction=for_terminal(change.direction),
                   measure=for_terminal(change.measure) if change.measure is not None else None,
                   explanation=printable_tree(change.explanation))


def printable_tree(value: Any) -> Any:
    """Every string in a JSON-like value made fit for a terminal, keys included."""
    if isinstance(value, str):
        return for_terminal(value)
    if isinstance(value, dict):
        return {printable_tree(k): printable_tree(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [printable_tree(v) for v in value]
    return value


def format_change(change: ChangeRecord, max_lines: int = 6) -> str:
    change = printable(change)
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
