"""Every signal path ends with the environment as before or fully updated, and says which;
a warmbuild killed outright takes its backend and the backend's children with it (issue 10)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import Runner, create_venv, installed, run_python
from support.indexserver import IndexServer
from test_build import _alive, slow_tree


def test_a_signal_after_the_commit_says_the_environment_was_updated(
        wb: Runner, tmp_path: Path, index: IndexServer) -> None:
    # Bytecode is compiled after the commit, over the whole site dir: a wide window.
    for attempt in range(6):
        venv = create_venv(tmp_path / f"venv{attempt}")
        (site,) = venv.glob("lib/python3*/site-packages")
        proc = subprocess.Popen(
            [sys.executable, "-m", "warmbuild", "install", "--python", str(venv), "-i",
             index.url, "--compile-bytecode", "pygments", "rich"],
            env=wb.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 120
        while not list(site.glob("rich-*.dist-info/RECORD")):
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.01)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 128 + signal.SIGTERM, err
        if "left as it was" in err:  # landed before the commit: rolled back
            assert installed(venv) == {}
            continue
        assert f"interrupted after the environment at {venv}" in err, err
        assert "fully updated" in err
        assert run_python(venv, "import rich, pygments; print('ok')") == "ok"
        return
    raise AssertionError("the signal never landed after the commit")


def test_sigkill_takes_the_backend_and_its_compilers_along(
        wb: Runner, venv: Path, tmp_path: Path, index: IndexServer) -> None:
    tree = slow_tree(tmp_path)
    proc = subprocess.Popen([sys.executable, "-m", "warmbuild", "install", "--python",
                             str(venv), "-i", index.url, str(tree)], env=wb.env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pid_file = tree / "child.pid"
    deadline = time.monotonic() + 120
    while not (pid_file.is_file() and pid_file.read_text()):
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    child = int(pid_file.read_text())
    deadline = time.monotonic() + 30
    while _alive(child):
        assert time.monotonic() < deadline, "the backend's child outlived a killed warmbuild"
        time.sleep(0.05)
