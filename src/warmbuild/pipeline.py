"""The stages wired together: requirements -> resolve -> plan -> fetch -> install.

This is the one module that knows every stage; the CLI calls it and nothing imports it.
Each command makes one :class:`~.context.RunContext` (HTTP client, index, cache) that every
stage and every builder of the run shares.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal
from urllib.parse import urldefrag

import resolvelib
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from ._log import format_duration, logger, progress, timed
from .build import BuildOptions, TreeBuilder
from .cache import Cache
from .config import Settings, load_settings
from .context import RunContext, constraints_of, plural
from .coremeta import CoreMetadata
from .depreader import DEFAULT_MAX_SDIST_BUILDS, DependencyReader, parse_dependencies
from .dists import DistFile, FormatControl, ResolvedDist
from .errors import RequirementError, TargetError, WarmbuildError
from .fingerprint import skip_reason
from .hooks import Kind
from .http import HttpClient
from .install import FINGERPRINT_FILE, apply
from .installed import InstalledDist, scan
from .journal import locked
from .plan import Plan, make_plan, uninstall_plan
from .python import Target
from .reqfile import RequirementSet, UserRequirement, parse_requirement, read_requirements_file
from .resolve import (
    Candidate,
    Dep,
    Policy,
    Provider,
    Resolution,
    dep_from_requirement,
    marker_applies,
)
from .resolve import resolve as run_resolver
from .source import load_source_tree


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
    #: ``--only-binary``/``--no-binary`` values as ``(option, value)``, in command-line order.
    formats: tuple[tuple[str, str], ...] = ()
    prefer_binary: bool = False
    #: ``-U --upgrade-strategy eager``: no installed version is kept just for being there.
    upgrade_eager: bool = False
    #: ``--max-sdist-builds``: older sdists one resolution may prepare (``depreader``).
    max_sdist_builds: int = DEFAULT_MAX_SDIST_BUILDS


@dataclass(frozen=True)
class _Tree:
    builder: TreeBuilder
    metadata: CoreMetadata
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
    if not reqs.requirements:
        raise RequirementError("nothing to install",
                               hint="name packages, or pass -r requirements.txt")
    return reqs


def effective_settings(request: InstallRequest, reqs: RequirementSet | None,
                       target: Target | None) -> Settings:
    file_options = None
    if reqs is not None:
        file_options = {"index-url": reqs.index_url, "extra-index-url": reqs.extra_index_urls,
                        "find-links": reqs.find_links, "no-index": reqs.no_index,
                        "trusted-host": reqs.trusted_hosts}
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
        installed = scan(target)
        settings = effective_settings(request, reqs, target)
        for path in settings.constraint_files:  # pip's PIP_CONSTRAINT / `constraint`
            reqs = reqs.merge(read_requirements_file(path, constraint=True))
        # pip applies its config's --no-binary/--only-binary first, then the command line's.
        request = replace(request, formats=settings.pip_formats + request.formats)
        ctx = RunContext(cache, settings.index_settings(), request.build,
                         offline=request.offline,
                         revalidate=request.upgrade or bool(request.upgrade_packages),
                         network=settings.network_settings())
        stack.callback(ctx.close)
        reqs = _keep_unchanged_editables(request, reqs, target, ctx, installed)
        done = _already_satisfied(request, reqs, target, installed)
        if done is not None:
            return done
        trees: dict[str, _Tree] = {}
        wanted = [_tree_requirement(r, trees, target, ctx, stack) if r.tree else r
                  for r in reqs.requirements if _applies(r, target)]
        resolved = _resolve(request, reqs, wanted, trees, target, ctx, installed)
        plan = make_plan(resolved, installed, reinstall=request.reinstall)
        if request.dry_run or not plan.actions:
            return InstallResult(plan, resolved, request.dry_run)
        _carry_out(plan, request, trees, target, ctx)
        for dist in resolved:
            tree = trees.get(dist.direct_url or "")
            if dist.build_env and tree is not None and tree.builder.session is not None:
                tree.builder.session.add_editable(target.prefix, dist.name)
        return InstallResult(plan, resolved, False)


def _policy(request: InstallRequest, reqs: RequirementSet, wanted: Sequence[UserRequirement],
            target: Target, installed: Mapping[NormalizedName, InstalledDist] | None = None,
            index_order: tuple[str, ...] = ()) -> Policy:
    """``installed``: what ``--upgrade-strategy eager`` does not keep; ``index_order``: for
    ``unsafe-first-match``."""
    hashes = {r.name: r.hashes for r in wanted if r.hashes}
    names = frozenset(r.name for r in wanted)
    upgrade = frozenset(canonicalize_name(n) for n in request.upgrade_packages)
    if request.upgrade_eager:
        upgrade |= frozenset(installed or ())
    formats = FormatControl()
    for option, value in request.formats + reqs.formats:
        formats = formats.add(option, value)
    return Policy(
        tags=target.tags, python_version=target.version, markers=target.markers,
        pre=request.pre or reqs.pre, upgrade=upgrade | (names if request.upgrade else set()),
        reinstall=request.reinstall, no_deps=request.no_deps,
        allowed_hashes={n: frozenset(d for _, d in h) for n, h in hashes.items()},
        formats=formats, prefer_binary=request.prefer_binary or reqs.prefer_binary,
        index_order=index_order,
    )


def _keep_unchanged_editables(request: InstallRequest, reqs: RequirementSet, target: Target,
                              ctx: RunContext,
                              installed: Mapping[NormalizedName, InstalledDist]
                              ) -> RequirementSet:
    """``-e`` trees whose editable install is unchanged (same fingerprint), pinned to what is
    installed, so that no hook runs: uv rebuilds every time."""
    if request.upgrade or request.reinstall or request.build.refresh_env \
            or request.build.upgrade_env:
        return reqs
    editables = {str((d.direct_url() or {}).get("url")): d for d in installed.values()
                 if d.editable and d.read_text(FINGERPRINT_FILE)}
    kept = []
    for req in reqs.requirements:
        dist = editables.get(req.tree.as_uri()) if req.tree and req.editable else None
        if dist is not None and req.tree is not None:
            builder = TreeBuilder(load_source_tree(req.tree), target, ctx)
            if builder.fingerprint() == (dist.read_text(FINGERPRINT_FILE) or "").strip():
                logger.info("Kept the editable install of %s %s: its tree is unchanged "
                            "(%s)", dist.display_name, dist.version,
                            skip_reason(builder.tree, builder.options.config_settings))
                pin = Requirement(f"{dist.name}=={dist.version}")
                pin.extras = req.requirement.extras
                req = replace(req, requirement=pin, tree=None, editable=False)
        kept.append(req)
    return replace(reqs, requirements=tuple(kept))


def _already_satisfied(request: InstallRequest, reqs: RequirementSet, target: Target,
                       installed: Mapping[NormalizedName, InstalledDist]
                       ) -> InstallResult | None:
    """The result when what is installed satisfies every requirement and all they depend
    on, decided from the installed metadata alone: no index, no network (pip and uv answer
    "already satisfied" the same way). ``None`` when the index must be asked."""
    if request.upgrade or request.upgrade_packages or request.reinstall or any(
            r.tree or r.requirement.url for r in reqs.requirements):
        return None
    wanted = [r for r in reqs.requirements if _applies(r, target)]

    def installed_only(cand: Candidate) -> tuple[tuple[Requirement, ...], SpecifierSet | None]:
        assert cand.installed is not None, "nothing else is offered"
        return parse_dependencies(cand.installed.metadata_text(), str(cand))

    provider = Provider(_policy(request, reqs, wanted, target), lambda _: [], installed_only,
                        installed, constraints_of(reqs.constraints, target))
    try:
        resolution = run_resolver(provider, [dep_from_requirement(r.requirement,
                                                                  origin=r.source)
                                             for r in wanted])
    except (resolvelib.ResolutionError, resolvelib.InconsistentCandidate, WarmbuildError):
        return None  # something is missing or conflicts: the index decides
    resolved = _resolved(resolution, frozenset(r.name for r in wanted), {}, {})
    plan = make_plan(resolved, installed)
    if plan.actions:
        return None
    return InstallResult(plan, resolved, request.dry_run)


def _resolve(request: InstallRequest, reqs: RequirementSet, wanted: Sequence[UserRequirement],
             trees: Mapping[str, _Tree], target: Target, ctx: RunContext,
             installed: Mapping[NormalizedName, InstalledDist]) -> tuple[ResolvedDist, ...]:
    hashes = {r.name: r.hashes for r in wanted if r.hashes}
    names = frozenset(r.name for r in wanted)
    policy = _policy(request, reqs, wanted, target, installed, ctx.finder.index_order)
    reader = DependencyReader(ctx.finder, ctx.fetcher,
                              {u: t.metadata.text for u, t in trees.items()},
                              ctx.sdists(target), hashes,
                              max_sdist_builds=request.max_sdist_builds)
    progress.info("Resolving dependencies")
    with timed() as elapsed:
        resolution = ctx.resolve(
            [_user_dep(r, ctx.client) for r in wanted], policy, installed,
            constraints_of(reqs.constraints, target), reader,
            ctx.find({u: t.dist_file(u) for u, t in trees.items()}))
    resolved = _resolved(resolution, names, hashes, trees)
    logger.info("Resolved %d package%s in %s", len(resolved), plural(resolved),
                format_duration(elapsed[0]))
    if request.require_hashes or reqs.require_hashes or hashes:
        _check_all_hashed(resolved)
    return resolved


def _resolved(resolution: Resolution, names: frozenset[NormalizedName],
              hashes: Mapping[NormalizedName, tuple[tuple[str, str], ...]],
              trees: Mapping[str, _Tree]) -> tuple[ResolvedDist, ...]:
    return tuple(
        ResolvedDist(c.name, c.version, None if c.installed else c.file, c.name in names,
                     direct_url=urldefrag(c.url)[0] if c.url else None,
                     required_hashes=hashes.get(c.name, ()),
                     editable=c.url is not None and c.url in trees
                     and trees[c.url].kind == "editable",
                     build_env=_editable_env(trees.get(c.url or "")))
        for c in resolution.candidates)


def _carry_out(plan: Plan, request: InstallRequest, trees: Mapping[str, _Tree],
               target: Target, ctx: RunContext) -> None:
    def build_tree(dist: ResolvedDist, out: Path) -> Path:
        assert dist.file is not None
        tree = trees[dist.file.url]
        return tree.builder.build(tree.kind, out)

    wheels = ctx.prepare([a.new for a in plan.actions if a.new is not None],
                         ctx.sdists(target), build_tree)
    plan = _with_fingerprints(plan, trees)
    progress.info("Installing %d package%s", len(plan.actions), plural(plan.actions))
    with timed() as elapsed:
        apply(plan, target, wheels, compile_bytecode=request.compile_bytecode)
    logger.info("Installed %d package%s in %s", len(plan.actions), plural(plan.actions),
                format_duration(elapsed[0]))


def _with_fingerprints(plan: Plan, trees: Mapping[str, _Tree]) -> Plan:
    """Editable installs record their fingerprint, taken after their build (the build env as
    it now is), for the next ``install -e`` to compare."""
    actions = []
    for action in plan.actions:
        new = action.new
        tree = trees.get(new.direct_url or "") if new is not None else None
        if new is not None and new.editable and tree is not None:
            action = replace(action, new=replace(new, fingerprint=tree.builder.fingerprint()))
        actions.append(action)
    return replace(plan, actions=tuple(actions))


def _editable_env(tree: _Tree | None) -> str | None:
    if tree is None or tree.kind != "editable" or tree.builder.env is None:
        return None
    return str(tree.builder.env.path)


def _tree_requirement(req: UserRequirement, trees: dict[str, _Tree], target: Target,
                      ctx: RunContext, stack: contextlib.ExitStack) -> UserRequirement:
    """Open the tree's build env, read its metadata, and name the requirement by it."""
    assert req.tree is not None
    url = req.tree.as_uri()
    kind: Literal["wheel", "editable"] = "editable" if req.editable else "wheel"
    if url in trees and trees[url].kind != kind:
        raise RequirementError(f"{req.tree} is asked for both as an editable install (-e) "
                               "and as a regular one", hint="keep one of the two")
    if url not in trees:
        builder = stack.enter_context(TreeBuilder(load_source_tree(req.tree), target, ctx))
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
    settings = load_settings(request.index_flags, target_prefix=target.prefix)
    ctx = RunContext(cache, settings.index_settings(), request.build, offline=request.offline,
                     network=settings.network_settings())
    try:
        with TreeBuilder(tree, target, ctx) as builder:
            return [builder.build(kind, request.outdir.absolute()) for kind in request.kinds]
    finally:
        ctx.close()


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
    installed = scan(target)
    for name in parsed:
        if canonicalize_name(name) not in installed:
            logger.warning("warning: %s is not installed in %s", name, target.prefix)
    plan = uninstall_plan(installed[canonicalize_name(n)] for n in dict.fromkeys(parsed)
                          if canonicalize_name(n) in installed)
    if plan.actions and not dry_run:
        with timed() as elapsed:
            apply(plan, target, {})
        logger.info("Uninstalled %d package%s in %s", len(plan.actions), plural(plan.actions),
                    format_duration(elapsed[0]))
    return plan


def _applies(req: UserRequirement, target: Target) -> bool:
    return marker_applies(req.requirement.marker, target.markers,
                          what=f"{req.requirement} ({req.source})")


def _user_dep(req: UserRequirement, client: HttpClient) -> Dep:
    dep = dep_from_requirement(req.requirement, origin=req.source)
    if dep.url:
        return Dep(dep.name, dep.extras, dep.specifier, client.add_credentials(dep.url),
                   req.source)
    return dep


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
