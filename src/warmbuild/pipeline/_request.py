"""What a command asks for and gets back, and the first steps every command takes with it:
its requirements gathered, its settings read, its target checked."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..buildopts import BuildOptions
from ..config import Settings, load_settings
from ..dists import ResolvedDist
from ..errors import UsageError, WarmbuildError
from ..layout import Layout
from ..options import DEFAULT_MAX_SDIST_BUILDS
from ..plan import Plan
from ..projectreqs import group_requirements, is_pyproject, project_requirements
from ..python import Target
from ..reqfile import RequirementSet, parse_requirement, read_requirements_file

if TYPE_CHECKING:
    from ..cache import Cache
    from ..context import RunContext
    from ..hooks import Kind


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
    #: ``--refresh``: revalidate every cached index answer; ``--refresh-package``: those of
    #: these projects (uv's names). ``-U`` revalidates too.
    refresh: bool = False
    refresh_packages: tuple[str, ...] = ()
    #: ``--link-mode`` (from the settings when ``None``).
    link_mode: str | None = None
    prefer_binary: bool = False
    #: ``-U --upgrade-strategy eager``: no installed version is kept just for being there.
    upgrade_eager: bool = False
    #: ``--target``/``--prefix``/``--root``/``--user``; empty: the target env itself.
    layout: Layout = field(default_factory=Layout)
    #: ``--report``: make pip's installation report (``InstallResult.report``).
    report: bool = False
    #: ``--extra``/``--all-extras``: for ``-r pyproject.toml`` and source trees named here.
    extras: tuple[str, ...] = ()
    all_extras: bool = False
    #: ``--group [path:]NAME``: PEP 735 dependency groups.
    groups: tuple[str, ...] = ()
    #: ``--src``: where ``-e git+`` checkouts go (default: ``<venv>/src``).
    src_dir: Path | None = None
    #: ``--max-sdist-builds``: older sdists one resolution may prepare (``depreader``).
    max_sdist_builds: int = DEFAULT_MAX_SDIST_BUILDS
    #: pip's ``--ignore-requires-python``.
    ignore_requires_python: bool = False


@dataclass(frozen=True)
class InstallResult:
    plan: Plan
    resolved: tuple[ResolvedDist, ...]
    dry_run: bool
    #: The environment's root: the target's prefix, or the layout's (``--target DIR``...).
    prefix: Path
    #: pip's installation report, when asked for.
    report: dict[str, Any] | None = None
    #: Of a no-op found without the index: every file its answer rested on (``noop``).
    inputs: tuple[Path, ...] = ()


@dataclass(frozen=True)
class BuildRequest:
    path: Path
    kinds: tuple[Kind, ...] = ("sdist", "wheel")
    outdir: Path = Path("dist")
    index_flags: Mapping[str, str | Sequence[str] | bool | None] = field(default_factory=dict)
    offline: bool = False
    build: BuildOptions = field(default_factory=BuildOptions)


def gather(request: InstallRequest) -> RequirementSet:
    reqs = RequirementSet(requirements=tuple(parse_requirement(r) for r in request.requirements)
                          + tuple(parse_requirement(e, editable=True)
                                  for e in request.editables))
    extras_used = any(r.tree is not None for r in reqs.requirements)
    for path in request.requirement_files:
        if is_pyproject(path):
            extras_used = True
            reqs = reqs.merge(project_requirements(path, request.extras, request.all_extras))
        else:
            reqs = reqs.merge(read_requirements_file(path))
    for group in request.groups:
        reqs = reqs.merge(group_requirements(group, Path.cwd()))
    if (request.extras or request.all_extras) and not extras_used:
        raise UsageError("--extra and --all-extras apply to -r pyproject.toml and to project "
                         "directories named on the command line, and none was given",
                         hint="name the extra in the requirement instead: `pkg[extra]`")
    for path in request.constraint_files:
        reqs = reqs.merge(read_requirements_file(path, constraint=True))
    if not reqs.requirements:
        raise WarmbuildError("no requirements were given",
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
        raise WarmbuildError(
            f"{target.executable} is externally managed (PEP 668: {target.externally_managed})",
            hint="install into a virtual environment (`python3 -m venv .venv`), or pass "
                 "--break-system-packages if you really mean to change this interpreter",
        )


def with_settings(request: InstallRequest, reqs: RequirementSet,
                  target: Target) -> tuple[InstallRequest, RequirementSet, Settings]:
    """The request and requirements with pip's settings added, and the settings."""
    settings = effective_settings(request, reqs, target)
    for path in settings.constraint_files:  # pip's PIP_CONSTRAINT / `constraint`
        reqs = reqs.merge(read_requirements_file(path, constraint=True))
    # pip applies its config's --no-binary/--only-binary first, then the command line's.
    request = replace(request, formats=settings.pip_formats + request.formats,
                      link_mode=settings.link_mode)
    return request, reqs, settings


def new_context(request: InstallRequest, settings: Settings, cache: Cache) -> RunContext:
    from packaging.utils import canonicalize_name

    from ..context import RunContext

    return RunContext(cache, settings.index_settings(), request.build,
                      offline=request.offline,
                      revalidate=request.upgrade or bool(request.upgrade_packages)
                      or request.refresh,
                      refresh=frozenset(canonicalize_name(n) for n in request.refresh_packages),
                      network=settings.network_settings())
