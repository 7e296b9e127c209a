"""pip's settings that warmbuild honours: PIP_CONSTRAINT and pip's `constraint`, per-package
--only-binary/--no-binary (flags, files, PIP_ONLY_BINARY), --prefer-binary, PIP_NO_CACHE_DIR
and --no-cache-dir, --ignore-installed/--force-reinstall and --upgrade-strategy eager."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import IndexFactory, Runner
from support.indexserver import IndexServer
from support.wheels import make_sdist, make_wheel


def _plan(wb: Runner, venv: Path, *args: str | Path, env: dict[str, str] | None = None
          ) -> dict[str, str]:
    """``{name: "version kind action"}`` of a dry run (kind: whl or sdist)."""
    out = wb("install", "--python", venv, "--dry-run", "--format", "json", *args, env=env)
    return {a["name"]: f"{a['version']} {'whl' if a['url'].endswith('.whl') else 'sdist'} "
                       f"{a['action']}" for a in json.loads(out.stdout)["actions"]}


@pytest.fixture
def mixed(custom_index: IndexFactory, tmp_path: Path) -> IndexServer:
    """demo 1.0 as a wheel and an sdist; demo 2.0 as an sdist only (PEP 643 metadata, so a
    dry run needs no build)."""
    server = custom_index([("demo", "1.0")])
    sdists = tmp_path / "sdists"
    for version in ("1.0", "2.0"):
        make_sdist(sdists, "demo", version, metadata_version="2.2")
    server.add_dir(sdists)
    return server


def test_constraints_from_pip_settings(wb: Runner, venv: Path, tmp_path: Path,
                                       custom_index: IndexFactory) -> None:
    server = custom_index([("demo", "1.0"), ("demo", "2.0")])
    pins = tmp_path / "pins.txt"
    pins.write_text("demo<2\n")
    assert _plan(wb, venv, "-i", server.url, "demo", env={"PIP_CONSTRAINT": str(pins)}) == {
        "demo": "1.0 whl install"}
    conf = tmp_path / "pip.conf"
    conf.write_text(f"[install]\nconstraint = {pins}\n")
    assert _plan(wb, venv, "-i", server.url, "demo", env={"PIP_CONFIG_FILE": str(conf)}) == {
        "demo": "1.0 whl install"}
    rows = json.loads(wb("config", "--format", "json", env={"PIP_CONSTRAINT": str(pins)}).stdout)
    assert rows["constraint"] == {"value": [str(pins)], "source": "pip environment PIP_CONSTRAINT"}


def test_per_package_only_binary_no_binary_and_prefer_binary(
        wb: Runner, venv: Path, tmp_path: Path, mixed: IndexServer) -> None:
    args = ("-i", mixed.url, "demo")
    assert _plan(wb, venv, *args) == {"demo": "2.0 sdist install"}
    assert _plan(wb, venv, *args, "--only-binary", "other,demo") == {"demo": "1.0 whl install"}
    assert _plan(wb, venv, *args, "--prefer-binary") == {"demo": "1.0 whl install"}
    assert _plan(wb, venv, *args, env={"PIP_ONLY_BINARY": "demo"}) == {"demo": "1.0 whl install"}
    # Later values win, as in pip: :none: clears, a name moves between the lists.
    assert _plan(wb, venv, *args, "--only-binary", "demo", "--only-binary", ":none:") == {
        "demo": "2.0 sdist install"}
    assert _plan(wb, venv, "-i", mixed.url, "demo==1.0", "--no-binary", "demo") == {
        "demo": "1.0 sdist install"}
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("--only-binary demo\ndemo\n")
    assert _plan(wb, venv, "-i", mixed.url, "-r", reqs) == {"demo": "1.0 whl install"}
    failed = wb("install", "--python", venv, "--dry-run", "-i", mixed.url, "demo==2.0",
                "--only-binary", "demo", expect=1)
    assert "`demo` 2.0 has no wheel, only a source distribution, and --only-binary demo " \
           "forbids building it" in failed.stderr


def test_no_cache_dir_from_pip_and_the_flag(wb: Runner, venv: Path, tmp_path: Path,
                                            custom_index: IndexFactory) -> None:
    server = custom_index([("demo", "1.0")])
    env = {"WARMBUILD_CACHE_DIR": "", "XDG_CACHE_HOME": str(tmp_path / "xdg-cache"),
           "PIP_NO_CACHE_DIR": "off"}  # any value turns pip's cache off, even "off"
    rows = json.loads(wb("config", "--format", "json", env=env).stdout)
    assert rows["cache-dir"] == {"value": None, "source": "pip environment PIP_NO_CACHE_DIR "
                                                          "(a throw-away cache)"}
    _plan(wb, venv, "-i", server.url, "demo", env=env)
    _plan(wb, venv, "-i", server.url, "demo", "--no-cache-dir",
          env={**env, "PIP_NO_CACHE_DIR": ""})
    assert not (tmp_path / "xdg-cache" / "warmbuild").exists()
    _plan(wb, venv, "-i", server.url, "demo", env={**env, "PIP_NO_CACHE_DIR": ""})
    assert (tmp_path / "xdg-cache" / "warmbuild").is_dir()


def test_ignore_installed_and_eager_upgrades(wb: Runner, venv: Path, tmp_path: Path,
                                             custom_index: IndexFactory) -> None:
    server = custom_index([("app", "1.0", {"requires": ["lib"]}), ("lib", "1.0")])
    wb("install", "--python", venv, "-i", server.url, "app")
    assert _plan(wb, venv, "-i", server.url, "app", "--ignore-installed") == {
        "app": "1.0 whl reinstall", "lib": "1.0 whl reinstall"}
    assert _plan(wb, venv, "-i", server.url, "app", "--force-reinstall") == {
        "app": "1.0 whl reinstall", "lib": "1.0 whl reinstall"}
    newer = tmp_path / "newer"
    make_wheel(newer, "lib", "2.0")
    server.add_dir(newer)
    assert _plan(wb, venv, "-i", server.url, "-U", "app") == {}
    assert _plan(wb, venv, "-i", server.url, "-U", "--upgrade-strategy", "eager", "app") == {
        "lib": "2.0 whl upgrade"}
