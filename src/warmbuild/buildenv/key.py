"""Where a build env lives: a path that depends only on the tree and the interpreter.

Never on the requirements, so paths that a backend records into its build directory
(``CMakeCache.txt``, ``build.ninja``, meson-python's editable loader) stay valid from one run
to the next.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..cache import Cache
from ..python import Target


def interpreter_identity(target: Target) -> dict[str, str]:
    return {"base_prefix": str(target.base_prefix), "version": str(target.version),
            "implementation": target.implementation, "abiflags": target.abiflags}


def env_path(root: Path, tree: Path, name: str, target: Target,
             key_vars: Mapping[str, str | None] | None = None) -> Path:
    """Where the env of ``tree`` for ``target`` lives: stable for the pair, and for the
    values of the ``build-env-vars`` a user made part of the key (none by default).

    An env inside the tree (``build-env-dir = ".warmbuild/build-env"``) is named without the
    tree's absolute path and the interpreter's install prefix: the tree is already its key,
    and a name that differs between two checkouts (CI workspaces, homes) puts another path
    on every compile line that includes the env's headers, so compiler caches miss. The
    manifest still records the interpreter, and another one at the same version is noticed
    there (``interpreter changed``). Envs in the cache keep their names (``envs-v1``).
    """
    real = tree.resolve()
    if root.resolve().is_relative_to(real):
        identity = {k: v for k, v in interpreter_identity(target).items()
                    if k != "base_prefix"}
        parts: list[Any] = [".", identity]
    else:
        parts = [str(real), interpreter_identity(target)]
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
