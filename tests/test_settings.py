"""Per-package build settings from [tool.warmbuild], warmbuild.toml and the user config."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import Runner, installed
from support.indexserver import IndexServer
from test_build import envs, project


def manifest(env: Path) -> dict[str, object]:
    return json.loads((env / "warmbuild-env.json").read_text())  # type: ignore[no-any-return]


def test_extra_build_dependencies_from_the_working_dirs_pyproject(
        wb: Runner, venv: Path, tmp_path: Path, index: IndexServer) -> None:
    src = project(tmp_path, "setuptools-pure")
    work = tmp_path / "work"
    work.mkdir()
    (work / "pyproject.toml").write_text(
        '[tool.warmbuild.extra-build-dependencies]\nsetuptools-pure = ["six"]\n')
    wb("install", "--python", venv, "-i", index.url, src, cwd=work)
    (env,) = envs(wb)
    assert "six" in manifest(env)["resolved"]  # type: ignore[operator]


def test_no_build_isolation_package_from_warmbuild_toml(wb: Runner, venv: Path, tmp_path: Path,
                                                       index: IndexServer) -> None:
    src = project(tmp_path, "setuptools-pure")
    work = tmp_path / "work"
    work.mkdir()
    (work / "warmbuild.toml").write_text('no-build-isolation-package = ["setuptools-pure"]\n')
    result = wb("install", "--python", venv, "-i", index.url, src, cwd=work, expect=1)
    assert "--no-build-isolation: the target" in result.stderr
    wb("install", "--python", venv, "-i", index.url, "setuptools", cwd=work)
    wb("install", "--python", venv, "-i", index.url, src, cwd=work)
    assert "setuptools_pure" in installed(venv) and envs(wb) == []


def test_config_settings_package_from_user_config_and_flag_precedence(
        wb: Runner, venv: Path, tmp_path: Path, index: IndexServer) -> None:
    src = project(tmp_path, "config-settings-echo")
    user = tmp_path / "user.toml"
    user.write_text('[config-settings-package.config-settings-echo]\ncolor = "red"\n'
                    'size = "L"\n')
    echo = tmp_path / "echo.json"
    wb("install", "--python", venv, "-i", index.url, src, "-C", "color=blue",
       env={"WARMBUILD_CONFIG_FILE": str(user), "WARMBUILD_TEST_ECHO": str(echo)})
    seen = [json.loads(line) for line in echo.read_text().splitlines()]
    assert seen and all(e["config_settings"] == {"color": "blue", "size": "L"} for e in seen)


def test_build_constraints_apply_to_build_envs(wb: Runner, venv: Path, tmp_path: Path,
                                               index: IndexServer) -> None:
    src = project(tmp_path, "setuptools-pure")
    constraints = tmp_path / "build-constraints.txt"
    constraints.write_text("setuptools<1\n")
    result = wb("install", "--python", venv, "-i", index.url, src, "--build-constraint",
                constraints, expect=1)
    assert "cannot install the build requirements into the build env" in result.stderr
    assert "setuptools" in result.stderr
    constraints.write_text("setuptools==82.0.1\n")
    wb("install", "--python", venv, "-i", index.url, src,
       env={"WARMBUILD_BUILD_CONSTRAINT": str(constraints)})
    assert manifest(envs(wb)[0])["resolved"] == {"setuptools": "82.0.1"}


def test_build_env_vars_are_part_of_the_key(wb: Runner, venv: Path, tmp_path: Path,
                                            index: IndexServer) -> None:
    src = project(tmp_path, "setuptools-pure")
    pyproject = src / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + '\n[tool.warmbuild]\nbuild-env-vars = '
                         '["MY_FLAVOR"]\n')
    for flavor in ("a", "b", "a"):
        wb("install", "--python", venv, "-i", index.url, src, cwd=src,
           env={"MY_FLAVOR": flavor})
    assert len(envs(wb)) == 2
    assert {manifest(e)["env_vars"]["MY_FLAVOR"] for e in envs(wb)} == {"a", "b"}  # type: ignore[index]


def test_unknown_setting_is_a_warning_with_a_suggestion(
        wb: Runner, venv: Path, tmp_path: Path, index: IndexServer) -> None:
    src = project(tmp_path, "setuptools-pure")
    (tmp_path / "warmbuild.toml").write_text('no-build-isolation-packages = ["x"]\n')
    result = wb("install", "--python", venv, "-i", index.url, src, cwd=tmp_path)
    assert "unknown warmbuild setting `no-build-isolation-packages`" in result.stderr
    assert "did you mean `no-build-isolation-package`?" in result.stderr
    (tmp_path / "warmbuild.toml").write_text('build-env-vars = "CC"\n')
    bad = wb("install", "--python", venv, "-i", index.url, src, cwd=tmp_path, expect=2)
    assert "`build-env-vars`" in bad.stderr and "must be a list of strings" in bad.stderr
