"""A source tree: its ``pyproject.toml``, ``[build-system]``, and static ``[project]`` metadata."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from .errors import WarmbuildError
from .settings import setting_problem

#: PEP 517's fallback for a tree without ``[build-system]``: setuptools' legacy backend.
_LEGACY_REQUIRES = ("setuptools>=40.8.0",)
_LEGACY_BACKEND = "setuptools.build_meta:__legacy__"
#: ``[project]`` fields the resolver reads: when one is dynamic, the backend is asked.
_RESOLUTION_FIELDS = frozenset({"dependencies", "optional-dependencies", "requires-python",
                                "version"})
#: A project or extra name (PEP 508, and PEP 685 for extras).
_NAME = re.compile(r"[A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9]", re.IGNORECASE)


def is_valid_name(name: str) -> bool:
    """A valid project or extra name (PEP 508; PEP 685 for extras)."""
    return _NAME.fullmatch(name) is not None


@dataclass(frozen=True)
class SourceTree:
    path: Path
    requires: tuple[Requirement, ...]
    backend: str
    backend_path: tuple[str, ...] = ()
    #: ``[project].name`` when given, else the directory name (for messages and env names).
    name: NormalizedName = field(default=NormalizedName(""))
    #: The ``[project]`` table when no field that matters for resolution is dynamic.
    static_project: Mapping[str, Any] | None = None
    #: ``[tool.warmbuild]``.
    settings: Mapping[str, Any] = field(default_factory=dict)
    #: What messages call the tree when its path means nothing to the user (an sdist
    #: unpacked into a temporary directory: ``pkg-1.0.tar.gz:pkg-1.0``).
    shown_as: str | None = field(default=None, compare=False)

    @property
    def where(self) -> str:
        """The tree as messages name it."""
        return self.shown_as or str(self.path)

    def __str__(self) -> str:
        return f"{self.name} @ {self.where}"


def is_source_tree(path: Path) -> bool:
    return path.is_dir() and ((path / "pyproject.toml").is_file() or (path / "setup.py").is_file())


def load_source_tree(path: Path, *, shown_as: str | None = None) -> SourceTree:
    """The tree at ``path``; every value of its pyproject.toml that warmbuild uses is
    checked here, so that later stages can trust the shapes. ``shown_as`` names the tree in
    errors instead of its path (an sdist unpacked into a temporary directory)."""
    path = path.resolve()
    real = path / "pyproject.toml"
    # Only messages use it; files are read from `real`.
    pyproject = Path(shown_as) / "pyproject.toml" if shown_as else real
    if not path.is_dir():
        raise WarmbuildError(f"{path}: " + ("not a directory" if path.exists() else
                                          "no such directory"),
                             hint="pass the directory of a Python project (where pyproject.toml "
                               "or setup.py is)")
    if not real.is_file():
        if (path / "setup.py").is_file():
            return SourceTree(path, _parse_requires(_LEGACY_REQUIRES, pyproject),
                              _LEGACY_BACKEND, name=canonicalize_name(path.name), shown_as=shown_as)
        raise WarmbuildError(f"{shown_as or path} is not a Python project: it has neither "
                             "pyproject.toml nor setup.py")
    import tomllib  # only a run with a source tree reads one

    try:
        data = tomllib.loads(real.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise WarmbuildError(f"{pyproject}: invalid TOML", cause=str(exc)) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise WarmbuildError(f"cannot read {pyproject}", cause=str(exc)) from exc
    project = _table(data, "project", pyproject)
    name = _project_name(project, pyproject) or canonicalize_name(path.name)
    settings = _tree_settings(data, pyproject)
    static = _static(project, pyproject)
    build_system = _table(data, "build-system", pyproject)
    if build_system is None:
        return SourceTree(path, _parse_requires(_LEGACY_REQUIRES, pyproject), _LEGACY_BACKEND,
                          name=name, static_project=static, settings=settings,
                          shown_as=shown_as)
    if "requires" not in build_system:
        raise WarmbuildError(f"{pyproject}: [build-system] has no `requires` key",
                             hint='add e.g. requires = ["setuptools>=61"] (PEP 518)')
    requires = build_system["requires"]
    if not _strings(requires):
        raise WarmbuildError(f"{pyproject}: [build-system] requires must be a list of strings")
    backend = build_system.get("build-backend") or _LEGACY_BACKEND
    if not isinstance(backend, str):
        raise WarmbuildError(f"{pyproject}: [build-system] build-backend must be a string",
                             hint='e.g. build-backend = "setuptools.build_meta" (PEP 517)')
    return SourceTree(path, _parse_requires(requires, pyproject), backend,
                      _backend_path(build_system, path, pyproject), name=name,
                      static_project=static, settings=settings, shown_as=shown_as)


def _table(data: Mapping[str, Any], key: str, pyproject: Path) -> dict[str, Any] | None:
    value = data.get(key)
    if value is not None and not isinstance(value, dict):
        raise WarmbuildError(f"{pyproject}: [{key}] must be a table")
    return value


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _parse_requires(requires: Any, pyproject: Path) -> tuple[Requirement, ...]:
    parsed = []
    for text in requires:
        try:
            parsed.append(Requirement(text))
        except InvalidRequirement as exc:
            raise WarmbuildError(f"{pyproject}: invalid build requirement {text!r}",
                                 cause=str(exc)) from exc
    return tuple(parsed)


def _backend_path(build_system: Mapping[str, Any], tree: Path,
                  pyproject: Path) -> tuple[str, ...]:
    """PEP 517: entries are relative to the tree and, symlinks resolved, stay inside it.

    pyproject-hooks checks the same but only when a hook runs, and with a bare ValueError.
    """
    entries = build_system.get("backend-path", [])
    if not _strings(entries):
        raise WarmbuildError(f"{pyproject}: [build-system] backend-path must be a list of "
                             "strings")
    for entry in entries:
        if os.path.isabs(entry) or not (tree / entry).resolve().is_relative_to(tree):
            raise WarmbuildError(
                f"{pyproject}: [build-system] backend-path entry {entry!r} is outside the "
                "project directory",
                hint="backend-path entries are paths relative to the directory of "
                     "pyproject.toml, inside it (PEP 517)")
    return tuple(entries)


def _tree_settings(data: Mapping[str, Any], pyproject: Path) -> dict[str, Any]:
    """``[tool.warmbuild]``; unknown keys are left to settings.py, which warns about them
    when the tree is the working directory."""
    tool = _table(data, "tool", pyproject) or {}
    settings = tool.get("warmbuild", {})
    if not isinstance(settings, dict):
        raise WarmbuildError(f"{pyproject}: [tool.warmbuild] must be a table")
    for key, value in settings.items():
        expected = setting_problem(key, value)
        if expected is not None:
            raise WarmbuildError(f"{pyproject}: [tool.warmbuild] {key} must be {expected}")
    return settings


def _project_name(project: Mapping[str, Any] | None, pyproject: Path) -> NormalizedName | None:
    if project is None or "name" not in project:
        return None
    name = project["name"]
    if not isinstance(name, str):
        raise WarmbuildError(f"{pyproject}: [project] name must be a string")
    if not is_valid_name(name):
        raise WarmbuildError(f"{pyproject}: [project] name {name!r} is not a valid project name",
                             hint="a name has ASCII letters, digits, '.', '-' and '_', and "
                               "starts and ends with a letter or digit (PEP 508)")
    return canonicalize_name(name)


def _static(project: Mapping[str, Any] | None, pyproject: Path) -> Mapping[str, Any] | None:
    """The [project] table if resolution can use it as it is (PEP 621 fields not dynamic).

    Only then are its fields checked: a dynamic field is the backend's to compute and
    to complain about.
    """
    if project is None:
        return None
    dynamic = project.get("dynamic", [])
    if not _strings(dynamic):
        raise WarmbuildError(f"{pyproject}: [project] dynamic must be a list of strings")
    if "name" not in project or "version" not in project or _RESOLUTION_FIELDS & set(dynamic):
        return None
    version = project["version"]
    if not isinstance(version, str):
        raise WarmbuildError(f"{pyproject}: [project] version must be a string",
                             hint='quote it: version = "1.0"')
    try:
        Version(version)
    except InvalidVersion as exc:
        raise WarmbuildError(f"{pyproject}: [project] version {version!r} is not a valid "
                             "version (PEP 440)") from exc
    _check_requires_python(project.get("requires-python"), pyproject)
    _check_requirements(project.get("dependencies", []), "dependencies", pyproject)
    extras = project.get("optional-dependencies", {})
    if not isinstance(extras, dict):
        raise WarmbuildError(f"{pyproject}: [project] optional-dependencies must be a table of "
                             "extra = [requirements]")
    for extra, requirements in extras.items():
        if not is_valid_name(extra):
            raise WarmbuildError(f"{pyproject}: [project] optional-dependencies: {extra!r} is "
                                 "not a valid extra name (PEP 685)")
        _check_requirements(requirements, f"optional-dependencies.{extra}", pyproject)
    return project


def _check_requires_python(value: Any, pyproject: Path) -> None:
    if value is None:
        return
    if not isinstance(value, str):
        raise WarmbuildError(f"{pyproject}: [project] requires-python must be a string",
                             hint='e.g. requires-python = ">=3.9"')
    try:
        SpecifierSet(value)
    except InvalidSpecifier as exc:
        raise WarmbuildError(f"{pyproject}: [project] requires-python {value!r} is not a valid "
                             "version specifier", cause=str(exc)) from exc


def _check_requirements(value: Any, key: str, pyproject: Path) -> None:
    if not _strings(value):
        raise WarmbuildError(f"{pyproject}: [project] {key} must be a list of strings",
                             hint=f'e.g. {key.rpartition(".")[2]} = ["requests>=2"]')
    for text in value:
        try:
            Requirement(text)
        except InvalidRequirement as exc:
            raise WarmbuildError(f"{pyproject}: [project] {key}: {text!r} is not a valid "
                                 "requirement (PEP 508)", cause=str(exc)) from exc
