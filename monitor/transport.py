"""The shared HTTP client's connections: a pool per origin and a cookie jar per site, or httpx's own pooling when
the environment names a proxy.
"""
from __future__ import annotations

import contextlib
import urllib.request
from collections import OrderedDict
from dataclasses import dataclass
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import AsyncIterator, Callable

import httpx

from .config import Settings

MAX_CONNECT_TIMEOUT = 15.0
# Only what we inflate ourselves, so a bomb is always bounded (httpx would inflate a whole 64 KB read at once).
ACCEPT_ENCODING = "gzip, deflate"
# Origins whose idle keep-alive connections stay open, per global slot: enough to reuse connections across a watch
# list that interleaves dozens of hosts, few enough that idle sockets stay bounded on a list of thousands.
OPEN_ORIGINS_PER_SLOT = 4
ACCEPT = ("text/html,application/xhtml+xml,application/xml;q=0.9,application/rss+xml;q=0.9,"
          "application/atom+xml;q=0.9,application/json;q=0.9,*/*;q=0.5")


def make_client(settings: Settings) -> httpx.AsyncClient:
    """The shared client. With no proxy in the environment, requests go through a pool per origin and cookies
    through a jar per site (see PerOriginTransport), so the client's own jar is kept empty. When HTTP(S)_PROXY or
    ALL_PROXY names one, httpx builds its own pools (sized by `limits`) and keeps cookies as before, so requests
    still go through the proxy and NO_PROXY is honoured: passing a transport would make httpx ignore proxies in the
    environment."""
    transport = cookies = None
    if not env_proxied():
        per_host = httpx.Limits(max_connections=settings.per_host_concurrency,
                                max_keepalive_connections=settings.per_host_concurrency)
        tls = httpx.create_ssl_context()  # once for all origins (certifi, or SSL_CERT_FILE / SSL_CERT_DIR)
        transport = PerOriginTransport(lambda: httpx.AsyncHTTPTransport(verify=tls, limits=per_host),
                                       OPEN_ORIGINS_PER_SLOT * settings.concurrency)
        cookies = CookieJar(DefaultCookiePolicy(allowed_domains=[]))  # accepts none: the transport keeps them
    return httpx.AsyncClient(
        follow_redirects=False,  # Fetcher follows them itself, one checked hop at a time (redirects.py)
        max_redirects=settings.max_redirects,
        headers={"User-Agent": settings.user_agent, "Accept": ACCEPT, "Accept-Encoding": ACCEPT_ENCODING},
        limits=httpx.Limits(max_connections=settings.concurrency, max_keepalive_connections=settings.concurrency),
        timeout=httpx.Timeout(settings.timeout, connect=min(settings.timeout, MAX_CONNECT_TIMEOUT)),
        transport=transport,
        cookies=cookies,
    )


def env_proxied() -> bool:
    """Whether httpx would send some request through a proxy named in the environment (NO_PROXY=* turns all off)."""
    found = urllib.request.getproxies()
    return (any(found.get(scheme) for scheme in ("http", "https", "all"))
            and "*" not in (host.strip() for host in found.get("no", "").split(",")))


@dataclass(eq=False)
class _Origin:
    pool: httpx.AsyncBaseTransport
    active: int = 0  # requests sent and responses not yet closed


class PerOriginTransport(httpx.AsyncBaseTransport):
    """A connection pool per origin (scheme, host, port) rather than httpx's one pool for every host.

    httpcore walks all the connections of a pool on every request and every response close, polling each idle
    socket and counting idle connections once per connection, so one pool across many hosts costs CPU per request
    that grows with the square of its size. The Fetcher already bounds requests per host and in all, so each pool
    stays as small as one host needs. Once more than `max_origins` pools are open, the least recently used ones with
    nothing in flight are closed, which bounds idle keep-alive sockets on a long list of hosts.

    Cookies (a session some sites insist on) are kept here too, in a jar per site: httpx copies its client's whole
    jar into every request and the standard jar walks every domain it holds, so one jar for a watch list of
    thousands of hosts would cost each request time in proportion to the list."""

    def __init__(self, make_pool: Callable[[], httpx.AsyncBaseTransport], max_origins: int):
        self._make_pool = make_pool
        self._max_origins = max_origins
        self._origins: OrderedDict[tuple[str, str, int | None], _Origin] = OrderedDict()
        self._jars: dict[str, httpx.Cookies] = {}
        self._retired: list[_Origin] = []  # evicted and not yet closed (a cancelled request can leave some)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        site = cookie_site(request.url.host)
        jar = self._jars.get(site)
        if jar is None:
            jar = self._jars[site] = httpx.Cookies()
        jar.set_cookie_header(request)
        response = await self._send(request)
        response.request = request
        try:
            jar.extract_cookies(response)
        except BaseException:
            await response.aclose()  # or its connection would stay checked out, and its origin busy, for good
            raise
        return response

    async def _send(self, request: httpx.Request) -> httpx.Response:
        key = (request.url.scheme, request.url.host, request.url.port)
        origin = self._origins.get(key)
        created = origin is None
        if created:
            origin = self._origins[key] = _Origin(self._make_pool())
        else:
            self._origins.move_to_end(key)
        origin.active += 1
        try:
            if created:
                await self._close_least_recent()
            response = await origin.pool.handle_async_request(request)
        except BaseException:
            origin.active -= 1
            raise
        response.stream = _Release(response.stream, origin)
        return response

    async def _close_least_recent(self) -> None:
        excess = len(self._origins) - self._max_origins
        idle = [key for key, origin in self._origins.items() if not origin.active]
        self._retired.extend(self._origins.pop(key) for key in idle[:max(excess, 0)])
        await self._close_retired()

    async def _close_retired(self) -> None:
        while self._retired:
            with contextlib.suppress(Exception):  # an idle pool that fails to close is gone all the same
                await self._retired[0].pool.aclose()
            self._retired.pop(0)

    async def aclose(self) -> None:
        self._retired.extend(self._origins.values())
        self._origins = OrderedDict()
        await self._close_retired()


def cookie_site(host: str) -> str:
    """The jar a host's cookies live in: its last two labels. A cookie's domain always has two labels or more (the
    jar's policy refuses `Domain=.gov`) and is a suffix of every host it is sent to, so every host that may share
    a cookie shares its jar; the jar's own rules still decide what is sent where inside it."""
    return ".".join(host.rsplit(".", 2)[-2:])


class _Release(httpx.AsyncByteStream):
    """A response body that tells its origin when it is closed (and so no longer in flight)."""

    def __init__(self, stream: httpx.AsyncByteStream, origin: _Origin):
        self._stream = stream
        self._origin: _Origin | None = origin

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._stream.__aiter__()

    async def aclose(self) -> None:
        origin, self._origin = self._origin, None
        try:
            await self._stream.aclose()
        finally:
            if origin is not None:
                origin.active -= 1
