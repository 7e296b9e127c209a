"""`list`, `freeze`, `show`, `check` and `tree`: what the target has installed, as pip shows it.

Read-only. The checks and the tree are computed by :mod:`warmbuild.check` and
:mod:`warmbuild.deptree`; the newest versions for ``list --outdated`` by the pipeline;
this module parses, asks and prints.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import zip_longest
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from ..errors import UsageError
from ..options import MAX_DEPTH

if TYPE_CHECKING:
    from packaging.utils import NormalizedName

    from ..check import Dist
    from ..installed import InstalledDist
    from ..python import Target

from ._common import cache_from, index_args, index_flags, path_arg, target_args, target_from

Common = Callable[[argparse.ArgumentParser], None]


def add_parsers(sub: Any, common: Common) -> None:
    def fill(args: Callable[[argparse.ArgumentParser], None],
             func: Callable[[argparse.Namespace], int]) -> Callable[[Any], None]:
        def run(p: argparse.ArgumentParser) -> None:
            args(p)
            _finish(p, common, func)
        return run

    sub.add_parser("list", help="list installed packages", fill=fill(_list_args, cmd_list))
    sub.add_parser("freeze", help="installed packages as requirements",
                   fill=fill(_freeze_args, cmd_freeze))
    sub.add_parser("show", help="details of installed packages", fill=fill(_show_args, cmd_show))
    sub.add_parser("check", help="installed packages with missing or conflicting "
                   "requirements (exit 1 when any)", fill=fill(lambda p: None, cmd_check))
    sub.add_parser("tree", help="the installed packages as a dependency tree",
                   fill=fill(_tree_args, cmd_tree))


def _list_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=("columns", "json", "freeze"), default="columns",
                   help="columns (default), json, or freeze (name==version)")
    p.add_argument("-o", "--outdated", action="store_true",
                   help="only packages the index has a newer version of (asks the index)")
    p.add_argument("-u", "--uptodate", action="store_true",
                   help="only packages at the index's newest version (asks the index)")
    p.add_argument("-e", "--editable", action="store_true", help="only editable installs")
    p.add_argument("--pre", action="store_true",
                   help="--outdated/--uptodate: count pre-releases as newer versions")
    p.add_argument("--not-required", action="store_true",
                   help="only packages that no other installed package requires")
    _selection_args(p)
    index_args(p)


def _selection_args(p: argparse.ArgumentParser) -> None:
    """pip's options of `list` and `freeze` that choose which installed packages to show."""
    p.add_argument("--exclude-editable", action="store_true", help="leave editable installs out")
    p.add_argument("--include-editable", action="store_false", dest="exclude_editable",
                   help="list editable installs too (the default)")
    p.add_argument("--exclude", action="append", default=[], metavar="NAME",
                   help="leave this package out (repeatable)")
    p.add_argument("--path", action="append", default=[], type=path_arg, metavar="DIR",
                   help="only the packages installed in DIR (repeatable; default: the "
                   "target's site-packages)")
    p.add_argument("-l", "--local", action="store_true",
                   help="ignored: only the target's own site-packages are read anyway")


def _freeze_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--all", action="store_true",
                   help="also pip (and setuptools, wheel, distribute before Python 3.12), "
                   "which are left out by default, as pip does")
    _selection_args(p)


def _show_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("packages", nargs="+", metavar="NAME", help="installed project names")
    p.add_argument("-f", "--files", action="store_true",
                   help="list each package's installed files (from its RECORD)")


def _tree_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--reverse", "--invert", action="store_true", dest="reverse",
                   help="show what requires each package instead")
    p.add_argument("-d", "--depth", type=int, default=MAX_DEPTH, metavar="N",
                   help="levels below the roots to show (0: the roots only)")
    p.add_argument("--package", action="append", default=[], metavar="NAME",
                   help="start from this package instead of from every root (repeatable)")


def _finish(p: argparse.ArgumentParser, common: Common,
            func: Callable[[argparse.Namespace], int]) -> None:
    target_args(p)
    common(p)
    p.set_defaults(func=func)


def _target(args: argparse.Namespace) -> Target:
    return target_from(args, cache_from(args))


def _sorted(dists: Sequence[InstalledDist]) -> list[InstalledDist]:
    return sorted(dists, key=lambda d: d.name)


def _display(dist: InstalledDist) -> str:
    from ..coremeta import headers

    names = headers(dist.metadata_text(), "Name").get("name", [])
    return names[0] if names and names[0] else dist.display_name


def _editable(dist: InstalledDist) -> str | None:
    """The source tree of an editable install (PEP 610), as pip's `list` and `show` print it."""
    from urllib.parse import urlsplit

    direct = dist.direct_url() or {}
    info = direct.get("dir_info")
    url = direct.get("url")
    if isinstance(info, dict) and info.get("editable") and isinstance(url, str) \
            and url.startswith("file:"):
        import urllib.request

        return urllib.request.url2pathname(urlsplit(url).path)
    return None


def _installed(args: argparse.Namespace, target: Target) -> list[InstalledDist]:
    from ..installed import scan, scan_dirs

    return list((scan_dirs(args.path) if args.path else scan(target)).values())


def _chosen(args: argparse.Namespace, dists: Iterable[InstalledDist]) -> list[InstalledDist]:
    """``--exclude`` and ``--exclude-editable`` applied."""
    from packaging.utils import canonicalize_name

    excluded = {canonicalize_name(n) for n in args.exclude}
    return [d for d in dists
            if d.name not in excluded and not (d.editable and args.exclude_editable)]


def cmd_list(args: argparse.Namespace) -> int:
    from packaging.utils import canonicalize_name

    if args.outdated and args.uptodate:
        raise UsageError("--outdated and --uptodate cannot be combined")
    if args.outdated and args.format == "freeze":
        raise UsageError("--format freeze cannot be used with --outdated")
    target = _target(args)
    dists = _sorted([d for d in _chosen(args, _installed(args, target))
                     if (d.editable or not args.editable)])
    if args.not_required:  # as pip: required by one of the packages listed
        required = {canonicalize_name(name) for d in dists
                    for name in _dependencies(d, target.markers)}
        dists = [d for d in dists if d.name not in required]
    latest: dict[str, tuple[str, str]] = {}
    if args.outdated or args.uptodate:
        from ..pipeline import latest_versions

        found = latest_versions([d.name for d in dists], target, cache_from(args),
                                index_flags=index_flags(args), pre=args.pre,
                                offline=args.offline)
        for dist in dists:
            new = found.get(dist.name)
            if new is not None and (new.version > dist.version if args.outdated
                                    else new.version == dist.version):
                latest[dist.name] = (str(new.version), new.kind)
        dists = [d for d in dists if d.name in latest]
    rows = [_row(d, latest.get(d.name), outdated=args.outdated) for d in dists]
    if args.format == "json":
        print(json.dumps(rows))
    elif args.format == "freeze":
        for row in rows:
            print(f"{row['name']}=={row['version']}")
    else:
        _print_columns(rows)
    return 0


def _row(dist: InstalledDist, latest: tuple[str, str] | None, *,
         outdated: bool) -> dict[str, str]:
    row = {"name": _display(dist), "version": str(dist.version)}
    if outdated and latest is not None:
        row["latest_version"], row["latest_filetype"] = latest
    if (location := _editable(dist)) is not None:
        row["editable_project_location"] = location
    return row


def _print_columns(rows: Sequence[dict[str, str]]) -> None:
    """pip's table: a header only when there are rows, columns as wide as their values."""
    if not rows:
        return
    header = ["Package", "Version"]
    keys = ["name", "version"]
    if any("latest_version" in r for r in rows):
        header += ["Latest", "Type"]
        keys += ["latest_version", "latest_filetype"]
    if any("editable_project_location" in r for r in rows):
        header.append("Editable project location")
        keys.append("editable_project_location")
    table = [header, *([r.get(k, "") for k in keys] for r in rows)]
    sizes = [max(map(len, col)) for col in zip_longest(*table, fillvalue="")]
    lines = [" ".join(cell.ljust(size) for cell, size in zip(row, sizes, strict=True)).rstrip()
             for row in table]
    lines.insert(1, " ".join("-" * size for size in sizes))
    print("\n".join(lines))


def cmd_freeze(args: argparse.Namespace) -> int:
    from ..directurl import freeze_line

    target = _target(args)
    # pip leaves its own tooling out unless --all (the build tools only before 3.12).
    hidden = {"pip"} | ({"setuptools", "distribute", "wheel"}
                        if target.version.release[:2] < (3, 12) else set())
    for dist in _sorted(_chosen(args, _installed(args, target))):
        if dist.name not in hidden or args.all:
            print(freeze_line(dist, _display(dist)))
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    """pip's fields, in pip's order (``-v``: pip's verbose ones too), so that a script that
    reads ``pip show`` reads this; a name not installed is a warning, and an error only
    when none was (as pip and uv)."""
    from packaging.utils import canonicalize_name

    from .._log import logger
    from ..installed import scan

    target = _target(args)
    installed = scan(target)
    found = [installed[n] for n in map(canonicalize_name, args.packages) if n in installed]
    missing = sorted(n for n in args.packages if canonicalize_name(n) not in installed)
    if missing:
        logger.warning("warning: package(s) not found: %s", ", ".join(missing))
    if not found:
        return 1
    depends = {d.name: _dependencies(d, target.markers) for d in installed.values()}
    print("\n---\n".join(
        "\n".join(_show_lines(dist, installed.values(), depends, files=args.files,
                              verbose=bool(args.verbose)))
        for dist in found))
    return 0


def _dependencies(dist: InstalledDist, markers: Mapping[str, str]) -> set[str]:
    """The names (as written) of what ``dist`` requires here, extras aside."""
    from ..satisfied import marker_applies

    return {r.name for r in dist.requires()
            if marker_applies(r.marker, markers, what=f"{dist.display_name}: {r}")}


def _show_lines(dist: InstalledDist, others: Iterable[InstalledDist],
                depends: Mapping[NormalizedName, set[str]], *, files: bool,
                verbose: bool) -> list[str]:
    from packaging.utils import canonicalize_name

    from ..coremeta import metadata_version

    meta = dist.metadata()
    required_by = sorted((o.metadata()["Name"] or "UNKNOWN" for o in others
                          if dist.name in map(canonicalize_name, depends[o.name])),
                         key=str.lower)
    urls = meta.get_all("Project-URL") or []
    editable = _editable(dist)
    version = meta["Metadata-Version"] or ""
    license_line = (f"License-Expression: {meta['License-Expression']}"
                    if metadata_version(version) >= (2, 4) and meta["License-Expression"]
                    else f"License: {meta['License'] or ''}")
    lines = [
        f"Name: {meta['Name'] or dist.display_name}", f"Version: {meta['Version'] or ''}",
        f"Summary: {meta['Summary'] or ''}",
        f"Home-page: {meta['Home-page'] or _homepage(urls)}",
        f"Author: {meta['Author'] or ''}", f"Author-email: {meta['Author-email'] or ''}",
        license_line, f"Location: {dist.site_dir}",
        *([f"Editable project location: {editable}"] if editable else []),
        f"Requires: {', '.join(sorted(depends[dist.name], key=str.lower))}",
        f"Required-by: {', '.join(required_by)}",
    ]
    if verbose:
        entry_points = (dist.read_text("entry_points.txt") or "").splitlines()
        lines += [f"Metadata-Version: {version}", f"Installer: {dist.installer}",
                  "Classifiers:", *(f"  {c}" for c in meta.get_all("Classifier") or []),
                  "Entry-points:", *(f"  {e.strip()}" for e in entry_points),
                  "Project-URLs:", *(f"  {u}" for u in urls)]
    if files:
        lines.append("Files:")
        entries = _record_entries(dist)
        if entries is None:
            lines.append("Cannot locate RECORD or installed-files.txt")
        else:
            lines.extend(f"  {entry}" for entry in entries)
    return lines


def _homepage(project_urls: Sequence[str]) -> str:
    """A ``Project-URL`` labelled Homepage (PEP 753: labels compare without punctuation,
    white space or case), which PEP 621 projects give instead of ``Home-page``."""
    import string

    drop = str.maketrans("", "", string.punctuation + string.whitespace)
    for entry in project_urls:
        label, sep, url = entry.partition(",")
        if sep and label.translate(drop).lower() == "homepage":
            return url.strip()
    return ""


def _record_entries(dist: InstalledDist) -> list[str] | None:
    """RECORD's paths as pip's `show -f` prints them: relative to the site dir, sorted."""
    import csv

    text = dist.read_text("RECORD")
    if text is None:
        return None
    # PurePath, as pip: `a/../b` stays as written, only `./` and doubled slashes go.
    return sorted(str(PurePath(row[0])) for row in csv.reader(text.splitlines())
                  if row and row[0])


def _dists(target: Target) -> list[Dist]:
    from ..check import Dist
    from ..installed import scan

    return [Dist(d.name, d.version, tuple(d.metadata().get_all("Requires-Dist") or ()),
                 _display(d)) for d in scan(target).values()]


def cmd_check(args: argparse.Namespace) -> int:
    from .._log import logger
    from ..check import check

    target = _target(args)
    report = check(_dists(target), target.markers)
    for bad in report.unreadable:
        logger.warning("warning: cannot read the requirements of %s: %s", bad.dist,
                       bad.problem)
    for line in report.lines():
        print(line)
    if report.ok:
        print("No broken requirements found.")
    return 0 if report.ok else 1


def cmd_tree(args: argparse.Namespace) -> int:
    from packaging.utils import canonicalize_name

    from .._log import logger
    from ..deptree import graph, render

    if args.depth < 0:
        raise UsageError(f"--depth {args.depth}: expected 0 or more")
    target = _target(args)
    dists = _dists(target)
    known = {d.name for d in dists}
    starts = [canonicalize_name(n) for n in args.package]
    missing = [n for n, c in zip(args.package, starts, strict=True) if c not in known]
    g = graph(dists, target.markers, reverse=args.reverse)
    lines = render(g, [s for s in starts if s in known] if starts else None, depth=args.depth)
    if lines:
        print("\n".join(lines))
    for name in missing:
        logger.warning("warning: package(s) not found: %s", name)
    return 1 if missing else 0
