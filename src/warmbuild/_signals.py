"""What the CLI's last line needs when a signal stops a run: which signal, and whether the
target environment had already been changed (a transaction committed) when it came.

SIGINT and SIGTERM both unwind as KeyboardInterrupt, so that whatever is in progress is
rolled back; a transaction that is moving files holds them (``install._HeldSignals``) until
it has committed or rolled back.
"""

from __future__ import annotations

import signal
from pathlib import Path
from types import FrameType

#: Signals received, in order.
received: list[int] = []
#: Target environments whose change was committed in this run.
committed: list[Path] = []


def interrupt(signum: int, frame: FrameType | None) -> None:
    received.append(signum)
    raise KeyboardInterrupt


def install_handlers() -> None:
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, interrupt)


def exit_status() -> int:
    """128 + the signal, as a shell reports a process the signal ended."""
    return 128 + (received[-1] if received else signal.SIGINT)
