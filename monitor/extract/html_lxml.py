"""The fast path of extract_html: rules.py's rules applied to lxml's own tree, about ten times cheaper than bs4's.

bs4 builds its tree from the events of the same libxml2 parser, fed the same text with the same options, so lxml's
tree holds the same elements, attributes and strings. Where the two could differ, or where bs4 treats a string in a
way lxml's tree cannot tell, this path declines (returns None) and extract_html asks bs4:
- a DOCTYPE anywhere but the start (bs4 cuts the text around it into separate strings; lxml keeps one string);
- an attribute name in {namespace}name form on an element not dropped by its name (bs4 reads `{x}hidden` as
  `hidden`);
- ruby annotations (<rt>, <rp>): bs4 leaves their text out of get_text();
- a script, style or template inside the title or the first <h1>, or around them (the same, for their text);
- an element to drop that has no parent (bs4 would leave a document without its root);
- elements MAX_DEPTH deep: libxml2 stops building its own tree (and reading) 256 levels down, bs4's goes on;
- on a page of more than MAX_CHARS, a comment, processing instruction or attribute value that could pass 10 MB: the
  page is parsed with huge_tree (libxml2's own tree otherwise stops reading at a 10 MB text node, where bs4's, built
  from parser events, goes on), which keeps such nodes where bs4's parser, without it, drops them;
- nothing parsed, or lxml raising.
Dropped elements are emptied and renamed HOLE, a name no rule looks for, rather than removed: their tails stay
strings of their own, as after bs4's decompose(), where get_text(" ") joins the strings either side with a space.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from typing import Iterable, Iterator

from lxml import etree

from ..config import Source
from ..models import Page
from .rules import (CHROME, CHROME_KEEPERS, FORM_KEEPERS, INVISIBLE, PAGE_CHROME, SMALL_FORM_CHARS,
                    _concealed, _layout_rows, _main_content, _outermost, _page, _page_context, _walk_nodes)
from .text import clean

MAX_CHARS = 2_000_000  # 10 MB of UTF-8 cannot fit in fewer characters than this (4 bytes each, at most)
# A node libxml2 may have dropped for passing 10 MB without huge_tree (as bs4's parser does): 2.5 million characters
# can be 10 MB of UTF-8.
OVERSIZED = etree.XPath("boolean(//comment()[string-length(.) > 2500000] | "
                        "//processing-instruction()[string-length(.) > 2500000] | //@*[string-length(.) > 2500000])")
MAX_DEPTH = 250
TOO_DEEP = etree.XPath("boolean(" + "/".join(["*"] * MAX_DEPTH) + ")")  # C-speed: ~0.1 ms on a 40 KB page
NAMESPACED_ATTRIBUTE = etree.XPath("boolean(//@*[starts-with(name(), '{')])")
WITH_ATTRIBUTES = etree.XPath("descendant-or-self::*[@*]")
# el.get("id") == value, in C: no Python object for the elements that do not match
WITH_ID = etree.XPath("descendant-or-self::*[@id = $value]")
WITH_ROLE = etree.XPath("descendant-or-self::*[@role = $value]")
DOCTYPE_RE = re.compile(r"<!doctype", re.I)
# Strings under these are bs4 Script, Stylesheet, TemplateString, RubyTextString, RubyParenthesisString: not text.
STRING_CONTAINERS = ("script", "style", "template", "rt", "rp")
# MAIN_SELECTORS in the forms this path reads exactly as soupsieve does on an HTML document: a tag name, #id (the
# whole id, case-sensitive) and [role=value] (the whole value, case-sensitive: role is not one of the attributes
# soupsieve compares case-insensitively). Anything else declines.
SELECTOR_RE = re.compile(r"^(?:(?P<tag>[a-z][a-z0-9]*)|#(?P<id>[A-Za-z][\w-]*)|\[role=(?P<role>[A-Za-z][\w-]*)\])$")
HOLE = "monitor-dropped"
DOCUMENT = "[document]"  # the walk's root when a page has no <body>, as bs4's BeautifulSoup object is


class Declined(Exception):
    """This page is bs4's to read."""


def extract_lxml(source: Source, text: str, known: str | None = None) -> Page | None:
    """The Page extract_soup would make of `text`, or None when this path cannot vouch for that. When the page's
    fingerprint equals `known`, an `unchanged` Page without blocks: reading them again would give the same."""
    if source.select or source.exclude or _late_doctype(text):
        return None
    try:
        return _extract(source, _parse(text), known)
    except (Declined, etree.LxmlError, ValueError):
        return None


def _late_doctype(text: str) -> bool:
    first = DOCTYPE_RE.search(text)
    return first is not None and (bool(text[:first.start()].strip()) or DOCTYPE_RE.search(text, first.end()) is not None)


def _parse(text: str) -> list[etree._Element]:
    """The document's top-level elements, parsed as bs4's lxml builder does (it drops a leading BOM from text). A
    page too short to hold a 10 MB node is parsed with bs4's options exactly; a longer one with huge_tree, which only
    lifts libxml2's 10 MB limits (and its tree's depth limit, beyond MAX_DEPTH anyway)."""
    if text[:1] == "\ufeff":
        text = text[1:]
    huge = len(text) > MAX_CHARS
    parser = etree.HTMLParser(recover=True, huge_tree=huge)
    parser.feed(text)
    root = parser.close()
    if root is None or huge and OVERSIZED(root):
        raise Declined
    tops = [*reversed(list(root.itersiblings(preceding=True))), root, *root.itersiblings()]
    tops = [t for t in tops if isinstance(t.tag, str)]
    if any(TOO_DEEP(top) for top in tops):
        raise Declined
    return tops


def _extract(source: Source, tops: list[etree._Element], known: str | None) -> Page:
    if _first(tops, "rt", "rp") is not None:
        raise Declined
    title_tag, doc_h1 = _first(tops, "title"), _first(tops, "h1")
    title = clean(_heading_text(title_tag)) if title_tag is not None else ""
    doc_heading = clean(_heading_text(doc_h1)) if doc_h1 is not None else ""
    page_context = _page_context(source, title, doc_heading)

    # bs4's order is invisible, hidden, chrome; all three drop unconditionally, so the hidden test can come last
    # and look at fewer elements.
    _drop(_all(tops, *INVISIBLE, *CHROME), tops)
    if any(NAMESPACED_ATTRIBUTE(top) for top in tops):  # bs4 drops the elements dropped by now whatever they carry
        raise Declined
    _drop([el for top in tops for el in WITH_ATTRIBUTES(top) if _hidden(el)], tops)
    _drop([el for el in _all(tops, *PAGE_CHROME)
           if next(el.iterancestors(*CHROME_KEEPERS), None) is None and _first([el], "h1") is None], tops)
    _drop([form for form in _all(tops, "form")
           if _first([form], *FORM_KEEPERS) is None and _text_size(form, SMALL_FORM_CHARS) < SMALL_FORM_CHARS], tops)

    roots = _main_content(lambda selector: _select(tops, selector), _text_size)
    if roots is None:
        body = _first(tops, "body")
        roots = [body] if body is not None else [DOCUMENT]
    roots = _outermost(roots, _ancestors)
    fingerprint = _fingerprint(roots, tops, (title, doc_heading, *page_context))
    if fingerprint is not None and fingerprint == known:
        return Page(blocks=(), title=title, page_context=page_context, fingerprint=fingerprint, unchanged=True)
    blocks = [b for root in roots for b in _blocks(root, tops, page_context)]
    return replace(_page(blocks, title, doc_heading, page_context), fingerprint=fingerprint)


def _fingerprint(roots: list, tops: list[etree._Element], texts: tuple[str, ...]) -> str | None:
    """A hash of all the walk and _page read: the roots' subtrees as serialised by libxml2 (C speed: ~2% of the
    walk), whether each root sits in a table, and the page's title, heading and context. It also covers what the
    walk ignores (attributes, comments), so it can only err towards reading a page again, never towards skipping a
    change. Per-request tokens and render times outside the content (ASP.NET state, CSRF fields, footers) are
    dropped before it, which is what makes such pages skippable at all. libxml2 writes every C0 control character
    but tab, LF and CR as the same `&#xFFFD;`, which the walk does not read alike: content holding one has no
    fingerprint (a literal U+FFFD is written as itself)."""
    digest = hashlib.blake2b(digest_size=16)
    for text in texts:
        digest.update(text.encode("utf-8", "surrogatepass") + b"\x00")
    for root in roots:
        if root is DOCUMENT:
            serialised = b"".join(etree.tostring(top, encoding="utf-8", with_tail=False) for top in tops)
        else:
            in_table = next(root.iterancestors("table"), None) is not None
            digest.update(b"\x01T" if in_table else b"\x01")
            serialised = etree.tostring(root, encoding="utf-8", with_tail=False)
        if b"&#xFFFD;" in serialised:
            return None
        digest.update(serialised)
    return digest.hexdigest()


def _first(tops: list[etree._Element], *names) -> etree._Element | None:
    return next((el for top in tops for el in top.iter(*names)), None)


def _all(tops: list[etree._Element], *names) -> list[etree._Element]:
    """Elements named so (or all elements, for etree.Element), in document order."""
    return [el for top in tops for el in top.iter(*names)]


def _drop(elements: list[etree._Element], tops: list[etree._Element]) -> None:
    """Empty each element into a HOLE: its subtree and attributes go, its tail stays a string of its own."""
    for el in elements:
        if el.getparent() is None:  # gone with an element dropped before it, or a top-level one
            if any(el is top for top in tops):
                raise Declined
            continue
        el.clear(keep_tail=True)
        el.tag = HOLE


def _hidden(el: etree._Element) -> bool:
    attrs = el.attrib
    return _concealed(attrs, " ".join((attrs.get("class") or "").split()))  # bs4 splits class on whitespace


def _heading_text(el: etree._Element) -> str:
    """bs4's get_text(" ") of the title or first heading, read before anything is dropped."""
    if _first([el], *STRING_CONTAINERS) is not None or any(a.tag in STRING_CONTAINERS for a in el.iterancestors()):
        raise Declined
    return " ".join(el.itertext())


def _text_size(el: etree._Element, enough: int) -> int:
    """len(get_text(" ", strip=True)), after the drops (no string container is left under `el`), or a number at
    least `enough` once it is clear the text is that long: the callers only compare it with `enough`."""
    size = -1  # no separator before the first string
    for text in el.itertext():
        text = text.strip()
        if text:
            size += len(text) + 1
            if size >= enough:
                return size
    return max(size, 0)


def _select(tops: list[etree._Element], selector: str) -> list[etree._Element]:
    m = SELECTOR_RE.match(selector)
    if m is None:
        raise Declined
    if m["tag"]:
        return _all(tops, m["tag"])
    find, value = (WITH_ID, m["id"]) if m["id"] else (WITH_ROLE, m["role"])
    return [el for top in tops for el in find(top, value=value)]


def _ancestors(root: etree._Element | str) -> Iterable[etree._Element]:
    return () if root is DOCUMENT else root.iterancestors()


def _blocks(root: etree._Element | str, tops: list[etree._Element], page_context: tuple[str, ...]):
    if root is DOCUMENT:
        stream = (node for top in tops for node in ((top, top.tag, DOCUMENT), *_nodes(top)))
        layout_rows = _layout_rows(_up_to(table, DOCUMENT) for top in tops for table in top.iter("table"))
        return _walk_nodes(DOCUMENT, DOCUMENT, None, stream, page_context, layout_rows)
    layout_rows = _layout_rows(_up_to(table, root) for table in root.iter("table") if table is not root)
    return _walk_nodes(root, root.tag, next(root.iterancestors("table"), None), _nodes(root), page_context,
                       layout_rows)


def _up_to(el: etree._Element, root: etree._Element | str) -> Iterator[tuple[etree._Element, str]]:
    """The ancestors of `el` below `root`, nearest first, as _layout_rows reads them."""
    for ancestor in el.iterancestors():
        if ancestor is root:
            return
        yield ancestor, ancestor.tag


def _nodes(root: etree._Element) -> Iterator[tuple]:
    """Elements and strings under `root` in document order, as _walk_nodes reads them. Comments and processing
    instructions count only by their tails."""
    stack = [root]
    for event, el in etree.iterwalk(root, events=("start", "end", "comment", "pi")):
        if event == "start":
            if el is not root:
                yield el, el.tag, stack[-1]
                stack.append(el)
            if el.text:
                yield None, el.text, el
        elif event == "end":
            if el is not root:
                stack.pop()
                if el.tail:
                    yield None, el.tail, stack[-1]
        elif el.tail:
            yield None, el.tail, stack[-1]
