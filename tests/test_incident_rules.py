"""The incident rules over hours of a worker's life, on a real store with a clock the test moves.

Failures are recorded by the pipeline's own Checker (the same records a failed fetch makes), so these tests cover
what the command-line tests cannot in seconds: a DNS outage across many hosts, sources not due again for hours, hosts
joining an incident one after another. How causes are read from real exceptions is checked at the end.
"""
from __future__ import annotations

import asyncio
import errno
import socket
import ssl
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from monitor.causes import (CONNECTION_REFUSED, HTTP_5XX, NAME_RESOLUTION, NO_ROUTE, TLS, cause_of_exception,
                            failure_cause)
from monitor.config import Config, Settings, Source
from monitor.fetch import Fetcher
from monitor.incidents import GROUP_WINDOW, Incidents
from monitor.pipeline import Checker
from monitor.store import Store

HOUR = 3600.0


class Clock:
    def __init__(self):
        self.now = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class World:
    """A store, a Checker recording failures and good checks as a pass would, and the incidents flushed after."""

    def __init__(self, tmp_path, sources: list[Source], threshold: int = 3):
        self.clock = Clock()
        self.path = tmp_path
        self.config = Config(settings=Settings(failure_threshold=threshold), sources=tuple(sources))
        self.store = Store.open(tmp_path)
        self.fetcher = Fetcher(self.config.settings)
        self.checker = Checker(self.config, self.store, self.fetcher, self.clock)
        self.incidents = Incidents(self.store, self.clock)
        self.sources = {s.id: s for s in sources}
        self.notices: list[str] = []

    def fail(self, sid: str, cause: str, http_status: int | None = None) -> None:
        source = self.sources[sid]
        self.checker._failure(source, self.store.source_state(sid), self.clock(), "connection_error",
                              f"ConnectError: {cause} on {source.url}", http_status, cause)

    def ok(self, sid: str) -> None:
        state, changes = self.checker._healthy(self.sources[sid], self.store.source_state(sid), self.clock(),
                                               "unchanged")
        self.store.record(sid, state, None, changes)

    def flush(self, settle: bool = False) -> list[str]:
        new = [c.summary for c in self.incidents.flush(self.config, settle).notices]
        self.notices += new
        return new

    def close(self) -> None:
        asyncio.run(self.fetcher.aclose())
        self.store.close()


@pytest.fixture
def world(tmp_path):
    made: list[World] = []

    def make(sources: list[Source], threshold: int = 3) -> World:
        made.append(World(tmp_path, sources, threshold))
        return made[-1]

    yield make
    for w in made:
        w.close()


def src(sid: str, host: str, interval: float = 6 * HOUR) -> Source:
    return Source(id=sid, url=f"https://{host}/{sid}", jurisdiction="US", interval=interval)


def test_a_dns_outage_over_hours_is_one_notice_and_one_recovery_however_many_hosts(world):
    sources = [src(f"s{i}", f"www.host{i // 2}.gov", interval=HOUR * (1 + i % 4)) for i in range(40)]
    w = world(sources)
    for _ in range(3):  # every source fails three times, a few at a time, over hours
        for s in sources:
            w.fail(s.id, NAME_RESOLUTION)
            w.clock.advance(90)
            w.flush()
    assert len(w.notices) == 1, w.notices
    assert w.notices[0].startswith("Every source on 20 hosts fails to resolve: is the network or DNS down?")
    assert "www.host0.gov (2 sources)" in w.notices[0] and "and 15 more hosts (30)" in w.notices[0]

    w.ok("s0")  # DNS is back; one source has been checked again
    assert w.flush() == []  # one good check against the failures of the last minutes proves little yet
    for i in range(1, 25):
        w.clock.advance(30)
        w.ok(f"s{i}")
    recovered = w.flush()  # more good checks than failures that recent: the network is back
    assert len(recovered) == 1 and recovered[0].startswith("www.host0.gov, www.host1.gov, www.host10.gov, "
                                                           "www.host11.gov, www.host12.gov and 15 more hosts resolve "
                                                           "again: 25 sources checked normally again after 3h")

    for i in range(25, 39):  # the others recover when they are next due: nothing more to say
        w.clock.advance(600)
        w.ok(f"s{i}")
        assert w.flush() == []
    w.fail("s39", NAME_RESOLUTION)  # one name really is gone: it is reported as itself
    assert w.flush() == []
    w.clock.advance(GROUP_WINDOW + 1)
    alone = w.flush()
    assert len(alone) == 1 and alone[0].startswith("s39 ") and "www.host19.gov does not resolve" in alone[0]
    assert len(w.notices) == 3


def test_a_host_recovers_when_its_sources_not_yet_due_last_failed_long_before(world):
    w = world([src("hourly", "www.slow.gov", HOUR), src("daily", "www.slow.gov", 24 * HOUR),
               src("weekly", "www.slow.gov", 7 * 24 * HOUR)])
    for round in range(3):
        w.clock.advance(HOUR if round else 0)
        for sid in ("hourly", "daily"):
            w.fail(sid, HTTP_5XX, 503)
    opened = w.flush(settle=True)
    assert opened == ["2 sources on www.slow.gov get server errors (HTTP 5xx): the sites are down or overloaded; "
                      "this usually passes by itself. www.slow.gov (2 sources)"]

    w.clock.advance(300)
    w.ok("hourly")
    assert w.flush() == []  # "daily" failed five minutes before: the host may well be failing still
    w.clock.advance(HOUR)
    w.ok("hourly")  # "daily" is not due for hours, and its last failure is long before this good check
    assert w.flush() == ["www.slow.gov answers without server errors again: 1 source checked normally again after "
                         "3h05m (server errors since 2026-11-26 12:00 UTC)"]

    w.clock.advance(2 * HOUR)
    w.fail("daily", HTTP_5XX, 503)  # due at last, and still failing: that is its own trouble now
    assert w.flush() == []
    w.clock.advance(GROUP_WINDOW)
    alone = w.flush()
    assert len(alone) == 1 and alone[0].startswith("daily has failed 4 checks in a row: www.slow.gov answers")
    w.clock.advance(HOUR)
    w.ok("daily")
    assert w.flush() == ["daily is being checked again after 4 failed checks"]
    assert len(w.notices) == 4


def test_hosts_joining_later_are_told_until_the_cause_is_wide_then_not(world):
    hosts = ["a.gov", "b.gov", "c.gov", "d.gov", "e.gov"]
    w = world([src(f"{h}-{i}", h) for h in hosts for i in range(2)], threshold=2)
    for h in hosts:  # one host after another starts refusing connections, an hour apart
        for _ in range(2):
            for i in range(2):
                w.fail(f"{h}-{i}", CONNECTION_REFUSED)
            w.flush()
        w.clock.advance(GROUP_WINDOW + 1)
        w.flush()
        w.clock.advance(HOUR)
    assert len(w.notices) == 3, w.notices  # a.gov; then b.gov; then c.gov, which makes it wide: d and e add nothing
    assert w.notices[0].startswith("Every source on a.gov has its connections refused")
    assert w.notices[1].startswith("Now also 2 sources on b.gov have their connections refused, as on a.gov")
    assert w.notices[2].startswith("Now also 2 sources on c.gov have their connections refused, as on a.gov and "
                                   "b.gov")
    for h in hosts:
        for i in range(2):
            w.ok(f"{h}-{i}")
    assert len(w.flush()) == 1 and w.notices[-1].startswith("a.gov, b.gov, c.gov, d.gov and e.gov accept "
                                                            "connections again: 10 sources")


def test_a_first_notice_waits_a_minute_for_others_failing_the_same_way(world):
    w = world([src("a", "x.gov"), src("b", "y.gov"), src("c", "z.gov")], threshold=1)
    w.fail("a", TLS)
    assert w.flush() == []  # due in GROUP_WINDOW seconds
    w.clock.advance(GROUP_WINDOW / 2)
    w.fail("b", TLS)
    assert w.flush() == []
    w.clock.advance(GROUP_WINDOW / 2 + 1)
    notices = w.flush()
    assert len(notices) == 1 and notices[0].startswith("Every source on 2 hosts fails the TLS handshake: an expired "
                                                       "or wrong certificate")
    restarted = Incidents(Store.open(w.path), w.clock)
    try:  # another process (a restarted worker, a `monitor check`) finds it announced
        assert restarted.flush(w.config, settle=True).notices == []
        assert [i.announced_hosts for i in restarted.open_incidents()] == [["x.gov", "y.gov"]]
    finally:
        restarted.store.close()


def test_a_failure_that_changes_kind_is_reported_as_its_own_again(world):
    w = world([src("a", "x.gov"), src("b", "x.gov")], threshold=2)
    for _ in range(2):
        w.fail("a", CONNECTION_REFUSED)
        w.fail("b", CONNECTION_REFUSED)
    assert len(w.flush(settle=True)) == 1
    state = w.store.source_state("a")
    w.checker._failure(w.sources["a"], state, w.clock(), "http_404", "HTTP 404 Not Found", 404)  # the site is back,
    alerts = [c for c in w.store.history("a") if c.alert]  # but not the page: that is about this source alone
    assert [c.event for c in alerts] == ["source_failing"] and "HTTP 404" in alerts[0].summary
    assert w.store.source_state("a")["failure_group"] is None


def test_an_incident_whose_sources_leave_the_watch_list_ends_saying_so(world):
    w = world([src("a", "x.gov"), src("b", "x.gov")], threshold=1)
    w.fail("a", HTTP_5XX, 502)
    w.fail("b", HTTP_5XX, 502)
    assert len(w.flush(settle=True)) == 1
    w.config = Config(settings=w.config.settings, sources=(src("c", "y.gov"),))  # sources.yaml edited
    over = w.incidents.flush(w.config)
    assert [c.summary for c in over.notices] == ["Server errors on x.gov is over after 0s: none of its sources "
                                                 "fails that way any more (since 2026-11-26 12:00 UTC)"]
    assert over.notices[0].added == ["2 source(s) are no longer watched (sources.yaml)"]


# -- causes from real exceptions ---------------------------------------------------------------------------------
def wrapped(inner: BaseException) -> httpx.ConnectError:
    """An exception chained as httpx -> httpcore -> anyio chain them."""
    try:
        try:
            raise OSError("All connection attempts failed") from inner
        except OSError as e:
            raise httpx.ConnectError("All connection attempts failed") from e
    except httpx.ConnectError as outer:
        return outer


def test_causes_are_read_from_the_exception_chain():
    assert cause_of_exception(wrapped(socket.gaierror(-2, "Name or service not known"))) == NAME_RESOLUTION
    refused = ConnectionRefusedError(errno.ECONNREFUSED, "Connect call failed ('127.0.0.2', 80)")
    unreachable = OSError(errno.ENETUNREACH, "Network is unreachable")
    both = ExceptionGroup("multiple connection attempts failed", [unreachable, refused])
    assert cause_of_exception(wrapped(both)) == CONNECTION_REFUSED  # reached on one address: the host refuses
    assert cause_of_exception(wrapped(unreachable)) == NO_ROUTE
    assert cause_of_exception(wrapped(ssl.SSLCertVerificationError(1, "certificate verify failed"))) == TLS
    assert cause_of_exception(httpx.ConnectError("[Errno -3] Temporary failure in name resolution")) == NAME_RESOLUTION
    assert cause_of_exception(httpx.ConnectError("something else entirely")) is None


def test_only_failures_many_sources_can_share_have_a_cause():
    assert failure_cause("http_503", 503, None) == HTTP_5XX
    assert failure_cause("http_403", 403, None) == "http_403"
    assert failure_cause("timeout", None, None) == "timeout"
    assert failure_cause("connection_error", None, None) == "connection_failed"
    for error_class, status in (("http_404", 404), ("selector_missing", 200), ("body_too_large", 200),
                                ("too_many_redirects", 301), ("soft_error", 200)):
        assert failure_cause(error_class, status, None) is None
