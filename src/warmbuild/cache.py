"""The cache root and its versioned buckets.

Each bucket's name carries a version (``wheels-v1``) so that a change of layout starts a
new bucket instead of misreading an old one. Entries shared between processes are written
to a temporary name and renamed into place, and guarded by a :class:`filelock.FileLock`
where two writers could race.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import fcntl
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ._log import logger
from .errors import WarmbuildError

if TYPE_CHECKING:
    import filelock

#: Buckets and what they hold; ``cache dir``/``clean``/``prune`` know them by this list.
BUCKETS = {
    "wheels-v1": "wheels by sha256, as downloaded or built",
    "http-v1": "index pages and metadata files with their validators",
    "metadata-v1": "METADATA of remote wheels read with range requests, by sha256",
    "interpreters-v1": "target interpreter queries by path and mtime",
    "archive-v1": "unpacked wheels by sha256, installed by hard links",
    "built-v1": "wheels built from sdists, by sdist sha256, interpreter and settings",
    "envs-v1": "persistent build environments",
    "git-v1": "git repositories by URL (bare) and their checkouts by commit",
    "logs-v1": "backend logs of builds without isolation (with it, they are in the env)",
    "noop-v1": "no-op installs: what each answer rested on, to answer it again",
}


#: The lock in the cache root (see the module's docstring). Never removed: a process
#: waiting on a removed lock file would hold a lock nobody else can see.
ROOT_LOCK = ".warmbuild-cache.lock"

_BUCKET_NAME = re.compile(r"[a-z]+-v[0-9]+(\.lock)?")


def is_bucket_name(name: str) -> bool:
    """A bucket of this or an older layout (``wheels-v0``), or its lock file."""
    return _BUCKET_NAME.fullmatch(name) is not None


@dataclass(frozen=True)
class Cache:
    root: Path

    def bucket(self, name: str) -> Path:
        if name not in BUCKETS:
            raise ValueError(f"unknown cache bucket {name!r}")
        path = self.root / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def lock(self, path: Path) -> filelock.FileLock:
        """A lock for one entry, kept beside it (``<entry>.lock``)."""
        import filelock

        path.parent.mkdir(parents=True, exist_ok=True)
        return filelock.FileLock(str(path) + ".lock")


def default_cache_root() -> Path:
    env = os.environ.get("WARMBUILD_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("warmbuild", appauthor=False))


def open_cache(cache_dir: Path | None = None, *, no_cache: bool = False) -> Cache:
    if no_cache:
        import shutil
        import tempfile

        root = Path(tempfile.mkdtemp(prefix="warmbuild-cache-"))
        atexit.register(shutil.rmtree, root, ignore_errors=True)
        return Cache(root)
    root = (cache_dir or default_cache_root()).expanduser().absolute()
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WarmbuildError(f"cannot use {root} as the cache directory: "
                             f"{exc.strerror or exc}",
                             hint="point --cache-dir or WARMBUILD_CACHE_DIR at a directory "
                                  "warmbuild can create and write") from exc
    return Cache(root)


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old or the new file, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    import tempfile  # a run that writes nothing to the cache (a no-op install) never needs it

    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def hold(root: Path, *, exclusive: bool = False) -> Iterator[None]:
    """Hold the cache root's lock: shared to use the cache, ``exclusive`` to remove from it."""
    fd = _open_lock(root / ROOT_LOCK)
    if fd is None:  # a read-only cache: nobody can clean it either
        yield
        return
    mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
    try:
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            if exclusive:
                logger.warning("The cache at %s is in use; waiting for the other warmbuild "
                               "processes using it to finish", root)
            else:
                logger.warning("Waiting for `warmbuild cache clean` (or `prune`) to finish "
                               "with the cache at %s", root)
            fcntl.flock(fd, mode)
        yield
    finally:
        os.close(fd)


def _open_lock(path: Path) -> int | None:
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as exc:
        if exc.errno not in (errno.EROFS, errno.EACCES, errno.EPERM):
            raise
    try:  # an existing lock can be held through a read-only descriptor
        return os.open(path, os.O_RDONLY)
    except OSError:
        return None
