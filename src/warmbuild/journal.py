"""The transaction journal: every move an install makes, written down before it is made.

A transaction (:mod:`install`) appends one JSON line per move to ``<tx dir>/journal`` and
holds a lock on that file while its process lives. The next warmbuild to change the
environment (:func:`locked`) finds journals whose lock is free, which only a process that
died leaves behind, and undoes what they record unless they end in a commit.

A journal is followed only when every line is a move inside the environment (a backup:
into its transaction dir); anything else is set aside for a human, never acted on. Parsing
(:func:`parse`) takes the journal's bytes and touches no file.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from ._log import logger

#: The journal's file name in a transaction dir.
JOURNAL = "journal"
#: Transaction dirs in a prefix are named ``<TX_PREFIX>XXXXXXXX``.
TX_PREFIX = ".warmbuild-tx-"


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
    """The writing side, locked until closed so that recovery leaves it alone."""

    def __init__(self, root: Path) -> None:
        self._fd = os.open(root / JOURNAL, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def write(self, entry: Entry) -> None:
        # Unbuffered: what the kernel has survives the process being killed.
        os.write(self._fd, encode(entry))

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
    return found


def _recover_one(root: Path, prefix: Path) -> bool:
    """Undo or clean up one dead transaction; False when its journal had to be set aside."""
    parsed = read(root, prefix)
    if parsed.problem:
        # Acting on a journal we cannot trust could move files anywhere: keep it, out of
        # the way, for a human to look at.
        kept = root.with_name(root.name.replace(TX_PREFIX, ".warmbuild-damaged-"))
        os.replace(root, kept)
        logger.warning(
            "warning: an interrupted install into %s left a journal warmbuild cannot "
            "trust (%s); nothing was rolled back, and its backups are kept in %s: "
            "check the environment (e.g. `pip check`)", prefix, parsed.problem, kept)
        return False
    if parsed.entries and not parsed.committed:
        undo(parsed.entries)
        logger.warning("Rolled back an interrupted install into %s", prefix)
    shutil.rmtree(root, ignore_errors=True)
    return True
