"""A target that is no interpreter on this machine: pip's ``--platform``, ``--python-version``,
``--implementation`` and ``--abi``, for ``download``.

Tags are made as pip's ``get_supported`` makes them, with the platforms expanded as pip
expands them (``manylinux2014`` also takes ``manylinux2010`` and ``manylinux1`` wheels, a
macOS version the older ones); what is not given comes from the interpreter warmbuild found.
Unlike pip, which evaluates markers for the interpreter it runs on (pip#11198), markers
follow the requested platform and Python, as uv's ``--python-platform`` does: a
``sys_platform == "win32"`` dependency is part of the set for ``--platform win_amd64``.
Nothing can be built for such a target, so the caller requires ``--no-deps`` or
``--only-binary :all:``, as pip does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from packaging import tags
from packaging.tags import Tag
from packaging.version import Version

from .errors import UsageError
from .python import Target

_IMPLEMENTATIONS = {"cp": ("cpython", "CPython"), "pp": ("pypy", "PyPy"),
                    "ip": ("ironpython", "IronPython"), "jy": ("jython", "Jython")}
_LINUX = re.compile(r"^(?:many|musl)?linux(?:1|2010|2014|_\d+_\d+)?_(?P<arch>.+)$")
_MAC = re.compile(r"^macosx_(?P<major>\d+)_(?P<minor>\d+)_(?P<arch>.+)$")
_WINDOWS = {"win32": "x86", "win_amd64": "AMD64", "win_arm64": "ARM64"}


@dataclass(frozen=True)
class PlatformSpec:
    platforms: tuple[str, ...] = ()
    #: ``3``, ``3.12``, ``312`` or ``3.12.1``, as pip takes it.
    python_version: str | None = None
    #: ``cp``, ``pp``, ``py`` ... (pip's ``--implementation``).
    implementation: str | None = None
    abis: tuple[str, ...] = ()

    @property
    def given(self) -> bool:
        return bool(self.platforms or self.python_version or self.implementation or self.abis)


def foreign_target(base: Target, spec: PlatformSpec) -> Target:
    """``base`` (the interpreter found) with the tags and markers ``spec`` asks for."""
    if not spec.given:
        return base
    info = (python_version_info(spec.python_version) if spec.python_version
            else (base.version.major, base.version.minor, base.version.micro))
    impl = spec.implementation or "cp"
    platforms = expand_platforms(spec.platforms) or _platforms_of(base)
    abis: list[str] | None = list(spec.abis) or None
    if abis is None and impl == "cp" and info[:2] == (base.version.major, base.version.minor):
        abis = _abis_of(base)
    markers = {**base.markers, **_version_markers(info, impl)}
    if spec.platforms:
        markers.update(platform_markers(spec.platforms[0]))
    version = Version(".".join(map(str, info)))
    return replace(base, version=version, tags=supported_tags(info, impl, abis, platforms),
                   markers=markers)


def python_version_info(text: str) -> tuple[int, ...]:
    """pip's reading of ``--python-version``: "37" is 3.7, at most three parts."""
    parts = text.split(".")
    if len(parts) == 1 and len(parts[0]) > 1:
        parts = [parts[0][0], parts[0][1:]]
    try:
        info = tuple(int(part) for part in parts)
    except ValueError:
        info = ()
    if not info or len(info) > 3:
        raise UsageError(f"--python-version {text}: not a Python version",
                         hint="give up to three dot-separated integers, e.g. 3.12 (or 312)")
    return info


def supported_tags(info: tuple[int, ...], impl: str, abis: list[str] | None,
                   platforms: list[str]) -> tuple[Tag, ...]:
    """The tags, most preferred first, as pip's ``compatibility_tags.get_supported``."""
    python_version = info[:2]
    interpreter = f"{impl}{''.join(map(str, python_version))}"
    if impl == "cp":
        first = tags.cpython_tags(python_version, abis, platforms)
    else:
        first = tags.generic_tags(interpreter, abis, platforms)
    return (*first, *tags.compatible_tags(python_version, interpreter, platforms))


def expand_platforms(platforms: tuple[str, ...]) -> list[str]:
    """pip's expansion: older manylinux names and macOS versions a platform also runs."""
    result: list[str] = []
    for platform in platforms:
        for found in _expand(platform):
            if found not in result:
                result.append(found)
    return result


def _expand(platform: str) -> list[str]:
    mac = _MAC.match(platform)
    if mac:
        version = (int(mac["major"]), int(mac["minor"]))
        return list(tags.mac_platforms(version, mac["arch"]))
    prefix, _, arch = platform.partition("_")
    if prefix == "manylinux2014" and arch in ("i686", "x86_64"):
        return [platform, f"manylinux2010_{arch}", f"manylinux1_{arch}"]
    if prefix == "manylinux2010":
        return [platform, f"manylinux1_{arch}"]
    return [platform]


def platform_markers(platform: str) -> dict[str, str]:
    """Marker values of a platform tag; release and version are unknown, so empty."""
    unknown = {"platform_release": "", "platform_version": ""}
    linux, mac = _LINUX.match(platform), _MAC.match(platform)
    if linux:
        return {**unknown, "sys_platform": "linux", "os_name": "posix",
                "platform_system": "Linux", "platform_machine": linux["arch"]}
    if mac:
        arch = "x86_64" if mac["arch"] in ("x86_64", "intel") else "arm64"
        return {**unknown, "sys_platform": "darwin", "os_name": "posix",
                "platform_system": "Darwin", "platform_machine": arch}
    if platform in _WINDOWS:
        return {**unknown, "sys_platform": "win32", "os_name": "nt",
                "platform_system": "Windows", "platform_machine": _WINDOWS[platform]}
    return {}  # an unknown platform: the found interpreter's values stand


def _version_markers(info: tuple[int, ...], impl: str) -> dict[str, str]:
    full = ".".join(map(str, (*info, 0, 0)[:3]))
    markers = {"python_version": ".".join(map(str, (*info, 0)[:2])),
               "python_full_version": full}
    if impl in _IMPLEMENTATIONS:
        name, display = _IMPLEMENTATIONS[impl]
        markers.update(implementation_name=name, platform_python_implementation=display)
        if impl == "cp":
            markers["implementation_version"] = full
    return markers


def _platforms_of(target: Target) -> list[str]:
    return list(dict.fromkeys(t.platform for t in target.tags if t.platform != "any"))


def _abis_of(target: Target) -> list[str]:
    # The interpreter's own ABIs (cp311, cp311d ...) are those of its first tags.
    own = [t.abi for t in target.tags if t.abi not in ("abi3", "none")]
    return list(dict.fromkeys(own))
