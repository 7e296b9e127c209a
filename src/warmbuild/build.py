"""Source tree -> metadata -> wheel, editable wheel or sdist, in the tree's persistent env.

A :class:`TreeBuilder` holds the tree's locked build env for the whole run, so metadata and
build hooks use one env (uv#14269 is two envs in one run), and the env outlives the run.
Metadata comes from a complete static ``[project]`` table when there is one (no hook),
else ``prepare_metadata_for_build_*``, else from a built wheel, which the build then reuses.

Builders get what they need of the run through a :class:`BuildContext` (uv's
``BuildContext``): the cache, the build options, and "install exactly these requirements
into that env" with the run's one HTTP client, index and resolver.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import shutil
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from . import compcache
from ._log import format_duration, logger, task
from .adopt import AdoptReport, adopt, plan_adoption
from .buildenv import (
    BuildEnv,
    EnvReport,
    EnvSession,
    default_root,
    env_path,
    known_envs,
    open_env,
    target_environ,
)
from .buildopts import BuildOptions
from .cache import Cache
from .coremeta import CoreMetadata, built_metadata, parse_core_metadata, static_metadata
from .errors import BuildError
from .fingerprint import fingerprint, skip_reason
from .hooks import BuildLog, Hooks, Kind
from .installed import scan
from .python import Target
from .satisfied import marker_applies
from .source import SourceTree

#: Environment variables that change what a native build produces; recorded in the manifest.
BUILD_ENV_VARS = ("CC", "CXX", "CFLAGS", "CXXFLAGS", "CPPFLAGS", "LDFLAGS", "CMAKE_ARGS",
                  "CMAKE_GENERATOR", "MAKEFLAGS", "SETUPTOOLS_SCM_PRETEND_VERSION")


class BuildContext(Protocol):
    """What builders need of the run; ``context.RunContext`` is the one implementation."""

    @property
    def cache(self) -> Cache: ...

    @property
    def options(self) -> BuildOptions: ...

    def install_exact(self, env: Target, requirements: Sequence[str], *,
                      upgrade: bool) -> Mapping[str, str]:
        """Make ``env`` hold exactly ``requirements`` (as wheels); ``{name: version}``."""
        ...


class TreeBuilder:
    """Builds one tree in its env; a context manager, which opens and locks the env on entry.

    Constructing one has no side effects: the temporary dir and the env lock are taken by
    ``__enter__`` and released by ``__exit__``, also when entering fails half-way.
    """

    env: BuildEnv | None
    session: EnvSession | None
    hooks: Hooks

    def __init__(self, tree: SourceTree, target: Target, ctx: BuildContext, *,
                 shared_env: Path | None = None, installs: bool = True) -> None:
        """``shared_env``: use that env instead of the tree's own (sdist builds);
        ``installs``: the build is installed into ``target`` (editable loaders there that
        another frontend left are replaced, and named)."""
        self.tree = tree
        self.target = target
        self._ctx = ctx
        self._shared_env = shared_env
        options, settings = ctx.options, ctx.options.settings
        self.options = replace(
            options, isolation=options.isolation and tree.name not in settings.no_build_isolation,
            config_settings={**settings.config_settings.get(tree.name, {}),
                             **options.config_settings})
        self._prepared: set[str] = set()
        self._metadata_dirs: dict[str, Path] = {}
        self._metadata_texts: dict[str, str] = {}
        self._built: dict[str, Path] = {}
        self._stack = contextlib.ExitStack()
        self._installs = installs
        self.adoption = AdoptReport(tree.path)
        self.compiler_cache: compcache.CacheSetup | None = None
        #: The compiler cache's figures of the last build, for the build line.
        self.cache_stats: compcache.Stats | None = None

    def __enter__(self) -> TreeBuilder:
        try:
            self._work = Path(tempfile.mkdtemp(prefix="warmbuild-build-"))
            self._stack.callback(shutil.rmtree, self._work, ignore_errors=True)
            self.env, self.session = None, None
            self.hooks = self._with_compiler_cache(self._open())
            self._adopt()
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    @property
    def declared(self) -> list[str]:
        extra = self.options.settings.extra_build_dependencies.get(self.tree.name, ())
        # The compiler cache's own binary comes from the index when it is not on PATH.
        tool = compcache.requirement(self._setting("compiler-cache",
                                                   self.options.settings.compiler_cache))
        return [str(r) for r in self.tree.requires] + list(extra) + (
            [tool] if tool and self.options.isolation else [])

    def _setting(self, key: str, merged: str | None) -> str | None:
        """``merged`` unless only the config files set it: then the tree's own
        ``[tool.warmbuild]`` wins, as for ``build-env-dir``."""
        own = self.tree.settings.get(key)
        if own is None or self.options.settings.sources.get(key) in ("command line",
                                                                      "environment"):
            return merged
        return None if own == "none" else str(own)

    def _adopt(self) -> None:
        """Reconfigure build dirs another frontend's deleted env left (``adopt``), before
        the first hook runs."""
        own = self.tree.settings.get("adopt")
        if not self.options.settings.adopt or own is False:
            return
        live = {str(k.path) for k in known_envs(self._ctx.cache)}
        if self.env is not None:
            live.add(str(self.env.path))
        sites = self.target.site_dirs if self._installs else ()
        scripts = Path((self.env.target if self.env else self.target).paths["scripts"])
        self.adoption = adopt(plan_adoption(self.tree.path, live, sites), scripts / "meson")
        for line in self.adoption.lines():
            logger.info("%s", line)

    def _with_compiler_cache(self, hooks: Hooks) -> Hooks:
        tool = self._setting("compiler-cache", self.options.settings.compiler_cache)
        if tool is None:
            return hooks
        scripts = Path((self.env.target if self.env else self.target).paths["scripts"])
        exe = compcache.locate(tool, scripts, os.environ)
        self.compiler_cache = compcache.start(
            tool, exe, self.tree.path, self.env.path if self.env else None,
            self.tree.backend, hooks.environ)
        self._stack.callback(compcache.stop, self.compiler_cache, hooks.environ)
        return replace(hooks, environ={**hooks.environ, **self.compiler_cache.environ})

    def _record(self) -> dict[str, Any]:
        listed = (*BUILD_ENV_VARS, *self.options.settings.env_vars)
        return {"tree": str(self.tree.path), "backend": self.tree.backend,
                "config_settings": dict(self.options.config_settings),
                "env_vars": {k: os.environ[k] for k in listed if k in os.environ},
                # Their content, not their names: an edited constraints file re-syncs.
                "build_constraints": digest_files(self.options.settings.build_constraints),
                "shared": self._shared_env is not None}

    def _open(self) -> Hooks:
        if not self.options.isolation:
            self._check_satisfied(self.declared, "build-system.requires")
            # No env to keep the logs in: they go to the cache, one directory per tree.
            key = hashlib.sha256(str(self.tree.path).encode()).hexdigest()[:12]
            logs = self._ctx.cache.bucket("logs-v1") / f"{self.tree.name}-{key}"
            return Hooks(self.tree, self.target.executable, target_environ(self.target),
                         self.options.config_settings,
                         where=f"{self.target.prefix} (no isolation)",
                         stream=self.options.verbose, log=BuildLog(logs, self.tree.name))
        path = self.env_dir()
        assert path is not None
        self.session = self._stack.enter_context(open_env(
            path, self.target, self._ctx, self._ctx.cache, refresh=self.options.refresh_env,
            upgrade=self.options.upgrade_env))
        self.env = self.session.ensure(self.declared, record=self._record())
        return Hooks(self.tree, self.env.python, self.env.environ(),
                     self.options.config_settings, where=str(self.env.path),
                     stream=self.options.verbose,
                     log=BuildLog(self.env.path / "logs", self.tree.name))

    def env_dir(self) -> Path | None:
        """Where the tree's env is (``None`` without isolation); nothing is created."""
        if not self.options.isolation:
            return None
        if self._shared_env is not None:
            return self._shared_env
        configured = (self.options.env_dir or self.tree.settings.get("build-env-dir")
                      or self.options.settings.env_dir)
        root = default_root(self._ctx.cache, self.tree.path, configured)
        key_vars = {k: os.environ.get(k) for k in self.options.settings.env_vars}
        return env_path(root, self.tree.path, self.tree.name, self.target, key_vars)

    @functools.cached_property
    def skip_reason(self) -> str | None:
        """Why an unchanged editable install of the tree may be kept without a build
        (``fingerprint.skip_reason``: it may walk the tree, so once per builder)."""
        return skip_reason(self.tree, self.options.config_settings)

    def fingerprint(self) -> str | None:
        """What an editable install of the tree depends on, when an unchanged one may be
        kept without a build; ``None`` when it may not."""
        if self.skip_reason is None:
            return None
        return fingerprint(self.tree, self.target, self.options.config_settings,
                           self._record()["env_vars"], self.env_dir())

    @property
    def report(self) -> str:
        cached = (f", compiler cache: {self.cache_stats}" if self.cache_stats else
                  f", compiler cache: {self.compiler_cache.tool}" if self.compiler_cache
                  else "")
        if self.env is None or self.session is None:
            return "no build isolation" + cached
        changed = [r for r in self.session.reports if r.action != "reused"]
        if not changed:
            return f"{self.session.reports[-1]} at {self.env.path}{cached}"
        # One line for the run: what happened first (created beats a later sync), with
        # every change of the run.
        merged = EnvReport(changed[0].action, self.env.path,
                           tuple(c for r in changed for c in r.changes),
                           next((r.reason for r in changed if r.reason), ""))
        return f"{merged} at {self.env.path}{cached}"

    def _prepare(self, kind: Kind) -> None:
        """Add what ``get_requires_for_build_<kind>`` asks for; once per kind per run."""
        if kind in self._prepared:
            return
        if self.env is None or self.session is None:
            self._check_satisfied(self.hooks.get_requires(kind),
                                  f"get_requires_for_build_{kind}")
        else:
            # Asked in a view without what earlier answers added, as a fresh env would be.
            hidden = self.session.hidden_by_answers(self.declared)
            hooks = replace(self.hooks, environ=self.env.requires_environ(
                hidden, self._work / "requires-view"))
            self.env = self.session.ensure(
                self.declared, record=self._record(), kind=kind,
                answer=hooks.get_requires(kind),
                replace=self.options.upgrade_env or self.options.refresh_env,
                replacing=self.target.prefix if kind == "editable" else None)
        self._prepared.add(kind)

    def metadata(self, kind: Kind) -> CoreMetadata:
        what = str(self.tree.path)
        if self.tree.static_project is not None:
            return static_metadata(self.tree.static_project, what)
        return parse_core_metadata(self.backend_metadata(kind), what)

    def backend_metadata(self, kind: Kind) -> str:
        """The backend's own metadata text, with every field it writes (an installation
        report shows them all; a static ``[project]`` table gives only what resolution
        needs): the wheel's built in this run, else ``prepare_metadata_for_build_*``'s, else
        a build's (which the build then reuses)."""
        assert kind != "sdist"
        if kind in self._built:
            return built_metadata(self._built[kind])
        if kind not in self._metadata_texts:
            self._prepare(kind)
            out = self._work / f"metadata-{kind}"
            out.mkdir(exist_ok=True)
            dist_info = self.hooks.prepare_metadata(kind, out)
            if dist_info is not None:
                self._metadata_dirs[kind] = dist_info
                text = (dist_info / "METADATA").read_text(encoding="utf-8", errors="replace")
            else:
                text = built_metadata(self.build(kind, self._work / f"built-{kind}"))
            self._metadata_texts[kind] = text
        return self._metadata_texts[kind]

    def built(self, kind: Kind) -> Path | None:
        """What ``build`` made already: ``metadata`` builds when the backend has no
        ``prepare_metadata_for_build_*`` hook."""
        return self._built.get(kind)

    def build(self, kind: Kind, out: Path) -> Path:
        if kind in self._built:
            return self._built[kind]
        self._prepare(kind)
        start = time.perf_counter()
        before = self._cache_stats()
        with task("build", self.tree.name):
            built = self.hooks.build(kind, out, self._metadata_dirs.get(kind))
        after = self._cache_stats()
        self.cache_stats = after - before if after and before else None
        logger.info("Built %s in %s (%s)", built.name, format_duration(
            time.perf_counter() - start), self.report)
        for line in self.adoption.rebuilt():
            logger.info("adopted build dir %s", line)
        self._note_compiler_cache()
        self._built[kind] = built
        return built

    def _cache_stats(self) -> compcache.Stats | None:
        if self.compiler_cache is None:
            return None
        return compcache.read_stats(self.compiler_cache, self.hooks.environ)

    def _note_compiler_cache(self) -> None:
        """``env show`` says which compiler cache the last build used, and how it did."""
        if self.session is None or self.compiler_cache is None:
            return
        self.session.note({"compiler_cache": {
            **self.compiler_cache.as_record(),
            "last_build": str(self.cache_stats) if self.cache_stats else None}})

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
                f"requirements of {self.tree.where} ({what})",
                cause="\n".join(missing),
                hint="install them into the target first, or build with isolation")


def digest_files(paths: Sequence[Path]) -> str | None:
    """A digest of files' names and contents (build constraints): an edit changes it."""
    if not paths:
        return None
    digest = hashlib.sha256()
    for path in paths:
        digest.update(str(path).encode() + b"\0")
        with contextlib.suppress(OSError):
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
