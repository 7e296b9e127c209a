"""A remote wheel's METADATA without downloading the wheel: HTTP range requests for the zip's
central directory and then the one member (pip's lazy wheel and uv do the same).

Used when the index offers no PEP 658 metadata file. ``zipfile`` does the parsing (zip64
included) over a file object whose reads become range requests; the end of the file, where
the central directory is, is fetched in one request up front.
"""

from __future__ import annotations

import io
import zipfile

from .errors import WarmbuildError
from .http import HttpClient

#: The end of the file read up front: the central directory of most wheels fits.
_TAIL = 64 * 1024
#: A member larger than this is not metadata anyone would read this way.
_MAX_METADATA = 4 * 1024 * 1024


class _Unsupported(Exception):
    """The server does not answer range requests."""


class _RangeFile(io.RawIOBase):
    """A read-only, seekable view of a remote file; reads fetch only what is not held yet."""

    def __init__(self, client: HttpClient, url: str) -> None:
        self._client, self._url = client, url
        first = client.get_range(url, f"-{_TAIL}")
        if first is None:
            raise _Unsupported
        tail, self._size = first
        self._chunks: list[tuple[int, bytes]] = [(self._size - len(tail), tail)]
        self._pos = 0

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def read(self, size: int = -1) -> bytes:
        end = self._size if size < 0 else min(self._size, self._pos + size)
        if end <= self._pos:
            return b""
        data = self._held(self._pos, end)
        if data is None:
            got = self._client.get_range(self._url, f"{self._pos}-{end - 1}")
            if got is None:
                raise _Unsupported
            data = got[0][: end - self._pos]
            self._chunks.append((self._pos, data))
        self._pos += len(data)
        return data

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def _held(self, start: int, end: int) -> bytes | None:
        for offset, chunk in self._chunks:
            if offset <= start and end <= offset + len(chunk):
                return chunk[start - offset: end - offset]
        return None


def remote_metadata(client: HttpClient, url: str) -> bytes | None:
    """The ``*.dist-info/METADATA`` of the wheel at ``url``, or ``None`` when the server does
    not do ranges or the archive is not a readable wheel (the caller then downloads it and
    reports what is wrong with it)."""
    try:
        with zipfile.ZipFile(_RangeFile(client, url)) as zf:
            info = next((i for i in zf.infolist() if i.filename.count("/") == 1
                         and i.filename.endswith(".dist-info/METADATA")), None)
            if info is None or info.file_size > _MAX_METADATA:
                return None
            return zf.read(info)
    except (_Unsupported, zipfile.BadZipFile, ValueError, EOFError, NotImplementedError,
            KeyError, OSError, WarmbuildError):
        # The full download that follows gives the definitive answer (or error).
        return None
