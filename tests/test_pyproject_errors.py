"""Malformed pyproject.toml and warmbuild.toml: one error naming the file and the key.

Each case was found by fuzzing and crashed with a traceback (or, for ``dependencies =
"six"``, asked the index for a package named ``s``). The error must come before anything
is installed, so the target venv is checked to be unchanged.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import Result, Runner, after_env_line, snapshot
from support.indexserver import IndexServer
from test_build import project

BUILD = '[build-system]\nrequires = ["setuptools>=70"]\nbuild-backend = "setuptools.build_meta"\n'
PROJECT = '[project]\nname = "setuptools-pure"\nversion = "0.1.0"\n'
TOOL = '[tool.setuptools]\npackages = ["setuptools_pure"]\n'

#: (test id, pyproject.toml text, what the message must name). A top-level key such as
#: ``tool = "x"`` goes first: after a [table] header it would belong to that table.
TREE_CASES = [
    ("build-system-integer", "build-system = 5\n" + PROJECT + TOOL, "[build-system]"),
    ("build-system-array", 'build-system = ["requires"]\n' + PROJECT + TOOL, "[build-system]"),
    ("requires-string", '[build-system]\nrequires = "setuptools"\n' + PROJECT + TOOL,
     "[build-system] requires"),
    ("build-backend-integer", '[build-system]\nrequires = []\nbuild-backend = 5\n' + PROJECT,
     "[build-system] build-backend"),
    ("backend-path-string", BUILD + 'backend-path = "_backend"\n' + PROJECT + TOOL,
     "[build-system] backend-path"),
    ("backend-path-absolute", BUILD + 'backend-path = ["/etc"]\n' + PROJECT + TOOL,
     "[build-system] backend-path"),
    ("backend-path-outside", BUILD + 'backend-path = ["../.."]\n' + PROJECT + TOOL,
     "[build-system] backend-path"),
    ("tool-string", 'tool = "x"\n' + BUILD + PROJECT, "[tool]"),
    ("tool-warmbuild-string", BUILD + PROJECT + '[tool]\nwarmbuild = "x"\n' + TOOL,
     "[tool.warmbuild]"),
    ("tree-build-env-dir-integer",
     BUILD + PROJECT + TOOL + "[tool.warmbuild]\nbuild-env-dir = 5\n",
     "[tool.warmbuild] build-env-dir"),
    ("tree-build-constraints-integers",
     BUILD + PROJECT + TOOL + "[tool.warmbuild]\nbuild-constraints = [1]\n",
     "[tool.warmbuild] build-constraints"),
    ("project-string", 'project = "x"\n' + BUILD + TOOL, "[project]"),
    ("name-integer", BUILD + '[project]\nname = 5\nversion = "0.1.0"\n' + TOOL,
     "[project] name"),
    ("name-invalid", BUILD + '[project]\nname = "ünï code"\nversion = "0.1.0"\n' + TOOL,
     "[project] name"),
    ("dynamic-integer", BUILD + PROJECT + "dynamic = 5\n" + TOOL, "[project] dynamic"),
    ("version-invalid", BUILD + '[project]\nname = "setuptools-pure"\n'
     'version = "not a version"\n' + TOOL, "[project] version"),
    ("version-float", BUILD + '[project]\nname = "setuptools-pure"\nversion = 1.0\n' + TOOL,
     "[project] version"),
    ("requires-python-invalid", BUILD + PROJECT + 'requires-python = ">=3.9,lots"\n' + TOOL,
     "[project] requires-python"),
    ("requires-python-integer", BUILD + PROJECT + "requires-python = 3\n" + TOOL,
     "[project] requires-python"),
    ("dependencies-string", BUILD + PROJECT + 'dependencies = "six"\n' + TOOL,
     "[project] dependencies"),
    ("dependencies-invalid", BUILD + PROJECT + 'dependencies = ["six >>> 1"]\n' + TOOL,
     "[project] dependencies"),
    ("optional-dependencies-array", BUILD + PROJECT + 'optional-dependencies = ["x"]\n' + TOOL,
     "[project] optional-dependencies"),
    ("optional-dependencies-string",
     BUILD + PROJECT + TOOL + '[project.optional-dependencies]\nfast = "six"\n',
     "[project] optional-dependencies"),
    ("optional-dependencies-invalid",
     BUILD + PROJECT + TOOL + '[project.optional-dependencies]\nfast = ["six ; bogus"]\n',
     "[project] optional-dependencies"),
    ("extra-name-invalid",
     BUILD + PROJECT + TOOL + '[project.optional-dependencies]\n"not an extra!" = ["six"]\n',
     "[project] optional-dependencies"),
]

#: (test id, warmbuild.toml text, the key the message must name)
SETTINGS_CASES = [
    ("build-constraints-integer", "build-constraints = 5\n", "build-constraints"),
    ("build-constraints-integers", "build-constraints = [1]\n", "build-constraints"),
    ("build-env-dir-integer", "build-env-dir = 5\n", "build-env-dir"),
    ("build-env-vars-integers", "build-env-vars = [1]\n", "build-env-vars"),
    ("no-build-isolation-package-string", 'no-build-isolation-package = "x"\n',
     "no-build-isolation-package"),
    ("extra-build-dependencies-array", 'extra-build-dependencies = ["six"]\n',
     "extra-build-dependencies"),
    ("extra-build-dependencies-string", '[extra-build-dependencies]\nsetuptools-pure = "six"\n',
     "extra-build-dependencies"),
    ("extra-build-dependencies-integers", "[extra-build-dependencies]\nsetuptools-pure = [1]\n",
     "extra-build-dependencies"),
    ("extra-build-dependencies-invalid",
     '[extra-build-dependencies]\nsetuptools-pure = ["six >>> 1"]\n', "extra-build-dependencies"),
    ("config-settings-package-value-integer",
     "[config-settings-package.setuptools-pure]\nlevel = 1\n", "config-settings-package"),
]


def tree(tmp_path: Path, text: str) -> Path:
    src = project(tmp_path, "setuptools-pure")
    (src / "pyproject.toml").write_text(text, encoding="utf-8")
    return src


def assert_clear_error(result: Result, filename: Path, fragment: str) -> None:
    assert "Traceback" not in result.stderr, result.stderr
    assert after_env_line(result.stderr).startswith("error: "), result.stderr
    assert str(filename) in result.stderr, result.stderr
    assert fragment in result.stderr, result.stderr


@pytest.mark.parametrize("text, fragment", [c[1:] for c in TREE_CASES],
                         ids=[c[0] for c in TREE_CASES])
def test_malformed_pyproject_install(text: str, fragment: str, wb: Runner, venv: Path,
                                     tmp_path: Path, index: IndexServer) -> None:
    src = tree(tmp_path, text)
    before = snapshot(venv)
    result = wb("install", "--python", venv, "-i", index.url, src, expect=1)
    assert_clear_error(result, src / "pyproject.toml", fragment)
    assert snapshot(venv) == before


@pytest.mark.parametrize("case", ["build-system-array", "tool-warmbuild-string",
                                  "tree-build-env-dir-integer", "backend-path-absolute",
                                  "dependencies-string", "version-invalid"])
def test_malformed_pyproject_build(case: str, wb: Runner, venv: Path, tmp_path: Path,
                                   index: IndexServer) -> None:
    ((text, fragment),) = [c[1:] for c in TREE_CASES if c[0] == case]
    src = tree(tmp_path, text)
    result = wb("build", "--python", venv, "-i", index.url, src, expect=1)
    assert_clear_error(result, src / "pyproject.toml", fragment)
    assert not (src / "dist").exists()


def test_malformed_metadata_in_dynamic_fields_is_left_to_the_backend(
        wb: Runner, venv: Path, tmp_path: Path, index: IndexServer) -> None:
    """A field the backend computes is not read as static metadata, so not checked here."""
    src = tree(tmp_path, BUILD + PROJECT.replace('version = "0.1.0"\n', "")
               + 'dynamic = ["version", "dependencies"]\n' + TOOL
               + '[tool.setuptools.dynamic]\nversion = {attr = "setuptools_pure.__version__"}\n'
               'dependencies = {file = "requirements.txt"}\n')
    (src / "setuptools_pure" / "__init__.py").write_text('__version__ = "0.2.0"\n')
    (src / "requirements.txt").write_text("")
    wb("install", "--python", venv, "-i", index.url, src)


# Configuration files are command configuration: their errors are UsageError (exit 2), as
# the existing wrong-type errors of settings.py already were.
@pytest.mark.parametrize("text, key", [c[1:] for c in SETTINGS_CASES],
                         ids=[c[0] for c in SETTINGS_CASES])
def test_malformed_warmbuild_toml(text: str, key: str, wb: Runner, venv: Path, tmp_path: Path,
                                  index: IndexServer) -> None:
    src = project(tmp_path, "setuptools-pure")
    (tmp_path / "warmbuild.toml").write_text(text)
    before = snapshot(venv)
    result = wb("install", "--python", venv, "-i", index.url, src, expect=2)
    assert_clear_error(result, tmp_path / "warmbuild.toml", f"`{key}`")
    assert snapshot(venv) == before


def test_malformed_user_config_names_the_user_config(wb: Runner, venv: Path, tmp_path: Path,
                                                     index: IndexServer) -> None:
    src = project(tmp_path, "setuptools-pure")
    user = tmp_path / "user.toml"
    user.write_text("build-constraints = [1]\n")
    result = wb("install", "--python", venv, "-i", index.url, src,
                env={"WARMBUILD_CONFIG_FILE": str(user)}, expect=2)
    assert_clear_error(result, user, "`build-constraints`")


@pytest.mark.parametrize("text, fragment", [
    ('tool = "x"\n', "[tool]"),
    ('[tool]\nwarmbuild = "x"\n', "[tool.warmbuild]"),
    ("[tool.warmbuild]\nbuild-constraints = 5\n", "`build-constraints`"),
], ids=["tool-string", "tool-warmbuild-string", "build-constraints-integer"])
def test_malformed_working_dir_pyproject(text: str, fragment: str, wb: Runner, venv: Path,
                                         tmp_path: Path, index: IndexServer) -> None:
    src = project(tmp_path, "setuptools-pure")
    work = tmp_path / "work"
    work.mkdir()
    (work / "pyproject.toml").write_text(text)
    result = wb("install", "--python", venv, "-i", index.url, src, cwd=work, expect=2)
    assert_clear_error(result, work / "pyproject.toml", fragment)


def test_unknown_key_is_still_a_warning_next_to_a_checked_one(
        wb: Runner, venv: Path, tmp_path: Path, index: IndexServer) -> None:
    src = project(tmp_path, "setuptools-pure")
    (tmp_path / "warmbuild.toml").write_text('build-constraint = ["c.txt"]\n'
                                             'build-env-vars = ["CC"]\n')
    result = wb("install", "--python", venv, "-i", index.url, src)
    assert "unknown warmbuild setting `build-constraint`" in result.stderr
    assert "did you mean `build-constraints`?" in result.stderr
