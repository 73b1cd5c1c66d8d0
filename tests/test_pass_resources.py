"""What keeps a long pass cheap without changing what it records: stored blocks are read only when a body must be
compared with them, checks in flight are bounded, and records are committed in batches whose every source still
commits whole."""
from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from dataclasses import replace
from datetime import datetime, timezone

import pytest

from conftest import Response, bill_page
from monitor.config import Config, Settings, Source
from monitor.fetch import Fetcher
from monitor.pipeline import CHECKS_PER_FETCH_SLOT, Checker, run_pass
from monitor import store as store_module
from monitor.store import BATCH_RECORDS, ChangeRecord, Snapshot, Store

ROWS = [("01/13/2026", "Senate", "Filed"), ("01/20/2026", "Senate", "Referred to Health Policy")]


class CountingStore(Store):
    """Counts the snapshot reads that decode blocks."""

    decoded = 0

    def snapshot(self, source_id):
        self.decoded += 1
        return super().snapshot(source_id)


def run_checks(store: Store, sources: list[Source], settings: Settings = Settings()) -> list:
    async def go():
        fetcher = Fetcher(settings)
        try:
            checker = Checker(Config(settings, tuple(sources)), store, fetcher, lambda: datetime.now(timezone.utc))
            return await run_pass(checker, tuple(sources))
        finally:
            await fetcher.aclose()

    return asyncio.run(go())


def test_blocks_are_decoded_only_when_a_new_body_must_be_compared(server, tmp_path):
    pages = {"etag": bill_page("SB 1180: Kratom Products", ROWS), "plain": bill_page("HB 12: Kratom Act", ROWS)}

    def etag_page(request) -> Response:
        if request.headers.get("If-None-Match") == '"v1"':
            return Response(304)
        return Response(200, pages["etag"], {"ETag": '"v1"'})

    server.routes["/etag"] = etag_page
    server.routes["/plain"] = lambda request: Response(200, pages["plain"])
    sources = [Source(id=name, url=server.url(f"/{name}"), jurisdiction="US-FL") for name in pages]
    store = CountingStore.open(tmp_path)
    try:
        assert [o.status for o in run_checks(store, sources)] == ["baseline", "baseline"]
        assert store.decoded == 0  # nothing stored yet: nothing to read
        head, full = store.snapshot_head("etag"), store.snapshot("etag")
        assert (head.etag, head.last_modified, head.body_hash, head.definition) == \
            ('"v1"', None, full.body_hash, sources[0].definition)
        store.decoded = 0
        assert [o.status for o in run_checks(store, sources)] == ["unchanged", "unchanged"]
        assert store.decoded == 0  # a 304 and an identical body need no blocks
        pages["plain"] = bill_page("HB 12: Kratom Act", ROWS + [("03/04/2026", "Senate", "Passed; YEAS 37 NAYS 1")])
        outcomes = run_checks(store, sources)
        assert [o.status for o in outcomes] == ["unchanged", "changed"] and store.decoded == 1
    finally:
        store.close()


def test_a_page_whose_bytes_change_on_every_request_is_not_read_again_until_its_content_does(server, tmp_path):
    """bill_page() writes a fresh time into a script and the footer, as token-carrying sites do: no two responses
    hash alike, yet the content's fingerprint matches and the stored snapshot is neither decoded nor rewritten."""
    rows = list(ROWS)
    server.routes["/dynamic"] = lambda request: Response(200, bill_page("SB 1180: Kratom Products", rows))
    sources = [Source(id="dynamic", url=server.url("/dynamic"), jurisdiction="US-FL")]
    store = CountingStore.open(tmp_path)
    try:
        assert [o.status for o in run_checks(store, sources)] == ["baseline"]
        first = store.snapshot("dynamic")
        assert first.fingerprint
        store.decoded = 0
        assert [o.status for o in run_checks(store, sources)] == ["unchanged"]
        assert store.decoded == 0
        assert store.snapshot("dynamic") == first  # not rewritten: same taken_at, same body hash
        rows.append(("03/04/2026", "Senate", "Passed; YEAS 37 NAYS 1"))
        store.decoded = 0
        [outcome] = run_checks(store, sources)
        assert outcome.status == "changed" and store.decoded == 1
        assert [c.event for c in outcome.changes] == ["advanced"]
        assert store.snapshot("dynamic").fingerprint not in (None, first.fingerprint)
    finally:
        store.close()


def test_new_validators_for_the_same_content_are_written_without_reading_the_blocks(server, tmp_path):
    """A page with tokens and an ETag made from its bytes: every response has new validators and the same content.
    They are stored in place; the blocks are neither decoded nor rewritten."""
    served = {"n": 0}

    def page(request) -> Response:
        served["n"] += 1
        return Response(200, bill_page("SB 1180: Kratom Products", ROWS), {"ETag": f'"v{served["n"]}"'})

    server.routes["/tagged"] = page
    sources = [Source(id="tagged", url=server.url("/tagged"), jurisdiction="US-FL")]
    store = CountingStore.open(tmp_path)
    try:
        run_checks(store, sources)
        first = store.snapshot("tagged")
        store.decoded = 0
        assert [o.status for o in run_checks(store, sources)] == ["unchanged"] and store.decoded == 0
        assert store.snapshot_head("tagged").etag == '"v2"'
        assert store.snapshot("tagged") == replace(first, etag='"v2"')
        assert server.requests_to("/tagged")[-1]["headers"].get("If-None-Match") == '"v1"'
    finally:
        store.close()


def test_plain_pages_are_read_without_importing_bs4():
    """BeautifulSoup and soupsieve cost a tenth of a second of every pass's start-up; the fast path needs neither
    for a page sent with its charset."""
    code = ("import sys, monitor.cli\n"
            "from monitor.config import Source\n"
            "from monitor.extract.html import extract_html\n"
            "page = extract_html(Source(id='s', url='http://x', jurisdiction='US-FL'), sys.stdin.buffer.read(), 'utf-8')\n"
            "assert page.blocks and page.fingerprint, page\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('bs4', 'soupsieve')))\n")
    done = subprocess.run([sys.executable, "-c", code], input=bill_page("SB 1180: Kratom Products", ROWS),
                          capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout.decode().strip() == "[]"


def test_checks_in_flight_are_bounded(server, tmp_path):
    settings = Settings(concurrency=2, per_host_concurrency=2)
    limit = CHECKS_PER_FETCH_SLOT * settings.concurrency
    server.routes["/p"] = bill_page("SB 1180: Kratom Products", ROWS)
    sources = [Source(id=f"s{i}", url=server.url("/p"), jurisdiction="US-FL") for i in range(limit * 3)]
    in_flight, peak = 0, 0

    class Watched(Store):
        def snapshot_head(self, source_id):  # the first thing a check does
            nonlocal in_flight, peak
            in_flight += 1
            peak = max(peak, in_flight)
            return super().snapshot_head(source_id)

        def record(self, *args, **kwargs):  # the last
            nonlocal in_flight
            in_flight -= 1
            return super().record(*args, **kwargs)

    store = Watched.open(tmp_path)
    try:
        assert {o.status for o in run_checks(store, sources, settings)} == {"baseline"}
        assert peak == limit
    finally:
        store.close()


def change(source_id: str, n: int) -> ChangeRecord:
    return ChangeRecord(id=f"{source_id}-{n}", source=source_id, jurisdiction="US-FL", url="http://x",
                        kind="operational", alert=True, event="source_failing", severity="high", summary="failing",
                        added=[], removed=[], detected_at="2026-11-26T00:00:00Z")


def committed(path) -> tuple[int, int, int]:
    """Rows another connection can see: sources, snapshots, outbox."""
    conn = sqlite3.connect(path / "monitor.db")
    try:
        return tuple(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("sources", "snapshots", "outbox"))
    finally:
        conn.close()


def test_a_batch_commits_every_few_records_and_each_record_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(store_module, "BATCH_SECONDS", 600)  # count records only, however slow the machine
    store = Store.open(tmp_path)
    snapshot = Snapshot(blocks=(), taken_at="2026-11-26T00:00:00Z", body_hash="h")
    try:
        with store.batch():
            for n in range(BATCH_RECORDS - 1):
                store.record(f"s{n}", {"last_status": "baseline"}, snapshot, [change(f"s{n}", n)])
            assert committed(tmp_path) == (0, 0, 0)  # still in the open batch
            with pytest.raises(sqlite3.IntegrityError):  # a duplicate change id: this source's record fails...
                store.record("bad", {"last_status": "changed"}, snapshot, [change("bad", 1), change("bad", 1)])
            store.record(f"s{BATCH_RECORDS}", {"last_status": "baseline"}, snapshot)
            # ...whole, and the batch goes on: it commits at BATCH_RECORDS records
            assert committed(tmp_path) == (BATCH_RECORDS, BATCH_RECORDS, BATCH_RECORDS - 1)
            store.record("last", {"last_status": "baseline"})
        assert committed(tmp_path) == (BATCH_RECORDS + 1, BATCH_RECORDS, BATCH_RECORDS - 1)
        assert store.source_state("bad") == {} and store.snapshot("bad") is None
    finally:
        store.close()


def test_source_state_with_a_new_column_or_a_structured_value_is_still_stored(tmp_path):
    store = Store.open(tmp_path)
    try:
        store.record("s", {"last_status": "baseline", "consecutive_failures": 0})
        store.record("s", {"last_status": "failed", "note": "a column the table does not have yet"})
        store.record("s", {"last_status": "failed", "tags": ["a", "b"]})
        state = store.source_state("s")
        assert (state["last_status"], state["note"], state["tags"], state["consecutive_failures"]) == \
            ("failed", "a column the table does not have yet", '["a", "b"]', 0)
    finally:
        store.close()
