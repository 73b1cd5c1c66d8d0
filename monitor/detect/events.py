"""What one changed block records: an event from its action (or its item's data), a value that moved, or nothing.

Structured sources state events as data (a Federal Register document's type and effective date, a bill's stage
from LegiScan or Open States). Page text is read as an action (actions.py). Prose is read with its time: a
sentence restating an old enactment ("banned kratom in 2016") is background, not news. A modified block is news
when a stage word is new, or when a value it states moved: a quantity with its unit (age 18 to 21, 2% to 1%, 400
to 100 ppm) or a date with its label (an effective date in a <dd> under its <dt>); never a countdown or a counter.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from ..extract.text import words
from ..models import Block
from .actions import Action, read_action
from .stages import NOTABLE, action_events
from .vocabulary import (AGENDA_RE, CONTRACTIONS_RE, CORRECTION_RE, DATE_RE, LIST_HEADING_RE, NOT_SUBSTANTIVE_RE,
                         PERMISSIVE_RE, QUANTITY_RE, RESTRICTIVE_RE, SCHEDULE_HEADING_RE, STATUS_FIELDS,
                         SUBSTANCE_RE, SUBSTANTIVE_DATE_RE, VALUE_LABEL_RE)

_YEAR_RE = re.compile(r"(?<!\d)(1[89]\d\d|20\d\d|2[45]\d\d)(?!\d)")
BUDDHIST_ERA = 543
BACKGROUND_YEARS = 2  # prose whose newest year is this many years back restates history
BACKGROUND_DAYS = 180  # ... or whose newest full date is this many days back
PROSE_TAGS = ("p", "div", "li", "dd", "blockquote", "section", "article", "td")


@dataclass(frozen=True)
class Reading:
    """A block's event and why: the action read from it, the phrase that gave the event."""

    event: str | None
    phrase: str
    action: Action | None = None


NOTHING = Reading(None, "")


def read_block(block: Block, today: date, jurisdiction: str, actor: str | None = None, *,
               with_time: bool = True) -> Reading:
    """`actor`: who acts on this page when its rows do not say (a governor's list of bill actions). `with_time`:
    whether prose restating an old enactment reads as background (for a new block; an edited one is compared
    with its old self instead)."""
    fields = block.fields
    if fields.get("schema") == "federal_register" and fields.get("type"):
        return _federal_register(block, today, jurisdiction)
    if fields.get("event"):  # LegiScan's and Open States' stage; the status line says who acted and the vote
        status = str(fields.get("status") or fields["event"])
        return Reading(str(fields["event"]), status, read_action(status, str(fields.get("jurisdiction") or
                                                                             jurisdiction), actor))
    return read_text(block.text, jurisdiction, today, prose=with_time and block.tag in PROSE_TAGS, actor=actor)


def read_text(text: str, jurisdiction: str, today: date | None = None, prose: bool = False,
              actor: str | None = None) -> Reading:
    action = read_action(text, jurisdiction, actor)
    events = action_events(action)
    if not events:
        if set(action.classes) & NOTABLE:
            return Reading("notable", ", ".join(action.phrases), action)
        return Reading(None, "", action)
    event = events[0]
    if prose and today and _background(text, today):
        return Reading(None, f"restates what happened in {max(_years(text))}", action)
    return Reading(event, action.phrases[0] if action.phrases else event, action)


def _federal_register(block: Block, today: date, jurisdiction: str) -> Reading:
    fields = block.fields
    if CORRECTION_RE.search(str(fields.get("title") or block.text)):
        return Reading("amended", "correction")  # corrects a document already published; schedules nothing new
    if fields["type"] == "Rule":
        effective = parse_date(fields.get("effective_on"))
        if effective and effective > today:
            return Reading("passed", f"Rule effective {effective.isoformat()}")
        return Reading("enacted", "Rule" + (f" effective {effective.isoformat()}" if effective else ""))
    reading = read_text(block.text, jurisdiction)
    if fields["type"] == "Proposed Rule":
        return reading if reading.event == "failed" else Reading("introduced", "Proposed Rule", reading.action)
    return reading


def _years(text: str) -> list[int]:
    """The years a text is dated by; not those in a law's name ("the Misuse of Drugs Act 1971")."""
    text = _NAMED_YEAR_RE.sub(" ", text)
    return [y - BUDDHIST_ERA if y > 2400 else y for y in map(int, _YEAR_RE.findall(text))]


_NAMED_YEAR_RE = re.compile(r"\b(act|acts|regulations?|order|ordinance|code|rules?|standard|decree|statute|"
                            r"instrument|directive|law|akta|พ\.ศ\.)\s+(of\s+|no\.?\s*\d+\s+of\s+)?\d{4}\b", re.I)


def _background(text: str, today: date) -> bool:
    """Prose that restates history: its newest year is long past, or it describes a standing state "since" a
    date already behind us ("Since June 15, 2026, 7-OH has been in Schedule I")."""
    years = _years(text)
    if years and max(years) <= today.year - BACKGROUND_YEARS:
        return True
    stated = [date.fromisoformat(d) for d in dates(text) if len(d) == 10 and d[:4].isdigit()]
    if stated and max(stated) < today - timedelta(days=BACKGROUND_DAYS):
        return True  # "On May 1, 2025, the Governor signed HB 5" on a page in November 2026
    since = _SINCE_RE.search(text)
    if since:
        when = _read_date(since.group(1).rstrip(","))
        return bool(when) and date.fromisoformat(when) < today
    return False


_SINCE_RE = re.compile(r"\bsince\s+((jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{1,2},?\s+\d{4}|"
                       r"\d{1,2}/\d{1,2}/\d{4}|\d{4}-\d\d-\d\d)", re.I)


def on_agenda(block: Block, reading: Reading, label: str = "") -> Reading:
    """On an agenda or a hearing notice, what is listed will be discussed, not yet decided; unless the item records
    its vote ("was approved ... on a 10-1 vote"). `label`: the operator's name for the source, which says nothing
    of the page."""
    if reading.event == "enacted" and reading.action and not (reading.action.actor == "executive") and \
            reading.action.vote is None and any(AGENDA_RE.search(c) for c in block.context[:2] if c != label):
        return Reading("introduced", f"on an agenda: {reading.phrase}", reading.action)
    return reading


def list_heading_event(block: Block, headings: tuple[str, ...], jurisdiction: str) -> Reading:
    """A row under "Ordinances Introduced" or "Bills Signed", an item of a feed of "Rules adopted", takes its event
    from what the list says its items are."""
    if block.tag not in ("tr", "li", "dd", "dt", "p", "item"):
        return NOTHING
    for heading in headings:
        if SCHEDULE_HEADING_RE.match(heading):  # a substance added to a schedule's own list: scheduled, in force
            listed = Action(heading, ("rule-adoption", "rule-effective"), phrases=(heading,))
            return Reading("enacted", f"listed under '{heading}'", listed)
        if len(heading) <= 160 and LIST_HEADING_RE.search(heading):
            reading = read_text(heading, jurisdiction)
            outcomes = {e for e in action_events(reading.action) if e in ("enacted", "failed", "passed")}
            if len(outcomes) > 1:
                return NOTHING  # "Bills Signed and Vetoed": the heading does not say which each item is
            if reading.event and reading.event != "notable":
                return Reading(reading.event, f"listed under '{heading}'", reading.action)
    return NOTHING


def modified_event(reading: Reading, old_reading: Reading, old: Block, new: Block) -> Reading:
    """A block edited in place (a status cell, an item, a paragraph): news when its stage word is new or a value
    it states moved."""
    if reading.event and (reading.event != old_reading.event or _new_phrase(reading.phrase, old.text)):
        return reading
    if reading.event is None and reading.action is not None and reading.action.classified and \
            any(_new_phrase(p, old.text) for p in reading.action.phrases):
        return NOTHING  # the edit is a step that moves no stage ("continued to March 24", "sponsors added")
    if old.text == new.text:
        moved = [k for k in STATUS_FIELDS if str(old.fields.get(k)) != str(new.fields.get(k))]
        return Reading(reading.event or "amended", reading.phrase or f"{', '.join(moved)} changed") if moved \
            else NOTHING
    added = _new_words(old.text, new.text)
    if not added:
        return NOTHING
    label = new.context[0] if new.tag == "dd" and new.context else ""
    if dates(old.text) != dates(new.text) and (SUBSTANTIVE_DATE_RE.search(new.text) or VALUE_LABEL_RE.search(label)) \
            and not NOT_SUBSTANTIVE_RE.search(new.text + " " + label):
        return Reading("amended", f"date changed{f' ({label})' if label else ''}")
    if all(w.isdigit() for w in added):
        if (QUANTITY_RE.search(new.text) or VALUE_LABEL_RE.search(label)) and \
                not NOT_SUBSTANTIVE_RE.search(new.text + " " + label):
            return Reading("amended", f"value changed: {_values(old.text)} -> {_values(new.text)}")
        return NOTHING
    if reading.event or only_noise(new.text) or _substance(old.text) == _substance(new.text):
        return NOTHING  # the same status or the same rule re-worded (a redesign, a copy-edit) is not news
    if RESTRICTIVE_RE.search(new.text) or PERMISSIVE_RE.search(new.text):
        return Reading("amended", "text changed")
    return Reading("mention", "changed")


def _values(text: str) -> str:
    return ", ".join(m.group(0) for m in QUANTITY_RE.finditer(text)) or ", ".join(re.findall(r"\d+(?:\.\d+)?", text))


def _new_phrase(phrase: str, old_text: str) -> bool:
    """Whether the phrase that gave the event is new wording, dates aside ("Beginning July 1" vs "April 1")."""
    def plain(text: str) -> str:
        return " ".join(words(DATE_RE.sub(" ", text)))
    return plain(phrase) not in plain(old_text)


def _substance(text: str) -> Counter:
    """The numbers and the words that carry a rule's force ("must", "not", "21", "prohibited"), counted."""
    text = CONTRACTIONS_RE.sub(" not", text).replace("cannot", "can not")
    return Counter(m.group(0).lower() for m in SUBSTANCE_RE.finditer(text))


def _new_words(old: str, new: str) -> list[str]:
    old_words = set(re.findall(r"\w+", old.lower()))
    return [w for w in re.findall(r"\w+", new.lower()) if w not in old_words]


def only_noise(text: str) -> bool:
    """A stamp, a counter or a countdown, with no stage word."""
    return bool(NOT_SUBSTANTIVE_RE.search(text)) and len(text) < 200 and read_text(text, "").event is None


def dates(text: str) -> frozenset:
    """Dates in any spelling, normalised to ISO where they can be read (so "02/26/2026" == "Feb 26, 2026")."""
    out = set()
    for m in DATE_RE.finditer(text):
        parsed = _read_date(m.group(0))
        out.add(parsed or m.group(0).lower())
    return frozenset(out)


def _read_date(text: str) -> str | None:
    for fmt in ("%m/%d/%Y", "%m/%d/%y", "%Y-%m-%d", "%b %d, %Y", "%B %d, %Y", "%b %d %Y", "%B %d %Y", "%d %B %Y",
                "%d %b %Y", "%b. %d, %Y", "%m-%d-%Y", "%m.%d.%Y"):
        try:
            return datetime.strptime(text.strip(), fmt).date().isoformat()
        except ValueError:
            continue
    return None


def parse_date(value) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None
