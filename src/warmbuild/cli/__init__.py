"""Command line: parse arguments, call the library, print. The only package that exits.

``_main`` holds the parser and the commands that change environments; ``_installed`` and
``_info`` the read-only views, ``_dist`` download and wheel, ``_envs`` the build env commands,
``_output`` how things are printed. Stages are imported by the commands that use them, so
that ``--version``, ``--help`` and the read-only commands start fast.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NoReturn


def main(argv: Sequence[str] | None = None) -> int:
    """``warmbuild ...``: ``--version`` answers before anything else is imported."""
    import sys

    if (sys.argv[1:] if argv is None else list(argv)) == ["--version"]:
        from .. import __version__

        print(f"warmbuild {__version__}")
        raise SystemExit(0)  # as argparse's version action, which the full parser uses
    from ._main import main as run

    return run(argv)


def run() -> NoReturn:
    """The ``warmbuild`` command: :func:`main`, then the exit handlers, then an exit that
    skips tearing the interpreter down. Freeing a large resolution's objects one by one
    took 80-90 ms after the work was done; the kernel takes the memory back at once."""
    import atexit
    import os
    import sys

    code = main()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:  # a reader that went away: main already said what it had to
        pass
    atexit._run_exitfuncs()  # logging's flush, --no-cache's cleanup, closing connections
    os._exit(code)
