"""`monitor run` as an operator runs it: the real command as a subprocess, a loopback page server, a fake Slack.

Intervals are 1-2 s so each test sees several passes in a few seconds.
"""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time

import pytest

from conftest import Response, bill_page, slack_error
from monitor.store import Store
from monitor.schedule import MIN_RETRY, retry_delay

TITLE = "CS/SB 1180: Kratom Products"
FILED = [("01/13/2026", "Senate", "Filed"), ("01/20/2026", "Senate", "Referred to Health Policy")]
PASSED = FILED + [("03/04/2026", "Senate", "Passed; YEAS 38 NAYS 0")]


class RunningWorker:
    """A `monitor run` subprocess whose stdout (console alerts) and stderr (logs) are collected as they come."""

    def __init__(self, project, args: tuple[str, ...], env: dict[str, str], verbose: bool = False):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "monitor", "--sources", str(project.sources), "--state-dir", str(project.state),
             *(["-v"] if verbose else []), "run", *args], env={**project.env, **env}, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        for stream, lines in ((self.proc.stdout, self.stdout), (self.proc.stderr, self.stderr)):
            threading.Thread(target=lambda s=stream, out=lines: out.extend(iter(s.readline, "")), daemon=True).start()

    @property
    def log(self) -> str:
        return "".join(self.stderr)

    def count(self, text: str) -> int:
        return sum(text in line for line in list(self.stderr))

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> tuple[int, float]:
        started = time.monotonic()
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout)
        time.sleep(0.1)  # let the reader threads take the last lines
        return code, time.monotonic() - started


@pytest.fixture
def start(project):
    workers: list[RunningWorker] = []

    def _start(*args: str, env: dict[str, str] | None = None) -> RunningWorker:
        workers.append(RunningWorker(project, args, env or {}))
        return workers[-1]

    yield _start
    for w in workers:
        if w.proc.poll() is None:
            w.proc.kill()
            w.proc.wait()


def wait_for(predicate, timeout: float, what: str, worker: RunningWorker | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    log = f"\n--- log:\n{worker.log}" if worker else ""
    raise AssertionError(f"timed out after {timeout}s waiting for {what}{log}")


def slack_env(slack) -> dict[str, str]:
    return {"SLACK_BOT_TOKEN": "xoxb-worker-test", "SLACK_CHANNEL": "#kratom", "SLACK_API_URL": slack.api_url}


def bill_source(server, sid: str = "fl-sb-1180", path: str = "/bill", interval: str = "1s", **extra) -> dict:
    return {"id": sid, "name": "Florida CS/SB 1180 (Kratom Products)", "url": server.url(path), "jurisdiction": "US-FL",
            "select": "#tabBodyBillHistory", "measure": "SB 1180", "interval": interval, **extra}


def plain_source(server, sid: str, interval: str = "1s") -> dict:
    server.routes[f"/{sid}"] = f"<html><body><main><h1>{sid}</h1><p>Fees for 2026.</p></main></body></html>".encode()
    return {"id": sid, "url": server.url(f"/{sid}"), "jurisdiction": "US-FL", "interval": interval}


def test_a_change_is_alerted_within_a_few_intervals_and_logged_one_line_per_check(project, server, slack, start):
    server.routes["/bill"] = bill_page(TITLE, FILED)
    project.write([bill_source(server)])
    w = start(env=slack_env(slack))
    wait_for(lambda: w.count("fl-sb-1180 baseline in"), 10, "the first snapshot", w)
    wait_for(lambda: w.count("fl-sb-1180 unchanged in"), 5, "an unchanged pass", w)

    server.routes["/bill"] = bill_page(TITLE, PASSED)
    changed_at = time.monotonic()
    wait_for(lambda: slack.posts, 6, "the alert in Slack", w)
    assert time.monotonic() - changed_at < 6
    assert "Passed" in json.dumps(slack.posts[0]["blocks"]) and slack.posts[0]["channel"] == "#kratom"
    line = next(line for line in w.stderr if "fl-sb-1180 changed in" in line)
    assert " INFO " in line and "1 legal change(s)" in line and "1 alert(s) queued" in line

    code, took = w.stop()
    assert code == 0 and took < 10
    checks = [line for line in w.stderr if line.split(" ")[3:4] in (["fl-sb-1180"], ["fl-sb-1180:"])]
    assert len(checks) == len(server.requests_to("/bill"))  # one log line per check, nothing more
    assert len(slack.posts) == 1  # later passes see the page unchanged


def test_sources_yaml_edits_take_effect_without_a_restart(project, server, start):
    a, b = plain_source(server, "a-page"), plain_source(server, "b-page", interval="2s")
    project.write([a])
    w = start()
    wait_for(lambda: server.requests_to("/a-page"), 10, "source a fetched", w)

    project.write([a, b], settings={"per_host_concurrency": 1})  # new limits: a new Fetcher, the old one closed
    wait_for(lambda: server.requests_to("/b-page"), 6, "the added source fetched without a restart", w)
    assert w.count("1 added, 0 changed, 0 removed; 2 sources scheduled")
    status = project.run("status").stdout
    row = next(line for line in status.splitlines() if line.startswith("b-page"))
    assert row.split()[-1].endswith("Z")  # NEXT RUN shows the worker's schedule

    project.write([b])
    wait_for(lambda: w.count("0 added, 0 changed, 1 removed; 1 sources scheduled"), 6, "a removed", w)
    seen = len(server.requests_to("/a-page"))
    time.sleep(2.5)
    assert len(server.requests_to("/a-page")) <= seen + 1  # at most a check that was already running
    assert w.stop(signal.SIGINT)[0] == 0


def test_a_broken_edit_keeps_the_last_good_list_and_is_reported_once(project, server, slack, start):
    a = plain_source(server, "a-page")
    project.write([a])
    w = start(env=slack_env(slack))
    wait_for(lambda: w.count("a-page baseline in"), 10, "source a checked", w)

    project.write([{**a, "interval": "soon"}, {**plain_source(server, "b-page"), "jurisdictoin": "US-FL"}])
    expected = [line for line in project.run("validate").stderr.splitlines() if "nothing was checked" not in line]
    assert len(expected) >= 2
    wait_for(lambda: w.count("the edit is refused"), 6, "the refusal", w)
    for line in expected:  # the problems as `monitor validate` prints them
        assert w.count(line) == 1
    refused = len(server.requests_to("/a-page"))
    wait_for(lambda: len(server.requests_to("/a-page")) >= refused + 3, 6, "a still checked", w)  # > 2 polls
    assert not server.requests_to("/b-page")
    notices = [p for p in slack.posts if "does not validate" in p["text"]]
    assert len(notices) == 1 and w.count("the edit is refused") == 1

    project.write([a, plain_source(server, "b-page")])
    wait_for(lambda: server.requests_to("/b-page"), 6, "the fixed list applied", w)
    assert w.count("valid again")
    assert w.stop()[0] == 0
    assert len([p for p in slack.posts if "does not validate" in p["text"]]) == 1


def test_a_second_worker_on_the_same_state_is_refused_until_the_first_dies(project, server, start):
    project.write([plain_source(server, "a-page")])
    first = start()
    wait_for(lambda: first.count("worker started"), 10, "the first worker", first)

    started = time.monotonic()
    second = project.run("run", timeout=30)
    assert second.returncode == 2 and time.monotonic() - started < 10
    assert "already running" in second.stderr and f"pid {first.proc.pid}" in second.stderr

    first.proc.kill()  # SIGKILL: no cleanup at all, the OS drops the lock
    first.proc.wait()
    third = start()
    wait_for(lambda: third.count("worker started"), 10, "a new worker after SIGKILL", third)
    assert third.stop()[0] == 0


def test_a_failing_source_is_reported_once_and_its_recovery_once(project, server, slack, start):
    down = threading.Event()
    down.set()
    server.routes["/bill"] = lambda request: Response(404, b"gone") if down.is_set() else bill_page(TITLE, FILED)
    project.write([bill_source(server)], settings={"failure_threshold": 2, "retries": 0})
    w = start("--log-format", "json", env=slack_env(slack))

    def records():
        return [json.loads(line) for line in list(w.stderr)]

    def failed_checks():
        return [r for r in records() if r.get("status") == "failed"]

    wait_for(lambda: len(failed_checks()) >= 4, 12, "four failed checks", w)
    failing = [p for p in slack.posts if "has failed 2 checks in a row" in p["text"]]
    assert len(failing) == 1 and len(slack.posts) == 1
    first = failed_checks()[0]
    assert first["level"] == "warning" and first["source"] == "fl-sb-1180" and first["result"].startswith("http_404")
    assert first["outcome"] == "failed", "the same word for the outcome as check, status, history and show"
    assert isinstance(first["duration"], float)

    down.clear()
    wait_for(lambda: [p for p in slack.posts if "being checked again" in p["text"]], 6, "the recovery notice", w)
    def checks():
        return len([r for r in records() if r.get("source") == "fl-sb-1180"])

    seen = checks()
    wait_for(lambda: checks() >= seen + 2, 6, "two good checks", w)
    assert len(slack.posts) == 2
    ok = [r for r in records() if r.get("status") == "baseline"]
    assert ok[0]["level"] == "info" and "source_recovered" in ok[0]["result"]
    assert w.stop()[0] == 0


def test_sigterm_stops_within_seconds_and_loses_nothing(project, server, slack, start):
    server.routes["/bill"] = bill_page(TITLE, FILED)
    server.routes["/slow"] = Response(200, b"<html><body><p>slow</p></body></html>", delay=30)
    project.write([{"id": "slow", "url": server.url("/slow"), "jurisdiction": "US", "interval": "1h", "timeout": 60},
                   bill_source(server)])
    slack.script = [slack_error("internal_error", 500)] * 5  # Slack is down: the alert must wait in the outbox
    w = start(env=slack_env(slack))
    wait_for(lambda: w.count("fl-sb-1180 baseline in"), 10, "the first snapshot", w)
    server.routes["/bill"] = bill_page(TITLE, PASSED)
    wait_for(lambda: server.requests_to("/api/chat.postMessage"), 8, "a delivery attempt (refused)", w)
    assert server.requests_to("/slow")  # and that check is still waiting for its page

    code, took = w.stop()
    assert code == 0 and took < 10
    assert w.count("slow: check abandoned") == 1 and w.count("worker stopped") == 1
    store = Store.open(project.state)
    try:
        assert store.outbox_counts() == {"pending": 1}
        assert [c.kind for c in store.history("fl-sb-1180")] == ["legal"]
        assert all(r["next_run"] is None for r in store.sources())  # status shows no schedule once stopped
        assert "slow" not in {r["id"] for r in store.sources() if r.get("last_checked")}
    finally:
        store.close()


def test_a_failing_source_is_retried_sooner_with_backoff_capped_at_its_interval():
    assert [retry_delay(6 * 3600, n) for n in (1, 2, 3, 4, 5)] == [2700, 5400, 10800, 21600, 21600]
    assert retry_delay(300, 1) == MIN_RETRY  # never sooner than a minute
    assert retry_delay(2, 1) == 2 and retry_delay(2, 10_000) == 2  # nor later than the interval
