"""A source tree: its ``pyproject.toml``, ``[build-system]``, and static ``[project]`` metadata."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import NormalizedName, canonicalize_name

from .errors import SourceError

#: PEP 517's fallback for a tree without ``[build-system]``: setuptools' legacy backend.
_LEGACY_REQUIRES = ("setuptools>=40.8.0",)
_LEGACY_BACKEND = "setuptools.build_meta:__legacy__"


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

    def __str__(self) -> str:
        return f"{self.name} @ {self.path}"


def is_source_tree(path: Path) -> bool:
    return path.is_dir() and ((path / "pyproject.toml").is_file() or (path / "setup.py").is_file())


def load_source_tree(path: Path) -> SourceTree:
    path = path.resolve()
    pyproject = path / "pyproject.toml"
    if not pyproject.is_file():
        if (path / "setup.py").is_file():
            return SourceTree(path, _parse_requires(_LEGACY_REQUIRES, pyproject),
                              _LEGACY_BACKEND, name=canonicalize_name(path.name))
        raise SourceError(f"{path} is not a Python project: it has neither pyproject.toml "
                          "nor setup.py")
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SourceError(f"{pyproject}: invalid TOML", cause=str(exc)) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"cannot read {pyproject}", cause=str(exc)) from exc
    project = data.get("project")
    name = canonicalize_name(project.get("name") or path.name
                             if isinstance(project, dict) else path.name)
    settings = data.get("tool", {}).get("warmbuild", {})
    build_system = data.get("build-system")
    if build_system is None:
        return SourceTree(path, _parse_requires(_LEGACY_REQUIRES, pyproject), _LEGACY_BACKEND,
                          name=name, static_project=_static(project), settings=settings)
    if "requires" not in build_system:
        raise SourceError(f"{pyproject}: [build-system] has no `requires` key",
                          hint='add e.g. requires = ["setuptools>=61"] (PEP 518)')
    requires = build_system["requires"]
    if not isinstance(requires, list) or not all(isinstance(r, str) for r in requires):
        raise SourceError(f"{pyproject}: [build-system] requires must be a list of strings")
    backend = build_system.get("build-backend") or _LEGACY_BACKEND
    backend_path = build_system.get("backend-path", [])
    if not isinstance(backend, str) or not isinstance(backend_path, list):
        raise SourceError(f"{pyproject}: invalid build-backend or backend-path")
    return SourceTree(path, _parse_requires(requires, pyproject), backend,
                      tuple(str(p) for p in backend_path), name=name,
                      static_project=_static(project), settings=settings)


def _parse_requires(requires: Any, pyproject: Path) -> tuple[Requirement, ...]:
    parsed = []
    for text in requires:
        try:
            parsed.append(Requirement(text))
        except InvalidRequirement as exc:
            raise SourceError(f"{pyproject}: invalid build requirement {text!r}",
                              cause=str(exc)) from exc
    return tuple(parsed)


def _static(project: Any) -> Mapping[str, Any] | None:
    """The [project] table if resolution can use it as it is (PEP 621 fields not dynamic)."""
    if not isinstance(project, dict) or "name" not in project or "version" not in project:
        return None
    dynamic = set(project.get("dynamic", []))
    if dynamic & {"dependencies", "optional-dependencies", "requires-python", "version"}:
        return None
    return project
