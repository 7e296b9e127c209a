"""Command line: parse arguments, call the library, print. The only package that exits.

``_main`` holds the parser and the commands that change environments; ``_installed`` and
``_info`` the read-only views, ``_dist`` download and wheel, ``_envs`` the build env commands,
``_output`` how things are printed. Stages are imported by the commands that use them, so
that ``--version``, ``--help`` and the read-only commands start fast.
"""

from __future__ import annotations

from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """``warmbuild ...``: ``--version`` answers before anything else is imported."""
    import sys

    if (sys.argv[1:] if argv is None else list(argv)) == ["--version"]:
        from .. import __version__

        print(f"warmbuild {__version__}")
        raise SystemExit(0)  # as argparse's version action, which the full parser uses
    from ._main import main as run

    return run(argv)
