"""A no-op install is decided from what is installed alone: no index request (issue 13)."""

from __future__ import annotations

from pathlib import Path

from conftest import Runner, installed
from support.indexserver import IndexServer

DEAD = "http://127.0.0.1:9/simple"  # the discard port: nothing answers there


def test_satisfied_requirements_need_no_index(wb: Runner, venv: Path,
                                              index: IndexServer) -> None:
    wb("install", "--python", venv, "-i", index.url, "requests", "six")
    before = installed(venv)
    again = wb("install", "--python", venv, "-i", DEAD, "requests>=2", "six", "--offline")
    assert "nothing to do" in again.stderr
    again = wb("install", "--python", venv, "-i", DEAD, "requests>=2", "six")
    assert "nothing to do" in again.stderr and installed(venv) == before


def test_anything_unsatisfied_asks_the_index(wb: Runner, venv: Path,
                                             index: IndexServer) -> None:
    wb("install", "--python", venv, "-i", index.url, "six")
    for args in (["six", "attrs"], ["six>99"], ["-U", "six"], ["--reinstall", "six"]):
        result = wb("install", "--python", venv, "-i", DEAD, *args, expect=1)
        assert "127.0.0.1:9" in result.stderr, args


def test_a_broken_dependency_of_an_installed_package_is_repaired(
        wb: Runner, venv: Path, index: IndexServer) -> None:
    wb("install", "--python", venv, "-i", index.url, "requests")
    wb("uninstall", "--python", venv, "idna")
    result = wb("install", "--python", venv, "-i", index.url, "requests")
    assert "+ idna" in result.stderr
