"""Hostile and broken wheels, one function per case.

Every case writes ``hostile-1.0-py3-none-any.whl`` (a valid file name, so that an index
serves it and a resolver picks it) into the directory it is given and returns its path.
:data:`REJECTED` maps each case that an installer must refuse to a fragment of warmbuild's
error; :data:`ACCEPTED` lists the oddities that are installed by design, each with the
relative path of a file it installs. ``VICTIM`` is the project whose metadata some cases
try to overwrite: tests install it first.
"""

from __future__ import annotations

import base64
import hashlib
import stat
import zipfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from .zipcraft import (
    DATA,
    FILENAME,
    INFO,
    NAME,
    VERSION,
    VICTIM,
    Member,
    base,
    metadata,
    patch,
    record,
    record_hash,
    rows,
    wheel,
    with_record,
    write,
)

# ------------------------------------------------------------------ RECORD (issue 10 item 3)

def record_hash_wrong(dest: Path) -> Path:
    members = base()
    lines = rows(members)
    lines[0] = f"{members[0].name},{record_hash(b'something else')},{len(members[0].data)}"
    return with_record(dest, members, lines)


def record_size_wrong(dest: Path) -> Path:
    members = base()
    lines = rows(members)
    lines[0] = f"{members[0].name},{record_hash(members[0].data)},999"
    return with_record(dest, members, lines)


def file_not_in_record(dest: Path) -> Path:
    members = base()
    return with_record(dest, [*members, Member(f"{NAME}/sneaked.py", b"x = 1\n")],
                        rows(members))


def record_lists_absent_file(dest: Path) -> Path:
    members = base()
    return with_record(dest, members, [*rows(members), f"{NAME}/gone.py,"
                                        f"{record_hash(b'')},0"])


def record_unhashed(dest: Path) -> Path:
    members = base()
    lines = rows(members)
    lines[0] = f"{members[0].name},,"
    return with_record(dest, members, lines)


def record_md5(dest: Path) -> Path:
    members = base()
    lines = rows(members)
    digest = base64.urlsafe_b64encode(hashlib.md5(members[0].data).digest()).decode()
    lines[0] = f"{members[0].name},md5={digest.rstrip('=')},{len(members[0].data)}"
    return with_record(dest, members, lines)


def record_malformed_line(dest: Path) -> Path:
    members = base()
    return with_record(dest, members, [*rows(members), "a,b,c,d"])


def record_absent(dest: Path) -> Path:
    return write(dest, base())


def duplicate_entry(dest: Path) -> Path:
    members = base()
    evil = Member(members[0].name, b"import os\n")
    return write(dest, [*members, record(members), evil])


# ------------------------------------------------------------------ METADATA and names

def metadata_not_utf8(dest: Path) -> Path:
    return wheel_with_metadata(dest, b"Metadata-Version: 2.1\nName: hostile\n"
                                     b"Version: 1.0\nSummary: caf\xe9\n\n")


def metadata_no_name(dest: Path) -> Path:
    return wheel_with_metadata(dest, b"Metadata-Version: 2.1\nVersion: 1.0\n\n")


def metadata_no_version(dest: Path) -> Path:
    return wheel_with_metadata(dest, b"Metadata-Version: 2.1\nName: hostile\n\n")


def metadata_version_differs(dest: Path) -> Path:
    return wheel_with_metadata(dest, metadata(NAME, "2.0"))


def metadata_name_differs(dest: Path) -> Path:
    return wheel_with_metadata(dest, metadata(VICTIM, VERSION))


def wheel_with_metadata(dest: Path, meta: bytes) -> Path:
    members = base(meta=meta)
    return write(dest, [*members, record(members)])


def metadata_absent(dest: Path) -> Path:
    members = [m for m in base() if not m.name.endswith("/METADATA")]
    return write(dest, [*members, record(members)])


def wheel_version_2(dest: Path) -> Path:
    members = [replace(m, data=b"Wheel-Version: 2.0\nRoot-Is-Purelib: true\n")
               if m.name.endswith("/WHEEL") else m for m in base()]
    return write(dest, [*members, record(members)])


def dist_info_version_differs(dest: Path) -> Path:
    info = f"{NAME}-2.0.dist-info"
    members = base(info, metadata(NAME, "2.0"))
    return write(dest, [*members, record(members, info)])


def two_dist_infos(dest: Path) -> Path:
    other = f"{VICTIM}-1.0.dist-info"
    return wheel(dest, [Member(f"{other}/METADATA", metadata(VICTIM))])


def no_dist_info(dest: Path) -> Path:
    return write(dest, [Member(f"{NAME}/__init__.py", b"")])


def dist_info_of_another_project(dest: Path) -> Path:
    """The issue's case: named for one project, its only .dist-info is another's."""
    info = f"{VICTIM}-1.0.dist-info"
    members = base(info, metadata(VICTIM))
    return write(dest, [*members, record(members, info)])


# ------------------------------------------------------------------ .data and scripts

def data_purelib_into_dist_info(dest: Path) -> Path:
    return wheel(dest, [Member(f"{DATA}/purelib/{VICTIM}-1.0.dist-info/METADATA",
                               metadata(VICTIM, "6.6"))])


def data_data_into_dist_info(dest: Path) -> Path:
    return wheel(dest, [Member(f"{DATA}/data/lib/python3.11/site-packages/"
                               f"{VICTIM}-1.0.dist-info/RECORD", b"")])


def data_dir_of_another_project(dest: Path) -> Path:
    return wheel(dest, [Member(f"{VICTIM}-1.0.data/purelib/{VICTIM}.py", b"")])


def data_unknown_scheme(dest: Path) -> Path:
    return wheel(dest, [Member(f"{DATA}/etc/passwd", b"")])


def script_named_python(dest: Path) -> Path:
    return wheel(dest, [Member(f"{DATA}/scripts/python", b"#!/bin/sh\n",
                               mode=stat.S_IFREG | 0o755)])


def data_into_bin_python(dest: Path) -> Path:
    """The ``data`` scheme is the prefix, so ``data/bin/python`` is the interpreter."""
    return wheel(dest, [Member(f"{DATA}/data/bin/python3", b"#!/bin/sh\n",
                               mode=stat.S_IFREG | 0o755)])


def entry_point_named_python(dest: Path) -> Path:
    return wheel(dest, [Member(f"{INFO}/entry_points.txt",
                               b"[console_scripts]\npython = hostile:main\n")])


# ------------------------------------------------------------------ names in the archive

def path_traversal(dest: Path) -> Path:
    return wheel(dest, [Member("../../evil.py", b"")])


def absolute_path(dest: Path) -> Path:
    return wheel(dest, [Member("/tmp/evil.py", b"")])


def control_character_name(dest: Path) -> Path:
    return wheel(dest, [Member(f"{NAME}/bad\nname.py", b"")])


def name_not_utf8(dest: Path) -> Path:
    """Flagged as UTF-8 (zipfile sets bit 11 for a non-ASCII name), then not UTF-8."""
    good = f"{NAME}/caf\u00e9.py"
    path = wheel(dest, [Member(good, b"", compress=zipfile.ZIP_STORED)])
    data = path.read_bytes()
    raw = good.encode()
    assert data.count(raw) == 2  # its local header and its central directory record
    path.write_bytes(data.replace(raw, raw.replace(b"\xc3\xa9", b"\xff\xfe")))
    return path


def symlink_then_below(dest: Path) -> Path:
    return wheel(dest, [Member(f"{NAME}/link", b"/etc", mode=stat.S_IFLNK | 0o777),
                        Member(f"{NAME}/link/passwd", b"x")])


def file_and_directory(dest: Path) -> Path:
    return wheel(dest, [Member(f"{NAME}/both", b"a file"), Member(f"{NAME}/both/", b"",
                                                                  mode=stat.S_IFDIR | 0o755)])


def name_too_long(dest: Path) -> Path:
    return wheel(dest, [Member(f"{NAME}/{'a' * 300}.py", b"")])


# ------------------------------------------------------------------ archive encoding

def encrypted(dest: Path) -> Path:
    return patch(wheel(dest), f"{NAME}/__init__.py", flags=0x1)


def compression_bzip2(dest: Path) -> Path:
    """Readable by Python's zipfile (so pip installs it); not a wheel's compression."""
    return wheel(dest, [Member(f"{NAME}/packed.py", b"x = 1\n" * 50,
                               compress=zipfile.ZIP_BZIP2)])


def compression_zstd(dest: Path) -> Path:
    """Method 93 (zstd), which Python 3.11's zipfile cannot read."""
    return patch(wheel(dest), f"{NAME}/__init__.py", method=93)


def bad_crc(dest: Path) -> Path:
    body = b"VALUE = 'a long enough stored payload'\n"
    path = wheel(dest, [Member(f"{NAME}/data.py", body, compress=zipfile.ZIP_STORED)])
    data = path.read_bytes()
    at = data.index(body)
    return _write_bytes(path, data[:at] + b"W" + data[at + 1:])


def truncated(dest: Path) -> Path:
    path = wheel(dest)
    return _write_bytes(path, path.read_bytes()[:-40])


def not_a_zip(dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    return _write_bytes(dest / FILENAME, b"this is not a zip archive\n")


def _write_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# ------------------------------------------------------------------ accepted by design

def symlink_member(dest: Path) -> Path:
    """Installed as a regular file holding the link's text, as pip and uv do."""
    return wheel(dest, [Member(f"{NAME}/link", b"__init__.py", mode=stat.S_IFLNK | 0o777)])


def signatures_unlisted(dest: Path) -> Path:
    """RECORD.jws and RECORD.p7s sign RECORD, so RECORD cannot list them."""
    members = base()
    return write(dest, [*members, record(members), Member(f"{INFO}/RECORD.jws", b"{}"),
                        Member(f"{INFO}/RECORD.p7s", b"sig")])


def dist_info_spelled_otherwise(dest: Path) -> Path:
    """``Hostile-1.0.0.dist-info`` is hostile 1.0: names and versions compare normalized."""
    info = "Hostile-1.0.0.dist-info"
    members = base(info, metadata("Hostile", "1.0.0"))
    return write(dest, [*members, record(members, info)])


def record_without_sizes(dest: Path) -> Path:
    members = base()
    return with_record(dest, members, [f"{m.name},{record_hash(m.data)}," for m in members])


def record_hex_digests(dest: Path) -> Path:
    """Hex digests, as uv_build before 0.8.13 wrote them; the hash is still checked."""
    members = base()
    return with_record(dest, members, [f"{m.name},sha256={hashlib.sha256(m.data).hexdigest()},"
                                        f"{len(m.data)}" for m in members])


def directory_members(dest: Path) -> Path:
    return wheel(dest, [Member(f"{NAME}/", b"", mode=stat.S_IFDIR | 0o755),
                        Member(f"{NAME}/sub/", b"", mode=stat.S_IFDIR | 0o755),
                        Member(f"{NAME}/sub/mod.py", b"y = 2\n")])


Case = Callable[[Path], Path]

#: Case -> a fragment of warmbuild's error for it.
REJECTED: dict[Case, str] = {
    record_hash_wrong: "does not match its RECORD entry",
    record_size_wrong: "does not match its RECORD entry",
    file_not_in_record: "'hostile/sneaked.py' is not listed in its RECORD",
    record_lists_absent_file: "lists 'hostile/gone.py', which the archive does not hold",
    record_unhashed: "no hash warmbuild accepts",
    record_md5: "no hash warmbuild accepts (md5",
    record_malformed_line: "is not `path,hash,size`",
    record_absent: "it has no RECORD",
    duplicate_entry: "holds 'hostile/__init__.py' more than once",
    metadata_not_utf8: "METADATA' is not UTF-8 text",
    metadata_no_name: "METADATA has no Name",
    metadata_no_version: "METADATA has no Version",
    metadata_version_differs: "its METADATA says version 2.0, its file name 1.0",
    metadata_name_differs: "its METADATA names the project victim",
    metadata_absent: "it has no METADATA",
    wheel_version_2: "Wheel-Version 2.0",
    dist_info_version_differs: "'hostile-2.0.dist-info' is not for hostile 1.0",
    two_dist_infos: "more than one .dist-info directory",
    no_dist_info: "it has no .dist-info directory",
    dist_info_of_another_project: "'victim-1.0.dist-info' is not for hostile 1.0",
    data_purelib_into_dist_info: "writes into a .dist-info directory",
    data_data_into_dist_info: "writes into a .dist-info directory",
    data_dir_of_another_project: ".data directory 'victim-1.0.data' is not for hostile",
    data_unknown_scheme: "is not under a known .data scheme",
    script_named_python: "would replace the environment's interpreter",
    data_into_bin_python: "'hostile-1.0.data/data/bin/python3' would replace",
    entry_point_named_python: "entry point 'python'",
    path_traversal: "'../../evil.py' is not a plain relative path",
    absolute_path: "'/tmp/evil.py' is not a plain relative path",
    control_character_name: "control characters",
    name_not_utf8: "not a readable zip archive",
    symlink_then_below: "'hostile/link' is both a file and a directory",
    file_and_directory: "'hostile/both' is both a file and a directory",
    name_too_long: "longer than the filesystem allows",
    encrypted: "'hostile/__init__.py' is encrypted",
    compression_bzip2: "uses compression method 12",
    compression_zstd: "uses compression method 93",
    bad_crc: "'hostile/data.py' cannot be read",
    truncated: "not a readable zip archive",
    not_a_zip: "not a readable zip archive",
}

#: Case -> a file it installs into site-packages.
ACCEPTED: dict[Case, str] = {
    symlink_member: f"{NAME}/link",
    signatures_unlisted: f"{INFO}/METADATA",
    dist_info_spelled_otherwise: "Hostile-1.0.0.dist-info/METADATA",
    record_without_sizes: f"{NAME}/__init__.py",
    record_hex_digests: f"{NAME}/__init__.py",
    directory_members: f"{NAME}/sub/mod.py",
}


def case_id(case: Case) -> str:
    return case.__name__.replace("_", "-")
