"""What an install or uninstall will change, decided before anything is changed.

A plan is computed from values (the resolution and what is installed), changing nothing;
the one file it may read is an installed dist's ``direct_url.json``. Carrying a plan out is
:mod:`install`; ``--dry-run`` prints it and stops.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from packaging.utils import NormalizedName

from .directurl import same_source
from .dists import ResolvedDist
from .installed import InstalledDist

if TYPE_CHECKING:
    from .reqfile import UserRequirement

ActionKind = Literal["install", "upgrade", "downgrade", "reinstall", "uninstall"]


@dataclass(frozen=True)
class Action:
    kind: ActionKind
    name: NormalizedName
    old: InstalledDist | None = None
    new: ResolvedDist | None = None

    def __str__(self) -> str:
        old = f"{self.old.version}" if self.old else ""
        new = f"{self.new.version}" if self.new else ""
        if self.kind == "install":
            return f"+ {self.name}=={new}"
        if self.kind == "uninstall":
            return f"- {self.name}=={old}"
        if self.kind == "reinstall":
            return f"~ {self.name}=={new}"
        return f"~ {self.name}=={old} -> {new}"


@dataclass(frozen=True)
class Plan:
    actions: tuple[Action, ...]
    unchanged: tuple[NormalizedName, ...] = ()


def make_plan(resolved: Sequence[ResolvedDist], installed: Mapping[NormalizedName, InstalledDist],
              *, reinstall: bool = False, remove_others: bool = False) -> Plan:
    """What to change; ``remove_others`` also uninstalls what ``resolved`` does not hold."""
    actions: list[Action] = []
    unchanged: list[NormalizedName] = []
    for dist in resolved:
        old = installed.get(dist.name)
        if old is None:
            actions.append(Action("install", dist.name, new=dist))
        elif dist.file is None:
            unchanged.append(dist.name)
        elif old.version != dist.version:
            kind: ActionKind = "upgrade" if dist.version > old.version else "downgrade"
            actions.append(Action(kind, dist.name, old, dist))
        elif (dist.direct_url is not None and not reinstall and dist.file.kind != "tree"
              and same_source(old, dist)):
            unchanged.append(dist.name)
        else:
            actions.append(Action("reinstall", dist.name, old, dist))
    if remove_others:
        keep = {d.name for d in resolved}
        actions += [Action("uninstall", n, old=d) for n, d in installed.items() if n not in keep]
    return Plan(tuple(actions), tuple(unchanged))


def uninstall_plan(dists: Iterable[InstalledDist]) -> Plan:
    return Plan(tuple(Action("uninstall", d.name, old=d) for d in dists))


def uninstall_names(requirements: Iterable[UserRequirement],
                    installed: Mapping[NormalizedName, InstalledDist]) -> list[str]:
    """The projects ``uninstall -r FILE`` removes: each requirement's name, and for a source
    tree (whose name the file does not say) what was installed from it (PEP 610 URL)."""
    names = []
    for req in requirements:
        if req.tree is None:
            names.append(req.requirement.name)
            continue
        url = req.tree.as_uri()
        names.extend(d.display_name for d in installed.values()
                     if (d.direct_url() or {}).get("url") == url)
    return names
