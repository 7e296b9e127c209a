"""Every wheel is checked against its own name and RECORD while it is unpacked, before any
of it can reach a target environment.

All wheels pass here, whichever way they came (an index, find-links, a URL, a local path, a
build): :mod:`unpack` extracts with :func:`extract`, into the cache for downloaded wheels
and into the transaction dir for the others. Each member is hashed while it is written, so
checking it against RECORD costs a comparison, and a wheel in the cache is checked once,
not on every install from it.

The rules, stricter than pip's and uv's where they differ (see the README's "What warmbuild
checks"):

- the archive: a readable zip, members stored or deflated, none encrypted, names flagged as
  UTF-8 that are UTF-8, plain relative names the filesystem can hold, no member twice and
  none that is both a file and a directory;
- the layout: one ``.dist-info``, named for the file name's project and version; a
  ``.data`` dir only for the same, with known schemes, none of it writing into a
  ``.dist-info``; no script named like the interpreter;
- RECORD: present; every member listed with a strong hash, and hash and size right;
  nothing listed that the archive lacks;
- METADATA: UTF-8, with Name and Version equal to the file name's; WHEEL: version 1.x.
"""

from __future__ import annotations

import base64
import contextlib
import csv
import errno
import hashlib
import os
import re
import struct
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from packaging.utils import (
    InvalidWheelFilename,
    NormalizedName,
    canonicalize_name,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from .errors import WarmbuildError

_CHUNK = 1 << 20
#: Stored and deflate only: uv refuses bzip2 and lzma, and Python's zipfile cannot read zstd.
_COMPRESSION = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
_SCHEMES = frozenset({"purelib", "platlib", "headers", "scripts", "data"})
#: Never listed in RECORD: RECORD itself and its signatures.
_UNLISTED = frozenset({"RECORD", "RECORD.jws", "RECORD.p7s"})
_WEAK_HASHES = frozenset({"md5", "sha1"})
#: The names of a venv's interpreters (uv's list): a script so named would replace them.
_RESERVED_SCRIPT = re.compile(r"(pythonw?(3(\.\d+t?)?)?|pypy[23]?|graalpy)(\.exe)?", re.I)
#: What zipfile raises on a damaged archive or member (a bad CRC, a cut deflate stream,
#: a local header that disagrees with the directory, a name that is not the UTF-8 it says).
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError,
               NotImplementedError, RuntimeError, zlib.error, struct.error)


@dataclass(frozen=True)
class CheckedWheel:
    name: NormalizedName
    version: Version
    dist_info: str
    #: Member -> ``[sha256 record hash, size, executable]``, for every file member.
    files: dict[str, list[object]]


def extract(wheel: Path, root: Path) -> CheckedWheel:
    """Unpack ``wheel`` into the empty directory ``root``, checking it; WarmbuildError if it
    breaks a rule (``root`` then holds part of it: the caller removes it)."""
    name, version = _from_filename(wheel)
    with _checked_archive(wheel, name, version, _name_max(root)) as (zf, members, dist_info):
        record = _read_record(wheel, zf, dist_info)
        _check_metadata(wheel, zf, dist_info, name, version)
        files = {}
        made: set[str] = set()
        for member in members:
            row = _record_row(wheel, record, dist_info, member.filename)
            files[member.filename] = _extract_member(wheel, zf, member, root, row, made)
    unlisted = {f"{dist_info}/{n}" for n in _UNLISTED}
    missing = sorted(set(record) - set(files) - unlisted)
    if missing:
        raise invalid(wheel, f"its RECORD lists {missing[0]!r}, which the archive does not "
                             "hold")
    return CheckedWheel(name, version, dist_info, files)


def read_metadata(wheel: Path) -> str:
    """The METADATA text of a wheel not yet unpacked (for resolution), under the same rules
    for its archive and layout as :func:`extract`."""
    name, version = _from_filename(wheel)
    with _checked_archive(wheel, name, version, 255) as (zf, _members, dist_info):
        return _read_text(wheel, zf, f"{dist_info}/METADATA")


@contextlib.contextmanager
def _checked_archive(wheel: Path, name: NormalizedName, version: Version, name_max: int
                     ) -> Iterator[tuple[zipfile.ZipFile, list[zipfile.ZipInfo], str]]:
    """The open archive, its members and its ``.dist-info`` directory, once the members'
    names and the layout passed their rules."""
    try:
        zf = zipfile.ZipFile(wheel)
    except _ZIP_ERRORS as exc:
        raise invalid(wheel, "it is not a readable zip archive", cause=str(exc)) from exc
    with zf:
        members = _check_members(wheel, zf.infolist(), name_max)
        yield zf, members, _check_layout(wheel, [m.filename for m in members], name, version)


def invalid(wheel: Path, what: str, *, cause: str | None = None) -> WarmbuildError:
    """The one error for a wheel that breaks a rule: which wheel, what, and what to do."""
    return WarmbuildError(f"{wheel.name} is not a valid wheel: {what}; nothing was installed",
                          cause=cause,
                          hint="the file is damaged, was built wrongly or was tampered with: "
                             "get a good copy, or tell its publisher")


def _from_filename(wheel: Path) -> tuple[NormalizedName, Version]:
    try:
        name, version, _build, _tags = parse_wheel_filename(wheel.name)
    except (InvalidWheelFilename, InvalidVersion) as exc:
        raise invalid(wheel, "its file name is not a wheel's", cause=str(exc)) from exc
    return name, version


def _name_max(root: Path) -> int:
    try:
        return os.pathconf(root, "PC_NAME_MAX")
    except (OSError, ValueError):
        return 255


def _check_members(wheel: Path, infos: Sequence[zipfile.ZipInfo],
                   name_max: int) -> list[zipfile.ZipInfo]:
    """The file members, once the archive's members were found sound as a whole."""
    seen: set[str] = set()
    dirs: set[str] = set()
    files: list[zipfile.ZipInfo] = []
    for info in infos:
        name = info.filename
        _check_name(wheel, name, name_max)
        if info.flag_bits & 0x1:
            raise invalid(wheel, f"its member {name!r} is encrypted")
        if info.compress_type not in _COMPRESSION:
            raise invalid(wheel, f"its member {name!r} uses compression method "
                                 f"{info.compress_type}; a wheel's members are stored or "
                                 "deflated")
        if name in seen:
            raise invalid(wheel, f"its archive holds {name!r} more than once")
        seen.add(name)
        path = PurePosixPath(name)
        dirs.update(str(p) for p in path.parents if str(p) != ".")
        if info.is_dir():
            dirs.add(str(path))
        else:
            # A symlink member is written as a regular file holding the link's text, as
            # pip and installer do; a member below it is caught as both file and directory.
            files.append(info)
    both = sorted(f.filename for f in files if f.filename in dirs)
    if both:
        raise invalid(wheel, f"its member {both[0]!r} is both a file and a directory")
    return files


def _check_name(wheel: Path, name: str, name_max: int) -> None:
    parts = name.rstrip("/").split("/")
    if not name or any(unicodedata.category(c).startswith("C") for c in name):
        raise invalid(wheel, f"its member name {name!r} is empty or holds control characters")
    if name.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise invalid(wheel, f"its member {name!r} is not a plain relative path",
                      cause="it would write outside the directory it is installed into")
    longest = max(parts, key=lambda p: len(p.encode()))
    if len(longest.encode()) > name_max:
        raise invalid(wheel, f"its member {name[:60]!r}... has a name longer than the "
                             f"filesystem allows ({len(longest.encode())} bytes, at most "
                             f"{name_max})")


def _check_layout(wheel: Path, names: Sequence[str], name: NormalizedName,
                  version: Version) -> str:
    """The one ``.dist-info`` dir, for the project and version of the file name."""
    tops = {n.split("/", 1)[0] for n in names if "/" in n}
    infos = sorted(t for t in tops if t.endswith(".dist-info"))
    if not infos:
        raise invalid(wheel, "it has no .dist-info directory")
    if len(infos) > 1:
        raise invalid(wheel, f"it has more than one .dist-info directory ({', '.join(infos)})")
    dist_info = infos[0]
    stem = dist_info[: -len(".dist-info")]
    if not _same(stem, name, version):
        raise invalid(wheel, f"its .dist-info directory {dist_info!r} is not for {name} "
                             f"{version}, as its file name says")
    for top in sorted(tops - {dist_info}):
        if top.endswith(".data") and top != f"{stem}.data":
            raise invalid(wheel, f"its .data directory {top!r} is not for {name} {version}")
    for member in names:
        if member.startswith(f"{stem}.data/"):
            _check_data_member(wheel, member)
    return dist_info


def _same(stem: str, name: NormalizedName, version: Version) -> bool:
    dist, _, dist_version = stem.partition("-")
    try:
        return canonicalize_name(dist) == name and Version(dist_version) == version
    except InvalidVersion:
        return False


def _check_data_member(wheel: Path, member: str) -> None:
    parts = member.split("/")
    if len(parts) < 3 or parts[1] not in _SCHEMES:
        raise invalid(wheel, f"its member {member!r} is not under a known .data scheme "
                             f"({', '.join(sorted(_SCHEMES))})")
    if any(p.endswith(".dist-info") for p in parts[2:]):
        raise invalid(wheel, f"its member {member!r} writes into a .dist-info directory",
                      cause="a wheel's files may not change another distribution's metadata")
    # Scripts, and data files that land in the venv's scripts dir (``data`` is the prefix).
    in_scripts = parts[1] == "scripts" or (parts[1] == "data" and parts[2:-1] == ["bin"])
    if in_scripts and _RESERVED_SCRIPT.fullmatch(parts[-1]):
        raise invalid(wheel, f"its member {member!r} would replace the environment's "
                             "interpreter")


def _read_record(wheel: Path, zf: zipfile.ZipFile,
                 dist_info: str) -> dict[str, tuple[str, str, str]]:
    """RECORD's rows by path: ``(hash algorithm, urlsafe-base64 digest, size)``."""
    text = _read_text(wheel, zf, f"{dist_info}/RECORD")
    rows: dict[str, tuple[str, str, str]] = {}
    for number, row in enumerate(csv.reader(text.splitlines()), start=1):
        if not row:
            continue
        if len(row) != 3:
            raise invalid(wheel, f"line {number} of its RECORD is not `path,hash,size`")
        path, hash_text, size = row
        algorithm, _, digest = hash_text.partition("=")
        if path in rows and rows[path] != (algorithm, digest, size):
            raise invalid(wheel, f"its RECORD lists {path!r} twice, differently")
        rows[path] = (algorithm, digest, size)
    return rows


def _record_row(wheel: Path, record: dict[str, tuple[str, str, str]], dist_info: str,
                member: str) -> tuple[str, str, str] | None:
    """The RECORD row of ``member``; ``None`` for RECORD and its signatures."""
    if member in {f"{dist_info}/{n}" for n in _UNLISTED}:
        return None
    row = record.get(member)
    if row is None:
        raise invalid(wheel, f"its member {member!r} is not listed in its RECORD")
    algorithm, digest, size = row
    if not digest or algorithm not in hashlib.algorithms_guaranteed or \
            algorithm in _WEAK_HASHES:
        raise invalid(wheel, f"its RECORD gives {member!r} no hash warmbuild accepts "
                             f"({algorithm or 'none'}; sha256 or stronger)")
    if size and not size.isdigit():
        raise invalid(wheel, f"its RECORD gives {member!r} the size {size!r}")
    return row


def _read_text(wheel: Path, zf: zipfile.ZipFile, member: str) -> str:
    try:
        data = zf.read(member)
    except KeyError as exc:
        raise invalid(wheel, f"it has no {member.split('/', 1)[1]} ({member!r})") from exc
    except _ZIP_ERRORS as exc:
        raise invalid(wheel, f"its member {member!r} cannot be read", cause=str(exc)) from exc
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise invalid(wheel, f"its {member!r} is not UTF-8 text", cause=str(exc)) from exc


def _check_metadata(wheel: Path, zf: zipfile.ZipFile, dist_info: str, name: NormalizedName,
                    version: Version) -> None:
    # Here, not at the top: resolving and installing from the cache check no wheel.
    import email.parser

    parser = email.parser.HeaderParser()
    meta = parser.parsestr(_read_text(wheel, zf, f"{dist_info}/METADATA"))
    meta_name, meta_version = meta.get("Name"), meta.get("Version")
    if not meta_name or not meta_version:
        raise invalid(wheel, f"its {dist_info}/METADATA has no "
                             f"{'Name' if not meta_name else 'Version'}")
    if canonicalize_name(str(meta_name)) != name:
        raise invalid(wheel, f"its METADATA names the project {meta_name}, its file name "
                             f"{name}")
    try:
        same_version = Version(str(meta_version)) == version
    except InvalidVersion:
        same_version = False
    if not same_version:
        raise invalid(wheel, f"its METADATA says version {meta_version}, its file name "
                             f"{version}")
    wheel_version = str(parser.parsestr(_read_text(wheel, zf, f"{dist_info}/WHEEL"))
                        .get("Wheel-Version") or "").strip()
    if wheel_version.split(".")[0] != "1":
        raise invalid(wheel, f"its WHEEL file says Wheel-Version {wheel_version or 'nothing'}"
                             "; warmbuild installs version 1.x")
    _check_entry_points(wheel, zf, dist_info)


def _check_entry_points(wheel: Path, zf: zipfile.ZipFile, dist_info: str) -> None:
    if f"{dist_info}/entry_points.txt" not in zf.NameToInfo:
        return
    import configparser

    parser = configparser.ConfigParser(delimiters=("=",), interpolation=None)
    parser.optionxform = str  # type: ignore[assignment, method-assign]
    try:
        parser.read_string(_read_text(wheel, zf, f"{dist_info}/entry_points.txt"))
    except configparser.Error as exc:
        raise invalid(wheel, "its entry_points.txt cannot be parsed",
                      cause=str(exc).splitlines()[0]) from exc
    for section in ("console_scripts", "gui_scripts"):
        for script in parser[section] if parser.has_section(section) else ():
            if "/" in script or _RESERVED_SCRIPT.fullmatch(script):
                raise invalid(wheel, f"its {section} entry point {script!r} would write "
                                     "over the environment's interpreter or outside its "
                                     "scripts directory")


def _extract_member(wheel: Path, zf: zipfile.ZipFile, member: zipfile.ZipInfo, root: Path,
                    row: tuple[str, str, str] | None, made: set[str]) -> list[object]:
    """Write one member, hashing it on the way; its ``[hash, size, executable]``.
    ``made``: the directories made so far (a wheel's thousands of files need each once)."""
    name = member.filename
    target = os.path.join(root, *name.split("/"))
    sha256 = hashlib.sha256()
    other = hashlib.new(row[0]) if row is not None and row[0] != "sha256" else None
    size = 0
    executable = bool((member.external_attr >> 16) & 0o111)
    try:
        parent = os.path.dirname(target)
        if parent not in made:
            os.makedirs(parent, exist_ok=True)
            made.add(parent)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL,
                     0o755 if executable else 0o644)
    except OSError as exc:
        if exc.errno == errno.ENAMETOOLONG:
            raise invalid(wheel, f"its member {name[:60]!r} has a path longer than the "
                                 "filesystem allows") from exc
        raise
    # The exact mode whatever the umask: an installed file's mode is its cached copy's.
    os.fchmod(fd, 0o755 if executable else 0o644)
    with open(fd, "wb") as out:
        try:
            with zf.open(member) as src:
                while chunk := src.read(_CHUNK):
                    sha256.update(chunk)
                    if other is not None:
                        other.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
        except _ZIP_ERRORS as exc:
            raise invalid(wheel, f"its member {name!r} cannot be read",
                          cause=str(exc)) from exc
    encoded = _b64(sha256.digest())
    if row is not None:
        algorithm, expected, expected_size = row
        digest = (other or sha256).digest()
        got = _b64(digest)
        # Hex instead of base64 is accepted when it is the member's hash: uv_build before
        # 0.8.13 wrote RECORDs so, and published wheels (gmsh 4.15.2) carry them.
        right = expected.rstrip("=") == got or expected.lower() == digest.hex()
        if not right or (expected_size and int(expected_size) != size):
            raise invalid(wheel, f"its member {name!r} does not match its RECORD entry",
                          cause=f"RECORD says {algorithm}={expected} ({expected_size or '?'} "
                                f"bytes); the member has {algorithm}={got} ({size} bytes)")
    return [f"sha256={encoded}", size, executable]


def _b64(digest: bytes) -> str:
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")
