"""Live edits of sources.yaml that used to validate and then break the running worker: a `monitor run` subprocess
refuses them with one config_invalid notice and keeps its whole list; an edit that fails while being applied (a
worker driven in-process, with the scheduler made to fail) leaves the running jobs exactly as they were."""
from __future__ import annotations

import asyncio
import io
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime, timezone

import pytest

from test_worker import RunningWorker, plain_source, slack_env, wait_for

from monitor import worker as worker_module
from monitor.config import load_config
from monitor.notify import make_notifier
from monitor.store import Store
from monitor.worker import CONFIG_NOTICE_SOURCE, Worker


@pytest.fixture
def start_worker(project):
    """Starts `monitor run` (once sources.yaml is written) and kills it at the end if the test did not stop it."""
    started: list[RunningWorker] = []
    yield lambda env: started.append(RunningWorker(project, (), env)) or started[-1]
    for w in started:
        if w.proc.poll() is None:
            w.proc.kill()
            w.proc.wait()


def test_a_live_edit_with_impossible_values_is_refused_whole_and_reported_once(project, server, slack, start_worker):
    a = plain_source(server, "a-page")
    project.write([a])
    w = start_worker(slack_env(slack))
    wait_for(lambda: w.count("a-page baseline in"), 10, "source a checked", w)

    # the issue's values: an infinite interval on b stopped the reload at b, so c (after it) was never scheduled
    b, c = plain_source(server, "b-page"), plain_source(server, "c-page")
    project.write([a, {**b, "interval": float("inf")}, {**c, "timeout": float("nan")}],
                  settings={"host_delay": "1000000000000d", "max_body": float("inf")})
    wait_for(lambda: w.count("the edit is refused"), 8, "the refusal", w)
    expected = [line for line in project.run("validate").stderr.splitlines() if "nothing was checked" not in line]
    assert len(expected) == 4
    for problem in ("interval: inf is longer than the 30d limit", "timeout: nan is not a duration",
                    "settings: host_delay: '1000000000000d' is longer than the 1h limit",
                    "settings: max_body: inf is larger than the 256MB limit"):
        assert sum(problem in line for line in expected) == 1, (problem, expected)
    for line in expected:  # logged exactly as `monitor validate` prints them
        assert w.count(line) == 1, (line, w.log)
    checked = len(server.requests_to("/a-page"))
    wait_for(lambda: len(server.requests_to("/a-page")) >= checked + 2, 6, "a still checked", w)
    assert not server.requests_to("/b-page") and not server.requests_to("/c-page")
    notices = [p for p in slack.posts if "does not validate" in p["text"]]
    assert len(notices) == 1 and "4 problem(s)" in notices[0]["text"], slack.posts
    assert w.proc.poll() is None, "the worker is still running"

    project.write([a, b, c])
    wait_for(lambda: server.requests_to("/c-page") and server.requests_to("/b-page"), 8, "the fixed list", w)
    assert w.count("valid again") == 1
    assert w.stop()[0] == 0
    assert "Traceback" not in w.log


def now() -> datetime:
    return datetime.now(timezone.utc)


def run_worker_in_process(project, scenario) -> None:
    """A Worker on the project's files with its scheduler paused (jobs are planned and swapped, none runs), handed
    to `scenario(worker)`."""

    async def go():
        store, outbox = Store.open(project.state), Store.open(project.state)
        executor = ThreadPoolExecutor(max_workers=1)
        worker = Worker(load_config(project.sources), store, outbox, make_notifier({}, stream=io.StringIO()), now,
                        executor)
        worker.scheduler.start(paused=True)
        try:
            worker._apply(worker._plan(worker.config))
            await scenario(worker)
        finally:
            worker.scheduler.shutdown(wait=False)
            await asyncio.gather(*worker.background, return_exceptions=True)
            await worker.fetcher.aclose()
            worker.close()
            executor.shutdown()

    asyncio.run(go())


def jobs(worker: Worker) -> dict[str, tuple]:
    return {job.id: (job.trigger.interval, job.next_run_time) for job in worker.scheduler.get_jobs()}


def edit(project, sources: list[dict], **settings) -> None:
    time.sleep(0.01)  # a new mtime even on a coarse clock
    project.write(sources, settings=settings or None)


def notices(project) -> list:
    store = Store.open(project.state)
    try:
        return [c for c in store.history(CONFIG_NOTICE_SOURCE) if c.event == "config_invalid"]
    finally:
        store.close()


def test_an_edit_the_scheduler_fails_midway_leaves_every_job_as_it_was(project, server):
    a, b = plain_source(server, "a-page", interval="1h"), plain_source(server, "b-page", interval="2h")
    project.write([a, b])

    async def scenario(worker: Worker) -> None:
        before, sources, config = jobs(worker), dict(worker.sources), worker.config
        real_add = worker.scheduler.add_job

        def add_job(*args, **kw):
            if kw.get("id") == "d-page":
                raise RuntimeError("scheduler refused the job")
            return real_add(*args, **kw)

        worker.scheduler.add_job = add_job
        # b removed, a changed, c and d added; d fails after the others were already swapped in
        edit(project, [{**a, "interval": "3h"}, plain_source(server, "c-page"), plain_source(server, "d-page")],
             retries=1)
        await worker._look()
        assert jobs(worker) == before, "the previous jobs are back, with their triggers and next runs"
        assert worker.sources == sources and worker.config is config
        [notice] = notices(project)
        assert "the edit could not be applied (RuntimeError: scheduler refused the job)" in notice.added[0]
        assert notice.alert and notice.severity == "high"

    run_worker_in_process(project, scenario)


def test_a_list_that_validates_but_cannot_be_scheduled_changes_nothing(project, server, monkeypatch):
    """Defence in depth behind validation: a Source whose interval overflows the scheduler (built in code, as no
    sources.yaml can make it any more) is refused before any job is touched, so the sources after it are not left
    half-applied."""
    a = plain_source(server, "a-page", interval="1h")
    project.write([a])

    async def scenario(worker: Worker) -> None:
        before = jobs(worker)
        good = load_config(project.sources)
        impossible = replace(good.sources[0], id="b-page", interval=1e300)
        later = replace(good.sources[0], id="c-page")
        monkeypatch.setattr(worker_module, "load_config",
                            lambda path: replace(good, sources=(good.sources[0], impossible, later)))
        edit(project, [a, plain_source(server, "b-page")])
        await worker._look()
        assert jobs(worker) == before and set(worker.sources) == {"a-page"}
        [notice] = notices(project)
        assert "source 'b-page': cannot be scheduled with interval 1e+300 (OverflowError" in notice.added[0]

    run_worker_in_process(project, scenario)
