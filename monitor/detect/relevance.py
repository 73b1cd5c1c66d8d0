"""Is a changed block about kratom: by its own words, by its item's identity, or by whose page it stands on.

- A block that names kratom is about kratom.
- A feed or API item must name kratom itself: its identity is its own.
- On a measure's page, whose identity (title, headings, short title, abstract, labelled fields) names kratom, every
  row is that measure's row, except rows that start with another measure's number (a "Related Bills" table) and rows
  in panels about other things ("Recent Actions", "More Legislation from ...", news sidebars).
- On a list page only an item's own words, or a heading or caption right above it, count; never the page's title or
  the operator's `name`.
- Elsewhere (an agency page, a statute) a block counts by its section heading or the page's title, as a reader
  would read it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..config import Source
from ..extract.identity import OTHER_PANEL_RE, leading_measure
from ..extract.measures import find_measure, is_bill, measure_key
from ..models import Block, Identity
from .actions import read_action
from .vocabulary import KRATOM_RE

# A row about a companion or identical bill, named as such.
_NAMED_OTHER_RE = re.compile(r"\b(identical|companion|similar|related|cross-?filed|duplicate)\s+(bill|measure|"
                             r"legislation)?\s*,?\s*(\w+\.?\s+){0,2}?\w{1,4}\.?\s?\d{1,5}\b", re.I)


def kratom_terms(text: str) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for m in KRATOM_RE.finditer(text):
        seen.setdefault(re.sub(r"\s+", " ", m.group(0).lower()), None)
    return tuple(seen)


@dataclass(frozen=True)
class Scope:
    """What the page as a whole says: its identity, and the identity text that names kratom, if any."""

    source: Source
    identity: Identity
    kratom_identity: str  # the topic text that makes this page a kratom measure's page ("" if it is not one)

    @classmethod
    def of(cls, source: Source, identity: Identity) -> "Scope":
        kratom = ""
        if identity.kind == "measure" or (identity.kind == "document" and _instrument(identity, source)):
            kratom = next((t for t in identity.topic if KRATOM_RE.search(t)), "")
            if not kratom and source.name and KRATOM_RE.search(source.name):
                kratom = source.name  # the operator says which measure this page is; on a list page it would not
        return cls(source, identity, kratom)

    @property
    def list_page(self) -> bool:
        return self.identity.kind == "list"

    @property
    def page_measure(self) -> str | None:
        return self.identity.measure


def _instrument(identity: Identity, source: Source) -> bool:
    """A page about one instrument without a number: its title or heading names a draft, a bill or a rule ("Projekt
    rozporządzenia Ministra Zdrowia ...", "Proposed rule: ..."), so its dated rows are that instrument's steps."""
    head = identity.topic[0] if identity.topic else ""
    return bool(head) and bool(set(read_action(head, source.jurisdiction).classes) & _INSTRUMENT_CLASSES)


_INSTRUMENT_CLASSES = {"rule-proposal", "rule-notice", "rule-adoption", "rule-emergency", "introduction"}


def foreign(block: Block, scope: Scope) -> bool:
    """A row that is another measure's: it starts with another measure's number, or stands in a panel about other
    things."""
    other = _NAMED_OTHER_RE.search(block.text)
    if other and scope.page_measure and (named := find_measure(other.group(0))) and is_bill(named) and \
            measure_key(named) != measure_key(scope.page_measure):
        return True  # "Identical bill HB 200 signed by Governor" on SB 77's page is HB 200's news
    own = leading_measure(block.text)
    # On a measure's page only another bill's number makes a row foreign: "S Act 142, on 07/09/2026" is the
    # act this bill became.
    if own and (scope.list_page or (is_bill(own) and scope.page_measure and
                                    measure_key(own) != measure_key(scope.page_measure))):
        return True
    return any(OTHER_PANEL_RE.search(c) and len(c) <= 80 for c in block.context[:2]
               if c not in scope.identity.topic and c != scope.source.name)


def kratom_context(block: Block, scope: Scope) -> str:
    """The text around `block` that makes it a kratom block, or "" (page blocks only)."""
    if block.fields:
        return ""
    if foreign(block, scope):
        # another measure's row is about kratom only if a heading or caption right above it says so
        near = [c for c in block.context[:2] if c not in scope.identity.topic and c != scope.source.name]
        return next((c for c in near if KRATOM_RE.search(c)), "")
    for text in block.context:
        if scope.list_page and text == scope.source.name and text not in scope.identity.topic:
            continue
        if KRATOM_RE.search(text):
            return text
    return scope.kratom_identity


# A page of an executive's office: its rows are that executive's actions ("Signed" on the Governor's bill actions).
_EXECUTIVE_PAGE_RE = re.compile(r"\b(governor|mayor|county\s+executive)('s|s'|s)?\b(?!\s+(for|to)\b)", re.I)
_LEGISLATIVE_RE = re.compile(r"\b(senate|house|assembly|legislature|general\s+assembly|council)\b", re.I)


def page_actor(block: Block, scope: Scope) -> str | None:
    """Who acts on the rows of this page when they do not say: the executive, on a page of the governor's or the
    mayor's office (its title or heading names them, and no chamber)."""
    for text in (scope.identity.topic[:2] if scope.list_page else block.context[-3:]):
        if text == scope.source.name and text not in scope.identity.topic:
            continue  # the operator's label says nothing of who acts on the page
        if _EXECUTIVE_PAGE_RE.search(text) and not _LEGISLATIVE_RE.search(text):
            return "executive"
    return None
