"""One context per run: the HTTP client, index finder, fetcher and cache every stage shares.

The pipeline creates one :class:`RunContext` and hands it to every builder as their
``build.BuildContext`` (uv's ``BuildDispatch`` plays this part), so that build envs are synced
with the run's own client, index pages and resolver: :meth:`RunContext.install_exact`.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import shutil
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name

from ._log import format_duration, logger, plural, progress, task, timed
from ._threads import DaemonPool, map_in_threads
from .buildopts import BuildOptions
from .cache import Cache
from .dists import DistFile, FormatControl, ResolvedDist
from .errors import BuildError, WarmbuildError
from .fetch import Fetcher
from .http import HttpClient, redact
from .index import Finder, IndexSettings, make_dist_file, split_hash
from .installed import InstalledDist, scan
from .journal import locked
from .plan import make_plan
from .python import Target
from .reqfile import UserRequirement, read_requirements_file
from .satisfied import constraints_of, marker_applies
from .trust import NetworkSettings
from .unpack import unpack
from .vcsurl import is_vcs_url

if TYPE_CHECKING:
    from . import diagnose
    from .depreader import DependencyReader
    from .resolve import Dep, Policy, Resolution
    from .sdist import SdistBuilder

#: Builds the wheel of a resolved tree (``pipeline``'s source trees), given where to put it.
TreeBuild = Callable[[ResolvedDist, Path], Path]


class RunContext:
    """The run's shared services, and the ``BuildContext`` of its builders."""

    def __init__(self, cache: Cache, index: IndexSettings, options: BuildOptions, *,
                 offline: bool = False, revalidate: bool = False,
                 refresh: frozenset[NormalizedName] = frozenset(),
                 network: NetworkSettings | None = None) -> None:
        self.cache = cache
        self.options = options
        self.client = HttpClient(cache, offline=offline, revalidate=revalidate,
                                 network=network)
        self.finder = Finder(index, self.client, refresh)
        self.fetcher = Fetcher(self.client, cache)
        self._outs: list[Path] = []
        self._early = DaemonPool(8, "warmbuild-early")

    def read_ahead(self, names: Iterable[str]) -> None:
        """Start reading the index pages of ``names`` (the user's requirements) while the
        rest of the run is imported and set up: the resolver then finds them read or on
        the way. A failure is the resolver's to report, when it asks for that project."""
        def find(name: str) -> None:
            with contextlib.suppress(WarmbuildError):
                self.finder.find(name)

        for name in names:
            self._early.submit(functools.partial(find, name))

    def sdists(self, target: Target) -> SdistBuilder:
        from .sdist import SdistBuilder

        return SdistBuilder(target, self)

    @cached_property
    def build_constraints(self) -> tuple[UserRequirement, ...]:
        constraints: tuple[UserRequirement, ...] = ()
        for path in self.options.settings.build_constraints:
            constraints += read_requirements_file(path, constraint=True).constraints
        return constraints

    def find(self, trees: Mapping[str, DistFile]) -> diagnose.FinderFn:
        """Index projects by name; direct URLs and source trees (``trees``) by URL."""
        def find(name_or_url: str) -> Sequence[DistFile]:
            if "://" not in name_or_url:
                return self.finder.find(name_or_url)
            if name_or_url in trees:
                return [trees[name_or_url]]
            if is_vcs_url(name_or_url):
                # The user's own git requirements reach here pinned (as a tree or wheel).
                raise WarmbuildError(
                    f"a dependency requires {redact(name_or_url)}: git URLs are installed "
                    "when you name them, not from another package's Requires-Dist",
                    hint="install that package with --no-deps, and name its dependencies "
                         "(the git one as `name @ git+...`) yourself")
            url, hashes = split_hash(name_or_url)
            filename = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
            file = make_dist_file(filename, url, origin="direct", hashes=hashes)
            return [file] if file is not None else []
        return find

    def resolve(self, deps: Sequence[Dep], policy: Policy,
                installed: Mapping[NormalizedName, InstalledDist],
                constraints: Mapping[NormalizedName, SpecifierSet], reader: DependencyReader,
                find: diagnose.FinderFn) -> Resolution:
        """Resolve, or raise the one-paragraph explanation of why not."""
        import resolvelib

        from . import diagnose
        from .depreader import SdistCapReached, SdistFailed
        from .resolve import Provider
        from .resolve import resolve as run_resolver

        provider = Provider(policy, find, reader, installed, constraints,
                            peek=lambda file: self.fetcher.remote_metadata(file) is not None)
        trace = diagnose.Trace()
        try:
            return run_resolver(provider, deps, trace)
        except resolvelib.ResolutionImpossible as exc:
            raise diagnose.explain(exc.causes, find, policy, self.finder.settings.indexes,
                                   constraints, self.finder.missing_note) from exc
        except SdistCapReached as exc:
            raise diagnose.sdist_cap_reached(trace.conflict, find, exc.candidate, exc.prepared,
                                             exc.cap) from exc
        except SdistFailed as exc:
            # Only an old release reached by backtracking is explained by the conflict; a
            # failing sdist the resolver chose first is the story itself.
            walked = trace.walked | provider.backtracked
            if exc.candidate.name not in walked or not trace.conflict:
                raise exc.error from exc.error.__cause__
            raise diagnose.sdist_failed(trace.conflict, find, exc.candidate,
                                        exc.error) from exc.error
        except resolvelib.ResolutionTooDeep as exc:
            raise WarmbuildError("resolution gave up after too many steps",
                                 hint="pin some versions to narrow the search") from exc
        finally:
            logger.debug("resolver: tried %d candidates (%d rejected), backtracked %d times, "
                         "prepared the metadata of %d sdists", trace.tried, trace.rejected,
                         trace.backtracks, len(reader.prepared))

    def prepare(self, dists: Sequence[ResolvedDist], sdists: SdistBuilder,
                build_tree: TreeBuild | None = None, level: int = logging.INFO
                ) -> dict[NormalizedName, Path]:
        """Each dist as an unpacked wheel in the cache, a local wheel file, or a fresh build."""
        out = Path(tempfile.mkdtemp(prefix="warmbuild-wheels-"))

        def prepare_one(dist: ResolvedDist) -> Path:
            file = dist.file
            assert file is not None, "only dists with a file are prepared"
            if file.kind == "tree" and build_tree is not None:
                return build_tree(dist, out / dist.name)
            fetched = self.fetcher.fetch(file, dist.required_hashes)
            if file.kind == "sdist":
                return sdists.wheel(fetched.path, fetched.sha256)
            if fetched.sha256 is None:
                return fetched.path
            return unpack(self.cache, fetched.path, fetched.sha256)

        def counted(dist: ResolvedDist) -> Path:
            path = prepare_one(dist)
            shown.advance()
            return path

        progress.info("Preparing %d package%s", len(dists), plural(dists))
        try:
            with timed() as elapsed, task("count", "Prepared", len(dists)) as shown:
                paths = map_in_threads(counted, dists, workers=8, name="warmbuild-prepare")
        except BaseException:
            shutil.rmtree(out, ignore_errors=True)
            raise
        self._outs.append(out)
        if dists:
            logger.log(level, "Prepared %d package%s in %s", len(dists), plural(dists),
                       format_duration(elapsed[0]))
        return {d.name: p for d, p in zip(dists, paths, strict=True)}

    def close(self) -> None:
        """Remove the run's fresh builds (installed by then, or not wanted)."""
        self._early.close()
        for out in self._outs:
            shutil.rmtree(out, ignore_errors=True)

    def install_exact(self, env: Target, requirements: Sequence[str], *,
                      upgrade: bool) -> dict[str, str]:
        """Make a build env hold exactly ``requirements`` (``build.BuildContext``).

        Build requirements must come as wheels: building them from sdists would need build
        envs of their own, and cycles (setuptools builds setuptools) among them.
        """
        try:
            with locked(env.prefix):
                return self._install_exact(env, requirements, upgrade)
        except WarmbuildError as exc:
            raise BuildError(f"cannot install the build requirements into the build env at "
                             f"{env.prefix}: {exc.message}", cause=exc.cause,
                             hint=exc.hint) from exc

    def _install_exact(self, env: Target, requirements: Sequence[str],
                       upgrade: bool) -> dict[str, str]:
        from .depreader import DependencyReader
        from .install import apply
        from .resolve import Policy, dep_from_requirement

        reqs = [Requirement(r) for r in requirements]
        deps = [dep_from_requirement(r, origin="build requirements") for r in reqs
                if marker_applies(r.marker, env.markers, what=f"{r} (build requirements)")]
        names = frozenset(canonicalize_name(r.name) for r in reqs)
        policy = Policy(tags=env.tags, python_version=env.version, markers=env.markers,
                        pre=False, upgrade=names if upgrade else frozenset(), reinstall=False,
                        no_deps=False, allowed_hashes={},
                        formats=FormatControl.binary_only(), index_order=self.finder.index_order)
        installed = scan(env)
        sdists = self.sdists(env)
        find = self.find({})
        with timed() as elapsed:
            resolution = self.resolve(deps, policy, installed,
                                      constraints_of(self.build_constraints, env),
                                      DependencyReader(self.finder, self.fetcher, {}, sdists, {}),
                                      find)
        logger.debug("Resolved %d build requirements in %s", len(resolution.candidates),
                     format_duration(elapsed[0]))
        resolved = tuple(ResolvedDist(c.name, c.version, None if c.installed else c.file,
                                      c.name in names) for c in resolution.candidates)
        plan = make_plan(resolved, installed, remove_others=True)
        if plan.actions:
            wheels = self.prepare([a.new for a in plan.actions if a.new is not None], sdists,
                                  level=logging.DEBUG)
            apply(plan, env, wheels, record=False)
        return {d.name: str(d.version) for d in resolved}
