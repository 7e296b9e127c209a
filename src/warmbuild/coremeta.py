"""Core metadata (``METADATA``/``PKG-INFO``) of a built or static project: name, version, text.

The resolver reads dependencies from the text (``depreader``); this module only checks that
the text names a valid project and version, and makes it from a static ``[project]`` table
or reads it from a wheel.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from .errors import BuildError, WarmbuildError
from .source import is_valid_name


@dataclass(frozen=True)
class CoreMetadata:
    name: str
    version: str
    #: The METADATA text (core metadata) the resolver reads dependencies from.
    text: str


def parse_core_metadata(text: str, what: str) -> CoreMetadata:
    """``what`` names whose metadata it is, for the error."""
    import email.parser

    msg = email.parser.HeaderParser().parsestr(text)
    name, version = str(msg["Name"] or "").strip(), str(msg["Version"] or "").strip()
    if not name or not version:
        raise BuildError(f"invalid metadata of {what}: no Name or no Version")
    if not is_valid_name(name):
        raise BuildError(f"invalid metadata of {what}: Name {name!r} is not a valid project "
                         "name")
    try:
        Version(version)
    except InvalidVersion as exc:
        raise BuildError(f"invalid metadata of {what}: Version {version!r} is not a PEP 440 "
                         "version") from exc
    return CoreMetadata(name, version, text)


def static_metadata(project: Mapping[str, Any], what: str) -> CoreMetadata:
    """Core metadata from a complete ``[project]`` table (PEP 621), which ``source`` has
    already checked field by field."""
    lines = ["Metadata-Version: 2.1", f"Name: {project['name']}",
             f"Version: {project['version']}"]
    if project.get("requires-python"):
        lines.append(f"Requires-Python: {project['requires-python']}")
    lines += [f"Requires-Dist: {Requirement(dep)}" for dep in project.get("dependencies", [])]
    for extra, deps in project.get("optional-dependencies", {}).items():
        lines.append(f"Provides-Extra: {extra}")
        for dep in deps:
            req = Requirement(dep)
            marker = f'extra == "{extra}"'
            if req.marker is not None:
                marker = f"({req.marker}) and {marker}"
                req.marker = None
            lines.append(f"Requires-Dist: {req}; {marker}")
    return parse_core_metadata("\n".join(lines) + "\n", what)


def wheel_metadata(wheel: Path) -> str | None:
    """The text of a wheel's ``.dist-info/METADATA``, or ``None`` when it has none."""
    import zipfile

    try:
        with zipfile.ZipFile(wheel) as zf:
            name = next((n for n in zf.namelist()
                         if n.count("/") == 1 and n.endswith(".dist-info/METADATA")), None)
            return zf.read(name).decode("utf-8", "replace") if name else None
    except (OSError, zipfile.BadZipFile) as exc:
        raise WarmbuildError(f"{wheel.name}: not a valid wheel (not a readable zip archive)",
                             cause=str(exc)) from exc


def built_metadata(wheel: Path) -> str:
    """The METADATA text of a wheel a backend just built."""
    text = wheel_metadata(wheel)
    if text is None:
        raise BuildError(f"the backend built {wheel.name}, which has no .dist-info/METADATA")
    return text


def metadata_version(text: str | None) -> tuple[int, ...]:
    """``Metadata-Version`` as numbers; unreadable counts as too old to trust."""
    try:
        return tuple(int(part) for part in (text or "0").strip().split("."))
    except ValueError:
        return (0,)


def parse_dependencies(text: str, what: str) -> tuple[tuple[Requirement, ...], SpecifierSet | None]:
    """``Requires-Dist`` and ``Requires-Python`` of core metadata, for the resolver."""
    fields = headers(text, "Requires-Dist", "Requires-Python")
    reqs = []
    for line in fields.get("requires-dist", ()):
        try:
            reqs.append(Requirement(line))
        except InvalidRequirement as exc:
            raise WarmbuildError(f"{what}: invalid Requires-Dist {line!r} in its metadata",
                                 cause=str(exc)) from exc
    spec = None
    if fields.get("requires-python"):
        try:
            spec = SpecifierSet(fields["requires-python"][0])
        except InvalidSpecifier:
            spec = None
    return tuple(reqs), spec


def headers(text: str, *names: str) -> dict[str, list[str]]:
    """The values of the fields ``names`` (keys in lower case) among the headers of core
    metadata, read as email.parser reads them: up to the first empty line (or a line that
    is not a header), a line that starts with white space continuing the one before. A
    no-op install and the resolver read only these few fields; importing email costs more
    than reading them."""
    wanted = {n.lower() for n in names}
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.split("\n"):
        line = line.rstrip("\r")
        if not line:
            break
        if line[0] in " \t":  # white space only too: a blank line inside a License text
            if current is not None:
                current[-1] = f"{current[-1]} {line.strip()}".strip()
            continue
        name, sep, value = line.partition(":")
        if not sep or not name or " " in name:
            break  # not a header: the body starts here, as email.parser reads it
        key = name.lower()
        current = found.setdefault(key, []) if key in wanted else None
        if current is not None:
            current.append(value.strip())
    return found
