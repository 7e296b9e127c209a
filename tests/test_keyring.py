"""Index passwords from a keyring (`--keyring-provider subprocess`, through a fake `keyring`
command on PATH), and `warmbuild config` never printing a password."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from conftest import IndexFactory, Runner, installed
from support.indexserver import IndexServer

_FAKE_KEYRING = """#!{python}
import json, sys
log, store = {log!r}, json.loads({store!r})
with open(log, "a") as f:
    f.write(" ".join(sys.argv[1:]) + "\\n")
creds = {{tuple(k): v for k, v in store}}
if sys.argv[1:2] == ["get"] and tuple(sys.argv[2:]) in creds:
    print(creds[tuple(sys.argv[2:])])
    sys.exit(0)
sys.exit(1)
"""


def _fake_keyring(directory: Path, store: dict[tuple[str, str], str]) -> tuple[dict[str, str],
                                                                               Path]:
    """A `keyring` command answering `get SERVICE USER` from ``store``; (env, its call log)."""
    directory.mkdir()
    log = directory / "calls.log"
    script = directory / "keyring"
    script.write_text(_FAKE_KEYRING.format(python=sys.executable, log=str(log),
                                           store=json.dumps([[list(k), v]
                                                             for k, v in store.items()])))
    script.chmod(0o755)
    return {"PATH": f"{directory}{os.pathsep}{os.environ['PATH']}"}, log


def _server(custom_index: IndexFactory) -> IndexServer:
    return custom_index([("demo", "1.0")], auth=("alice", "s3cret"))


def test_keyring_password_for_the_index_url_then_the_host(
        wb: Runner, venv: Path, tmp_path: Path, custom_index: IndexFactory) -> None:
    server = _server(custom_index)
    url = server.url.replace("http://", "http://alice@")
    host = server.url.split("/")[2]
    env, log = _fake_keyring(tmp_path / "bin", {(host, "alice"): "s3cret"})
    wb("install", "--python", venv, "-i", url, "--keyring-provider", "subprocess", "demo",
       env=env)
    assert installed(venv) == {"demo": "1.0"}
    # The index URL is asked first, then the host; once per run, not per request.
    assert log.read_text().splitlines() == [f"get {server.url} alice", f"get {host} alice"]


def test_keyring_provider_from_pip_settings(wb: Runner, venv: Path, tmp_path: Path,
                                            custom_index: IndexFactory) -> None:
    server = _server(custom_index)
    url = server.url.replace("http://", "http://alice@")
    env, log = _fake_keyring(tmp_path / "bin", {(server.url, "alice"): "s3cret"})
    wb("install", "--python", venv, "-i", url, "--dry-run", "demo",
       env={**env, "PIP_KEYRING_PROVIDER": "subprocess"})
    # pip's own `import` (and `auto`) in its config: the same keyring, asked the same way.
    conf = tmp_path / "pip.conf"
    conf.write_text("[global]\nkeyring-provider = import\n")
    wb("install", "--python", venv, "-i", url, "--dry-run", "--no-cache", "demo",
       env={**env, "PIP_CONFIG_FILE": str(conf)})
    assert len(log.read_text().splitlines()) == 2


def test_without_the_keyring_the_error_names_it(wb: Runner, venv: Path, tmp_path: Path,
                                                custom_index: IndexFactory) -> None:
    server = _server(custom_index)
    url = server.url.replace("http://", "http://alice@")
    env, log = _fake_keyring(tmp_path / "bin", {(server.url, "alice"): "s3cret"})
    failed = wb("install", "--python", venv, "-i", url, "demo", env=env, expect=1)
    assert "access denied (HTTP 401)" in failed.stderr
    assert "--keyring-provider subprocess" in failed.stderr
    assert not log.exists(), "keyring-provider is disabled by default, as in uv"
    # No user in the URL: nothing to ask the keyring for, and the hint says so.
    failed = wb("install", "--python", venv, "-i", server.url, "--keyring-provider",
                "subprocess", "demo", env=env, expect=1)
    assert "name the user in the URL (https://user@host/...)" in failed.stderr
    bad = wb("config", "--keyring-provider", "import", expect=2)
    assert "invalid choice: 'import'" in bad.stderr


def test_config_masks_passwords(wb: Runner, tmp_path: Path) -> None:
    conf = tmp_path / "pip.conf"
    conf.write_text("[global]\nextra-index-url = https://bob:hunter2@extra.example/simple\n")
    env = {"PIP_CONFIG_FILE": str(conf), "PIP_FIND_LINKS": "https://carol:pw3@links.example/"}
    args = ("-i", "https://alice:s3cret@mirror.example/simple")
    text = wb("config", *args, env=env).stdout
    rows = json.loads(wb("config", "--format", "json", *args, env=env).stdout)
    for secret in ("s3cret", "hunter2", "pw3"):
        assert secret not in text and secret not in json.dumps(rows)
    assert rows["index-url"]["value"] == "https://alice:****@mirror.example/simple"
    assert rows["extra-index-url"]["value"] == ["https://bob:****@extra.example/simple"]
    assert rows["find-links"]["value"] == ["https://carol:****@links.example/"]
    assert "https://alice:****@mirror.example/simple" in text
