"""Measure identifiers: bill numbers, Federal Register documents, dockets and rule numbers."""
from __future__ import annotations

import re

_CHAMBER = {"senate bill": "SB", "house bill": "HB", "assembly bill": "AB", "senate file": "SF", "house file": "HF",
            "legislative bill": "LB", "legislative document": "LD", "house resolution": "HR",
            "senate resolution": "SR", "house joint resolution": "HJR", "senate joint resolution": "SJR"}
BILL_RE = re.compile(
    r"(?<![\w/])((?:C[S]/){0,3}(?:CS/)?)"
    r"(S\.?\s?B|H\.?\s?B|A\.?\s?B|S\.?\s?F|H\.?\s?F|L\.?\s?B|L\.?\s?D|H\.?\s?R|S\.?\s?R|H\.?\s?J\.?\s?R|S\.?\s?J\.?\s?R|"
    r"H\.?\s?C\.?\s?R|S\.?\s?C\.?\s?R|SB|HB|AB|SF|HF|LB|LD|HR|H|S|A)\.?\s?(\d{1,5})[A-Z]?\b(?!\s*(%|mg|percent|-\d))")
WORDY_BILL_RE = re.compile(r"\b(senate|house|assembly|legislative)\s+(bill|file|document|resolution|joint\s+resolution)"
                           r"\s+(no\.?\s*)?(\d{1,5})\b(?![-/]\w)", re.I)
# Colorado's SB25-072; Denver's council bills CB 26-0418 (and resolutions CR)
# ... and the DC Council's B26-0456 (bills) and PR26-0101 (proposed resolutions)
SESSION_BILL_RE = re.compile(r"(?<![\w/])((?:CS/)*)(SB|HB|CB|CR|B|PR)\s?(\d{2}-\d{3,4})\b")
FR_DOC_RE = re.compile(r"\b(?:FR\s+Doc\.?\s*(?:No\.?)?\s*)?((?:19|20)\d{2}-\d{5})\b")
DOCKET_RE = re.compile(r"\b(?:Docket\s+(?:No\.?\s*)?)?(DEA-\d{3,4}|FDA-\d{4}-[A-Z]-\d{3,5})\b")
# ... and Australia's Federal Register of Legislation ids (F2026L01402)
# Canada's Statutory Orders and Regulations (SOR/2026-245) too
# Puerto Rico's "P. de la C. 1234" and "P. del S. 56" (House and Senate bills)
# Chicago's O2026-0019843; a Legistar record's "File #: 2026-0712"
RULE_RE = re.compile(r"\b(O\d{4}-\d{4,8}|File\s*(?:#|No\.?)\s*:?\s*\d[\w-]*\d|P\.\s?(?:de\s+la\s+C|del\s+S)\.\s?\d{1,5}|SOR/\d{4}-\d+|(?:Directive|Regulation|Decision)\s+\((?:EU|EC|EEC)\)\s+(?:No\s+)?\d{4}/\d+|F\d{4}L\d{5}|R\d{2,3}-\d{1,4}(?:-\d{1,4})?|\d{3,4}:\d{1,2}-\d{1,2}-\d{1,3}(?:\.\d+)?|\d?ER\d{2}-\d+|Rule\s+\d{1,3}[A-Z]?-\d+(?:\.\d+)*|(?:Act|Akta)\s+(?:No\.?\s*)?(?!(?:18|19|20)\d\d\b)A?\d{1,4}|"
                     r"Ordinance\s+(?:No\.?\s*)?[\w-]*\d[\w-]*|Import\s+Alert\s+\d{2}-\d{2}|Public\s+Act\s+\d+-\d+)\b",
                     re.I)


def find_measure(text: str) -> str | None:
    """The first identifier in `text`, normalised ("S.B. 1180" -> "SB 1180", "Senate Bill 42" -> "SB 42")."""
    session = SESSION_BILL_RE.search(text)
    if session:
        return f"{session.group(1)}{session.group(2)} {session.group(3)}"
    m = WORDY_BILL_RE.search(text)
    bill = BILL_RE.search(text)
    if bill and (not m or bill.start() <= m.start()) and _plausible_bill(bill):
        prefix = bill.group(1).upper()
        chamber = bill.group(2).replace(".", "").replace(" ", "").upper()
        return f"{prefix}{chamber} {int(bill.group(3))}"
    if m:
        kind = re.sub(r"\s+", " ", f"{m.group(1)} {m.group(2)}".lower())
        return f"{_CHAMBER.get(kind, kind.title())} {int(m.group(4))}"
    for pattern in (FR_DOC_RE, DOCKET_RE, RULE_RE):
        found = pattern.search(text)
        if found:
            return re.sub(r"\s+", " ", found.group(1)).strip()
    return None


def _plausible_bill(match: re.Match) -> bool:
    """"SB 12" always; a bare "H.1631" or "H 1003" (four digits) too, but not "H 560", which on Missouri's pages
    is a journal page, nor "A 1"."""
    chamber = match.group(2).replace(" ", "")
    if len(chamber.replace(".", "")) > 1 or match.group(1):
        return True
    dotted = match.group(0)[len(match.group(1)) + len(match.group(2)):].startswith(".")  # "H.611", Vermont's
    return dotted or (chamber in ("H", "S", "A") and len(match.group(3)) >= 4)


def is_bill(measure: str) -> bool:
    """A legislature's bill or resolution number, as find_measure spells it (not a rule, act or document)."""
    return bool(re.match(r"^(CS/)*([A-Z]{1,4}) \d", measure)) and not measure.lower().startswith(("act", "akta"))


def measure_key(measure: str | None) -> str:
    """What stays the same while a bill advances: "CS/CS/SB 1180" and "SB 1180" are one measure."""
    if not measure:
        return ""
    key = re.sub(r"^(CS/)+", "", measure.upper()).replace(" ", "")
    return re.sub(r"^([HS])(\d)", r"\1B\2", key)  # Florida's "S 1180" is SB 1180
