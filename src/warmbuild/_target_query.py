"""Run inside the target interpreter (CPython 3.9+, stdlib only): print what warmbuild needs.

This file is executed with ``python -I -c <its text>``, never imported by warmbuild itself.
It must not import anything outside the standard library, because the libraries warmbuild
runs with (``packaging`` among them) may already have dropped the target's Python version.
Tags are assembled by warmbuild from these facts with ``packaging.tags``'s public functions.
"""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import sys
import sysconfig
from typing import Any

# manylinux wheels exist for these; an unknown arch gets only its plain linux tag.
_MANYLINUX_ARCHS = {"x86_64", "i686", "aarch64", "armv7l", "ppc64", "ppc64le", "s390x",
                    "loongarch64", "riscv64"}
# The legacy names of PEP 513/571/599 for the glibc versions they stand for.
_LEGACY = {(2, 17): "manylinux2014", (2, 12): "manylinux2010", (2, 5): "manylinux1"}


def _abis() -> list[str]:
    nodot = "".join(map(str, sys.version_info[:2]))
    with_debug = sysconfig.get_config_var("Py_DEBUG")
    debug = bool(with_debug) or (with_debug is None and hasattr(sys, "gettotalrefcount"))
    threading = "t" if sys.version_info >= (3, 13) and sysconfig.get_config_var(
        "Py_GIL_DISABLED") else ""
    abis = ["cp" + nodot + threading + ("d" if debug else "")]
    if debug:  # a debug build also loads ordinary extension modules
        abis.append("cp" + nodot + threading)
    return abis


def _glibc() -> tuple[int, int] | None:
    try:
        name, version = os.confstr("CS_GNU_LIBC_VERSION").split()  # type: ignore[union-attr]
    except (AttributeError, OSError, ValueError):
        return None
    if name != "glibc":
        return None
    match = re.match(r"(\d+)\.(\d+)", version)
    return (int(match.group(1)), int(match.group(2))) if match else None


def _musl() -> tuple[int, int] | None:
    # The dynamic loader named in the executable's ELF header tells a musl build; running
    # the loader with no arguments prints its version.
    try:
        with open(sys.executable, "rb") as f:
            head = f.read(65536)
    except OSError:
        return None
    match = re.search(rb"(/[^\x00]*/ld-musl-[^\x00/]+\.so\.1)\x00", head)
    if not match:
        return None
    try:
        proc = subprocess.run([match.group(1).decode()], capture_output=True, text=True,
                              check=False)
    except OSError:
        return None
    found = re.search(r"Version (\d+)\.(\d+)", proc.stderr)
    return (int(found.group(1)), int(found.group(2))) if found else None


def _manylinux_allowed(arch: str, version: tuple[int, int]) -> bool:
    # Distributors may veto manylinux support with a `_manylinux` module (PEP 600).
    try:
        import _manylinux  # type: ignore[import-not-found]
    except ImportError:
        return True
    check = getattr(_manylinux, "manylinux_compatible", None)
    if check is not None:
        result = check(version[0], version[1], arch)
        return True if result is None else bool(result)
    legacy = {(2, 5): "manylinux1_compatible", (2, 12): "manylinux2010_compatible"}
    if version in legacy and hasattr(_manylinux, legacy[version]):
        return bool(getattr(_manylinux, legacy[version]))
    return True


def _linux_platforms() -> list[str]:
    linux = re.sub(r"[^\w]", "_", sysconfig.get_platform().lower())
    if not linux.startswith("linux_"):
        return [linux]
    if sys.maxsize <= 2**32:  # a 32-bit interpreter on a 64-bit kernel
        linux = {"linux_x86_64": "linux_i686", "linux_aarch64": "linux_armv8l"}.get(linux, linux)
    arch = linux.split("_", 1)[1]
    archs = ["armv8l", "armv7l"] if arch == "armv8l" else [arch]
    platforms = ["linux_" + a for a in archs]
    glibc = _glibc()
    if glibc is not None and glibc[0] == 2:
        oldest = 5 if set(archs) & {"x86_64", "i686"} else 17
        for a in archs:
            if a not in _MANYLINUX_ARCHS:
                continue
            for minor in range(glibc[1], oldest - 1, -1):
                if _manylinux_allowed(a, (2, minor)):
                    platforms.append(f"manylinux_2_{minor}_{a}")
                    if (2, minor) in _LEGACY:
                        platforms.append(_LEGACY[(2, minor)] + "_" + a)
    musl = _musl() if glibc is None else None
    if musl is not None:
        for a in archs:
            platforms.extend(f"musllinux_{musl[0]}_{minor}_{a}"
                             for minor in range(musl[1], -1, -1))
    return platforms


def _full_version(info: Any) -> str:
    version = f"{info.major}.{info.minor}.{info.micro}"
    if info.releaselevel != "final":
        version += info.releaselevel[0] + str(info.serial)
    return version


def _markers() -> dict[str, str]:
    return {
        "implementation_name": sys.implementation.name,
        "implementation_version": _full_version(sys.implementation.version),
        "os_name": os.name,
        "platform_machine": platform.machine(),
        "platform_release": platform.release(),
        "platform_system": platform.system(),
        "platform_version": platform.version(),
        "python_full_version": platform.python_version(),
        "platform_python_implementation": platform.python_implementation(),
        "python_version": ".".join(platform.python_version_tuple()[:2]),
        "sys_platform": sys.platform,
    }


#: sysconfig variables a custom base replaces, as pip sets them for --prefix and --target.
_BASE_VARS = ("installed_base", "base", "installed_platbase", "platbase", "prefix",
              "exec_prefix", "userbase")


def _schemes(keys: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """The install schemes pip uses for --prefix, --target (home) and --user, with
    ``@BASE@`` for the directory the user names (or the user base)."""
    names = sysconfig.get_scheme_names()
    user = "posix_user"
    preferred = getattr(sysconfig, "get_preferred_scheme", None)
    if preferred is not None:
        user = preferred("user")
    wanted = {"prefix": "posix_prefix", "home": "posix_home", "user": user}
    base_vars = {k: "@BASE@" for k in _BASE_VARS}
    result = {}
    for kind, scheme in wanted.items():
        if scheme in names:
            paths = sysconfig.get_paths(scheme=scheme, vars=base_vars)
            result[kind] = {k: paths[k] for k in keys if k in paths}
    return result


def main() -> None:
    keys = ("purelib", "platlib", "scripts", "data", "include")
    paths = sysconfig.get_paths()
    venv = sys.prefix != getattr(sys, "base_prefix", sys.prefix)
    marker = None
    if not venv:
        candidate = os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED")
        if os.path.isfile(candidate):
            marker = candidate
    venv_scheme = "venv" if "venv" in sysconfig.get_scheme_names() else "posix_prefix"
    venv_paths = sysconfig.get_paths(scheme=venv_scheme,
                                     vars={"base": "@VENV@", "platbase": "@VENV@"})
    mac = None
    if sys.platform == "darwin":
        mac = [platform.mac_ver()[0], platform.machine()]
    print(json.dumps({
        "executable": sys.executable,
        "prefix": sys.prefix,
        "base_prefix": getattr(sys, "base_prefix", sys.prefix),
        "version": ".".join(map(str, sys.version_info[:3])),
        "implementation": sys.implementation.name,
        "abiflags": getattr(sys, "abiflags", ""),
        "abis": _abis(),
        "platforms": None if mac else _linux_platforms(),
        "mac": mac,
        "markers": _markers(),
        "paths": {k: paths[k] for k in keys},
        "is_venv": venv,
        "externally_managed": marker,
        "venv_paths": {k: venv_paths[k] for k in keys},
        "schemes": _schemes(keys),
        # The user base of a macOS framework build is ~/Library/<framework>/X.Y.
        "framework": getattr(sys, "_framework", "") or "",
    }))


main()
