"""Where a monitor pass spends its time: py-spy samples of the whole process, summed by pipeline stage.

`python bench/run.py --profile` runs each monitor pass under `py-spy record --format raw` (every thread, idle
samples left out) and prints this summary; the raw stacks stay in bench/.work/nN/logs/ for a flame graph.
Profiled passes run slower than real ones: read the shares, not the seconds.
"""
from __future__ import annotations

import shutil
import sys
from collections import Counter
from pathlib import Path

# First match wins, in this order: a stack that is importing a module is start-up wherever it was called from.
STAGES = (
    ("start-up (imports)", ("_find_and_load",)),
    ("extract: parse (libxml2 / bs4 tree)", ("_parse (monitor/extract/html_lxml.py", "BeautifulSoup.__init__ (bs4/__init__.py")),
    ("extract: drop/select/walk", ("monitor/extract/",)),
    ("diff", ("monitor/diff.py",)),
    ("detect", ("monitor/detect/",)),
    ("store (SQLite, JSON)", ("monitor/store/",)),
    ("notify", ("monitor/notify/",)),
    ("fetch (httpx)", ("monitor/fetch.py", "httpx/", "httpcore/", "h11/")),
    ("config", ("monitor/config.py",)),
    ("event loop, other", ("",)),
)


NO_FRAME = "(no Python frame)"


def find_py_spy() -> str | None:
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


def wrap(py_spy: str, cmd: list[str], raw_out: Path, rate: int = 250) -> list[str]:
    return [py_spy, "record", "--format", "raw", "--rate", str(rate), "-o", str(raw_out), "--",
            *cmd]


def summarize(raw: Path, top: int = 12) -> dict:
    """Samples by stage, and the functions with the most samples of their own (self time)."""
    stages: Counter = Counter()
    own: Counter = Counter()
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        total += n
        if not stack.strip():  # the interpreter starting or exiting, or native code with no Python frame
            stages[NO_FRAME] += n
            own[NO_FRAME] += n
            continue
        stages[next(name for name, marks in STAGES if any(m in stack for m in marks))] += n
        own[stack.rsplit(";", 1)[-1]] += n
    share = (lambda n: round(100 * n / total, 1)) if total else (lambda n: 0.0)
    return {"samples": total,
            "stages": [{"stage": name, "share": share(n)} for name, n in stages.most_common()],
            "self": [{"function": f, "share": share(n)} for f, n in own.most_common(top)]}


def print_summary(title: str, summary: dict) -> None:
    print(f"  profile of {title}: {summary['samples']} samples")
    for s in summary["stages"]:
        print(f"    {s['share']:5.1f}%  {s['stage']}")
    print("    top functions by own samples:")
    for f in summary["self"]:
        print(f"    {f['share']:5.1f}%  {f['function']}")
