"""Open States v3 /bills search (with include=actions) -> one block per bill, keyed by its ocd-bill id.

The stage comes from the bill's actions' classifications: introduction, referral and first reading introduce;
committee passage, second and third readings and passage in one chamber advance; passage in both chambers (or in
a unicameral legislature) and receipt by the governor pass; signature, becoming law and a veto override enact; a
veto, a failed vote, a withdrawal or an unfavourable committee report fail. The status is the action that reached
that stage, so the block changes when the bill reaches a new stage or moves within one (a committee report in the
second chamber), not on every calendar entry. Add include=abstracts for the bill summaries some states give, which
relevance can then read. The page is a "search" window: `sort=latest_action_desc` brings every bill that moved to
page 1, which is the only page read, and a bill that drops out of it is kept, not removed.
"""
from __future__ import annotations

import re
from typing import Any, Iterable, Iterator

from ..config import Source
from ..models import Block, Page
from .items import bill_number, furthest, item_block, load_object, unique, us_jurisdiction

ACTION_EVENTS = {
    "filing": "introduced", "introduction": "introduced", "reading-1": "introduced",
    "referral-committee": "introduced", "referral": "introduced",
    "reading-2": "advanced", "reading-3": "advanced", "committee-passage": "advanced",
    "committee-passage-favorable": "advanced",
    "executive-receipt": "passed",
    "executive-signature": "enacted", "became-law": "enacted", "veto-override-passage": "enacted",
    "executive-veto": "failed", "failure": "failed", "withdrawal": "failed", "committee-failure": "failed",
    "committee-passage-unfavorable": "failed", "veto-override-failure": "failed",
}
_STATE_RE = re.compile(r"/(?:state|district|territory):([a-z]{2})(?:/|$)")


def extract_openstates(source: Source, body: bytes, charset: str | None = None) -> Page:
    data = load_object(body)
    results = data.get("results")
    if not isinstance(results, list):
        detail = data.get("detail") or f"keys: {', '.join(sorted(data))}"
        return Page(blocks=(), problem="unparseable", problem_detail=f"not an Open States bill search ({detail})"[:300])
    blocks = unique(_bill(b) for b in results if isinstance(b, dict) and b.get("id"))
    return Page(blocks=blocks, title="Open States bill search", window="search")


def _bill(bill: dict) -> Block:
    actions = sorted((a for a in bill.get("actions") or () if isinstance(a, dict)),
                     key=lambda a: (str(a.get("date") or "")[:10], a.get("order") or 0))
    steps = list(_events(actions))
    event = furthest(e for _, events in steps for e in events)
    reached = next((a for a, events in reversed(steps) if event in events), None)
    if reached is not None:
        status = f"{reached.get('description')} ({str(reached.get('date') or '')[:10]})"
    else:  # no classified action (or actions not included): the latest action as the API states it
        status = bill.get("latest_action_description")
    measure = bill_number(str(bill.get("identifier") or ""))
    title = str(bill.get("title") or "")
    jurisdiction = bill.get("jurisdiction") if isinstance(bill.get("jurisdiction"), dict) else {}
    state = _STATE_RE.search(str(jurisdiction.get("id") or ""))
    abstracts = [a.get("abstract") for a in bill.get("abstracts") or () if isinstance(a, dict)]
    return item_block(str(bill["id"]), [title, *abstracts, status and f"Status: {status}"], {
        "schema": "openstates", "measure": measure, "title": title,
        "jurisdiction": us_jurisdiction(state.group(1) if state else ""), "event": event, "status": status,
        "_url": bill.get("openstates_url"),
    }, topic=f"{measure}: {title}")


def _events(actions: Iterable[dict]) -> Iterator[tuple[dict, list[str]]]:
    """Each action with the events its classifications record; passage counts as `passed` once both chambers
    (or a unicameral legislature) have passed the bill."""
    passed_by: set[Any] = set()
    for action in actions:
        events = []
        for classification in action.get("classification") or ():
            if classification == "passage":
                organization = action.get("organization")
                passed_by.add(organization.get("classification") if isinstance(organization, dict) else None)
                both = "legislature" in passed_by or {"upper", "lower"} <= passed_by
                events.append("passed" if both else "advanced")
            elif classification in ACTION_EVENTS:
                events.append(ACTION_EVENTS[classification])
        yield action, events
