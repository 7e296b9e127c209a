"""One command's resolved set: requirements and source trees in, resolved distributions out.

Shared by ``install``, ``download`` and ``wheel``; source trees are opened here (their build
env, their metadata) so that the resolver sees them as candidates like any other.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal
from urllib.parse import urldefrag

from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from .._log import format_duration, logger, progress, timed
from ..build import TreeBuilder
from ..cache import Cache
from ..context import RunContext, constraints_of, plural
from ..coremeta import CoreMetadata
from ..depreader import DependencyReader
from ..dists import DistFile, FormatControl, ResolvedDist
from ..errors import RequirementError
from ..http import HttpClient
from ..installed import InstalledDist
from ..python import Target
from ..reqfile import RequirementSet, UserRequirement, read_requirements_file
from ..resolve import Dep, Policy, Resolution, dep_from_requirement, marker_applies
from ..source import load_source_tree
from ._request import InstallRequest, effective_settings


@dataclass(frozen=True)
class Tree:
    builder: TreeBuilder
    metadata: CoreMetadata
    kind: Literal["wheel", "editable"]

    def dist_file(self, url: str) -> DistFile:
        return DistFile(filename=self.builder.tree.path.name, url=url,
                        name=canonicalize_name(self.metadata.name),
                        version=Version(self.metadata.version), kind="tree", origin="tree")


@dataclass(frozen=True)
class Run:
    """What a command resolved: the requirements, the source trees, and the result."""

    wanted: tuple[UserRequirement, ...]
    trees: Mapping[str, Tree]
    reader: DependencyReader
    dists: tuple[ResolvedDist, ...]


def run_context(request: InstallRequest, reqs: RequirementSet, target: Target,
                cache: Cache) -> tuple[InstallRequest, RequirementSet, RunContext]:
    """The run's context, and the request and requirements with pip's settings added."""
    settings = effective_settings(request, reqs, target)
    for path in settings.constraint_files:  # pip's PIP_CONSTRAINT / `constraint`
        reqs = reqs.merge(read_requirements_file(path, constraint=True))
    # pip applies its config's --no-binary/--only-binary first, then the command line's.
    request = replace(request, formats=settings.pip_formats + request.formats)
    ctx = RunContext(cache, settings.index_settings(), request.build,
                     offline=request.offline,
                     revalidate=request.upgrade or bool(request.upgrade_packages),
                     network=settings.network_settings())
    return request, reqs, ctx


def resolve_set(request: InstallRequest, reqs: RequirementSet, target: Target,
                ctx: RunContext, stack: contextlib.ExitStack,
                installed: Mapping[NormalizedName, InstalledDist]) -> Run:
    """Open the source trees' build envs, read their metadata, and resolve."""
    trees: dict[str, Tree] = {}
    wanted = tuple(tree_requirement(r, trees, target, ctx, stack) if r.tree else r
                   for r in reqs.requirements if applies(r, target))
    hashes = {r.name: r.hashes for r in wanted if r.hashes}
    names = frozenset(r.name for r in wanted)
    policy = make_policy(request, reqs, wanted, target, installed, ctx.finder.index_order)
    reader = DependencyReader(ctx.finder, ctx.fetcher,
                              {u: t.metadata.text for u, t in trees.items()},
                              ctx.sdists(target), hashes,
                              max_sdist_builds=request.max_sdist_builds)
    progress.info("Resolving dependencies")
    with timed() as elapsed:
        resolution = ctx.resolve(
            [user_dep(r, ctx.client) for r in wanted], policy, installed,
            constraints_of(reqs.constraints, target), reader,
            ctx.find({u: t.dist_file(u) for u, t in trees.items()}))
    resolved = resolved_dists(resolution, names, hashes, trees)
    logger.info("Resolved %d package%s in %s", len(resolved), plural(resolved),
                format_duration(elapsed[0]))
    if request.require_hashes or reqs.require_hashes or hashes:
        check_all_hashed(resolved)
    return Run(wanted, trees, reader, resolved)


def make_policy(request: InstallRequest, reqs: RequirementSet,
                wanted: Sequence[UserRequirement], target: Target,
                installed: Mapping[NormalizedName, InstalledDist] | None = None,
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


def resolved_dists(resolution: Resolution, names: frozenset[NormalizedName],
                   hashes: Mapping[NormalizedName, tuple[tuple[str, str], ...]],
                   trees: Mapping[str, Tree]) -> tuple[ResolvedDist, ...]:
    return tuple(
        ResolvedDist(c.name, c.version, None if c.installed else c.file, c.name in names,
                     direct_url=urldefrag(c.url)[0] if c.url else None,
                     required_hashes=hashes.get(c.name, ()),
                     editable=c.url is not None and c.url in trees
                     and trees[c.url].kind == "editable",
                     build_env=editable_env(trees.get(c.url or "")))
        for c in resolution.candidates)


def editable_env(tree: Tree | None) -> str | None:
    if tree is None or tree.kind != "editable" or tree.builder.env is None:
        return None
    return str(tree.builder.env.path)


def tree_requirement(req: UserRequirement, trees: dict[str, Tree], target: Target,
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
        trees[url] = Tree(builder, builder.metadata(kind), kind)
    metadata = trees[url].metadata
    extras = f"[{','.join(sorted(req.requirement.extras))}]" if req.requirement.extras else ""
    return replace(req, requirement=Requirement(f"{metadata.name}{extras} @ {url}"))


def applies(req: UserRequirement, target: Target) -> bool:
    return marker_applies(req.requirement.marker, target.markers,
                          what=f"{req.requirement} ({req.source})")


def user_dep(req: UserRequirement, client: HttpClient) -> Dep:
    dep = dep_from_requirement(req.requirement, origin=req.source)
    if dep.url:
        return Dep(dep.name, dep.extras, dep.specifier, client.add_credentials(dep.url),
                   req.source)
    return dep


def check_all_hashed(resolved: Sequence[ResolvedDist]) -> None:
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
