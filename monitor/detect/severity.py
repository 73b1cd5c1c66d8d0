"""Severity by evidence: `critical` only for an enactment the text states plainly.

Plain evidence: a governor's (president's, mayor's) signature, a bill becoming law, a chapter or act number, a veto
override, an emergency rule (in force when filed), a Federal Register Rule whose effective date has come, a rule
adopted and stated in effect, a council adopting an ordinance. Anything less certain is lower, and the reason is
kept for `monitor show`. A step behind the stage the measure had already reached (a second committee referral
after passage) is low: the team knows where the measure stands.
"""
from __future__ import annotations

from ..config import Source
from .stages import NOTABLE, PLAIN_ENACTMENT, STAGE_RANK
from .summary import item_jurisdiction
from .vocabulary import DEFAULT_SEVERITY, FEDERAL_PROPOSAL_RE


def finding_severity(source: Source, lead, event: str, before: str | None, texts: str) -> tuple[str, str]:
    action = lead.action
    classes = set(action.classes) if action else set()
    if event == "enacted":
        if before == "enacted":
            return "high", "a further step of a measure already enacted (a chapter number, an effective date)"
        if lead.block.fields.get("schema") == "federal_register":
            return "critical", "a Federal Register Rule in force"
        if classes & PLAIN_ENACTMENT:
            return "critical", f"the text states an enactment plainly: {', '.join(sorted(classes & PLAIN_ENACTMENT))}"
        if "rule-emergency" in classes or {"rule-adoption", "rule-effective"} <= classes:
            return "critical", "a rule stated as adopted and in force"
        if action is not None and action.actor == "council" and "passage" in classes:
            return "critical", "a council adopted the ordinance"
        return "high", "an enactment implied, not stated plainly (no signature, act number or rule in force)"
    if event == "introduced" and item_jurisdiction(source, lead.block) == "US" and (
            FEDERAL_PROPOSAL_RE.search(texts) or lead.block.fields.get("type") == "Proposed Rule"):
        return "high", "a federal scheduling proposal moves markets nationwide"
    if event in ("unclassified", "mention"):
        return DEFAULT_SEVERITY[event], ("a kratom measure changed in wording no rule classifies"
                                         if event == "unclassified" else "kratom text changed, no stage stated")
    if classes and classes <= NOTABLE:
        return "low", "a notable action that moves no stage"
    if before and event in STAGE_RANK and STAGE_RANK[event] < STAGE_RANK.get(before, 0) and before != "failed":
        return "low", f"a step behind the stage already reached ({before})"
    return DEFAULT_SEVERITY[event], f"{event}, by the wording: {lead.phrase[:80]}"
