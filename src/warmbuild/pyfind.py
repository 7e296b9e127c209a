"""Finding an interpreter by version (``--python 3.12``) and the active conda environment.

A version request is answered, in this order, by the environment warmbuild would use anyway
(``VIRTUAL_ENV``, ``CONDA_PREFIX``, a ``.venv`` above the working dir) when its Python
matches, then by an interpreter on ``PATH`` (``python3.12``, ``python3``, ``python``), then by
pyenv's (``$PYENV_ROOT/versions/3.12.*``) and uv's managed ones
(``$UV_PYTHON_INSTALL_DIR``, else ``~/.local/share/uv/python/cpython-3.12.*``), newest first.
Each candidate is run once to read its real version, so a pyenv shim for a version that is
not active is skipped rather than chosen.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from packaging.version import InvalidVersion, Version

VERSION_REQUEST = re.compile(r"\d+(\.\d+){0,2}")
_PROBE = ("import sys; print(sys.implementation.name, "
          "'.'.join(map(str, sys.version_info[:3])), sys.executable)")


def conda_prefix(environ: Mapping[str, str]) -> tuple[Path | None, bool]:
    """The active conda environment and whether it is the base one.

    As uv does, the base environment counts as a system interpreter (a target only when named
    with ``--python``), any other one as a virtual environment. The base is recognised by
    ``_CONDA_ROOT``, or by ``CONDA_DEFAULT_ENV`` naming something other than the prefix's
    directory (``base`` for ``/opt/conda``); pixi's environments are never a base.
    """
    value = environ.get("CONDA_PREFIX")
    if not value:
        return None, False
    prefix = Path(value)
    if (prefix / "conda-meta" / "pixi").is_file():
        return prefix, False
    if environ.get("_CONDA_ROOT") and Path(environ["_CONDA_ROOT"]) == prefix:
        return prefix, True
    current = environ.get("CONDA_DEFAULT_ENV")
    if not current or Path(current) == prefix:
        return prefix, False
    return prefix, prefix.name != current


def find_version(request: str, environments: list[Path],
                 environ: Mapping[str, str] = os.environ) -> tuple[Path, str] | None:
    """The first CPython matching ``request`` (``3``, ``3.12``, ``3.12.1``) among
    ``environments`` (interpreters of venvs) and the installed ones: (executable, version)."""
    wanted = tuple(int(p) for p in request.split("."))
    seen: set[Path] = set()
    for candidate in (*environments, *_installed(wanted, environ)):
        if candidate in seen:
            continue
        seen.add(candidate)
        found = probe(candidate)
        if found is not None and tuple(found[1].release[:len(wanted)]) == wanted:
            return found[0], str(found[1])
    return None


def probe(executable: Path) -> tuple[Path, Version] | None:
    """(its real executable, its version) when ``executable`` is a CPython that runs."""
    try:
        proc = subprocess.run([str(executable), "-I", "-c", _PROBE], capture_output=True,
                              text=True, timeout=30, check=False)
        implementation, version, real = proc.stdout.split(maxsplit=2)
        if proc.returncode != 0 or implementation != "cpython":
            return None
        # A venv's own path is the target, not the base interpreter it links to; a pyenv
        # shim picks an interpreter per call, so the real one is named instead.
        return (Path(real.strip()) if "shims" in executable.parts else executable,
                Version(version))
    except (OSError, subprocess.TimeoutExpired, ValueError, InvalidVersion):
        return None


def _installed(wanted: tuple[int, ...], environ: Mapping[str, str]) -> Iterator[Path]:
    minor = ".".join(map(str, wanted[:2]))
    names = [f"python{minor}"] if len(wanted) >= 2 else []
    for name in (*names, "python3", "python"):
        found = shutil.which(name, path=environ.get("PATH"))
        if found:
            yield Path(found)
    home = Path(environ.get("HOME") or Path.home())
    pyenv = Path(environ.get("PYENV_ROOT") or home / ".pyenv") / "versions"
    yield from _newest(pyenv.glob(f"{minor}*/bin/python{wanted[0]}"), lambda p: p.parts[-3])
    data = Path(environ.get("XDG_DATA_HOME") or home / ".local" / "share")
    uv = Path(environ.get("UV_PYTHON_INSTALL_DIR") or data / "uv" / "python")
    yield from _newest(uv.glob(f"cpython-{minor}*/bin/python{wanted[0]}"),
                       lambda p: p.parts[-3].split("-")[1])


def _newest(paths: Iterator[Path], version_of: Callable[[Path], str]) -> Iterator[Path]:
    def key(path: Path) -> Version:
        try:
            return Version(version_of(path))
        except InvalidVersion:
            return Version("0")
    yield from sorted(paths, key=key, reverse=True)
