"""Who is sending an outbox row, recorded so that another process can tell later whether that sender still runs.

A row being sent is marked with its sender's identity. A sender killed mid-post (SIGKILL, a crash, a power cut)
leaves its row marked, and without this the row would wait out its whole lease before anyone sent it again. A pid
alone is not enough, because pids are reused: the identity also holds the process's start time, the boot it ran
in and the host. So a dead sender's row is released at once, and a live sender's row (a worker in the middle of a
slow post) is never taken from it. A claim that cannot be judged from here (another host, no /proc) keeps its
lease. This module is a leaf: it imports nothing from monitor.
"""
from __future__ import annotations

import json
import os
import secrets
import socket
from dataclasses import dataclass

_BOOT_ID = "/proc/sys/kernel/random/boot_id"


@dataclass(frozen=True)
class Claimant:
    host: str
    boot: str  # the kernel's boot id; "" where there is none
    pid: int
    started: str  # the process's start, in clock ticks since boot (/proc/PID/stat field 22); "" if unknown
    token: str  # random and per process: tells this process's own claims apart from everyone else's

    def encode(self) -> str:
        return json.dumps([1, self.host, self.boot, self.pid, self.started, self.token], separators=(",", ":"))

    @classmethod
    def decode(cls, text: str | None) -> "Claimant | None":
        """The claimant stored in a row, or None for a row claimed by a monitor that did not record one."""
        try:
            version, host, boot, pid, started, token = json.loads(text or "")
        except (ValueError, TypeError):
            return None
        if version != 1 or not isinstance(pid, int):
            return None
        return cls(str(host), str(boot), pid, str(started), str(token))

    def is_gone(self) -> bool:
        """True only when it is certain that this claimant no longer runs: the same host and boot, and no live
        process with its pid and start time (a zombie, killed but not yet reaped, counts as gone)."""
        me = current()
        if self.token == me.token or self.pid <= 0:
            return False
        if self.host != me.host:
            return False  # another machine sharing the state directory: leave the claim to its lease
        if self.boot and me.boot and self.boot != me.boot:
            return True  # the machine has rebooted since: nothing from before runs
        if self.boot != me.boot:
            return False
        stat = _process(self.pid)
        if stat is None:
            return _absent(self.pid)
        state, started = stat
        if state in ("Z", "X"):
            return True
        return bool(self.started) and started != self.started  # else the pid was reused by another process


_current: Claimant | None = None


def current() -> Claimant:
    """This process's identity (computed once per process; a forked child gets its own)."""
    global _current
    if _current is None or _current.pid != os.getpid():
        pid = os.getpid()
        stat = _process(pid)
        _current = Claimant(host=socket.gethostname(), boot=_read(_BOOT_ID), pid=pid,
                            started=stat[1] if stat else "", token=secrets.token_hex(8))
    return _current


def _read(path: str) -> str:
    try:
        with open(path, encoding="ascii", errors="replace") as f:
            return f.read().strip()
    except OSError:
        return ""


def _process(pid: int) -> tuple[str, str] | None:
    """(state, start time) of a process from /proc, or None when there is no such entry (or no /proc)."""
    text = _read(f"/proc/{pid}/stat")
    if ")" not in text:
        return None
    fields = text.rsplit(")", 1)[1].split()  # the command name may hold spaces and parentheses
    return (fields[0], fields[19]) if len(fields) > 19 else None


def _absent(pid: int) -> bool:
    """No /proc entry for `pid` (no /proc here, or one mounted with hidepid): ask the kernel whether it exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # it exists, and belongs to another user
        return False
    return False
