"""Persistent build environments, driven through `warmbuild install [-e] PATH` and `build`.

Each test copies a project from tests/projects/ into its own directory and builds it with
real backends whose requirements come from the local index (cmake and ninja included).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import Runner, create_venv, installed, other_python, run_python, site_packages
from support.indexserver import IndexServer

PROJECTS = Path(__file__).resolve().parent / "projects"


def project(tmp_path: Path, name: str) -> Path:
    dest = tmp_path / "src" / name
    shutil.copytree(PROJECTS / name, dest, ignore=shutil.ignore_patterns("build", "dist",
                                                                         "*.egg-info"))
    return dest


def envs(wb: Runner) -> list[Path]:
    root = Path(wb.env["WARMBUILD_CACHE_DIR"]) / "envs-v1"
    return sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []


def bump_return(source: Path) -> None:
    """Add one to the first ``return N`` in a C/C++ file: a one-file change of value."""
    text = source.read_text()
    new = re.sub(r"return (\d+)", lambda m: f"return {int(m.group(1)) + 1}", text, count=1)
    assert new != text
    source.write_text(new)


def ninja_log(build_dir: Path) -> list[str]:
    """Outputs ninja built, in order (the 4th column of .ninja_log)."""
    lines = (build_dir / ".ninja_log").read_text().splitlines()
    return [line.split("\t")[3] for line in lines if not line.startswith("#")]


def test_setuppy_cmake_reuses_one_env_and_builds_incrementally(
        wb: Runner, venv: Path, tmp_path: Path, index: IndexServer) -> None:
    src = project(tmp_path, "setuppy-cmake")
    first = wb("install", "--python", venv, "-i", index.url, src)
    assert "created build env" in first.stderr
    assert len(envs(wb)) == 1, "metadata and build used one env"
    assert run_python(venv, "import setuppy_cmake; print(setuppy_cmake.value())") == "42"
    cache = (src / "build" / "CMakeCache.txt").read_text()
    assert f"{envs(wb)[0]}/bin/ninja" in cache, "CMake recorded the persistent env's ninja"

    log_before = ninja_log(src / "build")
    cache_mtime = (src / "build" / "CMakeCache.txt").stat().st_mtime_ns
    second = wb("install", "--python", venv, "-i", index.url, src)
    assert "reused build env" in second.stderr
    assert ninja_log(src / "build") == log_before, "nothing rebuilt without an edit"
    assert (src / "build" / "CMakeCache.txt").stat().st_mtime_ns == cache_mtime

    bump_return(src / "src" / "a.c")
    wb("install", "--python", venv, "-i", index.url, "-e", src)
    rebuilt = ninja_log(src / "build")[len(log_before):]
    assert any(o.endswith("a.c.o") for o in rebuilt)
    assert not any(o.endswith(("b.c.o", "module.c.o")) for o in rebuilt)
    assert run_python(venv, "import setuppy_cmake; print(setuppy_cmake.value())") == "43"
    assert len(envs(wb)) == 1
    direct = json.loads(next(site_packages(venv).glob("setuppy_cmake-*.dist-info"))
                        .joinpath("direct_url.json").read_text())
    assert direct == {"url": src.as_uri(), "dir_info": {"editable": True}}


def test_scikit_build_core_in_tree_build_dir_is_not_reconfigured(
        wb: Runner, venv: Path, tmp_path: Path, index: IndexServer) -> None:
    src = project(tmp_path, "skbuild-inplace")
    wb("install", "--python", venv, "-i", index.url, src, "-v")
    (build_dir,) = (src / "build").iterdir()
    log_before = ninja_log(build_dir)
    second = wb("install", "--python", venv, "-i", index.url, src, "-v")
    assert "reused build env" in second.stderr
    assert "clearing cache" not in second.output.lower()
    assert ninja_log(build_dir) == log_before
    source = src / "src" / "impl.c"
    bump_return(source)
    wb("install", "--python", venv, "-i", index.url, src, "-v")
    rebuilt = [o for o in ninja_log(build_dir)[len(log_before):] if o.endswith(".o")]
    assert len(rebuilt) == 1 and rebuilt[0].endswith(f"{source.name}.o")


def test_meson_python_editable_rebuilds_on_import_with_isolation(
        wb: Runner, venv: Path, tmp_path: Path, index: IndexServer) -> None:
    src = project(tmp_path, "meson-pybind")
    wb("install", "--python", venv, "-i", index.url, "-e", src)
    code = "import meson_pybind; print(meson_pybind.value())"
    before = int(run_python(venv, code))
    bump_return(src / "src" / "value.cpp")
    assert int(run_python(venv, code)) == before + 1, "rebuilt on import, in the kept env"
    names = set(installed(venv))
    assert not names & {"pybind11", "meson", "ninja", "meson_python"}, "isolation is real"


@pytest.mark.parametrize("name, module", [
    ("setuptools-pure", "setuptools_pure"), ("hatchling-pure", "hatchling_pure"),
    ("flit-pure", "flit_pure"), ("intree-backend", "intree_backend"),
    ("no-prepare-metadata", "no_prepare_metadata"), ("get-requires-adds", "get_requires_adds"),
])
def test_backends(name: str, module: str, wb: Runner, venv: Path, tmp_path: Path,
                  index: IndexServer) -> None:
    src = project(tmp_path, name)
    wb("install", "--python", venv, "-i", index.url, src)
    assert run_python(venv, f"import {module}; print('ok')") == "ok"
    if name == "no-prepare-metadata":
        result = wb("install", "--python", venv, "-i", index.url, "-e", src, expect=1)
        assert "cannot build editable installs (no build_editable hook)" in result.stderr
    else:
        wb("install", "--python", venv, "-i", index.url, "-e", src)
        assert run_python(venv, f"import {module}; print('ok')") == "ok"
    assert len(envs(wb)) == 1


def test_metadata_from_built_wheel_brings_dependencies(wb: Runner, venv: Path, tmp_path: Path,
                                                       index: IndexServer) -> None:
    src = project(tmp_path, "no-prepare-metadata")
    wb("install", "--python", venv, "-i", index.url, src)
    assert "six" in installed(venv)


def test_get_requires_result_is_installed_into_the_env(wb: Runner, venv: Path, tmp_path: Path,
                                                       index: IndexServer) -> None:
    src = project(tmp_path, "get-requires-adds")
    wb("install", "--python", venv, "-i", index.url, src)
    (env,) = envs(wb)
    manifest = json.loads((env / "warmbuild-env.json").read_text())
    assert "six" in manifest["resolved"] and manifest["complete"] is True
    assert "six" in manifest["extras"]["wheel"]
    # Switching to an editable install keeps the env as it is.
    second = wb("install", "--python", venv, "-i", index.url, "-e", src)
    assert "reused build env" in second.stderr


def test_changed_build_requirements_sync_the_env_in_place(
        wb: Runner, venv: Path, tmp_path: Path, index: IndexServer) -> None:
    src = project(tmp_path, "setuptools-pure")
    wb("install", "--python", venv, "-i", index.url, src)
    (env,) = envs(wb)
    pyproject = src / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('requires = [', 'requires = ["six", ', 1))
    result = wb("install", "--python", venv, "-i", index.url, src)
    assert "synced build env: + six 1.17.0" in result.stderr
    assert envs(wb) == [env]
    pyproject.write_text(pyproject.read_text().replace('"six", ', "", 1))
    result = wb("install", "--python", venv, "-i", index.url, src)
    assert "synced build env: - six 1.17.0" in result.stderr
    assert not list(site_packages(env).glob("six*"))
    assert envs(wb) == [env]
    refreshed = wb("install", "--python", venv, "-i", index.url, src, "--refresh-build-env")
    assert "recreated build env" in refreshed.stderr and envs(wb) == [env]


def test_another_interpreter_gets_its_own_env(wb: Runner, venv: Path, tmp_path: Path,
                                              index: IndexServer) -> None:
    other = other_python()
    if other is None:
        pytest.skip("no other CPython 3.9+ on this machine")
    pure = project(tmp_path, "setuptools-pure")
    wb("install", "--python", venv, "-i", index.url, pure)
    other_venv = create_venv(tmp_path / "other", python=other)
    second = wb("install", "--python", other_venv, "-i", index.url, pure)
    assert "created build env" in second.stderr
    assert "new interpreter (the tree's other envs are for" in second.stderr
    assert len(envs(wb)) == 2
    # A native build for the other interpreter (its in-tree build dir is its own: the
    # project keeps one build/ per tree, as PyTorch does).
    native = project(tmp_path, "setuppy-cmake")
    wb("install", "--python", other_venv, "-i", index.url, native)
    code = "import setuppy_cmake, sys; print(setuppy_cmake.value(), sys.version_info[:2])"
    version = run_python(other_venv, "import sys; print(sys.version_info[:2])")
    assert version != "(3, 11)" and run_python(other_venv, code) == f"42 {version}"
    assert len(envs(wb)) == 3


def test_config_settings_reach_every_hook(wb: Runner, venv: Path, tmp_path: Path,
                                          index: IndexServer) -> None:
    src = project(tmp_path, "config-settings-echo")
    echo = tmp_path / "echo.json"
    wb("install", "--python", venv, "-i", index.url, src, "-C", "color=blue", "-C", "x=1",
       "-C", "x=2", env={"WARMBUILD_TEST_ECHO": str(echo)})
    seen = [json.loads(line) for line in echo.read_text().splitlines()]
    assert "build_wheel" in {entry["hook"] for entry in seen}
    for entry in seen:
        assert entry["config_settings"] == {"color": "blue", "x": ["1", "2"]}, entry["hook"]


def test_no_build_isolation_requires_the_build_requirements(
        wb: Runner, venv: Path, tmp_path: Path, index: IndexServer) -> None:
    src = project(tmp_path, "setuptools-pure")
    result = wb("install", "--python", venv, "-i", index.url, src, "--no-build-isolation",
                expect=1)
    assert "--no-build-isolation" in result.stderr and "setuptools" in result.stderr
    assert "Traceback" not in result.output
    wb("install", "--python", venv, "-i", index.url, "setuptools")
    wb("install", "--python", venv, "-i", index.url, src, "--no-build-isolation")
    assert "setuptools_pure" in installed(venv)
    assert envs(wb) == []


def test_build_command_makes_sdist_and_wheel_in_the_same_env(
        wb: Runner, tmp_path: Path, venv: Path, index: IndexServer) -> None:
    src = project(tmp_path, "hatchling-pure")
    result = wb("build", "--python", venv, "-i", index.url, src)
    built = sorted(p.name for p in (src / "dist").iterdir())
    assert any(n.endswith(".tar.gz") for n in built) and any(n.endswith(".whl") for n in built)
    assert len(envs(wb)) == 1
    assert str(src / "dist") in result.stdout
    wb("build", "--python", venv, "-i", index.url, src, "--wheel", "-o", tmp_path / "out")
    assert [p.suffix for p in (tmp_path / "out").iterdir()] == [".whl"]
    assert len(envs(wb)) == 1


def test_bad_source_trees(wb: Runner, venv: Path, tmp_path: Path, index: IndexServer) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = wb("install", "--python", venv, "-i", index.url, empty, expect=1)
    assert "is not a Python project" in result.stderr

    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "pyproject.toml").write_text("[project]\nname = 'x'\nversion = \n")
    result = wb("install", "--python", venv, "-i", index.url, broken, expect=1)
    assert f"{broken / 'pyproject.toml'}: invalid TOML" in result.stderr
    assert "line 3" in result.stderr

    norequires = tmp_path / "norequires"
    norequires.mkdir()
    (norequires / "pyproject.toml").write_text("[build-system]\nbuild-backend = 'x'\n")
    result = wb("install", "--python", venv, "-i", index.url, norequires, expect=1)
    assert "[build-system] has no `requires` key" in result.stderr

    bad = project(tmp_path, "bad-backend")
    result = wb("install", "--python", venv, "-i", index.url, bad, expect=1)
    assert "cannot import the build backend `does_not_exist.build`" in result.stderr
    assert str(envs(wb)[0]) in result.stderr

    failing = project(tmp_path, "failing-hook")
    result = wb("install", "--python", venv, "-i", index.url, failing, expect=1)
    assert "the `build_wheel` hook failed" in result.stderr
    assert "deliberate failure in build_wheel" in result.stderr
    assert "Traceback (most recent call last)" not in result.stderr.split("hint:")[0].split(
        "error:")[0]
    assert installed(venv) == {}


def test_unresolvable_build_requirement(wb: Runner, venv: Path, tmp_path: Path,
                                        index: IndexServer) -> None:
    src = project(tmp_path, "setuptools-pure")
    pyproject = src / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('requires = [',
                                                       'requires = ["no-such-build-dep", ', 1))
    result = wb("install", "--python", venv, "-i", index.url, src, expect=1)
    assert "cannot install the build requirements into the build env" in result.stderr
    assert "no-such-build-dep" in result.stderr
    assert installed(venv) == {}


_SLOW_BACKEND = '''
import os, subprocess, sys

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    # Stands for a long compile: a child process of the backend that never ends by itself.
    child = subprocess.Popen(["sleep", "300"])
    with open(os.path.join(os.getcwd(), "child.pid"), "w") as f:
        f.write(str(child.pid))
    child.wait()
    sys.exit(1)
'''


def slow_tree(tmp_path: Path) -> Path:
    """A project whose build starts a child that never ends (see _SLOW_BACKEND)."""
    tree = tmp_path / "slow"
    (tree / "_backend").mkdir(parents=True)
    (tree / "_backend" / "slowbackend.py").write_text(_SLOW_BACKEND)
    (tree / "pyproject.toml").write_text(
        '[build-system]\nrequires = []\nbuild-backend = "slowbackend"\n'
        'backend-path = ["_backend"]\n\n[project]\nname = "slow"\nversion = "1.0"\n')
    return tree


@pytest.mark.parametrize("how", ["SIGINT", "SIGTERM"])
def test_interrupted_build_leaves_no_backend_running(wb: Runner, venv: Path, tmp_path: Path,
                                                     index: IndexServer, how: str) -> None:
    tree = slow_tree(tmp_path)
    # Static metadata: the build runs in a worker thread, as when several are prepared.
    proc = subprocess.Popen([sys.executable, "-m", "warmbuild", "install", "--python",
                             str(venv), "-i", index.url, str(tree)], env=wb.env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    pid_file = tree / "child.pid"
    deadline = time.monotonic() + 120
    while not (pid_file.is_file() and pid_file.read_text()):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.05)
    proc.send_signal(getattr(signal, how))
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + getattr(signal, how) and "interrupted" in err
    assert "left as it was" in err
    child = int(pid_file.read_text())
    deadline = time.monotonic() + 30
    while _alive(child):
        assert time.monotonic() < deadline, "the backend's child outlived warmbuild"
        time.sleep(0.05)
    assert installed(venv) == {}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by init) counts as ended.
    stat = Path(f"/proc/{pid}/stat")
    return stat.is_file() and stat.read_text().split(") ", 1)[1][0] != "Z"
