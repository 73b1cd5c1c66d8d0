"""When each source runs: its trigger, its first run after a (re)load, and how soon a failing source is retried.

A new sources.yaml is planned in full (`plan`) before the worker touches its running jobs, so a list that cannot
be scheduled is refused as a whole and the previous one keeps running: a bad interval used to stop the reload
halfway, leaving the sources after it unscheduled.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Mapping

from apscheduler.triggers.interval import IntervalTrigger

from .config import Config, ConfigError, Source

if TYPE_CHECKING:  # the worker makes it; planning itself needs no HTTP
    from .fetch import Fetcher

START_WINDOW = 15.0  # first checks are spread over this many seconds (never more than the source's own interval)
MISFIRE_GRACE = 300  # a run delayed by a busy machine still happens if it is at most this late
JITTER_SHARE, MAX_JITTER = 0.1, 300.0  # each run is delayed by up to 10% of the interval, at most 5 minutes
RETRY_FIRST_SHARE, MIN_RETRY = 1 / 8, 60.0


@dataclass(frozen=True)
class Schedule:
    """A sources.yaml ready to take over the worker's jobs."""

    config: Config
    sources: dict[str, Source]  # enabled, by id
    added: list[Source]
    changed: list[Source]
    removed: list[str]
    jobs: list[tuple[Source, IntervalTrigger, datetime]]  # (source, trigger, first run) for added + changed
    fetcher: Fetcher | None = None  # the worker's new Fetcher when the settings changed


def trigger(source: Source) -> IntervalTrigger:
    return IntervalTrigger(seconds=source.interval, jitter=min(source.interval * JITTER_SHARE, MAX_JITTER),
                           timezone=timezone.utc)


def plan(config: Config, running: Mapping[str, Source], now: datetime) -> Schedule:
    """The jobs `config` needs, given the sources `running` now: a trigger and a first run for each added or changed
    source, each asked for a fire time after its first run (where an impossible interval overflows). Raises
    ConfigError naming every source that cannot be scheduled."""
    new = {s.id: s for s in config.enabled}
    added = [s for sid, s in new.items() if sid not in running]
    changed = [s for sid, s in new.items() if sid in running and running[sid] != s]
    jobs, problems = [], []
    for i, source in enumerate(added + changed):
        try:
            first = now + timedelta(seconds=min(source.interval, START_WINDOW) * i / len(added + changed))
            job_trigger = trigger(source)
            job_trigger.get_next_fire_time(first, first)
            jobs.append((source, job_trigger, first))
        except (ArithmeticError, ValueError, TypeError) as e:
            problems.append(f"source {source.id!r}: cannot be scheduled with interval {source.interval!r} "
                            f"({type(e).__name__}: {e})"[:300])
    if problems:
        raise ConfigError(config.path, problems)
    return Schedule(config, new, added, changed, [sid for sid in running if sid not in new], jobs)


def retry_delay(interval: float, failures: int) -> float:
    """Seconds until a failing source is tried again: an eighth of its interval after the first failure, doubling
    with each further one, at least a minute and never more than the interval itself. So a short outage costs
    little coverage, and failure_threshold failures still take a good part of an interval (no alert on a blip)."""
    backoff = interval * RETRY_FIRST_SHARE * 2 ** min(max(failures, 1) - 1, 16)
    return min(interval, max(MIN_RETRY, backoff))
