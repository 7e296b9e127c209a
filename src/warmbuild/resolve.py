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

import contextlib
import functools
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import resolvelib
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.tags import Tag
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from ._threads import DaemonPool
from .dists import DistFile, FormatControl
from .errors import WarmbuildError
from .installed import InstalledDist
from .offers import Offers
from .preference import PYTHON, Preference, Preferences, cheap_first
from .satisfied import marker_applies

if TYPE_CHECKING:
    pass

#: While the resolver walks back through a project's versions, the metadata of the next
#: few is read in parallel: this many PEP 658 files, and this many whole wheels (of an
#: index without metadata files), for each is very likely to be asked for next.
LOOKAHEAD_FILES = 8
LOOKAHEAD_WHEELS = 3


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

    @property
    def cheap(self) -> bool:
        """Its metadata comes without a build (a wheel, a tree read already, an install)."""
        return self.file is None or self.file.kind != "sdist"

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
    #: pip's ``--ignore-requires-python``: neither the index's nor the metadata's counts.
    ignore_requires_python: bool = False


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
        self.preferences = Preferences(constraints)
        #: Projects the resolver has rejected a version of (for explanations).
        self.backtracked: set[NormalizedName] = set()
        self._offers = Offers(policy, finder)
        self._started: set[object] = set()
        # Only grows; a race between prefetch threads computes the same value twice.
        self._matches: dict[tuple[NormalizedName, frozenset[str], SpecifierSet],
                            tuple[Candidate, ...]] = {}
        self._pool: DaemonPool | None = None
        self._pool_lock = threading.Lock()

    def prefetch(self, deps: Iterable[Dep]) -> None:
        """Start fetching the project page of each new name and the metadata of the version
        that will be tried first. The injected finder and metadata functions keep (and
        share between threads) what they fetched, so the resolver later reads it at once.
        """
        self._submit((d.name, functools.partial(self._warm, d)) for d in deps
                     if not d.url and d.name != PYTHON)

    def _warm(self, dep: Dep) -> None:
        spec = dep.specifier & self._constraints.get(dep.name, SpecifierSet())
        first = next(iter(self._index_candidates(dep.name, frozenset(), spec, set())), None)
        # Only metadata is read ahead (a PEP 658 file, or the METADATA member of a remote
        # wheel by range requests): a wrong guess must not cost a whole wheel.
        file = first.file if first is not None else None
        if first is not None and file is not None and (_metadata_file(first) or (
                file.kind == "wheel" and self._peek is not None and self._peek(file))):
            self.prefetch(self.get_dependencies(first))

    def _read_ahead(self, candidates: Sequence[Candidate]) -> None:
        """Read the metadata of the first few of ``candidates`` in the background."""
        ahead = [c for c in candidates[:LOOKAHEAD_FILES] if _metadata_file(c)]
        ahead += [c for c in candidates[:LOOKAHEAD_WHEELS] if c.file is not None
                  and c.file.kind == "wheel" and not _metadata_file(c)]
        self._submit(((c.name, c.version), functools.partial(self._metadata, c))
                     for c in ahead)

    def _submit(self, jobs: Iterable[tuple[object, Callable[[], object]]]) -> None:
        """Run each job once per key, in the pool; failures are left for the resolver to
        meet again itself, and report."""
        with self._pool_lock:
            for key, job in jobs:
                if key in self._started:
                    continue
                self._started.add(key)
                if self._pool is None:
                    self._pool = DaemonPool(16, "warmbuild-prefetch")
                self._pool.submit(functools.partial(_quietly, job))

    def close(self) -> None:
        with self._pool_lock:
            if self._pool is not None:
                self._pool.close()

    def identify(self, requirement_or_candidate: Dep | Candidate) -> str:
        return requirement_or_candidate.key

    def narrow_requirement_selection(
            self, identifiers: Iterable[str], resolutions: Mapping[str, Candidate],
            candidates: Mapping[str, Iterator[Candidate]],
            information: Mapping[str, Iterator[Any]],
            backtrack_causes: Sequence[Any]) -> Iterable[str]:
        return self.preferences.narrow(identifiers, resolutions, backtrack_causes)

    def get_preference(self, identifier: str, resolutions: Mapping[str, Candidate],
                       candidates: Mapping[str, Iterator[Candidate]],
                       information: Mapping[str, Iterator[Any]],
                       backtrack_causes: Sequence[Any]) -> Preference:
        deps = [info.requirement for info in information[identifier]]
        return self.preferences.key(identifier, deps)

    def find_matches(self, identifier: str, requirements: Mapping[str, Iterator[Dep]],
                     incompatibilities: Mapping[str, Iterator[Candidate]]
                     ) -> list[Candidate] | Callable[[], Iterator[Candidate]]:
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
        candidates = self._index_candidates(name, extras, spec, bad)
        if bad:
            self.backtracked.add(name)
            candidates = cheap_first(candidates)
        else:
            candidates = candidates[:1] + cheap_first(candidates[1:])
        return functools.partial(self._walk, candidates, bool(bad))

    def _walk(self, candidates: list[Candidate], walking: bool) -> Iterator[Candidate]:
        """The candidates, in order; resolvelib asks for the next one only when it rejected
        the one before. So from the second on (or at once, when versions were rejected
        before) the resolver is walking back through the project's versions: versions with
        cheap metadata come first (sorted so by ``find_matches``), and the metadata of the
        next few is read in parallel instead of one per round."""
        for i, candidate in enumerate(candidates):
            if i or walking:
                self._read_ahead(candidates[i:])
            yield candidate

    def _direct_candidate(self, name: NormalizedName, extras: frozenset[str], urls: set[str],
                          spec: SpecifierSet, bad: set[Version]) -> list[Candidate]:
        if len(urls) > 1:
            return []
        (url,) = urls
        found = list(self._finder(url))
        filename = url.split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1]
        if not found:
            raise WarmbuildError(
                f"`{name} @ {url}`: {filename} is not the name of a wheel or an sdist",
                hint="a direct reference names a .whl, .tar.gz or .zip file (name-version...) "
                     "or a project directory")
        file = found[0]
        if file.name != name:
            raise WarmbuildError(f"`{name} @ {url}`: that file is a distribution of "
                                 f"`{file.name}`, not of `{name}`")
        if not self._offers.supported(file):
            raise WarmbuildError(
                f"{file.filename} is not a supported wheel for the target: none of its tags "
                f"is among the target's (the first of which is {self.policy.tags[0]})",
                hint="pick the wheel built for this Python and platform")
        if file.version in bad or not spec.contains(file.version, prereleases=True):
            return []
        return [Candidate(name, file.version, extras, file=file, url=url)]

    def _index_candidates(self, name: NormalizedName, extras: frozenset[str],
                          spec: SpecifierSet, bad: set[Version]) -> list[Candidate]:
        candidates = [c for c in self._matching(name, extras, spec) if c.version not in bad]
        installed = self._installed.get(name)
        if (installed is not None and installed.version not in bad
                and spec.contains(installed.version, prereleases=True)
                and not self.policy.reinstall):
            mine = Candidate(name, installed.version, extras, installed=installed)
            if name not in self.policy.upgrade:
                return [mine, *(c for c in candidates if c.version != installed.version)]
            candidates = [mine if c.version == installed.version else c for c in candidates]
        return candidates

    def _matching(self, name: NormalizedName, extras: frozenset[str],
                  spec: SpecifierSet) -> tuple[Candidate, ...]:
        """Newest first (``offers``), kept as candidates too: making them anew for each of
        thousands of calls would cost what the offers' cache saves."""
        key = (name, extras, spec)
        found = self._matches.get(key)
        if found is None:
            found = tuple(Candidate(name, version, extras, file=file)
                          for version, file in self._offers.matching(name, spec))
            self._matches[key] = found
        return found

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
        if requires_python is not None and not candidate.extras \
                and not self.policy.ignore_requires_python:
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


def _metadata_file(candidate: Candidate) -> bool:
    """Whether reading ahead is cheap: only a PEP 658 metadata file is read on a guess, never
    a whole wheel (let alone an sdist prepared) for a version that may not be tried."""
    file = candidate.file
    return file is not None and file.kind == "wheel" and file.metadata_url is not None


def _quietly(job: Callable[[], object]) -> None:
    # The resolver asks again itself, and reports what went wrong.
    with contextlib.suppress(Exception):
        job()


def dep_from_requirement(req: Requirement, *, origin: str) -> Dep:
    return Dep(canonicalize_name(req.name),
               frozenset(canonicalize_name(e) for e in req.extras),
               req.specifier, req.url or None, origin)


@dataclass(frozen=True)
class Resolution:
    #: One candidate per project (extras folded into their base), in dependency order.
    candidates: tuple[Candidate, ...]


def resolve(provider: Provider, deps: Iterable[Dep],
            reporter: resolvelib.BaseReporter[Dep, Candidate, str] | None = None) -> Resolution:
    """Raises resolvelib's ResolutionImpossible/ResolutionTooDeep; the caller explains."""
    resolver = resolvelib.Resolver(provider, reporter or resolvelib.BaseReporter())
    deps = list(deps)
    provider.preferences.requested(deps)
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
