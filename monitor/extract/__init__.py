"""One parser per source kind: a response's bytes -> a Page of text blocks with context."""
from __future__ import annotations

from dataclasses import replace
from typing import Callable

from ..config import Source
from ..models import FetchResult, Page
from .budget import Budget
from .feed import extract_feed
from .federal_register import extract_federal_register
from .html import extract_html
from .identity import identify
from .legiscan import extract_legiscan
from .openstates import extract_openstates

Parser = Callable[[Source, bytes, "str | None"], Page]
PARSERS: dict[str, Parser] = {
    "html": extract_html,
    "feed": extract_feed,
    "federal_register": extract_federal_register,
    "legiscan": extract_legiscan,
    "openstates": extract_openstates,
}


def extract(source: Source, result: FetchResult, known: str | None = None, budget: Budget = Budget()) -> Page:
    """Parse a fetched body with the parser of the source's kind. Never raises on bad input. `known`: the
    fingerprint of the page last read; a response that reads the same comes back as an `unchanged` Page. `budget`:
    the most elements and depth an HTML page may have (a `too_complex` Page beyond it)."""
    parser = PARSERS.get(source.kind)
    if parser is None:
        return Page(blocks=(), problem="unsupported_kind", problem_detail=f"no parser for kind {source.kind!r}")
    problem = _unexpected_content(source.kind, result)
    if problem:
        return Page(blocks=(), problem="unsupported_content", problem_detail=problem)
    try:
        if source.kind == "html":  # the one parser that can skip a known page and that builds a tree to bound
            page = extract_html(source, result.body, result.charset, known=known, budget=budget)
        else:
            page = parser(source, result.body, result.charset)
        return page if page.problem or page.unchanged else replace(page, identity=identify(source, page))
    except RecursionError:
        return Page(blocks=(), problem="unparseable", problem_detail="the document is nested too deeply to read")
    except (ValueError, LookupError, UnicodeError, AssertionError) as e:
        return Page(blocks=(), problem="unparseable", problem_detail=f"{type(e).__name__}: {e}"[:300])


_BINARY_TYPES = ("application/pdf", "image/", "audio/", "video/", "application/zip", "application/octet-stream",
                 "application/msword", "application/vnd.", "font/")
_MAGIC = (b"%PDF", b"PK\x03\x04", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"\x1f\x8b", b"BZh", b"\xd0\xcf\x11\xe0")
# Bytes text never holds; NUL counts (binary is full of them), tab, newlines, form feed and ESC (ISO-2022) do not.
_TEXT_BYTES = bytes(range(0x20, 0x100)) + b"\t\n\r\x0b\x0c\x1b"
_WIDE_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")


def _unexpected_content(kind: str, result: FetchResult) -> str:
    """Binary where text was expected (a PDF, an image, an archive) is a per-source error, not a parse. A binary
    Content-Type alone is not enough when the body plainly is markup or JSON (servers mislabel pages
    application/octet-stream); a few stray control bytes or NULs in a page are not binary either."""
    content_type = result.content_type.split(";")[0].strip().lower()
    head = result.body[:4096]
    got = f"expected {kind} text, got {{}} ({len(result.body):,} bytes)"
    if head.startswith(_MAGIC):
        return got.format(content_type or "binary data")
    wide = head.startswith(_WIDE_BOMS) or (result.charset or "").lower().startswith(("utf-16", "utf-32"))
    if not wide and len(head.translate(None, _TEXT_BYTES)) > len(head) // 12:  # random bytes: ~11%
        return got.format("binary data")
    if content_type.startswith(_BINARY_TYPES) and head.lstrip()[:1] not in (b"<", b"{", b"["):
        return got.format(content_type)
    return ""
