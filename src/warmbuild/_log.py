"""Output: one line per phase on stderr, detail with ``-v``, nothing with ``-q``.

Library code reports through :data:`logger`; only the CLI configures where it goes.
:data:`progress` carries what is happening right now ("Downloading 3 packages"): the CLI
shows it as a transient status line on a TTY, as plain lines with ``-v``, else not at all.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

logger = logging.getLogger("warmbuild")
progress = logging.getLogger("warmbuild.progress")


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
