"""The benchmark harness (bench/) must not rot: its generator, page server and monitor passes work at N=20.

Only correctness is asserted here; the timings themselves belong to `python bench/run.py`.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # bench/ is not an installed package

from bench.pages import PageSet, changed_ids, plan  # noqa: E402
from bench.run import PASSES, Workspace, compare_with, find_monitor, run_monitor  # noqa: E402
from bench.server import ServerProcess  # noqa: E402


def test_pages_are_realistic_and_tokens_change_per_request():
    specs = plan(20)
    pages = PageSet(specs)
    dynamic = next(p for p in pages.by_id.values() if p.spec.dynamic)
    static = next(p for p in pages.by_id.values() if not p.spec.dynamic)
    assert 30_000 < len(pages.body(dynamic)) < 50_000 and 30_000 < len(pages.body(static)) < 50_000
    assert pages.body(dynamic) != pages.body(dynamic)  # __VIEWSTATE and CSRF token are new on every request
    assert pages.body(static) == pages.body(static)
    assert {s.kind for s in specs} == {"bill", "agency"} and sum(s.dynamic for s in specs) == 10
    assert changed_ids(specs) == changed_ids(plan(20)) and len(changed_ids(specs)) == 2


def test_monitor_passes_alert_exactly_on_changed_pages(tmp_path):
    monitor, monitor_env, _ = find_monitor(None, tmp_path)
    assert monitor, "the monitor CLI is installed beside this Python"
    with ServerProcess(20, hosts=3) as server:
        ws = Workspace(20, server, tmp_path, monitor_env)
        changed = changed_ids(server.specs)
        first = run_monitor(ws, monitor, PASSES[0], [], timeout=60)
        assert first.ok, first.problems
        assert (first.server["requests"], first.server["200"]) == (20, 20)
        server.change(changed)
        last = run_monitor(ws, monitor, PASSES[2], changed, timeout=60)
    assert last.ok, last.problems
    assert last.alerts == changed
    assert last.measurement.wall_s > 0 and last.measurement.cpu_s > 0 and last.measurement.peak_mb > 10
    # static pages answer the second pass with 304 unless they changed; dynamic pages always send a body
    assert last.server["304"] == sum(not s.dynamic and s.id not in changed for s in server.specs)


def test_a_pass_more_than_a_fifth_slower_than_recorded_is_flagged():
    def results(cpu: dict) -> dict:
        return {"runs": [{"n": 400, "passes": {name: {"monitor": {"cpu_s": s}} for name, s in cpu.items()}}]}

    recorded = results({"first_sight": 2.0, "unchanged": 1.0, "changed": 1.0})
    flagged = compare_with(recorded, results({"first_sight": 2.3, "unchanged": 1.21, "changed": 0.5})["runs"])
    assert {c["pass"]: c["regression"] for c in flagged} == {"first_sight": False, "unchanged": True, "changed": False}
    assert compare_with({}, recorded["runs"]) == []  # nothing recorded, nothing to say
    elsewhere = {**recorded, "settings": {"hosts": 16, "latency_ms": 5.0}}
    assert compare_with(elsewhere, recorded["runs"], {"hosts": 16, "latency_ms": 0.0}) == []
