"""The cache as a user sees it: where it is, cleaning and pruning it, running without one,
two installs sharing one cache at the same time, and cleaning while an install runs."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import time
from pathlib import Path

from conftest import IndexFactory, Runner, create_venv, run_python
from warmbuild.cache import ROOT_LOCK


def _version(venv: Path, module: str = "demo") -> str:
    return run_python(venv, f"import {module}; print({module}.__version__)")


def _files(root: Path) -> list[Path]:
    """The cache's files, but for the root's lock (which cleaning holds, and keeps)."""
    return [p for p in root.rglob("*") if p.is_file() and p.name != ROOT_LOCK] \
        if root.exists() else []


def test_cache_dir_honours_flag_env_and_xdg(wb: Runner, tmp_path: Path) -> None:
    assert wb("cache", "dir").stdout.strip() == wb.env["WARMBUILD_CACHE_DIR"]
    flag = tmp_path / "flag-cache"
    assert wb("cache", "dir", "--cache-dir", flag).stdout.strip() == str(flag)
    other = tmp_path / "env-cache"
    assert wb("cache", "dir", env={"WARMBUILD_CACHE_DIR": str(other)}).stdout.strip() == \
        str(other)
    # Without either, the platform's user cache dir (XDG on Linux).
    env = {k: v for k, v in wb.env.items() if k != "WARMBUILD_CACHE_DIR"}
    env["XDG_CACHE_HOME"] = str(tmp_path / "xdg")
    proc = subprocess.run([sys.executable, "-m", "warmbuild", "cache", "dir"], env=env,
                          capture_output=True, text=True, check=True)
    if sys.platform.startswith("linux"):
        assert proc.stdout.strip() == str(tmp_path / "xdg" / "warmbuild")
    # Asking where the cache is creates nothing.
    assert not flag.exists() and not other.exists()


def test_install_fills_the_cache_dir_given_on_the_command_line(
        wb: Runner, tmp_path: Path, custom_index: IndexFactory) -> None:
    server = custom_index([("demo", "1.0")])
    flag = tmp_path / "flag-cache"
    wb("install", "--python", create_venv(tmp_path / "venv"), "-i", server.url,
       "--cache-dir", flag, "demo")
    assert list(flag.glob("wheels-v1/*/*/demo-1.0-py3-none-any.whl"))
    assert not Path(wb.env["WARMBUILD_CACHE_DIR"]).exists()


def test_cache_clean_empties_it_and_install_still_works(
        wb: Runner, tmp_path: Path, custom_index: IndexFactory) -> None:
    server = custom_index([("demo", "1.0")])
    cache = Path(wb.env["WARMBUILD_CACHE_DIR"])
    wb("install", "--python", create_venv(tmp_path / "a"), "-i", server.url, "demo")
    assert list(cache.glob("wheels-v1/*/*/demo-1.0-py3-none-any.whl"))
    result = wb("cache", "clean")
    assert "Removed" in result.stderr and str(cache) in result.stderr
    assert _files(cache) == []
    seen = len(server.requests)
    fresh = create_venv(tmp_path / "b")
    wb("install", "--python", fresh, "-i", server.url, "demo")
    assert _version(fresh) == "1.0"
    assert "/files/demo-1.0-py3-none-any.whl" in list(server.paths())[seen:], \
        "the wheel had to be downloaded again"
    # Cleaning a cache that is not there is not an error.
    wb("cache", "clean", "--cache-dir", tmp_path / "nowhere")


def test_cache_prune_removes_temp_files_but_keeps_offline_installs_working(
        wb: Runner, tmp_path: Path, custom_index: IndexFactory) -> None:
    server = custom_index([("app", "1.0", {"requires": ["lib"]}), ("lib", "1.0")])
    cache = Path(wb.env["WARMBUILD_CACHE_DIR"])
    wb("install", "--python", create_venv(tmp_path / "a"), "-i", server.url, "app")
    wheels = sorted(cache.glob("wheels-v1/*/*/*.whl"))
    assert len(wheels) == 2
    # What interrupted runs leave behind.
    stale = [cache / "wheels-v1" / ".download-abc123", cache / "http-v1" / "ab" / ".x.json.tmp"]
    for path in stale:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"partial")
    result = wb("cache", "prune")
    assert "Pruned" in result.stderr
    assert not any(p.exists() for p in stale)
    assert sorted(cache.glob("wheels-v1/*/*/*.whl")) == wheels
    server.close()
    offline = create_venv(tmp_path / "offline")
    wb("install", "--python", offline, "-i", server.url, "--offline", "app")
    assert _version(offline, "app") == "1.0"


def test_wheels_kept_by_prune_are_not_downloaded_again(wb: Runner, tmp_path: Path,
                                                      custom_index: IndexFactory) -> None:
    server = custom_index([("demo", "1.0")])
    cache = Path(wb.env["WARMBUILD_CACHE_DIR"])
    wb("install", "--python", create_venv(tmp_path / "a"), "-i", server.url, "demo")
    wheels = sorted(cache.glob("wheels-v1/*/*/*.whl"))
    stale = cache / "wheels-v1" / ".download-xyz"
    stale.write_bytes(b"partial")
    wb("cache", "prune")
    assert not stale.exists()
    assert sorted(cache.glob("wheels-v1/*/*/*.whl")) == wheels
    seen = len(server.requests)
    wb("install", "--python", create_venv(tmp_path / "b"), "-i", server.url, "demo")
    assert not any(p.endswith(".whl") for p in list(server.paths())[seen:]), \
        "the kept wheel is used, not downloaded again"


def test_no_cache_leaves_no_cache_dir_behind(wb: Runner, tmp_path: Path,
                                             custom_index: IndexFactory) -> None:
    server = custom_index([("demo", "1.0")])
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    venv = create_venv(tmp_path / "venv")
    wb("install", "--python", venv, "-i", server.url, "--no-cache", "demo",
       env={"TMPDIR": str(tmp)})
    assert _version(venv) == "1.0"
    assert not Path(wb.env["WARMBUILD_CACHE_DIR"]).exists()
    assert list(tmp.iterdir()) == [], "the throw-away cache is removed at exit"
    # A failing run cleans up too.
    wb("install", "--python", venv, "-i", server.url, "--no-cache", "nonexistent",
       env={"TMPDIR": str(tmp)}, expect=1)
    assert list(tmp.iterdir()) == []


def test_two_processes_share_one_cache_at_the_same_time(
        wb: Runner, tmp_path: Path, custom_index: IndexFactory) -> None:
    server = custom_index([("app", "1.0", {"requires": ["lib", "util"]}), ("lib", "1.0"),
                           ("util", "2.0")])
    venvs = [create_venv(tmp_path / f"venv{i}") for i in range(2)]
    procs = [subprocess.Popen(
        [sys.executable, "-m", "warmbuild", "install", "--python", str(v), "-i", server.url,
         "app"], env=wb.env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True) for v in venvs]
    outputs = [p.communicate(timeout=120) for p in procs]
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, f"{out}\n{err}"
        assert "Traceback" not in err
    for venv in venvs:
        assert run_python(venv, "import app, lib, util; print(util.__version__)") == "2.0"
    cache = Path(wb.env["WARMBUILD_CACHE_DIR"])
    assert len(list(cache.glob("wheels-v1/*/*/*.whl"))) == 3
    assert not list(cache.rglob(".download-*")) and not list(cache.rglob("*.tmp"))


def _start(wb: Runner, *args: str | Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "warmbuild", *map(str, args)], env=wb.env,
                            cwd=wb.cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def test_cache_clean_waits_for_a_running_install(wb: Runner, tmp_path: Path,
                                                 custom_index: IndexFactory) -> None:
    # A slow index keeps the install mid-flight (resolving, downloading) while clean runs.
    server = custom_index([("app", "1.0", {"requires": ["lib"]}), ("lib", "1.0")],
                          latency=0.4)
    cache = Path(wb.env["WARMBUILD_CACHE_DIR"])
    venv = create_venv(tmp_path / "venv")
    install = _start(wb, "install", "--python", venv, "-i", server.url, "app")
    deadline = time.monotonic() + 60
    while not server.requests:
        assert time.monotonic() < deadline and install.poll() is None, install.communicate()
        time.sleep(0.01)
    clean = wb("cache", "clean")
    _out, err = install.communicate(timeout=120)
    assert install.returncode == 0, err
    assert "in use; waiting for the other warmbuild processes" in clean.stderr
    for output in (err, clean.stderr):
        assert "internal error" not in output and "Traceback" not in output
    assert run_python(venv, "import app, lib; print(lib.__version__)") == "1.0"
    assert _files(cache) == [], "clean ran after the install, and removed what it cached"


def test_install_waits_for_a_running_cache_clean(wb: Runner, tmp_path: Path,
                                                 custom_index: IndexFactory) -> None:
    server = custom_index([("demo", "1.0")])
    cache = Path(wb.env["WARMBUILD_CACHE_DIR"])
    cache.mkdir()
    # Held the way `cache clean` holds it while it removes.
    fd = os.open(cache / ROOT_LOCK, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        install = _start(wb, "install", "--python", create_venv(tmp_path / "venv"), "-i",
                         server.url, "demo")
        time.sleep(2)
        assert install.poll() is None and not server.requests, "the install waits"
    finally:
        os.close(fd)
    _out, err = install.communicate(timeout=120)
    assert install.returncode == 0, err
    assert f"Waiting for `warmbuild cache clean` (or `prune`) to finish with the cache at " \
        f"{cache}" in err
