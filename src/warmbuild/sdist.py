"""Dependencies that ship only an sdist: metadata for the resolver, wheels for the install.

Each sdist is unpacked into a temporary tree and handled in a persistent env shared by every
sdist with the same ``build-system.requires`` for the same interpreter (PDM shares envs like
this within a run; ours are kept). The resolver gets the metadata without a build: a static
PEP 643 PKG-INFO, else the backend's ``prepare_metadata_for_build_wheel``; the wheel is
built only for an install. Both are cached in ``built-v1`` by the sdist's sha256, the
target's interpreter and the config settings, so each is prepared or built once.
"""

from __future__ import annotations

import email.parser
import hashlib
import json
import os
import shutil
import tarfile
import tempfile
import time
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.utils import (
    InvalidSdistFilename,
    NormalizedName,
    canonicalize_name,
    parse_sdist_filename,
)

from ._log import format_duration, logger
from .buildopts import BuildOptions
from .cache import atomic_write
from .coremeta import built_metadata, metadata_version
from .errors import BuildError
from .fetch import sha256_of
from .python import Target
from .source import SourceTree, load_source_tree

if TYPE_CHECKING:
    from .build import BuildContext, TreeBuilder


class SdistBuilder:
    """Metadata and wheels for ``target`` from sdists, in shared envs through ``ctx``."""

    def __init__(self, target: Target, ctx: BuildContext) -> None:
        self.target = target
        self._ctx = ctx
        self._cache = ctx.cache
        self._options = ctx.options

    def metadata(self, sdist: Path, sha256: str | None) -> str:
        """Core metadata for resolution: known already, else prepared by the backend."""
        known = self.known_metadata(sdist, sha256)
        return known if known is not None else self.prepare_metadata(sdist, sha256)

    def known_metadata(self, sdist: Path, sha256: str | None) -> str | None:
        """Metadata without running a backend: a PEP 643 PKG-INFO that declares its
        dependencies static, else what an earlier run prepared or built, else ``None``."""
        pkg_info = _sdist_pkg_info(sdist)
        if pkg_info is not None:
            msg = email.parser.HeaderParser().parsestr(pkg_info)
            dynamic = {d.lower() for d in msg.get_all("Dynamic") or []}
            if metadata_version(msg["Metadata-Version"]) >= (2, 2) and not dynamic & {
                    "requires-dist", "requires-python", "provides-extra"}:
                return pkg_info
        entry = self._entry(sdist, sha256)
        if (entry / "METADATA").is_file():
            return (entry / "METADATA").read_text(encoding="utf-8", errors="replace")
        wheel = cached_wheel(entry)
        return built_metadata(wheel) if wheel is not None else None

    def prepare_metadata(self, sdist: Path, sha256: str | None) -> str:
        """The backend's ``prepare_metadata_for_build_wheel`` in the shared env, as pip
        does: an sdist whose compiler step fails still resolves. Only a backend without
        that hook builds the wheel for it (which is then kept for the install)."""
        entry = self._entry(sdist, sha256)
        with self._cache.lock(entry):
            if (entry / "METADATA").is_file():
                return (entry / "METADATA").read_text(encoding="utf-8", errors="replace")
            with tempfile.TemporaryDirectory(prefix="warmbuild-sdist-") as tmp, \
                    self._builder(sdist, Path(tmp)) as builder:
                start = time.perf_counter()
                text = builder.metadata("wheel").text
                built = builder.built("wheel")
                if built is not None:
                    keep_wheel(built, entry)
                else:
                    logger.info("Prepared metadata of %s in %s (%s)", sdist.name,
                                format_duration(time.perf_counter() - start), builder.report)
            atomic_write(entry / "METADATA", text.encode("utf-8"))
            return text

    def wheel(self, sdist: Path, sha256: str | None) -> Path:
        """``sha256``: the sdist's, when the fetcher already knows it."""
        entry = self._entry(sdist, sha256)
        found = cached_wheel(entry)
        if found is not None:
            return found
        with self._cache.lock(entry):
            found = cached_wheel(entry)
            if found is not None:
                return found
            with tempfile.TemporaryDirectory(prefix="warmbuild-sdist-") as tmp, \
                    self._builder(sdist, Path(tmp)) as builder:
                return keep_wheel(builder.build("wheel", Path(tmp) / "out"), entry)

    def _entry(self, sdist: Path, sha256: str | None) -> Path:
        """Where the sdist's wheel and prepared metadata are kept: by the sdist's sha256
        and what else changes the build (interpreter, config settings, constraints)."""
        sha256 = sha256 or sha256_of(sdist)
        key = built_key(self.target, self._options, _sdist_name(sdist))
        return self._cache.bucket("built-v1") / sha256[:2] / sha256 / key

    def _builder(self, sdist: Path, tmp: Path) -> TreeBuilder:
        from .build import TreeBuilder

        # The unpacked tree is a temporary dir; the user knows the sdist.
        unpacked = _unpack_sdist(sdist, tmp)
        tree = load_source_tree(unpacked, shown_as=f"{sdist.name}:{unpacked.name}")
        # A legacy sdist (setup.py only) would otherwise be named after its directory,
        # `regex-2021-11-9`, in messages and per-package settings.
        tree = replace(tree, name=_sdist_name(sdist))
        return TreeBuilder(tree, self.target, self._ctx, shared_env=self._shared_env(tree))

    def _shared_env(self, tree: SourceTree) -> Path:
        from .buildenv import default_root, interpreter_identity

        configured = self._options.env_dir
        root = default_root(self._cache, tree.path, configured)
        extra = self._options.settings.extra_build_dependencies.get(tree.name, ())
        key = json.dumps([sorted(str(r) for r in tree.requires), sorted(extra), tree.backend,
                          interpreter_identity(self.target)], sort_keys=True)
        return root / f"shared-{hashlib.sha256(key.encode()).hexdigest()[:12]}"


def built_key(target: Target, options: BuildOptions, name: NormalizedName) -> str:
    """What else a built wheel depends on: the interpreter and the package's settings."""
    from .build import digest_files
    from .buildenv import interpreter_identity

    settings = options.settings
    return hashlib.sha256(json.dumps(
        [interpreter_identity(target), str(target.tags[0]),
         {**settings.config_settings.get(name, {}), **options.config_settings},
         settings.extra_build_dependencies.get(name, ()),
         digest_files(settings.build_constraints)],
        sort_keys=True).encode()).hexdigest()[:16]


def cached_wheel(entry: Path) -> Path | None:
    """The wheel kept in the ``built-v1`` entry, if one was built."""
    found = sorted(entry.glob("*.whl")) if entry.is_dir() else []
    return found[0] if found else None


def keep_wheel(built: Path, entry: Path) -> Path:
    """Copy a fresh build into its ``built-v1`` entry (the caller holds the entry's lock)."""
    entry.mkdir(parents=True, exist_ok=True)
    # Copied under a temporary name, then renamed: readers that do not take the lock never
    # see half a wheel.
    final = entry / built.name
    partial = entry / f".{built.name}.partial"
    shutil.copyfile(built, partial)
    os.replace(partial, final)
    return final


def _sdist_name(sdist: Path) -> NormalizedName:
    try:
        return canonicalize_name(parse_sdist_filename(sdist.name)[0])
    except InvalidSdistFilename:
        return canonicalize_name(sdist.name.split("-")[0])


def _sdist_pkg_info(sdist: Path) -> str | None:
    try:
        if sdist.name.endswith(".zip"):
            with zipfile.ZipFile(sdist) as zf:
                names = [n for n in zf.namelist() if n.count("/") == 1
                         and n.endswith("/PKG-INFO")]
                return zf.read(names[0]).decode("utf-8") if names else None
        with tarfile.open(sdist) as tf:
            member = next((m for m in tf.getmembers() if m.name.count("/") == 1
                           and m.name.endswith("/PKG-INFO")), None)
            handle = tf.extractfile(member) if member else None
            return handle.read().decode("utf-8") if handle else None
    except (OSError, tarfile.TarError, zipfile.BadZipFile, UnicodeDecodeError) as exc:
        raise BuildError(f"{sdist.name}: not a readable source distribution",
                         cause=str(exc)) from exc


def _unpack_sdist(sdist: Path, into: Path) -> Path:
    """The sdist's single top-level directory, unpacked (with tarfile's safe ``data`` filter)."""
    out = into / "src"
    try:
        if sdist.name.endswith(".zip"):
            with zipfile.ZipFile(sdist) as zf:
                for name in zf.namelist():
                    if name.startswith("/") or ".." in Path(name).parts:
                        raise BuildError(f"{sdist.name}: unsafe path {name!r}")
                zf.extractall(out)
        else:
            with tarfile.open(sdist) as tf:
                tf.extractall(out, filter="data")
    except (OSError, tarfile.TarError, zipfile.BadZipFile) as exc:
        raise BuildError(f"{sdist.name}: cannot unpack the source distribution",
                         cause=str(exc)) from exc
    entries = [p for p in out.iterdir() if p.is_dir()]
    if len(entries) != 1:
        raise BuildError(f"{sdist.name}: expected one top-level directory in the sdist")
    return entries[0]
