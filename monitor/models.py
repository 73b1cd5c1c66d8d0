"""The small typed records that flow between stages: fetch -> extract -> diff -> detect -> store -> notify."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

# "unclassified": a kratom measure changed in a way no rule classifies; a weak alert is better than a miss.
EVENTS = ("introduced", "advanced", "passed", "enacted", "failed", "amended", "mention", "unclassified")
SEVERITIES = ("info", "low", "medium", "high", "critical")


def severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else 0


@dataclass(frozen=True)
class FetchResult:
    """What one request produced. `status` is ok | not_modified | error; errors never raise past fetch."""

    status: str
    url: str
    http_status: int | None = None
    body: bytes = b""
    content_type: str = ""
    charset: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    error_class: str | None = None
    error: str | None = None
    elapsed: float = 0.0
    cause: str | None = None  # what a transport error means (monitor/causes.py): name_resolution, tls...

    @property
    def ok(self) -> bool:
        return self.status in ("ok", "not_modified")


@dataclass(frozen=True)
class Block:
    """One unit of page text (a table row, list item, paragraph, heading, feed item or API record).

    `key` is its identity for diffing: normalised text for pages (so re-sorting changes nothing), the item's own id
    for structured sources (so an edited item is a modification, not an add plus a remove). `context` holds the
    texts that say what the block is about, nearest first: its section heading, table caption, page heading, title.
    `fields` carries structured data (Federal Register type and effective date, a bill's number and status).
    """

    key: str
    text: str
    context: tuple[str, ...] = ()
    tag: str = "p"
    fields: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"key": self.key, "text": self.text}
        if self.context:
            out["context"] = list(self.context)
        if self.tag != "p":
            out["tag"] = self.tag
        if self.fields:
            out["fields"] = dict(self.fields)
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Block":
        return cls(key=d["key"], text=d["text"], context=tuple(d.get("context", ())), tag=d.get("tag", "p"),
                   fields=d.get("fields") or {})


@dataclass(frozen=True)
class Identity:
    """What a page is, as extraction reads it (extract/identity.py): `kind` measure (one bill, rule, ordinance,
    alert or notice), list (search results, agendas, press lists, feeds, APIs) or document (statute, guidance);
    the measure a measure page is about; and its topic texts (title, headings, short title, caption, abstract,
    summary, labelled fields, a feed's title and description). A list item's identity is its own, never these."""

    kind: str
    measure: str | None = None
    topic: tuple[str, ...] = ()


@dataclass(frozen=True)
class Page:
    """What extract made of a response. `problem` names why the content cannot be trusted as the page's text
    (selector_missing, soft_error, empty, unsupported_content), leaving the stored snapshot as the reference."""

    blocks: tuple[Block, ...]
    title: str = ""
    heading: str = ""  # the page's first <h1>
    problem: str | None = None
    problem_detail: str = ""
    page_context: tuple[str, ...] = ()  # the page-wide context (heading, title, source name) every block carries
    # How an item missing from a response reads (keyed items only, see diff.carry_over): None, the response is the
    # whole list, so it was removed; "search", one page of search results, so it was pushed out, not removed;
    # "latest", a feed of the latest items, so it aged out if older than every item still listed, else it was
    # withdrawn.
    window: str | None = None
    # A hash of everything the blocks were read from (the HTML fast path only): a later response with the same
    # fingerprint reads the same, so it need not be read. A cache key, not content: equal pages may differ in it.
    fingerprint: str | None = field(default=None, compare=False)
    # The response's fingerprint equals the one the caller already holds: its blocks were not read (blocks is ()).
    unchanged: bool = False
    identity: Identity | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Vanished:
    """A page block that left the page at the source's `since`-th good check, remembered for a few checks so that
    one coming back (mirrors out of sync behind a load balancer) is not news."""

    block: Block
    since: int

    def to_dict(self) -> dict[str, Any]:
        return {"since": self.since, "block": self.block.to_dict()}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Vanished":
        return cls(block=Block.from_dict(d["block"]), since=int(d["since"]))


@dataclass(frozen=True)
class Diff:
    added: tuple[Block, ...] = ()
    removed: tuple[Block, ...] = ()
    modified: tuple[tuple[Block, Block], ...] = ()  # (old, new) of the same item
    returned: tuple[Block, ...] = ()  # blocks back soon after they vanished: no change, and not reported

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.modified)


@dataclass(frozen=True)
class Finding:
    """A change judged to be about kratom's legal status: what detect hands to store."""

    event: str
    severity: str
    summary: str
    added: tuple[str, ...]
    removed: tuple[str, ...]
    direction: str = "neutral"
    measure: str | None = None
    explanation: Mapping[str, Any] = field(default_factory=dict)
    jurisdiction: str | None = None  # the item's own, when a multi-state source (LegiScan, Open States) names it
    url: str | None = None  # the item's own link (a bill, an FR document), when the source is an API
