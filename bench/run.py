"""The benchmark: whole-process `monitor check` passes against urlwatch 2.29 on the same generated pages.

    python bench/run.py                  # N = 400 and 4000 (30-40 minutes on 2 cores)
    python bench/run.py --n 400          # one size
    python bench/run.py --quick          # N = 100, a one-minute sanity run
    python bench/run.py --no-urlwatch    # monitor only
    python bench/run.py --repeat 3       # keep each pass's fastest of 3 rounds
    python bench/run.py --rev HEAD~2     # monitor/ as of a git revision instead of the installed CLI
    python bench/run.py --profile        # also where monitor's time goes (py-spy)

For each N it starts the page server (bench/server.py, a separate process), writes a sources.yaml for monitor and
a jobs.yaml for urlwatch (`css: main` then `html2text`), and runs three passes with each tool, one after the
other, each in a fresh process with its own state: first sight of every page, an unchanged pass, and a pass after
10% of the pages gained a history row. Every pass is timed (wall, user+sys CPU and peak RSS of the child) and its
alerts are counted: exactly the changed pages must alert. Results go to bench/results.json.
Exit status: 0 when every monitor pass alerted exactly as expected, 1 otherwise, 2 when it could not run.
"""
from __future__ import annotations

import argparse
import compileall
import importlib.util
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import profile  # noqa: E402
from bench.pages import changed_ids  # noqa: E402
from bench.server import ServerProcess  # noqa: E402

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
WORK = BENCH / ".work"
URLWATCH_VERSION = "2.29"
PASSES = ("first_sight", "unchanged", "changed")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_SUMMARY_RE = re.compile(r"^\d+\. (NEW|CHANGED|ERROR|UNCHANGED): (\S+)\s*$")


# -- measuring one child process --------------------------------------------------------------------------------
@dataclass
class Measurement:
    wall_s: float
    user_s: float
    sys_s: float
    maxrss_mb: float  # ru_maxrss of the child (its largest process)
    tree_peak_mb: float  # peak of the summed RSS of the child and its descendants, sampled every 20 ms
    exit_code: int

    @property
    def cpu_s(self) -> float:
        return self.user_s + self.sys_s

    @property
    def peak_mb(self) -> float:
        return max(self.maxrss_mb, self.tree_peak_mb)


def _tree_rss(pid: int) -> int:
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/statm") as f:
                total += int(f.read().split()[1]) * PAGE_SIZE
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except (OSError, ValueError):
            continue
    return total


def measure(cmd: list[str], env: dict, stdout: Path, stderr: Path, timeout: float) -> Measurement:
    """Run `cmd` in the folder of `stdout` until it ends; its rusage comes from wait4, so other children (the
    page server, earlier passes) never blur the numbers."""
    with open(stdout, "wb") as out, open(stderr, "wb") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env, cwd=stdout.parent)
        peak = [0]
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.02):
                peak[0] = max(peak[0], _tree_rss(proc.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        killer = threading.Timer(timeout, proc.kill)
        killer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        killer.cancel()
        done.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
    return Measurement(wall_s=round(wall, 3), user_s=round(usage.ru_utime, 3), sys_s=round(usage.ru_stime, 3),
                       maxrss_mb=round(usage.ru_maxrss / 1024, 1), tree_peak_mb=round(peak[0] / 2**20, 1),
                       exit_code=proc.returncode)


def _process_cpu(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    except (OSError, IndexError, ValueError):
        return 0.0


# -- one pass of one tool ---------------------------------------------------------------------------------------
@dataclass
class PassResult:
    tool: str
    pass_name: str
    n: int
    measurement: Measurement
    alerts: list[str]  # ids of pages that alerted (urlwatch: reported CHANGED)
    expected: list[str]
    errors: list[str]  # ids of pages that failed
    new: int = 0  # urlwatch: pages reported NEW
    alert_lines: int = 0  # monitor: legal alert records (a page may yield more than one)
    server: dict = field(default_factory=dict)  # requests, 200, 304 seen by the page server during the pass
    server_cpu_s: float = 0.0
    load_before: float = 0.0  # 1-minute load average when the pass started: other work on the machine blurs times
    problems: list[str] = field(default_factory=list)
    profile: dict | None = None  # py-spy summary, with --profile

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def pages_per_s(self) -> float:
        return round(self.n / self.measurement.wall_s, 1) if self.measurement.wall_s else 0.0

    def as_json(self) -> dict:
        m = self.measurement
        return {"wall_s": m.wall_s, "pages_per_s": self.pages_per_s, "cpu_s": round(m.cpu_s, 3), "user_s": m.user_s,
                "sys_s": m.sys_s, "peak_rss_mb": m.peak_mb, "maxrss_mb": m.maxrss_mb,
                "tree_peak_mb": m.tree_peak_mb, "exit_code": m.exit_code, "alerts": len(self.alerts),
                "expected_alerts": len(self.expected), "alert_lines": self.alert_lines, "new": self.new,
                "errors": len(self.errors), "alert_check": "PASS" if self.ok else "FAIL", "problems": self.problems,
                "server_requests": self.server, "server_cpu_s": round(self.server_cpu_s, 3),
                "load_before": self.load_before, **({"profile": self.profile} if self.profile else {})}


def _check_alerts(result: PassResult, m: Measurement, err: Path) -> None:
    got, want = set(result.alerts), set(result.expected)
    if got != want:
        missed, extra = sorted(want - got), sorted(got - want)
        result.problems.append(f"alerted {len(got)} pages, expected exactly {len(want)}"
                               + (f"; missed {len(missed)} e.g. {missed[:5]}" if missed else "")
                               + (f"; unexpected {len(extra)} e.g. {extra[:5]}" if extra else ""))
    if result.errors:
        result.problems.append(f"{len(result.errors)} pages failed e.g. {result.errors[:5]}")
    if m.exit_code != 0:
        result.problems.append(f"exit code {m.exit_code} (see {err})")


class Workspace:
    """One N's files under bench/.work/nN: watch lists, state, logs. Wiped at the start of each run."""

    def __init__(self, n: int, server: ServerProcess, base: Path, monitor_env: dict):
        self.n = n
        self.server = server
        self.dir = base / f"n{n}"
        shutil.rmtree(self.dir, ignore_errors=True)
        (self.dir / "logs").mkdir(parents=True)
        self.state = self.dir / "monitor-state"
        self.sources = self.dir / "sources.yaml"
        self.uw = self.dir / "urlwatch"
        self.uw.mkdir()
        self.env = _child_env(self.dir)
        self.monitor_env = {**self.env, **monitor_env}
        self._write_lists()

    def _write_lists(self) -> None:
        sources = [{"id": s.id, "name": s.name, "url": self.server.url(s), "jurisdiction": s.jurisdiction,
                    **({"measure": s.measure} if s.measure else {})} for s in self.server.specs]
        self.sources.write_text("# generated by bench/run.py: default settings, no selectors\n"
                                + json.dumps({"sources": sources}, indent=1) + "\n")
        jobs = [json.dumps({"name": s.id, "url": self.server.url(s), "filter": [{"css": "main"}, "html2text"]})
                for s in self.server.specs]
        (self.uw / "jobs.yaml").write_text("\n---\n".join(jobs) + "\n")
        (self.uw / "config.yaml").write_text(json.dumps({
            "display": {"new": True, "error": True, "unchanged": False, "empty-diff": True},
            "report": {"text": {"details": True, "footer": True, "minimal": False},
                       "stdout": {"enabled": True, "color": False}, "html": {"diff": "unified"},
                       "email": {"enabled": False}}}) + "\n")

    def log(self, tool: str, pass_name: str, stream: str) -> Path:
        return self.dir / "logs" / f"{pass_name}-{tool}.{stream}"


def _child_env(home: Path) -> dict:
    """The environment a user would have, minus Slack/monitor settings and proxies that could take loopback away."""
    drop = ("SLACK_", "MONITOR_", "LEGISCAN_", "OPENSTATES_")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(drop) and k.lower() not in ("http_proxy", "https_proxy", "all_proxy")}
    env["HOME"] = str(home)  # urlwatch reads ~/.config/urlwatch; keep the user's out of it
    return env


def _timed(ws: Workspace, tool: str, pass_name: str, cmd: list[str], env: dict, timeout: float):
    """One measured run; returns the measurement, its output files and what the page server saw meanwhile."""
    out, err = ws.log(tool, pass_name, "out"), ws.log(tool, pass_name, "err")
    cpu0, load = _process_cpu(ws.server.pid), os.getloadavg()[0]
    m = measure(cmd, env, out, err, timeout)
    seen = {"server": ws.server.stats(reset=True), "server_cpu_s": _process_cpu(ws.server.pid) - cpu0,
            "load_before": round(load, 2)}
    return m, out, err, seen


def run_monitor(ws: Workspace, monitor: list[str], pass_name: str, expected: list[str], timeout: float,
                py_spy: str | None = None) -> PassResult:
    cmd = [*monitor, "--sources", str(ws.sources), "--state-dir", str(ws.state), "check", "--json"]
    raw = ws.log("monitor", pass_name, "py-spy.txt")
    m, out, err, seen = _timed(ws, "monitor", pass_name, profile.wrap(py_spy, cmd, raw) if py_spy else cmd,
                               ws.monitor_env, timeout)
    records = []
    for line in out.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    alerts = [r["source"] for r in records if r.get("kind") == "legal" and r.get("alert")]
    failing = {r["source"] for r in records if r.get("kind") == "operational"}
    failing |= set(re.findall(r"^monitor: (\S+): ", err.read_text(errors="replace"), re.M))
    result = PassResult("monitor", pass_name, ws.n, m, sorted(set(alerts)), expected, sorted(failing),
                        alert_lines=len(alerts), **seen)
    _check_alerts(result, m, err)
    if py_spy and raw.exists():
        result.profile = profile.summarize(raw)
    return result


def run_urlwatch(ws: Workspace, urlwatch: str, pass_name: str, expected: list[str], timeout: float) -> PassResult:
    cmd = [urlwatch, "--urls", str(ws.uw / "jobs.yaml"), "--config", str(ws.uw / "config.yaml"),
           "--cache", str(ws.uw / "cache.db"), "--hooks", str(ws.uw / "hooks.py")]
    m, out, err, seen = _timed(ws, "urlwatch", pass_name, cmd, ws.env, timeout)
    verbs: dict[str, set[str]] = {"NEW": set(), "CHANGED": set(), "ERROR": set(), "UNCHANGED": set()}
    for line in out.read_text(encoding="utf-8", errors="replace").splitlines():
        match = _SUMMARY_RE.match(line)
        if match:
            verbs[match.group(1)].add(match.group(2))
    result = PassResult("urlwatch", pass_name, ws.n, m, sorted(verbs["CHANGED"]), expected, sorted(verbs["ERROR"]),
                        new=len(verbs["NEW"]), **seen)
    if pass_name == "first_sight" and result.new != ws.n:
        result.problems.append(f"reported {result.new} new pages, expected {ws.n}")
    _check_alerts(result, m, err)
    return result


# -- tools --------------------------------------------------------------------------------------------------------
def find_monitor(rev: str | None, work: Path) -> tuple[list[str] | None, dict, str]:
    """The installed CLI (beside this Python, else on PATH), or `python -m monitor` on monitor/ as of git `rev`
    (exported with git archive, so the work tree and the repository stay untouched). Returns (command, extra
    environment, label)."""
    if not rev:
        beside = Path(sys.executable).parent / "monitor"
        found = str(beside) if beside.exists() else shutil.which("monitor")
        spec = importlib.util.find_spec("monitor")
        if found and spec and spec.origin:
            _byte_compile(Path(spec.origin).parent)
        return ([found] if found else None), {}, f"{found} (installed CLI)"
    sha = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", rev], capture_output=True,
                         text=True).stdout.strip()
    if not sha:
        return None, {}, ""
    src = work / f"rev-{sha}"
    if not (src / "monitor").is_dir():
        src.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", sha, "monitor"], capture_output=True,
                                 check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(src)], input=archive, check=True)
    _byte_compile(src / "monitor")
    return [sys.executable, "-m", "monitor"], {"PYTHONPATH": str(src)}, f"python -m monitor, monitor/ at {sha}"


def _byte_compile(package: Path) -> None:
    """Write monitor's .pyc files before timing, as a wheel install does (and as pip did for urlwatch): an editable
    install under PYTHONDONTWRITEBYTECODE would otherwise compile every module on every pass."""
    compileall.compile_dir(str(package), quiet=1)


def ensure_urlwatch(work: Path) -> tuple[str | None, str]:
    """urlwatch 2.29 in its own virtualenv under bench/.work; (path to its CLI or None, what happened)."""
    venv = work / f"urlwatch-{URLWATCH_VERSION}"
    exe = venv / "bin" / "urlwatch"
    if exe.exists() and _urlwatch_version(exe) == URLWATCH_VERSION:
        return str(exe), f"urlwatch {URLWATCH_VERSION} (reused {venv})"
    shutil.rmtree(venv, ignore_errors=True)
    print(f"installing urlwatch=={URLWATCH_VERSION} into {venv} ...", flush=True)
    steps = ([sys.executable, "-m", "venv", str(venv)],
             [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", f"urlwatch=={URLWATCH_VERSION}"])
    for step in steps:
        try:
            done = subprocess.run(step, capture_output=True, text=True, timeout=900)
        except (OSError, subprocess.TimeoutExpired) as e:
            return None, f"urlwatch could not be installed ({' '.join(step[:3])}: {e})"
        if done.returncode != 0:
            tail = " | ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
            return None, f"urlwatch could not be installed ({' '.join(step[:3])} exited {done.returncode}: {tail})"
    version = _urlwatch_version(exe)
    if version != URLWATCH_VERSION:
        return None, f"urlwatch could not be installed (found version {version!r})"
    return str(exe), f"urlwatch {URLWATCH_VERSION} (installed into {venv})"


def _urlwatch_version(exe: Path) -> str | None:
    try:
        out = subprocess.run([str(exe), "--version"], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"urlwatch\s+(\S+)", out)
    return match.group(1) if match else None


def machine_info() -> dict:
    model = ""
    try:
        model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                      if line.startswith("model name")), "")
        mem = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal"))
    except (OSError, StopIteration):
        mem = 0
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    return {"cores": os.cpu_count(), "cpu_model": model or platform.processor(), "memory_gb": round(mem / 2**20, 1),
            "python": platform.python_version(), "platform": platform.platform(), "git_commit": commit,
            "date": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}


# -- one N --------------------------------------------------------------------------------------------------------
def bench_round(n: int, args, monitor: list[str], monitor_env: dict, urlwatch: str | None) -> tuple[dict, dict]:
    """The three passes of each tool on a fresh server and fresh state: ({facts}, {pass: [results]})."""
    with ServerProcess(n, hosts=args.hosts, seed=args.seed, latency_ms=args.latency_ms) as server:
        ws = Workspace(n, server, args.work, monitor_env)
        changed = changed_ids(server.specs, args.changed_share, args.seed)
        facts = {"n": n, "hosts": len(server.addresses), "dynamic_pages": sum(s.dynamic for s in server.specs),
                 "changed_pages": len(changed)}
        print(f"\nN={n}: {facts['hosts']} hosts (127.0.0.2-127.0.0.{1 + facts['hosts']}), {facts['dynamic_pages']} "
              f"pages with per-request tokens, {len(changed)} pages change in the last pass; files in {ws.dir}",
              flush=True)
        passes: dict[str, list[PassResult]] = {}
        for pass_name in PASSES:
            expected = changed if pass_name == "changed" else []
            if pass_name == "changed":
                server.change(changed)
            server.stats(reset=True)
            results = [run_monitor(ws, monitor, pass_name, expected, args.timeout, args.py_spy)]
            if urlwatch:
                results.append(run_urlwatch(ws, urlwatch, pass_name, expected, args.timeout))
            _print_pass(pass_name, results)
            if results[0].profile:
                profile.print_summary(f"monitor, {pass_name}", results[0].profile)
            passes[pass_name] = results
        return facts, passes


def bench_n(n: int, args, monitor: list[str], monitor_env: dict, urlwatch: str | None) -> dict:
    """`--repeat` rounds; each pass and tool keeps its fastest round (a shared machine only ever adds time), and
    fails its alert check if any round failed it."""
    rounds = [bench_round(n, args, monitor, monitor_env, urlwatch) for _ in range(args.repeat)]
    if args.repeat > 1:
        print(f"\nN={n}, fastest of {args.repeat} rounds:")
    passes: dict[str, dict] = {}
    for pass_name in PASSES:
        best = []
        for i in range(len(rounds[0][1][pass_name])):
            tries = [r[1][pass_name][i] for r in rounds]
            fastest = min(tries, key=lambda r: r.measurement.wall_s)
            fastest.problems = list(dict.fromkeys(p for t in tries for p in t.problems))
            best.append(fastest)
        entry = {r.tool: {**r.as_json(), "wall_s_rounds": [t[1][pass_name][i].measurement.wall_s for t in rounds]}
                 for i, r in enumerate(best)}
        if len(best) == 2:
            entry["ratio"] = _ratios(*best)
        if args.repeat > 1:
            _print_pass(pass_name, best)
        passes[pass_name] = entry
    return {**rounds[0][0], "rounds": args.repeat, "passes": passes}


def _ratios(mon: PassResult, uw: PassResult) -> dict:
    def ratio(a: float, b: float) -> float | None:
        return round(a / b, 3) if b else None

    return {"wall": ratio(mon.measurement.wall_s, uw.measurement.wall_s),
            "cpu": ratio(mon.measurement.cpu_s, uw.measurement.cpu_s),
            "peak_rss": ratio(mon.measurement.peak_mb, uw.measurement.peak_mb)}


HEADER = (f"{'pass':<12} {'tool':<9} {'wall s':>7} {'pages/s':>8} {'cpu s':>7} {'user':>6} {'sys':>5} "
          f"{'peak MB':>8} {'200/304':>10} {'alerts':>9} {'load':>5}  check")


def _print_pass(pass_name: str, results: list[PassResult]) -> None:
    if pass_name == PASSES[0]:
        print(HEADER)
    for i, r in enumerate(results):
        m = r.measurement
        served = f"{r.server.get('200', 0)}/{r.server.get('304', 0)}"
        print(f"{pass_name if i == 0 else '':<12} {r.tool:<9} {m.wall_s:>7.2f} {r.pages_per_s:>8.1f} "
              f"{m.cpu_s:>7.2f} {m.user_s:>6.2f} {m.sys_s:>5.2f} {m.peak_mb:>8.1f} {served:>10} "
              f"{len(r.alerts):>4}/{len(r.expected):<4} {r.load_before:>5.1f}  {'PASS' if r.ok else 'FAIL'}"
              + ("" if r.ok else "  " + "; ".join(r.problems)), flush=True)
    if len(results) == 2:
        ratio = _ratios(*results)
        print(f"{'':<12} {'ratio':<9} {ratio['wall'] or 0:>6.2f}x {'':>8} {ratio['cpu'] or 0:>6.2f}x {'':>6} {'':>5} "
              f"{ratio['peak_rss'] or 0:>7.2f}x   (monitor / urlwatch)", flush=True)


# -- targets ------------------------------------------------------------------------------------------------------
def evaluate_targets(runs: list[dict]) -> list[dict]:
    """The issue's targets, judged on this run. Informational: they do not change the exit status."""
    out = []
    for run in runs:
        passes = run["passes"]
        for pass_name, limit, aim in (("changed", 1.0, 0.5), ("first_sight", 1.5, 1.0), ("unchanged", 1.5, 1.0)):
            ratio = passes[pass_name].get("ratio", {}).get("wall")
            if ratio is not None:
                out.append({"n": run["n"], "target": f"{pass_name} wall ratio <= {limit} (aim {aim})",
                            "value": ratio, "met": ratio <= limit})
        if run["n"] >= 4000:
            peak = max(p["monitor"]["peak_rss_mb"] for p in passes.values())
            out.append({"n": run["n"], "target": "monitor peak memory < 250 MB", "value": peak, "met": peak < 250})
    return out


REGRESSION = 1.2  # a pass more than 20% slower than the recorded numbers is a bug (issue 8)


def compare_with(baseline: dict, runs: list[dict], settings: dict | None = None) -> list[dict]:
    """monitor's passes against a recorded results file: CPU seconds (steadier than wall time on a shared machine)
    of the same N and pass, flagged when more than REGRESSION times the recorded ones. Results recorded with other
    settings (hosts, latency, share of changed pages, seed) do not compare."""
    if settings is not None and baseline.get("settings") not in (None, settings):
        return []
    recorded = {(run["n"], name): entry["monitor"] for run in baseline.get("runs", [])
                for name, entry in run["passes"].items() if "monitor" in entry}
    out = []
    for run in runs:
        for name, entry in run["passes"].items():
            old = recorded.get((run["n"], name))
            if old and old.get("cpu_s"):
                ratio = round(entry["monitor"]["cpu_s"] / old["cpu_s"], 3)
                out.append({"n": run["n"], "pass": name, "recorded_cpu_s": old["cpu_s"],
                            "cpu_s": entry["monitor"]["cpu_s"], "ratio": ratio, "regression": ratio > REGRESSION})
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Benchmark `monitor check` against urlwatch on generated pages.")
    p.add_argument("--n", type=int, nargs="+", default=None, metavar="N", help="page counts (default 400 4000)")
    p.add_argument("--quick", action="store_true", help="N=100 only; results to bench/.work/results-quick.json")
    p.add_argument("--no-urlwatch", action="store_true", help="time monitor only")
    p.add_argument("--hosts", type=int, default=16, help="loopback addresses to spread pages over (default 16)")
    p.add_argument("--latency-ms", type=float, default=0.0, help="server delay before each response (default 0)")
    p.add_argument("--changed-share", type=float, default=0.1, help="share of pages changed in the last pass")
    p.add_argument("--repeat", type=int, default=1, metavar="K", help="run each N K times and keep each pass's "
                   "fastest round (steadier numbers on a busy machine)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--timeout", type=float, default=1800, help="seconds allowed for one pass")
    p.add_argument("--out", type=Path, default=None, help="results file (default bench/results.json)")
    p.add_argument("--profile", action="store_true", help="run monitor under py-spy and print where the time "
                   "goes (needs `pip install py-spy`; profiled timings are inflated)")
    p.add_argument("--rev", help="time monitor/ as of this git revision instead of the installed CLI")
    p.add_argument("--work", type=Path, default=WORK, help="scratch folder (default bench/.work)")
    p.add_argument("--baseline", type=Path, default=BENCH / "results.json", help="recorded results to compare "
                   "monitor's CPU time with (default bench/results.json, read before it is overwritten)")
    args = p.parse_args(argv)
    sizes = args.n or ([100] if args.quick else [400, 4000])
    out_path = args.out or (args.work / "results-quick.json" if args.quick else BENCH / "results.json")
    args.work.mkdir(parents=True, exist_ok=True)

    args.py_spy = profile.find_py_spy() if args.profile else None
    if args.profile and not args.py_spy:
        print("bench: --profile needs py-spy (pip install py-spy)", file=sys.stderr)
        return 2
    try:
        baseline = json.loads(args.baseline.read_text())
    except (OSError, ValueError):
        baseline = {}
    monitor, monitor_env, monitor_label = find_monitor(args.rev, args.work)
    if not monitor:
        print(f"bench: no git revision {args.rev!r}" if args.rev else
              "bench: the `monitor` command is not installed (pip install -e . in this repo)", file=sys.stderr)
        return 2
    urlwatch, urlwatch_note = (None, "urlwatch skipped (--no-urlwatch)") if args.no_urlwatch else \
        ensure_urlwatch(args.work)
    print(urlwatch_note if urlwatch or args.no_urlwatch else
          f"*** {urlwatch_note}; continuing with monitor-only numbers ***", flush=True)
    info = machine_info()
    print(f"monitor: {monitor_label}")
    print(f"machine: {info['cores']} cores, {info['cpu_model']}, {info['memory_gb']} GB, Python {info['python']}, "
          f"commit {info['git_commit']}, {info['date']}", flush=True)

    runs = [bench_n(n, args, monitor, monitor_env, urlwatch) for n in sizes]
    targets = evaluate_targets(runs)
    monitor_ok = all(run["passes"][p]["monitor"]["alert_check"] == "PASS" for run in runs for p in PASSES)
    urlwatch_ok = all(run["passes"][p]["urlwatch"]["alert_check"] == "PASS" for run in runs for p in PASSES
                      if "urlwatch" in run["passes"][p])
    print()
    for t in targets:
        print(f"target N={t['n']}: {t['target']}: {t['value']} -> {'MET' if t['met'] else 'MISSED'}")
    settings = {"hosts": args.hosts, "latency_ms": args.latency_ms, "changed_share": args.changed_share,
                "seed": args.seed, "monitor_sources": "default settings (concurrency 16, 4 per host), no selectors",
                "urlwatch_jobs": "css: main, html2text (method re)"}
    comparison = compare_with(baseline, runs, settings)
    if baseline and not comparison:
        print(f"not compared with {args.baseline}: recorded with other settings or other sizes")
    for c in comparison:
        print(f"against {args.baseline.name} (commit {baseline.get('machine', {}).get('git_commit', '?')}): "
              f"N={c['n']} {c['pass']}: CPU {c['cpu_s']} s vs {c['recorded_cpu_s']} s = {c['ratio']}x"
              + (" -> REGRESSION (> 20% slower)" if c["regression"] else ""))
    print(f"alert count, monitor: {'PASS' if monitor_ok else 'FAIL'}"
          + (f"; urlwatch: {'PASS' if urlwatch_ok else 'FAIL'}" if urlwatch else ""))
    results = {"machine": info, "monitor": monitor_label, "urlwatch": urlwatch_note,
               "settings": settings,
               "runs": runs, "targets": targets, "against_baseline": comparison,
               "alert_check": {"monitor": "PASS" if monitor_ok else "FAIL",
                               "urlwatch": ("PASS" if urlwatch_ok else "FAIL") if urlwatch else None}}
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(results, indent=2) + "\n")
    print(f"results written to {out_path}")
    return 0 if monitor_ok else 1


if __name__ == "__main__":
    sys.exit(main())
