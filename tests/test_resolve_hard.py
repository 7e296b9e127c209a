"""Hard resolutions (issue 11): old sdists resolved from their metadata hook, deep
backtracking that must not walk back an unrelated package, and the error when backtracking
runs into old sdists. Against the local index; the real sets of the issue are marked
``network``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import pytest

from conftest import IndexFactory, Runner, installed
from support.wheels import write_sdist

BACKEND = '''
import os
NAME, VERSION, REQUIRES = {name!r}, {version!r}, {requires!r}

def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    if {metadata_fails!r}:
        print('  File "setup.py", line 9\\n    print "building", NAME')
        print("SyntaxError: Missing parentheses in call to 'print'")
        raise SystemExit(1)
    info = os.path.join(metadata_directory, NAME.replace("-", "_") + "-" + VERSION
                        + ".dist-info")
    os.makedirs(info)
    with open(os.path.join(info, "METADATA"), "w") as f:
        f.write("Metadata-Version: 2.1\\nName: " + NAME + "\\nVersion: " + VERSION + "\\n")
        f.writelines("Requires-Dist: " + r + "\\n" for r in REQUIRES)
    return os.path.basename(info)

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    print("_speedups.c:1:10: fatal error: Python.h: No such file or directory")
    raise RuntimeError("error: command 'gcc' failed with exit code 1")
'''


def old_sdist(dest: Path, name: str, version: str, *, requires: Sequence[str] = (),
              metadata_fails: bool = False) -> Path:
    """An sdist of a kind PyPI is full of: PKG-INFO 2.1 (not authoritative), an in-tree
    backend whose metadata hook works (unless ``metadata_fails``: a Python 2 setup.py)
    and whose build fails (a C extension that no longer compiles)."""
    base = f"{name.replace('-', '_')}-{version}"
    files = {
        "pyproject.toml": '[build-system]\nrequires = []\nbuild-backend = "backend"\n'
                          'backend-path = ["."]\n',
        "backend.py": BACKEND.format(name=name, version=version, requires=list(requires),
                                     metadata_fails=metadata_fails),
        "PKG-INFO": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
    }
    return write_sdist(dest, base, files)


def test_an_sdist_that_cannot_build_resolves_from_its_metadata_hook(
        wb: Runner, venv: Path, tmp_path: Path, custom_index: IndexFactory) -> None:
    server = custom_index([("six", "1.17.0")])
    old_sdist(tmp_path / "sdists", "oldext", "1.0", requires=["six"])
    server.add_dir(tmp_path / "sdists")
    dry = wb("install", "--python", venv, "-i", server.url, "--dry-run", "oldext")
    assert "Prepared metadata of oldext-1.0.tar.gz" in dry.stderr
    assert "+ oldext==1.0" in dry.stderr and "+ six==1.17.0" in dry.stderr
    assert "Built" not in dry.stderr and "build_wheel" not in dry.stderr
    # The metadata is kept: the next resolution runs no hook at all.
    again = wb("install", "--python", venv, "-i", server.url, "--dry-run", "oldext")
    assert "Prepared metadata" not in again.stderr and "+ oldext==1.0" in again.stderr
    real = wb("install", "--python", venv, "-i", server.url, "oldext", expect=1)
    assert "error: failed to build `oldext @ " in real.stderr
    assert "the `build_wheel` hook failed" in real.stderr
    assert "Python.h: No such file or directory" in real.stderr
    assert installed(venv) == {}


def test_a_pinned_set_that_backtracks_deeply_does_not_walk_back_an_unrelated_package(
        wb: Runner, venv: Path, tmp_path: Path, custom_index: IndexFactory) -> None:
    # test_preference_unit.walk_scenario on a real index: only `top` 1.0 fits the pin of
    # `pathable`; `regex`, pulled in by every `top`, has 24 old releases as sdists that
    # cannot build. Deciding in the order requirements appear walked `regex` back through
    # all of them (the failure of issue 11's `moto[all]` set).
    fillers = [f"f{i}" for i in range(6)]
    specs: list[tuple[str, str] | tuple[str, str, dict[str, object]]] = [
        (name, "1.0") for name in fillers]
    specs += [("top", f"{i}.0", {"requires": ["validator>=2" if i > 1 else "validator<2",
                                              *fillers, "regex"]}) for i in range(1, 13)]
    specs += [("validator", "1.0"), ("pathable", "0.4"), ("pathable", "0.6")]
    specs += [("validator", f"{i}.0", {"requires": ["spec"]}) for i in range(2, 5)]
    specs += [("spec", f"{i}.0", {"requires": ["pathable<0.5"]}) for i in range(1, 4)]
    specs += [("regex", f"{i}.0") for i in range(25, 31)]
    server = custom_index(specs)
    for i in range(1, 25):
        old_sdist(tmp_path / "sdists", "regex", f"{i}.0")
    server.add_dir(tmp_path / "sdists")
    result = wb("install", "--python", venv, "-i", server.url, "--dry-run", "-v", "top",
                "pathable==0.6")
    assert "+ top==1.0" in result.stderr and "+ regex==30.0" in result.stderr
    assert "Prepared metadata" not in result.stderr
    tried = re.search(r"resolver: tried (\d+) candidates .* prepared the metadata of (\d+) "
                      r"sdists", result.stderr)
    assert tried is not None and tried.group(2) == "0"
    # Walking `regex` back took thousands; the conflict's own packages take a few dozen.
    assert int(tried.group(1)) < 300, tried.group(0)
    regex_reads = {p for p in server.paths() if "/regex-" in p}
    assert not any(p.endswith(".tar.gz") for p in regex_reads), regex_reads


def walking_index(tmp_path: Path, custom_index: IndexFactory, *,
                  metadata_fails_below: int = 0) -> str:
    """`app` 13..20 (wheels) and 1..12 (old sdists) all need `lib<2`."""
    server = custom_index([("lib", "1.0"), ("lib", "2.0")] + [
        ("app", f"{i}.0", {"requires": ["lib<2"]}) for i in range(13, 21)])
    for i in range(1, 13):
        old_sdist(tmp_path / "sdists", "app", f"{i}.0", requires=["lib<2"],
                  metadata_fails=i < metadata_fails_below)
    server.add_dir(tmp_path / "sdists")
    return server.url


def test_backtracking_into_old_sdists_stops_at_the_cap_naming_the_conflict(
        wb: Runner, venv: Path, tmp_path: Path, custom_index: IndexFactory) -> None:
    url = walking_index(tmp_path, custom_index)
    result = wb("install", "--python", venv, "-i", url, "--dry-run", "app", "lib==2.0",
                "--max-sdist-builds", "3", expect=1)
    err = result.stderr
    assert "error: cannot install a consistent set: the requirements on lib conflict" in err
    assert "you (command line or requirements file) requires lib==2.0" in err
    assert re.search(r"app \d+\.0 requires lib<2", err)
    assert f"available lib: 2.0, 1.0 (from {url}/)" in err
    assert "(--max-sdist-builds 3)" in err and "--max-sdist-builds N" in err
    # The first sdist of a project is free; three more, then the cap.
    assert err.count("Prepared metadata of app-") == 4
    assert "Traceback" not in result.output and "build_wheel" not in err


def test_an_old_sdist_whose_metadata_fails_while_backtracking_is_blamed_on_the_conflict(
        wb: Runner, venv: Path, tmp_path: Path, custom_index: IndexFactory) -> None:
    url = walking_index(tmp_path, custom_index, metadata_fails_below=10)
    result = wb("install", "--python", venv, "-i", url, "--dry-run", "app", "lib==2.0",
                expect=1)
    err = result.stderr
    assert "error: cannot install a consistent set: the requirements on lib conflict, " \
           "and settling it led the resolver back to app 9.0, an sdist whose metadata " \
           "could not be prepared" in err
    assert "you (command line or requirements file) requires lib==2.0" in err
    assert "SyntaxError: Missing parentheses in call to 'print'" in err
    assert "hint: bound one of the requirements above (e.g. `app>9.0`)" in err


@pytest.mark.network
def test_real_sets_of_issue_11(wb: Runner, venv: Path) -> None:
    regex = wb("install", "--python", venv, "--dry-run", "regex==2021.11.9")
    assert "+ regex==2021.11.9" in regex.stderr and "Built" not in regex.stderr
    moto = wb("install", "--python", venv, "--dry-run", "moto[all]", "jsonschema==4.25.1",
              "jsonschema-path==0.5.0", "pathable==0.6.0")
    assert "+ moto==" in moto.stderr and "Built" not in moto.stderr
