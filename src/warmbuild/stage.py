"""Staging one wheel into a transaction's tree: pypa/installer's steps (its destination,
scripts and RECORD), with the files of an unpacked wheel placed by the link mode.

``install_unpacked`` is installer's ``install`` loop for a wheel unpacked in the cache: the
same destination calls for scripts, ``.data`` files, extra metadata and the RECORD, but the
files of the root scheme (nearly all) are placed in one loop, without the objects installer
makes per file, which were most of a warm install's time. ``LinkingDestination`` places
what comes from the cache by link mode and writes everything else; ``Claims`` decides which
wheel keeps a path several wheels of one install write.
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, cast

from installer.destinations import SchemeDictionaryDestination
from installer.records import Hash, RecordEntry
from installer.scripts import Script
from installer.sources import WheelSource
from installer.utils import (
    SCHEME_NAMES,
    Scheme,
    copyfileobj_with_hashing,
    make_file_executable,
    parse_entrypoints,
)

from ._log import logger
from .coremeta import headers
from .errors import WarmbuildError
from .placefile import place
from .unpack import INDEX, read_index

if TYPE_CHECKING:
    from installer.scripts import ScriptSection


class LinkableFile:
    """A read-only stream over an unpacked file that also says where the file is."""

    def __init__(self, path: str, record_hash: str, size: int) -> None:
        self.path = path
        self.record_hash = record_hash
        self.size = size
        self._file: BinaryIO | None = None

    def _open(self) -> BinaryIO:
        if self._file is None:
            self._file = open(self.path, "rb")  # noqa: SIM115 - closed by close()
        return self._file

    def read(self, size: int = -1) -> bytes:
        return self._open().read(size)

    def readline(self, size: int = -1) -> bytes:
        return self._open().readline(size)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._open().seek(offset, whence)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


class UnpackedWheel(WheelSource):
    """installer's WheelSource over an ``archive-v1`` directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        index = read_index(root)
        if index is None:
            raise WarmbuildError(f"the unpacked wheel {root} in the cache is damaged (its index "
                                 f"{INDEX} is not as written)",
                                 hint="clear the cache with `warmbuild cache clean`")
        self._files: dict[str, list[Any]] = index["files"]
        (info,) = {p.split("/", 1)[0] for p in self._files
                   if p.split("/", 1)[0].endswith(".dist-info")}
        self._dist_info: str = info
        name, _, version = info[: -len(".dist-info")].partition("-")
        super().__init__(name, version)

    @property
    def dist_info_dir(self) -> str:
        return self._dist_info

    @property
    def dist_info_filenames(self) -> list[str]:
        prefix = self._dist_info + "/"
        return [p[len(prefix):] for p in self._files
                if p.startswith(prefix) and "/" not in p[len(prefix):]]

    def read_dist_info(self, filename: str) -> str:
        return (self.root / self._dist_info / filename).read_text(encoding="utf-8")

    def files(self) -> Iterator[tuple[str, str, int, bool]]:
        """Each file's path, RECORD hash, size and whether it is executable."""
        for name, (record_hash, size, executable) in self._files.items():
            yield name, record_hash, size, executable

    def open(self, name: str) -> BinaryIO:
        record_hash, size, _executable = self._files[name]
        return cast(BinaryIO, LinkableFile(os.path.join(self.root, name), record_hash, size))

    def get_contents(self) -> Iterator[tuple[tuple[str, str, str], BinaryIO, bool]]:
        root = str(self.root)
        for name, (record_hash, size, executable) in self._files.items():
            stream = LinkableFile(os.path.join(root, name), record_hash, size)
            try:
                yield (name, record_hash, str(size)), cast(BinaryIO, stream), executable
            finally:
                stream.close()


def install_unpacked(source: UnpackedWheel, destination: LinkingDestination,
                     extra_metadata: dict[str, bytes]) -> None:
    """Install ``source`` through ``destination`` as ``installer.install`` would."""
    info = source.dist_info_dir
    wheel = headers(source.read_dist_info("WHEEL"), "Root-Is-Purelib")
    root = Scheme("purelib" if wheel.get("root-is-purelib", [""])[0].lower() == "true"
                  else "platlib")
    records: list[tuple[Scheme, RecordEntry]] = []
    if "entry_points.txt" in source.dist_info_filenames:
        for name, module, attr, section in parse_entrypoints(
                source.read_dist_info("entry_points.txt")):
            records.append((Scheme("scripts"), destination.write_script(
                name=name, module=module, attr=attr, section=section)))
    record_path = f"{info}/RECORD"
    data_dir = f"{source.data_dir}/"
    linked = []
    for path, record_hash, size, executable in source.files():
        if path == record_path:
            continue
        if "__pycache__" in path.split("/")[:-1]:
            # As installer: bytecode shipped in a wheel is never installed.
            logger.warning("warning: not installing %s from %s: files in __pycache__ are "
                           "never installed from a wheel", path, source.distribution)
            continue
        if not path.startswith(data_dir):
            linked.append((path, record_hash, size))
            continue
        scheme, _, inner = path[len(data_dir):].partition("/")
        if scheme not in SCHEME_NAMES or not inner:
            raise ValueError(f"{path} is not in a valid .data subdirectory of "
                             f"{source.distribution} {source.version}")
        stream = source.open(path)
        try:
            records.append((Scheme(scheme), destination.write_file(
                Scheme(scheme), inner, stream, executable)))
        finally:
            stream.close()
    records += [(root, entry) for entry in destination.link_files(root, source.root, linked)]
    for filename, contents in extra_metadata.items():
        with io.BytesIO(contents) as written:
            records.append((root, destination.write_file(root, f"{info}/{filename}", written,
                                                         False)))
    records.append((root, RecordEntry(record_path, None, None)))
    destination.finalize_installation(scheme=root, record_file_path=record_path,
                                      records=records)


class Claims:
    """Which wheel keeps a path that several wheels of one install write: the latest in the plan.

    Wheels are staged in parallel, so without this the copy that survives a clash would be
    whichever thread wrote last. Each wheel claims a path before writing it; a wheel that
    finds a later one's claim leaves the path alone.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._owner: dict[str, int] = {}
        self._hashes: dict[str, dict[int, str]] = {}

    def claim(self, path: str, rank: int) -> bool:
        with self.lock:
            owner = self._owner.get(path)
            if owner is not None and owner > rank:
                return False
            self._owner[path] = rank
            return True

    def owns(self, path: str, rank: int) -> bool:
        """Call with ``lock`` held."""
        return self._owner.get(path) == rank

    def written(self, path: str, rank: int, digest: str) -> None:
        with self.lock:
            self._hashes.setdefault(path, {})[rank] = digest

    def differing(self) -> dict[str, tuple[int, ...]]:
        """Paths written by several wheels with different contents, and those wheels' ranks."""
        return {path: tuple(sorted(by_rank)) for path, by_rank in self._hashes.items()
                if len(set(by_rank.values())) > 1}


@dataclass
class LinkingDestination(SchemeDictionaryDestination):
    """Links files that come from an unpacked wheel; writes everything else.

    A file already in the staging tree may be a hard link into the cache, so nothing is
    ever opened for writing in place: new content goes to a temporary name and is renamed
    over the old path, which replaces the link instead of writing through it.
    """

    #: Shared by every wheel of one install, with this wheel's place in the plan.
    claims: Claims = field(default_factory=Claims)
    rank: int = 0
    link_mode: str = "clone"
    _made: set[str] = field(default_factory=set)

    def _path_with_destdir(self, scheme: Scheme, path: str) -> Path:
        return Path(self._target(scheme, path))

    def _target(self, scheme: Scheme, path: str) -> str:
        # installer's own version builds several Path objects per file; on a warm install
        # of thousands of linked files that is most of the time, so this uses strings.
        root = os.path.abspath(self.scheme_dict[scheme])
        file = os.path.abspath(os.path.join(root, path))
        if not file.startswith(root + os.sep):
            raise ValueError(f"Attempting to write {path} outside of the target directory")
        return self._staged(file)

    def _staged(self, file: str) -> str:
        return file if self.destdir is None else os.path.join(self.destdir, file.lstrip(os.sep))

    def link_files(self, scheme: Scheme, root: Path,
                   files: list[tuple[str, str, int]]) -> list[RecordEntry]:
        """Place ``files`` (path, RECORD hash, size) of the unpacked wheel at ``root`` into
        ``scheme``, as ``write_to_fs`` would place each. Their paths were checked when the
        wheel was unpacked (:mod:`wheelcheck`): relative, without ``..``."""
        base = self._staged(os.path.abspath(self.scheme_dict[scheme]))
        source = str(root)
        entries = []
        for path, record_hash, size in files:
            target = os.path.join(base, path)
            self._make_parent(target)
            self._link(target, os.path.join(source, path), record_hash)
            entries.append(RecordEntry(path, Hash.parse(record_hash), size))
        return entries

    def _make_parent(self, target: str) -> None:
        # Several wheels are staged at once into one tree: parents may appear concurrently,
        # hence exist_ok; each directory is made once per destination.
        parent = os.path.dirname(target)
        if parent not in self._made:
            os.makedirs(parent, exist_ok=True)
            self._made.add(parent)

    def _link(self, target: str, origin: str, record_hash: str) -> None:
        """Place the cached file ``origin`` at ``target``, unless a later wheel claims it."""
        mine = self.claims.claim(target, self.rank)
        self.claims.written(target, self.rank, record_hash)
        if mine:
            try:
                place(origin, target, self.link_mode)
            except FileExistsError:
                self._replace(target, functools.partial(place, origin, mode=self.link_mode))

    def write_to_fs(self, scheme: Scheme, path: str, stream: BinaryIO,
                    is_executable: bool) -> RecordEntry:
        target = self._target(scheme, path)
        self._make_parent(target)
        if not self.overwrite_existing and os.path.lexists(target):
            raise FileExistsError(f"File already exists: {target}")
        if isinstance(stream, LinkableFile):
            self._link(target, stream.path, stream.record_hash)
            return RecordEntry(path, Hash.parse(stream.record_hash), stream.size)
        mine = self.claims.claim(target, self.rank)
        digest: list[tuple[str, int]] = []

        def write(tmp: str) -> None:
            with open(tmp, "wb") as out:
                digest.append(copyfileobj_with_hashing(stream, out, self.hash_algorithm))
            if is_executable:
                make_file_executable(Path(tmp))

        # Written even when a later wheel holds the path: RECORD needs this copy's hash.
        self._replace(target, write, keep=mine)
        self.claims.written(target, self.rank, f"{self.hash_algorithm}={digest[0][0]}")
        return RecordEntry(path, Hash(self.hash_algorithm, digest[0][0]), digest[0][1])

    def write_script(self, name: str, module: str, attr: str,
                     section: ScriptSection) -> RecordEntry:
        # installer's version stats the script after writing it, but a script that a later
        # wheel of this install also provides is never written here (see Claims).
        script_name, data = Script(name, module, attr, section).generate(
            self.interpreter, self.script_kind)
        with io.BytesIO(data) as stream:
            return self.write_to_fs(Scheme("scripts"), script_name, stream, is_executable=True)

    def _replace(self, target: str, make: Callable[[str], object], *,
                 keep: bool = True) -> None:
        head, name = os.path.split(target)
        tmp = os.path.join(head, f".{name}.{threading.get_ident()}.warmbuild-tmp")
        try:
            make(tmp)
            with self.claims.lock:  # a later wheel may have claimed the path meanwhile
                if keep and self.claims.owns(target, self.rank):
                    os.replace(tmp, target)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
