"""A failed write (read-only, no permission, disk full) as an error that names the right place.

The place decides the message and the hint: the cache (``--cache-dir``), a build env
directory (``--build-env-dir``), the target environment (``--python``), or a plain path.
A full disk in the target names the target, not the cache file it was being linked from;
a read-only target is not told to move the cache.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .errors import WarmbuildError

#: What a write can fail with for reasons the user can fix; anything else is a bug.
WRITE_ERRNOS = frozenset({errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOSPC,
                          errno.EDQUOT})

Kind = Literal["cache", "build envs", "environment", "path"]


@dataclass(frozen=True)
class Place:
    kind: Kind
    path: Path


def is_full(exc: OSError) -> bool:
    return exc.errno in (errno.ENOSPC, errno.EDQUOT)


def written(exc: OSError) -> str | None:
    """The path that was being written: for a link, copy or rename the destination
    (``filename2``), never its source, which may be a file in the cache."""
    found = exc.filename2 or exc.filename
    return None if found is None else str(found)


def place_of(path: Path, *, cache_root: Path, env_dir: Path | None) -> Place:
    """Where ``path`` is, from the most specific setting to the least."""
    if env_dir is not None and path.is_relative_to(env_dir):
        return Place("build envs", env_dir)
    if path.is_relative_to(cache_root):
        return Place("cache", cache_root)
    for parent in (path, *path.parents):
        if (parent / "pyvenv.cfg").is_file():
            # A build env kept elsewhere ([tool.warmbuild] build-env-dir) has a manifest.
            if (parent / "warmbuild-env.json").is_file():
                return Place("build envs", parent.parent)
            return Place("environment", parent)
    return Place("path", path)


def write_error(exc: OSError, *, cache_root: Path, env_dir: Path | None) -> WarmbuildError:
    """One paragraph for a write that failed outside an install's transaction."""
    where = written(exc)
    problem = exc.strerror or str(exc)
    if where is None:
        return WarmbuildError(
            f"cannot write: {problem}",
            hint=f"warmbuild writes to the cache ({cache_root}), the target environment, build "
                 "envs and TMPDIR; " + ("free space on the device that is full" if is_full(exc)
                                        else "make the one concerned writable"))
    place = place_of(Path(where), cache_root=cache_root, env_dir=env_dir)
    if place.kind == "environment":
        return WarmbuildError(f"cannot write to the environment at {place.path}: {problem}",
                              cause=where, hint=environment_hint(exc))
    if place.kind == "path":
        return WarmbuildError(f"cannot write to {where}: {problem}",
                              hint="free space on its device" if is_full(exc)
                              else "make it writable, or choose another location")
    setting = ("--cache-dir or WARMBUILD_CACHE_DIR" if place.kind == "cache" else
               "--build-env-dir, WARMBUILD_BUILD_ENV_DIR or [tool.warmbuild] build-env-dir")
    fix = "free space on its device, or point" if is_full(exc) else "point"
    return WarmbuildError(f"cannot write to {where}: {problem}",
                          hint=f"this is in the {place.kind} at {place.path}, set by {setting}; "
                               f"{fix} it at a writable directory")


def environment_hint(exc: OSError) -> str:
    if is_full(exc):
        return "free space on the device that holds the environment"
    return ("install into an environment you can write to (--python, VIRTUAL_ENV, .venv), "
            "or make this one writable")
