"""Turn a failed resolution into one paragraph a user can act on.

:class:`Trace` watches the resolver (a resolvelib reporter): how many candidates it tried
and, when it backtracks, the conflict that made it. When backtracking then runs into the
sdist cap or into an old sdist that cannot even give its metadata, that conflict is the
story to tell, not the last build error (item 3 of issue 11).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

import resolvelib
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName

from ._log import logger
from .dists import DistFile
from .errors import BuildError, WarmbuildError
from .http import redact
from .preference import PYTHON
from .resolve import Dep, Policy
from .resolve import Finder as FinderFn

__all__ = ["FinderFn", "NoteFn", "Trace", "explain", "sdist_cap_reached", "sdist_failed"]

#: What the index settings hid from a project: ``(cause, hint)`` (``index.Finder``).
NoteFn = Callable[[str, SpecifierSet], "tuple[str, str] | None"]

#: The most conflict lines and versions an explanation shows.
_SHOWN = 8


class Trace(resolvelib.BaseReporter):  # type: ignore[type-arg]
    """Counts what the resolver tried, logs it under ``-v``, keeps the latest conflict."""

    def __init__(self) -> None:
        self.pinned = 0
        self.rejected = 0
        self.backtracks = 0
        #: RequirementInformation(requirement, parent) of the latest conflict.
        self.conflict: tuple[Any, ...] = ()
        #: Projects of which a version was rejected: the resolver walks back through them.
        self.walked: set[str] = set()

    @property
    def tried(self) -> int:
        return self.pinned + self.rejected

    def pinning(self, candidate: Any) -> None:
        self.pinned += 1
        logger.debug("resolver: pinned %s", candidate)

    def rejecting_candidate(self, criterion: Any, candidate: Any) -> None:
        self.rejected += 1
        self.walked.add(candidate.name)
        self.conflict = tuple(criterion.information)
        logger.debug("resolver: rejected %s: %s", candidate, _requirements(self.conflict))

    def resolving_conflicts(self, causes: Any) -> None:
        self.backtracks += 1
        self.conflict = tuple(causes)
        logger.debug("resolver: backtracking: %s", _requirements(self.conflict))


def _requirements(causes: Collection[Any]) -> str:
    return "; ".join(f"{_who(c.parent)} requires {c.requirement}" for c in causes)


def explain(causes: Collection[Any], finder: FinderFn, policy: Policy,
            indexes: Sequence[str],
            constraints: Mapping[NormalizedName, SpecifierSet] | None = None,
            note: NoteFn | None = None) -> WarmbuildError:
    """``causes`` are resolvelib's RequirementInformation(requirement, parent) pairs;
    ``constraints`` the ``-c`` specifiers, which narrow choices without being causes."""
    constraints = constraints or {}
    keys = {c.requirement.key for c in causes}
    if keys == {PYTHON}:
        return _python_conflict(causes, policy)
    if len(keys) == 1:
        # A requirement that nothing satisfies even alone is the real story, not a conflict.
        for cause in causes:
            alone = _no_candidates([cause], finder, policy, indexes, constraints)
            if alone is not None:
                return _with_note(alone, cause.requirement, constraints, note)
        if len(causes) == 1:
            return WarmbuildError(f"cannot satisfy {next(iter(causes)).requirement}")
    names = _names(causes)
    return WarmbuildError(
        f"cannot install a consistent set: the requirements on {', '.join(names)} conflict",
        cause="\n".join(_conflict_lines(causes) + _available(names, finder)),
        hint="loosen one of these requirements, or pin a version that satisfies all of them",
    )


def sdist_cap_reached(conflict: Collection[Any], finder: FinderFn, candidate: Any,
                      prepared: Sequence[Any], cap: int) -> WarmbuildError:
    """Backtracking over ``conflict`` would prepare more old sdists than ``cap`` allows."""
    return _stopped(
        conflict, finder,
        f"settling it would take the metadata of more than {cap} older sdists "
        f"(--max-sdist-builds {cap}); the next was {candidate}",
        [f"  sdists prepared: {_by_project(prepared)}"],
        hint=f"bound one of the requirements above, or `{candidate.name}` from below (the "
             "resolver was walking back through its releases), or raise the cap with "
             "--max-sdist-builds N")


def sdist_failed(conflict: Collection[Any], finder: FinderFn, candidate: Any,
                 error: BuildError) -> WarmbuildError:
    """Backtracking over ``conflict`` reached an old sdist whose backend failed."""
    detail = [f"  {candidate}: {error.message}"]
    if error.cause:
        detail += [f"    {line}" for line in error.cause.splitlines()[-5:]]
    return _stopped(
        conflict, finder,
        f"settling it led the resolver back to {candidate}, an sdist whose metadata could "
        "not be prepared", detail,
        hint=f"bound one of the requirements above (e.g. `{candidate.name}>"
             f"{candidate.version}`) so that the resolver need not go back that far",
        output=error.output, log=error.log)


def _stopped(conflict: Collection[Any], finder: FinderFn, why: str, detail: list[str], *,
             hint: str, output: tuple[str, ...] = (), log: str | None = None
             ) -> WarmbuildError:
    """``output`` and ``log``: a failed backend's, shown after the conflict."""
    names = _names(conflict)
    message = f"resolution stopped: {why}"
    if names:
        message = (f"cannot install a consistent set: the requirements on {', '.join(names)} "
                   f"conflict, and {why}")
        detail = _conflict_lines(conflict) + _available(names, finder) + detail
    return WarmbuildError(message, cause="\n".join(detail), hint=hint, output=output,
                          log=log)


def _names(causes: Collection[Any]) -> list[str]:
    return sorted({c.requirement.name for c in causes if c.requirement.key != PYTHON})


def _conflict_lines(causes: Collection[Any]) -> list[str]:
    lines = list(dict.fromkeys(f"  {_who(c.parent)} requires {c.requirement}" for c in causes))
    if len(lines) > _SHOWN:
        lines[_SHOWN:] = [f"  ... and {len(lines) - _SHOWN} more"]
    return lines


def _available(names: Sequence[str], finder: FinderFn) -> list[str]:
    """Which versions of each project the indexes offered, and from where: with a partial
    mirror first in line, "only 8.1.0 is there" is often the whole story."""
    lines = []
    for name in names:
        files = finder(name)
        versions = sorted({f.version for f in files}, reverse=True)
        shown = ", ".join(str(v) for v in versions[:_SHOWN])
        if len(versions) > _SHOWN:
            shown += f", ... ({len(versions)} versions)"
        origins = sorted({redact(f.origin) for f in files if f.origin})
        where = f" (from {', '.join(origins)})" if origins else ""
        lines.append(f"  available {name}: {shown or 'none'}{where}")
    return lines


def _by_project(candidates: Sequence[Any]) -> str:
    versions: dict[str, list[str]] = {}
    for cand in candidates:
        versions.setdefault(cand.name, []).append(str(cand.version))
    return "; ".join(f"{name} {', '.join(v)}" for name, v in versions.items())


def _with_note(error: WarmbuildError, dep: Dep,
               constraints: Mapping[NormalizedName, SpecifierSet],
               note: NoteFn | None) -> WarmbuildError:
    """Add which index answered, when another configured one has a matching version."""
    found = None if note is None or dep.url else note(
        dep.name, dep.specifier & constraints.get(dep.name, SpecifierSet()))
    if found is None:
        return error
    cause = f"{error.cause}\n{found[0]}" if error.cause else found[0]
    return WarmbuildError(error.message, cause=cause, hint=found[1])


def _who(parent: Any) -> str:
    if parent is None:
        return "you (command line or requirements file)"
    return str(parent)


def _python_conflict(causes: Collection[Any], policy: Policy) -> WarmbuildError:
    parents = ", ".join(sorted({_who(c.parent) for c in causes}))
    spec = SpecifierSet()
    for c in causes:
        spec &= c.requirement.specifier
    return WarmbuildError(
        f"{parents} requires Python {spec}, but the target is Python {policy.python_version}",
        hint="pick an older version of that package, or a target interpreter it supports "
             "(--python)",
    )


def _no_candidates(causes: Collection[Any], finder: FinderFn, policy: Policy,
                   indexes: Sequence[str],
                   constraints: Mapping[NormalizedName, SpecifierSet]) -> WarmbuildError | None:
    dep: Dep = next(iter(causes)).requirement
    spec = SpecifierSet()
    for c in causes:
        spec &= c.requirement.specifier
    asked = " and ".join(f"{c.requirement}" for c in causes)
    constraint = constraints.get(dep.name)
    if constraint is not None and str(constraint):
        spec &= constraint
        asked += f" (constrained to {dep.name}{constraint})"
    if dep.url:
        if len(causes) == 1 and constraint is None:
            return None  # a direct reference alone always fits: the conflict is elsewhere
        return WarmbuildError(f"{dep.name}: {dep.url} does not satisfy {asked}")
    files = list(finder(dep.name))
    where = ", ".join(indexes) or "no index (--no-index) and the find-links locations"
    if not files:
        return WarmbuildError(f"no package named `{dep.name}` was found",
                              cause=f"looked in {where}",
                              hint="check the spelling, and the index settings with "
                                    "`warmbuild config`")
    versions = sorted({f.version for f in files}, reverse=True)
    matching = set(spec.filter(versions, prereleases=True if policy.pre else None))
    if not matching and len(causes) == 1:
        shown = ", ".join(str(v) for v in versions[:8]) + (", ..." if len(versions) > 8 else "")
        hint = None
        if any(v.is_prerelease for v in spec.filter(versions, prereleases=True)):
            hint = "only pre-releases match; pass --pre or pin the pre-release explicitly"
        origins = sorted({redact(f.origin) for f in files if f.origin})
        where = f" (from {', '.join(origins)})" if origins else ""
        parent = next(iter(causes)).parent
        by = f", which {parent} requires" if parent is not None else ""
        return WarmbuildError(f"no version of `{dep.name}` matches {asked}{by}",
                              cause=f"available: {shown}{where}", hint=hint)
    if not matching:
        return None
    newest = max(matching)
    of_newest = [f for f in files if f.version == newest]
    return _why_unusable(dep.name, newest, of_newest, policy)


def _why_unusable(name: str, version: object, files: list[DistFile],
                  policy: Policy) -> WarmbuildError | None:
    allows = policy.formats.allows
    wheels = [f for f in files if f.kind == "wheel" and allows(f.name, "wheel")]
    sdists = [f for f in files if f.kind == "sdist" and allows(f.name, "sdist")]
    supported = set(policy.tags)
    if not wheels and not sdists:
        # Name the value that decided: the project's own, else :all:.
        formats = policy.formats
        if any(f.kind == "wheel" for f in files):
            which = name if name in formats.no_binary else ":all:"
            return WarmbuildError(
                f"`{name}` {version} has no source distribution, and --no-binary {which} "
                "forbids its wheels", hint=f"drop `{which}` from --no-binary, or pin another "
                                           "version")
        which = name if name in formats.only_binary else ":all:"
        return WarmbuildError(
            f"`{name}` {version} has no wheel, only a source distribution, and "
            f"--only-binary {which} forbids building it",
            hint=f"drop `{which}` from --only-binary, or pin a version that ships a wheel")
    compatible = [f for f in wheels if f.tags & supported] + sdists
    if not compatible:
        offered = sorted({str(t) for f in wheels for t in f.tags})
        pure = f"py{policy.python_version.major}-none-any"
        accepted = [str(t) for t in policy.tags[:2]] + [pure]
        return WarmbuildError(
            f"`{name}` {version} has no wheel compatible with the target "
            f"(CPython {policy.python_version})",
            cause=f"wheels offered for: {', '.join(offered[:10])}\n"
                  f"     the target accepts {len(policy.tags)} tags, e.g. "
                  f"{', '.join(accepted)}",
            hint="choose a version with a wheel for this platform, or another interpreter")
    python_ok = [f for f in compatible if f.requires_python is None
                 or f.requires_python.contains(policy.python_version, prereleases=True)]
    if not python_ok:
        spec = compatible[0].requires_python
        return WarmbuildError(
            f"`{name}` {version} requires Python {spec}, but the target is Python "
            f"{policy.python_version}")
    if all(f.is_yanked for f in python_ok):
        return WarmbuildError(f"`{name}` {version} was yanked",
                              cause=f"reason: {python_ok[0].yanked or 'none given'}",
                              hint=f"pin it exactly (`{name}=={version}`) to install it anyway")
    if policy.allowed_hashes.get(files[0].name):
        return WarmbuildError(f"no file of `{name}` {version} has one of the required hashes")
    return None
