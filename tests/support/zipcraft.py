"""Raw wheel building for the hostile corpus (:mod:`support.hostile`): members with any
mode and compression, RECORDs right or wrong, and header fields zipfile cannot write."""

from __future__ import annotations

import base64
import hashlib
import stat
import struct
import warnings
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

NAME, VERSION = "hostile", "1.0"
FILENAME = f"{NAME}-{VERSION}-py3-none-any.whl"
INFO = f"{NAME}-{VERSION}.dist-info"
DATA = f"{NAME}-{VERSION}.data"
VICTIM = "victim"
_DATE = (2020, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Member:
    name: str
    data: bytes = b""
    #: ``st_mode`` of the member (a symlink: ``S_IFLNK``), kept in the external attributes.
    mode: int = stat.S_IFREG | 0o644
    compress: int = zipfile.ZIP_DEFLATED


def record_hash(data: bytes) -> str:
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def metadata(name: str = NAME, version: str = VERSION) -> bytes:
    return f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\n".encode()


def base(info: str = INFO, meta: bytes | None = None) -> list[Member]:
    """A valid wheel's members, without RECORD."""
    return [
        Member(f"{NAME}/__init__.py", b"VALUE = 1\n"),
        Member(f"{info}/METADATA", metadata() if meta is None else meta),
        Member(f"{info}/WHEEL", b"Wheel-Version: 1.0\nGenerator: hostile\n"
                                b"Root-Is-Purelib: true\nTag: py3-none-any\n"),
    ]


def record(members: Sequence[Member], info: str = INFO) -> Member:
    """A right RECORD for ``members``."""
    rows = [f"{m.name},{record_hash(m.data)},{len(m.data)}" for m in members
            if not m.name.endswith("/")]
    return Member(f"{info}/RECORD", ("\n".join([*rows, f"{info}/RECORD,,"]) + "\n").encode())


def write(dest: Path, members: Sequence[Member], filename: str = FILENAME) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    path = dest / filename
    with warnings.catch_warnings(), zipfile.ZipFile(path, "w") as zf:
        warnings.simplefilter("ignore")  # "Duplicate name": one case means it
        for member in members:
            info = zipfile.ZipInfo(member.name, date_time=_DATE)
            info.compress_type = member.compress
            info.external_attr = member.mode << 16
            zf.writestr(info, member.data)
    return path


def wheel(dest: Path, extra: Sequence[Member] = (), *, info: str = INFO) -> Path:
    """A valid wheel with ``extra`` members, all listed in a right RECORD."""
    members = [*base(info), *extra]
    return write(dest, [*members, record(members, info)])


def with_record(dest: Path, members: Sequence[Member], rows: Sequence[str]) -> Path:
    """``members`` with a RECORD of exactly ``rows``."""
    text = "\n".join([*rows, f"{INFO}/RECORD,,"]) + "\n"
    return write(dest, [*members, Member(f"{INFO}/RECORD", text.encode())])


def rows(members: Sequence[Member]) -> list[str]:
    return [f"{m.name},{record_hash(m.data)},{len(m.data)}" for m in members]


def patch(path: Path, member: str, *, flags: int = 0, method: int | None = None) -> Path:
    """Set bits of a member's general-purpose flags, or its compression method, in both
    its local header and its central directory record (zipfile cannot write these)."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        local, start_dir = zf.getinfo(member).header_offset, zf.start_dir
    offsets = [local + 6]
    pos = start_dir
    while data[pos:pos + 4] == b"PK\x01\x02":
        n, m, k = struct.unpack("<HHH", data[pos + 28:pos + 34])
        if data[pos + 46:pos + 46 + n] == member.encode():
            offsets.append(pos + 8)
        pos += 46 + n + m + k
    assert len(offsets) == 2, offsets
    for at in offsets:  # flags at +0, method at +2 from these offsets
        old_flags, old_method = struct.unpack("<HH", data[at:at + 4])
        data[at:at + 4] = struct.pack("<HH", old_flags | flags,
                                      old_method if method is None else method)
    path.write_bytes(bytes(data))
    return path
