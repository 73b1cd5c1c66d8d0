"""LegiScan getSearch -> one block per bill, keyed by bill_id, with its stage and status from getBill.

A search result names a bill and its change_hash but not its status, so the expand step (monitor/expand.py) calls
getBill for each bill whose change_hash moved and puts the bill under its search entry ("bill"); this module only
reads. An entry without "bill" did not change: it is absent from the page and diff.carry_over keeps its previous
block (the page is a "search" window, so a bill that drops out of the results is not removed either).

The stage comes from the bill's progress events (status 1 Introduced, 2 Engrossed, 3 Enrolled, 4 Passed, 5 Vetoed,
6 Failed; 7 Veto override, 8 Chaptered, 9 Referred, 10 Committee report pass, 11 Committee report do-not-pass).
LegiScan's "Passed" means the bill completed its course (signed, or law without signature), hence `enacted`.
"""
from __future__ import annotations

import json
from typing import Any, Iterable, Mapping
from urllib.parse import urlencode, urlsplit, urlunsplit

from ..config import Source
from ..models import Block, Page
from .items import bill_number, furthest, item_block, load_object, unique, us_jurisdiction

# progress event / status code -> (how LegiScan names it, our event)
PROGRESS = {
    0: ("Prefiled", "introduced"), 1: ("Introduced", "introduced"), 2: ("Engrossed", "advanced"),
    3: ("Enrolled", "passed"), 4: ("Passed", "enacted"), 5: ("Vetoed", "failed"), 6: ("Failed", "failed"),
    7: ("Veto overridden", "enacted"), 8: ("Chaptered", "enacted"), 9: ("Referred to committee", "introduced"),
    10: ("Reported from committee, do pass", "advanced"), 11: ("Reported from committee, do not pass", "failed"),
}
# What the extractor reads of a getBill answer; the rest (texts, votes, sponsors) is not carried along.
BILL_KEYS = ("bill_id", "change_hash", "bill_number", "state", "title", "description", "status", "status_date",
             "progress", "history", "url", "state_link")


def extract_legiscan(source: Source, body: bytes, charset: str | None = None) -> Page:
    data = load_object(body)
    if data.get("status") != "OK":
        return Page(blocks=(), problem="soft_error", problem_detail=f"LegiScan: {api_error(data)}"[:300])
    if not isinstance(data.get("searchresult"), dict):
        return Page(blocks=(), problem="unparseable", problem_detail="not a LegiScan getSearch response")
    summary = data["searchresult"].get("summary") or {}
    blocks = unique(_bill(e["bill"]) for e in search_entries(data) if isinstance(e.get("bill"), dict))
    return Page(blocks=blocks, title=f"LegiScan search: {summary.get('query') or ''}".strip(), window="search")


def search_entries(data: Mapping[str, Any]) -> list[dict]:
    """The bills of a getSearch answer ({"0": {...}, "1": {...}, "summary": ...}) or of getSearchRaw ("results")."""
    result = data.get("searchresult")
    if not isinstance(result, dict):
        return []
    rows = result["results"] if isinstance(result.get("results"), list) else \
        [v for k, v in result.items() if k != "summary"]
    return [r for r in rows if isinstance(r, dict) and r.get("bill_id")]


def bill_url(search_url: str, bill_id: Any) -> str:
    """getBill at the same address as the configured search, so a mirror or proxy serves both."""
    return urlunsplit(urlsplit(search_url)._replace(query=urlencode({"op": "getBill", "id": bill_id})))


def read_bill(body: bytes) -> dict:
    """The bill of a getBill answer, reduced to BILL_KEYS. Raises ValueError with LegiScan's message."""
    data = load_object(body)
    if data.get("status") != "OK" or not isinstance(data.get("bill"), dict):
        raise ValueError(api_error(data))
    return {k: data["bill"][k] for k in BILL_KEYS if k in data["bill"]}


def with_bills(data: dict, bills: Mapping[str, dict]) -> bytes:
    """The search answer with each fetched bill under its entry, as the body extract_legiscan reads."""
    for entry in search_entries(data):
        bill = bills.get(str(entry["bill_id"]))
        if bill is not None:
            entry["bill"] = bill
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


def api_error(data: Mapping[str, Any]) -> str:
    alert = data.get("alert")
    message = alert.get("message") if isinstance(alert, dict) else None
    return str(message or f"status {data.get('status')!r}")


def _bill(bill: dict) -> Block:
    steps = sorted((p for p in bill.get("progress") or () if isinstance(p, dict) and p.get("event") in PROGRESS),
                   key=lambda p: str(p.get("date") or ""))
    if not steps and bill.get("status") in PROGRESS:
        steps = [{"event": bill["status"], "date": bill.get("status_date")}]
    event = furthest(PROGRESS[p["event"]][1] for p in steps)
    step = next((p for p in reversed(steps) if PROGRESS[p["event"]][1] == event), None)
    status = _status(step, bill.get("history") or ()) if step else None
    measure = bill_number(str(bill.get("bill_number") or ""))
    title = str(bill.get("title") or "")
    return item_block(str(bill["bill_id"]), [title, bill.get("description"), status and f"Status: {status}"], {
        "schema": "legiscan", "measure": measure, "title": title,
        "jurisdiction": us_jurisdiction(str(bill.get("state") or "")), "event": event, "status": status,
        "_url": bill.get("state_link") or bill.get("url"), "_change_hash": bill.get("change_hash"),
    }, topic=f"{measure}: {title}")


def _status(step: Mapping[str, Any], history: Iterable[Any]) -> str:
    """"Engrossed (2026-02-10): Passed H., Ayes 90, Nays 2": the stage and the action that reached it."""
    name, date = PROGRESS[step["event"]][0], str(step.get("date") or "")
    actions = [str(h["action"]) for h in history if isinstance(h, dict) and h.get("date") == date and h.get("action")]
    return f"{name} ({date})" + (f": {actions[-1]}" if actions else "") if date else name
