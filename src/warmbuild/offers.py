"""What the indexes offer the resolver for one project: per version, the file to use.

Kept per project and per specifier: while backtracking the resolver asks for the same
project with the same requirements thousands of times (botocore has ~2000 versions), and
recomputing the list was most of the time such a resolution took (issue 11).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName
from packaging.version import Version

from .dists import DistFile

if TYPE_CHECKING:
    from .resolve import Policy

#: One version: its best usable file, and its best usable file that is not yanked.
Row = tuple[Version, DistFile | None, DistFile | None]


class Offers:
    """The files ``finder`` lists, filtered and ranked for the target ``policy`` names."""

    def __init__(self, policy: Policy, finder: Callable[[str], Sequence[DistFile]]) -> None:
        self.policy = policy
        self._finder = finder
        self.priority = {tag: i for i, tag in enumerate(policy.tags)}
        # Both only grow; a race between prefetch threads computes the same value twice.
        self._rows: dict[NormalizedName, tuple[Row, ...]] = {}
        self._matching: dict[tuple[NormalizedName, SpecifierSet],
                             tuple[tuple[Version, DistFile], ...]] = {}

    def matching(self, name: NormalizedName,
                 spec: SpecifierSet) -> tuple[tuple[Version, DistFile], ...]:
        """The versions ``spec`` allows with the file for each, newest first (then by index
        order and ``--prefer-binary``, when set)."""
        key = (name, spec)
        found = self._matching.get(key)
        if found is None:
            rows = self._offered(name)
            allowed = set(spec.filter([v for v, _, _ in rows],
                                      prereleases=True if self.policy.pre else None))
            # Every allowed version satisfies an `==` pin, so it is exactly pinned: a yanked
            # file is then still offered (PEP 592).
            pinned = any(s.operator in ("==", "===") and "*" not in s.version for s in spec)
            found = tuple((version, file) for version, best, unyanked in rows
                          if version in allowed
                          for file in [best if pinned else unyanked] if file is not None)
            if self.policy.index_order or self.policy.prefer_binary:
                found = tuple(sorted(found, key=self._order))  # stable: newest first within
            self._matching[key] = found
        return found

    def supported(self, file: DistFile) -> bool:
        """A wheel with a tag of the target's (an sdist always is)."""
        return file.kind != "wheel" or any(t in self.priority for t in file.tags)

    def _offered(self, name: NormalizedName) -> tuple[Row, ...]:
        found = self._rows.get(name)
        if found is None:
            by_version: dict[Version, list[DistFile]] = {}
            for file in self._finder(name):
                by_version.setdefault(file.version, []).append(file)
            hashes = self.policy.allowed_hashes.get(name)
            rows = []
            for version in sorted(by_version, reverse=True):
                usable = [f for f in by_version[version] if self._usable(f, hashes)]
                rows.append((version, min(usable, key=self._rank, default=None),
                             min((f for f in usable if not f.is_yanked), key=self._rank,
                                 default=None)))
            found = self._rows[name] = tuple(rows)
        return found

    def _order(self, row: tuple[Version, DistFile]) -> tuple[bool, int]:
        file = row[1]
        order = self.policy.index_order
        rank = order.index(file.origin) if file.origin in order else 0
        return (self.policy.prefer_binary and file.kind != "wheel", rank)

    def _usable(self, file: DistFile, hashes: frozenset[str] | None) -> bool:
        if not self.policy.formats.allows(file.name, file.kind):
            return False
        if file.kind not in ("sdist", "wheel") or not self.supported(file):
            return False
        if file.requires_python is not None and not self.policy.ignore_requires_python \
                and not file.requires_python.contains(self.policy.python_version,
                                                      prereleases=True):
            return False
        return hashes is None or not file.hashes or any(d in hashes for _, d in file.hashes)

    def _rank(self, file: DistFile) -> int:
        """Lower is better: wheels by the target's tag order, then an sdist."""
        if file.kind == "sdist":
            return len(self.priority)
        return min(self.priority.get(t, len(self.priority)) for t in file.tags)
