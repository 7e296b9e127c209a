"""The resolved set's files in a directory: ``download`` (as published) and ``wheel`` (built).

Files come from the cache (fetched and hash-checked there) and are copied under a temporary
name and renamed, so an interrupted run never leaves half a file in the output directory; a
file already there with the same content is left alone, as pip's "already downloaded".
"""

from __future__ import annotations

import filecmp
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from ._log import format_duration, logger, timed
from ._threads import map_in_threads
from .context import plural
from .dists import ResolvedDist
from .fetch import Fetcher
from .sdist import SdistBuilder

#: Builds the wheel of a resolved source tree into the given directory.
TreeBuild = Callable[[ResolvedDist, Path], Path]


def save_files(dists: Sequence[ResolvedDist], fetcher: Fetcher, outdir: Path) -> list[Path]:
    """Each distribution's file, wheel or sdist, copied into ``outdir``."""
    trees = [d for d in dists if d.file is not None and d.file.kind == "tree"]
    for dist in trees:
        # As pip: a local directory is resolved (its dependencies are saved), not archived.
        logger.info("Skipped %s: a source directory, not a file (use `warmbuild build` "
                    "or `warmbuild wheel`)", dist.direct_url or dist.name)

    def save(dist: ResolvedDist) -> Path:
        assert dist.file is not None
        fetched = fetcher.fetch(dist.file, dist.required_hashes)
        return _copy(fetched.path, outdir / dist.file.filename)

    files = [d for d in dists if d.file is not None and d not in trees]
    return _saved(files, save, outdir, "file")


def save_wheels(dists: Sequence[ResolvedDist], fetcher: Fetcher, sdists: SdistBuilder,
                build_tree: TreeBuild, outdir: Path) -> list[Path]:
    """A wheel of each distribution in ``outdir``: wheels copied, sdists built (once, then
    from the cache), source trees built by ``build_tree``."""
    work = Path(tempfile.mkdtemp(prefix="warmbuild-wheel-"))

    def wheel_of(dist: ResolvedDist) -> Path:
        file = dist.file
        assert file is not None
        if file.kind == "tree":
            built = build_tree(dist, work / dist.name)
            return _copy(built, outdir / built.name)
        fetched = fetcher.fetch(file, dist.required_hashes)
        if file.kind == "sdist":
            built = sdists.wheel(fetched.path, fetched.sha256)
            return _copy(built, outdir / built.name)
        return _copy(fetched.path, outdir / file.filename)

    try:
        return _saved([d for d in dists if d.file is not None], wheel_of, outdir, "wheel")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _saved(dists: Sequence[ResolvedDist], save: Callable[[ResolvedDist], Path], outdir: Path,
           what: str) -> list[Path]:
    outdir.mkdir(parents=True, exist_ok=True)
    with timed() as elapsed:
        paths = map_in_threads(save, dists, workers=8, name="warmbuild-save")
    logger.info("Saved %d %s%s to %s in %s", len(paths), what, plural(paths), outdir,
                format_duration(elapsed[0]))
    return paths


def _copy(source: Path, final: Path) -> Path:
    if final.is_file() and filecmp.cmp(source, final, shallow=False):
        return final
    fd, partial = tempfile.mkstemp(dir=final.parent, prefix=f".{final.name}.")
    os.close(fd)
    try:
        shutil.copyfile(source, partial)
        os.replace(partial, final)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    return final
