"""What a target environment has installed, read from its ``*.dist-info`` directories.

Read from the files rather than by importing in the target, so that listing and planning
cost no interpreter start; the format is the same whoever installed (pip, uv, warmbuild).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from .errors import WarmbuildError
from .python import Target

if TYPE_CHECKING:
    from email.message import Message


@dataclass(frozen=True)
class InstalledDist:
    name: NormalizedName
    #: The name as the distribution spells it (``Jinja2``).
    display_name: str
    version: Version
    #: The ``.dist-info`` (or legacy ``.egg-info``) directory.
    info_dir: Path

    @property
    def site_dir(self) -> Path:
        return self.info_dir.parent

    def read_text(self, filename: str) -> str | None:
        try:
            return (self.info_dir / filename).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    def metadata_text(self) -> str:
        return self.read_text("METADATA") or self.read_text("PKG-INFO") or ""

    def metadata(self) -> Message:
        import email.parser

        return email.parser.HeaderParser().parsestr(self.metadata_text())

    def requires(self) -> tuple[Requirement, ...]:
        reqs = []
        for line in self.metadata().get_all("Requires-Dist") or []:
            try:
                reqs.append(Requirement(line))
            except InvalidRequirement:
                continue  # a broken line in someone else's METADATA must not stop us
        return tuple(reqs)

    def direct_url(self) -> dict[str, object] | None:
        text = self.read_text("direct_url.json")
        if text is None:
            return None
        try:
            data = json.loads(text)
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    @property
    def installer(self) -> str:
        return (self.read_text("INSTALLER") or "").strip()

    @property
    def requested(self) -> bool:
        return (self.info_dir / "REQUESTED").exists()

    @property
    def editable(self) -> bool:
        info = self.direct_url()
        dir_info = info.get("dir_info") if info else None
        return isinstance(dir_info, dict) and bool(dir_info.get("editable"))

    def record_paths(self) -> list[Path] | None:
        """Absolute paths of every file in RECORD, or ``None`` without a RECORD."""
        try:
            text = (self.info_dir / "RECORD").read_bytes().decode("utf-8")
        except OSError:
            return None
        except UnicodeDecodeError as exc:
            raise WarmbuildError(f"cannot uninstall {self.display_name} {self.version}: "
                                 f"{self.info_dir / 'RECORD'} is not UTF-8 text",
                                 hint="remove it by hand") from exc
        paths = []
        import csv

        for row in csv.reader(text.splitlines()):
            if row and row[0]:
                paths.append(Path(os.path.normpath(self.site_dir / row[0])))
        return paths


def scan(target: Target) -> dict[NormalizedName, InstalledDist]:
    """Every distribution in the target's site directories; the first one found wins."""
    return scan_dirs(target.site_dirs)


def scan_dirs(dirs: Iterable[Path]) -> dict[NormalizedName, InstalledDist]:
    """Every distribution in ``dirs``; the first one found wins."""
    found: dict[NormalizedName, InstalledDist] = {}
    for site in dirs:
        try:
            entries = sorted(os.scandir(site), key=lambda e: e.name)
        except FileNotFoundError:
            continue
        for entry in entries:
            if not entry.name.endswith((".dist-info", ".egg-info")) or not entry.is_dir():
                continue
            dist = _read_dist(Path(entry.path))
            if dist is not None and dist.name not in found:
                found[dist.name] = dist
    return found


def _read_dist(info_dir: Path) -> InstalledDist | None:
    stem = info_dir.name.rsplit(".", 1)[0]
    name, _, version_text = stem.partition("-")
    version_text = version_text.split("-")[0]
    try:
        version = Version(version_text)
        return InstalledDist(canonicalize_name(name), name, version, info_dir)
    except InvalidVersion:
        pass
    probe = InstalledDist(canonicalize_name(name), name, Version("0"), info_dir)
    meta = probe.metadata()
    try:
        real_name = meta["Name"] or name
        return InstalledDist(canonicalize_name(real_name), real_name,
                             Version(meta["Version"] or ""), info_dir)
    except InvalidVersion:
        return None
