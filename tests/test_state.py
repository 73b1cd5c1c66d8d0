"""Issue 14, findings 3 and 10: `monitor check` and `status` beside `monitor run`, and a state directory that is
broken, full, foreign, unreadable or made under umask 000. Each problem gives one line on stderr and exit code 3
from every command that reads the state, and loses nothing."""
from __future__ import annotations

import os
import resource
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

from conftest import bill_page
from test_worker import start, wait_for  # noqa: F401 - `start` is a fixture

TITLE = "CS/SB 1180: Kratom Products"
FILED = [("01/13/2026", "Senate", "Filed"), ("01/20/2026", "Senate", "Referred to Health Policy")]


def test_check_and_status_beside_a_busy_worker_never_see_a_locked_database(project, server, start):
    counter = {"n": 0}

    def page(request):
        counter["n"] += 1  # every fetch is a new page: every check writes a snapshot
        return f"<html><body><main><h1>Fees</h1><p>Fees for {counter['n']}.</p></main></body></html>".encode()

    sources = []
    for i in range(40):
        server.routes[f"/p{i}"] = page
        sources.append({"id": f"page-{i:02d}", "url": server.url(f"/p{i}"), "jurisdiction": "US-FL",
                        "interval": "1s"})
    project.write(sources)
    w = start()
    wait_for(lambda: w.count("baseline in") >= 40, 30, "forty baselines", w)
    for _ in range(3):
        r, _ = project.check(timeout=120)
        assert r.returncode == 0, r.stderr[-2000:]
        assert "locked" not in r.stderr and "internal error" not in r.stderr
        s = project.run("status")
        assert s.returncode == 0 and "locked" not in s.stderr, s.stderr
    assert "locked" not in w.log and "internal error" not in w.log, w.log[-3000:]
    assert w.stop()[0] == 0


# -- finding 10: state problems -----------------------------------------------------------------------------------
def baseline(project, server) -> None:
    server.routes["/bill"] = bill_page(TITLE, FILED)
    project.write([{"id": "fl-sb-1180", "name": "Florida CS/SB 1180 (Kratom Products)", "url": server.url("/bill"),
                    "jurisdiction": "US-FL", "select": "#tabBodyBillHistory", "interval": "1s"}])
    r, _ = project.check()
    assert r.returncode == 0, r.stderr


def assert_state_problem(project, *commands: tuple[str, ...], says: str, **kw) -> None:
    """Each command exits 3 with one line on stderr that says what is wrong with the state."""
    for command in commands:
        r = subprocess.run(project.argv(*command), env=project.env, capture_output=True, text=True, timeout=60, **kw)
        assert r.returncode == 3, (command, r.returncode, r.stderr)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in r.stderr, (command, r.stderr)
        assert lines[0].startswith("monitor: ") and says in lines[0], (command, lines[0])


EVERY = (("check",), ("status",), ("history",), ("show", "6b0"), ("deliver",), ("run",))


def db(project) -> Path:
    return project.state / "monitor.db"


def test_a_file_that_is_not_a_database_is_refused_with_exit_3_and_left_alone(project, server):
    baseline(project, server)
    db(project).write_bytes(b"kratom monitor notes\n" * 200)
    assert_state_problem(project, *EVERY, says="is not a SQLite database")
    assert db(project).read_bytes() == b"kratom monitor notes\n" * 200


def test_a_truncated_database_is_refused_with_exit_3(project, server):
    baseline(project, server)
    data = db(project).read_bytes()
    assert len(data) > 8192
    db(project).write_bytes(data[: len(data) // 2])
    assert_state_problem(project, *EVERY, says="truncated")
    assert db(project).stat().st_size == len(data) // 2


def test_a_corrupt_database_is_refused_with_exit_3(project, server):
    baseline(project, server)
    data = bytearray(db(project).read_bytes())
    page = int.from_bytes(data[16:18], "big")
    data[page:] = b"\xa5" * (len(data) - page)  # every page but the first is garbage
    db(project).write_bytes(bytes(data))
    assert_state_problem(project, ("check",), ("status",), ("history",), ("deliver",), ("run",), says="corrupt")


def test_a_zero_length_database_is_refused_not_replaced(project, server):
    baseline(project, server)
    db(project).write_bytes(b"")
    assert_state_problem(project, *EVERY, says="is empty")
    assert db(project).stat().st_size == 0, "not silently replaced by a new, empty state"


def test_a_directory_where_the_database_should_be(project, server):
    baseline(project, server)
    db(project).unlink()
    db(project).mkdir()
    assert_state_problem(project, *EVERY, says="is a directory")


def test_another_programs_sqlite_database_is_not_taken_over(project, server):
    baseline(project, server)
    db(project).unlink()
    with sqlite3.connect(db(project)) as other:
        other.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    before = db(project).read_bytes()
    assert_state_problem(project, *EVERY, says="not a kratom-monitor state database")
    assert db(project).read_bytes() == before


def test_state_from_a_newer_monitor_is_refused(project, server):
    baseline(project, server)
    with sqlite3.connect(db(project)) as con:
        con.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    assert_state_problem(project, *EVERY, says="newer")


def without_dac_override() -> None:
    """Run the child as root minus the capabilities that let root read any file, so file modes bind it too."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, out of the bounding set: gone after exec
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def test_unreadable_state_gives_exit_3(project, server):
    baseline(project, server)
    os.chmod(db(project), 0)
    demote = {"preexec_fn": without_dac_override} if os.geteuid() == 0 else {}
    assert_state_problem(project, ("check",), ("status",), ("history",), ("deliver",), ("run",), says="permission",
                         **demote)
    os.chmod(db(project), 0o600)
    assert project.run("status").returncode == 0


def test_a_full_disk_gives_exit_3_and_loses_nothing(project, server):
    """The disk fills while a pass writes (a file-size limit makes every write past it fail, as ENOSPC would)."""
    baseline(project, server)
    big = [(f"02/{d:02d}/2026", "Senate", "Co-sponsors added: " + "x" * 3000) for d in range(1, 28)]
    server.routes["/bill"] = bill_page(TITLE, FILED + big + [("03/04/2026", "Senate", "Passed; YEAS 38 NAYS 0")])
    limit = db(project).stat().st_size + 4096

    def full_disk():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    r = subprocess.run(project.argv("check", "--json"), env=project.env, capture_output=True, text=True,
                       timeout=120, preexec_fn=full_disk)
    assert r.returncode == 3, (r.returncode, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr and "could not write" in lines[0], r.stderr
    assert r.stdout == ""
    r, changes = project.check()  # space again: the change was not lost, it is found now
    assert r.returncode == 0 and [c["event"] for c in changes] == ["advanced"], r.stderr


# -- finding 10: permissions --------------------------------------------------------------------------------------
def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_under_umask_000_the_state_is_private(project, server):
    server.routes["/bill"] = bill_page(TITLE, FILED)
    project.write([{"id": "fl-sb-1180", "url": server.url("/bill"), "jurisdiction": "US-FL", "interval": "1s"}])
    r = subprocess.run(project.argv("check"), env=project.env, capture_output=True, text=True, timeout=120,
                       preexec_fn=lambda: os.umask(0))
    assert r.returncode == 0, r.stderr
    assert mode(project.state) == 0o700 and mode(db(project)) == 0o600
    proc = subprocess.Popen(project.argv("run"), env=project.env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, preexec_fn=lambda: os.umask(0))
    try:
        wal, shm = db(project).with_name("monitor.db-wal"), db(project).with_name("monitor.db-shm")
        deadline = time.monotonic() + 20
        while not (wal.exists() and shm.exists()) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1.5)  # a check or two written through them
        assert mode(wal) == 0o600 and mode(shm) == 0o600 and mode(db(project)) == 0o600
        assert mode(project.state / "worker.lock") == 0o600
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=20)
    fresh = project.dir / "nested" / "deeper" / "state"  # made by a check: read-only commands never make state
    r = subprocess.run([sys.executable, "-m", "monitor", "--sources", str(project.sources), "--state-dir", str(fresh),
                        "check", "--json"], env=project.env, capture_output=True, text=True, timeout=60,
                       preexec_fn=lambda: os.umask(0))
    assert r.returncode == 0, r.stderr
    assert mode(fresh) == 0o700 and mode(fresh / "monitor.db") == 0o600
    assert not mode(fresh.parent) & 0o022, "no directory monitor makes is writable by others"
