"""Install layouts (--target, --prefix, --root, --user) and other-platform targets, in-process."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.tags import Tag
from packaging.version import Version
from pip._internal.utils.compatibility_tags import get_supported

from warmbuild.errors import UsageError, WarmbuildError
from warmbuild.foreign import PlatformSpec, foreign_target
from warmbuild.layout import Layout, destination, environment_line
from warmbuild.python import Target

SCHEMES = {
    "prefix": {"purelib": "@BASE@/lib/python3.11/site-packages",
               "platlib": "@BASE@/lib/python3.11/site-packages", "scripts": "@BASE@/bin",
               "data": "@BASE@", "include": "@BASE@/include/python3.11"},
    "home": {"purelib": "@BASE@/lib/python", "platlib": "@BASE@/lib/python",
             "scripts": "@BASE@/bin", "data": "@BASE@", "include": "@BASE@/include/python"},
    "user": {"purelib": "@BASE@/lib/python3.11/site-packages",
             "platlib": "@BASE@/lib/python3.11/site-packages", "scripts": "@BASE@/bin",
             "data": "@BASE@", "include": "@BASE@/include/python3.11"},
}
MARKERS = {"python_full_version": "3.11.7", "python_version": "3.11", "sys_platform": "linux",
           "platform_machine": "x86_64", "implementation_name": "cpython"}


def target(prefix: Path, *, venv: bool) -> Target:
    site = prefix / "lib" / "python3.11" / "site-packages"
    return Target(
        executable=prefix / "bin" / "python", prefix=prefix, base_prefix=Path("/usr"),
        version=Version("3.11.7"), implementation="cpython", abiflags="",
        tags=(Tag("cp311", "cp311", "manylinux_2_17_x86_64"),
              Tag("cp311", "abi3", "manylinux_2_17_x86_64"),
              Tag("py3", "none", "any")),
        markers=MARKERS,
        paths={"purelib": site, "platlib": site, "scripts": prefix / "bin", "data": prefix,
               "include": Path("/usr/include/python3.11")},
        is_venv=venv, externally_managed=None if venv else Path("/usr/EXTERNALLY-MANAGED"),
        schemes=SCHEMES)


def test_target_dir_holds_packages_at_top_scripts_in_bin(tmp_path: Path) -> None:
    dest = destination(target(Path("/v"), venv=True), Layout(target=tmp_path / "t"))
    t = tmp_path / "t"
    assert dest.prefix == t
    assert dest.scheme("demo") == {
        "purelib": str(t), "platlib": str(t), "scripts": str(t / "bin"), "data": str(t),
        # pip's header dir, in a venv: <base>/include/site/pythonX.Y/<dist>
        "headers": str(t / "include" / "site" / "python3.11" / "demo")}
    assert dest.executable == Path("/v/bin/python"), "the interpreter stays"


def test_prefix_root_and_user_schemes(tmp_path: Path) -> None:
    system = target(Path("/usr"), venv=False)
    dest = destination(system, Layout(prefix=tmp_path / "p"))
    assert dest.paths["purelib"] == tmp_path / "p/lib/python3.11/site-packages"
    assert dest.scheme("demo")["headers"] == str(tmp_path / "p/include/python3.11/demo")
    assert dest.externally_managed is None, "as pip: --prefix skips the PEP 668 check"
    rooted = destination(target(Path("/v"), venv=True), Layout(root=tmp_path / "r"))
    assert rooted.prefix == tmp_path / "r" / "v"
    assert rooted.paths["scripts"] == tmp_path / "r" / "v" / "bin"
    user = destination(system, Layout(user=True), environ={"PYTHONUSERBASE": str(tmp_path)})
    assert user.prefix == tmp_path and user.paths["scripts"] == tmp_path / "bin"
    assert user.externally_managed is not None, "--user changes the interpreter's user site"
    home = destination(system, Layout(user=True), environ={"HOME": "/home/me"})
    assert home.prefix == Path("/home/me/.local")


def test_refusals(tmp_path: Path) -> None:
    with pytest.raises(WarmbuildError, match="not visible in the virtual environment"):
        destination(target(tmp_path, venv=True), Layout(user=True), environ={})
    with pytest.raises(UsageError, match="--target and --prefix cannot be combined"):
        Layout(target=tmp_path, prefix=tmp_path)
    with pytest.raises(UsageError, match="--root cannot be combined with --user"):
        Layout(root=tmp_path, user=True)
    (tmp_path / "file").write_text("")
    with pytest.raises(WarmbuildError, match="exists and is not a directory"):
        destination(target(Path("/v"), venv=True), Layout(target=tmp_path / "file"))


def test_environment_line_is_relative_to_the_working_directory(tmp_path: Path) -> None:
    venv = target(tmp_path / ".venv", venv=True)
    assert environment_line(venv, cwd=tmp_path) == \
        "Using Python 3.11.7 environment at .venv"
    assert environment_line(venv, cwd=Path("/elsewhere")).endswith(f"at {tmp_path}/.venv")


@pytest.mark.parametrize(("platforms", "version", "impl", "abis"), [
    (("manylinux2014_x86_64",), "3.9", "cp", ()),
    (("macosx_11_0_arm64",), "3.12", None, ()),
    (("win_amd64", "win32"), "310", "cp", ("cp310",)),
    (("manylinux_2_28_aarch64",), None, "pp", ("pypy310_pp73",)),
])
def test_tags_for_another_platform_are_pips(platforms: tuple[str, ...], version: str | None,
                                            impl: str | None, abis: tuple[str, ...]) -> None:
    spec = PlatformSpec(platforms, version, impl, abis)
    got = foreign_target(target(Path("/v"), venv=True), spec).tags
    nodot = "".join(version.split(".")[:2]) if version else "311"
    expected = get_supported(version=nodot, platforms=list(platforms), impl=impl or "cp",
                             abis=list(abis) or None)
    assert [str(t) for t in got] == [str(t) for t in expected]


def test_markers_follow_the_requested_platform_and_python() -> None:
    spec = PlatformSpec(("win_amd64",), "3.9", None, ())
    markers = foreign_target(target(Path("/v"), venv=True), spec).markers
    assert markers["sys_platform"] == "win32" and markers["platform_machine"] == "AMD64"
    assert markers["python_version"] == "3.9" and markers["python_full_version"] == "3.9.0"
    with pytest.raises(UsageError, match="not a Python version"):
        foreign_target(target(Path("/v"), venv=True), PlatformSpec(python_version="3.x"))
