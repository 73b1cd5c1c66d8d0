"""A worker whose state directory is removed or replaced stops, and no second worker runs beside it meanwhile.

Each test runs `monitor run` as a subprocess (tests/test_worker.py's RunningWorker) and does to its state directory
what an operator or a restore script might.
"""
from __future__ import annotations

import os
import shutil
import time

from monitor.statedir import acquire_lock
from test_worker import plain_source, start, wait_for  # noqa: F401 - `start` is the fixture that runs `monitor run`

WITHIN = 12.0  # seconds: a look every 2 s, then at most STOP_GRACE (5 s) for checks in flight


def running(project, server, start):
    project.write([plain_source(server, "a-page", interval="1s")])
    w = start()
    wait_for(lambda: w.count("a-page baseline in"), 15, "the first check", w)
    return w


def stopped(w, what: str) -> int:
    started = time.monotonic()
    code = w.proc.wait(WITHIN)
    time.sleep(0.1)  # let the reader threads take the last lines
    assert time.monotonic() - started < WITHIN
    assert w.count(what) == 1 and " ERROR " in next(line for line in w.stderr if what in line), w.log
    return code


def test_a_worker_whose_state_directory_is_removed_stops_with_an_error(project, server, start):
    w = running(project, server, start)
    shutil.rmtree(project.state)
    assert stopped(w, f"the state directory {project.state} was removed while the worker ran") == 1
    assert w.count("worker stopped") == 1
    assert not project.state.exists()  # it stopped without writing a new one where the old was

    again = start()  # what a supervisor does next: a fresh state
    wait_for(lambda: again.count("a-page baseline in"), 15, "a new worker on a fresh state", again)
    assert again.stop()[0] == 0


def test_a_worker_whose_state_directory_is_replaced_stops_and_no_second_one_runs_beside_it(project, server, start):
    w = running(project, server, start)
    old = project.state.with_name("state.old")
    os.rename(project.state, old)
    shutil.copytree(old, project.state)  # a restore from backup: the same files, other inodes
    second = start()  # started at once, while the first may still run
    assert stopped(w, f"the state directory {project.state} was replaced") == 1
    wait_for(lambda: second.proc.poll() is not None or second.count("worker started"), 15, "the second worker",
             second)
    if second.proc.poll() is not None:  # it tried while the first still ran: refused, naming it
        assert second.proc.returncode == 2 and f"pid {w.proc.pid}" in second.log, second.log
        assert "removed or replaced under it" in second.log
    else:  # it came after the first had stopped
        assert second.stop()[0] == 0


def test_a_second_worker_cannot_start_on_a_replaced_directory_while_the_first_holds_it(project, server, start):
    project.write([plain_source(server, "a-page", interval="1s")])
    lock = acquire_lock(project.state)  # a first worker (this process) holds the directory at this path
    try:
        os.rename(project.state, project.state.with_name("state.old"))
        project.state.mkdir()
        refused = project.run("run", timeout=30)
        assert refused.returncode == 2, refused.stderr
        assert f"pid {os.getpid()}" in refused.stderr and "removed or replaced under it" in refused.stderr
        assert not (project.state / "monitor.db").exists()  # refused before touching the new directory's state
    finally:
        lock.close()
    w = start()  # the first one gone, the path is free
    wait_for(lambda: w.count("a-page baseline in"), 15, "a worker once the first let go", w)
    assert w.stop()[0] == 0


def test_a_worker_whose_database_is_replaced_stops(project, server, start):
    w = running(project, server, start)
    db = project.state / "monitor.db"
    copy = project.state / "restored.db"
    shutil.copyfile(db, copy)
    os.replace(copy, db)
    assert stopped(w, f"the database {db} was replaced") == 1


def test_a_worker_whose_lock_file_is_deleted_stops(project, server, start):
    w = running(project, server, start)
    (project.state / "worker.lock").unlink()
    assert stopped(w, f"the lock file {project.state / 'worker.lock'} was removed") == 1
