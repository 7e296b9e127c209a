"""Output: one line per phase on stderr, detail with ``-v``, nothing with ``-q``.

Library code reports through :data:`logger`; only the CLI configures where it goes.
:data:`progress` carries what is happening right now ("Resolving dependencies"): the CLI
shows it as a transient status line on a TTY, as plain lines with ``-v``, else not at all.
Work that is counted or takes long (prepared packages, downloaded bytes, a build) goes
through :func:`task` to the :class:`Reporter` the CLI installed: bars and a live build
timer on a TTY, a start line and a heartbeat every 30 s for builds in a pipe.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Sized
from contextlib import contextmanager
from typing import Literal, Protocol

logger = logging.getLogger("warmbuild")
progress = logging.getLogger("warmbuild.progress")

#: ``count``: items of a known number (n/N); ``bytes``: one download; ``build``: one
#: backend build of the named project, which may run for minutes.
TaskKind = Literal["count", "bytes", "build"]


class Task(Protocol):
    def advance(self, amount: int = 1) -> None: ...

    def set_total(self, total: int | None) -> None: ...

    def done(self) -> None: ...


class Reporter(Protocol):
    def start(self, kind: TaskKind, label: str, total: int | None = None) -> Task: ...


class NoTask:
    """Work nobody watches (no reporter installed, or nothing to show)."""

    def advance(self, amount: int = 1) -> None:
        pass

    def set_total(self, total: int | None) -> None:
        pass

    def done(self) -> None:
        pass


class _NoReporter:
    def start(self, kind: TaskKind, label: str, total: int | None = None) -> Task:
        return NoTask()


_reporter: Reporter = _NoReporter()
_reporter_lock = threading.Lock()


def set_reporter(reporter: Reporter | None) -> Reporter:
    """Install ``reporter`` (``None``: report nothing); returns the one it replaces."""
    global _reporter
    with _reporter_lock:
        old, _reporter = _reporter, reporter or _NoReporter()
    return old


@contextmanager
def task(kind: TaskKind, label: str, total: int | None = None) -> Iterator[Task]:
    handle = _reporter.start(kind, label, total)
    try:
        yield handle
    finally:
        handle.done()


def format_duration(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.2f}s"
    return f"{int(seconds // 60)}m {seconds % 60:.0f}s"


@contextmanager
def timed() -> Iterator[list[float]]:
    """Yields a one-element list that holds the elapsed seconds once the block ends."""
    box = [0.0]
    start = time.perf_counter()
    try:
        yield box
    finally:
        box[0] = time.perf_counter() - start


def plural(items: Sized) -> str:
    """``"s"`` unless there is exactly one (``f"{n} package{plural(xs)}"``)."""
    return "" if len(items) == 1 else "s"
