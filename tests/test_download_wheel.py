"""``warmbuild download`` and ``warmbuild wheel``: the resolved set's files in a directory."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from conftest import Runner, installed
from support.indexserver import IndexServer, serve_index
from support.wheels import make_sdist

PROJECTS = Path(__file__).resolve().parent / "projects"
PYYAML_39 = ("pyyaml-6.0.3-cp39-cp39-manylinux2014_x86_64.manylinux_2_17_x86_64."
             "manylinux_2_28_x86_64.whl")


def names(directory: Path) -> set[str]:
    return {p.name for p in directory.iterdir() if not p.name.startswith(".")}


def sdists(tmp_path: Path, **specs: dict[str, object]) -> Path:
    directory = tmp_path / "sdists"
    for name, options in specs.items():
        make_sdist(directory, name, "1.0", **options)  # type: ignore[arg-type]
    return directory


def test_download_saves_wheels_and_sdists_and_changes_nothing(
        wb: Runner, venv: Path, tmp_path: Path, wheelhouse: Path) -> None:
    directory = sdists(tmp_path, **{"src-only": {"requires": ["six"], "metadata_version": "2.2"}})
    with serve_index([directory, wheelhouse]) as server:
        dest = tmp_path / "downloads"
        result = wb("download", "--python", venv, "-i", server.url, "-d", dest, "src-only")
        assert names(dest) == {"src_only-1.0.tar.gz", "six-1.17.0-py2.py3-none-any.whl"}
        assert (dest / "src_only-1.0.tar.gz").read_bytes() == \
            (directory / "src_only-1.0.tar.gz").read_bytes()
        assert set(result.stdout.split()) == {str(p) for p in dest.iterdir()}
        assert "Saved 2 files" in result.stderr and "Built" not in result.stderr
        assert "Using Python" not in result.stderr, "download changes no environment"
        assert installed(venv) == {}
        only_binary = wb("download", "--python", venv, "-i", server.url, "-d", dest,
                         "--only-binary", ":all:", "src-only", expect=1)
        assert "has no wheel, only a source distribution" in only_binary.stderr


def test_download_for_another_platform_and_python(
        wb: Runner, index: IndexServer, tmp_path: Path) -> None:
    dest = tmp_path / "py39"
    wb("download", "-i", index.url, "-d", dest, "--platform", "manylinux2014_x86_64",
       "--python-version", "3.9", "--only-binary", ":all:", "pyyaml==6.0.3", "pytest==8.4.2")
    files = names(dest)
    assert PYYAML_39 in files
    # Markers follow the requested Python: pytest needs these on 3.9 only (pip would
    # evaluate them for the interpreter it runs on, and leave them out).
    assert {"exceptiongroup-1.3.2-py3-none-any.whl", "tomli-2.5.0-py3-none-any.whl"} <= files
    # pip picks the same file for the same tags.
    pip_dest = tmp_path / "pip"
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "-i", index.url, "-d",
                    str(pip_dest), "--platform", "manylinux2014_x86_64", "--python-version",
                    "3.9", "--only-binary", ":all:", "pyyaml==6.0.3"],
                   check=True, env={**wb.env, "PIP_CONFIG_FILE": os.devnull})
    assert names(pip_dest) == {PYYAML_39}

    refused = wb("download", "-i", index.url, "-d", dest, "--platform", "win_amd64",
                 "six", expect=2)
    assert "need --no-deps or --only-binary :all:" in refused.stderr


def test_wheel_for_wheels_sdists_and_a_source_tree(
        wb: Runner, venv: Path, tmp_path: Path, wheelhouse: Path) -> None:
    tree = tmp_path / "src" / "hatchling-pure"
    shutil.copytree(PROJECTS / "hatchling-pure", tree)
    directory = sdists(tmp_path, **{"src-only": {"requires": ["six"]}})
    with serve_index([directory, wheelhouse]) as server:
        out = tmp_path / "wheels"
        first = wb("wheel", "--python", venv, "-i", server.url, "-w", out, tree, "src-only")
        assert names(out) == {"hatchling_pure-0.1.0-py3-none-any.whl",
                              "src_only-1.0-py3-none-any.whl", "six-1.17.0-py2.py3-none-any.whl"}
        with zipfile.ZipFile(out / "src_only-1.0-py3-none-any.whl") as zf:
            assert "src_only/__init__.py" in zf.namelist()
        assert "Built hatchling_pure-0.1.0-py3-none-any.whl" in first.stderr
        assert "created build env" in first.stderr
        assert installed(venv) == {}
        second = wb("wheel", "--python", venv, "-i", server.url, "-w", out, tree, "src-only")
        # The tree is built again in its persistent env; the sdist's wheel comes from the cache.
        assert "reused build env" in second.stderr
        assert "Built src_only" not in second.stderr
        assert len(names(out)) == 3
