"""Target interpreter discovery, and one cached query of everything warmbuild needs from it.

The target can be any CPython 3.9+, not the interpreter warmbuild runs on, so its facts
(ABIs, platforms, markers, install paths) are read by running ``_target_query.py`` in the
target itself. That script uses only the standard library: our own ``packaging`` may not
run on the target's Python. The tag list is then put together here from those facts.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from packaging import tags
from packaging.tags import Tag
from packaging.version import Version

from .cache import Cache, atomic_write
from .errors import WarmbuildError

_QUERY_VERSION = 4
_VENV = "@VENV@"
_QUERY = (Path(__file__).parent / "_target_query.py").read_text()


@dataclass(frozen=True)
class Target:
    """A Python environment to install into or build for."""

    executable: Path
    prefix: Path
    base_prefix: Path
    version: Version
    implementation: str
    abiflags: str
    #: Supported tags, most preferred first.
    tags: tuple[Tag, ...]
    markers: Mapping[str, str]
    #: sysconfig paths: purelib, platlib, scripts, data, include; a layout (``layout``) adds
    #: headers, the dir each distribution's headers go under.
    paths: Mapping[str, Path]
    is_venv: bool
    #: The PEP 668 ``EXTERNALLY-MANAGED`` file, when the target has one.
    externally_managed: Path | None
    #: This interpreter's install paths for a venv made from it (``@VENV@`` for its root).
    venv_paths: Mapping[str, str] = field(default_factory=dict, compare=False)
    #: Its ``prefix``, ``home`` and ``user`` install schemes, ``@BASE@`` for their root
    #: (``layout`` turns them into ``--prefix``, ``--target`` and ``--user`` targets).
    schemes: Mapping[str, Mapping[str, str]] = field(default_factory=dict, compare=False)
    #: ``sys._framework`` of a macOS framework build, else empty.
    framework: str = ""

    @property
    def python_version(self) -> str:
        return f"{self.version.major}.{self.version.minor}"

    @property
    def site_dirs(self) -> tuple[Path, ...]:
        purelib, platlib = self.paths["purelib"], self.paths["platlib"]
        return (purelib,) if purelib == platlib else (purelib, platlib)

    def scheme(self, dist_name: str) -> dict[str, str]:
        """The installer scheme for one distribution (headers go per distribution, as pip does)."""
        # A layout (``--prefix``, ``--target`` ...) names its headers dir; a venv's is pip's.
        base = self.paths.get("headers",
                              self.prefix / "include" / "site" / f"python{self.python_version}")
        headers = base / dist_name
        return {
            "purelib": str(self.paths["purelib"]),
            "platlib": str(self.paths["platlib"]),
            "scripts": str(self.paths["scripts"]),
            "data": str(self.paths["data"]),
            "headers": str(headers),
        }


def query_target(executable: Path, cache: Cache | None = None) -> Target:
    """Query the interpreter once; cached by its path and the mtime of what it resolves to.

    A venv that links to its base interpreter is not run at all: its answer is the base's
    (cached) with the base's own venv install scheme filled in, which saves an interpreter
    start on every command into a fresh venv.
    """
    if cache is not None:
        derived = _from_base(executable, cache)
        if derived is not None:
            return derived
    return _query(executable, cache)


def _from_base(executable: Path, cache: Cache) -> Target | None:
    venv = executable.absolute().parent.parent
    try:
        cfg = dict(line.split("=", 1) for line in
                   (venv / "pyvenv.cfg").read_text(errors="replace").splitlines()
                   if "=" in line)
    except OSError:
        return None
    cfg = {k.strip(): v.strip() for k, v in cfg.items()}
    if cfg.get("include-system-site-packages", "false").lower() != "false":
        return None
    base_exe = executable.resolve()
    if base_exe == executable.absolute() or venv in base_exe.parents:
        return None  # a copied interpreter (venv --copies): ask it
    base = _query(base_exe, cache)
    if base.is_venv or not base.venv_paths:
        return None
    return replace(base, executable=executable.absolute(), prefix=venv, is_venv=True,
                   externally_managed=None,
                   paths={k: Path(str(v).replace(_VENV, str(venv)))
                          for k, v in base.venv_paths.items()})


def _query(executable: Path, cache: Cache | None = None) -> Target:
    key_file, key = None, ""
    if cache is not None:
        key = _cache_key(executable)
        key_file = cache.bucket("interpreters-v1") / f"{zlib.crc32(key.encode()):08x}.json"
        try:
            cached = json.loads(key_file.read_text())
            # The file is named by a checksum of the key, and holds the key itself: two
            # interpreters whose keys share a checksum take turns, never each other's answer.
            if cached.pop("key", None) == key:
                return _target_from_json(cached)
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            pass
    try:
        proc = subprocess.run(
            [str(executable), "-I", "-c", _QUERY],
            capture_output=True, text=True, errors="replace", timeout=60, check=False,
        )
    except OSError as exc:
        raise WarmbuildError(f"{executable}: cannot run this interpreter", cause=str(exc)) from exc
    except subprocess.TimeoutExpired as exc:
        raise WarmbuildError(f"{executable}: no answer to warmbuild's query within 60 s",
                             hint="check that this is a working Python interpreter") from exc
    if proc.returncode != 0:
        last = "\n".join(proc.stderr.strip().splitlines()[-3:])
        raise WarmbuildError(
            f"{executable}: not a usable Python interpreter (query exited {proc.returncode})",
            cause=last or None, hint="warmbuild installs into CPython 3.9 or newer",
        )
    try:
        data = json.loads(proc.stdout)
        target = _target_from_json(data)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise WarmbuildError(f"{executable}: not a usable Python interpreter (its answer to "
                             "warmbuild's query was not understood)",
                             cause=proc.stdout.strip()[:200] or None,
                             hint="warmbuild installs into CPython 3.9 or newer") from exc
    if target.implementation != "cpython" or target.version < Version("3.9"):
        raise WarmbuildError(
            f"{executable}: {target.implementation} {target.version} is not supported",
            hint="warmbuild installs into CPython 3.9 or newer",
        )
    if key_file is not None:
        atomic_write(key_file, json.dumps({**data, "key": key}).encode())
    return target


def _cache_key(executable: Path) -> str:
    """What the answer depends on; no hash of it (hashlib, with OpenSSL, took 4-19 ms to
    import, a tenth of a no-op install)."""
    st = executable.resolve().stat()
    parts = [str(executable.absolute()), str(st.st_mtime_ns), str(st.st_size),
             str(_QUERY_VERSION), sys.version]
    cfg = executable.parent.parent / "pyvenv.cfg"
    if cfg.is_file():
        parts.append(str(cfg.stat().st_mtime_ns))
    return "\0".join(parts)


def _tags(version: Version, data: dict[str, Any]) -> tuple[Tag, ...]:
    """The target's supported tags, most preferred first, as ``packaging.tags.sys_tags``."""
    platforms: list[str] = data["platforms"] or []
    if data["mac"] is not None:
        release, arch = data["mac"]
        major, minor = (int(x) for x in ([*release.split("."), "0"])[:2])
        platforms = list(tags.mac_platforms((major, minor), arch))
    if not platforms:  # packaging would fall back to *our* platform: never right here
        raise ValueError("no platform tags")
    python_version = (version.major, version.minor)
    return (*tags.cpython_tags(python_version, data["abis"], platforms),
            *tags.compatible_tags(python_version, f"cp{version.major}{version.minor}",
                                  platforms))


def _target_from_json(data: dict[str, Any]) -> Target:
    version = Version(str(data["version"]))
    paths = data["paths"]
    if not isinstance(paths, dict):
        raise TypeError("paths is not a mapping")
    managed = data["externally_managed"]
    return Target(
        executable=Path(str(data["executable"])),
        prefix=Path(str(data["prefix"])),
        base_prefix=Path(str(data["base_prefix"])),
        version=version,
        implementation=str(data["implementation"]),
        abiflags=str(data["abiflags"]),
        tags=_tags(version, data),
        markers=dict(data["markers"]),
        paths={k: Path(v) for k, v in paths.items()},
        is_venv=bool(data["is_venv"]),
        externally_managed=Path(str(managed)) if managed else None,
        venv_paths=dict(data.get("venv_paths") or {}),
        schemes={k: dict(v) for k, v in (data.get("schemes") or {}).items()},
        framework=str(data.get("framework") or ""),
    )
