"""Extraction into blocks with context, and the block diff that ignores order, layout and volatile tokens."""
from __future__ import annotations

import re
import sys

from monitor.config import Source
from monitor.diff import diff_blocks
from monitor.extract.html import extract_html
from monitor.extract.text import _QUOTES, clean

SRC = Source(id="s", url="http://x", jurisdiction="US-FL", name="Bill")


def blocks(html: str | bytes, **kw):
    src = Source(id="s", url="http://x", jurisdiction="US-FL", name="Bill", **kw)
    return extract_html(src, html.encode() if isinstance(html, str) else html)


def test_rows_are_units_with_headings_caption_and_title_as_context():
    p = blocks("<html><head><title>SB 42</title></head><body><nav>Home</nav><main><h1>SB 42: Kratom</h1>"
               "<h2>History</h2><table><caption>Actions</caption><tr><td>01/13</td><td>Intro<b>duced</b></td></tr>"
               "</table></main><footer>Generated now</footer></body></html>")
    row = [b for b in p.blocks if b.tag == "tr"][0]
    assert row.text == "01/13 Introduced"
    assert row.context == ("Actions", "History", "SB 42: Kratom", "SB 42", "Bill")
    assert not any("Home" in b.text or "Generated" in b.text for b in p.blocks)


def test_selector_and_its_absence():
    html = "<html><body><div id='a'><p>kept</p></div><p>dropped</p></body></html>"
    assert [b.text for b in blocks(html, select="#a").blocks] == ["kept"]
    missing = blocks(html, select="#gone")
    assert missing.problem == "selector_missing" and missing.blocks == ()


def test_aspnet_form_wrapper_is_kept_but_hidden_inputs_and_stamps_dropped():
    html = ("<html><body><form id='aspnetForm'><input type='hidden' name='__VIEWSTATE' value='dGhpcyBpcyA4ZjM5'>"
            "<table><tr><td>SB 154</td><td>Signed by the Governor. Becomes Act No. 41.</td></tr></table>"
            "<p>Page last updated: 11/25/2026 10:01 AM</p>" + "<p>filler text here</p>" * 30 + "</form></body></html>")
    texts = [b.text for b in blocks(html).blocks]
    assert "SB 154 Signed by the Governor. Becomes Act No. 41." in texts
    assert not any("last updated" in t for t in texts)


def test_windows_1252_meta_charset_and_thai_utf8():
    html = ('<html><head><meta charset="windows-1252"></head><body><p>\u201cKratom\u201d is \u2018banned\u2019</p>'
            '</body></html>').encode("cp1252")
    assert blocks(html).blocks[0].text == "\"Kratom\" is 'banned'"
    thai = '<html><head><meta charset="utf-8"></head><body><p>พระราชบัญญัติพืชกระท่อม</p></body></html>'.encode()
    assert blocks(thai).blocks[0].text == "พระราชบัญญัติพืชกระท่อม"


def test_soft_error_page_is_a_problem():
    html = ("<html><head><title>Page Not Found</title></head><body><nav>Home | Bills</nav><main><h1>Sorry</h1>"
            "<p>The page you requested could not be found.</p></main></body></html>")
    assert blocks(html).problem == "soft_error"


def diff(before: str, after: str):
    return diff_blocks(blocks(before).blocks, blocks(after).blocks)


def test_resorted_rows_and_whitespace_are_no_change():
    before = "<table><tr><td>A kratom</td></tr><tr><td>B&amp;C</td></tr></table>"
    after = "<table><tr><td>B&#38;C</td></tr><tr><td>A\n   kratom&nbsp;</td></tr></table>"
    assert not diff(before, after)


def test_redesign_with_same_words_is_no_change():
    before = "<table><tr><td>01/13/2026</td><td>Filed</td></tr><tr><td>01/20/2026</td><td>Referred</td></tr></table>"
    after = ("<div class='history'><ul><li><span>01/13/2026</span> — Filed</li></ul>"
             "<div><div>01/20/2026</div><div>Referred</div></div></div>")
    assert not diff(before, after)


def test_tokens_and_clock_times_are_masked():
    assert not diff("<p>Kratom session a8F3c9E1b2D4f6A7e9 at 10:15 AM</p>",
                    "<p>Kratom session Zz9x8c7v6b5n4m3l2k at 11:42 PM</p>")


def test_added_row_and_duplicate_row():
    rows = "<tr><td>01/13 Filed</td></tr>"
    d = diff(f"<table>{rows}</table>", f"<table>{rows}<tr><td>02/26 Passed</td></tr>{rows}</table>")
    assert [b.text for b in d.added] == ["02/26 Passed", "01/13 Filed"] and not d.removed


def test_near_identical_blocks_pair_as_modified():
    d = diff("<p>Kratom ban effective August 1, 2025 statewide.</p>",
             "<p>Kratom ban effective October 1, 2025 statewide.</p>")
    assert len(d.modified) == 1 and not d.added and not d.removed


def test_huge_paragraph_is_split_so_a_change_deep_inside_is_seen():
    sentences = [f"Section {n} keeps kratom rules as they are." for n in range(2000)]
    text = " ".join(sentences)
    before = "<html><body><main><pre>" + text + "</pre></main></body></html>"
    sentences[1500] = "Section 1500 prohibits kratom sales to persons under 21."
    after = "<html><body><main><pre>" + " ".join(sentences) + "</pre></main></body></html>"
    old, new = blocks(before).blocks, blocks(after).blocks
    assert len(old) > 10 and " ".join(b.text for b in old) == text, "split, not truncated"
    d = diff_blocks(old, new)
    assert len(d.modified) == 1 and "Section 1500 prohibits kratom" in d.modified[0][1].text
    assert len(d.modified[0][1].text) <= 4000


def test_a_bill_numbered_404_is_not_a_soft_error():
    html = ("<html><head><title>SB 404 (2026) - Kratom Products</title></head><body><main><h1>SB 404: Kratom</h1>"
            "<table><tr><td>01/13/2026 Filed</td></tr></table></main></body></html>")
    assert blocks(html).problem is None
    assert blocks("<html><head><title>404 - Page Not Found</title></head><body><p>Oops</p></body></html>").problem \
        == "soft_error"
    assert blocks("<html><head><title>Error 404</title></head><body><p>Oops</p></body></html>").problem == "soft_error"


def test_firewall_and_bot_wall_pages_are_soft_errors():
    for body in ("<title>Request Rejected</title><p>The requested URL was rejected. Please consult with your "
                 "administrator.</p><p>Your support ID is: 1234567890123</p>",
                 "<title>Attention Required! | Cloudflare</title><h1>Sorry, you have been blocked</h1>",
                 "<title>Pardon Our Interruption</title><p>As you were browsing something about your browser made us "
                 "think you were a bot.</p>",
                 "<div id='root'></div><p>You need to enable JavaScript to run this app.</p>"):
        assert blocks(f"<html><head></head><body>{body}</body></html>").problem == "soft_error", body


def test_clean_collapses_exactly_the_whitespace_a_regex_would():
    """clean() defines stored block keys: its str.split() must keep splitting where `\\s+` did, for every code
    point, so no snapshot written before reads differently after."""
    def by_regex(text: str) -> str:
        return re.sub(r"\s+", " ", text.translate(_QUOTES)).strip()

    for code in range(sys.maxunicode + 1):
        c = chr(code)
        if c.isspace() or re.fullmatch(r"\s", c):
            assert clean(f" a{c}{c}b{c}") == by_regex(f" a{c}{c}b{c}") == "a b", hex(code)
    assert sum(chr(code).isspace() for code in range(sys.maxunicode + 1)) == \
        sum(bool(re.fullmatch(r"\s", chr(code))) for code in range(sys.maxunicode + 1))
