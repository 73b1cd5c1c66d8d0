"""The action taxonomy: what one action on a measure is, in the field's standard words.

Bill actions use Open Civic Data's classifications (the ones Open States assigns); rules and agency measures add
the steps of a rulemaking. A measure's stage is derived from the set of its actions (see stages.py), never from a
single phrase.
"""
from __future__ import annotations

BILL_ACTIONS = (
    "filing", "introduction", "reading-1", "reading-2", "reading-3", "passage", "failure", "withdrawal",
    "substitution", "amendment-introduction", "amendment-passage", "amendment-failure", "amendment-withdrawal",
    "amendment-amendment", "amendment-deferral", "referral", "referral-committee", "committee-passage",
    "committee-passage-favorable", "committee-passage-unfavorable", "committee-failure", "executive-receipt",
    "executive-signature", "executive-veto", "executive-veto-line-item", "veto-override-passage",
    "veto-override-failure", "became-law", "deferral", "receipt", "concurrence", "enrolled", "carried-over",
)
# Not in OCD, but notable to a compliance team: a hearing set or cancelled moves no stage, yet it is news.
HEARING_ACTIONS = ("committee-hearing", "committee-hearing-cancelled")
RULE_ACTIONS = (
    "rule-notice",          # notice of intent, of rule development, advance notice, request for information
    "rule-proposal",        # proposed rule, draft regulation, consultation on a draft
    "rule-comment-period",  # comments open, extended, reopened, closing
    "rule-adoption",        # final rule, rule adopted or filed, temporary scheduling order, listed in a schedule
    "rule-emergency",       # emergency rule or order
    "rule-effective",       # in force, took effect, came into force
    "rule-withdrawal",      # withdrawn, repealed, rescinded, lapsed
)
ACTIONS = BILL_ACTIONS + HEARING_ACTIONS + RULE_ACTIONS
ACTORS = ("upper", "lower", "legislature", "executive", "agency", "council")
