"""HTML pages -> text blocks with context: the way in (`extract_html`).

BeautifulSoup is the parser of record (html_soup.py). Building its tree is most of a check's CPU, so pages read the
plain way (no `select`/`exclude`) go through html_lxml.py, the same rules on lxml's own tree: it gives identical
Pages (tests/test_extract_equivalence.py) and declines anything it cannot vouch for, which then goes to bs4. The
rules both share live in rules.py, the decoding in decode.py; this module only chooses the parser, so the imports
run one way: html -> html_lxml, html_soup -> rules.

Neither tree is built for a page over the element or depth budget (budget.py): it comes back as a `too_complex`
Page problem, before it can cost more memory than the budget allows.
"""
from __future__ import annotations

from ..config import Source
from ..models import Page
from .budget import Budget, over_budget
from .decode import markup


def extract_html(source: Source, body: bytes, charset: str | None = None, known: str | None = None,
                 budget: Budget = Budget()) -> Page:
    """`known`: the fingerprint of the page last read, if any (see Page.fingerprint)."""
    # bs4's parser (with soupsieve, a tenth of a second of start-up) is imported only for a page the fast path
    # declines.
    text = markup(body, charset)
    if not source.select and not source.exclude:
        from .html_lxml import MAX_DEPTH, extract_lxml

        problem = over_budget(text, budget, deepest_read=MAX_DEPTH)  # deeper pages go on to bs4, counted there
        if problem:
            return Page(blocks=(), problem="too_complex", problem_detail=problem)
        page = extract_lxml(source, text, known)
        if page is not None:
            return page
    problem = over_budget(text, budget)
    if problem:
        return Page(blocks=(), problem="too_complex", problem_detail=problem)
    from .html_soup import extract_soup

    return extract_soup(source, text)
