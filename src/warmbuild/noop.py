"""No-op installs remembered, so that the same command in an unchanged state answers at once.

An ``install`` that found every requirement satisfied (:mod:`satisfied`) writes down what
that answer rested on: the command (its parsed options, the working directory, the
environment variables), and a stamp (mtime, size, inode; or absence) of every file it read
or looked for: requirement and constraint files, pip's and warmbuild's config files, the
target interpreter, its site directories, and the metadata of each distribution checked.
The next identical command stats those files; when every stamp is the same, it prints the
same answer without importing the requirement parser or reading any metadata. Anything
else (a file edited, a package installed or removed by any tool, another option or
variable) changes a stamp or the key, and the full check runs, and records again.

Like git's index, a record is not written when a file it rests on changed in the last two
seconds: a second change within the same timestamp tick would leave the same stamp.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

BUCKET = "noop-v1"
_RACY_NS = 2_000_000_000
#: Records kept: a CI job's variables (its run number...) make every run a new command, and
#: a cache kept between runs must not fill up with their records. The oldest go first.
MAX_RECORDS = 256
#: Variables a shell changes between two identical commands; none can change an answer.
_SHELL_NOISE = frozenset({"OLDPWD", "PWD", "SHLVL", "_", "COLUMNS", "LINES", "TERM_SESSION_ID",
                          "WINDOWID", "SSH_CLIENT", "SSH_CONNECTION", "SSH_TTY"})

Stamp = list[int] | None


def command_key(options: Mapping[str, object], cwd: Path,
                environ: Mapping[str, str], version: str) -> str:
    """A digest of everything of a command, other than files, that its answer may depend
    on. Only the digest is stored: variables and index URLs may hold credentials."""
    import hashlib

    env = sorted((k, v) for k, v in environ.items() if k not in _SHELL_NOISE)
    text = json.dumps([version, sorted(options.items()), str(cwd), env], default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _stamp(path: Path) -> Stamp:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_mtime_ns, st.st_size, st.st_ino]


def _record_path(root: Path, key: str) -> Path:
    return root / BUCKET / f"{key[:32]}.json"


def answer(root: Path, key: str) -> list[str] | None:
    """The recorded answer's lines when the record of ``key`` still holds, else ``None``."""
    where = _record_path(root, key)
    try:
        record = json.loads(where.read_bytes())
        if record["key"] != key:
            return None
        for path, stamp in record["stamps"]:
            if _stamp(Path(path)) != stamp:
                return None
        lines: list[str] = record["lines"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    with contextlib.suppress(OSError):  # a read-only cache still answers
        os.utime(where)  # used: the last to be trimmed
    return lines


def remember(root: Path, key: str, inputs: Iterable[Path], lines: Sequence[str],
             started_ns: int) -> bool:
    """Write the record of a no-op; ``False`` when an input changed too recently to trust a
    stamp of it (``started_ns``: when the command started, :func:`time.time_ns`), or the
    cache cannot be written."""
    stamps = [(str(path), _stamp(path)) for path in dict.fromkeys(inputs)]
    if any(s is not None and s[0] > started_ns - _RACY_NS for _, s in stamps):
        return False
    from .cache import atomic_write

    try:
        atomic_write(_record_path(root, key),
                     json.dumps({"key": key, "stamps": stamps, "lines": list(lines)}).encode())
    except OSError:  # a read-only or full cache: the next run checks again, that is all
        return False
    _trim(root / BUCKET)
    return True


def _trim(bucket: Path) -> None:
    try:
        records = list(os.scandir(bucket))
        if len(records) <= MAX_RECORDS:
            return
        records.sort(key=lambda e: e.stat().st_mtime_ns)
        for entry in records[:len(records) - MAX_RECORDS // 2]:
            os.unlink(entry.path)
    except OSError:
        pass  # another run trimmed it first
