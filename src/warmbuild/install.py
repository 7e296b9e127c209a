"""Carry out a plan as one transaction on the target environment.

Wheels are unpacked with ``installer`` into a staging directory inside the target prefix
(``installer``'s ``destdir``, so RECORD and script shebangs name the final paths), then
moved into place by rename. Files that are replaced or removed are first renamed into a
backup directory. Any error (or Ctrl-C) puts everything back, so the environment is as it
was before the command; only after the last move are backups deleted. Each move is written
to the transaction's journal first (:mod:`journal`), for a process that is killed outright.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from . import _signals
from ._log import logger
from .directurl import metadata_files as direct_url_files
from .dists import ResolvedDist
from .errors import WarmbuildError
from .installed import InstalledDist
from .journal import TX_PREFIX, Backup, Commit, Journal, Placed, remove_path
from .oserrors import WRITE_ERRNOS, environment_hint, written
from .plan import Action
from .plan import Plan as Plan  # re-exported: the CLI still imports it from here
from .python import Target
from .stage import Claims, LinkingDestination, UnpackedWheel, install_unpacked
from .unpack import unpack_into

#: In the ``.dist-info`` of an editable install: the build env it was built in.
BUILD_ENV_MARKER = "WARMBUILD_BUILD_ENV"
#: In the ``.dist-info`` of an editable install: what it was made from (``fingerprint``).
FINGERPRINT_FILE = "WARMBUILD_FINGERPRINT"


def apply(plan: Plan, target: Target, wheels: Mapping[NormalizedName, Path], *,
          compile_bytecode: bool = False, link_mode: str = "clone",
          record: bool = True) -> None:
    """Carry out ``plan``; on any failure the target is restored and WarmbuildError raised.

    ``record``: a user's target (not a build env), which the CLI's last line names as fully
    updated if a signal stops the run after this commit."""
    news = [a for a in plan.actions if a.new is not None]
    with _HeldSignals() as signals, _Transaction(target.prefix, link_mode,
                                                 record=record) as tx:
        try:
            with ThreadPoolExecutor(max_workers=_stagers(link_mode)) as pool:
                list(pool.map(lambda i: tx.stage(target, news[i], wheels[news[i].name], i),
                              range(len(news))))
            _warn_clashes(tx.claims, news, target)
            for action in plan.actions:
                signals.check()
                if action.old is not None:
                    tx.remove_dist(action.old)
            signals.check()
            tx.place([_label(a) for a in news])
            signals.check()
        except (OSError, ValueError) as exc:
            raise _failed(target.prefix, exc) from exc
    if compile_bytecode and news:
        _compile(target)


def _stagers(link_mode: str) -> int:
    """Threads that stage wheels. Copies are the kernel's work, done outside the GIL, and
    gain from several; a hard link takes microseconds, so what remains is Python's own
    work per file, which threads only slow down by contending for the GIL (32 wheels,
    1,922 files, hard links: 119 ms in one thread, 195 ms in eight)."""
    return 1 if link_mode == "hardlink" else min(8, 2 * (os.cpu_count() or 1))


def _failed(prefix: Path, exc: Exception, at: str = "") -> WarmbuildError:
    """The error of a failed install; ``at`` names the dists whose files could not be
    staged or placed, where that is known."""
    cause, hint = f"{type(exc).__name__}: {exc}", None
    if isinstance(exc, OSError) and exc.errno in WRITE_ERRNOS:
        # Named by the path written, in the target: never the cache file linked from.
        cause, hint = f"{exc.strerror}: {written(exc)}", environment_hint(exc)
    return WarmbuildError(f"installing into {prefix} failed{f' at {at}' if at else ''}; "
                          "the environment was left as it was", cause=cause, hint=hint)


def _label(action: Action) -> str:
    assert action.new is not None
    return f"{action.name} {action.new.version}"


def _warn_clashes(claims: Claims, news: Sequence[Action], target: Target) -> None:
    # Identical copies (a shared namespace __init__.py, say) are harmless and not reported.
    for path, ranks in sorted(claims.differing().items()):
        # A staged path is <prefix>/<tx>/stage/<final path>: show the final one.
        shown = path.rsplit(f"{target.prefix}{os.sep}", 1)[-1]
        names = ", ".join(news[r].name for r in ranks)
        logger.warning("warning: %s each install %s with different contents; %s's copy is "
                       "kept", names, shown, news[ranks[-1]].name)


class _HeldSignals:
    """Holds SIGINT/SIGTERM while files move, so that they end in a rollback, never half-way.

    ``check()`` turns a held signal into KeyboardInterrupt at a point where the transaction
    can roll back; one that arrives while committing or rolling back waits until that is done.
    """

    _SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.pending: int | None = None
        self._old: dict[int, Any] = {}

    def __enter__(self) -> _HeldSignals:
        if threading.current_thread() is threading.main_thread():
            self._old = {s: signal.signal(s, self._hold) for s in self._SIGNALS}
        return self

    def _hold(self, signum: int, frame: object) -> None:
        self.pending = signum
        _signals.received.append(signum)

    def check(self) -> None:
        if self.pending is not None:
            raise KeyboardInterrupt

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        for signum, handler in self._old.items():
            signal.signal(signum, handler)
        if self.pending is not None and exc_type is None:
            # Too late to roll back: the new files are in place and the backups gone. Stop
            # now, as asked; the CLI says the environment was fully updated.
            raise KeyboardInterrupt


class _Transaction:
    """Every move is written to a journal first, so a process that is killed outright
    (SIGKILL, power loss of the process) is rolled back by the next warmbuild run."""

    def __init__(self, prefix: Path, link_mode: str = "clone", *, record: bool = True) -> None:
        # Without `..`, as the RECORD's paths are: what lies inside is told by comparing
        # (`--prefix ../p` must not make every installed file look outside it).
        self.prefix = Path(os.path.normpath(prefix))
        self.link_mode = link_mode
        self._record = record
        self.root = Path(tempfile.mkdtemp(prefix=TX_PREFIX, dir=self.prefix))
        self._journal = Journal(self.root, self.prefix)
        self._backups: list[tuple[Path, Path]] = []
        self._placed: list[Path] = []
        self._emptied: set[Path] = set()
        self.claims = Claims()

    def __enter__(self) -> _Transaction:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            if exc_type is None:
                self._journal.write(Commit())
                if self._record:
                    _signals.committed.append(self.prefix)
                shutil.rmtree(self.root, ignore_errors=True)
                for directory in sorted(self._emptied, key=lambda p: len(p.parts),
                                        reverse=True):
                    _remove_empty_parents(directory, self.prefix)
                return
            for path in reversed(self._placed):
                remove_path(path)
            for original, backup in reversed(self._backups):
                original.parent.mkdir(parents=True, exist_ok=True)
                os.replace(backup, original)
            shutil.rmtree(self.root, ignore_errors=True)
        finally:
            self._journal.close()

    def stage(self, target: Target, action: Action, wheel: Path, rank: int) -> Path:
        """Install into a staging dir; ``wheel`` is a .whl file or an unpacked wheel dir.

        Where wheels clash, the one with the higher ``rank`` (later in the plan) keeps the
        path, as when pip installs them one after another.
        """
        assert action.new is not None
        # One staging tree for every wheel: its skeleton of directories is made (and removed)
        # once, not once per wheel.
        stage_dir = self.root / "stage"
        destination = LinkingDestination(
            scheme_dict=target.scheme(action.new.name), interpreter=str(target.executable),
            script_kind="posix", destdir=str(stage_dir), overwrite_existing=True,
            claims=self.claims, rank=rank, link_mode=self.link_mode,
        )
        # The name the wheel came under: its file, or the index's name for a cached one.
        filename = (action.new.file.filename if action.new.file is not None and
                    action.new.file.kind == "wheel" and wheel.is_dir() else wheel.name)
        if not wheel.is_dir():
            # A wheel used in place (a local file, a fresh build) is unpacked and checked
            # here, by the same rules as one unpacked into the cache, before any of it
            # is staged.
            wheel = unpack_into(wheel, self.root / "wheels" / str(rank))
        source = UnpackedWheel(wheel)
        _check_is(source, action.new, Path(filename))
        try:
            install_unpacked(source, destination, _extra_metadata(action.new))
        except Exception as exc:
            raise _failed(self.prefix, exc, _label(action)) from exc
        return stage_dir

    def _backup(self, path: Path) -> None:
        backup = self.root / "backup" / str(len(self._backups))
        backup.parent.mkdir(exist_ok=True)
        self._journal.write(Backup(path, backup))
        os.replace(path, backup)
        self._backups.append((path, backup))
        self._emptied.add(path.parent)

    def remove_dist(self, dist: InstalledDist) -> None:
        paths = dist.record_paths()
        if paths is None:
            raise WarmbuildError(
                f"cannot uninstall {dist.display_name} {dist.version}: {dist.info_dir} has no "
                "RECORD file", hint="it was not installed from a wheel; remove it by hand")
        for path in paths:
            if not path.is_relative_to(self.prefix):
                # As pip does: a RECORD is the package's word, and it does not reach outside
                # the environment it was installed into.
                logger.warning("warning: not removing %s, listed in the RECORD of %s: it is "
                               "outside %s", path, dist.display_name, self.prefix)
                continue
            if path.suffix == ".py":
                cache = path.parent / "__pycache__"
                if cache.is_dir():
                    for pyc in cache.glob(f"{path.stem}.*.pyc"):
                        self._backup(pyc)
            if path.is_file() or path.is_symlink():
                self._backup(path)
        if dist.info_dir.exists():
            self._backup(dist.info_dir)

    def place(self, labels: Sequence[str]) -> None:
        """Move the staged tree into place; whole new directories go in one rename.

        ``labels`` name the staged dists by rank, for the error when a move fails.
        """
        stage_dir = self.root / "stage"
        for dirpath, dirnames, filenames in os.walk(stage_dir):
            final_dir = Path("/") / Path(dirpath).relative_to(stage_dir)
            keep = []
            for name in dirnames:
                if _occupied(final_dir / name):
                    keep.append(name)
                else:
                    self._place(Path(dirpath) / name, final_dir / name, labels)
            dirnames[:] = keep
            for name in filenames:
                self._place(Path(dirpath) / name, final_dir / name, labels)

    def _place(self, staged: Path, final: Path, labels: Sequence[str]) -> None:
        try:
            if _occupied(final):
                self._backup(final)
            self._move(staged, final)
        except OSError as exc:
            raise _failed(self.prefix, exc, self._owners(staged, labels)) from exc

    def _owners(self, staged: Path, labels: Sequence[str]) -> str:
        """The dists that staged the file ``staged`` (or the files in the dir ``staged``)."""
        files = [str(staged)]
        if staged.is_dir() and not staged.is_symlink():
            files = [os.path.join(d, name) for d, _dirs, names in os.walk(staged)
                     for name in names]
        with self.claims.lock:
            ranks = sorted({rank for file in files for rank in range(len(labels))
                            if self.claims.owns(file, rank)})
        return ", ".join(labels[rank] for rank in ranks)

    def _move(self, staged: Path, final: Path) -> None:
        missing = [p for p in (final.parent, *final.parent.parents) if not p.exists()]
        if missing:
            self._journal.write(Placed(missing[-1]))
            final.parent.mkdir(parents=True)
            self._placed.append(missing[-1])
        else:
            self._journal.write(Placed(final))
        os.replace(staged, final)
        if not missing:
            self._placed.append(final)


def _check_is(source: UnpackedWheel, dist: ResolvedDist, wheel: Path) -> None:
    """The wheel holds the distribution that was resolved: a cached wheel was checked
    under the file name it was first downloaded as, and another file may share its bytes."""
    if canonicalize_name(source.distribution) == dist.name and \
            Version(source.version) == dist.version:
        return
    from .wheelcheck import invalid

    raise invalid(wheel, f"it holds {source.distribution} {source.version} "
                         f"({source.dist_info_dir}), not {dist.name} {dist.version}")


def _occupied(path: Path) -> bool:
    return path.exists() or path.is_symlink()


def _remove_empty_parents(directory: Path, prefix: Path) -> None:
    # Never the prefix or above it: a --target dir's name can be anything.
    while (directory.name not in ("site-packages", "bin", "") and directory != prefix
           and directory.is_relative_to(prefix) and directory.is_dir()):
        try:
            directory.rmdir()
        except OSError:
            return
        directory = directory.parent


def _extra_metadata(dist: ResolvedDist) -> dict[str, bytes]:
    extra = {"INSTALLER": b"warmbuild\n"}
    if dist.requested:
        extra["REQUESTED"] = b""
    if dist.build_env is not None:
        extra[BUILD_ENV_MARKER] = f"{dist.build_env}\n".encode()
    if dist.fingerprint is not None:
        extra[FINGERPRINT_FILE] = f"{dist.fingerprint}\n".encode()
    extra.update(direct_url_files(dist))
    return extra


def _compile(target: Target) -> None:
    # Compiled by the target itself: bytecode is specific to its Python version. What is
    # already compiled is skipped by compileall, so the whole site dir costs little more.
    dirs = [str(p) for p in target.site_dirs]
    subprocess.run([str(target.executable), "-m", "compileall", "-q", "-j0", *dirs],
                   check=False, capture_output=True)
