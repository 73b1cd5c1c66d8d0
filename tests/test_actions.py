"""Actions, stages and the judgements built on them: the facts of how legislatures and agencies work."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

import pytest
import yaml

from monitor.config import parse_config
from monitor.detect import detect
from monitor.detect.actions import read_action
from monitor.detect.events import read_text
from monitor.detect.idioms import excluding, idioms_for
from monitor.detect.stages import stage_of
from monitor.diff import diff_blocks
from monitor.extract.html import extract_html
from monitor.extract.identity import identify

NOW = datetime(2026, 11, 25, 12, tzinfo=timezone.utc)


@pytest.mark.parametrize("text, event", [
    ("02/26/2026 Senate Passed; YEAS 37 NAYS 1", "advanced"),
    ("03/02/2026 Senate Failed 19-21", "failed"),
    ("03/02/2026 Senate Passed; YEAS 19 NAYS 21", "failed"),  # a vote is a passage only if the yeas carry it
    ("Third Reading Not Passed", "failed"),
    ("Signed by the Speaker", "passed"),  # a presiding officer's signature on the enrolled bill, not a Governor's
    ("Signed by Governor", "enacted"),
    ("Amendment 2 failed", None),  # an amendment's fate is not the bill's
    ("Motion to reconsider failed", None),
    ("Informally Passed", None),  # laid over: a deferral, no passage, nothing decided
    ("Public hearing scheduled for 02/10/2026", "notable"),  # a hearing set moves no stage but is news
    ("Notice of intent to temporarily place 7-OH in Schedule I", "introduced"),  # a proposal, never a ban
    ("The rule is not yet in effect", None),
])
def test_action_events(text, event):
    assert read_text(text, "US-XX").event == event


def test_deferral_is_known_and_moves_nothing():
    reading = read_text("Informally Passed", "US-XX")
    assert reading.event is None and reading.action.classes == ("deferral",)


def test_a_governors_page_is_the_executive_acting():
    assert "executive-signature" in read_action("04/10/2026 Signed", "US-KS", actor="executive").classes
    assert "executive-signature" not in read_action("04/10/2026 Signed", "US-KS").classes


def test_stage_from_all_actions():
    rows = ["Introduced and referred", "House Passed 90-2", "Senate Passed 30-1"]
    actions = [read_action(r, "US-XX") for r in rows]
    assert stage_of(actions[:2]) == "advanced"
    assert stage_of(actions) == "passed"
    assert stage_of(actions + [read_action("Vetoed by Governor", "US-XX")]) == "failed"
    assert stage_of(actions + [read_action("Approved by Governor", "US-XX")]) == "enacted"


def test_prose_restating_an_old_law_is_background():
    assert read_text("Alabama banned kratom in 2016; the law took effect in 2016.", "US-AL", NOW.date(),
                     prose=True).event is None
    assert read_text("The ban took effect on July 1, 2026.", "US-AL", NOW.date(), prose=True).event == "enacted"


def test_excluding_hides_a_jurisdictions_table():
    general = len(idioms_for("US-XX").rules)
    assert len(idioms_for("US-TN").rules) > general
    with excluding({"US-TN"}):
        assert len(idioms_for("US-TN").rules) == general
    assert len(idioms_for("US-TN").rules) > general


def _source(**extra):
    return parse_config(yaml.safe_dump({"sources": [{"id": "s", "url": "http://127.0.0.1/", "jurisdiction": "US-ZZ",
                                                     "name": "A bill", **extra}]})).sources[0]


PAGE = """<html><head><title>HB 77 - 2026 Regular Session</title></head><body><h1>HB 77</h1>
<dl><dt>Short Title</dt><dd>An act relating to mitragynine products.</dd></dl>
<table class="history"><tr><th>Date</th><th>Action</th></tr>{rows}</table></body></html>"""


def _findings(source, before_rows: str, after_rows: str):
    old = extract_html(source, PAGE.format(rows=before_rows).encode())
    new = extract_html(source, PAGE.format(rows=after_rows).encode())
    new = replace(new, identity=identify(source, new))
    return detect(source, diff_blocks(old.blocks, new.blocks), NOW, new, old.blocks)


def test_kratom_named_only_in_a_labelled_field_makes_the_rows_kratom_rows():
    source = _source()
    base = "<tr><td>01/10/2026</td><td>Introduced, referred to Judiciary</td></tr>"
    found = _findings(source, base, base + "<tr><td>02/02/2026</td><td>Passed House; Yeas 70 Nays 20</td></tr>")
    assert [f.event for f in found] == ["advanced"]
    assert found[0].explanation["measure"]["identity"].startswith("An act relating to mitragynine")
    assert found[0].explanation["measure"]["previous_stage"] == "introduced"


def test_a_lost_vote_reports_a_failure_with_the_vote():
    source = _source()
    base = "<tr><td>01/10/2026</td><td>Introduced, referred to Judiciary</td></tr>"
    found = _findings(source, base, base + "<tr><td>02/02/2026</td><td>Senate vote 19-21</td></tr>")
    assert [f.event for f in found] == ["failed"]
    assert "19-21" in found[0].summary and found[0].severity != "critical"


def test_an_action_no_rule_knows_is_unclassified_not_silent():
    source = _source()
    base = "<tr><td>01/10/2026</td><td>Introduced, referred to Judiciary</td></tr>"
    found = _findings(source, base, base + "<tr><td>02/02/2026</td><td>Zorbled by the Quux Panel</td></tr>")
    assert [(f.event, f.severity) for f in found] == [("unclassified", "low")]


def test_critical_only_for_a_plainly_stated_enactment():
    source = _source()
    base = "<tr><td>01/10/2026</td><td>Introduced</td></tr>"
    signed = _findings(source, base, base + "<tr><td>04/02/2026</td><td>Signed by Governor</td></tr>")
    assert [(f.event, f.severity) for f in signed] == [("enacted", "critical")]
    enacted = _findings(source, base, base + "<tr><td>04/02/2026</td><td>Enacted</td></tr>")
    assert [(f.event, f.severity) for f in enacted] == [("enacted", "critical")]
    speaker = _findings(source, base, base + "<tr><td>04/02/2026</td><td>Signed by the Speaker</td></tr>")
    assert [f.event for f in speaker] == ["passed"] and speaker[0].severity != "critical"


FEED = """<?xml version="1.0"?><rss version="2.0"><channel><title>Bills Introduced</title>
<description>Bills filed in the House this week</description>{items}</channel></rss>"""
ITEM = "<item><guid>{n}</guid><title>HB {n}: {title}</title><description>{title}</description></item>"


def test_a_feed_says_what_its_items_are():
    from monitor.extract.feed import extract_feed

    source = _source(kind="feed")
    old = extract_feed(source, FEED.format(items=ITEM.format(n=1, title="Fishing licenses")).encode())
    new = extract_feed(source, FEED.format(items=ITEM.format(n=1, title="Fishing licenses") +
                                           ITEM.format(n=2, title="Regulating kratom products")).encode())
    new = replace(new, identity=identify(source, new))
    found = detect(source, diff_blocks(old.blocks, new.blocks), NOW, new, old.blocks)
    assert [f.event for f in found] == ["introduced"]


def test_a_related_bills_panel_does_not_make_a_bill_page_a_list():
    source = _source()
    panel = ("<h3>Related Bills</h3><ul><li>HB 12 Fishing licenses</li><li>SB 30 Taxes</li>"
             "<li>HB 44 Boating</li></ul>")
    base = "<tr><td>01/10/2026</td><td>Introduced</td></tr>"
    old = extract_html(source, PAGE.format(rows=base).replace("</table>", "</table>" + panel).encode())
    new = extract_html(source, PAGE.format(rows=base + "<tr><td>04/02/2026</td><td>Signed by Governor</td></tr>")
                       .replace("</table>", "</table>" + panel).encode())
    new = replace(new, identity=identify(source, new))
    assert new.identity.kind == "measure" and new.identity.measure == "HB 77"
    found = detect(source, diff_blocks(old.blocks, new.blocks), NOW, new, old.blocks)
    assert [(f.event, f.severity, f.measure) for f in found] == [("enacted", "critical", "HB 77")]


def test_a_result_column_overturns_the_vote():
    assert read_text("11/2/2026 1 City Council Approved Fail Action details Meeting details", "US-OH-COLUMBUS").event \
        == "failed"
    assert read_text("11/2/2026 1 City Council Approved Pass Action details", "US-OH-COLUMBUS").event == "enacted"


def test_an_identical_bills_signature_is_not_this_bills():
    source = _source()
    base = "<tr><td>01/10/2026</td><td>Introduced</td></tr>"
    old = extract_html(source, PAGE.format(rows=base).encode())
    new = extract_html(source, PAGE.format(
        rows=base + "<tr><td>04/02/2026</td><td>Identical bill SB 200 signed by Governor</td></tr>").encode())
    new = replace(new, identity=identify(source, new))
    assert detect(source, diff_blocks(old.blocks, new.blocks), NOW, new, old.blocks) == []
