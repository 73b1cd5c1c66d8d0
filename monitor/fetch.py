"""HTTP fetching with httpx: bounded, polite, conditional, and never raising past its caller.

Every request is capped in time (connect and total), size (decoded bytes, inflated by us in small steps so a gzip
bomb stops at the cap instead of expanding a whole network read) and redirects, which are followed here one hop at
a time so each hop can be held to the redirect policy (redirects.py) before it is sent. Concurrency is limited
globally and per host, with an optional minimum spacing between request starts to one host. Transient failures
(connection errors, timeouts, 429, 5xx) are retried with backoff and jitter; anything that still fails becomes a
FetchResult with status "error", so one bad source never stops a pass.
"""
from __future__ import annotations

import asyncio
import contextlib
import email.utils
import hashlib
import random
import time
import zlib
from dataclasses import dataclass, replace
from typing import AsyncIterator, Callable, Iterator, Mapping
from urllib.parse import urlsplit

import httpx

from .causes import cause_of_exception, root_detail
from .config import API_KEY_ENV, Settings, Source
from .models import FetchResult
from .redact import redact_url
from .redirects import RedirectPolicy, RedirectRefused, Resolver, check_connected, check_hop, policy_for, system_resolve
from .transport import (ACCEPT_ENCODING, MAX_CONNECT_TIMEOUT, PerOriginTransport, cookie_site, env_proxied,
                        make_client)

__all__ = ["FetchFailure", "Fetcher", "PerOriginTransport", "Validators", "cookie_site", "make_client"]

# A Retry-After longer than this is honoured by not retrying within the pass (the next scheduled check will).
MAX_RETRY_AFTER = 120.0
BACKOFF_BASE = 1.0
BACKOFF_MAX = 30.0
INFLATE_STEP = 64 * 1024
REDIRECT_BODY = 64 * 1024  # a redirect's body is read up to this much (so its connection is kept), then dropped


class FetchFailure(Exception):
    """Why a request produced no usable body. `retry_after` is None when retrying cannot help, 0 for our own
    backoff, or the wait the server asked for."""

    def __init__(self, error_class: str, message: str, retry_after: float | None = None,
                 http_status: int | None = None, cause: str | None = None):
        super().__init__(message)
        self.error_class = error_class
        self.retry_after = retry_after
        self.http_status = http_status
        self.cause = cause


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


def conditional_headers(validators: Validators | None) -> dict[str, str]:
    """If-None-Match / If-Modified-Since from stored validators; a value that cannot be sent back verbatim (non-ASCII
    or with control characters) is left out rather than breaking the request."""
    headers = {}
    if validators:
        for name, value in (("If-None-Match", validators.etag), ("If-Modified-Since", validators.last_modified)):
            if value and value.isascii() and value.isprintable():
                headers[name] = value
    return headers


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Retry-After as seconds from now (delta-seconds or an HTTP date); None when absent or unreadable."""
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


def retry_delay(attempt: int, retry_after: float) -> float:
    """Exponential backoff with jitter (0.5-1.5x), never sooner than the server asked."""
    return max(retry_after, min(BACKOFF_MAX, BACKOFF_BASE * 2 ** attempt) * random.uniform(0.5, 1.5))


class Fetcher:
    """Fetches sources through one shared httpx.AsyncClient (passed in, so tests can drive it)."""

    def __init__(self, settings: Settings, client: httpx.AsyncClient | None = None,
                 env: Mapping[str, str] | None = None, sleep: Callable = asyncio.sleep,
                 clock: Callable[[], float] = time.monotonic, resolve: Resolver = system_resolve):
        self.settings = settings
        self._own_client = client is None
        self.client = client or make_client(settings)
        self.env = env or {}
        self._sleep = sleep
        self._clock = clock
        self._global = asyncio.Semaphore(settings.concurrency)
        self._hosts: dict[str, asyncio.Semaphore] = {}
        self._host_locks: dict[str, asyncio.Lock] = {}
        self._host_next: dict[str, float] = {}  # earliest start of the next request to the host
        self._resolve = resolve
        # Through a proxy, the peer of a connection is the proxy: only a direct connection's address is judged.
        self._direct = not env_proxied()

    async def aclose(self) -> None:
        if self._own_client:
            await self.client.aclose()

    async def fetch(self, source: Source, validators: Validators | None = None) -> FetchResult:
        params, headers = request_auth(source, self.env)
        headers.update(conditional_headers(validators))
        return await self.get(source.url, source.timeout, params=params, headers=headers,
                              allow_insecure_redirect=source.allow_insecure_redirect)

    async def get(self, url: str, timeout: float, params: Mapping[str, str] | None = None,
                  headers: Mapping[str, str] | None = None, allow_insecure_redirect: bool = False) -> FetchResult:
        """GET with retries; always returns a FetchResult."""
        started = self._clock()
        for attempt in range(self.settings.retries + 1):
            try:
                result = await self._attempt(url, timeout, params or {}, headers or {}, allow_insecure_redirect)
                break
            except FetchFailure as failure:
                if failure.retry_after is None or attempt == self.settings.retries:
                    result = FetchResult(status="error", url=url, http_status=failure.http_status,
                                         error_class=failure.error_class, error=str(failure),
                                         cause=failure.cause)
                    break
                await self._sleep(retry_delay(attempt, failure.retry_after))
        return replace(result, elapsed=round(self._clock() - started, 3))

    async def _attempt(self, url: str, timeout: float, params: Mapping[str, str], headers: Mapping[str, str],
                       allow_insecure: bool) -> FetchResult:
        """One request inside the host's and the global limits; every failure becomes a FetchFailure."""
        async with self._slot(host_of(url)):
            try:
                async with asyncio.timeout(timeout):
                    return await self._request(url, timeout, params, headers, allow_insecure)
            except RedirectRefused as e:
                raise FetchFailure("redirect_refused", str(e)) from None
            except (TimeoutError, httpx.TimeoutException):
                raise FetchFailure("timeout", f"no complete response within {timeout:g}s", 0.0) from None
            except httpx.TooManyRedirects:
                raise FetchFailure("too_many_redirects",
                                   f"more than {self.settings.max_redirects} redirects (a loop?)") from None
            except httpx.UnsupportedProtocol as e:
                raise FetchFailure("unsupported_protocol", str(e) or "not an http(s) URL") from None
            except httpx.ProtocolError as e:
                raise FetchFailure("protocol_error", _describe(e), 0.0) from None
            except httpx.TransportError as e:  # the cause (DNS, refused, TLS...) is read while the chain is at hand
                detail = root_detail(e)
                raise FetchFailure("connection_error", _describe(e) + (f" ({detail})" if detail else ""), 0.0,
                                   cause=cause_of_exception(e)) from None
            except (httpx.HTTPError, httpx.InvalidURL) as e:  # e.g. a redirect to an unreadable Location
                raise FetchFailure("request_error", _describe(e)) from None

    async def _request(self, url: str, timeout: float, params: Mapping[str, str], headers: Mapping[str, str],
                       allow_insecure: bool) -> FetchResult:
        limit = self.settings.max_body_bytes
        request_timeout = httpx.Timeout(timeout, connect=min(timeout, MAX_CONNECT_TIMEOUT))
        # merged into the URL's own query: httpx 0.28 replaces the query with `params` (LegiScan's op=... would go)
        target = httpx.URL(url).copy_merge_params(params) if params else url
        # A request carrying an API key never follows a redirect: httpx would pass a custom key header (Open
        # States' X-API-KEY) and a query key on to whatever host the Location names.
        keyed = bool(params) or any(h.lower() == "x-api-key" for h in headers)
        request = self.client.build_request("GET", target, headers=headers, timeout=request_timeout)
        async with contextlib.aclosing(await self._send(request, not keyed, allow_insecure)) as response:
            final_url = str(response.url.copy_with(query=None)) if params else str(response.url)
            status = response.status_code
            if status == 304:
                await response.aread()  # the empty body, read so the connection goes back to the pool
                return FetchResult(status="not_modified", url=final_url, http_status=304)
            if keyed and response.is_redirect:
                location = redact_url(response.headers.get("Location", "?"))[:120]
                raise FetchFailure("redirect_refused", f"the API redirected to {location}; a request "
                                   f"carrying an API key follows no redirect: set `url` to the final address",
                                   http_status=status)
            if not 200 <= status < 300:
                raise _status_failure(response)
            encoding = response.headers.get("Content-Encoding", "")
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > limit and not encoding:
                raise FetchFailure("body_too_large", f"Content-Length {int(declared):,} bytes exceeds the "
                                   f"{limit:,}-byte limit (max_body)", http_status=status)
            body = await _read_capped(response.aiter_raw(), _decoder(encoding), limit)
            content_type = response.headers.get("Content-Type", "")
            return FetchResult(
                status="ok", url=final_url, http_status=status, body=body,
                content_type=content_type, charset=charset_of(content_type),
                etag=response.headers.get("ETag"), last_modified=response.headers.get("Last-Modified"),
                body_hash=hashlib.sha256(body).hexdigest(),
            )

    async def _send(self, request: httpx.Request, follow: bool, allow_insecure: bool) -> httpx.Response:
        """The response to `request`, its body not yet read. With `follow`, redirects are followed one hop at a
        time, at most max_redirects of them, each checked (redirects.check_hop) before it is sent and, once it is
        answered, by the address it reached (check_connected). A refused hop raises RedirectRefused."""
        policy: RedirectPolicy | None = None
        for _ in range(self.settings.max_redirects + 1):
            response = await self.client.send(request, stream=True, follow_redirects=False)
            try:
                if policy is not None and self._direct:
                    check_connected(response, policy)
                following = follow and response.next_request is not None
                if following:
                    await _drain(response)
            except BaseException:
                await response.aclose()
                raise
            if not following:
                return response
            await response.aclose()
            policy = policy or await policy_for(request.url, allow_insecure, self._resolve)
            await check_hop(request.url, response.next_request.url, policy, self._resolve)
            request = response.next_request
        raise FetchFailure("too_many_redirects", f"more than {self.settings.max_redirects} redirects (a loop?)")

    @contextlib.asynccontextmanager
    async def _slot(self, host: str) -> AsyncIterator[None]:
        """A per-host slot first (so a busy host queues without holding global slots), then the host's start
        spacing, then a global slot. The spacing is start-to-start: the next start is reserved only once this
        request holds its global slot, under a per-host lock, so concurrent requests to one host never bunch."""
        async with self._host_semaphore(host):
            delay = self.settings.host_delays.get(host, self.settings.host_delay)
            if delay > 0:
                async with self._host_locks.setdefault(host, asyncio.Lock()):
                    wait = self._host_next.get(host, 0.0) - self._clock()
                    if wait > 0:
                        await self._sleep(wait)
                    await self._global.acquire()
                    self._host_next[host] = self._clock() + delay
            else:
                await self._global.acquire()
            try:
                yield
            finally:
                self._global.release()

    def _host_semaphore(self, host: str) -> asyncio.Semaphore:
        if host not in self._hosts:
            self._hosts[host] = asyncio.Semaphore(self.settings.per_host_concurrency)
        return self._hosts[host]


def _status_failure(response: httpx.Response) -> FetchFailure:
    """A non-2xx answer. 429 and 5xx are worth retrying (after Retry-After when it is short); others are not."""
    status = response.status_code
    message = f"HTTP {status} {response.reason_phrase}".strip()
    if 300 <= status < 400:
        return FetchFailure(f"http_{status}", f"{message}: a redirect with no Location to follow", http_status=status)
    if status != 429 and status < 500:
        return FetchFailure(f"http_{status}", message, http_status=status)
    asked = parse_retry_after(response.headers.get("Retry-After"))
    if asked is not None and asked > MAX_RETRY_AFTER:
        return FetchFailure(f"http_{status}", f"{message}; the server asked to wait {asked:.0f}s, so this pass "
                            f"does not retry", http_status=status)
    return FetchFailure(f"http_{status}", message, asked or 0.0, http_status=status)


class _Inflater:
    """gzip/deflate decoding in bounded steps: no single step yields more than INFLATE_STEP bytes, so memory
    follows the body cap however compressible the stream is."""

    def __init__(self, encoding: str):
        self.encoding = encoding
        self._gzip = encoding != "deflate"
        self._z = zlib.decompressobj(zlib.MAX_WBITS | 16 if self._gzip else zlib.MAX_WBITS)
        self._may_be_raw = not self._gzip  # "deflate" is sometimes sent without its zlib header (old IIS)

    def feed(self, data: bytes) -> Iterator[bytes]:
        while data:
            try:
                out = self._z.decompress(data, INFLATE_STEP)
            except zlib.error as e:
                if self._may_be_raw:
                    self._z, self._may_be_raw = zlib.decompressobj(-zlib.MAX_WBITS), False
                    continue
                raise FetchFailure("decoding_error", f"the {self.encoding} body is corrupt ({e})") from None
            data = self._z.unconsumed_tail
            if self._z.eof:
                rest, data = self._z.unused_data, b""
                if self._gzip and rest.strip(b"\0"):  # another gzip member follows
                    self._z, data = zlib.decompressobj(zlib.MAX_WBITS | 16), rest
            if out:
                self._may_be_raw = False
                yield out

    def flush(self) -> bytes:
        """What zlib still holds once all input is fed: at most the tail of one back-reference."""
        return self._z.flush()


class _Identity:
    @staticmethod
    def feed(data: bytes) -> Iterator[bytes]:
        yield data

    @staticmethod
    def flush() -> bytes:
        return b""


def _decoder(content_encoding: str) -> _Inflater | _Identity:
    codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip().lower() not in ("", "identity")]
    if not codings:
        return _Identity()
    if len(codings) == 1 and codings[0] in ("gzip", "x-gzip", "deflate"):
        return _Inflater(codings[0])
    raise FetchFailure("unsupported_encoding", f"Content-Encoding {content_encoding!r} is not supported "
                       f"(we ask for {ACCEPT_ENCODING})")


async def _read_capped(raw: AsyncIterator[bytes], decoder: _Inflater | _Identity, limit: int) -> bytes:
    """The decoded body, or body_too_large as soon as it passes `limit` (Content-Length is not trusted)."""
    body = bytearray()

    def add(piece: bytes) -> None:
        body.extend(piece)
        if len(body) > limit:
            raise FetchFailure("body_too_large", f"the body exceeds the {limit:,}-byte limit (max_body; counted "
                               "after decompression)")

    async for chunk in raw:
        for piece in decoder.feed(chunk):
            add(piece)
    add(decoder.flush())
    return bytes(body)


async def _drain(response: httpx.Response) -> None:
    """Read a little of a redirect's body, so a short one leaves its connection reusable; a long one is cut off."""
    read = 0
    async for chunk in response.aiter_raw():
        read += len(chunk)
        if read > REDIRECT_BODY:
            break


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
