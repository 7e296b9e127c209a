"""The command line's parser and the commands that change environments (``cli``)."""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import __version__, _signals

if TYPE_CHECKING:
    from ..hooks import Kind
    from ..plan import Plan

from ..errors import UsageError, WarmbuildError
from ..options import DEFAULT_MAX_SDIST_BUILDS, LINK_MODES
from . import _dist, _envs, _installed
from ._common import (
    Parser,
    build_args,
    build_options,
    cache_from,
    common_args,
    count_arg,
    format_args,
    index_args,
    index_flags,
    path_arg,
    pip_install_args,
    release,
    target_args,
    target_from,
)
from ._info import cmd_cache, cmd_config, cmd_hash


def main(argv: Sequence[str] | None = None) -> int:
    # A run makes millions of small objects (index pages, RECORD entries) and few cycles:
    # collecting after every 700 allocations took a tenth of a warm install and of parsing
    # a large index page (ruff's: 7,296 files).
    gc.set_threshold(50_000, 20, 20)
    parser = _parser()
    args = parser.parse_args(argv)
    # After parsing: --help and usage errors never need the output machinery.
    from ._output import configure_logging

    configure_logging(args.verbose, args.quiet, color=args.color, no_progress=args.no_progress)
    _signals.install_handlers()
    try:
        return _run(args)
    finally:
        # A build still running in a worker thread must not outlive us (only a run that
        # imported the hooks can have one).
        hooks = sys.modules.get("warmbuild.hooks")
        if hooks is not None:
            hooks.stop_backends()
        release()


def _run(args: argparse.Namespace) -> int:
    from ..cache import default_cache_root
    from ._output import print_error

    try:
        if args.log is not None:
            from ._output import log_to_file

            log_to_file(args.log)
        result: int = args.func(args)
        # Here, not at exit: a reader that went away (`warmbuild list | head`) is noticed
        # while it can still be handled.
        sys.stdout.flush()
        return result
    except BrokenPipeError:
        # As a program that SIGPIPE ends: quietly, 128 + 13. Further writes (the flush at
        # exit) go nowhere instead of raising again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except WarmbuildError as exc:
        _traceback(args)
        print_error(exc)
        return exc.exit_code
    except KeyboardInterrupt:
        if _signals.committed:
            where = ", ".join(dict.fromkeys(str(p) for p in _signals.committed))
            print(f"error: interrupted after the environment at {where} was fully updated",
                  file=sys.stderr)
        else:
            print("error: interrupted; the environment was left as it was", file=sys.stderr)
        return _signals.exit_status()
    except OSError as exc:
        from ..oserrors import WRITE_ERRNOS, write_error

        if exc.errno not in WRITE_ERRNOS:
            return _internal_error(args, exc)
        _traceback(args)
        env_dir = getattr(args, "build_env_dir", None) or os.environ.get(
            "WARMBUILD_BUILD_ENV_DIR")
        print_error(write_error(
            exc, cache_root=(args.cache_dir or default_cache_root()).expanduser().absolute(),
            env_dir=Path(env_dir).absolute() if env_dir else None))
        return 1
    except Exception as exc:
        return _internal_error(args, exc)


def _traceback(args: argparse.Namespace) -> None:
    if args.verbose:
        import traceback

        traceback.print_exc()


def _internal_error(args: argparse.Namespace, exc: Exception) -> int:
    from ._output import print_error

    # Every expected failure is a WarmbuildError; this is the net under the ones we missed.
    _traceback(args)
    print_error(WarmbuildError(
        f"internal error in warmbuild: {type(exc).__name__}: {exc}",
        hint="this is a bug in warmbuild; run again with -v for the traceback and report it"))
    return 1


def _parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="warmbuild", description="A Python package installer and PEP 517 build frontend.")
    parser.add_argument("--version", action="version", version=f"warmbuild {__version__}")
    common_args(parser, top=True)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("install", help="install packages into the target environment",
                   fill=_install_args)
    sub.add_parser("build", help="build an sdist and/or a wheel of a source tree",
                   fill=_build_args)
    _dist.add_parsers(sub, common_args)
    sub.add_parser("uninstall", help="remove packages from the target environment",
                   fill=_uninstall_args)
    _installed.add_parsers(sub, common_args)
    sub.add_parser("cache", help="inspect or clean the cache", fill=_cache_args)
    _envs.add_parsers(sub, common_args)
    sub.add_parser("config", help="show the effective index settings and their sources",
                   fill=_config_args)
    sub.add_parser("hash", help="the --hash line of each file, for requirements files (as pip's)",
                   fill=_hash_args)
    return parser


def _install_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("packages", nargs="*", metavar="REQUIREMENT",
                   help="PEP 508 requirements, wheel or sdist paths and URLs, project "
                   "directories, git+URLs")
    p.add_argument("-r", "--requirement", action="append", default=[], type=path_arg,
                   metavar="FILE", help="install from this requirements file, or the [project] "
                   "dependencies of a pyproject.toml (repeatable)")
    p.add_argument("-c", "--constraint", action="append", default=[], type=path_arg,
                   metavar="FILE", help="constrain versions with this file, installing "
                   "nothing by itself (repeatable)")
    p.add_argument("--no-deps", action="store_true", help="install no dependencies")
    p.add_argument("-U", "--upgrade", action="store_true",
                   help="upgrade the named packages (dependencies only if needed)")
    p.add_argument("-P", "--upgrade-package", action="append", default=[], metavar="NAME",
                   help="upgrade this package, installed or not requested (repeatable)")
    p.add_argument("--upgrade-strategy", choices=("only-if-needed", "eager"),
                   default="only-if-needed",
                   help="with -U, eager also upgrades every dependency (as pip)")
    p.add_argument("--reinstall", "--force-reinstall", "-I", "--ignore-installed",
                   action="store_true", help="reinstall everything resolved, even when up to "
                   "date (resolved as if nothing were installed)")
    p.add_argument("--pre", action="store_true", help="allow pre-releases")
    p.add_argument("--require-hashes", action="store_true",
                   help="every package must be pinned with --hash (implied by any --hash)")
    format_args(p)
    p.add_argument("--use-pep517", action="store_true",
                   help="accepted for pip compatibility: every build uses PEP 517")
    p.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    p.add_argument("--max-sdist-builds", type=count_arg, default=DEFAULT_MAX_SDIST_BUILDS,
                   metavar="N", help="older sdists whose metadata one resolution may prepare "
                   f"while backtracking (default {DEFAULT_MAX_SDIST_BUILDS})")
    p.add_argument("--compile-bytecode", "--compile", action="store_true",
                   help="compile .pyc files")
    p.add_argument("--no-compile", action="store_false", dest="compile_bytecode",
                   help="compile no .pyc files (the default)")
    p.add_argument("--link-mode", choices=LINK_MODES, default=None,
                   help="how cached files get into the environment: clone (copy-on-write "
                   "where the filesystem can, else copy; the default), copy, or hardlink "
                   "(fastest; an in-place edit of an installed file then reaches every "
                   "environment linked to it); also WARMBUILD_LINK_MODE, link-mode")
    p.add_argument("--format", choices=("text", "json"), default="text",
                   help="json: print the plan as JSON on stdout")
    p.add_argument("-e", "--editable", action="append", default=[], metavar="PATH|git+URL",
                   help="install a source tree (or a git checkout) in editable mode (PEP 660)")
    p.add_argument("--src", type=path_arg, metavar="DIR",
                   help="where -e git+URL checkouts go (default: the venv's src/)")
    p.add_argument("--extra", action="append", default=[], metavar="NAME",
                   help="an extra of -r pyproject.toml or of the project directories named")
    p.add_argument("--all-extras", action="store_true", help="every such extra")
    p.add_argument("--group", action="append", default=[], metavar="[PATH:]NAME",
                   help="a PEP 735 dependency group of ./pyproject.toml (or PATH)")
    _dist.install_args(p)
    build_args(p)
    pip_install_args(p)
    index_args(p)
    target_args(p)
    common_args(p)
    p.set_defaults(func=_cmd_install)


def _build_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("path", nargs="?", default=".", type=path_arg, metavar="PATH",
                   help="the source tree (default: the current directory)")
    p.add_argument("--sdist", action="store_true", help="build an sdist")
    p.add_argument("--wheel", action="store_true", help="build a wheel")
    p.add_argument("-o", "--outdir", type=path_arg, default=None,
                   help="where to put the files (default: PATH/dist)")
    build_args(p)
    index_args(p)
    target_args(p)
    common_args(p)
    p.set_defaults(func=_cmd_build)


def _uninstall_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("packages", nargs="*", metavar="NAME",
                   help="projects to remove; one not installed is skipped with a warning")
    p.add_argument("-r", "--requirement", action="append", default=[], type=path_arg,
                   metavar="FILE", help="remove the projects this requirements file names "
                   "(repeatable)")
    p.add_argument("-y", "--yes", action="store_true", help="accepted for pip compatibility")
    p.add_argument("--dry-run", action="store_true", help="print what would go, change nothing")
    target_args(p)
    common_args(p)
    p.set_defaults(func=_cmd_uninstall)


def _cache_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=("dir", "clean", "purge", "prune"),
                   help="dir: print the cache root; clean (or pip's purge): empty it; prune: "
                   "remove what interrupted runs and older layouts left")
    p.add_argument("--force", action="store_true",
                   help="clean: also build envs that editable installs still use")
    common_args(p)
    p.set_defaults(func=cmd_cache)


def _hash_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="+", type=path_arg, metavar="FILE",
                   help="distribution files (wheels, sdists)")
    p.add_argument("-a", "--algorithm", choices=("sha256", "sha384", "sha512"),
                   default="sha256", help="the hash (default sha256)")
    common_args(p)
    p.set_defaults(func=cmd_hash)


def _config_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=("text", "json"), default="text",
                   help="text (default) or json")
    index_args(p)
    target_args(p)
    common_args(p)
    p.set_defaults(func=cmd_config)


def _cmd_install(args: argparse.Namespace) -> int:
    import time

    from .._log import logger

    started = time.time_ns()
    _dist.check_report(args)
    cache = cache_from(args)
    # A remembered no-op needs only the interpreter's path: not the layout, not the query.
    executable = key = None
    if _may_remember(args):
        from ..noop import answer
        from ..pyfind import find_interpreter

        executable = find_interpreter(args.python, system=args.system, cwd=Path.cwd())
        key = _noop_key(args, executable)
        lines = answer(cache.root, key)
        if lines is not None:
            for line in lines:
                logger.info("%s", line)
            logger.debug("(the answer of the last identical install: none of the files it "
                         "rested on has changed since)")
            return 0
    layout = _dist.layout_from(args)
    target = _dist.install_target(args, cache, layout, executable)

    from ..pipeline import InstallRequest, install
    from ._output import status_line

    request = InstallRequest(
        requirements=tuple(args.packages), requirement_files=tuple(args.requirement),
        constraint_files=tuple(args.constraint), index_flags=index_flags(args),
        no_deps=args.no_deps, upgrade=args.upgrade,
        upgrade_packages=tuple(args.upgrade_package), reinstall=args.reinstall, pre=args.pre,
        require_hashes=args.require_hashes, dry_run=args.dry_run, offline=args.offline,
        compile_bytecode=args.compile_bytecode,
        break_system_packages=args.break_system_packages,
        editables=tuple(args.editable), build=build_options(args, upgrade=args.upgrade),
        formats=tuple(args.formats), prefer_binary=args.prefer_binary,
        upgrade_eager=args.upgrade and args.upgrade_strategy == "eager",
        layout=layout, report=args.report is not None,
        extras=tuple(args.extra), all_extras=args.all_extras, groups=tuple(args.group),
        src_dir=args.src,
        max_sdist_builds=args.max_sdist_builds,
        refresh=args.refresh, refresh_packages=tuple(args.refresh_package),
        ignore_requires_python=args.ignore_requires_python,
    )
    with status_line():
        result = install(request, target, cache)
    if result.report is not None:
        _dist.write_report(result.report, args.report)
    if args.format == "json":
        print(json.dumps(_plan_json(result.plan, dry_run=result.dry_run), indent=2))
        return 0
    if result.dry_run:
        logger.warning("Would change %d package%s in %s (dry run)", len(result.plan.actions),
                       "" if len(result.plan.actions) == 1 else "s", result.prefix)
    elif not result.plan.actions:
        audited = (f"Audited {len(result.resolved)} package"
                   f"{'' if len(result.resolved) == 1 else 's'}: nothing to do")
        logger.info("%s", audited)
        if key is not None and result.inputs:
            from ..layout import destination, environment_line
            from ..noop import remember

            remember(cache.root, key, result.inputs,
                     [environment_line(destination(target, layout)), audited], started)
    _print_plan(result.plan)
    return 0


#: Options that change what is printed, not what an install does.
_OUTPUT_ONLY = ("func", "verbose", "quiet", "color", "no_progress", "log")


def _may_remember(args: argparse.Namespace) -> bool:
    """Whether this command's no-op may be recorded (:mod:`..noop`): not one that changes
    or reports, nor one into another layout, nor an editable install (its answer rests on
    the tree's fingerprint)."""
    return not (args.upgrade or args.upgrade_package or args.reinstall or args.dry_run
                or args.report or args.format != "text" or args.editable or args.no_cache
                or args.target or args.prefix or args.root or args.user
                or args.require_virtualenv)


def _noop_key(args: argparse.Namespace, executable: Path) -> str:
    from ..noop import command_key

    options = {k: v for k, v in vars(args).items() if k not in _OUTPUT_ONLY}
    return command_key(options, Path.cwd(), os.environ, f"{__version__} {executable}")


def _cmd_build(args: argparse.Namespace) -> int:
    from ..pipeline import BuildRequest, build_dists
    from ..pyfind import find_interpreter
    from ..python import query_target
    from ._output import status_line

    cache = cache_from(args)
    try:
        target = target_from(args, cache)
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
        outdir=args.outdir or args.path / "dist", index_flags=index_flags(args),
        offline=args.offline, build=build_options(args))
    with status_line():
        built = build_dists(request, target, cache)
    for path in built:
        print(path)
    return 0


def _print_plan(plan: Plan) -> None:
    from .._log import logger

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
    from .._log import logger
    from ..pipeline import uninstall

    if not args.packages and not args.requirement:
        raise UsageError("nothing to uninstall", hint="name packages, or pass -r FILE")
    cache = cache_from(args)
    target = target_from(args, cache)
    plan = uninstall(args.packages, target, dry_run=args.dry_run,
                     break_system_packages=args.break_system_packages,
                     requirement_files=args.requirement)
    if args.dry_run:
        logger.warning("Would uninstall %d package(s) (dry run)", len(plan.actions))
    _print_plan(plan)
    return 0
