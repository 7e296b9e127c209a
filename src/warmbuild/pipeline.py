"""The stages wired together: requirements -> resolve -> plan -> fetch -> install.

This is the one module that knows every stage; the CLI calls it and nothing imports it.
"""

from __future__ import annotations

import email.parser
import zipfile
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

import resolvelib
from packaging.markers import Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name

from . import diagnose
from ._log import format_duration, logger, progress, timed
from .cache import Cache
from .config import Settings, load_settings
from .dists import DistFile, ResolvedDist
from .errors import RequirementError, ResolutionError, TargetError
from .fetch import Fetcher
from .http import HttpClient
from .index import Finder, make_dist_file
from .install import Plan, apply, make_plan, uninstall_plan
from .installed import InstalledDist, scan
from .python import Target
from .reqfile import RequirementSet, UserRequirement, parse_requirement, read_requirements_file
from .resolve import Candidate, Dep, Policy, Provider, dep_from_requirement, resolve
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


@dataclass(frozen=True)
class InstallResult:
    plan: Plan
    resolved: tuple[ResolvedDist, ...]
    dry_run: bool


def gather(request: InstallRequest) -> RequirementSet:
    reqs = RequirementSet(requirements=tuple(parse_requirement(r) for r in request.requirements))
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
    settings = effective_settings(request, reqs, target)
    client = HttpClient(cache, offline=request.offline)
    finder = Finder(settings.index_settings(), client)
    fetcher = Fetcher(client, cache)
    installed = scan(target)

    wanted = [r for r in reqs.requirements if _applies(r.requirement.marker, target)]
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
    )
    reader = _MetadataReader(finder, fetcher)
    provider = Provider(policy, _finder_fn(finder), reader, installed,
                        _constraints(reqs.constraints, target))
    progress.info("Resolving dependencies")
    with timed() as elapsed:
        try:
            resolution = resolve(provider, deps)
        except resolvelib.ResolutionImpossible as exc:
            raise diagnose.explain(exc.causes, _finder_fn(finder), policy,
                                   finder.settings.indexes) from exc
        except resolvelib.ResolutionTooDeep as exc:
            raise ResolutionError("resolution gave up after too many steps",
                                  hint="pin some versions to narrow the search") from exc
    resolved = tuple(
        ResolvedDist(c.name, c.version, None if c.installed else c.file, c.name in names,
                     direct_url=c.url, required_hashes=hashes.get(c.name, ()))
        for c in resolution.candidates)
    logger.info("Resolved %d package%s in %s", len(resolved), _s(resolved),
                format_duration(elapsed[0]))
    if require_hashes:
        _check_all_hashed(resolved)
    plan = make_plan(resolved, installed, reinstall=request.reinstall)
    if request.dry_run or not plan.actions:
        return InstallResult(plan, resolved, request.dry_run)
    wheels = fetch_all(fetcher, cache, [a.new for a in plan.actions if a.new is not None])
    progress.info("Installing %d package%s", len(plan.actions), _s(plan.actions))
    with timed() as elapsed:
        apply(plan, target, wheels, compile_bytecode=request.compile_bytecode)
    count = len(plan.actions)
    logger.info("Installed %d package%s in %s", count, "" if count == 1 else "s",
                format_duration(elapsed[0]))
    return InstallResult(plan, resolved, False)


def fetch_all(fetcher: Fetcher, cache: Cache,
              dists: Sequence[ResolvedDist]) -> dict[NormalizedName, Path]:
    """Each dist as an unpacked wheel in the cache (or, for a local wheel, the file)."""

    def prepare(dist: ResolvedDist) -> Path:
        fetched = fetcher.fetch(_file(dist), dist.required_hashes)
        if fetched.sha256 is None:
            return fetched.path
        return unpack(cache, fetched.path, fetched.sha256)

    progress.info("Preparing %d package%s", len(dists), _s(dists))
    with timed() as elapsed, ThreadPoolExecutor(max_workers=8) as pool:
        paths = list(pool.map(prepare, dists))
    if dists:
        logger.info("Prepared %d package%s in %s", len(dists), _s(dists),
                    format_duration(elapsed[0]))
    return {d.name: p for d, p in zip(dists, paths, strict=True)}


def _file(dist: ResolvedDist) -> DistFile:
    assert dist.file is not None, "only dists with a file are fetched"
    return dist.file


def uninstall(names: Sequence[str], target: Target, *, dry_run: bool = False,
              break_system_packages: bool = False) -> Plan:
    check_writable(target, break_system_packages=break_system_packages)
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


def _applies(marker: Marker | None, target: Target) -> bool:
    return marker is None or marker.evaluate({**target.markers, "extra": ""})


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
        if not _applies(c.requirement.marker, target):
            continue
        if c.requirement.url:
            raise RequirementError(f"{c.source}: a constraint cannot be a URL ({c.requirement})")
        result[c.name] = result.get(c.name, SpecifierSet()) & c.requirement.specifier
    return result


def _finder_fn(finder: Finder) -> diagnose.FinderFn:
    def find(name_or_url: str) -> Sequence[DistFile]:
        if "://" not in name_or_url:
            return finder.find(name_or_url)
        filename = unquote(urlsplit(name_or_url).path.rsplit("/", 1)[-1])
        file = make_dist_file(filename, name_or_url.split("#")[0], origin="direct")
        return [file] if file is not None else []
    return find


class _MetadataReader:
    """Dependencies of a candidate: installed METADATA, PEP 658 file, or the wheel itself."""

    def __init__(self, finder: Finder, fetcher: Fetcher) -> None:
        self._finder = finder
        self._fetcher = fetcher
        self._cache: dict[tuple[str, str], tuple[tuple[Requirement, ...],
                                                 SpecifierSet | None]] = {}

    def __call__(self, cand: Candidate) -> tuple[tuple[Requirement, ...], SpecifierSet | None]:
        key = (cand.name, cand.file.url if cand.file else f"installed {cand.version}")
        if key not in self._cache:
            self._cache[key] = _parse_metadata(self._read(cand), str(cand))
        return self._cache[key]

    def _read(self, cand: Candidate) -> str:
        if cand.installed is not None:
            return _installed_text(cand.installed)
        assert cand.file is not None
        data = self._finder.metadata(cand.file)
        if data is not None:
            return data.decode("utf-8", "replace")
        path = self._fetcher.fetch(cand.file).path
        with zipfile.ZipFile(path) as zf:
            meta = [n for n in zf.namelist()
                    if n.count("/") == 1 and n.endswith(".dist-info/METADATA")]
            if not meta:
                raise ResolutionError(f"{cand.file.filename}: not a valid wheel (no METADATA)")
            return zf.read(meta[0]).decode("utf-8", "replace")


def _installed_text(dist: InstalledDist) -> str:
    return dist.read_text("METADATA") or dist.read_text("PKG-INFO") or ""


def _parse_metadata(text: str, what: str) -> tuple[tuple[Requirement, ...], SpecifierSet | None]:
    msg = email.parser.HeaderParser().parsestr(text)
    reqs = []
    for line in msg.get_all("Requires-Dist") or []:
        try:
            reqs.append(Requirement(line))
        except InvalidRequirement as exc:
            raise ResolutionError(f"{what}: invalid Requires-Dist {line!r} in its metadata",
                                  cause=str(exc)) from exc
    spec = None
    if msg.get("Requires-Python"):
        try:
            spec = SpecifierSet(msg["Requires-Python"])
        except InvalidSpecifier:
            spec = None
    return tuple(reqs), spec


def _check_all_hashed(resolved: Sequence[ResolvedDist]) -> None:
    missing = [d for d in resolved if d.file is not None and not d.required_hashes]
    if missing:
        lines = "\n".join(
            f"  {d.name}=={d.version} --hash=sha256:{d.file.sha256 or '<unknown>'}"
            for d in missing if d.file is not None)
        raise RequirementError(
            "hashes are required (--require-hashes, or a requirement with --hash), but these "
            "have none", cause=lines,
            hint="pin every package of the set with its hashes, e.g. with the lines above")
