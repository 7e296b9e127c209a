"""The boundary to build backends: pyproject-hooks, with typed results and one error type.

Hooks run in the build env's interpreter with the env's environment (scripts first on PATH,
no PYTHONPATH). Their output is captured: all of it into the build's log file (the last
:data:`KEEP_LOGS` builds' logs stay in ``<env>/logs``), and on failure its last lines,
exactly as written, become the error; with ``-v`` it streams to stderr as it comes.
"""

from __future__ import annotations

import collections
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Literal

import pyproject_hooks
from packaging.requirements import InvalidRequirement, Requirement

from ._log import logger
from .builddirs import stale_build_dirs
from .buildopts import ConfigSettings
from .errors import BuildError
from .source import SourceTree

Kind = Literal["wheel", "editable", "sdist"]
#: Lines of a failed hook's output shown in the error (all of it is in the log).
_TAIL = 20
#: Logs a build env keeps: those of its last builds.
KEEP_LOGS = 5

# Backends run in process groups of their own, so that everything they started (cmake,
# ninja, compilers) can be ended together; see stop_backends.
_running: set[subprocess.Popen[bytes]] = set()
_running_lock = threading.Lock()


def stop_backends() -> None:
    """End every backend still running, with all it started.

    Called when warmbuild stops early (Ctrl-C, SIGTERM, an error in another thread): a
    backend left behind would go on writing into the tree's build dir and the build env
    after warmbuild has released their locks.
    """
    with _running_lock:
        procs = list(_running)
    for proc in procs:
        _signal_group(proc, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            _signal_group(proc, signal.SIGKILL)


#: Runs a hook as the leader of its process group and ends the whole group (the backend,
#: cmake, ninja, compilers) when warmbuild dies, even by SIGKILL: Linux sends it SIGTERM
#: then (PR_SET_PDEATHSIG), which no cleanup of warmbuild's own can do. Python 3.9+.
_SUPERVISOR = """
import ctypes, os, signal, subprocess, sys
def stop(*_):
    os.killpg(0, signal.SIGKILL)
signal.signal(signal.SIGTERM, stop)
try:
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)
except Exception:
    pass
if os.getppid() != int(sys.argv[1]):
    stop()
sys.exit(subprocess.call(sys.argv[2:]))
"""


def supervised(cmd: Sequence[str]) -> list[str]:
    """``cmd`` (``python _in_process.py HOOK DIR``) under :data:`_SUPERVISOR`, run by the
    same interpreter; elsewhere than Linux, ``cmd`` itself."""
    if not sys.platform.startswith("linux"):
        return list(cmd)
    return [cmd[0], "-S", "-c", _SUPERVISOR, str(os.getpid()), *cmd]


def _signal_group(proc: subprocess.Popen[bytes], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signum)


class BuildLog:
    """The complete output of one tree's hooks in one run, as a file in ``directory``.

    The file is made when the first hook runs, so a run that calls no hook leaves earlier
    logs alone; then all but the newest :data:`KEEP_LOGS` go. An env's hooks run under its
    lock, so no other warmbuild writes or prunes the same directory meanwhile. A log that
    cannot be written costs the log, never the build.
    """

    def __init__(self, directory: Path, name: str) -> None:
        self.directory = directory
        self._name = name
        self.path: Path | None = None
        self._lock = threading.Lock()

    def open(self) -> BinaryIO | None:
        with self._lock:
            try:
                if self.path is None:
                    self.directory.mkdir(parents=True, exist_ok=True)
                    stem = f"{time.strftime('%Y%m%d-%H%M%S')}-{self._name}"
                    path, n = self.directory / f"{stem}.log", 1
                    while path.exists():
                        n += 1
                        path = self.directory / f"{stem}-{n}.log"
                    path.touch()
                    self.path = path
                    prune_logs(self.directory, KEEP_LOGS)
                return self.path.open("ab", buffering=0)
            except OSError as exc:
                logger.debug("cannot write the build log in %s: %s", self.directory, exc)
                return None


def build_logs(directory: Path) -> list[Path]:
    """The logs kept in ``directory``, oldest first."""
    found = []
    for path in directory.glob("*.log"):
        with contextlib.suppress(OSError):
            found.append((path.stat().st_mtime, path.name, path))
    return [p for _, _, p in sorted(found)]


def prune_logs(directory: Path, keep: int) -> None:
    for old in build_logs(directory)[:-keep]:
        with contextlib.suppress(OSError):
            old.unlink()


@dataclass
class Hooks:
    tree: SourceTree
    python: Path
    environ: Mapping[str, str]
    config_settings: ConfigSettings = field(default_factory=dict)
    #: Where the build env is, for messages ("in the build env at ...").
    where: str = ""
    stream: bool = False
    log: BuildLog | None = None

    def _caller(self) -> pyproject_hooks.BuildBackendHookCaller:
        return pyproject_hooks.BuildBackendHookCaller(
            str(self.tree.path), self.tree.backend, list(self.tree.backend_path) or None,
            runner=self._run, python_executable=str(self.python))

    def _run(self, cmd: Sequence[str], cwd: str | None = None,
             extra_environ: Mapping[str, str] | None = None) -> None:
        env = {**self.environ, **(extra_environ or {})}
        tail: collections.deque[str] = collections.deque(maxlen=_TAIL)
        with contextlib.ExitStack() as stack:
            log = self.log.open() if self.log is not None else None
            if log is not None:
                stack.enter_context(log)
                # pyproject-hooks runs `python _in_process.py HOOK DIR`.
                log.write(f"=== {cmd[-2]} in {self.where or cwd}, "
                          f"{time.strftime('%Y-%m-%d %H:%M:%S')}\n".encode())
            proc = stack.enter_context(subprocess.Popen(
                supervised(cmd), cwd=cwd, env=env, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, process_group=0))
            with _running_lock:
                _running.add(proc)
            try:
                assert proc.stdout is not None
                for raw in proc.stdout:
                    if log is not None:
                        log.write(raw)
                    # Only the line end goes: leading blanks align a compiler's carets.
                    line = raw.decode("utf-8", "replace").rstrip("\r\n")
                    tail.append(line)
                    if self.stream:
                        print(line, file=sys.stderr)
            except BaseException:  # Ctrl-C in this thread: the hook's result is not wanted
                _signal_group(proc, signal.SIGTERM)
                raise
            finally:
                with _running_lock:
                    _running.discard(proc)
        if proc.returncode != 0:
            raise _HookFailed(list(tail))

    def _call(self, hook: str, *args: Any, **kwargs: Any) -> Any:
        """The one seam where pyproject-hooks' exceptions become warmbuild errors (except
        HookMissing, which callers that have a fallback turn into their own answer)."""
        caller = self._caller()
        logger.debug("Calling %s of %s in %s", hook, self.tree.backend, self.where)
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                result = getattr(caller, hook)(*args, **kwargs)
            for warning in caught:
                logger.debug("%s: %s", hook, warning.message)
            return result
        except (pyproject_hooks.BackendUnavailable, pyproject_hooks.BackendInvalid) as exc:
            raise BuildError(
                f"cannot import the build backend `{self.tree.backend}` for {self.tree.where}",
                cause=(getattr(exc, "traceback", "").strip().splitlines() or [str(exc)])[-1],
                hint=self._hint(f"it is looked up in the build env at {self.where}; check "
                                "[build-system] build-backend and requires in pyproject.toml"),
            ) from exc
        except pyproject_hooks.UnsupportedOperation as exc:
            raise BuildError(
                f"the build backend `{self.tree.backend}` of {self.tree.where} cannot do "
                f"`{hook}` here", cause=str(exc) or None,
                hint="build the other distribution kind, or see the backend's documentation",
            ) from exc
        except _HookFailed as exc:
            shown = ("the backend's last lines:" if len(exc.lines) == _TAIL
                     else "the backend's output:") if exc.lines else None
            raise BuildError(
                f"failed to build `{self.tree.name} @ {self.tree.where}`: the `{hook}` hook "
                "failed", cause=shown, output=tuple(exc.lines), log=self._log_path(),
                hint=self._hint(f"the build env is at {self.where}; run with -v to see the "
                                "backend's output as it runs"),
            ) from exc
        except (OSError, ValueError) as exc:
            # pyproject-hooks reads the hook's answer from a file the backend process
            # writes last; a backend that exits early (os._exit) leaves none.
            raise BuildError(
                f"the `{hook}` hook of `{self.tree.backend}` for {self.tree.where} ended "
                "without an answer", cause=f"{type(exc).__name__}: {exc}",
                log=self._log_path(),
                hint=self._hint("the backend process exited before returning; its log "
                                "says what it did"),
            ) from exc

    def _log_path(self) -> str | None:
        return str(self.log.path) if self.log is not None and self.log.path else None

    def _hint(self, default: str) -> str:
        """A hook that fails in a tree whose build dir another frontend's deleted env left
        behind: say so, whichever hook it was."""
        stale = stale_build_dirs(self.tree.path)
        if not stale:
            return default
        return (f"{stale[0].file} records {stale[0].path}, in a deleted temporary build env "
                f"of another frontend: run again without --no-adopt to reconfigure it in place, "
                f"or delete {stale[0].file.parent} (`warmbuild doctor {self.tree.path}`)")

    def _bad_answer(self, hook: str, answer: object, expected: str) -> BuildError:
        return BuildError(f"the `{hook}` hook of `{self.tree.backend}` for {self.tree.where} "
                          f"returned {answer!r}, not {expected}",
                          hint="this is a bug in the build backend (PEP 517)")

    def get_requires(self, kind: Kind) -> list[str]:
        hook = f"get_requires_for_build_{kind}"
        result = self._call(hook, self.config_settings)
        if not isinstance(result, list) or not all(isinstance(r, str) for r in result):
            raise self._bad_answer(hook, result, "a list of requirement strings")
        for text in result:
            try:
                Requirement(text)
            except InvalidRequirement as exc:
                raise BuildError(f"the `{hook}` hook of `{self.tree.backend}` for "
                                 f"{self.tree.where} asked for {text!r}, which is not a PEP 508 "
                                 "requirement", cause=str(exc)) from exc
        return result

    def prepare_metadata(self, kind: Literal["wheel", "editable"], out: Path) -> Path | None:
        """The ``.dist-info`` dir, or ``None`` when the backend has no such hook."""
        hook = f"prepare_metadata_for_build_{kind}"
        try:
            name = self._call(hook, str(out), self.config_settings, _allow_fallback=False)
        except pyproject_hooks.HookMissing:
            return None
        found = _written(out, name)
        if found is None or not (found / "METADATA").is_file():
            raise self._bad_answer(hook, name, f"a .dist-info directory it wrote in {out}")
        return found

    def build(self, kind: Kind, out: Path, metadata_dir: Path | None = None) -> Path:
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise BuildError(f"cannot create the output directory {out}",
                             cause=exc.strerror) from exc
        hook = f"build_{kind}"
        if kind == "sdist":
            name = self._call("build_sdist", str(out), self.config_settings)
        else:
            try:
                name = self._call(f"build_{kind}", str(out), self.config_settings,
                                  str(metadata_dir) if metadata_dir else None)
            except pyproject_hooks.HookMissing as exc:
                raise BuildError(f"the build backend `{self.tree.backend}` of "
                                 f"{self.tree.where} cannot build {kind} installs "
                                 f"(no build_{kind} hook)") from exc
        found = _written(out, name)
        if found is None or not found.is_file():
            raise self._bad_answer(hook, name, f"the name of a file it wrote in {out}")
        return found


def _written(out: Path, name: object) -> Path | None:
    """``out / name`` when ``name`` is a plain file name (PEP 517 hooks return basenames)."""
    if not isinstance(name, str) or not name or name in (".", "..") or "/" in name \
            or os.sep in name:
        return None
    path = out / name
    return path if path.exists() else None


class _HookFailed(Exception):
    def __init__(self, lines: list[str]) -> None:
        super().__init__("hook failed")
        self.lines = lines
