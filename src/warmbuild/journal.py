"""The transaction journal: every move an install makes, written down before it is made.

A transaction (:mod:`install`) appends one JSON line per move to ``<tx dir>/journal`` and
holds a lock on that file while its process lives. The next warmbuild to change the
environment (:func:`locked`) finds journals whose lock is free, which only a process that
died leaves behind, and undoes what they record unless they end in a commit.

Paths are written resolved (the environment's real path, whatever spelling of it the
command was given, e.g. a symlink to the venv), and recovery resolves the environment too,
so a kill through one spelling is rolled back by a run through another.

A journal is followed only when every line is a move inside the environment (a backup:
into its transaction dir); anything else is set aside for a human, never acted on, and
until that human removes it every command that would change the environment fails saying
so: it may be damaged, and a reported success over it would hide that. Parsing
(:func:`parse`) takes the journal's bytes and touches no file.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from ._log import logger
from .errors import WarmbuildError

#: The journal's file name in a transaction dir.
JOURNAL = "journal"
#: Transaction dirs in a prefix are named ``<TX_PREFIX>XXXXXXXX``.
TX_PREFIX = ".warmbuild-tx-"
#: A dead transaction whose journal could not be trusted, kept for a human.
DAMAGED_PREFIX = ".warmbuild-damaged-"
#: In a damaged transaction dir: why its journal was not followed.
_WHY = "why"


@dataclass(frozen=True)
class Placed:
    """A new file or directory moved into place; undone by removing it."""

    path: Path


@dataclass(frozen=True)
class Backup:
    """An existing path moved aside into the transaction dir; undone by moving it back."""

    path: Path
    backup: Path


@dataclass(frozen=True)
class Commit:
    """Every move was made; nothing is undone."""


Entry = Placed | Backup | Commit


def encode(entry: Entry) -> bytes:
    """One journal line."""
    if isinstance(entry, Placed):
        fields = ["placed", str(entry.path)]
    elif isinstance(entry, Backup):
        fields = ["backup", str(entry.path), str(entry.backup)]
    else:
        fields = ["commit"]
    return (json.dumps(fields) + "\n").encode()


class Journal:
    """The writing side, locked until closed so that recovery leaves it alone.

    ``prefix`` is the environment as the command spelled it; entries are written with its
    real path instead.
    """

    def __init__(self, root: Path, prefix: Path) -> None:
        self._fd = os.open(root / JOURNAL, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        self._spelled = str(prefix)
        self._real = os.path.realpath(prefix)

    def write(self, entry: Entry) -> None:
        if isinstance(entry, Placed):
            entry = Placed(self._resolved(entry.path))
        elif isinstance(entry, Backup):
            entry = Backup(self._resolved(entry.path), self._resolved(entry.backup))
        # Unbuffered: what the kernel has survives the process being killed.
        os.write(self._fd, encode(entry))

    def _resolved(self, path: Path) -> Path:
        """``path`` through the prefix's real path; the path itself is not resolved, since
        it may be a symlink that is moved."""
        text = str(path)
        if text.startswith(self._spelled + os.sep):
            return Path(self._real + text[len(self._spelled):])
        if text.startswith(self._real + os.sep):
            return path
        # Spelled through another link (rare): resolve its directory, once per entry.
        return Path(os.path.realpath(path.parent)) / path.name

    def close(self) -> None:
        os.close(self._fd)


@dataclass(frozen=True)
class Parsed:
    entries: tuple[Entry, ...] = ()
    #: What makes the journal untrustworthy; ``entries`` is empty when this is set.
    problem: str = ""

    @property
    def committed(self) -> bool:
        return Commit() in self.entries


def parse(data: bytes, root: Path, prefix: Path) -> Parsed:
    """The entries of the journal of transaction dir ``root`` in ``prefix``, or its problem."""
    try:
        lines = data.decode("utf-8").split("\n")
    except UnicodeDecodeError as exc:
        return Parsed(problem=f"unreadable: {exc}")
    entries: list[Entry] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            fields = json.loads(line)
        except ValueError:
            if number == len(lines):  # cut short by the kill, before its move was made
                break
            return Parsed(problem=f"line {number} is not JSON")
        entry = _entry(fields, root, prefix)
        if entry is None:
            return Parsed(problem=f"line {number} is not a move inside {prefix}")
        entries.append(entry)
    return Parsed(tuple(entries))


def _entry(fields: object, root: Path, prefix: Path) -> Entry | None:
    if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
        return None
    match fields:
        case ["commit"]:
            return Commit()
        case ["placed", path] if _inside(path, prefix):
            return Placed(Path(path))
        case ["backup", path, backup] if _inside(path, prefix) and _inside(backup, root):
            return Backup(Path(path), Path(backup))
    return None


def _inside(path: str, directory: Path) -> bool:
    return os.path.isabs(path) and Path(os.path.normpath(path)).is_relative_to(directory)


def read(root: Path, prefix: Path) -> Parsed:
    try:
        data = (root / JOURNAL).read_bytes()
    except OSError as exc:
        return Parsed(problem=f"unreadable: {exc}")
    return parse(data, root, prefix)


def undo(entries: Sequence[Entry]) -> None:
    """Put back what a transaction that did not commit moved, last move first."""
    for entry in reversed(entries):
        if isinstance(entry, Placed):
            remove_path(entry.path)
        elif isinstance(entry, Backup) and os.path.lexists(entry.backup):
            entry.path.parent.mkdir(parents=True, exist_ok=True)
            os.replace(entry.backup, entry.path)


def remove_path(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


@contextlib.contextmanager
def locked(prefix: Path) -> Iterator[None]:
    """One warmbuild at a time changes an environment; a second one waits, saying so.

    The lock is taken on the prefix directory itself (its real path: one lock whatever the
    spelling), so that locking leaves no file in an environment that a failed command must
    leave as it was.
    """
    fd = os.open(os.path.realpath(prefix), os.O_RDONLY)
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
    one is only cleaned up. Returns how many were found; WarmbuildError when a journal that
    cannot be trusted was found now or earlier (the environment may be damaged)."""
    prefix = Path(os.path.realpath(prefix))
    found = 0
    for root in sorted(prefix.glob(f"{TX_PREFIX}*")):
        try:
            fd = os.open(root / JOURNAL, os.O_RDONLY)
        except FileNotFoundError:
            shutil.rmtree(root, ignore_errors=True)  # killed before it moved anything
            continue
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # another warmbuild is installing into this prefix right now
            found += _recover_one(root, prefix)
        finally:
            os.close(fd)
    damaged = sorted(prefix.glob(f"{DAMAGED_PREFIX}*"))
    if damaged:
        raise _damaged(prefix, damaged[0])
    return found


def _recover_one(root: Path, prefix: Path) -> bool:
    """Undo or clean up one dead transaction; False when its journal had to be set aside."""
    parsed = read(root, prefix)
    if parsed.problem:
        # Acting on a journal we cannot trust could move files anywhere: keep it, out of
        # the way, for a human to look at (recover then refuses to go on).
        kept = root.with_name(root.name.replace(TX_PREFIX, DAMAGED_PREFIX))
        os.replace(root, kept)
        with contextlib.suppress(OSError):
            (kept / _WHY).write_text(parsed.problem + "\n")
        return False
    if parsed.entries and not parsed.committed:
        undo(parsed.entries)
        logger.warning("Rolled back an interrupted install into %s", prefix)
    shutil.rmtree(root, ignore_errors=True)
    return True


def _damaged(prefix: Path, kept: Path) -> WarmbuildError:
    try:
        why = (kept / _WHY).read_text().strip()
    except OSError:
        why = "set aside by an earlier warmbuild"
    try:
        names = touched((kept / JOURNAL).read_bytes())
    except OSError:
        names = []
    reinstall = (f"`warmbuild install --python {prefix} --reinstall {' '.join(names)}`"
                 if names else "what it touched with `warmbuild install --reinstall`")
    return WarmbuildError(
        f"an interrupted install into {prefix} left a journal warmbuild cannot trust "
        f"({why}); nothing was rolled back, so the environment may be damaged, and "
        "warmbuild will not change it until you have checked it",
        cause=(f"the journal names the .dist-info of: {', '.join(names)}" if names else
               "the journal names no .dist-info") + f"; it and its backups are in {kept}",
        hint=f"remove {kept}, then reinstall {reinstall}, or recreate the environment")


_DIST_INFO = re.compile(r"(?<![\w.-])(\w[\w.-]*?)-[^/\\\"-]+\.dist-info(?=[/\"])", re.ASCII)


def touched(data: bytes) -> list[str]:
    """The distributions whose ``.dist-info`` a journal names, read as loosely as it takes:
    the journal is one that could not be trusted."""
    return sorted({m.group(1) for m in _DIST_INFO.finditer(data.decode("utf-8", "replace"))})
