"""The parser of record for HTML: rules.py's rules applied to a BeautifulSoup tree (over lxml).

The walk over the tree is iterative (bs4's `descendants` follows next_element links), so deep documents cost no
recursion, and what the rules ask of ancestors and descendants is worked out once per page, not per tag, so nesting
costs no square either. Pages with `select`/`exclude` come here (soupsieve needs bs4's tree), and so does anything
html_lxml.py declines. extract_html checks the element and depth budget (budget.py) before a page comes here.
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
        roots = _main_content(soup.select, _text_size) or [soup.body or soup]

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
    """Which <header>/<footer> hold an <h1> and which stand in a keeper is worked out once for the whole page, not
    by a search up and down from each: nested ones would cost the square of their depth."""
    holds_h1 = _ancestor_ids(soup.find_all("h1"))
    in_keeper = _Inside(CHROME_KEEPERS)
    for tag in soup.find_all(list(PAGE_CHROME)):
        if id(tag) not in holds_h1 and not in_keeper(tag):
            tag.decompose()  # the tags inside it go with it: the answers for the others still hold
    for form in soup.find_all("form"):
        if len(form.get_text(" ", strip=True)) < SMALL_FORM_CHARS and not form.find(list(FORM_KEEPERS)):
            form.decompose()


def _ancestor_ids(tags: list[Tag]) -> set[int]:
    """The ids of every ancestor of `tags`; a walk up stops where an earlier one passed."""
    marked: set[int] = set()
    for tag in tags:
        for parent in tag.parents:
            if id(parent) in marked:
                break
            marked.add(id(parent))
    return marked


class _Inside:
    """Whether a tag has an ancestor named one of `names`, remembered for every tag walked past (the tree is not
    changed meanwhile where it matters: a tag dropped takes its descendants with it)."""

    def __init__(self, names: tuple[str, ...]):
        self.names = names
        self.known: dict[int, bool] = {}
        self.alive: list[Tag] = []  # the tags walked past, so that their ids stay theirs

    def __call__(self, tag: Tag) -> bool:
        walked, inside = [], False
        for parent in tag.parents:
            if parent.name in self.names or id(parent) in self.known:
                inside = parent.name in self.names or self.known[id(parent)]
                break
            walked.append(parent)
        self.alive.extend(walked)
        self.known.update((id(parent), inside) for parent in walked)
        return inside


def _text_size(tag: Tag, enough: int) -> int:
    """len(tag.get_text(" ", strip=True)), or a number at least `enough` once the text is known to be that long."""
    size = -1  # no separator before the first string
    for text in tag.stripped_strings:
        size += len(text) + 1
        if size >= enough:
            return size
    return max(size, 0)


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
