"""Build envs as things a user can see and clean up: list, show, remove, prune.

The runtime side (create, sync, lock) is :mod:`buildenv`; this module only reads manifests
and removes whole envs, never touching a source tree. What a tree's build dirs recorded
(`doctor`) is :mod:`builddirs`.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from .buildenv import MANIFEST, Damaged, interpreter_identity, known_envs, read_manifest
from .cache import Cache
from .errors import UsageError, WarmbuildError
from .hooks import build_logs
from .install import BUILD_ENV_MARKER
from .python import query_target

State = Literal["complete", "interrupted", "damaged", "tree gone", "interpreter gone",
                "interpreter changed", "unknown"]


@dataclass(frozen=True)
class EnvInfo:
    path: Path
    #: Empty when there is none, or when it is damaged (nothing in it can be trusted).
    manifest: dict[str, Any]
    state: State
    size: int
    #: Target prefixes whose editable install still uses this env.
    editables: tuple[str, ...]
    #: What is damaged, naming the file, when ``state`` is "damaged".
    problem: str = ""
    #: The tree it was built for; ``None`` for shared envs and when unknown.
    tree_path: str | None = None
    last_used: float = 0.0
    #: A damaged registry entry, which names no env: ``path`` is the entry itself.
    registry_entry: bool = False

    @property
    def tree(self) -> str:
        # The CLI prints this line for every env: it is where a damaged one says why.
        if self.problem:
            return f"{self.tree_path or '?'} (damaged {self.problem})"
        if self.manifest.get("shared"):
            return "(shared by sdist builds)"
        return self.tree_path or "?"

    def as_json(self) -> dict[str, Any]:
        return {"path": str(self.path),
                "tree": self.tree_path if self.problem else self.tree,
                "state": self.state, "problem": self.problem or None,
                "python": self.manifest.get("python"),
                "version": self.manifest.get("interpreter", {}).get("version"),
                "size": self.size, "last_used": self.last_used,
                "editables": list(self.editables)}


def inspect(path: Path, cache: Cache | None = None) -> EnvInfo:
    try:
        manifest = read_manifest(path)
    except Damaged as exc:
        return _damaged(path, f"manifest {path / MANIFEST}: {exc.problem}", exc.salvaged)
    if manifest is None:
        return EnvInfo(path, {}, "unknown", _size(path), ())
    tree = None if manifest.shared else manifest.tree
    state: State = "complete"
    # os.path, not Path: its checks say False where Path's raise (EACCES on a parent).
    if not manifest.complete:
        state = "interrupted"
    elif tree is not None and not os.path.isdir(tree):
        state = "tree gone"
    elif not os.path.exists(path / "bin" / "python"):
        # The env's own interpreter (a link to the base one) is what builds need; the
        # target venv it was made for may be gone while other venvs of that base use it.
        state = "interpreter gone"
    elif cache is not None and os.path.exists(manifest.python) \
            and _identity(Path(manifest.python), cache) != manifest.interpreter:
        state = "interpreter changed"
    return EnvInfo(path, dict(manifest.data), state, _size(path),
                   tuple(_live_editables(path, manifest.editables)), tree_path=tree,
                   last_used=float(manifest.data.get("last_used", 0)))


def _damaged(path: Path, problem: str, salvaged: dict[str, Any]) -> EnvInfo:
    # The salvaged fields passed the manifest's own checks: the tree lets `env show TREE`
    # find the env, and an editable install's marker still proves that it needs the env.
    editables = [(e["prefix"], e["dist"]) for e in salvaged.get("editables", [])]
    tree = None if salvaged.get("shared") else salvaged.get("tree")
    return EnvInfo(path, {}, "damaged", _size(path), tuple(_live_editables(path, editables)),
                   problem=problem, tree_path=tree, last_used=_mtime(path / MANIFEST, path))


def _mtime(*candidates: Path) -> float:
    """When it was last written: each run rewrites the manifest, so this is its last use."""
    for path in candidates:
        with contextlib.suppress(OSError):
            return os.stat(path).st_mtime
    return 0.0


def _identity(python: Path, cache: Cache) -> dict[str, str] | None:
    """The interpreter now at ``python`` (upgraded in place: another version or ABI)."""
    try:
        return interpreter_identity(query_target(python, cache))
    except WarmbuildError:
        return None


def logs_of(env: EnvInfo) -> list[Path]:
    """The backend logs the env keeps (of its last builds), oldest first."""
    return build_logs(env.path / "logs")


def all_envs(cache: Cache) -> list[EnvInfo]:
    return [inspect(k.path, cache) if not k.problem else
            EnvInfo(k.path, {}, "damaged", _size(k.path), (), problem=k.problem,
                    last_used=_mtime(k.path), registry_entry=True)
            for k in known_envs(cache)]


def envs_of_tree(cache: Cache, tree: Path) -> list[EnvInfo]:
    """The envs built for ``tree``, or the env at ``tree`` (any env, damaged ones too)."""
    tree = tree.resolve()
    return [e for e in all_envs(cache)
            if e.tree_path == str(tree) or os.path.realpath(e.path) == str(tree)]


def _live_editables(env: Path, entries: Iterable[tuple[str, str]]) -> Iterable[str]:
    for prefix, dist in entries:
        pattern = (f"lib/python3*/site-packages/{dist.replace('-', '_')}-*.dist-info/"
                   f"{BUILD_ENV_MARKER}")
        for marker in Path(prefix).glob(pattern):
            try:
                points_here = marker.read_text(errors="replace").strip() == str(env)
            except OSError:
                continue  # an unreadable marker proves nothing
            if points_here:
                yield str(prefix)
                break


def _size(path: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(root, name)).st_size
    return total


def parse_age(text: str) -> float:
    """``30d``, ``12h``, ``45m`` -> seconds."""
    match = re.fullmatch(r"(\d+)([dhm])", text.strip())
    if not match:
        raise UsageError(f"--older-than {text}: expected a number and d, h or m (e.g. 30d)")
    return int(match.group(1)) * {"d": 86400, "h": 3600, "m": 60}[match.group(2)]


@dataclass(frozen=True)
class Removal:
    env: EnvInfo
    removed: bool
    why: str


def remove(envs: Sequence[EnvInfo], *, force: bool, dry_run: bool = False) -> list[Removal]:
    """Remove whole envs (and their lock files); one a live editable uses only with force."""
    results = []
    for env in envs:
        if env.editables and not force:
            results.append(Removal(env, False, "an editable install in "
                                   f"{', '.join(env.editables)} uses it (--force to remove)"))
            continue
        if dry_run:
            pass
        elif env.registry_entry:
            # No lock: none guards an entry, and one beside it would be read as an entry.
            _delete(env.path)
        else:
            import filelock

            lock = filelock.FileLock(str(env.path) + ".lock")
            try:
                with lock.acquire(timeout=10):
                    _delete(env.path)
            except filelock.Timeout:
                results.append(Removal(env, False, "another warmbuild is using it"))
                continue
            Path(str(env.path) + ".lock").unlink(missing_ok=True)
        if not dry_run and os.path.lexists(env.path):
            results.append(Removal(env, False, "could not remove all of it"))
            continue
        results.append(Removal(env, True, env.state))
    return results


def _delete(path: Path) -> None:
    # A symlinked env is unlinked, never followed: what it points to is not ours.
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            path.unlink()


def prunable(envs: Iterable[EnvInfo], older_than: float | None) -> list[EnvInfo]:
    now = time.time()
    return [e for e in envs if e.state in ("tree gone", "interpreter gone", "interrupted",
                                           "damaged", "interpreter changed", "unknown")
            or (older_than is not None and now - e.last_used > older_than)]

