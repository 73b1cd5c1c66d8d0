"""What the command line accepts: the commands, their options and how a mistyped one is answered.

Kept apart from the commands themselves (cli.py). The exit codes are a contract: 0 all good; 1 the pass finished
but some sources failed; 2 a bad sources.yaml or usage; 130 interrupted.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
from datetime import datetime, timedelta, timezone

from . import __version__
from .config import parse_duration
from .models import SEVERITIES
from .store import iso
from .terminal import did_you_mean

EXIT_OK, EXIT_FAILURES, EXIT_USAGE, EXIT_STATE, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class _Version(argparse.Action):
    """`--version`: the installed distribution's version (the package's own in a checkout that is not installed),
    looked up only when asked for: importlib.metadata costs every command's start-up otherwise."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs=0, help="print the version and exit")

    def __call__(self, parser, namespace, values, option_string=None):
        from importlib.metadata import PackageNotFoundError, version

        try:
            number = version("kratom-monitor")
        except PackageNotFoundError:
            number = __version__
        print(f"monitor {number}")
        parser.exit(EXIT_OK)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse exits 2 too; keep its message short and traceback-free
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"monitor: error: {message}\n")

    def _check_value(self, action, value):
        """argparse's check of a choice, with the closest one suggested (`monitor chek`: did you mean 'check'?)."""
        if action.choices is None or value in action.choices:
            return
        hint = did_you_mean(value, action.choices)
        if action.dest == "command":
            raise argparse.ArgumentError(None, f"unknown command {value!r}{hint}; the commands are "
                                               + ", ".join(action.choices))
        raise argparse.ArgumentError(action, f"invalid choice: {value!r}{hint} (choose from "
                                             + ", ".join(map(str, action.choices)) + ")")


def since(value: str) -> str:
    """`--since`: 7d, 12h, 30m (ago) or an ISO date or time (UTC unless it says otherwise) -> an `iso` time."""
    ago = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d|w)\s*", value)  # a unit: "2026" is no duration
    if ago:
        seconds = parse_duration(ago.group(1) + "d") * 7 if ago.group(2) == "w" else parse_duration(value)
        return iso(utcnow() - timedelta(seconds=seconds))
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is neither a duration (7d, 12h, 30m) nor an ISO date "
                                         "(2026-02-01, 2026-02-01T09:00)") from None
    return iso(when if when.tzinfo else when.replace(tzinfo=timezone.utc))


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="monitor", description="Watch government sources for changes in kratom's legal status.")
    p.add_argument("--version", action=_Version)
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
    st = sub.add_parser("status", help="each source's last check, last outcome, last change and health")
    st.add_argument("--json", action="store_true", help="one JSON document")
    h = sub.add_parser("history", help="recorded changes, newest first")
    h.add_argument("--source", metavar="ID", help="only this source")
    h.add_argument("--since", type=since, metavar="WHEN", help="detected since: 7d, 12h, 30m ago, or an ISO date")
    h.add_argument("--jurisdiction", metavar="CODE", help="in this jurisdiction or under it (US-FL: its cities too)")
    h.add_argument("--severity", choices=SEVERITIES, metavar="LEVEL", help="at this severity or above")
    h.add_argument("--event", action="append", default=[], metavar="EVENT", help="of this event (repeatable)")
    h.add_argument("--limit", type=int, default=20, metavar="N", help="at most N changes (default 20)")
    out = h.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="JSON lines")
    out.add_argument("--csv", action="store_true", help="CSV with a header row")
    s = sub.add_parser("show", help="one change in full, with why it was judged so")
    s.add_argument("change_id", metavar="CHANGE_ID", help="the id, or enough of its start to name one change")
    d = sub.add_parser("deliver", help="send the alerts waiting in the outbox now, ignoring the retry delay")
    d.add_argument("--retry-held", action="store_true",
                   help="also retry alerts Slack refused (once the cause is fixed)")
    sub.add_parser("test-slack", help="post a test message to each configured Slack channel; say what is wrong")
    return p
