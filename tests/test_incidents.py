"""Failures that share a cause reach the operator once per cause, from `monitor check` and from `monitor run`.

Hosts are loopback addresses (127.0.0.2, 127.0.0.3, ...): a port reserved on each refuses connections until a page
server is started on it, which is how a host "comes back". Slack is the fake Web API of conftest.
"""
from __future__ import annotations

import http.server
import socket
import threading
import time

import pytest

from conftest import Response
from monitor.cli import utcnow
from monitor.incidents import Incidents
from monitor.store import Store
from test_worker import start, wait_for  # noqa: F401 - `start` is the fixture that runs `monitor run`

OPS = "#kratom-ops"
SETTINGS = {"retries": 0, "slack": {"ops_channel": OPS}}


class Host:
    """A loopback address with a port where nothing listens (connection refused) until `up()` serves pages."""

    def __init__(self, address: str):
        with socket.socket() as s:
            s.bind((address, 0))
            self.address, self.port = address, s.getsockname()[1]
        self.httpd: http.server.ThreadingHTTPServer | None = None

    def url(self, path: str) -> str:
        return f"http://{self.address}:{self.port}{path}"

    def up(self) -> None:
        class Page(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = f"<html><body><main><h1>{self.path}</h1><p>Fees for 2026.</p></main></body></html>".encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer((self.address, self.port), Page)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self) -> None:
        if self.httpd:
            self.httpd.shutdown()
            self.httpd.server_close()


@pytest.fixture
def hosts():
    made: list[Host] = []

    def make(*addresses: str) -> list[Host]:
        made.extend(Host(a) for a in addresses)
        return made[-len(addresses):]

    yield make
    for h in made:
        h.close()


def slack_env(slack) -> dict[str, str]:
    return {"SLACK_BOT_TOKEN": "xoxb-incident-test", "SLACK_CHANNEL": "#kratom", "SLACK_API_URL": slack.api_url}


def on(host: Host, count: int, prefix: str, **extra) -> list[dict]:
    return [{"id": f"{prefix}-{i}", "name": f"{prefix} page {i}", "url": host.url(f"/{prefix}/{i}"),
             "jurisdiction": "US-FL", **extra} for i in range(count)]


def texts(slack) -> list[str]:
    return [p["text"] for p in slack.posts]


def test_thirty_sources_on_three_refusing_hosts_make_one_notice_then_one_recovery(project, slack, hosts):
    a, b, c = hosts("127.0.0.2", "127.0.0.3", "127.0.0.4")
    project.write(on(a, 10, "a") + on(b, 10, "b") + on(c, 10, "c"), settings=SETTINGS)
    env = slack_env(slack)

    first, lines = project.check(env=env)
    assert first.returncode == 1 and len(lines) == 30  # one operational line per source, as before
    assert {(l["kind"], l["alert"], l["group"]) for l in lines} == {("operational", False, "connection_refused")}
    assert "127.0.0.2" in first.stderr and "Connect call failed" in first.stderr  # the error names the address
    r, lines = project.check(env=env)
    assert r.returncode == 1 and lines == [] and slack.posts == []
    r, lines = project.check(env=env)
    assert r.returncode == 1
    assert sorted(l["source"] for l in lines if l["event"] == "source_failing") == sorted(
        f"{p}-{i}" for p in "abc" for i in range(10))
    assert all(l["alert"] is False and l["group"] == "connection_refused" for l in lines)

    assert len(slack.posts) == 1, texts(slack)  # however many sources: one notice for the cause
    notice = slack.posts[0]
    assert notice["channel"] == OPS
    assert notice["text"].count("Every source on 3 hosts has its connections refused") == 1
    for host in ("127.0.0.2 (10 sources)", "127.0.0.3 (10)", "127.0.0.4 (10)"):
        assert host in notice["text"]
    assert "is a firewall or proxy refusing us?" in notice["text"]
    assert "Connections refused: 3 hosts, 30 sources" in notice["blocks"][0]["text"]["text"]

    r, lines = project.check(env=env)  # a fourth failing pass: nothing new to say
    assert r.returncode == 1 and len(slack.posts) == 1

    for h in (a, b, c):
        h.up()
    r, lines = project.check(env=env)
    assert r.returncode == 0, r.stderr
    recovered = [l for l in lines if l["event"] == "source_recovered"]
    assert len(recovered) == 30 and {(l["alert"], l["group"]) for l in recovered} == {(False, "connection_refused")}
    assert len(slack.posts) == 2, texts(slack)
    assert "127.0.0.2, 127.0.0.3 and 127.0.0.4 accept connections again: 30 sources checked normally again" in \
        slack.posts[1]["text"]
    assert slack.posts[1]["channel"] == OPS

    project.check(env=env)
    assert len(slack.posts) == 2
    history = project.run("history", "--source", "@connection_refused", "--json").stdout.splitlines()
    assert len(history) == 2  # the notices are recorded like any change, `monitor show` finds them


def test_a_source_failing_alone_is_reported_alone_and_so_is_its_recovery(project, server, slack, hosts):
    lone, = hosts("127.0.0.5")
    server.routes["/fine"] = b"<html><body><main><h1>Fine</h1><p>Fees for 2026.</p></main></body></html>"
    project.write(on(lone, 1, "lonely") + [{"id": "fine", "url": server.url("/fine"), "jurisdiction": "US"}],
                  settings=SETTINGS)
    env = slack_env(slack)
    for _ in range(2):
        project.check(env=env)
    assert slack.posts == []
    r, lines = project.check(env=env)
    assert r.returncode == 1
    failing = [l for l in lines if l["event"] == "source_failing"]
    assert [(l["source"], l["alert"], l["group"]) for l in failing] == [("lonely-0", True, "connection_refused")]
    assert len(slack.posts) == 1
    assert "lonely page 0 has failed 3 checks in a row: 127.0.0.5 refuses connections" in slack.posts[0]["text"]
    assert "Every source" not in slack.posts[0]["text"]
    history = project.run("history", "--source", "lonely-0", "--json").stdout
    assert history.count('"source_failing"') == 1  # the check's own record is the alert, not a second one

    lone.up()
    r, lines = project.check(env=env)
    assert r.returncode == 0
    assert [(l["event"], l["alert"]) for l in lines if l["source"] == "lonely-0"] == [("source_recovered", True)]
    assert len(slack.posts) == 2 and "lonely page 0 is being checked again" in slack.posts[1]["text"]


def test_each_cause_is_one_notice_and_a_page_problem_is_still_its_own(project, server, slack, hosts):
    down, = hosts("127.0.0.6")
    server.routes["/busy"] = Response(503, b"busy")
    server.routes["/gone"] = Response(404, b"gone")
    https = server.base.replace("http://", "https://")  # a TLS handshake with a plain HTTP server fails
    sources = on(down, 8, "down") + [
        {"id": "busy", "url": server.url("/busy"), "jurisdiction": "US"},
        {"id": "gone", "url": server.url("/gone"), "jurisdiction": "US"},
        *({"id": f"tls-{i}", "url": f"{https}/tls/{i}", "jurisdiction": "US"} for i in range(3))]
    project.write(sources, settings={**SETTINGS, "failure_threshold": 2})
    env = slack_env(slack)
    project.check(env=env)
    r, lines = project.check(env=env)
    groups = {l["source"]: l["group"] for l in lines if l["event"] == "source_failing"}
    assert groups == {**{f"down-{i}": "connection_refused" for i in range(8)}, "busy": "http_5xx", "gone": None,
                      **{f"tls-{i}": "tls" for i in range(3)}}
    posts = texts(slack)
    assert len(posts) == 4, posts  # refused (8 sources), TLS (3), the 503 alone, the 404 on its own
    assert sum("Every source on 127.0.0.6 has its connections refused" in t for t in posts) == 1
    assert sum("3 sources on 127.0.0.1 fail the TLS handshake" in t and "proxy" in t for t in posts) == 1
    assert sum("busy has failed 2 checks in a row: 127.0.0.1 answers with server errors" in t for t in posts) == 1
    assert sum("gone has failed 2 checks in a row: HTTP 404" in t for t in posts) == 1


def test_the_worker_groups_failures_across_its_passes_and_a_restart_does_not_announce_again(project, slack, hosts,
                                                                                           start):
    a, b = hosts("127.0.0.7", "127.0.0.8")
    project.write(on(a, 3, "a", interval="1s") + on(b, 3, "b", interval="1s"),
                  settings={**SETTINGS, "failure_threshold": 2})
    env = slack_env(slack)
    w = start(env=env)
    wait_for(lambda: slack.posts, 15, "the grouped notice", w)
    time.sleep(4.5)  # two more looks at the incidents, several more failed checks
    assert len(slack.posts) == 1, texts(slack)
    assert "Every source on 2 hosts has its connections refused" in slack.posts[0]["text"]
    assert "127.0.0.7 (3 sources), 127.0.0.8 (3)" in slack.posts[0]["text"]
    assert w.count("connection_refused: Every source on 2 hosts") == 1  # the worker's log says it too
    assert w.stop()[0] == 0

    again = start(env=env)
    wait_for(lambda: again.count("failed in") >= 12, 15, "failed checks after the restart", again)
    time.sleep(4.5)
    assert len(slack.posts) == 1, "a restart does not announce an open incident again"

    a.up()
    b.up()
    wait_for(lambda: len(slack.posts) >= 2, 15, "the recovery notice", again)
    assert "127.0.0.7 and 127.0.0.8 accept connections again: 6 sources" in slack.posts[1]["text"]
    time.sleep(3)
    assert len(slack.posts) == 2
    assert again.stop()[0] == 0


def test_a_blip_shorter_than_the_threshold_says_nothing(project, slack, hosts):
    flaky, = hosts("127.0.0.9")
    project.write(on(flaky, 4, "flaky"), settings=SETTINGS)
    env = slack_env(slack)
    project.check(env=env)
    project.check(env=env)
    flaky.up()
    r, lines = project.check(env=env)
    assert r.returncode == 0 and slack.posts == []
    assert not [l for l in lines if l["kind"] == "operational"]
    store = Store.open(project.state)
    try:
        assert Incidents(store, utcnow).open_incidents() == []  # the blip's incident was dropped, not kept open
    finally:
        store.close()
