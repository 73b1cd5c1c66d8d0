"""The redirect policy (monitor/redirects.py), driven through `monitor check` as an operator runs it.

Every page is served on 127.0.0.1, and redirects point at link-local and private addresses. netguard (autouse, in
conftest) refuses and records any connection off loopback, in this process and in the `monitor` subprocesses, so a
broken policy fails these tests instead of reaching a real address.
"""
from __future__ import annotations

import asyncio

import httpx
import pytest

from conftest import LoopbackServer, Response

from monitor.config import Settings
from monitor.fetch import Fetcher
from monitor.redirects import RedirectRefused, check_hop, policy_for, scope, system_resolve

PAGE = b"<html><body><main><h1>Kratom rules</h1><p>Nothing new.</p></main></body></html>"


def watched(server: LoopbackServer, path: str, sid: str = "moved", **extra) -> dict:
    return {"id": sid, "url": server.url(path), "jurisdiction": "US-FL", **extra}


@pytest.mark.parametrize("target, where", [
    ("http://169.254.169.254/latest/meta-data/iam/security-credentials/", "link-local"),
    ("http://10.0.0.7/admin", "private"),
    ("http://192.168.1.1/", "private"),
    ("http://[::ffff:169.254.169.254]/latest/meta-data/", "link-local"),  # IPv4 inside IPv6
    ("http://2852039166/latest/meta-data/", "link-local"),  # 169.254.169.254 as one number
    ("http://[fd00::1]/", "private"),
])
def test_a_redirect_into_an_internal_address_is_refused_before_connecting(project, server, target, where):
    server.routes["/moved"] = Response(302, b"", {"Location": target})
    server.routes["/hop"] = Response(301, b"", {"Location": "/moved"})  # loopback to loopback: followed
    server.routes["/fine"] = PAGE
    project.write([watched(server, "/hop"), watched(server, "/fine", "fine")], settings={"retries": 0})
    r, lines = project.check()
    assert r.returncode == 1, r.stderr
    [line] = [line for line in r.stderr.splitlines() if line.startswith("monitor: moved:")]
    assert line.startswith("monitor: moved: redirect_refused: a redirect to ") and f"is a {where} address" in line
    assert "fine" not in {l["source"] for l in lines if l["kind"] == "operational"}, "other sources still checked"
    assert len(server.requests_to("/moved")) == 1 and len(server.requests_to("/fine")) == 1
    status = project.run("status").stdout
    assert "failing x1 (redirect_refused)" in " ".join(status.split()) or "redirect_refused" in status
    r, _ = project.check()  # refused again on the next pass, and not retried within one
    assert r.returncode == 1 and len(server.requests_to("/moved")) == 2


def test_https_to_http_is_refused_unless_the_source_allows_it(project, server, https_server, tls):
    https_server.routes["/secure"] = Response(302, b"", {"Location": server.url("/plain")})
    https_server.routes["/tls-only"] = Response(301, b"", {"Location": https_server.url("/page")})
    https_server.routes["/page"] = PAGE
    server.routes["/plain"] = PAGE
    env = {"SSL_CERT_FILE": tls.ca_file}
    project.write([watched(https_server, "/secure"), watched(https_server, "/tls-only", "tls-only")],
                  settings={"retries": 0})
    r, _ = project.check(env=env)
    assert r.returncode == 1, r.stderr
    [line] = [line for line in r.stderr.splitlines() if line.startswith("monitor: ")]
    assert line.startswith("monitor: moved: redirect_refused: https://127.0.0.1:") and \
        "from https down to plain http is not followed" in line and "allow_insecure_redirect: true" in line
    assert server.requests_to("/plain") == [], "nothing is sent over plain http"
    assert len(https_server.requests_to("/page")) == 1, "https to https is followed"

    project.write([watched(https_server, "/secure", allow_insecure_redirect=True)], settings={"retries": 0})
    r, _ = project.check(env=env)
    assert r.returncode == 0, r.stderr
    assert len(server.requests_to("/plain")) == 1


def test_allow_insecure_redirect_must_be_a_boolean(project, server):
    project.write([watched(server, "/x", allow_insecure_redirect="yes")])
    r = project.run("validate")
    assert r.returncode == 2 and "allow_insecure_redirect: must be true or false" in r.stderr


def test_a_source_on_an_internal_address_may_redirect_within_its_own_scope():
    """No request is made: the policy is judged on IP literals, which resolve without DNS."""

    async def judge(configured: str, target: str) -> str:
        policy = await policy_for(httpx.URL(configured), False, system_resolve)
        try:
            await check_hop(httpx.URL(configured), httpx.URL(target), policy, system_resolve)
        except RedirectRefused as e:
            return str(e)
        return "followed"

    def verdict(configured: str, target: str) -> str:
        return asyncio.run(judge(configured, target))

    assert verdict("http://10.0.0.5/intranet", "http://10.9.9.9/page") == "followed"
    assert verdict("http://10.0.0.5/intranet", "http://93.184.216.34/") == "followed"
    assert "a link-local address" in verdict("http://10.0.0.5/intranet", "http://169.254.169.254/")
    assert "a loopback address" in verdict("http://10.0.0.5/intranet", "http://127.0.0.1:8080/")
    assert "a private address" in verdict("http://93.184.216.34/", "http://192.168.0.1/")
    assert [scope(a) for a in ("8.8.8.8", "127.0.0.2", "0.0.0.0", "169.254.169.254", "100.100.100.200",
                               "172.16.0.1", "::1", "fe80::1", "2002:a9fe:a9fe::1", "64:ff9b::a9fe:a9fe")] == \
        ["public", "loopback", "loopback", "link-local", "private", "private", "loopback", "link-local",
         "link-local", "link-local"]


def fetch_with(resolver, url: str) -> "object":
    async def go():
        fetcher = Fetcher(Settings(retries=0), resolve=resolver)
        try:
            return await fetcher.get(url, 10)
        finally:
            await fetcher.aclose()

    return asyncio.run(go())


def test_every_address_of_a_redirect_target_is_judged_before_connecting(server):
    """`localhost` told to resolve to a public and a private address: one bad address is enough to refuse, and no
    request reaches the target (were it sent, it would land on the loopback server and be counted)."""
    server.routes["/moved"] = Response(302, b"", {"Location": server.url("/next").replace("127.0.0.1", "localhost")})
    server.routes["/next"] = PAGE

    async def mixed(host: str, port: int) -> list[str]:
        return ["93.184.216.34", "10.1.2.3"] if host == "localhost" else await system_resolve(host, port)

    result = fetch_with(mixed, server.url("/moved"))
    assert (result.status, result.error_class) == ("error", "redirect_refused")
    assert "localhost resolves to 10.1.2.3, which is a private address" in result.error
    assert server.requests_to("/next") == []


def test_the_address_a_redirect_really_reached_is_judged_too(server):
    """DNS rebinding: the name resolved public for the check and the connection went to loopback anyway (here a
    kept-alive connection to the same server). The answer's body is never read."""
    public = server.url("/start").replace("127.0.0.1", "localhost")
    server.routes["/start"] = Response(302, b"", {"Location": public.replace("/start", "/inside")})
    server.routes["/inside"] = Response(200, b"<p>internal admin page</p>")

    async def says_public(host: str, port: int) -> list[str]:
        return ["93.184.216.34"] if host == "localhost" else await system_resolve(host, port)

    result = fetch_with(says_public, public)
    assert (result.status, result.error_class) == ("error", "redirect_refused"), result
    assert "localhost was reached at 127.0.0.1, which is a loopback address" in result.error
    assert result.body == b""
