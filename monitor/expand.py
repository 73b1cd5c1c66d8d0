"""Follow-up requests a source's first response calls for, made between fetch and extract.

LegiScan's getSearch names each bill with a change_hash but not its status: getBill is requested for each bill
whose change_hash differs from the one stored with its block, and the answers are put into the search response,
which extract then reads without any network I/O. Every request goes through the Fetcher, so its limits, retries,
politeness and API key handling apply. Any getBill that fails fails the whole check (the snapshot stays as it
was and the next pass asks again), so a pass never records a half-updated picture.
"""
from __future__ import annotations

import asyncio
import hashlib
from dataclasses import replace
from typing import Awaitable, Callable, Sequence

from .config import Source
from .extract import legiscan
from .extract.items import load_object
from .fetch import Fetcher, request_auth
from .models import Block, FetchResult

# getBill requests per pass, beyond what one getSearch page (50 bills) can ask for; the rest wait for the next pass.
MAX_BILL_REQUESTS = 100

Expander = Callable[[Fetcher, Source, FetchResult, Sequence[Block]], Awaitable[FetchResult]]


async def expand(fetcher: Fetcher, source: Source, result: FetchResult, previous: Sequence[Block]) -> FetchResult:
    """`result` with whatever its kind needs fetched on top; unchanged for kinds that need nothing or on error."""
    expander = EXPANDERS.get(source.kind)
    if expander is None or result.status != "ok":
        return result
    return await expander(fetcher, source, result, previous)


async def _legiscan_bills(fetcher: Fetcher, source: Source, result: FetchResult,
                          previous: Sequence[Block]) -> FetchResult:
    try:
        data = load_object(result.body)
    except ValueError:
        return result  # extract says what is wrong with it
    known = {b.key: b.fields.get("_change_hash") for b in previous}
    stale = [e for e in legiscan.search_entries(data) if known.get(str(e["bill_id"])) != e.get("change_hash")]
    wanted = stale[:MAX_BILL_REQUESTS]
    params, headers = request_auth(source, fetcher.env)
    answers = await asyncio.gather(*(fetcher.get(legiscan.bill_url(source.url, e["bill_id"]), source.timeout,
                                                 params=params, headers=headers) for e in wanted))
    bills = {}
    for entry, answer in zip(wanted, answers):
        what = f"getBill {entry['bill_id']}"
        if answer.status != "ok":
            return replace(answer, status="error", error=f"{what}: {answer.error or answer.status}")
        try:
            bills[str(entry["bill_id"])] = legiscan.read_bill(answer.body)
        except ValueError as e:
            return replace(answer, status="error", error_class="api_error", error=f"{what}: LegiScan: {e}"[:300])
    body = legiscan.with_bills(data, bills)
    # The search's own hash lets an identical search skip the next pass, but not while bills wait their turn.
    return replace(result, body=body, body_hash=result.body_hash if len(stale) == len(wanted) else
                   hashlib.sha256(body).hexdigest())


EXPANDERS: dict[str, Expander] = {"legiscan": _legiscan_bills}
