"""The stages wired together: requirements -> resolve -> plan -> fetch -> install.

This is the one module that knows every stage; the CLI calls it and nothing imports it.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urldefrag, urlsplit

import resolvelib
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from . import diagnose
from ._log import format_duration, logger, progress, timed
from ._threads import map_in_threads
from .build import BuildOptions, SdistBuilder, TreeBuilder, TreeMetadata
from .buildenv import Syncer
from .cache import Cache
from .config import Settings, load_settings
from .dists import DistFile, ResolvedDist
from .errors import BuildError, RequirementError, ResolutionError, TargetError, WarmbuildError
from .fetch import Fetcher
from .hooks import Kind
from .http import HttpClient
from .index import Finder, make_dist_file, split_hash
from .install import apply
from .installed import scan
from .journal import locked
from .metadata import MetadataReader
from .plan import Plan, make_plan, uninstall_plan
from .python import Target
from .reqfile import RequirementSet, UserRequirement, parse_requirement, read_requirements_file
from .resolve import Dep, Policy, Provider, dep_from_requirement, marker_applies, resolve
from .source import load_source_tree
from .unpack import unpack


@dataclass(frozen=True)
class InstallRequest:
    requirements: tuple[str, ...] = ()
    requirement_files: tuple[Path, ...] = ()
    constraint_files: tuple[Path, ...] = ()
    #: Index flags from the command line (``index-url``, ``extra-index-url``, ...).
    index_flags: Mapping[str, str | Sequence[str] | bool | None] = field(default_factory=dict)
    no_deps: bool = False
    upgrade: bool = False
    upgrade_packages: tuple[str, ...] = ()
    reinstall: bool = False
    pre: bool = False
    require_hashes: bool = False
    dry_run: bool = False
    offline: bool = False
    compile_bytecode: bool = False
    break_system_packages: bool = False
    #: ``-e PATH`` source trees, installed in editable mode.
    editables: tuple[str, ...] = ()
    build: BuildOptions = field(default_factory=BuildOptions)
    #: Remove whatever the resolution does not hold (how build envs are synced).
    exact: bool = False
    #: Phase lines at debug level (build env syncs inside a run).
    quiet: bool = False
    #: ``--only-binary :all:``: never build an sdist.
    only_binary: bool = False


@dataclass(frozen=True)
class _Tree:
    builder: TreeBuilder
    metadata: TreeMetadata
    kind: Literal["wheel", "editable"]

    def dist_file(self, url: str) -> DistFile:
        return DistFile(filename=self.builder.tree.path.name, url=url,
                        name=canonicalize_name(self.metadata.name),
                        version=Version(self.metadata.version), kind="tree", origin="tree")


@dataclass(frozen=True)
class InstallResult:
    plan: Plan
    resolved: tuple[ResolvedDist, ...]
    dry_run: bool


def gather(request: InstallRequest) -> RequirementSet:
    reqs = RequirementSet(requirements=tuple(parse_requirement(r) for r in request.requirements)
                          + tuple(parse_requirement(e, editable=True)
                                  for e in request.editables))
    for path in request.requirement_files:
        reqs = reqs.merge(read_requirements_file(path))
    for path in request.constraint_files:
        reqs = reqs.merge(read_requirements_file(path, constraint=True))
    if not reqs.requirements and not request.exact:
        raise RequirementError("nothing to install",
                               hint="name packages, or pass -r requirements.txt")
    return reqs


def effective_settings(request: InstallRequest, reqs: RequirementSet | None,
                       target: Target | None) -> Settings:
    file_options = None
    if reqs is not None:
        file_options = {"index-url": reqs.index_url, "extra-index-url": reqs.extra_index_urls,
                        "find-links": reqs.find_links, "no-index": reqs.no_index}
    return load_settings(request.index_flags, file_options=file_options,
                         target_prefix=target.prefix if target else None)


def check_writable(target: Target, *, break_system_packages: bool) -> None:
    if target.externally_managed is not None and not break_system_packages:
        raise TargetError(
            f"{target.executable} is externally managed (PEP 668: {target.externally_managed})",
            hint="install into a virtual environment (`python3 -m venv .venv`), or pass "
                 "--break-system-packages if you really mean to change this interpreter",
        )


def install(request: InstallRequest, target: Target, cache: Cache) -> InstallResult:
    check_writable(target, break_system_packages=request.break_system_packages)
    reqs = gather(request)
    with contextlib.ExitStack() as stack:
        # Read what is installed only once no other warmbuild is changing it.
        stack.enter_context(locked(target.prefix))
        return _install(request, reqs, target, cache, stack)


def _install(request: InstallRequest, reqs: RequirementSet, target: Target, cache: Cache,
             stack: contextlib.ExitStack) -> InstallResult:
    level = logging.DEBUG if request.quiet else logging.INFO
    settings = effective_settings(request, reqs, target)
    client = HttpClient(cache, offline=request.offline,
                        revalidate=request.upgrade or bool(request.upgrade_packages))
    finder = Finder(settings.index_settings(), client)
    fetcher = Fetcher(client, cache)
    installed = scan(target)

    wanted = [r for r in reqs.requirements if _applies(r, target)]
    trees: dict[str, _Tree] = {}
    wanted = [_tree_requirement(r, trees, request, target, cache, stack) if r.tree else r
              for r in wanted]
    deps = [_user_dep(r, client) for r in wanted]
    require_hashes = request.require_hashes or reqs.require_hashes or any(
        r.hashes for r in wanted)
    hashes = {r.name: r.hashes for r in wanted if r.hashes}
    names = frozenset(r.name for r in wanted)
    upgrade = frozenset(canonicalize_name(n) for n in request.upgrade_packages)
    policy = Policy(
        tags=target.tags, python_version=target.version, markers=target.markers,
        pre=request.pre or reqs.pre, upgrade=upgrade | (names if request.upgrade else set()),
        reinstall=request.reinstall, no_deps=request.no_deps,
        allowed_hashes={n: frozenset(d for _, d in h) for n, h in hashes.items()},
        only_binary=request.only_binary or reqs.only_binary,
    )
    sdists = SdistBuilder(target, cache, env_syncer(request, cache), request.build)
    reader = MetadataReader(finder, fetcher, {u: t.metadata.text for u, t in trees.items()},
                             sdists, hashes)
    constraints = _constraints(reqs.constraints, target)
    find = _finder_fn(finder, trees)
    provider = Provider(policy, find, reader, installed, constraints)
    progress.info("Resolving dependencies")
    with timed() as elapsed:
        try:
            resolution = resolve(provider, deps)
        except resolvelib.ResolutionImpossible as exc:
            raise diagnose.explain(exc.causes, find, policy,
                                   finder.settings.indexes, constraints) from exc
        except resolvelib.ResolutionTooDeep as exc:
            raise ResolutionError("resolution gave up after too many steps",
                                  hint="pin some versions to narrow the search") from exc
    resolved = tuple(
        ResolvedDist(c.name, c.version, None if c.installed else c.file, c.name in names,
                     direct_url=urldefrag(c.url)[0] if c.url else None,
                     required_hashes=hashes.get(c.name, ()),
                     editable=c.url in trees and trees[c.url].kind == "editable",
                     build_env=_editable_env(trees.get(c.url or "")))
        for c in resolution.candidates)
    logger.log(level, "Resolved %d package%s in %s", len(resolved), _s(resolved),
               format_duration(elapsed[0]))
    if require_hashes:
        _check_all_hashed(resolved)
    plan = make_plan(resolved, installed, reinstall=request.reinstall,
                     remove_others=request.exact)
    if request.dry_run or not plan.actions:
        return InstallResult(plan, resolved, request.dry_run)
    out = Path(tempfile.mkdtemp(prefix="warmbuild-wheels-"))
    stack.callback(shutil.rmtree, out, ignore_errors=True)
    wheels = fetch_all(fetcher, cache, [a.new for a in plan.actions if a.new is not None],
                       out, trees, sdists, level)
    progress.info("Installing %d package%s", len(plan.actions), _s(plan.actions))
    with timed() as elapsed:
        apply(plan, target, wheels, compile_bytecode=request.compile_bytecode)
    logger.log(level, "Installed %d package%s in %s", len(plan.actions), _s(plan.actions),
               format_duration(elapsed[0]))
    for dist in resolved:
        tree = trees.get(dist.direct_url or "")
        if dist.build_env and tree is not None:
            tree.builder.session.add_editable(target.prefix, dist.name)
    return InstallResult(plan, resolved, False)


def _editable_env(tree: _Tree | None) -> str | None:
    if tree is None or tree.kind != "editable" or tree.builder.env is None:
        return None
    return str(tree.builder.env.path)


def _tree_requirement(req: UserRequirement, trees: dict[str, _Tree], request: InstallRequest,
                      target: Target, cache: Cache,
                      stack: contextlib.ExitStack) -> UserRequirement:
    """Open the tree's build env, read its metadata, and name the requirement by it."""
    assert req.tree is not None
    url = req.tree.as_uri()
    kind: Literal["wheel", "editable"] = "editable" if req.editable else "wheel"
    if url in trees and trees[url].kind != kind:
        raise RequirementError(f"{req.tree} is asked for both as an editable install (-e) "
                               "and as a regular one", hint="keep one of the two")
    if url not in trees:
        tree = load_source_tree(req.tree)
        builder = stack.enter_context(
            TreeBuilder(tree, target, cache, env_syncer(request, cache), request.build))
        trees[url] = _Tree(builder, builder.metadata(kind), kind)
    metadata = trees[url].metadata
    extras = f"[{','.join(sorted(req.requirement.extras))}]" if req.requirement.extras else ""
    return replace(req, requirement=Requirement(f"{metadata.name}{extras} @ {url}"))


@dataclass(frozen=True)
class BuildRequest:
    path: Path
    kinds: tuple[Kind, ...] = ("sdist", "wheel")
    outdir: Path = Path("dist")
    index_flags: Mapping[str, str | Sequence[str] | bool | None] = field(default_factory=dict)
    offline: bool = False
    build: BuildOptions = field(default_factory=BuildOptions)


def build_dists(request: BuildRequest, target: Target, cache: Cache) -> list[Path]:
    """``warmbuild build``: distributions of a tree, built in its persistent env."""
    tree = load_source_tree(request.path)
    sync = env_syncer(InstallRequest(index_flags=request.index_flags, offline=request.offline,
                                     build=request.build), cache)
    with TreeBuilder(tree, target, cache, sync, request.build) as builder:
        return [builder.build(kind, request.outdir.absolute()) for kind in request.kinds]


def env_syncer(request: InstallRequest, cache: Cache) -> Syncer:
    """How build envs get their requirements: this installer, same indexes, exact sync."""

    def sync(env: Target, requirements: Sequence[str], upgrade: bool) -> dict[str, str]:
        # Build requirements must come as wheels: building them from sdists would need
        # build envs of their own, and cycles (setuptools builds setuptools) among them.
        sub = InstallRequest(requirements=tuple(requirements), index_flags=request.index_flags,
                             constraint_files=request.build.settings.build_constraints,
                             offline=request.offline, upgrade=upgrade, exact=True, quiet=True,
                             upgrade_packages=tuple(Requirement(r).name for r in requirements)
                             if upgrade else (),
                             only_binary=True)
        try:
            result = install(sub, env, cache)
        except WarmbuildError as exc:
            raise BuildError(f"cannot install the build requirements into the build env at "
                             f"{env.prefix}: {exc.message}", cause=exc.cause,
                             hint=exc.hint) from exc
        return {d.name: str(d.version) for d in result.resolved}

    return sync


def fetch_all(fetcher: Fetcher, cache: Cache, dists: Sequence[ResolvedDist], out: Path,
              trees: Mapping[str, _Tree] | None = None, sdists: SdistBuilder | None = None,
              level: int = logging.INFO) -> dict[NormalizedName, Path]:
    """Each dist as an unpacked wheel in the cache, a local wheel file, or a fresh build
    (into ``out``)."""

    def prepare(dist: ResolvedDist) -> Path:
        if dist.file is not None and dist.file.kind == "tree" and trees:
            tree = trees[dist.file.url]
            return tree.builder.build(tree.kind, out / dist.name)
        fetched = fetcher.fetch(_file(dist), dist.required_hashes)
        if _file(dist).kind == "sdist" and sdists is not None:
            return sdists.wheel(fetched.path, fetched.sha256)
        if fetched.sha256 is None:
            return fetched.path
        return unpack(cache, fetched.path, fetched.sha256)

    progress.info("Preparing %d package%s", len(dists), _s(dists))
    with timed() as elapsed:
        paths = map_in_threads(prepare, dists, workers=8, name="warmbuild-prepare")
    if dists:
        logger.log(level, "Prepared %d package%s in %s", len(dists), _s(dists),
                   format_duration(elapsed[0]))
    return {d.name: p for d, p in zip(dists, paths, strict=True)}


def _file(dist: ResolvedDist) -> DistFile:
    assert dist.file is not None, "only dists with a file are fetched"
    return dist.file


def uninstall(names: Sequence[str], target: Target, *, dry_run: bool = False,
              break_system_packages: bool = False) -> Plan:
    check_writable(target, break_system_packages=break_system_packages)
    with locked(target.prefix):
        return _uninstall(names, target, dry_run=dry_run)


def _uninstall(names: Sequence[str], target: Target, *, dry_run: bool) -> Plan:
    # As pip does, a requirement (`six>=1`) names its project; the version is not checked.
    parsed = []
    for text in names:
        try:
            parsed.append(Requirement(text).name)
        except InvalidRequirement as exc:
            raise RequirementError(f"uninstall {text!r}: not a project name",
                                   cause=str(exc)) from exc
    names = parsed
    installed = scan(target)
    missing = [n for n in names if canonicalize_name(n) not in installed]
    for name in missing:
        logger.warning("warning: %s is not installed in %s", name, target.prefix)
    plan = uninstall_plan(installed[canonicalize_name(n)] for n in dict.fromkeys(names)
                          if canonicalize_name(n) in installed)
    if plan.actions and not dry_run:
        with timed() as elapsed:
            apply(plan, target, {})
        logger.info("Uninstalled %d package%s in %s", len(plan.actions), _s(plan.actions),
                    format_duration(elapsed[0]))
    return plan


def _s(items: Sequence[object]) -> str:
    return "" if len(items) == 1 else "s"


def _applies(req: UserRequirement, target: Target) -> bool:
    return marker_applies(req.requirement.marker, target.markers,
                          what=f"{req.requirement} ({req.source})")


def _user_dep(req: UserRequirement, client: HttpClient) -> Dep:
    dep = dep_from_requirement(req.requirement, origin=req.source)
    if dep.url:
        return Dep(dep.name, dep.extras, dep.specifier, client.add_credentials(dep.url),
                   req.source)
    return dep


def _constraints(constraints: Sequence[UserRequirement],
                 target: Target) -> dict[NormalizedName, SpecifierSet]:
    result: dict[NormalizedName, SpecifierSet] = {}
    for c in constraints:
        if not _applies(c, target):
            continue
        if c.requirement.url:
            raise RequirementError(f"{c.source}: a constraint cannot be a URL ({c.requirement})")
        result[c.name] = result.get(c.name, SpecifierSet()) & c.requirement.specifier
    return result


def _finder_fn(finder: Finder, trees: Mapping[str, _Tree]) -> diagnose.FinderFn:
    def find(name_or_url: str) -> Sequence[DistFile]:
        if "://" not in name_or_url:
            return finder.find(name_or_url)
        if name_or_url in trees:
            return [trees[name_or_url].dist_file(name_or_url)]
        url, hashes = split_hash(name_or_url)
        filename = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
        file = make_dist_file(filename, url, origin="direct", hashes=hashes)
        return [file] if file is not None else []
    return find


def _check_all_hashed(resolved: Sequence[ResolvedDist]) -> None:
    trees = [d for d in resolved if d.file is not None and d.file.kind == "tree"]
    if trees:
        # As pip says too: a directory has no hash to check.
        raise RequirementError(
            "hashes are required (--require-hashes, or a requirement with --hash), but "
            f"{trees[0].direct_url or trees[0].name} is a source directory, which has no hash",
            hint="install source trees in a separate command, or build a wheel and pin it")
    missing = [d for d in resolved if d.file is not None and not d.required_hashes]
    if missing:
        lines = "\n".join(
            f"  {d.name}=={d.version} --hash=sha256:{d.file.sha256 or '<unknown>'}"
            for d in missing if d.file is not None)
        raise RequirementError(
            "hashes are required (--require-hashes, or a requirement with --hash), but these "
            "have none", cause=lines,
            hint="pin every package of the set with its hashes, e.g. with the lines above")
