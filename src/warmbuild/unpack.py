"""Unpacked wheels in the cache, placed into environments file by file (uv's approach).

A wheel is extracted once into ``archive-v1/<sha256>/``, checked by :mod:`wheelcheck` on
the way, with the hash and size of every file computed while extracting (so the RECORD we
write is our own, not the wheel's word). Installing it (:mod:`stage`) then places each
file instead of decompressing and hashing it again, by the link mode (``--link-mode``, uv's
names): ``clone``, the default, makes copy-on-write clones (``FICLONE``) where the
filesystem can and copies where it cannot; ``copy`` copies; ``hardlink`` links (uv's
default on Linux), so an installed file shares its inode with the cache, and an in-place
edit of it edits every environment linked to it (the next run notices the cached copy
changed and unpacks it again, but the other environments keep the edit). Scripts whose
shebang must be rewritten are always written.

The directory's index of files is sealed with its own checksum and records each file's
stamp (size, mtime) as unpacked (:mod:`sealed`), and the version of the rules the wheel was
checked by. Before an unpacked wheel is used, the index is checked and every file stat'ed:
a truncated index, a deleted, truncated or modified file means the copy is damaged, and it
is unpacked again from the wheel; a copy checked by older rules is unpacked (and checked)
again quietly.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import sealed
from ._log import logger
from .cache import Cache
from .errors import WarmbuildError

if TYPE_CHECKING:
    pass

INDEX = ".warmbuild-files.json"
#: The version of :mod:`wheelcheck`'s rules, recorded in the index as ``checked``: a copy
#: checked by older rules (or none) is unpacked, and so checked, again.
_RULES = 1


def unpack(cache: Cache, wheel: Path, sha256: str) -> Path:
    """The directory holding ``wheel`` unpacked and checked; extracted on first use, then
    reused without checking the wheel again."""
    bucket = cache.bucket("archive-v1")
    dest = bucket / sha256
    if damage(dest) is None:
        return dest
    with cache.lock(dest):
        problem = damage(dest)
        if problem is None:
            return dest
        if problem not in (_ABSENT, _OLDER, _UNCHECKED):
            logger.warning("warning: the unpacked copy of %s in the cache was damaged (%s: "
                           "%s); unpacking it again", wheel.name, dest, problem)
        if problem not in (_ABSENT, _OLDER):
            # The fetcher trusted the wheel file because this copy's index was intact.
            _check_wheel(wheel, sha256)
        tmp = Path(tempfile.mkdtemp(dir=bucket, prefix=".unpack-"))
        try:
            _unpack(wheel, tmp)
            if dest.exists():  # left half-made by a process that was killed
                shutil.rmtree(dest)
            os.replace(tmp, dest)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return dest


def unpack_into(wheel: Path, root: Path) -> Path:
    """``wheel`` unpacked and checked into the new directory ``root``: for wheels that are
    not kept in the cache (local files, fresh builds), so that they pass the same checks."""
    root.mkdir(parents=True)
    _unpack(wheel, root)
    return root


def _unpack(wheel: Path, root: Path) -> None:
    from . import wheelcheck  # a warm install extracts nothing

    files = wheelcheck.extract(wheel, root).files
    (root / INDEX).write_bytes(sealed.dump(
        {"files": files, "stamps": sealed.stamps(root, files), "checked": _RULES}))


#: What :func:`damage` says of a directory that was never unpacked, or was unpacked by an
#: earlier warmbuild, whose index was plain JSON without stamps, or whose wheel was not
#: checked by the current rules: all are (re)made quietly.
_ABSENT = "not unpacked"
_OLDER = "unpacked by an earlier warmbuild"
_UNCHECKED = "checked by older rules"


def damage(dest: Path) -> str | None:
    """What is wrong with the unpacked wheel ``dest`` (``_ABSENT`` if there is none), or
    ``None`` when every file is as it was unpacked: one ``stat`` per file."""
    try:
        raw = (dest / INDEX).read_bytes()
    except FileNotFoundError:
        return _ABSENT
    except OSError as exc:
        return f"{INDEX} is unreadable ({exc.strerror})"
    index = sealed.load(raw)
    if not isinstance(index, dict) or not isinstance(index.get("stamps"), dict):
        return _OLDER if _is_json(raw) else \
            f"{INDEX} is not as written (truncated or overwritten)"
    if index.get("checked") != _RULES:
        return _UNCHECKED
    return sealed.changed(dest, index["stamps"])


def _is_json(raw: bytes) -> bool:
    try:
        json.loads(raw)
    except ValueError:
        return False
    return True


def has_index(cache: Cache, sha256: str) -> bool:
    """Whether the wheel with this hash is unpacked in the cache with an intact index: then
    :func:`unpack` uses that copy, or repairs it from the wheel after checking the wheel,
    so the fetcher need not hash the wheel file. Cheap: one small file read, no ``stat``
    of the unpacked files (which :func:`unpack` does)."""
    try:
        index = sealed.load((cache.bucket("archive-v1") / sha256 / INDEX).read_bytes())
    except OSError:
        return False
    return isinstance(index, dict)


def _check_wheel(wheel: Path, sha256: str) -> None:
    with wheel.open("rb") as f:
        got = hashlib.file_digest(f, "sha256").hexdigest()
    if got != sha256:
        wheel.unlink(missing_ok=True)
        raise WarmbuildError(
            f"the cached {wheel.name} is damaged too, so its unpacked copy cannot be made "
            "again", cause=f"{wheel}: its sha256 is {got}, but it was stored as {sha256}",
            hint="it was removed: run the command again (online) to download it again, or "
                 "clear the cache with `warmbuild cache clean`")


def read_index(root: Path) -> dict[str, Any] | None:
    index = sealed.load((root / INDEX).read_bytes())
    return index if isinstance(index, dict) else None
