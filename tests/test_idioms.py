"""Each legislature's action vocabulary (monitor/detect/idioms/<code>.yaml): well formed, and right on its own examples.

One parametrised test per file, so a broken table names itself. What is checked:
- the file loads with yaml.safe_load, names the jurisdiction its file name gives (us-tn.yaml: US-TN), says where its
  facts came from (learnt_from), and has only the known keys;
- every `match` compiles; every classification is in taxonomy.ACTIONS and every actor in taxonomy.ACTORS;
- at least 5 examples; each example's text gets, from the file's own rules (union over every matching rule), a set
  that contains each listed classification; an example listed with `classification: []` gets none at all;
- an example's optional `not` lists classifications the file's rules must not give it (the negations: "Informally
  Passed" is no passage, "Speaker signed" no executive-signature); its optional `actor` is the actor the file gives
  it (an action rule's actor first, else the first `actors` prefix that matches);
- every action rule is shown by at least one example, so no rule is a guess nothing real ever matched.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from monitor.detect.taxonomy import ACTIONS, ACTORS

IDIOMS = Path(__file__).resolve().parent.parent / "monitor" / "detect" / "idioms"
FILES = sorted(IDIOMS.glob("*.yaml"))

TOP_KEYS = {"jurisdiction", "learnt_from", "actors", "actions", "examples", "proposals"}
RULE_KEYS = {"match", "classification", "actor", "when_actor", "only_in", "except_in", "substantive", "at"}
ACTOR_KEYS = {"match", "actor"}
EXAMPLE_KEYS = {"text", "classification", "not", "actor"}


def _compile(pattern, where):
    assert isinstance(pattern, str) and pattern, f"{where}: match must be a non-empty string"
    try:
        return re.compile(pattern, re.I)
    except re.error as e:  # pragma: no cover - the assertion message is the point
        pytest.fail(f"{where}: match {pattern!r} does not compile: {e}")


def _classes(value, where):
    assert isinstance(value, list), f"{where}: classification must be a list"
    unknown = [c for c in value if c not in ACTIONS]
    assert not unknown, f"{where}: not in taxonomy.ACTIONS: {unknown}"
    return set(value)


def test_there_are_tables():
    assert FILES, "no idiom tables under monitor/detect/idioms/"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_idiom_table(path: Path):
    table = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(table, dict), "the file must hold a mapping"
    assert set(table) <= TOP_KEYS, f"unknown keys: {set(table) - TOP_KEYS}"
    assert table.get("jurisdiction") == ("*" if path.stem == "general" else path.stem.upper()), \
        "jurisdiction must match the file name"
    learnt = table.get("learnt_from")
    assert isinstance(learnt, list) and learnt and all(isinstance(s, str) and s.strip() for s in learnt)

    actors = []
    for i, rule in enumerate(table.get("actors") or []):
        where = f"actors[{i}]"
        assert isinstance(rule, dict) and set(rule) == ACTOR_KEYS, f"{where}: needs exactly match and actor"
        assert rule["actor"] in ACTORS, f"{where}: actor {rule['actor']!r} not in taxonomy.ACTORS"
        actors.append((_compile(rule["match"], where), rule["actor"]))

    rules = []
    for i, rule in enumerate(table.get("actions") or []):
        where = f"actions[{i}] {rule.get('match')!r}" if isinstance(rule, dict) else f"actions[{i}]"
        assert isinstance(rule, dict) and {"match", "classification"} <= set(rule) <= RULE_KEYS, where
        if "actor" in rule:
            assert rule["actor"] in ACTORS, f"{where}: actor {rule['actor']!r} not in taxonomy.ACTORS"
        rules.append((_compile(rule["match"], where), _classes(rule["classification"], where), rule.get("actor")))
    assert rules, "no action rules"

    examples = table.get("examples") or []
    assert len(examples) >= 5, "at least 5 examples"
    shown = set()
    for i, ex in enumerate(examples):
        assert isinstance(ex, dict) and {"text", "classification"} <= set(ex) <= EXAMPLE_KEYS, f"examples[{i}]"
        text = ex["text"]
        where = f"example {text!r}"
        assert isinstance(text, str) and text.strip(), f"examples[{i}]: empty text"
        want = _classes(ex["classification"], where)
        got, actor = set(), None
        for n, (rx, classes, rule_actor) in enumerate(rules):
            if rx.search(text):
                shown.add(n)
                got |= classes
                actor = actor or rule_actor
        if want:
            assert want <= got, f"{where}: wants {sorted(want)}, the rules give {sorted(got)}"
        else:
            assert not got, f"{where}: listed as moving no stage, the rules give {sorted(got)}"
        banned = _classes(ex.get("not", []), where)
        assert not (banned & got), f"{where}: must not be {sorted(banned & got)}"
        assert not (banned & want), f"{where}: lists a classification both wanted and not"
        if "actor" in ex:
            assert ex["actor"] in ACTORS, f"{where}: actor {ex['actor']!r} not in taxonomy.ACTORS"
            if actor is None:
                actor = next((a for rx, a in actors if rx.search(text)), None)
            assert actor == ex["actor"], f"{where}: the table gives actor {actor!r}, not {ex['actor']!r}"
    unshown = [rules[n][0].pattern for n in range(len(rules)) if n not in shown]
    # the general table's rules are shown by the corpus and tests/test_actions.py rather than by its own examples
    assert not unshown or path.stem == "general", f"rules no example shows: {unshown}"


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_examples_read_by_the_detector(path: Path):
    """The examples as detection reads them: the general table and the jurisdiction's together, longest match
    winning, so a state's wording survives the general table and the general table does not misread it. Each
    listed classification is found, none the example rules out, and wording listed as moving no stage gets none."""
    from monitor.detect.actions import read_action
    from monitor.detect.stages import action_event

    table = yaml.safe_load(path.read_text(encoding="utf-8"))
    jurisdiction = "US-ZZ" if table["jurisdiction"] == "*" else table["jurisdiction"]
    wrong = []
    for ex in table.get("examples") or ():
        read = read_action(ex["text"], jurisdiction)
        want, got = set(ex["classification"]), set(read.classes)
        if not want <= got or set(ex.get("not") or ()) & got or (not want and action_event(read)):
            wrong.append(f"{ex['text']!r}: wants {sorted(want)} not {ex.get('not') or []}, detection gives "
                         f"{sorted(got)} ({action_event(read)})")
    assert not wrong, "\n".join(wrong)
