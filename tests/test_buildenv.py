"""The build env's lock, its manifest, recovery from a killed sync, and where it lives."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from conftest import Runner, installed, run_python
from support.indexserver import IndexServer, serve_index
from support.wheels import make_wheel
from test_build import envs, project


def start(wb: Runner, *args: str | Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "warmbuild", *map(str, args)], env=wb.env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_second_warmbuild_on_the_same_tree_waits(wb: Runner, venv: Path, tmp_path: Path,
                                                 index: IndexServer) -> None:
    src = project(tmp_path, "setuppy-cmake")
    other = tmp_path / "venv2"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(other)], check=True)
    first = start(wb, "install", "--python", venv, "-i", index.url, src)
    deadline = time.monotonic() + 120
    while not list((Path(wb.env["WARMBUILD_CACHE_DIR"]) / "envs-v1").glob("*.lock")):
        assert time.monotonic() < deadline and first.poll() is None
        time.sleep(0.01)
    second = start(wb, "install", "--python", other, "-i", index.url, src)
    _, err1 = first.communicate(timeout=300)
    _, err2 = second.communicate(timeout=300)
    assert first.returncode == 0, err1
    assert second.returncode == 0, err2
    assert "Waiting for another warmbuild using the build env" in err2
    assert len(envs(wb)) == 1
    for target in (venv, other):
        assert run_python(target, "import setuppy_cmake; print(setuppy_cmake.value())") == "42"


def test_killed_sync_is_detected_and_repaired(wb: Runner, venv: Path, tmp_path: Path,
                                              index: IndexServer) -> None:
    src = project(tmp_path, "setuptools-pure")
    proc = start(wb, "install", "--python", venv, "-i", index.url, src)
    root = Path(wb.env["WARMBUILD_CACHE_DIR"]) / "envs-v1"
    deadline = time.monotonic() + 60
    while True:
        manifests = list(root.glob("*/warmbuild-env.json")) if root.is_dir() else []
        if manifests and not json.loads(manifests[0].read_text() or "{}").get("complete"):
            break
        assert time.monotonic() < deadline and proc.poll() is None, "no sync to interrupt"
        time.sleep(0.001)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    manifest = json.loads(manifests[0].read_text())
    assert manifest["complete"] is False
    (listed,) = json.loads(wb("env", "list", "--format", "json").stdout)
    assert listed["state"] == "interrupted"
    result = wb("install", "--python", venv, "-i", index.url, src)
    # The next run must notice, say so, and repair the env in place (not start a new one).
    (line,) = [ln for ln in result.stderr.splitlines() if "build env" in ln and "Built" in ln]
    assert "synced build env: " in line and "an earlier sync was interrupted" in line, line
    repaired = json.loads(manifests[0].read_text())
    assert repaired["complete"] is True
    *earlier, last = repaired["history"]
    assert earlier == manifest["history"]
    assert (last["event"], last["reason"]) == ("synced", "an earlier sync was interrupted")
    assert envs(wb) == [manifests[0].parent]
    assert "setuptools_pure" in installed(venv)
    again = wb("install", "--python", venv, "-i", index.url, src)
    assert "reused build env" in again.stderr


def test_manifest_records_what_the_env_was_made_from(wb: Runner, venv: Path, tmp_path: Path,
                                                     index: IndexServer) -> None:
    src = project(tmp_path, "setuptools-pure")
    wb("install", "--python", venv, "-i", index.url, src, "-C", "k=v",
       env={"CFLAGS": "-O1"})
    (env,) = envs(wb)
    manifest = json.loads((env / "warmbuild-env.json").read_text())
    assert manifest["tree"] == str(src)
    assert manifest["backend"] == "setuptools.build_meta"
    assert manifest["config_settings"] == {"k": "v"}
    assert manifest["env_vars"] == {"CFLAGS": "-O1"}
    assert manifest["interpreter"]["version"] == run_python(
        venv, "import platform; print(platform.python_version())")
    assert set(manifest["resolved"]) >= {"setuptools"}
    assert [h["event"] for h in manifest["history"]] == ["created"]


def test_env_location_settings(wb: Runner, venv: Path, tmp_path: Path,
                               index: IndexServer) -> None:
    src = project(tmp_path, "setuptools-pure")
    pyproject = src / "pyproject.toml"
    pyproject.write_text(pyproject.read_text()
                         + '\n[tool.warmbuild]\nbuild-env-dir = ".warmbuild/build-env"\n')
    result = wb("install", "--python", venv, "-i", index.url, src)
    (env,) = (p for p in (src / ".warmbuild" / "build-env").iterdir() if p.is_dir())
    assert str(env) in result.stderr and (env / "warmbuild-env.json").is_file()
    elsewhere = tmp_path / "envs"
    wb("install", "--python", venv, "-i", index.url, src,
       env={"WARMBUILD_BUILD_ENV_DIR": str(elsewhere)})
    assert len(list(elsewhere.iterdir())) == 2  # the env and its lock file
    flag = tmp_path / "flag-envs"
    wb("install", "--python", venv, "-i", index.url, src, "--build-env-dir", flag,
       env={"WARMBUILD_BUILD_ENV_DIR": str(elsewhere)})
    assert flag.is_dir()


def test_name_at_file_url_is_a_source_tree(wb: Runner, venv: Path, tmp_path: Path,
                                           index: IndexServer) -> None:
    src = project(tmp_path, "flit-pure")
    wb("install", "--python", venv, "-i", index.url, f"flit-pure @ {src.as_uri()}")
    assert "flit_pure" in installed(venv)
    freeze = wb("freeze", "--python", venv).stdout
    assert f"flit-pure @ {src.as_uri()}" in freeze or f"flit_pure @ {src.as_uri()}" in freeze


def test_unpinned_build_requirements_resolve_like_a_lock(wb: Runner, venv: Path,
                                                         tmp_path: Path, wheelhouse: Path) -> None:
    extra = tmp_path / "extra"
    extra.mkdir()
    make_wheel(extra, "build-helper", "1.0")
    src = project(tmp_path, "setuptools-pure")
    pyproject = src / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('requires = [',
                                                       'requires = ["build-helper", ', 1))
    with serve_index([wheelhouse, extra]) as server:
        wb("install", "--python", venv, "-i", server.url, src)
        make_wheel(extra, "build-helper", "2.0")
        again = wb("install", "--python", venv, "-i", server.url, src)
        assert "reused build env" in again.stderr, "no re-resolution while requests are equal"
        upgraded = wb("install", "--python", venv, "-i", server.url, src, "-U")
        assert "synced build env: build-helper 1.0 -> 2.0" in upgraded.stderr


@pytest.fixture
def read_only(tmp_path: Path) -> Iterator[Callable[[Path], None]]:
    """Bind-mount a directory read-only (root only: root ignores permission bits)."""
    mounted: list[Path] = []

    def make(path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        for cmd in (["mount", "--bind", str(path), str(path)],
                    ["mount", "-o", "remount,ro,bind", str(path)]):
            if os.geteuid() != 0 or subprocess.run(cmd, capture_output=True).returncode:
                pytest.skip("needs root and bind mounts to make a read-only directory")
            if cmd[1] == "--bind":
                mounted.append(path)

    yield make
    for path in mounted:
        subprocess.run(["umount", str(path)], check=False)


def test_read_only_cache_or_env_dir_is_a_clear_error(
        wb: Runner, venv: Path, tmp_path: Path, index: IndexServer,
        read_only: Callable[[Path], None]) -> None:
    src = project(tmp_path, "setuptools-pure")
    cache = tmp_path / "ro-cache"
    read_only(cache)
    result = wb("install", "--python", venv, "-i", index.url, src, "--cache-dir", cache,
                expect=1)
    assert f"cannot write to {cache}" in result.stderr and "Read-only" in result.stderr
    assert "--cache-dir" in result.stderr and "Traceback" not in result.output
    envs_dir = tmp_path / "ro-envs"
    read_only(envs_dir)
    result = wb("install", "--python", venv, "-i", index.url, src, "--build-env-dir",
                envs_dir, expect=1)
    assert str(envs_dir) in result.stderr and "--build-env-dir" in result.stderr
    assert "Traceback" not in result.output and installed(venv) == {}


def test_moved_tree_gets_a_new_env_and_the_old_one_is_prunable(
        wb: Runner, venv: Path, tmp_path: Path, index: IndexServer) -> None:
    src = project(tmp_path, "setuptools-pure")
    wb("install", "--python", venv, "-i", index.url, src)
    moved = src.rename(src.with_name("renamed"))
    wb("install", "--python", venv, "-i", index.url, moved)
    states = {e["tree"]: e["state"] for e in json.loads(
        wb("env", "list", "--format", "json").stdout)}
    assert states == {str(src): "tree gone", str(moved): "complete"}
    wb("env", "prune")
    assert [e["tree"] for e in json.loads(wb("env", "list", "--format", "json").stdout)] \
        == [str(moved)]


def _env_dirs(wb: Runner) -> list[Path]:
    root = Path(wb.env["WARMBUILD_CACHE_DIR"]) / "envs-v1"
    return [p for p in root.iterdir() if p.is_dir() and p.name != "registry"] \
        if root.is_dir() else []


@pytest.mark.parametrize("point", ["venv created", "sync started", "compiling"])
def test_sigkill_at_several_points_is_repaired(point: str, wb: Runner, venv: Path,
                                               tmp_path: Path, index: IndexServer) -> None:
    src = project(tmp_path, "setuppy-cmake")

    def reached() -> bool:
        dirs = _env_dirs(wb)
        if point == "venv created":
            return bool(dirs) and (dirs[0] / "pyvenv.cfg").exists()
        if point == "sync started":
            return bool(dirs) and (dirs[0] / "warmbuild-env.json").exists()
        return any((src / "build").glob("CMakeFiles/*/src/*.o")) or \
            (src / "build" / ".ninja_log").exists()

    proc = start(wb, "install", "--python", venv, "-i", index.url, src)
    deadline = time.monotonic() + 120
    while not reached():
        assert time.monotonic() < deadline and proc.poll() is None, f"never reached {point}"
        time.sleep(0.001)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    result = wb("install", "--python", venv, "-i", index.url, src)
    assert run_python(venv, "import setuppy_cmake; print(setuppy_cmake.value())") == "42"
    assert len(_env_dirs(wb)) == 1
    assert json.loads((_env_dirs(wb)[0] / "warmbuild-env.json").read_text())["complete"]
    again = wb("install", "--python", venv, "-i", index.url, src)
    assert "reused build env" in again.stderr, result.stderr
