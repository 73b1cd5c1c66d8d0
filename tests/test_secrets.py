"""Secrets stay secret, driven as a user runs monitor: an API key never reaches a log line at any level, a URL with
credentials is refused, and a Slack endpoint that answers a redirect never gets the bot token sent on."""
from __future__ import annotations

import json
import logging
import sqlite3

import pytest

from conftest import LoopbackServer, Response, bill_page
from test_structured import LegiScan
from test_worker import RunningWorker, wait_for

from monitor.redact import RedactingFilter, redact_url

KEY = "ls-key-0f9e8d7c6b5a"
TOKEN = "xoxb-1111111111-2222222222-SeCrEtToKeNvAlUe"
TITLE = "CS/SB 1180: Kratom Products"
ROWS = [("01/13/2026", "Senate", "Filed"), ("01/20/2026", "Senate", "Referred to Health Policy")]
PASSED = ("02/26/2026", "Senate", "CS passed; YEAS 37 NAYS 1")


def legiscan_source(server) -> dict:
    return {"id": "legiscan", "name": "LegiScan: kratom", "jurisdiction": "US", "kind": "legiscan",
            "url": server.url("/legiscan/") + "?op=getSearch&state=ALL&query=kratom", "interval": "1s"}


def test_verbose_check_logs_request_urls_without_the_key(project, server):
    """`monitor -v check` used to print `HTTP Request: GET .../?op=getSearch&...&key=<the key>` (httpx, INFO)."""
    api = LegiScan(server)
    project.env["LEGISCAN_API_KEY"] = KEY
    project.write([legiscan_source(server)])
    r = project.run("-v", "check", "--json")
    assert r.returncode == 0, r.stderr
    assert set(api.keys) == {KEY}, "the key is still sent"
    requests = [line for line in r.stderr.splitlines() if "HTTP Request: GET" in line]
    assert len(requests) == 3, r.stderr  # getSearch and two getBill: logged, with every query value masked
    assert all("key=[redacted]" in line and "op=[redacted]" in line for line in requests)
    assert KEY not in r.stdout + r.stderr


def test_verbose_worker_logs_carry_no_key(project, server, slack):
    LegiScan(server)
    project.write([legiscan_source(server)])
    env = {"LEGISCAN_API_KEY": KEY, "SLACK_BOT_TOKEN": TOKEN, "SLACK_CHANNEL": "#kratom",
           "SLACK_API_URL": slack.api_url}
    for args in (("--log-format", "json"), ()):
        worker = RunningWorker(project, args, env, verbose=True)
        try:
            checks = ("legiscan baseline in", "legiscan unchanged in", '"source": "legiscan"')
            wait_for(lambda: sum(worker.count(c) for c in checks) >= 2, 15, "two checks", worker)
        finally:
            assert worker.stop()[0] == 0
        assert KEY not in worker.log and TOKEN not in worker.log
        requests = [line for line in worker.stderr if "HTTP Request: GET" in line and "/legiscan/" in line]
        assert requests and all("key=[redacted]" in line for line in requests), worker.log


def test_the_filter_masks_secrets_in_messages_tracebacks_and_fields():
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(self.format(record) + json.dumps(getattr(record, "result", "")))

    handler = Keep()
    handler.addFilter(RedactingFilter([KEY, TOKEN]))
    log = logging.getLogger("test_secrets")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning("GET %s failed", f"https://api.legiscan.com/?key={KEY}&op=getBill&id=7",
                    extra={"result": f"token {TOKEN} and https://u:p4ss@x.org/a?sig=abc"})
        try:
            raise ValueError(f"bad answer from https://api.legiscan.com/?key={KEY}")
        except ValueError:
            log.exception("boom")
    finally:
        log.removeHandler(handler)
    text = "\n".join(records)
    assert KEY not in text and TOKEN not in text and "p4ss" not in text and "sig=abc" not in text
    assert "https://api.legiscan.com/?key=[redacted]&op=[redacted]&id=[redacted]" in text
    assert "ValueError: bad answer from https://api.legiscan.com/?key=[redacted]" in text
    assert redact_url("https://x.org/path") == "https://x.org/path"


@pytest.mark.parametrize("url", ["https://user:hunter2pass@www.flsenate.gov/Session/Bill/2026/1180",
                                 "http://reader@example.gov/feed"])
def test_a_url_with_credentials_is_refused_and_never_echoed(project, server, url):
    project.write([{"id": "fl-sb-1180", "url": url, "jurisdiction": "US-FL"}])
    for command in ("validate", "check", "run"):
        r = project.run(command)
        assert r.returncode == 2, (command, r.stderr)
        assert "url: remove the user name and password (user:password@) from the URL" in r.stderr
        assert "hunter2pass" not in r.stdout + r.stderr and "reader@" not in r.stdout + r.stderr
    assert not project.state.exists(), "nothing stored"


def bill_change(project, server, env: dict) -> None:
    """A watched bill, first seen, then advanced: one alert for Slack."""
    server.routes["/bill"] = bill_page(TITLE, ROWS)
    project.write([{"id": "fl-sb-1180", "name": "Florida CS/SB 1180 (Kratom Products)", "url": server.url("/bill"),
                    "jurisdiction": "US-FL", "select": "#tabBodyBillHistory"}])
    r, _ = project.check(env=env)
    assert r.returncode == 0, r.stderr
    server.routes["/bill"] = bill_page(TITLE, ROWS + [PASSED])


def outbox(project) -> list[dict]:
    with sqlite3.connect(project.state / "monitor.db") as db:
        db.row_factory = sqlite3.Row
        return [dict(r) for r in db.execute("SELECT status, last_error FROM outbox ORDER BY id")]


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_from_the_slack_api_is_not_followed_with_the_token(project, server, slack, status):
    elsewhere = LoopbackServer()
    try:
        elsewhere.routes["/api/chat.postMessage"] = Response(200, b'{"ok": true, "ts": "1.2"}',
                                                             {"Content-Type": "application/json"})
        env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_CHANNEL": "#kratom", "SLACK_API_URL": slack.api_url}
        bill_change(project, server, env)
        slack.script = [Response(status, b"", {"Location": elsewhere.url("/api/chat.postMessage?from=slack")})]
        r, lines = project.check(env=env)
        assert r.returncode == 0 and [l["alert"] for l in lines] == [True], r.stderr
        assert elsewhere.requests == [], "nothing, and above all not the token, goes to the redirect's host"
        assert f"Slack's Web API address answered HTTP {status}, a redirect to http://127.0.0.1" in r.stderr
        assert "set SLACK_API_URL" in r.stderr and "from=slack" not in r.stderr
        assert [row["status"] for row in outbox(project)] == ["held"]
        assert TOKEN not in r.stderr + r.stdout
    finally:
        elsewhere.close()


def test_a_redirect_from_the_webhook_is_not_followed(project, server, slack):
    elsewhere = LoopbackServer()
    try:
        elsewhere.routes["/hook"] = Response(200, b"ok", {"Content-Type": "text/plain"})
        env = {"SLACK_WEBHOOK_URL": slack.webhook_url}
        bill_change(project, server, env)
        slack.script = [Response(302, b"", {"Location": elsewhere.url("/hook")})]
        r, _ = project.check(env=env)
        assert r.returncode == 0, r.stderr
        assert elsewhere.requests == []
        assert "the Slack webhook URL answered HTTP 302" in r.stderr and "set SLACK_WEBHOOK_URL" in r.stderr
        assert [row["status"] for row in outbox(project)] == ["held"]
        slack.script = []
        r = project.run("deliver", "--retry-held", env=env)  # once fixed, the alert arrives
        assert r.returncode == 0 and len(slack.posts) == 1, r.stderr
    finally:
        elsewhere.close()
