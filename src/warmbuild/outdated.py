"""`list --outdated` / `--uptodate`: the newest version an index offers for the target.

Pure: what the index listed for a project in, the file pip's `list --outdated` would name
out. Like pip: a file counts when the target can install it (a wheel with one of its tags,
or an sdist) and its ``Requires-Python`` admits the target; yanked files and, without
``--pre``, pre-releases do not count; for the newest version a wheel is named before an
sdist (the ``Type`` column).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from packaging.tags import Tag
from packaging.utils import NormalizedName
from packaging.version import Version

from .dists import DistFile


@dataclass(frozen=True)
class Latest:
    name: NormalizedName
    version: Version
    kind: Literal["wheel", "sdist"]


def newest(files: Iterable[DistFile], tags: Sequence[Tag], python_version: Version, *,
           pre: bool = False) -> Latest | None:
    supported = set(tags)
    best: tuple[Version, bool, DistFile] | None = None
    for file in files:
        if file.is_yanked or file.kind == "tree" or (file.version.is_prerelease and not pre):
            continue
        if file.kind == "wheel" and not supported.intersection(file.tags):
            continue
        if file.requires_python is not None and not file.requires_python.contains(
                python_version, prereleases=True):
            continue
        rank = (file.version, file.kind == "wheel")
        if best is None or rank > best[:2]:
            best = (file.version, file.kind == "wheel", file)
    if best is None:
        return None
    file = best[2]
    return Latest(file.name, file.version, "wheel" if file.kind == "wheel" else "sdist")


def newest_of(found: Mapping[NormalizedName, Iterable[DistFile]], tags: Sequence[Tag],
              python_version: Version, *, pre: bool = False) -> dict[NormalizedName, Latest]:
    """:func:`newest` for each project; those with no usable file are left out."""
    latest = {}
    for name, files in found.items():
        best = newest(files, tags, python_version, pre=pre)
        if best is not None:
            latest[name] = best
    return latest
