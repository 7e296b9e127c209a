"""HTTPS indexes with a private CA: every way of naming the CA bundle (--cert, PIP_CERT,
pip's `cert`, REQUESTS_CA_BUNDLE, SSL_CERT_FILE), --trusted-host (flag, PIP_TRUSTED_HOST,
requirements file), client certificates, the error when nothing trusts the server (not
retried), and plain HTTP refused for hosts that are neither trusted nor this machine."""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from conftest import IndexFactory, Runner, installed
from support.indexserver import IndexServer
from support.tlscerts import Pki, have_openssl, make_pki
from test_proxy import relay

pytestmark = pytest.mark.skipif(not have_openssl(),
                                reason="no `openssl` command to make a test CA with")


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def tls_wb(wb: Runner) -> Runner:
    # The machine's own CA settings must not decide these tests.
    for var in ("SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        wb.env.pop(var, None)
    return wb


@pytest.fixture
def https_index(custom_index: IndexFactory, pki: Pki) -> IndexServer:
    return custom_index([("demo", "1.0")], tls=pki.server_context())


def _dry_run(wb: Runner, venv: Path, *args: str | Path, expect: int = 0,
             env: dict[str, str] | None = None) -> str:
    return wb("install", "--python", venv, "--dry-run", *args, "demo", expect=expect,
              env=env).output


def test_an_untrusted_certificate_names_the_settings_and_is_not_retried(
        tls_wb: Runner, venv: Path, https_index: IndexServer) -> None:
    out = _dry_run(tls_wb, venv, "-i", https_index.url, expect=1)
    assert "the TLS certificate of 127.0.0.1 could not be verified against the system trust " \
           "store" in out
    assert "--cert FILE (or PIP_CERT, pip's `cert`, REQUESTS_CA_BUNDLE, SSL_CERT_FILE)" in out
    assert "--trusted-host 127.0.0.1" in out and "Traceback" not in out
    assert https_index.connections == 1, "a certificate error must not be retried"


@pytest.mark.parametrize("how", ["flag", "PIP_CERT", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE",
                                 "pip.conf"])
def test_the_ca_bundle_from_each_setting(tls_wb: Runner, venv: Path, tmp_path: Path,
                                         https_index: IndexServer, pki: Pki, how: str) -> None:
    args: tuple[str | Path, ...] = ("-i", https_index.url)
    env: dict[str, str] = {}
    if how == "flag":
        args += ("--cert", pki.ca)
    elif how == "pip.conf":
        conf = tmp_path / "pip.conf"
        conf.write_text(f"[global]\ncert = {pki.ca}\n")
        env["PIP_CONFIG_FILE"] = str(conf)
    else:
        env[how] = str(pki.ca)
    _dry_run(tls_wb, venv, *args, env=env)
    rows = json.loads(tls_wb("config", "--format", "json", *args[2:], env=env).stdout)
    assert rows["cert"]["value"] == str(pki.ca)


def test_install_over_https_and_a_wrong_bundle(tls_wb: Runner, venv: Path, tmp_path: Path,
                                               https_index: IndexServer, pki: Pki) -> None:
    tls_wb("install", "--python", venv, "-i", https_index.url, "--cert", pki.ca, "demo")
    assert installed(venv) == {"demo": "1.0"}
    other = make_pki(tmp_path / "other")
    # --no-cache: the index pages of the install above would answer without a connection.
    out = _dry_run(tls_wb, venv, "-i", https_index.url, "--reinstall", "--no-cache", expect=1,
                   env={"PIP_CERT": str(other.ca)})
    assert f"could not be verified against {other.ca} (from pip environment PIP_CERT)" in out
    out = _dry_run(tls_wb, venv, "-i", https_index.url, "--cert", tmp_path / "missing.pem",
                   "--reinstall", "--no-cache", expect=1)
    assert f"cannot read the CA bundle {tmp_path / 'missing.pem'} (from command line)" in out


def test_trusted_host_skips_verification_for_that_host_only(
        tls_wb: Runner, venv: Path, tmp_path: Path, https_index: IndexServer) -> None:
    port = urlsplit(https_index.url).port
    _dry_run(tls_wb, venv, "-i", https_index.url, "--trusted-host", "127.0.0.1")
    _dry_run(tls_wb, venv, "-i", https_index.url, "--trusted-host", f"127.0.0.1:{port}")
    _dry_run(tls_wb, venv, "-i", https_index.url, env={"PIP_TRUSTED_HOST": "127.0.0.1"})
    reqs = tmp_path / "requirements.txt"
    reqs.write_text(f"--index-url {https_index.url}\n--trusted-host 127.0.0.1\ndemo\n")
    tls_wb("install", "--python", venv, "--dry-run", "-r", reqs)
    # Another port of the same host is not trusted.
    _dry_run(tls_wb, venv, "-i", https_index.url, "--trusted-host", "127.0.0.1:1", "--no-cache",
             expect=1)


def test_client_certificates(tls_wb: Runner, venv: Path, custom_index: IndexFactory,
                             pki: Pki) -> None:
    server = custom_index([("demo", "1.0")], tls=pki.server_context(require_client_cert=True))
    out = _dry_run(tls_wb, venv, "-i", server.url, "--cert", pki.ca, expect=1)
    assert "the TLS handshake with 127.0.0.1 failed" in out
    assert "if the server asks for a client certificate, pass it with --client-cert" in out
    _dry_run(tls_wb, venv, "-i", server.url, "--cert", pki.ca, "--client-cert", pki.client)
    _dry_run(tls_wb, venv, "-i", server.url, "--no-cache",
             env={"PIP_CERT": str(pki.ca), "PIP_CLIENT_CERT": str(pki.client)})


class _HostRewritingProxy(BaseHTTPRequestHandler):
    """A forward proxy that sends every request to one local index, whatever the host."""

    target = ""

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        path = urlsplit(self.path)
        url = f"{self.target}{path.path}" + (f"?{path.query}" if path.query else "")
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
        with opener.open(urllib.request.Request(url, headers=headers)) as resp:
            body, status, reply = resp.read(), resp.status, resp.headers
        relay(self, status, reply, body)


@pytest.fixture
def proxy_to(index: IndexServer) -> Iterator[str]:
    root = index.url.removesuffix("/simple")
    handler = type("Proxy", (_HostRewritingProxy,), {"target": root})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_plain_http_needs_a_trusted_host(wb: Runner, venv: Path, proxy_to: str) -> None:
    env = {"HTTP_PROXY": proxy_to, "http_proxy": proxy_to, "NO_PROXY": "", "no_proxy": ""}
    args = ("install", "--python", venv, "--dry-run", "-i", "http://mirror.example/simple",
            "six")
    failed = wb(*args, env=env, expect=1)
    assert "plain HTTP to mirror.example, which is not a trusted host" in failed.stderr
    assert "--trusted-host mirror.example" in failed.stderr
    wb(*args, "--trusted-host", "mirror.example", env=env)
