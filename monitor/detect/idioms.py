"""Each legislature's and agency's wording of its actions, as data: monitor/detect/idioms/<code>.yaml.

`general.yaml` holds the wording most share; `us-tn.yaml`, `gb.yaml`, ... what is peculiar to one jurisdiction
(learnt from its glossary, its Open States categoriser, its register). A jurisdiction reads the general table, its
own: its first two code parts (a state's page reads neither another state's nor Congress's), so
"US-CA-SAN-DIEGO" reads general and us-ca, "US" general and us (Congress). A file:

    jurisdiction: US-TN            # "*" for general.yaml
    learnt_from: [where each fact came from]
    actors:   [{match: REGEX, actor: upper|lower|legislature|executive|agency|council}]   # who acted, by prefix
    proposals: [REGEX]             # general.yaml only: text that makes a statement a proposal
    actions:
      - match: REGEX               # searched, ignoring case, in one action's text (its date already removed)
        classification: [CLASS]    # from taxonomy.ACTIONS; [] = known wording that moves no stage
        actor: ACTOR               # optional: the wording itself says who acted
        when_actor: [ACTOR]        # optional: applies only when the action's actor is one of these
        only_in / except_in: [CC]  # optional: countries where the rule holds or does not (Westminster "tabled")
        at: national | subnational # optional: only for a country's own measures, or only for its states' and
                                   # cities' ("President" signs a bill in Washington DC, not in Olympia)
        substantive: true          # optional: describes content a proposal also describes ("placed in Schedule I")
    examples: [{text: ..., classification: [...]}]   # real action texts, checked by tests/test_idioms.py

`excluding(codes)` hides tables, which is how the leave-one-site-out score (bench/loso.py) scores a site with rules
built from the others only.
"""
from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterator

import yaml

from .taxonomy import ACTIONS, ACTORS

IDIOMS_DIR = Path(__file__).parent / "idioms"
GENERAL = "*"
_excluded: frozenset[str] = frozenset()


class IdiomError(ValueError):
    """A table that does not load: a bad regex, an unknown classification or actor."""


@dataclass(frozen=True)
class Rule:
    pattern: re.Pattern
    classes: tuple[str, ...]
    origin: str  # the table's jurisdiction ("*" for general)
    actor: str | None = None
    when_actor: tuple[str, ...] = ()
    substantive: bool = False


@dataclass(frozen=True, eq=False)
class Idioms:
    """The rules that apply in one jurisdiction, general first. Compared and hashed by identity: one object per
    jurisdiction and exclusion (see _idioms), which is what caches of readings key on."""

    rules: tuple[Rule, ...]
    actors: tuple[tuple[re.Pattern, str], ...]
    proposals: re.Pattern | None


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: a check reads two tables, not all 52


def _path(code: str) -> Path:
    return IDIOMS_DIR / ("general.yaml" if code == GENERAL else f"{code.lower()}.yaml")


@lru_cache(maxsize=None)
def table(code: str) -> dict | None:
    """The table of one jurisdiction code ("*", "US", "US-TN"), or None if there is none."""
    path = _path(code)
    if not path.exists():
        return None
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER) or {}
    if not isinstance(data, dict) or str(data.get("jurisdiction", "")).upper() != code:
        raise IdiomError(f"{path.name}: not the idiom table of {code} (its 'jurisdiction' must say so)")
    return data


def _compile(pattern: str, where: str) -> re.Pattern:
    try:
        return re.compile(pattern, re.I)
    except re.error as e:
        raise IdiomError(f"{where}: bad regex {pattern!r}: {e}") from None


def _rules(data: dict, country: str, national: bool) -> list[Rule]:
    origin = str(data["jurisdiction"]).upper()
    out = []
    for n, entry in enumerate(data.get("actions") or ()):
        where = f"{origin} action {n + 1}"
        if entry.get("only_in") and country not in entry["only_in"]:
            continue
        if country in (entry.get("except_in") or ()):
            continue
        if entry.get("at") and (entry["at"] == "national") != national:
            continue
        classes = tuple(entry.get("classification") or ())
        unknown = [c for c in classes if c not in ACTIONS]
        actors = [a for a in [entry.get("actor"), *(entry.get("when_actor") or ())] if a]
        if unknown or any(a not in ACTORS for a in actors):
            raise IdiomError(f"{where}: unknown classification or actor {unknown or actors}")
        out.append(Rule(_compile(str(entry["match"]), where), classes, origin, entry.get("actor"),
                        tuple(entry.get("when_actor") or ()), bool(entry.get("substantive"))))
    return out


def _chain(jurisdiction: str) -> list[str]:
    """The tables a jurisdiction reads, general first: "US-CA-SAN-DIEGO" -> *, US-CA; "US" -> *, US; "TH" -> *, TH."""
    parts = jurisdiction.upper().split("-")
    own = "-".join(parts[:2])
    return [GENERAL, own]


@lru_cache(maxsize=256)
def _idioms(jurisdiction: str, excluded: frozenset[str]) -> Idioms:
    country = jurisdiction.upper().split("-")[0]
    rules: list[Rule] = []
    own_actors: list[tuple[re.Pattern, str]] = []
    general_actors: list[tuple[re.Pattern, str]] = []
    proposals: list[str] = []
    for code in _chain(jurisdiction):
        data = None if code in excluded else table(code)
        if data is None:
            continue
        rules += _rules(data, country, national="-" not in jurisdiction)
        # a jurisdiction's own way of naming who acted is tried before the general one
        (general_actors if code == GENERAL else own_actors).extend(
            (_compile(str(a["match"]), f"{code} actor"), str(a["actor"])) for a in data.get("actors") or ())
        proposals += [str(p) for p in data.get("proposals") or ()]
    proposal_re = _compile("|".join(f"(?:{p})" for p in proposals), "proposals") if proposals else None
    return Idioms(tuple(rules), tuple(own_actors + general_actors), proposal_re)


def idioms_for(jurisdiction: str) -> Idioms:
    return _idioms(jurisdiction or "", _excluded)


@contextlib.contextmanager
def excluding(codes: set[str] | frozenset[str]) -> Iterator[None]:
    """Read every jurisdiction as if the tables of `codes` ("US-TN") did not exist."""
    global _excluded
    before, _excluded = _excluded, frozenset(c.upper() for c in codes)
    try:
        yield
    finally:
        _excluded = before
