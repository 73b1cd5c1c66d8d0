"""Secrets out of logs: URLs lose their userinfo and query values, known secret values are masked anywhere.

Why a filter on the handlers and not care at each call site: the lines that leaked were not ours. httpx logs
every request URL at INFO (`HTTP Request: GET https://api.legiscan.com/?key=...`), and `monitor -v` shows it; a
LegiScan key travels in the query. A filter on every handler of the root logger sees each record that is
written, whichever library made it, and rewrites it before any formatter (text or JSON) reads it: the message,
its traceback, and any extra field. Query values are all masked, not only those with secret-looking names:
keys come under too many names (key, sig, code, X-Amz-Signature) for a list to be trusted.
"""
from __future__ import annotations

import logging
import re
from typing import Iterable, Mapping
from urllib.parse import urlsplit, urlunsplit

MASK = "[redacted]"
# Environment variables whose values are secrets; each is masked wherever it appears in a log line.
SECRET_ENV = ("LEGISCAN_API_KEY", "OPENSTATES_API_KEY", "SLACK_BOT_TOKEN", "SLACK_WEBHOOK_URL")
MIN_SECRET = 6  # shorter values would mask ordinary words; no real key is this short
_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s\"'<>\\]+", re.I)


def redact_url(url: str) -> str:
    """`url` with its user name and password replaced by MASK and every query value by MASK (names are kept)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return MASK
    netloc = parts.netloc
    if "@" in netloc:
        netloc = MASK + "@" + netloc.rpartition("@")[2]
    query = "&".join(f"{name}={MASK}" if sep else name
                     for name, sep, _ in (pair.partition("=") for pair in parts.query.split("&")) if name or sep)
    if netloc == parts.netloc and query == parts.query:
        return url
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with each secret value masked and every URL in it redacted."""
    for secret in secrets:
        if len(secret) >= MIN_SECRET and secret in text:
            text = text.replace(secret, MASK)
    return _URL.sub(lambda m: redact_url(m.group(0)), text) if "://" in text else text


class RedactingFilter(logging.Filter):
    """Rewrites a record in place (so every handler and formatter sees the redacted text) and always lets it pass."""

    _STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}

    def __init__(self, secrets: Iterable[str] = ()):
        super().__init__()
        self.secrets = tuple(sorted({s for s in secrets if s and len(s) >= MIN_SECRET}, key=len, reverse=True))

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_redacted", False):
            return True
        try:
            message = record.getMessage()
        except Exception:  # arguments that do not fit the format: never raise into the caller's log call
            message = f"{record.msg} {record.args}"
        record.msg, record.args = redact_text(message, self.secrets), ()
        if record.exc_info:
            record.exc_text = redact_text(logging.Formatter().formatException(record.exc_info), self.secrets)
            record.exc_info = None  # no formatter may render the unredacted traceback again
        elif record.exc_text:
            record.exc_text = redact_text(record.exc_text, self.secrets)
        if record.stack_info:
            record.stack_info = redact_text(record.stack_info, self.secrets)
        for key, value in list(vars(record).items()):
            if key not in self._STANDARD and isinstance(value, str):
                setattr(record, key, redact_text(value, self.secrets))
        record._redacted = True
        return True


def secrets_in(env: Mapping[str, str]) -> list[str]:
    return [env[name] for name in SECRET_ENV if env.get(name)]


def redact_logging(env: Mapping[str, str]) -> None:
    """Put a RedactingFilter on every handler of the root logger (call after the handlers are set up)."""
    secrets = secrets_in(env)
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter(secrets))
