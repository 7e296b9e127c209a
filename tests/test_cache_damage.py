"""A damaged cache heals: each kind of damage is done between two installs into fresh venvs;
the second install succeeds (the entry is unpacked or fetched again) or, with --offline
where nothing can be fetched, fails in one paragraph naming the damaged entry and how to
clear it. Messages about the target name the target, not the cache."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from conftest import IndexFactory, Runner, create_venv, installed, run_python, site_packages
from support.indexserver import IndexServer
from support.wheels import make_wheel

_WHEEL = "demo-1.0-py3-none-any.whl"


class _Cache:
    """Where the entries of one install of ``demo`` sit in the cache."""

    def __init__(self, root: Path, server: IndexServer) -> None:
        self.root = root
        self.server = server

    @property
    def wheel(self) -> Path:
        (found,) = self.root.glob(f"wheels-v1/*/*/{_WHEEL}")
        return found

    @property
    def archive(self) -> Path:
        return self.root / "archive-v1" / self.wheel.parent.name

    def page(self) -> Path:
        """The body of the cached project page of ``demo``."""
        for meta in self.root.glob("http-v1/*/*.json"):
            if json.loads(meta.read_bytes())["url"] == f"{self.server.url}/demo/":
                return meta.with_suffix(".body")
        raise AssertionError("no cached page")

    def downloads(self) -> int:
        return sum(1 for p in self.server.paths() if p.endswith(_WHEEL))


@pytest.fixture
def cached(wb: Runner, tmp_path: Path, custom_index: IndexFactory) -> _Cache:
    """``demo 1.0`` installed once, so the cache holds its page, wheel and unpacked copy."""
    server = custom_index([("demo", "1.0")])
    wb("install", "--python", create_venv(tmp_path / "first"), "-i", server.url, "demo")
    return _Cache(Path(wb.env["WARMBUILD_CACHE_DIR"]), server)


def _install(wb: Runner, cache: _Cache, venv: Path, *flags: str, expect: int = 0) -> str:
    result = wb("install", "--python", venv, "-i", cache.server.url, "demo", *flags,
                expect=expect)
    assert "Traceback" not in result.output and "internal error" not in result.output
    return result.stderr


def _error(stderr: str) -> list[str]:
    lines = stderr[stderr.index("error:"):].splitlines()
    assert lines[-1].startswith("hint: "), "one paragraph: error, cause, hint"
    return lines


def _demo(venv: Path) -> str:
    return run_python(venv, "import demo; print(demo.__version__)")


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def test_a_cached_wheel_replaced_by_another_valid_wheel_is_downloaded_again(
        wb: Runner, tmp_path: Path, cached: _Cache) -> None:
    other = make_wheel(tmp_path / "other", "demo", "2.0")
    wheel, seen = cached.wheel, cached.downloads()
    shutil.copyfile(other, wheel)
    shutil.rmtree(cached.archive)  # so the wheel itself is read again
    offline = create_venv(tmp_path / "offline")
    error = _error(_install(wb, cached, offline, "--offline", expect=1))
    assert error[0] == f"error: the cached {_WHEEL} is damaged, and --offline forbids " \
        "downloading it again"
    assert str(wheel) in error[1] and "but it was stored as" in error[1]
    assert "`warmbuild cache clean`" in error[-1] and installed(offline) == {}
    venv = create_venv(tmp_path / "venv")
    stderr = _install(wb, cached, venv)
    assert f"the cached {_WHEEL} was damaged" in stderr
    assert _demo(venv) == "1.0" and cached.downloads() == seen + 1


@pytest.mark.parametrize("damage", ["truncated index", "deleted file", "zeroed file",
                                    "edited file"])
def test_a_damaged_unpacked_copy_is_unpacked_again_even_offline(
        damage: str, wb: Runner, tmp_path: Path, cached: _Cache) -> None:
    archive, seen = cached.archive, cached.downloads()
    module = archive / "demo" / "__init__.py"
    if damage == "truncated index":
        _truncate(archive / ".warmbuild-files.json")
    elif damage == "deleted file":
        module.unlink()
    elif damage == "zeroed file":
        module.write_bytes(b"")
    else:
        with module.open("a") as f:  # in place, as through a hard link in a venv
            f.write("# edited\n")
    venv = create_venv(tmp_path / "venv")
    stderr = _install(wb, cached, venv, "--offline")
    assert f"the unpacked copy of {_WHEEL} in the cache was damaged ({archive}" in stderr
    assert _demo(venv) == "1.0"
    assert (site_packages(venv) / "demo" / "__init__.py").read_text() == \
        '__version__ = "1.0"\n'
    assert cached.downloads() == seen, "unpacked again from the cached wheel"
    again = create_venv(tmp_path / "again")
    assert "damaged" not in _install(wb, cached, again, "--offline"), "healed for good"


def test_a_truncated_index_page_is_fetched_again(wb: Runner, tmp_path: Path,
                                                 cached: _Cache) -> None:
    page = cached.page()
    _truncate(page)
    offline = create_venv(tmp_path / "offline")
    error = _error(_install(wb, cached, offline, "--offline", expect=1))
    assert error[0] == f"error: the cached answer for {cached.server.url}/demo/ is " \
        "damaged, and --offline forbids fetching it again"
    assert str(page) in error[1] and "`warmbuild cache clean`" in error[-1]
    seen = list(cached.server.paths()).count("/simple/demo/")
    venv = create_venv(tmp_path / "venv")
    stderr = _install(wb, cached, venv)
    assert "the cached answer for" in stderr and _demo(venv) == "1.0"
    assert list(cached.server.paths()).count("/simple/demo/") == seen + 1, \
        "fetched again although the entry was still fresh"


def test_a_zeroed_cache_heals_online_and_is_named_offline(wb: Runner, tmp_path: Path,
                                                          cached: _Cache) -> None:
    zeroed = [p for p in cached.root.rglob("*") if p.is_file() and not p.name.endswith(
        ".lock")]
    for path in zeroed:
        path.write_bytes(b"\0" * path.stat().st_size)
    offline = create_venv(tmp_path / "offline")
    error = _error(_install(wb, cached, offline, "--offline", expect=1))
    assert "is damaged, and --offline forbids" in error[0]
    assert str(cached.root) in error[1] and "`warmbuild cache clean`" in error[-1]
    venv = create_venv(tmp_path / "venv")
    _install(wb, cached, venv)
    assert _demo(venv) == "1.0"
    offline_again = create_venv(tmp_path / "offline-again")
    _install(wb, cached, offline_again, "--offline")
    assert _demo(offline_again) == "1.0", "the healed cache serves an offline install"


# --------------------------------------------------------------------------- the right place

Mount = Callable[..., None]


@pytest.fixture
def mount(tmp_path: Path) -> Iterator[Mount]:
    """``mount(path, "ro")``: bind ``path`` read-only; ``mount(path, "tmpfs", size)``: a small
    file system there. Root only (root ignores permission bits), else the test is skipped."""
    mounted: list[Path] = []

    def make(path: Path, kind: str, size: str = "") -> None:
        path.mkdir(parents=True, exist_ok=True)
        steps = ([["mount", "--bind", str(path), str(path)],
                  ["mount", "-o", "remount,ro,bind", str(path)]] if kind == "ro"
                 else [["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)]])
        for step in steps:
            if os.geteuid() != 0 or subprocess.run(step, capture_output=True).returncode:
                pytest.skip("needs root and mounts")
            if step is steps[0]:
                mounted.append(path)

    yield make
    for path in reversed(mounted):
        subprocess.run(["umount", str(path)], check=False)


def test_a_read_only_environment_is_named_without_a_cache_hint(
        wb: Runner, tmp_path: Path, cached: _Cache, mount: Mount) -> None:
    venv = create_venv(tmp_path / "ro-venv")
    mount(venv, "ro")
    error = _error(_install(wb, cached, venv, expect=1))
    assert error[0] == f"error: cannot write to the environment at {venv}: Read-only file " \
        "system"
    assert "--python" in error[-1]
    assert "--cache-dir" not in "\n".join(error) and str(cached.root) not in "\n".join(error)


def test_a_full_disk_in_the_environment_names_the_environment_not_the_cache(
        wb: Runner, tmp_path: Path, custom_index: IndexFactory, mount: Mount) -> None:
    server = custom_index([("big", "1.0", {"files": {"big/blob.bin": os.urandom(600_000)}})])
    cache = Path(wb.env["WARMBUILD_CACHE_DIR"])
    disk = tmp_path / "disk"
    mount(disk, "tmpfs", "1m")
    venv = create_venv(disk / "venv")
    (disk / "filler").write_bytes(os.urandom(600_000))
    result = wb("install", "--python", venv, "-i", server.url, "big", expect=1)
    error = _error(result.stderr)
    assert error[0] == f"error: installing into {venv} failed at big 1.0; the environment " \
        "was left as it was"
    assert "No space left on device" in error[1] and str(venv) in error[1]
    assert "free space on the device that holds the environment" in error[-1]
    assert str(cache) not in result.stderr and "--cache-dir" not in result.stderr
    assert installed(venv) == {}


def test_a_full_disk_under_the_cache_names_the_cache(
        wb: Runner, venv: Path, tmp_path: Path, custom_index: IndexFactory,
        mount: Mount) -> None:
    server = custom_index([("big", "1.0", {"files": {"big/blob.bin": os.urandom(600_000)}})])
    cache = tmp_path / "small-cache"
    mount(cache, "tmpfs", "256k")
    result = wb("install", "--python", venv, "-i", server.url, "big", "--cache-dir", cache,
                expect=1)
    error = _error(result.stderr)
    assert error[0] == f"error: cannot store big-1.0-py3-none-any.whl in the cache at " \
        f"{cache}: No space left on device"
    assert "--cache-dir" in error[-1] and installed(venv) == {}
    assert not list(cache.rglob(".download-*"))
