"""Opening the state safely: the state directory and the database file, their permissions, the refusal of a file
that is not a usable database, the operator's line for an SQLite error (StateError), and the write transaction.

The state directory is made 0700 and the database with its -wal and -shm 0600, whatever the umask: the outbox holds
what is about to be said in Slack. Every write transaction starts with BEGIN IMMEDIATE, so it waits (up to
BUSY_TIMEOUT) for another process's write instead of failing at once with "database is locked".
"""
from __future__ import annotations

import errno
import functools
import os
import secrets
import sqlite3
import stat
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, TypeVar

import sqlite_utils

if TYPE_CHECKING:
    from . import Store

DB_NAME = "monitor.db"
BUSY_TIMEOUT = 30.0  # seconds a write waits for another process's write transaction before giving up
SQLITE_MAGIC = b"SQLite format 3\x00"


class StateError(Exception):
    """The state cannot be used as it is. The message is one line for the operator: what is wrong with which file
    and what to do. Nothing recorded is lost by the refusal (a failed transaction leaves the state as it was)."""


_F = TypeVar("_F", bound=Callable[..., Any])
_RESTORE = "restore it from a backup, or move it away to start afresh (every source then takes a new baseline and " \
           "alerts not yet delivered are lost)"


def describe(error: sqlite3.Error, path: Path) -> str | None:
    """The operator's line for an SQLite error that is the state's fault, or None for one that is ours (a bug)."""
    code = getattr(error, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    if primary == 13:  # SQLITE_FULL
        return f"could not write {path}: the disk is full ({error}); free some space and run again, nothing " \
               "recorded was lost"
    if primary == 10:  # SQLITE_IOERR and its extended codes (a failing or full disk, a file-size limit)
        verb = "read" if code in (266, 522) else "write"  # SQLITE_IOERR_READ, SQLITE_IOERR_SHORT_READ
        return f"could not {verb} {path}: {error} (is the disk full or failing?); nothing recorded was lost"
    if primary == 11:  # SQLITE_CORRUPT
        return f"{path} is corrupt ({error}); {_RESTORE}"
    if primary == 26:  # SQLITE_NOTADB
        return f"{path} is not a SQLite database; {_RESTORE}"
    if primary in (3, 8, 23):  # SQLITE_PERM, SQLITE_READONLY, SQLITE_AUTH
        return f"permission denied writing {path} ({error}); run monitor as the user that owns the state, or fix " \
               "its permissions"
    if primary == 14:  # SQLITE_CANTOPEN: a directory, no permission, a vanished directory
        return _unopenable(path) or f"cannot open {path} ({error})"
    if primary in (5, 6, 15):  # SQLITE_BUSY, SQLITE_LOCKED, SQLITE_PROTOCOL
        return f"{path} is locked by another process (waited up to {BUSY_TIMEOUT:g} s: {error}); try again"
    return None


def _unopenable(path: Path) -> str | None:
    """Why `path` (or its -wal/-shm) cannot be opened, when the file system can tell."""
    for candidate in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            st = candidate.stat()
        except FileNotFoundError:
            continue
        except OSError as e:
            return _os_problem(e, candidate)
        if stat.S_ISDIR(st.st_mode):
            return f"{candidate} is a directory, not a database file; move it away"
        if not os.access(candidate, os.R_OK | os.W_OK):
            return f"permission denied: cannot read and write {candidate} (owner uid {st.st_uid}, mode " \
                   f"{stat.S_IMODE(st.st_mode):04o}); run monitor as the user that owns the state, or fix its " \
                   "permissions"
    if not os.access(path.parent, os.W_OK | os.X_OK):
        return f"permission denied: cannot write in {path.parent}; run monitor as the user that owns the state, " \
               "or fix its permissions"
    return None


def _os_problem(error: OSError, path: Path) -> str:
    if error.errno in (errno.EACCES, errno.EPERM):
        return f"permission denied on {path}; run monitor as the user that owns the state, or fix its permissions"
    if error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return f"could not write {path}: the disk is full ({error.strerror}); free some space and run again"
    if error.errno == errno.ENOTDIR:
        return f"{path}: a part of the path is a file, not a directory"
    if error.errno == errno.EROFS:
        return f"could not write {path}: the file system is read-only"
    return f"{path}: {error.strerror or error}"


def _guarded(method: _F) -> _F:
    """Turn the SQLite errors that are the state's fault into StateError; every other error is a bug and stays."""

    @functools.wraps(method)
    def wrapper(self: Store, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as e:
            problem = describe(e, self.path)
            if problem is None:
                raise
            raise StateError(problem) from e

    return wrapper  # type: ignore[return-value]


def ensure_state_dir(state_dir: str | os.PathLike) -> Path:
    """The state directory, made (with any missing parents) 0700 whatever the umask. An existing directory's mode
    is the operator's business and is left as it is."""
    path = Path(state_dir)
    missing: list[Path] = []
    probe = path
    try:
        while not probe.exists() and probe != probe.parent:
            missing.append(probe)
            probe = probe.parent
        for directory in reversed(missing):
            try:
                os.mkdir(directory, 0o700)
            except FileExistsError:
                continue  # made meanwhile by another process: theirs
            os.chmod(directory, 0o700)  # mkdir's mode is cut by the umask, never widened
    except OSError as e:
        raise StateError(f"cannot create the state directory: {_os_problem(e, Path(e.filename or path))}") from None
    if not path.is_dir():
        raise StateError(f"the state directory {path} is not a directory")
    return path


def _private(db_path: Path) -> None:
    """The database, its -wal and its -shm readable and writable by their owner only (SQLite gives the -wal and
    -shm it creates the database file's mode)."""
    for candidate in (db_path, db_path.with_name(db_path.name + "-wal"), db_path.with_name(db_path.name + "-shm")):
        try:
            st = candidate.stat()
            if stat.S_ISREG(st.st_mode) and st.st_uid == os.geteuid() and stat.S_IMODE(st.st_mode) != 0o600:
                os.chmod(candidate, 0o600)
        except OSError:
            continue  # gone meanwhile (the last connection removed it) or not ours to change


def inspect_database(db_path: Path) -> bool:
    """Refuse a file that is not a usable database before SQLite opens it (and, given an empty file, silently
    makes a new database of it: a re-baseline that loses the outbox). Returns whether the database exists."""
    try:
        st = db_path.stat()
    except FileNotFoundError:
        return False
    except OSError as e:
        raise StateError(_os_problem(e, db_path)) from None
    if stat.S_ISDIR(st.st_mode):
        raise StateError(f"{db_path} is a directory, not a database file; move it away")
    if not stat.S_ISREG(st.st_mode):
        raise StateError(f"{db_path} is not a regular file; move it away")
    if st.st_size == 0:
        raise StateError(f"{db_path} is empty (0 bytes), so it is not the state monitor wrote; refusing to start "
                         f"over in its place: {_RESTORE.replace('move it away', 'delete it')}")
    try:
        with open(db_path, "rb") as f:
            header = f.read(100)
    except OSError as e:
        raise StateError(_os_problem(e, db_path)) from None
    if not header.startswith(SQLITE_MAGIC[: len(header)]) or len(header) < len(SQLITE_MAGIC):
        raise StateError(f"{db_path} is not a SQLite database; {_RESTORE}")
    if len(header) < 100:
        raise StateError(f"{db_path} is truncated ({st.st_size} bytes); {_RESTORE}")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    valid = pages and header[24:28] == header[92:96]  # SQLite's rule for trusting the in-header size
    try:  # pages still in the -wal may lie beyond the file's end: only a checkpointed file can be judged
        wal_size = db_path.with_name(db_path.name + "-wal").stat().st_size
    except OSError:
        wal_size = 0
    if valid and pages * page_size > st.st_size and not wal_size:
        raise StateError(f"{db_path} is truncated ({st.st_size:,} of {pages * page_size:,} bytes); {_RESTORE}")
    return True


def _create(db_path: Path, make_schema: Callable[[sqlite_utils.Database], None]) -> None:
    """Make a new database under another name and link it into place: `monitor.db` is never seen half-made (or
    empty, which `inspect_database` refuses), and it is 0600 from the start. `make_schema` writes its tables."""
    temporary = db_path.with_name(f".{db_path.name}.new-{os.getpid()}-{secrets.token_hex(4)}")
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.fchmod(fd, 0o600)
        os.close(fd)
        conn = sqlite3.connect(temporary, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=WAL")  # kept in the file's header
            db = sqlite_utils.Database(conn)
            make_schema(db)
        finally:
            conn.close()
        try:
            os.link(temporary, db_path)
        except FileExistsError:
            pass  # another process made it meanwhile: use theirs
        except OSError:
            if not db_path.exists():  # a file system without hard links
                os.rename(temporary, db_path)
    except OSError as e:
        raise StateError(_os_problem(e, db_path)) from None
    finally:
        for leftover in (temporary, *(temporary.with_name(temporary.name + x) for x in ("-journal", "-wal", "-shm"))):
            try:
                os.unlink(leftover)
            except OSError:
                pass


@contextmanager
def transaction(db: sqlite_utils.Database) -> Iterator[None]:
    """A write transaction: BEGIN IMMEDIATE takes the write lock first, waiting up to BUSY_TIMEOUT for another
    process's; nested in an open transaction (a batch), a savepoint, so this part commits whole or not at all."""
    conn = db.conn
    if conn.in_transaction:
        with db.atomic():  # sqlite-utils' savepoint
            yield
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    try:
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
