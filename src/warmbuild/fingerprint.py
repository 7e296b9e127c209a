"""When ``install -e`` of an unchanged tree may skip the build, and the fingerprint that says so.

An editable install keeps working as its sources change only when nothing has to be compiled
for the change to show: pure-Python trees (the install points at the sources), and
backends that rebuild on import (meson-python; scikit-build-core with ``editable.rebuild``).
A tree with native sources and no rebuild-on-import must be rebuilt by a reinstall, so it is
never skipped, unless its ``[tool.warmbuild] cache-keys`` name the files that matter (uv's
``cache-keys``: the user says what a change is).

The fingerprint covers what the editable install was made from: the files that hold the
tree's metadata (``pyproject.toml``, ``setup.py``, ``setup.cfg``) and the ``cache-keys``
files, the backend and its requirements, config settings and build environment variables,
the target interpreter, and the build env's manifest (gone, or synced since: a new build).
"""

from __future__ import annotations

import hashlib
import json
import os
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from .buildenv import interpreter_identity
from .hooks import ConfigSettings
from .python import Target
from .source import SourceTree

_METADATA_FILES = ("pyproject.toml", "setup.py", "setup.cfg")
_NATIVE = frozenset({".c", ".cc", ".cpp", ".cxx", ".c++", ".h", ".hh", ".hpp", ".pyx", ".pxd",
                     ".f", ".f90", ".f95", ".rs", ".cu", ".go", ".zig", ".m", ".mm", ".swig",
                     ".i"})
#: Directories that hold no sources of the tree's own (build output, VCS, environments).
_NOT_SOURCES = frozenset({".git", ".hg", ".svn", "build", "dist", "node_modules", "target",
                          "__pycache__", ".tox", ".nox", ".eggs", ".mypy_cache",
                          ".pytest_cache", ".ruff_cache", ".warmbuild"})


def skip_reason(tree: SourceTree, config_settings: ConfigSettings) -> str | None:
    """Why an unchanged editable install of ``tree`` may be kept, or ``None`` when it may not."""
    backend = tree.backend.split(":")[0].strip()
    if backend == "mesonpy":
        return "meson-python rebuilds it on import"
    if backend == "scikit_build_core.build" and _skbuild_rebuilds(tree.path, config_settings):
        return "scikit-build-core rebuilds it on import"
    if tree.settings.get("cache-keys"):
        return "its cache-keys are unchanged"
    if _native_source(tree.path) is None:
        return "it has no native sources"
    return None


def fingerprint(tree: SourceTree, target: Target, config_settings: ConfigSettings,
                env_vars: Mapping[str, str], env_dir: Path | None) -> str:
    manifest = None
    if env_dir is not None:
        try:
            data = json.loads((env_dir / "warmbuild-env.json").read_bytes())
            manifest = {k: data.get(k) for k in ("requested", "resolved", "complete",
                                                  "interpreter")}
        except (OSError, ValueError):
            manifest = {"unreadable": True}
    parts: dict[str, Any] = {
        "tree": str(tree.path), "backend": tree.backend,
        "requires": sorted(str(r) for r in tree.requires),
        "target": interpreter_identity(target), "prefix": str(target.prefix),
        "config_settings": dict(config_settings), "env_vars": dict(env_vars),
        "files": {name: _digest(tree.path / name) for name in _METADATA_FILES},
        "cache_keys": dict(_cache_keys(tree)), "env": manifest,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _cache_keys(tree: SourceTree) -> Iterator[tuple[str, tuple[int, int]]]:
    """``(path, (mtime_ns, size))`` of every file the tree's ``cache-keys`` globs match."""
    for pattern in tree.settings.get("cache-keys", ()):
        for path in sorted(tree.path.glob(pattern)):
            try:
                st = path.stat()
            except OSError:
                continue
            yield str(path.relative_to(tree.path)), (st.st_mtime_ns, st.st_size)


def _native_source(root: Path) -> Path | None:
    for directory, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in _NOT_SOURCES and not d.startswith(".venv")
                   and not os.path.exists(os.path.join(directory, d, "pyvenv.cfg"))]
        for name in files:
            if os.path.splitext(name)[1].lower() in _NATIVE:
                return Path(directory, name)
    return None


def _skbuild_rebuilds(tree: Path, config_settings: ConfigSettings) -> bool:
    setting = config_settings.get("editable.rebuild")
    if setting is not None:
        return str(setting).lower() in ("true", "1", "yes", "on")
    try:
        data = tomllib.loads((tree / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    editable = data.get("tool", {}).get("scikit-build", {}).get("editable", {})
    return isinstance(editable, dict) and editable.get("rebuild") is True
