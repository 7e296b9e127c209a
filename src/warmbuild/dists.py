"""Frozen values that describe distribution files, shared by the index, resolver and fetcher."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from packaging.specifiers import SpecifierSet
from packaging.tags import Tag, parse_tag
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

if TYPE_CHECKING:
    from datetime import datetime


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
    #: PEP 700 ``upload-time`` (JSON pages only), for ``--exclude-newer``.
    upload_time: datetime | None = field(default=None, compare=False)

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
            parts = filename[:-4].split("-")
            if len(parts) not in (5, 6):
                parse_wheel_filename(filename)  # raises, naming what is wrong
            name, version = _wheel_prefix("-".join(parts[:-3]))
            return name, version, "wheel", _wheel_tags("-".join(parts[-3:]))
        if filename.endswith((".tar.gz", ".zip")):
            name, version = parse_sdist_filename(filename)
            return canonicalize_name(name), version, "sdist", frozenset()
    except (InvalidWheelFilename, InvalidSdistFilename, ValueError):
        return None
    return None


# A project page lists the same versions and tag triples again and again (numpy's has 4,381
# files): each is parsed once, by packaging, and the immutable results shared.
@functools.lru_cache(maxsize=1 << 16)
def _wheel_prefix(prefix: str) -> tuple[NormalizedName, Version]:
    """``name-version[-build]`` of a wheel filename, checked as packaging checks it."""
    name, version, _build, _tags = parse_wheel_filename(f"{prefix}-py3-none-any.whl")
    return name, version


@functools.lru_cache(maxsize=1 << 12)
def _wheel_tags(triple: str) -> frozenset[Tag]:
    return parse_tag(triple)


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


@dataclass(frozen=True)
class FormatControl:
    """Which kinds of file each project may use: pip's ``--only-binary``/``--no-binary``.

    Values hold canonical names or ``:all:``; a project's own entry beats ``:all:``.
    """

    only_binary: frozenset[str] = frozenset()
    no_binary: frozenset[str] = frozenset()

    @classmethod
    def binary_only(cls) -> FormatControl:
        return cls(only_binary=frozenset({":all:"}))

    def add(self, option: str, value: str) -> FormatControl:
        """One ``--only-binary``/``--no-binary`` value, applied as pip applies it: a comma
        list of names, ``:all:`` (clears both lists) or ``:none:`` (clears this one); a name
        moves from the other list to this one."""
        only = option == "--only-binary"
        target = set(self.only_binary if only else self.no_binary)
        other = set(self.no_binary if only else self.only_binary)
        for item in filter(None, (v.strip() for v in value.split(","))):
            if item == ":all:":
                target, other = {":all:"}, set()
            elif item == ":none:":
                target.clear()
            else:
                name = canonicalize_name(item)
                other.discard(name)
                target.add(name)
        if only:
            return FormatControl(frozenset(target), frozenset(other))
        return FormatControl(frozenset(other), frozenset(target))

    def allows(self, name: str, kind: str) -> bool:
        """Whether a ``wheel`` or ``sdist`` of project ``name`` may be used."""
        if name in self.only_binary:
            return kind != "sdist"
        if name in self.no_binary:
            return kind != "wheel"
        if ":all:" in self.only_binary:
            return kind != "sdist"
        return not (":all:" in self.no_binary and kind == "wheel")
