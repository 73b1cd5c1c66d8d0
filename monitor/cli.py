"""The command line: validate, check, run, status, history, show. Orchestration only.

Exit codes are a contract: 0 all good; 1 the pass finished but some sources failed; 2 a bad sources.yaml or usage.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from typing import Sequence

from . import __version__
from .config import Config, ConfigError, load_config
from .fetch import Fetcher
from .incidents import flush_after_pass
from .jurisdictions import jurisdiction_name
from .notify import deliver_pending, make_notifier, probe_alert
from .notify.console import format_change
from .pipeline import Checker, Outcome, run_pass
from .store import Store

EXIT_OK, EXIT_FAILURES, EXIT_USAGE = 0, 1, 2
# A check pass parses pages up to this size on its event loop (at most some 30 ms on the lxml path, 250 ms on bs4's),
# larger ones in threads: on 2 cores that saved 10-15% of a pass's CPU against threads for every page (bench/).
INLINE_PARSE_BYTES = 256 * 1024
log = logging.getLogger("monitor")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse exits 2 too; keep its message short and traceback-free
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"monitor: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="monitor", description="Watch government sources for changes in kratom's legal status.")
    p.add_argument("--version", action="version", version=f"monitor {__version__}")
    p.add_argument("--sources", default=os.environ.get("MONITOR_SOURCES", "sources.yaml"),
                   help="watch list (default ./sources.yaml, or $MONITOR_SOURCES)")
    p.add_argument("--state-dir", default=os.environ.get("MONITOR_STATE_DIR", "state"),
                   help="state directory (default ./state, or $MONITOR_STATE_DIR)")
    p.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    sub.add_parser("validate", help="check sources.yaml and say what is wrong")
    c = sub.add_parser("check", help="one pass over every source (or those named)")
    c.add_argument("--source", action="append", default=[], metavar="ID", help="only this source (repeatable)")
    c.add_argument("--json", action="store_true", help="one JSON object per recorded change on stdout, nothing else")
    c.add_argument("--dry-run", action="store_true", help="fetch and judge, but store and send nothing")
    r = sub.add_parser("run", help="the worker: check every source on its interval until stopped")
    r.add_argument("--log-format", choices=("text", "json"), default="text", help="log line format")
    sub.add_parser("status", help="each source's last check, last change and health")
    h = sub.add_parser("history", help="recorded changes, newest first")
    h.add_argument("--source", metavar="ID", help="only this source")
    h.add_argument("--limit", type=int, default=20, metavar="N", help="at most N changes (default 20)")
    h.add_argument("--json", action="store_true", help="JSON lines")
    s = sub.add_parser("show", help="one change in full, with why it was judged so")
    s.add_argument("change_id", metavar="CHANGE_ID")
    d = sub.add_parser("deliver", help="send the alerts waiting in the outbox now, ignoring the retry delay")
    d.add_argument("--retry-held", action="store_true",
                   help="also retry alerts Slack refused (once the cause is fixed)")
    sub.add_parser("test-slack", help="post a test message to each configured Slack channel; say what is wrong")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return COMMANDS[args.command](args)
    except ConfigError as e:
        for problem in e.problems:
            print(f"{e.path}: {problem}", file=sys.stderr)
        print(f"{e.path}: {len(e.problems)} problem(s); nothing was checked", file=sys.stderr)
        return EXIT_USAGE
    except UsageError as e:
        print(f"monitor: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


def _config(args) -> Config:
    return load_config(args.sources)


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
        unknown = [sid for sid in args.source if sid not in known]
        if unknown:
            raise UsageError(f"no source with id {', '.join(map(repr, unknown))} in {config.path}")
        sources = tuple(known[sid] for sid in dict.fromkeys(args.source))
    human = not args.json and sys.stdout.isatty()
    notifier = make_notifier(os.environ, stream=sys.stdout if human else sys.stderr)
    store = Store.open(args.state_dir)
    try:
        if not args.dry_run:
            deliver_pending(store, notifier, utcnow)
        outcomes = asyncio.run(_check(config, store, sources, args.dry_run, progress=human))
        promoted: set[str] = set()
        if not args.dry_run:  # failures sharing a cause are alerted once per cause, after the whole pass
            promoted = flush_after_pass(store, config, utcnow)
            reminder = deliver_pending(store, notifier, utcnow).reminder()
            if reminder:
                print(f"monitor: {reminder}", file=sys.stderr)
    finally:
        store.close()
    changes = [c for o in outcomes for c in o.changes]
    for change in changes:
        change.alert = change.alert or change.id in promoted  # alone in its group: alerted on its own after all
    if human:
        _print_human(outcomes, changes, notifier.name, args.dry_run)
    else:
        for change in changes:
            print(json.dumps(change.as_json(), ensure_ascii=False), flush=False)
        sys.stdout.flush()
    failed = [o for o in outcomes if o.failed]
    for o in failed:
        print(f"monitor: {o.source.id}: {o.error_class}: {o.error}", file=sys.stderr)
    return EXIT_FAILURES if failed else EXIT_OK


async def _check(config: Config, store: Store, sources, dry_run: bool, progress: bool) -> list[Outcome]:
    done = Counter()

    def on_done(outcome: Outcome) -> None:
        done["all"] += 1
        done["failed"] += outcome.failed
        if progress:
            print(f"\rchecked {done['all']}/{len(sources)} sources, {done['failed']} failed", end="",
                  file=sys.stderr, flush=True)

    fetcher = Fetcher(config.settings, env=os.environ)
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="parse") as executor:
        checker = Checker(config, store, fetcher, utcnow, executor=executor, dry_run=dry_run,
                          inline_bytes=INLINE_PARSE_BYTES)
        try:
            return await run_pass(checker, sources, on_done)
        finally:
            await fetcher.aclose()
            if progress:
                print(file=sys.stderr)


def _print_human(outcomes: list[Outcome], changes, notifier_name: str, dry_run: bool) -> None:
    quiet = [c for c in changes if not c.alert or dry_run or notifier_name != "console"]
    for change in quiet:
        flag = "" if not change.alert else (" (would alert)" if dry_run else f" (sent to {notifier_name})")
        print(format_change(change) + flag + "\n")
    statuses = Counter(o.status for o in outcomes)
    legal = sum(c.kind == "legal" for c in changes)
    print(f"{'sources':>10} {len(outcomes)}")
    for status in ("baseline", "unchanged", "changed", "held", "failed"):
        if statuses[status]:
            print(f"{status:>10} {statuses[status]}")
    print(f"{'changes':>10} {legal} legal, {len(changes) - legal} operational"
          + (" (dry run: nothing stored or sent)" if dry_run else ""))
    slow = sorted(outcomes, key=lambda o: -o.duration)[:3]
    if slow and slow[0].duration > 5:
        print(f"{'slowest':>10} " + ", ".join(f"{o.source.id} {o.duration:.1f}s" for o in slow))


def cmd_run(args) -> int:
    from .worker import run_worker

    return run_worker(args.sources, args.state_dir, clock=utcnow, log_format=args.log_format, verbose=args.verbose)


def cmd_status(args) -> int:
    try:
        config = _config(args)
        configured = {s.id: s for s in config.sources}
    except ConfigError as e:
        print(f"warning: {e.path} does not validate ({len(e.problems)} problem(s)); showing stored state only",
              file=sys.stderr)
        configured = {}
    store = Store.open(args.state_dir)
    try:
        rows = {r["id"]: r for r in store.sources()}
        jurisdictions = store.latest_legal_by_jurisdiction()
        outbox = store.outbox_counts()
        undelivered = store.undelivered()
    finally:
        store.close()
    ids = list(configured) + [i for i in rows if i not in configured]
    table = [("SOURCE", "HEALTH", "LAST CHECK", "STATUS", "LAST CHANGE", "NEXT RUN")]
    for sid in ids:
        r = rows.get(sid, {})
        enabled = configured[sid].enabled if sid in configured else None
        failures = int(r.get("consecutive_failures") or 0)
        health = ("disabled" if enabled is False else "removed" if enabled is None else
                  "never checked" if not r.get("last_checked") else
                  f"failing x{failures}" if failures else "ok")
        status = r.get("last_status") or "-"
        if failures and r.get("last_error_class"):
            status = f"{status} ({r['last_error_class']})"
        table.append((sid, health, r.get("last_checked") or "-", status, r.get("last_change_at") or "-",
                      r.get("next_run") or "-"))
    _print_table(table)
    if jurisdictions:
        print("\nLatest legal event per jurisdiction:")
        _print_table([("JURISDICTION", "EVENT", "SEVERITY", "DETECTED", "SUMMARY")] + [
            (f"{j['jurisdiction']} {jurisdiction_name(j['jurisdiction'])}", j["event"], j["severity"],
             j["detected_at"], (j["summary"] or "")[:90]) for j in jurisdictions])
    if outbox:
        print("\nAlert outbox: " + ", ".join(f"{n} {status}" for status, n in sorted(outbox.items())))
    if undelivered:
        _print_table([("CHANGE", "CHANNEL", "STATUS", "ATTEMPTS", "NEXT TRY", "LAST ERROR")] + [
            (d["change_id"], d["channel"] or "default", d["status"], d["attempts"],
             d["next_attempt_at"] if d["status"] != "held" else "after a fix", (d["last_error"] or "-")[:160])
            for d in undelivered])
    return EXIT_OK


def cmd_deliver(args) -> int:
    """Flush the outbox by hand; exit 1 while alerts still wait or are held."""
    notifier = make_notifier(os.environ, stream=sys.stdout)
    store = Store.open(args.state_dir)
    try:
        report = deliver_pending(store, notifier, utcnow, force=True, retry_held=args.retry_held,
                                 budget=timedelta(hours=1), limit=100_000)
    finally:
        store.close()
    print(f"{report.delivered} alert(s) delivered to {notifier.name}"
          + (f" ({report.released} held alert(s) retried)" if report.released else ""))
    if report.reminder():
        print(f"monitor: {report.reminder()}", file=sys.stderr)
    return EXIT_FAILURES if report.pending or report.held_total else EXIT_OK


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
    store = Store.open(args.state_dir)
    try:
        changes = store.history(args.source, max(1, args.limit))
    finally:
        store.close()
    if args.json:
        for c in changes:
            print(json.dumps(c.as_json(), ensure_ascii=False))
        return EXIT_OK
    if not changes:
        print("no changes recorded" + (f" for {args.source}" if args.source else ""))
        return EXIT_OK
    _print_table([("ID", "DETECTED", "SOURCE", "KIND", "EVENT", "SEVERITY", "ALERT", "SUMMARY")] + [
        (c.id, c.detected_at, c.source, c.kind, c.event, c.severity, "yes" if c.alert else "no", c.summary[:80])
        for c in changes])
    return EXIT_OK


def cmd_show(args) -> int:
    store = Store.open(args.state_dir)
    try:
        change = store.change(args.change_id)
        deliveries = store.deliveries(change.id) if change else []
    finally:
        store.close()
    if change is None:
        print(f"monitor: no change with id {args.change_id!r} (see `monitor history`)", file=sys.stderr)
        return EXIT_USAGE
    print(f"Change {change.id}  ({change.kind}, {'alerted' if change.alert else 'not alerted'})")
    print(f"Source:       {change.source_name} [{change.source}]")
    print(f"URL:          {change.url}")
    print(f"Jurisdiction: {change.jurisdiction} ({jurisdiction_name(change.jurisdiction)})")
    print(f"Detected:     {change.detected_at}")
    print(f"Event:        {change.event}   Severity: {change.severity}   Direction: {change.direction}")
    print(f"Measure:      {change.measure or '-'}")
    print(f"Summary:      {change.summary}")
    for title, lines, sign in (("Added", change.added, "+"), ("Removed", change.removed, "-")):
        if lines:
            print(f"\n{title} ({len(lines)}):")
            for line in lines:
                print(f"  {sign} {line}")
    blocks = change.explanation.get("blocks") or []
    if blocks:
        print("\nWhy it was judged a legal change:")
        for b in blocks:
            print(f"  - {b['change']} block: {b['why']}; event {b['event']!r} from {b['phrase']!r}")
            print(f"      \"{b['text'][:200]}\"")
    if deliveries:
        print("\nDelivery:")
        for d in deliveries:
            where = d["channel"] or "default channel"
            detail = f"ts {d['ts']}" if d["ts"] else (d["last_error"] or "")
            print(f"  {where}: {d['status']} after {d['attempts']} attempt(s) {detail}".rstrip())
    return EXIT_OK


def _print_table(rows: list[tuple]) -> None:
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(str(v).ljust(w) for v, w in zip(row, widths)).rstrip())


COMMANDS = {"validate": cmd_validate, "check": cmd_check, "run": cmd_run, "status": cmd_status,
            "history": cmd_history, "show": cmd_show, "deliver": cmd_deliver, "test-slack": cmd_test_slack}
