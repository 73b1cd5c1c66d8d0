"""The command-line contract, driven as a user would: real HTTP on 127.0.0.1, `python -m monitor` subprocesses."""
from __future__ import annotations

import json

from conftest import Response, bill_page

FIELDS = {"id", "source", "jurisdiction", "url", "kind", "alert", "event", "severity", "summary", "added", "removed",
          "detected_at"}
ROWS = [("01/13/2026", "Senate", "Filed"), ("01/20/2026", "Senate", "Referred to Health Policy; Appropriations")]
PASSED = ("02/26/2026", "Senate", "CS passed; YEAS 37 NAYS 1")


def sources(server, **extra):
    return [{"id": "fl-sb-1180", "name": "Florida CS/SB 1180 (Kratom Products)", "url": server.url("/bill"),
             "jurisdiction": "US-FL", "select": "#tabBodyBillHistory", **extra},
            {"id": "fishing", "name": "Fishing licenses", "url": server.url("/other"), "jurisdiction": "US-FL"}]


def fishing(year: int) -> bytes:
    return f"<html><body><main><h1>Fishing licenses</h1><p>Fees for {year}.</p></main></body></html>".encode()


def test_validate_ok_and_broken(project, server):
    project.write(sources(server))
    r = project.run("validate")
    assert r.returncode == 0 and "OK, 2 sources" in r.stdout
    project.write("sources:\n  - id: a\n    url: ftp://x\n    jurisdiction: US-FL\n    selectr: x\n")
    for command in ("validate", "check", "run"):
        r = project.run(command)
        assert r.returncode == 2, (command, r.stderr)
        assert "Traceback" not in r.stderr + r.stdout
        assert "url: 'ftp://x' is not an http(s) URL" in r.stderr and "selectr: unknown key" in r.stderr
    assert not project.state.exists(), "a refused file must not create state"


def test_first_sight_then_change_then_unchanged(project, server):
    server.routes["/bill"] = bill_page("CS/SB 1180: Kratom Products", ROWS)
    server.routes["/other"] = fishing(2026)
    project.write(sources(server))

    r, lines = project.check()
    assert r.returncode == 0 and lines == [], "first sight records a baseline and reports nothing"

    server.routes["/bill"] = bill_page("CS/SB 1180: Kratom Products", ROWS + [PASSED])
    server.routes["/other"] = fishing(2027)
    r, lines = project.check()
    assert r.returncode == 0, r.stderr
    assert len(lines) == 1, lines
    change = lines[0]
    assert FIELDS <= set(change)
    assert change["source"] == "fl-sb-1180" and change["kind"] == "legal" and change["alert"] is True
    assert change["event"] in ("advanced", "passed") and change["severity"] == "high"
    assert change["added"] == ["02/26/2026 Senate CS passed; YEAS 37 NAYS 1"] and change["removed"] == []
    assert "SB 1180" in change["summary"] and "37-1" in change["summary"]
    assert change["detected_at"].endswith("Z")
    assert "ADVANCED · Florida" in r.stderr, "with no Slack settings the alert goes to the console (stderr)"

    r, lines = project.check()
    assert r.returncode == 0 and lines == [], "an unchanged pass reports nothing"

    history = project.run("history", "--json")
    assert [json.loads(line)["id"] for line in history.stdout.splitlines()] == [change["id"]]
    text = project.run("history").stdout
    assert change["id"] in text and "fl-sb-1180" in text
    show = project.run("show", change["id"])
    assert show.returncode == 0
    assert "YEAS 37 NAYS 1" in show.stdout and "stands under" in show.stdout and "kratom" in show.stdout.lower()
    # the judgement as a measure: identity, the stage before and after, the action with its vote, confidence
    assert "Identity:    CS/SB 1180: Kratom Products" in show.stdout
    assert "Stage:       introduced -> advanced" in show.stdout
    assert "upper: passage; vote 37-1 (carried)" in show.stdout
    assert "Confidence:  medium" in show.stdout and "Severity:" in show.stdout
    status = project.run("status")
    assert status.returncode == 0
    assert "fl-sb-1180" in status.stdout and "fishing" in status.stdout and "US-FL" in status.stdout
    assert project.run("show", "nonexistent").returncode == 2


def test_failing_source_exits_1_and_others_still_checked(project, server):
    server.routes["/bill"] = bill_page("CS/SB 1180: Kratom Products", ROWS)
    server.routes["/other"] = Response(503, b"busy")
    project.write(sources(server), settings={"retries": 0})
    r, lines = project.check()
    assert r.returncode == 1
    assert "fishing" in r.stderr and "http_503" in r.stderr
    assert [(l["source"], l["kind"], l["alert"]) for l in lines] == [("fishing", "operational", False)]
    server.routes["/bill"] = bill_page("CS/SB 1180: Kratom Products", ROWS + [PASSED])
    r, lines = project.check()
    assert r.returncode == 1
    assert [(l["source"], l["kind"]) for l in lines] == [("fl-sb-1180", "legal")]


def test_check_only_named_sources_and_dry_run(project, server):
    server.routes["/bill"] = bill_page("CS/SB 1180: Kratom Products", ROWS)
    server.routes["/other"] = fishing(2026)
    project.write(sources(server))
    r, _ = project.check("--source", "fl-sb-1180")
    assert r.returncode == 0 and len(server.requests_to("/other")) == 0
    r, _ = project.check("--source", "nope")
    assert r.returncode == 2 and "no source with id 'nope'" in r.stderr

    server.routes["/bill"] = bill_page("CS/SB 1180: Kratom Products", ROWS + [PASSED])
    for _ in range(2):  # a dry run stores nothing, so it reports the same change every time
        r, lines = project.check("--source", "fl-sb-1180", "--dry-run")
        assert r.returncode == 0 and [l["alert"] for l in lines] == [True]
    assert project.run("history", "--json").stdout == ""


def test_min_severity_records_but_does_not_alert(project, server):
    server.routes["/bill"] = bill_page("CS/SB 1180: Kratom Products", ROWS)
    project.write(sources(server, min_severity="critical")[:1])
    project.check()
    server.routes["/bill"] = bill_page("CS/SB 1180: Kratom Products", ROWS + [PASSED])
    r, lines = project.check()
    assert [(l["event"], l["alert"]) for l in lines] == [("advanced", False)]


def test_environment_variables_select_files(project, server, tmp_path):
    server.routes["/other"] = fishing(2026)
    project.write(sources(server)[1:])
    r = project.run("validate")  # via flags
    assert r.returncode == 0
    import subprocess
    import sys

    env = {**project.env, "MONITOR_SOURCES": str(project.sources), "MONITOR_STATE_DIR": str(tmp_path / "s2")}
    r = subprocess.run([sys.executable, "-m", "monitor", "check", "--json"], env=env, cwd=tmp_path,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and (tmp_path / "s2" / "monitor.db").exists()


def test_a_new_selector_takes_a_new_baseline_instead_of_reporting_the_difference(project, server):
    server.routes["/bill"] = bill_page("CS/SB 1180: Kratom Products", ROWS)
    project.write(sources(server)[:1])
    project.check()
    project.write(sources(server, select="main")[:1])
    r, lines = project.check()
    assert r.returncode == 0 and lines == [], "same bytes under a new selector: a new baseline, silently"
    server.routes["/bill"] = bill_page("CS/SB 1180: Kratom Products", ROWS)  # only the generated stamp moves
    r, lines = project.check()
    assert lines == []
    server.routes["/bill"] = bill_page("CS/SB 1180: Kratom Products", ROWS + [PASSED])
    r, lines = project.check()
    assert [(l["event"], l["added"]) for l in lines] == [("advanced", ["02/26/2026 Senate CS passed; YEAS 37 NAYS 1"])]
