"""Why a fetch failed, in words an operator can act on, and which failures share a cause.

A failed check has an error class (`connection_error`, `timeout`, `http_503`...) that says what the request met. The
cause says what it means: the same `connection_error` is a name that does not resolve, a port nobody listens on, or a
TLS handshake that fails, and each calls for a different fix. Causes are what failures are grouped by (see
monitor/incidents.py): when the network is down, every source fails to resolve, and the operator needs one notice
that says so, not one per source.

Only causes that many sources can share are listed here. A 404, a selector that matches nothing or a soft error page
is about one page, so it has no cause and is reported per source as before.
"""
from __future__ import annotations

import errno
import socket
import ssl
from dataclasses import dataclass

NAME_RESOLUTION = "name_resolution"
NO_ROUTE = "no_route"
CONNECTION_REFUSED = "connection_refused"
CONNECTION_FAILED = "connection_failed"
TLS = "tls"
TIMEOUT = "timeout"
HTTP_5XX = "http_5xx"
HTTP_403 = "http_403"
HTTP_429 = "http_429"

NO_ROUTE_ERRNOS = {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN, errno.EHOSTDOWN}
# When happy eyeballs tries several addresses, the most telling failure names the cause: a refusal proves the host
# was reached, an unreachable IPv6 address next to it proves nothing.
_PRECEDENCE = (TLS, NAME_RESOLUTION, CONNECTION_REFUSED, CONNECTION_FAILED, NO_ROUTE)
# What a failure's message says when its exception chain is gone (a message read back from the store).
_MESSAGE_HINTS = (("name or service not known", NAME_RESOLUTION), ("temporary failure in name resolution",
                  NAME_RESOLUTION), ("nodename nor servname", NAME_RESOLUTION),
                  ("no address associated with hostname", NAME_RESOLUTION), ("[ssl", TLS), ("certificate", TLS),
                  ("connection refused", CONNECTION_REFUSED), ("connect call failed", CONNECTION_REFUSED),
                  ("network is unreachable", NO_ROUTE), ("no route to host", NO_ROUTE),
                  ("connection reset", CONNECTION_FAILED))


@dataclass(frozen=True)
class Cause:
    """How one cause reads. `network`: the cause is this machine's network, not any one host (a name that does not
    resolve while DNS is down says nothing about the host), so its failures recover together.

    `host_fails` is one host's failure ("{host} refuses connections"); `sources_fail` is (singular, plural) of what
    sources do ("fails to resolve", "fail to resolve"); `hosts_recover` is (singular, plural) of what hosts do again
    ("resolves", "resolve"); `hint` is what it probably means and what to try; `alone` the same when one source fails
    so (when it differs)."""

    id: str
    label: str
    host_fails: str
    sources_fail: tuple[str, str]
    hosts_recover: tuple[str, str]
    hint: str
    network: bool = False
    alone: str = ""


CAUSES: dict[str, Cause] = {c.id: c for c in (
    Cause(NAME_RESOLUTION, "Name resolution failing", "{host} does not resolve",
          ("fails to resolve", "fail to resolve"), ("resolves again", "resolve again"),
          "is the network or DNS down?", network=True,
          alone="is its name still right (a site that moved)? If other hosts fail too, the network or DNS is down"),
    Cause(NO_ROUTE, "No route to the hosts", "there is no route to {host}",
          ("cannot be reached (no route)", "cannot be reached (no route)"), ("can be reached again",
                                                                             "can be reached again"),
          "is the network down, or a firewall blocking outgoing traffic?", network=True),
    Cause(CONNECTION_REFUSED, "Connections refused", "{host} refuses connections",
          ("has its connections refused", "have their connections refused"),
          ("accepts connections again", "accept connections again"),
          "are the sites down, or is a firewall or proxy refusing us?"),
    Cause(CONNECTION_FAILED, "Connections dropped", "connections to {host} are reset or dropped",
          ("loses its connection", "lose their connection"), ("keeps connections again", "keep connections again"),
          "is the network unstable, or are the sites dropping us?"),
    Cause(TLS, "TLS failing", "the TLS handshake with {host} fails",
          ("fails the TLS handshake", "fail the TLS handshake"),
          ("completes the TLS handshake again", "complete the TLS handshake again"),
          "an expired or wrong certificate, something intercepting HTTPS (a proxy), or a wrong system clock?"),
    Cause(TIMEOUT, "Timeouts", "{host} does not answer in time",
          ("times out", "time out"), ("answers in time again", "answer in time again"),
          "is the network slow or down, or are the sites overloaded? A slow site can get a longer `timeout`"),
    Cause(HTTP_5XX, "Server errors", "{host} answers with server errors (HTTP 5xx)",
          ("gets server errors (HTTP 5xx)", "get server errors (HTTP 5xx)"),
          ("answers without server errors again", "answer without server errors again"),
          "the sites are down or overloaded; this usually passes by itself"),
    Cause(HTTP_403, "Access refused (HTTP 403)", "{host} answers 403 Forbidden",
          ("is refused with 403 Forbidden", "are refused with 403 Forbidden"), ("lets us in again", "let us in again"),
          "are we blocked (a bot wall, an IP block)? Check settings.user_agent names you, or ask the site"),
    Cause(HTTP_429, "Rate-limited (HTTP 429)", "{host} rate-limits us (HTTP 429)",
          ("is rate-limited (HTTP 429)", "are rate-limited (HTTP 429)"),
          ("no longer rate-limits us", "no longer rate-limit us"),
          "raise host_delays for these hosts, or the sources' interval"),
)}


def cause_of_exception(error: BaseException) -> str | None:
    """The cause behind a transport error, read from its chain (httpx wraps httpcore wraps anyio's "All connection
    attempts failed", whose cause is the OSError or an ExceptionGroup of one per address); None when unknown."""
    found: set[str] = set()
    seen: set[int] = set()
    stack: list[BaseException] = [error]
    while stack:
        e = stack.pop()
        if id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, ssl.SSLError):  # certificate errors included
            found.add(TLS)
        elif isinstance(e, socket.gaierror):
            found.add(NAME_RESOLUTION)
        elif isinstance(e, ConnectionRefusedError):
            found.add(CONNECTION_REFUSED)
        elif isinstance(e, (ConnectionResetError, ConnectionAbortedError, BrokenPipeError)):
            found.add(CONNECTION_FAILED)
        elif isinstance(e, OSError) and e.errno in NO_ROUTE_ERRNOS:
            found.add(NO_ROUTE)
        if isinstance(e, BaseExceptionGroup):
            stack.extend(e.exceptions)
        stack.extend(x for x in (e.__cause__, e.__context__) if x is not None)
    for cause in _PRECEDENCE:
        if cause in found:
            return cause
    return cause_of_message(str(error))


def cause_of_message(message: str) -> str | None:
    lowered = message.lower()
    return next((cause for hint, cause in _MESSAGE_HINTS if hint in lowered), None)


def root_detail(error: BaseException) -> str:
    """The innermost OSError's words ("[Errno 111] Connect call failed ('127.0.0.2', 8080)"): what "All connection
    attempts failed" leaves out. Empty when there is none."""
    seen: set[int] = set()
    e: BaseException | None = error
    detail = ""
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if isinstance(e, BaseExceptionGroup):
            e = e.exceptions[0]
            continue
        if isinstance(e, OSError) and str(e) and str(e) != str(error):
            detail = str(e)
        e = e.__cause__ or e.__context__
    return detail


def failure_cause(error_class: str, http_status: int | None, fetch_cause: str | None) -> str | None:
    """The cause a failed check is grouped by, or None when the failure is about one page (404, a selector, a soft
    error, a body too large...) and so is reported on its own."""
    if fetch_cause in CAUSES:
        return fetch_cause
    if error_class == "timeout":
        return TIMEOUT
    if error_class == "connection_error":
        return CONNECTION_FAILED
    if http_status is not None and 500 <= http_status < 600:
        return HTTP_5XX
    if http_status == 403:
        return HTTP_403
    if http_status == 429:
        return HTTP_429
    return None


def host_failure(cause: str, host: str) -> str:
    """One host's failure and what to try: "127.0.0.2 refuses connections: are the sites down, or ...?"."""
    c = CAUSES[cause]
    return f"{c.host_fails.format(host=host)}: {c.alone or c.hint}"
