"""Frozen values that describe distribution files, shared by the index, resolver and fetcher."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from packaging.specifiers import SpecifierSet
from packaging.tags import Tag
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    NormalizedName,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import Version

from .vcsurl import VcsInfo


@dataclass(frozen=True)
class DistFile:
    """One file offered by an index, a find-links location, a URL or a local path."""

    filename: str
    #: ``https://``, ``http://`` or ``file://`` URL, without the hash fragment.
    url: str
    name: NormalizedName
    version: Version
    #: ``tree``: a local source tree, built by warmbuild.
    kind: Literal["wheel", "sdist", "tree"]
    #: Wheel tags; empty for an sdist.
    tags: frozenset[Tag] = frozenset()
    requires_python: SpecifierSet | None = None
    #: ``None`` when not yanked, else the reason (``""`` when none was given); PEP 592.
    yanked: str | None = None
    #: Hashes the index published, as ``(algorithm, hexdigest)`` pairs.
    hashes: tuple[tuple[str, str], ...] = ()
    #: PEP 658/714 metadata file URL, when the index offers one.
    metadata_url: str | None = None
    metadata_hashes: tuple[tuple[str, str], ...] = ()
    #: Where the file was found (index URL, find-links location, or ``"direct"``).
    origin: str = field(default="", compare=False)

    @property
    def is_yanked(self) -> bool:
        return self.yanked is not None

    @property
    def sha256(self) -> str | None:
        return dict(self.hashes).get("sha256")


def parse_filename(filename: str) -> tuple[NormalizedName, Version, Literal["wheel", "sdist"],
                                           frozenset[Tag]] | None:
    """Name, version, kind and tags from a distribution filename; ``None`` if it is not one."""
    try:
        if filename.endswith(".whl"):
            name, version, _build, tags = parse_wheel_filename(filename)
            return name, version, "wheel", tags
        if filename.endswith((".tar.gz", ".zip")):
            name, version = parse_sdist_filename(filename)
            return canonicalize_name(name), version, "sdist", frozenset()
    except (InvalidWheelFilename, InvalidSdistFilename, ValueError):
        return None
    return None


@dataclass(frozen=True)
class ResolvedDist:
    """One distribution the resolver chose for the target."""

    name: NormalizedName
    version: Version
    #: The file to install; ``None`` when an installed distribution already satisfies.
    file: DistFile | None
    #: Named by the user (command line or a requirements file), so ``REQUESTED`` is written.
    requested: bool
    #: The URL the user gave (``name @ url`` or a local path turned into ``file://``), for
    #: PEP 610 ``direct_url.json``; ``None`` for index installs.
    direct_url: str | None = None
    #: ``--hash`` values the user required, as ``(algorithm, hexdigest)`` pairs.
    required_hashes: tuple[tuple[str, str], ...] = ()
    #: A source tree installed in editable mode (PEP 660).
    editable: bool = False
    #: The build env an editable install keeps using (meson-python rebuilds on import);
    #: recorded next to the install so ``env prune`` leaves that env alone.
    build_env: str | None = None
    #: The git commit it was built from (``git+`` requirements): PEP 610 ``vcs_info``.
    vcs: VcsInfo | None = None
    #: What an editable install was made from (``fingerprint``), when an unchanged one
    #: may be kept without a build.
    fingerprint: str | None = None
