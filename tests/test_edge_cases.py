"""Edge cases: cache integrity, direct URLs with hashes, broken downloads, and the like."""

from __future__ import annotations

import hashlib
import json
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import IndexFactory, Runner, create_venv, installed, run_python, site_packages
from support.indexserver import IndexServer, serve_index
from support.wheels import make_sdist, make_wheel
from test_build import envs, project


def test_a_clashing_file_never_writes_through_into_the_cache(
        wb: Runner, tmp_path: Path, custom_index: IndexFactory) -> None:
    server = custom_index([("ns-a", "1.0", {"files": {"ns/__init__.py": "WHO = 'a'\n",
                                                       "ns/a.py": ""}})])
    local = make_wheel(tmp_path / "local", "ns-b", "1.0",
                       files={"ns/__init__.py": "WHO = 'b'\n", "ns/b.py": ""})
    wb("install", "--python", create_venv(tmp_path / "first"), "-i", server.url, "ns-a")
    (cached,) = (Path(wb.env["WARMBUILD_CACHE_DIR"]) / "archive-v1").glob("*/ns/__init__.py")
    venv = create_venv(tmp_path / "second")
    wb("install", "--python", venv, "-i", server.url, "ns-a", local)
    assert cached.read_text() == "WHO = 'a'\n", "the cached file is untouched"
    assert run_python(venv, "import ns.a, ns.b; print('ok')") == "ok"


def test_clashing_files_the_later_wheel_wins_every_time_and_differences_are_reported(
        wb: Runner, tmp_path: Path, custom_index: IndexFactory) -> None:
    # Staging runs in parallel; the dependent (installed after its dependency, as pip
    # would) must keep the clashing paths on every run, not whichever thread wrote last.
    def spec(who: str) -> dict[str, object]:
        return {"files": {"shared/__init__.py": f"WHO = {who!r}\n", "ns/__init__.py": "",
                          f"{who}_mod.py": "def main():\n    print(__name__)\n"},
                "entry_points": {"console_scripts": {"tool": f"{who}_mod:main"}}}
    server = custom_index([("base", "1.0", spec("base")),
                           ("app", "1.0", {**spec("app"), "requires": ["base"]})])
    for attempt in range(4):
        venv = create_venv(tmp_path / f"venv{attempt}")
        result = wb("install", "--python", venv, "-i", server.url, "app")
        assert run_python(venv, "import shared; print(shared.WHO)") == "app"
        tool = subprocess.run([venv / "bin" / "tool"], capture_output=True, text=True,
                              check=True)
        assert tool.stdout.strip() == "app_mod"
        warned = [line for line in result.stderr.splitlines() if "different contents" in line]
        assert any("shared/__init__.py" in line for line in warned), result.stderr
        assert any("bin/tool" in line for line in warned), result.stderr
        assert not any("ns/__init__.py" in line for line in warned), "identical: not reported"
        assert all("app's copy is kept" in line for line in warned)


def test_an_editable_install_satisfies_a_dependency(wb: Runner, venv: Path, tmp_path: Path,
                                                    wheelhouse: Path) -> None:
    src = project(tmp_path, "setuptools-pure")
    extra = tmp_path / "extra"
    make_wheel(extra, "app", "1.0", requires=["setuptools-pure"])
    with serve_index([wheelhouse, extra]) as server:
        wb("install", "--python", venv, "-i", server.url, "-e", src)
        result = wb("install", "--python", venv, "-i", server.url, "app")
        assert "+ app==1.0" in result.stderr and "setuptools-pure" not in result.stderr
    info = next(site_packages(venv).glob("setuptools_pure-*.dist-info"))
    assert json.loads((info / "direct_url.json").read_text())["dir_info"] == {"editable": True}


def test_hash_fragment_of_a_direct_url_is_checked_and_recorded(
        wb: Runner, venv: Path, index: IndexServer, wheelhouse: Path) -> None:
    wheel = next(wheelhouse.glob("six-1.17.0-*.whl"))
    url = f"{index.files_url}/{wheel.name}"
    good = hashlib.sha256(wheel.read_bytes()).hexdigest()
    bad = wb("install", "--python", venv, f"six @ {url}#sha256={'0' * 64}", expect=1)
    assert "hash mismatch for six-1.17.0" in bad.stderr and installed(venv) == {}
    wb("install", "--python", venv, f"six @ {url}#sha256={good}")
    info = next(site_packages(venv).glob("six-*.dist-info"))
    direct = json.loads((info / "direct_url.json").read_text())
    assert direct == {"url": url, "archive_info": {"hash": f"sha256={good}",
                                                   "hashes": {"sha256": good}}}


@pytest.fixture
def truncating_server() -> Iterator[str]:
    """Answers every request with a Content-Length it does not keep."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    stop = threading.Event()

    def serve() -> None:
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                continue
            with conn:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\nPK\x03\x04")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    stop.set()
    thread.join()
    sock.close()


def test_a_download_that_breaks_off_is_a_clear_error(wb: Runner, venv: Path,
                                                     truncating_server: str) -> None:
    url = f"{truncating_server}/files/six-1.17.0-py2.py3-none-any.whl"
    result = wb("install", "--python", venv, f"six @ {url}", expect=1)
    assert "error:" in result.stderr and "broke off" in result.stderr
    assert "Traceback" not in result.output and installed(venv) == {}


def test_invalid_dependency_in_pyproject_is_a_clear_error(wb: Runner, venv: Path,
                                                          tmp_path: Path,
                                                          index: IndexServer) -> None:
    src = project(tmp_path, "setuptools-pure")
    pyproject = src / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace(
        'requires-python = ">=3.9"',
        'requires-python = ">=3.9"\noptional-dependencies = {test = ["pytest>="]}'))
    result = wb("install", "--python", venv, "-i", index.url, src, expect=1)
    assert f"{pyproject}: [project] optional-dependencies.test: 'pytest>=' is not a valid " \
        "requirement" in result.stderr
    assert "Traceback" not in result.output


def test_edited_build_constraints_resync_the_env(wb: Runner, venv: Path, tmp_path: Path,
                                                 index: IndexServer) -> None:
    src = project(tmp_path, "get-requires-adds")
    constraints = tmp_path / "c.txt"
    constraints.write_text("")
    wb("install", "--python", venv, "-i", index.url, src, "--build-constraint", constraints)
    constraints.write_text("six<1\n")
    result = wb("install", "--python", venv, "-i", index.url, src, "--build-constraint",
                constraints, expect=1)
    assert "no version of `six` matches six (constrained to six<1)" in result.stderr


def test_build_constraints_in_the_user_config_are_relative_to_it(
        wb: Runner, venv: Path, tmp_path: Path, index: IndexServer) -> None:
    src = project(tmp_path, "setuptools-pure")
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    (config_dir / "warmbuild.toml").write_text('build-constraints = ["pins.txt"]\n')
    (config_dir / "pins.txt").write_text("setuptools<1\n")
    result = wb("install", "--python", venv, "-i", index.url, src, expect=1,
                env={"WARMBUILD_CONFIG_FILE": str(config_dir / "warmbuild.toml")})
    assert "cannot install the build requirements" in result.stderr


def test_required_hash_is_checked_before_an_sdist_is_built(
        wb: Runner, venv: Path, tmp_path: Path, wheelhouse: Path) -> None:
    make_sdist(tmp_path / "sd", "src-only", "1.0")
    with serve_index([tmp_path / "sd", wheelhouse]) as server:
        reqs = tmp_path / "r.txt"
        reqs.write_text(f"src-only==1.0 --hash=sha256:{'0' * 64}\n")
        result = wb("install", "--python", venv, "-i", server.url, "-r", reqs, expect=1)
    assert "hash" in result.stderr and "Built" not in result.stderr
    assert envs(wb) == [], "no build env was made for an unverified sdist"


def test_shared_sdist_envs_are_not_pruned_as_tree_gone(wb: Runner, venv: Path, tmp_path: Path,
                                                       wheelhouse: Path) -> None:
    make_sdist(tmp_path / "sd", "src-only", "1.0")
    with serve_index([tmp_path / "sd", wheelhouse]) as server:
        wb("install", "--python", venv, "-i", server.url, "src-only")
    (entry,) = json.loads(wb("env", "list", "--format", "json").stdout)
    assert entry["state"] == "complete" and entry["tree"] == "(shared by sdist builds)"
    assert "Nothing to remove" in wb("env", "prune").stdout
    shutil.rmtree(envs(wb)[0])
