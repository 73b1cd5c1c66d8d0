"""Parsing is bounded by an element and a depth budget, not only by the body cap (issue 14, finding 1).

8 MB of `<p>` (2 million elements) once took one check to 3.9 GB and 111 s, and four such pages took the worker past
3.8 GB. Now a page over the budget fails its check as `too_complex`, counted by a parse that builds no tree, on both
the lxml and the BeautifulSoup paths, and a pass over four of them at once stays small.
"""
from __future__ import annotations

import random

import pytest

from conftest import Response, bill_page, run_measured
from monitor.config import ConfigError, parse_config
from monitor.extract.budget import Budget, _Counter, over_budget
from monitor.store import Store

MB = 1 << 20
ROWS = [("01/13/2026", "Senate", "Filed"), ("01/20/2026", "Senate", "Referred to Health Policy")]
PASSED = ("03/04/2026", "Senate", "Passed; YEAS 37 NAYS 1")


def hostile_pages() -> dict[str, tuple[bytes, dict]]:
    """Each about 6-8 MB, under the 10 MB body cap: (body, the source's extra keys)."""
    paragraphs = b"<html><body><main>" + b"<p>x" * 2_000_000 + b"</main></body></html>"
    return {
        "paragraphs": (paragraphs, {}),  # the lxml fast path
        "paragraphs-selected": (paragraphs, {"select": "main"}),  # BeautifulSoup's path
        "nested": (b"<html><body>" + b"<div>x" * 1_000_000 + b"</body></html>", {}),
        "cells-excluded": (b"<table>" + b"<tr><td>kratom<td>ban" * 400_000 + b"</table>", {"exclude": "nav"}),
    }


def test_four_hostile_pages_at_once_fail_as_too_complex_in_a_small_bounded_pass(server, project):
    sources = [{"id": "good", "name": "SB 1180 (Kratom Products)", "url": server.url("/good"),
                "jurisdiction": "US-FL"}]
    for name, (body, extra) in hostile_pages().items():
        server.routes[f"/{name}"] = Response(200, body)
        sources.append({"id": name, "url": server.url(f"/{name}"), "jurisdiction": "US-FL", **extra})
    server.routes["/good"] = bill_page("SB 1180: Kratom Products", ROWS)
    project.write(sources)
    first = run_measured(project, "check", "--json", env={}, timeout=300)
    server.routes["/good"] = bill_page("SB 1180: Kratom Products", ROWS + [PASSED])
    second = run_measured(project, "check", "--json", env={}, timeout=300)

    for run in (first, second):
        assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr
        assert run.peak_rss < 500 * MB, f"peak RSS {run.peak_rss / MB:.0f} MB"  # measured: ~105 MB
        assert run.seconds < 60, run.seconds  # measured: ~1.2 s
        assert "monitor: paragraphs: too_complex: the page has more than 200,000 elements (the max_elements " \
               "setting)" in run.stderr
        assert "monitor: nested: too_complex: the page nests elements more than 512 deep (the max_depth " \
               "setting)" in run.stderr
    # A page problem like any other: recorded once, on the first failure, not on every pass.
    notices = [c for c in first.changes if c["event"] == "too_complex"]
    assert sorted(c["source"] for c in notices) == sorted(hostile_pages())
    assert all(c["kind"] == "operational" and not c["alert"] for c in notices)
    assert not [c for c in second.changes if c["event"] == "too_complex"]
    assert [(c["source"], c["event"]) for c in second.changes if c["kind"] == "legal"] == [("good", "advanced")]
    store = Store.open(project.state)
    try:
        state = {row["id"]: row for row in store.sources()}
    finally:
        store.close()
    for name in hostile_pages():
        assert (state[name]["last_error_class"], state[name]["consecutive_failures"]) == ("too_complex", 2)


def test_the_budget_is_a_setting_and_a_page_within_it_is_read(server, project):
    server.routes["/bill"] = bill_page("SB 1180: Kratom Products", ROWS)
    source = {"id": "bill", "url": server.url("/bill"), "jurisdiction": "US-FL"}
    project.write([source], {"max_elements": 20})  # the page has 31
    result, changes = project.check()
    assert result.returncode == 1
    assert "monitor: bill: too_complex: the page has more than 20 elements (the max_elements setting)" in result.stderr
    project.write([source], {"max_elements": 1000, "max_depth": 20})
    result, changes = project.check()
    assert result.returncode == 0, result.stderr  # the baseline is taken
    project.write([{**source, "select": "table"}], {"max_depth": 3})  # html, body, table...: the bs4 path
    result, _ = project.check()
    assert "monitor: bill: too_complex: the page nests elements more than 3 deep" in result.stderr


@pytest.mark.parametrize("value", [0, -1, "many", True])
def test_budget_settings_must_be_positive_whole_numbers(value):
    for key in ("max_elements", "max_depth"):
        text = f"settings:\n  {key}: {value!r}\nsources:\n  - {{id: s, url: 'http://x', jurisdiction: US}}\n"
        with pytest.raises(ConfigError) as refused:
            parse_config(text)
        assert any(problem.startswith(f"settings: {key}: ") for problem in refused.value.problems)
    assert parse_config("settings: {max_elements: 500000, max_depth: 1000}\nsources: [{id: s, url: 'http://x', "
                        "jurisdiction: US}]").settings.max_elements == 500_000


def test_counting_is_skipped_only_where_the_tag_count_proves_the_page_within_budget():
    """libxml2 opens at most one element per `<` plus a few implied ones (html, head, body, p), which is what lets
    over_budget skip counting when twice the `<` count is within the budget. Checked on random tag soup."""
    tags = ["p", "/p", "div", "/div", "td", "tr", "table", "li", "html", "/html", "body", "head", "title", "b", "br",
            "frameset", "select", "option", "svg", "math", "template", "script", "!--", "!doctype html", "?x", "/", ""]
    rnd = random.Random(11)
    for _ in range(3000):
        soup = "".join((f"<{rnd.choice(tags)}" + rnd.choice([">", " x=1>", "", ">text"])) if rnd.random() < 0.8
                       else rnd.choice(["x", " ", "&lt;", ">", "<"]) for _ in range(rnd.randint(1, 30)))
        counter = _Counter(Budget(10**9, 10**9))
        deepest = 0
        start = counter.start

        def watch(tag, attrib, counter=counter):
            nonlocal deepest
            start(tag, attrib)
            deepest = max(deepest, counter.depth)

        counter.start = watch
        from lxml import etree

        parser = etree.HTMLParser(target=counter, recover=True)
        parser.feed(soup)
        parser.close()
        assert max(counter.elements, deepest) <= 2 * soup.count("<") + 8, soup
        elements = counter.elements
        assert over_budget(soup, Budget(elements, deepest)) == ""
        if elements:
            assert "more than" in over_budget(soup, Budget(elements - 1, 10**9))
