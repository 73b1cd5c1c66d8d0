"""Shared test fixtures: a real HTTP page server and a fake Slack Web API on 127.0.0.1, and a CLI runner.

Tests drive the product as a user would: real HTTP, the real slack-sdk, `python -m monitor` as a subprocess.
"""
from __future__ import annotations

import http.server
import itertools
import json
import os
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

import pytest
import yaml

import netguard

ROOT = Path(__file__).resolve().parent.parent
NETGUARD_SITE = Path(__file__).resolve().parent / "netguard_site"  # its sitecustomize guards every subprocess
_off_loopback: list[str] = []
_tests = itertools.count()
netguard.install(_off_loopback.append)


@pytest.fixture(autouse=True)
def stays_on_loopback(tmp_path_factory, monkeypatch):
    """Every test, and every subprocess it starts, is refused any connection off loopback; one attempt fails it."""
    log = tmp_path_factory.getbasetemp() / f"netguard-{next(_tests)}.log"  # written only on an attempt
    monkeypatch.setenv(netguard.ENV_LOG, str(log))
    _off_loopback.clear()
    yield
    attempts = _off_loopback + (log.read_text(encoding="utf-8").splitlines() if log.exists() else [])
    if attempts:
        pytest.fail("connection attempted off loopback (netguard refused it): " + "; ".join(attempts[:5]))


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


Handler = Callable[[http.server.BaseHTTPRequestHandler], Response | None]


class LoopbackServer:
    """Serves scripted responses by path. A route is a Response, a callable(request) -> Response, or bytes.

    Every request is recorded (method, path, headers, body) so tests can check what the bot sent. With `tls` (an
    ssl.SSLContext, see the `tls` fixture) it serves https.
    """

    def __init__(self, tls: ssl.SSLContext | None = None):
        self.scheme = "https" if tls else "http"
        self.routes: dict[str, Response | Handler | bytes] = {}
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        server = self

        class _Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path = self.path.split("?")[0]
                with server.lock:
                    server.requests.append({"method": self.command, "path": self.path, "headers": dict(self.headers),
                                            "body": body, "time": time.monotonic()})
                route = server.routes.get(path, Response(404, b"<html><body><h1>Not Found</h1></body></html>"))
                self.request_body = body
                response = route(self) if callable(route) else route
                if response is None:  # the handler wrote the response itself
                    return
                if isinstance(response, bytes):
                    response = Response(200, response, {"Content-Type": "text/html; charset=utf-8"})
                if response.delay:
                    time.sleep(response.delay)
                self.send_response(response.status)
                headers = {"Content-Type": "text/html; charset=utf-8", **response.headers}
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(response.body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(response.body)

            do_GET = do_POST = do_HEAD = _serve

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        if tls:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.httpd.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    def requests_to(self, path: str) -> list[dict]:
        with self.lock:
            return [r for r in self.requests if r["path"].split("?")[0] == path]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class FakeSlack:
    """Answers like Slack's Web API (chat.postMessage) and an incoming webhook, on a LoopbackServer.

    `script` holds responses to give, in order, before falling back to success: each is a Response. `delay` makes
    chat.postMessage slow: seconds before Slack takes a post and answers, for every channel (a number) or per channel
    (a dict); `holding` counts the posts being held up right now.
    """

    def __init__(self, server: LoopbackServer):
        self.server = server
        self.posts: list[dict] = []
        self.script: list[Response] = []
        self.refuse: dict[str, Response] = {}  # channel -> a standing answer (channel_not_found, not_in_channel)
        self.ts = 0
        self.delay: float | dict[str, float] = 0.0
        self.holding = 0
        server.routes["/api/chat.postMessage"] = self._post
        server.routes["/webhook"] = self._webhook

    @property
    def api_url(self) -> str:
        return self.server.url("/api/")

    @property
    def webhook_url(self) -> str:
        return self.server.url("/webhook")

    def _next_scripted(self) -> Response | None:
        with self.server.lock:
            return self.script.pop(0) if self.script else None

    def _post(self, request) -> Response:
        scripted = self._next_scripted()
        if scripted:
            return scripted
        payload = _payload(request)
        delay = self.delay.get(payload.get("channel"), 0.0) if isinstance(self.delay, dict) else self.delay
        if delay:  # a slow Slack takes the message only after the wait, even if the sender has gone meanwhile
            with self.server.lock:
                self.holding += 1
            time.sleep(delay)
            with self.server.lock:
                self.holding -= 1
        if payload.get("channel") in self.refuse:
            return self.refuse[payload["channel"]]
        with self.server.lock:
            self.ts += 1
            ts = f"1700000000.{self.ts:06d}"
            self.posts.append({**payload, "_ts": ts, "_auth": request.headers.get("Authorization", "")})
        return Response(200, json.dumps({"ok": True, "channel": "C0KRATOM", "ts": ts}).encode(),
                        {"Content-Type": "application/json; charset=utf-8"})

    def _webhook(self, request) -> Response:
        scripted = self._next_scripted()
        if scripted:
            return scripted
        with self.server.lock:
            self.posts.append(_payload(request))
        return Response(200, b"ok", {"Content-Type": "text/plain"})


def _payload(request) -> dict:
    body = request.request_body
    ctype = request.headers.get("Content-Type", "")
    if "json" in ctype:
        return json.loads(body or b"{}")
    from urllib.parse import parse_qs

    return {k: v[0] for k, v in parse_qs(body.decode()).items()}


def slack_error(error: str, status: int = 200, headers: dict | None = None) -> Response:
    return Response(status, json.dumps({"ok": False, "error": error}).encode(),
                    {"Content-Type": "application/json", **(headers or {})})


@pytest.fixture
def server():
    s = LoopbackServer()
    yield s
    s.close()


@dataclass(frozen=True)
class Tls:
    """A self-signed certificate for 127.0.0.1: `context` serves https with it, `ca_file` makes a client trust it
    (SSL_CERT_FILE, which httpx reads)."""

    context: ssl.SSLContext
    ca_file: str


@pytest.fixture(scope="session")
def tls(tmp_path_factory) -> Tls:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True, timeout=60)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return Tls(context, str(cert))


@pytest.fixture
def https_server(tls):
    s = LoopbackServer(tls.context)
    yield s
    s.close()


@pytest.fixture
def slack(server):
    return FakeSlack(server)


def clean_env(**extra: str) -> dict[str, str]:
    """The environment a user would have, minus any Slack/monitor settings of the machine running the tests."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SLACK_", "MONITOR_", "LEGISCAN_", "OPENSTATES_"))}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(NETGUARD_SITE), env.get("PYTHONPATH", "")])
    env.update(extra)
    return env


class Project:
    """A sources.yaml and a state directory in a temporary folder, and `monitor` run against them."""

    def __init__(self, tmp_path: Path):
        self.dir = tmp_path
        self.sources = tmp_path / "sources.yaml"
        self.state = tmp_path / "state"
        self.env = clean_env()

    def write(self, sources: list[dict] | str, settings: dict | None = None) -> None:
        if isinstance(sources, str):
            self.sources.write_text(sources, encoding="utf-8")
            return
        doc = {"settings": settings or {}, "sources": sources} if settings else {"sources": sources}
        self.sources.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")

    def argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "monitor", "--sources", str(self.sources), "--state-dir", str(self.state), *args]

    def run(self, *args: str, timeout: float = 120, env: dict | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(self.argv(*args),
                              env={**self.env, **(env or {})}, capture_output=True, text=True, timeout=timeout)

    def check(self, *args: str, **kw) -> tuple[subprocess.CompletedProcess, list[dict]]:
        result = self.run("check", "--json", *args, **kw)
        return result, [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


@pytest.fixture
def project(tmp_path):
    return Project(tmp_path)


def bill_page(title: str, rows: list[tuple[str, str, str]], extra: str = "") -> bytes:
    """A Florida-Senate-like bill page: chrome, a snapshot heading, a history table."""
    trs = "".join(f"<tr><td>{d}</td><td>{c}</td><td>{a}</td></tr>" for d, c, a in rows)
    return (f"<!DOCTYPE html><html><head><title>{title}</title><script>var t={time.time()};</script></head><body>"
            f"<header><a href='/'>Florida Senate</a></header><nav><ul><li>Home</li><li>Bills</li></ul></nav>"
            f"<main><div id='snapshot'><h1>{title}</h1></div>{extra}"
            f"<div id='tabBodyBillHistory'><table class='tbl'><thead><tr><th>Date</th><th>Chamber</th>"
            f"<th>Action</th></tr></thead><tbody>{trs}</tbody></table></div></main>"
            f"<footer>Page generated {time.time()}</footer></body></html>").encode()


# -- hostile servers (fetch robustness) ---------------------------------------------------------------------------
def stream(chunks: Callable[[], Iterable[bytes]], headers: dict[str, str] | None = None) -> Handler:
    """A route that writes its body as it is made, with no Content-Length (the end is the connection closing), as a
    server generating a page does. The client hanging up early is expected."""

    def handle(request) -> None:
        request.close_connection = True
        request.send_response(200)
        for k, v in {"Content-Type": "text/html; charset=utf-8", "Connection": "close", **(headers or {})}.items():
            request.send_header(k, v)
        request.end_headers()
        try:
            for chunk in chunks():
                request.wfile.write(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass

    return handle


def hang(seconds: float) -> Handler:
    """A route that reads the request and says nothing for `seconds`, then hangs up."""

    def handle(request) -> None:
        time.sleep(seconds)
        request.close_connection = True

    return handle


def gzip_bomb(megabytes: int) -> Iterator[bytes]:
    """A valid gzip stream of `megabytes` MB of zeros, ~1,000 times smaller on the wire, made lazily in ~64 KB
    writes (64 MB inflated each): after a full flush the compressor emits the same bytes for every further
    megabyte, so they are computed once."""
    zeros = bytes(1 << 20)
    packer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    first = packer.compress(zeros) + packer.flush(zlib.Z_FULL_FLUSH)
    unit = packer.compress(zeros) + packer.flush(zlib.Z_FULL_FLUSH)
    crc = zlib.crc32(zeros, zlib.crc32(zeros))
    yield first + unit
    left = megabytes - 2
    while left > 0:
        batch = min(64, left)
        for _ in range(batch):
            crc = zlib.crc32(zeros, crc)
        left -= batch
        yield unit * batch
    yield packer.flush()[:-8] + struct.pack("<II", crc, (megabytes << 20) & 0xFFFFFFFF)


def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


# -- a monitor process measured (time, peak memory) ------------------------------------------------------------
@dataclass
class Measured:
    returncode: int
    stdout: str
    stderr: str
    peak_rss: int  # bytes, of the monitor process alone
    seconds: float
    cpu_seconds: float = 0.0  # user + system, of the monitor process alone: steadier than `seconds` on a busy machine

    @property
    def changes(self) -> list[dict]:
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]


# A process's peak RSS (ru_maxrss) starts from that of the process it was forked from: Linux records the high-water
# mark of the memory it replaced at exec, and pytest's own grows with the tests before (a 12 MB document parsed in
# process put 340 MB on a pass of 60). So monitor is started by a small Python of its own, which reports monitor's
# wait4 figures; they start from that launcher's ~10 MB.
_LAUNCHER = ("import json, os, subprocess, sys\n"
             "proc = subprocess.Popen(sys.argv[2:])\n"
             "_, status, usage = os.wait4(proc.pid, 0)\n"
             "with open(sys.argv[1], 'w') as out:\n"
             "    json.dump([status, usage.ru_maxrss, usage.ru_utime + usage.ru_stime], out)\n")


def run_measured(project: Project, *args: str, env: dict[str, str], timeout: float = 120) -> Measured:
    """`monitor` as a subprocess; os.wait4 reports the peak RSS and CPU time of exactly that process."""
    out, err, usage = project.dir / "stdout.txt", project.dir / "stderr.txt", project.dir / "usage.json"
    usage.unlink(missing_ok=True)
    started = time.monotonic()
    with open(out, "w") as stdout, open(err, "w") as stderr:
        proc = subprocess.Popen([sys.executable, "-c", _LAUNCHER, str(usage), *project.argv(*args)],
                                env={**project.env, **env}, stdout=stdout, stderr=stderr, start_new_session=True)
        watchdog = threading.Timer(timeout, lambda: os.killpg(proc.pid, 9))
        watchdog.start()
        try:
            proc.wait()
        finally:
            watchdog.cancel()
    status, maxrss, cpu = json.loads(usage.read_text()) if usage.exists() else (9, 0, 0.0)  # 9: killed
    return Measured(os.waitstatus_to_exitcode(status), out.read_text(), err.read_text(), maxrss * 1024,
                    time.monotonic() - started, cpu)
