"""Where log lines go and what they look like, for the one-shot commands and for the worker.

Both put a RedactingFilter (redact.py) on their handlers, so no line, at any level and from any library, carries a
key, a token or a URL's credentials or query values: httpx logs each request's full URL at INFO, and a LegiScan key
travels in the query.
"""
from __future__ import annotations

import json
import logging
import os
import sys
from datetime import datetime, timezone

from .redact import redact_logging


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with a check's fields (source, status, duration, result) as keys."""

    STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "_redacted"}

    def format(self, record: logging.LogRecord) -> str:
        out = {"time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
               "level": record.levelname.lower(), "logger": record.name, "message": record.getMessage()}
        out.update((k, v) for k, v in vars(record).items() if k not in self.STANDARD)
        if record.exc_info or record.exc_text:  # the filter leaves a redacted exc_text in place of exc_info
            out["exception"] = record.exc_text or self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


def configure_command_logging(verbose: bool) -> None:
    """validate, check, status...: warnings only (everything with -v), on stderr."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    redact_logging(os.environ)


def configure_logging(log_format: str, verbose: bool) -> None:
    """`monitor run`: monitor's own lines at INFO (DEBUG with -v), other libraries' warnings, text or JSON."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else
                         logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logging.basicConfig(level=logging.WARNING, handlers=[handler], force=True)  # other libraries: warnings only
    logging.getLogger("monitor").setLevel(logging.DEBUG if verbose else logging.INFO)
    # APScheduler logs every job's start and end at INFO, httpx every request; the worker's own line per check says
    # more, so they are shown with -v only (request URLs redacted).
    for chatty in ("apscheduler", "httpx"):
        logging.getLogger(chatty).setLevel(logging.INFO if verbose else logging.WARNING)
    redact_logging(os.environ)
