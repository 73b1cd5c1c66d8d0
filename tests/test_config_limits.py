"""sources.yaml values that used to validate and then crash, hang or disable the worker, driven through `monitor
validate`, `check` and `run` as subprocesses: each is now refused up front, exit 2, naming the limit, no traceback."""
from __future__ import annotations

import time

import pytest

from monitor.limits import show
from monitor.yamlload import MAX_DEPTH

SOURCE = "sources:\n  - id: a\n    url: http://127.0.0.1:9/\n    jurisdiction: US\n"


def refused(project, text: str, *commands: str) -> str:
    """Write `text`, run each command, assert a clean refusal (exit 2, nothing stored); the problems printed."""
    project.write(text)
    out = ""
    for command in commands or ("validate",):
        started = time.monotonic()
        r = project.run(command, timeout=60)
        assert r.returncode == 2, (command, r.returncode, r.stdout, r.stderr[-2000:])
        assert "Traceback" not in r.stderr + r.stdout and r.stderr.rstrip().endswith("nothing was checked")
        assert time.monotonic() - started < 30, f"{command} took {time.monotonic() - started:.0f}s"
        out = r.stderr
    assert not project.state.exists(), "a refused file must not create state"
    return out


@pytest.mark.parametrize("key, value, expected", [
    ("interval", ".inf", "interval: inf is longer than the 30d limit"),
    ("interval", ".nan", "interval: nan is not a duration"),
    ("interval", "1e15d", "interval: '1e15d' is not a duration"),
    ("interval", "1.0e+15", "interval: 1000000000000000.0 is longer than the 30d limit"),
    ("interval", "100000000000000d", "interval: '100000000000000d' is longer than the 30d limit"),
    ("interval", "0.5", "interval: 0.5 is shorter than 1s"),
    ("timeout", ".nan", "timeout: nan is not a duration"),
    ("timeout", "2h", "timeout: '2h' is longer than the 1h limit"),
])
def test_source_durations_are_finite_and_bounded(project, key, value, expected):
    err = refused(project, SOURCE + f"    {key}: {value}\n", "validate", "check", "run")
    assert f"source 'a': line 5: {expected}" in err


@pytest.mark.parametrize("setting, expected", [
    ("interval: .inf", "settings: interval: inf is longer than the 30d limit"),
    ("timeout: .nan", "settings: timeout: nan is not a duration"),
    ("host_delay: 1000000000000d", "settings: host_delay: '1000000000000d' is longer than the 1h limit"),
    ("host_delays: {www.flsenate.gov: .inf}", "settings: host_delays.www.flsenate.gov: inf is longer than the 1h "
                                              "limit"),
    ("max_body: .inf", "settings: max_body: inf is larger than the 256MB limit"),
    ("max_body: 1GB", "settings: max_body: '1GB' is larger than the 256MB limit"),
    ("max_redirects: .inf", "settings: max_redirects: inf is not a whole number"),
    ("concurrency: 1000000", "settings: concurrency: 1000000 must be at most 256"),
    ("per_host_concurrency: 0", "settings: per_host_concurrency: 0 must be at least 1"),
    ("retries: 2.5", "settings: retries: 2.5 is not a whole number"),
    ("failure_threshold: 100000", "settings: failure_threshold: 100000 must be at most 1000"),
    ("user_agent: \"bot\\r\\nX-Injected: 1\"",
     "settings: user_agent: 'bot\\r\\nX-Injected: 1' must be printable ASCII"),
])
def test_settings_are_finite_and_bounded(project, setting, expected):
    err = refused(project, f"settings:\n  {setting}\n" + SOURCE, "validate", "check")
    assert expected in err


def test_the_limits_themselves_are_accepted(project):
    project.write("settings:\n  interval: 30d\n  timeout: 1h\n  host_delay: 1h\n  max_body: 256MB\n"
                  "  max_redirects: 30\n  concurrency: 256\n  per_host_concurrency: 64\n  retries: 10\n" + SOURCE)
    r = project.run("validate")
    assert r.returncode == 0, r.stderr


def billion_laughs(levels: int = 9) -> str:
    lines = ['lol0: &lol0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        lines.append(f"lol{i}: &lol{i} [" + ", ".join([f"*lol{i - 1}"] * 9) + "]")
    return "bomb:\n" + "".join(f"  {line}\n" for line in lines)


def test_a_yaml_alias_bomb_is_refused_at_once(project):
    """9 levels of 9 aliases: 387 million strings once expanded, used as a source's id (whose error message used to
    print it). Refused at the first alias, before anything is built, in a line of a hundred characters."""
    text = billion_laughs() + "sources:\n  - id: *lol8\n    url: http://127.0.0.1:9/\n    jurisdiction: US\n"
    err = refused(project, text, "validate", "check", "run")
    assert "line 3, column 16: an alias (*lol0) is not allowed in this file: write the value out in full" in err
    assert len(err) < 500, err


def test_merge_keys_through_aliases_are_refused_too(project):
    text = ("defaults: &defaults\n  jurisdiction: US\n  interval: 6h\n"
            "sources:\n  - <<: *defaults\n    id: a\n    url: http://127.0.0.1:9/\n")
    err = refused(project, text)
    assert "line 5, column 9: an alias (*defaults) is not allowed" in err


def test_deep_nesting_and_odd_keys_are_refused_without_a_traceback(project):
    err = refused(project, "sources: " + "[" * 20_000 + "]" * 20_000 + "\n", "validate", "check")
    assert f"nested more than {MAX_DEPTH} levels deep" in err
    err = refused(project, "sources:\n" + "".join("  " * i + "- a:\n" for i in range(1, 120)))
    assert f"nested more than {MAX_DEPTH} levels deep" in err
    assert "a key must be text, not a list or a mapping" in refused(project, "sources:\n  - {[a]: 1}\n")
    assert "YAML error" in refused(project, SOURCE + "    interval: " + "9" * 5000 + "\n")


def test_values_are_cut_short_in_messages(project):
    """A megabyte in a field makes a line of a few hundred characters, not a megabyte of output."""
    huge = "x" * 1_000_000
    err = refused(project, f"sources:\n  - id: {huge}\n    url: http://{huge}\n    jurisdiction: {huge}\n"
                           f"    kind: {huge}\n    {'y' * 1000}: 1\n", "validate", "check")  # keys: 1,024 at most
    assert len(err) < 3000, len(err)
    assert "(1,000,000 characters)" in err and "unknown key" in err
    assert show(["a" * 100] * 1000).startswith("['") and len(show(["a" * 100] * 1000)) < 70


@pytest.mark.parametrize("text, field", [
    ('  - id: "a\\n"\n    url: http://127.0.0.1:9/\n    jurisdiction: US\n', "id"),
    ("  - id: |\n      a\n    url: http://127.0.0.1:9/\n    jurisdiction: US\n", "id"),
    ('  - id: a\n    url: "http://127.0.0.1:9/\\n"\n    jurisdiction: US\n', "url"),
    ('  - id: a\n    url: http://127.0.0.1:9/\n    jurisdiction: "US\\n"\n', "jurisdiction"),
])
def test_ids_urls_and_jurisdictions_with_a_trailing_newline_are_refused(project, text, field):
    err = refused(project, "sources:\n" + text, "validate", "check")
    assert f"{field}: '" in err and "\\n'" in err, err


@pytest.mark.parametrize("url, expected", [
    ("http://127.0.0.1:99999/", "has a port that is not a number from 0 to 65535"),
    ("http://x.org/" + "a" * 5000, "is not an http(s) URL of at most 4,096 characters"),
    ("http://x.org/\x07bell", "is not an http(s) URL"),
])
def test_urls_that_could_never_be_fetched_are_refused(project, url, expected):
    project.write([{"id": "a", "url": url, "jurisdiction": "US"}])
    r = project.run("validate")
    assert r.returncode == 2 and expected in r.stderr, r.stderr
