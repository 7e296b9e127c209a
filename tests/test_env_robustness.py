"""Damaged build env manifests and registry entries: listed, explained, pruned, repaired.

Each case starts from a real env made by a real install, damages it the way a fuzzer, a
full disk or a careless hand did, and then drives `env list|show|prune` and `install`.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import Result, Runner
from support.indexserver import IndexServer
from test_build import envs, project

MANIFEST = "warmbuild-env.json"


def _edit(change: Callable[[dict[str, object]], object]) -> Callable[[Path], object]:
    def damage(manifest: Path) -> None:
        data = json.loads(manifest.read_text())
        change(data)
        manifest.write_text(json.dumps(data))
    return damage


def _write(text: bytes) -> Callable[[Path], object]:
    return lambda manifest: manifest.write_bytes(text)


def _make_dir(path: Path) -> None:
    path.unlink()
    (path / "inner").mkdir(parents=True)


#: name -> (how the manifest is damaged, words the explanation must contain)
MANIFEST_DAMAGE: dict[str, tuple[Callable[[Path], object], str]] = {
    "array": (_write(b"[]"), "not a JSON object"),
    "tree-number": (_edit(lambda d: d.update(tree=5)), "`tree`"),
    "not-json": (_write(b"{complete: yes"), "not JSON"),
    "empty": (_write(b""), "empty"),
    "not-utf8": (_write(b'{"tree": "\xff\xfe"}'), "not UTF-8"),
    "too-deep": (_write(b"[" * 100_000), "nested too deeply"),
    "missing-keys": (_edit(lambda d: d.pop("interpreter")), "`interpreter` is missing"),
    "history": (_edit(lambda d: d.update(history=[{"time": "today", "event": 1}])),
                "`history`"),
    "requirements": (_edit(lambda d: d.update(resolved=["setuptools"])), "`resolved`"),
    "extras": (_edit(lambda d: d.update(extras={"wheel": "wheel"})), "`extras`"),
    "times": (_edit(lambda d: d.update(last_used=float("nan"))), "`last_used`"),
    "huge-time": (_edit(lambda d: d.update(created=1e300)), "`created`"),
    "complete-string": (_edit(lambda d: d.update(complete="yes")), "`complete`"),
    "manifest-is-a-dir": (_make_dir, "cannot be read"),
}


def no_traceback(result: Result) -> Result:
    assert "Traceback" not in result.output, result.output
    return result


def env_list(wb: Runner) -> list[dict[str, object]]:
    result = no_traceback(wb("env", "list", "--format", "json"))
    return json.loads(result.stdout)  # type: ignore[no-any-return]


@pytest.mark.parametrize("case", sorted(MANIFEST_DAMAGE))
def test_a_damaged_manifest_is_listed_shown_and_pruned(
        wb: Runner, venv: Path, tmp_path: Path, index: IndexServer, case: str) -> None:
    src = project(tmp_path, "setuptools-pure")
    wb("install", "--python", venv, "-i", index.url, src)
    (env,) = envs(wb)
    damage, why = MANIFEST_DAMAGE[case]
    damage(env / MANIFEST)

    (entry,) = env_list(wb)
    assert entry["state"] == "damaged" and entry["path"] == str(env)
    assert str(env / MANIFEST) in str(entry["problem"]) and why in str(entry["problem"])
    text = no_traceback(wb("env", "list")).stdout
    assert f"damaged manifest {env / MANIFEST}" in text and why in text
    assert text.rstrip().endswith("damaged")

    shown = no_traceback(wb("env", "show", env)).stdout
    assert f"{env} (damaged" in shown and str(env / MANIFEST) in shown and why in shown
    (as_json,) = json.loads(no_traceback(wb("env", "show", env, "--format", "json")).stdout)
    assert as_json["state"] == "damaged" and as_json["manifest"] == {}

    pruned = no_traceback(wb("env", "prune")).stdout
    assert f"Removed {env} (damaged)" in pruned
    assert envs(wb) == [] and env_list(wb) == []
    no_traceback(wb("install", "--python", venv, "-i", index.url, src, "--reinstall"))
    assert [e["state"] for e in env_list(wb)] == ["complete"]


@pytest.mark.parametrize("case", ["array", "tree-number", "history", "manifest-is-a-dir",
                                  "not-utf8"])
def test_a_build_recreates_an_env_whose_manifest_is_damaged(
        wb: Runner, venv: Path, tmp_path: Path, index: IndexServer, case: str) -> None:
    src = project(tmp_path, "setuptools-pure")
    wb("install", "--python", venv, "-i", index.url, src)
    (env,) = envs(wb)
    MANIFEST_DAMAGE[case][0](env / MANIFEST)
    again = no_traceback(wb("install", "--python", venv, "-i", index.url, src, "--reinstall"))
    assert "recreated build env: damaged manifest (" in again.stderr
    assert envs(wb) == [env], "recreated at the same path"
    (entry,) = env_list(wb)
    assert entry["state"] == "complete" and entry["tree"] == str(src)
    history = json.loads(wb("env", "show", src, "--format", "json").stdout)[0]["manifest"][
        "history"]
    assert [h["event"] for h in history] == ["recreated"]


def test_a_file_where_the_env_dir_should_be_is_replaced(
        wb: Runner, venv: Path, tmp_path: Path, index: IndexServer) -> None:
    src = project(tmp_path, "setuptools-pure")
    wb("install", "--python", venv, "-i", index.url, src)
    (env,) = envs(wb)
    shutil.rmtree(env)
    env.write_text("not an env")
    again = no_traceback(wb("install", "--python", venv, "-i", index.url, src, "--reinstall"))
    assert "recreated build env: damaged manifest (cannot be read" in again.stderr
    assert env.is_dir() and [e["state"] for e in env_list(wb)] == ["complete"]


def test_a_symlinked_env_dir_is_unlinked_by_prune_not_followed(
        wb: Runner, venv: Path, tmp_path: Path, index: IndexServer) -> None:
    src = project(tmp_path, "setuptools-pure")
    wb("install", "--python", venv, "-i", index.url, src)
    (env,) = envs(wb)
    decoy = tmp_path / "decoy"
    (decoy / "keep").mkdir(parents=True)
    (env.parent / "odd-0123456789ab").symlink_to(decoy)
    states = {e["path"]: e["state"] for e in env_list(wb)}
    assert states == {str(env): "complete", str(env.parent / "odd-0123456789ab"): "unknown"}
    no_traceback(wb("env", "prune"))
    assert (decoy / "keep").is_dir(), "prune followed a symlink out of the cache"
    assert [e["path"] for e in env_list(wb)] == [str(env)]


def test_an_editable_marker_still_keeps_an_env_with_a_damaged_manifest(
        wb: Runner, venv: Path, tmp_path: Path, index: IndexServer) -> None:
    src = project(tmp_path, "setuptools-pure")
    wb("install", "--python", venv, "-i", index.url, "-e", src)
    (env,) = envs(wb)
    # The editables field survives: the install's marker proves it needs the env.
    MANIFEST_DAMAGE["history"][0](env / MANIFEST)
    (entry,) = env_list(wb)
    assert entry["state"] == "damaged" and entry["editables"] == [str(venv)]
    assert entry["tree"] == str(src), "the sound `tree` field is kept"
    assert "damaged" in no_traceback(wb("env", "show", src)).stdout
    kept = no_traceback(wb("env", "prune")).stdout
    assert f"Kept {env}" in kept and "editable install in" in kept and envs(wb) == [env]
    # Nothing left to say where editable installs are: nothing proves one needs it.
    MANIFEST_DAMAGE["array"][0](env / MANIFEST)
    assert env_list(wb)[0]["editables"] == []
    assert f"Removed {env} (damaged)" in no_traceback(wb("env", "prune")).stdout
    no_traceback(wb("install", "--python", venv, "-i", index.url, "-e", src))
    assert env_list(wb)[0]["editables"] == [str(venv)]


def _registry_damage(entry: Path, tmp_path: Path) -> None:
    entry.write_text(str(tmp_path / "decoy-0123456789ab"))


#: name -> (how the registry entry is damaged, words the explanation must contain)
REGISTRY_DAMAGE: dict[str, tuple[Callable[[Path, Path], object], str]] = {
    "directory": (lambda e, _t: _make_dir(e), "cannot be read"),
    "not-utf8": (lambda e, _t: e.write_bytes(b"/tmp/\xff\xfe"), "not UTF-8"),
    "other-path": (_registry_damage, "does not name the env"),
}


@pytest.mark.parametrize("case", sorted(REGISTRY_DAMAGE))
def test_a_damaged_registry_entry_is_listed_pruned_and_healed(
        wb: Runner, venv: Path, tmp_path: Path, index: IndexServer, case: str) -> None:
    src = project(tmp_path, "setuptools-pure")
    outside = tmp_path / "build-envs"
    wb("install", "--python", venv, "-i", index.url, src, "--build-env-dir", outside)
    (env,) = (p for p in outside.iterdir() if p.is_dir())
    (entry,) = (Path(wb.env["WARMBUILD_CACHE_DIR"]) / "envs-v1" / "registry").iterdir()
    decoy = tmp_path / "decoy-0123456789ab"
    (decoy / "keep").mkdir(parents=True)
    damage, why = REGISTRY_DAMAGE[case]
    damage(entry, tmp_path)

    (listed,) = env_list(wb)
    assert listed["state"] == "damaged" and listed["path"] == str(entry)
    assert f"registry entry {entry}: " in str(listed["problem"]) and why in str(
        listed["problem"])
    text = no_traceback(wb("env", "list")).stdout
    assert f"damaged registry entry {entry}" in text
    shown = no_traceback(wb("env", "show", entry)).stdout
    assert f"{entry} (damaged" in shown and why in shown

    assert f"Removed {entry} (damaged)" in no_traceback(wb("env", "prune")).stdout
    assert not entry.exists() and env_list(wb) == []
    assert (env / MANIFEST).is_file() and (decoy / "keep").is_dir(), "only the entry went"
    no_traceback(wb("install", "--python", venv, "-i", index.url, src, "--reinstall",
                    "--build-env-dir", outside))
    assert [(e["path"], e["state"]) for e in env_list(wb)] == [(str(env), "complete")]


def test_a_registry_entry_in_the_way_is_replaced_by_the_next_build(
        wb: Runner, venv: Path, tmp_path: Path, index: IndexServer) -> None:
    src = project(tmp_path, "setuptools-pure")
    outside = tmp_path / "build-envs"
    wb("install", "--python", venv, "-i", index.url, src, "--build-env-dir", outside)
    (env,) = (p for p in outside.iterdir() if p.is_dir())
    (entry,) = (Path(wb.env["WARMBUILD_CACHE_DIR"]) / "envs-v1" / "registry").iterdir()
    _make_dir(entry)
    # Recreating the env registers it again, onto the directory in the way.
    no_traceback(wb("install", "--python", venv, "-i", index.url, src, "--reinstall",
                    "--refresh-build-env", "--build-env-dir", outside))
    assert entry.is_file()
    assert [(e["path"], e["state"]) for e in env_list(wb)] == [(str(env), "complete")]
