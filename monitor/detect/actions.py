"""One action on a measure (a history row, a status line, a rule notice) read as data: who, what, the vote.

Classification runs every rule of the jurisdiction's idiom tables over the text and keeps the longest matches: a
match inside a longer one gives way ("Passed" inside "Not Passed" or "Informally Passed", "Signed" inside "Signed by
the Speaker", "failed" inside "Amendment 2 failed"); on equal spans the jurisdiction's own table wins over the
general one. Within one jurisdiction's table the rules add up, as its author wrote them. Then two facts the words alone do not settle:
- a vote carries a passage only if the yeas are more than the nays ("Passed 19-21" is a failure);
- in a proposal ("notice of intent to place ... in Schedule I", a draft, "would ban") what is described as in force
  is not: substantive rules give way.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from .idioms import Idioms, Rule, idioms_for
from .vocabulary import LEADING_DATE_RE

# "YEAS 37 NAYS 1", "Ayes 19, Noes 21", "Yea: 19 Nay: 21", "(19-Y 21-N)", "passed 37-1", "vote 19-21"
_VOTE_RES = (
    re.compile(r"\b(?:yeas?|ayes?|yes|aye)\s*[:\-]?\s*(\d{1,3})\s*[,;]?\s*(?:nays?|noes|no|nos)\s*[:\-]?\s*(\d{1,3})",
               re.I),
    re.compile(r"\((\d{1,3})\s*-\s*Y\s*,?\s*(\d{1,3})\s*-\s*N\b", re.I),
    re.compile(r"\b(\d{1,3})\s*[-\u2013]\s*(\d{1,3})\s+(?:roll\s*call\s+)?vote\b", re.I),  # "on a 10-1 vote"
    re.compile(r"\ba\s+favor\s*:?\s*(\d{1,3})\s*[,;]?\s*en\s+contra\s*:?\s*(\d{1,3})", re.I),  # Spanish
    re.compile(r"\b(?:passed|failed|adopted|lost|defeated|vote[ds]?|roll\s*call|by\s+a\s+vote\s+of)\b[^0-9;]{0,20}?"
               r"\(?(\d{1,3})\s*[-\u2013]\s*(\d{1,3})\)?(?![-/\d])", re.I),
)
# Classes a vote decides: carried, they stand; lost, they become their failure.
_LOST = {"passage": "failure", "reading-3": "failure", "committee-passage": "committee-failure",
         "committee-passage-favorable": "committee-failure", "concurrence": "failure",
         "veto-override-passage": "veto-override-failure", "amendment-passage": "amendment-failure"}
PROPOSAL_CLASSES = {"rule-notice", "rule-proposal", "rule-comment-period"}
# Votes on the measure itself (what a summary quotes), as against votes on an amendment or a motion.
_MEASURE_VOTES = {"passage", "failure", "reading-3", "committee-passage", "committee-passage-favorable",
                  "committee-passage-unfavorable", "committee-failure", "concurrence", "veto-override-passage",
                  "veto-override-failure"}


@dataclass(frozen=True)
class Vote:
    yeas: int
    nays: int

    @property
    def carried(self) -> bool:
        return self.yeas > self.nays

    def __str__(self) -> str:
        return f"{self.yeas}-{self.nays}"


@dataclass(frozen=True)
class Action:
    text: str
    classes: tuple[str, ...]
    actor: str | None = None
    vote: Vote | None = None
    phrases: tuple[str, ...] = ()  # the words that gave each class, for `monitor show`

    @property
    def classified(self) -> bool:
        """Some rule knew this wording (perhaps as wording that moves no stage)."""
        return bool(self.phrases)


def read_vote(text: str) -> Vote | None:
    for pattern in _VOTE_RES:
        m = pattern.search(text)
        if m:
            return Vote(int(m.group(1)), int(m.group(2)))
    return None


def read_action(text: str, jurisdiction: str, actor: str | None = None) -> Action:
    """`actor`: who acted when the page says so elsewhere (a chamber column, a section heading). A page's rows
    are read again on the next pass and its old rows with its new: the readings are cached."""
    return _read_action(text, jurisdiction or "", actor, idioms_for(jurisdiction))


@lru_cache(maxsize=8192)
def _read_action(text: str, jurisdiction: str, actor: str | None, idioms: Idioms) -> Action:
    body = LEADING_DATE_RE.sub("", text, count=1)
    prefix, named, core = _actors(body, idioms)
    # Who acted decides a bare "Signed" only when the row or the page says so up front ("Governor Signed", a
    # governor's list), never because "Governor" appears later ("Signed by the Speaker; sent to Governor").
    acting = prefix or actor
    matches = _longest(_matches(body, core, idioms, acting))
    classes: list[str] = []
    kept: list[tuple[Rule, _Span]] = []
    the_vote = None
    for clause, (start, end) in _clauses(body):
        here = [(r, m) for r, m in matches if start <= m.start < end]
        # A proposal, a vote and a negation hold within their clause: "... published a final rule ...; it follows a
        # notice of proposed rulemaking" is a final rule; "Amendment 1 failed 15-20; passed 33-2" is a passage.
        proposing = any(set(r.classes) & PROPOSAL_CLASSES for r, _ in here) or \
            bool(idioms.proposals and idioms.proposals.search(clause))
        if proposing:
            here = [(r, m) for r, m in here if not r.substantive]
        kept += here
        clause_classes = [c for r, _ in here for c in r.classes]
        vote = read_vote(clause)
        if vote is not None and not clause_classes and kept and classes:
            # "CS passed; YEAS 37 NAYS 1": a vote standing alone is the previous clause's
            classes[:] = [_LOST.get(c, c) if not vote.carried else c for c in classes]
        elif vote is not None and not vote.carried:
            clause_classes = [_LOST.get(c, c) for c in clause_classes] or ([] if here else ["failure"])
        if vote is not None and (the_vote is None or set(clause_classes) & _MEASURE_VOTES):
            the_vote = vote  # the measure's own vote, not an amendment's or a motion's, when the row has both
        classes += [c for c in clause_classes if c not in classes]
    outcome = _OUTCOME_RE.search(body)
    if outcome and outcome.group(1).lower().startswith(("fail", "lost", "defeat")):
        # a Result column: "City Council | Approved | Fail" is the approval lost
        classes = [_LOST.get(c, c) for c in classes] if classes else ([] if kept else ["failure"])
    who = acting or next((r.actor for r, _ in kept if r.actor), None)
    return Action(text=text, classes=tuple(dict.fromkeys(classes)), actor=who or named,
                  vote=the_vote, phrases=tuple(m.group(0) for _, m in kept))


# A vote's result standing last in a row, as Legistar and many councils' systems print it.
# Legistar (hundreds of councils) follows it with its row links: "Approved Fail Action details Meeting details".
_OUTCOME_RE = re.compile(r"\b(pass(ed)?|fail(ed)?|carried|lost|defeated)\b(\W+(action|meeting)\s+details|\W+video|"
                         r"\W+not\s+available)*\W*$", re.I)
_CLAUSE_BREAK_RE = re.compile(r"(?<=[.;!?])\s+(?=\S)|\s+[\u2013\u2014\u2022]\s+|\s+-\s+(?=[A-Z])")


def _clauses(body: str) -> list[tuple[str, tuple[int, int]]]:
    """The row's clauses with their spans: sentences, "; "-joined actions, " - " and bullet separators. A period
    after an abbreviation ("Gov. Msg.", "H. 512") rarely ends a clause worth reading apart, so clauses shorter
    than a few words join the next."""
    out: list[tuple[str, tuple[int, int]]] = []
    start = 0
    for m in _CLAUSE_BREAK_RE.finditer(body):
        if len(body[start:m.start()].split()) >= 3:
            out.append((body[start:m.start()], (start, m.start())))
            start = m.end()
    out.append((body[start:], (start, len(body) + 1)))
    return out


def _actors(body: str, idioms: Idioms) -> tuple[str | None, str | None, str]:
    """(the actor a row starts with, the actor it names anywhere, the row without its actor prefix): rules read
    "S Act 142, on 07/09/2026" as "Act 142, on 07/09/2026", as the legislature's own table writes it."""
    prefix = named = None
    core = body
    for pattern, who in idioms.actors:
        m = pattern.search(body)
        if not m:
            continue
        named = named or who
        if prefix is None and m.start() == 0 and m.end() > 0:
            rest = body[m.end():].lstrip(" .:;,-\u2013\u2022|")
            prefix, core = who, (rest if rest else body)
    return prefix, named, core


@dataclass(frozen=True)
class _Span:
    """A match's place in the row (a rule anchored at the start may have matched after the actor prefix)."""

    start: int
    end: int
    text: str

    def group(self, _: int = 0) -> str:
        return self.text


def _matches(body: str, core: str, idioms: Idioms, actor: str | None) -> list[tuple[Rule, _Span]]:
    offset = len(body) - len(core)
    out = []
    for rule in idioms.rules:
        if rule.when_actor and actor not in rule.when_actor:
            continue
        found = [_Span(m.start(), m.end(), m.group(0)) for m in rule.pattern.finditer(body) if m.end() > m.start()]
        if not found and offset and rule.pattern.pattern.startswith("^"):
            found = [_Span(m.start() + offset, m.end() + offset, m.group(0))
                     for m in rule.pattern.finditer(core) if m.end() > m.start()]
        out.extend((rule, span) for span in found)
    return out


def _longest(matches: list[tuple[Rule, _Span]]) -> list[tuple[Rule, _Span]]:
    """Matches not covered by a longer one (or, on the same span, by a jurisdiction's own), in text order."""
    def covers(a: tuple[Rule, _Span], b: tuple[Rule, _Span]) -> bool:
        (ra, ma), (rb, mb) = a, b
        if not (ma.start <= mb.start and mb.end <= ma.end):
            return False
        if ra.origin == rb.origin != "*":
            return False  # within a jurisdiction's table its author's rules add up, as in an Open States categoriser
        if (ma.end - ma.start) > (mb.end - mb.start):
            return True
        return ra.origin != "*" and rb.origin == "*"  # same span: the jurisdiction's own wording decides

    kept = [b for b in matches if not any(a is not b and covers(a, b) for a in matches)]
    return sorted(kept, key=lambda rm: rm[1].start)
