"""Carrying out an :class:`~.plan.EnvPlan` on a locked env: create, clear, sync, record.

A session holds the env's lock for one run; every hook of the run goes through it, so
metadata and build hooks use one env (uv#14269 is two envs in one run).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name

from .._log import logger, progress
from ..cache import Cache, atomic_write
from ..errors import BuildError
from ..python import Target, query_target
from .env import BuildEnv
from .key import interpreter_identity
from .manifest import MANIFEST, MANIFEST_VERSION, Damaged, Manifest, read_manifest
from .plan import EnvInputs, EnvPlan, answer_basis, diff, merge_answer, plan_env
from .registry import register

_HISTORY = 20



class EnvInstaller(Protocol):
    def install_exact(self, env: Target, requirements: Sequence[str], *,
                      upgrade: bool) -> Mapping[str, str]:
        """Install exactly ``requirements`` into ``env`` (removing anything else; preferring
        what is installed unless ``upgrade``); ``{name: version}`` of what it then holds."""
        ...

_DONE = {"create": "created", "recreate": "recreated", "sync": "synced"}


@dataclass(frozen=True)
class EnvReport:
    """What a run did to the env, for the one line every build prints."""

    action: Literal["created", "reused", "synced", "recreated"]
    path: Path
    changes: tuple[str, ...] = ()
    reason: str = ""

    def __str__(self) -> str:
        if self.action == "reused":
            return "reused build env" + (f" ({self.reason})" if self.reason else "")
        detail = "; ".join(filter(None, [", ".join(self.changes), self.reason]))
        return f"{self.action} build env" + (f": {detail}" if detail else "")


@dataclass
class EnvSession:
    """A locked env for one run; ``ensure`` makes it hold what is asked, as cheaply as it can."""

    env_dir: Path
    base: Target
    installer: EnvInstaller
    cache: Cache
    refresh: bool = False
    upgrade: bool = False
    reports: list[EnvReport] = field(default_factory=list)
    _env: BuildEnv | None = None

    def _read(self) -> tuple[Manifest | None, str]:
        try:
            return read_manifest(self.env_dir), ""
        except Damaged as exc:
            return None, exc.problem

    def ensure(self, declared: Sequence[str], *, record: Mapping[str, Any],
               kind: str | None = None, answer: Sequence[str] = (), replace: bool = False,
               replacing: Path | None = None) -> BuildEnv:
        """An env holding ``declared`` plus the kept ``get_requires_*`` answer of every hook
        kind seen so far (so switching between ``install .`` and ``install -e .`` does not
        churn it); ``kind`` and ``answer`` are this run's answer for one kind, kept as
        :func:`~.plan.merge_answer` says. ``replacing``: the prefix whose editable install
        this run replaces. ``record`` goes into the manifest.
        """
        manifest, damage = self._read()
        extras = dict(manifest.extras) if manifest else {}
        bases = dict(manifest.extras_basis) if manifest else {}
        if kind is not None:
            basis = answer_basis(declared, record)
            extras[kind] = merge_answer(manifest, kind, answer, basis, replace=replace,
                                        protect=_serves_others(manifest, replacing))
            bases[kind] = basis
        inputs = EnvInputs(tuple(sorted(set(declared))), interpreter_identity(self.base),
                           record, extras, bases, refresh=self.refresh, upgrade=self.upgrade)
        plan = plan_env(manifest, inputs, exists=os.path.lexists(self.env_dir), damage=damage)
        self.refresh = False
        logger.debug("Build env plan: %s", plan)
        return self._execute(plan, manifest, inputs)

    def hidden_by_answers(self, declared: Sequence[str]) -> set[NormalizedName]:
        """Projects in the env only because a ``get_requires_*`` answer asked for them."""
        manifest, _ = self._read()
        if manifest is None:
            return set()
        named = {canonicalize_name(Requirement(r).name) for r in declared}
        asked = {canonicalize_name(Requirement(r).name)
                 for rs in manifest.extras.values() for r in rs}
        return asked - named

    def _execute(self, plan: EnvPlan, manifest: Manifest | None,
                 inputs: EnvInputs) -> BuildEnv:
        record = {**inputs.record, "declared": list(inputs.declared),
                  "extras": {k: list(v) for k, v in inputs.extras.items()},
                  "extras_basis": dict(inputs.extras_basis)}
        if plan.action == "reuse":
            assert manifest is not None
            env = self._open()
            self._write(dict(manifest.data), complete=True, record=record, event=None)
            if not self.reports:
                self.reports.append(EnvReport("reused", self.env_dir, reason=plan.reason))
            return env
        logs = None
        if plan.clear and os.path.lexists(self.env_dir):
            logs = _clear(self.env_dir)
        created = not self.env_dir.exists()
        try:
            if created:
                self._create()
        finally:
            if logs is not None:
                # The logs of the builds before: an error may have named one of them.
                self.env_dir.mkdir(parents=True, exist_ok=True)
                os.replace(logs, self.env_dir / "logs")
        env = self._open()
        kept = manifest is not None and not created
        before = dict(manifest.resolved) if manifest and kept else {}
        data = dict(manifest.data) if manifest and kept else {}
        if manifest is not None and manifest.editables:
            # Recreated at the same path, the env still serves the editable installs that
            # point at it: prune and `env remove` must go on knowing.
            data["editables"] = manifest.data["editables"]
        self._write(dict(data), complete=False, record=record, event=None)
        progress.info("Syncing build env (%d requirements)", len(plan.wanted))
        resolved = dict(self.installer.install_exact(env.target, plan.wanted,
                                                     upgrade=plan.upgrade))
        self.upgrade = False
        action = _DONE[plan.action]
        reason = plan.reason
        if plan.action == "create":
            reason = _other_interpreters(self.env_dir, str(inputs.record.get("tree", "")))
        report = EnvReport(action, self.env_dir,  # type: ignore[arg-type]
                           diff(before, resolved) if action == "synced" else (), reason)
        self._write({**data, "requested": list(plan.wanted), "resolved": resolved},
                    complete=True, record=record, event=report)
        self.reports.append(report)
        return env

    def note(self, values: Mapping[str, Any]) -> None:
        """Record facts of this run's build (the compiler cache's figures) in the manifest,
        for ``env show``; they are no input of the env's plan."""
        manifest, _ = self._read()
        if manifest is None:
            return
        data = {**manifest.data, **values}
        atomic_write(self.env_dir / MANIFEST, json.dumps(data, indent=1).encode())

    def add_editable(self, prefix: Path, dist_name: str) -> None:
        """Remember that ``prefix`` holds an editable install that needs this env."""
        manifest, _ = self._read()
        if manifest is None:
            return  # damaged since this run wrote it: the next run recreates the env
        entry = {"prefix": str(prefix), "dist": dist_name}
        data = dict(manifest.data)
        data["editables"] = [e for e in data.get("editables", []) if e != entry] + [entry]
        atomic_write(self.env_dir / MANIFEST, json.dumps(data, indent=1).encode())

    def _create(self) -> None:
        progress.info("Creating build env at %s", self.env_dir)
        self.env_dir.parent.mkdir(parents=True, exist_ok=True)
        register(self.cache, self.env_dir)
        proc = subprocess.run(
            [str(self.base.executable), "-m", "venv", "--without-pip", str(self.env_dir)],
            capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise BuildError(f"cannot create a build env at {self.env_dir}",
                             cause=proc.stderr.strip()[-500:] or None)

    def _open(self) -> BuildEnv:
        if self._env is None:
            python = self.env_dir / "bin" / "python"
            if not python.exists():
                raise BuildError(f"the build env at {self.env_dir} has no interpreter",
                                 hint="run again with --refresh-build-env")
            self._env = BuildEnv(self.env_dir, query_target(python, self.cache))
            # On every run, not only at creation: an entry lost or damaged since is healed.
            register(self.cache, self.env_dir)
        return self._env

    def _write(self, manifest: dict[str, Any], *, complete: bool, record: Mapping[str, Any],
               event: EnvReport | None) -> None:
        now = time.time()
        history = list(manifest.get("history", []))
        if event is not None:
            history.append({"time": now, "event": event.action, "changes": list(event.changes),
                            "reason": event.reason})
        manifest.update(record)
        manifest.update({
            "version": MANIFEST_VERSION, "interpreter": interpreter_identity(self.base),
            "python": str(self.base.executable), "complete": complete, "last_used": now,
            "history": history[-_HISTORY:],
        })
        manifest.setdefault("created", now)
        atomic_write(self.env_dir / MANIFEST, json.dumps(manifest, indent=1).encode())


def _serves_others(manifest: Manifest | None, replacing: Path | None) -> bool:
    """Whether the env serves an editable install, in a prefix that still exists, that this
    run does not replace."""
    if manifest is None:
        return False
    return any(os.path.isdir(prefix) and Path(prefix) != replacing
               for prefix, _ in manifest.editables)


def _other_interpreters(env_dir: Path, tree: str) -> str:
    """Why a tree that had an env gets a new one: say which interpreter the old one is for."""
    others = []
    for sibling in env_dir.parent.glob("*/" + MANIFEST):
        try:
            data = read_manifest(sibling.parent)
        except Damaged:
            continue  # `env list` shows it as damaged
        if data is not None and data.tree == tree and sibling.parent != env_dir:
            others.append(f"{data.python} {data.interpreter.get('version', '?')}")
    if not others:
        return ""
    return f"new interpreter (the tree's other envs are for {', '.join(sorted(others))})"


def _clear(path: Path) -> Path | None:
    """Remove an env that is to be recreated, whatever stands at its path, but its build
    logs: they are moved beside it, and that place is returned (``None``: there were none)."""
    logs = path / "logs"
    kept = path.with_name(f".{path.name}.logs")
    try:
        if path.is_dir() and not path.is_symlink():
            if logs.is_dir() and not logs.is_symlink():
                shutil.rmtree(kept, ignore_errors=True)  # left by a run killed right here
                os.replace(logs, kept)
            shutil.rmtree(path)
        else:
            path.unlink()
    except OSError as exc:
        raise BuildError(f"cannot remove the build env at {path} to recreate it",
                         cause=str(exc), hint="remove it by hand") from exc
    return kept if kept.is_dir() else None


@contextmanager
def open_env(env_dir: Path, base: Target, installer: EnvInstaller, cache: Cache, *,
             refresh: bool = False,
             upgrade: bool = False) -> Iterator[EnvSession]:
    """Lock the env for this run; a second warmbuild on the same tree waits, saying so."""
    import filelock

    lock = filelock.FileLock(str(env_dir) + ".lock")
    try:
        env_dir.parent.mkdir(parents=True, exist_ok=True)
        lock.acquire(timeout=0)
    except filelock.Timeout:
        logger.warning("Waiting for another warmbuild using the build env at %s", env_dir)
        lock.acquire()
    except OSError as exc:
        raise BuildError(f"cannot use the build env dir {env_dir.parent}",
                         cause=exc.strerror or str(exc),
                         hint="set --build-env-dir, WARMBUILD_BUILD_ENV_DIR or [tool.warmbuild] "
                              "build-env-dir to a directory warmbuild can create and write"
                         ) from exc
    try:
        yield EnvSession(env_dir, base, installer, cache, refresh=refresh, upgrade=upgrade)
    finally:
        lock.release()
