"""Where a selector's content went: when a source's `select` stops matching, the elements of the new page that
hold most of what it selected before, as CSS selectors an operator can paste into sources.yaml.

A redesign usually keeps the bill history table and renames its wrapper (`#tabBodyBillHistory` becomes
`#billHistory`), so "matches nothing" alone sends the operator to read the page's source. The old snapshot's
blocks say what the selector used to hold; the candidates on the new page are tables, lists and elements with an id
or a class, ranked by how much of the old text they hold (recall) and how little else (precision). Only the failing
path comes here: it parses the page a second time, which a source that has just lost its selector can afford.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Iterable

import soupsieve
from bs4 import BeautifulSoup, Tag

from ..config import Source
from ..models import Block, FetchResult, Page
from .html import INVISIBLE, markup
from .html_soup import _drop, _drop_hidden
from .text import words

MAX_SUGGESTIONS = 3
LIST_TAGS = ("table", "ul", "ol", "dl")
# A candidate must hold at least this share of the old text's words, and score at least this (see _score).
MIN_RECALL = 0.5
MIN_SCORE = 0.3
# Elements looked at, in document order: a page with more is a pathological one, and this is a hint.
MAX_CANDIDATES = 3000


def explain_missing_selector(source: Source, page: Page, result: FetchResult, old_blocks: Iterable[Block]) -> Page:
    """`page` (a selector_missing Page) with a hint added to its problem_detail: the selectors that would select
    what `source.select` selected before, or, with no snapshot to compare with, the page's largest tables and
    lists."""
    old = tuple(old_blocks)
    soup = _prepared(source, result)
    if old:
        found = suggest_selectors(soup, old)
        hint = (f"; what it selected is now closest to {', '.join(found)}" if found else
                "; nothing on the page now resembles what it selected before")
    else:
        found = largest_lists(soup)
        hint = f"; the page's largest tables and lists: {', '.join(found)}" if found else ""
    return replace(page, problem_detail=page.problem_detail + hint)


def _prepared(source: Source, result: FetchResult) -> BeautifulSoup:
    """The page as extract_soup has it when it applies the selector: what a suggested selector will meet."""
    soup = BeautifulSoup(markup(result.body, result.charset), "lxml")
    _drop(soup, INVISIBLE)
    _drop_hidden(soup)
    for selector in source.exclude:
        for tag in soup.select(selector):
            tag.decompose()
    return soup


def suggest_selectors(soup: BeautifulSoup, old_blocks: tuple[Block, ...], limit: int = MAX_SUGGESTIONS) -> list[str]:
    """Up to `limit` selectors, best first, each selecting one element that holds most of `old_blocks`' text.
    Elements holding the very same text (a wrapper and its only table) count once: the suggestions are places to
    look, not spellings of one place."""
    old = Counter(w for b in old_blocks for w in words(b.text))
    total = sum(old.values())
    if not total:
        return []
    scored = []
    for element in _candidates(soup):
        have = Counter(words(element.get_text(" ")))
        common = sum((have & old).values())
        if common < MIN_RECALL * total:
            continue
        score = _score(common / total, common / sum(have.values()))
        if score >= MIN_SCORE:
            scored.append((score, have, element))
    scored.sort(key=lambda s: -s[0])  # stable: equal scores keep document order, outer elements first
    return _named(soup, ((have, element) for _, have, element in scored), limit)


def largest_lists(soup: BeautifulSoup, limit: int = MAX_SUGGESTIONS) -> list[str]:
    """The tables and lists with the most text, for a selector that never matched (no snapshot to compare with)."""
    lists = [(len(words(t.get_text(" "))), t) for t in soup.find_all(list(LIST_TAGS), limit=MAX_CANDIDATES)]
    lists.sort(key=lambda s: -s[0])
    return _named(soup, ((Counter(words(t.get_text(" "))), t) for n, t in lists if n), limit)


def _score(recall: float, precision: float) -> float:
    return 2 * recall * precision / (recall + precision)


def _candidates(soup: BeautifulSoup) -> Iterable[Tag]:
    for n, element in enumerate(soup.find_all(True)):
        if n >= MAX_CANDIDATES:
            return
        if element.name in ("html", "body"):
            continue
        if element.name in LIST_TAGS or element.get("id") or element.get("class"):
            yield element


def _named(soup: BeautifulSoup, ranked: Iterable[tuple[Counter, Tag]], limit: int) -> list[str]:
    """Selectors for the ranked elements, skipping those holding the same text as one already named and those no
    short selector picks out alone. For one text, an element with an id is named before one without."""
    ranked = list(ranked)
    best: dict[frozenset, Tag] = {}
    for have, element in ranked:
        key = frozenset(have.items())
        if key not in best or (element.get("id") and not best[key].get("id")):
            best[key] = element
    out: list[str] = []
    for have, element in ranked:
        if len(out) >= limit:
            break
        if best.get(frozenset(have.items())) is not element:
            continue
        selector = _selector(soup, element)
        if selector and selector not in out:
            out.append(selector)
    return out


def _selector(soup: BeautifulSoup, element: Tag) -> str | None:
    """The first of `#id`, `tag.class`, `tag.class.class`, `#ancestor tag.class`, `#ancestor tag` and `tag` that
    selects this element and nothing else (the nearest ancestor with an id), or None."""
    classes = [f".{soupsieve.escape(c)}" for c in _classes(element)]
    tail = [element.name + c for c in classes] + ([element.name + "".join(classes)] if len(classes) > 1 else [])
    own_id = _id(element)
    tries = ([f"#{soupsieve.escape(own_id)}"] if own_id else []) + tail
    ancestor = next((a for a in element.parents if isinstance(a, Tag) and _id(a)), None)
    if ancestor is not None:
        tries += [f"#{soupsieve.escape(_id(ancestor))} {t}" for t in tail + [element.name]]
    tries.append(element.name)
    for selector in tries:
        try:
            found = soup.select(selector, limit=2)
        except Exception:  # noqa: BLE001 - soupsieve refuses some escaped idents; try the next form
            continue
        if len(found) == 1 and found[0] is element:
            return selector
    return None


def _id(element: Tag) -> str:
    value = element.get("id")
    return value.strip() if isinstance(value, str) else ""


def _classes(element: Tag) -> list[str]:
    value = element.get("class") or []
    return [c for c in (value.split() if isinstance(value, str) else value) if c]
