"""The guard every test runs under (conftest.stays_on_loopback): an attempt off loopback is refused before a packet
leaves and recorded, in the test process and in the subprocesses tests start. These tests look at the record
directly and clear it, since what they make is exactly what would fail any other test."""
from __future__ import annotations

import asyncio
import socket
import subprocess
import sys

import pytest

import conftest
import netguard


def attempts_so_far(log_path: str) -> list[str]:
    """The attempts recorded in this process and by its subprocesses; cleared, so the test itself passes."""
    import os

    found = list(conftest._off_loopback)
    conftest._off_loopback.clear()
    if os.path.exists(log_path):
        with open(log_path, encoding="utf-8") as f:
            found += f.read().splitlines()
        os.remove(log_path)
    return found


@pytest.mark.parametrize("address", ["169.254.169.254", "10.0.0.1", "192.168.1.1", "0.0.0.0"])
def test_a_connection_off_loopback_is_refused_and_recorded_in_process(address, monkeypatch):
    import os

    log = os.environ[netguard.ENV_LOG]
    with socket.socket() as s, pytest.raises(OSError, match="netguard"):
        s.connect((address, 80))
    with socket.socket() as s:
        assert s.connect_ex((address, 80)) != 0

    async def through_asyncio():
        await asyncio.open_connection(address, 80)

    with pytest.raises(OSError, match="netguard"):
        asyncio.run(through_asyncio())
    found = attempts_so_far(log)
    assert len(found) >= 3 and all(address in line for line in found), found


def test_a_connection_off_loopback_is_refused_and_recorded_in_a_subprocess(project):
    import os

    code = ("import socket, urllib.request\n"
            "try:\n    urllib.request.urlopen('http://169.254.169.254/latest/meta-data/', timeout=2)\n"
            "except OSError as e:\n    print('refused:', e)\n")
    done = subprocess.run([sys.executable, "-c", code], env=project.env, capture_output=True, text=True, timeout=60)
    assert "netguard" in done.stdout, done.stdout + done.stderr
    found = attempts_so_far(os.environ[netguard.ENV_LOG])
    assert found and "169.254.169.254" in found[0]


def test_loopback_is_allowed(server):
    server.routes["/"] = b"<p>ok</p>"
    for host, family in (("127.0.0.1", socket.AF_INET), ("127.0.0.2", socket.AF_INET), ("::1", socket.AF_INET6)):
        assert netguard.allowed(family, (host, 80))
    assert not netguard.allowed(socket.AF_INET6, ("::ffff:169.254.169.254", 80))
    assert not netguard.allowed(socket.AF_INET, ("example.org", 80))
    with socket.create_connection(("127.0.0.1", server.httpd.server_address[1]), timeout=5):
        pass
