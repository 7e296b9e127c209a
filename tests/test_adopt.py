"""A tree a real pip left broken builds with one `warmbuild install`, keeping its objects.

pip builds in a temporary env and deletes it after the run; the tree's build dir still
records paths into it. Each test breaks a copy of one example shape with one `pip install`
from the test index, then installs it with warmbuild once: the build dir is adopted
(reconfigured in place), the output says so, and the object files whose compile command did
not change are not compiled again.
"""

from __future__ import annotations

import re
from pathlib import Path

from conftest import Runner, pip, run_python, site_packages
from support.indexserver import IndexServer
from test_build import project


def rebuilt(output: str) -> tuple[int, int]:
    match = re.search(r"adopted build dir \S+: (\d+) of (\d+) objects rebuilt", output)
    assert match, output
    return int(match.group(1)), int(match.group(2))


def test_setuppy_cmake_tree_pip_broke_is_reconfigured_without_recompiling(
        wb: Runner, venv: Path, tmp_path: Path, index: IndexServer) -> None:
    src = project(tmp_path, "setuppy-cmake")
    pip(venv, "install", "--index-url", index.url, str(src))
    assert "pip-build-env-" in (src / "build" / "CMakeCache.txt").read_text()

    result = wb("install", "--python", venv, "-i", index.url, src)
    assert ("adopted build dir build/: CMake cache pointed into a deleted build env of "
            "another frontend; reconfiguring") in result.stderr
    again, total = rebuilt(result.stderr)
    # Nothing on these compile lines came from the env: not one object is compiled again.
    assert total == 3 and again < total, result.stderr
    assert (src / "build" / "CMakeCache.txt.adopted").is_file()
    assert "pip-build-env-" not in (src / "build" / "CMakeCache.txt").read_text()
    assert run_python(venv, "import setuppy_cmake; print(setuppy_cmake.value())") == "42"
    # Adopted once: the next build has nothing to adopt.
    assert "adopted" not in wb("install", "--python", venv, "-i", index.url, src).stderr


def test_skbuild_build_dir_pip_broke_keeps_its_objects(
        wb: Runner, venv: Path, tmp_path: Path, index: IndexServer) -> None:
    src = project(tmp_path, "skbuild-inplace")
    pip(venv, "install", "--index-url", index.url, str(src))
    (build_dir,) = (src / "build").iterdir()

    result = wb("install", "--python", venv, "-i", index.url, src)
    assert f"adopted build dir build/{build_dir.name}/: CMake cache pointed into" \
        in result.stderr
    again, total = rebuilt(result.stderr)
    # scikit-build-core would have deleted CMakeFiles/ (every object) on seeing another
    # env's skbuild_path; with its info file moved aside it reconfigures in place.
    assert total == 2 and again < total, result.stderr
    assert (build_dir / ".skbuild-info.json.adopted").is_file()
    assert run_python(venv, "import skbuild_inplace; print(skbuild_inplace.value())") == "7"


def test_meson_editable_tree_pip_broke_is_reconfigured_and_its_loader_replaced(
        wb: Runner, venv: Path, tmp_path: Path, index: IndexServer) -> None:
    src = project(tmp_path, "meson-pybind")
    pip(venv, "install", "--index-url", index.url, "-e", str(src))
    loader = site_packages(venv) / "_meson_pybind_editable_loader.py"
    assert "pip-build-env-" in loader.read_text()

    report = wb("doctor", src, "--python", venv, expect=1).stdout
    assert "build/cp311/: Meson build dir pointed into a deleted build env" in report
    assert "would meson configure --clearcache" in report
    assert "_meson_pybind_editable_loader.py: calls" in report

    result = wb("install", "--python", venv, "-i", index.url, "-e", src)
    assert ("adopted build dir build/cp311/: Meson build dir pointed into a deleted build "
            "env of another frontend; reconfiguring") in result.stderr
    assert f"replacing editable loader {loader}" in result.stderr
    again, total = rebuilt(result.stderr)
    # Both units include pybind11 from the env, whose path changed: both compile lines
    # really changed, so both are compiled again (and nothing else is wiped).
    assert total == 2 and again == 2
    assert "pip-build-env-" not in loader.read_text()
    assert run_python(venv, "import meson_pybind; print(meson_pybind.value())") == "11"


def test_no_adopt_leaves_the_tree_as_it_was(wb: Runner, venv: Path, tmp_path: Path,
                                            index: IndexServer) -> None:
    src = project(tmp_path, "setuppy-cmake")
    pip(venv, "install", "--index-url", index.url, str(src))
    cache = (src / "build" / "CMakeCache.txt").read_text()
    failed = wb("install", "--python", venv, "-i", index.url, src, "--no-adopt", expect=1)
    assert "in a deleted temporary build env of another frontend" in failed.stderr
    assert (src / "build" / "CMakeCache.txt").read_text() == cache
    (src / "warmbuild.toml").write_text("adopt = false\n")
    wb("install", "--python", venv, "-i", index.url, src, expect=1, cwd=src)
    assert not (src / "build" / "CMakeCache.txt.adopted").exists()
