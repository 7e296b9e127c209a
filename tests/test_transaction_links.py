"""An install killed outright through a symlinked venv path is rolled back by the next run,
whichever spelling of the venv that run is given (issue 10, item 1)."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import Runner, create_venv, installed, snapshot
from support.indexserver import IndexServer
from test_transaction import contents, journal_text

ROOT = Path(__file__).resolve().parent.parent


def _killed_while_placing(wb: Runner, venv: Path, python: Path, index: IndexServer,
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


@pytest.mark.parametrize("next_run", ["link", "real path"])
def test_a_kill_through_a_symlinked_venv_is_rolled_back(
        wb: Runner, tmp_path: Path, index: IndexServer, next_run: str) -> None:
    reqs = ROOT / "benchmarks" / "requirements.txt"
    # Fill the cache first so that the killed run spends its time installing.
    wb("install", "--python", create_venv(tmp_path / "warm"), "-i", index.url, "-r", reqs)
    venv = tmp_path / "venv"
    venv.mkdir()
    link = tmp_path / "link"
    link.symlink_to(venv)
    before, before_bytes = _killed_while_placing(wb, venv, link / "bin" / "python", index,
                                                 reqs)
    (journal,) = venv.glob(".warmbuild-tx-*/journal")
    assert f'"{venv}/' in journal.read_text() and f'"{link}/' not in journal.read_text()
    spelled = link if next_run == "link" else venv
    result = wb("install", "--python", spelled / "bin" / "python", "-i", index.url, "six")
    assert "Rolled back an interrupted install" in result.stderr
    assert "cannot trust" not in result.stderr
    assert snapshot(venv) == before and contents(venv) == before_bytes
    assert not list(venv.glob(".warmbuild-*"))
    wb("install", "--python", spelled, "-i", index.url, "-r", reqs)
    assert "rich" in installed(venv)
