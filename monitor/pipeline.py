"""One check of one source, through every stage: fetch -> extract -> diff -> detect -> store.

The CLI's `check` and the worker both come through here, so a source is judged the same way however it is run.
The clock, the fetcher (its HTTP client) and the executor for CPU work are passed in.
"""
from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Callable

from .causes import failure_cause, host_failure
from .config import Config, Source
from .detect import coming_into_force, detect, passes_threshold
from .diff import carry_over, diff_blocks, recently_vanished, remember_vanished
from .extract import extract
from .extract.budget import Budget
from .expand import EXPANDERS, expand
from .fetch import Fetcher, Validators, host_of
from .models import Diff, FetchResult, Page, Vanished
from .notify import route
from .outcomes import LEGAL, outcome_code
from .store import ChangeRecord, Snapshot, SnapshotHead, StateError, Store, iso, new_change_id

log = logging.getLogger("monitor.pipeline")

# Page problems that mean "this response is not the page": the stored snapshot stays the reference.
FAILURE_PROBLEMS = {"selector_missing", "soft_error", "empty", "unsupported_content", "unsupported_kind",
                    "unparseable", "too_complex"}
# A pass that loses this share of a page's blocks is held as suspicious rather than reported as removals.
SUSPECT_MIN_BLOCKS = 6
SUSPECT_LOST_SHARE = 0.6
# Checks in flight at once, per fetch the fetcher may have in flight: enough to keep fetching while pages are parsed,
# few enough that a long watch list never holds all its snapshots and fetched bodies in memory at once.
CHECKS_PER_FETCH_SLOT = 2
# Kinds whose stored blocks carry effective dates, read even when the source is unchanged (see _in_force).
DATED_KINDS = {"federal_register"}


@dataclass
class Outcome:
    """How one source's check went. status: baseline | unchanged | changed | held | failed (`code` refines it, in
    the vocabulary of monitor/outcomes.py)."""

    source: Source
    status: str
    changes: list[ChangeRecord] = field(default_factory=list)
    error: str | None = None
    error_class: str | None = None
    duration: float = 0.0
    irrelevant: int = 0  # changed blocks judged not about kratom

    @property
    def failed(self) -> bool:
        return self.status == "failed"

    @property
    def code(self) -> str:
        """What is stored as the source's last status and printed by `check` and `status`."""
        return outcome_code(self.status, self.irrelevant)


@dataclass(frozen=True)
class Analysis:
    """The CPU half of a check after the parse (diff, detect), run off the event loop with it."""

    page: Page
    diff: Diff | None
    findings: list
    vanished: tuple[Vanished, ...] = ()  # what the new snapshot remembers of blocks that left the page


def analyse(source: Source, page: Page, previous: Snapshot | None, now: datetime, check: int = 0,
            window: int = 0) -> Analysis:
    """`check`: which good check of the source this is; `window`: for how many checks a block that left the page
    may come back unreported (settings.suspect_passes)."""
    if page.problem or previous is None:
        return Analysis(page, None, [])
    page = carry_over(previous.blocks, page)
    diff = diff_blocks(previous.blocks, page.blocks, recently_vanished(previous.vanished, check, window))
    return Analysis(page, diff, detect(source, diff, now, page, previous.blocks) if diff else [],
                    remember_vanished(previous.vanished, diff, check, window))


class Checker:
    def __init__(self, config: Config, store: Store, fetcher: Fetcher, clock: Callable[[], datetime],
                 executor: Executor | None = None, dry_run: bool = False, inline_bytes: int = 0):
        """`inline_bytes`: bodies up to this size are analysed on the event loop itself, where a batch pass can
        afford to wait a few milliseconds: handing a page to a thread costs more CPU than parsing it there."""
        self.config = config
        self.store = store
        self.fetcher = fetcher
        self.clock = clock
        self.executor = executor
        self.dry_run = dry_run
        self.inline_bytes = inline_bytes
        self.budget = Budget.of(config.settings)
        self._slots = asyncio.Semaphore(CHECKS_PER_FETCH_SLOT * config.settings.concurrency)
        # Source id -> time.monotonic() when its check began, for checks under way: what a progress line names.
        self.in_flight: dict[str, float] = {}

    async def check(self, source: Source) -> Outcome:
        """Check one source. A bug met on the way is recorded as this source's failure, never raised. Checks beyond
        the slots wait their turn before they read or fetch anything."""
        async with self._slots:
            started = self.in_flight[source.id] = time.monotonic()
            try:
                outcome = await self._check(source)
            except StateError:  # the state cannot be written: not this source's failure, and the pass cannot go on
                raise
            except Exception as e:  # noqa: BLE001 - one source's trouble must not stop the pass
                log.exception("internal error while checking %s", source.id)
                message = f"internal error: {type(e).__name__}: {e}"[:500]
                try:
                    state = self.store.source_state(source.id)
                    outcome = self._failure(source, state, self.clock(), "internal_error", message)
                except Exception:  # noqa: BLE001 - the store itself is failing; report, do not raise
                    outcome = Outcome(source, "failed", error=message, error_class="internal_error")
            finally:
                self.in_flight.pop(source.id, None)
            outcome.duration = round(time.monotonic() - started, 3)
            return outcome

    async def _check(self, source: Source) -> Outcome:
        # The stored blocks are read and decoded only when a body must be compared with them: not for a 304, an
        # identical body or an error.
        head = self.store.snapshot_head(source.id)
        if head and head.definition not in ("", source.definition):
            log.info("%s: its url, kind or selectors changed; taking a new baseline", source.id)
            head = None  # text extracted another way does not compare: a new baseline, nothing reported
        state = self.store.source_state(source.id)
        validators = Validators(head.etag, head.last_modified) if head else None
        result = await self.fetcher.fetch(source, validators)
        previous = self._previous(source, head) if result.status == "ok" and source.kind in EXPANDERS else None
        result = await expand(self.fetcher, source, result, previous.blocks if previous else ())
        now = self.clock()
        if result.status == "error":
            outcome = self._failure(source, state, now, result.error_class or "error", result.error or "failed",
                                    result.http_status, result.cause)
        elif result.status == "not_modified" or (head and result.body_hash == head.body_hash):
            outcome = self._unchanged(source, state, now, result, head, previous)
        else:
            # A page whose bytes change on every request (tokens, render times) but whose content does not comes
            # back `unchanged` from its fingerprint: its stored blocks are never decoded, compared or rewritten.
            page = await self._cpu(len(result.body), extract, source, result, head.fingerprint if head else None,
                                   self.budget)
            if page.problem == "selector_missing":  # say where the old content went: the operator's next question
                from .extract.suggest import explain_missing_selector  # bs4: imported only on this path

                previous = previous or self._previous(source, head)
                page = await self._cpu(len(result.body), explain_missing_selector, source, page, result,
                                       previous.blocks if previous else ())
            if page.unchanged:
                outcome = self._unchanged(source, state, now, result, head, previous)
            else:
                previous = previous or self._previous(source, head)
                analysis = await self._cpu(len(result.body), analyse, source, page, previous, now,
                                           _ok_checks(state) + 1, self.config.settings.suspect_passes)
                outcome = self._judge(source, state, previous, result, analysis, now)
        return outcome

    async def _cpu(self, size: int, work: Callable, *args):
        """`work(*args)` for a body of `size` bytes: on the event loop when small, else on the executor."""
        if size <= self.inline_bytes:
            return work(*args)
        return await asyncio.get_running_loop().run_in_executor(self.executor, work, *args)

    def _previous(self, source: Source, head: SnapshotHead | None) -> Snapshot | None:
        return self.store.snapshot(source.id) if head else None

    # -- outcomes -------------------------------------------------------------------------------------------
    def _base_state(self, source: Source, state: dict, now: datetime) -> dict:
        return {"name": source.name, "url": source.url, "jurisdiction": source.jurisdiction, "kind": source.kind,
                "first_seen": state.get("first_seen") or iso(now), "last_checked": iso(now)}

    def _healthy(self, source: Source, state: dict, now: datetime, status: str) -> tuple[dict, list[ChangeRecord]]:
        """State for a good pass; tells the operator once when a source that was reported failing recovers. A
        failure that shared its cause with others recovers with its group (monitor/incidents.py): its record is
        kept, the alert is the group's."""
        new_state = {**self._base_state(source, state, now), "last_status": status, "last_error": None,
                     "last_error_class": None, "consecutive_failures": 0, "failing_since": None,
                     "failure_notified": 0, "last_ok": iso(now), "failure_group": None, "failure_host": None,
                     "ok_checks": _ok_checks(state) + 1}
        changes = []
        if state.get("failure_notified"):
            group = state.get("failure_group")
            changes.append(self._operational(source, now, "source_recovered", "medium", not group,
                                             f"{source.title} is being checked again after "
                                             f"{state.get('consecutive_failures') or 'several'} failed checks",
                                             [], group))
        return new_state, changes

    def _unchanged(self, source: Source, state: dict, now: datetime, result: FetchResult, head: SnapshotHead | None,
                   previous: Snapshot | None) -> Outcome:
        new_state, changes = self._healthy(source, state, now, "unchanged")
        new_state["held_passes"] = 0
        restamp = head is not None and ((result.etag or result.last_modified) and
                                        (result.etag, result.last_modified) != (head.etag, head.last_modified)
                                        or head.definition != source.definition)
        if previous is None and source.kind in DATED_KINDS:
            previous = self._previous(source, head)
        in_force = self._in_force(source, state, previous, now)
        if in_force:
            new_state.update(last_change_at=iso(now), last_status=LEGAL)
        changes.extend(in_force)
        # New validators are written into the stored snapshot in place: its blocks are neither read nor rewritten
        # (a page with tokens and an ETag made from its bytes has new validators on every pass).
        stamp = replace(head, etag=result.etag or head.etag, last_modified=result.last_modified or head.last_modified,
                        definition=source.definition) if restamp else None
        self._record(source, new_state, None, changes, restamp=stamp)
        return Outcome(source, "changed" if in_force else "unchanged", changes)

    def _failure(self, source: Source, state: dict, now: datetime, error_class: str, message: str,
                 http_status: int | None = None, cause: str | None = None) -> Outcome:
        """A failed check. A failure whose cause many sources can share (a name that does not resolve, a refused
        connection, a host answering 5xx...) is recorded with that cause as its group and alerted by
        monitor/incidents.py, once per cause, whatever the number of sources; any other failure is alerted here,
        on its own, after failure_threshold checks in a row."""
        failures = int(state.get("consecutive_failures") or 0) + 1
        threshold = self.config.settings.failure_threshold
        group = failure_cause(error_class, http_status, cause)
        host = host_of(source.url)
        notified = state.get("failure_notified") or 0
        if state.get("failure_group") and not group:
            notified = 0  # its group reported it; a failure of another kind is this source's own, to report anew
        new_state = {**self._base_state(source, state, now), "last_status": "failed", "last_error": message,
                     "last_error_class": error_class, "http_status": http_status,
                     "consecutive_failures": failures, "failing_since": state.get("failing_since") or iso(now),
                     "failure_notified": notified, "failure_group": group, "failure_host": host if group else None}
        changes = []
        if failures == 1 or state.get("last_error_class") != error_class and not notified:
            changes.append(self._operational(source, now, error_class, "info", False,
                                             f"{source.title}: {message}", [message], group))
        if failures >= threshold and not notified:
            new_state["failure_notified"] = 1
            what = host_failure(group, host) if group else message
            changes.append(self._operational(source, now, "source_failing", "high", not group,
                                             f"{source.title} has failed {failures} checks in a row: {what}",
                                             [message], group))
        self._record(source, new_state, None, changes)
        return Outcome(source, "failed", changes, error=message, error_class=error_class)

    def _judge(self, source: Source, state: dict, previous: Snapshot | None, result: FetchResult,
               analysis: Analysis, now: datetime) -> Outcome:
        page = analysis.page
        if page.problem in FAILURE_PROBLEMS:
            return self._failure(source, state, now, page.problem, page.problem_detail, result.http_status)
        snapshot = Snapshot(blocks=page.blocks, taken_at=iso(now), title=page.title, etag=result.etag,
                            last_modified=result.last_modified, body_hash=result.body_hash,
                            definition=source.definition, fingerprint=page.fingerprint, vanished=analysis.vanished)
        new_state, changes = self._healthy(source, state, now, "baseline" if previous is None else "changed")
        if previous is None:
            self._record(source, {**new_state, "held_passes": 0}, snapshot, changes)
            return Outcome(source, "baseline", changes)
        diff = analysis.diff or Diff()
        if self._suspicious(previous, diff) and int(state.get("held_passes") or 0) + 1 < \
                self.config.settings.suspect_passes:
            new_state.update(last_status="held", held_passes=int(state.get("held_passes") or 0) + 1)
            held = self._operational(
                source, now, "suspicious_content", "info", False,
                f"{source.title}: {len(diff.removed)} of {len(previous.blocks)} blocks vanished; held until the "
                f"page is seen like this {self.config.settings.suspect_passes} times", [])
            self._record(source, new_state, None, [held] if not state.get("held_passes") else [])
            return Outcome(source, "held", [held] if not state.get("held_passes") else [])
        new_state["held_passes"] = 0
        legal = [self._legal(source, f, now) for f in analysis.findings]
        legal += self._in_force(source, state, previous, now)
        if legal:
            new_state["last_change_at"] = iso(now)
        changes.extend(legal)
        irrelevant = len(diff.added) + len(diff.removed) + len(diff.modified) if diff and not legal else 0
        outcome = Outcome(source, "changed" if legal else "unchanged", changes, irrelevant=irrelevant)
        new_state["last_status"] = outcome.code
        self._record(source, new_state, snapshot, changes)
        return outcome

    @staticmethod
    def _suspicious(previous: Snapshot, diff: Diff) -> bool:
        return len(previous.blocks) >= SUSPECT_MIN_BLOCKS and \
            len(diff.removed) >= SUSPECT_LOST_SHARE * len(previous.blocks) and len(diff.added) < len(diff.removed)

    def _in_force(self, source: Source, state: dict, previous: Snapshot | None, now: datetime) -> list[ChangeRecord]:
        """Rules seen before whose effective date has come since the last good check."""
        last = state.get("last_ok")
        if previous is None or not last or source.kind not in DATED_KINDS:
            return []
        since = datetime.fromisoformat(last.replace("Z", "+00:00")).date()
        return [self._legal(source, f, now) for f in coming_into_force(source, previous.blocks, since, now.date())]

    # -- records --------------------------------------------------------------------------------------------
    def _legal(self, source: Source, finding, now: datetime) -> ChangeRecord:
        change = ChangeRecord(
            id=new_change_id(now), source=source.id, jurisdiction=finding.jurisdiction or source.jurisdiction,
            url=finding.url or source.url, kind="legal",
            alert=passes_threshold(finding, source.min_severity), event=finding.event, severity=finding.severity,
            summary=finding.summary, added=list(finding.added), removed=list(finding.removed),
            detected_at=iso(now), source_name=source.title, direction=finding.direction, measure=finding.measure,
            explanation=dict(finding.explanation))
        change.channels = route(self.config.settings, change)
        return change

    def _operational(self, source: Source, now: datetime, event: str, severity: str, alert: bool, summary: str,
                     added: list[str], group: str | None = None) -> ChangeRecord:
        change = ChangeRecord(
            id=new_change_id(now), source=source.id, jurisdiction=source.jurisdiction, url=source.url,
            kind="operational", alert=alert, event=event, severity=severity, summary=summary, added=added,
            removed=[], detected_at=iso(now), source_name=source.title, group=group)
        change.channels = route(self.config.settings, change)
        return change

    def _record(self, source: Source, state: dict, snapshot: Snapshot | None, changes: list[ChangeRecord],
                restamp: SnapshotHead | None = None) -> None:
        if not self.dry_run:
            self.store.record(source.id, state, snapshot, changes, restamp)


def _ok_checks(state: dict) -> int:
    """How many good checks (unchanged, changed, held) of the source came before: the clock vanished blocks are
    remembered by, which unchanged checks move on without reading the snapshot."""
    return int(state.get("ok_checks") or 0)


async def run_pass(checker: Checker, sources: tuple[Source, ...],
                   on_done: Callable[[Outcome], None] | None = None) -> list[Outcome]:
    """Check every source concurrently (the fetcher and the checker's slots bound concurrency); one failure never
    stops the others. Records are committed in batches."""

    async def one(source: Source) -> Outcome:
        outcome = await checker.check(source)
        if on_done:
            on_done(outcome)
        return outcome

    with checker.store.batch():
        return list(await asyncio.gather(*(one(s) for s in sources)))
