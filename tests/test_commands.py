"""The everyday read-only commands and uninstall, compared with pip where pip has them.

`check` against `pip check`, `tree` as `uv pip tree` draws it, `list --outdated` against the
local index, `show -f`, `freeze --all`/`--exclude-editable`, `list -e`, `uninstall -r` and
uninstalling what is not installed.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from conftest import IndexFactory, Runner, after_env_line, create_venv, installed, pip
from support.indexserver import IndexServer

PROJECTS = Path(__file__).resolve().parent / "projects"

#: app needs lib>=2 (1.0 is installed), missing-dep (absent), one dependency only for
#: Python 2 and one only for an extra: pip reports the first two, not the others.
APP = ("app", "1.0", {"requires": ["lib>=2", "missing-dep", "py2only; python_version < '3'"],
                      "extras": {"x": ["extra-only"]}})
WHEELS = [APP, ("lib", "1.0", {"requires": ["leaf"]}), ("lib", "2.0", {"requires": ["leaf"]}),
          ("leaf", "1.0"), ("leaf", "1.1rc1"), ("solo", "1.0", {"requires": ["lib", "leaf"]})]


def _broken_venv(wb: Runner, venv: Path, server: IndexServer) -> None:
    wb("install", "--python", venv, "-i", server.url, "--no-deps", "app", "lib==1.0",
       "leaf==1.0")


def test_check_prints_what_pip_check_prints(wb: Runner, venv: Path,
                                            custom_index: IndexFactory) -> None:
    server = custom_index(WHEELS)
    clean = wb("check", "--python", venv)
    assert clean.stdout == pip(venv, "check").stdout == "No broken requirements found.\n"
    _broken_venv(wb, venv, server)
    ours = wb("check", "--python", venv, expect=1)
    theirs = pip(venv, "check", check=False)
    assert theirs.returncode == 1
    assert ours.stdout == theirs.stdout == (
        "app 1.0 requires missing-dep, which is not installed.\n"
        "app 1.0 has requirement lib>=2, but you have lib 1.0.\n")
    wb("install", "--python", venv, "-i", server.url, "lib==2.0")
    ours = wb("check", "--python", venv, expect=1)
    assert ours.stdout == pip(venv, "check", check=False).stdout == (
        "app 1.0 requires missing-dep, which is not installed.\n")


def test_tree_reverse_depth_and_package(wb: Runner, venv: Path,
                                        custom_index: IndexFactory) -> None:
    server = custom_index(WHEELS)
    wb("install", "--python", venv, "-i", server.url, "solo", "lib==1.0")
    wb("install", "--python", venv, "-i", server.url, "--no-deps", "app")
    tree = wb("tree", "--python", venv).stdout
    # Roots are what nothing requires; a subtree drawn once is `(*)` after that.
    assert tree == ("app v1.0\n"
                    "└── lib v1.0\n"
                    "    └── leaf v1.0\n"
                    "solo v1.0\n"
                    "├── lib v1.0 (*)\n"
                    "└── leaf v1.0\n")
    assert wb("tree", "--python", venv, "--depth", "0").stdout == "app v1.0\nsolo v1.0\n"
    assert wb("tree", "--python", venv, "-d", "1").stdout == (
        "app v1.0\n└── lib v1.0\nsolo v1.0\n├── lib v1.0 (*)\n└── leaf v1.0\n")
    assert wb("tree", "--python", venv, "--reverse").stdout == (
        "leaf v1.0\n"
        "├── lib v1.0\n"
        "│   ├── app v1.0\n"
        "│   └── solo v1.0\n"
        "└── solo v1.0\n")
    assert wb("tree", "--python", venv, "--package", "LIB", "--package", "leaf").stdout == (
        "lib v1.0\n└── leaf v1.0\n\nleaf v1.0\n")
    missing = wb("tree", "--python", venv, "--package", "nope", expect=1)
    assert missing.stdout == "" and "not found: nope" in missing.stderr
    assert "--depth -1: expected 0 or more" in wb("tree", "--python", venv, "--depth", "-1",
                                                 expect=2).stderr


def test_list_outdated_and_uptodate_ask_the_index(wb: Runner, venv: Path,
                                                  custom_index: IndexFactory) -> None:
    server = custom_index(WHEELS)
    _broken_venv(wb, venv, server)
    outdated = wb("list", "--python", venv, "--outdated", "-i", server.url).stdout
    assert outdated == pip(venv, "list", "--outdated", "-i", server.url).stdout == (
        "Package Version Latest Type\n"
        "------- ------- ------ -----\n"
        "lib     1.0     2.0    wheel\n")
    uptodate = wb("list", "--python", venv, "--uptodate", "-i", server.url).stdout
    assert uptodate == pip(venv, "list", "--uptodate", "-i", server.url).stdout
    assert uptodate.splitlines()[2:] == ["app     1.0", "leaf    1.0"]
    with_pre = json.loads(wb("list", "--python", venv, "-o", "--pre", "-i", server.url,
                             "--format", "json").stdout)
    assert with_pre == [
        {"name": "leaf", "version": "1.0", "latest_version": "1.1rc1",
         "latest_filetype": "wheel"},
        {"name": "lib", "version": "1.0", "latest_version": "2.0", "latest_filetype": "wheel"}]
    refused = wb("list", "--python", venv, "-o", "-u", expect=2)
    assert "--outdated and --uptodate cannot be combined" in refused.stderr


def test_show_files_is_pips_listing(wb: Runner, venv: Path, custom_index: IndexFactory) -> None:
    server = custom_index([("tool", "1.0", {"entry_points": {
        "console_scripts": {"tool": "tool:main"}}})])
    wb("install", "--python", venv, "-i", server.url, "tool")
    ours = wb("show", "--python", venv, "-f", "tool").stdout
    theirs = pip(venv, "show", "-f", "tool").stdout
    files = ours.split("Files:\n", 1)[1]
    assert files == theirs.split("Files:\n", 1)[1]
    assert "  ../../../bin/tool\n" in files and "  tool/__init__.py\n" in files
    assert "Files:" not in wb("show", "--python", venv, "tool").stdout


def test_show_prints_what_pip_show_prints(wb: Runner, venv: Path, index: IndexServer,
                                          tmp_path: Path) -> None:
    # The benchmark set: Home-page or only a Project-URL, Author or only Author-email,
    # License or License-Expression (Metadata-Version 2.4), markers, extras, entry points;
    # and an editable tree.
    tree = tmp_path / "src" / "setuptools-pure"
    shutil.copytree(PROJECTS / "setuptools-pure", tree)
    reqs = Path(__file__).resolve().parents[1] / "benchmarks" / "requirements.txt"
    wb("install", "--python", venv, "-i", index.url, "-r", reqs, "-e", tree)
    names = sorted(installed(venv))
    assert len(names) > 30
    for verbose in ([], ["-v"]):
        ours = wb("show", "--python", venv, *verbose, *names)
        assert ours.stdout == pip(venv, "show", *verbose, *names).stdout
    assert f"Editable project location: {tree}" in ours.stdout
    # A name not installed: a warning beside the others, an error alone (as pip).
    partly = wb("show", "--python", venv, "six", "not-installed")
    assert partly.stdout == pip(venv, "show", "six", "not-installed").stdout
    assert "not-installed" in partly.stderr
    assert pip(venv, "show", "not-installed", check=False).returncode == 1
    wb("show", "--python", venv, "not-installed", expect=1)


def test_list_and_freeze_choose_packages_as_pip_does(wb: Runner, venv: Path,
                                                    custom_index: IndexFactory) -> None:
    server = custom_index(WHEELS)
    wb("install", "--python", venv, "-i", server.url, "solo")  # solo -> lib -> leaf
    site = str(next(venv.glob("lib/python3*/site-packages")))
    for args in (["list", "--not-required"], ["list", "--not-required", "--format", "freeze"],
                 ["list", "--not-required", "--exclude", "solo"],
                 ["list", "--exclude", "leaf", "--exclude", "Solo", "-l"],
                 ["list", "--format", "json", "--include-editable"],
                 ["freeze", "--exclude", "lib", "--local"]):
        assert wb(*args, "--python", venv).stdout == pip(venv, *args).stdout, args
    # --path DIR reads DIR, whatever the target (pip's own `list --path` takes no --python).
    empty = create_venv(venv.parent / "empty")
    for command in ("list", "freeze"):
        ours = wb(command, "--python", empty, "--path", site).stdout
        assert ours == pip(venv, command).stdout and "solo" in ours


def test_hash_prints_what_pip_hash_prints(wb: Runner, venv: Path, wheelhouse: Path) -> None:
    (wheel,) = wheelhouse.glob("six-*.whl")
    for args in ([], ["-a", "sha512"]):
        ours = wb("hash", *args, wheel, wheel).stdout
        assert ours == pip(venv, "hash", *args, str(wheel), str(wheel)).stdout
    missing = wb("hash", wheel.with_name("absent.whl"), expect=1)
    assert "cannot read" in missing.stderr and "Traceback" not in missing.stderr


def test_cache_purge_is_clean(wb: Runner, venv: Path, index: IndexServer,
                              tmp_path: Path) -> None:
    wb("install", "--python", venv, "-i", index.url, "six")
    purged = wb("cache", "purge")
    assert purged.stderr.startswith("Removed ") and not list((tmp_path / "cache").rglob("*.whl"))


def test_freeze_all_exclude_editable_and_list_editable(
        wb: Runner, venv: Path, index: IndexServer, tmp_path: Path) -> None:
    tree = tmp_path / "src" / "setuptools-pure"
    shutil.copytree(PROJECTS / "setuptools-pure", tree)
    # Before Python 3.12, pip's freeze leaves wheel and setuptools out unless --all.
    wb("install", "--python", venv, "-i", index.url, "-e", tree, "six", "wheel")
    freeze = wb("freeze", "--python", venv).stdout.splitlines()
    # An editable is `-e file:///...` as uv writes it (pip: a comment and `-e /path`).
    assert freeze == [f"-e {tree.as_uri()}" if line == f"-e {tree}" else line
                      for line in pip(venv, "freeze").stdout.splitlines()
                      if not line.startswith("# Editable install")]
    assert not any(x.startswith("wheel==") for x in freeze)
    everything = wb("freeze", "--python", venv, "--all").stdout.splitlines()
    assert sorted(set(everything) - set(freeze)) == sorted(
        set(pip(venv, "freeze", "--all").stdout.splitlines())
        - set(pip(venv, "freeze").stdout.splitlines()))
    assert any(line.startswith("wheel==") for line in everything)
    no_editable = wb("freeze", "--python", venv, "--exclude-editable").stdout.splitlines()
    assert no_editable == pip(venv, "freeze", "--exclude-editable").stdout.splitlines()
    assert no_editable == [line for line in freeze if not line.startswith("-e ")]

    editable = wb("list", "--python", venv, "-e").stdout
    assert editable == pip(venv, "list", "-e").stdout
    assert editable.splitlines()[0].split() == ["Package", "Version", "Editable", "project",
                                               "location"]
    assert str(tree) in editable and "six" not in editable
    listed = wb("list", "--python", venv).stdout
    assert listed == pip(venv, "list").stdout
    rows = json.loads(wb("list", "--python", venv, "--format", "json").stdout)
    assert {"name": "setuptools-pure", "version": "0.1.0",
            "editable_project_location": str(tree)} in rows
    assert not any(r["name"] == "setuptools-pure"
                   for r in json.loads(wb("list", "--python", venv, "--exclude-editable",
                                          "--format", "json").stdout))


def test_uninstall_from_a_file_and_what_is_not_installed(
        wb: Runner, venv: Path, custom_index: IndexFactory, tmp_path: Path) -> None:
    server = custom_index(WHEELS)
    wb("install", "--python", venv, "-i", server.url, "solo")
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("lib>=1  # a comment\n-i https://ignored.example/simple\nnot-here\n")
    result = wb("uninstall", "--python", venv, "-r", reqs, "leaf")
    assert "warning: Skipping not-here as it is not installed." in result.stderr
    assert installed(venv) == {"solo": "1.0"}
    # Not installed is a warning and exit 0, as with pip and uv (`set -e` scripts).
    again = wb("uninstall", "--python", venv, "leaf")
    assert after_env_line(again.stderr) == "warning: Skipping leaf as it is not installed.\n"
    assert pip(venv, "uninstall", "-y", "leaf").returncode == 0
    nothing = wb("uninstall", "--python", venv, expect=2)
    assert nothing.stderr.startswith("error: nothing to uninstall\nhint: ")
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n")
    assert "nothing to uninstall" in wb("uninstall", "--python", venv, "-r", empty,
                                        expect=1).stderr
