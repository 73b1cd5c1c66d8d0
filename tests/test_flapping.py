"""A history row that vanishes and comes back is news once (issue 14, finding 6).

Mirrors out of sync behind a load balancer serve the page with and without its newest row in turn: each return used
to raise a new HIGH "passed the Senate" alert (3 alerts in 6 passes). The snapshot now remembers a vanished block
for `suspect_passes` good checks; back within them, it is no change. Driven through `monitor check`, pass by pass.
"""
from __future__ import annotations

import sqlite3

from conftest import bill_page

ROWS = [("01/13/2026", "Senate", "Filed"), ("01/20/2026", "Senate", "Referred to Health Policy"),
        ("02/10/2026", "Senate", "Favorable by Health Policy; YEAS 9 NAYS 0")]
PASSED = ("02/26/2026", "Senate", "Passed; YEAS 37 NAYS 1")


def serve(server, rows: list) -> None:
    server.routes["/bill"] = lambda request: bill_page("CS/SB 1180: Kratom Products", rows)


def one_pass(project) -> list[dict]:
    result, changes = project.check()
    assert result.returncode == 0, result.stderr
    return [c for c in changes if c["kind"] == "legal"]


def test_a_row_that_flaps_is_alerted_once_and_a_row_back_after_the_window_is_news_again(server, project):
    project.write([{"id": "fl-sb-1180", "name": "Florida CS/SB 1180 (Kratom Products)", "url": server.url("/bill"),
                    "jurisdiction": "US-FL"}], {"suspect_passes": 3})
    serve(server, ROWS)
    assert one_pass(project) == []  # baseline
    serve(server, ROWS + [PASSED])
    [alert] = one_pass(project)
    assert (alert["event"], alert["severity"], alert["alert"]) == ("advanced", "high", True)
    assert "passed the Senate 37-1" in alert["summary"]

    flaps = []
    for served in (ROWS, ROWS + [PASSED]) * 3:  # six passes, the row gone and back three times
        serve(server, served)
        flaps += one_pass(project)
    assert flaps == []

    # Gone for more checks than suspect_passes, the row coming back is reported as new again.
    serve(server, ROWS)
    for _ in range(4):
        assert one_pass(project) == []
    serve(server, ROWS + [PASSED])
    [again] = one_pass(project)
    assert again["event"] == "advanced" and "YEAS 37 NAYS 1" in again["added"][0]


def test_unchanged_checks_count_towards_the_window_without_reading_the_snapshot(server, project):
    """The window is counted in good checks, and a check whose page did not change (an identical body here) moves it
    on: a row gone for five identical checks and then back is news, though the stored snapshot was never rewritten."""
    rows = ROWS + [PASSED]
    page = bill_page("CS/SB 1180: Kratom Products", rows)
    project.write([{"id": "fl-sb-1180", "name": "Florida CS/SB 1180 (Kratom Products)", "url": server.url("/bill"),
                    "jurisdiction": "US-FL"}], {"suspect_passes": 2})
    server.routes["/bill"] = lambda request: page
    assert one_pass(project) == []
    page = bill_page("CS/SB 1180: Kratom Products", ROWS)
    assert one_pass(project) == []  # a history row vanishing is not reported
    taken_at = stored(project, "SELECT taken_at FROM snapshots")
    for _ in range(5):
        assert one_pass(project) == []
    assert stored(project, "SELECT taken_at FROM snapshots") == taken_at  # unchanged: not rewritten
    assert stored(project, "SELECT ok_checks FROM sources") == 7
    page = bill_page("CS/SB 1180: Kratom Products", rows)
    [back] = one_pass(project)
    assert "YEAS 37 NAYS 1" in back["added"][0]


def stored(project, sql: str):
    conn = sqlite3.connect(project.state / "monitor.db")
    try:
        return conn.execute(sql).fetchone()[0]
    finally:
        conn.close()


def test_a_state_written_before_vanished_blocks_were_kept_migrates_in_place(tmp_path):
    """Schema 3 -> now only adds columns: an old snapshot reads with nothing vanished, and its source with no checks."""
    import sqlite_utils

    from monitor import store as store_module
    from monitor.store import Store

    conn = sqlite3.connect(tmp_path / "monitor.db")
    db = sqlite_utils.Database(conn)
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
    for step in (1, 2, 3):
        store_module.MIGRATIONS[step](db)
    db.execute("INSERT INTO meta VALUES ('schema_version', '3')")
    db.execute("INSERT INTO snapshots (source_id, taken_at, title, blocks, block_count, body_hash) VALUES "
               "('s', '2026-11-26T00:00:00Z', 't', '[{\"key\": \"filed\", \"text\": \"Filed\"}]', 1, 'h')")
    db.execute("INSERT INTO sources (id, last_status) VALUES ('s', 'changed')")
    conn.commit()
    conn.close()
    store = Store.open(tmp_path)
    try:
        snapshot = store.snapshot("s")
        assert ([b.text for b in snapshot.blocks], snapshot.vanished) == (["Filed"], ())
        assert store.source_state("s")["ok_checks"] == 0
        assert store.db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == \
            str(store_module.SCHEMA_VERSION)
    finally:
        store.close()
