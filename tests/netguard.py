"""A socket-level guard: no test, and no `monitor` subprocess a test starts, reaches an address off loopback.

Why it records as well as refuses: the code under test turns a failed connection into an ordinary outcome
(`connection_error`), so a refusal alone would let a broken redirect policy pass as "refused". Every attempt off
127.0.0.0/8 (or ::1) is blocked before a packet leaves, *and* written down; conftest fails the test that made it.

In the test process, `install(record)` patches socket.socket.connect/connect_ex/sendto and asyncio's sock_connect.
In subprocesses, tests/netguard_site/sitecustomize.py calls `install_from_env()` when NETGUARD_LOG names a file:
each attempt is appended to it as one line. DNS lookups made by the C library cannot be seen here, which is why
tests only ever use IP literals and `localhost`.
"""
from __future__ import annotations

import asyncio.selector_events
import errno
import ipaddress
import os
import socket
from typing import Any, Callable

ENV_LOG = "NETGUARD_LOG"
_installed: list[Callable[[str], None]] = []


def allowed(family: int, address: Any) -> bool:
    """Loopback IP addresses, and every non-IP socket family (Unix sockets, netlink), are allowed."""
    if family not in (socket.AF_INET, socket.AF_INET6):
        return True
    host = address[0] if isinstance(address, tuple) and address else address
    try:
        ip = ipaddress.ip_address(host.split("%")[0] if isinstance(host, str) else host)
    except ValueError:
        return False  # a name: socket.connect would resolve it, so it could be anywhere
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def _refuse(record: Callable[[str], None], what: str, address: Any) -> OSError:
    record(f"{what} {address!r} (pid {os.getpid()})")
    return OSError(errno.ENETUNREACH, f"netguard: {what} to {address!r} refused: tests stay on loopback")


def install(record: Callable[[str], None]) -> None:
    """Patch once per process; later calls only add a recorder."""
    _installed.append(record)
    if len(_installed) > 1:
        return

    def note(text: str) -> None:
        for recorder in list(_installed):
            recorder(text)

    connect, connect_ex, sendto = socket.socket.connect, socket.socket.connect_ex, socket.socket.sendto
    sock_connect = asyncio.selector_events.BaseSelectorEventLoop.sock_connect

    def guarded_connect(self, address):
        if not allowed(self.family, address):
            raise _refuse(note, "connect", address)
        return connect(self, address)

    def guarded_connect_ex(self, address):
        if not allowed(self.family, address):
            _refuse(note, "connect_ex", address)
            return errno.ENETUNREACH
        return connect_ex(self, address)

    def guarded_sendto(self, data, *args):
        address = args[-1]
        if not allowed(self.family, address):
            raise _refuse(note, "sendto", address)
        return sendto(self, data, *args)

    async def guarded_sock_connect(self, sock, address):
        host = address[0] if isinstance(address, tuple) and address else address
        try:
            ipaddress.ip_address(host)
        except ValueError:
            pass  # a name: asyncio resolves it and socket.connect, guarded above, sees the address
        else:
            if not allowed(sock.family, address):
                raise _refuse(note, "sock_connect", address)
        return await sock_connect(self, sock, address)

    socket.socket.connect = guarded_connect
    socket.socket.connect_ex = guarded_connect_ex
    socket.socket.sendto = guarded_sendto
    asyncio.selector_events.BaseSelectorEventLoop.sock_connect = guarded_sock_connect


def install_from_env() -> None:
    path = os.environ.get(ENV_LOG)
    if not path:
        return

    def append(line: str) -> None:
        with open(path, "a", encoding="utf-8") as log:
            log.write(line + "\n")

    install(append)
