"""`warmbuild check`: installed distributions whose requirements are missing or conflicting.

Pure: installed distributions in (as :class:`Dist` values), a frozen :class:`CheckReport`
out. The rules are pip's (``pip check``): a requirement counts when its marker holds for the
target with no extra, so dependencies that only an extra brings are not checked (nothing
records which extras were asked for); ``dep[x]`` checks ``dep`` alone; a version satisfies
a specifier pre-releases included; a distribution whose ``Requires-Dist`` cannot be read is
a problem of its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from packaging.markers import InvalidMarker, UndefinedComparison, UndefinedEnvironmentName
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version


@dataclass(frozen=True)
class Dist:
    """An installed distribution as `check` and `tree` see it."""

    name: NormalizedName
    version: Version
    #: ``Requires-Dist`` lines as written in its metadata.
    requires: tuple[str, ...] = ()
    #: The name as the distribution spells it (``Jinja2``).
    display_name: str = ""


@dataclass(frozen=True)
class Missing:
    dist: NormalizedName
    version: Version
    requirement: Requirement

    @property
    def dep(self) -> NormalizedName:
        return canonicalize_name(self.requirement.name)

    def __str__(self) -> str:
        return f"{self.dist} {self.version} requires {self.dep}, which is not installed."


@dataclass(frozen=True)
class Conflict:
    dist: NormalizedName
    version: Version
    requirement: Requirement
    installed: Version

    @property
    def dep(self) -> NormalizedName:
        return canonicalize_name(self.requirement.name)

    def __str__(self) -> str:
        return (f"{self.dist} {self.version} has requirement {self.requirement}, but you "
                f"have {self.dep} {self.installed}.")


@dataclass(frozen=True)
class Unreadable:
    dist: NormalizedName
    problem: str


@dataclass(frozen=True)
class CheckReport:
    missing: tuple[Missing, ...]
    conflicts: tuple[Conflict, ...]
    unreadable: tuple[Unreadable, ...]

    @property
    def ok(self) -> bool:
        return not (self.missing or self.conflicts or self.unreadable)

    def lines(self) -> tuple[str, ...]:
        """pip's lines: every missing requirement first, then every conflict."""
        return tuple(map(str, (*self.missing, *self.conflicts)))


def requirements_of(dist: Dist, markers: Mapping[str, str]) -> tuple[Requirement, ...]:
    """The requirements of ``dist`` that hold for the target without extras.

    Raises ``ValueError`` for a line that is not PEP 508 or a marker that cannot be
    evaluated (pip's check reports those as broken metadata).
    """
    found = []
    for line in dist.requires:
        try:
            req = Requirement(line.strip())
            if req.marker is not None and not req.marker.evaluate({**markers, "extra": ""}):
                continue
        except (InvalidRequirement, InvalidMarker, UndefinedComparison,
                UndefinedEnvironmentName) as exc:
            raise ValueError(f"{line!r}: {exc}") from exc
        found.append(req)
    return tuple(found)


def check(dists: Iterable[Dist], markers: Mapping[str, str]) -> CheckReport:
    """Check every distribution's requirements against the others; sorted by name."""
    by_name = {d.name: d for d in dists}
    missing: list[Missing] = []
    conflicts: list[Conflict] = []
    unreadable: list[Unreadable] = []
    for name in sorted(by_name):
        dist = by_name[name]
        try:
            reqs = requirements_of(dist, markers)
        except ValueError as exc:
            unreadable.append(Unreadable(name, str(exc)))
            continue
        mine_missing, mine_conflicts = set(), set()
        for req in reqs:
            dep = by_name.get(canonicalize_name(req.name))
            if dep is None:
                mine_missing.add(Missing(name, dist.version, req))
            elif not req.specifier.contains(dep.version, prereleases=True):
                mine_conflicts.add(Conflict(name, dist.version, req, dep.version))
        # pip sorts one distribution's findings by their text.
        missing.extend(sorted(mine_missing, key=lambda m: (m.dep, str(m.requirement))))
        conflicts.extend(sorted(mine_conflicts, key=lambda c: (c.dep, str(c.requirement))))
    return CheckReport(tuple(missing), tuple(conflicts), tuple(unreadable))
