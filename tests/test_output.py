"""Output you can follow: a long build in a pipe vs on a terminal, its log, and colours.

The slow-build project's backend sleeps in build_wheel (SLOW_BUILD_SECONDS) and needs
nothing from an index; WARMBUILD_HEARTBEAT_SECONDS=1 makes the heartbeat of a build in a
pipe come every second instead of every 30.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

from conftest import IndexFactory, Runner, after_env_line
from support.terminal import run_in_terminal

PROJECTS = Path(__file__).resolve().parent / "projects"
ESC = "\x1b["
#: What the slow-build backend prints last when it fails (see its module).
ERROR_LINES = ["src/module.c: In function 'value':",
               "src/module.c:3:12: error: 'x' undeclared (first use in this function)",
               "    3 |     return x;",
               "      |            ^"]


def slow_build(tmp_path: Path) -> Path:
    dest = tmp_path / "src" / "slow-build"
    shutil.copytree(PROJECTS / "slow-build", dest)
    return dest


def in_terminal(wb: Runner, *args: str | Path, env: dict[str, str] | None = None
                ) -> tuple[int, str]:
    return run_in_terminal([sys.executable, "-m", "warmbuild", *map(str, args)],
                           env={**wb.env, **(env or {})}, cwd=wb.cwd)


def test_a_build_in_a_pipe_says_when_it_starts_and_that_it_goes_on(
        wb: Runner, venv: Path, tmp_path: Path) -> None:
    tree = slow_build(tmp_path)
    result = wb("install", "--python", venv, "--no-index", tree,
                env={"WARMBUILD_HEARTBEAT_SECONDS": "1", "SLOW_BUILD_SECONDS": "3.5"})
    lines = result.stderr.splitlines()
    start = lines.index("Building slow-build")
    beats = [int(m.group(1)) for line in lines
             if (m := re.fullmatch(r"still building slow-build, (\d+) s", line))]
    assert len(beats) >= 2 and beats == sorted(beats) and beats[0] >= 1, lines
    assert lines.index(f"still building slow-build, {beats[0]} s") > start
    assert any(line.startswith("Built slow_build-0.1.0") for line in lines)
    assert ESC not in result.stderr, "nothing but plain lines in a pipe"
    assert "slow-build: starting" not in result.stderr, "the backend's output only with -v"


def test_a_build_on_a_terminal_shows_its_elapsed_time(
        wb: Runner, venv: Path, tmp_path: Path) -> None:
    tree = slow_build(tmp_path)
    env = {"WARMBUILD_HEARTBEAT_SECONDS": "1", "SLOW_BUILD_SECONDS": "2.5"}
    code, out = in_terminal(wb, "install", "--python", venv, "--no-index", tree, env=env)
    assert code == 0, out
    shown = set(re.findall(r"Building slow-build \((\d+\.\d) s\)", out))
    assert len(shown) >= 3, out[-2000:]
    assert "still building" not in out, "the live line replaces the heartbeat"
    assert "Installed 1 package" in out and "slow-build: starting" not in out
    # -v: the backend's output as it comes, and the plain lines (a live display would be
    # torn by it).
    code, out = in_terminal(wb, "install", "--python", venv, "--no-index", tree,
                            "--reinstall", "-v", env=env)
    assert code == 0, out
    assert "slow-build: starting" in out and "still building slow-build, 1 s" in out
    # --no-progress: a terminal gets the lines a pipe gets.
    code, out = in_terminal(wb, "install", "--python", venv, "--no-index", tree,
                            "--reinstall", "--no-progress", env=env)
    assert code == 0, out
    assert "Building slow-build\r\n" in out and "still building slow-build, 1 s" in out
    assert not re.search(r"Building slow-build \(", out)


def test_downloads_on_a_terminal_show_counts_and_bytes(
        wb: Runner, venv: Path, custom_index: IndexFactory) -> None:
    # Slow answers keep the rows on screen long enough to be drawn.
    server = custom_index([("tool", "1.0", {"files": {"tool.py": "x = 1\n" * 3000}})],
                          latency=0.6)
    code, out = in_terminal(wb, "install", "--python", venv, "-i", server.url, "tool")
    assert code == 0, out
    assert re.search(r"Prepared .*0/1", out), out[-2000:]
    assert re.search(r"tool-1\.0-py3-none-any\.whl .*(bytes|kB)", out), out[-2000:]
    code, out = in_terminal(wb, "install", "--python", venv, "-i", server.url, "tool",
                            "--reinstall", "--no-cache", "--no-progress")
    assert code == 0 and "0/1" not in out and "Installed 1 package" in out


def test_a_failed_build_shows_its_last_lines_as_written_and_keeps_its_log(
        wb: Runner, venv: Path, tmp_path: Path) -> None:
    tree = slow_build(tmp_path)
    result = wb("install", "--python", venv, "--no-index", tree,
                env={"SLOW_BUILD_FAIL": "1"}, expect=1)
    lines = result.stderr.splitlines()
    error = lines.index("error: failed to build `slow-build @ "
                        f"{tree}`: the `build_wheel` hook failed")
    tail = lines[error + 2:error + 22]
    # Indented by the error's 5 columns, otherwise unchanged: the caret stays under `x`.
    assert [line[5:] for line in tail[-4:]] == ERROR_LINES
    assert tail[0] == "     [11/30] compiling unit10.c"
    assert "slow-build: starting" not in result.stderr, "only the last 20 lines"
    log = Path(lines[error + 22].removeprefix("  full log: "))
    assert lines[error + 22].startswith("  full log: ") and log.is_file()
    text = log.read_text()
    assert "slow-build: starting\n[1/30] compiling unit00.c\n" in text
    assert text.endswith("\n".join(ERROR_LINES) + "\n")
    assert lines[-1].startswith("hint: the build env is at ")


def test_the_last_builds_logs_are_kept_and_listed(wb: Runner, venv: Path,
                                                  tmp_path: Path) -> None:
    tree = slow_build(tmp_path)
    env = {"SLOW_BUILD_SECONDS": "0"}
    for _ in range(6):
        wb("install", "--python", venv, "--no-index", tree, "--reinstall", env=env)
    (shown,) = json.loads(wb("env", "show", tree, "--format", "json").stdout)
    logs = [Path(p) for p in shown["logs"]]
    assert len(logs) == 5 and all(p.parent == Path(shown["path"]) / "logs" for p in logs)
    assert sorted(p.name for p in logs[0].parent.iterdir()) == sorted(p.name for p in logs)
    assert all("slow-build: done" in p.read_text() for p in logs)
    text = wb("env", "show", tree).stdout
    assert "  build logs (newest last):" in text
    assert [line.split()[-3] for line in text.splitlines() if line.endswith("kB)")] == \
        [str(p) for p in logs]


def test_build_logs_outlive_a_recreated_env(wb: Runner, venv: Path, tmp_path: Path) -> None:
    tree = slow_build(tmp_path)
    env = {"SLOW_BUILD_SECONDS": "0"}
    wb("install", "--python", venv, "--no-index", tree, env=env)
    (first,) = json.loads(wb("env", "show", tree, "--format", "json").stdout)[0]["logs"]
    again = wb("install", "--python", venv, "--no-index", tree, "--reinstall",
               "--refresh-build-env", env=env)
    assert "recreated" in again.stderr
    (shown,) = json.loads(wb("env", "show", tree, "--format", "json").stdout)
    assert shown["logs"][0] == first and len(shown["logs"]) == 2
    assert "slow-build: done" in Path(first).read_text()
    assert not list(Path(shown["path"]).parent.glob(".*.logs"))


def test_colour_follows_the_flag_then_no_color_then_force_color(
        wb: Runner, venv: Path) -> None:
    # Nothing installed: a warning (exit 0); no name at all: an error and a hint (exit 2).
    plain = wb("uninstall", "--python", venv, "six")
    assert after_env_line(plain.stderr) == "warning: Skipping six as it is not installed.\n"
    forced = wb("uninstall", "--python", venv, "six", env={"FORCE_COLOR": "1"})
    assert after_env_line(forced.stderr) == (
        f"{ESC}1;33mwarning:{ESC}0m Skipping six as it is not installed.\n")
    assert wb("uninstall", "--python", venv, "six", "--color", "always").stderr == forced.stderr
    error = wb("--color", "always", "uninstall", "--python", venv, expect=2).stderr
    assert error.startswith(f"{ESC}1;31merror:{ESC}0m nothing to uninstall\n{ESC}1;36mhint:")
    off = wb("uninstall", "--python", venv, "six",
             env={"NO_COLOR": "1", "FORCE_COLOR": "1"})
    assert off.stderr == plain.stderr
    code, out = in_terminal(wb, "uninstall", "--python", venv, "six")
    assert code == 0 and f"{ESC}1;33mwarning:" in out
    code, out = in_terminal(wb, "uninstall", "--python", venv, "six",
                            env={"NO_COLOR": "1"})
    assert code == 0 and ESC not in out and "warning: Skipping six" in out
    code, out = in_terminal(wb, "uninstall", "--python", venv, "six", "--color", "never",
                            env={"FORCE_COLOR": "1"})
    assert code == 0 and ESC not in out
