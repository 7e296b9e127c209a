"""Which index a project comes from: --index-strategy (uv's three), its default for indexes
from pip's configuration, the hint when another index has what was asked for, and
--exclude-newer by PEP 700 upload times. Two local indexes stand for a company mirror
(``--extra-index-url``, behind) and the public index (``--index-url``)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from conftest import IndexFactory, Runner
from support.indexserver import IndexServer


def _plan(wb: Runner, venv: Path, *args: str | Path, env: dict[str, str] | None = None
          ) -> dict[str, str]:
    """``{name: version}`` that a dry run would install."""
    out = wb("install", "--python", venv, "--dry-run", "--format", "json", *args, env=env)
    return {a["name"]: a["version"] for a in json.loads(out.stdout)["actions"]}


@pytest.fixture
def two(custom_index: IndexFactory) -> tuple[IndexServer, IndexServer]:
    """(main, mirror): the mirror has demo 1.0 only; the main index has 1.0 and 2.0, and
    the only wheel of native 1.0 that fits this machine."""
    main = custom_index([("demo", "1.0"), ("demo", "2.0"), ("native", "1.0")])
    mirror = custom_index([("demo", "1.0"), ("native", "1.0", {"tag": "cp27-cp27m-win32"})])
    return main, mirror


def _args(two: tuple[IndexServer, IndexServer]) -> tuple[str, ...]:
    main, mirror = two
    return ("-i", main.url, "--extra-index-url", mirror.url)


def test_first_index_is_the_default_and_names_the_way_out(
        wb: Runner, venv: Path, two: tuple[IndexServer, IndexServer]) -> None:
    main, mirror = two
    assert _plan(wb, venv, *_args(two), "demo") == {"demo": "1.0"}
    # A pin only the main index has: the error says which index answered, what the other
    # has, and names the option.
    failed = wb("install", "--python", venv, "--dry-run", *_args(two), "demo==2.0", expect=1)
    err = failed.stderr
    assert "no version of `demo` matches demo==2.0" in err
    assert f"`demo` comes from {mirror.url}/ alone" in err
    assert f"{main.url}/ also has 2.0" in err
    assert "--index-strategy unsafe-best-match" in err and "Traceback" not in err
    # Wheels for this machine only on the main index: the same hint.
    failed = wb("install", "--python", venv, "--dry-run", *_args(two), "native", expect=1)
    assert "no wheel compatible with the target" in failed.stderr
    assert f"{main.url}/ also has 1.0" in failed.stderr


def test_unsafe_best_match_merges_every_index(
        wb: Runner, venv: Path, two: tuple[IndexServer, IndexServer]) -> None:
    args = (*_args(two), "--index-strategy", "unsafe-best-match")
    assert _plan(wb, venv, *args, "demo", "native") == {"demo": "2.0", "native": "1.0"}


def test_unsafe_first_match_prefers_the_earlier_index(
        wb: Runner, venv: Path, two: tuple[IndexServer, IndexServer]) -> None:
    args = (*_args(two), "--index-strategy", "unsafe-first-match")
    assert _plan(wb, venv, *args, "demo") == {"demo": "1.0"}
    assert _plan(wb, venv, *args, "demo==2.0") == {"demo": "2.0"}
    assert _plan(wb, venv, *args, "demo>1") == {"demo": "2.0"}


def test_strategy_from_environment_and_warmbuild_toml(
        wb: Runner, venv: Path, tmp_path: Path, two: tuple[IndexServer, IndexServer]) -> None:
    env = {"WARMBUILD_INDEX_STRATEGY": "unsafe-best-match"}
    assert _plan(wb, venv, *_args(two), "demo", env=env) == {"demo": "2.0"}
    (tmp_path / "warmbuild.toml").write_text('index-strategy = "unsafe-best-match"\n')
    assert _plan(wb, venv, *_args(two), "demo") == {"demo": "2.0"}
    rows = json.loads(wb("config", "--format", "json").stdout)
    assert rows["index-strategy"] == {"value": "unsafe-best-match",
                                      "source": str(tmp_path / "warmbuild.toml")}
    # The flag beats the file.
    assert _plan(wb, venv, *_args(two), "--index-strategy", "first-index", "demo") == {
        "demo": "1.0"}
    (tmp_path / "warmbuild.toml").write_text('index-strategy = "best"\n')
    bad = wb("config", expect=2)
    assert f"index-strategy 'best' (from {tmp_path / 'warmbuild.toml'}) is not supported" \
        in bad.stderr


def test_extra_index_from_pip_config_gets_pips_merge(
        wb: Runner, venv: Path, tmp_path: Path, two: tuple[IndexServer, IndexServer]) -> None:
    main, mirror = two
    conf = tmp_path / "pip.conf"
    conf.write_text(f"[global]\nindex-url = {main.url}\nextra-index-url = {mirror.url}\n")
    env = {"PIP_CONFIG_FILE": str(conf)}
    assert _plan(wb, venv, "demo", env=env) == {"demo": "2.0"}
    rows = json.loads(wb("config", "--format", "json", env=env).stdout)
    assert rows["index-strategy"] == {
        "value": "unsafe-best-match",
        "source": "default for extra indexes from pip's configuration (pip's merge)"}
    # Set on purpose, first-index holds for pip's settings too; flags get uv's default.
    assert _plan(wb, venv, "demo", env={**env, "WARMBUILD_INDEX_STRATEGY": "first-index"}) \
        == {"demo": "1.0"}
    assert _plan(wb, venv, "--extra-index-url", mirror.url, "demo", env=env) == {"demo": "1.0"}


def test_exclude_newer_uses_upload_times(wb: Runner, venv: Path,
                                         custom_index: IndexFactory) -> None:
    server = custom_index([("demo", "1.0"), ("demo", "2.0")])
    html = custom_index([("demo", "1.0")], json_api=False)
    wheels = Path(server._state.dirs[0])
    old = 1_600_000_000  # 2020-09-13
    for wheel in wheels.glob("demo-1.0-*.whl"):
        os.utime(wheel, (old, old))
    assert _plan(wb, venv, "-i", server.url, "demo") == {"demo": "2.0"}
    assert _plan(wb, venv, "-i", server.url, "--exclude-newer", "2021-01-01", "demo") == {
        "demo": "1.0"}
    assert _plan(wb, venv, "-i", server.url, "demo",
                 env={"WARMBUILD_EXCLUDE_NEWER": "2020-09-14T00:00:00Z"}) == {"demo": "1.0"}
    # An HTML page gives no upload time: every file is left out, and the error says so.
    failed = wb("install", "--python", venv, "--dry-run", "-i", html.url, "--exclude-newer",
                "2021-01-01", "demo", expect=1)
    assert "--exclude-newer 2021-01-02" in failed.stderr
    assert "left out 1 file(s) of `demo`" in failed.stderr
