"""Where a selector's content went: when a source's `select` stops matching, the elements of the new page that
hold most of what it selected before, as CSS selectors an operator can paste into sources.yaml.

A redesign usually keeps the bill history table and renames its wrapper (`#tabBodyBillHistory` becomes
`#billHistory`), so "matches nothing" alone sends the operator to read the page's source. The old snapshot's
blocks say what the selector used to hold; the candidates on the new page are tables, lists and elements with an id
or a class, ranked by how much of the old text they hold (recall) and how little else (precision). Only the failing
path comes here: it parses the page a second time, which a source that has just lost its selector can afford.
"""
from __future__ import annotations

import logging
from collections import Counter, defaultdict
from dataclasses import replace
from typing import Iterable

import soupsieve
from bs4 import BeautifulSoup, NavigableString, Tag

from ..config import Source
from ..models import Block, FetchResult, Page
from .decode import markup
from .rules import INVISIBLE
from .html_soup import _drop, _drop_hidden
from .text import words

MAX_SUGGESTIONS = 3
LIST_TAGS = ("table", "ul", "ol", "dl")
# A candidate must hold at least this share of the old text's words, and score at least this (see _score).
MIN_RECALL = 0.5
MIN_SCORE = 0.3
# Candidates scored exactly, the best by an upper bound of their score that costs one pass over the page.
EXACT = 20
log = logging.getLogger("monitor.extract.suggest")


def explain_missing_selector(source: Source, page: Page, result: FetchResult, old_blocks: Iterable[Block]) -> Page:
    """`page` (a selector_missing Page) with a hint added to its problem_detail: the selectors that would select
    what `source.select` selected before, or, with no snapshot to compare with, the page's largest tables and
    lists."""
    old = tuple(old_blocks)
    try:
        soup = _prepared(source, result)
        if old:
            found = suggest_selectors(soup, old)
            hint = (f"; what it selected is now closest to {', '.join(found)}" if found else
                    "; nothing on the page now resembles what it selected before")
        else:
            found = largest_lists(soup)
            hint = f"; the page's largest tables and lists: {', '.join(found)}" if found else ""
    except Exception:  # noqa: BLE001 - a hint that fails must not turn the check's selector_missing into another error
        log.warning("%s: no selector suggestions for this page", source.id, exc_info=True)
        return page
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
    look, not spellings of one place.

    The score of an element compares the words of its text with the old blocks' words, as multisets. Counting
    them for every element would read the page once per level of nesting; one pass from the leaves up counts
    instead, for every element, its words and those of them that are old words, which bound the score from above.
    Only the EXACT best by that bound are counted exactly."""
    old = Counter(w for b in old_blocks for w in words(b.text))
    total = sum(old.values())
    if not total:
        return []
    elements, size, hits = _tally(soup, old.keys())
    bounds = []
    for element in _candidates(elements):
        common = min(hits[id(element)], total)  # at least the multiset intersection
        if common >= MIN_RECALL * total and common:
            bounds.append((_score(common / total, common / size[id(element)]), element))
    bounds.sort(key=lambda b: -b[0])  # stable: equal bounds keep document order
    scored = []
    for _, element in bounds[:EXACT]:
        have = Counter(w for text in element.find_all(string=True) for w in words(text))
        common = sum((have & old).values())
        score = _score(common / total, common / sum(have.values())) if common else 0.0
        if common >= MIN_RECALL * total and score >= MIN_SCORE:
            scored.append((score, have, element))
    scored.sort(key=lambda s: -s[0])
    return _named(elements, ((have, element) for _, have, element in scored), limit)


def largest_lists(soup: BeautifulSoup, limit: int = MAX_SUGGESTIONS) -> list[str]:
    """The tables and lists with the most text, for a selector that never matched (no snapshot to compare with)."""
    elements, size, _ = _tally(soup, ())
    lists = sorted((e for e in elements if e.name in LIST_TAGS and size[id(e)]), key=lambda e: -size[id(e)])
    return _named(elements, ((Counter(words(e.get_text(" "))), e) for e in lists[:EXACT]), limit)


def _score(recall: float, precision: float) -> float:
    return 2 * recall * precision / (recall + precision)


def _tally(soup: BeautifulSoup, vocabulary) -> tuple[list[Tag], dict[int, int], dict[int, int]]:
    """Every element in document order, and for each (by id) how many words its text holds and how many of those
    are in `vocabulary`: children are counted before their parents (reversed document order), each node once."""
    elements = [node for node in soup.descendants if isinstance(node, Tag)]
    size: dict[int, int] = {}
    hits: dict[int, int] = {}
    for element in reversed(elements):
        n = h = 0
        for child in element.contents:
            if isinstance(child, Tag):
                n += size[id(child)]
                h += hits[id(child)]
            elif isinstance(child, NavigableString):  # comments, doctypes and the like were dropped by _prepared
                found = words(child)
                n += len(found)
                h += sum(w in vocabulary for w in found)
        size[id(element)] = n
        hits[id(element)] = h
    return elements, size, hits


def _candidates(elements: list[Tag]) -> Iterable[Tag]:
    """Tables, lists and elements with an id or a class: what a selector names."""
    for e in elements:
        if e.name in LIST_TAGS or (e.name not in ("html", "body") and (e.get("id") or e.get("class"))):
            yield e


def _named(elements: list[Tag], ranked: Iterable[tuple[Counter, Tag]], limit: int) -> list[str]:
    """Selectors for the ranked elements, skipping those holding the same text as one already named and those no
    short selector picks out alone. For one text, an element with an id is named before one without."""
    ranked = list(ranked)
    best: dict[frozenset, Tag] = {}
    for have, element in ranked:
        key = frozenset(have.items())
        if key not in best or (_id(element) and not _id(best[key])):
            best[key] = element
    names = _Names(elements)
    out: list[str] = []
    for have, element in ranked:
        if len(out) >= limit:
            break
        if best.get(frozenset(have.items())) is not element:
            continue
        selector = names.selector(element)
        if selector and selector not in out:
            out.append(selector)
    return out


class _Names:
    """Which elements each simple form of selector picks, from one pass over the page (soupsieve's `select` walks
    the whole page for every selector tried)."""

    def __init__(self, elements: list[Tag]):
        self.by_id: dict[str, list[Tag]] = defaultdict(list)
        self.by_tag: dict[str, list[Tag]] = defaultdict(list)
        self.by_class: dict[tuple[str, str], list[Tag]] = defaultdict(list)
        for e in elements:
            if _id(e):
                self.by_id[_id(e)].append(e)
            self.by_tag[e.name].append(e)
            for c in _classes(e):
                self.by_class[(e.name, c)].append(e)

    def selector(self, element: Tag) -> str | None:
        """The first of `#id`, `tag.class`, `tag.class.class`, `#ancestor tag.class`, `#ancestor tag` and `tag`
        (the nearest ancestor with an id) that selects this element and nothing else, or None."""
        for selector, matches in self._forms(element):
            if len(matches) == 1 and matches[0] is element:
                try:
                    if soupsieve.compile(selector).match(element):
                        return selector
                except Exception:  # noqa: BLE001 - soupsieve refuses some escaped idents: try the next form
                    continue
        return None

    def _forms(self, element: Tag) -> Iterable[tuple[str, list[Tag]]]:
        name, classes, own = element.name, _classes(element), _id(element)
        if own:
            yield f"#{soupsieve.escape(own)}", self.by_id[own]
        tails = [(f"{name}.{soupsieve.escape(c)}", self.by_class[(name, c)]) for c in classes]
        if len(classes) > 1:
            tails.append((name + "".join(f".{soupsieve.escape(c)}" for c in classes),
                          [e for e in self.by_class[(name, classes[0])] if set(classes) <= set(_classes(e))]))
        yield from tails
        ancestor = next((_id(a) for a in element.parents if isinstance(a, Tag) and _id(a)), "")
        if ancestor:
            for tail, matches in tails + [(name, self.by_tag[name])]:
                yield (f"#{soupsieve.escape(ancestor)} {tail}",
                       [e for e in matches if any(_id(a) == ancestor for a in e.parents if isinstance(a, Tag))])
        yield name, self.by_tag[name]


def _id(element: Tag) -> str:
    value = element.get("id")
    return value.strip() if isinstance(value, str) else ""


def _classes(element: Tag) -> list[str]:
    value = element.get("class") or []
    return [c for c in (value.split() if isinstance(value, str) else value) if c]
