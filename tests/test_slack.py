"""Slack delivery end to end: the real CLI (`python -m monitor` subprocesses) drives the real slack-sdk against the
FakeSlack Web API and webhook on 127.0.0.1. Each alert reaches Slack exactly once whatever Slack does, routed,
threaded, escaped and without leaking a secret. "Time passes" moves the outbox's retry times into the past, as a
real clock would."""
from __future__ import annotations

import html
import json
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

from conftest import Response, bill_page, closed_port_url, hang, slack_error
from test_message import assert_within_limits

from monitor.notify import Delivery, deliver_pending
from monitor.notify.slack import SlackBotNotifier
from monitor.store import ChangeRecord, Store

TITLE = "CS/SB 1180: Kratom Products"
ROWS = [("01/13/2026", "Senate", "Filed"), ("01/20/2026", "Senate", "Referred to Health Policy; Appropriations")]
PASSED = ("02/26/2026", "Senate", "CS passed; YEAS 37 NAYS 1")
SIGNED = ("03/20/2026", "Senate", "Approved by Governor; Chapter No. 2026-95")
TOKEN = "xoxb-1111111111-2222222222-SeCrEtToKeNvAlUe"
POST = "/api/chat.postMessage"


class Bill:
    """One watched Florida bill whose history grows a row at a time, and the Slack settings to run with."""

    def __init__(self, project, server, slack, settings: dict | None = None, extra_sources: list | None = None,
                 **env: str):
        self.project, self.server, self.slack = project, server, slack
        self.rows = list(ROWS)
        self.env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_CHANNEL": "#kratom", "SLACK_API_URL": slack.api_url, **env}
        self.outputs: list[str] = []
        server.routes["/bill"] = bill_page(TITLE, self.rows)
        project.write([{"id": "fl-sb-1180", "name": "Florida CS/SB 1180 (Kratom Products)", "url": server.url("/bill"),
                        "jurisdiction": "US-FL", "select": "#tabBodyBillHistory"}, *(extra_sources or [])], settings)

    def add(self, row: tuple[str, str, str]) -> None:
        self.rows.append(row)
        self.server.routes["/bill"] = bill_page(TITLE, self.rows)

    def check(self, **env: str) -> tuple[subprocess.CompletedProcess, list[dict]]:
        result, lines = self.project.check(env={**self.env, **env})
        self.outputs += [result.stdout, result.stderr]
        assert "Traceback" not in result.stderr, result.stderr
        return result, lines

    def run(self, *args: str, **env: str) -> subprocess.CompletedProcess:
        result = self.project.run(*args, env={**self.env, **env})
        self.outputs += [result.stdout, result.stderr]
        assert "Traceback" not in result.stderr, result.stderr
        return result

    def attempts(self) -> int:
        return len(self.server.requests_to(POST))

    def outbox(self) -> list[dict]:
        with sqlite3.connect(self.project.state / "monitor.db") as db:
            db.row_factory = sqlite3.Row
            return [dict(r) for r in db.execute("SELECT * FROM outbox ORDER BY id")]

    def time_passes(self) -> None:
        with sqlite3.connect(self.project.state / "monitor.db") as db:
            db.execute("UPDATE outbox SET next_attempt_at = '2000-01-01T00:00:00Z' "
                       "WHERE status IN ('pending', 'sending')")


def test_outage_then_recovery_delivers_exactly_once(project, server, slack):
    """Slack unreachable, then 503, then back: the alert recorded in one process is sent by a later one, once."""
    bill = Bill(project, server, slack)
    bill.check()
    bill.add(PASSED)
    r, lines = bill.check(SLACK_API_URL=closed_port_url())
    assert r.returncode == 0 and len(lines) == 1 and lines[0]["alert"], "delivery trouble never fails a check"
    assert "Slack is unreachable" in r.stderr and "1 alert(s) wait in the outbox" in r.stderr
    assert [row["status"] for row in bill.outbox()] == ["pending"]

    r, _ = bill.check()
    assert bill.attempts() == 0, "the retry waits out its backoff: no hot loop"
    assert "next try after" in r.stderr

    bill.time_passes()
    slack.script = [Response(503, b"<html><body>upstream unavailable</body></html>")]
    r, _ = bill.check()
    assert bill.attempts() == 1 and slack.posts == []
    assert "Slack is unavailable" in r.stderr and "HTTP 503" in r.stderr

    bill.time_passes()
    r, _ = bill.check()
    assert len(slack.posts) == 1 and "monitor: " not in r.stderr
    assert slack.posts[0]["channel"] == "#kratom" and lines[0]["id"] in slack.posts[0]["text"]
    [row] = bill.outbox()
    assert row["status"] == "delivered" and row["ts"] == slack.posts[0]["_ts"] and row["attempts"] == 3


def test_killed_mid_send_repeats_at_most_that_one_message(project, server, slack):
    """A sender killed while Slack holds its request: the row is not lost, and since its sender is gone the next
    drain sends it at once (it may be a repeat: Slack may have posted it); nothing else is sent twice."""
    bill = Bill(project, server, slack)
    bill.check()
    bill.add(PASSED)
    answer, server.routes[POST] = server.routes[POST], hang(10)  # Slack holds the request: did it post or not?
    proc = subprocess.Popen([sys.executable, "-m", "monitor", "--sources", str(project.sources), "--state-dir",
                             str(project.state), "check", "--json"], env={**project.env, **bill.env},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while bill.attempts() == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    server.routes[POST] = answer
    assert [row["status"] for row in bill.outbox()] == ["sending"]

    r = bill.run("deliver")
    assert r.returncode == 0 and bill.attempts() == 2, "its sender is gone: no lease to wait out"
    assert f"pid {proc.pid}, which has ended: it is sent again" in r.stderr
    bill.check()
    assert bill.attempts() == 2 and len(slack.posts) == 1
    assert [row["status"] for row in bill.outbox()] == ["delivered"]


def test_rate_limits_are_waited_out_or_retried_after(project, server, slack):
    bill = Bill(project, server, slack)
    bill.check()
    bill.add(PASSED)
    slack.script = [slack_error("ratelimited", 429, {"Retry-After": "1"})]
    started = time.monotonic()
    bill.check()
    assert len(slack.posts) == 1 and bill.attempts() == 2 and time.monotonic() - started >= 1, \
        "a short Retry-After is waited out in the same pass"

    bill.add(SIGNED)
    slack.script = [slack_error("ratelimited", 429, {"Retry-After": "600"})]
    started = time.monotonic()
    r, _ = bill.check()
    assert time.monotonic() - started < 20, "a long Retry-After never blocks the pass"
    assert "rate limited, retry after 600 s" in r.stderr and len(slack.posts) == 1
    retry_at = datetime.fromisoformat(bill.outbox()[-1]["next_attempt_at"].replace("Z", "+00:00"))
    assert timedelta(seconds=590) < retry_at - datetime.now(timezone.utc) <= timedelta(seconds=600)
    bill.time_passes()
    bill.check()
    assert len(slack.posts) == 2 and [row["status"] for row in bill.outbox()] == ["delivered", "delivered"]


def test_follow_up_on_the_same_measure_goes_to_its_thread(project, server, slack):
    bill = Bill(project, server, slack)
    bill.check()
    bill.add(PASSED)
    bill.check()
    bill.add(SIGNED)
    bill.check()
    first, follow_up = slack.posts
    assert "thread_ts" not in first and "ADVANCED" in first["blocks"][0]["text"]["text"]
    assert follow_up["thread_ts"] == first["_ts"] and "ENACTED" in follow_up["blocks"][0]["text"]["text"]
    assert follow_up["reply_broadcast"] is True, "a critical follow-up is also shown in the channel"


def test_a_huge_change_fits_every_slack_limit(project, server, slack):
    bill = Bill(project, server, slack)
    bill.check()
    for i in range(400):
        bill.rows.append((f"03/{i % 28 + 1:02d}/2026", "Senate",
                          f"Amendment {i} to kratom bill adopted: " + "strike lines and insert new text " * 20))
    bill.add(SIGNED)
    _, lines = bill.check()
    assert lines and len(slack.posts) == len([c for c in lines if c["alert"]])
    for post in slack.posts:
        assert_within_limits(post["blocks"], post["text"])
        footer = post["blocks"][-2]["elements"][0]["text"]
        assert "characters not shown" in footer and "has it all" in footer and "`monitor show " in footer
    with sqlite3.connect(project.state / "monitor.db") as db:
        stored = [line for (added,) in db.execute("SELECT added FROM changes") for line in json.loads(added)]
    assert sum("Amendment" in line for line in stored) == 400, "what `monitor show` prints is all there"


def test_scraped_mentions_and_links_arrive_as_text(project, server, slack):
    bill = Bill(project, server, slack)
    bill.check()
    evil = "<!channel> Approved by Governor, see <https://evil.example|official text> & ``` <@U024BE7LH>"
    bill.add(("03/20/2026", "Senate", html.escape(evil)))
    bill.check()
    [post] = slack.posts
    payload = json.dumps(post)
    assert "<!channel>" not in payload and "<https://evil" not in payload and "<@U" not in payload
    assert "&lt;!channel&gt; Approved by Governor, see &lt;https://evil.example|official text&gt; &amp;" in \
           post["text"], "the fallback is escaped too"
    assert "&lt;!channel&gt;" in post["blocks"][1]["text"]["text"]
    [button] = post["blocks"][-1]["elements"]
    assert button["url"] == server.url("/bill"), "the only link is the configured source URL"
    assert post["unfurl_links"] is False and post["unfurl_media"] is False


def test_a_refused_token_is_held_and_told_and_never_leaks(project, server, slack):
    bill = Bill(project, server, slack)
    bill.check()
    bill.add(PASSED)
    slack.script = [slack_error("invalid_auth")]
    r = bill.run("-v", "check", "--json")  # debug logging on: slack-sdk's included
    assert r.returncode == 0 and len(r.stdout.splitlines()) == 1
    assert "invalid_auth" in r.stderr and "SLACK_BOT_TOKEN" in r.stderr and "held" in r.stderr
    assert "monitor deliver --retry-held" in r.stderr
    assert [row["status"] for row in bill.outbox()] == ["held"]

    bill.check()
    assert bill.attempts() == 1, "a held alert is not retried until something changes"
    status = bill.run("status")
    assert "held" in status.stdout and "invalid_auth" in status.stdout
    slack.script = [slack_error("invalid_auth")]
    r = bill.run("test-slack")
    assert r.returncode == 1 and "invalid_auth" in r.stderr

    new_token = TOKEN.replace("SeCrEt", "FrEsH")
    r = bill.run("-v", "deliver", SLACK_BOT_TOKEN=new_token)
    assert r.returncode == 0 and "1 alert(s) delivered" in r.stdout, "a new token releases held alerts"
    assert len(slack.posts) == 1 and slack.posts[0]["_auth"] == f"Bearer {new_token}"

    secrets = [TOKEN, new_token, "SeCrEtToKeN", "FrEsHToKeN"]
    assert not [s for s in secrets for out in bill.outputs if s in out]
    for path in project.state.iterdir():
        data = path.read_bytes()
        assert not [s for s in secrets if s.encode() in data], path


def test_webhook_mode(project, server, slack):
    secret_path = "/services/T0KRATOM/B0KRATOM/wEbHoOkSeCrEt"
    server.routes[secret_path] = server.routes["/webhook"]
    bill = Bill(project, server, slack, SLACK_BOT_TOKEN="", SLACK_WEBHOOK_URL=server.url(secret_path))
    bill.check()
    bill.add(PASSED)
    bill.check()
    [post] = slack.posts
    assert post["blocks"][0]["text"]["text"] == "ADVANCED · Florida" and "SB 1180" in post["text"]
    assert post["unfurl_links"] is False and post["unfurl_media"] is False

    bill.add(SIGNED)
    slack.script = [Response(404, b"no_service", {"Content-Type": "text/plain"})]
    r = bill.run("-v", "check", "--json")  # debug logging on: slack-sdk would log the webhook URL there
    assert "no_service" in r.stderr and "SLACK_WEBHOOK_URL" in r.stderr and "held" in r.stderr, \
        "WebhookClient does not raise: the status is checked"
    assert [row["status"] for row in bill.outbox()] == ["delivered", "held"]
    r = bill.run("deliver", "--retry-held")
    assert r.returncode == 0 and len(slack.posts) == 2
    assert not [out for out in bill.outputs if "wEbHoOkSeCrEt" in out]
    assert not [p for p in project.state.iterdir() if b"wEbHoOkSeCrEt" in p.read_bytes()]


def test_routes_by_severity_and_jurisdiction_and_ops_channel(project, server, slack):
    settings = {"failure_threshold": 1, "retries": 0, "slack": {
        "ops_channel": "#kratom-ops",
        "routes": [{"channel": "#us-urgent", "min_severity": "high", "jurisdiction": "US"},
                   {"channel": "#kratom", "min_severity": "info"},  # the default channel again: one message
                   {"channel": "#uk", "jurisdiction": "GB"},
                   {"channel": "#critical-only", "min_severity": "critical"}]}}
    gone = {"id": "gone-page", "url": server.url("/gone"), "jurisdiction": "US-TX"}
    bill = Bill(project, server, slack, settings=settings, extra_sources=[gone])
    slack.refuse["#us-urgent"] = slack_error("not_in_channel")
    r = bill.run("test-slack")
    assert r.returncode == 1 and "#us-urgent" in r.stderr and "not_in_channel" in r.stderr
    assert "posted to #kratom" in r.stdout and "posted to #kratom-ops" in r.stdout
    slack.posts.clear()

    bill.check()
    assert [p["channel"] for p in slack.posts] == ["#kratom-ops"], "a failing source is an operational notice"
    assert "OPERATIONS" in slack.posts[0]["blocks"][0]["text"]["text"]
    bill.add(PASSED)
    r, _ = bill.check()
    assert [p["channel"] for p in slack.posts] == ["#kratom-ops", "#kratom"]
    assert "#us-urgent" in r.stderr and "not_in_channel" in r.stderr and "/invite" in r.stderr
    assert sorted(row["status"] for row in bill.outbox()) == ["delivered"] * 3 + ["held"]

    del slack.refuse["#us-urgent"]
    r = bill.run("deliver", "--retry-held")
    assert r.returncode == 0 and [p["channel"] for p in slack.posts] == ["#kratom-ops", "#kratom", "#us-urgent"]
    assert bill.run("status").stdout.count("held") == 0


class ScriptedNotifier:
    """A destination whose answers the test sets: each send pops the next Delivery (default: ok)."""

    name = "scripted"
    fingerprint = "scripted"

    def __init__(self):
        self.answers: list[Delivery] = []
        self.sent: list[str] = []

    def destination(self, channel: str) -> str:
        return channel or "#default"

    def send(self, change, channel, thread_ts, link) -> Delivery:
        answer = self.answers.pop(0) if self.answers else Delivery(ok=True, ts=f"{len(self.sent)}.0")
        if answer.ok:
            self.sent.append(change.id)
        return answer


def test_oldest_first_and_the_queue_waits_behind_a_failure(tmp_path):
    store = Store.open(tmp_path)
    clock = [datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)]
    store.record("s", {"url": "https://x"}, None, [
        ChangeRecord(id=f"c{i}", source="s", jurisdiction="US-FL", url="https://x", kind="legal", alert=True,
                     event="advanced", severity="high", summary=f"change {i}", added=[], removed=[],
                     detected_at="2026-03-01T11:00:00Z") for i in range(3)])
    notifier = ScriptedNotifier()
    notifier.answers = [Delivery(ok=False, error="Slack is unavailable (HTTP 503)")]
    report = deliver_pending(store, notifier, lambda: clock[0])
    assert notifier.sent == [] and report.pending == 3 and report.retry_at == clock[0] + timedelta(minutes=1)
    clock[0] += timedelta(seconds=30)
    assert deliver_pending(store, notifier, lambda: clock[0]).delivered == 0, "c1 and c2 wait behind c0"
    clock[0] += timedelta(seconds=31)
    report = deliver_pending(store, notifier, lambda: clock[0])
    assert notifier.sent == ["c0", "c1", "c2"] and report.pending == 0
    store.close()


def test_a_refused_layout_or_a_lost_thread_still_delivers(slack):
    """If Slack refuses our blocks, the alert goes out as its escaped fallback; if its thread's first message was
    deleted, it is posted on its own."""
    notifier = SlackBotNotifier(TOKEN, "#kratom", slack.api_url)
    alert = ChangeRecord(id="c1", source="s", jurisdiction="US-FL", url="https://x", kind="legal", alert=True,
                         event="enacted", severity="critical", summary="SB 1 <!channel> enacted", added=["a"] * 10,
                         removed=[], detected_at="2026-03-01T11:00:00Z")
    slack.script = [slack_error("invalid_blocks")]
    assert notifier.send(alert, "", None, "https://x").ok
    [section] = slack.posts[0]["blocks"]
    assert section["text"]["verbatim"] and section["text"]["text"] == slack.posts[0]["text"]
    assert "&lt;!channel&gt;" in section["text"]["text"]
    slack.script = [slack_error("thread_not_found")]
    assert notifier.send(alert, "", "1700000000.000001", None).ok
    assert "thread_ts" not in slack.posts[1] and len(slack.posts[1]["blocks"]) > 1
