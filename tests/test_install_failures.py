"""A failed install names the distribution whose files could not be staged or placed."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import IndexFactory, Runner, site_packages, snapshot


def _error_line(stderr: str) -> str:
    return next(line for line in stderr.splitlines() if line.startswith("error: "))


def test_a_wheel_that_cannot_be_staged_is_named(wb: Runner, venv: Path,
                                                custom_index: IndexFactory) -> None:
    # ``bad/x`` is a file, and the wheel's .data puts a directory at the same path: the
    # wheel unpacks (the two are apart in the archive) but cannot be staged.
    server = custom_index([
        ("good", "1.0"),
        ("bad", "1.0", {"files": {"bad/__init__.py": "", "bad/x": "a file"},
                        "data_files": {"purelib/bad/x/y.py": "y = 1"}}),
        ("later", "1.0"),
    ])
    before = snapshot(venv)
    result = wb("install", "--python", venv, "-i", server.url, "good", "bad", "later",
                expect=1)
    line = _error_line(result.stderr)
    assert re.fullmatch(r"error: installing into \S+ failed at bad 1\.0; the environment "
                        r"was left as it was", line), line
    # The cause is the real one from below, not a wrapper.
    assert re.search(r"╰─ (FileExistsError|NotADirectoryError|IsADirectoryError): .*/bad/x",
                     result.stderr), result.stderr
    assert "Traceback" not in result.output
    assert snapshot(venv) == before
    assert not list(venv.glob(".warmbuild-tx-*"))


def test_a_file_that_cannot_be_placed_names_its_dist(wb: Runner, venv: Path,
                                                     custom_index: IndexFactory) -> None:
    server = custom_index([
        ("demo", "1.0"),
        ("demo", "2.0", {"files": {"demo/__init__.py": "", "demo/sub/mod.py": "x = 1"}}),
        ("extra", "1.0"),
    ])
    wb("install", "--python", venv, "-i", server.url, "demo==1.0")
    # A stray file where demo 2.0 needs a directory; extra's files place fine.
    (site_packages(venv) / "demo" / "sub").write_text("not a directory")
    before = snapshot(venv)
    result = wb("install", "--python", venv, "-i", server.url, "demo==2.0", "extra",
                expect=1)
    line = _error_line(result.stderr)
    assert re.fullmatch(r"error: installing into \S+ failed at demo 2\.0; the environment "
                        r"was left as it was", line), line
    assert "╰─ NotADirectoryError: " in result.stderr
    assert snapshot(venv) == before
