"""Argument handling of ``warmbuild.cli.main(argv)``, in-process with capsys.

Only commands that fail or finish before touching an interpreter are run here; what they
do to real environments is the end-to-end tests' business.
"""

from __future__ import annotations

import json
import logging
import re
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

import warmbuild
from warmbuild._log import logger, progress
from warmbuild.cli import main

COMMANDS = ("install", "build", "download", "wheel", "uninstall", "list", "freeze", "show",
            "check", "tree", "cache", "env", "doctor", "config", "hash")


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """main() sets a SIGTERM handler and configures the warmbuild loggers: undo both."""
    for name in ("VIRTUAL_ENV", "WARMBUILD_CACHE_DIR", "WARMBUILD_BUILD_ENV_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("WARMBUILD_CONFIG_FILE", str(tmp_path / "no-config.toml"))
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.chdir(tmp_path)
    saved = {lg: (lg.handlers[:], lg.propagate, lg.level) for lg in (logger, progress)}
    signals_before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    yield
    for signum, handler in signals_before.items():
        signal.signal(signum, handler)
    for lg, (handlers, propagate, level) in saved.items():
        lg.handlers[:] = handlers
        lg.propagate = propagate
        lg.setLevel(level)


def exits(argv: list[str]) -> int:
    """The exit status of an argv that argparse itself ends (help, version, bad usage)."""
    with pytest.raises(SystemExit) as caught:
        main(argv)
    code = caught.value.code
    assert isinstance(code, int)
    return code


def one_paragraph(stderr: str) -> list[str]:
    """The lines of an error that is one paragraph: no blank line, no traceback."""
    assert stderr.endswith("\n") and "\n\n" not in stderr.strip("\n"), stderr
    assert "Traceback" not in stderr
    return stderr.rstrip("\n").splitlines()


def test_help_lists_every_command_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert exits(["--help"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("usage: warmbuild ") and err == ""
    assert "A Python package installer and PEP 517 build frontend." in out
    for command in COMMANDS:
        assert f"\n    {command} " in out or f"\n    {command}\n" in out, command


def test_command_help_shows_its_own_and_the_global_options(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert exits(["install", "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: warmbuild install ")
    for option in ("--upgrade-package NAME", "--only-binary NAMES", "--no-build-isolation",
                   "--index-url INDEX_URL", "--python PATH|3.X|NAME", "--cache-dir CACHE_DIR"):
        assert option in out, option


def undocumented(help_text: str) -> list[str]:
    """The options and arguments in a command's --help that have no description."""
    entries: list[list[str]] = []
    sections = False
    for line in help_text.splitlines():
        if line.endswith(":") and not line.startswith(" "):
            sections = True  # "positional arguments:", "options:"
        elif sections and re.match(r"  \S", line):
            invocation, _, description = line.strip().partition("  ")
            entries.append([invocation, description.strip()])
        elif sections and entries and line.startswith("    "):
            entries[-1][1] += line.strip()
    return [invocation for invocation, description in entries if not description]


def test_install_help_documents_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    assert exits(["install", "--help"]) == 0
    out = capsys.readouterr().out
    assert undocumented(out) == []
    for option in ("-r FILE, --requirement FILE", "-c FILE, --constraint FILE",
                   "-P NAME, --upgrade-package NAME", "--require-hashes", "--format {text,json}",
                   "--color {auto,always,never}", "--no-progress"):
        assert f"  {option}  " in out or f"  {option}\n" in out, option


@pytest.mark.parametrize("command", [*COMMANDS, "env list", "env show", "env remove",
                                     "env prune"])
def test_every_command_documents_every_option(capsys: pytest.CaptureFixture[str],
                                              command: str) -> None:
    assert exits([*command.split(), "--help"]) == 0
    assert undocumented(capsys.readouterr().out) == [], command


def test_long_options_are_never_abbreviated(capsys: pytest.CaptureFixture[str]) -> None:
    # `--extra-index URL` must not become `--extra-index-url URL` (nor `--all-extra`,
    # `--all-extras`): `--extra NAME` is the extras flag, as in uv.
    assert exits(["install", "--extra-index", "https://x.example/simple", "six"]) == 2
    assert capsys.readouterr().err.endswith("unrecognized arguments: --extra-index\n")
    assert exits(["install", "--all-extra", "six"]) == 2
    assert exits(["list", "--out"]) == 2
    assert exits(["tree", "--rev"]) == 2
    assert exits(["env", "prune", "--older", "1d"]) == 2


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert exits(["--version"]) == 0
    assert capsys.readouterr().out == f"warmbuild {warmbuild.__version__}\n"


@pytest.mark.parametrize(("argv", "usage", "message"), [
    (["install", "--bogus"], "warmbuild", "warmbuild: error: unrecognized arguments: --bogus"),
    (["--bogus", "list"], "warmbuild", "warmbuild: error: unrecognized arguments: --bogus"),
    ([], "warmbuild", "warmbuild: error: the following arguments are required: COMMAND"),
    (["install", "-r", ""], "warmbuild install",
     "warmbuild install: error: argument -r/--requirement: an empty path"),
    (["install", "--all-extra", "six"], "warmbuild",
     "warmbuild: error: unrecognized arguments: --all-extra"),
    (["install", "--extra-index", "https://x.example/simple", "six"], "warmbuild",
     "warmbuild: error: unrecognized arguments: --extra-index"),
])
def test_bad_usage_exits_2_with_usage_and_one_error_line(
        capsys: pytest.CaptureFixture[str], argv: list[str], usage: str, message: str) -> None:
    assert exits(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    lines = one_paragraph(err)
    assert lines[0].startswith(f"usage: {usage} ")
    assert lines[-1] == message
    assert not any(line.startswith("error:") for line in lines)


@pytest.mark.parametrize(("argv", "message", "choices"), [
    (["frobnicate"], "warmbuild: error: argument COMMAND: invalid choice: 'frobnicate'",
     COMMANDS),
    (["install", "--format", "yaml"],
     "warmbuild install: error: argument --format: invalid choice: 'yaml'", ("text", "json")),
    (["cache", "empty"], "warmbuild cache: error: argument action: invalid choice: 'empty'",
     ("dir", "clean", "purge", "prune")),
])
def test_invalid_choice_names_the_choices(capsys: pytest.CaptureFixture[str], argv: list[str],
                                          message: str, choices: tuple[str, ...]) -> None:
    assert exits(argv) == 2
    *_, line = one_paragraph(capsys.readouterr().err)
    # How argparse quotes the choices differs between Python versions.
    assert line.startswith(f"{message} (choose from ")
    listed = line.split("(choose from ", 1)[1].rstrip(")").replace("'", "").split(", ")
    assert tuple(listed) == choices


def test_usage_error_from_a_command_is_one_paragraph_and_exit_2(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "--exclude-newer", "soon"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    (line, *_, hint) = one_paragraph(err)
    assert line == "error: exclude-newer 'soon' (from command line) is not a date"
    assert hint.startswith("hint: write a date (2024-01-31, that day included)")
    assert main(["env", "prune", "--older-than", "soon"]) == 2
    (line, *_) = one_paragraph(capsys.readouterr().err)
    assert line == "error: --older-than soon: expected a number and d, h or m (e.g. 30d)"


def test_global_options_go_before_or_after_the_command(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    assert main(["--cache-dir", str(first), "cache", "dir"]) == 0
    assert capsys.readouterr().out == f"{first}\n"
    assert main(["cache", "dir", "--cache-dir", str(second)]) == 0
    assert capsys.readouterr().out == f"{second}\n"
    # Given in both places, the command's copy wins; not given there, it does not reset
    # the global one.
    assert main(["-q", "--cache-dir", str(first), "cache", "dir", "--cache-dir", str(second),
                 "-v"]) == 0
    assert capsys.readouterr().out == f"{second}\n"


def test_verbosity_before_the_command_sets_the_log_level(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["-q", "cache", "dir", "--cache-dir", str(tmp_path)]) == 0
    assert logger.level == logging.WARNING
    assert main(["cache", "dir", "-qq", "--cache-dir", str(tmp_path)]) == 0
    assert logger.level == logging.ERROR
    assert main(["-v", "cache", "dir", "--cache-dir", str(tmp_path)]) == 0
    assert logger.level == logging.DEBUG
    assert main(["cache", "dir", "--cache-dir", str(tmp_path)]) == 0
    assert logger.level == logging.INFO
    capsys.readouterr()


def test_config_shows_each_index_setting_with_its_source(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    # No venv here, so no interpreter is queried: the target's pip.conf is just not read.
    monkeypatch.setenv("WARMBUILD_EXTRA_INDEX_URL", "https://extra.example/simple")
    assert main(["config", "--format", "json", "-i", "https://flag.example/simple",
                 "--cache-dir", str(tmp_path / "c")]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows["index-url"] == {"value": "https://flag.example/simple",
                                 "source": "command line"}
    assert rows["extra-index-url"] == {"value": ["https://extra.example/simple"],
                                       "source": "environment WARMBUILD_EXTRA_INDEX_URL"}
    assert rows["no-index"] == {"value": False, "source": "default"}
    assert rows["cache-dir"] == {"value": str(tmp_path / "c"), "source": "command line"}


def test_a_bad_index_url_flag_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "-i", "ftp://mirror.example/simple"]) == 2
    (line, hint) = one_paragraph(capsys.readouterr().err)
    assert line == ("error: index-url 'ftp://mirror.example/simple' (from command line) is not "
                    "an http(s) or file URL")
    assert hint.startswith("hint: write e.g. https://pypi.org/simple")


def test_no_target_found_is_exit_1_naming_the_ways_to_give_one(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # tmp_path has no .venv above it (pytest's base temp dir is outside any project).
    assert not any((d / ".venv" / "pyvenv.cfg").is_file() for d in (tmp_path, *tmp_path.parents))
    assert main(["list", "--cache-dir", str(tmp_path / "c")]) == 1
    lines = one_paragraph(capsys.readouterr().err)
    assert lines[0] == ("error: no virtual environment found: neither --python, VIRTUAL_ENV "
                        f"nor a .venv in {tmp_path} or its parents")
    assert lines[-1].startswith("hint: ") and "--system" in lines[-1]
