"""Finding the target interpreter: ``--python`` (a path, a name on PATH or a version), the
active environment, or a ``.venv`` above the working dir; apart from querying it
(:mod:`python`), so that a remembered no-op (:mod:`noop`) finds it without packaging's tags.

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

from ._log import logger
from .errors import WarmbuildError

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


def find_interpreter(python: str | None, *, system: bool, cwd: Path) -> Path:
    """The target interpreter: ``--python`` (a path, a name on PATH or a version), else
    ``VIRTUAL_ENV``, else a non-base ``CONDA_PREFIX`` (as uv), else a ``.venv`` above cwd."""
    if python and VERSION_REQUEST.fullmatch(python) and not Path(python).exists():
        return _by_version(python, [] if system else _environments(cwd))
    if python:
        return _interpreter_from_arg(python)
    if system:
        found = shutil.which("python3") or shutil.which("python")
        if not found:
            raise WarmbuildError("--system was given but no python3 is on PATH")
        return Path(found)
    found_env = next(iter(_environments(cwd)), None)
    if found_env is not None:
        return found_env
    conda, base = conda_prefix(os.environ)
    raise WarmbuildError(
        "no virtual environment found: neither --python, VIRTUAL_ENV nor a .venv in "
        f"{cwd} or its parents", cause=f"CONDA_PREFIX {conda} is conda's base environment, "
        "which counts as a system interpreter (as for uv)" if base else None,
        hint="create one with `python3 -m venv .venv`, pass `--python PATH`, or use `--system` "
        "to install into the interpreter on PATH",
    )


def _environments(cwd: Path) -> list[Path]:
    """The interpreters of the environments found without ``--python``, in their order."""
    venv = os.environ.get("VIRTUAL_ENV")
    if venv:
        return [_venv_python(Path(venv), source="VIRTUAL_ENV")]
    conda, base = conda_prefix(os.environ)
    if conda is not None and not base:
        return [_venv_python(conda, source="CONDA_PREFIX")]
    for directory in (cwd, *cwd.parents):
        candidate = directory / ".venv"
        if (candidate / "pyvenv.cfg").is_file():
            return [_venv_python(candidate, source=".venv")]
    return []


def _by_version(request: str, environments: list[Path]) -> Path:
    found = find_version(request, environments)
    if found is None:
        raise WarmbuildError(
            f"--python {request}: no CPython {request} found",
            cause="looked at the active environment, python3.X, python3 and python on PATH, "
                  "pyenv's versions and uv's managed Pythons",
            hint=f"install one (`uv python install {request}`, `pyenv install {request}`), or "
                 "pass the interpreter's path")
    logger.info("Using CPython %s at %s", found[1], found[0])
    return found[0]


def _interpreter_from_arg(python: str) -> Path:
    path = Path(python).expanduser()
    if path.is_dir():
        return _venv_python(path, source="--python")
    if not path.exists() and os.sep not in python:
        found = shutil.which(python)
        name = re.fullmatch(r"python(\d+(?:\.\d+)*)", python)
        if found and (name is None or probe(Path(found)) is not None):
            return Path(found)
        if name is not None:  # a pyenv shim of an inactive version, or not on PATH
            return _by_version(name.group(1), [])
    if not path.is_file() or not os.access(path, os.X_OK):
        raise WarmbuildError(
            f"--python {python}: not an interpreter or a virtual environment",
            hint="pass the path of a python executable, a venv directory, a version (3.12) "
                 "or a name on PATH (python3.12)",
        )
    return _absolute(path)


def _venv_python(venv: Path, *, source: str) -> Path:
    for name in ("bin/python", "bin/python3", "Scripts/python.exe", "python.exe"):
        if (venv / name).is_file():
            return _absolute(venv / name)
    raise WarmbuildError(f"{source} {venv}: no python interpreter in that directory")


def _absolute(path: Path) -> Path:
    """Absolute and without ``..``: the interpreter's prefix is derived from this path, and
    what lies inside the environment is told by comparing with the prefix (``--python
    ../.venv`` must not make every installed file look outside it)."""
    return Path(os.path.abspath(path))
