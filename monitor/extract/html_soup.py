"""The parser of record for HTML: rules.py's rules applied to a BeautifulSoup tree (over lxml).

The walk over the tree is iterative (bs4's `descendants` follows next_element links), so documents nested
100,000 levels deep cost no recursion. Pages with `select`/`exclude` come here (soupsieve needs bs4's tree), and
so does anything html_lxml.py declines.
"""
from __future__ import annotations

from typing import Iterable, Iterator

from bs4 import BeautifulSoup, Comment, Doctype, NavigableString, ProcessingInstruction, Tag

from ..config import Source
from ..models import Block, Page
from .decode import markup
from .rules import (CHROME, CHROME_KEEPERS, FORM_KEEPERS, INVISIBLE, PAGE_CHROME, SMALL_FORM_CHARS, _concealed,
                    _layout_rows, _main_content, _outermost, _page, _page_context, _walk_nodes)
from .text import clean


def parse(body: bytes, charset: str | None) -> BeautifulSoup:
    return BeautifulSoup(markup(body, charset), "lxml")


def extract_soup(source: Source, text: str) -> Page:
    """The parser of record: BeautifulSoup over lxml."""
    soup = BeautifulSoup(text, "lxml")
    title = clean(soup.title.get_text(" ")) if soup.title else ""
    doc_h1 = soup.find("h1")
    doc_heading = clean(doc_h1.get_text(" ")) if doc_h1 else ""
    page_context = _page_context(source, title, doc_heading)

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
        roots = _main_content(soup.select, lambda tag, _: len(tag.get_text(" ", strip=True))) or [soup.body or soup]

    blocks = [b for root in _outermost(roots, lambda tag: tag.parents) for b in _walk(root, page_context)]
    return _page(blocks, title, doc_heading, page_context)


def _drop(soup: BeautifulSoup, names: set[str]) -> None:
    for tag in soup.find_all(list(names)):
        tag.decompose()
    for node in soup.find_all(string=lambda s: isinstance(s, (Comment, Doctype, ProcessingInstruction))):
        node.extract()


def _drop_hidden(soup: BeautifulSoup) -> None:
    doomed = [tag for tag in soup.find_all(True) if tag.attrs and
              _concealed(tag.attrs, " ".join(tag.attrs.get("class", []) or []))]
    for tag in doomed:
        if tag.parent is not None or tag.name == "[document]":
            tag.decompose()


def _drop_page_chrome(soup: BeautifulSoup) -> None:
    for tag in soup.find_all(list(PAGE_CHROME)):
        if tag.find_parent(list(CHROME_KEEPERS)) is None and not tag.find("h1"):
            tag.decompose()
    for form in soup.find_all("form"):
        if len(form.get_text(" ", strip=True)) < SMALL_FORM_CHARS and not form.find(list(FORM_KEEPERS)):
            form.decompose()


def _walk(root: Tag, page_context: tuple[str, ...]) -> Iterable[Block]:
    table = root.find_parent("table")
    layout_rows = _layout_rows(_up_to(t, root) for t in root.find_all("table"))
    return _walk_nodes(id(root), root.name, id(table) if table is not None else None, _soup_nodes(root),
                       page_context, layout_rows)


def _up_to(tag: Tag, root: Tag) -> Iterator[tuple[int, str]]:
    """The ancestors of `tag` below `root`, nearest first, as _layout_rows reads them."""
    for ancestor in tag.parents:
        if ancestor is root:
            return
        yield id(ancestor), ancestor.name


def _soup_nodes(root: Tag) -> Iterable[tuple]:
    for node in root.descendants:
        if isinstance(node, Tag):
            yield id(node), node.name, id(node.parent)
        elif isinstance(node, NavigableString) and not isinstance(node, (Comment, Doctype, ProcessingInstruction)):
            yield None, str(node), id(node.parent)
