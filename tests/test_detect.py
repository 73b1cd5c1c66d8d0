"""Detection units: the vocabulary, events, measures, and judgement of diffs in context."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from monitor.config import Source
from monitor.detect import detect, kratom_terms
from monitor.detect.events import read_text
from monitor.extract.measures import find_measure, measure_key
from monitor.diff import diff_blocks
from monitor.extract.html import extract_html

NOW = datetime(2026, 11, 25, 12, tzinfo=timezone.utc)
FL = Source(id="fl", url="http://x", jurisdiction="US-FL", name="Florida CS/SB 1180 (Kratom Products)")


@pytest.mark.parametrize("text, terms", [
    ("Mitragynine pseudoindoxyl and 7-hydroxymitragynine", ("mitragynine pseudoindoxyl", "7-hydroxymitragynine")),
    ("Regulates KRATOM products; see 7-OH and 7OH", ("kratom products", "7-oh", "7oh")),
    ("MGM-15 and MGM 16", ("mgm-15", "mgm 16")),
    ("Akta Racun: daun ketum", ("daun ketum",)),
    ("พระราชบัญญัติพืชกระท่อม พ.ศ. 2565", ("พืชกระท่อม",)),
    ("17-OH progesterone, kratomania, skratom", ()),
])
def test_kratom_terms_longest_first_and_bounded(text, terms):
    assert kratom_terms(text) == terms


@pytest.mark.parametrize("text, event", [
    ("01/13/2026 Senate Filed", "introduced"),
    ("Referred to Health Policy; Appropriations; Rules -SJ 123", "introduced"),
    ("CS by Health Policy; YEAS 9 NAYS 0", "advanced"),
    ("02/26/2026 Senate Passed; YEAS 37 NAYS 1", "advanced"),
    ("Read third time; Passed (Vote: Y 37 N 1)", "advanced"),
    ("Passed both houses", "passed"),
    ("Ordered enrolled", "passed"),
    ("Sent to the Governor", "passed"),
    ("Signed by the Governor. Becomes Act No. 41.", "enacted"),
    ("Approved by Governor; Chapter No. 2026-112", "enacted"),
    ("Became law without Governor's signature", "enacted"),
    ("Died in Appropriations", "failed"),
    ("Vetoed by Governor", "failed"),
    ("Veto overridden by both chambers", "enacted"),
    ("Laid on Table, refer to HB 1649", "failed"),
    ("Amendment 2 failed; bill passed Senate", "advanced"),
    ("Indefinitely postponed and withdrawn from consideration", "failed"),
    ("Notice of intent to temporarily place 7-hydroxymitragynine in Schedule I", "introduced"),
    ("Proposed rule: Schedules of Controlled Substances: Placement of Mitragynine in Schedule I", "introduced"),
    ("Temporary scheduling order placing MGM-15 in Schedule I", "enacted"),
    ("Emergency rule 2ER26-1 adopted: 7-OH is now a Schedule I controlled substance", "enacted"),
    ("Withdrawal of notice of intent to temporarily place mitragynine in Schedule I", "failed"),
    ("Beginning January 1, 2026, the sale of kratom to persons under 21 is prohibited", "enacted"),
    ("Became Public Law No: 119-12.", "enacted"),
    ("Gov. DeSantis signs kratom bill", "enacted"),
    ("City Council unanimously approved the kratom ordinance on second reading", "enacted"),
    ("The Misuse of Drugs Act 1971 (Amendment) Order 2026: made 10 November, coming into force 1 December", "enacted"),
    ("Read twice and referred to the Committee on Health", "introduced"),
    ("Passed Senate without amendment by Unanimous Consent.", "advanced"),
])
def test_classify_events(text, event):
    assert read_text(text, "").event == event


def test_classify_nothing():
    assert read_text("Kratom is a tropical tree native to Southeast Asia.", "").event is None


@pytest.mark.parametrize("text, measure", [
    ("CS/CS/SB 1180: Kratom Products", "CS/CS/SB 1180"), ("S.B. 154 by Senator X", "SB 154"),
    ("House Bill 1649", "HB 1649"), ("SB25-072 Kratom Processors", "SB 25-072"),
    ("FR Doc. 2026-13580 Filed 7-3-26", "2026-13580"), ("Emergency Rule 2ER26-1", "2ER26-1"),
    ("Import Alert 54-15", "Import Alert 54-15"), ("a 2% cap on 7-OH", None),
])
def test_measures(text, measure):
    assert find_measure(text) == measure


def test_measure_key_survives_committee_substitutes():
    assert measure_key("CS/CS/SB 1180") == measure_key("SB 1180") == "SB1180"


def page(rows: list[str], title="CS/SB 1180: Kratom Products", extra="") -> bytes:
    trs = "".join(f"<tr><td>{r}</td></tr>" for r in rows)
    return (f"<html><head><title>{title}</title></head><body><main><h1>{title}</h1>{extra}"
            f"<table>{trs}</table></main></body></html>").encode()


def findings(before: bytes, after: bytes, source: Source = FL):
    old = extract_html(source, before)
    new = extract_html(source, after)
    return detect(source, diff_blocks(old.blocks, new.blocks), NOW, new)


def test_history_row_counts_by_context_and_gets_a_summary():
    [f] = findings(page(["01/13/2026 Filed"]), page(["01/13/2026 Filed", "02/26/2026 Senate Passed; YEAS 37 NAYS 1"]))
    assert (f.event, f.severity, f.measure) == ("advanced", "high", "CS/SB 1180")
    assert f.summary == "Florida CS/SB 1180 (Kratom Products) passed the Senate 37-1: 02/26/2026 Senate Passed; YEAS 37 NAYS 1"
    assert "stands under" in f.explanation["blocks"][0]["why"]


def test_other_bill_on_a_list_page_is_not_kratom():
    src = Source(id="list", url="http://x", jurisdiction="US-TN", name="Tennessee bills by subject")
    before = page(["HB 1649 Kratom; prohibits sale - Filed", "HB 12 Fishing licenses - Filed"], title="Bills")
    after = page(["HB 1649 Kratom; prohibits sale - Filed", "HB 12 Fishing licenses - Passed House"], title="Bills")
    assert findings(before, after, src) == []
    after2 = page(["HB 1649 Kratom; prohibits sale - Passed House", "HB 12 Fishing licenses - Filed"], title="Bills")
    [f] = findings(before, after2, src)
    assert (f.event, f.measure, f.direction) == ("advanced", "HB 1649", "restrictive")


def test_context_only_block_without_status_is_not_an_alert():
    assert findings(page(["01/13/2026 Filed"], extra="<p>Views: 10</p>"),
                    page(["01/13/2026 Filed"], extra="<p>Views: 11</p>")) == []


def test_moved_effective_date_is_amended_and_counter_is_noise():
    src = Source(id="la", url="http://x", jurisdiction="US-LA", name="Louisiana kratom law")
    before = page(["Kratom ban effective date: August 1, 2025"], title="Kratom")
    after = page(["Kratom ban effective date: October 1, 2025"], title="Kratom")
    [f] = findings(before, after, src)
    assert f.event == "amended" and f.added == ("Kratom ban effective date: October 1, 2025",)
    assert findings(page(["Showing 1-10 of 23 kratom results"], title="Search"),
                    page(["Showing 1-10 of 24 kratom results"], title="Search"), src) == []


def test_removed_kratom_text_is_a_mention():
    src = Source(id="fda", url="http://x", jurisdiction="US", name="FDA page")
    [f] = findings(page(["Import alert covers kratom leaf", "Other"], title="Alerts"), page(["Other"], title="Alerts"), src)
    assert (f.event, f.removed) == ("mention", ("Import alert covers kratom leaf",))


def test_federal_notice_of_intent_is_high_never_enacted():
    src = Source(id="dea", url="http://x", jurisdiction="US", name="DEA scheduling actions")
    [f] = findings(page(["Other notice"], title="DEA"),
                   page(["Other notice", "Schedules of Controlled Substances: Notice of intent to temporarily place "
                         "7-hydroxymitragynine in Schedule I"], title="DEA"), src)
    assert (f.event, f.severity) == ("introduced", "high")


def test_list_page_title_does_not_make_every_bill_kratom():
    src = Source(id="md", url="http://x", jurisdiction="US-MD", name="Maryland kratom and other bills")
    rows = ["HB 1 Kratom Consumer Protection - Hearing 2/1", "HB 12 Fishing licenses - Filed", "SB 30 Taxes - Filed"]
    before = page(rows, title="Kratom and other bills")
    after = page(rows[:1] + ["HB 12 Fishing licenses - Passed House"] + rows[2:], title="Kratom and other bills")
    old, new = extract_html(src, before), extract_html(src, after)
    assert detect(src, diff_blocks(old.blocks, new.blocks), NOW, new) == []


def test_redesign_rerendering_old_rows_is_not_news_but_a_new_row_is():
    before = page(["02/26/2026 Senate Passed; YEAS 37 NAYS 1", "01/13/2026 Senate Filed"])
    redesign = page(["Feb 26, 2026 Senate Passed 37-1", "Jan 13, 2026 Senate Filed"])
    src = FL
    old, new = extract_html(src, before), extract_html(src, redesign)
    assert detect(src, diff_blocks(old.blocks, new.blocks), NOW, new) == []
    newer = extract_html(src, page(["Mar 3, 2026 House Passed 110-2", "Feb 26, 2026 Senate Passed 37-1",
                                    "Jan 13, 2026 Senate Filed"]))
    [f] = detect(src, diff_blocks(old.blocks, newer.blocks), NOW, newer)
    assert f.event == "passed" and f.added == ("Mar 3, 2026 House Passed 110-2",)


def test_a_related_bill_row_on_a_bill_page_is_not_the_kratom_bill():
    before = page(["01/13/2026 Filed"], extra="<table><caption>Related Bills</caption>"
                                             "<tr><td>H 1003 Kratom Products Compare</td></tr></table>")
    after = page(["01/13/2026 Filed"], extra="<table><caption>Related Bills</caption>"
                                            "<tr><td>H 1003 Kratom Products Compare</td></tr>"
                                            "<tr><td>S 1500 Controlled Substances Compare; Died in Rules</td></tr></table>")
    assert findings(before, after) == []


def test_negated_statements_record_no_event():
    src = Source(id="faq", url="http://x", jurisdiction="US-NC", name="NC kratom FAQ")
    [f] = findings(page(["Kratom is sold in stores."], title="FAQ"),
                   page(["Kratom is sold in stores.", "The state has not banned kratom and no bill to schedule kratom "
                         "was filed this session."], title="FAQ"), src)
    assert f.event == "mention"


def test_a_kratom_alkaloid_added_to_a_schedule_list_is_a_scheduling():
    src = Source(id="ecfr", url="http://x", jurisdiction="US", name="eCFR 21 CFR 1308.11")
    heading = "<h2>§ 1308.11 Schedule I.</h2>"
    before = page(["(57) Lysergic acid diethylamide 7315"], title="eCFR", extra=heading)
    after = page(["(57) Lysergic acid diethylamide 7315", "(58) Mitragynine pseudoindoxyl 9149"], title="eCFR",
                 extra=heading)
    [f] = findings(before, after, src)
    assert (f.event, f.severity) == ("enacted", "critical")
