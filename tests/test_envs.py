"""`warmbuild env list|show|remove|prune`, `doctor`, and reported invalidation."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from conftest import Runner, create_venv, pip
from support.indexserver import IndexServer
from test_build import envs, project


def env_list(wb: Runner) -> list[dict[str, object]]:
    return json.loads(wb("env", "list", "--format", "json").stdout)  # type: ignore[no-any-return]


def test_list_show_and_editable_dependents(wb: Runner, venv: Path, tmp_path: Path,
                                           index: IndexServer) -> None:
    src = project(tmp_path, "setuptools-pure")
    wb("install", "--python", venv, "-i", index.url, "-e", src)
    (entry,) = env_list(wb)
    assert entry["tree"] == str(src) and entry["state"] == "complete"
    assert entry["editables"] == [str(venv)]
    assert "editable install in" in wb("env", "list").stdout
    show = wb("env", "show", src).stdout
    assert "declared:    setuptools>=70" in show and "installed:   setuptools" in show
    assert " created" in show
    assert json.loads(wb("env", "show", src, "--format", "json").stdout)[0]["manifest"][
        "backend"] == "setuptools.build_meta"


def test_prune_keeps_envs_that_editable_installs_use(wb: Runner, venv: Path, tmp_path: Path,
                                                     index: IndexServer) -> None:
    src = project(tmp_path, "setuptools-pure")
    other = project(tmp_path / "b", "flit-pure")
    wb("install", "--python", venv, "-i", index.url, "-e", src, other)
    paths = {e["tree"]: e["path"] for e in env_list(wb)}
    shutil.rmtree(src)
    shutil.rmtree(other)
    states = {e["tree"]: e["state"] for e in env_list(wb)}
    assert states == {str(src): "tree gone", str(other): "tree gone"}
    result = wb("env", "prune")
    assert sorted(result.stdout.splitlines()) == [
        f"Kept {paths[str(src)]} (an editable install in {venv} uses it (--force to remove))",
        f"Removed {paths[str(other)]} (tree gone)",
    ]
    assert [e["tree"] for e in env_list(wb)] == [str(src)], "the non-editable env went"
    wb("uninstall", "--python", venv, "setuptools-pure")
    wb("env", "prune")
    assert env_list(wb) == []


def test_remove_never_touches_the_tree_and_respects_editables(
        wb: Runner, venv: Path, tmp_path: Path, index: IndexServer) -> None:
    src = project(tmp_path, "setuptools-pure")
    wb("install", "--python", venv, "-i", index.url, "-e", src)
    # Recreated at the same path (here for another target), it still serves the editable.
    wb("install", "--python", create_venv(tmp_path / "other"), "-i", index.url,
       "--refresh-build-env", src)
    before = sorted(p.name for p in src.iterdir())
    refused = wb("env", "remove", src, expect=1)
    assert "editable install in" in refused.stdout and len(envs(wb)) == 1
    wb("env", "remove", src, "--force")
    assert envs(wb) == []
    assert sorted(p.name for p in src.iterdir()) == before
    assert "has no build environment" in wb("env", "show", src, expect=1).stderr


def test_prune_older_than_and_dry_run(wb: Runner, venv: Path, tmp_path: Path,
                                      index: IndexServer) -> None:
    src = project(tmp_path, "setuptools-pure")
    wb("install", "--python", venv, "-i", index.url, src)
    assert "Nothing to remove" in wb("env", "prune", "--older-than", "30d").stdout
    dry = wb("env", "prune", "--older-than", "0m", "--dry-run").stdout
    assert "Would remove" in dry and len(envs(wb)) == 1
    wb("env", "prune", "--older-than", "0m")
    assert envs(wb) == []
    assert "expected a number" in wb("env", "prune", "--older-than", "soon", expect=2).stderr


def test_cache_clean_keeps_envs_of_editable_installs(wb: Runner, venv: Path, tmp_path: Path,
                                                     index: IndexServer) -> None:
    src = project(tmp_path, "setuptools-pure")
    wb("install", "--python", venv, "-i", index.url, "-e", src)
    result = wb("cache", "clean")
    assert "Kept" in result.stderr and len(envs(wb)) == 1
    wb("cache", "clean", "--force")
    assert envs(wb) == []


def test_changed_inputs_are_reported(wb: Runner, venv: Path, tmp_path: Path,
                                     index: IndexServer) -> None:
    src = project(tmp_path, "setuptools-pure")
    wb("install", "--python", venv, "-i", index.url, src, "-C", "a=1")
    again = wb("install", "--python", venv, "-i", index.url, src, "-C", "a=2")
    assert "reused build env (config settings changed)" in again.stderr
    flags = wb("install", "--python", venv, "-i", index.url, src, "-C", "a=2",
               env={"CFLAGS": "-O0"})
    assert "reused build env (CFLAGS changed)" in flags.stderr
    history = [h["event"] for h in json.loads(wb("env", "show", src, "--format", "json")
                                              .stdout)[0]["manifest"]["history"]]
    assert history == ["created"]


def test_doctor_explains_a_tree_pip_left_broken(wb: Runner, venv: Path, tmp_path: Path,
                                                index: IndexServer) -> None:
    src = project(tmp_path, "setuppy-cmake")
    pip(venv, "install", "--index-url", index.url, str(src))
    report = wb("doctor", src, expect=1).stdout
    assert "build/CMakeCache.txt: CMAKE_MAKE_PROGRAM" in report
    assert "pip-build-env-" in report
    assert "a deleted temporary build env of another frontend" in report
    assert "no warmbuild build env yet" in report

    fixed = project(tmp_path / "fixed", "setuppy-cmake")
    wb("install", "--python", venv, "-i", index.url, fixed)
    report = wb("doctor", fixed).stdout
    assert "ok: in a warmbuild build env" in report and "complete" in report


def test_interpreter_upgraded_in_place_is_noticed(wb: Runner, venv: Path, tmp_path: Path,
                                                  index: IndexServer) -> None:
    src = project(tmp_path, "setuptools-pure")
    wb("install", "--python", venv, "-i", index.url, src)
    (env,) = envs(wb)
    manifest_file = env / "warmbuild-env.json"
    data = json.loads(manifest_file.read_text())
    # What the manifest says after the interpreter at the same path went 3.x.0 -> today's.
    data["interpreter"]["version"] = "3.0.0"
    manifest_file.write_text(json.dumps(data))
    assert env_list(wb)[0]["state"] == "interpreter changed"
    result = wb("install", "--python", venv, "-i", index.url, src)
    assert "recreated build env: interpreter changed" in result.stderr
    assert envs(wb) == [env] and env_list(wb)[0]["state"] == "complete"


def test_doctor_finds_a_meson_editable_loader_pointing_into_a_deleted_env(
        wb: Runner, venv: Path, tmp_path: Path, index: IndexServer) -> None:
    src = project(tmp_path, "meson-pybind")
    pip(venv, "install", "--index-url", index.url, "-e", str(src))
    report = wb("doctor", src, "--python", venv, expect=1).stdout
    assert "_meson_pybind_editable_loader.py: rebuild command" in report
    assert "a deleted temporary build env of another frontend" in report
    # meson cannot reuse a build dir configured from a deleted env: the failure says so.
    failed = wb("install", "--python", venv, "-i", index.url, "-e", src, "--no-adopt",
                expect=1)
    assert "in a deleted temporary build env of another frontend: run again without " \
        "--no-adopt" in failed.stderr
    shutil.rmtree(src / "build")
    wb("install", "--python", venv, "-i", index.url, "-e", src)
    report = wb("doctor", src, "--python", venv).stdout
    assert "rebuild command" in report and "ok: in a warmbuild build env" in report


def test_an_env_outlives_the_venv_it_was_first_made_for(wb: Runner, tmp_path: Path,
                                                        index: IndexServer) -> None:
    # Its own interpreter links to the base one: deleting that first target venv must not
    # make it "interpreter gone" (and prunable) while other venvs of that base can use it.
    src = project(tmp_path, "setuptools-pure")
    first = create_venv(tmp_path / "first")
    wb("install", "--python", first, "-i", index.url, src)
    shutil.rmtree(first)
    (listed,) = json.loads(wb("env", "list", "--format", "json").stdout)
    assert listed["state"] == "complete"
    assert "Removed" not in wb("env", "prune").stdout
    again = wb("install", "--python", create_venv(tmp_path / "second"), "-i", index.url, src)
    assert "reused build env" in again.stderr
