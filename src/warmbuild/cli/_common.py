"""Options shared by several commands, and turning them into library values.

The parser is built from :mod:`..options` alone; the stages a command uses are imported by
the functions that turn its options into values, so `--version`, `--help` and the read-only
commands start fast.
"""

from __future__ import annotations

import argparse
import contextlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import UsageError
from ..options import COMPILER_CACHES, KEYRING_PROVIDERS, STRATEGIES

if TYPE_CHECKING:
    from ..buildopts import BuildOptions
    from ..cache import Cache
    from ..python import Target


class Parser(argparse.ArgumentParser):
    """Every parser of warmbuild (subparsers inherit the class): long options are never
    abbreviated, so `--extra dev` is an error, not `--extra-index-url dev`.

    A command's parser gets its options from ``fill`` only when that command is parsed:
    building all of them costs more than a whole ``--help`` may take."""

    def __init__(self, *args: Any, fill: Callable[[Parser], object] | None = None,
                 **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)
        self._fill = fill

    def parse_known_args(self, args: Sequence[str] | None = None,  # type: ignore[override]
                         namespace: argparse.Namespace | None = None
                         ) -> tuple[argparse.Namespace, list[str]]:
        if self._fill is not None:
            fill, self._fill = self._fill, None
            fill(self)
        return super().parse_known_args(args, namespace)


def path_arg(text: str) -> Path:
    """A path option's value; an empty one would silently mean the working directory."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty path")
    return Path(text)


def common_args(p: argparse.ArgumentParser, *, top: bool = False) -> None:
    """Options every command takes, before or after its name (``warmbuild -q install``,
    as with pip and uv). The top level sets the defaults; a command's copy only overrides
    them when given."""
    def default(value: object) -> object:
        return value if top else argparse.SUPPRESS

    p.add_argument("-v", "--verbose", action="count", default=default(0),
                   help="more detail; tracebacks on errors")
    p.add_argument("-q", "--quiet", action="count", default=default(0), help="less output")
    p.add_argument("--cache-dir", type=path_arg, default=default(None),
                   help="cache root (default: WARMBUILD_CACHE_DIR, else the platform's user "
                   "cache dir)")
    p.add_argument("--no-cache", "--no-cache-dir", action="store_true", default=default(False),
                   help="use a throw-away cache (also PIP_NO_CACHE_DIR, pip's no-cache-dir)")
    p.add_argument("--color", choices=("auto", "always", "never"), default=default(None),
                   help="colour the error:/warning:/hint: prefixes (default: auto, on a "
                   "terminal unless NO_COLOR is set; FORCE_COLOR forces it)")
    p.add_argument("--no-progress", action="store_true", default=default(False),
                   help="no progress bars or status line, plain lines as in a pipe")
    p.add_argument("--log", type=path_arg, metavar="FILE", default=default(None),
                   help="append a detailed log of the run to FILE (as pip's --log)")
    pip = p.add_argument_group("pip's options, so that scripts written for pip run unchanged")
    pip.add_argument("--no-color", action="store_const", const="never", dest="color",
                     default=argparse.SUPPRESS, help="--color never")
    pip.add_argument("--progress-bar", choices=("on", "off", "raw"), action=_ProgressBar,
                     dest="no_progress", default=argparse.SUPPRESS,
                     help="off or raw: --no-progress")
    pip.add_argument("--isolated", action="store_true", default=default(False),
                     help="ignore pip's variables (PIP_*) and the user's pip config files")
    pip.add_argument("--require-virtualenv", action="store_true", default=default(False),
                     help="refuse a target interpreter that is not a virtual environment")
    pip.add_argument("--exists-action", choices=("s", "i", "w", "b", "a"),
                     default=argparse.SUPPRESS, help="ignored: warmbuild never asks")
    for flag, why in (("--disable-pip-version-check", "warmbuild never checks its version"),
                      ("--no-input", "warmbuild never asks"),
                      ("--no-python-version-warning", "warmbuild warns about no Python")):
        pip.add_argument(flag, action="store_true", default=argparse.SUPPRESS,
                         help=f"ignored: {why}")


class _ProgressBar(argparse.Action):
    """pip's ``--progress-bar on|off|raw``: anything but ``on`` is ``--no-progress``."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: object, option_string: str | None = None) -> None:
        setattr(namespace, self.dest, values != "on")


def target_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--python", metavar="PATH|3.X|NAME",
                   help="target interpreter, venv dir, version (3.12: a venv or an interpreter "
                   "on PATH, pyenv or uv's) or name on PATH (default: VIRTUAL_ENV, CONDA_PREFIX, "
                   "else .venv)")
    p.add_argument("--system", action="store_true",
                   help="use the python3 on PATH when no venv is given")
    p.add_argument("--break-system-packages", action="store_true",
                   help="allow changing an externally managed (PEP 668) interpreter")


def build_args(p: argparse.ArgumentParser) -> None:
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
    p.add_argument("--build-constraint", action="append", default=[], type=path_arg,
                   metavar="FILE", help="constraints for build envs (repeatable)")
    p.add_argument("--no-adopt", action="store_true",
                   help="leave build dirs that another frontend's deleted build env left "
                   "behind as they are (default: reconfigure them in place)")
    p.add_argument("--compiler-cache", choices=COMPILER_CACHES,
                   help="compile through sccache or ccache (default: WARMBUILD_COMPILER_CACHE, "
                   "[tool.warmbuild] compiler-cache, else none)")


def build_options(args: argparse.Namespace, *, upgrade: bool = False) -> BuildOptions:
    from ..buildopts import BuildOptions, parse_config_settings
    from ..settings import load_build_settings

    flags: dict[str, Any] = {}
    if args.build_constraint:
        flags["build-constraints"] = [str(p.absolute()) for p in args.build_constraint]
    if args.no_adopt:
        flags["adopt"] = False
    if args.compiler_cache:
        flags["compiler-cache"] = args.compiler_cache
    # The flag and WARMBUILD_BUILD_ENV_DIR outrank a tree's own build-env-dir; the config
    # files' value (in settings) ranks below it.
    explicit = args.build_env_dir or os.environ.get("WARMBUILD_BUILD_ENV_DIR")
    return BuildOptions(
        config_settings=parse_config_settings(args.config_settings),
        isolation=not args.no_build_isolation, refresh_env=args.refresh_build_env,
        upgrade_env=upgrade, env_dir=str(Path(explicit).absolute()) if explicit else None,
        verbose=bool(args.verbose), settings=load_build_settings(Path.cwd(), flags=flags))


def pip_install_args(p: argparse.ArgumentParser) -> None:
    """pip's install options for what warmbuild never does anyway."""
    group = p.add_argument_group(
        "pip's install options, so that scripts written for pip run unchanged")
    group.add_argument("--root-user-action", choices=("warn", "ignore"),
                       default=argparse.SUPPRESS, help="ignored: warmbuild never warns of root")
    for flag, why in (
            ("--no-warn-script-location", "warmbuild never warns of a scripts dir off PATH"),
            ("--no-warn-conflicts", "`warmbuild check` lists broken requirements"),
            ("--no-clean", "build envs are kept anyway; temporary dirs are removed")):
        group.add_argument(flag, action="store_true", default=argparse.SUPPRESS,
                           help=f"ignored: {why}")


def index_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("-i", "--index-url", help="the main index (simple API)")
    p.add_argument("--extra-index-url", action="append", default=[],
                   help="more indexes, asked before --index-url")
    p.add_argument("-f", "--find-links", action="append", default=[],
                   help="a directory or HTML page of distribution files")
    p.add_argument("--no-index", action="store_true", help="ask no index (find-links only)")
    p.add_argument("--index-strategy", choices=STRATEGIES,
                   help="first-index (default): a project comes from the first index that has "
                   "it; unsafe-*: from any index (dependency confusion: see the README)")
    p.add_argument("--exclude-newer", metavar="DATE",
                   help="only index files uploaded up to DATE (2024-01-31, a timestamp, "
                   "or `7 days`)")
    p.add_argument("--trusted-host", action="append", default=[], metavar="HOST[:PORT]",
                   help="allow plain HTTP and skip TLS verification for this host")
    p.add_argument("--cert", metavar="FILE", help="CA bundle (PEM) to verify servers with, "
                   "instead of the system trust store")
    p.add_argument("--client-cert", metavar="FILE",
                   help="client certificate and key (one PEM file)")
    p.add_argument("--keyring-provider", choices=KEYRING_PROVIDERS,
                   help="subprocess: ask the `keyring` command for the password of a user "
                   "named in an index URL (default: disabled)")
    p.add_argument("--timeout", "--default-timeout", type=_seconds, metavar="SECONDS",
                   help="give up on a server that does not answer for this long (default 30; "
                   "also pip's PIP_TIMEOUT, PIP_DEFAULT_TIMEOUT and `timeout`)")
    p.add_argument("--retries", type=count_arg, metavar="N",
                   help="retries of a failed connection or request (default 3; also pip's "
                   "PIP_RETRIES and `retries`)")
    p.add_argument("--proxy", metavar="URL", help="the proxy for http and https, instead of "
                   "https_proxy/http_proxy (also pip's PIP_PROXY and `proxy`)")
    p.add_argument("--offline", action="store_true", help="use the cache only, no network")
    p.add_argument("--refresh", action="store_true",
                   help="revalidate every cached index page, even while it is fresh")
    p.add_argument("--refresh-package", action="append", default=[], metavar="NAME",
                   help="revalidate the cached index pages of this project (repeatable)")


def _seconds(text: str) -> str:
    try:
        if float(text) > 0:
            return text
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds above 0")


def count_arg(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of 0 or more")
    return int(text)


#: What a command holds until it ends (:func:`release`): the cache root's shared lock.
_held = contextlib.ExitStack()


def cache_from(args: argparse.Namespace) -> Cache:
    """The cache, held shared for the rest of the command: `cache clean` waits for it."""
    from ..cache import hold, open_cache
    from ..config import pip_setting

    # pip's no-cache-dir ranks below our own --cache-dir and WARMBUILD_CACHE_DIR.
    no_cache = args.no_cache or (
        args.cache_dir is None and not os.environ.get("WARMBUILD_CACHE_DIR")
        and bool(pip_setting("no-cache-dir", isolated=args.isolated).value))
    cache = open_cache(args.cache_dir, no_cache=no_cache)
    _held.enter_context(hold(cache.root))
    return cache


def release() -> None:
    """Called when a command ends."""
    _held.close()


def target_from(args: argparse.Namespace, cache: Cache,
                executable: Path | None = None) -> Target:
    """The target interpreter (``executable``, when it was found already), queried."""
    from ..pyfind import find_interpreter
    from ..python import query_target

    if executable is None:
        executable = find_interpreter(args.python, system=args.system, cwd=Path.cwd())
    target = query_target(executable, cache)
    if args.require_virtualenv and not target.is_venv:
        raise UsageError(f"{target.executable} is not in a virtual environment, and "
                         "--require-virtualenv was given",
                         hint="name a venv with --python, or activate one")
    return target


def index_flags(args: argparse.Namespace) -> dict[str, Any]:
    return {"index-url": args.index_url, "extra-index-url": args.extra_index_url,
            "find-links": args.find_links, "no-index": args.no_index,
            "index-strategy": args.index_strategy, "exclude-newer": args.exclude_newer,
            "trusted-host": args.trusted_host, "cert": args.cert,
            "timeout": args.timeout, "proxy": args.proxy,
            "retries": None if args.retries is None else str(args.retries),
            "client-cert": args.client_cert, "keyring-provider": args.keyring_provider,
            "link-mode": getattr(args, "link_mode", None), "isolated": args.isolated}


def format_args(p: argparse.ArgumentParser) -> None:
    """pip's ``--only-binary``/``--no-binary``/``--prefer-binary`` (and
    ``--ignore-requires-python``, which also widens what files are offered)."""
    p.add_argument("--ignore-requires-python", action="store_true",
                   help="offer and install versions whose Requires-Python excludes the "
                   "target (as pip's)")
    for option, what in (("--only-binary", "never use an sdist of"),
                         ("--no-binary", "never use a wheel of")):
        p.add_argument(option, action=FormatAction, dest="formats", default=[], const=option,
                       metavar="NAMES", help=f"{what} these (comma list, :all:, :none:)")
    p.add_argument("--prefer-binary", action="store_true",
                   help="an older version with a wheel over a newer one with only an sdist")


class FormatAction(argparse.Action):
    """``--only-binary``/``--no-binary``: kept in command-line order, as pip applies them."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        if str(values).startswith("-"):
            parser.error(f"{self.const} needs a value (:all:, :none: or package names)")
        items = [*(getattr(namespace, self.dest, None) or []), (self.const, str(values))]
        setattr(namespace, self.dest, items)
