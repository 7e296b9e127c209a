"""The resolver's dependency reader: what a candidate depends on, from installed METADATA,
a PEP 658 file, the wheel itself, or an sdist (static PKG-INFO, else its backend's metadata
hook).

The resolver asks only when it needs a candidate's dependencies; each answer is read once.
A ``--hash`` is checked before a file is read, let alone prepared.

Preparing an sdist's metadata runs its backend (seconds each), and a resolver walking back
through a project's old releases can ask for dozens. So the first sdist of each project is
prepared freely, and every further one (an older release, reached only by backtracking)
counts towards a cap (``--max-sdist-builds``); reaching it stops the resolution with
:class:`SdistCapReached`, which the caller explains with the conflict behind it.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName

from ._threads import KeyedLocks
from .coremeta import parse_dependencies
from .dists import DistFile
from .errors import BuildError
from .fetch import Fetcher
from .index import Finder
from .options import DEFAULT_MAX_SDIST_BUILDS
from .resolve import Candidate

if TYPE_CHECKING:
    from .sdist import SdistBuilder  # a run with no sdist never imports tarfile


class SdistCapReached(Exception):
    """Not a user-facing error: the caller turns it into one that names the conflict."""

    def __init__(self, candidate: Candidate, prepared: tuple[Candidate, ...], cap: int):
        super().__init__(f"sdist cap {cap} reached at {candidate}")
        self.candidate = candidate
        self.prepared = prepared
        self.cap = cap


class SdistFailed(Exception):
    """An sdist's metadata could not be prepared; ``error`` is the final BuildError, which
    the caller raises as it is, or explains with the conflict that led to this sdist."""

    def __init__(self, candidate: Candidate, error: BuildError):
        super().__init__(str(error))
        self.candidate = candidate
        self.error = error


class DependencyReader:
    """Dependencies of a candidate: installed METADATA, PEP 658 file, or the wheel itself.

    The metadata texts it read are kept (:meth:`text`): the installation report needs
    them after the resolver is done.
    """

    def __init__(self, finder: Finder, fetcher: Fetcher, trees: Mapping[str, str],
                 sdists: SdistBuilder,
                 hashes: Mapping[NormalizedName, tuple[tuple[str, str], ...]], *,
                 max_sdist_builds: int = DEFAULT_MAX_SDIST_BUILDS) -> None:
        self._finder = finder
        self._fetcher = fetcher
        self._trees = trees
        self._sdists = sdists
        #: ``--hash`` values: checked before a file is read, let alone built.
        self._hashes = hashes
        self._cache: dict[tuple[str, str], tuple[tuple[Requirement, ...],
                                                 SpecifierSet | None]] = {}
        self._locks: KeyedLocks[tuple[str, str]] = KeyedLocks()
        self.max_sdist_builds = max_sdist_builds
        #: Every sdist whose metadata was prepared, in order.
        self.prepared: list[Candidate] = []
        self._prepared_lock = threading.Lock()
        self._texts: dict[str, str] = {}
        self._text_locks: KeyedLocks[str] = KeyedLocks()

    def __call__(self, cand: Candidate) -> tuple[tuple[Requirement, ...], SpecifierSet | None]:
        # The resolver's prefetch threads ask too: one read per key, the others wait for it.
        key = (cand.name, cand.file.url if cand.file else f"installed {cand.version}")
        with self._locks(key):
            if key not in self._cache:
                text = (cand.installed.metadata_text() if cand.installed is not None
                        else self.text(cand.name, cand.file))
                self._cache[key] = parse_dependencies(text, str(cand))
            return self._cache[key]

    def text(self, name: NormalizedName, file: DistFile | None) -> str:
        """The core metadata text of ``file``, a distribution of ``name``; read once."""
        assert file is not None, "an installed candidate's metadata is its own"
        with self._text_locks(file.url):
            if file.url not in self._texts:
                self._texts[file.url] = self._read(name, file)
            return self._texts[file.url]

    def _read(self, name: NormalizedName, file: DistFile) -> str:
        if file.kind == "tree":
            return self._trees[file.url]
        required = self._hashes.get(name, ())
        if file.kind == "sdist":
            return self._sdist(Candidate(name, file.version, file=file), required)
        data = self._finder.metadata(file)
        if data is None and not required:
            # With --hash, the whole file is checked before anything in it is read.
            data = self._fetcher.remote_metadata(file)
        if data is not None:
            return data.decode("utf-8", "replace")
        # Read under the rules the wheel is unpacked by, so that a broken archive gets
        # the same error here as it would at install time.
        from .wheelcheck import read_metadata  # only a wheel downloaded for its metadata

        return read_metadata(self._fetcher.fetch(file, required).path)

    def _sdist(self, cand: Candidate, required: Sequence[tuple[str, str]]) -> str:
        assert cand.file is not None
        fetched = self._fetcher.fetch(cand.file, required)
        known = self._sdists.known_metadata(fetched.path, fetched.sha256)
        if known is not None:
            return known
        self._count(cand)
        try:
            return self._sdists.prepare_metadata(fetched.path, fetched.sha256)
        except BuildError as exc:
            raise SdistFailed(cand, exc) from exc

    def _count(self, cand: Candidate) -> None:
        with self._prepared_lock:
            older = [c for c in self.prepared if c.name == cand.name]
            extra = len(self.prepared) - len({c.name for c in self.prepared})
            if older and extra >= self.max_sdist_builds:
                raise SdistCapReached(cand, tuple(self.prepared), self.max_sdist_builds)
            self.prepared.append(cand)

