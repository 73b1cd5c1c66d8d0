"""The benchmark's page server: one asyncio process serving the generated pages on several loopback addresses.

Real watch lists span many hosts, and both tools limit or pool connections per host, so the pages are spread over
`--hosts` addresses 127.0.0.2, 127.0.0.3, ... (Linux routes all of 127.0.0.0/8 to loopback). Different ports on
one address would not do: a per-host limit is keyed by host name, not port.

Static pages are served with ETag and Last-Modified and answer conditional requests with 304; dynamic pages
carry fresh tokens in every response. The first address also answers the runner's control requests:
  POST /__bench__/change   body: JSON list of page ids; each gains one history row
  GET  /__bench__/stats    connections and responses by status since the last `?reset=1`

Run as `python -m bench.server --n 400 --hosts 16`; it prints one JSON line with its addresses once listening and
stops when its standard input closes (so it never outlives the runner) or on SIGTERM.
"""
from __future__ import annotations

import argparse
import asyncio
import email.utils
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.pages import PageSet, PageSpec, plan  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
REASONS = {200: "OK", 304: "Not Modified", 400: "Bad Request", 404: "Not Found"}


class PageServer:
    def __init__(self, pages: PageSet, latency: float = 0.0):
        self.pages = pages
        self.latency = latency
        self.stats: Counter = Counter()
        self._date = (0, "")

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.stats["connections"] += 1
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, target, version = (lines[0].split(" ") + ["", ""])[:3]
                headers = {}
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    if name:
                        headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length") or 0)
                body = await reader.readexactly(length) if length else b""
                status, extra, payload = self.respond(method, target, headers, body)
                if self.latency:
                    await asyncio.sleep(self.latency)
                close = headers.get("connection", "").lower() == "close" or version == "HTTP/1.0"
                writer.write(self._head(status, extra, len(payload), close) + (b"" if method == "HEAD" else payload))
                await writer.drain()
                if close:
                    return
        except ConnectionError:
            return
        finally:
            writer.close()

    def respond(self, method: str, target: str, headers: dict, body: bytes) -> tuple[int, dict, bytes]:
        url = urlsplit(target)
        if url.path.startswith("/__bench__/"):
            return self.control(method, url, body)
        self.stats["requests"] += 1
        page = self.pages.pages.get(url.path)
        if page is None:
            self.stats["404"] += 1
            return 404, {}, b"<html><body><h1>Not Found</h1></body></html>"
        if page.spec.dynamic:
            extra = {"Cache-Control": "private", "X-AspNet-Version": "4.0.30319",
                     "Set-Cookie": f"ASP.NET_SessionId={os.urandom(12).hex()}; path=/; HttpOnly; SameSite=Lax"}
            self.stats["200"] += 1
            return 200, extra, self.pages.body(page)
        extra = {"ETag": page.etag, "Last-Modified": email.utils.formatdate(page.last_modified, usegmt=True),
                 "Cache-Control": "max-age=0"}
        if self._not_modified(page, headers):
            self.stats["304"] += 1
            return 304, extra, b""
        self.stats["200"] += 1
        return 200, extra, page.static_body

    @staticmethod
    def _not_modified(page, headers: dict) -> bool:
        """RFC 9110: If-None-Match wins; If-Modified-Since is only read without it."""
        if "if-none-match" in headers:
            return page.etag in [t.strip() for t in headers["if-none-match"].split(",")]
        since = headers.get("if-modified-since")
        if not since:
            return False
        try:
            return int(page.last_modified) <= email.utils.parsedate_to_datetime(since).timestamp()
        except (TypeError, ValueError):
            return False

    def control(self, method: str, url, body: bytes) -> tuple[int, dict, bytes]:
        json_type = {"Content-Type": "application/json"}
        if url.path == "/__bench__/change" and method == "POST":
            ids = json.loads(body or b"[]")
            for page_id in ids:
                self.pages.change(page_id)
            return 200, json_type, json.dumps({"changed": len(ids)}).encode()
        if url.path == "/__bench__/stats":
            stats = dict(self.stats)
            if "reset=1" in url.query:
                self.stats.clear()
            return 200, json_type, json.dumps(stats).encode()
        return 404, json_type, b"{}"

    def _head(self, status: int, extra: dict, length: int, close: bool) -> bytes:
        now = int(time.time())
        if self._date[0] != now:
            self._date = (now, email.utils.formatdate(now, usegmt=True))
        headers = {"Date": self._date[1], "Server": "Microsoft-IIS/10.0", "Content-Type": "text/html; charset=utf-8",
                   "Content-Length": str(length), "Connection": "close" if close else "keep-alive", **extra}
        lines = [f"HTTP/1.1 {status} {REASONS.get(status, '')}"] + [f"{k}: {v}" for k, v in headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def serve(n: int, hosts: int, seed: int, latency: float) -> None:
    pages = PageSet(plan(n, seed), seed)
    server = PageServer(pages, latency)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    servers = []
    for k in range(hosts):
        servers.append(await asyncio.start_server(server.handle, f"127.0.0.{2 + k}", 0, backlog=1024,
                                                  reuse_address=True))
    addresses = [list(s.sockets[0].getsockname()[:2]) for s in servers]
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    # Stop when the runner goes away: its end of our stdin closes.
    threading.Thread(target=lambda: (sys.stdin.read(), loop.call_soon_threadsafe(stop.set)), daemon=True).start()
    print(json.dumps({"addresses": addresses, "pages": n}), flush=True)
    await stop.wait()
    for s in servers:
        s.close()


class ServerProcess:
    """The runner's handle on a page server child process (started here, stopped by `close`)."""

    def __init__(self, n: int, hosts: int = 16, seed: int = 1, latency_ms: float = 0.0):
        self.specs: list[PageSpec] = plan(n, seed)
        env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        self.proc = subprocess.Popen([sys.executable, "-m", "bench.server", "--n", str(n), "--hosts", str(hosts),
                                      "--seed", str(seed), "--latency-ms", str(latency_ms)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=ROOT, env=env)
        line = self.proc.stdout.readline()
        if not line:
            self.close()
            raise RuntimeError("the page server did not start (see its error output above)")
        self.addresses = [tuple(a) for a in json.loads(line)["addresses"]]
        self.pid = self.proc.pid

    def url(self, spec: PageSpec) -> str:
        host, port = self.addresses[spec.host % len(self.addresses)]
        return f"http://{host}:{port}{spec.path}"

    def _control(self, path: str, data: bytes | None = None) -> dict:
        host, port = self.addresses[0]
        request = urllib.request.Request(f"http://{host}:{port}/__bench__/{path}", data=data,
                                         method="POST" if data is not None else "GET")
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())

    def change(self, ids: list[str]) -> None:
        self._control("change", json.dumps(ids).encode())

    def stats(self, reset: bool = True) -> dict:
        return self._control("stats?reset=1" if reset else "stats")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.terminate()
                self.proc.wait(timeout=10)
        self.proc.stdout.close()

    def __enter__(self) -> "ServerProcess":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n", type=int, required=True)
    p.add_argument("--hosts", type=int, default=16)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--latency-ms", type=float, default=0.0)
    args = p.parse_args()
    asyncio.run(serve(args.n, args.hosts, args.seed, args.latency_ms / 1000))


if __name__ == "__main__":
    main()
