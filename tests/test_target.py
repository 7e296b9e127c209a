"""Which environment warmbuild installs into, and refusing the ones it must not touch."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from conftest import Runner, create_venv, installed, other_python, pip, run_python
from support.indexserver import IndexServer


def fake_system_python(root: Path) -> Path:
    """A non-venv CPython prefix of our own: the real binary, the real stdlib by symlinks."""
    stdlib = Path(sysconfig.get_path("stdlib"))
    version = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    lib = root / "lib" / version
    lib.mkdir(parents=True)
    for entry in stdlib.iterdir():
        if entry.name != "site-packages":
            (lib / entry.name).symlink_to(entry)
    (lib / "site-packages").mkdir()
    (root / "bin").mkdir()
    binary = root / "bin" / version
    binary.write_bytes(Path(sys.executable).resolve().read_bytes())
    binary.chmod(0o755)
    return binary


def test_externally_managed_is_refused(wb: Runner, tmp_path: Path, index: IndexServer) -> None:
    python = fake_system_python(tmp_path / "system")
    site = tmp_path / "system" / "lib" / python.name / "site-packages"
    marker = site.parent / "EXTERNALLY-MANAGED"
    marker.write_text("[externally-managed]\nError=use a venv\n")
    result = wb("install", "--python", python, "-i", index.url, "six", expect=1)
    assert "is externally managed (PEP 668" in result.stderr
    assert "--break-system-packages" in result.stderr
    assert not list(site.iterdir())
    wb("install", "--python", python, "-i", index.url, "six", "--break-system-packages")
    assert [p.name for p in site.glob("six-*.dist-info")] == ["six-1.17.0.dist-info"]


def test_target_discovery_order(wb: Runner, tmp_path: Path, index: IndexServer) -> None:
    project = tmp_path / "project" / "sub"
    project.mkdir(parents=True)
    dot_venv = create_venv(tmp_path / "project" / ".venv")
    active = create_venv(tmp_path / "active")
    # A .venv in a parent directory is found from a subdirectory.
    wb("install", "-i", index.url, "six", cwd=project)
    assert installed(dot_venv) == {"six": "1.17.0"}
    # VIRTUAL_ENV wins over .venv; --python wins over both.
    wb("install", "-i", index.url, "attrs", cwd=project, env={"VIRTUAL_ENV": str(active)})
    assert installed(active) == {"attrs": "26.1.0"}
    explicit = create_venv(tmp_path / "explicit")
    wb("install", "--python", explicit / "bin" / "python", "-i", index.url, "six",
       cwd=project, env={"VIRTUAL_ENV": str(active)})
    assert installed(explicit) == {"six": "1.17.0"}


def test_no_environment_found(wb: Runner, tmp_path: Path) -> None:
    lonely = tmp_path / "lonely"
    lonely.mkdir()
    result = wb("install", "six", cwd=lonely, expect=1)
    assert "no virtual environment found" in result.stderr
    assert "--system" in result.stderr and "Traceback" not in result.output


def test_python_that_is_not_an_interpreter(wb: Runner, tmp_path: Path) -> None:
    not_python = tmp_path / "not-python"
    not_python.write_text("#!/bin/sh\necho hello\n")
    not_python.chmod(0o755)
    result = wb("install", "--python", not_python, "six", expect=1)
    assert f"{not_python}: not a usable Python interpreter" in result.stderr
    result = wb("install", "--python", tmp_path / "missing", "six", expect=1)
    assert "not an interpreter or a virtual environment" in result.stderr
    assert "Traceback" not in result.output


def test_install_into_another_python_version(wb: Runner, tmp_path: Path,
                                             index: IndexServer) -> None:
    other = other_python()
    if other is None:
        pytest.skip("no other CPython 3.9+ on this machine (looked for python3.9/3.12/...)")
    venv = create_venv(tmp_path / "other", python=other)
    # pyyaml and markupsafe are binary: the wheel must match the target, not warmbuild.
    wb("install", "--python", venv, "-i", index.url, "pyyaml", "jinja2", "pytest")
    code = "import yaml, jinja2, pytest, sys; print(sys.version_info[:2] != (3, 11))"
    assert run_python(venv, code) == "True"
    assert pip(venv, "check").returncode == 0


def test_virtual_env_variable_must_point_at_a_venv(wb: Runner, tmp_path: Path) -> None:
    # A usable .venv in the working dir: falling back to it would hide the bad VIRTUAL_ENV.
    create_venv(tmp_path / ".venv")
    assert wb("list").returncode == 0
    gone = tmp_path / "gone"
    result = wb("list", env={"VIRTUAL_ENV": str(gone)}, expect=1)
    assert f"error: VIRTUAL_ENV {gone}: no python interpreter in that directory" \
        in result.stderr
    assert result.stdout == "" and "Traceback" not in result.output


@pytest.mark.slow  # makes venvs and starts their interpreters
@pytest.mark.parametrize("which", ["this", "other"])
def test_venv_answer_derived_from_base_matches_asking_the_venv(which: str,
                                                               tmp_path: Path) -> None:
    # warmbuild does not start a fresh venv's interpreter: it fills the base's venv scheme.
    from warmbuild.cache import open_cache
    from warmbuild.python import query_target

    python = sys.executable if which == "this" else other_python()
    if python is None:
        pytest.skip("no other CPython 3.9+ on this machine")
    venv = create_venv(tmp_path / "venv", python=python)
    derived = query_target(venv / "bin" / "python", open_cache(tmp_path / "cache"))
    asked = query_target(venv / "bin" / "python")
    assert derived == asked
    assert derived.paths["purelib"].is_relative_to(venv)


def test_tags_and_markers_match_packaging_for_this_interpreter() -> None:
    # For the interpreter the tests run on, packaging's own answer is the reference.
    from packaging import markers, tags

    from warmbuild.python import query_target

    target = query_target(Path(sys.executable))
    assert target.tags == tuple(tags.sys_tags())
    assert dict(target.markers) == markers.default_environment()


@pytest.mark.slow  # starts another interpreter's pip
def test_tags_of_another_python_match_its_own_pip() -> None:
    # pip vendors a packaging that runs on that Python: it is the reference there.
    from warmbuild.python import query_target

    other = other_python()
    if other is None:
        pytest.skip("no other CPython 3.9+ on this machine")
    proc = subprocess.run([str(other), "-m", "pip", "debug", "--verbose"],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        pytest.skip(f"{other} has no pip")
    listed = proc.stdout.split("Compatible tags:", 1)[1].splitlines()[1:]
    theirs = {line.strip() for line in listed if line.startswith("  ")}
    ours = [str(t) for t in query_target(other).tags]
    assert len(ours) == len(set(ours))
    assert set(ours) == theirs


def test_target_query_uses_only_the_standard_library() -> None:
    # It runs in the target, which may be older than what our own dependencies support.
    import ast

    import warmbuild

    source = Path(warmbuild.__file__).with_name("_target_query.py")
    imported = set()
    for node in ast.walk(ast.parse(source.read_text())):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            imported.add(node.module.split(".")[0])
    # `_manylinux` is the distributor's optional PEP 600 hook, looked up in the target.
    assert imported - {"_manylinux"} <= sys.stdlib_module_names
    assert "json" in imported
