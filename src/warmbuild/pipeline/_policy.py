"""Light helpers of a command's resolution that need no stage: the resolver policy from a
request, which requirements apply to the target, and resolved candidates as the values the
plan takes. Kept apart from ``_resolve`` so that a no-op install imports no build stage."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING
from urllib.parse import urldefrag

from packaging.utils import NormalizedName, canonicalize_name

from ..dists import FormatControl, ResolvedDist
from ..installed import InstalledDist
from ..python import Target
from ..reqfile import RequirementSet, UserRequirement
from ..resolve import Policy, Resolution
from ._request import InstallRequest

if TYPE_CHECKING:
    from ..vcsurl import VcsInfo
    from ._resolve import Tree


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
        index_order=index_order, ignore_requires_python=request.ignore_requires_python,
    )


def resolved_dists(resolution: Resolution, names: frozenset[NormalizedName],
                   hashes: Mapping[NormalizedName, tuple[tuple[str, str], ...]],
                   trees: Mapping[str, Tree], origins: Mapping[str, VcsInfo] | None = None
                   ) -> tuple[ResolvedDist, ...]:
    origins = origins or {}
    return tuple(
        ResolvedDist(c.name, c.version, None if c.installed else c.file, c.name in names,
                     direct_url=urldefrag(c.url)[0] if c.url else None,
                     required_hashes=hashes.get(c.name, ()),
                     editable=c.url is not None and c.url in trees
                     and trees[c.url].kind == "editable",
                     build_env=editable_env(trees.get(c.url or "")),
                     vcs=origins.get(c.url or ""))
        for c in resolution.candidates)


def editable_env(tree: Tree | None) -> str | None:
    if tree is None or tree.kind != "editable" or tree.builder.env is None:
        return None
    return str(tree.builder.env.path)
