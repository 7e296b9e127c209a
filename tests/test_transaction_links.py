"""An install killed outright through a symlinked venv path is rolled back by the next run,
whichever spelling of the venv that run is given (issue 10, item 1)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import Runner, create_venv, installed, snapshot
from support.indexserver import IndexServer
from test_transaction import contents, killed_while_placing

ROOT = Path(__file__).resolve().parent.parent


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
    before, before_bytes = killed_while_placing(wb, venv, link / "bin" / "python", index,
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
