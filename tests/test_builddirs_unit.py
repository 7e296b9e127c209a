"""What in-tree build dirs recorded, read from small fake build dirs in-process."""

from __future__ import annotations

import os
from pathlib import Path

from warmbuild.builddirs import doctor, stale_build_dirs

GONE_CMAKE = "/tmp/pip-build-env-gone123/overlay/bin/cmake"


def _cmake_cache(tree: Path, command: str) -> Path:
    cache = tree / "build" / "CMakeCache.txt"
    cache.parent.mkdir(parents=True)
    cache.write_text(f"CMAKE_COMMAND:INTERNAL={command}\nCMAKE_MAKE_PROGRAM:FILEPATH=\n")
    return cache


def test_a_path_into_a_deleted_pip_env_is_stale(tmp_path: Path) -> None:
    cache = _cmake_cache(tmp_path, GONE_CMAKE)
    (stale,) = stale_build_dirs(tmp_path)
    assert (stale.file, stale.what, stale.path) == (cache, "CMAKE_COMMAND", GONE_CMAKE)
    assert stale.verdict.startswith("gone: a deleted temporary build env of another frontend")


def test_a_path_into_a_live_warmbuild_env_is_ok(tmp_path: Path) -> None:
    env = tmp_path / "envs-v1" / "tree-abc"
    (env / "bin").mkdir(parents=True)
    (env / "bin" / "cmake").touch()
    tree = tmp_path / "src"
    _cmake_cache(tree, f"{env}/bin/cmake")
    assert stale_build_dirs(tree) == []
    (finding,) = doctor(tree, {str(env)})
    assert finding.verdict == "ok: in a warmbuild build env"
    (env / "bin" / "cmake").unlink()
    (finding,) = doctor(tree, {str(env)})
    assert finding.verdict.startswith("missing, although its warmbuild env exists")


def test_a_fifo_by_a_build_file_name_does_not_block_the_scan(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "build.ninja")
    (tmp_path / "CMakeCache.txt").mkdir()
    assert doctor(tmp_path) == []
