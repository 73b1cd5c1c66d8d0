"""No step of a check costs the square of a page's blocks or text (issue 14, finding 4).

Changing every row of a 100,000-row page took 348 s in one check (each changed row ran a substring search over the
whole other version); splitting one 20 MB sentence took 8.5 s (each cut copied the rest of it). Both now take
seconds, through `monitor check` as an operator runs it. Bounds are generous: they catch quadratic work, not drift.
"""
from __future__ import annotations

from conftest import Response, run_measured

MB = 1 << 20
ROWS = 100_000


def session_page(action: str, kratom_action: str) -> bytes:
    """A legislature's list of every bill of the session, one of them about kratom: 7 MB, 400,000 elements."""
    rows = "".join(f"<tr><td>HB {n}</td><td>Fishing licenses</td><td>{action} {n}</td></tr>"
                   for n in range(1, ROWS))
    return (f"<html><head><title>2026 Regular Session: all bills</title></head><body><main>"
            f"<h1>2026 Regular Session: all bills</h1><table><caption>Bills and their last action</caption>{rows}"
            f"<tr><td>HB {ROWS}</td><td>Kratom products; age limit</td><td>{kratom_action}</td></tr>"
            f"</table></main></body></html>").encode()


def test_changing_every_row_of_a_100000_row_page_takes_seconds(server, project):
    page = {"body": session_page("Referred to committee", "Referred to Health")}
    server.routes["/session"] = lambda request: Response(200, page["body"])
    project.write([{"id": "fl-bills", "url": server.url("/session"), "jurisdiction": "US-FL"}],
                  {"max_elements": 500_000, "timeout": "120s"})  # 400,000 elements: over the default budget
    baseline = run_measured(project, "check", "--json", env={}, timeout=600)
    assert (baseline.returncode, baseline.changes) == (0, []), baseline.stderr
    page["body"] = session_page("Passed committee", "Passed House; YEAS 110 NAYS 2")
    changed = run_measured(project, "check", "--json", env={}, timeout=600)
    assert changed.returncode == 0, changed.stderr
    # Only the kratom bill's row counts on a page of many bills, however many rows changed.
    [legal] = [c for c in changed.changes if c["kind"] == "legal"]
    assert legal["added"] == [f"HB {ROWS} Kratom products; age limit Passed House; YEAS 110 NAYS 2"]
    assert changed.seconds < 120, changed.seconds  # measured: 12-15 s on a busy 2-core machine; was 348 s
    assert changed.peak_rss < 1000 * MB, f"{changed.peak_rss / MB:.0f} MB"  # measured: ~460 MB


def test_a_20_mb_sentence_is_read_and_compared_in_seconds(server, project):
    """One <pre> of 20 MB with no sentence break (a statute dumped as one line): cut into blocks at spaces, and a
    word changed in its middle is reported as the one passage that changed."""
    clause = "the sale or possession of kratom or mitragynine is regulated under this chapter and "
    halves = (clause * (10 * MB // len(clause)),) * 2

    def page(middle: str) -> bytes:
        return (f"<html><body><main><h1>Chapter 893</h1><pre>{halves[0]}{middle} {halves[1]}</pre></main></body>"
                f"</html>").encode()

    body = {"now": page("as amended")}
    server.routes["/statute"] = lambda request: Response(200, body["now"])
    project.write([{"id": "statute", "name": "Florida Statutes chapter 893", "url": server.url("/statute"),
                    "jurisdiction": "US-FL"}], {"max_body": "30MB", "timeout": "120s"})
    baseline = run_measured(project, "check", "--json", env={}, timeout=600)
    assert (baseline.returncode, baseline.changes) == (0, []), baseline.stderr
    body["now"] = page("and prohibited from July 1 2026")
    changed = run_measured(project, "check", "--json", env={}, timeout=600)
    assert changed.returncode == 0, changed.stderr
    [legal] = [c for c in changed.changes if c["kind"] == "legal"]
    assert len(legal["added"]) == 1 and "prohibited from July 1 2026" in legal["added"][0]
    assert len(legal["added"][0]) <= 4000  # one passage, not the statute
    for run in (baseline, changed):
        # measured: 2-3 s and 4-5 s of CPU; before, 10.6 s and 11.5 s, the split alone 8.5 s
        assert run.cpu_seconds < 8 and run.seconds < 60, (run.cpu_seconds, run.seconds)


def test_deeply_nested_chrome_and_main_content_cost_their_elements_not_their_square(server, project):
    """Within the depth budget but deeper than lxml's tree goes (so read by BeautifulSoup): 380 nests of 500 <footer>
    each with an <h1> at the bottom, and as many of <main>. Each footer searched its subtree for an <h1> and its
    ancestors for a keeper, and each <main> was measured whole: 63 s and 10 s for one check."""
    def nests(open_tag: str, close_tag: str, inside: str) -> bytes:
        nest = open_tag * 500 + inside + close_tag * 500
        return f"<html><body>{nest * 380}<p>Kratom is a Schedule I substance.</p></body></html>".encode()

    server.routes["/footers"] = Response(200, nests("<footer>", "</footer>", "<h1>SB 1180</h1>"))
    server.routes["/mains"] = Response(200, nests("<main>", "</main>", "kratom " * 10))
    project.write([{"id": name, "url": server.url(f"/{name}"), "jurisdiction": "US-FL"}
                   for name in ("footers", "mains")])
    run = run_measured(project, "check", "--json", env={}, timeout=600)
    assert (run.returncode, run.changes) == (0, []), run.stderr  # both read: baselines
    assert run.cpu_seconds < 40, run.cpu_seconds  # measured: ~10 s for the two
