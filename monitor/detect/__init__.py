"""Is a change about kratom's legal status, and what is it? Diff in, Findings out.

Relevance is judged per block: a block is about kratom when its own text names kratom, or when it stands under a
heading, caption or page title that does AND it records a legal-status event (a history row "Passed; YEAS 37 NAYS
1" names nothing, but where it stands it is a kratom bill passing). On a page of many bills only the rows that name
kratom count. A kratom block whose only change is a counter or a "last updated" date is noise.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from typing import Iterable, Sequence

from ..config import Source
from ..extract.text import words
from ..models import Block, Diff, Finding, Page, severity_rank
from .measures import find_measure, measure_key
from .summary import item_jurisdiction, summarize
from .vocabulary import (AGENDA_RE, CHAMBER_RE, CONTRACTIONS_RE, CORRECTION_RE, DATE_RE, DEFAULT_SEVERITY,
                         EVENT_PATTERNS, EVENT_RANK, FEDERAL_PROPOSAL_RE, KRATOM_RE, LEADING_DATE_RE, LIST_HEADING_RE,
                         NEGATED_RE, NOT_SUBSTANTIVE_RE, PERMISSIVE_RE, PROPOSAL_RE, QUANTITY_RE, RESTRICTIVE_RE,
                         SCHEDULE_HEADING_RE, STATUS_FIELDS, SUBSIDIARY_ACTION_RE, SUBSTANCE_RE, SUBSTANTIVE_DATE_RE,
                         SUBSTANTIVE_ENACTED_RE, TABLED_RE, WESTMINSTER)


@dataclass(frozen=True)
class Judgement:
    """Why one changed block counts: its event, the kratom terms it or its context names, its measure."""

    change: str  # added | removed | modified
    block: Block
    event: str
    phrase: str
    terms: tuple[str, ...]
    context: str  # the context text that made it relevant, when the block itself names nothing
    measure: str | None
    old: Block | None = None


def kratom_terms(text: str) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for m in KRATOM_RE.finditer(text):
        seen.setdefault(re.sub(r"\s+", " ", m.group(0).lower()), None)
    return tuple(seen)


def classify(text: str, jurisdiction: str = "") -> tuple[str | None, str]:
    """The furthest legal-status event `text` records, and the phrase that shows it; (None, "") if none."""
    text = NEGATED_RE.sub(" ", SUBSIDIARY_ACTION_RE.sub(" ", LEADING_DATE_RE.sub("", text)))
    if jurisdiction[:2] in WESTMINSTER:
        text = TABLED_RE.sub("introduced", text)
    best: tuple[str, str] | None = None
    for event, pattern in EVENT_PATTERNS.items():
        matches = list(pattern.finditer(text))
        if not matches:
            continue
        if event == "enacted" and PROPOSAL_RE.search(text) and \
                all(SUBSTANTIVE_ENACTED_RE.search(m.group(0)) for m in matches):
            event = "introduced"  # "notice of intent to place ... in Schedule I" is a proposal, never a ban
        if best is None or EVENT_RANK[event] > EVENT_RANK[best[0]]:
            best = (event, matches[0].group(0))
    return best if best else (None, "")


def structured_event(block: Block, today: date, jurisdiction: str = "") -> tuple[str | None, str]:
    """Events that structured sources state as data rather than prose."""
    fields = block.fields
    fr_type = fields.get("type")
    if fields.get("schema") == "federal_register" and fr_type:
        if CORRECTION_RE.search(str(fields.get("title") or block.text)):
            return "amended", "correction"  # corrects a document already published; schedules nothing new
        if fr_type == "Rule":
            effective = _parse_date(fields.get("effective_on"))
            if effective and effective > today:
                return "passed", f"Rule effective {effective.isoformat()}"
            return "enacted", "Rule" + (f" effective {effective.isoformat()}" if effective else "")
        if fr_type == "Proposed Rule":
            event, phrase = classify(block.text, jurisdiction)
            return ("failed", phrase) if event == "failed" else ("introduced", "Proposed Rule")
        return classify(block.text, jurisdiction)
    if fields.get("event"):
        return str(fields["event"]), str(fields.get("status") or fields["event"])
    return classify(block.text, jurisdiction)


def detect(source: Source, diff: Diff, now: datetime, page: Page | None = None) -> list[Finding]:
    """Judge every changed block, group them by measure, and make one Finding per measure.

    `page` is the whole new page: a bill passing its second chamber reads "Passed" like its first, and only the
    other rows tell the two apart; a page listing many bills gives none of them its title's topic.
    """
    today = now.date()
    page = page or Page(blocks=())
    page_measure = source.measure or next((m for c in page.page_context if (m := find_measure(c))), None)
    scope = _Scope(page.page_context, _is_list_page(page.blocks), page_measure)
    echoes = _echo_signatures(diff, source.jurisdiction)
    judged = [j for j in _judge_all(source, diff, today, scope) if j is not None and not _is_echo(j, echoes)]
    if any(j.event == "advanced" for j in judged):
        passages = _passages(page.blocks)
        judged = [_second_chamber(j, passages) for j in judged]
    groups: dict[str, list[Judgement]] = {}
    for j in judged:
        # a feed or API item is a finding of its own: Tennessee's and Georgia's "HB 1649" are different bills
        item = j.block.fields.get("id")
        groups.setdefault(f"item:{item}" if item else measure_key(j.measure), []).append(j)
    return [_finding(source, group) for group in groups.values()]


@dataclass(frozen=True)
class _Scope:
    page_context: tuple[str, ...]
    list_page: bool
    page_measure: str | None  # the measure the page is about: the operator's `measure`, else its heading's


def _is_list_page(blocks: Sequence[Block]) -> bool:
    """A page whose rows or items start with three or more different bill numbers lists many measures."""
    starts = {measure_key(m) for b in blocks if b.tag in ("tr", "li", "dd", "p") and (m := _leading_measure(b.text))}
    return len(starts) >= 3


def _leading_measure(text: str) -> str | None:
    """The bill number a row starts with ("HB 1649 Kratom; ..."), not one cited after a date."""
    head = text.split()[:3]
    if not head or DATE_RE.match(head[0]):
        return None
    return find_measure(" ".join(head))


@dataclass(frozen=True)
class _Echo:
    """A row that vanished: a redesign re-renders old history rows ("02/26/2026 Senate Passed" becomes "Feb 26,
    2026 S PASSED"), it does not add new ones. Same dates and the same event or mostly the same words."""

    dates: frozenset
    event: str | None
    words: frozenset


def _echo_signatures(diff: Diff, jurisdiction: str) -> list[_Echo]:
    out = []
    for block in diff.removed:
        dates = _dates(block.text)
        if dates:
            out.append(_Echo(dates, classify(block.text, jurisdiction)[0], _plain_words(block.text)))
    return out


def _is_echo(j: Judgement, echoes: list[_Echo]) -> bool:
    if j.change != "added" or not echoes:
        return False
    dates, plain = _dates(j.block.text), _plain_words(j.block.text)
    return any(e.dates == dates and (e.event == j.event or _overlap(e.words, plain) >= 0.5) for e in echoes)


def _plain_words(text: str) -> frozenset:
    return frozenset(w for w in words(DATE_RE.sub(" ", text)) if len(w) > 1 and not w.isdigit())


def _overlap(a: frozenset, b: frozenset) -> float:
    return len(a & b) / len(a | b) if a | b else 1.0


def _dates(text: str) -> frozenset:
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


def _judge_all(source: Source, diff: Diff, today: date, scope: _Scope) -> Iterable[Judgement | None]:
    for block in diff.added:
        yield _judge(source, "added", block, None, today, scope)
    for old, new in diff.modified:
        yield _judge(source, "modified", new, old, today, scope)
    for block in diff.removed:
        yield _judge(source, "removed", block, None, today, scope)


def _judge(source: Source, change: str, block: Block, old: Block | None, today: date,
           scope: _Scope) -> Judgement | None:
    terms = kratom_terms(block.text) or (kratom_terms(old.text) if old else ())
    context = "" if terms else _kratom_context(source, block, scope)
    if not terms and not context:
        return None
    measure = _measure(source, block, by_context=bool(context))
    if change == "removed":
        if not terms:
            return None  # a history row vanishing from a kratom page is a site glitch, not a legal event
        return Judgement(change, block, "mention", "removed", terms, "", measure)
    event, phrase = structured_event(block, today, source.jurisdiction)
    if old is not None:
        event, phrase = _modified_event(source, event, phrase, old, block, today, measure)
        if event is None:
            return None
    if event == "enacted" and SUBSTANTIVE_ENACTED_RE.search(phrase) and \
            any(AGENDA_RE.search(c) for c in block.context[:2]):
        event, phrase = "introduced", f"on an agenda: {phrase}"  # to be discussed, not yet decided
    if event is None and terms:
        event, phrase = _list_heading_event(block, source.jurisdiction)
    if event is None:
        if not terms or _only_noise(block.text):
            return None
        event, phrase = "mention", "added"
    if context and event == "mention":
        return None
    return Judgement(change, block, event, phrase, terms, context, measure, old)


def _list_heading_event(block: Block, jurisdiction: str) -> tuple[str | None, str]:
    """A row under "Ordinances Introduced" or "Bills Signed" takes its event from that heading."""
    if block.fields or block.tag not in ("tr", "li", "dd", "dt", "p"):
        return None, ""
    for heading in block.context[:3]:
        if SCHEDULE_HEADING_RE.match(heading):
            return "enacted", f"listed under '{heading}'"  # a substance added to a schedule's list is scheduled
        if len(heading) <= 80 and LIST_HEADING_RE.search(heading):
            event, _ = classify(heading, jurisdiction)
            if event:
                return event, f"listed under '{heading}'"
    return None, ""


_PASSED_RE = re.compile(r"\bpassed\b", re.I)


def _passages(page: Sequence[Block]) -> dict[tuple, dict[str, str]]:
    """Chambers each measure's rows say it passed, by (nearest context, leading measure): block key -> chamber."""
    out: dict[tuple, dict[str, str]] = {}
    for block in page:
        if _PASSED_RE.search(block.text) and (chamber := CHAMBER_RE.search(block.text)):
            where = (block.context[:1], measure_key(_leading_measure(block.text)))
            out.setdefault(where, {})[block.key] = chamber.group(1).lower()
    return out


def _second_chamber(j: Judgement, passages: dict[tuple, dict[str, str]]) -> Judgement:
    """"Passed" in one chamber after the other chamber's "Passed" row is passage of both: event `passed`."""
    if j.event != "advanced" or not _PASSED_RE.search(j.block.text):
        return j
    chamber = CHAMBER_RE.search(j.block.text)
    if not chamber:
        return j
    here = chamber.group(1).lower()
    rows = passages.get((j.block.context[:1], measure_key(_leading_measure(j.block.text))), {})
    other = next((c for key, c in rows.items() if key != j.block.key and c != here), None)
    if other is None:
        return j
    return Judgement(j.change, j.block, "passed", f"passed {here} after {other}", j.terms, j.context, j.measure,
                     j.old)


def _kratom_context(source: Source, block: Block, scope: _Scope) -> str:
    """The context text that names kratom, for page blocks only: a feed or API item must name kratom itself.

    On a page listing many bills, a row that starts with its own bill number takes its topic from a nearer heading
    or caption, never from the page's title: "HB 12 Fishing licenses" under "Kratom and other bills" is not kratom.
    """
    if block.fields:
        return ""
    own = _leading_measure(block.text)
    # A row that starts with another bill's number (a list page, a "Related Bills" table) is that bill's row.
    foreign = bool(own) and (scope.list_page or (bool(scope.page_measure) and
                                                 measure_key(own) != measure_key(scope.page_measure)))
    for text in block.context:
        if foreign and text in scope.page_context:
            continue
        if KRATOM_RE.search(text):
            return text
    return ""


def _modified_event(source: Source, event: str | None, phrase: str, old: Block, new: Block, today: date,
                    measure: str | None) -> tuple[str | None, str]:
    old_event, _ = structured_event(old, today, source.jurisdiction)
    if event and (event != old_event or _new_phrase(phrase, old.text)):
        return event, phrase  # a new stage, or a new step within one ("second reading" -> "passed")
    if old.text == new.text:
        moved = [k for k in STATUS_FIELDS if str(old.fields.get(k)) != str(new.fields.get(k))]
        return ((event or "amended"), phrase or f"{', '.join(moved)} changed") if moved else (None, "")
    added = _new_words(old.text, new.text)
    if not added:
        return None, ""
    if _dates(old.text) != _dates(new.text) and SUBSTANTIVE_DATE_RE.search(new.text) and \
            not NOT_SUBSTANTIVE_RE.search(new.text):
        return "amended", "date changed"
    if all(w.isdigit() for w in added):
        if QUANTITY_RE.search(new.text) and not NOT_SUBSTANTIVE_RE.search(new.text):
            return "amended", "threshold changed"
        return None, ""
    if event or _only_noise(new.text) or _substance(old.text) == _substance(new.text):
        return None, ""  # the same status or the same rule re-worded (a redesign, a copy-edit) is not news
    # The wording of a measure or of a rule's scope changed: the law's substance moved.
    if measure or RESTRICTIVE_RE.search(new.text) or PERMISSIVE_RE.search(new.text):
        return "amended", "text changed"
    return "mention", "changed"


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


def _only_noise(text: str) -> bool:
    return bool(NOT_SUBSTANTIVE_RE.search(text)) and len(text) < 200 and not any(
        p.search(text) for p in EVENT_PATTERNS.values())


def _measure(source: Source, block: Block, by_context: bool) -> str | None:
    """The block's measure. A row relevant only by where it stands belongs to the page's measure, even when it
    names a companion bill ("Substituted for CS/HB 1003"); a row that names kratom itself names its own."""
    if block.fields.get("measure"):
        return str(block.fields["measure"])
    own = find_measure(block.text)
    if own and not by_context:
        return own
    if source.measure:
        return source.measure
    for text in block.context:
        found = find_measure(text)
        if found:
            return found
    return own


def _finding(source: Source, group: list[Judgement]) -> Finding:
    lead = max(group, key=lambda j: (EVENT_RANK[j.event], j.change != "removed"))
    event = lead.event
    texts = " ".join(j.block.text for j in group)
    severity = DEFAULT_SEVERITY[event]
    if event == "introduced" and item_jurisdiction(source, lead.block) == "US" and (
            FEDERAL_PROPOSAL_RE.search(texts) or lead.block.fields.get("type") == "Proposed Rule"):
        severity = "high"  # a federal scheduling proposal moves markets nationwide
    measure = _best_measure(source, group)
    return Finding(
        event=event,
        severity=severity,
        summary=summarize(source, lead.block, lead.change, event, measure),
        added=tuple(j.block.text for j in group if j.change in ("added", "modified")),
        removed=tuple((j.old or j.block).text for j in group if j.change in ("removed", "modified")),
        direction=_direction(texts + " " + " ".join(lead.block.context[:2])),
        measure=measure,
        jurisdiction=lead.block.fields.get("jurisdiction"),
        url=lead.block.fields.get("_url"),
        explanation={
            "event_phrase": lead.phrase,
            "blocks": [{
                "change": j.change, "text": j.block.text[:500], "event": j.event, "phrase": j.phrase,
                "kratom_terms": list(j.terms), "context": j.context[:300],
                "why": (f"names {', '.join(j.terms)}" if j.terms else f"stands under '{j.context[:120]}'"),
            } for j in group[:20]],
        },
    )


def _best_measure(source: Source, group: list[Judgement]) -> str | None:
    """The fullest spelling of the group's measure ("CS/SB 1180" over "SB 1180")."""
    candidates = [j.measure for j in group if j.measure]
    if source.measure:
        candidates.append(source.measure)
    return max(candidates, key=len) if candidates else None


def _direction(text: str) -> str:
    """Restrictive (ban, scheduling, age limit, cap), permissive (repeal, consumer protection act) or neutral."""
    restrictive = len(RESTRICTIVE_RE.findall(text))
    permissive = len(PERMISSIVE_RE.findall(text))
    if restrictive > permissive:
        return "restrictive"
    if permissive > restrictive:
        return "permissive"
    return "neutral"


def coming_into_force(source: Source, blocks: Sequence[Block], since: date, today: date) -> list[Finding]:
    """Federal Register rules already seen whose effective date came after `since` and by `today`: the day a
    scheduling takes effect is news of its own, though nothing in the data changed."""
    out = []
    for block in blocks:
        fields = block.fields
        effective = _parse_date(fields.get("effective_on"))
        if fields.get("schema") != "federal_register" or fields.get("type") != "Rule" or not effective or \
                not since < effective <= today or not kratom_terms(block.text) or \
                CORRECTION_RE.search(str(fields.get("title") or "")):
            continue
        out.append(Finding(
            event="enacted", severity=DEFAULT_SEVERITY["enacted"],
            summary=summarize(source, block, "modified", "enacted", fields.get("measure")),
            added=(block.text,), removed=(), direction=_direction(block.text), measure=fields.get("measure"),
            jurisdiction=fields.get("jurisdiction"), url=fields.get("_url"),
            explanation={"event_phrase": f"effective {effective.isoformat()}", "blocks": [{
                "change": "in force", "text": block.text[:500], "event": "enacted",
                "phrase": f"effective_on {effective.isoformat()} has come", "kratom_terms": list(kratom_terms(block.text)),
                "context": "", "why": f"names {', '.join(kratom_terms(block.text))}"}]}))
    return out


def _parse_date(value) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def passes_threshold(finding: Finding, min_severity: str) -> bool:
    return severity_rank(finding.severity) >= severity_rank(min_severity)
