"""Is a change about kratom's legal status, and what is it? Diff in, Findings out.

Relevance is judged per block: a block is about kratom when its own text names kratom, or when it stands under a
heading, caption or page title that does AND it records a legal-status event (a history row "Passed; YEAS 37 NAYS
1" names nothing, but where it stands it is a kratom bill passing). On a page of many bills only the rows that name
kratom count. A kratom block whose only change is a counter or a "last updated" date is noise.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Iterable

from ..config import Source
from ..jurisdictions import jurisdiction_name
from ..models import Block, Diff, Finding, severity_rank
from .measures import find_measure, measure_key
from .vocabulary import (DATE_RE, DEFAULT_SEVERITY, EVENT_PATTERNS, EVENT_RANK, FEDERAL_PROPOSAL_RE, KRATOM_RE,
                         NOT_SUBSTANTIVE_RE, PERMISSIVE_RE, PROPOSAL_RE, QUANTITY_RE, RESTRICTIVE_RE,
                         SUBSIDIARY_ACTION_RE, SUBSTANTIVE_DATE_RE, SUBSTANTIVE_ENACTED_RE)

EVIDENCE_CHARS = 160


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


def classify(text: str) -> tuple[str | None, str]:
    """The furthest legal-status event `text` records, and the phrase that shows it; (None, "") if none."""
    text = SUBSIDIARY_ACTION_RE.sub(" ", text)
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


def structured_event(block: Block, today: date) -> tuple[str | None, str]:
    """Events that structured sources state as data rather than prose."""
    fields = block.fields
    fr_type = fields.get("type")
    if fields.get("schema") == "federal_register" and fr_type:
        if fr_type == "Rule":
            effective = _parse_date(fields.get("effective_on"))
            if effective and effective > today:
                return "passed", f"Rule effective {effective.isoformat()}"
            return "enacted", "Rule" + (f" effective {effective.isoformat()}" if effective else "")
        if fr_type == "Proposed Rule":
            event, phrase = classify(block.text)
            return ("failed", phrase) if event == "failed" else ("introduced", "Proposed Rule")
        return classify(block.text)
    if fields.get("event"):
        return str(fields["event"]), str(fields.get("status") or fields["event"])
    return classify(block.text)


def detect(source: Source, diff: Diff, now: datetime) -> list[Finding]:
    """Judge every changed block, group them by measure, and make one Finding per measure."""
    today = now.date()
    judged = [j for j in _judge_all(source, diff, today) if j is not None]
    groups: dict[str, list[Judgement]] = {}
    for j in judged:
        groups.setdefault(measure_key(j.measure), []).append(j)
    return [_finding(source, group) for group in groups.values()]


def _judge_all(source: Source, diff: Diff, today: date) -> Iterable[Judgement | None]:
    for block in diff.added:
        yield _judge(source, "added", block, None, today)
    for old, new in diff.modified:
        yield _judge(source, "modified", new, old, today)
    for block in diff.removed:
        yield _judge(source, "removed", block, None, today)


def _judge(source: Source, change: str, block: Block, old: Block | None, today: date) -> Judgement | None:
    terms = kratom_terms(block.text) or (kratom_terms(old.text) if old else ())
    context = "" if terms else _kratom_context(source, block)
    if not terms and not context:
        return None
    if change == "removed":
        if not terms:
            return None  # a history row vanishing from a kratom page is a site glitch, not a legal event
        return Judgement(change, block, "mention", "removed", terms, "", _measure(source, block))
    event, phrase = structured_event(block, today)
    if old is not None:
        event, phrase = _modified_event(event, phrase, old, block, today)
        if event is None:
            return None
    if event is None:
        if not terms or _only_noise(block.text):
            return None
        event, phrase = "mention", "added"
    if context and event in ("mention",):
        return None
    return Judgement(change, block, event, phrase, terms, context, _measure(source, block), old)


def _kratom_context(source: Source, block: Block) -> str:
    """The context text that names kratom, for page blocks only: a feed or API item must name kratom itself."""
    if block.fields:
        return ""
    for text in block.context:
        if KRATOM_RE.search(text):
            return text
    if source.measure and KRATOM_RE.search(source.name):
        return source.name
    return ""


def _modified_event(event: str | None, phrase: str, old: Block, new: Block, today: date) -> tuple[str | None, str]:
    old_event, _ = structured_event(old, today)
    if event and event != old_event:
        return event, phrase
    if old.fields and new.fields and old.text == new.text:
        return (event or "amended"), phrase or "updated"  # a status field moved without new prose
    added = _new_words(old.text, new.text)
    if not added:
        return None, ""
    if all(w.isdigit() for w in added):
        changed_text = new.text
        if NOT_SUBSTANTIVE_RE.search(changed_text):
            return None, ""
        if (DATE_RE.search(changed_text) and SUBSTANTIVE_DATE_RE.search(changed_text)) or \
                QUANTITY_RE.search(changed_text):
            return "amended", "date or threshold changed"
        return None, ""
    if event:
        return event, phrase
    if _dates_moved(old.text, new.text) and SUBSTANTIVE_DATE_RE.search(new.text):
        return "amended", "date changed"
    return (None, "") if _only_noise(new.text) else ("mention", "changed")


def _new_words(old: str, new: str) -> list[str]:
    old_words = set(re.findall(r"\w+", old.lower()))
    return [w for w in re.findall(r"\w+", new.lower()) if w not in old_words]


def _dates_moved(old: str, new: str) -> bool:
    return {m.group(0).lower() for m in DATE_RE.finditer(old)} != {m.group(0).lower() for m in DATE_RE.finditer(new)}


def _only_noise(text: str) -> bool:
    return bool(NOT_SUBSTANTIVE_RE.search(text)) and len(text) < 200 and not any(
        p.search(text) for p in EVENT_PATTERNS.values())


def _measure(source: Source, block: Block) -> str | None:
    if block.fields.get("measure"):
        return str(block.fields["measure"])
    found = find_measure(block.text)
    if found:
        return found
    if source.measure:
        return source.measure
    for text in block.context:
        found = find_measure(text)
        if found:
            return found
    return None


def _finding(source: Source, group: list[Judgement]) -> Finding:
    lead = max(group, key=lambda j: (EVENT_RANK[j.event], j.change != "removed"))
    event = lead.event
    texts = " ".join(j.block.text for j in group)
    severity = DEFAULT_SEVERITY[event]
    if event == "introduced" and source.jurisdiction == "US" and (
            FEDERAL_PROPOSAL_RE.search(texts) or lead.block.fields.get("type") == "Proposed Rule"):
        severity = "high"  # a federal scheduling proposal moves markets nationwide
    measure = _best_measure(source, group)
    return Finding(
        event=event,
        severity=severity,
        summary=_summary(source, lead, measure),
        added=tuple(j.block.text for j in group if j.change in ("added", "modified")),
        removed=tuple((j.old or j.block).text for j in group if j.change in ("removed", "modified")),
        direction=_direction(texts + " " + " ".join(lead.block.context[:2]), event),
        measure=measure,
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


def _direction(text: str, event: str) -> str:
    restrictive = len(RESTRICTIVE_RE.findall(text))
    permissive = len(PERMISSIVE_RE.findall(text))
    if restrictive > permissive:
        return "restrictive"
    if permissive > restrictive:
        return "permissive"
    return "neutral"


_EVENT_PHRASE = {
    "introduced": "was introduced", "advanced": "advanced", "passed": "passed the legislature",
    "enacted": "was enacted", "failed": "failed", "amended": "was amended", "mention": "kratom text changed",
}
_VOTE_RE = re.compile(r"\b(?:yeas?|ayes?|yes)\s*[:\-]?\s*(\d+)\s*[,;]?\s*(?:nays?|noes|no)\s*[:\-]?\s*(\d+)", re.I)
_CHAMBER_RE = re.compile(r"\b(senate|house|assembly)\b", re.I)


def _summary(source: Source, lead: Judgement, measure: str | None) -> str:
    """One line a compliance officer can act on: what, which measure, where, and the evidence."""
    block, event = lead.block, lead.event
    fields = block.fields
    where = jurisdiction_name(source.jurisdiction)
    subject = _subject(source, block, measure)
    phrase = _EVENT_PHRASE[event]
    evidence = str(fields.get("title") or block.text)
    if fields.get("schema") == "federal_register":
        agency = fields.get("agency") or "Federal Register"
        kind = str(fields.get("type") or "document").lower()
        detail = {"enacted": f"{kind} in force", "passed": f"{kind} adopted, effective {fields.get('effective_on')}",
                  "introduced": f"{kind} published", "failed": f"{kind} withdraws a measure"}.get(event, kind)
        return _one_line(f"{agency} {detail} ({event}): {evidence} [FR {fields.get('document_number', '')}]")
    if event == "mention":
        phrase = "kratom text removed" if lead.change == "removed" else "kratom text added" \
            if lead.change == "added" else "kratom text changed"
    elif event in ("advanced", "passed"):
        chamber = _CHAMBER_RE.search(block.text)
        vote = _VOTE_RE.search(block.text)
        if re.search(r"\bpassed\b", block.text, re.I) and chamber and event == "advanced":
            phrase = f"passed the {chamber.group(1).title()}"
        if vote:
            phrase += f" {vote.group(1)}-{vote.group(2)}"
    return _one_line(f"{subject} {phrase} ({where}): {evidence}")


def _subject(source: Source, block: Block, measure: str | None) -> str:
    name = source.name
    if measure and name and measure_key(measure) in measure_key(name):
        return name
    if measure:
        topic = next((c for c in block.context if measure_key(measure) in measure_key(c) and len(c) < 120), "")
        topic = topic.split(":", 1)[1].strip() if ":" in topic else name
        return f"{measure} ({topic})" if topic else measure
    return name or source.id


def _one_line(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 240 else text[:239] + "…"


def _parse_date(value) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def passes_threshold(finding: Finding, min_severity: str) -> bool:
    return severity_rank(finding.severity) >= severity_rank(min_severity)
