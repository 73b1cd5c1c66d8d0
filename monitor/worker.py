"""`monitor run`: the long-running worker. One APScheduler job per enabled source, one worker per state directory.

Orchestration only. Each job is pipeline.Checker.check through one shared Fetcher (so its global and per-host
limits hold across sources), parsing runs in a thread pool, and alerts leave through notify.deliver_pending on a
daemon thread with its own SQLite connection, so a slow Slack never stalls the loop and never holds up a stop.
sources.yaml is re-read when it changes: a valid edit reschedules jobs, a broken one is refused and the last good
list keeps running.
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import signal
import sys
import threading
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from .config import Config, ConfigError, Source, load_config
from .fetch import Fetcher
from .incidents import Incidents
from .logs import configure_logging
from .notify import DeliveryReport, Notifier, deliver_pending, make_notifier, route
from .outcomes import outcome_code, words
from .pipeline import Checker, Outcome
from .schedule import MISFIRE_GRACE, Schedule, plan, retry_delay
from .statedir import AlreadyRunning, StateWatch, WorkerLock, acquire_lock
from .store import ChangeRecord, StateError, Store, iso, new_change_id

log = logging.getLogger("monitor.worker")

# A second worker on one state directory exits with the code of a bad sources.yaml: both are an operator's
# mistake that restarting will not fix (systemd: RestartPreventExitStatus=2).
EXIT_LOCKED = 2
# The state directory or its database was removed or replaced under the worker: it stops, and a restart (systemd's
# Restart=on-failure) opens the state as it now is.
EXIT_STATE_LOST = 1
WATCH_EVERY = 2.0  # seconds between looks at sources.yaml, the state directory and failure incidents
SETTLE = 0.3  # a changed sources.yaml must stay put this long before it is read: editors write in steps
DELIVER_EVERY = 10.0  # the outbox is also drained this often, so rows waiting out a backoff are retried
STOP_GRACE = 5.0  # after SIGTERM, running checks and deliveries get this long, then are abandoned
# The `source` of the notice that an edit was refused; "@" keeps it apart from every valid source id.
CONFIG_NOTICE_SOURCE = "@sources.yaml"
PARSE_THREADS = min(4, os.cpu_count() or 1)




def summarize(outcome: Outcome) -> str:
    """The `result` of a check's log line."""
    if outcome.failed:
        alerted = any(c.alert for c in outcome.changes)  # this failure reached failure_threshold
        return f"{outcome.error_class}: {outcome.error}" + ("; operator alerted" if alerted else "")
    legal = sum(c.kind == "legal" for c in outcome.changes)
    alerts = sum(c.alert for c in outcome.changes)
    parts = [f"{legal} legal change(s)"] if legal else []
    parts += [c.event for c in outcome.changes if c.kind == "operational"]
    if outcome.irrelevant:
        parts.append(f"{outcome.irrelevant} changed block(s) not about kratom")
    if alerts:
        parts.append(f"{alerts} alert(s) queued")
    return "; ".join(parts) or ("first snapshot" if outcome.status == "baseline" else "no change")


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def _file_state(path: str) -> tuple | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size, st.st_ino


def _file_hash(path: str) -> str | None:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def _in_daemon_thread(fn: Callable, *args) -> asyncio.Future:
    """Run fn on a daemon thread: unlike an executor's threads it cannot keep the process alive at exit, so a Slack
    call stuck in its timeout never delays a stop (the row it was sending stays pending in the outbox)."""
    loop = asyncio.get_running_loop()
    future = loop.create_future()

    def settle(ok: bool, value) -> None:
        if not future.done():
            future.set_result(value) if ok else future.set_exception(value)

    def target() -> None:
        try:
            result = (True, fn(*args))
        except Exception as e:
            result = (False, e)
        try:
            loop.call_soon_threadsafe(settle, *result)
        except RuntimeError:  # the loop has closed: the worker stopped without waiting for us
            pass

    threading.Thread(target=target, name="deliver", daemon=True).start()
    return future


class Worker:
    """Keeps one scheduled job per enabled source in step with sources.yaml, delivers alerts, stops cleanly."""

    def __init__(self, config: Config, store: Store, outbox: Store, notifier: Notifier,
                 clock: Callable[[], datetime], executor: Executor, watch: StateWatch | None = None):
        self.config = config
        self.store = store  # used on the event loop only
        self.outbox = outbox  # its own connection, used by the delivery thread only
        self.notifier = notifier
        self.clock = clock
        self.executor = executor
        self.fetcher = Fetcher(config.settings, env=os.environ)
        self.checker: Checker  # made by _apply, anew for each sources.yaml (checks in flight keep theirs)
        self.sources: dict[str, Source] = {}  # the enabled sources of self.config, by id: what is scheduled
        self.scheduler = AsyncIOScheduler(timezone=timezone.utc, job_defaults={
            "coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE})
        self.running: set[asyncio.Task] = set()
        self.background: set[asyncio.Task] = set()
        self.stopping = asyncio.Event()
        self.kick = asyncio.Event()  # set when there may be alerts to send
        self.outbox_lock = threading.Lock()  # held by the delivery thread while it uses `outbox`
        self.config_refused = False
        self.file_state = _file_state(config.path)
        self.file_hash = _file_hash(config.path)
        self.incidents = Incidents(store, clock)
        self.watch = watch
        self.state_lost: str | None = None  # what happened to the state directory, once it is gone

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._request_stop, sig)
        schedule = self._plan(self.config)  # a list that cannot be scheduled: ConfigError (exit 2), nothing started
        self.scheduler.start()
        self._apply(schedule)
        self.kick.set()  # drain at once: alerts a killed process left behind wait no longer than this start
        log.info("worker started (pid %d): %d sources scheduled, alerts to %s", os.getpid(), len(self.sources),
                 self.notifier.name)
        watch, deliver = asyncio.create_task(self._watch()), asyncio.create_task(self._deliver_loop())
        try:
            await self.stopping.wait()
        finally:
            await self._shutdown(watch, deliver)

    def _request_stop(self, sig: signal.Signals) -> None:
        if not self.stopping.is_set():
            log.info("%s received: stopping (no new checks; running ones get %gs)", sig.name, STOP_GRACE)
        self.stopping.set()
        self.kick.set()

    def _state_gone(self) -> bool:
        """Stop (EXIT_STATE_LOST) when the state directory, database or lock file is removed or replaced: what the
        worker would write from then on nobody could read, and its lock would no longer keep a second worker out."""
        reason = self.watch.check() if self.watch else None
        if reason is None:
            return False
        log.error("%s while the worker ran: stopping, as nothing it records could be read (restart it, or let "
                  "the supervisor do so, to run on the state directory as it is now)", reason,
                  extra={"status": "state_lost"})
        self.state_lost = reason
        self.stopping.set()
        self.kick.set()
        return True

    async def _shutdown(self, watch: asyncio.Task, deliver: asyncio.Task) -> None:
        """No new checks; running checks and an alert being sent get STOP_GRACE seconds, then are abandoned."""
        self.scheduler.pause()
        _, late = await asyncio.wait({watch, deliver, *self.running}, timeout=STOP_GRACE)
        if deliver in late:
            log.warning("alert delivery still in progress at stop; unsent alerts stay in the outbox")
        for task in late:
            task.cancel()
        await asyncio.gather(*late, *self.background, return_exceptions=True)
        for change_id in self.store.release_own(self.clock()):  # not left leased to a process about to exit
            log.warning("alert %s was being sent at stop: it is sent again after the next start (it may arrive "
                        "twice)", change_id)
        self.scheduler.shutdown(wait=False)
        if not self.state_lost:  # else the database is not the one `monitor status` reads
            self.store.set_schedule((sid, None) for sid in self.sources)
        await self.fetcher.aclose()
        log.info("worker stopped")

    # -- scheduling -----------------------------------------------------------------------------------------
    def _plan(self, config: Config) -> Schedule:
        """`config` planned in full (schedule.plan), with a new Fetcher when its settings differ; raises ConfigError
        and changes nothing when it cannot be scheduled."""
        schedule = plan(config, self.sources, self.clock())
        if config.settings == self.config.settings:
            return schedule
        try:
            return replace(schedule, fetcher=Fetcher(config.settings, env=os.environ))
        except (ArithmeticError, ValueError, TypeError) as e:
            raise ConfigError(config.path, [f"settings: cannot be applied ({type(e).__name__}: {e})"[:300]]) from None

    def _apply(self, schedule: Schedule) -> None:
        """Swap the running jobs for `schedule`'s. If the scheduler refuses a job midway, the old jobs are put back
        as they were and the error is raised: the previous list keeps running whole."""
        before = [(job.id, job.trigger, job.next_run_time) for job in self.scheduler.get_jobs()]
        try:
            for sid in schedule.removed:
                self.scheduler.remove_job(sid)
            for source, trigger, first in schedule.jobs:
                self.scheduler.add_job(self._check, trigger, args=[source.id], id=source.id, name=source.id,
                                       next_run_time=first, replace_existing=True)
        except Exception:
            self.scheduler.remove_all_jobs()
            for sid, trigger, next_run in before:
                self.scheduler.add_job(self._check, trigger, args=[sid], id=sid, name=sid, next_run_time=next_run)
            if schedule.fetcher is not None:
                self._close_when_idle(schedule.fetcher, set())
            raise
        if schedule.fetcher is not None:  # checks in flight finish on the old one
            self._close_when_idle(self.fetcher, set(self.running))
            self.fetcher = schedule.fetcher
        self.config, self.sources = schedule.config, schedule.sources
        self.checker = Checker(schedule.config, self.store, self.fetcher, self.clock, executor=self.executor)
        self.store.set_schedule([(sid, None) for sid in schedule.removed] +
                                [(job.id, iso(job.next_run_time)) for job in self.scheduler.get_jobs()])
        log.info("%s: %d added, %d changed, %d removed; %d sources scheduled", schedule.config.path,
                 len(schedule.added), len(schedule.changed), len(schedule.removed), len(schedule.sources),
                 extra={"added": [s.id for s in schedule.added], "changed": [s.id for s in schedule.changed],
                        "removed": schedule.removed})

    def _close_when_idle(self, fetcher: Fetcher, in_flight: set[asyncio.Task]) -> None:
        """Close a Fetcher the worker no longer uses once the checks still using it are done."""
        async def close() -> None:
            if in_flight:
                await asyncio.wait(in_flight)
            await fetcher.aclose()

        task = asyncio.create_task(close())
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    async def _check(self, source_id: str) -> None:
        """One scheduled run. A stop cancels it at an await, never inside Store.record (which is atomic)."""
        source, checker = self.sources.get(source_id), self.checker
        if source is None or self.stopping.is_set():
            return
        task = asyncio.current_task()
        self.running.add(task)
        try:
            outcome = await checker.check(source)
        except asyncio.CancelledError:
            log.warning("%s: check abandoned because the worker is stopping; nothing recorded", source_id,
                        extra={"source": source_id, "status": "abandoned"})
            return
        except StateError as e:  # the state cannot be written (a full disk): not this source's fault
            log.error("%s: check not recorded: %s", source_id, e, extra={"source": source_id, "status": "state_error"})
            return
        except Exception:  # a bug in one source's handling must not take its job down
            log.exception("%s: internal error during the check", source_id,
                          extra={"source": source_id, "status": "internal_error"})
            return
        finally:
            self.running.discard(task)
        self._after_check(outcome)

    def _after_check(self, outcome: Outcome) -> None:
        source = outcome.source
        # `status` as it always was (scripts read it); `outcome` in the words check, status, history and show use
        fields = {"source": source.id, "status": outcome.status, "duration": outcome.duration,
                  "result": summarize(outcome), "outcome": words(outcome_code(outcome.status, outcome.irrelevant))}
        job = self.scheduler.get_job(source.id)
        if outcome.failed:
            failures = int(self.store.source_state(source.id).get("consecutive_failures") or 0)
            retry_at = self.clock() + timedelta(seconds=retry_delay(source.interval, failures))
            if job and job.next_run_time and retry_at < job.next_run_time:
                job.modify(next_run_time=retry_at)
            next_at = job.next_run_time if job and job.next_run_time else retry_at
            log.warning("%s failed in %.2fs: %s (%d in a row; next try in %s)", source.id, outcome.duration,
                        fields["result"], failures, _duration((next_at - self.clock()).total_seconds()),
                        extra={**fields, "failures": failures})
        else:
            log.info("%s %s in %.2fs: %s", source.id, outcome.status, outcome.duration, fields["result"],
                     extra=fields)
        if job and job.next_run_time:
            self.store.set_schedule([(source.id, iso(job.next_run_time))])
        if any(c.alert for c in outcome.changes):
            self.kick.set()

    # -- sources.yaml ---------------------------------------------------------------------------------------
    async def _watch(self) -> None:
        """Every WATCH_EVERY seconds until stopped: is the state directory still ours, has sources.yaml changed, are
        failures sharing a cause due to be announced or over. A failed look is logged, not fatal."""
        while not await self._stopped_within(WATCH_EVERY):
            if self._state_gone():
                return
            try:
                await self._look()
            except Exception:
                log.exception("%s: could not apply the edit; will look again", self.config.path)
            self._flush_incidents()

    def _flush_incidents(self) -> None:
        try:
            report = self.incidents.flush(self.config)
        except Exception:
            log.exception("could not bring the failure incidents up to date; will try again")
            return
        if report.notices:
            self.kick.set()

    async def _look(self) -> None:
        """Apply or refuse the file if it changed (mtime, size, inode, then content hash) and has settled."""
        path = self.config.path
        state = _file_state(path)
        if state == self.file_state:
            return
        if await self._stopped_within(SETTLE) or _file_state(path) != state:
            return  # stopping, or still being written: look again next time
        self.file_state, digest = state, _file_hash(path)
        if digest == self.file_hash and digest is not None:
            return
        self.file_hash = digest
        try:
            config = await asyncio.get_running_loop().run_in_executor(self.executor, load_config, path)
            self._apply(self._plan(config))
        except ConfigError as e:
            self._refuse(e)
            return
        except Exception as e:  # a bug met reading or applying the file: still refused, still reported once
            log.exception("%s: the edit could not be applied", path)
            self._refuse(ConfigError(path, [f"the edit could not be applied ({type(e).__name__}: {e})"[:300]]))
            return
        if self.config_refused:
            log.info("%s: valid again", path)
        self.config_refused = False

    def _refuse(self, error: ConfigError) -> None:
        """Keep the last good list; log the problems as `monitor validate` prints them; tell the operator once
        per broken spell (not per poll, not per further broken save)."""
        for problem in error.problems:
            log.error("%s: %s", error.path, problem)
        log.error("%s: %d problem(s); the edit is refused and the last good list (%d sources) keeps running",
                  error.path, len(error.problems), len(self.sources))
        if self.config_refused:
            return
        self.config_refused = True
        now = self.clock()
        notice = ChangeRecord(
            id=new_change_id(now), source=CONFIG_NOTICE_SOURCE, jurisdiction="", url=str(Path(error.path).resolve()),
            kind="operational", alert=True, event="config_invalid", severity="high",
            summary=f"{error.path} was edited but does not validate ({len(error.problems)} problem(s)); the worker "
                    f"keeps watching the last good list of {len(self.sources)} sources until it is fixed "
                    f"(run `monitor validate`)",
            added=[f"{error.path}: {p}" for p in error.problems], removed=[], detected_at=iso(now),
            source_name=f"watch list {error.path}")
        notice.channels = route(self.config.settings, notice)
        self.store.add_changes([notice])
        self.kick.set()

    # -- alerts ---------------------------------------------------------------------------------------------
    async def _deliver_loop(self) -> None:
        """Drain the outbox after checks that queued alerts and every DELIVER_EVERY seconds (backoff retries).
        The first drain after a start also releases alerts held for a permanent error: a restart is how an
        operator says "I fixed it"."""
        retry_held = True
        while not self.stopping.is_set():
            try:
                await asyncio.wait_for(self.kick.wait(), DELIVER_EVERY)
            except TimeoutError:
                pass
            self.kick.clear()
            if self.stopping.is_set():
                return
            try:
                report = await _in_daemon_thread(self._deliver, retry_held)
                retry_held = False
            except StateError as e:
                log.error("alert delivery stopped: %s", e)
                continue
            except Exception:
                log.exception("alert delivery failed; pending alerts stay in the outbox")
                continue
            if report.delivered:
                log.info("%d alert(s) delivered to %s", report.delivered, self.notifier.name,
                         extra={"delivered": report.delivered})

    def _deliver(self, retry_held: bool = False) -> DeliveryReport:
        with self.outbox_lock:
            return deliver_pending(self.outbox, self.notifier, self.clock, retry_held=retry_held)

    def close(self) -> None:
        self.store.close()
        if self.outbox_lock.acquire(blocking=False):  # else an abandoned delivery still uses it; exit closes it
            self.outbox.close()

    async def _stopped_within(self, seconds: float) -> bool:
        try:
            await asyncio.wait_for(self.stopping.wait(), seconds)
        except TimeoutError:
            pass
        return self.stopping.is_set()


def run_worker(sources: str, state_dir: str, *, clock: Callable[[], datetime], log_format: str = "text",
               verbose: bool = False) -> int:
    """Run until SIGTERM/SIGINT (exit 0) or until the state directory is lost (EXIT_STATE_LOST). A bad sources.yaml
    at start raises ConfigError (the CLI exits 2)."""
    configure_logging(log_format, verbose)
    config = load_config(sources)  # first: a refused file must not create the state directory
    try:
        lock = acquire_lock(state_dir)
    except AlreadyRunning as e:
        print(f"monitor: {e}", file=sys.stderr)
        return EXIT_LOCKED
    try:
        return asyncio.run(_serve(config, state_dir, clock, lock))
    finally:
        lock.close()


async def _serve(config: Config, state_dir: str, clock: Callable[[], datetime], lock: WorkerLock) -> int:
    store, outbox = Store.open(state_dir), Store.open(state_dir)
    watch = StateWatch(state_dir, lock)  # after the database exists: what is there now is what is watched
    executor = ThreadPoolExecutor(max_workers=PARSE_THREADS, thread_name_prefix="parse")
    # Console alerts go to stdout, logs to stderr: a terminal shows both, journald and pipes can split them.
    worker = Worker(config, store, outbox, make_notifier(os.environ, stream=sys.stdout), clock, executor, watch)
    try:
        await worker.run()
    finally:
        executor.shutdown(wait=False, cancel_futures=True)
        worker.close()
    return EXIT_STATE_LOST if worker.state_lost else 0
