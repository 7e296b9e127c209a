"""The stages wired together: requirements -> resolve -> plan -> fetch -> install.

This package is the one place that knows every stage; the CLI calls it and nothing imports
it. Each command makes one :class:`~.context.RunContext` (HTTP client, index, cache) that
every stage and every builder of the run shares. ``_request`` holds what commands ask and
answer, ``_resolve`` a command's resolved set (shared by ``install``, ``download`` and
``wheel``), ``_sets`` the ``download`` and ``wheel`` commands.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import NormalizedName, canonicalize_name

from .._log import format_duration, logger, plural, progress, timed
from ..buildopts import BuildOptions
from ..config import load_settings
from ..dists import ResolvedDist
from ..errors import WarmbuildError
from ..installed import InstalledDist, scan
from ..journal import locked
from ..layout import destination, environment_line, keep_existing, locked_layout
from ..plan import Plan, make_plan, uninstall_names, uninstall_plan
from ..python import Target
from ..reqfile import RequirementSet, read_requirements_file
from ..satisfied import applies, constraints_of, satisfying
from ._request import (
    BuildRequest,
    InstallRequest,
    InstallResult,
    check_writable,
    effective_settings,
    gather,
    new_context,
    with_settings,
)

if TYPE_CHECKING:
    from ..cache import Cache
    from ..context import RunContext
    from ..outdated import Latest
    from ._resolve import Run, Tree

__all__ = ["BuildRequest", "InstallRequest", "InstallResult", "build_dists", "build_wheels",
           "check_writable", "download", "effective_settings", "gather", "install",
           "latest_versions", "uninstall"]


def install(request: InstallRequest, target: Target, cache: Cache) -> InstallResult:
    """Resolve, plan and install; ``target`` is the interpreter, files go to its layout."""
    dest = destination(target, request.layout)
    logger.info("%s", environment_line(dest))
    if not (request.dry_run and request.report):
        # As pip: --dry-run --report changes nothing, so an externally managed target is fine.
        check_writable(dest, break_system_packages=request.break_system_packages)
    reqs = gather(request)
    with contextlib.ExitStack() as stack:
        # Read what is installed only once no other warmbuild is changing it.
        stack.enter_context(locked_layout(dest.prefix, dry_run=request.dry_run))
        installed = scan(dest)
        request, reqs, settings = with_settings(request, reqs, target)
        # Decided before any stage of a real install is even imported (a no-op is instant).
        done = _already_satisfied(request, reqs, target, installed, dest.prefix)
        if done is not None:
            done = replace(done, inputs=_inputs(reqs, target, dest, installed, done))
        else:
            ctx = new_context(request, settings, cache)
            stack.callback(ctx.close)
            ctx.read_ahead(r.name for r in reqs.requirements if r.tree is None
                           and r.requirement.url is None and applies(r, target))
            from ._resolve import resolve_set  # while the first pages load
            kept = _keep_unchanged_editables(request, reqs, target, ctx, installed)
            if kept.requirements != reqs.requirements:  # else the answer is the same
                done = _already_satisfied(request, kept, target, installed, dest.prefix)
            reqs = kept
        if done is not None:
            if not request.report:
                return done
            from ..report import installation_report

            return replace(done, report=installation_report([], dest.markers))
        run = resolve_set(request, reqs, target, ctx, stack, installed)
        plan = make_plan(run.dists, installed, reinstall=request.reinstall)
        if request.layout.target is not None and not request.upgrade:
            plan = keep_existing(plan, dest.prefix,
                                 {canonicalize_name(n) for n in request.upgrade_packages})
        result = InstallResult(plan, run.dists, request.dry_run, dest.prefix)
        if not request.dry_run and plan.actions:
            _carry_out(plan, request, run.trees, target, dest, ctx)
            for dist in run.dists:
                tree = run.trees.get(dist.direct_url or "")
                if dist.build_env and tree is not None and tree.builder.session is not None:
                    tree.builder.session.add_editable(dest.prefix, dist.name)
        if request.report:
            # After the builds: a tree's metadata is then its built wheel's.
            result = replace(result, report=_report(plan, run, ctx, dest, request.dry_run))
        return result


def _report(plan: Plan, run: Run, ctx: RunContext, dest: Target,
            dry_run: bool) -> dict[str, Any]:
    from ..report import installation_report, report_items

    news = [a.new for a in plan.actions if a.new is not None]
    urls = {d.file.url for d in news if d.file is not None}
    # A tree's metadata as its backend writes it, every field (static metadata has few).
    texts = {u: t.builder.backend_metadata(t.kind) for u, t in run.trees.items() if u in urls}
    items = report_items(news, run.wanted, run.reader, ctx.fetcher, download=not dry_run,
                         texts=texts)
    return installation_report(items, dest.markers)


def _keep_unchanged_editables(request: InstallRequest, reqs: RequirementSet, target: Target,
                              ctx: RunContext,
                              installed: Mapping[NormalizedName, InstalledDist]
                              ) -> RequirementSet:
    """``-e`` trees whose editable install is unchanged (same fingerprint), pinned to what is
    installed, so that no hook runs: uv rebuilds every time."""
    if not any(r.tree is not None and r.editable for r in reqs.requirements):
        return reqs
    from ..build import TreeBuilder
    from ..install import FINGERPRINT_FILE
    from ..projectreqs import tree_extras
    from ..source import load_source_tree
    from ._resolve import more_extras

    if request.upgrade or request.reinstall or request.build.refresh_env \
            or request.build.upgrade_env:
        return reqs
    editables = {str((d.direct_url() or {}).get("url")): d for d in installed.values()
                 if d.editable and d.read_text(FINGERPRINT_FILE)}
    # A tree also asked for as a regular install is an error tree_requirement reports.
    for req in reqs.requirements:
        if req.tree is not None and not req.editable:
            editables.pop(req.tree.as_uri(), None)
    kept = []
    for req in reqs.requirements:
        dist = editables.get(req.tree.as_uri()) if req.tree and req.editable else None
        if dist is not None and req.tree is not None:
            builder = TreeBuilder(load_source_tree(req.tree), target, ctx)
            if builder.fingerprint() == (dist.read_text(FINGERPRINT_FILE) or "").strip():
                logger.info("Kept the editable install of %s %s: its tree is unchanged "
                            "(%s)", dist.display_name, dist.version,
                            builder.skip_reason)
                pin = Requirement(f"{dist.name}=={dist.version}")
                pin.extras = set(req.requirement.extras)
                more = more_extras(request, req)
                if more is not None:
                    pin.extras |= tree_extras(dist.metadata_text(), *more, str(req.tree))
                req = replace(req, requirement=pin, tree=None, editable=False)
        kept.append(req)
    return replace(reqs, requirements=tuple(kept))


def _already_satisfied(request: InstallRequest, reqs: RequirementSet, target: Target,
                       installed: Mapping[NormalizedName, InstalledDist], prefix: Path
                       ) -> InstallResult | None:
    """The result when what is installed satisfies every requirement and all they depend
    on, decided from the installed metadata alone: no index, no network (pip and uv answer
    "already satisfied" the same way). ``None`` when the index must be asked."""
    if request.upgrade or request.upgrade_packages or request.reinstall or any(
            r.tree or r.requirement.url for r in reqs.requirements):
        return None
    wanted = [r for r in reqs.requirements if applies(r, target)]
    dists = satisfying([r.requirement for r in wanted], installed, markers=target.markers,
                       python_version=None if request.ignore_requires_python
                       else target.version, no_deps=request.no_deps,
                       constraints=constraints_of(reqs.constraints, target))
    if dists is None:
        return None
    names = {r.name for r in wanted}
    resolved = tuple(ResolvedDist(d.name, d.version, None, d.name in names) for d in dists)
    return InstallResult(Plan((), tuple(d.name for d in dists)), resolved, request.dry_run,
                         prefix)


def _inputs(reqs: RequirementSet, target: Target, dest: Target,
            installed: Mapping[NormalizedName, InstalledDist], done: InstallResult
            ) -> tuple[Path, ...]:
    """The files a no-op's answer rested on, read or looked for (:mod:`..noop`)."""
    from ..config import pip_config_files
    from ..settings import config_files

    metadata = [installed[d.name].info_dir / name for d in done.resolved
                for name in ("METADATA", "PKG-INFO")]
    return (*reqs.files, *pip_config_files(os.environ, target.prefix),
            *config_files(Path.cwd()), target.executable, target.prefix / "pyvenv.cfg",
            *dest.site_dirs, *metadata)


def _carry_out(plan: Plan, request: InstallRequest, trees: Mapping[str, Tree],
               target: Target, dest: Target, ctx: RunContext) -> None:
    """Build and fetch for ``target`` (the interpreter), install into ``dest``."""
    from ..install import apply

    def build_tree(dist: ResolvedDist, out: Path) -> Path:
        from ..sdist import keep_wheel

        assert dist.file is not None
        tree = trees[dist.file.url]
        built = tree.builder.build(tree.kind, out)
        return keep_wheel(built, tree.keep) if tree.keep is not None else built

    wheels = ctx.prepare([a.new for a in plan.actions if a.new is not None],
                         ctx.sdists(target), build_tree)
    plan = _with_fingerprints(plan, trees)
    progress.info("Installing %d package%s", len(plan.actions), plural(plan.actions))
    with timed() as elapsed:
        apply(plan, dest, wheels, compile_bytecode=request.compile_bytecode,
              link_mode=request.link_mode or "clone")
    logger.info("Installed %d package%s in %s", len(plan.actions), plural(plan.actions),
                format_duration(elapsed[0]))


def _with_fingerprints(plan: Plan, trees: Mapping[str, Tree]) -> Plan:
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


def build_dists(request: BuildRequest, target: Target, cache: Cache) -> list[Path]:
    """``warmbuild build``: distributions of a tree, built in its persistent env."""
    from ..build import TreeBuilder
    from ..context import RunContext
    from ..source import load_source_tree

    tree = load_source_tree(request.path)
    settings = load_settings(request.index_flags, target_prefix=target.prefix)
    ctx = RunContext(cache, settings.index_settings(), request.build, offline=request.offline,
                     network=settings.network_settings())
    try:
        with TreeBuilder(tree, target, ctx, installs=False) as builder:
            return [builder.build(kind, request.outdir.absolute()) for kind in request.kinds]
    finally:
        ctx.close()


def uninstall(names: Sequence[str], target: Target, *, dry_run: bool = False,
              break_system_packages: bool = False,
              requirement_files: Sequence[Path] = ()) -> Plan:
    check_writable(target, break_system_packages=break_system_packages)
    logger.info("%s", environment_line(target))
    with locked(target.prefix):
        return _uninstall(names, target, dry_run=dry_run, files=requirement_files)


def _uninstall(names: Sequence[str], target: Target, *, dry_run: bool,
               files: Sequence[Path]) -> Plan:
    # As pip does, a requirement (`six>=1`) names its project; the version is not checked.
    from ..install import apply

    parsed = []
    for text in names:
        try:
            parsed.append(Requirement(text).name)
        except InvalidRequirement as exc:
            raise WarmbuildError(f"uninstall {text!r}: not a project name",
                                 cause=str(exc)) from exc
    installed = scan(target)
    for path in files:
        parsed.extend(uninstall_names(read_requirements_file(path).requirements, installed))
    if not parsed:
        raise WarmbuildError("nothing to uninstall",
                             hint="name packages, or pass -r requirements.txt")
    for name in dict.fromkeys(parsed):
        if canonicalize_name(name) not in installed:
            # pip's words; not an error, so `set -e` scripts can remove what may be absent.
            logger.warning("warning: Skipping %s as it is not installed.", name)
    plan = uninstall_plan(installed[canonicalize_name(n)] for n in dict.fromkeys(parsed)
                          if canonicalize_name(n) in installed)
    if plan.actions and not dry_run:
        with timed() as elapsed:
            apply(plan, target, {})
        logger.info("Uninstalled %d package%s in %s", len(plan.actions), plural(plan.actions),
                    format_duration(elapsed[0]))
    return plan


def latest_versions(names: Sequence[NormalizedName], target: Target, cache: Cache, *,
                    index_flags: Mapping[str, str | Sequence[str] | bool | None],
                    pre: bool = False, offline: bool = False) -> dict[NormalizedName, Latest]:
    """``list --outdated``: the newest version the index offers the target, per project
    (projects it does not know are left out)."""
    from .._threads import map_in_threads
    from ..context import RunContext
    from ..outdated import newest_of

    settings = load_settings(index_flags, target_prefix=target.prefix)
    ctx = RunContext(cache, settings.index_settings(), BuildOptions(), offline=offline,
                     revalidate=True, network=settings.network_settings())
    try:
        found = map_in_threads(ctx.finder.find, names, workers=8, name="warmbuild-latest")
    finally:
        ctx.close()
    return newest_of(dict(zip(names, found, strict=True)), target.tags, target.version, pre=pre)


def download(request: InstallRequest, outdir: Path, target: Target, cache: Cache) -> list[Path]:
    """``warmbuild download`` (``_sets``)."""
    from ._sets import download as run

    return run(request, outdir, target, cache)


def build_wheels(request: InstallRequest, outdir: Path, target: Target,
                 cache: Cache) -> list[Path]:
    """``warmbuild wheel`` (``_sets``)."""
    from ._sets import build_wheels as run

    return run(request, outdir, target, cache)
