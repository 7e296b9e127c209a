"""Download distribution files into the cache, stored by sha256 and checked against hashes.

Layout of ``wheels-v1``: ``<sha[:2]>/<sha>/<filename>`` holds the file; ``urls/<key>`` maps a
URL whose index published no hash to the sha256 it had, so a warm run never re-downloads.
The unpacked wheels in ``archive-v1`` (:mod:`unpack`) are keyed by the same sha256.

A cached file is checked against the hash it is stored under whenever it is read: sdists
every time, wheels here when their unpacked copy is missing or its index damaged, and by
:func:`unpack.unpack` before it repairs a copy whose files are damaged (otherwise the
copy, checked on its own, is what gets installed). A file that fails is discarded and
downloaded again; offline, the error names it.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

from ._log import Task, logger, progress, task
from ._threads import KeyedLocks
from .cache import Cache, atomic_write
from .dists import DistFile
from .errors import NetworkError, WarmbuildError
from .http import HttpClient, redact
from .oserrors import WRITE_ERRNOS, is_full
from .reqfile import url2pathname
from .unpack import has_index


@dataclass(frozen=True)
class Fetched:
    path: Path
    #: Known for files in the cache (it is their key); ``None`` for local files used in place.
    sha256: str | None


class Fetcher:
    def __init__(self, client: HttpClient, cache: Cache) -> None:
        self._client = client
        self._cache = cache
        self._bucket = cache.bucket("wheels-v1")
        self._url_locks: KeyedLocks[str] = KeyedLocks()
        self._metadata_locks: KeyedLocks[str] = KeyedLocks()

    def fetch(self, file: DistFile, required: Sequence[tuple[str, str]] = ()) -> Fetched:
        """A local path to ``file``, whose hashes match the index's and ``required``."""
        if file.url.startswith("file:"):
            path = Path(url2pathname(urlsplit(file.url).path))
            if not path.is_file():
                raise NetworkError(f"{path}: no such file")
            if required or file.hashes:
                _verify(file, _hash_file(path, _algorithms(file, required)), required)
            return Fetched(path, None)
        # A resolver prefetch thread may be downloading this very file: wait, then reuse it.
        with self._url_locks(file.url):
            return self._fetch_remote(file, required)

    def _fetch_remote(self, file: DistFile, required: Sequence[tuple[str, str]]) -> Fetched:
        sha = file.sha256 or self._known_sha(file.url)
        if sha is not None:
            cached = self._bucket / sha[:2] / sha / file.filename
            if cached.is_file():
                found = self._cached(file, cached, sha, required)
                if found is not None:
                    return found
        return self._download(file, required)

    def remote_metadata(self, file: DistFile) -> bytes | None:
        """The METADATA of a remote wheel, read with range requests and kept in
        ``metadata-v1`` by the wheel's sha256 (or URL); ``None`` when the wheel itself is
        cached (read it there) or the server does not do ranges."""
        if file.kind != "wheel" or not file.url.startswith(("http://", "https://")):
            return None
        sha = file.sha256 or self._known_sha(file.url)
        if sha is not None and (self._bucket / sha[:2] / sha / file.filename).is_file():
            return None
        key = sha or _url_key(file.url)
        path = self._cache.bucket("metadata-v1") / key[:2] / f"{key}.metadata"
        # The resolver and a read-ahead thread often want the same file at once: one reads
        # it, the other waits for that answer instead of asking the server again.
        with self._metadata_locks(key):
            try:
                return path.read_bytes()
            except OSError:
                pass
            from .lazywheel import remote_metadata  # zipfile: not for a warm install

            data = remote_metadata(self._client, file.url)
            if data is not None:
                atomic_write(path, data)
            return data

    def _cached(self, file: DistFile, cached: Path, sha: str,
                required: Sequence[tuple[str, str]]) -> Fetched | None:
        """The cached file, checked against the hash it is stored under; ``None`` when it is
        damaged and was discarded."""
        if file.kind == "wheel" and all(a == "sha256" for a, _ in required) \
                and has_index(self._cache, sha):
            # What gets installed is the unpacked copy, checked file by file when used; the
            # wheel is read (and then hashed) only when that copy must be made again.
            digests = {"sha256": sha}
        else:
            digests = _hash_file(cached, _algorithms(file, required))
            if digests["sha256"] != sha:
                self._discard(file, cached, f"its sha256 is {digests['sha256']}, but it was "
                                            f"stored as {sha}")
                return None
        _verify(file, digests, required)
        return Fetched(cached, sha)

    def _discard(self, file: DistFile, cached: Path, problem: str) -> None:
        if self._client.offline:
            raise WarmbuildError(
                f"the cached {file.filename} is damaged, and --offline forbids downloading "
                "it again", cause=f"{cached}: {problem}",
                hint="run without --offline to replace it, or clear the cache with "
                     "`warmbuild cache clean`")
        logger.warning("warning: the cached %s was damaged (%s: %s); downloading it again",
                       file.filename, cached, problem)
        cached.unlink(missing_ok=True)

    def _known_sha(self, url: str) -> str | None:
        try:
            return (self._bucket / "urls" / _url_key(url)).read_text().strip() or None
        except OSError:
            return None

    def _download(self, file: DistFile, required: Sequence[tuple[str, str]]) -> Fetched:
        progress.info("Downloading %s", file.filename)
        algorithms = _algorithms(file, required)
        fd, tmp_name = tempfile.mkstemp(dir=self._bucket, prefix=".download-")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out, task("bytes", file.filename) as shown:
                hashing = _HashingWriter(out, algorithms, shown)
                self._client.download(file.url, hashing)
            digests = hashing.hexdigests()
            _verify(file, digests, required)
            sha = digests["sha256"]
            final = self._bucket / sha[:2] / sha / file.filename
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, final)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            if exc.errno not in WRITE_ERRNOS:
                raise
            # A write into the file has no file name of its own to report.
            raise WarmbuildError(
                f"cannot store {file.filename} in the cache at {self._cache.root}: "
                f"{exc.strerror}", hint=("free space on its device, or point" if is_full(exc)
                                         else "point") + " --cache-dir or WARMBUILD_CACHE_DIR "
                "at a writable directory") from exc
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        if file.sha256 is None:
            atomic_write(self._bucket / "urls" / _url_key(file.url), sha.encode())
        return Fetched(final, sha)


class _HashingWriter:
    """A download's :class:`~warmbuild.http.Sink`: the file, hashed as it is written, and
    its bytes shown (``shown``: a progress row on a terminal)."""

    def __init__(self, out: BinaryIO, algorithms: set[str], shown: Task) -> None:
        self._out = out
        self._algorithms = algorithms
        self._hashers = {a: hashlib.new(a) for a in algorithms}
        self._shown = shown
        self._written = 0

    def write(self, data: bytes) -> int:
        for hasher in self._hashers.values():
            hasher.update(data)
        self._shown.advance(len(data))
        self._written += len(data)
        return self._out.write(data)

    def expect(self, total: int | None) -> None:
        self._shown.set_total(total)

    def restart(self) -> None:
        self._out.seek(0)
        self._out.truncate()
        self._hashers = {a: hashlib.new(a) for a in self._algorithms}
        self._shown.advance(-self._written)
        self._written = 0

    def hexdigests(self) -> dict[str, str]:
        return {a: h.hexdigest() for a, h in self._hashers.items()}


def _url_key(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:32]


def _algorithms(file: DistFile, required: Sequence[tuple[str, str]]) -> set[str]:
    wanted = {"sha256"} | {a for a, _ in (*file.hashes, *required)}
    return {a for a in wanted if a in hashlib.algorithms_guaranteed}


def sha256_of(path: Path) -> str:
    return _hash_file(path, {"sha256"})["sha256"]


def _hash_file(path: Path, algorithms: set[str]) -> dict[str, str]:
    hashers = {a: hashlib.new(a) for a in algorithms}
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            for hasher in hashers.values():
                hasher.update(chunk)
    return {a: h.hexdigest() for a, h in hashers.items()}


def _verify(file: DistFile, digests: dict[str, str],
            required: Sequence[tuple[str, str]]) -> None:
    for algo, expected in file.hashes:
        if algo in digests and digests[algo] != expected:
            says = "the URL's #fragment says" if file.origin == "direct" else "the index says"
            raise WarmbuildError(
                f"hash mismatch for {file.filename} from {redact(file.origin or file.url)}",
                cause=f"{says} {algo}:{expected}\n"
                      f"     the file has {algo}:{digests[algo]}",
                hint="the file changed after the index listed it, or the download was "
                     "corrupted; try again, and tell the index's maintainers if it persists",
            )
    if not required:
        return
    if not any(digests.get(algo) == expected for algo, expected in required):
        got = ", ".join(f"{a}:{digests[a]}" for a, _ in required if a in digests)
        raise WarmbuildError(
            f"hash mismatch for {file.filename}: it has none of the hashes required for "
            f"{file.name}",
            cause=f"required: {', '.join(f'{a}:{d}' for a, d in required)}\n     got: {got}",
            hint="update the --hash values if this file is the one you mean to install",
        )
