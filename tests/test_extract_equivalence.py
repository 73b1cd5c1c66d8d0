"""The lxml fast path (extract/html_lxml.py) gives exactly the Page BeautifulSoup gives, or declines.

BeautifulSoup is the parser of record (`extract_soup`); extract_html takes the fast path whenever it does not
decline. Every document here is read both ways and the Pages (blocks with key, text, context and tag; title;
page_context; problem and problem_detail) must be equal: the labelled corpus, benchmark pages (static, dynamic,
changed), hostile documents and random tag soup. The corpus and benchmark pages must also actually take the fast
path, so the comparison is never vacuous.
"""
from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # bench/ is not an installed package

from bench.pages import PageSet, changed_ids, plan  # noqa: E402
from monitor.config import Source  # noqa: E402
from monitor.extract.html import extract_html, markup  # noqa: E402
from monitor.extract.html_soup import extract_soup  # noqa: E402
from monitor.extract.html_lxml import extract_lxml  # noqa: E402

CORPUS_PAGES = sorted((Path(__file__).parent / "corpus").glob("*/*.html"))
SOURCE = Source(id="s", url="http://127.0.0.1/s", jurisdiction="US-FL", name="SB 1180 (Kratom Products)")


def read_both(body: bytes, charset: str | None = None, source: Source = SOURCE):
    """(bs4's Page, the fast path's Page or None), after checking extract_html returns bs4's Page either way."""
    text = markup(body, charset)
    expected = extract_soup(source, text)
    fast = extract_lxml(source, text)
    if fast is not None:
        assert fast == expected
    assert extract_html(source, body, charset) == expected
    return expected, fast


@pytest.mark.parametrize("path", CORPUS_PAGES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_corpus_pages_read_the_same(path):
    expected, fast = read_both(path.read_bytes())
    if fast is None:  # only a page with nothing to parse may go to bs4
        assert expected.problem == "empty" and not path.read_bytes().strip(), path


def test_benchmark_pages_read_the_same_and_take_the_fast_path():
    specs = plan(48, seed=5)
    pages = PageSet(specs, seed=5)
    for page_id in changed_ids(specs, share=0.25, seed=5):
        pages.change(page_id)
    for page in pages.by_id.values():
        source = Source(id=page.spec.id, url="http://127.0.0.1" + page.spec.path, jurisdiction=page.spec.jurisdiction,
                        name=page.spec.name)
        expected, fast = read_both(pages.body(page), "utf-8", source)
        assert fast is not None and expected.problem is None and len(expected.blocks) > 20


def page(body: str, head: str = "<title>SB 1180 - Kratom</title>") -> bytes:
    return f"<!DOCTYPE html><html><head>{head}</head><body>{body}</body></html>".encode()


ROWS = "<table><caption>Bill history</caption><tr><td>01/13/2026</td><td>Filed</td></tr>" \
       "<tr><td>03/04/2026</td><td>Passed; YEAS 37 NAYS 1</td></tr></table>"
FILLER = "<p>Kratom products must be labeled and may not be sold to persons under 21.</p>" * 3

# Documents the rules treat specially, each read both ways.
SHAPES = {
    "headings, captions, lists": page("<main><h1>SB 1180</h1><h2>History</h2>" + ROWS +
                                      "<dl><dt>Sponsor</dt><dd>Avila</dd></dl><ul><li>one</li><li>two</li></ul></main>"),
    "layout table": page("<table><tr><td><table><tr><td>inner</td><td>row</td></tr></table></td></tr></table>"
                         + FILLER),
    "hidden and widgets": page("<main><p hidden>h</p><p aria-hidden=true>a</p><p style='display: none'>s</p>"
                               "<div class='share-bar'>Share</div><div id=cookie-consent>ok</div>"
                               "<p class='  lead\ttext '>kept</p>" + FILLER + "</main>"),
    "page chrome": page("<header>Site</header><header><h1>SB 1180</h1></header><nav>Home</nav><aside>News</aside>"
                        "<form><input name=q>Search</form><form id=aspnetForm>" + ROWS + FILLER +
                        "</form><footer>Contact us</footer><article><header>Kept</header>" + FILLER + "</article>"),
    "role main and ids": page("<div role=main>" + FILLER + "</div><div id=content>other</div>"),
    "id content": page("<div id=content>" + FILLER + "</div><div id=Content>other</div>"),
    "two articles": page("<article>" + FILLER + "</article><article>" + FILLER + "</article>"),
    "stub main": page("<main>short</main>" + FILLER),
    "nested main": page("<main><main>" + FILLER + "</main></main>"),
    "no body": b"<html><head><title>Frames</title></head><frameset><frame src=a></frameset></html>",
    "text only": b"Kratom bill passed the Senate",
    "soft error": page("<h1>Page not found</h1><p>The page you requested could not be found.</p>"),
    "empty": page(""),
    "huge paragraph": page("<pre>" + "Kratom shall be a controlled substance. " * 400 + "</pre>"),
    "stamps": page("<main><p>Last updated: Jan 5, 2026</p>" + FILLER + "</main>"),
    "inline spacing": page("<p>See <sup>1</sup> <sup>2</sup> and <b>bold</b><i>italic</i><br>next<hr>end</p>"),
    "comments and PIs": page("<h1>SB<!-- x -->1180</h1><p>a<!--c-->b<?php echo 1 ?>c</p>",
                             "<title>SB<!-- y -->1180</title>"),
    "NUL bytes": b"<p>Kra\x00tom ban\x00 passed</p><p>after the NULs</p>",
    "control bytes": b"<p>Kratom\x01 rule\x08</p>" + b"<p>text</p>" * 20,
    "malformed": b"<html><body><p>Kratom bill</div></div></span><p>Introduced <b>today<i>really</b></i>"
                 b"<table><td>no row<td>or body</table><p class=a class=b id=>second reading<<<>>> done"
                 b"<!-- an unclosed comment",
    "text after html": b"<html><body><p>one</p></body></html>\n<p>two</p>",
    "BOM": b"\xef\xbb\xbf<p>Kratom</p>",
    "Thai UTF-8": "<html><head><meta charset='utf-8'><title>\u0e01\u0e23\u0e30\u0e17\u0e48\u0e2d\u0e21</title>"
                  "</head><body><h1>\u0e1e\u0e23\u0e30\u0e23\u0e32\u0e0a\u0e1a\u0e31\u0e0d\u0e0d\u0e31\u0e15\u0e34"
                  "</h1><p>\u0e1e\u0e37\u0e0a\u0e01\u0e23\u0e30\u0e17\u0e48\u0e2d\u0e21</p></body></html>".encode(),
    "Thai windows-874": "<html><head><meta charset='windows-874'></head><body><p>\u0e1e\u0e37\u0e0a"
                        "\u0e01\u0e23\u0e30\u0e17\u0e48\u0e2d\u0e21 ban</p></body></html>".encode("cp874"),
    "windows-1252 meta": '<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1252">'
                         '</head><body><p>\u201cKratom\u201d is \u2018banned\u2019 \u2013 caf\u00e9</p></body>'
                         '</html>'.encode("cp1252"),
    "undeclared windows-1252": "<p>caf\u00e9 kratom \u201cban\u201d</p>".encode("cp1252"),
    "UTF-16": "<html><body><p>kratom \u0e01\u0e23\u0e30</p></body></html>".encode("utf-16"),
    "entities": page("<p>A&amp;B &nbsp; &lt;tag&gt; &#8220;q&#8221; &bogus; &copy 2026</p>"),
    "nested 200 deep": page("<div>" * 200 + "<p>deep kratom text</p>" + "</div>" * 200),
    "upper case": b"<HTML><BODY><MAIN><H1>Kratom</H1><TABLE><TR><TD>A</TD><TD>B</TD></TR></TABLE></MAIN></BODY></HTML>",
    "namespaced tags": page("<p>Kratom<o:p></o:p> rule</p><svg:rect/><p xml:lang=en>x</p>"),
    # parsed with huge_tree: a text node over 10 MB, and 2.2 MB of rows
    "a 12 MB text node": page("<main><p>" + "kratom " * (12_000_000 // 7) + "</p><p>Signed.</p></main>"),
    "2.2 MB of rows": page("<table>" + "".join(f"<tr><td>{i}</td><td>Senate</td><td>{'Referred to Health ' * 10}"
                                               f"</td></tr>" for i in range(10_000)) + "</table>"),
}

# Documents the fast path must leave to bs4: the reason is in html_lxml.py's docstring.
DECLINED = {
    # deeper than lxml's tree goes, within the depth budget (deeper still is too_complex: tests/test_budget.py)
    "nested 400 deep": b"<html><body><h1>Kratom</h1>" + b"<div><span><section><b>" * 100 + b"<p>bottom</p>",
    # on a page parsed with huge_tree, a node bs4's parser may have dropped at 10 MB
    "a 2.6-million-character comment": page("<h1>SB<!--" + "c" * 2_600_000 + "-->1180</h1>" + FILLER),
    "late DOCTYPE": page("<h1>SB<!DOCTYPE html>1180</h1>" + FILLER),
    "namespaced attribute name": page("<p {x}hidden>secret</p>" + FILLER),
    "ruby": page("<p><ruby>\u6f22<rp>(</rp><rt>kan</rt><rp>)</rp></ruby> kratom</p>" + FILLER),
    "script in the heading": page("<h1>SB <script>var x = 1;</script>1180</h1>" + FILLER),
    "hidden root": b"<html hidden><body><p>Kratom</p></body></html>",
}


@pytest.mark.parametrize("name", SHAPES)
def test_documents_the_rules_treat_specially_read_the_same(name):
    _, fast = read_both(SHAPES[name])
    assert fast is not None, f"{name}: the fast path declined"


@pytest.mark.parametrize("name", DECLINED)
def test_documents_only_bs4_can_read_exactly_are_left_to_it(name):
    _, fast = read_both(DECLINED[name])
    assert fast is None


def test_the_same_with_an_http_charset_and_with_selectors():
    read_both(SHAPES["windows-1252 meta"], "windows-1252")
    read_both(SHAPES["Thai windows-874"], "tis-620")
    for kw in ({"select": "main"}, {"exclude": ("table",)}):
        source = Source(id="s", url="http://127.0.0.1/s", jurisdiction="US", **kw)
        _, fast = read_both(SHAPES["headings, captions, lists"], source=source)
        assert fast is None  # soupsieve's selectors need bs4's tree


TAGS = ("p", "div", "span", "b", "table", "tr", "td", "th", "caption", "ul", "li", "dl", "dt", "dd", "h1", "h2",
        "h3", "form", "header", "footer", "main", "article", "section", "nav", "aside", "script", "style",
        "template", "noscript", "svg", "select", "option", "br", "hr", "img", "input", "a", "pre", "textarea",
        "title", "head", "body", "html", "o:p", "DIV", "center", "blockquote", "button", "iframe", "details",
        "fieldset", "legend", "sup", "tbody", "frameset")
ATTRIBUTES = ("hidden", "aria-hidden=true", "style='display:none'", "style='color:red'", "class='share-bar'",
              "class=' a\tb '", "id=main", "id=content", "role=main", "ROLE=main", "id=main-content",
              "class=cookie", "class=a class=b", "xml:lang=en", "data-x=1")
TEXTS = ("kratom", " ", "\n", " \t ", "Passed; YEAS 30 NAYS 5", "&amp;", "&nbsp;", "\u0e01\u0e23\u0e30", "a<b",
         "Last updated: Jan 5 2026", "\r\n", "\u00a0", "404", "Page not found", "x" * 60 + ". ")
ODDITIES = ("<!-- c -->", "<!-- unclosed", "<?php ?>", "<![CDATA[ x ]]>", "</p>", "</div>", "</table>", "</html>",
            "</body>", "<<>>", "<p/>", "<br/>", "</br>", "<!>", "&", "]]>")


def tag_soup(rnd: random.Random, depth: int = 0) -> str:
    out = []
    for _ in range(rnd.randint(1, 8 if depth < 3 else 3)):
        roll = rnd.random()
        if roll < 0.45 and depth < 10:
            tag = rnd.choice(TAGS)
            attributes = "".join(" " + rnd.choice(ATTRIBUTES) for _ in range(rnd.choice((0, 0, 1, 2))))
            out.append(f"<{tag}{attributes}>{tag_soup(rnd, depth + 1)}" + (f"</{tag}>" if rnd.random() < 0.75 else ""))
        else:
            out.append(rnd.choice(TEXTS) if roll < 0.85 else rnd.choice(ODDITIES))
    return "".join(out)


def test_random_tag_soup_reads_the_same():
    taken = 0
    for i in range(300):
        rnd = random.Random(i)
        soup = tag_soup(rnd)
        if rnd.random() < 0.5:
            soup = f"<!DOCTYPE html>\n<html><head><title>{rnd.choice(TEXTS)}</title></head><body>{soup}</body></html>"
        charset = rnd.choice(("utf-8", "windows-1252", None))
        _, fast = read_both(soup.encode("utf-8" if charset is None else charset, "xmlcharrefreplace"), charset)
        taken += fast is not None
    assert taken > 200  # most random documents are the fast path's to read
