"""A failed or interrupted install leaves the environment exactly as it was."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import (
    IndexFactory,
    Runner,
    create_venv,
    installed,
    run_python,
    site_packages,
    snapshot,
)
from support.indexserver import IndexServer

ROOT = Path(__file__).resolve().parent.parent


def test_failure_while_placing_files_rolls_back_the_upgrade(
        wb: Runner, venv: Path, custom_index: IndexFactory) -> None:
    server = custom_index([
        ("demo", "1.0", {"entry_points": {"console_scripts": {"demo": "demo:main"}}}),
        ("demo", "2.0", {"files": {"demo/__init__.py": "__version__ = '2.0'",
                                   "demo/sub/mod.py": "x = 1"}}),
        ("extra", "1.0"),
    ])
    wb("install", "--python", venv, "-i", server.url, "demo==1.0")
    # A stray file where version 2.0 needs a directory: moving 2.0 into place fails after
    # 1.0 was already moved aside, which is what a rollback must undo.
    (site_packages(venv) / "demo" / "sub").write_text("not a directory")
    before = snapshot(venv)
    result = wb("install", "--python", venv, "-i", server.url, "demo==2.0", "extra", expect=1)
    assert "error: installing into" in result.stderr
    assert "the environment was left as it was" in result.stderr
    assert "Traceback" not in result.output
    assert snapshot(venv) == before
    assert run_python(venv, "import demo; print(demo.__version__)") == "1.0"
    assert (venv / "bin" / "demo").exists()
    assert not list(venv.glob(".warmbuild-tx-*"))


def contents(venv: Path) -> dict[str, str]:
    """Every directory, symlink and file (by its bytes) of the venv: byte-identical or not."""
    result = {}
    for path in sorted(venv.rglob("*")):
        if "__pycache__" in path.parts:
            continue
        key = str(path.relative_to(venv))
        if path.is_symlink():
            result[key] = f"-> {os.readlink(path)}"
        elif path.is_dir():
            result[key] = "dir"
        else:
            result[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    return result


def journal_text(venv: Path) -> str:
    """The journal of the transaction in ``venv``, or "" when there is none (it may be
    removed between finding and reading it: the install committed meanwhile)."""
    for journal in venv.glob(".warmbuild-tx-*/journal"):
        try:
            return journal.read_text()
        except FileNotFoundError:
            continue
    return ""


def killed_while_placing(wb: Runner, venv: Path, python: Path, index: IndexServer,
                          reqs: Path) -> tuple[dict[str, tuple[int, int]], dict[str, str]]:
    """Kill an install through ``python`` once it moves files into ``venv``: the snapshot and
    contents of the venv before it. Moving files takes milliseconds, so an attempt that
    misses the window (the install committed first) starts again from a fresh venv."""
    for _attempt in range(8):
        shutil.rmtree(venv)
        create_venv(venv)
        wb("install", "--python", python, "-i", index.url, "six")
        before = snapshot(venv), contents(venv)
        proc = subprocess.Popen(
            [sys.executable, "-m", "warmbuild", "install", "--python", str(python), "-i",
             index.url, "-r", str(reqs)], env=wb.env, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        caught = False
        while proc.poll() is None:
            if '"placed"' in journal_text(venv):
                proc.send_signal(signal.SIGKILL)
                caught = True
                break
        proc.wait()
        left = journal_text(venv)
        if caught and left and '"commit"' not in left:
            return before
    pytest.fail("no attempt was killed while moving files")


def test_interrupted_install_leaves_env_unchanged(wb: Runner, venv: Path, index: IndexServer,
                                                  tmp_path: Path) -> None:
    reqs = ROOT / "benchmarks" / "requirements.txt"
    # Fill the cache first so the second run spends its time installing.
    warm = tmp_path / "warm"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(warm)], check=True)
    wb("install", "--python", warm, "-i", index.url, "-r", reqs)
    # SIGTERM once files are being moved into place: it is held until the moves are done,
    # then rolls all of them back. When an attempt misses that window (the install committed
    # first), start again from a fresh env, a few times at most.
    for _attempt in range(8):
        shutil.rmtree(venv)
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
        wb("install", "--python", venv, "-i", index.url, "six")
        before, before_bytes = snapshot(venv), contents(venv)
        proc = subprocess.Popen(
            [sys.executable, "-m", "warmbuild", "install", "--python", str(venv), "-i",
             index.url, "-r", str(reqs)], env=wb.env, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        while proc.poll() is None:
            if '"placed"' in journal_text(venv):
                proc.send_signal(signal.SIGTERM)
                break
        _, stderr = proc.communicate(timeout=60)
        # An attempt the signal reached after the commit says so; try again.
        if proc.returncode != 0 and "fully updated" not in stderr:
            break
    assert proc.returncode == 128 + signal.SIGTERM, \
        f"no attempt was interrupted while moving files\n{stderr}"
    assert "interrupted; the environment was left as it was" in stderr
    assert "Traceback" not in stderr
    assert snapshot(venv) == before
    assert contents(venv) == before_bytes
    assert installed(venv) == {"six": "1.17.0"}
    assert not list(venv.glob(".warmbuild-tx-*"))


def test_install_killed_outright_is_rolled_back_by_the_next_run(
        wb: Runner, venv: Path, index: IndexServer, tmp_path: Path) -> None:
    reqs = ROOT / "benchmarks" / "requirements.txt"
    warm = tmp_path / "warm"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(warm)], check=True)
    wb("install", "--python", warm, "-i", index.url, "-r", reqs)
    before, _ = killed_while_placing(wb, venv, venv, index, reqs)
    result = wb("install", "--python", venv, "-i", index.url, "six")
    assert "Rolled back an interrupted install" in result.stderr
    assert snapshot(venv) == before
    assert not list(venv.glob(".warmbuild-tx-*"))
    wb("install", "--python", venv, "-i", index.url, "-r", reqs)
    assert "rich" in installed(venv)


def test_two_installs_into_one_env_take_turns(wb: Runner, venv: Path, index: IndexServer,
                                              tmp_path: Path) -> None:
    src = tmp_path / "slow"
    (src / "slow_pkg").mkdir(parents=True)
    (src / "slow_pkg" / "__init__.py").write_text("")
    # A backend that takes a while, so the second install arrives while the first holds
    # the environment.
    (src / "pyproject.toml").write_text(
        '[build-system]\nrequires = []\nbuild-backend = "slow"\nbackend-path = ["."]\n')
    (src / "slow.py").write_text(
        "import time\nfrom pathlib import Path\n"
        "def build_wheel(out, config_settings=None, metadata_directory=None):\n"
        "    time.sleep(3)\n"
        "    raise SystemExit('not needed: the test only measures the waiting')\n")
    first = subprocess.Popen(
        [sys.executable, "-m", "warmbuild", "install", "--python", str(venv), "-i", index.url,
         "six", str(src)], env=wb.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    deadline = time.monotonic() + 60
    while not list((Path(wb.env["WARMBUILD_CACHE_DIR"]) / "envs-v1").glob("slow-*")):
        assert time.monotonic() < deadline and first.poll() is None
        time.sleep(0.01)
    second = wb("install", "--python", venv, "-i", index.url, "attrs")
    first.communicate(timeout=120)
    assert "Waiting for another warmbuild changing" in second.stderr
    assert "attrs" in installed(venv)
