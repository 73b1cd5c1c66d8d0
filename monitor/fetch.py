"""HTTP fetching with httpx: bounded, polite, conditional, and never raising past its caller.

Every request is capped in time (connect and total), size (decoded bytes, so a gzip bomb stops early) and
redirects; concurrency is limited globally and per host, with an optional minimum delay between requests to one
host. Transient failures (connection errors, timeouts, 429, 5xx) are retried with backoff and jitter; anything
that still fails becomes a FetchResult with status "error" so one bad source never stops a pass.
"""
from __future__ import annotations

import asyncio
import email.utils
import hashlib
import random
import time
from dataclasses import dataclass
from typing import Callable, Mapping
from urllib.parse import urlsplit

import httpx

from .config import API_KEY_ENV, Settings, Source
from .models import FetchResult

RETRY_STATUSES = {429, 500, 502, 503, 504, 520, 521, 522, 523, 524}
MAX_RETRY_AFTER = 120.0


class BodyTooLarge(Exception):
    pass


@dataclass(frozen=True)
class Validators:
    """What the last good response told us, sent back so an unchanged page costs a 304 and no parse."""

    etag: str | None = None
    last_modified: str | None = None


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def request_auth(source: Source, env: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """Query parameters and headers that carry an API key; keys live in the environment, never in `url`."""
    var = API_KEY_ENV.get(source.kind)
    key = env.get(var, "") if var else ""
    if not key:
        return {}, {}
    if source.kind == "legiscan":
        return {"key": key}, {}
    return {}, {"X-API-KEY": key}


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


def charset_of(content_type: str) -> str | None:
    for part in content_type.split(";")[1:]:
        name, _, value = part.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            return value.strip().strip("'\"")
    return None


class Fetcher:
    """Fetches sources through one shared httpx.AsyncClient (passed in, so tests can drive it)."""

    def __init__(self, settings: Settings, client: httpx.AsyncClient | None = None,
                 env: Mapping[str, str] | None = None, sleep: Callable = asyncio.sleep,
                 clock: Callable[[], float] = time.monotonic):
        self.settings = settings
        self._own_client = client is None
        self.client = client or make_client(settings)
        self.env = env or {}
        self._sleep = sleep
        self._clock = clock
        self._global = asyncio.Semaphore(settings.concurrency)
        self._hosts: dict[str, asyncio.Semaphore] = {}
        self._host_locks: dict[str, asyncio.Lock] = {}
        self._host_last: dict[str, float] = {}

    async def aclose(self) -> None:
        if self._own_client:
            await self.client.aclose()

    async def fetch(self, source: Source, validators: Validators | None = None) -> FetchResult:
        params, headers = request_auth(source, self.env)
        if validators:
            if validators.etag:
                headers["If-None-Match"] = validators.etag
            if validators.last_modified:
                headers["If-Modified-Since"] = validators.last_modified
        return await self.get(source.url, source.timeout, params=params, headers=headers)

    async def get(self, url: str, timeout: float, params: Mapping[str, str] | None = None,
                  headers: Mapping[str, str] | None = None) -> FetchResult:
        """GET with retries; always returns a FetchResult."""
        started = self._clock()
        attempt = 0
        while True:
            result, retry_after = await self._attempt(url, timeout, params or {}, headers or {})
            result = _with_elapsed(result, self._clock() - started)
            if result.status != "error" or retry_after is None or attempt >= self.settings.retries:
                return result
            attempt += 1
            delay = retry_after if retry_after > 0 else min(30.0, 2 ** attempt) * (0.5 + random.random())
            await self._sleep(min(delay, MAX_RETRY_AFTER))

    async def _attempt(self, url: str, timeout: float, params: Mapping[str, str],
                       headers: Mapping[str, str]) -> tuple[FetchResult, float | None]:
        """One request. Returns the result and, when worth retrying, the delay asked for (0 = our own backoff)."""
        host = host_of(url)
        async with self._global, self._host_semaphore(host):
            await self._wait_host_delay(host)
            try:
                async with asyncio.timeout(timeout):
                    return await self._request(url, timeout, params, headers)
            except (TimeoutError, httpx.TimeoutException):
                return _error(url, "timeout", f"no complete response within {timeout:g}s"), 0.0
            except httpx.TooManyRedirects:
                return _error(url, "too_many_redirects",
                              f"more than {self.settings.max_redirects} redirects (a loop?)"), None
            except BodyTooLarge as e:
                return _error(url, "body_too_large", str(e)), None
            except httpx.TransportError as e:
                return _error(url, "connection_error", f"{type(e).__name__}: {e}" if str(e) else type(e).__name__), 0.0
            except httpx.HTTPError as e:  # invalid URL, decoding errors, protocol oddities
                return _error(url, type(e).__name__.lower(), str(e) or type(e).__name__), None
            finally:
                self._host_last[host] = self._clock()

    async def _request(self, url: str, timeout: float, params: Mapping[str, str],
                       headers: Mapping[str, str]) -> tuple[FetchResult, float | None]:
        limit = self.settings.max_body_bytes
        request_timeout = httpx.Timeout(timeout, connect=min(timeout, 15.0))
        async with self.client.stream("GET", url, params=params or None, headers=headers,
                                      timeout=request_timeout) as response:
            final_url = str(response.url.copy_with(query=None)) if params else str(response.url)
            if response.status_code == 304:
                return FetchResult(status="not_modified", url=final_url, http_status=304), None
            if response.status_code >= 400:
                retry_after = None
                if response.status_code in RETRY_STATUSES:
                    retry_after = parse_retry_after(response.headers.get("Retry-After")) or 0.0
                return _error(final_url, f"http_{response.status_code}",
                              f"HTTP {response.status_code} {response.reason_phrase}".strip(),
                              http_status=response.status_code), retry_after
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > limit and not response.headers.get("Content-Encoding"):
                raise BodyTooLarge(f"Content-Length {int(declared):,} bytes exceeds the {limit:,}-byte limit")
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > limit:
                    raise BodyTooLarge(f"body exceeds the {limit:,}-byte limit (decompressed)")
                chunks.append(chunk)
            body = b"".join(chunks)
            content_type = response.headers.get("Content-Type", "")
            return FetchResult(
                status="ok", url=final_url, http_status=response.status_code, body=body,
                content_type=content_type, charset=charset_of(content_type),
                etag=response.headers.get("ETag"), last_modified=response.headers.get("Last-Modified"),
                body_hash=hashlib.sha256(body).hexdigest(),
            ), None

    def _host_semaphore(self, host: str) -> asyncio.Semaphore:
        if host not in self._hosts:
            self._hosts[host] = asyncio.Semaphore(self.settings.per_host_concurrency)
        return self._hosts[host]

    async def _wait_host_delay(self, host: str) -> None:
        delay = self.settings.host_delays.get(host, self.settings.host_delay)
        if delay <= 0:
            return
        lock = self._host_locks.setdefault(host, asyncio.Lock())
        async with lock:
            last = self._host_last.get(host)
            if last is not None:
                wait = last + delay - self._clock()
                if wait > 0:
                    await self._sleep(wait)
            self._host_last[host] = self._clock()


def make_client(settings: Settings) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        follow_redirects=True,
        max_redirects=settings.max_redirects,
        headers={"User-Agent": settings.user_agent, "Accept": "text/html,application/xhtml+xml,application/xml;"
                 "q=0.9,application/json;q=0.9,*/*;q=0.5"},
        limits=httpx.Limits(max_connections=settings.concurrency, max_keepalive_connections=settings.concurrency),
        timeout=httpx.Timeout(settings.timeout, connect=min(settings.timeout, 15.0)),
    )


def _error(url: str, error_class: str, message: str, http_status: int | None = None) -> FetchResult:
    return FetchResult(status="error", url=url, http_status=http_status, error_class=error_class, error=message)


def _with_elapsed(result: FetchResult, elapsed: float) -> FetchResult:
    from dataclasses import replace

    return replace(result, elapsed=round(elapsed, 3))
