"""An operator's first week at the command line (issue 13), driven as they would drive it: `python -m monitor`
subprocesses, on a terminal (a pseudo-terminal) where it matters, against pages on 127.0.0.1.

Wrong directory, one vocabulary for outcomes, progress and Ctrl-C, "did you mean", id prefixes, `status --json`,
`history` filters and CSV, `--version`, and the selectors suggested when `select` stops matching.
"""
from __future__ import annotations

import csv
import io
import json
import os
import pty
import re
import select
import signal
import sqlite3
import struct
import subprocess
import sys
import time
from importlib.metadata import version

import pytest

from conftest import Response, bill_page, clean_env

TITLE = "CS/SB 1180: Kratom Products"
ROWS = [("01/13/2026", "Senate", "Filed"), ("01/20/2026", "Senate", "Referred to Health Policy; Appropriations")]
PASSED = ("02/26/2026", "Senate", "CS passed; YEAS 37 NAYS 1")


def fishing(year: int) -> bytes:
    return f"<html><body><main><h1>Fishing licenses</h1><p>Fees for {year}.</p></main></body></html>".encode()


def notices(count: int) -> bytes:
    items = "".join(f"<p>Notice {n}: the park opens at dawn on day {n} of the season.</p>" for n in range(count))
    return f"<html><body><main><h1>Park notices</h1>{items}</main></body></html>".encode()


def source(server, sid: str, path: str, jurisdiction: str = "US-FL", **extra) -> dict:
    return {"id": sid, "name": extra.pop("name", sid), "url": server.url(path), "jurisdiction": jurisdiction, **extra}


def run_in(cwd, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """`monitor ARGS` from `cwd`, with no --sources/--state-dir: the defaults, as an operator types it."""
    return subprocess.run([sys.executable, "-m", "monitor", *args], cwd=cwd, env={**clean_env(), **(env or {})},
                          capture_output=True, text=True, timeout=120)


class Terminal:
    """`monitor ARGS` on a pseudo-terminal, as at an operator's shell: stdout and stderr are the terminal."""

    def __init__(self, argv: list[str], env: dict[str, str]):
        import fcntl
        import termios

        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 200, 0, 0))
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env={**env, "COLUMNS": "200"},
                                     close_fds=True)
        os.close(slave)
        self.master = master
        self.output = ""

    def read(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:  # the child closed the terminal
                    return
                if not chunk:
                    return
                self.output += chunk.decode("utf-8", "replace")

    def wait_for(self, pattern: str, timeout: float = 60) -> re.Match:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            found = re.search(pattern, self.output)
            if found:
                return found
            if self.proc.poll() is not None:
                self.read(0.2)
                break
            self.read(0.1)
        found = re.search(pattern, self.output)
        assert found, f"{pattern!r} never appeared in:\n{self.output}"
        return found

    def finish(self, timeout: float = 60) -> int:
        end = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < end:
            self.read(0.1)
        self.read(0.3)
        os.close(self.master)
        return self.proc.wait(5)


def on_terminal(project, *args: str) -> tuple[int, str]:
    term = Terminal(project.argv(*args), project.env)
    code = term.finish()
    return code, term.output.replace("\r\n", "\n")


def status_json(project) -> dict:
    r = project.run("status", "--json")
    assert r.returncode == 0, r.stderr
    return {s["id"]: s for s in json.loads(r.stdout)["sources"]}


# -- the wrong directory ----------------------------------------------------------------------------------------
def test_read_only_commands_in_an_empty_directory_say_what_is_missing_and_create_nothing(tmp_path):
    for args in (("status",), ("status", "--json"), ("history",), ("history", "--csv"), ("show", "abc"),
                 ("deliver",)):
        r = run_in(tmp_path, *args)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert r.stdout == "", args
        assert f"not found: {tmp_path / 'state' / 'monitor.db'}" in r.stderr, (args, r.stderr)
        assert "Traceback" not in r.stderr
    assert f"not found: {tmp_path / 'sources.yaml'}" in run_in(tmp_path, "status").stderr
    assert list(tmp_path.iterdir()) == [], "no stray ./state"


def test_a_missing_sources_yaml_is_not_found_for_every_command(tmp_path, server):
    env = {"SLACK_WEBHOOK_URL": server.url("/webhook")}  # so test-slack gets as far as reading sources.yaml
    for command in ("validate", "check", "run", "status", "test-slack"):
        r = run_in(tmp_path, command, env=env)
        assert r.returncode == 2, (command, r.stderr)
        assert f"not found: {tmp_path / 'sources.yaml'}" in r.stderr, (command, r.stderr)
        assert "does not validate" not in r.stderr and "problem(s)" not in r.stderr, (command, r.stderr)
    assert server.requests == [] and list(tmp_path.iterdir()) == []


def test_status_needs_both_the_watch_list_and_the_state(project, server):
    server.routes["/other"] = fishing(2026)
    project.write([source(server, "fishing", "/other")])
    r = project.run("status")
    assert r.returncode == 2 and f"not found: {project.state / 'monitor.db'}" in r.stderr
    assert not project.state.exists()
    assert project.check()[0].returncode == 0
    assert project.run("status").returncode == 0
    project.write("sources:\n  - id: fishing\n    url: ftp://nowhere\n    jurisdiction: US-FL\n")
    r = project.run("status")
    assert r.returncode == 0 and "does not validate (1 problem(s)); showing stored state only" in r.stderr
    assert re.search(r"^fishing +ok +", r.stdout, re.M), "a broken watch list does not make a source 'removed'"
    project.sources.unlink()
    r = project.run("status")
    assert r.returncode == 2 and f"not found: {project.sources}" in r.stderr
    assert project.run("history").returncode == 0, "history and show read the state only"


# -- one vocabulary -----------------------------------------------------------------------------------------------
def test_check_status_history_and_show_use_the_same_words(project, server):
    server.routes["/bill"] = bill_page(TITLE, ROWS)
    server.routes["/other"] = fishing(2026)
    server.routes["/park"] = notices(8)
    project.write([source(server, "fl-sb-1180", "/bill", name="Florida CS/SB 1180 (Kratom Products)",
                          select="#tabBodyBillHistory"),
                   source(server, "fishing", "/other"), source(server, "park", "/park")], settings={"retries": 0})

    code, out = on_terminal(project, "check")
    assert code == 0, out
    assert re.search(r"^ *baseline 3$", out, re.M), out
    assert {s["outcome"] for s in status_json(project).values()} == {"baseline"}

    server.routes["/bill"] = bill_page(TITLE, ROWS + [PASSED])
    server.routes["/other"] = fishing(2027)  # an edit that is not about kratom
    server.routes["/park"] = notices(1)  # most of the page vanished
    code, out = on_terminal(project, "check")
    assert code == 0, out
    for words, n in (("legal change", 1), (r"changed \(not kratom\)", 1), ("held as suspicious", 1)):
        assert re.search(rf"^ *{words} {n}$", out, re.M), (words, out)
    assert not re.search(r"^ *unchanged", out, re.M), "a non-kratom edit is not 'unchanged'"
    sources = status_json(project)
    assert {sid: (s["outcome"], s["outcome_text"]) for sid, s in sources.items()} == {
        "fl-sb-1180": ("changed", "legal change"), "fishing": ("not_kratom", "changed (not kratom)"),
        "park": ("held", "held as suspicious")}
    table = project.run("status").stdout
    for sid, words in (("fl-sb-1180", "legal change"), ("fishing", "changed (not kratom)"),
                       ("park", "held as suspicious")):
        assert re.search(rf"^{sid} .*  {re.escape(words)}  ", table, re.M), (sid, table)

    history = project.run("history").stdout
    assert re.search(r"fl-sb-1180 +legal change +advanced", history), history
    assert re.search(r"park +held as suspicious +suspicious_content", history), history
    legal = json.loads(project.run("history", "--json", "--source", "fl-sb-1180").stdout.splitlines()[0])
    assert project.run("show", legal["id"]).stdout.startswith(f"Change {legal['id']}  (legal change, alerted)")

    server.routes["/other"] = Response(503, b"busy")
    server.routes["/park"] = notices(8)
    code, out = on_terminal(project, "check")
    assert code == 1, out
    assert re.search(r"^ *failed 1$", out, re.M) and re.search(r"^ *unchanged 2$", out, re.M), out
    assert status_json(project)["fishing"]["outcome"] == "failed"
    assert re.search(r"^fishing +failing x1 .* failed \(http_503\)", project.run("status").stdout, re.M)
    failure = json.loads(project.run("history", "--json", "--source", "fishing").stdout.splitlines()[0])
    assert failure["event"] == "http_503"
    assert "(failed, not alerted)" in project.run("show", failure["id"]).stdout.splitlines()[0]


def test_status_reads_a_state_written_before_not_kratom_existed(project, server):
    """Before the one vocabulary, any edit of a page's text was stored as `changed`. Such a row whose last change
    is not from its last check had no legal change: `status` says so until the next check rewrites it."""
    server.routes["/bill"] = bill_page(TITLE, ROWS)
    server.routes["/other"] = fishing(2026)
    project.write([source(server, "fl-sb-1180", "/bill", select="#tabBodyBillHistory"),
                   source(server, "fishing", "/other")])
    project.check()
    server.routes["/bill"] = bill_page(TITLE, ROWS + [PASSED])
    server.routes["/other"] = fishing(2027)
    project.check()
    with sqlite3.connect(project.state / "monitor.db") as db:  # what monitor 0.1.0 stored for this pass
        db.execute("UPDATE sources SET last_status = 'changed'")
    sources = status_json(project)
    assert (sources["fl-sb-1180"]["outcome_text"], sources["fishing"]["outcome_text"]) == \
        ("legal change", "changed (not kratom)")


# -- the terminal -------------------------------------------------------------------------------------------------
def test_progress_names_the_slow_source_and_ctrl_c_says_what_was_kept(project, server):
    server.routes["/fast"] = fishing(2026)
    server.routes["/slow"] = Response(200, fishing(2026), delay=60)
    project.write([source(server, "fast", "/fast"), source(server, "slow-page", "/slow")],
                  settings={"timeout": 120, "retries": 0})
    term = Terminal(project.argv("check"), project.env)
    term.wait_for(r"checked 1/2 sources, 0 failed; waiting on slow-page [1-9]\d*s")
    term.proc.send_signal(signal.SIGINT)
    code = term.finish(timeout=30)
    assert code == 130, term.output
    assert "interrupted: 1 of 2 sources checked, their results are kept; 1 not checked" in term.output
    assert "Traceback" not in term.output
    sources = status_json(project)
    assert (sources["fast"]["outcome"], sources["slow-page"]["health"]) == ("baseline", "never_checked")


def test_ctrl_c_in_a_scripted_check_prints_and_keeps_the_changes_that_finished(project, server):
    server.routes["/bill"] = bill_page(TITLE, ROWS)
    server.routes["/slow"] = fishing(2026)
    project.write([source(server, "fl-sb-1180", "/bill", select="#tabBodyBillHistory"),
                   source(server, "slow-page", "/slow")], settings={"timeout": 120, "retries": 0})
    assert project.check()[0].returncode == 0
    server.routes["/bill"] = bill_page(TITLE, ROWS + [PASSED])
    server.routes["/slow"] = Response(200, fishing(2027), delay=60)
    asked = len(server.requests_to("/slow"))
    proc = subprocess.Popen(project.argv("check", "--json"), env=project.env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while len(server.requests_to("/slow")) == asked and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(3)  # the bill page answered at once: its check is recorded well before this (2 cores, shared)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "interrupted: 1 of 2 sources checked, their results are kept" in err
    assert "1 alert(s) wait in the outbox" in err
    printed = [json.loads(line) for line in out.splitlines()]
    assert [(c["source"], c["kind"]) for c in printed] == [("fl-sb-1180", "legal")]
    stored = [json.loads(line)["id"] for line in project.run("history", "--json").stdout.splitlines()]
    assert stored == [printed[0]["id"]], "what was printed was saved"
    assert project.run("deliver").returncode == 0


def test_mistyped_commands_choices_and_source_ids_get_a_suggestion(project, server):
    r = project.run("chek")
    assert r.returncode == 2 and "unknown command 'chek' (did you mean 'check'?)" in r.stderr
    r = project.run("histroy")
    assert r.returncode == 2 and "did you mean 'history'?" in r.stderr
    server.routes["/bill"] = bill_page(TITLE, ROWS)
    project.write([source(server, "fl-sb-1180", "/bill"), source(server, "tx-hb-4218", "/bill")])
    r, _ = project.check("--source", "fl-sb-118")
    assert r.returncode == 2 and "no source with id 'fl-sb-118' (did you mean 'fl-sb-1180'?)" in r.stderr
    assert server.requests == []
    assert project.check("--source", "tx-hb-4218")[0].returncode == 0
    r = project.run("history", "--source", "nosuch")
    assert r.returncode == 2 and "no source with id 'nosuch'" in r.stderr and r.stdout == ""
    r = project.run("history", "--source", "tx-hb-421")
    assert r.returncode == 2 and "did you mean 'tx-hb-4218'?" in r.stderr
    r = project.run("history", "--source", "fl-sb-1180")  # configured, never checked: known, no changes
    assert r.returncode == 0 and r.stdout.strip() == "no changes recorded that match"
    r = project.run("history", "--severity", "hihg")
    assert r.returncode == 2 and "did you mean 'high'?" in r.stderr
    r = project.run("history", "--event", "pased")
    assert r.returncode == 2 and "did you mean 'passed'?" in r.stderr


def test_version_comes_from_the_package_metadata(project):
    r = project.run("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"monitor {version('kratom-monitor')}"


# -- show, history, status --json ---------------------------------------------------------------------------------
@pytest.fixture
def recorded(project, server):
    """Changes in three jurisdictions, of several events and severities, recorded over two passes a second or more
    apart: FL and its city pass legal changes in the first, TX fails (http_503) in the second."""
    bills = {"fl": "US-FL", "miami": "US-FL-MIAMI", "tx": "US-TX"}
    for path in bills:
        server.routes[f"/{path}"] = bill_page(TITLE, ROWS)
    project.write([source(server, path, f"/{path}", jurisdiction=j, name=f"{j} kratom bill",
                          select="#tabBodyBillHistory") for path, j in bills.items()], settings={"retries": 0})
    assert project.check()[0].returncode == 0
    server.routes["/fl"] = server.routes["/miami"] = bill_page(TITLE, ROWS + [PASSED])
    first = project.check()[1]
    time.sleep(1.1)
    server.routes["/tx"] = Response(503, b"busy")
    second = project.check()[1]
    assert [(c["source"], c["event"]) for c in first] == [("fl", "advanced"), ("miami", "advanced")]
    assert [(c["source"], c["event"]) for c in second] == [("tx", "http_503")]
    return first, second


def newest_first(*changes: dict) -> list[str]:
    """History's order: by detection time, newest first; within one second, by id (the time, then random)."""
    return [c["id"] for c in sorted(changes, key=lambda c: (c["detected_at"], c["id"]), reverse=True)]


def ids(result: subprocess.CompletedProcess) -> list[str]:
    assert result.returncode == 0, result.stderr
    return [json.loads(line)["id"] for line in result.stdout.splitlines()]


def test_history_filters_by_date_jurisdiction_severity_and_event(project, recorded):
    (fl, miami), (tx,) = recorded
    everything = newest_first(fl, miami, tx)
    assert everything[0] == tx["id"]
    assert ids(project.run("history", "--json")) == everything
    assert ids(project.run("history", "--json", "--since", "7d")) == everything
    assert ids(project.run("history", "--json", "--since", "2000-01-01")) == everything
    assert ids(project.run("history", "--json", "--since", "2999-01-01")) == []
    assert ids(project.run("history", "--json", "--since", tx["detected_at"])) == [tx["id"]]
    assert ids(project.run("history", "--json", "--jurisdiction", "us-fl")) == newest_first(fl, miami)
    assert ids(project.run("history", "--json", "--jurisdiction", "US-FL-MIAMI")) == [miami["id"]]
    assert ids(project.run("history", "--json", "--jurisdiction", "US-F")) == [], "whole parts of the code only"
    assert ids(project.run("history", "--json", "--severity", "high")) == newest_first(fl, miami)
    assert ids(project.run("history", "--json", "--severity", "info")) == everything
    assert ids(project.run("history", "--json", "--event", "http_503")) == [tx["id"]]
    assert ids(project.run("history", "--json", "--event", "advanced", "--event", "http_503", "--limit", "2")) == \
        everything[:2]
    assert ids(project.run("history", "--json", "--source", "fl", "--severity", "critical")) == []
    r = project.run("history", "--since", "last tuesday")
    assert r.returncode == 2 and "neither a duration" in r.stderr
    r = project.run("history", "--json", "--csv")
    assert r.returncode == 2 and "not allowed with" in r.stderr
    table = project.run("history", "--jurisdiction", "US-TX").stdout
    assert tx["id"] in table and fl["id"] not in table


def test_history_csv_parses_with_the_csv_module(project, recorded):
    (fl, miami), (tx,) = recorded
    r = project.run("history", "--csv")
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert [row["id"] for row in rows] == newest_first(fl, miami, tx)
    by_id = {row["id"]: row for row in rows}
    assert by_id[fl["id"]]["added"] == "02/26/2026 Senate CS passed; YEAS 37 NAYS 1"
    assert (by_id[fl["id"]]["outcome"], by_id[fl["id"]]["alert"], by_id[fl["id"]]["jurisdiction"]) == \
        ("legal change", "true", "US-FL")
    assert (by_id[tx["id"]]["outcome"], by_id[tx["id"]]["event"], by_id[tx["id"]]["kind"]) == \
        ("failed", "http_503", "operational")
    assert by_id[miami["id"]]["summary"] == miami["summary"]
    empty = project.run("history", "--csv", "--since", "2999-01-01")
    assert empty.returncode == 0 and len(list(csv.reader(io.StringIO(empty.stdout)))) == 1, "the header row alone"


def test_show_takes_a_unique_prefix_and_lists_the_candidates_of_an_ambiguous_one(project, recorded):
    (fl, miami), (tx,) = recorded
    common = os.path.commonprefix([fl["id"], miami["id"], tx["id"]])
    assert common, "ids start with the time in hex"
    r = project.run("show", common)
    assert r.returncode == 2 and r.stdout == ""
    assert f"{common!r} is the start of 3 change ids" in r.stderr
    for change in (fl, miami, tx):
        assert change["id"] in r.stderr
    for change in (fl, miami, tx):
        others = [c["id"] for c in (fl, miami, tx) if c is not change]
        prefix = next(change["id"][:n] for n in range(1, len(change["id"]) + 1)
                      if not any(o.startswith(change["id"][:n]) for o in others))
        shown = project.run("show", prefix)
        assert shown.returncode == 0 and shown.stdout.startswith(f"Change {change['id']} "), (prefix, shown.stderr)
    r = project.run("show", "zz")
    assert r.returncode == 2 and "no change with id 'zz'" in r.stderr


def test_status_json_describes_every_source_and_the_outbox(project, recorded):
    r = project.run("status", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    sources = {s["id"]: s for s in doc["sources"]}
    assert list(sources) == ["fl", "miami", "tx"], "in sources.yaml's order"
    fl = sources["fl"]
    assert (fl["outcome"], fl["outcome_text"], fl["health"], fl["jurisdiction"]) == \
        ("unchanged", "unchanged", "ok", "US-FL")
    assert fl["last_change_at"] < fl["last_checked"], "its legal change came a pass before"
    tx = sources["tx"]
    assert (tx["outcome"], tx["health"], tx["consecutive_failures"], tx["error_class"], tx["http_status"]) == \
        ("failed", "failing", 1, "http_503", 503)
    assert tx["enabled"] is True and tx["last_checked"].endswith("Z")
    assert {j["jurisdiction"] for j in doc["jurisdictions"]} == {"US-FL", "US-FL-MIAMI"}
    assert doc["outbox"] == {"delivered": 2}


# -- selector_missing ---------------------------------------------------------------------------------------------
def redesigned(rows, wrapper: str = "id='billHistory'", table: str = "class='actions'") -> bytes:
    trs = "".join(f"<tr><td>{d}</td><td>{c}</td><td>{a}</td></tr>" for d, c, a in rows)
    return (f"<html><head><title>{TITLE}</title></head><body><nav id='menu'><ul><li>Home</li><li>Bills</li></ul>"
            f"</nav><main><h1>{TITLE}</h1><div class='summary'><p>Sponsor: Health Policy</p></div>"
            f"<section {wrapper}><h2>Bill history</h2><table {table}><tr><th>Date</th><th>Chamber</th>"
            f"<th>Action</th></tr>{trs}</table></section><ul class='links'><li>Print this page</li></ul></main>"
            f"</body></html>").encode()


def test_a_selector_that_stops_matching_suggests_where_the_content_went(project, server):
    server.routes["/bill"] = bill_page(TITLE, ROWS)
    project.write([source(server, "fl-sb-1180", "/bill", select="#tabBodyBillHistory")], settings={"retries": 0})
    assert project.check()[0].returncode == 0
    server.routes["/bill"] = redesigned(ROWS)
    r, lines = project.check()
    assert r.returncode == 1
    [notice] = lines
    assert (notice["kind"], notice["event"]) == ("operational", "selector_missing")
    hint = re.search(r"what it selected is now closest to (.*)$", notice["summary"])
    assert hint, notice["summary"]
    suggested = hint.group(1).split(", ")
    # the table holds exactly the old rows; its section adds a heading: both, the exact one first
    assert suggested[:2] == ["table.actions", "#billHistory"], suggested
    assert "#menu" not in suggested and "ul.links" not in suggested
    shown = project.run("show", notice["id"]).stdout
    assert hint.group(0) in shown
    assert hint.group(0) in r.stderr, "the failure line of check says it too"

    # a suggestion works: the new selector takes a new baseline, then changes are seen through it
    project.write([source(server, "fl-sb-1180", "/bill", select=suggested[1])], settings={"retries": 0})
    r, lines = project.check()
    assert (r.returncode, lines) == (0, [])
    server.routes["/bill"] = redesigned(ROWS + [PASSED])
    r, lines = project.check()
    assert [(c["event"], c["added"]) for c in lines] == [("advanced", ["02/26/2026 Senate CS passed; YEAS 37 NAYS 1"])]


def test_suggestions_without_a_match_or_without_a_snapshot(project, server):
    server.routes["/bill"] = bill_page(TITLE, ROWS)
    server.routes["/new"] = redesigned(ROWS)
    project.write([source(server, "fl-sb-1180", "/bill", select="#tabBodyBillHistory"),
                   source(server, "new", "/new", select="#history")], settings={"retries": 0})
    r, lines = project.check()
    assert r.returncode == 1
    [notice] = lines
    assert notice["source"] == "new" and "the page's largest tables and lists: table.actions" in notice["summary"]
    server.routes["/bill"] = (f"<html><body><main><h1>{TITLE}</h1><div id='gone'><p>This bill is archived.</p>"
                              f"</div></main></body></html>").encode()
    r, lines = project.check("--source", "fl-sb-1180")
    assert r.returncode == 1
    assert "nothing on the page now resembles what it selected before" in lines[0]["summary"]
