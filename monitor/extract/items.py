"""What every structured kind (feed, Federal Register, LegiScan, Open States) shares: one item -> one Block.

An item's block is keyed by the item's own identity and carries `fields` with an "id", which makes diff compare
items by identity (new id = added, changed text or fields = modified). Text is what relevance is judged on, so
it holds what the item itself says (title, description, status), never the surrounding feed or search. Fields
whose key starts with "_" are not compared: the item's link ("_url", which alerts point to, and which CMSs
re-decorate), its date in a feed, LegiScan's change_hash.
"""
from __future__ import annotations

import json
import re
from typing import Any, Iterable, Mapping

from ..jurisdictions import US_STATES
from ..models import Block
from .text import clean

MAX_ITEM_CHARS = 6000
MAX_TOPIC_CHARS = 100
# A bill's stages in order; "failed" stands apart (a step forward after a failure revives the bill).
BILL_STAGES = ("introduced", "advanced", "passed", "enacted")
_BILL_NUMBER_RE = re.compile(r"^([A-Za-z]+)\s*0*(\d+)$")


def load_object(body: bytes) -> dict[str, Any]:
    """A JSON object from a response body (UTF-8/16/32 detected by json). Raises ValueError otherwise."""
    data = json.loads(body)
    if not isinstance(data, dict):
        raise ValueError(f"expected a JSON object, got a JSON {type(data).__name__}")
    return data


def item_block(item_id: str, parts: Iterable[Any], fields: Mapping[str, Any], topic: str = "") -> Block:
    """One item as a Block: text from its distinct non-empty parts, fields without empty values. `topic` (a
    bill's "HB 1649: title") is its context, which summaries name it by; relevance ignores it."""
    texts: list[str] = []
    for part in parts:
        text = clean(str(part or ""))
        if text and text not in texts:
            texts.append(text)
    context = (topic if len(topic) <= MAX_TOPIC_CHARS else topic[:MAX_TOPIC_CHARS - 1] + "…",) if topic else ()
    return Block(key=item_id, text=" — ".join(texts)[:MAX_ITEM_CHARS], context=context, tag="item",
                 fields={"id": item_id, **{k: v for k, v in fields.items() if v not in (None, "", [], {})}})


def unique(blocks: Iterable[Block]) -> tuple[Block, ...]:
    """The first item of each identity: a response listing one id twice must not read as a change."""
    seen: dict[str, Block] = {}
    for block in blocks:
        seen.setdefault(block.key, block)
    return tuple(seen.values())


def bill_number(identifier: str) -> str:
    """"HB1649" and "HB 01649" -> "HB 1649", the spelling detect and the alerts use."""
    m = _BILL_NUMBER_RE.match(identifier.strip())
    return f"{m.group(1).upper()} {int(m.group(2))}" if m else clean(identifier)


def us_jurisdiction(state: str) -> str:
    """A state's postal code -> its ISO 3166-2 code ("TN" -> "US-TN"); Congress ("US") and unknowns -> "US"."""
    code = state.strip().upper()
    return f"US-{code}" if code in US_STATES else "US"


def furthest(events: Iterable[str | None]) -> str | None:
    """The stage a bill has reached from its events in date order: the furthest step forward, or "failed" when a
    failure (veto, defeat, withdrawal) came after its last step forward. Enactment is final."""
    best: str | None = None
    failed = False
    for event in events:
        if event == "failed":
            failed = True
        elif event in BILL_STAGES:
            failed = False
            if best is None or BILL_STAGES.index(event) > BILL_STAGES.index(best):
                best = event
    if best == "enacted":
        return best
    return "failed" if failed else best
