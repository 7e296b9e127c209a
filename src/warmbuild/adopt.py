"""Adopting build dirs that another frontend left pointing into its deleted build env.

pip and uv build in a temporary env and delete it; a backend with an in-tree build dir
(PyTorch's setup.py, scikit-build-core's ``build-dir``, meson-python's editable build dir)
recorded absolute paths into it (``CMAKE_MAKE_PROGRAM``, ``CMAKE_COMMAND``, pybind11's include
dir, the ``meson`` of the regenerate rule), and the next build fails or starts from scratch.
Adopting reconfigures such a dir in place instead of wiping it:

- CMake: the stale ``CMakeCache.txt`` (and scikit-build-core's ``.skbuild-info.json``,
  whose changed ``skbuild_path`` would make it delete ``CMakeFiles/`` with every object in
  it) are moved aside, so the backend configures again in the same dir; ninja's log then
  rebuilds only the objects whose compile command really changed.
- Meson: ``meson configure --clearcache`` with the env's meson forgets the dependencies found
  in the dead env (pybind11's include dir), and meson-python's own ``setup --reconfigure``
  finds them again in the live one; where that cannot run, ``meson-private/coredata.dat``
  is moved aside, and meson-python configures the dir afresh (objects kept).

Nothing is deleted, nothing outside a build dir is touched, and a build dir that also points
into a live env is left alone. :func:`plan_adoption` decides (``doctor`` prints it);
:func:`adopt` carries a plan out and returns a frozen :class:`AdoptReport`, whose
:meth:`~AdoptReport.rebuilt` counts afterwards which objects the build compiled again.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from .builddirs import Finding, doctor, is_gone, is_live

_OBJECT_SUFFIXES = (".o", ".obj")
#: What a moved-aside file is renamed to: ``CMakeCache.txt`` -> ``CMakeCache.txt.adopted``.
ASIDE = ".adopted"


@dataclass(frozen=True)
class DirPlan:
    """One build dir to adopt, or (``skipped``) one left alone, and why."""

    build_dir: Path
    kind: Literal["cmake", "meson"]
    #: A dead path the dir recorded, as evidence.
    dead: str
    skipped: str = ""

    @property
    def steps(self) -> tuple[str, ...]:
        if self.kind == "meson":
            return ("meson configure --clearcache (with the build env's meson)",)
        aside = [n for n in ("CMakeCache.txt", ".skbuild-info.json")
                 if (self.build_dir / n).is_file()]
        return tuple(f"move {n} aside to {n}{ASIDE}" for n in aside)

    @property
    def reason(self) -> str:
        what = "CMake cache" if self.kind == "cmake" else "Meson build dir"
        return f"{what} pointed into a deleted build env of another frontend"


@dataclass(frozen=True)
class LoaderPlan:
    """An editable loader in the target env that calls a dead tool for this tree."""

    file: Path
    dead: str


@dataclass(frozen=True)
class AdoptPlan:
    tree: Path
    dirs: tuple[DirPlan, ...] = ()
    loaders: tuple[LoaderPlan, ...] = ()

    @property
    def adopting(self) -> tuple[DirPlan, ...]:
        return tuple(d for d in self.dirs if not d.skipped)

    def describe(self) -> list[str]:
        """What adopting would do, one line per build dir or loader (``doctor``)."""
        lines = []
        for d in self.dirs:
            where = _shown(d.build_dir, self.tree)
            if d.skipped:
                lines.append(f"{where}: left alone: {d.skipped}")
            else:
                lines.append(f"{where}: {d.reason}; would {'; '.join(d.steps)} and reconfigure"
                             " in place, keeping the object files")
        lines += [f"{loader.file}: calls {loader.dead}, which is gone; replaced by the next "
                  "`warmbuild install` of the tree" for loader in self.loaders]
        return lines


@dataclass(frozen=True)
class Adopted:
    build_dir: Path
    reason: str
    #: What was done (moved aside, cleared).
    done: tuple[str, ...]
    #: Object files in the dir before the build, with their mtimes (ns).
    objects: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class AdoptReport:
    tree: Path
    adopted: tuple[Adopted, ...] = ()
    loaders: tuple[LoaderPlan, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.adopted or self.loaders)

    def lines(self) -> list[str]:
        """The output lines: one per adopted dir and per replaced loader."""
        out = [f"adopted build dir {_shown(a.build_dir, self.tree)}: {a.reason}; reconfiguring"
               for a in self.adopted]
        out += [f"replacing editable loader {loader.file}: it calls {loader.dead}, in a "
                "deleted build env of another frontend" for loader in self.loaders]
        return out

    def rebuilt(self) -> list[str]:
        """After the build: how many of each adopted dir's objects were compiled again."""
        out = []
        for a in self.adopted:
            again = sum(1 for path, mtime in a.objects.items() if _mtime(Path(path)) != mtime)
            out.append(f"{_shown(a.build_dir, self.tree)}: {again} of {len(a.objects)} "
                       "objects rebuilt")
        return out


def plan_adoption(tree: Path, live: Collection[str] = (),
                  site_dirs: Sequence[Path] = ()) -> AdoptPlan:
    """Which of ``tree``'s build dirs point into a deleted env of another frontend (and into
    no live one), and which editable loaders in ``site_dirs`` call a dead tool for it."""
    tree = tree.resolve()
    findings = doctor(tree, live, site_dirs)
    by_dir: dict[Path, list[Finding]] = defaultdict(list)
    loaders = []
    for f in findings:
        if f.what == "rebuild command" or f.what.startswith("rebuild in "):
            if is_gone(f):
                loaders.append(LoaderPlan(f.file, f.path))
        elif f.file.is_relative_to(tree):
            by_dir[f.file.parent].append(f)
    dirs = [plan for d, fs in sorted(by_dir.items()) if (plan := _dir_plan(d, fs)) is not None]
    unique = tuple(dict.fromkeys(loaders))
    return AdoptPlan(tree, tuple(dirs), unique)


def _dir_plan(build_dir: Path, findings: Sequence[Finding]) -> DirPlan | None:
    gone = [f for f in findings if is_gone(f)]
    if not gone:
        return None
    if (build_dir / "CMakeCache.txt").is_file():
        kind: Literal["cmake", "meson"] = "cmake"
    elif (build_dir / "meson-private" / "coredata.dat").is_file():
        kind = "meson"
    else:
        return None  # a build.ninja of something else: nothing known to do
    alive = [f for f in findings if is_live(f)]
    skipped = f"it also points into a live env ({alive[0].path})" if alive else ""
    return DirPlan(build_dir, kind, gone[0].path, skipped)


def adopt(plan: AdoptPlan, meson: Path | None = None) -> AdoptReport:
    """Carry ``plan`` out; ``meson`` is the build env's meson (``None``: not in the env)."""
    adopted = []
    for d in plan.adopting:
        done = _adopt_meson(d.build_dir, meson) if d.kind == "meson" else \
            _move_aside(d.build_dir, ("CMakeCache.txt", ".skbuild-info.json"))
        adopted.append(Adopted(d.build_dir, d.reason, done, _objects(d.build_dir)))
    return AdoptReport(plan.tree, tuple(adopted), plan.loaders)


def _move_aside(build_dir: Path, names: Sequence[str]) -> tuple[str, ...]:
    done = []
    for name in names:
        path = build_dir / name
        if path.is_file():
            # os.replace: an earlier adoption's copy is replaced, never a second one kept.
            os.replace(path, path.with_name(name + ASIDE))
            done.append(f"moved {name} aside")
    return tuple(done)


def _adopt_meson(build_dir: Path, meson: Path | None) -> tuple[str, ...]:
    if meson is not None and meson.exists():
        proc = subprocess.run([str(meson), "configure", "--clearcache", str(build_dir)],
                              capture_output=True, text=True, check=False,
                              stdin=subprocess.DEVNULL)
        if proc.returncode == 0:
            return ("cleared meson's cached dependencies",)
    # Another meson version or no meson in the env: without coredata.dat meson-python
    # configures the dir afresh, and ninja's log still spares unchanged objects.
    return _move_aside(build_dir / "meson-private", ("coredata.dat",))


def _objects(build_dir: Path) -> dict[str, int]:
    found = {}
    for root, _dirs, files in os.walk(build_dir):
        for name in files:
            if name.endswith(_OBJECT_SUFFIXES):
                path = os.path.join(root, name)
                found[path] = _mtime(Path(path))
    return found


def _mtime(path: Path) -> int:
    with contextlib.suppress(OSError):
        return path.stat().st_mtime_ns
    return -1


def _shown(path: Path, tree: Path) -> str:
    return f"{path.relative_to(tree)}/" if path.is_relative_to(tree) else str(path)
