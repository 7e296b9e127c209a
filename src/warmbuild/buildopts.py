"""How to build, as the user asked: a value the CLI makes and every builder reads.

Apart from ``build`` so that a command that builds nothing (a no-op install, ``list``)
does not import the build stage to describe its options.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from .errors import UsageError
from .settings import BuildSettings

#: ``-C KEY=VALUE``; a repeated key is a list (pypa/build's rule).
ConfigSettings = Mapping[str, str | list[str]]


@dataclass(frozen=True)
class BuildOptions:
    config_settings: ConfigSettings = field(default_factory=dict)
    isolation: bool = True
    refresh_env: bool = False
    upgrade_env: bool = False
    #: ``--build-env-dir`` / ``WARMBUILD_BUILD_ENV_DIR`` (else ``[tool.warmbuild]``).
    env_dir: str | None = None
    verbose: bool = False
    settings: BuildSettings = field(default_factory=BuildSettings)


def parse_config_settings(items: Sequence[str]) -> dict[str, str | list[str]]:
    """``-C KEY=VALUE`` (repeatable; a repeated key becomes a list, as in pypa/build)."""
    settings: dict[str, str | list[str]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"-C {item}: expected KEY=VALUE")
        if key in settings:
            old = settings[key]
            settings[key] = [*old, value] if isinstance(old, list) else [old, value]
        else:
            settings[key] = value
    return settings
