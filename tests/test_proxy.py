"""Proxies come from the environment (HTTP_PROXY / NO_PROXY), as for pip and uv."""

from __future__ import annotations

import base64
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from conftest import Runner, installed
from support.indexserver import IndexServer


class _ForwardProxy(BaseHTTPRequestHandler):
    """Relays absolute-URI GETs, the way an HTTP forward proxy does, and logs them."""

    seen: ClassVar[list[str]] = []
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def log_message(self, format: str, *args: object) -> None:
        pass

    #: ``Proxy-Authorization`` value the proxy insists on, if any.
    required_auth: ClassVar[str | None] = None

    def do_GET(self) -> None:
        if self.required_auth and self.headers.get("Proxy-Authorization") != self.required_auth:
            self.send_response(407)
            self.send_header("Proxy-Authenticate", 'Basic realm="test"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.seen.append(self.path)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host",
                                                                           "proxy-connection")}
        try:
            with self.opener.open(urllib.request.Request(self.path, headers=headers)) as resp:
                status, body, reply = resp.status, resp.read(), resp.headers
        except urllib.error.HTTPError as exc:
            status, body, reply = exc.code, exc.read(), exc.headers
        relay(self, status, reply, body)


def relay(handler: BaseHTTPRequestHandler, status: int, headers: Message, body: bytes) -> None:
    """Answer as the upstream server did, without its hop-by-hop headers."""
    handler.send_response(status)
    for key, value in headers.items():
        if key.lower() not in ("transfer-encoding", "connection", "content-length"):
            handler.send_header(key, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


@pytest.fixture(params=[None, "user:secret"], ids=["open", "auth"])
def proxy(request: pytest.FixtureRequest) -> Iterator[tuple[str, list[str]]]:
    seen: list[str] = []
    creds = request.param
    auth = f"Basic {base64.b64encode(creds.encode()).decode()}" if creds else None
    handler = type("Proxy", (_ForwardProxy,), {"seen": seen, "required_auth": auth})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    userinfo = f"{creds}@" if creds else ""
    yield f"http://{userinfo}127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


def test_requests_go_through_the_proxy_from_the_environment(
        wb: Runner, venv: Path, index: IndexServer, proxy: tuple[str, list[str]]) -> None:
    url, seen = proxy
    wb("install", "--python", venv, "-i", index.url, "six",
       env={"HTTP_PROXY": url, "http_proxy": url, "NO_PROXY": "", "no_proxy": ""})
    assert installed(venv) == {"six": "1.17.0"}
    assert f"{index.url}/six/" in seen
    assert any(p.endswith(".whl") for p in seen)


def test_no_proxy_bypasses_it(wb: Runner, venv: Path, index: IndexServer,
                              proxy: tuple[str, list[str]]) -> None:
    url, seen = proxy
    wb("install", "--python", venv, "-i", index.url, "six",
       env={"HTTP_PROXY": url, "http_proxy": url, "NO_PROXY": "127.0.0.1",
            "no_proxy": "127.0.0.1"})
    assert installed(venv) == {"six": "1.17.0"}
    assert seen == []


def test_pips_proxy_option_and_variable_win_over_the_environment(
        wb: Runner, venv: Path, index: IndexServer, proxy: tuple[str, list[str]]) -> None:
    url, seen = proxy
    dead = "http://127.0.0.1:9"  # the discard port: a proxy there would fail every request
    env = {"HTTP_PROXY": dead, "http_proxy": dead, "NO_PROXY": "", "no_proxy": ""}
    wb("install", "--python", venv, "-i", index.url, "--proxy", url, "six", env=env)
    assert installed(venv) == {"six": "1.17.0"} and f"{index.url}/six/" in seen
    seen.clear()
    wb("install", "--python", venv, "-i", index.url, "--reinstall", "--no-cache", "six",
       env={**env, "PIP_PROXY": url})
    assert f"{index.url}/six/" in seen
