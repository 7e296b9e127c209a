"""Where an install puts its files: the target environment itself, or a layout the user names.

pip's ``--target``, ``--prefix``, ``--root`` and ``--user`` become a :class:`~.python.Target`
of the same interpreter (same tags and markers) whose prefix and install paths are the
requested layout. Resolution, planning and the transaction then run unchanged, what is
installed is read from the layout (uv's approach; pip asks the running environment), and the
transaction's journal and lock live at the layout's root.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from packaging.utils import NormalizedName

from ._log import logger
from .errors import UsageError, WarmbuildError
from .journal import locked
from .plan import Plan
from .python import Target

_BASE = "@BASE@"
_INSTALLED_INTO = ("purelib", "platlib", "scripts", "data", "headers")


@dataclass(frozen=True)
class Layout:
    """The install location options; all empty means the target environment itself."""

    target: Path | None = None
    prefix: Path | None = None
    root: Path | None = None
    user: bool = False

    def __post_init__(self) -> None:
        chosen = [name for name, given in (("--target", self.target), ("--prefix", self.prefix),
                                           ("--user", self.user)) if given]
        if len(chosen) > 1:
            raise UsageError(f"{' and '.join(chosen)} cannot be combined: they name "
                             "different install locations")
        if self.root is not None and (self.target is not None or self.user):
            raise UsageError(f"--root cannot be combined with {chosen[0]}",
                             hint="--root goes with the environment's own layout or --prefix")

    @property
    def changes_interpreter(self) -> bool:
        """Whether files go into the interpreter's own directories (PEP 668 applies)."""
        return self.target is None and self.prefix is None and self.root is None

    @property
    def is_default(self) -> bool:
        return self.changes_interpreter and not self.user


def destination(target: Target, layout: Layout,
                environ: Mapping[str, str] = os.environ) -> Target:
    """``target`` with its install paths (and prefix: their common root) moved to ``layout``.

    The interpreter stays the same: scripts' shebangs name it, as with pip.
    """
    if layout.is_default:
        return target
    if layout.target is not None:
        paths = _target_paths(target, _directory(layout.target, "--target"))
    elif layout.prefix is not None:
        paths = _scheme_paths(target, "prefix", layout.prefix.absolute())
    elif layout.user:
        paths = _scheme_paths(target, "user", _user_base(target, environ))
    else:
        paths = {**target.paths, "headers": _venv_headers(target, target.prefix)
                 if target.is_venv else target.paths["include"]}
    if layout.root is not None:
        paths = {k: _change_root(layout.root.absolute(), p) for k, p in paths.items()}
    # The root of what is installed into (a venv's "include" is its base interpreter's).
    prefix = Path(os.path.commonpath([str(paths[k]) for k in _INSTALLED_INTO]))
    managed = target.externally_managed if layout.changes_interpreter else None
    return replace(target, prefix=prefix, paths=paths, externally_managed=managed)


def _directory(path: Path, option: str) -> Path:
    path = path.absolute()
    if path.exists() and not path.is_dir():
        raise WarmbuildError(f"{option} {path}: exists and is not a directory")
    return path


def _target_paths(target: Target, directory: Path) -> dict[str, Path]:
    # pip installs into a "home" scheme and moves its lib/python/ contents and every other
    # top-level entry into the directory: libraries at its top, scripts in bin/.
    home = _scheme_paths(target, "home", directory)
    return {**home, "purelib": directory, "platlib": directory, "data": directory}


def _scheme_paths(target: Target, kind: str, base: Path) -> dict[str, Path]:
    scheme = target.schemes.get(kind)
    if not scheme:
        raise WarmbuildError(f"{target.executable} has no {kind} install scheme in sysconfig")
    paths = {k: Path(v.replace(_BASE, str(base))) for k, v in scheme.items()}
    # pip's rule: in a venv, headers go to <base>/include/site/pythonX.Y, as for the venv.
    paths["headers"] = _venv_headers(target, base) if target.is_venv else paths["include"]
    return paths


def _venv_headers(target: Target, base: Path) -> Path:
    return base / "include" / "site" / f"python{target.python_version}"


def _change_root(root: Path, path: Path) -> Path:
    """``path`` under ``root``, as pip's ``change_root``: /usr/lib -> ROOT/usr/lib."""
    return root / path.relative_to(path.anchor) if path.is_absolute() else root / path


def _user_base(target: Target, environ: Mapping[str, str]) -> Path:
    """The user base, as ``site.getuserbase()`` of the target would answer."""
    if target.is_venv and not _venv_sees_user_site(target.prefix):
        raise WarmbuildError(
            f"cannot install with --user: user site-packages are not visible in the virtual "
            f"environment {target.prefix}",
            hint="drop --user to install into the venv, or name an interpreter outside it "
                 "(--python PATH or --system)")
    if environ.get("PYTHONNOUSERSITE"):
        raise WarmbuildError("cannot install with --user: user site-packages are disabled "
                             "(PYTHONNOUSERSITE is set)")
    if environ.get("PYTHONUSERBASE"):
        return Path(environ["PYTHONUSERBASE"]).absolute()
    home = Path(environ.get("HOME") or Path.home())
    if target.framework and target.markers.get("sys_platform") == "darwin":
        return home / "Library" / target.framework / target.python_version
    return home / ".local"


def _venv_sees_user_site(prefix: Path) -> bool:
    # site.py keeps the user site only in a venv made with --system-site-packages.
    try:
        lines = (prefix / "pyvenv.cfg").read_text(errors="replace").splitlines()
    except OSError:
        return False
    for line in lines:
        key, _, value = line.partition("=")
        if key.strip() == "include-system-site-packages":
            return value.strip().lower() == "true"
    return False


def environment_line(dest: Target, cwd: Path | None = None) -> str:
    """uv's first line of a changing command: which environment it changes."""
    cwd = cwd or Path.cwd()
    shown = dest.prefix
    if shown.is_relative_to(cwd) and shown != cwd:
        shown = shown.relative_to(cwd)
    return f"Using Python {dest.markers['python_full_version']} environment at {shown}"


@contextlib.contextmanager
def locked_layout(prefix: Path, *, dry_run: bool) -> Iterator[None]:
    """The environment's lock (:func:`journal.locked`). A layout's directory that does not
    exist yet (``--target DIR``) is made for it, and removed again if left empty (the
    command failed, or had nothing to do); a dry run makes nothing."""
    if prefix.is_dir() or dry_run:
        with locked(prefix) if prefix.is_dir() else contextlib.nullcontext():
            yield
        return
    prefix.mkdir(parents=True)
    try:
        with locked(prefix):
            yield
    finally:
        with contextlib.suppress(OSError):
            prefix.rmdir()  # only if empty


def keep_existing(plan: Plan, directory: Path,
                  replaceable: Collection[NormalizedName] = ()) -> Plan:
    """pip's ``--target`` without ``--upgrade``: what the directory already holds is kept,
    except ``replaceable`` (``--upgrade-package``).

    pip warns per top-level entry (``Target directory ... already exists``); here a
    distribution is the unit, so ``bin/`` and namespace dirs are shared, not skipped.
    """
    kept = [a for a in plan.actions
            if a.old is not None and a.new is not None and a.name not in replaceable]
    for action in kept:
        assert action.old is not None and action.new is not None
        logger.warning("warning: %s %s is already in %s; not replaced by %s (pass "
                       "-U/--upgrade to replace what --target already holds)",
                       action.old.display_name, action.old.version, directory,
                       action.new.version)
    return Plan(tuple(a for a in plan.actions if a not in kept),
                plan.unchanged + tuple(a.name for a in kept))
