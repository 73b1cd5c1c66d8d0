"""How much tree a page may cost: an element and a depth budget, checked before any tree is built.

The body cap bounds the bytes a check reads, not the work they cause: every element costs about 1.2 KB once lxml's
tree, the walk and the blocks hold it, and 2 KB in BeautifulSoup's tree, so 8 MB of `<p>` (2 million elements) once
took one check to 3.9 GB. A page over the budget is not parsed into a tree at all: it fails as `too_complex`, like
any other page that cannot be trusted as the page's text.

Counting costs a parse with no tree (libxml2 calling a Python target per element, about 0.2 us each), stopped as soon
as the budget is passed. Most pages need none: libxml2 opens at most one element per `<` in the text plus a few
implied ones (html, head, body, p; tests/test_budget.py checks this on tag soup), so a page with fewer than half as
many `<` as the budget allows cannot be over it.
"""
from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from ..config import Settings

FEED_CHARS = 1 << 20  # counting stops within this much text of the element that passed the budget


@dataclass(frozen=True)
class Budget:
    """The most elements a page may open, and the deepest they may nest (settings max_elements, max_depth)."""

    elements: int = Settings.max_elements
    depth: int = Settings.max_depth

    @classmethod
    def of(cls, settings: Settings) -> "Budget":
        return cls(settings.max_elements, settings.max_depth)


class _Over(Exception):
    pass


class _Counter:
    """A parser target that keeps no tree: only how many elements were opened and how deep they stand."""

    def __init__(self, budget: Budget):
        self.budget = budget
        self.elements = 0
        self.depth = 0
        self.over = ""

    def start(self, tag, attrib) -> None:
        self.elements += 1
        self.depth += 1
        if self.elements > self.budget.elements:
            self.over = f"the page has more than {self.budget.elements:,} elements (the max_elements setting)"
        elif self.depth > self.budget.depth:
            self.over = f"the page nests elements more than {self.budget.depth:,} deep (the max_depth setting)"
        else:
            return
        raise _Over

    def end(self, tag) -> None:
        self.depth -= 1

    def close(self) -> None:
        return None


def over_budget(text: str, budget: Budget, deepest_read: int | None = None) -> str:
    """Why `text` is too complex to parse into a tree ("" when it is not), as a Page's problem_detail.

    `deepest_read`: the caller's parser reads no deeper than this (the lxml fast path declines deeper pages, which
    are then counted again on their way to bs4), so a depth budget at least as deep need not be counted for it."""
    shortcut = 2 * text.count("<") + 8  # more than the elements libxml2 can open, and so than their depth
    depth_settled = shortcut <= budget.depth or (deepest_read is not None and budget.depth >= deepest_read)
    if shortcut <= budget.elements and depth_settled:
        return ""
    counter = _Counter(budget)
    parser = etree.HTMLParser(target=counter, recover=True)
    try:
        for at in range(0, len(text), FEED_CHARS):
            parser.feed(text[at:at + FEED_CHARS])
        parser.close()
    except _Over:
        return counter.over
    except etree.LxmlError:
        pass  # nothing more the counter can read; the parser that reads the page says what it makes of it
    return ""
