"""Issue 14, finding 2: a crash or a stop during a Slack post no longer holds the alerts for the lease. Driven as an
operator meets it: `monitor run` killed (SIGKILL) or stopped (SIGTERM) while the fake Slack is slow, then a restarted
worker or `monitor deliver`; and `monitor deliver` beside a worker stuck on one channel."""
from __future__ import annotations

import re
import sqlite3
import time
from datetime import datetime, timedelta, timezone

from conftest import bill_page
from test_worker import start, wait_for  # noqa: F401 - `start` is a fixture

from monitor.claimant import Claimant, current
from monitor.notify import Delivery, deliver_pending
from monitor.store import ChangeRecord, Store

TITLE = "CS/SB 1180: Kratom Products"
FILED = [("01/13/2026", "Senate", "Filed"), ("01/20/2026", "Senate", "Referred to Health Policy")]
CHANGE_ID = re.compile(r"monitor show ([0-9a-f]{8,})")


def bills(server, count: int, interval: str = "1h") -> list[dict]:
    """`count` watched bills, each on its own page; `advance` makes each one pass the Senate (one alert each)."""
    sources = []
    for i in range(count):
        server.routes[f"/bill{i}"] = bill_page(TITLE.replace("1180", str(1180 + i)), FILED)
        sources.append({"id": f"fl-sb-{1180 + i}", "name": f"Florida CS/SB {1180 + i} (Kratom Products)",
                        "url": server.url(f"/bill{i}"), "jurisdiction": "US-FL", "select": "#tabBodyBillHistory",
                        "measure": f"SB {1180 + i}", "interval": interval})
    return sources


def advance(server, count: int) -> None:
    for i in range(count):
        server.routes[f"/bill{i}"] = bill_page(TITLE.replace("1180", str(1180 + i)),
                                               FILED + [("03/04/2026", "Senate", "Passed; YEAS 38 NAYS 0")])


def env_for(slack, **extra) -> dict[str, str]:
    return {"SLACK_BOT_TOKEN": "xoxb-reliability-test", "SLACK_CHANNEL": "#kratom", "SLACK_API_URL": slack.api_url,
            **extra}


def posted(slack, channel: str | None = None) -> list[str]:
    """The change id of every message Slack took, in order (a repeat shows twice)."""
    return [CHANGE_ID.search(p["text"]).group(1) for p in list(slack.posts)
            if channel is None or p["channel"] == channel]


def outbox(project) -> list[dict]:
    with sqlite3.connect(project.state / "monitor.db") as db:
        db.row_factory = sqlite3.Row
        return [dict(r) for r in db.execute("SELECT * FROM outbox ORDER BY id")]


# -- finding 2: a crash during a Slack post -----------------------------------------------------------------------
def kill_during_a_slow_post(project, server, slack, start, count: int = 5, slow: float = 600.0) -> list[str]:
    """`monitor run` records `count` alerts and is killed with SIGKILL while Slack holds the first post for `slow`
    seconds (Slack takes it then, as a slow Slack would). Returns the change ids, oldest first."""
    project.write(bills(server, count, interval="2s"))
    slack.delay = slow
    w = start(env=env_for(slack))
    wait_for(lambda: w.count("baseline in") >= count, 20, "every baseline", w)
    advance(server, count)
    wait_for(lambda: w.count("1 alert(s) queued") >= count, 20, "every alert recorded", w)
    wait_for(lambda: slack.holding >= 1, 20, "a post in flight", w)
    w.proc.kill()
    w.proc.wait()
    slack.delay = 0.0
    rows = outbox(project)
    assert len(rows) == count and [r["status"] for r in rows].count("sending") == 1, rows
    return [r["change_id"] for r in rows]


def in_flight(project) -> str:
    [row] = [r for r in outbox(project) if r["status"] == "sending"]
    return row["change_id"]


def test_a_restarted_worker_sends_everything_within_a_minute_of_a_kill_9(project, server, slack, start):
    ids = kill_during_a_slow_post(project, server, slack, start)
    restarted = time.monotonic()
    w = start(env=env_for(slack))
    wait_for(lambda: set(posted(slack)) >= set(ids), 60, "every alert in Slack", w)
    assert time.monotonic() - restarted < 60
    assert posted(slack) == ids, "in order, each once (Slack never took the killed worker's post)"
    wait_for(lambda: w.count("alert(s) delivered"), 5, "the delivery logged", w)
    assert w.stop()[0] == 0
    assert {r["status"] for r in outbox(project)} == {"delivered"}


def test_monitor_deliver_sends_everything_at_once_after_a_kill_9(project, server, slack, start):
    ids = kill_during_a_slow_post(project, server, slack, start)
    started = time.monotonic()
    r = project.run("deliver", env=env_for(slack))
    assert r.returncode == 0, r.stderr
    assert f"{len(ids)} alert(s) delivered to slack" in r.stdout and time.monotonic() - started < 60
    assert posted(slack) == ids
    assert {row["status"] for row in outbox(project)} == {"delivered"}


def test_the_killed_post_may_repeat_but_nothing_else_does(project, server, slack, start):
    """When Slack does take the killed worker's post (late), that one message, and only it, arrives twice."""
    ids = kill_during_a_slow_post(project, server, slack, start, count=3, slow=8.0)
    killed = in_flight(project)  # (on a slow machine the worker may have finished a first post before the kill)
    r = project.run("deliver", env=env_for(slack))
    assert r.returncode == 0 and sorted(posted(slack)) == sorted(ids), r.stderr
    wait_for(lambda: slack.holding == 0, 20, "Slack to take the held post")
    assert sorted(posted(slack)) == sorted(ids + [killed]), "the post in flight at the kill arrives twice, no other"


def test_sigterm_while_slack_is_slow_releases_the_in_flight_alert(project, server, slack, start):
    count = 3
    project.write(bills(server, count, interval="2s"))
    slack.delay = 600.0
    w = start(env=env_for(slack))
    wait_for(lambda: w.count("baseline in") >= count, 20, "every baseline", w)
    advance(server, count)
    wait_for(lambda: w.count("1 alert(s) queued") >= count, 20, "every alert recorded", w)
    wait_for(lambda: slack.holding >= 1, 20, "a post in flight", w)
    code, took = w.stop()
    assert code == 0 and took < 15, w.log
    assert w.count("alert delivery still in progress at stop")
    assert {r["status"] for r in outbox(project)} == {"pending"}, "released on shutdown, not leased for 10 minutes"
    slack.delay = 0.0
    r = project.run("deliver", env=env_for(slack))
    assert r.returncode == 0 and f"{count} alert(s) delivered" in r.stdout, r.stdout + r.stderr


def test_a_row_a_live_worker_is_sending_blocks_only_its_own_channel(project, server, slack, start):
    """The worker is stuck on a slow post to #kratom; `monitor deliver` beside it leaves that row (and the #kratom
    rows behind it) alone and delivers every #us-urgent copy."""
    count = 3
    project.write(bills(server, count, interval="2s"),
                  settings={"slack": {"routes": [{"channel": "#us-urgent", "jurisdiction": "US"}]}})
    slack.delay = {"#kratom": 600.0}
    slack.script = []
    # The worker's first post goes to #kratom and hangs; it never reaches its #us-urgent rows.
    w = start(env=env_for(slack))
    wait_for(lambda: w.count("baseline in") >= count, 20, "every baseline", w)
    advance(server, count)
    wait_for(lambda: w.count("1 alert(s) queued") >= count, 20, "every alert recorded", w)
    wait_for(lambda: slack.holding >= 1, 20, "a post in flight", w)
    rows = outbox(project)
    assert len(rows) == 2 * count and [r["status"] for r in rows].count("sending") == 1
    r = project.run("deliver", env=env_for(slack))
    assert r.returncode == 1, "the #kratom alerts still wait"
    assert f"{count} alert(s) delivered" in r.stdout, r.stdout + r.stderr
    assert len(posted(slack, "#us-urgent")) == count and posted(slack, "#kratom") == []
    assert slack.holding == 1 and len(slack.server.requests_to("/api/chat.postMessage")) == count + 1, \
        "the live worker's post was not sent a second time"
    statuses = {(row["channel"], row["status"]) for row in outbox(project)}
    assert ("#us-urgent", "delivered") in statuses and ("", "sending") in statuses and ("", "pending") in statuses


class Recorder:
    """A notifier that takes every alert at once and remembers the order."""

    name = "recorder"
    fingerprint = ""

    def __init__(self):
        self.sent: list[str] = []

    def destination(self, channel: str) -> str:
        return channel or "#default"

    def send(self, change, channel, thread_ts, link) -> Delivery:
        self.sent.append(f"{change.id}{channel}")
        return Delivery(ok=True)


def test_a_claim_that_cannot_be_judged_keeps_its_lease_and_a_dead_ones_does_not(tmp_path):
    """Rows claimed from another host are left to their lease; a dead local process's and a reused pid's are
    released at once; this process's own claim is never taken from it."""
    store = Store.open(tmp_path)
    now = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
    store.record("s", {"url": "https://x"}, None, [
        ChangeRecord(id=f"c{i}", source="s", jurisdiction="US-FL", url="https://x", kind="legal", alert=True,
                     event="advanced", severity="high", summary=f"change {i}", added=[], removed=[],
                     detected_at="2026-03-01T11:00:00Z", channels=(f"#ch{i}",)) for i in range(4)])
    me = current()
    claims = {1: Claimant("elsewhere.example", me.boot, me.pid, me.started, "other-host"),  # c0: cannot be judged
              2: Claimant(me.host, me.boot, 2 ** 22 + 17, "1", "dead"),  # c1: no such process (above pid_max)
              3: Claimant(me.host, me.boot, me.pid, str(int(me.started or 0) + 1), "reused")}  # c2: pid reused
    with sqlite3.connect(tmp_path / "monitor.db") as db:
        for row_id, claimant in claims.items():
            db.execute("UPDATE outbox SET status = 'sending', next_attempt_at = ?, claimed_by = ? WHERE id = ?",
                       ["2026-03-01T12:10:00Z", claimant.encode(), row_id])
    # c3: this process is sending it (as the worker's delivery thread would be)
    assert store.claim(4, now, timedelta(minutes=10)) and not store.claim(4, now, timedelta(minutes=10), force=True)
    notifier = Recorder()
    report = deliver_pending(store, notifier, lambda: now, force=True)
    assert notifier.sent == ["c1#ch1"] + (["c2#ch2"] if me.started else []), "dead and reused ones sent at once"
    assert report.pending == 2 + (not me.started)  # the other host's row, and this process's own
    later = now + timedelta(minutes=11)
    deliver_pending(store, notifier, lambda: later)
    assert "c0#ch0" in notifier.sent and "c3#ch3" in notifier.sent, "after the lease, the last resort"
    store.close()

