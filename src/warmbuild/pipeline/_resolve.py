"""One command's resolved set: requirements and source trees in, resolved distributions out.

Shared by ``install``, ``download`` and ``wheel``; source trees are opened here (their build
env, their metadata) so that the resolver sees them as candidates like any other.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from .._log import format_duration, logger, plural, progress, timed
from ..cache import Cache
from ..context import RunContext
from ..coremeta import CoreMetadata
from ..depreader import DependencyReader
from ..dists import DistFile, ResolvedDist
from ..errors import WarmbuildError
from ..http import HttpClient
from ..installed import InstalledDist
from ..projectreqs import tree_extras
from ..python import Target
from ..reqfile import RequirementSet, UserRequirement
from ..resolve import Dep, dep_from_requirement
from ..satisfied import applies, constraints_of
from ..source import load_source_tree
from ..vcsreq import VcsRequirements, check_name
from ..vcsurl import VcsInfo
from ._policy import make_policy, resolved_dists
from ._request import InstallRequest, new_context, with_settings

if TYPE_CHECKING:
    from ..build import TreeBuilder


@dataclass(frozen=True)
class Tree:
    builder: TreeBuilder
    metadata: CoreMetadata
    kind: Literal["wheel", "editable"]
    #: Where to keep the built wheel (a git commit's tree: ``vcsreq``).
    keep: Path | None = None

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
    request, reqs, settings = with_settings(request, reqs, target)
    return request, reqs, new_context(request, settings, cache)


def resolve_set(request: InstallRequest, reqs: RequirementSet, target: Target,
                ctx: RunContext, stack: contextlib.ExitStack,
                installed: Mapping[NormalizedName, InstalledDist]) -> Run:
    """Pin git requirements, open the source trees' build envs, read their metadata, and
    resolve."""
    trees: dict[str, Tree] = {}
    wanted, origins = _sources(request, reqs, trees, target, ctx, stack)
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
    resolved = resolved_dists(resolution, names, hashes, trees, origins)
    logger.info("Resolved %d package%s in %s", len(resolved), plural(resolved),
                format_duration(elapsed[0]))
    if request.require_hashes or reqs.require_hashes or hashes:
        check_all_hashed(resolved)
    return Run(wanted, trees, reader, resolved)


def _sources(request: InstallRequest, reqs: RequirementSet, trees: dict[str, Tree],
             target: Target, ctx: RunContext, stack: contextlib.ExitStack
             ) -> tuple[tuple[UserRequirement, ...], dict[str, VcsInfo]]:
    """The requirements as the resolver takes them: git ones pinned (to a kept wheel or a
    checkout), trees opened in their build envs and named by their metadata; and the git
    commit behind each URL that came from git."""
    pins = VcsRequirements(ctx.cache, target, request.build, offline=request.offline,
                           src_dir=request.src_dir)
    wanted, origins = [], {}
    for req in reqs.requirements:
        if not applies(req, target):
            continue
        keep = None
        if req.vcs is not None:
            pinned = pins.pin(req)
            req, keep = pinned.requirement, pinned.keep
            origins[req.requirement.url or ""] = pinned.info
        if req.tree is not None:
            named = tree_requirement(req, trees, target, ctx, stack, keep=keep,
                                     more_extras=more_extras(request, req))
            check_name(req, named.requirement.name)
            req = named
        wanted.append(req)
    return tuple(wanted), origins


def more_extras(request: InstallRequest, req: UserRequirement
                ) -> tuple[tuple[str, ...], bool] | None:
    """``--extra``/``--all-extras`` go to trees named on the command line, not to git ones."""
    if not (request.extras or request.all_extras) or req.source != "command line" \
            or req.vcs is not None:
        return None
    return request.extras, request.all_extras


def tree_requirement(req: UserRequirement, trees: dict[str, Tree], target: Target,
                     ctx: RunContext, stack: contextlib.ExitStack, *, keep: Path | None = None,
                     more_extras: tuple[tuple[str, ...], bool] | None = None
                     ) -> UserRequirement:
    """Open the tree's build env, read its metadata, and name the requirement by it."""
    assert req.tree is not None
    url = req.tree.as_uri()
    kind: Literal["wheel", "editable"] = "editable" if req.editable else "wheel"
    if url in trees and trees[url].kind != kind:
        raise WarmbuildError(f"{req.tree} is asked for both as an editable install (-e) "
                             "and as a regular one", hint="keep one of the two")
    if url not in trees:
        from ..build import TreeBuilder

        builder = stack.enter_context(TreeBuilder(load_source_tree(req.tree), target, ctx))
        trees[url] = Tree(builder, builder.metadata(kind), kind, keep)
    metadata = trees[url].metadata
    names = set(req.requirement.extras)
    if more_extras is not None:
        names |= tree_extras(metadata.text, *more_extras, str(req.tree))
    listed = f"[{','.join(sorted(names))}]" if names else ""
    return replace(req, requirement=Requirement(f"{metadata.name}{listed} @ {url}"))


def user_dep(req: UserRequirement, client: HttpClient) -> Dep:
    dep = dep_from_requirement(req.requirement, origin=req.source)
    if dep.url:
        return Dep(dep.name, dep.extras, dep.specifier, client.add_credentials(dep.url),
                   req.source)
    return dep


def check_all_hashed(resolved: Sequence[ResolvedDist]) -> None:
    git = [(d.name, d.vcs) for d in resolved if d.vcs is not None]
    if git:
        name, vcs = git[0]
        raise WarmbuildError(
            "hashes are required (--require-hashes, or a requirement with --hash), but "
            f"{name} comes from git ({vcs.reference(name)}), which has no file to hash",
            hint="install git requirements in a separate command")
    trees = [d for d in resolved if d.file is not None and d.file.kind == "tree"]
    if trees:
        # As pip says too: a directory has no hash to check.
        raise WarmbuildError(
            "hashes are required (--require-hashes, or a requirement with --hash), but "
            f"{trees[0].direct_url or trees[0].name} is a source directory, which has no hash",
            hint="install source trees in a separate command, or build a wheel and pin it")
    missing = [d for d in resolved if d.file is not None and not d.required_hashes]
    if missing:
        lines = "\n".join(
            f"  {d.name}=={d.version} --hash=sha256:{d.file.sha256 or '<unknown>'}"
            for d in missing if d.file is not None)
        raise WarmbuildError(
            "hashes are required (--require-hashes, or a requirement with --hash), but these "
            "have none", cause=lines,
            hint="pin every package of the set with its hashes, e.g. with the lines above")
