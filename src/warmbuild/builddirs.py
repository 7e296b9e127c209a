"""What a source tree's in-tree build dirs recorded about build tools, and whether it holds.

Backends with a build dir in the tree (CMake, meson, scikit-build) record absolute paths
to the tools of the env they were configured in. When that env was another frontend's
temporary one, it is gone, and the next build or editable rebuild fails. `warmbuild doctor`
shows every recorded path with a verdict; the build stage asks only for the stale ones
(:func:`stale_build_dirs`). This module reads files and never imports the env listing
(:mod:`envs`): the caller passes the paths of warmbuild's own envs.
"""

from __future__ import annotations

import json
import re
import stat
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

_TEMP_ENV = re.compile(r"(pip-build-env-[^/]+|builds-v\d+/\.tmp[^/]+|build-env-[^/]+|"
                       r"pdm-build-env-[^/]+)")


@dataclass(frozen=True)
class Finding:
    file: Path
    what: str
    path: str
    verdict: str


def doctor(tree: Path, live: Collection[str] = (),
           site_dirs: Sequence[Path] = ()) -> list[Finding]:
    """What ``tree``'s in-tree build dirs recorded about build tools, and what
    meson-python editable loaders in ``site_dirs`` that build this tree will run; ``live``
    are the paths of warmbuild's build envs."""
    return [*_loaders(tree, live, site_dirs), *_skbuild_loaders(tree, live, site_dirs),
            *_cmake_caches(tree, live), *_ninja_files(tree, live), *_skbuild_infos(tree, live)]


def stale_build_dirs(tree: Path) -> list[Finding]:
    """Build dirs in ``tree`` that point into a deleted temporary env of another frontend."""
    return [f for f in doctor(tree) if is_gone(f)]


def is_gone(finding: Finding) -> bool:
    """The path lay in another frontend's temporary env, which is deleted now."""
    return finding.verdict.startswith("gone")


def is_live(finding: Finding) -> bool:
    """The path lies in an env that exists: a warmbuild env, or another frontend's
    temporary env while that frontend still runs (adopting would pull it from under it)."""
    return finding.verdict.startswith(("ok: in a warmbuild", "exists now", "missing, although"))


def _loaders(tree: Path, live: Collection[str], site_dirs: Sequence[Path]) -> Iterator[Finding]:
    for site in site_dirs:
        for loader in sorted(site.glob("_*_editable_loader.py")):
            text = _read(loader)
            if str(tree) not in text:
                continue
            for match in sorted(set(re.findall(r"['\"](/[^'\"]+/bin/ninja)['\"]", text))):
                yield Finding(loader, "rebuild command", match, _verdict(match, live))


def _skbuild_loaders(tree: Path, live: Collection[str],
                     site_dirs: Sequence[Path]) -> Iterator[Finding]:
    """scikit-build-core's redirecting finders that rebuild in a build dir of this tree:
    their ``cmake --build`` runs whatever that build dir's CMake cache recorded."""
    for site in site_dirs:
        for loader in sorted(site.glob("_*_editable.py")):
            text = _read(loader)
            if "ScikitBuildRedirectingFinder" not in text or str(tree) not in text:
                continue
            for build_dir in sorted(set(re.findall(r"['\"](/[^'\"]+)['\"], True,", text))):
                cache = Path(build_dir) / "CMakeCache.txt"
                for finding in _cmake_caches(cache.parent, live, (cache,)):
                    yield Finding(loader, "rebuild in " + build_dir, finding.path,
                                  finding.verdict)


#: What a CMake cache records about the env it was configured in (the issue's list:
#: PyTorch-style setup.py, scikit-build-core, pybind11/nanobind packages).
_CMAKE_KEYS = ("CMAKE_MAKE_PROGRAM", "CMAKE_COMMAND", "Python_EXECUTABLE",
               "Python3_EXECUTABLE", "PYTHON_EXECUTABLE", "pybind11_DIR", "nanobind_DIR")


def _cmake_caches(tree: Path, live: Collection[str],
                  files: Sequence[Path] | None = None) -> Iterator[Finding]:
    for cache_file in sorted(tree.rglob("CMakeCache.txt")) if files is None else files:
        seen = 0
        for line in _read(cache_file).splitlines():
            key, _, value = line.partition("=")
            name = key.split(":", 1)[0]
            value = value.strip()
            # Any other entry counts only when it names another frontend's temporary env
            # (include dirs, package dirs), a few per file.
            if not value or not (name in _CMAKE_KEYS or (_TEMP_ENV.search(value) and seen < 3
                                                         and value.startswith("/"))):
                continue
            seen += name not in _CMAKE_KEYS
            yield Finding(cache_file, name, value, _verdict(value, live))


def _ninja_files(tree: Path, live: Collection[str]) -> Iterator[Finding]:
    for ninja in sorted(tree.rglob("build.ninja")):
        text = _read(ninja)
        tools = set(re.findall(r"(/[^\s$:\"']+/bin/(?:cmake|ninja|meson|python3?))", text))
        # Any path into another frontend's temporary env (headers, meson, ...), shown once
        # per env.
        temp = {m.group(0) for m in re.finditer(r"/[^\s$:\"']*?(?:" + _TEMP_ENV.pattern
                                                 + r")[^\s$:\"']*", text)}
        firsts = {_TEMP_ENV.search(p).group(0): p for p in sorted(temp)}  # type: ignore[union-attr]
        for match in sorted(tools | set(firsts.values()))[:6]:
            yield Finding(ninja, "path", match, _verdict(match, live))


def _skbuild_infos(tree: Path, live: Collection[str]) -> Iterator[Finding]:
    for info in sorted(tree.rglob(".skbuild-info.json")):
        try:
            data = json.loads(_read(info))
        except ValueError:
            continue
        if not isinstance(data, dict):
            continue
        for key in ("skbuild_path", "cmake_path"):
            if isinstance(data.get(key), str):
                yield Finding(info, key, data[key], _verdict(data[key], live))


def _read(path: Path) -> str:
    """A build dir's file as text; "" for anything that is not a readable regular file
    (a directory or a FIFO by that name must not crash or block the scan)."""
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            return ""
        return path.read_text(errors="replace")
    except OSError:
        return ""


def _verdict(path: str, live: Collection[str]) -> str:
    owner = next((env for env in live if path.startswith(env + "/")), None)
    if owner is not None:
        return "ok: in a warmbuild build env" if Path(path).exists() else \
            "missing, although its warmbuild env exists: run with --refresh-build-env"
    if _TEMP_ENV.search(path):
        return ("gone: a deleted temporary build env of another frontend (pip, uv, build); "
                "reinstall with warmbuild, or delete the build dir"
                if not Path(path).exists() else "exists now, but lives in a temporary env "
                "that another frontend will delete")
    return "ok: outside any build env" if Path(path).exists() else "missing"


def cache_defeating(tree: Path, envs: Collection[str] = ()) -> list[str]:
    """Paths on ``tree``'s compile lines that make a compiler cache miss on another machine:
    one into another frontend's temporary env (a random name: every build misses), or into
    a warmbuild env outside the tree (sccache's base dirs strip it, ccache's one base dir,
    the tree, does not)."""
    found: dict[str, str] = {}
    for name in ("compile_commands.json", "build.ninja"):
        for path in sorted(tree.rglob(name)):
            for token in set(re.findall(r"/[^\s$:\"',\\]+", _read(path))):
                match = _TEMP_ENV.search(token)
                if match and match.group(0) not in found:
                    found[match.group(0)] = (
                        f"{path.relative_to(tree)}: compile lines name {token}, in a "
                        "temporary env with a random name: a compiler cache misses on every "
                        "build")
                env = next((e for e in envs if token.startswith(e + "/")), None)
                if env is not None and not env.startswith(str(tree) + "/") \
                        and env not in found:
                    found[env] = (f"{path.relative_to(tree)}: compile lines name the build "
                                  f"env {env}, outside the tree: on a machine with another "
                                  "path only sccache's base dirs hide it; set build-env-dir "
                                  "inside the tree for ccache")
    return list(found.values())
