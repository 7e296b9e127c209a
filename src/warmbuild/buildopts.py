"""How to build, as the user asked: a value the CLI makes and every builder reads.

Apart from ``build`` so that a command that builds nothing (a no-op install, ``list``)
does not import the build stage to describe its options.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

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
