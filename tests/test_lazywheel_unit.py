"""A remote wheel's METADATA from its central directory (``lazywheel``), checked against
``zipfile`` on archives made here and on every wheel of the wheelhouse. The server is a
stand-in that answers range requests from the archive's bytes, and counts them."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any, cast

import pytest

from warmbuild.lazywheel import remote_metadata

METADATA = b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\nRequires-Dist: six\n"


class Ranges:
    """Answers ``Range: bytes=...`` from ``data`` as a server that does ranges would."""

    def __init__(self, data: bytes) -> None:
        self.data, self.requests = data, 0

    def get_range(self, url: str, spec: str) -> tuple[bytes, int]:
        self.requests += 1
        size = len(self.data)
        first, _, last = spec.partition("-")
        start = max(0, size - int(last)) if not first else int(first)
        end = size if not first else min(size, int(last) + 1)
        return self.data[start:end], size


def wheel(files: int = 3, *, compression: int = zipfile.ZIP_DEFLATED,
          metadata: bytes = METADATA, padding: int = 0) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=compression) as zf:
        for i in range(files):
            zf.writestr(f"demo/module_with_a_long_name_{i:05d}.py", b"x = 1\n" + b"#" * padding)
        zf.writestr("demo-1.0.dist-info/METADATA", metadata)
        zf.writestr("demo-1.0.dist-info/RECORD", b"")
    return out.getvalue()


def read(data: bytes) -> tuple[bytes | None, int]:
    server = Ranges(data)
    return remote_metadata(cast(Any, server), "https://example.org/demo-1.0-py3-none-any.whl"), \
        server.requests


@pytest.mark.parametrize("compression", [zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED])
def test_a_small_wheel_takes_one_request(compression: int) -> None:
    assert read(wheel(compression=compression)) == (METADATA, 1)


def test_a_large_central_directory_takes_one_more_request() -> None:
    data = wheel(files=3000)  # a directory of ~200 KB, beyond the 64 KiB tail
    assert read(data) == (METADATA, 2)


def test_metadata_far_from_the_end_takes_one_more_request() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("demo-1.0.dist-info/METADATA", METADATA)
        zf.writestr("demo/big.bin", bytes(range(256)) * 2048)  # 512 KB, stored
    assert read(out.getvalue()) == (METADATA, 2)


def test_no_metadata_and_a_broken_archive_are_none() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("demo/__init__.py", b"")
    assert read(out.getvalue())[0] is None
    assert read(b"not a zip archive at all" * 100)[0] is None


def test_a_damaged_member_is_not_trusted() -> None:
    data = bytearray(wheel(compression=zipfile.ZIP_STORED))
    at = data.find(b"Requires-Dist: six")
    data[at: at + 3] = b"XXX"  # the CRC no longer matches: zipfile gets the last word
    assert read(bytes(data))[0] is None


def test_every_wheel_of_the_wheelhouse_reads_as_zipfile_reads_it(wheelhouse: Path) -> None:
    for path in sorted(wheelhouse.glob("*.whl")):
        data = path.read_bytes()
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            (name,) = [n for n in zf.namelist()
                       if n.count("/") == 1 and n.endswith(".dist-info/METADATA")]
            expected = zf.read(name)
        got, requests = read(data)
        assert got == expected, path.name
        assert requests <= 3, path.name
