"""A measure's stage, derived from all its actions, and what one action contributes to it.

Stages: introduced < advanced < passed < enacted, and failed. Passage in one chamber advances a bill; in both
(upper and lower, or by a legislature or a council acting alone) it has passed, and a council's passage of an
ordinance makes it law. Receipt by the executive or enrolment is passed; a signature, becoming law or a veto
override is enacted, and final. A failure (a lost vote, a veto, a withdrawal, an unfavourable report) is the stage
unless a step forward came after it.
"""
from __future__ import annotations

from typing import Sequence

from .actions import Action

STAGES = ("introduced", "advanced", "passed", "enacted")
STAGE_RANK = {"introduced": 1, "advanced": 2, "passed": 3, "failed": 4, "enacted": 5}

_EVENT_OF = {
    "enacted": {"executive-signature", "became-law", "veto-override-passage", "rule-adoption", "rule-emergency",
                "rule-effective"},
    "passed": {"enrolled", "executive-receipt", "concurrence"},
    "failed": {"failure", "withdrawal", "committee-failure", "committee-passage-unfavorable", "executive-veto",
               "veto-override-failure", "rule-withdrawal"},
    "advanced": {"passage", "reading-2", "reading-3", "committee-passage", "committee-passage-favorable",
                 "substitution", "receipt"},
    "introduced": {"filing", "introduction", "reading-1", "referral", "referral-committee", "rule-notice",
                   "rule-proposal", "rule-comment-period"},
    "amended": {"amendment-passage"},
}
# Actions worth an alert that move no stage: the team wants to know, at low severity.
# A deferral ("Informally Passed", "held one legislative day", "continued to March 24") is not: nothing was decided.
NOTABLE = {"committee-hearing", "committee-hearing-cancelled", "executive-veto-line-item"}
# Actions whose text states an enactment plainly: the only evidence for a critical alert.
PLAIN_ENACTMENT = {"executive-signature", "became-law", "veto-override-passage"}


def action_events(action: Action) -> list[str]:
    """The events one action records, furthest first. A council's passage is its law made."""
    have = set(action.classes)
    if "reading-2" in have and have & {"referral", "referral-committee"}:
        have.discard("reading-2")  # "Read twice and referred to the Committee": still before the committee
    if "deferral" in have:  # "(second reading), continued to December 16": what was to be read was put off
        have -= {"reading-1", "reading-2", "reading-3", "passage", "introduction"}
    out = [event for event, classes in _EVENT_OF.items() if classes & have]
    if "passage" in action.classes and action.actor == "council" and "enacted" not in out:
        out.insert(0, "enacted")
    if "passage" in action.classes and action.actor == "legislature" and "passed" not in out:
        out.insert(0, "passed")
    return sorted(out, key=_rank, reverse=True)


def action_event(action: Action) -> str | None:
    events = action_events(action)
    return events[0] if events else None


def _rank(event: str) -> int:
    return STAGE_RANK.get(event, 0)


def stage_of(actions: Sequence[Action]) -> str | None:
    """The stage the actions, in the order they happened, have brought the measure to."""
    best: str | None = None
    failed = False
    chambers: set[str] = set()
    for action in actions:
        events = action_events(action)
        if "passage" in action.classes and action.actor:
            chambers.add(action.actor)
            if {"upper", "lower"} <= chambers:
                events = ["passed", *events]
        forward = [e for e in events if e in STAGES]
        if forward:
            failed = False
            top = max(forward, key=_rank)
            if best is None or _rank(top) > _rank(best):
                best = top
        elif "failed" in events:
            failed = True
        if best == "enacted":
            return best
    return "failed" if failed else best
