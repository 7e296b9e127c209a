"""Per-package build settings: ``[tool.warmbuild]``, ``warmbuild.toml``, the user config.

Precedence, highest first (as uv orders its own): command-line flags; ``WARMBUILD_*``
environment variables; ``warmbuild.toml`` in the working directory; ``[tool.warmbuild]`` of
the working directory's ``pyproject.toml``; the user config file
(``<platformdirs user config>/warmbuild/warmbuild.toml``, or ``WARMBUILD_CONFIG_FILE``).
Tables (per-package maps) merge key by key; anything else is replaced. ``build-env-dir``:
``--build-env-dir`` and ``WARMBUILD_BUILD_ENV_DIR`` first, then a source tree's own
``[tool.warmbuild]``, then the files above. Unknown keys are warnings, with a suggestion
when one looks like a typo.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.utils import NormalizedName, canonicalize_name

from ._log import logger
from .errors import UsageError

KEYS = ("no-build-isolation-package", "extra-build-dependencies", "build-constraints",
        "config-settings-package", "build-env-vars", "build-env-dir")


@dataclass(frozen=True)
class BuildSettings:
    no_build_isolation: frozenset[NormalizedName] = frozenset()
    extra_build_dependencies: Mapping[NormalizedName, tuple[str, ...]] = field(
        default_factory=dict)
    build_constraints: tuple[Path, ...] = ()
    config_settings: Mapping[NormalizedName, Mapping[str, str | list[str]]] = field(
        default_factory=dict)
    #: Environment variables that are part of a build env's key (a change: a new env).
    env_vars: tuple[str, ...] = ()
    env_dir: str | None = None
    #: Where each key's value came from, for messages.
    sources: Mapping[str, str] = field(default_factory=dict)


def user_config_file(environ: Mapping[str, str] = os.environ) -> Path:
    explicit = environ.get("WARMBUILD_CONFIG_FILE")
    if explicit:
        return Path(explicit)
    import platformdirs

    return Path(platformdirs.user_config_dir("warmbuild", appauthor=False)) / "warmbuild.toml"


def load_build_settings(cwd: Path, environ: Mapping[str, str] = os.environ,
                        flags: Mapping[str, Any] | None = None) -> BuildSettings:
    merged: dict[str, Any] = {}
    sources: dict[str, str] = {}
    user = user_config_file(environ)
    # (where it came from, the dir its relative paths are relative to, the values)
    layers: list[tuple[str, Path, dict[str, Any]]] = [
        (str(user), user.parent, _read(user, table=None)),
        (f"{cwd / 'pyproject.toml'} [tool.warmbuild]", cwd,
         _read(cwd / "pyproject.toml", table=("tool", "warmbuild"))),
        (str(cwd / "warmbuild.toml"), cwd, _read(cwd / "warmbuild.toml", table=None)),
        ("environment", cwd, _from_environ(environ)),
        ("command line", cwd, dict(flags or {})),
    ]
    for source, base, values in layers:
        for key, value in values.items():
            if key == "build-constraints" and isinstance(value, str | list):
                value = [str(base / Path(p).expanduser())
                         for p in ([value] if isinstance(value, str) else value)]
            if key not in KEYS:
                close = difflib.get_close_matches(key, KEYS, n=1)
                logger.warning("warning: unknown warmbuild setting `%s` in %s%s", key, source,
                               f"; did you mean `{close[0]}`?" if close else "")
                continue
            if isinstance(value, dict) and isinstance(merged.get(key), dict):
                merged[key] = {**merged[key], **value}
            else:
                merged[key] = value
            sources[key] = source
    return _validate(merged, sources, cwd)


def _read(path: Path, table: tuple[str, ...] | None) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        data: Any = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: invalid TOML", cause=str(exc)) from exc
    for part in table or ():
        data = data.get(part, {}) if isinstance(data, dict) else {}
    return data if isinstance(data, dict) else {}


def _from_environ(environ: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if environ.get("WARMBUILD_NO_BUILD_ISOLATION_PACKAGE"):
        values["no-build-isolation-package"] = environ[
            "WARMBUILD_NO_BUILD_ISOLATION_PACKAGE"].split()
    if environ.get("WARMBUILD_BUILD_CONSTRAINT"):
        values["build-constraints"] = environ["WARMBUILD_BUILD_CONSTRAINT"].split()
    return values


def _validate(merged: Mapping[str, Any], sources: Mapping[str, str], cwd: Path) -> BuildSettings:
    def bad(key: str, expected: str) -> UsageError:
        return UsageError(f"warmbuild setting `{key}` (from {sources[key]}) must be {expected}")

    def names(key: str) -> list[str]:
        value = merged.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise bad(key, "a list of strings")
        return value

    extra = merged.get("extra-build-dependencies", {})
    if not isinstance(extra, dict) or not all(isinstance(v, list) for v in extra.values()):
        raise bad("extra-build-dependencies", "a table of package = [requirements]")
    config = merged.get("config-settings-package", {})
    if not isinstance(config, dict) or not all(isinstance(v, dict) for v in config.values()):
        raise bad("config-settings-package", "a table of package = {key = value}")
    constraints = merged.get("build-constraints", [])
    if isinstance(constraints, str):
        constraints = [constraints]
    env_dir = merged.get("build-env-dir")
    if env_dir is not None and not isinstance(env_dir, str):
        raise bad("build-env-dir", "a path")
    return BuildSettings(
        no_build_isolation=frozenset(canonicalize_name(n)
                                     for n in names("no-build-isolation-package")),
        extra_build_dependencies={canonicalize_name(k): tuple(map(str, v))
                                  for k, v in extra.items()},
        build_constraints=tuple(Path(str(p)).resolve() for p in constraints),
        config_settings={canonicalize_name(k): {str(a): b for a, b in v.items()}
                         for k, v in config.items()},
        env_vars=tuple(names("build-env-vars")),
        env_dir=env_dir, sources=dict(sources),
    )
