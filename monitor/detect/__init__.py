"""Is a change about kratom's legal status, and what is it? Diff in, Findings out.

The model (docs/detection.md): a page has an identity (extract/identity.py: a measure's page, a list, a
document; its measure; its topic texts). Each changed block is judged in that light (relevance.py): about kratom by
its own words, by its item's identity, or as a row of a kratom measure's page. Its text is read as an action
(actions.py: classified into the Open Civic Data taxonomy by the jurisdiction's idiom tables, with votes and actors)
or as a value that moved (events.py). The measure's stage is derived from all its actions, before and after
(stages.py), and a finding is a stage transition or a notable action, one per measure, with severity by evidence.
A kratom measure's change that no rule classifies is still reported, as `unclassified`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Iterable, Sequence

from ..config import Source
from ..extract.identity import ROW_TAGS, identify
from ..extract.measures import find_measure, measure_key
from ..extract.text import words
from ..models import Block, Diff, Finding, Page, severity_rank
from .actions import Action, read_action
from .events import (NOTHING, Reading, dates, list_heading_event, modified_event, on_agenda, only_noise,
                     parse_date, read_block)
from .relevance import Scope, foreign, kratom_context, kratom_terms, page_actor
from .severity import finding_severity
from .stages import stage_of
from .summary import summarize
from .vocabulary import CORRECTION_RE, DATE_RE, EVENT_RANK, LEADING_DATE_RE, PERMISSIVE_RE, RESTRICTIVE_RE

MAX_MEASURE_ROWS = 500  # rows read to derive a measure's stage; a history longer than this is read from its end


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
    action: Action | None = None


def detect(source: Source, diff: Diff, now: datetime, page: Page | None = None,
           previous: Sequence[Block] = ()) -> list[Finding]:
    """Judge every changed block, group them by measure, and make one Finding per measure. `page` is the whole new
    page and `previous` the blocks before: a measure's stage comes from all its rows, not from the changed ones."""
    today = now.date()
    page = page or Page(blocks=())
    scope = Scope.of(source, page.identity or identify(source, page))
    echoes = _echo_signatures(diff, source.jurisdiction, today)
    judged = [j for j in _judge_all(source, diff, today, scope) if j is not None and not _is_echo(j, echoes)]
    groups: dict[str, list[Judgement]] = {}
    for j in judged:
        # a feed or API item is a finding of its own: Tennessee's and Georgia's "HB 1649" are different bills
        item = j.block.fields.get("id")
        groups.setdefault(f"item:{item}" if item else measure_key(j.measure), []).append(j)
    stages = _Stages(source, scope, page.blocks, previous)
    return [_finding(source, scope, group, stages) for group in groups.values()]


def _judge_all(source: Source, diff: Diff, today: date, scope: Scope) -> Iterable[Judgement | None]:
    for block in diff.added:
        yield _judge(source, "added", block, None, today, scope)
    for old, new in diff.modified:
        yield _judge(source, "modified", new, old, today, scope)
    for block in diff.removed:
        yield _judge(source, "removed", block, None, today, scope)


def _judge(source: Source, change: str, block: Block, old: Block | None, today: date,
           scope: Scope) -> Judgement | None:
    terms = kratom_terms(block.text) or (kratom_terms(old.text) if old else ())
    context = "" if terms else kratom_context(block, scope)
    if not terms and not context:
        return None
    measure = _measure(source, block, scope, by_context=bool(context))
    if change == "removed":
        if not terms or _just_a_name(block.text):
            return None  # a history row vanishing is a site glitch; a menu link "Kratom" going is furniture
        return Judgement(change, block, "mention", "removed", terms, "", measure)
    actor = page_actor(block, scope)
    reading = on_agenda(block, read_block(block, today, source.jurisdiction, actor, with_time=old is None),
                        source.name)
    if old is not None:
        old_reading = read_block(old, today, source.jurisdiction, actor, with_time=False)
        reading = modified_event(reading, old_reading, old, block)
        if reading.event is None or (reading.event == "mention" and not terms):
            return None  # an edit of a row that names no kratom is news only as a stage or a value
    if reading.event is None and (terms or block.fields):
        headings = block.context[:3] if not block.fields else scope.identity.topic
        reading = list_heading_event(block, headings, source.jurisdiction) if not reading.phrase else reading
    if reading.event is None:
        reading = _unread(block, reading, terms, context, scope)
        if reading.event is None:
            return None
    return Judgement(change, block, reading.event, reading.phrase, terms, context, measure, old, reading.action)


def _mostly_known(action: Action) -> bool:
    """Whether the wording the tables know covers most of the row: "Sponsors added" is known and moves nothing;
    "Zorbled by the Quux Panel (video)" is not known because "video" is."""
    said = _plain_words(LEADING_DATE_RE.sub("", action.text, count=1))
    known = _plain_words(" ".join(action.phrases))
    return not said or len(said & known) * 3 >= len(said)


def _just_a_name(text: str) -> bool:
    """A link or label that is only a kratom name ("Kratom", "Kratom FAQ"): page furniture, not a statement."""
    return len(text) <= 40 and len(text.split()) <= 3


def _unread(block: Block, reading: Reading, terms: tuple[str, ...], context: str, scope: Scope) -> Reading:
    """A relevant block no rule gave an event. Known wording that moves no stage ("Sponsors added") and restated
    history are nothing; new kratom text of a measure's own (an import alert's scope, a rule's terms) amends it,
    elsewhere it is a mention; a kratom measure's new action in wording no table knows is `unclassified`: a weak
    alert is better than a miss."""
    if reading.phrase or (reading.action is not None and reading.action.classified and _mostly_known(reading.action)):
        return NOTHING
    if terms:
        if only_noise(block.text):
            return NOTHING
        legal = RESTRICTIVE_RE.search(block.text) or PERMISSIVE_RE.search(block.text)
        if scope.kratom_identity and not foreign(block, scope) and legal:
            return Reading("amended", "the measure's text changed")
        if legal or block.fields or any(RESTRICTIVE_RE.search(c) for c in block.context[:2]):
            return Reading("mention", "added")
        return NOTHING  # kratom named without anything legal (a testimony list, a news aside): no status news
    if _action_like(block) and not only_noise(block.text) and not _outside_history(block):
        return Reading("unclassified", "no rule classifies this action")
    return NOTHING


# Sections of a measure's page that are not its history: their rows are not actions.
_NOT_HISTORY_RE = re.compile(r"\b(co-?sponsors?|sponsors?|authors?|roll\s*calls?|votes?|documents?|versions?|texts?|"
                             r"testimony|fiscal|amendments?|members?|witness\w*|attachments?|files|videos?|minutes|"
                             r"related|committees?|hearings?|meetings?|calendars?|notes?)\b", re.I)
_FIELD_WORDS = {"date", "status", "last", "action", "updated", "time", "day", "of", "as"}
# A date in words of any language ("10 de marzo de 2026", "12. März 2026"): a few words and a year, nothing done.
_DATE_ONLY_RE = re.compile(r"^\W*(\d{1,2}\W*)?(\w+\W+){0,3}\d{4}\W*$")


def _outside_history(block: Block) -> bool:
    """A row under "Cosponsors", "Versions", "Votes": not an action. A label with a date ("Status Date
    02/10/2026") is a field, not an action either."""
    if len(_plain_words(block.text) - _FIELD_WORDS) < 2 or _DATE_ONLY_RE.match(block.text):
        return True
    return bool(block.context) and len(block.context[0]) <= 60 and bool(_NOT_HISTORY_RE.search(block.context[0]))


def _action_like(block: Block) -> bool:
    """A history row or a status line: dated, or a row of a table or list, and short."""
    return block.tag in ROW_TAGS and len(block.text) <= 400 and bool(DATE_RE.search(block.text)) and \
        len(_plain_words(block.text)) >= 2


def _measure(source: Source, block: Block, scope: Scope, by_context: bool) -> str | None:
    """The block's measure. A row relevant only by where it stands belongs to the page's measure, even when it
    names a companion bill ("Substituted for CS/HB 1003"); a row that names kratom itself names its own."""
    if block.fields.get("measure"):
        return str(block.fields["measure"])
    if block.fields:  # a feed item: its title, else its link or guid ("/documents/2026/11/20/2026-23307/...")
        return find_measure(block.text) or find_measure(str(block.fields.get("_url") or "")) or \
            find_measure(block.key)
    own = find_measure(block.text)
    if own and not by_context:
        return own
    if source.measure:
        return source.measure
    if scope.page_measure and not foreign(block, scope):
        return scope.page_measure
    for text in block.context:
        found = find_measure(text)
        if found:
            return found
    return own


# -- a measure's stage, before and after ---------------------------------------------------------------------------
class _Stages:
    """The stage of the page's measure from all its rows, on the old page and the new (read once, on demand)."""

    def __init__(self, source: Source, scope: Scope, blocks: Sequence[Block], previous: Sequence[Block]):
        self.source, self.scope = source, scope
        self._pages = {"new": blocks, "old": previous}
        self._actions: dict[str, list[Action]] = {}

    def actions(self, which: str) -> list[Action]:
        """The measure's history: its dated rows (not a digest's prose: "This act takes effect July 1" is no
        enactment), however short ("Vetoed"), read as the rows themselves are read."""
        if which not in self._actions:
            rows = [b for b in self._pages[which] if not b.fields and _history_row(b) and not foreign(b, self.scope)]
            rows = _chronological(rows)[-MAX_MEASURE_ROWS:]
            self._actions[which] = [read_action(b.text, self.source.jurisdiction, page_actor(b, self.scope))
                                    for b in rows]
        return self._actions[which]

    def stage(self, which: str) -> str | None:
        return stage_of(self.actions(which))


def _history_row(block: Block) -> bool:
    """A row of a history table or list: a tr/li/dd, or any block that starts with a date."""
    return len(block.text) <= 400 and (
        (block.tag in ("tr", "li", "dd") and bool(DATE_RE.search(block.text))) or bool(LEADING_DATE_RE.match(block.text)))


def _chronological(rows: list[Block]) -> list[Block]:
    """History tables run newest first as often as oldest first: order rows by their dates when most have one."""
    keyed = [(min(d) if (d := [x for x in dates(b.text) if x[:1].isdigit() and len(x) == 10]) else None, n, b)
             for n, b in enumerate(rows)]
    if sum(k is not None for k, _, _ in keyed) < len(rows) / 2:
        return rows
    last = ""
    ordered = []
    for k, n, b in keyed:
        last = k or last
        ordered.append((last, n, b))
    return [b for _, _, b in sorted(ordered, key=lambda t: (t[0], t[1]))]


def _finding(source: Source, scope: Scope, group: list[Judgement], stages: _Stages) -> Finding:
    lead = max(group, key=lambda j: (EVENT_RANK.get(j.event, 0), j.change != "removed"))
    event, phrase = lead.event, lead.phrase
    measure_page = scope.identity.kind == "measure" and not lead.block.fields
    before = after = None
    if measure_page and not foreign(lead.block, scope):
        before, after = stages.stage("old"), stages.stage("new")
        if event == "advanced" and after == "passed" and lead.action and "passage" in lead.action.classes:
            event, phrase = "passed", f"{phrase} (the other chamber had passed it)"
    if event == "notable":
        event = after if after in ("introduced", "advanced", "passed") else "introduced"
    texts = " ".join(j.block.text for j in group)
    severity, why = finding_severity(source, lead, event, before, texts)
    measure = _best_measure(source, group)
    actions = [j.action for j in group if j.action is not None]
    return Finding(
        event=event,
        severity=severity,
        summary=summarize(source, lead.block, lead.change, event, measure, lead.action),
        added=tuple(j.block.text for j in group if j.change in ("added", "modified")),
        removed=tuple((j.old or j.block).text for j in group if j.change in ("removed", "modified")),
        direction=_direction(texts + " " + " ".join(lead.block.context[:2])),
        measure=measure,
        jurisdiction=lead.block.fields.get("jurisdiction"),
        url=lead.block.fields.get("_url"),
        explanation={
            "event_phrase": phrase,
            "measure": {
                "id": measure, "page": scope.identity.kind,
                "identity": (lead.context or ", ".join(lead.terms))[:300],
                "previous_stage": before, "stage": after or (event if measure_page else None),
                "actions": [{"text": a.text[:300], "classification": list(a.classes), "actor": a.actor,
                             "vote": str(a.vote) if a.vote else None, "carried": a.vote.carried if a.vote else None}
                            for a in actions[:10]],
            },
            "severity_reason": why,
            "confidence": _confidence(lead),
            "blocks": [{
                "change": j.change, "text": j.block.text[:500], "event": j.event, "phrase": j.phrase,
                "kratom_terms": list(j.terms), "context": j.context[:300],
                "why": (f"names {', '.join(j.terms)}" if j.terms else f"stands under '{j.context[:120]}'"),
            } for j in group[:20]],
        },
    )


def _confidence(lead: Judgement) -> str:
    """high: the block names kratom and a rule classified it; medium: one of the two; low: neither."""
    classified = lead.event not in ("unclassified", "mention")
    return {2: "high", 1: "medium", 0: "low"}[bool(lead.terms) + classified]


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


# -- redesigns that re-render old rows -------------------------------------------------------------------------
@dataclass(frozen=True)
class _Echo:
    """A row that vanished: a redesign re-renders old history rows ("02/26/2026 Senate Passed" becomes "Feb 26,
    2026 S PASSED"), it does not add new ones. Same dates and the same event or mostly the same words."""

    dates: frozenset
    classes: frozenset
    words: frozenset


def _echo_signatures(diff: Diff, jurisdiction: str, today: date) -> list[_Echo]:
    out = []
    for block in diff.removed:
        found = dates(block.text)
        if found:
            out.append(_Echo(found, frozenset(read_action(block.text, jurisdiction).classes), _plain_words(block.text)))
    return out


def _is_echo(j: Judgement, echoes: list[_Echo]) -> bool:
    if j.change != "added" or not echoes:
        return False
    found, plain = dates(j.block.text), _plain_words(j.block.text)
    classes = frozenset(j.action.classes) if j.action else frozenset()
    # the same day's other step ("Senate passed" then "House passed") is news: an echo says the same thing
    return any(e.dates == found and ((classes and e.classes == classes) or _overlap(e.words, plain) >= 0.5)
               for e in echoes)


def _plain_words(text: str) -> frozenset:
    return frozenset(w for w in words(DATE_RE.sub(" ", text)) if len(w) > 1 and not w.isdigit())


def _overlap(a: frozenset, b: frozenset) -> float:
    return len(a & b) / len(a | b) if a | b else 1.0


# -- a rule's effective date arriving ------------------------------------------------------------------------------
def coming_into_force(source: Source, blocks: Sequence[Block], since: date, today: date) -> list[Finding]:
    """Federal Register rules already seen whose effective date came after `since` and by `today`: the day a
    scheduling takes effect is news of its own, though nothing in the data changed."""
    out = []
    for block in blocks:
        fields = block.fields
        effective = parse_date(fields.get("effective_on"))
        terms = kratom_terms(block.text)
        if fields.get("schema") != "federal_register" or fields.get("type") != "Rule" or not effective or \
                not since < effective <= today or not terms or CORRECTION_RE.search(str(fields.get("title") or "")):
            continue
        out.append(Finding(
            event="enacted", severity="critical",
            summary=summarize(source, block, "modified", "enacted", fields.get("measure")),
            added=(block.text,), removed=(), direction=_direction(block.text), measure=fields.get("measure"),
            jurisdiction=fields.get("jurisdiction"), url=fields.get("_url"),
            explanation={"event_phrase": f"effective {effective.isoformat()}",
                         "severity_reason": "a Federal Register Rule whose effective date has come",
                         "confidence": "high",
                         "measure": {"id": fields.get("measure"), "page": "list", "identity": ", ".join(terms),
                                     "previous_stage": "passed", "stage": "enacted", "actions": []},
                         "blocks": [{
                             "change": "in force", "text": block.text[:500], "event": "enacted",
                             "phrase": f"effective_on {effective.isoformat()} has come", "kratom_terms": list(terms),
                             "context": "", "why": f"names {', '.join(terms)}"}]}))
    return out


def passes_threshold(finding: Finding, min_severity: str) -> bool:
    return severity_rank(finding.severity) >= severity_rank(min_severity)

