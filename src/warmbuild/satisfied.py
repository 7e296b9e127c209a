"""Whether what is installed already answers a set of requirements: the no-op install.

Decided from the installed metadata alone, without the resolver, the index or the network,
as uv's check of site-packages does: every requirement and everything it depends on (with
the extras asked for) is installed at a version its specifiers and the constraints allow,
for an interpreter its ``Requires-Python`` admits. Anything else (a missing project, a
version out of range, a URL) is left to the resolver, which then asks the index.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from packaging.markers import Marker, UndefinedComparison
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from .errors import WarmbuildError

if TYPE_CHECKING:
    from .installed import InstalledDist
    from .python import Target
    from .reqfile import UserRequirement


def marker_applies(marker: Marker | None, env: Mapping[str, str], *, extra: str = "",
                   what: str) -> bool:
    """Whether ``marker`` holds for the target; ``what`` names the requirement for errors."""
    if marker is None:
        return True
    try:
        return marker.evaluate({**env, "extra": extra})
    except UndefinedComparison as exc:
        raise WarmbuildError(f"{what}: cannot evaluate the marker `{marker}`",
                             cause=str(exc)) from exc


def applies(req: UserRequirement, target: Target) -> bool:
    """Whether a user's requirement applies to ``target`` (its marker holds there)."""
    return marker_applies(req.requirement.marker, target.markers,
                          what=f"{req.requirement} ({req.source})")


def constraints_of(constraints: Sequence[UserRequirement],
                   target: Target) -> dict[NormalizedName, SpecifierSet]:
    """``-c`` constraints that apply to ``target``, as one specifier per project."""
    result: dict[NormalizedName, SpecifierSet] = {}
    for c in constraints:
        if not marker_applies(c.requirement.marker, target.markers,
                              what=f"{c.requirement} ({c.source})"):
            continue
        if c.requirement.url:
            raise WarmbuildError(f"{c.source}: a constraint cannot be a URL ({c.requirement})")
        result[c.name] = result.get(c.name, SpecifierSet()) & c.requirement.specifier
    return result


def satisfying(requirements: Iterable[Requirement],
               installed: Mapping[NormalizedName, InstalledDist], *,
               markers: Mapping[str, str], python_version: Version | None,
               constraints: Mapping[NormalizedName, SpecifierSet],
               no_deps: bool = False) -> list[InstalledDist] | None:
    """The installed distributions that answer ``requirements`` and their dependencies, in
    the order first reached; ``None`` when the index must be asked. ``python_version``:
    ``None`` when ``Requires-Python`` does not count (``--ignore-requires-python``)."""
    from .coremeta import parse_dependencies

    found: dict[NormalizedName, InstalledDist] = {}
    walked: dict[NormalizedName, set[str]] = {}  # "" stands for the project without extras
    todo = list(requirements)
    while todo:
        req = todo.pop()
        name = canonicalize_name(req.name)
        dist = installed.get(name)
        if dist is None or req.url or not _admits(req.specifier, dist.version) \
                or not _admits(constraints.get(name), dist.version):
            return None
        found.setdefault(name, dist)
        extras = {"", *(canonicalize_name(e) for e in req.extras)} - walked.setdefault(name, set())
        if not extras or no_deps:
            continue
        walked[name] |= extras
        requires, requires_python = parse_dependencies(dist.metadata_text(), str(dist))
        if python_version is not None and not _admits(requires_python, python_version):
            return None
        what = f"{dist.display_name} {dist.version} (Requires-Dist)"
        for dep in requires:
            if dep.marker is None:
                wanted = "" in extras
            else:
                # As the resolver: a dependency of an extra is one its marker admits only
                # with that extra.
                plain = marker_applies(dep.marker, markers, what=what)
                wanted = plain if "" in extras else False
                if not plain:
                    wanted = any(marker_applies(dep.marker, markers, extra=e, what=what)
                                 for e in extras if e)
            if wanted:
                todo.append(dep)
    return list(found.values())


def _admits(spec: SpecifierSet | None, version: Version) -> bool:
    return spec is None or spec.contains(version, prereleases=True)
