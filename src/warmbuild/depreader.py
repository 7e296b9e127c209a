"""The resolver's dependency reader: what a candidate depends on, from installed METADATA,
a PEP 658 file, an sdist's PKG-INFO, or the wheel itself.

The resolver asks only when it needs a candidate's dependencies; each answer is read once.
A ``--hash`` is checked before a file is read, let alone built.
"""

from __future__ import annotations

from collections.abc import Mapping

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName

from ._threads import KeyedLocks
from .coremeta import parse_dependencies
from .dists import DistFile
from .fetch import Fetcher
from .index import Finder
from .resolve import Candidate
from .sdist import SdistBuilder
from .wheelcheck import read_metadata


class DependencyReader:
    """Dependencies of a candidate: installed METADATA, PEP 658 file, or the wheel itself.

    The metadata texts it read are kept (:meth:`text`): the installation report needs
    them after the resolver is done.
    """

    def __init__(self, finder: Finder, fetcher: Fetcher, trees: Mapping[str, str],
                 sdists: SdistBuilder,
                 hashes: Mapping[NormalizedName, tuple[tuple[str, str], ...]]) -> None:
        self._finder = finder
        self._fetcher = fetcher
        self._trees = trees
        self._sdists = sdists
        #: ``--hash`` values: checked before a file is read, let alone built.
        self._hashes = hashes
        self._cache: dict[tuple[str, str], tuple[tuple[Requirement, ...],
                                                 SpecifierSet | None]] = {}
        self._locks: KeyedLocks[tuple[str, str]] = KeyedLocks()
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
            fetched = self._fetcher.fetch(file, required)
            return self._sdists.metadata(fetched.path, fetched.sha256)
        data = self._finder.metadata(file)
        if data is None and not required:
            # With --hash, the whole file is checked before anything in it is read.
            data = self._fetcher.remote_metadata(file)
        if data is not None:
            return data.decode("utf-8", "replace")
        # Read under the rules the wheel is unpacked by, so that a broken archive gets
        # the same error here as it would at install time.
        return read_metadata(self._fetcher.fetch(file, required).path)
