"""Startup: `--version`, `--help` and the read-only commands import only what they use
(issue 13). Checked by module, not by time: tests never assert timings."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

#: What an install needs and a quick command must not pay for.
HEAVY = ("warmbuild.pipeline", "warmbuild.context", "warmbuild.build", "warmbuild.http",
         "warmbuild.resolve", "warmbuild.install", "resolvelib", "urllib3", "rich",
         "installer", "pyproject_hooks", "truststore")

# main, not the console script's run(), which ends the process without returning.
_PROBE = """
import json, sys
sys.argv = ["warmbuild", *json.loads(sys.argv[1])]
from warmbuild.cli import main
try:
    main()
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def heavy_in(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


def loaded(*args: str) -> set[str]:
    proc = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(args)],
                          capture_output=True, text=True, check=False,
                          env={"PATH": "/usr/bin:/bin", "PIP_CONFIG_FILE": "/dev/null"})
    return set(json.loads(proc.stderr.strip().splitlines()[-1]))


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["install", "--help"]])
def test_version_and_help_import_no_stage(args: list[str]) -> None:
    heavy = heavy_in(loaded(*args))
    assert not heavy, f"warmbuild {' '.join(args)} imported {heavy}"


def test_help_builds_no_command_parser() -> None:
    """Each command's options are added when that command is parsed: the top-level help
    needs only the command names, none of the modules behind them."""
    modules = loaded("--help")
    assert "warmbuild.cli._main" in modules, "the parser was built"
    assert not {m for m in modules if m.split(".")[0] == "packaging"}, sorted(modules)
    # Nor the output machinery, which only a command that runs needs.
    assert not {"logging", "dataclasses", "warmbuild._log"} & modules, sorted(modules)


def test_version_imports_next_to_nothing() -> None:
    ours = {m for m in loaded("--version") if m.startswith("warmbuild")}
    assert ours <= {"warmbuild", "warmbuild.__main__", "warmbuild.cli"}, sorted(ours)


@pytest.mark.parametrize("command", ["list", "freeze"])
def test_read_only_commands_import_no_installer(command: str, tmp_path: object) -> None:
    modules = loaded(command, "--python", sys.executable, "--cache-dir", str(tmp_path))
    assert "warmbuild.installed" in modules, "the command ran"
    heavy = heavy_in(modules)
    assert not heavy, f"warmbuild {command} imported {heavy}"


def test_a_reader_that_goes_away_is_no_error(tmp_path: object) -> None:
    """`warmbuild list | head -1`: the pipe closes before warmbuild writes."""
    proc = subprocess.Popen([sys.executable, "-m", "warmbuild", "list", "--python",
                             sys.executable, "--cache-dir", str(tmp_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={"PATH": "/usr/bin:/bin", "PIP_CONFIG_FILE": "/dev/null"})
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == 141, err
    assert err == "", err
