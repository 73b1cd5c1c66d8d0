"""Realistic government pages for the benchmark: kratom bill pages and agency pages, about 40 KB each.

Every page carries the site chrome real ones do (head scripts and styles, a mega-menu, breadcrumbs, a big footer)
around a <main> that holds the content. Half of the pages are "dynamic": an ASP.NET form wraps the page with a
__VIEWSTATE and __EVENTVALIDATION, the head holds a CSRF token and the footer a render time, all new on every
request, so no two responses are byte-identical. The other half are "static" and are served with an ETag and a
Last-Modified header.

A change is one new history row: a bill gains "Passed Senate; YEAS 30 NAYS 5" (and its "Last action" line moves),
an agency's rulemaking history gains a rule adoption (and its "last updated" stamp moves).
Everything is deterministic from (seed, page id), so the runner and the server agree without talking.
"""
from __future__ import annotations

import base64
import os
import random
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from html import escape

STATES = [("FL", "Florida"), ("TN", "Tennessee"), ("GA", "Georgia"), ("OH", "Ohio"), ("TX", "Texas"),
          ("LA", "Louisiana"), ("MA", "Massachusetts"), ("MI", "Michigan"), ("IL", "Illinois"), ("KS", "Kansas"),
          ("WV", "West Virginia"), ("DE", "Delaware"), ("MD", "Maryland"), ("CO", "Colorado"), ("UT", "Utah"),
          ("AZ", "Arizona"), ("MS", "Mississippi"), ("NC", "North Carolina"), ("SC", "South Carolina"),
          ("KY", "Kentucky"), ("MO", "Missouri"), ("OK", "Oklahoma"), ("NV", "Nevada"), ("OR", "Oregon"),
          ("NH", "New Hampshire"), ("NY", "New York"), ("NJ", "New Jersey"), ("PA", "Pennsylvania"),
          ("VA", "Virginia"), ("MN", "Minnesota"), ("IA", "Iowa"), ("NE", "Nebraska")]
BILL_TOPICS = ["Kratom Products", "Kratom Consumer Protection Act", "Regulation of Kratom and Kratom Products",
               "Controlled Substances; 7-Hydroxymitragynine", "Kratom Product Safety and Labeling",
               "Mitragynine and Synthetic Kratom Alkaloids", "Kratom; Age Restrictions and Retail Licensing",
               "Hemp and Kratom Products; Sales Taxes", "Kratom Act; Testing Requirements"]
AGENCIES = ["Department of Agriculture and Consumer Services", "Department of Health", "Board of Pharmacy",
            "Office of the Attorney General", "Department of Revenue", "Alcohol and Tobacco Control Commission",
            "Department of Public Safety", "Bureau of Investigation"]
COMMITTEES = ["Agriculture", "Health Policy", "Judiciary", "Criminal Justice", "Commerce and Tourism",
              "Appropriations", "Regulated Industries", "Fiscal Policy", "Public Safety", "Finance and Tax"]
CO_SPONSORS = ["Avila", "Baxley", "Bradley", "Calatayud", "Davis", "DiCeglie", "Grall", "Hooper"]
AMENDMENT_ACTIONS = ["Adopted", "Withdrawn", "Replaced by Committee Substitute"]
ANALYTICS_ID_CHARS = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
MENU_WORDS = ["Senators", "Committees", "Bills", "Laws", "Calendars", "Journals", "Publications", "Media",
              "Session", "Statutes", "Constitution", "Reports", "Video", "Visitor Guide", "Careers", "Contact",
              "Find Your Legislator", "Interim", "Redistricting", "Budget", "Archives", "Library", "Rules",
              "Press Releases", "Events", "Forms", "Licensing", "Inspections", "Food Safety", "Consumer Alerts"]
LOREM = ("The department regulates the manufacture, distribution and retail sale of products intended for human "
         "consumption, including dietary supplements and botanical products, and works with law enforcement and "
         "local health officials to protect consumers from adulterated and misbranded products. Retailers must "
         "keep records of suppliers and laboratory certificates of analysis for each lot they sell, and must make "
         "those records available to inspectors on request during regular business hours.").split(". ")
KRATOM_FACTS = [
    "Kratom (Mitragyna speciosa) is a tropical tree native to Southeast Asia whose leaves contain mitragynine and "
    "7-hydroxymitragynine.",
    "Products concentrated in 7-hydroxymitragynine (7-OH) are sold as tablets, shots and gummies and are far more "
    "potent than the leaf.",
    "Kratom products sold in the state must be labeled with the amount of mitragynine and 7-hydroxymitragynine per "
    "serving and may not be sold to persons under 21 years of age.",
    "Consumers who experience adverse effects after using a kratom product are encouraged to report them to the "
    "Poison Control Center and to the FDA MedWatch program.",
]


@dataclass(frozen=True)
class PageSpec:
    """What both the server and the watch lists need to know about one page."""

    id: str
    kind: str  # bill | agency
    dynamic: bool  # carries per-request tokens (and so no validators)
    host: int  # index into the server's addresses
    path: str
    name: str
    jurisdiction: str
    measure: str | None


def plan(n: int, seed: int = 1) -> list[PageSpec]:
    """N pages: 70% bills, 30% agency pages; every other page dynamic."""
    specs = []
    for i in range(n):
        rnd = random.Random(f"{seed}:plan:{i}")
        code, state = STATES[i % len(STATES)]
        kind = "agency" if i % 10 in (3, 6, 9) else "bill"
        if kind == "bill":
            chamber = rnd.choice(["SB", "HB"])
            number = 100 + (i * 37) % 4800
            measure = f"{chamber} {number}"
            topic = rnd.choice(BILL_TOPICS)
            specs.append(PageSpec(id=f"b{i:05d}", kind=kind, dynamic=i % 2 == 1, host=i, measure=measure,
                                  path=f"/Session/Bill/2026/{number}/{chamber}{number}-{i}",
                                  name=f"{state} {measure} ({topic})", jurisdiction=f"US-{code}"))
        else:
            agency = rnd.choice(AGENCIES)
            specs.append(PageSpec(id=f"a{i:05d}", kind=kind, dynamic=i % 2 == 1, host=i, measure=None,
                                  path=f"/agency/{agency.split()[-1].lower()}/kratom-{i}",
                                  name=f"{state} {agency}: kratom and 7-OH products", jurisdiction=f"US-{code}"))
    return specs


def changed_ids(specs: list[PageSpec], share: float = 0.1, seed: int = 1) -> list[str]:
    """The pages that gain a history row in the changed pass, spread over kinds, hosts and dynamic/static."""
    count = max(1, round(len(specs) * share))
    return sorted(s.id for s in random.Random(f"{seed}:changed").sample(specs, count))


@dataclass
class Page:
    """A page's mutable content (its history rows) and its rendered template."""

    spec: PageSpec
    rows: list[tuple[str, str, str]]
    last_update: date
    version: int = 0
    last_modified: float = field(default_factory=lambda: time.time() - 86400)
    parts: list = field(default_factory=list)  # bytes, or a token name filled in per request
    static_body: bytes = b""
    etag: str = ""


class PageSet:
    """All pages of a run, rendered once; `body()` fills in the per-request tokens."""

    def __init__(self, specs: list[PageSpec], seed: int = 1):
        self.seed = seed
        self.pages = {s.path: self._new(s) for s in specs}
        self.by_id = {p.spec.id: p for p in self.pages.values()}

    def _new(self, spec: PageSpec) -> Page:
        rnd = random.Random(f"{self.seed}:page:{spec.id}")
        start = date(2026, 1, 6) + timedelta(days=rnd.randrange(20))
        rows = _bill_history(rnd, start, _chamber(spec)) if spec.kind == "bill" else _rule_history(rnd, start)
        page = Page(spec, rows, last_update=_parse_us(rows[-1][0]))
        self._render(page)
        return page

    def change(self, page_id: str) -> None:
        """The page gains one history row: a kratom bill passes a chamber, or an agency adopts its rule."""
        page = self.by_id[page_id]
        rnd = random.Random(f"{self.seed}:change:{page_id}:{page.version}")
        when = page.last_update + timedelta(days=rnd.randrange(2, 9))
        if page.spec.kind == "bill":
            chamber = _chamber(page.spec)
            yeas = rnd.randrange(21, 36)
            page.rows.append((_us(when), chamber, f"Passed {chamber}; YEAS {yeas} NAYS {rnd.randrange(1, 12)} "
                                                  f"-{chamber[0]}J {rnd.randrange(300, 900)}"))
        else:
            page.rows.append((_us(when), "Final rule adopted", "Final rule adopted: 7-hydroxymitragynine and "
                              "mitragynine pseudoindoxyl placed in Schedule I; effective "
                              f"{_us(when + timedelta(days=30))}"))
        page.last_update = when
        page.version += 1
        page.last_modified = time.time()
        self._render(page)

    def body(self, page: Page) -> bytes:
        if not page.spec.dynamic:
            return page.static_body
        return b"".join(p if isinstance(p, bytes) else _token(p) for p in page.parts)

    def _render(self, page: Page) -> None:
        rnd = random.Random(f"{self.seed}:chrome:{page.spec.id}")
        html = _document(page, rnd)
        parts: list = []
        for i, piece in enumerate(html.split("\x00")):
            parts.append(piece if i % 2 else piece.encode())
        page.parts = parts
        if not page.spec.dynamic:
            page.static_body = b"".join(p for p in parts if isinstance(p, bytes))
            page.etag = f'"{page.spec.id}-{page.version}-{len(page.static_body):x}"'


def _token(kind: str) -> bytes:
    """Fresh per-request values, as ASP.NET and CSRF-protected sites send."""
    if kind == "viewstate":
        return base64.b64encode(os.urandom(2400))
    if kind == "validation":
        return base64.b64encode(os.urandom(180))
    if kind == "csrf":
        return base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=")
    return time.strftime("%m/%d/%Y %I:%M:%S %p").encode()  # render time


def _tok(kind: str) -> str:
    return f"\x00{kind}\x00"


def _us(d: date) -> str:
    return f"{d.month:02d}/{d.day:02d}/{d.year}"


def _parse_us(text: str) -> date:
    m, d, y = text.split("/")
    return date(int(y), int(m), int(d))


def _chamber(spec: PageSpec) -> str:
    return "Senate" if (spec.measure or "").startswith("SB") else "House"


def _bill_history(rnd: random.Random, start: date, chamber: str) -> list[tuple[str, str, str]]:
    committees = rnd.sample(COMMITTEES, 3)
    j = chamber[0] + "J"
    steps = [
        "Filed",
        f"Referred to {'; '.join(committees)} -{j} {rnd.randrange(20, 90)}",
        f"On Committee agenda-- {committees[0]}, 01/20/26, 1:30 pm, {rnd.randrange(30, 412)} {chamber} Building",
        f"Favorable by {committees[0]}; YEAS {rnd.randrange(5, 9)} NAYS {rnd.randrange(0, 3)} -{j} 102",
        f"Now in {committees[1]} -{j} 102",
        f"On Committee agenda-- {committees[1]}, 02/03/26, 9:00 am, 110 {chamber} Office Building",
        f"CS by {committees[1]}; YEAS {rnd.randrange(6, 12)} NAYS {rnd.randrange(0, 4)} -{j} 188",
        "Pending reference review under Rule 4.7(2) - (Committee Substitute)",
        f"Now in {committees[2]} -{j} 190",
        f"On Committee agenda-- {committees[2]}, 02/17/26, 3:30 pm, 37 {chamber} Building",
        f"Favorable by- {committees[2]}; YEAS {rnd.randrange(10, 18)} NAYS {rnd.randrange(0, 5)} -{j} 240",
        "Placed on Calendar, on 2nd reading",
        f"Placed on Special Order Calendar, 03/04/26 -{j} 301",
        f"Read 2nd time -{j} {rnd.randrange(302, 330)}",
        "Amendment(s) adopted (342912, 551208) -" + j + " 331",
        "Ordered engrossed -" + j + " 331",
        "Placed on 3rd reading",
    ]
    count = rnd.randrange(10, len(steps) + 1)
    day = start
    rows = []
    for action in steps[:count]:
        rows.append((_us(day), chamber, action))
        day += timedelta(days=rnd.randrange(1, 8))
    return rows


def _rule_history(rnd: random.Random, start: date) -> list[tuple[str, str, str]]:
    steps = [
        ("Notice of rule development", "Notice of rule development published in the Administrative Register, "
         f"Vol. 52/{rnd.randrange(10, 99)}"),
        ("Public workshop", "Public workshop held; 41 written comments received"),
        ("Emergency rule", "Emergency rule 5KER26-1 filed with the Department of State"),
        ("Notice of proposed rule", "Notice of proposed rule published; public comment period open for 21 days"),
        ("Public hearing", "Public hearing held at the Capitol; hearing transcript posted"),
        ("Statement of estimated regulatory costs", "Statement of estimated regulatory costs posted"),
        ("Notice of change", "Notice of change published in response to comments from the Joint Committee"),
        ("Rule filed", "Rule filed for adoption with the Department of State"),
    ]
    count = rnd.randrange(4, len(steps) + 1)
    day = start
    rows = []
    for kind, action in steps[:count]:
        rows.append((_us(day), kind, action))
        day += timedelta(days=rnd.randrange(3, 15))
    return rows


# -- the document --------------------------------------------------------------------------------------------
def _document(page: Page, rnd: random.Random) -> str:
    spec = page.spec
    state = spec.name.split(" SB ")[0].split(" HB ")[0] if spec.kind == "bill" else spec.name.split(" ")[0]
    site = f"{state} Legislature" if spec.kind == "bill" else spec.name.split(":")[0]
    title = (f"{spec.measure} (2026) - {spec.name.split('(', 1)[1].rstrip(')')} | {site}" if spec.kind == "bill"
             else f"Kratom and 7-OH Products | {site}")
    main = _bill_main(page, rnd) if spec.kind == "bill" else _agency_main(page, rnd)
    out = ["<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n",
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
           f"<title>{escape(title)}</title>\n"]
    if spec.dynamic:
        out.append(f"<meta name=\"csrf-token\" content=\"{_tok('csrf')}\">\n")
    for i in range(9):
        out.append(f"<link rel=\"stylesheet\" href=\"/Content/css/site-{i}.min.css?v=2026.{rnd.randrange(10, 99)}"
                   f".{rnd.randrange(1000, 9999)}\">\n")
    out.append("<style>\n" + _css(rnd) + "</style>\n")
    out.append("<script>\n" + _analytics(rnd) + "</script>\n</head>\n<body class=\"page-" + spec.kind + "\">\n")
    if spec.dynamic:
        out.append(f"<form method=\"post\" action=\".{escape(spec.path)}\" id=\"aspnetForm\">\n"
                   f"<div class=\"aspNetHidden\">\n<input type=\"hidden\" name=\"__VIEWSTATE\" id=\"__VIEWSTATE\" "
                   f"value=\"{_tok('viewstate')}\">\n<input type=\"hidden\" name=\"__VIEWSTATEGENERATOR\" "
                   f"value=\"CA0B0334\">\n<input type=\"hidden\" name=\"__EVENTVALIDATION\" "
                   f"id=\"__EVENTVALIDATION\" value=\"{_tok('validation')}\">\n</div>\n")
    out.append("<a class=\"skip-link\" href=\"#main\">Skip to main content</a>\n")
    out.append(_header(site, rnd))
    out.append(_nav(rnd))
    out.append(f"<div class=\"breadcrumbs\"><a href=\"/\">Home</a> &rsaquo; <a href=\"/Session\">Session</a> "
               f"&rsaquo; <span>{escape(spec.measure or 'Kratom')}</span></div>\n")
    out.append("<main id=\"main\" role=\"main\">\n" + main + "</main>\n")
    out.append(_aside(rnd))
    out.append(_footer(site, spec.dynamic, rnd))
    out.append("<script src=\"/Scripts/jquery-3.7.1.min.js\"></script>\n<script>\n" + _widgets(rnd)
               + "</script>\n")
    if spec.dynamic:
        out.append("</form>\n")
    out.append("</body>\n</html>\n")
    return "".join(out)


def _bill_main(page: Page, rnd: random.Random) -> str:
    spec = page.spec
    topic = spec.name.split("(", 1)[1].rstrip(")")
    last = page.rows[-1]
    sponsor = rnd.choice(["Burgess", "Gaetz", "Harrell", "Rodriguez", "Collins", "Martin", "Wright", "Yarborough"])
    out = [f"<div id=\"snapshot\">\n<h1>CS/{escape(spec.measure)}: {escape(topic)}</h1>\n",
           f"<p class=\"billSponsor\">GENERAL BILL by <a href=\"/Senators/{sponsor}\">{sponsor}</a> ; "
           f"(CO-INTRODUCERS) {', '.join(rnd.sample(CO_SPONSORS, 3))}</p>\n",
           f"<p class=\"billTitle\">{escape(topic)}; Defining the term &ldquo;kratom product&rdquo;; prohibiting "
           f"the sale of kratom products containing more than a specified concentration of 7-hydroxymitragynine; "
           f"requiring labels; providing criminal penalties; providing an effective date.</p>\n",
           "<dl class=\"snapshot-facts\">\n",
           "<dt>Effective Date:</dt><dd>10/1/2026</dd>\n",
           f"<dt>Last Action:</dt><dd>{last[0]} {last[1]} - {escape(last[2])}</dd>\n",
           f"<dt>Bill Text:</dt><dd><a href=\"/Session/Bill/2026/{spec.measure.split()[1]}/BillText/c1/PDF\">PDF"
           f"</a></dd>\n</dl>\n</div>\n",
           "<div class=\"tabs\"><ul class=\"tabList\">" + "".join(
               f"<li><a href=\"#tabBody{t.replace(' ', '')}\">{t}</a></li>" for t in
               ["Bill History", "Bill Text", "Amendments", "Analyses", "Vote History", "Citations",
                "Related Bills"]) + "</ul></div>\n"]
    out.append("<div id=\"tabBodyBillHistory\" class=\"tabBody\">\n<table class=\"tbl\">\n<caption>Bill History"
               "</caption>\n<thead><tr><th scope=\"col\">Date</th><th scope=\"col\">Chamber</th>"
               "<th scope=\"col\">Action</th></tr></thead>\n<tbody>\n")
    for d, chamber, action in page.rows:
        out.append(f"<tr><td>{d}</td><td>{chamber}</td><td>{escape(action)}</td></tr>\n")
    out.append("</tbody>\n</table>\n</div>\n")
    out.append("<div id=\"tabBodyBillText\" class=\"tabBody\">\n<table class=\"tbl\">\n<caption>Bill Text</caption>\n"
               "<thead><tr><th>Version</th><th>Posted</th><th>Format</th></tr></thead>\n<tbody>\n")
    for v, name in enumerate(["Filed", "S 1", "C 1", "C 2", "E 1"][:rnd.randrange(2, 6)]):
        out.append(f"<tr><td>{name}</td><td>0{1 + v}/1{v}/2026 {rnd.randrange(1, 12)}:{rnd.randrange(10, 59)} AM"
                   f"</td><td><a href=\"/BillText/{v}/HTML\">Web Page</a> | <a href=\"/BillText/{v}/PDF\">PDF</a>"
                   "</td></tr>\n")
    out.append("</tbody>\n</table>\n</div>\n")
    out.append("<div id=\"tabBodyAmendments\" class=\"tabBody\">\n<table class=\"tbl\">\n<caption>Committee "
               "Amendments</caption>\n<thead><tr><th>#</th><th>Amendment</th><th>Sponsor</th><th>Filed</th>"
               "<th>Last Committee Action</th></tr></thead>\n<tbody>\n")
    for a in range(rnd.randrange(3, 8)):
        out.append(f"<tr><td>{a + 1}</td><td>{rnd.randrange(100000, 999999)} - Amendment (Delete All)</td>"
                   f"<td>{rnd.choice(COMMITTEES)}</td><td>02/{10 + a}/2026</td>"
                   f"<td>{rnd.choice(AMENDMENT_ACTIONS)}</td></tr>\n")
    out.append("</tbody>\n</table>\n</div>\n")
    out.append("<div id=\"tabBodyAnalyses\" class=\"tabBody\">\n<table class=\"tbl\">\n<caption>Bill Analyses"
               "</caption>\n<tbody>\n")
    for committee in rnd.sample(COMMITTEES, 3):
        out.append(f"<tr><td>{committee} (Pre-Meeting)</td><td>02/0{rnd.randrange(1, 9)}/2026</td>"
                   f"<td><a href=\"/Analysis/{committee.split()[0]}.pdf\">PDF</a></td></tr>\n")
    out.append("</tbody>\n</table>\n</div>\n")
    out.append("<div id=\"tabBodyVoteHistory\" class=\"tabBody\">\n<table class=\"tbl\">\n<caption>Vote History - "
               "Committee</caption>\n<thead><tr><th>Committee</th><th>Date</th><th>Yeas</th><th>Nays</th></tr>"
               "</thead>\n<tbody>\n")
    for committee in rnd.sample(COMMITTEES, 3):
        out.append(f"<tr><td>{committee}</td><td>02/1{rnd.randrange(0, 9)}/2026</td>"
                   f"<td>{rnd.randrange(5, 15)}</td><td>{rnd.randrange(0, 4)}</td></tr>\n")
    out.append("</tbody>\n</table>\n</div>\n")
    out.append("<div id=\"tabBodyCitations\" class=\"tabBody\">\n<h2>Citations - Statutes</h2>\n<ul>\n")
    for c in range(rnd.randrange(4, 9)):
        out.append(f"<li><a href=\"/Laws/Statutes/2025/{500 + c * 3}.{rnd.randrange(10, 99)}\">"
                   f"{500 + c * 3}.{rnd.randrange(10, 99)}</a> Definitions; controlled substances; page "
                   f"{rnd.randrange(2, 40)}</li>\n")
    out.append("</ul>\n</div>\n")
    out.append("<section class=\"billSummary\">\n<h2>Bill summary</h2>\n")
    for fact in rnd.sample(KRATOM_FACTS, 3):
        out.append(f"<p>{escape(fact)} {escape(rnd.choice(LOREM))}.</p>\n")
    out.append("</section>\n")
    if spec.dynamic:
        out.append("<div class=\"trackBill\"><input type=\"hidden\" name=\"ctl00$TrackBill$token\" "
                   f"value=\"{_tok('csrf')}\"><a href=\"/Tracker/Add\">Track this bill</a></div>\n")
    return "".join(out)


def _agency_main(page: Page, rnd: random.Random) -> str:
    out = ["<article class=\"content\">\n<h1>Kratom and 7-OH Products</h1>\n",
           f"<p class=\"updated\">Page last updated: {page.last_update.strftime('%B')} {page.last_update.day}, "
           f"{page.last_update.year}</p>\n<div class=\"intro\">\n"]
    for fact in KRATOM_FACTS:
        out.append(f"<p>{escape(fact)} {escape(rnd.choice(LOREM))}.</p>\n")
    out.append("</div>\n<h2>Rulemaking history: Rule 5K-4.036, kratom product standards</h2>\n<table class=\"tbl\">\n"
               "<caption>Rulemaking history</caption>\n<thead><tr><th>Date</th><th>Step</th><th>Detail</th></tr>"
               "</thead>\n<tbody>\n")
    for d, step, action in page.rows:
        out.append(f"<tr><td>{d}</td><td>{escape(step)}</td><td>{escape(action)}</td></tr>\n")
    out.append("</tbody>\n</table>\n<h2>What retailers must do</h2>\n<ul>\n")
    for sentence in LOREM * 2:
        out.append(f"<li>{escape(sentence.strip())}.</li>\n")
    out.append("</ul>\n<h2>News releases</h2>\n<ul class=\"news\">\n")
    for k in range(rnd.randrange(6, 12)):
        out.append(f"<li><a href=\"/news/2025-{k:02d}\">Department reminds retailers of labeling requirements for "
                   f"botanical products ({rnd.randrange(1, 12)}/{rnd.randrange(1, 28)}/2025)</a></li>\n")
    out.append("</ul>\n<h2>Frequently asked questions</h2>\n<dl class=\"faq\">\n")
    for q in range(6):
        out.append(f"<dt>Question {q + 1}: Does the rule apply to online sellers shipping into the state?</dt>\n"
                   f"<dd>{escape(rnd.choice(LOREM))}. {escape(rnd.choice(LOREM))}.</dd>\n")
    out.append("</dl>\n<h2>Documents</h2>\n<table class=\"tbl docs\">\n<tbody>\n")
    for k in range(rnd.randrange(6, 14)):
        out.append(f"<tr><td><a href=\"/docs/kratom-{k}.pdf\">Guidance document {k + 1}</a></td><td>PDF, "
                   f"{rnd.randrange(80, 900)} KB</td></tr>\n")
    out.append("</tbody>\n</table>\n</article>\n")
    return "".join(out)


def _header(site: str, rnd: random.Random) -> str:
    links = "".join(f"<li><a href=\"/{w.replace(' ', '')}\">{w}</a></li>" for w in rnd.sample(MENU_WORDS, 8))
    return (f"<header id=\"siteHeader\" class=\"site-header\">\n<div class=\"logo\"><a href=\"/\"><img "
            f"src=\"/Content/img/seal.svg\" alt=\"{escape(site)}\"></a></div>\n<div class=\"search\"><label "
            f"for=\"q\">Search</label><input id=\"q\" name=\"q\" type=\"search\"><button>Go</button></div>\n"
            f"<ul class=\"utility\">{links}</ul>\n</header>\n")


def _nav(rnd: random.Random) -> str:
    out = ["<nav id=\"mainNav\" class=\"mega-menu\" aria-label=\"Main\">\n<ul class=\"level-1\">\n"]
    for top in MENU_WORDS[:10]:
        out.append(f"<li class=\"has-children\"><a href=\"/{top.replace(' ', '')}\">{top}</a>\n<ul class=\"level-2\">")
        for sub in rnd.sample(MENU_WORDS, 12):
            out.append(f"<li><a href=\"/{top.replace(' ', '')}/{sub.replace(' ', '')}\" "
                       f"title=\"{top}: {sub}\">{sub}</a></li>")
        out.append("</ul></li>\n")
    out.append("</ul>\n</nav>\n")
    return "".join(out)


def _aside(rnd: random.Random) -> str:
    links = "".join(f"<li><a href=\"/related/{k}\">{w}</a></li>" for k, w in enumerate(rnd.sample(MENU_WORDS, 10)))
    return f"<aside class=\"sidebar\"><h2>Related links</h2><ul>{links}</ul></aside>\n"


def _footer(site: str, dynamic: bool, rnd: random.Random) -> str:
    out = ["<footer id=\"siteFooter\" class=\"site-footer\">\n<div class=\"footer-columns\">\n"]
    for col in range(5):
        out.append(f"<div class=\"col\"><h3>{MENU_WORDS[col * 3]}</h3><ul>")
        for w in rnd.sample(MENU_WORDS, 9):
            out.append(f"<li><a href=\"/footer/{col}/{w.replace(' ', '')}\">{w}</a></li>")
        out.append("</ul></div>\n")
    out.append(f"</div>\n<address>{escape(site)}, 404 South Monroe Street, Tallahassee, FL 32399-1100 &middot; "
               "(850) 487-5228</address>\n<p class=\"disclaimer\">Under state law, e-mail addresses are public "
               "records. If you do not want your e-mail address released in response to a public records request, "
               "do not send electronic mail to this entity. Instead, contact this office by phone or in writing."
               "</p>\n")
    if dynamic:
        out.append(f"<p class=\"rendered\">Page rendered {_tok('time')} &middot; "
                   f"server WEB0{rnd.randrange(1, 6)}</p>\n")
    out.append(f"<p class=\"copyright\">Copyright &copy; 2000-2026 {escape(site)}. All rights reserved.</p>\n"
               "</footer>\n")
    return "".join(out)


def _css(rnd: random.Random) -> str:
    rules = []
    for k in range(60):
        rules.append(f".c-{k}-{rnd.randrange(100, 999)} {{ margin: {k % 7}px {k % 5}px; padding: {k % 3}rem; "
                     f"color: #{rnd.randrange(0x100000, 0xffffff):06x}; }}\n")
    return "".join(rules)


def _analytics(rnd: random.Random) -> str:
    return ("window.dataLayer = window.dataLayer || [];\nfunction gtag(){dataLayer.push(arguments);}\n"
            "gtag('js', new Date());\ngtag('config', 'G-" + "".join(rnd.choices(ANALYTICS_ID_CHARS, k=10))
            + "');\n" + "".join(f"var cfg{k} = {{id: {rnd.randrange(10**6)}, route: '/r/{k}', "
                                f"flags: [{k % 2}, {k % 3}, {k % 5}]}};\n" for k in range(40)))


def _widgets(rnd: random.Random) -> str:
    return "".join(f"$(function(){{ $('#tab{k}').on('click', function(e){{ e.preventDefault(); "
                   f"$(this).tab('show'); window.scrollTo(0, {rnd.randrange(0, 900)}); }}); }});\n"
                   for k in range(60))
