"""Persistent build environments: one isolated venv per (source tree, target interpreter).

The env lives at a path that depends only on the tree's real path and the interpreter's
identity (base interpreter, version, implementation, ABI), never on the requirements, so
paths that a backend records into its build directory (``CMakeCache.txt``, ``build.ninja``,
meson-python's editable loader) stay valid from one run to the next. Every hook of a run
uses the same env; the next run reuses it, and when the requirements change it is synced
in place by warmbuild's own installer.

A manifest (``warmbuild-env.json``) records what the env was made from. It is written with
``complete: false`` before a sync and ``true`` after, so an interrupted sync is seen and
repaired by the next run. When the requested requirements are unchanged the env is reused
without any resolution: unpinned build requirements are resolved when the env is created or
the requests change (a lock, in effect), and again only with ``--upgrade`` or
``--refresh-build-env``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ._log import logger, progress
from .cache import Cache, atomic_write
from .errors import BuildError
from .python import Target, query_target

MANIFEST = "warmbuild-env.json"
_MANIFEST_VERSION = 1
_HISTORY = 20

#: ``sync(env_target, requirements, upgrade)`` installs exactly ``requirements`` (removing
#: anything else; preferring what is installed unless ``upgrade``) and returns
#: ``{name: version}`` of what the env then holds.
Syncer = Callable[[Target, Sequence[str], bool], Mapping[str, str]]


@dataclass(frozen=True)
class BuildEnv:
    path: Path
    target: Target

    @property
    def python(self) -> Path:
        return self.target.executable

    def environ(self, base: Mapping[str, str] = os.environ) -> dict[str, str]:
        """The environment hooks run in: the env's scripts first on PATH, no PYTHONPATH."""
        env = target_environ(self.target, base)
        env["VIRTUAL_ENV"] = str(self.path)
        env["PYTHONNOUSERSITE"] = "1"
        return env


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


def target_environ(target: Target, base: Mapping[str, str] = os.environ) -> dict[str, str]:
    """``base`` with ``target``'s scripts first on PATH and no PYTHONPATH/PYTHONHOME: how
    hooks run, in a build env or (``--no-build-isolation``) in the target itself."""
    env = {k: v for k, v in base.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["PATH"] = os.pathsep.join([str(target.paths["scripts"]), base.get("PATH", os.defpath)])
    return env


def interpreter_identity(target: Target) -> dict[str, str]:
    return {"base_prefix": str(target.base_prefix), "version": str(target.version),
            "implementation": target.implementation, "abiflags": target.abiflags}


def env_path(root: Path, tree: Path, name: str, target: Target,
             key_vars: Mapping[str, str | None] | None = None) -> Path:
    """Where the env of ``tree`` for ``target`` lives: stable for the pair, and for the
    values of the ``build-env-vars`` a user made part of the key (none by default)."""
    parts: list[Any] = [str(tree.resolve()), interpreter_identity(target)]
    if key_vars:
        parts.append(dict(key_vars))
    key = json.dumps(parts, sort_keys=True)
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    return root / f"{name or 'project'}-{digest}"


def default_root(cache: Cache, tree: Path, configured: str | None) -> Path:
    """``--build-env-dir``/``WARMBUILD_BUILD_ENV_DIR``/``build-env-dir``, else the cache."""
    if configured:
        root = Path(configured).expanduser()
        return root if root.is_absolute() else tree / root
    return cache.bucket("envs-v1")


@dataclass
class EnvSession:
    """A locked env for one run; ``ensure`` makes it hold what is asked, as cheaply as it can."""

    env_dir: Path
    base: Target
    sync: Syncer
    cache: Cache
    refresh: bool = False
    upgrade: bool = False
    reports: list[EnvReport] = field(default_factory=list)
    _env: BuildEnv | None = None

    def manifest(self) -> dict[str, Any] | None:
        try:
            data = json.loads((self.env_dir / MANIFEST).read_text())
        except (OSError, ValueError):
            return None
        return data if data.get("version") == _MANIFEST_VERSION else None

    def ensure(self, declared: Sequence[str], *, record: Mapping[str, Any],
               kind: str | None = None, extras: Sequence[str] = ()) -> BuildEnv:
        """An env holding ``declared`` plus what each hook kind's ``get_requires_*`` added.

        The extras of every kind seen so far stay in the env (from the manifest), so that
        switching between ``install .`` and ``install -e .`` does not churn it; ``kind`` and
        ``extras`` replace that kind's entry. ``record`` goes into the manifest.
        """
        manifest = self.manifest()
        known: dict[str, list[str]] = dict(manifest.get("extras", {})) if manifest else {}
        if kind is not None:
            known[kind] = sorted(set(extras))
        wanted = sorted(set(declared) | {r for reqs in known.values() for r in reqs})
        identity = interpreter_identity(self.base)
        reason = ""
        if manifest is None:
            reason = "new" if not self.env_dir.exists() else "unreadable manifest"
        elif manifest.get("interpreter") != identity:
            reason = "interpreter changed"
        elif not manifest.get("complete"):
            reason = "an earlier sync was interrupted"
        elif self.refresh:
            reason = "--refresh-build-env"
        if reason and reason != "an earlier sync was interrupted" and self.env_dir.exists():
            shutil.rmtree(self.env_dir)
        self.refresh = False
        record = {**record, "declared": sorted(set(declared)), "extras": known}
        noted = _input_changes(manifest or {}, record) if manifest else ""
        same_constraints = (manifest or {}).get("build_constraints") == record.get(
            "build_constraints")
        if not reason and manifest is not None and manifest.get("requested") == wanted \
                and same_constraints and not self.upgrade:
            env = self._open()
            self._write(manifest, complete=True, record=record, event=None)
            if not self.reports:
                self.reports.append(EnvReport("reused", self.env_dir, reason=noted))
            return env
        created = not self.env_dir.exists()
        if created:
            self._create()
        env = self._open()
        before = dict(manifest.get("resolved", {})) if manifest and not created else {}
        base_manifest = manifest if manifest and not created else {}
        self._write(dict(base_manifest), complete=False, record=record, event=None)
        progress.info("Syncing build env (%d requirements)", len(wanted))
        resolved = dict(self.sync(env.target, wanted, self.upgrade))
        self.upgrade = False
        changes = _diff(before, resolved)
        action: Literal["created", "synced", "recreated"] = (
            "created" if reason == "new" else "recreated" if created else "synced")
        if action == "created":
            reason = _other_interpreters(self.env_dir, str(record.get("tree", "")))
        why = "; ".join(filter(None, [reason, noted]))
        report = EnvReport(action, self.env_dir, changes if action == "synced" else (), why)
        updated = {**base_manifest, "requested": wanted, "resolved": resolved}
        self._write(updated, complete=True, record=record, event=report)
        self.reports.append(report)
        return env

    def add_editable(self, prefix: Path, dist_name: str) -> None:
        """Remember that ``prefix`` holds an editable install that needs this env."""
        manifest = self.manifest()
        if manifest is None:
            return
        entry = {"prefix": str(prefix), "dist": dist_name}
        editables = [e for e in manifest.get("editables", []) if e != entry] + [entry]
        manifest["editables"] = editables
        atomic_write(self.env_dir / MANIFEST, json.dumps(manifest, indent=1).encode())

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
            "version": _MANIFEST_VERSION, "interpreter": interpreter_identity(self.base),
            "python": str(self.base.executable), "complete": complete, "last_used": now,
            "history": history[-_HISTORY:],
        })
        manifest.setdefault("created", now)
        atomic_write(self.env_dir / MANIFEST, json.dumps(manifest, indent=1).encode())


def _other_interpreters(env_dir: Path, tree: str) -> str:
    """Why a tree that had an env gets a new one: say which interpreter the old one is for."""
    others = []
    for sibling in env_dir.parent.glob("*/" + MANIFEST):
        try:
            data = json.loads(sibling.read_text())
        except (OSError, ValueError):
            continue
        if data.get("tree") == tree and sibling.parent != env_dir:
            version = data.get("interpreter", {}).get("version", "?")
            others.append(f"{data.get('python')} {version}")
    if not others:
        return ""
    return f"new interpreter (the tree's other envs are for {', '.join(sorted(others))})"


def _input_changes(manifest: Mapping[str, Any], record: Mapping[str, Any]) -> str:
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


def register(cache: Cache, env_dir: Path) -> None:
    """Envs outside the cache (``build-env-dir``) are listed here so ``env list`` finds them."""
    if env_dir.parent == cache.root / "envs-v1":
        return
    key = hashlib.sha256(str(env_dir).encode()).hexdigest()[:16]
    atomic_write(cache.bucket("envs-v1") / "registry" / key, str(env_dir).encode())


def known_envs(cache: Cache) -> list[Path]:
    """Every env warmbuild made with this cache: in ``envs-v1`` or registered there."""
    root = cache.bucket("envs-v1")
    found = [p for p in root.iterdir() if (p / MANIFEST).is_file() or (
        p.is_dir() and p.name != "registry")]
    registry = root / "registry"
    if registry.is_dir():
        for entry in registry.iterdir():
            path = Path(entry.read_text().strip())
            if path.is_dir():
                found.append(path)
            else:
                entry.unlink(missing_ok=True)
    return sorted(set(found))


def _diff(before: Mapping[str, str], after: Mapping[str, str]) -> tuple[str, ...]:
    changes = [f"+ {n} {after[n]}" for n in sorted(after) if n not in before]
    changes += [f"- {n} {before[n]}" for n in sorted(before) if n not in after]
    changes += [f"{n} {before[n]} -> {after[n]}" for n in sorted(after)
                if n in before and before[n] != after[n]]
    return tuple(changes)


@contextmanager
def open_env(env_dir: Path, base: Target, sync: Syncer, cache: Cache, *, refresh: bool = False,
             upgrade: bool = False) -> Iterator[EnvSession]:
    """Lock the env for this run; a second warmbuild on the same tree waits, saying so."""
    import filelock

    env_dir.parent.mkdir(parents=True, exist_ok=True)
    lock = filelock.FileLock(str(env_dir) + ".lock")
    try:
        lock.acquire(timeout=0)
    except filelock.Timeout:
        logger.warning("Waiting for another warmbuild using the build env at %s", env_dir)
        lock.acquire()
    except OSError as exc:
        raise BuildError(f"cannot use the build env dir {env_dir.parent}", cause=str(exc),
                         hint="set --build-env-dir / WARMBUILD_BUILD_ENV_DIR to a writable "
                              "directory") from exc
    try:
        yield EnvSession(env_dir, base, sync, cache, refresh=refresh, upgrade=upgrade)
    finally:
        lock.release()
