"""`warmbuild env list|show|remove|prune` and `warmbuild doctor`: the build envs, visible."""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..envs import (
        EnvInfo,
        Removal,
    )

from ..errors import WarmbuildError
from ._common import cache_from, path_arg

Common = Callable[[argparse.ArgumentParser], None]


def add_parsers(sub: Any, common: Common) -> None:
    sub.add_parser("env", help="list, show, remove and prune build environments",
                   fill=lambda env: _env_args(env, common))
    sub.add_parser("doctor", help="explain the state of a tree's builds and build envs",
                   fill=lambda p: _doctor_args(p, common))


def _env_args(env: argparse.ArgumentParser, common: Common) -> None:
    actions = env.add_subparsers(dest="env_action", required=True, metavar="ACTION")
    p = actions.add_parser("list", help="every build env, with its state")
    p.add_argument("--format", choices=("text", "json"), default="text",
                   help="text (default) or json")
    common(p)
    p.set_defaults(func=_list)
    p = actions.add_parser("show", help="the manifest of a tree's build env(s)")
    p.add_argument("path", nargs="?", type=path_arg, default=Path("."),
                   help="a source tree, or a build env's own directory (default: .)")
    p.add_argument("--format", choices=("text", "json"), default="text",
                   help="text (default) or json")
    common(p)
    p.set_defaults(func=_show)
    p = actions.add_parser("remove", help="remove a tree's build env(s); never the tree")
    p.add_argument("path", nargs="?", type=path_arg, default=Path("."),
                   help="a source tree, or a build env's own directory (default: .)")
    p.add_argument("--force", action="store_true",
                   help="also when an editable install still uses it")
    common(p)
    p.set_defaults(func=_remove)
    p = actions.add_parser("prune", help="remove envs whose tree or interpreter is gone, or "
                           "unused for --older-than")
    p.add_argument("--older-than", metavar="AGE", help="e.g. 30d, 12h")
    p.add_argument("--dry-run", action="store_true", help="say what would go, remove nothing")
    p.add_argument("--force", action="store_true",
                   help="also envs an editable install still uses")
    common(p)
    p.set_defaults(func=_prune)


def _doctor_args(p: argparse.ArgumentParser, common: Common) -> None:
    p.add_argument("path", nargs="?", type=path_arg, default=Path("."),
                   help="the source tree (default: .)")
    p.add_argument("--python", metavar="PATH",
                   help="also check editable installs of the tree in this environment "
                   "(default: VIRTUAL_ENV or .venv, when there is one)")
    common(p)
    p.set_defaults(func=_doctor)


def _cache(args: argparse.Namespace) -> Any:
    return cache_from(args)


def _ago(timestamp: float) -> str:
    seconds = time.time() - timestamp
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit} ago"
    return "just now"


def _mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def _list(args: argparse.Namespace) -> int:
    from ..envs import all_envs

    envs = all_envs(_cache(args))
    if args.format == "json":
        print(json.dumps([e.as_json() for e in envs], indent=2))
        return 0
    if not envs:
        print("No build environments.")
        return 0
    for e in envs:
        version = e.manifest.get("interpreter", {}).get("version", "?")
        used = f", editable install in {', '.join(e.editables)}" if e.editables else ""
        print(f"{e.path}\n  tree {e.tree}, Python {version}, {_mb(e.size)}, "
              f"used {_ago(e.last_used)}, {e.state}{used}")
    return 0


def _tree_envs(args: argparse.Namespace) -> list[EnvInfo]:
    from ..envs import envs_of_tree, inspect

    if (args.path / "warmbuild-env.json").is_file():
        return [inspect(args.path.resolve())]
    envs = envs_of_tree(_cache(args), args.path)
    if not envs:
        raise WarmbuildError(f"{args.path.resolve()} has no build environment",
                         hint="`warmbuild env list` shows them all")
    return envs


def _show(args: argparse.Namespace) -> int:
    from datetime import datetime

    from ..envs import logs_of

    envs = _tree_envs(args)
    if args.format == "json":
        print(json.dumps([{**e.as_json(), "manifest": e.manifest,
                           "logs": [str(p) for p in logs_of(e)]} for e in envs], indent=2))
        return 0
    for e in envs:
        if e.problem:  # nothing in a damaged manifest can be trusted: say only that
            print(f"{e.path} ({e.state}, {_mb(e.size)})\n  tree:        "
                  f"{e.tree_path or '?'}\n  problem:     {e.problem}\n  the next build "
                  "of its tree recreates it; `warmbuild env prune` removes it")
            continue
        m = e.manifest
        lines = [f"{e.path} ({e.state}, {_mb(e.size)})", f"  tree:        {e.tree}",
                 f"  interpreter: {m.get('python')} ({m.get('interpreter', {}).get('version')})",
                 f"  backend:     {m.get('backend')}",
                 f"  declared:    {', '.join(m.get('declared', [])) or '-'}"]
        for kind, extra in sorted(m.get("extras", {}).items()):
            lines.append(f"  get_requires_for_build_{kind}: {', '.join(extra) or '-'}")
        resolved = m.get("resolved", {})
        lines.append("  installed:   " + (", ".join(f"{k} {v}" for k, v in sorted(
            resolved.items())) or "-"))
        lines.append(f"  config:      {json.dumps(m.get('config_settings', {}))}")
        lines.append(f"  env vars:    {json.dumps(m.get('env_vars', {}))}")
        cc = m.get("compiler_cache")
        if isinstance(cc, dict):
            lines.append(f"  compiler cache: {cc.get('tool')} at {cc.get('executable')}, base "
                         f"dirs {', '.join(cc.get('base_dirs') or []) or '-'}; last build: "
                         f"{cc.get('last_build') or 'no figures'}")
        lines.append(f"  created {_ago(m.get('created', 0))}, used {_ago(e.last_used)}")
        if e.editables:
            lines.append(f"  used by editable installs in: {', '.join(e.editables)}")
        for h in m.get("history", [])[-10:]:
            stamp = datetime.fromtimestamp(h["time"]).strftime("%Y-%m-%d %H:%M")
            detail = "; ".join(filter(None, [", ".join(h.get("changes", [])),
                                             h.get("reason", "")]))
            lines.append(f"  {stamp} {h['event']}" + (f": {detail}" if detail else ""))
        lines.extend(_logs(e))
        print("\n".join(lines))
    return 0


def _logs(env: EnvInfo) -> list[str]:
    """The backend logs of the env's last builds, newest last, as `env show` lists them."""
    from datetime import datetime

    from ..envs import logs_of

    lines = ["  build logs (newest last):"]
    for path in logs_of(env):
        try:
            st = path.stat()
        except OSError:
            continue
        stamp = datetime.fromtimestamp(st.st_mtime).strftime("%Y-%m-%d %H:%M")
        lines.append(f"    {stamp} {path} ({st.st_size / 1e3:.1f} kB)")
    return lines if len(lines) > 1 else ["  build logs:  -"]


def _report(results: Sequence[Removal], verb: str) -> int:
    for r in results:
        print(f"{verb if r.removed else 'Kept'} {r.env.path} ({r.why})")
    if not results:
        print("Nothing to remove.")
    return 0


def _remove(args: argparse.Namespace) -> int:
    from ..envs import remove

    results = remove(_tree_envs(args), force=args.force)
    _report(results, "Removed")
    return 0 if all(r.removed for r in results) else 1


def _prune(args: argparse.Namespace) -> int:
    from ..envs import all_envs, parse_age, prunable, remove

    older = parse_age(args.older_than) if args.older_than else None
    candidates = prunable(all_envs(_cache(args)), older)
    return _report(remove(candidates, force=args.force, dry_run=args.dry_run),
                   "Would remove" if args.dry_run else "Removed")


def _doctor(args: argparse.Namespace) -> int:
    from ..adopt import plan_adoption
    from ..builddirs import cache_defeating, doctor
    from ..envs import all_envs, envs_of_tree
    from ..pyfind import find_interpreter
    from ..python import query_target

    tree = args.path.resolve()
    cache = _cache(args)
    site_dirs: tuple[Path, ...] = ()
    try:
        site_dirs = query_target(find_interpreter(args.python, system=False, cwd=Path.cwd()),
                                 cache).site_dirs
    except WarmbuildError:
        if args.python:
            raise
    live = {str(e.path) for e in all_envs(cache)}
    findings = doctor(tree, live, site_dirs)
    envs = envs_of_tree(cache, tree)
    if not tree.is_dir() and not envs:  # a tree that moved away still has envs to explain
        problem = "not a directory" if tree.exists() else "no such directory"
        raise WarmbuildError(f"{args.path}: {problem}",
                             hint="pass the source tree of a Python project")
    print(f"Source tree {tree}")
    if not envs:
        print("  no warmbuild build env yet: the next `warmbuild install` creates one")
    for e in envs:
        print(f"  build env {e.path}: {e.state}, used {_ago(e.last_used)}")
    if not findings:
        print("  no in-tree build directory with recorded tool paths found")
    bad = 0
    for f in findings:
        where = f.file.relative_to(tree) if f.file.is_relative_to(tree) else f.file
        print(f"  {where}: {f.what} = {f.path}\n    -> {f.verdict}")
        bad += not f.verdict.startswith("ok")
    adoption = plan_adoption(tree, live, site_dirs).describe()
    if adoption:
        print("  the next `warmbuild install`/`build` adopts (`--no-adopt` or adopt = false "
              "turns it off):")
        print("\n".join(f"    {line}" for line in adoption))
    for line in cache_defeating(tree, live):
        print(f"  compiler cache: {line}")
    return 1 if bad else 0
