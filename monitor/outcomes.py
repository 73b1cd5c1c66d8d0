"""The words for how a source's last check went, defined once.

`check`'s summary, `status` (and `status --json`), `history` and `show` all take them from here, so a pass can no
longer call a source `unchanged` while `status` calls it `changed`. Each outcome has a code, which is what the
pipeline stores in `sources.last_status` and what `status --json` prints, and words, which are what people read.

The codes `baseline`, `unchanged`, `changed`, `held` and `failed` are the pipeline's own statuses (Outcome.status,
the worker's log lines): `changed` has always meant that legal changes were recorded. `not_kratom` is the one code
the statuses lack: the page's text changed, but nothing in the change is about kratom's legal status (the pipeline
reports that as `unchanged` plus a count of irrelevant blocks).
"""
from __future__ import annotations

from typing import Any, Mapping

BASELINE = "baseline"
UNCHANGED = "unchanged"
NOT_KRATOM = "not_kratom"
LEGAL = "changed"
HELD = "held"
FAILED = "failed"

# In the order `check`'s summary lists them.
WORDS = {
    BASELINE: "baseline",  # first sight, or a new url/kind/selector: a snapshot taken, nothing compared
    UNCHANGED: "unchanged",  # the same text as the stored snapshot
    NOT_KRATOM: "changed (not kratom)",  # the text changed; nothing about kratom's legal status
    LEGAL: "legal change",  # one or more legal changes recorded
    HELD: "held as suspicious",  # most of the page vanished at once; the old snapshot stays the reference
    FAILED: "failed",  # unreachable, an HTTP error, a soft error page, a selector that matches nothing...
}
# What a recorded change says about its source's check, for the changes that are not legal ones.
OPERATIONAL_WORDS = {
    "suspicious_content": WORDS[HELD],
    "source_recovered": "recovered",
    "config_invalid": "sources.yaml refused",
}


def outcome_code(status: str, irrelevant: int = 0) -> str:
    """The code of a check the pipeline reports as `status`, which saw `irrelevant` changed blocks that are not
    about kratom."""
    return NOT_KRATOM if status == UNCHANGED and irrelevant else status


def stored_code(row: Mapping[str, Any]) -> str | None:
    """The code of a `sources` row; None for a source never checked. Rows stored before `not_kratom` existed said
    `changed` after any edit of the text: one whose last change is not from its last check had no legal change."""
    code = row.get("last_status") or None
    if code == LEGAL and row.get("last_change_at") != row.get("last_checked"):
        return NOT_KRATOM
    return code


def words(code: str | None) -> str:
    return WORDS.get(code, code) if code else "-"


def change_words(kind: str, event: str) -> str:
    """What a recorded change was, in the same words: a legal change, a check held as suspicious, a failed check
    (every other operational event is the class of a failure), a recovery, a refused sources.yaml."""
    if kind == "legal":
        return WORDS[LEGAL]
    return OPERATIONAL_WORDS.get(event, WORDS[FAILED])
