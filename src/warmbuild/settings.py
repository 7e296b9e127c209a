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

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import NormalizedName, canonicalize_name

from ._log import logger
from .errors import UsageError
from .options import COMPILER_CACHES

KEYS = ("no-build-isolation-package", "extra-build-dependencies", "build-constraints",
        "config-settings-package", "build-env-vars", "build-env-dir", "cache-keys", "adopt",
        "compiler-cache")
#: Keys of the same files that ``config`` reads and checks (index and network settings).
INDEX_KEYS = ("index-strategy", "keyring-provider", "exclude-newer")


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
    #: Reconfigure build dirs another frontend's deleted env left behind (``--no-adopt``).
    adopt: bool = True
    #: ``sccache`` or ``ccache``; ``None`` when unset or ``none``.
    compiler_cache: str | None = None
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
        (source, user.parent if source == str(user) else cwd, values)
        for source, values in config_layers(cwd, environ)]
    layers += [("environment", cwd, _from_environ(environ)),
               ("command line", cwd, dict(flags or {}))]
    for source, base, values in layers:
        for key, value in values.items():
            if key in INDEX_KEYS:
                continue
            if key not in KEYS:
                import difflib

                close = difflib.get_close_matches(key, KEYS + INDEX_KEYS, n=1)
                logger.warning("warning: unknown warmbuild setting `%s` in %s%s", key, source,
                               f"; did you mean `{close[0]}`?" if close else "")
                continue
            # Each layer is checked on its own, so that an error names the file the bad
            # value is in, not the last layer that set the key.
            expected = setting_problem(key, value)
            if expected is not None:
                raise UsageError(f"warmbuild setting `{key}` (from {source}) must be {expected}")
            if key == "build-constraints":
                value = [str(base / Path(p).expanduser())
                         for p in ([value] if isinstance(value, str) else value)]
            if isinstance(value, dict) and isinstance(merged.get(key), dict):
                merged[key] = {**merged[key], **value}
            else:
                merged[key] = value
            sources[key] = source
    return _validate(merged, sources, cwd)


def config_layers(cwd: Path, environ: Mapping[str, str] = os.environ
                  ) -> list[tuple[str, dict[str, Any]]]:
    """warmbuild's config files as ``(source, table)``, lowest precedence first."""
    user, project, local = config_files(cwd, environ)
    return [(str(user), _read(user, table=None)),
            (f"{project} [tool.warmbuild]", _read(project, table=("tool", "warmbuild"))),
            (str(local), _read(local, table=None))]


def config_files(cwd: Path, environ: Mapping[str, str] = os.environ) -> tuple[Path, Path, Path]:
    """Where warmbuild's settings may be, lowest precedence first (present or not)."""
    return user_config_file(environ), cwd / "pyproject.toml", cwd / "warmbuild.toml"


def _read(path: Path, table: tuple[str, ...] | None) -> dict[str, Any]:
    if not path.is_file():
        return {}
    import tomllib  # most runs have no config file at all

    try:
        data: Any = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: invalid TOML", cause=str(exc)) from exc
    parts = table or ()
    for depth, part in enumerate(parts):
        data = data.get(part, {})
        if not isinstance(data, dict):
            raise UsageError(f"{path}: [{'.'.join(parts[:depth + 1])}] must be a table")
    result: dict[str, Any] = data
    return result


def _from_environ(environ: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if environ.get("WARMBUILD_NO_BUILD_ISOLATION_PACKAGE"):
        values["no-build-isolation-package"] = environ[
            "WARMBUILD_NO_BUILD_ISOLATION_PACKAGE"].split()
    if environ.get("WARMBUILD_BUILD_CONSTRAINT"):
        values["build-constraints"] = environ["WARMBUILD_BUILD_CONSTRAINT"].split()
    if environ.get("WARMBUILD_COMPILER_CACHE"):
        values["compiler-cache"] = environ["WARMBUILD_COMPILER_CACHE"].strip()
    return values


def setting_problem(key: str, value: Any) -> str | None:
    """What setting ``key`` must be when ``value`` is not that, else ``None``.

    Unknown keys are ``None`` here: they are warnings, which the caller gives.
    """
    if key in ("no-build-isolation-package", "build-env-vars", "cache-keys"):
        return None if _strings(value) else "a list of strings"
    if key == "build-constraints":
        return None if isinstance(value, str) or _strings(value) else "a path or a list of paths"
    if key == "build-env-dir":
        return None if isinstance(value, str) else "a path"
    if key == "adopt":
        return None if isinstance(value, bool) else "true or false"
    if key == "compiler-cache":
        return None if value in COMPILER_CACHES else " or ".join(
            f'"{c}"' for c in COMPILER_CACHES)
    if key == "extra-build-dependencies":
        expected = "a table of package = [requirements]"
        if not isinstance(value, dict) or not all(map(_strings, value.values())):
            return expected
        for package, reqs in value.items():
            for text in reqs:
                try:
                    Requirement(text)
                except InvalidRequirement:
                    return f"{expected}; {text!r} (for {package}) is not a valid requirement"
        return None
    if key == "config-settings-package":
        ok = isinstance(value, dict) and all(
            isinstance(v, dict) and all(isinstance(s, str) or _strings(s) for s in v.values())
            for v in value.values())
        return None if ok else 'a table of package = {key = "value" or ["values"]}'
    return None


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _validate(merged: Mapping[str, Any], sources: Mapping[str, str], cwd: Path) -> BuildSettings:
    """``merged`` holds only values ``setting_problem`` accepted, layer by layer."""
    constraints = merged.get("build-constraints", [])
    return BuildSettings(
        no_build_isolation=frozenset(canonicalize_name(n)
                                     for n in merged.get("no-build-isolation-package", [])),
        extra_build_dependencies={canonicalize_name(k): tuple(v) for k, v in
                                  merged.get("extra-build-dependencies", {}).items()},
        build_constraints=tuple(Path(p).resolve() for p in constraints),
        config_settings={canonicalize_name(k): dict(v) for k, v in
                         merged.get("config-settings-package", {}).items()},
        env_vars=tuple(merged.get("build-env-vars", [])),
        env_dir=merged.get("build-env-dir"), adopt=merged.get("adopt", True),
        compiler_cache=None if merged.get("compiler-cache") in (None, "none")
        else merged["compiler-cache"], sources=dict(sources),
    )
