"""HTML pages -> text blocks with context, using BeautifulSoup + lxml.

A block is what a reader sees as one unit: a table row, a list item, a paragraph, a heading. Rows are the unit of
bill history tables, so a re-sorted table or a re-wrapped paragraph yields the same blocks. Each block carries its
context (section headings, table caption, page heading and title) because a history row such as "Passed; YEAS 37
NAYS 1" is about kratom only through where it stands.

The walk over the tree is iterative (bs4's `descendants` follows next_element links), so documents nested
100,000 levels deep cost no recursion.
"""
from __future__ import annotations

import codecs
import re
import zlib
from typing import Iterable

from bs4 import BeautifulSoup, Comment, Doctype, NavigableString, ProcessingInstruction, Tag
from bs4.dammit import EncodingDetector, UnicodeDammit

from ..config import Source
from ..models import Block, Page
from .text import block_key, clean

# Never text a reader sees.
INVISIBLE = {"script", "style", "noscript", "template", "svg", "math", "iframe", "object", "embed", "canvas",
             "button", "select", "option", "input", "textarea", "link", "meta", "head", "map", "audio", "video"}
# Site chrome, dropped when no selector says otherwise.
CHROME = {"nav", "aside"}
BLOCK_TAGS = {"p", "div", "li", "dt", "dd", "tr", "td", "th", "caption", "blockquote", "pre", "section", "article",
              "main", "header", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "figcaption", "address", "table",
              "tbody", "thead", "tfoot", "ul", "ol", "dl", "form", "fieldset", "legend", "center", "details",
              "summary", "body", "html"}
HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
# Rotating or personalised widgets and accessibility furniture, by class or id.
WIDGET_RE = re.compile(r"(^|[\s_-])(carousel|slider|slideshow|ticker|marquee|rotator|rotating|cookie|consent|"
                       r"breadcrumbs?|skip-?link|share|social|visitor-?count|hit-?counter|random)([\s_-]|$)", re.I)
HIDDEN_STYLE_RE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
# Lines that only say when the page was made or looked at: never a change in the law.
STAMP_RE = re.compile(
    r"^\W*(page\s+|site\s+|content\s+|this\s+page\s+(was\s+)?)?(last\s+)?(updated|modified|reviewed|revised|"
    r"generated|retrieved|printed|accessed|refreshed|current|published\s+on|date\s+modified)\b.{0,40}"
    r"(\d|today|yesterday|ago|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)|"
    r"^\W*(as of|copyright|©|\(c\)\s*\d{4}|all rights reserved|you are here|skip to (main )?content|"
    r"(server|render|response|query|load)\s+time|request\s+id|session\s+(id|expires))", re.I)
SOFT_ERROR_RE = re.compile(
    r"\b(page|file|document|resource|content|bill)\s+(you\s+(requested|are\s+looking\s+for)\s+)?"
    r"(was\s+|is\s+|could\s+not\s+be\s+|cannot\s+be\s+|can't\s+be\s+)?not\s+(be\s+)?found|"
    r"\berror\s*:?\s*404\b|\b404\s*(error|[-:|\u2013]?\s*(page\s+)?not\s+found|page)\b|^\W*404\W*$|\bnot\s+found\b|"
    r"no\s+longer\s+(available|exists)|does\s*n[o']t\s+exist|"
    r"(under|down\s+for|scheduled|undergoing|performing)\s+(site\s+|system\s+|routine\s+)?maintenance|"
    r"temporarily\s+(unavailable|down|offline)|service\s+unavailable|be\s+back\s+(shortly|soon)|"
    r"access\s+denied|request\s+(was\s+)?(rejected|blocked)|are\s+you\s+a\s+robot|unusual\s+traffic|"
    r"checking\s+your\s+browser|enable\s+javascript\s+and\s+cookies|an\s+error\s+(has\s+)?occurred|"
    r"internal\s+server\s+error|bad\s+gateway|too\s+many\s+requests|"
    # web application firewalls and bot walls
    r"requested\s+url\s+was\s+rejected|your\s+support\s+id\s+is|attention\s+required|pardon\s+our\s+interruption|"
    r"verify\s+(that\s+)?you\s+are\s+(a\s+)?human|access\s+to\s+this\s+page\s+has\s+been\s+denied|"
    r"incapsula\s+incident|just\s+a\s+moment|enable\s+javascript|session\s+(has\s+)?expired", re.I)
SOFT_ERROR_MAX_CHARS = 1500
MAIN_SELECTORS = ("main", "[role=main]", "#main-content", "#maincontent", "#content", "#main", "article")
MAX_BLOCK_CHARS = 4000
MIN_SPLIT_CHARS = 1000
SENTENCE_RE = re.compile(r"(?<=[.;:!?])\s+")
MAX_CONTEXT_CHARS = 300
BROWSER_CHARSET = {"iso-8859-1": "windows-1252", "latin-1": "windows-1252", "latin1": "windows-1252",
                   "us-ascii": "windows-1252", "ascii": "windows-1252"}


def parse(body: bytes, charset: str | None) -> BeautifulSoup:
    """Bytes -> soup. We decode first so NULs are dropped from the text, not the bytes (which would wreck UTF-16)."""
    return BeautifulSoup(decode(body, charset).replace("\x00", ""), "lxml")


def decode(body: bytes, charset: str | None) -> str:
    """Decode as a browser does: byte-order mark, HTTP charset, <meta charset>; undeclared, UTF-8 when the bytes are
    mostly UTF-8, else detection. A bad byte costs one U+FFFD, never the rest of the page or its whole decoding."""
    data, bom = EncodingDetector.strip_byte_order_mark(body)
    declared = bom or _codec(charset) or _codec(EncodingDetector.find_declared_encoding(data, is_html=True), True)
    if declared:
        return data.decode(declared, "replace")
    text = data.decode("utf-8", "replace")
    bad = text.count("\ufffd")
    if len(text) - len(text.encode("ascii", "ignore")) >= 2 * bad:  # at least as much valid non-ASCII as bad
        return text
    return UnicodeDammit(data, is_html=True).unicode_markup


def _codec(name: str | None, in_markup: bool = False) -> str | None:
    if not name:
        return None
    try:
        codec = codecs.lookup(BROWSER_CHARSET.get(name.lower(), name)).name
    except LookupError:
        return None
    # A <meta> we could read as ASCII is not in UTF-16/32, whatever it says (browsers use UTF-8 then).
    return "utf-8" if in_markup and codec.startswith(("utf-16", "utf-32")) else codec


def extract_html(source: Source, body: bytes, charset: str | None = None) -> Page:
    soup = parse(body, charset)
    title = clean(soup.title.get_text(" ")) if soup.title else ""
    doc_h1 = soup.find("h1")
    doc_heading = clean(doc_h1.get_text(" ")) if doc_h1 else ""
    page_context = tuple(t[:MAX_CONTEXT_CHARS] for t in _unique([doc_heading, title, source.name]) if t)

    _drop(soup, INVISIBLE)
    _drop_hidden(soup)
    for selector in source.exclude:
        for tag in soup.select(selector):
            tag.decompose()

    if source.select:
        roots = soup.select(source.select)
        if not roots:
            return Page(blocks=(), title=title, problem="selector_missing",
                        problem_detail=f"the selector {source.select!r} matches nothing on the page")
    else:
        _drop(soup, CHROME)
        _drop_page_chrome(soup)
        roots = _main_content(soup)

    blocks = list(_blocks(_outermost(roots), page_context))
    text_size = sum(len(b.text) for b in blocks)
    soft = _soft_error(title, doc_heading, blocks, text_size)
    if soft:
        return Page(blocks=tuple(blocks), title=title, problem="soft_error", problem_detail=soft)
    if not blocks:
        return Page(blocks=(), title=title, problem="empty", problem_detail="the page has no readable text")
    return Page(blocks=tuple(blocks), title=title, page_context=page_context)


def _drop(soup: BeautifulSoup, names: set[str]) -> None:
    for tag in soup.find_all(list(names)):
        tag.decompose()
    for node in soup.find_all(string=lambda s: isinstance(s, (Comment, Doctype, ProcessingInstruction))):
        node.extract()


def _drop_hidden(soup: BeautifulSoup) -> None:
    doomed = []
    for tag in soup.find_all(True):
        attrs = tag.attrs
        if not attrs:
            continue
        if "hidden" in attrs or attrs.get("aria-hidden") == "true" or \
                HIDDEN_STYLE_RE.search(attrs.get("style", "") or ""):
            doomed.append(tag)
            continue
        names = " ".join(attrs.get("class", []) or []) + " " + str(attrs.get("id", ""))
        if WIDGET_RE.search(names):
            doomed.append(tag)
    for tag in doomed:
        if tag.parent is not None or tag.name == "[document]":
            tag.decompose()


def _drop_page_chrome(soup: BeautifulSoup) -> None:
    """Page-level <header>/<footer> and small forms (search boxes); ASP.NET wraps whole pages in a <form>."""
    for tag in soup.find_all(["header", "footer"]):
        if tag.find_parent(["article", "main", "section"]) is None and not tag.find("h1"):
            tag.decompose()
    for form in soup.find_all("form"):
        if len(form.get_text(" ", strip=True)) < 300 and not form.find(["table", "h1", "h2"]):
            form.decompose()


def _main_content(soup: BeautifulSoup) -> list[Tag]:
    for selector in MAIN_SELECTORS:
        found = soup.select(selector)
        if found and (selector != "article" or len(found) == 1):
            if sum(len(t.get_text(" ", strip=True)) for t in found) >= 40:
                return found
    return [soup.body or soup]


def _outermost(roots: list[Tag]) -> list[Tag]:
    """Selected elements minus those nested in another selected element (their text is already included)."""
    chosen = set(map(id, roots))
    return [r for r in roots if not any(id(p) in chosen for p in r.parents)]


def _layout_rows(root: Tag) -> set[int]:
    """Table rows that hold a nested table: old sites lay pages out with tables, so such a row is not a unit."""
    marked: set[int] = set()
    for table in root.find_all("table"):
        for parent in table.parents:
            if parent is root:
                break
            if parent.name == "tr":
                if id(parent) in marked:
                    break
                marked.add(id(parent))
    return marked


def _blocks(roots: Iterable[Tag], page_context: tuple[str, ...]) -> Iterable[Block]:
    for root in roots:
        yield from _walk(root, page_context)


def _walk(root: Tag, page_context: tuple[str, ...]) -> Iterable[Block]:
    layout_rows = _layout_rows(root)
    block_of: dict[int, int] = {id(root): id(root)}  # element -> the element whose block holds its text
    in_row: dict[int, bool] = {id(root): False}
    buffers: dict[int, list[str]] = {}
    meta: dict[int, tuple[str, tuple[str, ...]]] = {}
    order: list[int] = []
    headings: list[tuple[int, str, int]] = []  # (level, text, element) of the section we are in
    caption_of: dict[int, str] = {}
    last_dt = ""

    def context_for(tag: Tag) -> tuple[str, ...]:
        ctx = [caption_of.get(id(tag.find_parent("table")), "")] if tag.name == "tr" else []
        if tag.name == "dd" and last_dt:
            ctx.append(last_dt)
        ctx.extend(text for _, text, _ in reversed(headings))
        return tuple(c[:MAX_CONTEXT_CHARS] for c in _unique(ctx + list(page_context)) if c)

    def start_block(tag: Tag) -> None:
        bid = id(tag)
        buffers[bid] = []
        meta[bid] = (tag.name, context_for(tag))
        order.append(bid)

    start_block(root)
    pending_heading: dict[int, int] = {}
    for node in root.descendants:
        parent = node.parent
        if isinstance(node, Tag):
            pid = id(parent)
            row_parent = in_row.get(pid, False)
            is_row_unit = node.name == "tr" and id(node) not in layout_rows and not row_parent
            if is_row_unit or (node.name in BLOCK_TAGS and not row_parent and node.name not in ("br", "hr")):
                block_of[id(node)] = id(node)
                in_row[id(node)] = is_row_unit
                if node.name in HEADINGS:
                    pending_heading[id(node)] = HEADINGS[node.name]
                start_block(node)
            else:
                block_of[id(node)] = block_of.get(pid, id(root))
                in_row[id(node)] = row_parent
                if node.name in BLOCK_TAGS or node.name in ("br", "hr"):
                    buffers[block_of[id(node)]].append(" ")
            continue
        if not isinstance(node, NavigableString) or isinstance(node, (Comment, Doctype, ProcessingInstruction)):
            continue
        bid = block_of.get(id(parent), id(root))
        buffers[bid].append(str(node))
        # A heading's text becomes context as soon as it is read, for every block after it.
        if bid in pending_heading:
            level, text = pending_heading[bid], clean("".join(buffers[bid]))
            if headings and headings[-1][2] == bid:
                headings[-1] = (level, text, bid)
            else:
                while headings and headings[-1][0] >= level:
                    headings.pop()
                headings.append((level, text, bid))
        if meta[bid][0] == "caption":
            table = parent.find_parent("table") if parent is not None else None
            if table is not None:
                caption_of[id(table)] = clean("".join(buffers[bid]))
        if meta[bid][0] == "dt":
            last_dt = clean("".join(buffers[bid]))

    for bid in order:
        text = clean("".join(buffers[bid]))
        if not text or STAMP_RE.search(text) and len(text) < 200:
            continue
        tag, context = meta[bid]
        if tag in HEADINGS:
            context = tuple(c for c in context if c != text)
        for part in _split(text):
            key = block_key(part)
            if key:
                yield Block(key=key, text=part, context=context, tag=tag)


def _split(text: str) -> list[str]:
    """A huge text node (a whole statute in one <pre>) becomes several blocks, so a change deep inside it is seen
    and reported as the passage that changed. Cuts fall after sentences chosen by their own content (a hash), not
    by offset, so an edit moves no boundary but its neighbours'."""
    if len(text) <= MAX_BLOCK_CHARS:
        return [text]
    parts, chunk, size = [], [], 0
    for sentence in SENTENCE_RE.split(text):
        while len(sentence) > MAX_BLOCK_CHARS:  # no sentence break for pages on end: cut at a space
            cut = sentence.rfind(" ", 0, MAX_BLOCK_CHARS)
            cut = cut if cut > 0 else MAX_BLOCK_CHARS
            parts.append(sentence[:cut])
            sentence = sentence[cut:].lstrip()
        if size + len(sentence) > MAX_BLOCK_CHARS and chunk:
            parts.append(" ".join(chunk))
            chunk, size = [], 0
        chunk.append(sentence)
        size += len(sentence) + 1
        if size >= MIN_SPLIT_CHARS and zlib.crc32(block_key(sentence).encode()) % 4 == 0:
            parts.append(" ".join(chunk))
            chunk, size = [], 0
    if chunk:
        parts.append(" ".join(chunk))
    return parts


def _soft_error(title: str, heading: str, blocks: list[Block], text_size: int) -> str:
    """A 200 page that is really an error: short, and saying so in its title, heading or text."""
    if text_size > SOFT_ERROR_MAX_CHARS:
        probe = " ".join([title, heading])
    else:
        probe = " ".join([title, heading] + [b.text for b in blocks[:12]])
    m = SOFT_ERROR_RE.search(probe)
    if m and (text_size <= SOFT_ERROR_MAX_CHARS or SOFT_ERROR_RE.search(title + " " + heading)):
        return f"the page says {m.group(0)!r} ({text_size} characters of text)"
    return ""


def _unique(items: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for item in items:
        if item and item not in seen:
            seen.add(item)
            out.append(item)
    return out
