"""Placeholder loop until the APScheduler worker lands: a pass every minimum interval until SIGTERM."""
from __future__ import annotations

import signal
import subprocess
import sys
import threading


def run_worker(sources: str, state_dir: str, log_format: str = "text", verbose: bool = False) -> int:
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    from .config import load_config

    while not stop.is_set():
        config = load_config(sources)
        subprocess.run([sys.executable, "-m", "monitor", "--sources", sources, "--state-dir", state_dir, "check"])
        stop.wait(min(s.interval for s in config.enabled))
    return 0
