"""Command line: parse arguments, call the library, print. The only module that exits."""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import logging
import os
import shutil
import signal
import sys
import traceback
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from . import __version__, cli_envs
from ._log import logger, progress
from .build import BuildOptions
from .cache import BUCKETS, Cache, default_cache_root, open_cache
from .envs import all_envs, remove
from .errors import UsageError, WarmbuildError
from .hooks import Kind, parse_config_settings
from .install import Plan
from .installed import InstalledDist, scan
from .pipeline import (
    BuildRequest,
    InstallRequest,
    build_dists,
    effective_settings,
    install,
    uninstall,
)
from .python import Target, find_interpreter, query_target
from .settings import load_build_settings


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    _configure_logging(args.verbose, args.quiet)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        result: int = args.func(args)
        return result
    except WarmbuildError as exc:
        if args.verbose:
            traceback.print_exc()
        _print_error(exc)
        return exc.exit_code
    except KeyboardInterrupt:
        print("error: interrupted; the environment was left as it was", file=sys.stderr)
        return 130
    except OSError as exc:
        if exc.errno not in (errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOSPC):
            raise
        if args.verbose:
            traceback.print_exc()
        _print_error(WarmbuildError(
            f"cannot write to {exc.filename or 'a directory warmbuild needs'}: {exc.strerror}",
            hint="the cache is set by --cache-dir or WARMBUILD_CACHE_DIR; build envs by "
                 "--build-env-dir, WARMBUILD_BUILD_ENV_DIR or [tool.warmbuild] build-env-dir: "
                 "point the one that holds this path at a writable directory"))
        return 1


def _interrupt(signum: int, frame: FrameType | None) -> None:
    # SIGTERM unwinds like Ctrl-C, so an install in progress is rolled back.
    raise KeyboardInterrupt


def _print_error(exc: WarmbuildError) -> None:
    lines = [f"error: {exc.message}"]
    if exc.cause:
        cause_lines = exc.cause.splitlines()
        lines.append(f"  ╰─ {cause_lines[0].strip()}")
        lines.extend(f"     {line.strip()}" for line in cause_lines[1:])
    if exc.hint:
        lines.append(f"hint: {exc.hint}")
    print("\n".join(lines), file=sys.stderr)


def _configure_logging(verbose: int, quiet: int) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.handlers[:] = [handler]
    logger.propagate = False
    level = logging.INFO
    if verbose:
        level = logging.DEBUG
    elif quiet:
        level = logging.WARNING if quiet == 1 else logging.ERROR
    logger.setLevel(level)
    # Progress is noise in pipes and CI: plain lines only with -v, a status line on a TTY.
    progress.propagate = bool(verbose)
    progress.handlers.clear()
    progress.setLevel(logging.INFO if verbose or (not quiet and sys.stderr.isatty())
                      else logging.WARNING)


@contextlib.contextmanager
def _status_line() -> Iterator[None]:
    """A transient rich status line fed by the progress logger, on a TTY only."""
    if progress.propagate or not progress.isEnabledFor(logging.INFO):
        yield
        return
    from rich.console import Console

    with Console(stderr=True).status("Starting") as status:
        handler = _StatusHandler(status)
        progress.addHandler(handler)
        saved = logger.handlers[:]
        # Phase lines printed while the status shows must not tear it.
        logger.handlers[:] = [_RichLineHandler(status.console)]
        try:
            yield
        finally:
            progress.removeHandler(handler)
            logger.handlers[:] = saved


class _StatusHandler(logging.Handler):
    def __init__(self, status: Any) -> None:
        super().__init__()
        self._status = status

    def emit(self, record: logging.LogRecord) -> None:
        self._status.update(record.getMessage())


class _RichLineHandler(logging.Handler):
    def __init__(self, console: Any) -> None:
        super().__init__()
        self._console = console

    def emit(self, record: logging.LogRecord) -> None:
        self._console.print(record.getMessage(), markup=False, highlight=False)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("-v", "--verbose", action="count", default=0,
                   help="more detail; tracebacks on errors")
    p.add_argument("-q", "--quiet", action="count", default=0, help="less output")
    p.add_argument("--cache-dir", type=Path, help="cache root (default: WARMBUILD_CACHE_DIR, "
                   "else the platform's user cache dir)")
    p.add_argument("--no-cache", action="store_true", help="use a throw-away cache")


def _target_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--python", metavar="PATH",
                   help="target interpreter or venv dir (default: VIRTUAL_ENV, else .venv)")
    p.add_argument("--system", action="store_true",
                   help="use the python3 on PATH when no venv is given")
    p.add_argument("--break-system-packages", action="store_true",
                   help="allow changing an externally managed (PEP 668) interpreter")


def _build_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("-C", "--config-settings", action="append", default=[],
                   metavar="KEY=VALUE", help="passed to every build backend hook; repeat a "
                   "key for a list")
    p.add_argument("--no-build-isolation", action="store_true",
                   help="build in the target env (its build requirements must be installed)")
    p.add_argument("--refresh-build-env", action="store_true",
                   help="recreate the build env of each tree (at the same path)")
    p.add_argument("--build-env-dir",
                   help="where build envs live (default: WARMBUILD_BUILD_ENV_DIR, "
                   "[tool.warmbuild] build-env-dir, else the cache)")
    p.add_argument("--build-constraint", action="append", default=[], type=Path,
                   metavar="FILE", help="constraints for build envs (repeatable)")


def _build_options(args: argparse.Namespace, *, upgrade: bool = False) -> BuildOptions:
    flags: dict[str, Any] = {}
    if args.build_constraint:
        flags["build-constraints"] = [str(p.absolute()) for p in args.build_constraint]
    # The flag and WARMBUILD_BUILD_ENV_DIR outrank a tree's own build-env-dir; the config
    # files' value (in settings) ranks below it.
    explicit = args.build_env_dir or os.environ.get("WARMBUILD_BUILD_ENV_DIR")
    return BuildOptions(
        config_settings=parse_config_settings(args.config_settings),
        isolation=not args.no_build_isolation, refresh_env=args.refresh_build_env,
        upgrade_env=upgrade, env_dir=str(Path(explicit).absolute()) if explicit else None,
        verbose=bool(args.verbose), settings=load_build_settings(Path.cwd(), flags=flags))


def _index_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("-i", "--index-url", help="the main index (simple API)")
    p.add_argument("--extra-index-url", action="append", default=[],
                   help="more indexes, asked before --index-url (first index wins)")
    p.add_argument("-f", "--find-links", action="append", default=[],
                   help="a directory or HTML page of distribution files")
    p.add_argument("--no-index", action="store_true", help="ask no index (find-links only)")
    p.add_argument("--offline", action="store_true", help="use the cache only, no network")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="warmbuild", description="A Python package installer and PEP 517 build frontend.")
    parser.add_argument("--version", action="version", version=f"warmbuild {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("install", help="install packages into the target environment")
    p.add_argument("packages", nargs="*", metavar="REQUIREMENT",
                   help="PEP 508 requirements, wheel paths or wheel URLs")
    p.add_argument("-r", "--requirement", action="append", default=[], type=Path)
    p.add_argument("-c", "--constraint", action="append", default=[], type=Path)
    p.add_argument("--no-deps", action="store_true", help="install no dependencies")
    p.add_argument("-U", "--upgrade", action="store_true",
                   help="upgrade the named packages (dependencies only if needed)")
    p.add_argument("-P", "--upgrade-package", action="append", default=[], metavar="NAME")
    p.add_argument("--reinstall", "--force-reinstall", action="store_true",
                   help="reinstall everything resolved, even when up to date")
    p.add_argument("--pre", action="store_true", help="allow pre-releases")
    p.add_argument("--require-hashes", action="store_true")
    p.add_argument("--only-binary", metavar=":all:",
                   help="`:all:`: never build sdists, fail instead")
    p.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    p.add_argument("--compile-bytecode", action="store_true", help="compile .pyc files")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("-e", "--editable", action="append", default=[], metavar="PATH",
                   help="install a source tree in editable mode (PEP 660)")
    _build_args(p)
    _index_args(p)
    _target_args(p)
    _common(p)
    p.set_defaults(func=_cmd_install)

    p = sub.add_parser("build", help="build an sdist and/or a wheel of a source tree")
    p.add_argument("path", nargs="?", default=".", type=Path, metavar="PATH")
    p.add_argument("--sdist", action="store_true", help="build an sdist")
    p.add_argument("--wheel", action="store_true", help="build a wheel")
    p.add_argument("-o", "--outdir", type=Path, default=None,
                   help="where to put the files (default: PATH/dist)")
    _build_args(p)
    _index_args(p)
    _target_args(p)
    _common(p)
    p.set_defaults(func=_cmd_build)

    p = sub.add_parser("uninstall", help="remove packages from the target environment")
    p.add_argument("packages", nargs="+", metavar="NAME")
    p.add_argument("-y", "--yes", action="store_true", help="accepted for pip compatibility")
    p.add_argument("--dry-run", action="store_true")
    _target_args(p)
    _common(p)
    p.set_defaults(func=_cmd_uninstall)

    for name, func, help_text in (("list", _cmd_list, "list installed packages"),
                                  ("freeze", _cmd_freeze, "installed packages as requirements"),
                                  ("show", _cmd_show, "details of installed packages")):
        p = sub.add_parser(name, help=help_text)
        if name == "show":
            p.add_argument("packages", nargs="+", metavar="NAME")
        if name == "list":
            p.add_argument("--format", choices=("columns", "json", "freeze"), default="columns")
        _target_args(p)
        _common(p)
        p.set_defaults(func=func)

    p = sub.add_parser("cache", help="inspect or clean the cache")
    p.add_argument("action", choices=("dir", "clean", "prune"))
    p.add_argument("--force", action="store_true",
                   help="clean: also build envs that editable installs still use")
    _common(p)
    p.set_defaults(func=_cmd_cache)
    cli_envs.add_parsers(sub, _common)

    p = sub.add_parser("config", help="show the effective index settings and their sources")
    p.add_argument("--format", choices=("text", "json"), default="text")
    _index_args(p)
    _target_args(p)
    _common(p)
    p.set_defaults(func=_cmd_config)
    return parser


def _cache(args: argparse.Namespace) -> Cache:
    return open_cache(args.cache_dir, no_cache=args.no_cache)


def _target(args: argparse.Namespace, cache: Cache) -> Target:
    executable = find_interpreter(args.python, system=args.system, cwd=Path.cwd())
    return query_target(executable, cache)


def _index_flags(args: argparse.Namespace) -> dict[str, Any]:
    return {"index-url": args.index_url, "extra-index-url": args.extra_index_url,
            "find-links": args.find_links, "no-index": args.no_index}


def _cmd_install(args: argparse.Namespace) -> int:
    if args.only_binary not in (None, ":all:", ":none:"):
        raise UsageError(f"--only-binary {args.only_binary}: only `:all:` and `:none:` are "
                         "supported")
    cache = _cache(args)
    target = _target(args, cache)
    request = InstallRequest(
        requirements=tuple(args.packages), requirement_files=tuple(args.requirement),
        constraint_files=tuple(args.constraint), index_flags=_index_flags(args),
        no_deps=args.no_deps, upgrade=args.upgrade,
        upgrade_packages=tuple(args.upgrade_package), reinstall=args.reinstall, pre=args.pre,
        require_hashes=args.require_hashes, dry_run=args.dry_run, offline=args.offline,
        compile_bytecode=args.compile_bytecode,
        break_system_packages=args.break_system_packages,
        editables=tuple(args.editable), build=_build_options(args, upgrade=args.upgrade),
        only_binary=args.only_binary == ":all:",
    )
    with _status_line():
        result = install(request, target, cache)
    if args.format == "json":
        print(json.dumps(_plan_json(result.plan, dry_run=result.dry_run), indent=2))
        return 0
    if result.dry_run:
        logger.warning("Would change %d package%s in %s (dry run)", len(result.plan.actions),
                       "" if len(result.plan.actions) == 1 else "s", target.prefix)
    elif not result.plan.actions:
        logger.info("Audited %d package%s: nothing to do", len(result.resolved),
                    "" if len(result.resolved) == 1 else "s")
    _print_plan(result.plan)
    return 0


def _cmd_build(args: argparse.Namespace) -> int:
    cache = _cache(args)
    try:
        target = _target(args, cache)
    except WarmbuildError:
        if args.python:
            raise
        # Building changes no environment: without a venv, build for the python3 on PATH.
        target = query_target(find_interpreter(None, system=True, cwd=Path.cwd()), cache)
    chosen: list[Kind] = []
    if args.sdist:
        chosen.append("sdist")
    if args.wheel:
        chosen.append("wheel")
    kinds = tuple(chosen)
    request = BuildRequest(
        path=args.path, kinds=kinds or ("sdist", "wheel"),
        outdir=args.outdir or args.path / "dist", index_flags=_index_flags(args),
        offline=args.offline, build=_build_options(args))
    with _status_line():
        built = build_dists(request, target, cache)
    for path in built:
        print(path)
    return 0


def _print_plan(plan: Plan) -> None:
    for action in sorted(plan.actions, key=lambda a: a.name):
        logger.info(" %s", action)


def _plan_json(plan: Plan, *, dry_run: bool) -> dict[str, Any]:
    return {
        "dry_run": dry_run,
        "actions": [{
            "action": a.kind, "name": a.name,
            "version": str(a.new.version) if a.new else None,
            "old_version": str(a.old.version) if a.old else None,
            "url": a.new.file.url if a.new and a.new.file else None,
        } for a in plan.actions],
        "unchanged": list(plan.unchanged),
    }


def _cmd_uninstall(args: argparse.Namespace) -> int:
    cache = _cache(args)
    target = _target(args, cache)
    plan = uninstall(args.packages, target, dry_run=args.dry_run,
                     break_system_packages=args.break_system_packages)
    if args.dry_run:
        logger.warning("Would uninstall %d package(s) (dry run)", len(plan.actions))
    _print_plan(plan)
    return 0 if plan.actions or args.dry_run else 1


def _installed(args: argparse.Namespace) -> list[InstalledDist]:
    target = _target(args, _cache(args))
    return sorted(scan(target).values(), key=lambda d: d.name)


def _cmd_list(args: argparse.Namespace) -> int:
    dists = _installed(args)
    if args.format == "json":
        print(json.dumps([{"name": _display(d), "version": str(d.version)} for d in dists]))
    elif args.format == "freeze":
        _cmd_freeze(args)
    else:
        rows = [(_display(d), str(d.version)) for d in dists]
        width = max([len("Package"), *(len(r[0]) for r in rows)])
        vwidth = max([len("Version"), *(len(r[1]) for r in rows)])
        print(f"{'Package':<{width}} Version")
        print(f"{'-' * width} {'-' * vwidth}")
        for name, version in rows:
            print(f"{name:<{width}} {version}")
    return 0


def _display(dist: InstalledDist) -> str:
    return dist.metadata()["Name"] or dist.display_name


def _cmd_freeze(args: argparse.Namespace) -> int:
    for dist in _installed(args):
        info = dist.direct_url()
        if info and isinstance(info.get("url"), str):
            prefix = "-e " if dist.editable else f"{_display(dist)} @ "
            print(f"{prefix}{info['url']}")
        else:
            print(f"{_display(dist)}=={dist.version}")
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    target = _target(args, _cache(args))
    installed = scan(target)
    from packaging.utils import canonicalize_name

    blocks, missing = [], []
    for name in args.packages:
        dist = installed.get(canonicalize_name(name))
        if dist is None:
            missing.append(name)
            continue
        meta = dist.metadata()
        required_by = sorted(_display(o) for o in installed.values()
                             if any(canonicalize_name(r.name) == dist.name for r in o.requires()))
        requires = sorted({r.name for r in dist.requires() if r.marker is None
                           or "extra" not in str(r.marker)})
        blocks.append("\n".join([
            f"Name: {meta['Name'] or dist.display_name}", f"Version: {dist.version}",
            f"Summary: {meta['Summary'] or ''}", f"Home-page: {meta['Home-page'] or ''}",
            f"Author: {meta['Author'] or meta['Author-email'] or ''}",
            f"License: {meta['License'] or meta['License-Expression'] or ''}",
            f"Location: {dist.site_dir}", f"Installer: {dist.installer}",
            f"Requires: {', '.join(requires)}", f"Required-by: {', '.join(required_by)}",
        ]))
    if blocks:
        print("\n---\n".join(blocks))
    for name in missing:
        logger.warning("warning: package(s) not found: %s", name)
    return 1 if missing else 0


def _cmd_cache(args: argparse.Namespace) -> int:
    root = (args.cache_dir or default_cache_root()).expanduser().absolute()
    if args.action == "dir":
        print(root)
        return 0
    if not root.is_dir():
        logger.info("No cache at %s", root)
        return 0
    removed = 0
    for entry in sorted(root.iterdir()):
        keep = args.action == "prune" and entry.name in BUCKETS
        if keep:
            removed += _prune_bucket(entry)
            continue
        if entry.name == "envs-v1" and not args.force:
            # Build envs that editable installs still use survive a clean, as with prune.
            kept = [r for r in remove(all_envs(open_cache(root)), force=False)
                    if not r.removed]
            for r in kept:
                logger.warning("Kept %s: %s", r.env.path, r.why)
            if kept:
                continue
        removed += sum(1 for _ in entry.rglob("*")) if entry.is_dir() else 1
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    verb = "Removed" if args.action == "clean" else "Pruned"
    logger.info("%s %d file%s from %s", verb, removed, "" if removed == 1 else "s", root)
    return 0


def _prune_bucket(bucket: Path) -> int:
    # Interrupted downloads and writes leave temporary files behind; nothing else is stale.
    removed = 0
    for path in bucket.rglob("*"):
        if path.is_file() and (path.name.startswith(".download-") or path.name.endswith(".tmp")):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def _cmd_config(args: argparse.Namespace) -> int:
    target = None
    # Settings do not need a target; without one its pip.conf is just not read.
    with contextlib.suppress(WarmbuildError):
        target = _target(args, _cache(args))
    settings = effective_settings(InstallRequest(index_flags=_index_flags(args)), None, target)
    cache_root = args.cache_dir or default_cache_root()
    cache_source = ("command line" if args.cache_dir else "environment WARMBUILD_CACHE_DIR"
                    if os.environ.get("WARMBUILD_CACHE_DIR") else "default")
    rows: dict[str, dict[str, Any]] = {
        key: {"value": list(s.value) if isinstance(s.value, tuple) else s.value,
              "source": s.source} for key, s in settings.values.items()}
    rows["cache-dir"] = {"value": str(cache_root), "source": cache_source}
    rows["index-strategy"] = {"value": "first-index", "source": "built in"}
    if args.format == "json":
        print(json.dumps(rows, indent=2))
        return 0
    for key, row in rows.items():
        value = row["value"]
        shown = " ".join(value) if isinstance(value, list) else str(value).lower() \
            if isinstance(value, bool) else str(value)
        print(f"{key:<16} = {shown or '(none)'}    # {row['source']}")
    return 0
