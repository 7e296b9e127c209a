"""`cache` and `config`: where things are kept and which settings are in effect."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    pass

from ..errors import WarmbuildError
from ._common import cache_from, index_flags, target_from


def cmd_cache(args: argparse.Namespace) -> int:
    from .._log import logger
    from ..cache import default_cache_root
    from ..cacheclean import clean

    root = (args.cache_dir or default_cache_root()).expanduser().absolute()
    if args.action == "dir":
        print(root)
        return 0
    if not root.is_dir():
        logger.info("No cache at %s", root)
        return 0
    cleaned = clean(root, prune=args.action == "prune", force=args.force)
    for kept in cleaned.kept:
        logger.warning("Kept %s: %s", kept.env.path, kept.why)
    removed, foreign = cleaned.removed, cleaned.foreign
    verb = "Pruned" if args.action == "prune" else "Removed"
    logger.info("%s %d file%s from %s", verb, removed, "" if removed == 1 else "s", root)
    if foreign:
        logger.warning("warning: left %d entr%s in %s that warmbuild did not make: %s",
                       len(foreign), "y" if len(foreign) == 1 else "ies", root,
                       ", ".join(foreign[:5]) + (", ..." if len(foreign) > 5 else ""))
    return 0


def cmd_hash(args: argparse.Namespace) -> int:
    """pip's ``hash``: ``FILE:`` and its ``--hash=`` line, each file in turn."""
    import hashlib

    for path in args.files:
        try:
            with path.open("rb") as f:
                digest = hashlib.file_digest(f, args.algorithm).hexdigest()
        except OSError as exc:
            raise WarmbuildError(f"cannot read {path}", cause=exc.strerror or str(exc)) from exc
        print(f"{path}:\n--hash={args.algorithm}:{digest}")
    return 0


def cmd_config(args: argparse.Namespace) -> int:
    from ..pipeline import InstallRequest, effective_settings

    target = None
    # Settings do not need a target; without one its pip.conf is just not read.
    with contextlib.suppress(WarmbuildError):
        target = target_from(args, cache_from(args))
    settings = effective_settings(InstallRequest(index_flags=index_flags(args)), None, target)
    rows: dict[str, dict[str, Any]] = {
        key: {"value": list(s.value) if isinstance(s.value, tuple) else s.value,
              "source": s.source} for key, s in settings.display().items()}
    rows["cache-dir"] = _cache_row(args, rows.pop("no-cache-dir"))
    if args.format == "json":
        print(json.dumps(rows, indent=2))
        return 0
    for key, row in rows.items():
        value = row["value"]
        shown = " ".join(value) if isinstance(value, list) else str(value).lower() \
            if isinstance(value, bool) else "" if value is None else str(value)
        print(f"{key:<16} = {shown or '(none)'}    # {row['source']}")
    return 0


def _cache_row(args: argparse.Namespace, pip_no_cache: dict[str, Any]) -> dict[str, Any]:
    from ..cache import default_cache_root

    if args.no_cache:
        return {"value": None, "source": "command line (a throw-away cache)"}
    if args.cache_dir:
        return {"value": str(args.cache_dir), "source": "command line"}
    if os.environ.get("WARMBUILD_CACHE_DIR"):
        return {"value": str(default_cache_root()), "source": "environment WARMBUILD_CACHE_DIR"}
    if pip_no_cache["value"]:
        return {"value": None, "source": f"{pip_no_cache['source']} (a throw-away cache)"}
    return {"value": str(default_cache_root()), "source": "default"}
