#!/usr/bin/env python3
"""Is the kratom-monitor worker keeping its schedule? Exit 0 if so, 1 if not, with one line saying why.

    python3 contrib/healthcheck.py [--state-dir DIR] [--grace MINUTES]

It reads the worker's state (DIR/monitor.db, read-only) and nothing else: Python's standard library only, no network,
no lock taken, so it is safe to run next to the worker as often as a container runtime or a monitoring system likes.
The worker writes, in the `sources` table, when each source is due next (`next_run`, cleared when it stops) and when
each check finished (`last_checked`). The worker is unhealthy when:

- there is no state database: the worker has never run on this state directory;
- no source is scheduled: the worker is not running (or has no enabled source);
- the earliest due check is more than GRACE minutes overdue and no check of any source has finished for GRACE
  minutes: the worker is stuck.

Both conditions are needed. A source's `next_run` is written after its check, so a worker that stops between the two
leaves a due time that its own last check has passed; and a run APScheduler dropped as misfired (after a suspend)
leaves its source's `next_run` behind until the next check, while other checks go on.

A check that fails (a site down, a DNS error) still finishes and counts: failing sources are reported to the
operations channel by the worker itself, not here. GRACE (default 15) should exceed the longest a check can take,
which is a few minutes with the default timeout and retries.
"""
from __future__ import annotations

import argparse
import os
import sqlite3
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

DB_NAME = "monitor.db"  # monitor/store/files.py
DEFAULT_GRACE_MINUTES = 15.0


def parse_time(value: str) -> datetime:
    """The state's UTC times, written as 2026-11-26T00:36:38Z."""
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def check(state_dir: Path, grace: timedelta, now: datetime) -> tuple[bool, str]:
    db = state_dir / DB_NAME
    if not db.is_file():
        return False, f"no state at {db}: the worker has not run on this state directory"
    try:
        conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
        try:
            rows = conn.execute("SELECT id, next_run, last_checked FROM sources").fetchall()
        finally:
            conn.close()
    except sqlite3.Error as e:
        return False, f"cannot read {db}: {e}"
    scheduled = sorted((parse_time(next_run), source_id) for source_id, next_run, _ in rows if next_run)
    if not scheduled:
        return False, f"no source is scheduled in {db}: the worker is not running"
    finished = [parse_time(last_checked) for _, _, last_checked in rows if last_checked]
    last = max(finished) if finished else None
    due, source_id = scheduled[0]
    if now - due > grace and (last is None or now - last > grace):
        late = int((now - due).total_seconds() // 60)
        return False, (f"the worker is behind schedule: {source_id} was due at {due:%Y-%m-%d %H:%M:%S}Z ({late} min "
                       f"ago) and no check has finished for {grace.total_seconds() / 60:g} min"
                       + (f" (the last at {last:%Y-%m-%d %H:%M:%S}Z)" if last else ""))
    return True, (f"{len(scheduled)} source(s) scheduled, next {source_id} at {due:%Y-%m-%d %H:%M:%S}Z; last check "
                  + (f"finished at {last:%Y-%m-%d %H:%M:%S}Z" if last else "not finished yet"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Exit 0 if the kratom-monitor worker keeps its schedule, else 1.")
    parser.add_argument("--state-dir", default=os.environ.get("MONITOR_STATE_DIR", "state"),
                        help="the worker's state directory (default ./state, or $MONITOR_STATE_DIR)")
    parser.add_argument("--grace", type=float, default=DEFAULT_GRACE_MINUTES, metavar="MINUTES",
                        help=f"how overdue a check may be before the worker counts as stuck "
                             f"(default {DEFAULT_GRACE_MINUTES:g})")
    args = parser.parse_args(argv)
    healthy, message = check(Path(args.state_dir), timedelta(minutes=args.grace), datetime.now(timezone.utc))
    print(("ok: " if healthy else "unhealthy: ") + message)
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
