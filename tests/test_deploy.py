"""What an operator is handed to install and run monitor: the README's Quickstart (and CI running it), the docs'
links, the systemd unit, the Dockerfile and the health check both deployments use.

Docker has no engine on CI, so the image is not built here: the Dockerfile is parsed and checked instead. The unit
is parsed, and verified by `systemd-analyze verify` where that is installed.
"""
from __future__ import annotations

import configparser
import fnmatch
import importlib.util
import json
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from conftest import ROOT, bill_page
from monitor.cli import EXIT_USAGE
from monitor.store import DB_NAME, Store, iso
from monitor.worker import EXIT_LOCKED, STOP_GRACE

UNIT = ROOT / "contrib" / "systemd" / "kratom-monitor.service"
DOCKERFILE = ROOT / "Dockerfile"
HEALTHCHECK = ROOT / "contrib" / "healthcheck.py"
# Pages other branches add (their links are checked once they exist).
LINKED_BEFORE_WRITTEN: set[str] = set()


# -- the Quickstart and CI ------------------------------------------------------------------------------------------
def quickstart() -> tuple[str, list[list[str]]]:
    """The Quickstart section's text and the command lines of each of its fenced blocks (read as the before-stop
    hook reads them)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8") + "\n# end"
    section = re.search(r"^#+\s*Quick\s*start.*?$(.*?)(?=^#+\s)", text, re.M | re.S | re.I)
    assert section, "the README has no Quickstart section"
    blocks = re.findall(r"```[a-z]*\n(.*?)```", section.group(1), re.S)
    return section.group(1), [[line.strip().lstrip("$ ").strip() for line in block.splitlines()
                                if line.strip() and not line.strip().startswith("#")] for block in blocks]


def test_the_quickstart_is_two_commands_that_install_into_a_virtualenv_they_create():
    section, blocks = quickstart()
    assert len(blocks) == 1 and len(blocks[0]) == 2, blocks
    run, test = blocks[0]
    # A bare `pip install` is refused on Debian and Ubuntu (PEP 668): every install goes through the venv's pip.
    for line in (run, test):
        assert line.count("pip install") == line.count(".venv/bin/pip install") >= 1, line
    assert run.startswith("python3 -m venv .venv && ") and run.endswith(".venv/bin/monitor run"), run
    assert ".venv/bin/pip install -e '.[test]'" in test and test.endswith(".venv/bin/pytest"), test
    assert "python3-venv" in section, "the prerequisites do not say that Debian may need python3-venv"


def test_ci_runs_the_quickstarts_test_command_verbatim_and_never_starts_the_worker():
    _, blocks = quickstart()
    run, test = blocks[0]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert test in ci
    assert run.removesuffix(" && .venv/bin/monitor run") in ci  # the same virtualenv, made the same way
    assert "monitor run" not in ci


def test_the_readmes_walk_through_gives_the_output_it_shows(project, server):
    """The page, the watch list and the rows the walk-through adds, as the README gives them, alert as it shows."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = re.search(r"^## Watch your first page$(.*?)^## ", text, re.M | re.S).group(1)
    page = re.search(r"```html\n(.*?)```", section, re.S).group(1)
    sources = re.search(r"```yaml\n(.*?)```", section, re.S).group(1)
    rows = [" ".join(row.split()) for row in re.findall(r"`(<tr><td>.*?</tr>)`", section, re.S)]
    assert len(rows) == 2, rows
    server.routes["/sb1180.html"] = page.encode()
    project.write(sources.replace("http://127.0.0.1:8000", server.base))
    result, changes = project.check()
    assert result.returncode == 0 and changes == [], result.stderr  # a baseline
    for row in rows:
        page = page.replace("</table>", row + "\n</table>")
        server.routes["/sb1180.html"] = page.encode()
        result, changes = project.check()
        assert result.returncode == 0 and len(changes) == 1, (result.stderr, changes)
        change = changes[0]
        shown = f"[{change['severity'].upper()}] {change['event'].upper()} · Florida\n  {change['summary']}\n"
        assert shown in section, shown


# -- the docs' links ------------------------------------------------------------------------------------------------
def slug(heading: str) -> str:
    """GitHub's anchor for a heading: the rendered text, lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).replace("`", "").strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def outside_code(text: str) -> str:
    return re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    out = set()
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*#*$", outside_code(path.read_text(encoding="utf-8")), re.M):
        base = slug(heading)
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.add(base if n == 0 else f"{base}-{n}")
    return out


DOC_FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


@pytest.mark.parametrize("doc", DOC_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_link_in_the_docs_leads_somewhere(doc):
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", outside_code(doc.read_text(encoding="utf-8"))):
        if re.match(r"[a-z]+:", target):  # https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        file = (doc.parent / path).resolve() if path else doc
        rel = file.relative_to(ROOT).as_posix() if file.is_relative_to(ROOT) else str(file)
        if not file.exists():
            if rel not in LINKED_BEFORE_WRITTEN:
                broken.append(f"{target}: no such file")
        elif anchor and (file.suffix != ".md" or anchor not in anchors(file)):
            broken.append(f"{target}: no heading with that anchor")
    assert not broken, f"{doc.relative_to(ROOT)}: " + "; ".join(broken)


def test_the_readme_maps_every_page_in_docs():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    families = re.findall(r"`(docs/[\w.-]*\*[\w.-]*\.md)`", readme)  # named as a family: `docs/reliability-*.md`
    missing = [p.name for p in (ROOT / "docs").glob("*.md") if f"(docs/{p.name}" not in readme
               and not any(fnmatch.fnmatchcase(f"docs/{p.name}", family) for family in families)]
    assert not missing, f"docs/ pages the README's map does not link: {missing}"


# -- the systemd unit -----------------------------------------------------------------------------------------------
def unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",), comment_prefixes=("#", ";"))
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string(UNIT.read_text(encoding="utf-8"))
    return parser


def exec_start() -> list[str]:
    return shlex.split(unit()["Service"]["ExecStart"])


def option(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def test_the_unit_runs_the_worker_from_a_virtualenv_as_a_dedicated_user():
    service = unit()["Service"]
    argv = exec_start()
    assert argv[0].startswith(service["WorkingDirectory"] + "/") and argv[0].endswith("/.venv/bin/monitor"), argv[0]
    assert argv[-1] == "run"
    assert Path(option(argv, "--sources")).is_absolute() and Path(option(argv, "--state-dir")).is_absolute()
    assert service["User"] not in ("", "root") and service["Group"] not in ("", "root")
    assert service["Type"] == "exec"
    assert unit()["Install"]["WantedBy"] == "multi-user.target"


def test_the_unit_restarts_on_a_crash_but_not_on_what_a_restart_cannot_fix():
    service = unit()["Service"]
    assert service["Restart"] == "on-failure"
    assert int(service["RestartSec"]) >= 5  # a source's outage is no reason to hammer it
    refused = service["RestartPreventExitStatus"].split()
    assert str(EXIT_USAGE) in refused and str(EXIT_LOCKED) in refused  # a bad sources.yaml, a second worker
    assert service["KillSignal"] == "SIGTERM"
    assert int(service["TimeoutStopSec"]) > STOP_GRACE  # the worker's own grace ends before systemd's SIGKILL


def test_the_unit_is_hardened_and_may_write_only_its_state():
    service = unit()["Service"]
    state_dir = option(exec_start(), "--state-dir")
    for key, value in {"NoNewPrivileges": "true", "ProtectSystem": "strict", "ProtectHome": "true",
                       "PrivateTmp": "true"}.items():
        assert service.get(key) == value, key
    assert state_dir in service["ReadWritePaths"].split()
    assert state_dir == "/var/lib/" + service["StateDirectory"]  # created for, and owned by, the service user
    assert not option(exec_start(), "--sources").startswith(state_dir + "/")  # the watch list stays read-only


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_accepts_the_unit(tmp_path):
    # verify insists that ExecStart's program exists: point it at this checkout's `monitor` (the unit is unchanged
    # otherwise, and keeps its file name, which systemd reads as the unit's name).
    monitor = shutil.which("monitor", path=str(Path(sys.executable).parent)) or shutil.which("true")
    text = UNIT.read_text(encoding="utf-8").replace(exec_start()[0], monitor)
    (tmp_path / UNIT.name).write_text(text, encoding="utf-8")
    result = subprocess.run(["systemd-analyze", "verify", str(tmp_path / UNIT.name)], capture_output=True, text=True,
                            timeout=60)
    # It exits 0 even on unknown keys or bad values, which it prints: any line about the unit is a defect.
    problems = [line for line in (result.stdout + result.stderr).splitlines() if UNIT.name in line]
    assert result.returncode == 0 and not problems, result.stdout + result.stderr


# -- the Dockerfile -------------------------------------------------------------------------------------------------
def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order: comments dropped, continuation lines joined."""
    out, pending = [], ""
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        op, _, args = (pending + stripped).partition(" ")
        out.append((op.upper(), " ".join(args.split())))
        pending = ""
    return out


def instructions(op: str) -> list[str]:
    return [args for o, args in dockerfile() if o == op]


def env() -> dict[str, str]:
    return dict(item.split("=", 1) for args in instructions("ENV") for item in args.split())


def copies() -> dict[str, str]:
    """COPY destination by source, a directory destination joined with the file's name."""
    out = {}
    for args in instructions("COPY"):
        *sources, dest = args.split()
        for source in sources:
            out[source.rstrip("/")] = dest + Path(source).name if dest.endswith("/") and not source.endswith("/") \
                else dest
    return out


def dockerignored(path: str) -> bool:
    """Whether .dockerignore keeps `path` (relative to the context) out of the build: a pattern matches the path or
    a folder above it; `**/` matches at any depth; the last matching line wins, `!` re-including."""
    prefixes = ["/".join(path.split("/")[:i]) for i in range(1, path.count("/") + 2)]
    ignored = False
    for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines():
        pattern = line.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negate, pattern = pattern.startswith("!"), pattern.lstrip("!").strip("/")
        for prefix in prefixes:
            name = prefix.rsplit("/", 1)[-1]
            if fnmatch.fnmatchcase(prefix, pattern) or (pattern.startswith("**/") and fnmatch.fnmatchcase(name, pattern[3:])):
                ignored = not negate
    return ignored


def test_the_image_runs_the_worker_as_a_non_root_user_on_python_3_11_slim():
    froms = instructions("FROM")
    assert froms == ["python:3.11-slim"], froms
    users = instructions("USER")
    assert users, "the image runs as root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")
    if user.isdigit():  # a numeric USER (as Kubernetes' runAsNonRoot wants) must be a user the image creates
        assert any(f"--uid {user}" in args for args in instructions("RUN")), user
    assert json.loads(instructions("ENTRYPOINT")[-1]) + json.loads(instructions("CMD")[-1]) == ["monitor", "run"]


def test_the_image_keeps_state_in_a_volume_and_reads_a_mountable_watch_list():
    settings, copied = env(), copies()
    state_dir, sources = settings["MONITOR_STATE_DIR"], settings["MONITOR_SOURCES"]
    volumes = [v for args in instructions("VOLUME") for v in (json.loads(args) if args.startswith("[") else args.split())]
    assert state_dir in volumes
    assert copied["sources.yaml"] == sources  # the shipped list, until a directory is mounted over it
    # The watch list is mounted as a directory (a file mounted alone misses editors' saves): its folder holds nothing
    # else the image needs, and is not the state volume.
    folder = Path(sources).parent
    assert [dest for dest in copied.values() if Path(dest).parent == folder or Path(dest) == folder] == [sources]
    assert not sources.startswith(state_dir + "/") and folder != Path(instructions("WORKDIR")[-1])
    assert "pip install /src" in " ".join(instructions("RUN"))  # a real install, not the source tree on a path


def test_the_image_health_check_is_the_shipped_script():
    (health,) = instructions("HEALTHCHECK")
    options, _, command = health.partition(" CMD ")
    assert "--interval=" in options and "--start-period=" in options
    argv = json.loads(command)
    assert argv[0] == "python" and argv[1] == copies()["contrib/healthcheck.py"], argv


def test_the_build_context_holds_what_the_dockerfile_copies_and_nothing_local():
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    for source in copies():
        assert (ROOT / source).exists(), source
        inside = [f for f in tracked if f == source or f.startswith(source + "/")]
        assert inside and not [f for f in inside if dockerignored(f)], source
    for local in ("state/monitor.db", ".venv/bin/python", ".git/HEAD", "monitor/__pycache__/cli.cpython-311.pyc",
                  "kratom_monitor.egg-info/PKG-INFO", "bench/.work/n400/sources.yaml"):
        assert dockerignored(local), local


# -- the health check -----------------------------------------------------------------------------------------------
def health_module():
    spec = importlib.util.spec_from_file_location("healthcheck", HEALTHCHECK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


NOW = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)
GRACE = timedelta(minutes=15)


def state(tmp_path: Path, sources: dict[str, tuple[timedelta | None, timedelta | None]]) -> Path:
    """A state as monitor writes it: for each source, its last check and next run relative to NOW (None: not set)."""
    store = Store.open(tmp_path)
    try:
        for sid, (last_checked, _) in sources.items():
            store.record(sid, {"last_checked": iso(NOW + last_checked) if last_checked is not None else None})
        store.set_schedule((sid, iso(NOW + next_run) if next_run is not None else None)
                           for sid, (_, next_run) in sources.items())
    finally:
        store.close()
    return tmp_path


def test_health_is_good_while_the_worker_keeps_its_schedule(tmp_path):
    check = health_module().check
    min_ = lambda n: timedelta(minutes=n)  # noqa: E731
    healthy, message = check(state(tmp_path, {"a": (min_(-50), min_(10)), "b": (min_(-1), min_(59))}), GRACE, NOW)
    assert healthy, message
    assert "2 source(s) scheduled" in message


def test_health_allows_a_check_that_is_late_by_less_than_the_grace(tmp_path):
    healthy, message = health_module().check(state(tmp_path, {"a": (timedelta(hours=-1), timedelta(minutes=-10))}),
                                             GRACE, NOW)
    assert healthy, message


def test_health_is_bad_when_a_check_is_long_overdue_and_nothing_was_checked_for_the_grace(tmp_path):
    healthy, message = health_module().check(
        state(tmp_path, {"a": (timedelta(hours=-1), timedelta(minutes=-20)), "b": (timedelta(minutes=-16), None)}),
        GRACE, NOW)
    assert not healthy
    assert message == ("the worker is behind schedule: a was due at 2026-11-26 11:40:00Z (20 min ago) and no check "
                       "has finished for 15 min (the last at 2026-11-26 11:44:00Z)")


def test_health_is_bad_when_the_worker_stopped_between_a_check_and_its_next_run(tmp_path):
    # next_run is written after the check's own record: a worker stuck in between leaves a due time its last check
    # has already passed, which must not read as progress for ever.
    healthy, message = health_module().check(
        state(tmp_path, {"a": (timedelta(minutes=-29, seconds=-59), timedelta(minutes=-30))}), GRACE, NOW)
    assert not healthy and "behind schedule" in message


def test_one_missed_run_is_not_a_stuck_worker_while_other_sources_are_checked(tmp_path):
    # A run APScheduler dropped as misfired leaves its source's next_run behind until its next check; the worker is
    # still working if checks keep finishing.
    healthy, message = health_module().check(
        state(tmp_path, {"a": (timedelta(hours=-6), timedelta(hours=-1)), "b": (timedelta(minutes=-2), timedelta(hours=1))}),
        GRACE, NOW)
    assert healthy, message


def test_health_is_bad_when_the_worker_is_not_running_or_never_ran(tmp_path):
    check = health_module().check
    healthy, message = check(tmp_path / "nowhere", GRACE, NOW)
    assert not healthy and f"no state at {tmp_path / 'nowhere' / DB_NAME}" in message
    assert not (tmp_path / "nowhere").exists()  # looking never creates a state
    healthy, message = check(state(tmp_path, {"a": (timedelta(minutes=-1), None)}), GRACE, NOW)
    assert not healthy and "the worker is not running" in message


def run_health(state_dir: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(HEALTHCHECK), "--state-dir", str(state_dir), *args],
                          capture_output=True, text=True, timeout=30)


def wait_for_health(state_dir: Path, healthy: bool, timeout: float, *args: str) -> str:
    deadline = time.monotonic() + timeout
    while True:
        result = run_health(state_dir, *args)
        if (result.returncode == 0) == healthy:
            return result.stdout
        if time.monotonic() > deadline:
            raise AssertionError(f"health stayed {result.returncode}: {result.stdout}{result.stderr}")
        time.sleep(0.3)


def test_the_health_check_follows_a_real_worker_through_running_stuck_and_stopped(project, server):
    server.routes["/bill"] = bill_page("CS/SB 1180: Kratom Products", [("01/13/2026", "Senate", "Filed")])
    project.write([{"id": "fl-sb-1180", "url": server.url("/bill"), "jurisdiction": "US-FL", "interval": "1s"}])
    worker = subprocess.Popen(project.argv("run"), env=project.env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        assert wait_for_health(project.state, True, 30, "--grace", "0.1").startswith("ok: 1 source(s) scheduled")
        worker.send_signal(signal.SIGSTOP)  # a hung worker: its schedule falls behind and no check finishes
        assert "behind schedule" in wait_for_health(project.state, False, 30, "--grace", "0.1")
        worker.send_signal(signal.SIGCONT)
        wait_for_health(project.state, True, 30, "--grace", "0.1")
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(30) == 0
    finally:
        if worker.poll() is None:
            worker.send_signal(signal.SIGCONT)
            worker.kill()
            worker.wait()
    result = run_health(project.state)
    assert result.returncode == 1 and "the worker is not running" in result.stdout
