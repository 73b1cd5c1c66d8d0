"""A page's fingerprint (Page.fingerprint) lets a check skip reading a response whose content it has already read.

The one property that matters: a response that comes back `unchanged` against a fingerprint reads exactly as the
page that fingerprint came from. Pages whose bytes change on every request only outside their content (tokens,
render times, rotating widgets) must come back unchanged, or the fingerprint saves nothing.
"""
from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # bench/ is not an installed package

from bench.pages import PageSet, changed_ids, plan  # noqa: E402
from monitor.config import Source  # noqa: E402
from monitor.extract.html import extract_html  # noqa: E402
from test_extract_equivalence import TEXTS, tag_soup  # noqa: E402

CASES = sorted(p.parent for p in (Path(__file__).parent / "corpus").glob("*/after.html"))
SOURCE = Source(id="s", url="http://127.0.0.1/s", jurisdiction="US-FL", name="SB 1180 (Kratom Products)")


def check_skip(source: Source, before: bytes, after: bytes) -> bool:
    """Whether `after` is skipped against `before`'s fingerprint, asserting the property either way."""
    first = extract_html(source, before)
    again = extract_html(source, after, known=first.fingerprint)
    full = extract_html(source, after)
    assert full.fingerprint == again.fingerprint  # the same bytes make the same fingerprint, whatever is known
    if again.unchanged:
        assert again.blocks == () and full == first and first.fingerprint is not None
    else:
        assert again == full
    return again.unchanged


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_corpus_pages_skip_only_when_they_read_the_same(case):
    before, after = (case / "before.html").read_bytes(), (case / "after.html").read_bytes()
    assert check_skip(SOURCE, before, before) == (extract_html(SOURCE, before).fingerprint is not None)
    check_skip(SOURCE, before, after)


def test_benchmark_pages_with_fresh_tokens_are_skipped_and_changed_ones_are_read():
    specs = plan(40, seed=3)
    pages = PageSet(specs, seed=3)
    sources = {page_id: Source(id=page_id, url="http://127.0.0.1" + page.spec.path,
                               jurisdiction=page.spec.jurisdiction, name=page.spec.name)
               for page_id, page in pages.by_id.items()}
    before = {page_id: pages.body(page) for page_id, page in pages.by_id.items()}
    changed = set(changed_ids(specs, share=0.25, seed=3))
    for page_id in changed:
        pages.change(page_id)
    dynamic = 0
    for page_id, page in pages.by_id.items():
        after = pages.body(page)
        dynamic += after != before[page_id]
        assert check_skip(sources[page_id], before[page_id], after) == (page_id not in changed)
    assert dynamic > len(changed) + 10  # the tokens really do change the bytes of unchanged pages


def test_what_the_page_is_called_counts_as_content():
    body = b"<title>SB 1180</title><main><h1>SB 1180</h1><p>" + b"Kratom products. " * 20 + b"</p></main>"
    renamed = body.replace(b"<title>SB 1180", b"<title>SB 1180 (Kratom)")
    assert not check_skip(SOURCE, body, renamed)
    first = extract_html(SOURCE, body)
    other_name = Source(id="s", url=SOURCE.url, jurisdiction="US-FL", name="HB 12")
    assert not extract_html(other_name, body, known=first.fingerprint).unchanged


def test_pages_read_by_selectors_have_no_fingerprint_and_are_always_read():
    source = Source(id="s", url="http://127.0.0.1/s", jurisdiction="US-FL", select="main")
    body = b"<main><p>" + b"Kratom products. " * 20 + b"</p></main>"
    page = extract_html(source, body)
    assert page.fingerprint is None and page.blocks
    assert extract_html(source, body, known="anything").blocks == page.blocks


def test_random_edits_of_random_documents_skip_only_when_nothing_read_changed():
    skipped = read = 0
    for i in range(300):
        rnd = random.Random(i)
        document = f"<html><head><title>{rnd.choice(TEXTS)}</title></head><body>{tag_soup(rnd)}</body></html>"
        start = rnd.randrange(len(document))
        edited = document[:start] + rnd.choice(("", "x", " ", "<b>", "kratom", "<script>1</script>")) + \
            document[start + rnd.randint(0, 12):]
        if check_skip(SOURCE, document.encode(), edited.encode()):
            skipped += 1
        else:
            read += 1
    assert skipped > 50 and read > 50  # both outcomes were exercised (189 and 111 when written)


def test_content_with_control_characters_has_no_fingerprint_and_is_always_read():
    """libxml2 writes \\x01 and \\x1f alike (&#xFFFD;), and clean() does not: "not\\x1ffound" reads as a soft error,
    "not\\x01found" does not. Such content gets no fingerprint, so it is never skipped."""
    body = ("<html><head><title>SB 1180</title></head><body><main><p>Page not\x01found.</p><p>"
            + "Kratom products. " * 20 + "</p></main></body></html>")
    page = extract_html(SOURCE, body.encode())
    assert page.fingerprint is None and page.blocks and not page.unchanged and page.problem is None
    assert not check_skip(SOURCE, body.encode(), body.replace("\x01", "\x1f").encode())
    assert extract_html(SOURCE, body.replace("\x01", "\x1f").encode()).problem == "soft_error"
