"""What a page is: one measure's page, a list of items, or a document; which measure; and its topic texts.

A bill's page often names its subject only in a short-title span, an abstract, a caption cell or a labelled
`<dt>/<dd>` pair, not in a heading; its history rows are that measure's actions because of whose page they are.
Identity is read from the page's own structure, never from the operator's `name`, which labels alerts: on a list
page (search results, agendas, press lists, a governor's bill actions, feeds and APIs) each item's identity is its
own, and the page's topic is not lent to any of them.
"""
from __future__ import annotations

import re
from collections import Counter
from typing import Sequence

from ..config import Source
from ..models import Block, Identity, Page
from .measures import find_measure, is_bill, measure_key

# Labels of the fields where legislatures and agencies state what a measure is about.
IDENTITY_LABEL_RE = re.compile(
    r"^\W*(short\s+title|long\s+title|bill\s+title|title|caption|catch\s*line|abstract|summary|synopsis|digest|"
    r"description|brief\s+description|subject|subjects|relating\s+to|topic|name|act\s+name|reason|product\s+"
    r"description|bill\s+summary|bill\s+description|official\s+title|popular\s+title|purpose|"
    # the same fields in the languages of the registers we read (Polish, German, Malay, French, Spanish)
    r"opis(\s+projektu)?|tytuł|beschreibung|titel|kurztitel|betreff|gegenstand|tajuk|ringkasan|titre|objet|"
    r"résumé|descripción|título|resumen|asunto)\b\s*[:\-\u2013]?",
    re.I)
# A row or item starting with a date is an action (a history row), not a description.
_DATED_RE = re.compile(r"^\W*(\d{1,2}[/.-]\d{1,2}([/.-]\d{2,4})?|\d{4}-\d{2}-\d{2}|(jan|feb|mar|apr|may|jun|jul|aug|"
                       r"sep|sept|oct|nov|dec)[a-z]*\.?\s+\d{1,2})\b", re.I)
ROW_TAGS = ("tr", "li", "dd", "p", "div")
MAX_TOPIC_CHARS = 600
MAX_LEAD_BLOCKS = 40  # blocks before the first action that may describe the measure
LIST_MIN_MEASURES = 3


def identify(source: Source, page: Page) -> Identity:
    if page.window is not None or source.kind != "html":
        return Identity("list", None, tuple(t for t in (page.title, *page.page_context) if t))
    blocks = [b for b in page.blocks if not in_other_panel(b, page.page_context)]
    heading_texts = tuple(c for c in page.page_context if c in (page.title, page.heading) or c != source.name)
    # A page whose own title or heading names one measure is that measure's page, whatever panels it carries.
    named = source.measure or _topic_measure([t for t in (page.heading, page.title) if t])
    if not named and is_list(blocks):
        return Identity("list", None, heading_texts)
    topic = [*heading_texts, *_labelled(blocks), *_lead(blocks)]
    measure = named or _topic_measure(topic) or _dominant(blocks)
    # A page of dated rows and no measure is a press list or a news page, not a measure's history.
    kind = "measure" if measure else "document"
    seen: dict[str, None] = {}
    for text in topic:
        seen.setdefault(text[:MAX_TOPIC_CHARS], None)
    return Identity(kind, measure, tuple(seen))


# Panels on a measure's page that are about other measures or other news: their rows are not the page's.
OTHER_PANEL_RE = re.compile(r"\b(recent(ly)?|latest|other\s+(bills|legislation|measures|news|items|actions)|"
                            r"more\s+(legislation|bills)|related|similar|companion|identical|compare|"
                            r"news|press|headlines|trending|popular|see\s+also|you\s+may\s+also)\b", re.I)


def in_other_panel(block: Block, page_context: tuple[str, ...] = ()) -> bool:
    """Under a short section heading such as "Related Bills", "Recent Actions", "Latest News" (the page's own
    title or heading is not a panel: "Kratom and other bills" is what the whole page is)."""
    return any(len(c) <= 80 and c not in page_context and OTHER_PANEL_RE.search(c) for c in block.context[:1])


def _topic_measure(topic: list[str]) -> str | None:
    """The measure the topic names: a bill's number before an act or chapter number it was given ("H.611 ... Act
    142" is H 611), which is the first identifier anywhere else."""
    found = [m for t in topic if (m := find_measure(t))]
    return next((m for m in found if is_bill(m)), found[0] if found else None)


def leading_measure(text: str) -> str | None:
    """The measure a row starts with, after its date if it has one: "HB 1649 Kratom; ...", "04/10/2026 SB 141
    Enacting ..." (a governor's list of bill actions), not one cited later in the text."""
    head = text.split()[:4]
    if head and _DATED_RE.match(head[0]):
        head = head[1:]
    return find_measure(" ".join(head[:3])) if head else None


def is_list(blocks: Sequence[Block]) -> bool:
    """A page whose rows or items start with three or more different measures lists many measures."""
    starts = {measure_key(m) for b in blocks if b.tag in ROW_TAGS and (m := leading_measure(b.text))}
    return len(starts) >= LIST_MIN_MEASURES


def _labelled(blocks: Sequence[Block]) -> list[str]:
    """Identity fields: "Short Title: ...", a <dd> under a <dt> "Abstract", a two-cell row "Caption | ..."."""
    out = []
    for b in blocks:
        if len(b.text) > MAX_TOPIC_CHARS * 2:
            continue
        label = b.context[0] if b.tag == "dd" and b.context else ""
        if (label and IDENTITY_LABEL_RE.match(label)) or IDENTITY_LABEL_RE.match(b.text):
            out.append(b.text)
    return out


def _lead(blocks: Sequence[Block]) -> list[str]:
    """The name paragraph and other short texts above the history: on a measure's page, what it is about."""
    out = []
    for b in blocks[:MAX_LEAD_BLOCKS]:
        if b.tag in ("tr", "li", "dd") and _DATED_RE.match(b.text):
            break
        if len(b.text) <= MAX_TOPIC_CHARS and b.tag not in ("tr", "li"):
            out.append(b.text)
    return out


def _dominant(blocks: Sequence[Block]) -> str | None:
    """The measure named in headings, or named far more than any other: the page's own."""
    named = Counter()
    spelled: dict[str, str] = {}
    for b in blocks:
        if b.tag in ("h1", "h2", "h3", "caption", "dt") or (b.tag not in ROW_TAGS and len(b.text) < 200):
            m = find_measure(b.text)
            if m:
                named[measure_key(m)] += 1
                spelled.setdefault(measure_key(m), m)
    if not named:
        return None
    (top, n), *rest = named.most_common(2) + [("", 0)]
    return spelled[top] if n >= 2 * rest[0][1] and n >= 1 else None
