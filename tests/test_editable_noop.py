"""`install -e` of an unchanged tree keeps the editable install without running a hook
(issue 13), for the backends where that is safe, and rebuilds everywhere else."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import Runner, installed, run_python
from support.indexserver import IndexServer
from test_build import bump_return, envs, project

KEPT = "Kept the editable install of"


def install_e(wb: Runner, venv: Path, index: IndexServer, src: Path, *args: str) -> str:
    return wb("install", "--python", venv, "-i", index.url, *args, "-e", src).stderr


def test_pure_tree_is_kept_until_its_metadata_changes(
        wb: Runner, venv: Path, tmp_path: Path, index: IndexServer) -> None:
    src = project(tmp_path, "setuptools-pure")
    assert "Built" in install_e(wb, venv, index, src)
    again = install_e(wb, venv, index, src)
    assert KEPT in again and "it has no native sources" in again and "Built" not in again
    assert "nothing to do" in again
    (src / "setuptools_pure" / "__init__.py").write_text("VALUE = 'edited'\n")
    assert run_python(venv, "import setuptools_pure; print(setuptools_pure.VALUE)") == "edited"
    pyproject = src / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace(
        'requires-python = ">=3.9"', 'requires-python = ">=3.9"\ndependencies = ["six"]'))
    changed = install_e(wb, venv, index, src)
    assert "Built" in changed and KEPT not in changed
    assert "six" in installed(venv)
    assert KEPT not in install_e(wb, venv, index, src, "-C", "x=1"), "config settings count"
    assert KEPT in install_e(wb, venv, index, src, "-C", "x=1")
    assert KEPT not in install_e(wb, venv, index, src, "--reinstall")


def test_meson_python_is_kept_and_rebuilds_on_import(
        wb: Runner, venv: Path, tmp_path: Path, index: IndexServer) -> None:
    src = project(tmp_path, "meson-pybind")
    install_e(wb, venv, index, src)
    again = install_e(wb, venv, index, src)
    assert KEPT in again and "meson-python rebuilds it on import" in again
    code = "import meson_pybind; print(meson_pybind.value())"
    before = int(run_python(venv, code))
    bump_return(src / "src" / "value.cpp")
    assert int(run_python(venv, code)) == before + 1
    # The env it rebuilds with is gone: the next install must build again.
    wb("env", "remove", "--force", src)
    assert not envs(wb)
    rebuilt = install_e(wb, venv, index, src)
    assert KEPT not in rebuilt and "created build env" in rebuilt


def test_native_tree_without_rebuild_on_import_is_rebuilt(
        wb: Runner, venv: Path, tmp_path: Path, index: IndexServer) -> None:
    src = project(tmp_path, "setuppy-cmake")
    install_e(wb, venv, index, src)
    again = install_e(wb, venv, index, src)
    assert KEPT not in again and "Built" in again
    info = next(p for p in (venv / "lib").glob("python3*/site-packages/setuppy_cmake-*"
                                               ".dist-info"))
    assert not (info / "WARMBUILD_FINGERPRINT").exists()


@pytest.mark.parametrize("rebuild", [True, False])
def test_scikit_build_core_is_kept_only_with_rebuild_on_import(
        rebuild: bool, wb: Runner, venv: Path, tmp_path: Path, index: IndexServer) -> None:
    src = project(tmp_path, "skbuild-inplace")
    args = ("-C", f"editable.rebuild={'true' if rebuild else 'false'}")
    install_e(wb, venv, index, src, *args)
    again = install_e(wb, venv, index, src, *args)
    assert (KEPT in again) == rebuild, again


def test_cache_keys_make_a_native_tree_skippable(
        wb: Runner, venv: Path, tmp_path: Path, index: IndexServer) -> None:
    src = project(tmp_path, "setuppy-cmake")
    with (src / "pyproject.toml").open("a") as f:
        f.write('\n[tool.warmbuild]\ncache-keys = ["src/*.c", "CMakeLists.txt"]\n')
    install_e(wb, venv, index, src)
    again = install_e(wb, venv, index, src)
    assert KEPT in again and "its cache-keys are unchanged" in again
    bump_return(src / "src" / "a.c")
    changed = install_e(wb, venv, index, src)
    assert KEPT not in changed
    assert run_python(venv, "import setuppy_cmake; print(setuppy_cmake.value())") == "43"
    assert re.search(r"Built setuppy_cmake", changed)
    direct = json.loads(next((venv / "lib").glob(
        "python3*/site-packages/setuppy_cmake-*.dist-info/direct_url.json")).read_text())
    assert direct["dir_info"] == {"editable": True}
