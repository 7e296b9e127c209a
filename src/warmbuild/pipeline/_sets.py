"""``download`` and ``wheel``: a resolved set's files, or wheels, saved into a directory."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path

from ..cache import Cache
from ..context import RunContext
from ..dists import ResolvedDist
from ..export import save_files, save_wheels
from ..python import Target
from ._request import InstallRequest, gather
from ._resolve import Run, resolve_set, run_context


def download(request: InstallRequest, outdir: Path, target: Target, cache: Cache) -> list[Path]:
    """``warmbuild download``: the files of the resolved set, sdists as they are, in
    ``outdir``. Nothing installed counts: everything is resolved from the indexes."""
    return _save_set(request, target, cache,
                     lambda run, ctx: save_files(run.dists, ctx.fetcher, outdir))


def build_wheels(request: InstallRequest, outdir: Path, target: Target,
                 cache: Cache) -> list[Path]:
    """``warmbuild wheel``: a wheel for each of the resolved set in ``outdir``; sdists are
    built (and cached), source trees built in their persistent build envs."""
    def save(run: Run, ctx: RunContext) -> list[Path]:
        def build_tree(dist: ResolvedDist, out: Path) -> Path:
            assert dist.file is not None
            return run.trees[dist.file.url].builder.build("wheel", out)
        return save_wheels(run.dists, ctx.fetcher, ctx.sdists(target), build_tree, outdir)
    return _save_set(request, target, cache, save)


def _save_set(request: InstallRequest, target: Target, cache: Cache,
              save: Callable[[Run, RunContext], list[Path]]) -> list[Path]:
    """Resolve ``request`` as if nothing were installed (as pip's download and wheel), and
    ``save`` the set."""
    request, reqs, ctx = run_context(request, gather(request), target, cache)
    with contextlib.ExitStack() as stack:
        stack.callback(ctx.close)
        return save(resolve_set(request, reqs, target, ctx, stack, {}), ctx)
