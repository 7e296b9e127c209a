"""The boundary to build backends: pyproject-hooks, with typed results and one error type.

Hooks run in the build env's interpreter with the env's environment (scripts first on PATH,
no PYTHONPATH). Their output is captured and, on failure, its last lines become the error;
with ``-v`` it streams to stderr as it comes.
"""

from __future__ import annotations

import collections
import contextlib
import os
import signal
import subprocess
import sys
import threading
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pyproject_hooks

from ._log import logger
from .errors import BuildError, UsageError
from .source import SourceTree

Kind = Literal["wheel", "editable", "sdist"]
ConfigSettings = Mapping[str, str | list[str]]
_TAIL = 15

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


def _signal_group(proc: subprocess.Popen[bytes], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signum)


@dataclass
class Hooks:
    tree: SourceTree
    python: Path
    environ: Mapping[str, str]
    config_settings: ConfigSettings = field(default_factory=dict)
    #: Where the build env is, for messages ("in the build env at ...").
    where: str = ""
    stream: bool = False

    def _caller(self) -> pyproject_hooks.BuildBackendHookCaller:
        return pyproject_hooks.BuildBackendHookCaller(
            str(self.tree.path), self.tree.backend, list(self.tree.backend_path) or None,
            runner=self._run, python_executable=str(self.python))

    def _run(self, cmd: Sequence[str], cwd: str | None = None,
             extra_environ: Mapping[str, str] | None = None) -> None:
        env = {**self.environ, **(extra_environ or {})}
        tail: collections.deque[str] = collections.deque(maxlen=_TAIL)
        with subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                              process_group=0) as proc:
            with _running_lock:
                _running.add(proc)
            try:
                assert proc.stdout is not None
                for raw in proc.stdout:
                    line = raw.decode("utf-8", "replace").rstrip()
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
        caller = self._caller()
        logger.debug("Calling %s of %s in %s", hook, self.tree.backend, self.where)
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                result = getattr(caller, hook)(*args, **kwargs)
            for warning in caught:
                logger.debug("%s: %s", hook, warning.message)
            return result
        except pyproject_hooks.BackendUnavailable as exc:
            raise BuildError(
                f"cannot import the build backend `{self.tree.backend}` for {self.tree.path}",
                cause=(exc.traceback.strip().splitlines() or [str(exc)])[-1],
                hint=f"it is looked up in the build env at {self.where}; check "
                     "[build-system] build-backend and requires in pyproject.toml",
            ) from exc
        except _HookFailed as exc:
            raise BuildError(
                f"failed to build `{self.tree.name} @ {self.tree.path}`: the `{hook}` hook "
                "failed",
                cause="\n".join(exc.lines) or None,
                hint=f"the build env is at {self.where}; run with -v for the full log",
            ) from exc

    def get_requires(self, kind: Kind) -> list[str]:
        result = self._call(f"get_requires_for_build_{kind}", self.config_settings)
        return [str(r) for r in result]

    def prepare_metadata(self, kind: Literal["wheel", "editable"], out: Path) -> Path | None:
        """The ``.dist-info`` dir, or ``None`` when the backend has no such hook."""
        try:
            name = self._call(f"prepare_metadata_for_build_{kind}", str(out),
                              self.config_settings, _allow_fallback=False)
        except pyproject_hooks.HookMissing:
            return None
        return out / str(name)

    def build(self, kind: Kind, out: Path, metadata_dir: Path | None = None) -> Path:
        out.mkdir(parents=True, exist_ok=True)
        if kind == "sdist":
            name = self._call("build_sdist", str(out), self.config_settings)
        else:
            try:
                name = self._call(f"build_{kind}", str(out), self.config_settings,
                                  str(metadata_dir) if metadata_dir else None)
            except pyproject_hooks.HookMissing as exc:
                raise BuildError(f"the build backend `{self.tree.backend}` of "
                                 f"{self.tree.path} cannot build {kind} installs "
                                 f"(no build_{kind} hook)") from exc
        return out / str(name)


class _HookFailed(Exception):
    def __init__(self, lines: list[str]) -> None:
        super().__init__("hook failed")
        self.lines = lines


def parse_config_settings(items: Sequence[str]) -> dict[str, str | list[str]]:
    """``-C KEY=VALUE`` (repeatable; a repeated key becomes a list, as in pypa/build)."""
    settings: dict[str, str | list[str]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f"-C {item}: expected KEY=VALUE")
        if key in settings:
            old = settings[key]
            settings[key] = [*old, value] if isinstance(old, list) else [old, value]
        else:
            settings[key] = value
    return settings

