"""The one-line summary of a finding: what happened, to which measure, where, and the evidence.

"Florida CS/SB 1180 (Kratom Products) passed the Senate 37-1: 02/26/2026 Senate CS passed; YEAS 37 NAYS 1", not
"page changed".
"""
from __future__ import annotations

from ..config import Source
from ..jurisdictions import jurisdiction_name
from ..models import Block
from ..extract.measures import find_measure, measure_key
from .vocabulary import CHAMBER_RE

SUMMARY_CHARS = 240
_EVENT_PHRASE = {
    "introduced": "was introduced", "advanced": "advanced", "passed": "passed the legislature",
    "enacted": "was enacted", "failed": "failed", "amended": "was amended", "mention": "kratom text changed",
    "unclassified": "has a new action no rule classifies",
}
_NOTABLE_PHRASE = {"committee-hearing": "has a committee hearing set", "committee-hearing-cancelled":
                   "had its committee hearing cancelled", "executive-veto-line-item": "had items vetoed"}
_ACTOR_NAME = {"upper": "the Senate", "lower": "the House", "legislature": "the legislature",
               "executive": "the executive", "council": "the council"}
_EVENT_NOUN = {"introduced": "proposal or filing", "advanced": "measure advanced", "passed": "measure passed",
               "enacted": "enacted or in force", "failed": "measure failed or withdrawn", "amended": "text amended",
               "unclassified": "a change no rule classifies"}
_CHANGE_WORD = {"added": "added", "removed": "removed", "modified": "changed"}


def summarize(source: Source, block: Block, change: str, event: str, measure: str | None, action=None) -> str:
    """`block` is the finding's lead block, `change` how it changed (added, removed, modified), `action` what its
    text was read as (actions.Action): its chamber and vote say what happened, "SB 150 failed in the Senate 19-21"."""
    fields = block.fields
    where = jurisdiction_name(item_jurisdiction(source, block))
    evidence = str(fields.get("status") or fields.get("title") or block.text)  # a bill's title is in its subject
    if fields.get("schema") == "federal_register":
        agency = fields.get("agency") or "Federal Register"
        kind = str(fields.get("type") or "document").lower()
        since = f" since {fields['effective_on']}" if fields.get("effective_on") else ""
        detail = {"enacted": f"{kind} in force{since}",
                  "passed": f"{kind} adopted, effective {fields.get('effective_on')}",
                  "introduced": f"{kind} published", "failed": f"{kind} withdraws a measure"}.get(event, kind)
        head, tail = f"{agency} {detail} ({event}): ", f" [FR {fields.get('document_number', '')}]"
        return _one_line(head + _clip(evidence, SUMMARY_CHARS - len(head) - len(tail)) + tail)
    if fields.get("schema") == "feed":  # the item's title says what happened; the feed is where
        lead = {"added": "New item in", "removed": "Item withdrawn from"}.get(change, "Item changed in")
        return _one_line(f"{lead} {source.title} ({'' if event == 'mention' else event + ', '}{where}): {evidence}")
    subject = _subject(source, block, measure)
    if subject is None:  # no measure to name: say what happened on which page
        noun = _EVENT_NOUN[event] if event != "mention" else f"kratom text {_CHANGE_WORD[change]}"
        return _one_line(f"{source.title}: {noun} ({where}): {evidence}")
    phrase = _EVENT_PHRASE[event]
    notable = set(action.classes) & _NOTABLE_PHRASE.keys() if action is not None else set()
    if notable and not set(action.classes) - _NOTABLE_PHRASE.keys():
        phrase = _NOTABLE_PHRASE[sorted(notable)[0]]  # a hearing moves no stage: say what it is
    elif event == "mention":
        phrase = f"kratom text {_CHANGE_WORD[change]}"
    elif event in ("advanced", "passed", "failed") and action is not None:
        text = str(fields.get("status") or block.text)
        chamber = CHAMBER_RE.search(text)
        where_acted = f"the {chamber.group(1).title()}" if chamber else _ACTOR_NAME.get(action.actor or "", "")
        if event == "advanced" and "passage" in action.classes and where_acted:
            phrase = f"passed {where_acted}"
        elif event == "failed" and where_acted and action.actor in ("upper", "lower"):
            phrase = f"failed in {where_acted}"
        if action.vote:
            phrase += f" {action.vote}"
    place = "" if where in subject else f" ({where})"
    return _one_line(f"{subject} {phrase}{place}: {evidence}")


def _subject(source: Source, block: Block, measure: str | None) -> str | None:
    """How to name the measure: the operator's name when it is about this measure, else the number and a topic."""
    if not measure:
        return None
    name = source.name
    named = find_measure(name) if name else None
    if named and measure_key(named) == measure_key(measure):
        return name
    topic = next((c for c in block.context if measure_key(measure) in measure_key(c) and len(c) < 120), "")
    topic = topic.split(":", 1)[1].strip() if ":" in topic else ""
    return f"{measure} ({topic})" if topic else measure


def item_jurisdiction(source: Source, block: Block) -> str:
    """The item's own jurisdiction (a bill from a fifty-state search), else the source's."""
    return str(block.fields.get("jurisdiction") or source.jurisdiction)


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:max(0, limit - 1)] + "…"


def _one_line(text: str) -> str:
    return _clip(text, SUMMARY_CHARS)
