"""Failures that share a cause are one incident: one notice when it starts, one when it is over.

When the network goes down every source fails, and a notice per source would bury the one thing the operator needs
to read: "every source fails to resolve: is the network or DNS down?". The pipeline records each failure with the
cause it may share with others (monitor/causes.py) as its group, and alerts none of those itself; this module reads
the failing sources from the store and, per cause:

- opens an incident when a source first fails that way, and announces it once a source of it has failed
  failure_threshold checks in a row and GROUP_WINDOW more seconds have passed (at most the source's interval), so
  the sources failing together are named in one notice. `monitor check` waits for no window: its pass has checked
  every source already. An incident that is over before it is announced (a blip) is dropped silently;
- announces it as a group (the hosts, how many sources each holds, what it means, what to try) or, when only one
  source fails, as that source's own failure, the same `source_failing` change a failure with no group gets;
- tells once more about hosts that start failing the same way later, until WIDE_HOSTS hosts are named: past that
  the cause is not about any host (the network, a proxy, a firewall) and more hosts add nothing;
- closes it with one recovery notice when its hosts work again. A host counts as working again when none of its
  sources is still failing that way, or when those still marked failing last failed STALE seconds or more before a
  good check on the host (they are not due yet; a source that fails again opens a new incident). For causes of the
  network itself (name resolution, no route), the hosts recover together: the incident is over when more of its
  sources are checked well than still fail.

Incidents live in the store (table `incidents`), so a restarted worker carries on with the open ones instead of
announcing them again, and `monitor check` and the worker share them. `flush` runs in one write transaction.
"""
from __future__ import annotations

import json
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable

from .causes import CAUSES, host_failure
from .config import Config
from .fetch import host_of
from .notify import route
from .notify.grouping import HostFailures, failing_notice, recovered_notice, spreading_notice
from .store import ChangeRecord, Store, iso, new_change_id
from .store.files import transaction

log = logging.getLogger("monitor.incidents")

GROUP_WINDOW = 60.0  # seconds a first notice waits for other sources failing the same way (capped at the interval)
WIDE_HOSTS = 3  # once an incident names this many hosts, hosts joining it later are not announced
STALE = 600.0  # a source whose last failure is this much older than a good check on its host no longer holds it


@dataclass
class Incident:
    """One spell of failures sharing `cause`. `members`: every source that failed that way during it, with its host;
    `announced_hosts`: the hosts notices have named; `lone`: the source it was announced as, when it was alone."""

    id: str
    cause: str
    opened_at: str
    due_at: str | None = None
    announced_at: str | None = None
    members: dict[str, str] = field(default_factory=dict)
    announced_hosts: list[str] = field(default_factory=list)
    lone: str | None = None
    notices: int = 0


@dataclass(frozen=True)
class Member:
    """A member source as the store has it now. `failing`: still failing with the incident's cause; `healthy`: its
    last check was good (not merely failing in another way, or no longer watched)."""

    id: str
    host: str
    failing: bool
    healthy: bool
    failures: int
    last_checked: str
    last_ok: str | None
    interval: float


@dataclass
class IncidentReport:
    """What one flush queued: `notices` (group notices and the changes alerted on their own), `promoted` the ids of
    per-source changes recorded without an alert that now carry one (a failure that turned out to be alone)."""

    notices: list[ChangeRecord] = field(default_factory=list)
    promoted: set[str] = field(default_factory=set)


class Incidents:
    def __init__(self, store: Store, clock: Callable[[], datetime]):
        self.store = store
        self.clock = clock

    def flush(self, config: Config, settle: bool = False) -> IncidentReport:
        """Open, announce, extend and close incidents from the sources' current state. `settle`: every source was
        just checked (the end of a `monitor check` pass), so announce without waiting for the window."""
        now = self.clock()
        report = IncidentReport()
        if not self._anything():
            return report  # the usual case: no write lock taken every few seconds for nothing
        with self._transaction():
            incidents = {i.cause: i for i in self._open()}
            failing = self._rows("failure_group IS NOT NULL AND consecutive_failures > 0")
            members = {sid for i in incidents.values() for sid in i.members}
            rows = {r["id"]: r for r in failing}
            rows.update((r["id"], r) for r in self._rows("id IN (SELECT value FROM json_each(?))",
                                                         [json.dumps(sorted(members - set(rows)))]))
            for cause in sorted(set(incidents) | {r["failure_group"] for r in failing}):
                if cause in CAUSES:  # else written by a newer monitor: left to it
                    _Step(self.store, config, now, settle, report).run(cause, incidents.get(cause), rows)
        return report

    # -- storage --------------------------------------------------------------------------------------------
    def _transaction(self):
        """One write transaction, taken before reading (BEGIN IMMEDIATE): a worker and a `monitor check` flushing at
        once never both announce an incident."""
        return transaction(self.store.db)

    def _anything(self) -> bool:
        return self.store.db.execute(
            "SELECT EXISTS (SELECT 1 FROM incidents WHERE closed_at IS NULL) OR EXISTS (SELECT 1 FROM sources WHERE "
            "failure_group IS NOT NULL AND consecutive_failures > 0)").fetchone()[0] == 1

    def _rows(self, where: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
        return list(self.store.db.query(
            "SELECT id, failure_group, failure_host, consecutive_failures, last_checked, last_ok, last_error, "
            f"failing_since FROM sources WHERE {where}", params or []))

    def _open(self) -> list[Incident]:
        return [_incident(r) for r in self.store.db.query("SELECT * FROM incidents WHERE closed_at IS NULL")]

    def open_incidents(self) -> list[Incident]:
        """For `monitor status` and tests: the incidents not closed yet."""
        return self._open()


def flush_after_pass(store: Store, config: Config, clock: Callable[[], datetime]) -> set[str]:
    """`monitor check`'s flush once its pass is recorded: the promoted change ids. Its records are committed by
    then, so a failure here loses nothing; it is logged and the next pass (or the worker) flushes again."""
    try:
        return Incidents(store, clock).flush(config, settle=True).promoted
    except Exception:  # noqa: BLE001 - the pass itself went well; its exit code must say so
        log.exception("could not bring the failure incidents up to date; the next pass will")
        return set()


class _Step:
    """One cause's incident brought up to date within a flush."""

    def __init__(self, store: Store, config: Config, now: datetime, settle: bool, report: IncidentReport):
        self.store, self.config, self.now, self.settle, self.report = store, config, now, settle, report
        self.enabled = {s.id: s for s in config.enabled}

    def run(self, cause: str, incident: Incident | None, rows: dict[str, dict[str, Any]]) -> None:
        released = self.released = self._released(cause)
        joining = {sid: r["failure_host"] or host_of(self.enabled[sid].url) for sid, r in rows.items()
                   if self._failing(r, cause, released)}
        if incident is None:
            if not joining:
                return
            since = min((rows[sid]["failing_since"] or iso(self.now) for sid in joining), default=iso(self.now))
            incident = Incident(id=new_change_id(self.now), cause=cause, opened_at=since)
        incident.members.update(joining)
        members = [self._member(sid, host, rows.get(sid), cause, released) for sid, host in incident.members.items()]
        failing = [m for m in members if m.failing]
        threshold = self.config.settings.failure_threshold
        if incident.announced_at is None:
            if not failing:  # over before anyone was told: a blip
                self.store.db.execute("DELETE FROM incidents WHERE id = ?", [incident.id])
                return
            reached = [m for m in failing if m.failures >= threshold]
            if reached and incident.due_at is None:
                wait = 0.0 if self.settle else min(GROUP_WINDOW, min(m.interval for m in reached))
                incident.due_at = iso(self.now + timedelta(seconds=wait))
            if reached and (self.settle or incident.due_at <= iso(self.now)):
                self._announce(incident, failing, rows)
        elif _recovered(CAUSES[cause].network, members):
            self._close(incident, members, rows)
            return
        else:
            new = {m.host for m in failing if m.host not in incident.announced_hosts and m.failures >= threshold}
            if new and len(incident.announced_hosts) < WIDE_HOSTS:
                self._spread(incident, [m for m in failing if m.host not in incident.announced_hosts], rows)
        self._save(incident)

    # -- members --------------------------------------------------------------------------------------------
    def _failing(self, row: dict[str, Any] | None, cause: str, released: str | None) -> bool:
        """Failing with `cause` now, still watched, and failed since the last incident of the cause closed (a
        source that was not due again by then is not held against the next one until it is checked again)."""
        return bool(row and row["failure_group"] == cause and (row["consecutive_failures"] or 0) > 0
                    and row["id"] in self.enabled and (released is None or (row["last_checked"] or "") >= released))

    def _member(self, sid: str, host: str, row: dict[str, Any] | None, cause: str, released: str | None) -> Member:
        source, row = self.enabled.get(sid), row or {}
        failures = int(row.get("consecutive_failures") or 0)
        return Member(sid, host, self._failing(row, cause, released), bool(row) and source is not None and not failures,
                      failures, row.get("last_checked") or "", row.get("last_ok"),
                      source.interval if source else self.config.settings.interval)

    def _released(self, cause: str) -> str | None:
        row = self.store.db.execute("SELECT max(closed_at) FROM incidents WHERE cause = ?", [cause]).fetchone()
        return row[0] if row else None

    def _hosts(self, failing: list[Member]) -> list[HostFailures]:
        """Failing sources by host, most first; with how many enabled sources each host holds."""
        watched: dict[str, int] = defaultdict(int)
        for s in self.enabled.values():
            watched[host_of(s.url)] += 1
        by_host: dict[str, list[str]] = defaultdict(list)
        for m in failing:
            by_host[m.host].append(m.id)
        return sorted((HostFailures(h, tuple(sorted(ids)), max(watched[h], len(ids))) for h, ids in by_host.items()),
                      key=lambda h: (-h.count, h.host))

    # -- notices --------------------------------------------------------------------------------------------
    def _announce(self, incident: Incident, failing: list[Member], rows: dict[str, dict[str, Any]]) -> None:
        incident.announced_at = iso(self.now)
        incident.announced_hosts = sorted({m.host for m in failing})
        errors = {sid: r["last_error"] for sid, r in rows.items() if r.get("last_error")}
        if len(failing) == 1:
            incident.lone = failing[0].id
            since = max(incident.opened_at, self.released or "")  # not a change of an earlier incident's
            self._alone(incident, failing[0], "source_failing", since, rows.get(failing[0].id) or {})
        else:
            self._queue(failing_notice(incident.cause, self._hosts(failing), errors, self.now))
        incident.notices += 1
        log.warning("%s: %s", incident.cause, self.report.notices[-1].summary)

    def _spread(self, incident: Incident, new: list[Member], rows: dict[str, dict[str, Any]]) -> None:
        errors = {sid: r["last_error"] for sid, r in rows.items() if r.get("last_error")}
        notice = spreading_notice(incident.cause, self._hosts(new), incident.announced_hosts, errors, self.now)
        incident.announced_hosts = sorted(set(incident.announced_hosts) | {m.host for m in new})
        incident.lone = None
        incident.notices += 1
        self._queue(notice)
        log.warning("%s: %s", incident.cause, notice.summary)

    def _close(self, incident: Incident, members: list[Member], rows: dict[str, dict[str, Any]]) -> None:
        ok = [m for m in members if m.healthy and m.last_ok and m.last_ok >= incident.opened_at]
        elsewhere = sum(1 for m in members if m.failures and not m.failing and m.id in self.enabled
                        and (rows.get(m.id) or {}).get("failure_group") != incident.cause)
        if incident.lone and set(incident.members) == {incident.lone} and ok:
            self._alone(incident, ok[0], "source_recovered", incident.announced_at or incident.opened_at, {})
        else:
            hosts = sorted({m.host for m in members})
            gone = sum(1 for m in members if m.id not in self.enabled)
            self._queue(recovered_notice(incident.cause, hosts, len(ok), elsewhere, gone, _time(incident.opened_at),
                                         self.now))
        self.store.db.execute("UPDATE incidents SET closed_at = ?, notices = notices + 1, members = ? WHERE id = ?",
                              [iso(self.now), json.dumps(incident.members), incident.id])
        log.info("%s: %s", incident.cause, self.report.notices[-1].summary)

    def _alone(self, incident: Incident, member: Member, event: str, since: str, row: dict[str, Any]) -> None:
        """A source alone in its incident is reported as itself: the change its check recorded without an alert is
        alerted now (one change, as for a failure with no group), or a new one when there is none."""
        found = self.store.db.execute(
            "SELECT id FROM changes WHERE source_id = ? AND event = ? AND failure_group = ? AND alert = 0 AND "
            "detected_at >= ? ORDER BY detected_at DESC, id DESC LIMIT 1",
            [member.id, event, incident.cause, since]).fetchone()
        change = self.store.change(found[0]) if found else None
        if change is not None:
            change.alert = True
            change.channels = route(self.config.settings, change)
            self.store.promote(change)
            self.report.promoted.add(change.id)
            self.report.notices.append(change)
            return
        source = self.enabled.get(member.id)
        title = source.title if source else member.id
        what = (f"has failed {member.failures} checks in a row: {host_failure(incident.cause, member.host)}"
                if event == "source_failing" else f"is being checked again ({CAUSES[incident.cause].label.lower()} "
                                                   f"is over on {member.host})")
        change = ChangeRecord(id=new_change_id(self.now), source=member.id,
                              jurisdiction=source.jurisdiction if source else "", url=source.url if source else "",
                              kind="operational", alert=True, event=event,
                              severity="high" if event == "source_failing" else "medium", summary=f"{title} {what}",
                              added=[row["last_error"]] if row.get("last_error") else [], removed=[],
                              detected_at=iso(self.now), source_name=title, group=incident.cause)
        self._queue(change)

    def _queue(self, change: ChangeRecord) -> None:
        change.channels = route(self.config.settings, change)
        self.store.add_changes([change])
        self.report.notices.append(change)

    def _save(self, incident: Incident) -> None:
        self.store.db.execute(
            "INSERT OR REPLACE INTO incidents (id, cause, opened_at, due_at, announced_at, closed_at, members, "
            "announced_hosts, lone, notices) VALUES (?, ?, ?, ?, ?, NULL, ?, ?, ?, ?)",
            [incident.id, incident.cause, incident.opened_at, incident.due_at, incident.announced_at,
             json.dumps(incident.members), json.dumps(incident.announced_hosts), incident.lone, incident.notices])


def _recovered(network: bool, members: list[Member]) -> bool:
    """Whether the incident is over (see the module's docstring): per host, or for the network as a whole."""
    scopes: dict[str, list[Member]] = defaultdict(list)
    for m in members:
        scopes["*" if network else m.host].append(m)
    for scope in scopes.values():
        failing = [m for m in scope if m.failing]
        if not failing:
            continue
        oks = [m for m in scope if m.healthy and m.last_ok]
        if not oks:
            return False
        latest = _time(max(m.last_ok for m in oks))
        still = [m for m in failing if _time(m.last_checked) > latest - timedelta(seconds=STALE)]
        if still and not (network and len(oks) > len(still)):
            return False
    return True


def _time(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def _incident(row: dict[str, Any]) -> Incident:
    return Incident(id=row["id"], cause=row["cause"], opened_at=row["opened_at"], due_at=row["due_at"],
                    announced_at=row["announced_at"], members=json.loads(row["members"] or "{}"),
                    announced_hosts=json.loads(row["announced_hosts"] or "[]"), lone=row["lone"],
                    notices=int(row["notices"] or 0))
