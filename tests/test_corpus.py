"""The labelled corpus in tests/corpus/: every labelled alert raised with an acceptable event, no alert otherwise.

Each case is a directory tests/corpus/<site>/<case>/ with case.yaml and the pages a source serves on successive
passes; each site directory has a site.yaml naming the real site the cases are modelled on (see
tests/corpus/README.md). The pages are served over real HTTP on 127.0.0.1 and checked by the same Checker the CLI
and the worker use, with the clock set to the case's date.
"""
from __future__ import annotations

import asyncio
import re
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml

from conftest import Response
from monitor.config import parse_config
from monitor.fetch import Fetcher
from monitor.models import severity_rank
from monitor.pipeline import Checker
from monitor.store import Store

CORPUS = Path(__file__).parent / "corpus"
CASES = sorted(p.parent for p in CORPUS.glob("*/*/case.yaml"))
SITE_TYPES = {"legislature", "federal", "agency", "local", "foreign", "aggregator"}
JURISDICTION = re.compile(r"^[A-Z]{2}(-[A-Z0-9]{1,3}(-[A-Z0-9][A-Z0-9_-]*)?)?$")  # US, US-FL, US-CA-SAN-DIEGO, GB
CONTENT_TYPES = {".html": "text/html", ".htm": "text/html", ".xml": "application/xml", ".rss": "application/rss+xml",
                 ".atom": "application/atom+xml", ".json": "application/json"}


def load_case(path: Path) -> dict:
    return yaml.safe_load((path / "case.yaml").read_text(encoding="utf-8"))


def run_case(case_dir: Path, server, tmp_path: Path) -> list:
    case = load_case(case_dir)
    source = {"id": "case", "url": server.url(f"/{case_dir.name}"), **case["source"]}
    config = parse_config(yaml.safe_dump({"settings": {"retries": 0, "timeout": 10}, "sources": [source]}),
                          env={"LEGISCAN_API_KEY": "test", "OPENSTATES_API_KEY": "test"})
    now = case.get("now") or "2026-11-25"
    clock = lambda: datetime.fromisoformat(str(now)).replace(hour=12, tzinfo=timezone.utc)  # noqa: E731
    pages = case["pages"]
    statuses = case.get("statuses") or [200] * len(pages)
    store = Store.open(tmp_path / "state")
    changes = []

    async def passes():
        fetcher = Fetcher(config.settings)
        checker = Checker(config, store, fetcher, clock)
        try:
            for n, (page, status) in enumerate(zip(pages, statuses)):
                body = (case_dir / page).read_bytes() if page else b""
                ctype = CONTENT_TYPES.get(Path(page).suffix, "text/html") if page else "text/html"
                server.routes[f"/{case_dir.name}"] = Response(status, body, {"Content-Type": ctype})
                outcome = await checker.check(config.sources[0])
                if n:
                    changes.extend(outcome.changes)
        finally:
            await fetcher.aclose()

    try:
        asyncio.run(passes())
    finally:
        store.close()
    return changes


def _spelled(measure: str) -> str:
    """A measure as compared: no spaces, one case, no leading zeros ("SF0061" is SF 61)."""
    return re.sub(r"(?<=[A-Z])0+(?=\d)", "", measure.replace(" ", "").upper())


def verdict(expect: dict, changes: list) -> str | None:
    """None when the changes hold the label, else what is wrong (also the leave-one-site-out score's judge)."""
    alerts = [c for c in changes if c.kind == "legal" and c.alert]
    described = [(c.event, c.severity, c.measure, c.summary) for c in alerts]
    if expect.get("operational"):
        events = [c.event for c in changes if c.kind == "operational"]
        if expect["operational"] not in events:
            return f"expected operational {expect['operational']!r}, got {events}"
    if not expect["alert"]:
        return f"expected no alert, got {described}" if alerts else None
    good = [c for c in alerts if c.event in expect["events"]]
    if not good:
        return f"expected an alert with event in {expect['events']}, got {described}"
    if expect.get("measure") and not any(_spelled(expect["measure"]) in _spelled(c.measure or "") for c in good):
        return f"expected measure {expect['measure']!r}, got {described}"
    if expect.get("severity_at_least") and not any(
            severity_rank(c.severity) >= severity_rank(expect["severity_at_least"]) for c in good):
        return f"expected severity at least {expect['severity_at_least']}, got {described}"
    return None


KNOWN_MISSES = yaml.safe_load((CORPUS / "known-misses.yaml").read_text(encoding="utf-8")) or {}


def _case_id(case_dir: Path) -> str:
    return f"{case_dir.parent.name}/{case_dir.name}"


@pytest.mark.parametrize("case_dir", [
    pytest.param(c, marks=pytest.mark.xfail(strict=True, reason=KNOWN_MISSES[_case_id(c)]))
    if _case_id(c) in KNOWN_MISSES else c for c in CASES], ids=[_case_id(c) for c in CASES])
def test_corpus_case(case_dir, server, tmp_path):
    problem = verdict(load_case(case_dir)["expect"], run_case(case_dir, server, tmp_path))
    assert problem is None, problem


def test_known_misses_are_cases():
    assert set(KNOWN_MISSES) <= {_case_id(c) for c in CASES}


def test_corpus_is_big_enough_and_balanced():
    labels = [load_case(c)["expect"]["alert"] for c in CASES]
    assert len(labels) >= 40
    assert 0.3 <= sum(labels) / len(labels) <= 0.7


def test_every_case_sits_in_a_site_with_a_valid_site_yaml():
    stray = sorted(str(p.relative_to(CORPUS)) for p in CORPUS.rglob("case.yaml") if p.parent not in CASES)
    assert not stray, f"case.yaml outside tests/corpus/<site>/<case>/: {stray}"
    names = [c.name for c in CASES]
    assert len(names) == len(set(names)), "case names must be unique across sites (they name the served path)"
    for site_dir in sorted({c.parent for c in CASES}):
        path = site_dir / "site.yaml"
        assert path.is_file(), f"{site_dir.name}: no site.yaml"
        site = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert isinstance(site, dict) and set(site) == {"name", "jurisdiction", "type", "provenance"}, \
            f"{site_dir.name}/site.yaml: needs exactly name, jurisdiction, type, provenance"
        assert isinstance(site["name"], str) and site["name"].strip(), f"{site_dir.name}: name"
        assert isinstance(site["jurisdiction"], str) and JURISDICTION.match(site["jurisdiction"]), \
            f"{site_dir.name}: jurisdiction {site['jurisdiction']!r} is not a code such as US, US-FL, GB"
        assert site["type"] in SITE_TYPES, f"{site_dir.name}: type {site['type']!r} not in {sorted(SITE_TYPES)}"
        assert isinstance(site["provenance"], str) and len(site["provenance"].split()) >= 8, \
            f"{site_dir.name}: provenance must say where the markup and wording came from"
        for case_dir in sorted(c for c in CASES if c.parent == site_dir):
            jurisdiction = load_case(case_dir)["source"]["jurisdiction"]
            assert (jurisdiction + "-").startswith(site["jurisdiction"] + "-"), \
                f"{site_dir.name}/{case_dir.name}: jurisdiction {jurisdiction} is not within {site['jurisdiction']}"
