"""Source tree -> metadata -> wheel, editable wheel or sdist, in the tree's persistent env.

A :class:`TreeBuilder` holds the tree's locked build env for the whole run, so metadata and
build hooks use one env (uv#14269 is two envs in one run), and the env outlives the run.
Metadata comes from a complete static ``[project]`` table when there is one (no hook),
else ``prepare_metadata_for_build_*``, else from a built wheel, which the build then reuses.
"""

from __future__ import annotations

import contextlib
import email.parser
import hashlib
import json
import os
import shutil
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import (
    InvalidSdistFilename,
    NormalizedName,
    canonicalize_name,
    parse_sdist_filename,
)
from packaging.version import InvalidVersion, Version

from ._log import format_duration, logger, progress
from .builddirs import stale_build_dirs
from .buildenv import (
    BuildEnv,
    EnvReport,
    Syncer,
    default_root,
    env_path,
    interpreter_identity,
    open_env,
    target_environ,
)
from .cache import Cache
from .errors import BuildError, InstallError, SourceError
from .fetch import sha256_of
from .hooks import ConfigSettings, Hooks, Kind
from .installed import scan
from .python import Target
from .resolve import marker_applies
from .settings import BuildSettings
from .source import SourceTree, is_valid_name, load_source_tree

#: Environment variables that change what a native build produces; recorded in the manifest.
BUILD_ENV_VARS = ("CC", "CXX", "CFLAGS", "CXXFLAGS", "CPPFLAGS", "LDFLAGS", "CMAKE_ARGS",
                  "CMAKE_GENERATOR", "MAKEFLAGS", "SETUPTOOLS_SCM_PRETEND_VERSION")


@dataclass(frozen=True)
class BuildOptions:
    config_settings: ConfigSettings = field(default_factory=dict)
    isolation: bool = True
    refresh_env: bool = False
    upgrade_env: bool = False
    #: ``--build-env-dir`` / ``WARMBUILD_BUILD_ENV_DIR`` (else ``[tool.warmbuild]``).
    env_dir: str | None = None
    verbose: bool = False
    settings: BuildSettings = field(default_factory=BuildSettings)


@dataclass(frozen=True)
class TreeMetadata:
    name: str
    version: str
    #: The METADATA text (core metadata) the resolver reads dependencies from.
    text: str


class TreeBuilder:
    def __init__(self, tree: SourceTree, target: Target, cache: Cache, sync: Syncer,
                 options: BuildOptions, *, shared_env: Path | None = None) -> None:
        """``shared_env``: use that env instead of the tree's own (sdist builds)."""
        self.tree = tree
        self._shared_env = shared_env
        self.target = target
        settings = options.settings
        self.options = replace(
            options, isolation=options.isolation and tree.name not in settings.no_build_isolation,
            config_settings={**settings.config_settings.get(tree.name, {}),
                             **options.config_settings})
        self._cache = cache
        self._sync = sync
        self._stack = contextlib.ExitStack()
        self._prepared: set[str] = set()
        self._metadata_dirs: dict[str, Path] = {}
        self._built: dict[str, Path] = {}
        self._work = Path(tempfile.mkdtemp(prefix="warmbuild-build-"))
        self._stack.callback(shutil.rmtree, self._work, ignore_errors=True)
        self.env: BuildEnv | None = None
        self.hooks = self._open()

    def close(self) -> None:
        self._stack.close()

    def __enter__(self) -> TreeBuilder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def declared(self) -> list[str]:
        extra = self.options.settings.extra_build_dependencies.get(self.tree.name, ())
        return [str(r) for r in self.tree.requires] + list(extra)

    def _record(self) -> dict[str, Any]:
        listed = (*BUILD_ENV_VARS, *self.options.settings.env_vars)
        return {"tree": str(self.tree.path), "backend": self.tree.backend,
                "config_settings": dict(self.options.config_settings),
                "env_vars": {k: os.environ[k] for k in listed if k in os.environ},
                # Their content, not their names: an edited constraints file re-syncs.
                "build_constraints": _digest_files(self.options.settings.build_constraints),
                "shared": self._shared_env is not None}

    def _open(self) -> Hooks:
        if not self.options.isolation:
            self._check_satisfied(self.declared, "build-system.requires")
            return Hooks(self.tree, self.target.executable,
                         target_environ(self.target),
                         self.options.config_settings, where=f"{self.target.prefix} (no "
                         "isolation)", stream=self.options.verbose)
        configured = (self.options.env_dir or self.tree.settings.get("build-env-dir")
                      or self.options.settings.env_dir)
        root = default_root(self._cache, self.tree.path, configured)
        key_vars = {k: os.environ.get(k) for k in self.options.settings.env_vars}
        self.session = self._stack.enter_context(open_env(
            self._shared_env or env_path(root, self.tree.path, self.tree.name, self.target,
                                         key_vars),
            self.target,
            self._sync, self._cache, refresh=self.options.refresh_env,
            upgrade=self.options.upgrade_env))
        self.env = self.session.ensure(self.declared, record=self._record())
        return Hooks(self.tree, self.env.python, self.env.environ(),
                     self.options.config_settings, where=str(self.env.path),
                     stream=self.options.verbose)

    @property
    def report(self) -> str:
        if self.env is None:
            return "no build isolation"
        changed = [r for r in self.session.reports if r.action != "reused"]
        if not changed:
            return f"{self.session.reports[-1]} at {self.env.path}"
        # One line for the run: what happened first (created beats a later sync), with
        # every change of the run.
        merged = EnvReport(changed[0].action, self.env.path,
                           tuple(c for r in changed for c in r.changes),
                           next((r.reason for r in changed if r.reason), ""))
        return f"{merged} at {self.env.path}"

    def _prepare(self, kind: Kind) -> None:
        """Add what ``get_requires_for_build_<kind>`` asks for; once per kind per run."""
        if kind in self._prepared:
            return
        hooks = self.hooks
        if self.env is not None:
            # Asked in a view without what earlier answers added, as a fresh env would be.
            hidden = self.session.hidden_by_answers(self.declared)
            hooks = replace(hooks, environ=self.env.requires_environ(
                hidden, self._work / "requires-view"))
        with self._stale_hint():
            answer = hooks.get_requires(kind)
        if self.env is None:
            self._check_satisfied(answer, f"get_requires_for_build_{kind}")
        else:
            options = self.options
            self.env = self.session.ensure(
                self.declared, record=self._record(), kind=kind, answer=answer,
                replace=options.upgrade_env or options.refresh_env,
                replacing=self.target.prefix if kind == "editable" else None)
        self._prepared.add(kind)

    def metadata(self, kind: Kind) -> TreeMetadata:
        try:
            return self._metadata(kind)
        except BuildError as exc:
            if exc.message.startswith("invalid metadata"):
                exc.message = f"{exc.message} (the metadata of {self.tree.path})"
            raise

    def _metadata(self, kind: Kind) -> TreeMetadata:
        if self.tree.static_project is not None:
            return static_metadata(self.tree.static_project)
        assert kind != "sdist"
        self._prepare(kind)
        out = self._work / f"metadata-{kind}"
        out.mkdir(exist_ok=True)
        with self._stale_hint():
            dist_info = self.hooks.prepare_metadata(kind, out)
        if dist_info is not None:
            self._metadata_dirs[kind] = dist_info
            return _parse((dist_info / "METADATA").read_text(encoding="utf-8", errors="replace"))
        wheel = self.build(kind, self._work / f"built-{kind}")
        return _parse(_built_metadata(wheel))

    def build(self, kind: Kind, out: Path) -> Path:
        if kind in self._built:
            return self._built[kind]
        self._prepare(kind)
        progress.info("Building %s (%s)", self.tree.name, kind)
        start = time.perf_counter()
        with self._stale_hint():
            built = self.hooks.build(kind, out, self._metadata_dirs.get(kind))
        logger.info("Built %s in %s (%s)", built.name, format_duration(
            time.perf_counter() - start), self.report)
        self._built[kind] = built
        return built

    @contextlib.contextmanager
    def _stale_hint(self) -> Iterator[None]:
        """A hook that fails in a tree whose build dir another frontend's deleted env left
        behind: say so, whichever hook it was."""
        try:
            yield
        except BuildError as exc:
            stale = stale_build_dirs(self.tree.path)
            if stale:
                exc.hint = (f"{stale[0].file} records {stale[0].path}, in a deleted "
                            "temporary build env of another frontend: delete "
                            f"{stale[0].file.parent} and run again (`warmbuild doctor "
                            f"{self.tree.path}` explains)")
            raise

    def _check_satisfied(self, requirements: Sequence[str], what: str) -> None:
        installed = scan(self.target)
        missing = []
        for text in requirements:
            req = Requirement(text)
            if not marker_applies(req.marker, self.target.markers, what=f"{text} ({what})"):
                continue
            dist = installed.get(canonicalize_name(req.name))
            if dist is None or not req.specifier.contains(dist.version, prereleases=True):
                missing.append(text if dist is None else f"{text} (found {dist.version})")
        if missing:
            raise BuildError(
                f"--no-build-isolation: the target {self.target.prefix} lacks build "
                f"requirements of {self.tree.path} ({what})",
                cause="\n".join(missing),
                hint="install them into the target first, or build with isolation")


def static_metadata(project: Mapping[str, Any]) -> TreeMetadata:
    """Core metadata from a complete ``[project]`` table (PEP 621), which ``source`` has
    already checked field by field."""
    lines = ["Metadata-Version: 2.1", f"Name: {project['name']}",
             f"Version: {project['version']}"]
    if project.get("requires-python"):
        lines.append(f"Requires-Python: {project['requires-python']}")
    lines += [f"Requires-Dist: {Requirement(dep)}" for dep in project.get("dependencies", [])]
    for extra, deps in project.get("optional-dependencies", {}).items():
        lines.append(f"Provides-Extra: {extra}")
        for dep in deps:
            req = Requirement(dep)
            marker = f'extra == "{extra}"'
            if req.marker is not None:
                marker = f"({req.marker}) and {marker}"
                req.marker = None
            lines.append(f"Requires-Dist: {req}; {marker}")
    return _parse("\n".join(lines) + "\n")


def _digest_files(paths: Sequence[Path]) -> str | None:
    if not paths:
        return None
    digest = hashlib.sha256()
    for path in paths:
        digest.update(str(path).encode() + b"\0")
        with contextlib.suppress(OSError):
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def wheel_metadata(wheel: Path) -> str | None:
    """The text of a wheel's ``.dist-info/METADATA``, or ``None`` when it has none."""
    try:
        with zipfile.ZipFile(wheel) as zf:
            name = next((n for n in zf.namelist()
                         if n.count("/") == 1 and n.endswith(".dist-info/METADATA")), None)
            return zf.read(name).decode("utf-8", "replace") if name else None
    except (OSError, zipfile.BadZipFile) as exc:
        raise InstallError(f"{wheel.name}: not a valid wheel (not a readable zip archive)",
                           cause=str(exc)) from exc


def _built_metadata(wheel: Path) -> str:
    text = wheel_metadata(wheel)
    if text is None:
        raise BuildError(f"the backend built {wheel.name}, which has no .dist-info/METADATA")
    return text


def _parse(text: str) -> TreeMetadata:
    msg = email.parser.HeaderParser().parsestr(text)
    name, version = str(msg["Name"] or "").strip(), str(msg["Version"] or "").strip()
    if not name or not version:
        raise BuildError("invalid metadata: no Name or no Version")
    if not is_valid_name(name):
        raise BuildError(f"invalid metadata: Name {name!r} is not a valid project name")
    try:
        Version(version)
    except InvalidVersion as exc:
        raise BuildError(f"invalid metadata: Version {version!r} is not a PEP 440 version"
                         ) from exc
    return TreeMetadata(name, version, text)


def _metadata_version(text: str | None) -> tuple[int, ...]:
    """``Metadata-Version`` as numbers; unreadable counts as too old to trust."""
    try:
        return tuple(int(part) for part in (text or "0").strip().split("."))
    except ValueError:
        return (0,)


class SdistBuilder:
    """Wheels for dependencies that ship only an sdist, built once and cached.

    Each sdist is unpacked into a temporary tree and built out of tree, in a persistent env
    shared by every sdist with the same ``build-system.requires`` for the same interpreter
    (PDM shares envs like this within a run; ours are kept). The wheel is cached in
    ``built-v1`` by the sdist's sha256, the target's interpreter and the config settings.
    """

    def __init__(self, target: Target, cache: Cache, sync: Syncer,
                 options: BuildOptions) -> None:
        self.target = target
        self._cache = cache
        self._sync = sync
        self._options = options

    def metadata(self, sdist: Path, sha256: str | None) -> str:
        """PEP 643 PKG-INFO when it declares its dependencies static, else a built wheel's."""
        pkg_info = _sdist_pkg_info(sdist)
        if pkg_info is not None:
            msg = email.parser.HeaderParser().parsestr(pkg_info)
            dynamic = {d.lower() for d in msg.get_all("Dynamic") or []}
            if _metadata_version(msg["Metadata-Version"]) >= (2, 2) and not dynamic & {
                    "requires-dist", "requires-python", "provides-extra"}:
                return pkg_info
        return _built_metadata(self.wheel(sdist, sha256))

    def wheel(self, sdist: Path, sha256: str | None) -> Path:
        """``sha256``: the sdist's, when the fetcher already knows it."""
        sha256 = sha256 or sha256_of(sdist)
        name = _sdist_name(sdist)
        settings = self._options.settings
        key = hashlib.sha256(json.dumps(
            [interpreter_identity(self.target), str(self.target.tags[0]),
             {**settings.config_settings.get(name, {}), **self._options.config_settings},
             settings.extra_build_dependencies.get(name, ()),
             _digest_files(settings.build_constraints)],
            sort_keys=True).encode()).hexdigest()[:16]
        dest = self._cache.bucket("built-v1") / sha256[:2] / sha256 / key
        if dest.is_dir():
            found = sorted(dest.glob("*.whl"))
            if found:
                return found[0]
        with self._cache.lock(dest):
            found = sorted(dest.glob("*.whl")) if dest.is_dir() else []
            if found:
                return found[0]
            with tempfile.TemporaryDirectory(prefix="warmbuild-sdist-") as tmp:
                try:
                    tree = load_source_tree(_unpack_sdist(sdist, Path(tmp)))
                except SourceError as exc:
                    # The unpacked tree is a temporary dir; the user knows the sdist.
                    raise SourceError(f"{sdist.name}: {exc.message.replace(tmp, '<sdist>')}",
                                      cause=exc.cause, hint=exc.hint) from exc
                shared = self._shared_env(tree)
                with TreeBuilder(tree, self.target, self._cache, self._sync, self._options,
                                 shared_env=shared) as builder:
                    built = builder.build("wheel", Path(tmp) / "out")
                dest.mkdir(parents=True, exist_ok=True)
                # Copied under a temporary name, then renamed: readers that do not take
                # the lock never see half a wheel.
                final = dest / built.name
                partial = dest / f".{built.name}.partial"
                shutil.copyfile(built, partial)
                os.replace(partial, final)
                return final

    def _shared_env(self, tree: SourceTree) -> Path:
        configured = self._options.env_dir
        root = default_root(self._cache, tree.path, configured)
        extra = self._options.settings.extra_build_dependencies.get(tree.name, ())
        key = json.dumps([sorted(str(r) for r in tree.requires), sorted(extra), tree.backend,
                          interpreter_identity(self.target)], sort_keys=True)
        return root / f"shared-{hashlib.sha256(key.encode()).hexdigest()[:12]}"


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
