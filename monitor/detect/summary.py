"""The one-line summary of a finding: what happened, to which measure, where, and the evidence.

"Florida CS/SB 1180 (Kratom Products) passed the Senate 37-1: 02/26/2026 Senate CS passed; YEAS 37 NAYS 1", not
"page changed".
"""
from __future__ import annotations

import re

from ..config import Source
from ..jurisdictions import jurisdiction_name
from ..models import Block
from .measures import find_measure, measure_key
from .vocabulary import CHAMBER_RE

SUMMARY_CHARS = 240
_EVENT_PHRASE = {
    "introduced": "was introduced", "advanced": "advanced", "passed": "passed the legislature",
    "enacted": "was enacted", "failed": "failed", "amended": "was amended", "mention": "kratom text changed",
}
_EVENT_NOUN = {"introduced": "proposal or filing", "advanced": "measure advanced", "passed": "measure passed",
               "enacted": "enacted or in force", "failed": "measure failed or withdrawn", "amended": "text amended"}
_CHANGE_WORD = {"added": "added", "removed": "removed", "modified": "changed"}
_VOTE_RE = re.compile(r"\b(?:yeas?|ayes?|yes)\s*[:\-]?\s*(\d+)\s*[,;]?\s*(?:nays?|noes|no)\s*[:\-]?\s*(\d+)", re.I)


def summarize(source: Source, block: Block, change: str, event: str, measure: str | None) -> str:
    """`block` is the finding's lead block, `change` how it changed (added, removed, modified)."""
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
    if event == "mention":
        phrase = f"kratom text {_CHANGE_WORD[change]}"
    elif event in ("advanced", "passed"):
        action = str(fields.get("status") or block.text)
        chamber = CHAMBER_RE.search(action)
        vote = _VOTE_RE.search(action)
        if re.search(r"\bpassed\b", action, re.I) and chamber and event == "advanced":
            phrase = f"passed the {chamber.group(1).title()}"
        if vote:
            phrase += f" {vote.group(1)}-{vote.group(2)}"
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
