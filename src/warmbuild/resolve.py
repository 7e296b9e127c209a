"""Resolution with resolvelib: a thin provider over injected finder and metadata functions.

The provider does no I/O of its own. Candidates are plain values built from what the index
listed; dependencies are read (through the injected ``metadata`` function) only when the
resolver asks for them, so constructing a candidate never downloads or builds anything.
While resolvelib works one requirement at a time, background threads fetch what it will ask
for next (see ``Provider.prefetch``), so index round trips overlap instead of adding up.
Identifiers are ``name`` or ``name[extra,...]``; ``X[a]`` depends on ``X`` at the same
version, as pip does. ``Requires-Python`` is a dependency on the virtual ``<python>``.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import resolvelib
from packaging.markers import Marker, UndefinedComparison
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.tags import Tag
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from ._threads import DaemonPool
from .dists import DistFile, FormatControl
from .errors import RequirementError
from .installed import InstalledDist

if TYPE_CHECKING:
    from .python import Target
    from .reqfile import UserRequirement

PYTHON = "<python>"


@dataclass(frozen=True)
class Dep:
    """A requirement as the resolver sees it."""

    name: NormalizedName
    extras: frozenset[str] = frozenset()
    specifier: SpecifierSet = field(default_factory=SpecifierSet)
    #: A direct reference (``name @ url``), already without credentials.
    url: str | None = None
    #: Who asked: a user requirement's source, or ``name version`` of a parent.
    origin: str = field(default="", compare=False)

    @property
    def key(self) -> str:
        return identifier(self.name, self.extras)

    def __str__(self) -> str:
        extras = f"[{','.join(sorted(self.extras))}]" if self.extras else ""
        if self.url:
            return f"{self.name}{extras} @ {self.url}"
        return f"{self.name}{extras}{self.specifier}"


@dataclass(frozen=True)
class Candidate:
    name: NormalizedName
    version: Version
    extras: frozenset[str] = frozenset()
    #: The file to install, or ``None`` for an installed distribution.
    file: DistFile | None = None
    installed: InstalledDist | None = None
    #: Set when the user named this file directly.
    url: str | None = None

    @property
    def key(self) -> str:
        return identifier(self.name, self.extras)

    def __str__(self) -> str:
        return f"{self.key} {self.version}"


def identifier(name: str, extras: frozenset[str]) -> str:
    return f"{name}[{','.join(sorted(extras))}]" if extras else name


@dataclass(frozen=True)
class Policy:
    """Choices that shape resolution, all fixed before it starts."""

    tags: tuple[Tag, ...]
    python_version: Version
    markers: Mapping[str, str]
    pre: bool = False
    #: Names whose installed version is not preferred (``-U`` names the requested ones,
    #: as pip's only-if-needed strategy does; ``--upgrade-package`` adds more).
    upgrade: frozenset[NormalizedName] = frozenset()
    reinstall: bool = False
    no_deps: bool = False
    #: Files per name that ``--hash`` pins; others are not offered.
    allowed_hashes: Mapping[NormalizedName, frozenset[str]] = field(default_factory=dict)
    #: ``--only-binary``/``--no-binary`` per project (else an sdist is offered for a
    #: version with no compatible wheel, and built).
    formats: FormatControl = field(default_factory=FormatControl)
    #: ``--prefer-binary``: an older version with a wheel before a newer one with only an sdist.
    prefer_binary: bool = False
    #: ``unsafe-first-match``: the indexes in order; versions of earlier ones are tried first.
    index_order: tuple[str, ...] = ()


Finder = Callable[[str], Sequence[DistFile]]
DependencyFn = Callable[[Candidate], tuple[tuple[Requirement, ...], SpecifierSet | None]]


class Provider(resolvelib.AbstractProvider):  # type: ignore[type-arg]
    def __init__(self, policy: Policy, finder: Finder, metadata: DependencyFn,
                 installed: Mapping[NormalizedName, InstalledDist],
                 constraints: Mapping[NormalizedName, SpecifierSet],
                 peek: Callable[[DistFile], bool] | None = None) -> None:
        """``peek(file)``: whether a wheel's metadata can be had without downloading it
        (fetching it if so), for read-ahead."""
        self.policy = policy
        self._peek = peek
        self._finder = finder
        self._metadata = metadata
        self._installed = installed
        self._constraints = constraints
        self._priority = {tag: i for i, tag in enumerate(policy.tags)}
        self._prefetched: set[NormalizedName] = set()
        self._pool: DaemonPool | None = None
        self._pool_lock = threading.Lock()

    def prefetch(self, deps: Iterable[Dep]) -> None:
        """Start fetching the project page of each new name and the metadata of the version
        that will be tried first. The injected finder and metadata functions keep (and
        share between threads) what they fetched, so the resolver later reads it at once.
        """
        fresh = [d for d in deps if not d.url and d.name != PYTHON
                 and d.name not in self._prefetched]
        if not fresh:
            return
        with self._pool_lock:
            if self._pool is None:
                self._pool = DaemonPool(16, "warmbuild-prefetch")
            for dep in fresh:
                if dep.name not in self._prefetched:
                    self._prefetched.add(dep.name)
                    self._pool.submit(functools.partial(self._warm, dep))

    def _warm(self, dep: Dep) -> None:
        spec = dep.specifier & self._constraints.get(dep.name, SpecifierSet())
        try:
            first = next(iter(self._index_candidates(dep.name, frozenset(), spec, set())), None)
            # Only metadata is read ahead (a PEP 658 file, or the METADATA member of a
            # remote wheel by range requests): a wrong guess must not cost a whole wheel
            # (or an sdist build).
            file = first.file if first is not None else None
            if first is not None and file is not None and file.kind == "wheel" \
                    and (file.metadata_url or (self._peek is not None and self._peek(file))):
                self.prefetch(self.get_dependencies(first))
        except Exception:
            pass  # the resolver asks again itself, and reports what went wrong

    def close(self) -> None:
        with self._pool_lock:
            if self._pool is not None:
                self._pool.close()

    def identify(self, requirement_or_candidate: Dep | Candidate) -> str:
        return requirement_or_candidate.key

    def get_preference(self, identifier: str, resolutions: Mapping[str, Candidate],
                       candidates: Mapping[str, Iterator[Candidate]],
                       information: Mapping[str, Iterator[Any]],
                       backtrack_causes: Sequence[Any]) -> tuple[bool, ...]:
        deps = [info.requirement for info in information[identifier]]
        direct = any(d.url for d in deps)
        pinned = any(s.operator in ("==", "===") and "*" not in s.version
                     for d in deps for s in d.specifier)
        causes = {c.requirement.name for c in backtrack_causes}
        # Earlier tuple entries win: the virtual python first, then direct URLs and pins
        # (cheap, decisive), then what caused a conflict, then the rest by name.
        return (identifier != PYTHON, not direct, not pinned, identifier not in causes,
                "[" in identifier)

    def find_matches(self, identifier: str, requirements: Mapping[str, Iterator[Dep]],
                     incompatibilities: Mapping[str, Iterator[Candidate]]) -> list[Candidate]:
        deps = list(requirements[identifier])
        bad = {c.version for c in incompatibilities[identifier]}
        if identifier == PYTHON:
            # A Requires-Python from metadata (not the index listing) that excludes the
            # target: no candidate, so the resolver backtracks to another version.
            version = self.policy.python_version
            if version in bad or not all(d.specifier.contains(version, prereleases=True)
                                         for d in deps):
                return []
            return [Candidate(canonicalize_name(PYTHON), version)]
        name, extras = deps[0].name, deps[0].extras
        spec = SpecifierSet()
        for dep in deps:
            spec &= dep.specifier
        spec &= self._constraints.get(name, SpecifierSet())
        urls = {d.url for d in deps if d.url}
        if urls:
            return self._direct_candidate(name, extras, urls, spec, bad)
        return self._index_candidates(name, extras, spec, bad)

    def _direct_candidate(self, name: NormalizedName, extras: frozenset[str], urls: set[str],
                          spec: SpecifierSet, bad: set[Version]) -> list[Candidate]:
        if len(urls) > 1:
            return []
        (url,) = urls
        found = list(self._finder(url))
        filename = url.split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1]
        if not found:
            raise RequirementError(
                f"`{name} @ {url}`: {filename} is not the name of a wheel or an sdist",
                hint="a direct reference names a .whl, .tar.gz or .zip file (name-version...) "
                     "or a project directory")
        file = found[0]
        if file.name != name:
            raise RequirementError(f"`{name} @ {url}`: that file is a distribution of "
                                   f"`{file.name}`, not of `{name}`")
        if file.kind == "wheel" and not any(t in self._priority for t in file.tags):
            raise RequirementError(
                f"{file.filename} is not a supported wheel for the target: none of its tags "
                f"is among the target's (the first of which is {self.policy.tags[0]})",
                hint="pick the wheel built for this Python and platform")
        if file.version in bad or not spec.contains(file.version, prereleases=True):
            return []
        return [Candidate(name, file.version, extras, file=file, url=url)]

    def _index_candidates(self, name: NormalizedName, extras: frozenset[str],
                          spec: SpecifierSet, bad: set[Version]) -> list[Candidate]:
        by_version: dict[Version, list[DistFile]] = {}
        for file in self._finder(name):
            by_version.setdefault(file.version, []).append(file)
        allowed = set(spec.filter(by_version, prereleases=True if self.policy.pre else None))
        exact = {s.version for s in spec if s.operator in ("==", "===") and "*" not in s.version}
        exact_versions = {v for v in by_version if str(v) in exact or any(
            s.operator == "==" and "*" not in s.version and s.contains(v, prereleases=True)
            for s in spec)}
        hashes = self.policy.allowed_hashes.get(name)
        candidates = []
        for version in sorted(allowed - bad, reverse=True):
            usable = [f for f in by_version[version] if self._usable(f, hashes)]
            if any(f.is_yanked for f in usable) and version not in exact_versions:
                usable = [f for f in usable if not f.is_yanked]
            best = min(usable, key=self._rank, default=None)
            if best is not None:
                candidates.append(Candidate(name, version, extras, file=best))
        if self.policy.index_order or self.policy.prefer_binary:
            candidates.sort(key=self._order)  # stable: newest first within each group
        installed = self._installed.get(name)
        if (installed is not None and installed.version not in bad
                and spec.contains(installed.version, prereleases=True)
                and not self.policy.reinstall):
            mine = Candidate(name, installed.version, extras, installed=installed)
            if name not in self.policy.upgrade:
                return [mine, *(c for c in candidates if c.version != installed.version)]
            candidates = [mine if c.version == installed.version else c for c in candidates]
        return candidates

    def _order(self, candidate: Candidate) -> tuple[bool, int]:
        file = candidate.file
        assert file is not None
        order = self.policy.index_order
        rank = order.index(file.origin) if file.origin in order else 0
        return (self.policy.prefer_binary and file.kind != "wheel", rank)

    def _usable(self, file: DistFile, hashes: frozenset[str] | None) -> bool:
        if not self.policy.formats.allows(file.name, file.kind):
            return False
        if file.kind != "sdist" and (
                file.kind != "wheel" or not any(t in self._priority for t in file.tags)):
            return False
        if file.requires_python is not None and not file.requires_python.contains(
                self.policy.python_version, prereleases=True):
            return False
        return hashes is None or not file.hashes or any(d in hashes for _, d in file.hashes)

    def _rank(self, file: DistFile) -> int:
        """Lower is better: wheels by the target's tag order, then an sdist."""
        if file.kind == "sdist":
            return len(self._priority)
        return min(self._priority.get(t, len(self._priority)) for t in file.tags)

    def is_satisfied_by(self, requirement: Dep, candidate: Candidate) -> bool:
        if requirement.url:
            return candidate.url == requirement.url
        return requirement.specifier.contains(candidate.version, prereleases=True)

    def get_dependencies(self, candidate: Candidate) -> list[Dep]:
        if candidate.key == PYTHON:
            return []
        deps: list[Dep] = []
        if candidate.extras:
            deps.append(Dep(candidate.name, specifier=SpecifierSet(f"=={candidate.version}"),
                            url=candidate.url, origin=str(candidate)))
        if self.policy.no_deps:
            return deps
        requires, requires_python = self._metadata(candidate)
        if requires_python is not None and not candidate.extras:
            deps.append(Dep(canonicalize_name(PYTHON), specifier=requires_python,
                            origin=str(candidate)))
        env, what = self.policy.markers, f"{candidate} (Requires-Dist)"
        for req in requires:
            if candidate.extras:
                wanted = any(marker_applies(req.marker, env, extra=e, what=what)
                             for e in candidate.extras)
                if not wanted or marker_applies(req.marker, env, what=what):
                    continue
            elif not marker_applies(req.marker, env, what=what):
                continue
            deps.append(dep_from_requirement(req, origin=str(candidate)))
        self.prefetch(deps)
        return deps


def dep_from_requirement(req: Requirement, *, origin: str) -> Dep:
    return Dep(canonicalize_name(req.name),
               frozenset(canonicalize_name(e) for e in req.extras),
               req.specifier, req.url or None, origin)


def marker_applies(marker: Marker | None, env: Mapping[str, str], *, extra: str = "",
                   what: str) -> bool:
    """Whether ``marker`` holds for the target; ``what`` names the requirement for errors."""
    if marker is None:
        return True
    try:
        return marker.evaluate({**env, "extra": extra})
    except UndefinedComparison as exc:
        raise RequirementError(f"{what}: cannot evaluate the marker `{marker}`",
                               cause=str(exc)) from exc


@dataclass(frozen=True)
class Resolution:
    #: One candidate per project (extras folded into their base), in dependency order.
    candidates: tuple[Candidate, ...]


def resolve(provider: Provider, deps: Iterable[Dep],
            reporter: resolvelib.BaseReporter[Dep, Candidate, str] | None = None) -> Resolution:
    """Raises resolvelib's ResolutionImpossible/ResolutionTooDeep; the caller explains."""
    resolver = resolvelib.Resolver(provider, reporter or resolvelib.BaseReporter())
    deps = list(deps)
    provider.prefetch(deps)
    try:
        result = resolver.resolve(deps, max_rounds=20000)
    finally:
        provider.close()
    order = _topological(result.graph)
    chosen: dict[NormalizedName, Candidate] = {}
    for key in order:
        cand = result.mapping.get(key)
        if cand is None or key == PYTHON:
            continue
        chosen.setdefault(cand.name, Candidate(cand.name, cand.version, frozenset(),
                                                cand.file, cand.installed, cand.url))
    return Resolution(tuple(chosen.values()))


def _topological(graph: Any) -> list[str]:
    """Dependencies before dependents, so installing in this order never breaks imports."""
    order: list[str] = []
    seen: set[str] = set()

    def visit(key: str) -> None:
        if key in seen or key is None:
            return
        seen.add(key)
        for child in graph.iter_children(key):
            visit(child)
        order.append(key)

    for key in sorted(k for k in graph if k is not None):
        visit(key)
    return order


def constraints_of(constraints: Sequence[UserRequirement],
                   target: Target) -> dict[NormalizedName, SpecifierSet]:
    """``-c`` constraints that apply to ``target``, as one specifier per project."""
    result: dict[NormalizedName, SpecifierSet] = {}
    for c in constraints:
        if not marker_applies(c.requirement.marker, target.markers,
                              what=f"{c.requirement} ({c.source})"):
            continue
        if c.requirement.url:
            raise RequirementError(f"{c.source}: a constraint cannot be a URL ({c.requirement})")
        result[c.name] = result.get(c.name, SpecifierSet()) & c.requirement.specifier
    return result
