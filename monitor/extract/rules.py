"""The block rules both HTML parsers share: what is hidden or chrome, how the main content is chosen, how the
blocks are walked, and what makes a page a soft error.

A block is what a reader sees as one unit: a table row, a list item, a paragraph, a heading. Rows are the unit of
bill history tables, so a re-sorted table or a re-wrapped paragraph yields the same blocks. Each block carries its
context (section headings, table caption, page heading and title) because a history row such as "Passed; YEAS 37
NAYS 1" is about kratom only through where it stands.

The walk (`_walk_nodes`) reads a flat stream of nodes, whichever tree it came from (html_soup.py: BeautifulSoup's;
html_lxml.py: lxml's), so both parsers give the same blocks, and deep documents cost no recursion (the depth budget,
budget.py, stops the deepest before they are parsed). The rules live in a module of their own so that the imports run one way: html.py (the way in) imports
the parsers, and the parsers import the rules.
"""
from __future__ import annotations

import re
import zlib
from typing import Any, Callable, Hashable, Iterable, Mapping

from ..config import Source
from ..models import Block, Page
from .text import CleanPrefix, block_key, clean

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
MIN_MAIN_CHARS = 40  # a main-content candidate with less text than this is a stub, not the content
# Page-level chrome: <header>/<footer> outside these and without an <h1>; forms (search boxes) with less text than
# SMALL_FORM_CHARS and none of FORM_KEEPERS. ASP.NET wraps whole pages in a <form>, hence "small".
PAGE_CHROME = ("header", "footer")
CHROME_KEEPERS = ("article", "main", "section")
FORM_KEEPERS = ("table", "h1", "h2")
SMALL_FORM_CHARS = 300
MAX_BLOCK_CHARS = 4000
MIN_SPLIT_CHARS = 1000
SENTENCE_RE = re.compile(r"(?<=[.;:!?])\s+")
MAX_CONTEXT_CHARS = 300


def _page_context(source: Source, title: str, heading: str) -> tuple[str, ...]:
    return tuple(t[:MAX_CONTEXT_CHARS] for t in _unique([heading, title, source.name]) if t)


def _page(blocks: list[Block], title: str, heading: str, page_context: tuple[str, ...]) -> Page:
    text_size = sum(len(b.text) for b in blocks)
    soft = _soft_error(title, heading, blocks, text_size)
    if soft:
        return Page(blocks=tuple(blocks), title=title, problem="soft_error", problem_detail=soft)
    if not blocks:
        return Page(blocks=(), title=title, problem="empty", problem_detail="the page has no readable text")
    return Page(blocks=tuple(blocks), title=title, heading=heading, page_context=page_context)


def _concealed(attrs: Mapping[str, Any], classes: str) -> bool:
    """Hidden (attribute, ARIA, inline style), or a widget by its space-joined classes or its id."""
    if "hidden" in attrs or attrs.get("aria-hidden") == "true" or HIDDEN_STYLE_RE.search(attrs.get("style", "") or ""):
        return True
    return bool(WIDGET_RE.search(classes + " " + str(attrs.get("id", ""))))


def _main_content(select: Callable[[str], list], text_size: Callable[[Any, int], int]) -> list | None:
    """The first of MAIN_SELECTORS that finds real content (one <article> only), by the tree's `select`.
    `text_size(element, enough)` may stop counting at `enough`: the sum still reaches MIN_MAIN_CHARS exactly when
    the full sizes' would. The sum stops there too: a page of nested <main>s is not read once per <main>."""
    for selector in MAIN_SELECTORS:
        found = select(selector)
        if found and (selector != "article" or len(found) == 1):
            size = 0
            for element in found:
                size += text_size(element, MIN_MAIN_CHARS)
                if size >= MIN_MAIN_CHARS:
                    return found
    return None


def _outermost(roots: list, parents: Callable[[Any], Iterable]) -> list:
    """Selected elements minus those nested in another selected element (their text is already included). A walk
    up stops at an element an earlier walk passed, whose answer it takes: nested roots cost their ancestors once."""
    chosen = set(map(id, roots))
    under_chosen: dict[int, bool] = {}  # an element walked past -> whether a selected element stands above it
    passed = []  # the elements walked past, kept alive so that their ids stay theirs
    out = []
    for root in roots:
        walked, nested = [], False
        for parent in parents(root):
            key = id(parent)
            if key in chosen or key in under_chosen:
                nested = key in chosen or under_chosen[key]
                break
            walked.append(key)
            passed.append(parent)
        for key in walked:
            under_chosen[key] = nested
        if not nested:
            out.append(root)
    return out


def _layout_rows(tables: Iterable[Iterable[tuple[Hashable, str]]]) -> set:
    """Table rows that hold a nested table: old sites lay pages out with tables, so such a row is not a unit.
    `tables`: for each <table> under the walk's root, its ancestors below the root (key, tag name), nearest first.
    A walk up stops at an ancestor an earlier one passed, whose rows above are marked already: nested tables cost
    the elements above them once, not once per table."""
    marked: set = set()
    passed: set = set()
    for ancestors in tables:
        for key, name in ancestors:
            if key in passed:
                break
            passed.add(key)
            if name == "tr":
                marked.add(key)
    return marked


def _walk_nodes(root: Hashable, root_name: str, root_table: Hashable | None, stream: Iterable[tuple],
                page_context: tuple[str, ...], layout_rows: set) -> Iterable[Block]:
    """The blocks under `root`, from its descendants in document order: (key, tag name, parent key) for an element,
    (None, text, parent key) for a string. Keys are whatever identifies an element in the tree at hand (bs4: its id;
    lxml: the element); `root_table` is the key of the nearest <table> above the root, if any; `layout_rows` the
    keys _layout_rows found.

    In document order a node's parent is always one of the elements still open, so what the walk knows of an element
    (its name, its table, the block its text goes to, whether it is inside a row unit) is kept on a stack of the
    open ones: memory grows with the depth of the page, not with its elements."""
    # (key, name, nearest <table> above, the element whose block holds its text, inside a row unit) of each open
    # element, the root first
    open_elements: list[tuple[Hashable, str, Hashable | None, Hashable, bool]] = [
        (root, root_name, root_table, root, False)]
    buffers: dict[Hashable, list[str]] = {}
    meta: dict[Hashable, tuple[str, tuple[str, ...]]] = {}
    order: list[Hashable] = []
    headings: list[tuple[int, str, Hashable]] = []  # (level, text, element) of the section we are in
    caption_of: dict[Hashable, str] = {}
    last_dt = ""
    # The context texts being read (headings, captions, terms): block -> its text so far, cut to the context's size
    leads: dict[Hashable, CleanPrefix] = {}

    contexts: dict[tuple, tuple[str, ...]] = {}  # most blocks of a section share one context: build it once

    def context_for(table: Hashable | None, name: str) -> tuple[str, ...]:
        lead = (caption_of.get(table, "") if name == "tr" else "", last_dt if name == "dd" else "")
        found = contexts.get((lead, *headings))
        if found is None:
            ctx = [*lead, *(text for _, text, _ in reversed(headings)), *page_context]
            found = contexts[(lead, *headings)] = tuple(c[:MAX_CONTEXT_CHARS] for c in _unique(ctx) if c)
        return found

    def start_block(key: Hashable, name: str, table: Hashable | None) -> None:
        buffers[key] = []
        meta[key] = (name, context_for(table, name))
        order.append(key)
        if name in HEADINGS or name in ("caption", "dt"):
            leads[key] = CleanPrefix(MAX_CONTEXT_CHARS)

    start_block(root, root_name, root_table)
    leads.pop(root, None) if root_name in HEADINGS else None  # a heading read as the root is no section's heading
    for key, value, parent in stream:
        while len(open_elements) > 1 and open_elements[-1][0] != parent:
            open_elements.pop()
        _, parent_name, parent_table, parent_block, row_parent = open_elements[-1]
        if key is not None:
            name = value
            table = parent if parent_name == "table" else parent_table
            is_row_unit = name == "tr" and key not in layout_rows and not row_parent
            if is_row_unit or (name in BLOCK_TAGS and not row_parent and name not in ("br", "hr")):
                open_elements.append((key, name, table, key, is_row_unit))
                start_block(key, name, table)
            else:
                open_elements.append((key, name, table, parent_block, row_parent))
                if name in BLOCK_TAGS or name in ("br", "hr"):
                    buffers[parent_block].append(" ")
                    if parent_block in leads:
                        leads[parent_block].add(" ")
            continue
        bid = parent_block
        buffers[bid].append(value)
        lead = leads.get(bid)
        if lead is None:
            continue
        lead.add(value)
        tag = meta[bid][0]
        # A heading's text becomes context as soon as it is read, for every block after it.
        if tag in HEADINGS:
            level, text = HEADINGS[tag], lead.text
            if headings and headings[-1][2] == bid:
                headings[-1] = (level, text, bid)
            else:
                while headings and headings[-1][0] >= level:
                    headings.pop()
                headings.append((level, text, bid))
        elif tag == "caption":
            if parent_table is not None:
                caption_of[parent_table] = lead.text
        else:
            last_dt = lead.text

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
    by offset, so an edit moves no boundary but its neighbours'. A sentence too long for one block is cut at
    spaces by offset into it, never by copying what is left of it: one 20 MB sentence costs its length, not its
    length times its number of cuts."""
    if len(text) <= MAX_BLOCK_CHARS:
        return [text]
    parts, chunk, size = [], [], 0
    for sentence in SENTENCE_RE.split(text):
        start, end = 0, len(sentence)
        while end - start > MAX_BLOCK_CHARS:  # no sentence break for pages on end: cut at a space
            cut = sentence.rfind(" ", start, start + MAX_BLOCK_CHARS)
            cut = cut if cut > start else start + MAX_BLOCK_CHARS
            parts.append(sentence[start:cut])
            start = cut
            while start < end and sentence[start].isspace():  # what str.lstrip() would strip
                start += 1
        if start:
            sentence = sentence[start:]
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
