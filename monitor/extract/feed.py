"""RSS 0.9x/1.0/2.0 and Atom feeds (feedparser) -> one block per entry, judged on its title and description.

An entry is identified by its guid/id, else its link. The feed's own dates (lastBuildDate, updated) are not read,
and an entry's date is kept out of what diff compares ("_published"), so a re-dated or re-ordered feed is no
change. A feed lists only its latest entries, so the page is a "latest" window: an entry that ages out of it is
kept in the snapshot, and only one that vanishes from among newer entries reads as removed (see diff.carry_over).

Untrusted XML: feedparser gets a stream, never the bytes (bytes it would first try to open as a local file path),
and a document whose DTD declares any entity is refused before any parser expands it, as defusedxml does by
default: XXE (<!ENTITY x SYSTEM "file:///etc/passwd">) and entity-expansion bombs are made of such declarations,
and feeds do not need them. feedparser never fetches external DTDs either.
"""
from __future__ import annotations

import html
import io
import re
import time
import xml.sax
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import defusedxml.sax
from defusedxml import EntitiesForbidden

from ..config import Source
from ..models import Page
from .items import item_block, unique
from .text import block_key, clean

_MARKUP_RE = re.compile(r"<!--.*?-->|<[^>]*>", re.S)
_TRACKING_RE = re.compile(r"^(utm_\w+|fbclid|gclid|mc_cid|mc_eid)$", re.I)


def extract_feed(source: Source, body: bytes, charset: str | None = None) -> Page:
    refused = _declared_entity(body)
    if refused:
        return Page(blocks=(), problem="unparseable", problem_detail=refused)
    headers = {"content-location": source.url}  # resolves relative entry links
    if charset:
        headers["content-type"] = f"application/xml; charset={charset}"
    import feedparser  # here: a check of html pages only should not pay for importing it

    # entry links resolve against the feed's address either way; URIs inside entry HTML are not needed
    parsed = feedparser.parse(io.BytesIO(body), response_headers=headers, resolve_relative_uris=False)
    if not parsed.version and not parsed.entries:
        reason = parsed.get("bozo_exception")
        return Page(blocks=(), problem="unparseable",
                    problem_detail=f"not an RSS or Atom feed ({reason or 'no feed elements'})"[:300])
    # The feed's own title and description often say what its items are ("Bills introduced", "Rules adopted").
    title, about = clean(parsed.feed.get("title", "")), _readable(parsed.feed.get("subtitle_detail"))
    return Page(blocks=unique(_entry(e) for e in parsed.entries), title=title, window="latest",
                page_context=tuple(t for t in (title, about) if t))


def _entry(entry):
    title = _readable(entry.get("title_detail"))
    # the description, else Atom <content> or RSS content:encoded
    summary = next(filter(None, map(_readable, [entry.get("summary_detail"), *(entry.get("content") or ())])), "")
    link = _without_tracking(entry.get("link") or "")
    key = entry.get("id") or link or block_key(f"{title} {summary}")
    stamp = entry.get("published_parsed") or entry.get("updated_parsed")
    return item_block(key, [title, summary], {
        "schema": "feed", "title": title, "_url": link if link.startswith(("http://", "https://")) else None,
        "_published": time.strftime("%Y-%m-%dT%H:%M:%SZ", stamp) if stamp else None,
    })


def _without_tracking(link: str) -> str:
    """The link without the campaign parameters a CMS adds to feed links (?utm_source=rss&...): they change with
    a plugin update, not with the entry."""
    parts = urlsplit(link)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING_RE.match(k)]
    return urlunsplit(parts._replace(query=urlencode(query))) if parts.query else link


def _readable(detail) -> str:
    """A text construct as a reader sees it. feedparser has sanitised its HTML (scripts and styles gone, stray
    "<" escaped), so dropping comments and tags and decoding entities leaves the text, fast and without a parser
    that could choke on one odd entry."""
    value, kind = (detail or {}).get("value") or "", (detail or {}).get("type") or ""
    return clean(html.unescape(_MARKUP_RE.sub(" ", value)) if "html" in kind else value)


class _PrologRead(Exception):
    """The first element was reached: no entity can be declared after it."""


class _StopAtFirstElement(xml.sax.handler.ContentHandler):
    def startElement(self, name, attrs):
        raise _PrologRead


def _declared_entity(body: bytes) -> str:
    """Why the document is refused, or "" when its prolog declares no entity. Only the prolog is parsed."""
    refusal = "the feed declares XML entities ({}), which are refused: XXE and entity-expansion bombs are made of them"
    try:
        defusedxml.sax.parseString(body, _StopAtFirstElement(), forbid_entities=True, forbid_external=False)
    except EntitiesForbidden as e:
        return refusal.format(repr(e.name))
    except _PrologRead:
        pass
    except (xml.sax.SAXException, ValueError, LookupError):
        # expat cannot read it (a multi-byte encoding, broken XML that feedparser's loose parser may still read)
        if b"<!ENTITY" in body:
            return refusal.format("<!ENTITY")
    return ""
