"""Terminal output: the error paragraph, log levels, colour, and live progress on a TTY only.

Decided once per run by :func:`configure_logging`: whether the ``error:``/``warning:``/
``hint:`` prefixes are coloured (``--color``, else ``NO_COLOR``, else ``FORCE_COLOR``, else
whether stderr is a terminal, uv's order) and whether progress is drawn live (a terminal,
without ``-v``, ``-q`` or ``--no-progress``) or told in plain lines (pipes, CI).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._log import NoTask, Task, TaskKind, logger, progress, set_reporter
from ..errors import WarmbuildError

if TYPE_CHECKING:
    from pathlib import Path

    from ._progress import LiveReporter

#: Seconds between the heartbeat lines of a build in a pipe; WARMBUILD_HEARTBEAT_SECONDS
#: changes it (meant for tests, which want heartbeats without waiting minutes).
HEARTBEAT_SECONDS = 30.0

#: ANSI (for plain lines) and rich (for lines above a live display) styles, as uv colours them.
_PREFIXES = {"error:": ("1;31", "bold red"), "warning:": ("1;33", "bold yellow"),
             "hint:": ("1;36", "bold cyan")}


@dataclass(frozen=True)
class _Mode:
    color: bool = False
    live: bool = False
    verbose: int = 0
    quiet: int = 0


_mode = _Mode()


def use_color(choice: str | None, isatty: bool) -> bool:
    """``--color`` wins; then ``NO_COLOR`` (any non-empty value), then ``FORCE_COLOR``."""
    if choice in ("always", "never"):
        return choice == "always"
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return isatty and os.environ.get("TERM") != "dumb"


def split_prefix(line: str) -> tuple[str, str]:
    """``("warning:", " rest")`` for a line that starts with a known prefix, else ``("", line)``."""
    head = line.split(" ", 1)[0]
    if head in _PREFIXES:
        return head, line[len(head):]
    return "", line


def paint(line: str) -> str:
    """``line`` with its prefix coloured when colour is on (ANSI, for plain output)."""
    prefix, rest = split_prefix(line)
    if not prefix or not _mode.color:
        return line
    return f"\x1b[{_PREFIXES[prefix][0]}m{prefix}\x1b[0m{rest}"


def print_error(exc: WarmbuildError) -> None:
    lines = [f"error: {exc.message}"]
    if exc.cause:
        cause_lines = exc.cause.splitlines()
        lines.append(f"  ╰─ {cause_lines[0].strip()}")
        lines.extend(f"     {line.strip()}" for line in cause_lines[1:])
    # Another program's output stays as it was written: compiler carets keep their column.
    lines.extend(f"     {line}" for line in exc.output)
    if exc.log:
        lines.append(f"  full log: {exc.log}")
    if exc.hint:
        lines.append(f"hint: {exc.hint}")
    print("\n".join(paint(line) for line in lines), file=sys.stderr)
    for handler in logger.handlers:  # --log's file gets the error too
        if isinstance(handler, logging.FileHandler):
            handler.handle(logging.makeLogRecord({"msg": "\n".join(lines),
                                                  "levelno": logging.ERROR}))


def configure_logging(verbose: int, quiet: int, *, color: str | None = None,
                      no_progress: bool = False) -> None:
    global _mode
    isatty = sys.stderr.isatty()
    _mode = _Mode(color=use_color(color, isatty), verbose=verbose, quiet=quiet,
                  live=isatty and not (verbose or quiet or no_progress)
                  and os.environ.get("TERM") != "dumb")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Formatter("%(message)s"))
    level = logging.INFO
    if verbose:
        level = logging.DEBUG
    elif quiet:
        level = logging.WARNING if quiet == 1 else logging.ERROR
    # On the handler too: --log lowers the logger's level for its file, not for stderr.
    handler.setLevel(level)
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(level)
    # Status messages: plain lines only with -v, the live status line on a TTY.
    progress.propagate = bool(verbose)
    progress.handlers.clear()
    progress.setLevel(logging.INFO if verbose or _mode.live else logging.WARNING)


def log_to_file(path: Path) -> None:
    """Append every message of the run to ``path``, with its time (pip's ``--log``)."""
    try:
        to_file = logging.FileHandler(path.expanduser(), encoding="utf-8")
    except OSError as exc:
        raise WarmbuildError(f"--log {path}: cannot write to it",
                             cause=exc.strerror or str(exc)) from exc
    to_file.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    logger.addHandler(to_file)
    logger.setLevel(logging.DEBUG)
    if not progress.propagate:  # with -v the status lines reach it through the logger
        progress.addHandler(to_file)
        progress.setLevel(logging.INFO)


@contextlib.contextmanager
def status_line() -> Iterator[None]:
    """Progress while a command works: live rows on a TTY (status, counts, downloads, builds
    with their elapsed time), else a line per build start and a heartbeat while it runs."""
    if _mode.quiet:
        yield
        return
    if not _mode.live:
        old = set_reporter(PlainReporter())
        try:
            yield
        finally:
            set_reporter(old)
        return
    from ._progress import LiveReporter

    reporter = LiveReporter(color=_mode.color)
    handler = _StatusHandler(reporter)
    saved = logger.handlers[:]
    with reporter:
        old = set_reporter(reporter)
        progress.addHandler(handler)
        # Phase lines printed while the display shows must not tear it.
        logger.handlers[:] = [_RichLineHandler(reporter.console)]
        try:
            yield
        finally:
            progress.removeHandler(handler)
            logger.handlers[:] = saved
            set_reporter(old)


def heartbeat_seconds() -> float:
    try:
        value = float(os.environ.get("WARMBUILD_HEARTBEAT_SECONDS", HEARTBEAT_SECONDS))
    except ValueError:
        return HEARTBEAT_SECONDS
    return value if value > 0 else HEARTBEAT_SECONDS


class PlainReporter:
    """Progress in a pipe or CI: a build prints a line when it starts and one every 30 s
    while it runs (``still building native-demo, 60 s``), so a log never goes minutes
    without a line; counts and downloads print nothing."""

    def start(self, kind: TaskKind, label: str, total: int | None = None) -> Task:
        return _Heartbeat(label) if kind == "build" else _Silent()


class _Silent(NoTask):
    """Counted work in a pipe: nothing to show."""


class _Heartbeat(_Silent):
    def __init__(self, label: str) -> None:
        self._label = label
        self._start = time.monotonic()
        self._stop = threading.Event()
        logger.info("Building %s", label)
        self._thread = threading.Thread(target=self._beat, daemon=True,
                                        name=f"warmbuild-heartbeat-{label}")
        self._thread.start()

    def _beat(self) -> None:
        interval = heartbeat_seconds()
        while not self._stop.wait(interval):
            logger.info("still building %s, %d s", self._label,
                        round(time.monotonic() - self._start))

    def done(self) -> None:
        self._stop.set()
        self._thread.join()


class _Formatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return "\n".join(paint(line) for line in super().format(record).split("\n"))


class _StatusHandler(logging.Handler):
    def __init__(self, reporter: LiveReporter) -> None:
        super().__init__()
        self._reporter = reporter

    def emit(self, record: logging.LogRecord) -> None:
        self._reporter.status(record.getMessage())


class _RichLineHandler(logging.Handler):
    def __init__(self, console: Any) -> None:
        super().__init__()
        self._console = console

    def emit(self, record: logging.LogRecord) -> None:
        from rich.text import Text

        text = Text()
        for i, line in enumerate(record.getMessage().split("\n")):
            prefix, rest = split_prefix(line)
            text.append(("\n" if i else "") + prefix, style=_PREFIXES[prefix][1] if prefix
                        else None)
            text.append(rest)
        self._console.print(text, markup=False, highlight=False)
