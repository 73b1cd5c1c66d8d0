"""The command line: validate, check, run, status, history, show, deliver, test-slack. Orchestration only: what the
commands accept is arguments.py's, what they print report.py's and terminal.py's.

Exit codes are a contract: 0 all good; 1 the pass finished but some sources failed; 2 a bad sources.yaml or usage
(a missing sources.yaml or state directory, an unknown source id or command); 3 the state cannot be used (corrupt,
unreadable, not monitor's, a full disk), from every command that reads it; 130 interrupted (Ctrl-C).
"""
from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Callable, Sequence

from . import report
from .arguments import EXIT_FAILURES, EXIT_INTERRUPTED, EXIT_OK, EXIT_STATE, EXIT_USAGE, build_parser, utcnow
from .config import Config, ConfigError, SourcesNotFound, load_config
from .fetch import Fetcher
from .incidents import flush_after_pass
from .logs import configure_command_logging
from .models import EVENTS, SEVERITIES
from .notify import deliver_pending, make_notifier, probe_alert
from .safetext import for_terminal
from .pipeline import Checker, Outcome, run_pass
from .store import DB_NAME, StateError, Store
from .terminal import Progress, did_you_mean

# A check pass parses pages up to this size on its event loop (at most some 30 ms on the lxml path, 250 ms on bs4's),
# larger ones in threads: on 2 cores that saved 10-15% of a pass's CPU against threads for every page (bench/).
INLINE_PARSE_BYTES = 256 * 1024
log = logging.getLogger("monitor")


class UsageError(Exception):
    pass


class NotFound(Exception):
    """A file a command needs is not where it looked (usually: run from the wrong directory). Exit 2."""


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_command_logging(args.verbose)
    try:
        return COMMANDS[args.command](args)
    except SourcesNotFound as e:
        print(f"monitor: {_sources_not_found(e.path)}", file=sys.stderr)
        return EXIT_USAGE
    except NotFound as e:
        print(f"monitor: {e}", file=sys.stderr)
        return EXIT_USAGE
    except ConfigError as e:
        for problem in e.problems:
            print(f"{e.path}: {problem}", file=sys.stderr)
        print(f"{e.path}: {len(e.problems)} problem(s); nothing was checked", file=sys.stderr)
        return EXIT_USAGE
    except UsageError as e:
        print(f"monitor: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except StateError as e:
        print(f"monitor: {e}", file=sys.stderr)
        return EXIT_STATE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


def _config(args) -> Config:
    return load_config(args.sources)


def _sources_not_found(path: str) -> str:
    return f"not found: {os.path.abspath(path)} (the watch list: give --sources PATH or set MONITOR_SOURCES)"


def _state_not_found(state_dir: str) -> str | None:
    """Why a command that only reads the state cannot run here, or None. Such commands never create it: run from
    the wrong directory, they would otherwise leave a stray ./state and print an empty report."""
    db = Path(state_dir) / DB_NAME
    if db.exists():  # a file, or something else where it should be: Store.open says which state problem (exit 3)
        return None
    return (f"not found: {os.path.abspath(db)} (the state: no check has been run with --state-dir "
            f"{state_dir}; give --state-dir DIR or set MONITOR_STATE_DIR, or run `monitor check` first)")


def _open_state(args) -> Store:
    problem = _state_not_found(args.state_dir)
    if problem:
        raise NotFound(problem)
    return Store.open(args.state_dir)


def _require_known(wanted: Sequence[str], known: set[str], where: str) -> None:
    """An unknown source id is an error wherever one is given, with the closest known id."""
    unknown = [sid for sid in wanted if sid not in known]
    if unknown:
        raise UsageError(f"no source with id {', '.join(f'{sid!r}{did_you_mean(sid, known)}' for sid in unknown)} "
                         f"in {where}")


def cmd_validate(args) -> int:
    config = _config(args)
    enabled = config.enabled
    kinds = Counter(s.kind for s in enabled)
    print(f"{config.path}: OK, {len(config.sources)} sources ({len(enabled)} enabled) in "
          f"{len({s.jurisdiction for s in enabled})} jurisdictions; "
          + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())))
    return EXIT_OK


def cmd_check(args) -> int:
    config = _config(args)
    sources = config.enabled
    if args.source:
        known = {s.id: s for s in config.sources}
        _require_known(args.source, set(known), config.path)
        sources = tuple(known[sid] for sid in dict.fromkeys(args.source))
    human = not args.json and sys.stdout.isatty()
    notifier = make_notifier(os.environ, stream=sys.stdout if human else sys.stderr)
    store = Store.open(args.state_dir)
    finished: list[Outcome] = []  # as each check ends: what a Ctrl-C leaves recorded
    try:
        if not args.dry_run:
            deliver_pending(store, notifier, utcnow)
        outcomes = asyncio.run(_check(config, store, sources, args.dry_run, finished.append, progress=human))
        promoted: set[str] = set()
        if not args.dry_run:  # failures sharing a cause are alerted once per cause, after the whole pass
            promoted = flush_after_pass(store, config, utcnow)
            reminder = deliver_pending(store, notifier, utcnow).reminder()
            if reminder:
                print(f"monitor: {reminder}", file=sys.stderr)
    except KeyboardInterrupt:
        return _interrupted(finished, len(sources), args.dry_run, json_lines=not human)
    finally:
        store.close()
    for change in (c for o in outcomes for c in o.changes):
        change.alert = change.alert or change.id in promoted  # alone in its group: alerted on its own after all
    if human:
        report.print_check(outcomes, notifier.name, args.dry_run, sys.stdout)
    else:
        report.changes_json((c for o in outcomes for c in o.changes), sys.stdout)
    failed = [o for o in outcomes if o.failed]
    for o in failed:
        print(for_terminal(f"monitor: {o.source.id}: {o.error_class}: {o.error}"), file=sys.stderr)
    return EXIT_FAILURES if failed else EXIT_OK


def _interrupted(finished: list[Outcome], total: int, dry_run: bool, json_lines: bool) -> int:
    """Ctrl-C during a pass: each source's check is recorded whole or not at all, so the finished ones are kept.
    Say how many, and print their changes as the pass would have (scripts read stdout to the end)."""
    if json_lines:
        report.changes_json((c for o in finished for c in o.changes), sys.stdout)
        sys.stdout.flush()
    kept = "nothing stored (dry run)" if dry_run else "their results are kept"
    print(f"monitor: interrupted: {len(finished)} of {total} sources checked, {kept}; "
          f"{total - len(finished)} not checked", file=sys.stderr)
    alerts = sum(c.alert for o in finished for c in o.changes)
    if alerts and not dry_run:
        print(f"monitor: {alerts} alert(s) wait in the outbox: `monitor deliver` sends them now, the next check or "
              "run does too", file=sys.stderr)
    return EXIT_INTERRUPTED


async def _check(config: Config, store: Store, sources, dry_run: bool, on_done: Callable[[Outcome], None],
                 progress: bool) -> list[Outcome]:
    fetcher = Fetcher(config.settings, env=os.environ)
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="parse") as executor:
        checker = Checker(config, store, fetcher, utcnow, executor=executor, dry_run=dry_run,
                          inline_bytes=INLINE_PARSE_BYTES)
        line = Progress(len(sources), checker.in_flight, sys.stderr) if progress else None
        ticker = asyncio.create_task(line.ticking()) if line else None

        def done(outcome: Outcome) -> None:
            on_done(outcome)
            if line:
                line.finished(outcome.failed)

        try:
            return await run_pass(checker, sources, done)
        finally:
            if ticker:
                ticker.cancel()
            await fetcher.aclose()
            if line:
                line.close()


def cmd_run(args) -> int:
    from .worker import run_worker

    return run_worker(args.sources, args.state_dir, clock=utcnow, log_format=args.log_format, verbose=args.verbose)


def cmd_status(args) -> int:
    missing_state = _state_not_found(args.state_dir)
    try:
        configured = {s.id: s for s in _config(args).sources}
    except SourcesNotFound as e:
        for problem in (_sources_not_found(e.path), missing_state):
            if problem:
                print(f"monitor: {problem}", file=sys.stderr)
        return EXIT_USAGE
    except ConfigError as e:
        print(f"warning: {e.path} does not validate ({len(e.problems)} problem(s)); showing stored state only",
              file=sys.stderr)
        configured = None
    store = _open_state(args)
    try:
        sources = report.source_status(configured, {r["id"]: r for r in store.sources()})
        jurisdictions = store.latest_legal_by_jurisdiction()
        outbox = store.outbox_counts()
        undelivered = store.undelivered()
    finally:
        store.close()
    (report.status_json if args.json else report.print_status)(sources, jurisdictions, outbox, undelivered,
                                                                sys.stdout)
    return EXIT_OK


def cmd_deliver(args) -> int:
    """Flush the outbox by hand; exit 1 while alerts still wait or are held."""
    notifier = make_notifier(os.environ, stream=sys.stdout)
    store = _open_state(args)
    try:
        result = deliver_pending(store, notifier, utcnow, force=True, retry_held=args.retry_held,
                                 budget=timedelta(hours=1), limit=100_000)
    finally:
        store.close()
    print(f"{result.delivered} alert(s) delivered to {notifier.name}"
          + (f" ({result.released} held alert(s) retried)" if result.released else ""))
    if result.reminder():
        print(f"monitor: {result.reminder()}", file=sys.stderr)
    return EXIT_FAILURES if result.pending or result.held_total else EXIT_OK


def cmd_test_slack(args) -> int:
    """Post a test message to the default channel, each route and the ops channel; exit 1 if any fails."""
    notifier = make_notifier(os.environ)
    if notifier.name == "console":
        print("monitor: Slack is not configured: set SLACK_BOT_TOKEN and SLACK_CHANNEL, or SLACK_WEBHOOK_URL "
              "(alerts go to the console until then)", file=sys.stderr)
        return EXIT_FAILURES
    settings = _config(args).settings
    channels = ["", *(r.channel for r in settings.routes), *([settings.ops_channel] if settings.ops_channel else [])]
    targets: dict[str, str] = {}
    for channel in channels:
        targets.setdefault(notifier.destination(channel), channel)
    failed = 0
    for destination, channel in targets.items():
        result = notifier.send(probe_alert(utcnow()), channel, None, None)
        failed += not result.ok
        if result.ok:
            print(f"ok: test message posted to {destination}")
        else:
            print(f"monitor: test message to {destination} failed: {result.error}", file=sys.stderr)
    return EXIT_FAILURES if failed else EXIT_OK


def cmd_history(args) -> int:
    store = _open_state(args)
    try:
        if args.source and args.source not in (known := store.source_ids()):
            # a source sources.yaml names but that was never checked is known: it has no changes
            _require_known([args.source], known | _configured_ids(args), f"{args.state_dir} or {args.sources}")
        known_events = set(EVENTS) | store.events() if args.event else set()
        for event in args.event:
            if event not in known_events:
                raise UsageError(f"no change has the event {event!r}{did_you_mean(event, known_events)} "
                                 f"(legal events: {', '.join(EVENTS)})")
        jurisdiction = args.jurisdiction.strip().strip("-").upper() if args.jurisdiction else None
        changes = store.history(args.source, max(1, args.limit), since=args.since, jurisdiction=jurisdiction,
                                severities=SEVERITIES[SEVERITIES.index(args.severity):] if args.severity else (),
                                events=args.event)
    finally:
        store.close()
    if args.json:
        report.changes_json(changes, sys.stdout)
    elif args.csv:
        report.history_csv(changes, sys.stdout)
    elif not changes:
        filtered = args.source or args.since or args.jurisdiction or args.severity or args.event
        print("no changes recorded" + (" that match" if filtered else ""))
    else:
        report.print_history(changes, sys.stdout)
    return EXIT_OK


def _configured_ids(args) -> set[str]:
    """The ids sources.yaml names, if it can be read: a source configured but never checked is not unknown."""
    try:
        return {s.id for s in _config(args).sources}
    except ConfigError:
        return set()


def cmd_show(args) -> int:
    store = _open_state(args)
    try:
        change = store.change(args.change_id)
        deliveries = store.deliveries(change.id) if change else []
        candidates = store.changes_by_prefix(args.change_id, 11) if change is None else []
    finally:
        store.close()
    if len(candidates) > 1:
        report.print_candidates(args.change_id, candidates[:10], len(candidates) > 10, sys.stderr)
        return EXIT_USAGE
    if change is None:
        print(f"monitor: no change with id {args.change_id!r} (see `monitor history`)", file=sys.stderr)
        return EXIT_USAGE
    report.print_change(change, deliveries, sys.stdout)
    return EXIT_OK


COMMANDS = {"validate": cmd_validate, "check": cmd_check, "run": cmd_run, "status": cmd_status,
            "history": cmd_history, "show": cmd_show, "deliver": cmd_deliver, "test-slack": cmd_test_slack}
