"""Choosing the interpreter: `--python 3.X` (a matching venv, else PATH, pyenv's or uv's
interpreters), `--python python3.X`, and an active conda environment as the target."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from conftest import IndexFactory, Runner, create_venv, installed, other_python


def _other() -> tuple[Path, str]:
    found = other_python()
    if found is None:
        pytest.skip("no other CPython 3.9+ on this machine (looked for python3.9/3.12/...)")
    version = subprocess.run([str(found), "-c", "import sys; print(sys.version.split()[0])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    return found, version


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def test_version_request_prefers_a_matching_venv(wb: Runner, tmp_path: Path,
                                                 custom_index: IndexFactory) -> None:
    python, version = _other()
    server = custom_index([("demo", "1.0")])
    venv = create_venv(tmp_path / "venv", python=python)
    out = wb("install", "--python", _minor(version), "-i", server.url, "demo",
             env={"VIRTUAL_ENV": str(venv)})
    assert f"Using CPython {version} at {venv / 'bin' / 'python'}" in out.stderr
    assert installed(venv) == {"demo": "1.0"}


@pytest.mark.parametrize("where", ["uv", "pyenv", "PATH"])
def test_version_request_finds_installed_interpreters(wb: Runner, tmp_path: Path,
                                                      where: str) -> None:
    python, version = _other()
    minor = _minor(version)
    links = {"uv": tmp_path / "uv" / f"cpython-{version}-linux-x86_64-gnu" / "bin" / "python3",
             "pyenv": tmp_path / "pyenv" / "versions" / version / "bin" / "python3",
             "PATH": tmp_path / "path" / f"python{minor}"}
    links[where].parent.mkdir(parents=True)
    links[where].symlink_to(python)
    env = {"PATH": str(tmp_path / "path"), "UV_PYTHON_INSTALL_DIR": str(tmp_path / "uv"),
           "PYENV_ROOT": str(tmp_path / "pyenv")}
    out = wb("list", "--python", minor, env=env)
    assert f"Using CPython {version} at {links[where]}" in out.stderr
    if where == "PATH":
        named = wb("list", "--python", f"python{minor}", env=env)
        assert named.returncode == 0
    missing = wb("list", "--python", "3.99", env=env, expect=1)
    assert "--python 3.99: no CPython 3.99 found" in missing.stderr
    assert "`uv python install 3.99`" in missing.stderr


def test_conda_environment_is_the_target_unless_it_is_the_base(
        wb: Runner, tmp_path: Path, custom_index: IndexFactory) -> None:
    server = custom_index([("demo", "1.0")])
    env_dir = create_venv(tmp_path / "envs" / "work")
    conda = {"CONDA_PREFIX": str(env_dir), "CONDA_DEFAULT_ENV": "work"}
    wb("install", "-i", server.url, "demo", env=conda)
    assert installed(env_dir) == {"demo": "1.0"}
    # VIRTUAL_ENV wins over conda, as in uv.
    venv = create_venv(tmp_path / "venv")
    wb("install", "-i", server.url, "demo", env={**conda, "VIRTUAL_ENV": str(venv)})
    assert installed(venv) == {"demo": "1.0"}
    base = wb("list", env={**conda, "CONDA_DEFAULT_ENV": "base"}, expect=1)
    assert "is conda's base environment" in base.stderr
