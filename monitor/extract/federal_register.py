"""Federal Register API search results (documents.json, public-inspection-documents JSON) -> one block per document.

A document is identified by its document_number. Its type ("Rule", "Proposed Rule", "Notice"), effective date
and agency go into fields, where detect reads the event (a proposed rule is introduced; a rule is passed until its
effective_on, then enacted). The response is read as a window ("search"): only its first page is read, and a
document missing from it was pushed off by newer ones (or the search came back empty), never repealed, so it
stays in the snapshot and never reads as removed. Use `order=newest` so a new document always lands on page 1.
"""
from __future__ import annotations

from typing import Any

from ..config import Source
from ..models import Page
from .items import item_block, load_object, unique


def extract_federal_register(source: Source, body: bytes, charset: str | None = None) -> Page:
    data = load_object(body)
    results = data.get("results", [])  # an empty search has a count of 0 and no `results` key at all
    if not isinstance(results, list) or ("results" not in data and "count" not in data):
        return Page(blocks=(), problem="unparseable",
                    problem_detail=f"not a Federal Register search response (keys: {', '.join(sorted(data))[:200]})")
    blocks = unique(_document(d) for d in results if isinstance(d, dict) and d.get("document_number"))
    return Page(blocks=blocks, title=str(data.get("description") or ""), window="search")


def _document(doc: dict[str, Any]):
    number = str(doc["document_number"])
    kind = doc.get("type") or ""
    title = doc.get("title") or ""
    return item_block(number, [f"{kind}: {title}" if kind else title, doc.get("abstract")], {
        "schema": "federal_register", "document_number": number, "measure": number, "title": title,
        "type": kind, "agency": _agency(doc.get("agencies")), "publication_date": doc.get("publication_date"),
        "effective_on": doc.get("effective_on"), "comments_close_on": doc.get("comments_close_on"),
        "_url": doc.get("html_url"),
    })


def _agency(agencies: Any) -> str | None:
    """The most specific agency: the Drug Enforcement Administration rather than its parent, Justice."""
    if not isinstance(agencies, list):
        return None
    named = [a for a in agencies if isinstance(a, dict) and (a.get("name") or a.get("raw_name"))]
    parents = {a.get("parent_id") for a in named} - {None}
    specific = [a for a in named if a.get("id") not in parents] or named
    return str(specific[0].get("name") or specific[0].get("raw_name")) if specific else None
