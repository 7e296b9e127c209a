"""Putting one cached file into an environment by the link mode: a copy-on-write clone, a
copy, or a hard link (``--link-mode``; see ``unpack``)."""

from __future__ import annotations

import errno
import os

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
    # Plain descriptors, a handful of system calls a file: a warm install places thousands.
    source = os.open(src, os.O_RDONLY)
    try:
        st = os.fstat(source)
        # O_EXCL: a file that exists (perhaps a link into the cache) is replaced by the
        # caller, never opened for writing. The mode comes with the create (less umask).
        out = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, st.st_mode & 0o777)
        try:
            if st.st_size and not (mode == "clone" and _clone(source, out)):
                _copy(source, out, st.st_size)
        except OSError as exc:
            # The kernel's copy names no file: a full disk must say where it is.
            raise OSError(exc.errno, exc.strerror, dst) from exc
        finally:
            os.close(out)
    finally:
        os.close(source)


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


def _copy(src: int, dst: int, size: int) -> None:
    """In the kernel (sendfile), else through a buffer."""
    offset = 0
    try:
        while offset < size:
            sent = os.sendfile(dst, src, offset, size - offset)
            if sent == 0:
                break
            offset += sent
        return
    except OSError as exc:
        if exc.errno not in (errno.EINVAL, errno.ENOSYS) or offset:
            raise
    while chunk := os.pread(src, 1 << 20, offset):
        offset += os.write(dst, chunk)
