"""What `cache clean` and `cache prune` remove from a cache root, and removing it.

Only warmbuild's own buckets go (a mistyped ``--cache-dir`` must not empty a directory of
the user's); prune takes only what interrupted runs leave behind; build envs that editable
installs still use survive a clean unless forced. Both hold the cache root's lock
exclusively (:func:`cache.hold`): they wait, saying so, for running installs to finish, and
installs that start meanwhile wait for them. Not in :mod:`cache`, which every stage
imports: keeping envs needs :mod:`envs`, and that imports :mod:`cache`.
"""

from __future__ import annotations

import errno
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .cache import BUCKETS, ROOT_LOCK, hold, is_bucket_name, open_cache
from .envs import Removal, all_envs, remove
from .errors import WarmbuildError

#: ``foreign``: not made by warmbuild, left alone. ``prune``: only temporary files go.
#: ``envs``: the build envs, removed one by one so that those in use can stay.
#: ``remove``: the whole entry goes. ``keep``: the root's lock, which cleaning holds.
Fate = Literal["foreign", "prune", "envs", "remove", "keep"]


def fate(name: str, *, prune: bool, force: bool = False) -> Fate:
    """What cleaning (or, with ``prune``, pruning) does with the cache root's entry ``name``."""
    if name == ROOT_LOCK:
        return "keep"
    if not is_bucket_name(name):
        return "foreign"
    if prune and name in BUCKETS:
        return "prune"
    if name == "envs-v1" and not force:
        return "envs"
    # An older layout's bucket (wheels-v0) or a lock file: nothing reads it any more.
    return "remove"


def is_temporary(name: str) -> bool:
    """Left by an interrupted download or write; nothing else in a bucket is stale."""
    return name.startswith(".download-") or name.endswith(".tmp")


@dataclass(frozen=True)
class Cleaned:
    #: How many files went.
    removed: int
    #: Build envs that stayed, and why.
    kept: tuple[Removal, ...]
    #: Entries of the root that warmbuild did not make, left as they were.
    foreign: tuple[str, ...]


def clean(root: Path, *, prune: bool, force: bool = False) -> Cleaned:
    """Clean (or prune) the cache at ``root``, an existing directory, once no other
    warmbuild uses it."""
    if not any(is_bucket_name(e.name) for e in root.iterdir()):
        # Not (yet) a warmbuild cache, maybe a mistyped --cache-dir: no lock file is left
        # in it, and there is nothing of ours to remove.
        return _clean(root, prune=prune, force=force)
    with hold(root, exclusive=True):
        return _clean(root, prune=prune, force=force)


def _clean(root: Path, *, prune: bool, force: bool) -> Cleaned:
    removed = 0
    kept: list[Removal] = []
    foreign: list[str] = []
    for entry in sorted(root.iterdir()):
        what = fate(entry.name, prune=prune, force=force)
        if what == "keep":
            continue
        if what == "foreign":
            foreign.append(entry.name)
            continue
        if what == "prune":
            removed += _prune_bucket(entry)
            continue
        if what == "envs":
            stayed = [r for r in remove(all_envs(open_cache(root)), force=False)
                      if not r.removed]
            kept += stayed
            if stayed:
                continue
        removed += _remove_entry(entry)
    return Cleaned(removed, tuple(kept), tuple(foreign))


def _prune_bucket(bucket: Path) -> int:
    removed = 0
    for path in bucket.rglob("*"):
        if path.is_file() and is_temporary(path.name):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def _remove_entry(entry: Path) -> int:
    removed = sum(1 for _ in entry.rglob("*")) if entry.is_dir() else 1
    if not entry.is_dir() or entry.is_symlink():
        entry.unlink(missing_ok=True)
        return removed
    # Under the exclusive lock no warmbuild writes here; one that predates the lock (or a
    # process outside warmbuild) still may. An entry that appears while its directory is
    # removed fails that with ENOTEMPTY, one that vanishes with ENOENT: take another pass.
    problem: OSError | None = None
    for attempt in range(3):
        try:
            shutil.rmtree(entry)
            return removed
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.ENOENT):
                raise
            if not entry.exists():
                return removed
            problem = exc
            time.sleep(0.1 * (attempt + 1))
    assert problem is not None
    raise WarmbuildError(f"cannot remove {entry} from the cache",
                         cause=f"{problem.strerror}: {problem.filename}",
                         hint="another process keeps writing into it; stop it and run "
                          "`warmbuild cache clean` again") from problem
