"""The fetch layer against a real loopback server: limits, politeness, conditional requests, retries.

Backoff sleeps are recorded by a fake `sleep` where a test is about retries, so those tests take no wall time.
Timing assertions are generous: they tell apart behaviours that differ by whole request durations.
"""
from __future__ import annotations

import asyncio
import contextlib
import gzip
import threading
import time
import tracemalloc
import zlib
from datetime import datetime, timezone
from typing import AsyncIterator, Callable

import httpx
import pytest

from conftest import Response, closed_port_url, gzip_bomb, hang, stream
from monitor import pipeline
from monitor.config import DEFAULT_USER_AGENT, Config, Settings, Source
from monitor.fetch import (INFLATE_STEP, MAX_RETRY_AFTER, Fetcher, PerOriginTransport, Validators,
                           cookie_site)
from monitor.store import Store

PAGE = b"<html><body><main><h1>Kratom bill</h1><p>Introduced in committee.</p></main></body></html>"


class Naps:
    """A fake asyncio.sleep that records the delays asked for and returns at once."""

    def __init__(self):
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


class InFlight:
    """A slow route that remembers the most requests it was serving at once."""

    def __init__(self, delay: float):
        self.delay = delay
        self.now = self.peak = 0
        self.lock = threading.Lock()

    def __call__(self, request) -> Response:
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
        time.sleep(self.delay)
        with self.lock:
            self.now -= 1
        return Response(200, PAGE)


def scripted(*responses: Response) -> Callable[[object], Response]:
    """A route answering with `responses` in order, then the last one forever."""
    queue = list(responses)

    def handle(request) -> Response:
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return handle


def get_all(settings: Settings, urls: list[str], timeout: float = 5.0, sleep=asyncio.sleep, **kw):
    async def go():
        fetcher = Fetcher(settings, sleep=sleep)
        try:
            return await asyncio.gather(*(fetcher.get(u, timeout, **kw) for u in urls))
        finally:
            await fetcher.aclose()

    return asyncio.run(go())


def get(settings: Settings, url: str, **kw):
    return get_all(settings, [url], **kw)[0]


# -- identity and conditional requests ----------------------------------------------------------------------------
def test_requests_carry_an_honest_user_agent_and_only_encodings_we_can_bound(server):
    server.routes["/p"] = PAGE
    assert get(Settings(), server.url("/p")).status == "ok"
    assert get(Settings(user_agent="StateBot/2 (+https://example.org/bot)"), server.url("/p")).status == "ok"
    first, second = (r["headers"] for r in server.requests_to("/p"))
    assert first["User-Agent"] == DEFAULT_USER_AGENT and "kratom-monitor" in first["User-Agent"] and "+http" in \
        first["User-Agent"]
    assert second["User-Agent"] == "StateBot/2 (+https://example.org/bot)"
    assert first["Accept-Encoding"] == "gzip, deflate"


def test_validators_are_sent_back_and_a_304_is_not_modified(server):
    def conditional(request) -> Response:
        if request.headers.get("If-None-Match") == '"v7"':
            return Response(304)
        return Response(200, PAGE, {"ETag": '"v7"', "Last-Modified": "Tue, 03 Mar 2026 10:00:00 GMT"})

    server.routes["/p"] = conditional
    source = Source(id="p", url=server.url("/p"), jurisdiction="US")

    async def go():
        fetcher = Fetcher(Settings())
        try:
            first = await fetcher.fetch(source)
            second = await fetcher.fetch(source, Validators(first.etag, first.last_modified))
            odd = await fetcher.fetch(source, Validators("W/\"caf\u00e9\"", "Tue, 03 Mar 2026\r\nX-Evil: 1"))
            return first, second, odd
        finally:
            await fetcher.aclose()

    first, second, odd = asyncio.run(go())
    assert (first.status, first.etag, first.body) == ("ok", '"v7"', PAGE)
    assert (second.status, second.http_status, second.body) == ("not_modified", 304, b"")
    sent = [r["headers"] for r in server.requests_to("/p")]
    assert "If-None-Match" not in sent[0]
    assert sent[1]["If-None-Match"] == '"v7"' and sent[1]["If-Modified-Since"] == "Tue, 03 Mar 2026 10:00:00 GMT"
    # Validators that cannot be sent verbatim are left out instead of breaking the request.
    assert odd.status == "ok" and "If-None-Match" not in sent[2] and "X-Evil" not in sent[2]


def test_unchanged_pages_are_never_parsed(server, tmp_path, monkeypatch):
    """A 304, and a 200 whose body hashes like the stored one, skip extract; only new bytes are parsed."""
    parsed = []
    real_extract = pipeline.extract
    monkeypatch.setattr(pipeline, "extract", lambda source, result, *args: parsed.append(result.body) or
                        real_extract(source, result, *args))
    mode = {"now": "etag"}

    def page(request) -> Response:
        if mode["now"] == "etag" and request.headers.get("If-None-Match") == '"a"':
            return Response(304)
        body = PAGE if mode["now"] != "new" else PAGE.replace(b"Introduced", b"Passed")
        return Response(200, body, {"ETag": '"a"'} if mode["now"] == "etag" else {})

    server.routes["/bill"] = page
    source = Source(id="bill", url=server.url("/bill"), jurisdiction="US-FL")
    store = Store.open(tmp_path)

    async def check() -> str:
        fetcher = Fetcher(Settings())
        try:
            checker = pipeline.Checker(Config(Settings(), (source,)), store, fetcher,
                                       lambda: datetime.now(timezone.utc))
            return (await checker.check(source)).status
        finally:
            await fetcher.aclose()

    try:
        assert asyncio.run(check()) == "baseline" and len(parsed) == 1
        assert asyncio.run(check()) == "unchanged" and len(parsed) == 1  # 304
        assert server.requests_to("/bill")[-1]["headers"]["If-None-Match"] == '"a"'
        mode["now"] = "no validators"
        assert asyncio.run(check()) == "unchanged" and len(parsed) == 1  # same bytes, same hash
        mode["now"] = "new"
        asyncio.run(check())
        assert len(parsed) == 2 and b"Passed" in parsed[-1]
    finally:
        store.close()


# -- bounded size, redirects, time ----------------------------------------------------------------------------
def test_a_gzip_bomb_stops_at_the_cap_without_inflating_a_whole_read(server):
    server.routes["/bomb"] = stream(lambda: gzip_bomb(2000), {"Content-Encoding": "gzip"})  # 2 GB, ~2 MB sent
    server.routes["/p"] = PAGE
    cap = 1 << 20

    async def go():
        fetcher = Fetcher(Settings(max_body_bytes=cap, retries=0))
        try:
            await fetcher.get(server.url("/p"), 5)  # the client's own allocations (TLS context, pool) come first
            before = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            result = await fetcher.get(server.url("/bomb"), 5)
            return result, tracemalloc.get_traced_memory()[1] - before
        finally:
            await fetcher.aclose()

    tracemalloc.start()
    try:
        result, growth = asyncio.run(go())
    finally:
        tracemalloc.stop()
    assert (result.status, result.error_class) == ("error", "body_too_large")
    assert "decompression" in result.error
    # httpx would inflate each network read whole (9 MB and more here); we inflate in INFLATE_STEP pieces. The body
    # buffer may briefly exist twice while it grows.
    assert growth < 3 * cap + 8 * INFLATE_STEP, growth


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "raw-deflate", "gzip-members"])
def test_compressed_bodies_are_decoded(server, encoding):
    body = PAGE * 50
    packed = {"gzip": gzip.compress(body), "deflate": zlib.compress(body),
              "raw-deflate": zlib.compress(body, wbits=-zlib.MAX_WBITS),
              "gzip-members": gzip.compress(body[:100]) + gzip.compress(body[100:])}[encoding]
    header = "deflate" if "deflate" in encoding else "gzip"
    server.routes["/z"] = Response(200, packed, {"Content-Encoding": header})
    result = get(Settings(), server.url("/z"))
    assert (result.status, result.body) == ("ok", body)


def test_undecodable_or_unsupported_encodings_are_clear_errors(server):
    server.routes["/corrupt"] = Response(200, b"\x1f\x8b\x08\x00garbage-not-gzip" * 10, {"Content-Encoding": "gzip"})
    server.routes["/br"] = Response(200, b"\x0b\x02\x80hello", {"Content-Encoding": "br"})
    corrupt, br = get_all(Settings(retries=0), [server.url("/corrupt"), server.url("/br")])
    assert corrupt.error_class == "decoding_error" and "gzip" in corrupt.error
    assert br.error_class == "unsupported_encoding" and "'br'" in br.error


def test_the_body_cap_counts_bytes_and_does_not_trust_content_length(server):
    cap = 256 * 1024
    server.routes["/endless"] = stream(lambda: (b"<p>kratom</p>" * 8000 for _ in range(1000)))  # ~100 MB, no length
    server.routes["/declared"] = Response(200, b"x" * (cap + 1))
    server.routes["/exact"] = Response(200, b"x" * cap)
    endless, declared, exact = get_all(Settings(max_body_bytes=cap, retries=0),
                                       [server.url(p) for p in ("/endless", "/declared", "/exact")])
    assert endless.error_class == "body_too_large" and "262,144-byte limit" in endless.error
    assert declared.error_class == "body_too_large" and "Content-Length 262,145" in declared.error
    assert exact.status == "ok" and len(exact.body) == cap


def test_a_redirect_loop_ends_as_an_error_and_is_not_retried(server):
    server.routes["/loop"] = Response(302, b"", {"Location": "/loop"})
    server.routes["/old"] = Response(301, b"", {"Location": "/new"})
    server.routes["/new"] = PAGE
    server.routes["/nowhere"] = Response(302, b"")
    loop, moved, nowhere = get_all(Settings(max_redirects=4, retries=3),
                                   [server.url(p) for p in ("/loop", "/old", "/nowhere")], sleep=Naps())
    assert (loop.status, loop.error_class) == ("error", "too_many_redirects") and "4 redirects" in loop.error
    assert len(server.requests_to("/loop")) == 5  # the first request and 4 redirects, once
    assert (moved.status, moved.url, moved.body) == ("ok", server.url("/new"), PAGE)
    assert nowhere.error_class == "http_302" and "no Location" in nowhere.error


def test_a_server_that_never_answers_or_drips_is_cut_at_the_total_timeout(server):
    server.routes["/silent"] = hang(20)
    server.routes["/drip"] = stream(lambda: (time.sleep(0.1) or b"<p>x</p>" for _ in range(1000)))
    started = time.monotonic()
    silent, drip = get_all(Settings(retries=0), [server.url("/silent"), server.url("/drip")], timeout=1.0)
    elapsed = time.monotonic() - started
    assert (silent.error_class, drip.error_class) == ("timeout", "timeout")
    assert "within 1s" in silent.error
    assert elapsed < 5, elapsed  # a read timeout alone would never end the drip


# -- retries ------------------------------------------------------------------------------------------------------
def test_transient_failures_are_retried_with_jittered_backoff(server):
    server.routes["/flaky"] = scripted(Response(503), Response(502), Response(200, PAGE))
    naps = Naps()
    result = get(Settings(retries=2), server.url("/flaky"), sleep=naps)
    assert result.status == "ok" and len(server.requests_to("/flaky")) == 3
    assert len(naps.delays) == 2
    assert 0.5 <= naps.delays[0] <= 1.5 and 1.0 <= naps.delays[1] <= 3.0  # 1 s, then 2 s, each 0.5-1.5x


def test_retries_give_up_after_the_configured_number(server):
    server.routes["/down"] = Response(500)
    naps = Naps()
    result = get(Settings(retries=2), server.url("/down"), sleep=naps)
    assert (result.status, result.error_class, result.http_status) == ("error", "http_500", 500)
    assert len(server.requests_to("/down")) == 3 and len(naps.delays) == 2


def test_429_waits_as_long_as_the_server_asks_within_reason(server):
    server.routes["/busy"] = scripted(Response(429, headers={"Retry-After": "7"}), Response(200, PAGE))
    server.routes["/closed"] = Response(429, headers={"Retry-After": str(int(MAX_RETRY_AFTER) + 3600)})
    naps = Naps()
    busy, closed = get_all(Settings(retries=2), [server.url("/busy"), server.url("/closed")], sleep=naps)
    assert busy.status == "ok" and naps.delays == [7.0]
    # A longer wait is honoured by not retrying in this pass at all.
    assert closed.error_class == "http_429" and "does not retry" in closed.error
    assert len(server.requests_to("/closed")) == 1


def test_client_errors_are_not_retried(server):
    server.routes["/gone"] = Response(410)
    naps = Naps()
    missing, gone = get_all(Settings(retries=3), [server.url("/missing"), server.url("/gone")], sleep=naps)
    assert (missing.error_class, gone.error_class) == ("http_404", "http_410")
    assert naps.delays == [] and len(server.requests_to("/gone")) == 1


def test_a_closed_port_is_a_retried_connection_error():
    naps = Naps()
    result = get(Settings(retries=1), closed_port_url(), sleep=naps)
    assert (result.status, result.error_class) == ("error", "connection_error")
    assert "ConnectError" in result.error and len(naps.delays) == 1


# -- politeness -----------------------------------------------------------------------------------------------
def test_per_host_and_global_concurrency_limits(server):
    slow = server.routes["/slow"] = InFlight(0.15)
    results = get_all(Settings(concurrency=16, per_host_concurrency=3), [server.url("/slow")] * 10)
    assert all(r.status == "ok" for r in results) and slow.peak == 3

    slow = server.routes["/slow"] = InFlight(0.15)
    other = server.url("/slow").replace("127.0.0.1", "localhost")  # another host name, same server
    results = get_all(Settings(concurrency=2, per_host_concurrency=4), [server.url("/slow"), other] * 4)
    assert all(r.status == "ok" for r in results) and slow.peak == 2


def test_a_busy_host_does_not_hold_global_slots_from_other_hosts(server):
    server.routes["/slow"] = InFlight(0.3)
    server.routes["/fast"] = PAGE
    quick = server.url("/fast").replace("127.0.0.1", "localhost")

    async def go():
        fetcher = Fetcher(Settings(concurrency=4, per_host_concurrency=2))
        try:
            queue = [asyncio.create_task(fetcher.get(server.url("/slow"), 10)) for _ in range(12)]
            await asyncio.sleep(0.05)
            started = time.monotonic()
            other = await fetcher.get(quick, 10)
            waited = time.monotonic() - started
            await asyncio.gather(*queue)
            return other, waited, time.monotonic() - started
        finally:
            await fetcher.aclose()

    other, waited, drained = asyncio.run(go())
    assert other.status == "ok"
    assert waited < 0.5 < drained, (waited, drained)  # the slow host's queue takes ~1.8 s


class Streamed(httpx.AsyncByteStream):
    """A MockTransport body the Fetcher can stream (httpx reads `content=` bodies at once, so aiter_raw refuses)."""

    def __init__(self, data: bytes):
        self.data = data

    async def __aiter__(self):
        yield self.data


class VirtualTime:
    """A clock that moves only when the code under test sleeps: exact, and enough while one task sleeps at a time."""

    def __init__(self):
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)
        await asyncio.sleep(0)


def starts_in_virtual_time(settings: Settings, urls: list[str], duration: float = 0.0) -> list[tuple[str, float]]:
    """(host, virtual start time) of each request, through a Fetcher whose clock and sleep are virtual."""
    vt, starts = VirtualTime(), []

    async def handler(request: httpx.Request) -> httpx.Response:
        starts.append((request.url.host, vt.now))
        await vt.sleep(duration)
        return httpx.Response(200, stream=Streamed(PAGE))

    async def go():
        client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        fetcher = Fetcher(settings, client=client, sleep=vt.sleep, clock=vt.clock)
        try:
            await asyncio.gather(*(fetcher.get(u, 5) for u in urls))
        finally:
            await client.aclose()

    asyncio.run(go())
    return starts


def test_host_delay_spaces_starts_exactly_under_concurrency():
    starts = starts_in_virtual_time(Settings(per_host_concurrency=4, host_delays={"slow.gov": 0.2}),
                                    ["https://slow.gov/a"] * 5)
    assert [t for _, t in starts] == pytest.approx([0.0, 0.2, 0.4, 0.6, 0.8])


def test_host_delay_counts_from_the_previous_start_not_its_end():
    """Requests lasting 0.3 s with a 0.2 s delay start every 0.3 s; spacing from the end would give 0.5 s."""
    starts = starts_in_virtual_time(Settings(per_host_concurrency=1, host_delay=0.2), ["https://a.gov/"] * 3,
                                    duration=0.3)
    assert [t for _, t in starts] == pytest.approx([0.0, 0.3, 0.6])


def test_host_delay_as_the_server_sees_it(server):
    """The global delay spaces 127.0.0.1; a per-host override of 0 frees localhost (the same server)."""
    server.routes["/slow"] = InFlight(0.2)
    delayed, free = server.url("/slow"), server.url("/slow").replace("127.0.0.1", "localhost")
    settings = Settings(per_host_concurrency=4, host_delay=0.25, host_delays={"localhost": 0})
    results = get_all(settings, [delayed] * 4 + [free] * 3)
    assert all(r.status == "ok" for r in results)
    starts = {"127.0.0.1": [], "localhost": []}
    for r in server.requests_to("/slow"):
        starts[r["headers"]["Host"].split(":")[0]].append(r["time"])
    spaced = sorted(starts["127.0.0.1"])
    gaps = [b - a for a, b in zip(spaced, spaced[1:])]
    assert len(gaps) == 3 and min(gaps) >= 0.15, gaps  # generous: a loaded machine delays the server's clock too
    # delayed, the three would span at least 0.5 s; free, they start together (a loaded machine adds a little)
    assert max(starts["localhost"]) - min(starts["localhost"]) < 0.4


def test_a_request_with_an_api_key_follows_no_redirect(server):
    from conftest import LoopbackServer

    elsewhere = LoopbackServer()
    try:
        elsewhere.routes["/bills"] = Response(200, b"{}", {"Content-Type": "application/json"})
        server.routes["/bills"] = Response(302, b"", {"Location": elsewhere.url("/bills?page=1")})
        source = Source(id="os", url=server.url("/bills?q=kratom"), jurisdiction="US", kind="openstates")
        fetcher_settings = Settings(retries=0)

        async def go():
            fetcher = Fetcher(fetcher_settings, env={"OPENSTATES_API_KEY": "sekrit"})
            try:
                return await fetcher.fetch(source)
            finally:
                await fetcher.aclose()

        result = asyncio.run(go())
        assert (result.status, result.error_class) == ("error", "redirect_refused")
        assert "set `url` to the final address" in result.error and "sekrit" not in result.error
        assert server.requests_to("/bills")[0]["headers"].get("X-API-KEY") == "sekrit"
        assert elsewhere.requests == [], "the key must not travel to the host a redirect names"
    finally:
        elsewhere.close()


# -- connections ----------------------------------------------------------------------------------------------
class Connections:
    """A route that remembers which connection (client port) each request came on, by origin (Host header)."""

    def __init__(self):
        self.ports: dict[str, set[int]] = {}
        self.lock = threading.Lock()

    def __call__(self, request) -> Response:
        with self.lock:
            self.ports.setdefault(request.headers["Host"], set()).add(request.client_address[1])
        return Response(200, PAGE)


def test_connections_are_reused_per_host_across_hosts(server):
    seen = server.routes["/page"] = Connections()
    other = server.url("/page").replace("127.0.0.1", "localhost")  # another origin, same server
    results = get_all(Settings(concurrency=4, per_host_concurrency=2), [server.url("/page"), other] * 30)
    assert [r.status for r in results] == ["ok"] * 60
    assert len(seen.ports) == 2
    assert all(1 <= len(ports) <= 2 for ports in seen.ports.values()), seen.ports  # a slot, not a request, each


@contextlib.asynccontextmanager
async def per_origin_fetcher(max_origins: int) -> AsyncIterator[Fetcher]:
    async with httpx.AsyncClient(transport=PerOriginTransport(httpx.AsyncHTTPTransport, max_origins)) as client:
        yield Fetcher(Settings(retries=0), client=client)


def test_idle_origins_beyond_the_cap_are_closed_least_recent_first(server):
    from conftest import LoopbackServer

    second = LoopbackServer()
    try:
        seen = server.routes["/page"] = second.routes["/page"] = Connections()
        origins = [s.url("/page").replace("127.0.0.1", name) for s in (server, second)
                   for name in ("127.0.0.1", "localhost")]

        async def connections(max_origins: int, order: list[int]) -> list[int]:
            seen.ports.clear()
            async with per_origin_fetcher(max_origins) as fetcher:
                for i in order:
                    assert (await fetcher.get(origins[i], 5)).status == "ok"
            return [len(seen.ports[origin.split("/")[2]]) for origin in origins]

        assert asyncio.run(connections(8, [0, 1, 2, 3] * 2)) == [1, 1, 1, 1]  # under the cap, nothing closes
        assert asyncio.run(connections(4, [0, 1, 2, 3] * 2)) == [1, 1, 1, 1]
        assert asyncio.run(connections(3, [0, 1, 2, 3] * 2)) == [2, 2, 2, 2]  # each evicted before its turn
        assert asyncio.run(connections(3, [0, 1, 2, 0, 3, 0, 1])) == [1, 2, 1, 1]  # 0 used recently: 1 goes
    finally:
        second.close()


def test_an_origin_with_a_response_in_flight_is_never_closed(server):
    server.routes["/slow"] = stream(lambda: (time.sleep(0.3) or part for part in (PAGE[:20], PAGE[20:])))
    server.routes["/page"] = PAGE
    there = server.url("/page").replace("127.0.0.1", "localhost")

    async def go():
        async with per_origin_fetcher(1) as fetcher:
            slow = asyncio.create_task(fetcher.get(server.url("/slow"), 5))
            await asyncio.sleep(0.1)  # its headers are in, its body is not
            other = await fetcher.get(there, 5)  # a second origin, over the cap of one
            return await slow, other

    slow, other = asyncio.run(go())
    assert (slow.status, slow.body, other.status) == ("ok", PAGE, "ok")


def test_a_proxy_named_in_the_environment_is_still_used(server, monkeypatch):
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.setenv("http_proxy", server.base)
    server.routes["http://kratom-monitor.invalid/page"] = PAGE  # a proxy sees the absolute URL
    result = get(Settings(retries=0), "http://kratom-monitor.invalid/page")
    assert (result.status, result.body) == ("ok", PAGE)
    assert len(server.requests_to("http://kratom-monitor.invalid/page")) == 1


def test_a_session_cookie_is_kept_per_site_and_never_in_the_client_jar(server):
    """A site that insists on its session cookie gets it back; another host does not; and the client's own jar,
    which httpx would copy into every request, stays empty."""
    server.routes["/start"] = Response(200, PAGE, {"Set-Cookie": "ASP.NET_SessionId=abc; path=/; HttpOnly"})
    server.routes["/gated"] = lambda request: Response(200, PAGE) \
        if "ASP.NET_SessionId=abc" in request.headers.get("Cookie", "") else Response(403, b"no session")
    elsewhere = server.url("/gated").replace("127.0.0.1", "localhost")

    async def go():
        fetcher = Fetcher(Settings(retries=0))
        try:
            results = [await fetcher.get(url, 5) for url in (server.url("/start"), server.url("/gated"), elsewhere)]
            return results, list(fetcher.client.cookies.jar)
        finally:
            await fetcher.aclose()

    (start, gated, other), client_jar = asyncio.run(go())
    assert (start.status, gated.status, other.status, other.http_status) == ("ok", "ok", "error", 403)
    assert client_jar == []


@pytest.mark.parametrize("host, site", [("www.flsenate.gov", "flsenate.gov"), ("flsenate.gov", "flsenate.gov"),
                                        ("legislation.gov.uk", "gov.uk"), ("localhost", "localhost"),
                                        ("127.0.0.1", "0.1")])
def test_hosts_that_may_share_a_cookie_share_a_jar(host, site):
    assert cookie_site(host) == site


def test_a_pool_evicted_by_a_cancelled_request_is_still_closed():
    closed = []

    class Pool(httpx.AsyncBaseTransport):
        def __init__(self):
            self.n = len(made)
            made.append(self)

        async def handle_async_request(self, request):
            return httpx.Response(200, content=b"x")

        async def aclose(self):
            await asyncio.sleep(0.05)
            closed.append(self.n)

    made: list[Pool] = []

    async def go():
        transport = PerOriginTransport(Pool, max_origins=1)
        await (await transport.handle_async_request(httpx.Request("GET", "http://a.test/"))).aclose()
        second = asyncio.create_task(transport.handle_async_request(httpx.Request("GET", "http://b.test/")))
        await asyncio.sleep(0.01)  # b's request is closing a's idle pool
        second.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await second
        assert closed == []
        await transport.aclose()

    asyncio.run(go())
    assert sorted(closed) == [0, 1]
