"""One parser per source kind: a response's bytes -> a Page of text blocks with context."""
from __future__ import annotations

from typing import Callable

from ..config import Source
from ..models import FetchResult, Page
from .html import extract_html

Parser = Callable[[Source, bytes, "str | None"], Page]

PARSERS: dict[str, Parser] = {
    "html": extract_html,
}


def extract(source: Source, result: FetchResult) -> Page:
    """Parse a fetched body with the parser of the source's kind. Never raises on bad input."""
    parser = PARSERS.get(source.kind)
    if parser is None:
        return Page(blocks=(), problem="unsupported_kind", problem_detail=f"no parser for kind {source.kind!r}")
    problem = _unexpected_content(source.kind, result)
    if problem:
        return Page(blocks=(), problem="unsupported_content", problem_detail=problem)
    try:
        return parser(source, result.body, result.charset)
    except RecursionError:
        return Page(blocks=(), problem="unparseable", problem_detail="the document is nested too deeply to read")
    except (ValueError, LookupError, UnicodeError, AssertionError) as e:
        return Page(blocks=(), problem="unparseable", problem_detail=f"{type(e).__name__}: {e}"[:300])


_BINARY_TYPES = ("application/pdf", "image/", "audio/", "video/", "application/zip", "application/octet-stream",
                 "application/msword", "application/vnd.", "font/")
_MAGIC = (b"%PDF", b"PK\x03\x04", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"\x1f\x8b", b"BZh", b"\xd0\xcf\x11\xe0")


def _unexpected_content(kind: str, result: FetchResult) -> str:
    """Binary where text was expected (a PDF, an image, an archive) is a per-source error, not a parse."""
    content_type = result.content_type.split(";")[0].strip().lower()
    head = result.body[:8]
    if any(head.startswith(m) for m in _MAGIC) or (content_type and content_type.startswith(_BINARY_TYPES)):
        return f"expected {kind} text, got {content_type or 'binary data'} ({len(result.body):,} bytes)"
    sample = result.body[:4096]
    if sample and sample.count(b"\x00") > len(sample) // 4:
        return f"expected {kind} text, got binary data ({len(result.body):,} bytes)"
    return ""
