"""`list`, `freeze`, `show`, `cache` and `config`: read-only views, and cache cleaning."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from packaging.utils import canonicalize_name

from .._log import logger
from ..cache import default_cache_root
from ..cacheclean import clean
from ..errors import WarmbuildError
from ..installed import InstalledDist, scan
from ..pipeline import InstallRequest, effective_settings
from ._common import cache_from, index_flags, target_from


def _installed(args: argparse.Namespace) -> list[InstalledDist]:
    target = target_from(args, cache_from(args))
    return sorted(scan(target).values(), key=lambda d: d.name)


def cmd_list(args: argparse.Namespace) -> int:
    dists = _installed(args)
    if args.format == "json":
        print(json.dumps([{"name": _display(d), "version": str(d.version)} for d in dists]))
    elif args.format == "freeze":
        cmd_freeze(args)
    else:
        rows = [(_display(d), str(d.version)) for d in dists]
        width = max([len("Package"), *(len(r[0]) for r in rows)])
        vwidth = max([len("Version"), *(len(r[1]) for r in rows)])
        print(f"{'Package':<{width}} Version")
        print(f"{'-' * width} {'-' * vwidth}")
        for name, version in rows:
            print(f"{name:<{width}} {version}")
    return 0


def _display(dist: InstalledDist) -> str:
    return dist.metadata()["Name"] or dist.display_name


def cmd_freeze(args: argparse.Namespace) -> int:
    for dist in _installed(args):
        info = dist.direct_url()
        if info and isinstance(info.get("url"), str):
            prefix = "-e " if dist.editable else f"{_display(dist)} @ "
            print(f"{prefix}{info['url']}")
        else:
            print(f"{_display(dist)}=={dist.version}")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    target = target_from(args, cache_from(args))
    installed = scan(target)

    blocks, missing = [], []
    for name in args.packages:
        dist = installed.get(canonicalize_name(name))
        if dist is None:
            missing.append(name)
            continue
        meta = dist.metadata()
        required_by = sorted(_display(o) for o in installed.values()
                             if any(canonicalize_name(r.name) == dist.name for r in o.requires()))
        requires = sorted({r.name for r in dist.requires() if r.marker is None
                           or "extra" not in str(r.marker)})
        blocks.append("\n".join([
            f"Name: {meta['Name'] or dist.display_name}", f"Version: {dist.version}",
            f"Summary: {meta['Summary'] or ''}", f"Home-page: {meta['Home-page'] or ''}",
            f"Author: {meta['Author'] or meta['Author-email'] or ''}",
            f"License: {meta['License'] or meta['License-Expression'] or ''}",
            f"Location: {dist.site_dir}",
            *([f"Editable project location: {editable}"] if (editable := _editable(dist))
              else []),
            f"Installer: {dist.installer}",
            f"Requires: {', '.join(requires)}", f"Required-by: {', '.join(required_by)}",
        ]))
    if blocks:
        print("\n---\n".join(blocks))
    for name in missing:
        logger.warning("warning: package(s) not found: %s", name)
    return 1 if missing else 0


def _editable(dist: InstalledDist) -> str | None:
    """The source tree of an editable install (PEP 610), as pip's `show` prints it."""
    direct = dist.direct_url() or {}
    info = direct.get("dir_info")
    url = direct.get("url")
    if isinstance(info, dict) and info.get("editable") and isinstance(url, str) \
            and url.startswith("file:"):
        return urllib.request.url2pathname(urlsplit(url).path)
    return None


def cmd_cache(args: argparse.Namespace) -> int:
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
    verb = "Removed" if args.action == "clean" else "Pruned"
    logger.info("%s %d file%s from %s", verb, removed, "" if removed == 1 else "s", root)
    if foreign:
        logger.warning("warning: left %d entr%s in %s that warmbuild did not make: %s",
                       len(foreign), "y" if len(foreign) == 1 else "ies", root,
                       ", ".join(foreign[:5]) + (", ..." if len(foreign) > 5 else ""))
    return 0


def cmd_config(args: argparse.Namespace) -> int:
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
    if args.no_cache:
        return {"value": None, "source": "command line (a throw-away cache)"}
    if args.cache_dir:
        return {"value": str(args.cache_dir), "source": "command line"}
    if os.environ.get("WARMBUILD_CACHE_DIR"):
        return {"value": str(default_cache_root()), "source": "environment WARMBUILD_CACHE_DIR"}
    if pip_no_cache["value"]:
        return {"value": None, "source": f"{pip_no_cache['source']} (a throw-away cache)"}
    return {"value": str(default_cache_root()), "source": "default"}
