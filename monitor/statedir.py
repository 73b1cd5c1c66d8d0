"""The state directory under a running worker: one worker per directory, and one that stops when it loses it.

A worker holds its state open: the SQLite database and the lock file. If someone deletes or replaces the directory
(`rm -rf state`, a restore from backup, a volume mounted over it), the worker's open files are the old ones: it
would go on writing where nothing can read, and the lock it holds is on a file nobody can find, so a second worker
could start on the new directory beside it. Two things prevent that:

- the lock is two locks. The `flock` on state/worker.lock covers every path that leads to the same directory; a
  claim on a name derived from the directory's absolute path (a Linux abstract Unix socket: no file to delete, and
  released by the kernel when the process dies, like the flock) covers a new directory at the same path. A second
  worker is refused by either;
- `StateWatch` compares the device and inode of the directory, the database and the lock file with those seen at
  start. The worker looks every few seconds and, if any is gone or another, logs it as an error and stops with
  EXIT_STATE_LOST, so that a supervisor restarts it on the state as it now is.
"""
from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import socket
import struct
import sys
from dataclasses import dataclass
from pathlib import Path

from .store import DB_NAME, StateError, ensure_state_dir

LOCK_NAME = "worker.lock"
NAME_PREFIX = "kratom-monitor/worker/"


class AlreadyRunning(Exception):
    pass


@dataclass
class WorkerLock:
    """Both locks, held until `close` or the process ends."""

    fd: int
    claim: socket.socket | None

    def close(self) -> None:
        os.close(self.fd)
        if self.claim is not None:
            self.claim.close()


def acquire_lock(state_dir: str | os.PathLike) -> WorkerLock:
    """Claim `state_dir` for this process: its path (the name lock) and the directory itself (an exclusive flock on
    state/worker.lock, which holds our pid). The OS drops both even on SIGKILL, so a crashed worker never leaves a
    stale lock. Raises AlreadyRunning, naming the holder's pid when it can be known."""
    path = ensure_state_dir(state_dir) / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as e:
        raise StateError(f"cannot open {path}: {e.strerror}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 32).decode("ascii", "replace").strip() or "unknown"
        os.close(fd)
        raise AlreadyRunning(f"another worker (pid {holder}) is already running on {state_dir} (it holds {path}); "
                             f"stop it first or use another --state-dir") from None
    try:  # the directory is free; the path may still be held by a worker whose directory was replaced
        claim = _claim_name(path.parent)
    except AlreadyRunning:
        os.close(fd)
        raise
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return WorkerLock(fd, claim)


def _name(directory: Path) -> str:
    digest = hashlib.sha256(str(directory.resolve()).encode("utf-8", "surrogateescape")).hexdigest()[:32]
    return "\0" + NAME_PREFIX + digest


def _claim_name(directory: Path) -> socket.socket | None:
    """Bind the directory's abstract socket name; None where there are none (not Linux), leaving the flock alone."""
    if not sys.platform.startswith("linux"):
        return None
    name = _name(directory)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(name)
        sock.listen(64)  # only so that a refused worker can ask who holds it (SO_PEERCRED); never accepted
    except OSError as e:
        sock.close()
        if e.errno != errno.EADDRINUSE:
            return None
        raise AlreadyRunning(
            f"another worker (pid {_holder(name)}) is already running on {directory}, whose state directory was "
            f"removed or replaced under it; it stops by itself within seconds, then start again") from None
    return sock


def _holder(name: str) -> str:
    """The pid of the process listening on `name`, or "unknown"."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            probe.settimeout(1.0)
            probe.connect(name)
            pid, _, _ = struct.unpack("3i", probe.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                                                             struct.calcsize("3i")))
            return str(pid)
    except (OSError, AttributeError, struct.error):
        return "unknown"


@dataclass(frozen=True)
class Watched:
    what: str
    path: Path
    identity: tuple[int, int]  # st_dev, st_ino


class StateWatch:
    """What the worker opened at start, to notice when it is removed or replaced (see the module's docstring)."""

    def __init__(self, state_dir: str | os.PathLike, lock: WorkerLock | None = None):
        directory = Path(state_dir)
        self.watched: list[Watched] = []
        for what, path in (("state directory", directory), ("database", directory / DB_NAME),
                           ("lock file", directory / LOCK_NAME)):
            st = os.fstat(lock.fd) if lock is not None and what == "lock file" else os.stat(path)
            self.watched.append(Watched(what, path, (st.st_dev, st.st_ino)))

    def check(self) -> str | None:
        """None while everything is where it was; else what happened, in a sentence."""
        for w in self.watched:
            try:
                st = os.stat(w.path)
            except (FileNotFoundError, NotADirectoryError):
                return f"the {w.what} {w.path} was removed"
            except OSError:
                continue  # unreadable for a moment (permissions, a busy mount) is not proof it is gone
            if (st.st_dev, st.st_ino) != w.identity:
                return f"the {w.what} {w.path} was replaced (it is another file now: device {st.st_dev}, inode " \
                       f"{st.st_ino}; it was device {w.identity[0]}, inode {w.identity[1]})"
        return None
