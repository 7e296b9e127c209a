"""Envs that live outside the cache (``build-env-dir``) are registered in it, so that
``env list`` and ``env prune`` find every env warmbuild made with this cache."""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from ..cache import Cache, atomic_write
from .manifest import Damaged


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
