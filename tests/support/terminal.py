"""Run a command on a pseudo-terminal, as a user at a terminal would, and keep what it drew."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path


def run_in_terminal(argv: Sequence[str], *, env: Mapping[str, str], cwd: Path,
                    timeout: float = 300) -> tuple[int, str]:
    """Exit status and everything written to the terminal (stdout and stderr, escapes
    included). ``TERM`` and ``COLUMNS`` are fixed so that rich draws the same way anywhere."""
    main, secondary = pty.openpty()
    proc = subprocess.Popen(list(argv), stdin=secondary, stdout=secondary, stderr=secondary,
                            env={**env, "TERM": "xterm-256color", "COLUMNS": "120"}, cwd=cwd)
    os.close(secondary)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([main], [], [], 0.2)
            if ready:
                try:
                    data = os.read(main, 65536)
                except OSError:  # EIO: every writer closed the terminal
                    break
                if not data:
                    break
                chunks.append(data)
            elif proc.poll() is not None:
                break
        else:
            proc.kill()
            raise TimeoutError(f"{argv} did not finish in {timeout} s")
        return proc.wait(timeout=30), b"".join(chunks).decode("utf-8", "replace")
    finally:
        os.close(main)
