"""Hostile servers and hostile documents: a pass survives them all, within time and memory bounds, and the good
source beside them is still checked and alerted. Bounds are generous; they catch unbounded behaviour, not drift.
"""
from __future__ import annotations

import json
import os
import subprocess

from conftest import Response, bill_page, closed_port_url, gzip_bomb, hang, run_measured, stream
from monitor.config import Source
from monitor.extract import extract
from monitor.extract.html_soup import parse
from monitor.models import FetchResult
from monitor.store import Store

MB = 1 << 20
ROWS = [("01/13/2026", "Senate", "Filed"), ("01/20/2026", "Senate", "Referred to Health Policy")]


def test_a_pass_over_hostile_servers_is_bounded_and_the_good_source_is_still_alerted(server, slack, project):
    server.routes["/good"] = bill_page("SB 1180: Kratom Products", ROWS)
    paragraph = b"<p>" + b"kratom leaf " * (MB // 12) + b"</p>"
    server.routes["/huge"] = stream(lambda: (paragraph for _ in range(60)))  # 60 MB, no Content-Length
    server.routes["/bomb"] = stream(lambda: gzip_bomb(4000), {"Content-Encoding": "gzip"})  # 4 GB inflated
    server.routes["/silent"] = hang(30)
    server.routes["/loop"] = Response(302, b"", {"Location": "/loop"})
    server.routes["/pdf"] = Response(200, b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + os.urandom(300_000),
                                     {"Content-Type": "text/html"})  # mislabelled, as servers do
    server.routes["/binary"] = Response(200, os.urandom(300_000), {"Content-Type": "application/octet-stream"})
    hostile = {"huge": ("/huge", "body_too_large"), "bomb": ("/bomb", "body_too_large"),
               "silent": ("/silent", "timeout"), "loop": ("/loop", "too_many_redirects"),
               "pdf": ("/pdf", "unsupported_content"), "binary": ("/binary", "unsupported_content"),
               "closed": (None, "connection_error")}
    sources = [{"id": "good", "name": "SB 1180 (Kratom Products)", "url": server.url("/good"),
                "jurisdiction": "US-FL"}]
    for sid, (path, _) in hostile.items():
        sources.append({"id": sid, "url": server.url(path) if path else closed_port_url(), "jurisdiction": "US-FL",
                        **({"timeout": "2s"} if sid == "silent" else {})})
    project.write(sources, {"retries": 1, "max_redirects": 5, "timeout": "20s"})
    env = {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_CHANNEL": "#kratom", "SLACK_API_URL": slack.api_url}

    first = run_measured(project, "check", "--json", env=env)
    server.routes["/good"] = bill_page("SB 1180: Kratom Products", ROWS + [("03/04/2026", "Senate",
                                                                             "Passed; YEAS 37 NAYS 1")])
    second = run_measured(project, "check", "--json", env=env)

    for run in (first, second):
        assert run.returncode == 1, run.stderr  # the pass finished; some sources failed
        assert "Traceback" not in run.stderr
        # silent: 2 s, a ~1 s backoff, 2 s again; everything else is quick. Python startup is in here too.
        assert run.seconds < 30, run.seconds
        assert run.peak_rss < 300 * MB, f"peak RSS {run.peak_rss / MB:.0f} MB"
    legal = [c for c in second.changes if c["kind"] == "legal"]
    assert [(c["source"], c["alert"]) for c in legal] == [("good", True)]
    assert any("YEAS 37" in json.dumps(post) for post in slack.posts)

    store = Store.open(project.state)
    try:
        state = {row["id"]: row for row in store.sources()}
    finally:
        store.close()
    assert state["good"]["last_status"] == "changed" and not state["good"]["consecutive_failures"]
    for sid, (_, error_class) in hostile.items():
        row = state[sid]
        assert (row["last_status"], row["last_error_class"], row["consecutive_failures"]) == \
            ("failed", error_class, 2), (sid, row)
        assert row["last_error"]
        assert f"monitor: {sid}: {error_class}: " in second.stderr
    assert len(server.requests_to("/loop")) == 2 * 6  # 5 redirects followed once per pass, never retried


# -- hostile documents --------------------------------------------------------------------------------------------
SOURCE = Source(id="page", url="http://127.0.0.1/page", jurisdiction="US")


def page_of(body: bytes, content_type: str = "text/html", charset: str | None = None):
    return extract(SOURCE, FetchResult(status="ok", url=SOURCE.url, body=body, content_type=content_type,
                                       charset=charset))


def texts(body: bytes, **kw) -> list[str]:
    page = page_of(body, **kw)
    assert page.problem is None, page.problem_detail
    return [b.text for b in page.blocks]


def test_a_document_nested_to_the_depth_budget_is_read_whole_and_one_deeper_is_refused():
    """Mixed tags, never closed: 512 levels (the max_depth default, deeper than lxml's own tree goes) are read with
    no RecursionError and no text lost; 100,000 levels are a too_complex page, refused before any tree is built."""
    tags = [b"<div>", b"<span>", b"<section>", b"<b>"]

    def nested(depth: int) -> bytes:
        return (b"<html><head><title>Kratom rules</title></head><body><h1>Kratom rules</h1>"
                + b"".join(tags[i % len(tags)] for i in range(depth))
                + b"<p>Kratom is a Schedule I substance at the bottom of the pit.</p>")

    assert texts(nested(512 - 3))[-1] == "Kratom is a Schedule I substance at the bottom of the pit."  # html, body, p
    deep = page_of(nested(100_000))
    assert (deep.problem, deep.blocks) == ("too_complex", ())
    assert deep.problem_detail == "the page nests elements more than 512 deep (the max_depth setting)"


def test_huge_text_nodes_are_not_cut_short_by_the_parser():
    """libxml2 stops at 10 MB text nodes unless huge_tree; bs4 feeds lxml in small chunks, so nothing is lost."""
    node = b"kratom " * (12 * MB // 7)
    body = b"<html><body><main><p>" + node + b"</p><p>Signed by the Governor.</p></main></body></html>"
    assert len(parse(body, "utf-8").get_text()) >= len(node)
    assert texts(body, charset="utf-8")[-1] == "Signed by the Governor."


def test_nul_bytes_invalid_utf8_and_utf16_are_decoded_not_dropped():
    assert texts(b"<p>Kra\x00tom ban\x00 passed</p><p>after the NULs</p>") == ["Kratom ban passed", "after the NULs"]
    # Declared UTF-8 with a bad byte: one replacement character, the rest intact.
    assert texts(b"<p>caf\xc3\xa9 \xff kratom</p><p>end</p>", charset="utf-8") == ["caf\u00e9 \ufffd kratom", "end"]
    # Undeclared and mostly UTF-8: not the whole page turned to mojibake by one bad byte.
    assert texts(b"<p>caf\xc3\xa9 \xff kratom</p><p>end</p>")[0] == "caf\u00e9 \ufffd kratom"
    assert texts(b"<p>caf\xe9 kratom</p>") == ["caf\u00e9 kratom"]  # undeclared windows-1252
    utf16 = "<html><body><p>kratom \u0e01\u0e23\u0e30\u0e17\u0e48\u0e2d\u0e21</p></body></html>".encode("utf-16")
    assert texts(utf16) == ["kratom \u0e01\u0e23\u0e30\u0e17\u0e48\u0e2d\u0e21"]


def test_malformed_markup_still_yields_its_text():
    body = (b"<html><body><p>Kratom bill</div></div></span><p>Introduced <b>today<i>really</b></i>"
            b"<table><td>no row<td>or body</table><p class=a class=b id=>second reading<<<>>> done"
            b"<!-- an unclosed comment")
    got = " | ".join(texts(body))
    for words in ("Kratom bill", "Introduced", "today", "no row", "or body", "second reading"):
        assert words in got


def test_binary_where_html_was_expected_is_a_clear_page_problem():
    pdf = page_of(b"%PDF-1.7\n" + os.urandom(5000), content_type="text/html")
    noise = page_of(os.urandom(5000), content_type="text/html")
    assert (pdf.problem, noise.problem) == ("unsupported_content", "unsupported_content")
    assert "expected html text, got text/html (5,009 bytes)" == pdf.problem_detail
    assert "binary data" in noise.problem_detail
    image = page_of(b"\x89PNG\r\n\x1a\n" + os.urandom(100), content_type="image/png")
    assert image.problem == "unsupported_content" and "image/png" in image.problem_detail
    # A page mislabelled as binary is still a page; a few stray control bytes do not make it binary.
    assert texts(b"<html><body><p>Kratom</p></body></html>", content_type="application/octet-stream") == ["Kratom"]
    assert texts(b"<p>Kratom\x01 rule\x08</p>" + b"<p>text</p>" * 20)[0] == "Kratom\x01 rule\x08"
