"""Terminal output: the error paragraph, log levels, and a status line on a TTY only."""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from typing import Any

from .._log import logger, progress
from ..errors import WarmbuildError


def print_error(exc: WarmbuildError) -> None:
    lines = [f"error: {exc.message}"]
    if exc.cause:
        cause_lines = exc.cause.splitlines()
        lines.append(f"  ╰─ {cause_lines[0].strip()}")
        lines.extend(f"     {line.strip()}" for line in cause_lines[1:])
    if exc.hint:
        lines.append(f"hint: {exc.hint}")
    print("\n".join(lines), file=sys.stderr)


def configure_logging(verbose: int, quiet: int) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.handlers[:] = [handler]
    logger.propagate = False
    level = logging.INFO
    if verbose:
        level = logging.DEBUG
    elif quiet:
        level = logging.WARNING if quiet == 1 else logging.ERROR
    logger.setLevel(level)
    # Progress is noise in pipes and CI: plain lines only with -v, a status line on a TTY.
    progress.propagate = bool(verbose)
    progress.handlers.clear()
    progress.setLevel(logging.INFO if verbose or (not quiet and sys.stderr.isatty())
                      else logging.WARNING)


@contextlib.contextmanager
def status_line() -> Iterator[None]:
    """A transient rich status line fed by the progress logger, on a TTY only."""
    if progress.propagate or not progress.isEnabledFor(logging.INFO):
        yield
        return
    from rich.console import Console

    with Console(stderr=True).status("Starting") as status:
        handler = _StatusHandler(status)
        progress.addHandler(handler)
        saved = logger.handlers[:]
        # Phase lines printed while the status shows must not tear it.
        logger.handlers[:] = [_RichLineHandler(status.console)]
        try:
            yield
        finally:
            progress.removeHandler(handler)
            logger.handlers[:] = saved


class _StatusHandler(logging.Handler):
    def __init__(self, status: Any) -> None:
        super().__init__()
        self._status = status

    def emit(self, record: logging.LogRecord) -> None:
        self._status.update(record.getMessage())


class _RichLineHandler(logging.Handler):
    def __init__(self, console: Any) -> None:
        super().__init__()
        self._console = console

    def emit(self, record: logging.LogRecord) -> None:
        self._console.print(record.getMessage(), markup=False, highlight=False)
