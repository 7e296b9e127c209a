"""A remote wheel's METADATA without downloading the wheel: HTTP range requests for the zip's
central directory and then the one member (pip's lazy wheel and uv do the same).

Used when the index offers no PEP 658 metadata file. ``zipfile`` does the parsing (zip64
included) over a file object whose reads become range requests; the end of the file, where
the central directory is, is fetched in one request up front.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

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

    @property
    def size(self) -> int:
        return self._size

    def read_at(self, start: int, end: int) -> bytes:
        """Bytes ``start`` to ``end`` (clipped to the file), in one request when not held."""
        end = min(end, self._size)
        data = self._held(start, end)
        if data is None:
            got = self._client.get_range(self._url, f"{start}-{end - 1}")
            if got is None:
                raise _Unsupported
            data = got[0][: end - start]
            self._chunks.append((start, data))
        return data

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
        data = self.read_at(self._pos, end)
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
        remote = _RangeFile(client, url)
        try:
            return _from_directory(remote)
        except _Unusual:
            pass
        with zipfile.ZipFile(remote) as zf:
            info = next((i for i in zf.infolist() if i.filename.count("/") == 1
                         and i.filename.endswith(".dist-info/METADATA")), None)
            if info is None or info.file_size > _MAX_METADATA:
                return None
            return zf.read(info)
    except (_Unsupported, zipfile.BadZipFile, ValueError, EOFError, NotImplementedError,
            KeyError, OSError, WarmbuildError, zlib.error, struct.error):
        # The full download that follows gives the definitive answer (or error).
        return None


class _Unusual(Exception):
    """An archive :func:`_from_directory` leaves to ``zipfile``: zip64, encryption, a
    compression other than deflate, anything unexpected."""


_END = struct.Struct("<4s4H2IH")  # end of central directory record, 22 bytes
_ENTRY = struct.Struct("<4s6H3I5H2I")  # central directory file header, 46 bytes
_LOCAL = struct.Struct("<4s5H3I2H")  # local file header, 30 bytes


def _from_directory(remote: _RangeFile) -> bytes | None:
    """METADATA found by walking the central directory's headers, without the object per
    entry that ``zipfile`` makes (a wheel of thousands of files took it tens of ms); then
    the member's bytes, in at most one more request, checked against the CRC. ``None``:
    no METADATA, or one too large to be read this way."""
    size = remote.size
    tail = remote.read_at(max(0, size - _TAIL), size)
    end = tail.rfind(b"PK\x05\x06")
    if end < 0 or len(tail) - end < _END.size:
        raise _Unusual
    _sig, disk, cd_disk, _here, count, cd_size, cd_offset, _comment = _END.unpack_from(tail, end)
    if disk or cd_disk or count == 0xFFFF or 0xFFFFFFFF in (cd_size, cd_offset):
        raise _Unusual
    # Past the tail, the directory is fetched with what lies just before it: wheels are
    # written with the .dist-info last, so METADATA comes in the same request.
    if cd_offset < size - len(tail):
        remote.read_at(max(0, cd_offset - _TAIL), cd_offset + cd_size)
    directory = remote.read_at(cd_offset, cd_offset + cd_size)
    pos = 0
    for _ in range(count):
        (sig, _made, _need, flags, method, _time, _date, crc, packed, unpacked, name_len,
         extra_len, comment_len, _disk, _internal, _external, offset
         ) = _ENTRY.unpack_from(directory, pos)
        if sig != b"PK\x01\x02":
            raise _Unusual
        name = directory[pos + _ENTRY.size: pos + _ENTRY.size + name_len]
        pos += _ENTRY.size + name_len + extra_len + comment_len
        if not name.endswith(b".dist-info/METADATA") or name.count(b"/") != 1:
            continue
        if flags & 1 or method not in (0, 8) or 0xFFFFFFFF in (packed, unpacked, offset):
            raise _Unusual
        if unpacked > _MAX_METADATA:
            return None
        # The local header repeats the name; its extra field is small in wheels.
        span = remote.read_at(offset, offset + _LOCAL.size + name_len + 1024 + packed)
        local = _LOCAL.unpack_from(span)
        if local[0] != b"PK\x03\x04":
            raise _Unusual
        start = _LOCAL.size + local[-2] + local[-1]
        data = span[start: start + packed]
        if method == 8:
            data = zlib.decompress(data, -15)
        if len(data) != unpacked or zlib.crc32(data) != crc:
            raise _Unusual
        return data
    return None
