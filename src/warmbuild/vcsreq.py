"""git requirements made into what the pipeline already installs: a wheel or a source tree.

A regular ``git+URL@rev`` is pinned to a commit, then either

- a wheel built earlier from that commit (kept in ``built-v1`` by URL, commit, subdirectory,
  interpreter and settings, as sdist wheels are): ``name @ file:///<kept wheel>``, with no
  checkout and no build env (and, for a full commit id, not even git); or
- the kept checkout of that commit (``vcs.GitCache.checkout``, a stable path per URL and
  commit, so its build env is reused) as a source tree, whose wheel is kept once built.

``-e git+URL`` is checked out into ``--src`` (default ``<venv>/src/<name>``, as pip does) and
installed editable from there. Either way the :class:`~.vcsurl.VcsInfo` goes with it, for
PEP 610 ``vcs_info`` in the installed ``.dist-info``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name, parse_wheel_filename

from ._log import logger
from .buildopts import BuildOptions
from .cache import Cache
from .errors import WarmbuildError
from .python import Target
from .reqfile import UserRequirement
from .source import is_source_tree
from .vcs import GitCache, Pinned
from .vcsurl import VcsInfo, VcsUrl, is_full_commit


@dataclass(frozen=True)
class PinnedRequirement:
    #: ``name @ file:///<wheel>`` (a wheel built before), or a source tree to build.
    requirement: UserRequirement
    info: VcsInfo
    #: Where to keep the wheel built from the tree (regular installs only).
    keep: Path | None = None


def default_src_dir(target: Target) -> Path:
    """Where ``-e git+`` checkouts go without ``--src``: pip's ``src`` (venv, else cwd)."""
    return target.prefix / "src" if target.is_venv else Path.cwd() / "src"


class VcsRequirements:
    def __init__(self, cache: Cache, target: Target, options: BuildOptions, *,
                 offline: bool, src_dir: Path | None) -> None:
        self._cache = cache
        self._target = target
        self._options = options
        self._git = GitCache(cache, offline=offline)
        self._src_dir = (src_dir or default_src_dir(target)).absolute()

    def pin(self, req: UserRequirement) -> PinnedRequirement:
        source = req.vcs
        assert source is not None
        if is_full_commit(source.rev) and not req.editable:
            # A wheel built from this very commit needs neither git nor the network.
            found = self._kept_wheel(req, source, source.rev or "")
            if found is not None:
                return found
        pinned = self._git.pin(source)
        if req.editable:
            checkout = self._git.editable_checkout(
                source, pinned, self._src_dir / canonicalize_name(source.project_guess))
            logger.info("Checked out %s at %s into %s", source.shown(), pinned.commit[:12],
                        checkout)
            return self._tree(req, source, pinned, checkout, keep=None)
        found = self._kept_wheel(req, source, pinned.commit)
        if found is not None:
            return found
        checkout = self._git.checkout(source, pinned)
        logger.info("Checked out %s at %s", source.shown(), pinned.commit[:12])
        return self._tree(req, source, pinned, checkout,
                          keep=self._entry(source, pinned.commit))

    def _entry(self, source: VcsUrl, commit: str) -> Path:
        """The ``built-v1`` entry of wheels built from ``commit`` for this target."""
        from .sdist import built_key  # a run with no git requirement builds nothing

        digest = hashlib.sha256(json.dumps(
            ["git", source.key_url, commit, source.subdirectory]).encode()).hexdigest()
        key = built_key(self._target, self._options, canonicalize_name(source.project_guess))
        return self._cache.bucket("built-v1") / digest[:2] / digest / key

    def _kept_wheel(self, req: UserRequirement, source: VcsUrl,
                    commit: str) -> PinnedRequirement | None:
        from .sdist import cached_wheel

        wheel = cached_wheel(self._entry(source, commit))
        if wheel is None:
            return None
        name = parse_wheel_filename(wheel.name)[0]
        check_name(req, name)
        logger.info("Using %s at %s (wheel built before)", source.shown(), commit[:12])
        return PinnedRequirement(_with_url(req, name, wheel.as_uri(), tree=None),
                                 _info(source, commit))

    def _tree(self, req: UserRequirement, source: VcsUrl, pinned: Pinned, checkout: Path, *,
              keep: Path | None) -> PinnedRequirement:
        tree = checkout / source.subdirectory if source.subdirectory else checkout
        if not is_source_tree(tree):
            where = f"its subdirectory {source.subdirectory}" if source.subdirectory else \
                "its top directory"
            raise WarmbuildError(
                f"{req.source}: {source.shown()}: {where} is not a Python project (no "
                "pyproject.toml or setup.py)",
                hint="name the project's directory with #subdirectory=path/in/repo")
        return PinnedRequirement(_with_url(req, source.project_guess, tree.as_uri(), tree=tree),
                                 _info(source, pinned.commit), keep)


def check_name(req: UserRequirement, found: str) -> None:
    """A git requirement that names its project (``name @``, ``#egg=``) must build it."""
    given = req.vcs.egg if req.vcs is not None else None
    if given is not None and canonicalize_name(found) != given:
        assert req.vcs is not None
        raise WarmbuildError(
            f"{req.source}: {req.vcs.shown()} is the project `{found}`, not `{given}` as the "
            "requirement names it", hint=f"write `{found} @ {req.vcs.shown()}`")


def _info(source: VcsUrl, commit: str) -> VcsInfo:
    return VcsInfo(source.clean_url, commit, source.rev, source.subdirectory)


def _with_url(req: UserRequirement, name: str, url: str, *, tree: Path | None
              ) -> UserRequirement:
    extras = sorted(req.requirement.extras)
    text = f"{name}{'[' + ','.join(extras) + ']' if extras else ''} @ {url}"
    if req.requirement.marker is not None:
        text += f" ; {req.requirement.marker}"
    return replace(req, requirement=Requirement(text), tree=tree)
