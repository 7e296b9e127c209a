"""``install``'s location and report options, and the ``download`` and ``wheel`` commands."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..cache import Cache
    from ..layout import Layout
    from ..pipeline import InstallRequest
    from ..python import Target

from ..errors import UsageError, WarmbuildError
from ._common import (
    build_args,
    build_options,
    cache_from,
    format_args,
    index_args,
    index_flags,
    path_arg,
    target_args,
    target_from,
)


def install_args(p: argparse.ArgumentParser) -> None:
    """``install``'s install locations (as pip's) and ``--report``."""
    p.add_argument("-t", "--target", type=path_arg, metavar="DIR",
                   help="install into DIR: packages at its top, scripts in DIR/bin; what DIR "
                   "holds is replaced only with -U/--upgrade")
    p.add_argument("--prefix", type=path_arg, metavar="DIR",
                   help="install under DIR as under a Python prefix (DIR/lib/pythonX.Y/"
                   "site-packages, DIR/bin)")
    p.add_argument("--root", type=path_arg, metavar="DIR",
                   help="install under DIR as if it were / (staging for packaging)")
    p.add_argument("--user", action="store_true",
                   help="install into the user site (~/.local); not inside a venv")
    p.add_argument("--report", metavar="FILE",
                   help="write pip's installation report (JSON) to FILE, `-` for stdout")


def check_report(args: argparse.Namespace) -> None:
    if args.report == "-" and args.format == "json":
        raise UsageError("--report - and --format json both write to stdout: pick one")


def layout_from(args: argparse.Namespace) -> Layout:
    from ..layout import Layout

    return Layout(target=args.target, prefix=args.prefix, root=args.root, user=args.user)


def install_target(args: argparse.Namespace, cache: Cache, layout: Layout,
                   executable: Path | None = None) -> Target:
    """The interpreter to install with (``executable``, when it was found already).
    --target, --prefix and --root leave it unchanged, so without a venv they use the python3
    on PATH (as uv does)."""
    if executable is not None:
        return target_from(args, cache, executable)
    try:
        return target_from(args, cache)
    except WarmbuildError:
        if args.python or layout.changes_interpreter or args.require_virtualenv:
            raise
        return _system_target(cache)


def write_report(report: dict[str, Any], where: str) -> None:
    text = json.dumps(report, indent=2, ensure_ascii=False)
    if where == "-":
        print(text)
        return
    try:
        Path(where).write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--report {where}: cannot write the report: {exc.strerror}") from exc


def add_parsers(sub: Any, common_args: Callable[[argparse.ArgumentParser], None]) -> None:
    def download(p: argparse.ArgumentParser) -> None:
        _set_args(p)
        p.add_argument("-d", "--dest", type=path_arg, default=Path("."), metavar="DIR",
                       help="where to put the files (default: the working directory)")
        p.add_argument("--platform", action="append", default=[], metavar="TAG",
                       help="a platform tag to download for (repeatable), e.g. "
                       "manylinux_2_17_x86_64; needs --no-deps or --only-binary :all:")
        p.add_argument("--python-version", metavar="X.Y",
                       help="the Python version to download for (3.12, 312)")
        p.add_argument("--implementation", metavar="IMPL",
                       help="the Python implementation to download for: cp, pp, py ...")
        p.add_argument("--abi", action="append", default=[], metavar="ABI",
                       help="an ABI tag to download for (repeatable), e.g. cp312")
        _common(p, common_args)
        p.set_defaults(func=_cmd_download)

    def wheel(p: argparse.ArgumentParser) -> None:
        _set_args(p)
        p.add_argument("-w", "--wheel-dir", type=path_arg, default=Path("."), metavar="DIR",
                       help="where to put the wheels (default: the working directory)")
        build_args(p)
        _common(p, common_args)
        p.set_defaults(func=_cmd_wheel)

    sub.add_parser("download", help="download the resolved set's distribution files",
                   fill=download)
    sub.add_parser("wheel", help="build or download a wheel of everything in the set",
                   fill=wheel)


def _set_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("packages", nargs="*", metavar="REQUIREMENT",
                   help="PEP 508 requirements, distribution files or URLs, source trees")
    p.add_argument("-r", "--requirement", action="append", default=[], type=path_arg,
                   metavar="FILE", help="requirements from FILE (repeatable)")
    p.add_argument("-c", "--constraint", action="append", default=[], type=path_arg,
                   metavar="FILE", help="constraints from FILE (repeatable)")
    p.add_argument("--no-deps", action="store_true", help="only the named packages")
    p.add_argument("--pre", action="store_true", help="allow pre-releases")
    p.add_argument("--require-hashes", action="store_true",
                   help="every file needs a --hash in the requirements")
    format_args(p)


def _common(p: argparse.ArgumentParser,
            common_args: Callable[[argparse.ArgumentParser], None]) -> None:
    index_args(p)
    target_args(p)
    common_args(p)


def _request(args: argparse.Namespace, *, build: bool) -> InstallRequest:
    from ..pipeline import InstallRequest

    return InstallRequest(
        requirements=tuple(args.packages), requirement_files=tuple(args.requirement),
        constraint_files=tuple(args.constraint), index_flags=index_flags(args),
        no_deps=args.no_deps, pre=args.pre, require_hashes=args.require_hashes,
        offline=args.offline, formats=tuple(args.formats), prefer_binary=args.prefer_binary,
        refresh=args.refresh, refresh_packages=tuple(args.refresh_package),
        ignore_requires_python=args.ignore_requires_python,
        build=build_options(args) if build else InstallRequest().build)


def _binary_only(request: InstallRequest) -> bool:
    from ..dists import FormatControl

    formats = FormatControl()
    for option, value in request.formats:
        formats = formats.add(option, value)
    return formats == FormatControl.binary_only()


def _cmd_download(args: argparse.Namespace) -> int:
    from ..foreign import PlatformSpec, foreign_target
    from ..pipeline import download
    from ._output import status_line

    request = _request(args, build=False)
    spec = PlatformSpec(tuple(args.platform), args.python_version, args.implementation,
                        tuple(args.abi))
    if spec.given and not (request.no_deps or _binary_only(request)):
        # pip's rule: sdists (or the dependencies only their builds would tell) cannot be
        # made for a platform or Python that is not this machine's.
        raise UsageError(
            "--platform, --python-version, --implementation and --abi need --no-deps or "
            "--only-binary :all:", hint="nothing can be built for another target")
    cache = cache_from(args)
    target = foreign_target(_found_target(args, cache), spec)
    with status_line():
        saved = download(request, args.dest, target, cache)
    for path in saved:
        print(path)
    return 0


def _cmd_wheel(args: argparse.Namespace) -> int:
    from ..pipeline import build_wheels
    from ._output import status_line

    cache = cache_from(args)
    target = _found_target(args, cache)
    with status_line():
        built = build_wheels(_request(args, build=True), args.wheel_dir, target, cache)
    for path in built:
        print(path)
    return 0


def _found_target(args: argparse.Namespace, cache: Cache) -> Target:
    """Downloading and building change no environment: without a venv, the python3 on PATH."""
    from .._log import logger

    try:
        return target_from(args, cache)
    except WarmbuildError:
        if args.python or args.require_virtualenv:
            raise
        logger.debug("no venv found: using the python3 on PATH")
        return _system_target(cache)


def _system_target(cache: Cache) -> Target:
    from ..pyfind import find_interpreter
    from ..python import query_target

    return query_target(find_interpreter(None, system=True, cwd=Path.cwd()), cache)

