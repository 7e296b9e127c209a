"""Putting one cached file into an environment by the link mode: a copy-on-write clone, a
copy, or a hard link (``--link-mode``; see ``unpack``)."""

from __future__ import annotations

import errno
import os
import shutil
from typing import BinaryIO

_FICLONE = 0x40049409  # linux/fs.h: _IOW(0x94, 9, int)
#: Cleared the first time a clone is refused: the cache's filesystem cannot, so copy.
_can_clone = [hasattr(os, "O_EXCL") and os.name == "posix"]


def place(src: str, dst: str, mode: str) -> None:
    """Make a new file ``dst`` hold ``src``'s content; never writes through an existing one."""
    if mode == "hardlink":
        try:
            os.link(src, dst)
            return
        except OSError as exc:
            if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK):
                raise
    with open(src, "rb") as source:
        # "x": a file that exists (perhaps a link into the cache) is replaced by the caller,
        # never opened for writing.
        with open(dst, "xb") as out:
            try:
                if not (mode == "clone" and _clone(source.fileno(), out.fileno())):
                    _copy(source, out)
            except OSError as exc:
                # sendfile and the ioctl name no file: a full disk must name where it is.
                raise OSError(exc.errno, exc.strerror, dst) from exc
        os.chmod(dst, os.fstat(source.fileno()).st_mode & 0o7777)


def _clone(src: int, dst: int) -> bool:
    if not _can_clone[0]:
        return False
    import fcntl

    try:
        fcntl.ioctl(dst, _FICLONE, src)
        return True
    except OSError as exc:
        if exc.errno in (errno.EOPNOTSUPP, errno.ENOTTY, errno.EXDEV, errno.EINVAL,
                         errno.ENOSYS, errno.EBADF):
            _can_clone[0] = False
            return False
        raise


def _copy(source: BinaryIO, out: BinaryIO) -> None:
    """In the kernel where it can (sendfile), else through a buffer."""
    src, dst = source.fileno(), out.fileno()
    size, offset = os.fstat(src).st_size, 0
    try:
        while offset < size:
            sent = os.sendfile(dst, src, offset, size - offset)
            if sent == 0:
                break
            offset += sent
    except OSError as exc:
        if exc.errno not in (errno.EINVAL, errno.ENOSYS) or offset:
            raise
        source.seek(0)
        shutil.copyfileobj(source, out)
