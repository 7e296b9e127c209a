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
import re
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


class Damaged(Exception):
    """A manifest or registry entry that cannot be trusted: unreadable, not JSON, or a field
    of the wrong shape. ``salvaged`` holds the fields that did check out, for readers that
    can use a partial answer (which tree it was; where an editable install may point here).
    """

    def __init__(self, problem: str, salvaged: Mapping[str, Any] | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.salvaged: dict[str, Any] = dict(salvaged or {})


@dataclass(frozen=True)
class Manifest:
    """A manifest whose every known field has the type warmbuild reads it as."""

    #: All of it, unknown keys too: what a run rewrites and ``env show`` prints.
    data: Mapping[str, Any]
    tree: str
    python: str
    interpreter: Mapping[str, str]
    complete: bool
    shared: bool
    requested: tuple[str, ...] | None
    resolved: Mapping[str, str]
    extras: Mapping[str, tuple[str, ...]]
    #: ``(prefix, dist)`` of editable installs that were built in this env.
    editables: tuple[tuple[str, str], ...]


def _path(v: object) -> bool:
    return isinstance(v, str) and "\0" not in v


def _strs(v: object) -> bool:
    return isinstance(v, list) and all(isinstance(x, str) for x in v)


def _str_map(v: object) -> bool:
    return isinstance(v, dict) and all(isinstance(x, str) for x in v.values())


def _time(v: object) -> bool:
    # Bounded so that every later datetime/arithmetic use of it works (no NaN, no year 1e9).
    return isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v < 1e11


def _event(v: object) -> bool:
    return (isinstance(v, dict) and _time(v.get("time")) and isinstance(v.get("event"), str)
            and _strs(v.get("changes", [])) and isinstance(v.get("reason", ""), str))


def _editable(v: object) -> bool:
    # The prefix and name are globbed for the marker: no relative or pattern-like values.
    return (isinstance(v, dict) and _path(v.get("prefix")) and str(v["prefix"]).startswith("/")
            and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", str(v.get("dist"))) is not None)


_FIELDS: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "version": (str(_MANIFEST_VERSION), lambda v: type(v) is int and v == _MANIFEST_VERSION),
    "tree": ("a path", _path),
    "python": ("a path", _path),
    "interpreter": ("an object of strings", _str_map),
    "complete": ("true or false", lambda v: isinstance(v, bool)),
    "shared": ("true or false", lambda v: isinstance(v, bool)),
    "backend": ("a string", lambda v: v is None or isinstance(v, str)),
    "declared": ("a list of strings", _strs),
    "requested": ("a list of strings", _strs),
    "resolved": ("an object of strings", _str_map),
    "extras": ("an object of lists of strings",
               lambda v: isinstance(v, dict) and all(_strs(x) for x in v.values())),
    "config_settings": ("an object", lambda v: isinstance(v, dict)),
    "env_vars": ("an object of strings", _str_map),
    "build_constraints": ("a string", lambda v: v is None or isinstance(v, str)),
    "created": ("a time", _time),
    "last_used": ("a time", _time),
    "history": ("a list of events", lambda v: isinstance(v, list) and all(map(_event, v))),
    "editables": ("a list of editable installs",
                  lambda v: isinstance(v, list) and all(map(_editable, v))),
}
_REQUIRED = ("version", "tree", "python", "interpreter", "complete")
_JSON_TYPES = {list: "an array", str: "a string", int: "a number", float: "a number",
               bool: "a boolean", type(None): "null"}


def parse_manifest(raw: bytes) -> Manifest:
    """The one place a manifest's shape is checked; :class:`Damaged` when it is off."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise Damaged("not UTF-8 text") from None
    except RecursionError:
        raise Damaged("not JSON (nested too deeply)") from None
    except ValueError as exc:
        raise Damaged(f"not JSON ({exc})" if raw.strip() else "empty") from None
    if not isinstance(data, dict):
        raise Damaged(f"not a JSON object but {_JSON_TYPES.get(type(data), 'something else')}")
    good = {k: data[k] for k, (_, check) in _FIELDS.items() if k in data and check(data[k])}
    for key, (expected, _check) in _FIELDS.items():
        if key in data and key not in good:
            raise Damaged(f"`{key}` is not {expected}", good)
        if key in _REQUIRED and key not in data:
            raise Damaged(f"`{key}` is missing", good)
    requested = data.get("requested")
    return Manifest(
        data, data["tree"], data["python"], data["interpreter"], data["complete"],
        data.get("shared", False), None if requested is None else tuple(requested),
        data.get("resolved", {}), {k: tuple(v) for k, v in data.get("extras", {}).items()},
        tuple((e["prefix"], e["dist"]) for e in data.get("editables", [])))


def read_manifest(env_dir: Path) -> Manifest | None:
    """``None`` when there is no manifest (an env whose creation was cut short)."""
    try:
        raw = (env_dir / MANIFEST).read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise Damaged(f"cannot be read ({exc.strerror or exc})") from None
    return parse_manifest(raw)


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

    def ensure(self, declared: Sequence[str], *, record: Mapping[str, Any],
               kind: str | None = None, extras: Sequence[str] = ()) -> BuildEnv:
        """An env holding ``declared`` plus what each hook kind's ``get_requires_*`` added.

        The extras of every kind seen so far stay in the env (from the manifest), so that
        switching between ``install .`` and ``install -e .`` does not churn it; ``kind`` and
        ``extras`` replace that kind's entry. ``record`` goes into the manifest.
        """
        try:
            manifest, damage = read_manifest(self.env_dir), ""
        except Damaged as exc:
            manifest, damage = None, exc.problem
        known = {k: list(v) for k, v in manifest.extras.items()} if manifest else {}
        if kind is not None:
            known[kind] = sorted(set(extras))
        wanted = sorted(set(declared) | {r for reqs in known.values() for r in reqs})
        identity = interpreter_identity(self.base)
        reason = ""
        if manifest is None:
            # A damaged manifest is not repaired in place like an interrupted sync: nothing
            # in it (what was installed, for which interpreter) can be trusted.
            reason = ("new" if not os.path.lexists(self.env_dir) else
                      f"damaged manifest ({damage})" if damage else "no manifest")
        elif manifest.interpreter != identity:
            reason = "interpreter changed"
        elif not manifest.complete:
            reason = "an earlier sync was interrupted"
        elif self.refresh:
            reason = "--refresh-build-env"
        if reason and reason != "an earlier sync was interrupted" \
                and os.path.lexists(self.env_dir):
            _clear(self.env_dir)
        self.refresh = False
        record = {**record, "declared": sorted(set(declared)), "extras": known}
        noted = _input_changes(manifest.data, record) if manifest else ""
        same_constraints = (manifest.data.get("build_constraints") if manifest else None) \
            == record.get("build_constraints")
        if not reason and manifest is not None and manifest.requested == tuple(wanted) \
                and same_constraints and not self.upgrade:
            env = self._open()
            self._write(dict(manifest.data), complete=True, record=record, event=None)
            if not self.reports:
                self.reports.append(EnvReport("reused", self.env_dir, reason=noted))
            return env
        created = not self.env_dir.exists()
        if created:
            self._create()
        env = self._open()
        before = dict(manifest.resolved) if manifest and not created else {}
        base_manifest = dict(manifest.data) if manifest and not created else {}
        if manifest is not None and manifest.editables:
            # Recreated at the same path, the env still serves the editable installs that
            # point at it: prune and `env remove` must go on knowing.
            base_manifest["editables"] = manifest.data["editables"]
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
        try:
            manifest = read_manifest(self.env_dir)
        except Damaged:
            return  # damaged since this run wrote it: the next run recreates the env
        if manifest is None:
            return
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
            data = read_manifest(sibling.parent)
        except Damaged:
            continue  # `env list` shows it as damaged
        if data is not None and data.tree == tree and sibling.parent != env_dir:
            others.append(f"{data.python} {data.interpreter.get('version', '?')}")
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


def _clear(path: Path) -> None:
    """Remove an env that is to be recreated, whatever stands at its path."""
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    except OSError as exc:
        raise BuildError(f"cannot remove the build env at {path} to recreate it",
                         cause=str(exc), hint="remove it by hand") from exc


def _registry_key(env_dir: Path) -> str:
    return hashlib.sha256(str(env_dir).encode()).hexdigest()[:16]


def register(cache: Cache, env_dir: Path) -> None:
    """Envs outside the cache (``build-env-dir``) are listed here so ``env list`` finds them."""
    if env_dir.parent == cache.root / "envs-v1":
        return
    entry = cache.bucket("envs-v1") / "registry" / _registry_key(env_dir)
    try:
        if entry.read_bytes() == str(env_dir).encode():
            return
    except OSError:
        pass
    if entry.is_dir() and not entry.is_symlink():
        shutil.rmtree(entry)  # a damaged entry in the way of atomic_write's rename
    atomic_write(entry, str(env_dir).encode())


def read_registry_entry(entry: Path) -> Path:
    try:
        text = entry.read_bytes().decode("utf-8").strip()
    except UnicodeDecodeError:
        raise Damaged("not UTF-8 text") from None
    except OSError as exc:
        raise Damaged(f"cannot be read ({exc.strerror or exc})") from None
    # The name is a hash of the content: a damaged entry can never send `env prune` to
    # delete a directory that warmbuild did not register.
    if _registry_key(Path(text)) != entry.name:
        raise Damaged("does not name the env it was registered for")
    return Path(text)


@dataclass(frozen=True)
class KnownEnv:
    path: Path
    #: Why a registry entry names no env; ``path`` is then the entry itself.
    problem: str = ""


def known_envs(cache: Cache) -> list[KnownEnv]:
    """Every env warmbuild made with this cache: in ``envs-v1`` or registered there."""
    root = cache.bucket("envs-v1")
    found = {KnownEnv(p) for p in root.iterdir() if p.name != "registry" and os.path.isdir(p)}
    registry = root / "registry"
    if os.path.isdir(registry):
        for entry in registry.iterdir():
            if entry.name.startswith("."):
                continue  # atomic_write's temporary file: another run is registering
            try:
                path = read_registry_entry(entry)
            except Damaged as exc:
                found.add(KnownEnv(entry, f"registry entry {entry}: {exc.problem}"))
                continue
            if os.path.isdir(path):
                found.add(KnownEnv(path))
            else:
                entry.unlink(missing_ok=True)
    return sorted(found, key=lambda k: k.path)


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
        yield EnvSession(env_dir, base, sync, cache, refresh=refresh, upgrade=upgrade)
    finally:
        lock.release()
