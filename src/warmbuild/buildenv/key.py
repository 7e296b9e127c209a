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
