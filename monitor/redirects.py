"""Which redirects a check follows: never from https down to http, never into an address space the source is not in.

A watched page is a government site, but whoever controls its server (or a compromised CMS, or a typo-squatted
domain) decides where its redirects point. Followed blindly, a redirect to 169.254.169.254 has the bot read a
cloud metadata service, one to 127.0.0.1 or 10.x an internal admin page, and what it reads ends up in Slack. And an
https page that redirects to http silently loses the integrity the operator chose https for. So each hop is
checked before it is sent:

- https -> http is refused unless the source says `allow_insecure_redirect: true`;
- the target host is resolved (every address it has, as the connection would) and refused if any address is in a
  scope the configured URL is not on itself: loopback, link-local, private (RFC 1918, unique-local, CGNAT and the
  other non-global ranges). A source whose own URL is on an intranet may redirect within its scope; public
  targets are always allowed;
- after the hop's response arrives, the address the connection really went to is checked the same way, which
  catches a name that resolved differently for the connection (DNS rebinding) or a kept-alive connection opened
  for another source. Only its headers have been read then; the body never is.

Every refusal is a RedirectRefused, which fetch reports as the `redirect_refused` error class (not retried).
"""
from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from typing import Awaitable, Callable

import httpx

from .limits import show_key
from .redact import redact_url

Resolver = Callable[[str, int], Awaitable[list[str]]]
PUBLIC = "public"
NAT64 = ipaddress.ip_network("64:ff9b::/96")


class RedirectRefused(Exception):
    """A redirect the policy does not follow; the message says which hop and why, with no secret in it."""


@dataclass(frozen=True)
class RedirectPolicy:
    allow_insecure: bool  # the source's allow_insecure_redirect
    scopes: frozenset[str]  # where redirects may lead: public, plus the scopes of the configured URL's addresses


def scope(address: str) -> str:
    """public, loopback, link-local or private. IPv4 inside IPv6 (mapped, 6to4, NAT64) is judged as IPv4; the
    unspecified address counts as loopback, where a connection to it lands."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address):
        inner = ip.ipv4_mapped or ip.sixtofour or (ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) if ip in NAT64
                                                   else None)
        if inner is not None:
            ip = inner
    if ip.is_loopback or ip.is_unspecified:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_global and not ip.is_multicast:
        return PUBLIC
    return "private"


async def system_resolve(host: str, port: int) -> list[str]:
    """Every address `host` has, as getaddrinfo gives them to a connection (an IP literal gives itself)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({info[4][0] for info in infos})


async def policy_for(url: httpx.URL, allow_insecure: bool, resolve: Resolver) -> RedirectPolicy:
    """The policy for redirects from the configured `url`: its own addresses' scopes are allowed as targets."""
    scopes = {PUBLIC}
    try:
        scopes.update(scope(a) for a in await resolve(url.host, url.port or _default_port(url)))
    except (OSError, ValueError):
        pass  # it cannot be resolved now: its redirects may reach public addresses only
    return RedirectPolicy(allow_insecure, frozenset(scopes))


async def check_hop(source: httpx.URL, target: httpx.URL, policy: RedirectPolicy, resolve: Resolver) -> None:
    """Raise RedirectRefused unless the redirect from `source` to `target` may be followed. A target that is not
    http(s) passes here: httpx refuses it as unsupported_protocol. One that does not resolve passes too: its
    connection fails the same way, and check_connected judges any connection that does happen."""
    if target.scheme not in ("http", "https"):
        return
    if source.scheme == "https" and target.scheme == "http" and not policy.allow_insecure:
        raise RedirectRefused(f"{_shown(source)} redirected to {_shown(target)}: from https down to plain http is "
                              "not followed (anyone on the way could read or change the page); if the site really "
                              "serves only http, add `allow_insecure_redirect: true` to the source")
    try:
        addresses = await resolve(target.host, target.port or _default_port(target))
    except (OSError, ValueError):
        return
    for address in addresses:
        _refuse_unless_allowed(address, target, policy, "resolves to")


def check_connected(response: httpx.Response, policy: RedirectPolicy) -> None:
    """Raise RedirectRefused if the connection that carried a redirected request went to an address the policy
    refuses (when the transport says where it went)."""
    stream = response.extensions.get("network_stream")
    peer = stream.get_extra_info("server_addr") if stream is not None else None
    if isinstance(peer, tuple) and peer and isinstance(peer[0], str):
        try:
            _refuse_unless_allowed(peer[0], response.request.url, policy, "was reached at")
        except ValueError:  # not an IP address (a Unix socket): nothing to judge
            pass


def _refuse_unless_allowed(address: str, target: httpx.URL, policy: RedirectPolicy, verb: str) -> None:
    where = scope(address)
    if where not in policy.scopes:
        what = address if target.host == address else f"{show_key(target.host, 80)} {verb} {address}, which"
        raise RedirectRefused(f"a redirect to {_shown(target)} is not followed: {what} is a {where} address, and a "
                              "redirect may lead to one only when the source's own url is on such an address")


def _shown(url: httpx.URL) -> str:
    text = redact_url(str(url))
    return text if len(text) <= 120 else text[:120] + "…"


def _default_port(url: httpx.URL) -> int:
    return 443 if url.scheme == "https" else 80
