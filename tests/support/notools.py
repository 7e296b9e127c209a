"""A PATH on which the machine's ninja, cmake, patchelf, meson and compiler caches are not
found: the tests' stand-in for a machine that never installed them (backends then ask for
them from the index)."""

from __future__ import annotations

import os
from pathlib import Path

HIDDEN = frozenset({"ninja", "ninja-build", "samu", "cmake", "patchelf", "meson", "ccache",
                    "sccache"})


def path_without_tools(where: Path, path: str | None = None) -> str:
    """A PATH of one directory, ``where``, holding links to everything on ``path`` (the
    process's PATH by default) except :data:`HIDDEN`."""
    where.mkdir(parents=True, exist_ok=True)
    for directory in (path or os.environ.get("PATH", os.defpath)).split(os.pathsep):
        try:
            entries = list(os.scandir(directory))
        except OSError:
            continue
        for entry in entries:
            link = where / entry.name
            if entry.name in HIDDEN or os.path.lexists(link):
                continue
            os.symlink(entry.path, link)
    return str(where)
