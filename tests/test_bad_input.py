"""Bad input gets one clear paragraph and a non-zero exit, never a traceback, and leaves
the target as it was. Each case here was once a traceback or a wrong result."""

from __future__ import annotations

import os
import shutil
import textwrap
from pathlib import Path

import pytest

from conftest import Result, Runner, create_venv, installed, site_packages, snapshot
from support.indexserver import IndexServer
from support.wheels import make_wheel
from test_build import project


def failed(result: Result, *fragments: str) -> None:
    assert result.returncode != 0, result.output
    assert "Traceback" not in result.output and "internal error" not in result.output, \
        result.output
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


def test_cache_clean_removes_only_warmbuilds_own_buckets(wb: Runner, tmp_path: Path) -> None:
    root = tmp_path / "mixed"
    (root / "wheels-v1" / "ab").mkdir(parents=True)
    (root / "wheels-v1" / "ab" / "x.whl").write_text("")
    (root / "photos").mkdir()
    (root / "photos" / "cat.jpg").write_text("meow")
    (root / "notes.txt").write_text("mine")
    result = wb("cache", "clean", "--cache-dir", root)
    assert not (root / "wheels-v1").exists()
    assert (root / "photos" / "cat.jpg").read_text() == "meow"
    assert (root / "notes.txt").read_text() == "mine"
    assert "that warmbuild did not make: notes.txt, photos" in result.stderr
    failed(wb("cache", "clean", "--cache-dir", "", expect=None), "an empty path")


def test_uninstall_never_removes_files_outside_the_environment(wb: Runner, venv: Path,
                                                               tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    info = site_packages(venv) / "evil-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: evil\nVersion: 1.0\n")
    (info / "RECORD").write_text(f"{victim},,\nevil-1.0.dist-info/METADATA,,\n"
                                 "evil-1.0.dist-info/RECORD,,\n")
    result = wb("uninstall", "--python", venv, "evil")
    assert victim.read_text() == "keep me"
    assert f"not removing {victim}" in result.stderr and "evil" not in installed(venv)


def test_an_index_page_listing_another_projects_file_is_not_believed(
        wb: Runner, venv: Path, tmp_path: Path, wheelhouse: Path) -> None:
    six = next(wheelhouse.glob("six-*.whl"))
    (tmp_path / "idx" / "attrs").mkdir(parents=True)
    shutil.copy(six, tmp_path / "idx" / "attrs")
    failed(wb("install", "--python", venv, "-i", (tmp_path / "idx").as_uri(), "attrs",
              expect=None), "attrs")
    assert installed(venv) == {}


def test_a_wheel_for_another_platform_is_refused_by_path(wb: Runner, venv: Path,
                                                         tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "badtag", "1.0", tag="cp27-cp27m-win32")
    failed(wb("install", "--python", venv, wheel, expect=None),
           "is not a supported wheel for the target")
    assert installed(venv) == {}


def test_direct_references_that_cannot_be_right(wb: Runner, venv: Path, tmp_path: Path,
                                                wheelhouse: Path) -> None:
    six = next(wheelhouse.glob("six-*.whl"))
    failed(wb("install", "--python", venv, f"attrs @ {six.as_uri()}", expect=None),
           "that file is a distribution of `six`, not of `attrs`")
    failed(wb("install", "--python", venv, "six @ file:///nowhere/x.whl", expect=None),
           "x.whl is not the name of a wheel or an sdist")
    failed(wb("install", "--python", venv, f"six @ {tmp_path.as_uri()} ; bad", expect=None),
           "invalid requirement")
    # A marker on a wheel path is fine (it was once parsed wrongly).
    wb("install", "--python", venv, f'{six}; python_version >= "3"')
    assert "six" in installed(venv)


def test_markers_that_cannot_be_evaluated(wb: Runner, venv: Path, index: IndexServer,
                                          tmp_path: Path) -> None:
    failed(wb("install", "--python", venv, "-i", index.url, 'six; python_version ~= "abc"',
              expect=None), "cannot evaluate the marker")
    reqs = tmp_path / "r.txt"
    reqs.write_text('six; python_version ~= "abc"\n')
    failed(wb("install", "--python", venv, "-i", index.url, "-r", reqs, expect=None),
           f"{reqs}:1", "cannot evaluate the marker")
    assert installed(venv) == {}


@pytest.mark.parametrize(("content", "message"), [
    (b'six --hash="sha256:abc\n', "cannot parse"),
    (b"six\n\xff\xfe\n", "not UTF-8"),
    (b"-r\n", "-r needs a value"),
    (b"six[extra]<2\n", None),
])
def test_requirements_files_that_cannot_be_read(wb: Runner, venv: Path, index: IndexServer,
                                                tmp_path: Path, content: bytes,
                                                message: str | None) -> None:
    reqs = tmp_path / "r.txt"
    reqs.write_bytes(content)
    if message is None:  # as a constraints file: extras make no sense there (pip agrees)
        failed(wb("install", "--python", venv, "-i", index.url, "-c", reqs, "six",
                  expect=None), "a constraint cannot have extras")
    else:
        failed(wb("install", "--python", venv, "-i", index.url, "-r", reqs, expect=None),
               str(reqs), message)
    assert installed(venv) == {}


def test_a_requirements_file_including_itself_by_another_path(wb: Runner, venv: Path,
                                                              tmp_path: Path) -> None:
    (tmp_path / "rf").mkdir()
    reqs = tmp_path / "rf" / "r.txt"
    reqs.write_text("-r ../rf/r.txt\n")
    failed(wb("install", "--python", venv, "-r", reqs, expect=None), "included from itself")


def test_a_project_directory_whose_name_is_not_a_project_name(
        wb: Runner, venv: Path, index: IndexServer, tmp_path: Path) -> None:
    src = project(tmp_path, "setuptools-pure")
    odd = src.rename(tmp_path / "src" / "my proj")
    wb("install", "--python", venv, "-i", index.url, odd)
    assert "setuptools_pure" in installed(venv)
    failed(wb("install", "--python", venv, "-e", next(Path(odd).glob("*.toml")),
              expect=None), "is a file, not a project directory")


def test_target_interpreters_that_answer_nonsense(wb: Runner, tmp_path: Path) -> None:
    for name, script in (("binary", r"printf '\377\376'"),
                         ("paths", """echo '{"paths": 1}'""")):
        fake = tmp_path / name
        fake.write_text(f"#!/bin/sh\n{script}\n")
        fake.chmod(0o755)
        failed(wb("list", "--python", fake, expect=None), str(fake),
               "not a usable Python interpreter")


def test_settings_that_are_not_usable(wb: Runner, venv: Path, tmp_path: Path) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("")
    failed(wb("install", "--python", venv, "--cache-dir", a_file / "sub", "six", expect=None),
           "as the cache directory")
    failed(wb("install", "--python", venv, "-i", "http://[::1", "six", expect=None),
           "is not a valid URL")
    failed(wb("install", "--python", venv, "-i", "six", "attrs", expect=None),
           "is not an http(s) or file URL")
    failed(wb("install", "--python", venv, "-C", "=x", "six", expect=None),
           "expected KEY=VALUE")
    failed(wb("install", "--python", venv, "six", expect=None,
              env={"https_proxy": "http://[::1", "WARMBUILD_INDEX_URL": "https://example.com/s"}),
           "proxy", "is not a valid URL")
    failed(wb("doctor", tmp_path / "nowhere", expect=None), "no such directory")
    src = project(tmp_path, "setuptools-pure")
    failed(wb("install", "--python", venv, "--build-env-dir", a_file, src, expect=None),
           f"cannot use the build env dir {a_file}")


def test_a_file_that_is_not_a_zip_archive(wb: Runner, venv: Path, tmp_path: Path) -> None:
    fake = tmp_path / "fake-1.0-py3-none-any.whl"
    fake.write_text("not a zip")
    before = snapshot(venv)
    failed(wb("install", "--python", venv, fake, expect=None), "fake-1.0-py3-none-any.whl")
    assert snapshot(venv) == before


_BACKENDS = {
    "returns-five": "def get_requires_for_build_wheel(config_settings=None):\n    return 5\n",
    "bad-requirement": "def get_requires_for_build_wheel(config_settings=None):\n"
                       "    return ['not a requirement!']\n",
    "exits-early": "import os\ndef get_requires_for_build_wheel(config_settings=None):\n"
                   "    os._exit(0)\n",
    "wrong-name": "def get_requires_for_build_wheel(config_settings=None):\n    return []\n"
                  "def build_wheel(wheel_directory, config_settings=None, "
                  "metadata_directory=None):\n    return 'nothere-1.0-py3-none-any.whl'\n",
    "escapes": "def get_requires_for_build_wheel(config_settings=None):\n    return []\n"
               "def build_wheel(wheel_directory, config_settings=None, "
               "metadata_directory=None):\n    return '../../etc/passwd'\n",
}
_EXPECTED = {
    "returns-five": "returned 5, not a list of requirement strings",
    "bad-requirement": "which is not a PEP 508 requirement",
    "exits-early": "ended without an answer",
    "wrong-name": "returned 'nothere-1.0-py3-none-any.whl', not the name of a file it wrote",
    "escapes": "returned '../../etc/passwd', not the name of a file it wrote",
}


@pytest.mark.parametrize("case", sorted(_BACKENDS))
def test_backends_that_break_the_rules(wb: Runner, venv: Path, index: IndexServer,
                                       tmp_path: Path, case: str) -> None:
    tree = tmp_path / case
    (tree / "_backend").mkdir(parents=True)
    (tree / "_backend" / "oddbackend.py").write_text(_BACKENDS[case])
    (tree / "pyproject.toml").write_text(textwrap.dedent("""\
        [build-system]
        requires = []
        build-backend = "oddbackend"
        backend-path = ["_backend"]

        [project]
        name = "odd"
        version = "1.0"
        """))
    before = snapshot(venv)
    failed(wb("install", "--python", venv, "-i", index.url, tree, expect=None),
           _EXPECTED[case], "oddbackend")
    assert snapshot(venv) == before
    if case in ("wrong-name", "escapes"):
        failed(wb("build", "--wheel", "--python", venv, "-i", index.url, tree, expect=None),
               _EXPECTED[case])


def test_build_honours_build_constraints(wb: Runner, venv: Path, index: IndexServer,
                                         tmp_path: Path) -> None:
    src = project(tmp_path, "setuptools-pure")
    failed(wb("build", "--wheel", "--python", venv, "-i", index.url, "--build-constraint",
              tmp_path / "missing.txt", src, expect=None), "missing.txt")
    pins = tmp_path / "c.txt"
    pins.write_text("setuptools<1\n")
    failed(wb("build", "--wheel", "--python", venv, "-i", index.url, "--build-constraint",
              pins, src, expect=None), "setuptools")


def test_uninstall_takes_requirements_as_pip_does(wb: Runner, venv: Path,
                                                  index: IndexServer) -> None:
    wb("install", "--python", venv, "-i", index.url, "six")
    wb("uninstall", "--python", venv, "six>=1")
    assert installed(venv) == {}
    failed(wb("uninstall", "--python", venv, "bad name!", expect=None), "not a project name")



def test_a_record_that_is_not_utf8_is_named(wb: Runner, venv: Path) -> None:
    info = site_packages(venv) / "odd-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: odd\nVersion: 1.0\n")
    (info / "RECORD").write_bytes(b"odd.py,,\n\xff\xfe,,\n")
    (site_packages(venv) / "odd.py").write_text("")
    failed(wb("uninstall", "--python", venv, "odd", expect=None),
           f"{info / 'RECORD'} is not UTF-8 text")
    assert (site_packages(venv) / "odd.py").exists() and "odd" in installed(venv)


@pytest.mark.parametrize("journal", [
    b'["backup", "a", "b"]\n["plac',       # relative paths: not moves inside the venv
    b'{"a": 1}\n', b"[]\n", b"\xff\n", None,  # None: the journal is a directory
    b'["placed", "/tmp/warmbuild-fuzz-victim"]\n',
])
def test_a_damaged_or_foreign_journal_is_never_followed_nor_hidden(
        wb: Runner, venv: Path, index: IndexServer, tmp_path: Path,
        journal: bytes | None) -> None:
    victim = Path("/tmp/warmbuild-fuzz-victim")
    victim.mkdir(exist_ok=True)
    (victim / "keep").write_text("x")
    tx = venv / ".warmbuild-tx-zzz"
    tx.mkdir()
    if journal is None:
        (tx / "journal").mkdir()
    else:
        (tx / "journal").write_bytes(journal)
    # The environment may be damaged: no run reports a success over it until a human
    # has looked and removed what was set aside.
    for _run in range(2):
        failed(wb("install", "--python", venv, "-i", index.url, "six", expect=None),
               "cannot trust", f"remove {venv / '.warmbuild-damaged-zzz'}")
    assert "six" not in installed(venv) and (victim / "keep").exists()
    assert not tx.exists() and (venv / ".warmbuild-damaged-zzz").exists()
    shutil.rmtree(venv / ".warmbuild-damaged-zzz")
    wb("install", "--python", venv, "-i", index.url, "six")
    assert "six" in installed(venv)


@pytest.mark.parametrize("oddity", ["json-list", "cmakecache-dir", "ninja-fifo"])
def test_odd_files_in_a_build_dir_do_not_hide_a_hook_error(
        wb: Runner, venv: Path, index: IndexServer, tmp_path: Path, oddity: str) -> None:
    # After a failed hook, warmbuild scans the tree's build dirs for a hint: that scan must
    # not crash or block on what it finds there.
    tree = project(tmp_path, "failing-hook")
    build = tree / "build"
    build.mkdir()
    if oddity == "json-list":
        (build / ".skbuild-info.json").write_text("[]")
    elif oddity == "cmakecache-dir":
        (build / "CMakeCache.txt").mkdir()
    else:
        os.mkfifo(build / "build.ninja")
    # (The backend's own traceback is part of its log, shown as the error's cause.)
    result = wb("install", "--python", venv, "-i", index.url, tree, expect=1)
    assert "the `build_wheel` hook failed" in result.stderr
    assert "internal error" not in result.stderr and "warmbuild/envs.py" not in result.stderr
    doctor = wb("doctor", tree)
    assert "Traceback" not in doctor.output and "internal error" not in doctor.output


def test_trees_named_by_odd_paths_and_file_urls(wb: Runner, venv: Path, index: IndexServer,
                                                 tmp_path: Path) -> None:
    src = project(tmp_path, "setuptools-pure")
    odd = src.rename(tmp_path / "src" / "at@sign")
    wb("install", "--python", venv, "-i", index.url, odd)
    assert "setuptools_pure" in installed(venv)
    # What `freeze` writes for an editable install reads back.
    wb("install", "--python", venv, "-i", index.url, "-e", odd)
    frozen = tmp_path / "frozen.txt"
    frozen.write_text(wb("freeze", "--python", venv).stdout)
    assert f"-e {odd.as_uri()}" in frozen.read_text()
    other = create_venv(tmp_path / "other")
    wb("install", "--python", other, "-i", index.url, "-r", frozen)
    info = next(site_packages(other).glob("setuptools_pure-*.dist-info"))
    assert '"editable": true' in (info / "direct_url.json").read_text()
    failed(wb("install", "--python", venv, "-i", index.url, odd, "-e", odd, expect=None),
           "both as an editable install (-e) and as a regular one")


def test_two_direct_references_to_one_project_are_both_named(
        wb: Runner, venv: Path, tmp_path: Path) -> None:
    one = make_wheel(tmp_path / "a", "dup", "1.0")
    two = make_wheel(tmp_path / "b", "dup", "2.0")
    result = wb("install", "--python", venv, one, two, expect=None)
    failed(result, one.as_uri(), two.as_uri())


def test_build_names_what_is_wrong_with_its_path(wb: Runner, tmp_path: Path) -> None:
    src = project(tmp_path, "setuptools-pure")
    failed(wb("build", src / "pyproject.toml", expect=None), "not a directory")
    failed(wb("build", tmp_path / "nowhere", expect=None), "no such directory")


def test_show_and_require_hashes_with_an_editable_tree(wb: Runner, venv: Path,
                                                       index: IndexServer,
                                                       tmp_path: Path) -> None:
    src = project(tmp_path, "setuptools-pure")
    failed(wb("install", "--python", venv, "-i", index.url, "--require-hashes", src,
              expect=None), "is a source directory, which has no hash")
    wb("install", "--python", venv, "-i", index.url, "-e", src)
    shown = wb("show", "--python", venv, "setuptools-pure").stdout
    assert f"Editable project location: {src}" in shown
