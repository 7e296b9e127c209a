"""What to do with a tree's build env this run: a pure decision, made before anything changes.

:func:`plan_env` maps (the manifest, or why there is none; the run's inputs) to a frozen
:class:`EnvPlan`: reuse it, sync it in place to an exact set, recreate it at the same path,
or create it. The executor (``session``) carries the plan out; the plan's reason is what the
build line prints and what the manifest's history records.

``get_requires_for_build_*`` answers are kept per hook kind (:func:`merge_answer`): while the
inputs an answer depends on are unchanged, a later, shorter answer never removes what an
earlier one added, because a backend that asks for ninja only when none is on PATH answers
differently once the env holds the ninja it asked for.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from .manifest import Manifest

Action = Literal["reuse", "sync", "recreate", "create"]

#: Why an env is rebuilt from nothing at its path; an interrupted sync is repaired in place.
INTERRUPTED = "an earlier sync was interrupted"


@dataclass(frozen=True)
class EnvInputs:
    """What this run asks of the env."""

    #: ``build-system.requires`` plus ``extra-build-dependencies``.
    declared: tuple[str, ...]
    #: The interpreter's identity (``key.interpreter_identity``).
    identity: Mapping[str, str]
    #: Facts for the manifest: tree, backend, config settings, env vars, constraints digest.
    record: Mapping[str, Any]
    #: Every hook kind's kept ``get_requires_*`` answer (after :func:`merge_answer`).
    extras: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: The inputs each kept answer was given for.
    extras_basis: Mapping[str, str] = field(default_factory=dict)
    refresh: bool = False
    upgrade: bool = False

    @property
    def wanted(self) -> tuple[str, ...]:
        return tuple(sorted(set(self.declared) | {r for rs in self.extras.values() for r in rs}))


@dataclass(frozen=True)
class EnvPlan:
    action: Action
    #: Why it is not reused ("interpreter changed", "--refresh-build-env", ...), and the
    #: inputs that change the build but not the env ("config settings changed").
    reason: str
    #: The exact requirement set the env is synced to.
    wanted: tuple[str, ...]
    #: Requested requirements added and removed since the manifest's (for a sync).
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    #: Re-resolve (``-U``) rather than keep what is installed.
    upgrade: bool = False
    #: Remove whatever stands at the env's path first.
    clear: bool = False


def plan_env(manifest: Manifest | None, inputs: EnvInputs, *, exists: bool,
             damage: str = "") -> EnvPlan:
    """The decision for one ``ensure``; ``damage`` says why an existing manifest was unusable."""
    wanted = inputs.wanted
    if manifest is None:
        # A damaged manifest is not repaired in place like an interrupted sync: nothing in
        # it (what was installed, for which interpreter) can be trusted.
        if not exists:
            return EnvPlan("create", "", wanted, upgrade=inputs.upgrade)
        why = f"damaged manifest ({damage})" if damage else "no manifest"
        return EnvPlan("recreate", why, wanted, upgrade=inputs.upgrade, clear=True)
    notes = input_changes(manifest.data, inputs.record)
    fresh = ""
    if manifest.interpreter != inputs.identity:
        fresh = "interpreter changed"
    elif inputs.refresh:
        fresh = "--refresh-build-env"
    if fresh:
        return EnvPlan("recreate", _join(fresh, notes), wanted, upgrade=inputs.upgrade,
                       clear=True)
    before = set(manifest.requested or ())
    added = tuple(sorted(set(wanted) - before))
    removed = tuple(sorted(before - set(wanted)))
    if not manifest.complete:
        return EnvPlan("sync", _join(INTERRUPTED, notes), wanted, added, removed,
                       upgrade=inputs.upgrade)
    same_constraints = manifest.data.get("build_constraints") == inputs.record.get(
        "build_constraints")
    if manifest.requested == wanted and same_constraints and not inputs.upgrade:
        return EnvPlan("reuse", notes, wanted)
    return EnvPlan("sync", notes, wanted, added, removed, upgrade=inputs.upgrade)


def answer_basis(declared: Sequence[str], record: Mapping[str, Any]) -> str:
    """The inputs a ``get_requires_*`` answer depends on, besides the env itself."""
    parts = [sorted(declared), record.get("config_settings"), record.get("env_vars"),
             record.get("build_constraints")]
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


def merge_answer(manifest: Manifest | None, kind: str, answer: Sequence[str], basis: str, *,
                 replace: bool, protect: bool) -> tuple[str, ...]:
    """The answer of ``kind`` to keep.

    - Same basis as the kept answer: the union, so an answer that the env's own tools
      shortened removes nothing (the env is reused, whatever is on the system's PATH).
    - ``replace`` (``-U``, a new basis): the new answer, asked in a view of the env that hides
      what earlier answers added (``BuildEnv.requires_environ``), so it is what a fresh env
      would be told.
    - ``protect``: the env serves an editable install that this run does not replace, whose
      rebuild-on-import may call a tool an earlier answer added: never drop one.
    """
    old = set(manifest.extras.get(kind, ())) if manifest else set()
    same = manifest is not None and manifest.extras_basis.get(kind) == basis
    keep = protect or (same and not replace)
    return tuple(sorted(set(answer) | (old if keep else set())))


def input_changes(manifest: Mapping[str, Any], record: Mapping[str, Any]) -> str:
    """Inputs that do not change the env's contents but do change the build: say so."""
    notes = []
    if "config_settings" in manifest and manifest["config_settings"] != record.get(
            "config_settings"):
        notes.append("config settings changed")
    old, new = manifest.get("env_vars", {}), record.get("env_vars", {})
    changed = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
    if changed and "env_vars" in manifest:
        notes.append(f"{', '.join(changed)} changed")
    return "; ".join(notes)


def diff(before: Mapping[str, str], after: Mapping[str, str]) -> tuple[str, ...]:
    """What a sync changed, as the build line shows it (``+ six 1.17.0``, ``cmake a -> b``)."""
    changes = [f"+ {n} {after[n]}" for n in sorted(after) if n not in before]
    changes += [f"- {n} {before[n]}" for n in sorted(before) if n not in after]
    changes += [f"{n} {before[n]} -> {after[n]}" for n in sorted(after)
                if n in before and before[n] != after[n]]
    return tuple(changes)


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)
