"""Plan, then install and uninstall as one transaction on the target environment.

Wheels are unpacked with ``installer`` into a staging directory inside the target prefix
(``installer``'s ``destdir``, so RECORD and script shebangs name the final paths), then
moved into place by rename. Files that are replaced or removed are first renamed into a
backup directory. Any error (or Ctrl-C) puts everything back, so the environment is as it
was before the command; only after the last move are backups deleted.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from installer import install as installer_install
from installer.sources import WheelFile
from packaging.utils import NormalizedName

from ._log import logger
from .dists import ResolvedDist
from .errors import InstallError
from .installed import InstalledDist
from .python import Target
from .unpack import Claims, LinkingDestination, UnpackedWheel

#: In the ``.dist-info`` of an editable install: the build env it was built in.
BUILD_ENV_MARKER = "WARMBUILD_BUILD_ENV"

ActionKind = Literal["install", "upgrade", "downgrade", "reinstall", "uninstall"]


@dataclass(frozen=True)
class Action:
    kind: ActionKind
    name: NormalizedName
    old: InstalledDist | None = None
    new: ResolvedDist | None = None

    def __str__(self) -> str:
        old = f"{self.old.version}" if self.old else ""
        new = f"{self.new.version}" if self.new else ""
        if self.kind == "install":
            return f"+ {self.name}=={new}"
        if self.kind == "uninstall":
            return f"- {self.name}=={old}"
        if self.kind == "reinstall":
            return f"~ {self.name}=={new}"
        return f"~ {self.name}=={old} -> {new}"


@dataclass(frozen=True)
class Plan:
    actions: tuple[Action, ...]
    unchanged: tuple[NormalizedName, ...] = ()


def make_plan(resolved: Sequence[ResolvedDist], installed: Mapping[NormalizedName, InstalledDist],
              *, reinstall: bool = False, remove_others: bool = False) -> Plan:
    """What to change; ``remove_others`` also uninstalls what ``resolved`` does not hold."""
    actions: list[Action] = []
    unchanged: list[NormalizedName] = []
    for dist in resolved:
        old = installed.get(dist.name)
        if old is None:
            actions.append(Action("install", dist.name, new=dist))
        elif dist.file is None:
            unchanged.append(dist.name)
        elif old.version != dist.version:
            kind: ActionKind = "upgrade" if dist.version > old.version else "downgrade"
            actions.append(Action(kind, dist.name, old, dist))
        elif (dist.direct_url is not None and not reinstall and dist.file.kind != "tree"
              and (old.direct_url() or {}).get("url") == dist.direct_url):
            unchanged.append(dist.name)
        else:
            actions.append(Action("reinstall", dist.name, old, dist))
    if remove_others:
        keep = {d.name for d in resolved}
        actions += [Action("uninstall", n, old=d) for n, d in installed.items() if n not in keep]
    return Plan(tuple(actions), tuple(unchanged))


def uninstall_plan(dists: Iterable[InstalledDist]) -> Plan:
    return Plan(tuple(Action("uninstall", d.name, old=d) for d in dists))


def apply(plan: Plan, target: Target, wheels: Mapping[NormalizedName, Path], *,
          compile_bytecode: bool = False) -> None:
    """Carry out ``plan``; on any failure the target is restored and InstallError raised."""
    news = [a for a in plan.actions if a.new is not None]
    with _HeldSignals() as signals, _Transaction(target.prefix) as tx:
        try:
            with ThreadPoolExecutor(max_workers=min(8, 2 * (os.cpu_count() or 1))) as pool:
                list(pool.map(lambda i: tx.stage(target, news[i], wheels[news[i].name], i),
                              range(len(news))))
            _warn_clashes(tx.claims, news, target)
            for action in plan.actions:
                signals.check()
                if action.old is not None:
                    tx.remove_dist(action.old)
            signals.check()
            tx.place()
            signals.check()
        except (OSError, ValueError) as exc:
            name = getattr(exc, "warmbuild_dist", None)
            raise InstallError(
                f"installing into {target.prefix} failed{f' at {name}' if name else ''}; "
                "the environment was left as it was", cause=f"{type(exc).__name__}: {exc}",
            ) from exc
    if compile_bytecode and news:
        _compile(target)


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

    def check(self) -> None:
        if self.pending is not None:
            raise KeyboardInterrupt

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        for signum, handler in self._old.items():
            signal.signal(signum, handler)
        if self.pending is not None and exc_type is None:
            # Too late to roll back: the new files are in place and the backups gone.
            logger.warning("warning: interrupt received after the install had completed")


_JOURNAL = "journal"


class _Transaction:
    """Every move is written to a journal first, so a process that is killed outright
    (SIGKILL, power loss of the process) is rolled back by the next warmbuild run."""

    def __init__(self, prefix: Path) -> None:
        self.prefix = prefix
        self.root = Path(tempfile.mkdtemp(prefix=".warmbuild-tx-", dir=prefix))
        self._journal = os.open(self.root / _JOURNAL, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        # Held while this process lives: recovery leaves a live transaction alone.
        fcntl.flock(self._journal, fcntl.LOCK_EX)
        self._backups: list[tuple[Path, Path]] = []
        self._placed: list[Path] = []
        self._emptied: set[Path] = set()
        self.claims = Claims()

    def __enter__(self) -> _Transaction:
        return self

    def _log(self, *entry: object) -> None:
        # Unbuffered: what the kernel has survives the process being killed.
        os.write(self._journal, (json.dumps([str(e) for e in entry]) + "\n").encode())

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            if exc_type is None:
                self._log("commit")
                shutil.rmtree(self.root, ignore_errors=True)
                for directory in sorted(self._emptied, key=lambda p: len(p.parts),
                                        reverse=True):
                    _remove_empty_parents(directory)
                return
            for path in reversed(self._placed):
                _remove(path)
            for original, backup in reversed(self._backups):
                original.parent.mkdir(parents=True, exist_ok=True)
                os.replace(backup, original)
            shutil.rmtree(self.root, ignore_errors=True)
        finally:
            os.close(self._journal)

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
            claims=self.claims, rank=rank,
        )
        try:
            with contextlib.ExitStack() as stack:
                source = (UnpackedWheel(wheel) if wheel.is_dir()
                          else stack.enter_context(WheelFile.open(wheel)))
                installer_install(source, destination, _extra_metadata(action.new))
        except Exception as exc:
            exc.warmbuild_dist = f"{action.name} ({wheel.name})"  # type: ignore[attr-defined]
            raise ValueError(f"{wheel.name}: {exc}") from exc
        return stage_dir

    def _backup(self, path: Path) -> None:
        backup = self.root / "backup" / str(len(self._backups))
        backup.parent.mkdir(exist_ok=True)
        self._log("backup", path, backup)
        os.replace(path, backup)
        self._backups.append((path, backup))
        self._emptied.add(path.parent)

    def remove_dist(self, dist: InstalledDist) -> None:
        paths = dist.record_paths()
        if paths is None:
            raise InstallError(
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

    def place(self) -> None:
        """Move the staged tree into place; whole new directories go in one rename."""
        stage_dir = self.root / "stage"
        for dirpath, dirnames, filenames in os.walk(stage_dir):
            final_dir = Path("/") / Path(dirpath).relative_to(stage_dir)
            keep = []
            for name in dirnames:
                final = final_dir / name
                if final.exists() or final.is_symlink():
                    keep.append(name)
                else:
                    self._move(Path(dirpath) / name, final)
            dirnames[:] = keep
            for name in filenames:
                final = final_dir / name
                if final.exists() or final.is_symlink():
                    self._backup(final)
                self._move(Path(dirpath) / name, final)

    def _move(self, staged: Path, final: Path) -> None:
        missing = [p for p in (final.parent, *final.parent.parents) if not p.exists()]
        if missing:
            self._log("placed", missing[-1])
            final.parent.mkdir(parents=True)
            self._placed.append(missing[-1])
        else:
            self._log("placed", final)
        os.replace(staged, final)
        if not missing:
            self._placed.append(final)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


@contextlib.contextmanager
def locked(prefix: Path) -> Iterator[None]:
    """One warmbuild at a time changes an environment; a second one waits, saying so.

    The lock is taken on the prefix directory itself, so that locking leaves no file in
    an environment that a failed command must leave as it was.
    """
    fd = os.open(prefix, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            logger.warning("Waiting for another warmbuild changing %s", prefix)
            fcntl.flock(fd, fcntl.LOCK_EX)
        recover(prefix)
        yield
    finally:
        os.close(fd)


def recover(prefix: Path) -> int:
    """Roll back transactions whose process died (the journal's lock is free); a committed
    one is only cleaned up. Returns how many were found."""
    found = 0
    for root in sorted(prefix.glob(".warmbuild-tx-*")):
        journal = root / _JOURNAL
        try:
            fd = os.open(journal, os.O_RDONLY)
        except FileNotFoundError:
            shutil.rmtree(root, ignore_errors=True)  # killed before it moved anything
            continue
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # another warmbuild is installing into this prefix right now
            entries, problem = _read_journal(root, prefix)
            if problem:
                # Acting on a journal we cannot trust could move files anywhere: keep it,
                # out of the way, for a human to look at.
                kept = root.with_name(root.name.replace(".warmbuild-tx-", ".warmbuild-damaged-"))
                os.replace(root, kept)
                logger.warning(
                    "warning: an interrupted install into %s left a journal warmbuild cannot "
                    "trust (%s); nothing was rolled back, and its backups are kept in %s: "
                    "check the environment (e.g. `pip check`)", prefix, problem, kept)
                continue
            if entries and ["commit"] not in entries:
                for entry in reversed(entries):
                    if entry[0] == "placed":
                        _remove(Path(entry[1]))
                    elif entry[0] == "backup" and os.path.lexists(entry[2]):
                        Path(entry[1]).parent.mkdir(parents=True, exist_ok=True)
                        os.replace(entry[2], entry[1])
                logger.warning("Rolled back an interrupted install into %s", prefix)
            shutil.rmtree(root, ignore_errors=True)
            found += 1
        finally:
            os.close(fd)
    return found


def _read_journal(root: Path, prefix: Path) -> tuple[list[list[str]], str]:
    """The journal's entries, or what makes it untrustworthy."""
    try:
        lines = (root / _JOURNAL).read_bytes().decode("utf-8").split("\n")
    except (OSError, UnicodeDecodeError) as exc:
        return [], f"unreadable: {exc}"
    entries: list[list[str]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            if number == len(lines):  # cut short by the kill, before its move was made
                break
            return [], f"line {number} is not JSON"
        if not _valid_entry(entry, root, prefix):
            return [], f"line {number} is not a move inside {prefix}"
        entries.append(entry)
    return entries, ""


def _valid_entry(entry: object, root: Path, prefix: Path) -> bool:
    if not isinstance(entry, list) or not all(isinstance(e, str) for e in entry):
        return False
    match entry:
        case ["commit"]:
            return True
        case ["placed", path]:
            return _inside(path, prefix)
        case ["backup", path, backup]:
            return _inside(path, prefix) and _inside(backup, root)
    return False


def _inside(path: str, directory: Path) -> bool:
    return os.path.isabs(path) and Path(os.path.normpath(path)).is_relative_to(directory)


def _remove_empty_parents(directory: Path) -> None:
    while directory.name not in ("site-packages", "bin", "") and directory.is_dir():
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
    if dist.file is not None and dist.file.kind == "tree":
        info_tree = {"url": dist.direct_url or dist.file.url,
                     "dir_info": {"editable": True} if dist.editable else {}}
        extra["direct_url.json"] = json.dumps(info_tree, sort_keys=True).encode()
    elif dist.direct_url is not None:
        info: dict[str, object] = {"url": dist.direct_url, "archive_info": {}}
        known = dict(dist.file.hashes) if dist.file is not None else {}
        known.update(dict(dist.required_hashes))
        if known:
            algo, digest = next(iter(sorted(known.items())))
            info["archive_info"] = {"hash": f"{algo}={digest}", "hashes": known}
        extra["direct_url.json"] = json.dumps(info, sort_keys=True).encode()
    return extra


def _compile(target: Target) -> None:
    # Compiled by the target itself: bytecode is specific to its Python version. What is
    # already compiled is skipped by compileall, so the whole site dir costs little more.
    dirs = [str(p) for p in target.site_dirs]
    subprocess.run([str(target.executable), "-m", "compileall", "-q", "-j0", *dirs],
                   check=False, capture_output=True)
