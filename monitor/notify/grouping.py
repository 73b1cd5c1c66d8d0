"""The words of the notices that report many failing sources at once (monitor/incidents.py decides when).

One notice names the cause in plain words, the hosts and how many sources each holds, and what to try: "Every
source on 3 hosts fails to resolve: is the network or DNS down?". Lists are bounded (HOSTS_NAMED hosts in the
summary, SOURCES_NAMED sources per host line), so a notice keeps its size whatever the length of the watch list.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..causes import CAUSES
from ..store import ChangeRecord, iso, new_change_id

HOSTS_NAMED = 5  # in a summary; the rest are counted
SOURCES_NAMED = 3  # per host line; the rest are counted
HOST_LINES = 50  # host lines in a notice's evidence (and record); the rest are counted


@dataclass(frozen=True)
class HostFailures:
    """One host in a notice: its failing sources (ids, in order) and how many enabled sources it holds in all."""

    host: str
    sources: tuple[str, ...]
    watched: int

    @property
    def count(self) -> int:
        return len(self.sources)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _names(items: list[str], limit: int, unit: str) -> str:
    """"a, b and c", or "a, b, c and 4 more hosts"."""
    shown = items[:limit]
    rest = len(items) - len(shown)
    if rest:
        return ", ".join(shown) + f" and {rest} more {unit}{'s' if rest > 1 else ''}"
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


def _host_counts(hosts: list[HostFailures]) -> str:
    """"127.0.0.2 (10 sources), 127.0.0.3 (10), 127.0.0.4 (10)": the hosts and how many sources each holds."""
    parts = [f"{h.host} ({_plural(h.count, 'source')})" if i == 0 else f"{h.host} ({h.count})"
             for i, h in enumerate(hosts[:HOSTS_NAMED])]
    rest = hosts[HOSTS_NAMED:]
    if rest:
        parts.append(f"and {_plural(len(rest), 'more host')} ({sum(h.count for h in rest)})")
    return ", ".join(parts)


def _host_lines(hosts: list[HostFailures], errors: dict[str, str]) -> list[str]:
    """One example of the error as the requests met it, then one line per host (HOST_LINES at most)."""
    example = next(((sid, errors[sid]) for h in hosts for sid in h.sources if errors.get(sid)), None)
    lines = [f"last error ({example[0]}): {example[1]}"] if example else []
    for h in hosts[:HOST_LINES]:
        of = (f"{h.count} of {h.watched} sources" if h.watched > h.count else
              f"all {h.count} sources" if h.count > 1 else "its only source")
        lines.append(f"{h.host}: {of} ({_names(list(h.sources), SOURCES_NAMED, 'source')})")
    rest = hosts[HOST_LINES:]
    if rest:
        lines.append(f"and {_plural(len(rest), 'more host')} ({_plural(sum(h.count for h in rest), 'source')})")
    return lines


def _subject(hosts: list[HostFailures]) -> tuple[str, bool]:
    """"Every source on 3 hosts" (singular verb) or "12 sources on 3 hosts" (plural), and which verb form."""
    total = sum(h.count for h in hosts)
    where = hosts[0].host if len(hosts) == 1 else _plural(len(hosts), "host")
    if all(h.count >= h.watched for h in hosts) and total > 1:
        return f"Every source on {where}", True
    return f"{_plural(total, 'source')} on {where}", total == 1


def _sentence(text: str) -> str:
    return text if text.endswith(("?", ".", "!")) else text + "."


def _notice(cause: str, event: str, severity: str, summary: str, added: list[str], name: str,
            now: datetime) -> ChangeRecord:
    return ChangeRecord(id=new_change_id(now), source=f"@{cause}", jurisdiction="", url="", kind="operational",
                        alert=True, event=event, severity=severity, summary=summary, added=added, removed=[],
                        detected_at=iso(now), source_name=name, group=cause)


def failing_notice(cause: str, hosts: list[HostFailures], errors: dict[str, str], now: datetime) -> ChangeRecord:
    """Several sources fail the same way: one notice naming the hosts, what it means and what to try."""
    c = CAUSES[cause]
    subject, singular = _subject(hosts)
    verb = c.sources_fail[0 if singular else 1]
    total = sum(h.count for h in hosts)
    summary = f"{subject} {verb}: {_sentence(c.hint)} {_host_counts(hosts)}"
    name = f"{c.label}: {_plural(len(hosts), 'host')}, {_plural(total, 'source')}"
    return _notice(cause, "sources_failing", "high", summary, _host_lines(hosts, errors), name, now)


def spreading_notice(cause: str, new: list[HostFailures], earlier: list[str], errors: dict[str, str],
                     now: datetime) -> ChangeRecord:
    """More hosts fail the way already reported: said once per new batch of hosts, until the cause is wide."""
    c = CAUSES[cause]
    count = sum(h.count for h in new)
    verb = c.sources_fail[0 if count == 1 else 1]
    where = new[0].host if len(new) == 1 else _plural(len(new), "host")
    summary = (f"Now also {_plural(count, 'source')} on {where} {verb}, as on {_names(earlier, HOSTS_NAMED, 'host')} "
               f"reported before: {_sentence(c.hint)} {_host_counts(new)}")
    name = f"{c.label}: {_plural(len(new) + len(earlier), 'host')} now"
    return _notice(cause, "sources_failing", "high", summary, _host_lines(new, errors), name, now)


def recovered_notice(cause: str, hosts: list[str], ok: int, elsewhere: int, gone: int, since: datetime,
                     now: datetime) -> ChangeRecord:
    """The cause is over: one notice for every host it held, however many sources they hold. `elsewhere`: sources
    that now fail another way (reported on their own); `gone`: sources no longer watched."""
    c = CAUSES[cause]
    verb = c.hosts_recover[0 if len(hosts) == 1 else 1]
    took = _duration((now - since).total_seconds())
    names = _names(hosts, HOSTS_NAMED, "host")
    if ok:
        summary = (f"{names} {verb}: {_plural(ok, 'source')} checked normally again after {took} "
                   f"({c.label.lower()} since {since:%Y-%m-%d %H:%M} UTC)")
    else:  # nothing was checked well: the sources went from the watch list, or fail another way now
        summary = (f"{c.label} on {names} is over after {took}: none of its sources fails that way any more "
                   f"(since {since:%Y-%m-%d %H:%M} UTC)")
    added = [f"{elsewhere} source(s) now fail in another way and are reported on their own"] if elsewhere else []
    added += [f"{gone} source(s) are no longer watched (sources.yaml)"] if gone else []
    name = f"Recovered: {c.label.lower()}, {_plural(len(hosts), 'host')}"
    return _notice(cause, "sources_recovered", "medium", summary, added, name, now)


def _duration(seconds: float) -> str:
    minutes, secs = divmod(max(0, round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days}d{hours:02d}h"
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"
