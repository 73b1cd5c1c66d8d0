"""Structured sources (feed, federal_register, legiscan, openstates) driven through `monitor check` on loopback.

Responses are built from the documented formats: Federal Register documents.json (with its paginated and empty
forms), RSS 0.91/1.0/2.0 and Atom, LegiScan getSearch/getBill, Open States v3 /bills with actions.
"""
from __future__ import annotations

import json
import resource
import time
from datetime import date, datetime, timedelta, timezone
from email.utils import format_datetime
from urllib.parse import parse_qs, urlsplit

from conftest import Response

from monitor.config import Source
from monitor.diff import carry_over, diff_blocks
from monitor.extract import extract
from monitor.models import FetchResult

JSON = {"Content-Type": "application/json; charset=utf-8"}
XML = {"Content-Type": "application/rss+xml; charset=utf-8"}


def legal(lines: list[dict]) -> list[dict]:
    return [line for line in lines if line["kind"] == "legal"]


# --- Federal Register ----------------------------------------------------------------------------------------

JUSTICE = {"raw_name": "DEPARTMENT OF JUSTICE", "name": "Justice Department", "id": 268, "parent_id": None,
           "url": "https://www.federalregister.gov/agencies/justice-department", "slug": "justice-department",
           "json_url": "https://www.federalregister.gov/api/v1/agencies/268"}
DEA = {"raw_name": "Drug Enforcement Administration", "name": "Drug Enforcement Administration", "id": 134,
       "parent_id": 268, "url": "https://www.federalregister.gov/agencies/drug-enforcement-administration",
       "slug": "drug-enforcement-administration", "json_url": "https://www.federalregister.gov/api/v1/agencies/134"}
PLACEMENT = "Schedules of Controlled Substances: Temporary Placement of Mitragynine Pseudoindoxyl, MGM-15, and " \
            "MGM-16 in Schedule I"


def fr_doc(number: str, kind: str, title: str, abstract: str, published: str, effective: str | None = None) -> dict:
    return {"title": title, "type": kind, "abstract": abstract, "document_number": number,
            "html_url": f"https://www.federalregister.gov/documents/{published.replace('-', '/')}/{number}/x",
            "pdf_url": f"https://www.govinfo.gov/content/pkg/FR-{published}/pdf/{number}.pdf",
            "publication_date": published, "effective_on": effective, "comments_close_on": None,
            "agencies": [JUSTICE, DEA]}


NOI_2016 = fr_doc("2016-20803", "Proposed Rule", "Schedules of Controlled Substances: Temporary Placement of "
                  "Mitragynine and 7-Hydroxymitragynine Into Schedule I", "The Administrator of the Drug Enforcement "
                  "Administration is issuing this notice of intent to temporarily schedule the opioids mitragynine "
                  "and 7-hydroxymitragynine, the main psychoactive constituents of kratom.", "2016-08-31")
WITHDRAWAL_2016 = fr_doc("2016-24659", "Proposed Rule", "Withdrawal of Notice of Intent To Temporarily Place "
                         "Mitragynine and 7-Hydroxymitragynine Into Schedule I", "The Drug Enforcement Administration "
                         "is withdrawing the notice of intent published on August 31, 2016.", "2016-10-13")
NOI_2026 = fr_doc("2026-13581", "Proposed Rule", PLACEMENT, "The Administrator of the Drug Enforcement Administration"
                  " is issuing this notice of intent to temporarily place mitragynine pseudoindoxyl (MP), MGM-15 and "
                  "MGM-16 in schedule I of the Controlled Substances Act.", "2026-07-06")
ORDER_2026 = fr_doc("2026-17429", "Rule", PLACEMENT, "This temporary scheduling order places MP, MGM-15 and MGM-16 "
                    "in schedule I.", "2026-08-26", effective="2026-08-26")


def fr_page(docs: list[dict], total: int, next_page: str | None = None) -> bytes:
    body = {"count": total, "description": "Documents matching 'kratom' and Ordered by Newest",
            "total_pages": -(-total // max(1, len(docs))), "results": docs}
    if next_page:
        body["next_page_url"] = next_page
    return json.dumps(body).encode()


def test_federal_register_new_documents_alert_and_none_is_ever_removed(project, server):
    """Page 1 only; a document pushed off it or an empty search is not a removal; a returning one is not new."""
    search = "/api/v1/documents.json"
    page2 = server.url(search.replace(".json", "-page2.json"))
    url = server.url(search) + "?conditions[term]=kratom&order=newest&per_page=2"
    project.write([{"id": "fr-kratom", "name": "Federal Register: kratom", "url": url, "jurisdiction": "US",
                    "kind": "federal_register"}])

    server.routes[search] = Response(200, fr_page([WITHDRAWAL_2016, NOI_2016], 4, page2), JSON)
    r, lines = project.check()
    assert r.returncode == 0 and lines == [], r.stderr

    server.routes[search] = Response(200, fr_page([NOI_2026, WITHDRAWAL_2016], 4, page2), JSON)
    r, lines = project.check()
    assert r.returncode == 0, r.stderr
    [change] = legal(lines)
    assert change["event"] == "introduced" and change["severity"] == "high" and change["measure"] == "2026-13581"
    assert change["summary"] == f"Drug Enforcement Administration proposed rule published (introduced): {PLACEMENT}" \
                                " [FR 2026-13581]"
    assert change["url"] == NOI_2026["html_url"] and change["removed"] == []

    server.routes[search] = Response(200, json.dumps({"count": 0, "description": "Documents matching 'kratom'"})
                                     .encode(), JSON)
    r, lines = project.check()
    assert r.returncode == 0 and lines == [], "an empty search removes nothing"

    ahead = (date.today() + timedelta(days=30)).isoformat()
    future = fr_doc("2026-24810", "Rule", "Schedules of Controlled Substances: Placement of 7-Hydroxymitragynine in "
                    "Schedule I", "This rule places 7-hydroxymitragynine in schedule I.", "2026-11-20", ahead)
    server.routes[search] = Response(200, fr_page([future, ORDER_2026, NOI_2026], 6, page2), JSON)
    r, lines = project.check()
    assert r.returncode == 0, r.stderr
    by_number = {c["measure"]: c for c in legal(lines)}
    assert set(by_number) == {"2026-24810", "2026-17429"}, "documents seen before the empty search are not new"
    assert by_number["2026-24810"]["event"] == "passed" and f"adopted, effective {ahead}" in \
        by_number["2026-24810"]["summary"]
    assert by_number["2026-17429"]["event"] == "enacted" and by_number["2026-17429"]["severity"] == "critical"
    assert "rule in force since 2026-08-26 (enacted)" in by_number["2026-17429"]["summary"]
    assert not server.requests_to(urlsplit(page2).path), "only the first page of a search is read"


# --- Feeds ---------------------------------------------------------------------------------------------------

def rss(items: list[tuple[str, str, str, datetime]], built: datetime) -> bytes:
    entries = "".join(f"<item><title>{t}</title><link>https://www.fda.gov/news/{g}</link><guid isPermaLink='false'>"
                      f"{g}</guid><description><![CDATA[<p>{d}</p>]]></description><pubDate>{format_datetime(p)}"
                      f"</pubDate></item>" for g, t, d, p in items)
    return (f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>FDA Press Releases</title>"
            f"<link>https://www.fda.gov</link><description>News</description><lastBuildDate>{format_datetime(built)}"
            f"</lastBuildDate>{entries}</channel></rss>").encode()


T0 = datetime(2026, 7, 29, 14, 0, tzinfo=timezone.utc)
FDA_ITEMS = [
    ("fda-7oh", "FDA Takes Steps to Restrict 7-OH Opioid Products", "FDA recommends scheduling "
     "7-hydroxymitragynine, a concentrated kratom alkaloid.", T0),
    ("fda-flu", "FDA Approves New Influenza Vaccine Strain", "Strain selection for the 2026-2027 season.",
     T0 - timedelta(days=1)),
    ("fda-food", "FDA Issues Guidance on Food Labeling", "Draft guidance on front-of-package labels.",
     T0 - timedelta(days=2)),
]


def test_feed_reordered_or_redated_is_quiet_and_a_new_item_alerts(project, server):
    project.write([{"id": "fda-press", "name": "FDA press releases", "url": server.url("/rss.xml"),
                    "jurisdiction": "US", "kind": "feed"}])
    server.routes["/rss.xml"] = Response(200, rss(FDA_ITEMS, T0), XML)
    r, lines = project.check()
    assert r.returncode == 0 and lines == [], r.stderr

    redated = [(g, t, d, p + timedelta(hours=5)) for g, t, d, p in reversed(FDA_ITEMS)]
    server.routes["/rss.xml"] = Response(200, rss(redated, T0 + timedelta(days=1)), XML)
    r, lines = project.check()
    assert r.returncode == 0 and lines == [], "a re-ordered, re-dated feed is no change"

    notice = ("dea-7oh", "DEA Publishes Notice of Intent to Temporarily Schedule 7-Hydroxymitragynine",
              "The Drug Enforcement Administration published a notice of intent to temporarily place 7-OH in "
              "Schedule I.", T0 + timedelta(days=3))
    unrelated = ("fda-recall", "Company Recalls Canned Tuna", "Possible contamination.", T0 + timedelta(days=3))
    server.routes["/rss.xml"] = Response(200, rss([notice, unrelated, *FDA_ITEMS], T0 + timedelta(days=3)), XML)
    r, lines = project.check()
    assert r.returncode == 0, r.stderr
    [change] = legal(lines)
    assert change["event"] == "introduced" and change["severity"] == "high"
    assert change["added"] == [f"{notice[1]} — {notice[2]}"] and change["url"] == "https://www.fda.gov/news/dea-7oh"
    assert change["summary"] == f"New item in FDA press releases (introduced, United States (federal)): {notice[1]}"


def atom(entries: list[tuple[int, str]]) -> bytes:
    body = "".join(f"<entry><id>tag:www.gov.uk,2026:news/{n}</id><title>{t}</title><link href='/news/{n}'/>"
                   f"<updated>2026-0{n}-01T09:00:00Z</updated><summary>Announcement {n}.</summary></entry>"
                   for n, t in entries)
    return (f"<?xml version='1.0' encoding='utf-8'?><feed xmlns='http://www.w3.org/2005/Atom'><title>GOV.UK</title>"
            f"<id>tag:www.gov.uk,2026:feed</id><updated>2026-09-01T00:00:00Z</updated>{body}</feed>").encode()


def test_atom_entries_that_age_out_are_quiet_and_a_withdrawn_one_is_reported(project, server):
    project.write([{"id": "govuk", "name": "GOV.UK news", "url": server.url("/news.atom"), "jurisdiction": "GB",
                    "kind": "feed"}])
    entries = [(5, "Fishing quotas"), (4, "Kratom: ACMD advice on mitragynine"), (3, "Road works"),
               (2, "Ketum seizures at the border"), (1, "Kratom import warning")]
    server.routes["/news.atom"] = Response(200, atom(entries), {"Content-Type": "application/atom+xml"})
    r, lines = project.check()
    assert r.returncode == 0 and lines == [], r.stderr

    # entry 6 is new (not about kratom), 1 aged out of the window, 4 was withdrawn from among newer entries
    server.routes["/news.atom"] = Response(200, atom([(6, "School holidays"), (5, "Fishing quotas"), (3, "Road works"),
                                                      (2, "Ketum seizures at the border")]),
                                           {"Content-Type": "application/atom+xml"})
    r, lines = project.check()
    assert r.returncode == 0, r.stderr
    [change] = legal(lines)
    assert change["event"] == "mention" and change["added"] == []
    assert change["removed"] == ["Kratom: ACMD advice on mitragynine — Announcement 4."]
    assert change["summary"] == "Item withdrawn from GOV.UK news (United Kingdom): Kratom: ACMD advice on mitragynine"


def parsed(kind: str, body: bytes):
    source = Source(id="t", url="https://agency.example/feed", jurisdiction="US", kind=kind)
    return extract(source, FetchResult(status="ok", url=source.url, body=body))


def test_every_feed_dialect_gives_items_with_their_identity():
    rss091 = (b"<?xml version='1.0' encoding='ISO-8859-1'?>\n<!DOCTYPE rss PUBLIC '-//Netscape Communications//DTD "
              b"RSS 0.91//EN' 'http://my.netscape.com/publish/formats/rss-0.91.dtd'>\n<rss version='0.91'><channel>"
              b"<title>Old</title><link>https://agency.example/</link><description>d</description><item><title>"
              b"Kratom ban \xe9tendu</title><link>/news/1</link><description>mitragynine</description></item>"
              b"</channel></rss>")
    rdf = (b"<?xml version='1.0'?><rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#' "
           b"xmlns='http://purl.org/rss/1.0/'><channel rdf:about='https://agency.example/'><title>RDF</title>"
           b"<link>https://agency.example/</link><description>d</description></channel><item "
           b"rdf:about='https://agency.example/a'><title>Kratom item</title><link>https://agency.example/a</link>"
           b"<description>&lt;b&gt;7-OH&lt;/b&gt; rules</description></item></rdf:RDF>")
    pages = {name: parsed("feed", body) for name, body in (("rss091", rss091), ("rdf", rdf))}
    assert [(b.key, b.text) for b in pages["rss091"].blocks] == [
        ("https://agency.example/news/1", "Kratom ban étendu — mitragynine")], "an external DTD is no entity"
    assert [(b.key, b.text) for b in pages["rdf"].blocks] == [
        ("https://agency.example/a", "Kratom item — 7-OH rules")]
    not_a_feed = parsed("feed", b"<html><body><h1>Down for maintenance</h1></body></html>")
    assert not_a_feed.problem == "unparseable" and "not an RSS or Atom feed" in not_a_feed.problem_detail


def test_undated_feed_items_age_out_by_their_place():
    def feed(*guids: str):
        items = "".join(f"<item><title>Kratom notice {g}</title><guid>{g}</guid></item>" for g in guids)
        return parsed("feed", f"<rss version='2.0'><channel><title>t</title>{items}</channel></rss>".encode())

    old = feed("e", "d", "c", "b", "a").blocks
    page = carry_over(old, feed("f", "e", "c", "b"))  # d withdrawn from among newer items, a aged out
    assert [b.fields["title"][-1] for b in page.blocks] == ["f", "e", "c", "b", "a"]
    changes = diff_blocks(old, page.blocks)
    assert [b.text for b in changes.added] == ["Kratom notice f"] and [b.text for b in changes.removed] == \
        ["Kratom notice d"]


# --- Hostile XML ---------------------------------------------------------------------------------------------

def test_xxe_feed_leaks_nothing_and_fetches_no_dtd(project, server, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("KRATOM-SECRET-7f3a9c")
    server.routes["/evil.dtd"] = Response(200, b'<!ENTITY leak SYSTEM "file:///etc/passwd">', XML)
    project.write([{"id": "feed", "url": server.url("/feed.xml"), "jurisdiction": "US", "kind": "feed"}],
                  settings={"retries": 0})
    server.routes["/feed.xml"] = Response(200, rss(FDA_ITEMS, T0), XML)
    assert project.check()[0].returncode == 0

    item = "<item><title>Kratom &leak;</title><guid>x1</guid><description>&leak;</description></item>"
    attacks = [f"<!DOCTYPE rss [<!ENTITY leak SYSTEM 'file://{secret}'>]>",
               f"<!DOCTYPE rss [<!ENTITY % remote SYSTEM '{server.url('/evil.dtd')}'> %remote;]>"]
    outputs = []
    for doctype in attacks:
        server.routes["/feed.xml"] = Response(200, (f"<?xml version='1.0'?>{doctype}<rss version='2.0'><channel>"
                                                    f"<title>x</title>{item}</channel></rss>").encode(), XML)
        r, lines = project.check()
        assert r.returncode == 1 and "declares XML entities" in r.stderr, r.stderr
        outputs.append(r.stdout + r.stderr)
    history = project.run("history", "--json")
    stored = b"".join(p.read_bytes() for p in project.state.iterdir() if p.is_file())
    assert "KRATOM-SECRET" not in "".join(outputs) + history.stdout and b"KRATOM-SECRET" not in stored
    assert not server.requests_to("/evil.dtd"), "no DTD is ever fetched"


def test_billion_laughs_feed_is_refused_quickly(project, server):
    levels = "".join(f"<!ENTITY l{i} '{f'&l{i - 1};' * 10}'>" for i in range(1, 12))
    server.routes["/feed.xml"] = Response(200, (
        f"<?xml version='1.0'?><!DOCTYPE rss [<!ENTITY l0 'kratom'>{levels}]><rss version='2.0'><channel>"
        f"<title>x</title><item><title>&l11;</title><guid>1</guid></item></channel></rss>").encode(), XML)
    project.write([{"id": "feed", "url": server.url("/feed.xml"), "jurisdiction": "US", "kind": "feed"}])
    peak_before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KB, the largest child so far
    started = time.monotonic()
    r, lines = project.check()
    assert time.monotonic() - started < 30, "generous bound: a bomb must not hang the pass"
    assert r.returncode == 1 and "declares XML entities ('l0')" in r.stderr
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    assert peak == peak_before or peak < 400 * 1024, "nor eat memory"


# --- LegiScan ------------------------------------------------------------------------------------------------

TN_TITLE = "AN ACT to amend Tennessee Code Annotated, Title 39 and Title 53, relative to kratom."


class LegiScan:
    """getSearch and getBill on one path, as api.legiscan.com serves them; bills change as a test moves them."""

    def __init__(self, server):
        self.bills = {
            1843221: {"bill_id": 1843221, "state": "TN", "bill_number": "HB1649", "title": TN_TITLE,
                      "description": "As introduced, prohibits the sale of kratom products and classifies "
                                     "7-hydroxymitragynine as a Schedule I controlled substance.",
                      "url": "https://legiscan.com/TN/bill/HB1649/2025",
                      "state_link": "https://wapp.capitol.tn.gov/apps/BillInfo/Default.aspx?BillNumber=HB1649",
                      "status": 1, "status_date": "2026-01-14", "session_id": 2161, "body": "H", "completed": 0,
                      "progress": [{"date": "2026-01-14", "event": 1}, {"date": "2026-01-22", "event": 9}],
                      "history": [{"date": "2026-01-14", "action": "Filed for introduction", "chamber": "H",
                                   "importance": 1},
                                  {"date": "2026-01-22", "action": "Assigned to s/c Criminal Justice Subcommittee",
                                   "chamber": "H", "importance": 0}],
                      "sponsors": [{"people_id": 1, "name": "A. Sponsor"}], "texts": [], "votes": []},
            1850017: {"bill_id": 1850017, "state": "GA", "bill_number": "HB968",
                      "title": "Kratom; prohibit sale of products containing 7-hydroxymitragynine; provisions",
                      "description": "A BILL to amend the Georgia Kratom Consumer Protection Act.",
                      "url": "https://legiscan.com/GA/bill/HB968/2025", "state_link": "https://www.legis.ga.gov/x",
                      "status": 1, "status_date": "2026-01-26",
                      "progress": [{"date": "2026-01-26", "event": 1}],
                      "history": [{"date": "2026-01-26", "action": "House First Readers", "chamber": "H",
                                   "importance": 1}]},
        }
        self.hashes = {1843221: "a3f1c0de", 1850017: "77b20e11"}
        self.bill_requests: list[int] = []
        self.keys: list[str] = []
        server.routes["/legiscan/"] = self.serve

    def move(self, bill_id: int, status: int, progress: list[tuple[str, int]], history: list[str]) -> None:
        bill = self.bills[bill_id]
        bill["status"], bill["status_date"] = status, progress[-1][0]
        bill["progress"] += [{"date": d, "event": e} for d, e in progress]
        bill["history"] += [{"date": progress[-1][0], "action": a, "chamber": "H", "importance": 1} for a in history]
        self.hashes[bill_id] = self.hashes[bill_id][::-1]

    def serve(self, request) -> Response:
        query = {k: v[0] for k, v in parse_qs(urlsplit(request.path).query).items()}
        self.keys.append(query.get("key", ""))
        if query.get("op") == "getBill":
            bill_id = int(query["id"])
            self.bill_requests.append(bill_id)
            body = {"status": "OK", "bill": {**self.bills[bill_id], "change_hash": self.hashes[bill_id]}}
        else:
            found = {str(i): {"relevance": 100 - i, "state": b["state"], "bill_number": b["bill_number"],
                              "bill_id": b["bill_id"], "change_hash": self.hashes[b["bill_id"]], "url": b["url"],
                              "last_action_date": b["history"][-1]["date"], "last_action": b["history"][-1]["action"],
                              "title": b["title"]} for i, b in enumerate(self.bills.values())}
            body = {"status": "OK", "searchresult": {"summary": {"page": "1 of 1", "range": f"1 - {len(found)}",
                                                                 "relevancy": "100% - 99%", "count": len(found),
                                                                 "page_current": 1, "page_total": 1,
                                                                 "query": query.get("query", "")}, **found}}
        return Response(200, json.dumps(body).encode(), JSON)


def test_legiscan_bill_moving_alerts_with_number_state_and_status(project, server):
    api = LegiScan(server)
    key = "ls-test-key-5e1d"
    project.env["LEGISCAN_API_KEY"] = key
    project.write([{"id": "legiscan", "name": "LegiScan: kratom", "jurisdiction": "US", "kind": "legiscan",
                    "url": server.url("/legiscan/") + "?op=getSearch&state=ALL&query=kratom"}])
    r, lines = project.check()
    assert r.returncode == 0 and lines == [], r.stderr
    assert sorted(api.bill_requests) == [1843221, 1850017]

    r, lines = project.check()
    assert r.returncode == 0 and lines == [] and len(api.bill_requests) == 2, "no getBill for unchanged bills"

    api.move(1843221, 2, [("2026-03-02", 10), ("2026-03-09", 2)], ["Passed H., Ayes 90, Nays 2"])
    r, lines = project.check()
    assert r.returncode == 0, r.stderr
    [change] = legal(lines)
    assert api.bill_requests[2:] == [1843221], "getBill only for the bill whose change_hash moved"
    assert change["event"] == "advanced" and change["severity"] == "high"
    assert change["jurisdiction"] == "US-TN" and change["measure"] == "HB 1649"
    assert change["summary"].startswith("HB 1649 (") and "advanced 90-2" in change["summary"]
    assert "Tennessee" in change["summary"]
    assert change["summary"].endswith("Engrossed (2026-03-09): Passed H., Ayes 90, Nays 2")
    assert change["url"].startswith("https://wapp.capitol.tn.gov/")

    api.move(1843221, 4, [("2026-04-01", 3), ("2026-04-15", 4), ("2026-04-20", 8)],
             ["Signed by Governor.", "Pub. Ch. 512"])
    r, lines = project.check()
    [change] = legal(lines)
    assert change["event"] == "enacted" and change["severity"] == "critical"
    assert change["summary"].endswith("Chaptered (2026-04-20): Pub. Ch. 512")
    assert set(api.keys) == {key}, "every request carries the key as `key=`"
    assert key not in r.stdout + r.stderr + project.run("history", "--json").stdout


def test_legiscan_failed_getbill_fails_the_check_and_is_retried(project, server):
    api = LegiScan(server)
    project.env["LEGISCAN_API_KEY"] = "k"
    project.write([{"id": "legiscan", "jurisdiction": "US", "kind": "legiscan",
                    "url": server.url("/legiscan/") + "?op=getSearch&state=ALL&query=kratom"}],
                  settings={"retries": 0})
    assert project.check()[0].returncode == 0
    api.move(1850017, 6, [("2026-03-20", 6)], ["House Committee Favorably Reported; Failed on floor"])
    serve = api.serve
    server.routes["/legiscan/"] = lambda request: Response(503, b"busy") if "getBill" in request.path \
        else serve(request)
    r, lines = project.check()
    assert r.returncode == 1 and legal(lines) == [] and "getBill 1850017" in r.stderr
    server.routes["/legiscan/"] = serve
    r, lines = project.check()
    [change] = legal(lines)
    assert change["event"] == "failed" and change["jurisdiction"] == "US-GA" and change["measure"] == "HB 968"
    assert "HB 968" in change["summary"] and "(Georgia)" in change["summary"] and \
        "Failed (2026-03-20): House Committee Favorably Reported; Failed on floor" in change["summary"]


# --- Open States ---------------------------------------------------------------------------------------------

def os_action(n: int, when: str, text: str, classification: list[str], chamber: str = "lower") -> dict:
    return {"id": f"ocd-action/{n:04d}", "organization": {"id": f"ocd-organization/{chamber}", "name": chamber.title(),
                                                          "classification": chamber},
            "description": text, "date": when, "classification": classification, "order": n}


def os_bill(uid: str, state: str, identifier: str, title: str, actions: list[dict], updated: str,
            abstract: str = "") -> dict:
    return {"id": f"ocd-bill/{uid}", "session": "2025-2026", "identifier": identifier, "title": title,
            "abstracts": [{"abstract": abstract, "note": "summary"}] if abstract else [],
            "jurisdiction": {"id": f"ocd-jurisdiction/country:us/state:{state}/government", "name": state.upper(),
                             "classification": "state"},
            "from_organization": {"id": "ocd-organization/lower", "name": "House", "classification": "lower"},
            "classification": ["bill"], "subject": [], "extras": {}, "created_at": "2026-01-15T05:01:22+00:00",
            "updated_at": updated, "openstates_url": f"https://openstates.org/{state}/bills/2025-2026/{uid}/",
            "first_action_date": actions[0]["date"], "latest_action_date": actions[-1]["date"],
            "latest_action_description": actions[-1]["description"], "actions": actions}


def test_openstates_bill_moving_alerts_with_number_state_and_status(project, server):
    tn = [os_action(1, "2026-01-14", "Filed for introduction", ["introduction"]),
          os_action(2, "2026-01-22", "Assigned to s/c Criminal Justice Subcommittee", ["referral-committee"])]
    ga = [os_action(1, "2026-01-26", "House First Readers", ["reading-1"])]

    def search(tn_actions, ga_actions, updated):
        bills = [os_bill("tn1649", "tn", "HB 1649", TN_TITLE, tn_actions, updated),
                 os_bill("ga968", "ga", "HB 968", "Controlled substances; Schedule I; revise provisions", ga_actions,
                         updated, abstract="Adds 7-hydroxymitragynine and kratom extracts to Schedule I.")]
        bills.sort(key=lambda b: b["latest_action_date"], reverse=True)
        return Response(200, json.dumps({"results": bills, "pagination": {"per_page": 20, "page": 1, "max_page": 1,
                                                                          "total_items": 2}}).encode(), JSON)

    project.env["OPENSTATES_API_KEY"] = "os-key-91"
    project.write([{"id": "openstates", "name": "Open States: kratom", "jurisdiction": "US", "kind": "openstates",
                    "url": server.url("/bills") + "?q=kratom&sort=latest_action_desc&include=actions"
                                                  "&include=abstracts"}])
    server.routes["/bills"] = search(tn, ga, "2026-01-27T05:00:00+00:00")
    r, lines = project.check()
    assert r.returncode == 0 and lines == [], r.stderr

    tn += [os_action(3, "2026-03-09", "Passed House, Ayes 90, Nays 2", ["passage"]),
           os_action(4, "2026-03-12", "Referred to Senate Judiciary", ["referral-committee"], "upper")]
    server.routes["/bills"] = search(tn, ga, "2026-03-13T05:00:00+00:00")
    r, lines = project.check()
    assert r.returncode == 0, r.stderr
    [change] = legal(lines)
    assert change["event"] == "advanced" and change["jurisdiction"] == "US-TN" and change["measure"] == "HB 1649"
    assert change["summary"].startswith("HB 1649 (") and "Tennessee" in change["summary"]
    assert "passed the House 90-2" in change["summary"]
    assert change["summary"].endswith("Passed House, Ayes 90, Nays 2 (2026-03-09)")

    tn += [os_action(5, "2026-04-02", "Passed Senate, Ayes 30, Nays 1", ["passage"], "upper"),
           os_action(6, "2026-04-20", "Signed by Governor", ["executive-signature"], "executive")]
    ga += [os_action(2, "2026-03-20", "House Judiciary Non-Civil: Do Not Pass", ["committee-passage-unfavorable"])]
    server.routes["/bills"] = search(tn, ga, "2026-04-21T05:00:00+00:00")
    r, lines = project.check()
    by_state = {c["jurisdiction"]: c for c in legal(lines)}
    assert by_state["US-TN"]["event"] == "enacted" and "Signed by Governor (2026-04-20)" in by_state["US-TN"]["summary"]
    assert by_state["US-GA"]["event"] == "failed", "a generic title is relevant through its abstract"
    assert by_state["US-GA"]["summary"].startswith("HB 968 (Controlled substances; Schedule I; revise provisions)")
    assert by_state["US-GA"]["summary"].endswith("(Georgia): House Judiciary Non-Civil: Do Not Pass (2026-03-20)")
    assert {r["headers"].get("X-API-KEY") for r in server.requests_to("/bills")} == {"os-key-91"}


def test_a_rule_already_seen_is_alerted_again_the_day_it_takes_effect(tmp_path, server):
    """Nothing in the data changes on the effective date; the scheduling taking effect is still news."""
    import asyncio
    from datetime import datetime, timezone

    from monitor.config import parse_config
    from monitor.fetch import Fetcher
    from monitor.pipeline import Checker
    from monitor.store import Store

    doc = {"document_number": "2026-17429", "type": "Rule", "publication_date": "2026-08-20",
           "effective_on": "2026-08-26", "html_url": "https://www.federalregister.gov/d/2026-17429",
           "title": "Schedules of Controlled Substances: Temporary Placement of Mitragynine Pseudoindoxyl, "
                    "MGM-15 and MGM-16 in Schedule I",
           "abstract": "The DEA places mitragynine pseudoindoxyl in schedule I.",
           "agencies": [{"name": "Drug Enforcement Administration"}]}
    server.routes["/fr"] = Response(200, json.dumps({"count": 1, "results": [doc]}).encode(),
                                    {"Content-Type": "application/json"})
    config = parse_config(f"sources:\n  - id: fr\n    url: {server.url('/fr')}\n    jurisdiction: US\n"
                          f"    kind: federal_register\n")
    store = Store.open(tmp_path / "state")
    events = []

    async def check_on(day: str):
        clock = lambda: datetime.fromisoformat(day).replace(tzinfo=timezone.utc)  # noqa: E731
        fetcher = Fetcher(config.settings)
        try:
            outcome = await Checker(config, store, fetcher, clock).check(config.sources[0])
        finally:
            await fetcher.aclose()
        events.append([(c.event, c.summary) for c in outcome.changes])

    for day in ("2026-08-21T12:00", "2026-08-25T12:00", "2026-08-26T12:00", "2026-08-27T12:00"):
        asyncio.run(check_on(day))
    store.close()
    assert events[0] == [] and events[1] == [] and events[3] == []
    [(event, summary)] = events[2]
    assert event == "enacted" and "in force since 2026-08-26" in summary and "2026-17429" in summary
