"""git repositories in the cache: fetched once per URL, revisions pinned to commits, checked out.

Layout of ``git-v1`` (uv's ``git-v0`` in shape):

``db/<key>/``
    a bare repository per URL (credentials and ``.git`` do not change the key); fetched with
    the URL given each time, so no password is ever written into its config. Branches go
    to ``refs/remotes/origin/*``, tags to ``refs/tags/*``, commits fetched by id to
    ``refs/commit/<id>`` (so they survive ``git gc``).
``checkouts/<key>/<commit>/``
    one work tree per commit, made by a local clone of the db (hard links) and kept: the
    tree path is stable per (URL, commit), so its build env is reused and a backend's build
    dir inside it stays valid. ``<commit>.ok`` beside it says it is complete.

A full commit id that the db already holds needs no network; branches, tags and the default
branch are fetched (all heads and tags in one fetch, as a pip clone gets them, so that
setuptools-scm finds its tags) unless ``--offline``, which resolves against what the db
holds. git is run as a subprocess, never prompting (``GIT_TERMINAL_PROMPT=0``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ._log import format_duration, logger, progress, timed
from .cache import Cache
from .errors import NetworkError, WarmbuildError
from .http import redact
from .vcsurl import VcsUrl, is_full_commit

RevKind = Literal["branch", "tag", "commit", "default", "ref"]
#: Variables that would point our git commands at the user's repository instead of ours.
_GIT_LOCATION_VARS = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY",
                      "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_COMMON_DIR", "GIT_PREFIX")
_ALL_REFS = ("+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*",
             "+HEAD:refs/remotes/origin/HEAD")


@dataclass(frozen=True)
class Pinned:
    """A revision resolved to a commit; ``kind`` says what the revision named."""

    commit: str
    kind: RevKind
    #: The branch to check out in an editable checkout (the rev, or the default branch).
    branch: str | None = None


class GitError(Exception):
    """git exited non-zero; ``stderr`` holds its message (the URL already redacted)."""

    def __init__(self, args: list[str], stderr: str) -> None:
        super().__init__(f"git {' '.join(args)}: {stderr}")
        self.stderr = stderr


def git(*args: str, cwd: Path | None = None, url: str | None = None,
        offline: bool = False) -> str:
    """Run git; its stdout. Raises :class:`GitError` (with ``url`` redacted from stderr)."""
    env = {k: v for k, v in os.environ.items() if k not in _GIT_LOCATION_VARS}
    env["GIT_TERMINAL_PROMPT"] = "0"
    if offline:
        env["GIT_ALLOW_PROTOCOL"] = "file"  # a submodule fetch must not go out (uv's guard)
    try:
        proc = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True,
                              text=True, check=False)
    except FileNotFoundError as exc:
        raise WarmbuildError(
            "git is needed for git+ requirements, and no `git` is on PATH",
            hint="install git (e.g. `apt install git`), or install a wheel or sdist of the "
                 "project instead") from exc
    if proc.returncode != 0:
        stderr = proc.stderr.strip()
        if url:
            stderr = stderr.replace(url, redact(url))
        raise GitError(list(args), stderr)
    return proc.stdout.strip()


class GitCache:
    """The ``git-v1`` bucket: fetch, pin and check out, each under the entry's lock."""

    def __init__(self, cache: Cache, *, offline: bool = False) -> None:
        self._cache = cache
        self._offline = offline

    def _key(self, source: VcsUrl) -> str:
        return hashlib.sha256(source.key_url.encode()).hexdigest()[:16]

    def _db(self, source: VcsUrl) -> Path:
        return self._cache.bucket("git-v1") / "db" / self._key(source)

    def pin(self, source: VcsUrl) -> Pinned:
        """The commit ``source.rev`` names, fetching what the db lacks (never offline)."""
        db = self._db(source)
        with self._cache.lock(db):
            if not (db / "HEAD").is_file():
                db.mkdir(parents=True, exist_ok=True)
                git("init", "--quiet", "--bare", str(db))
            rev = source.rev
            if is_full_commit(rev) and _has_commit(db, rev or ""):
                return Pinned(rev or "", "commit")
            if rev is not None and rev.startswith("refs/"):
                self._fetch(source, db, f"+{rev}:{rev}")
            else:
                self._fetch(source, db, *_ALL_REFS)
                if is_full_commit(rev) and not _has_commit(db, rev or ""):
                    # Not on any branch or tag (a pull request's commit, say): by id.
                    self._fetch(source, db, f"+{rev}:refs/commit/{rev}", missing_ok=True)
            return self._resolve(source, db)

    def _fetch(self, source: VcsUrl, db: Path, *refspecs: str, missing_ok: bool = False) -> None:
        if self._offline:
            return
        progress.info("Fetching %s", source.shown())
        try:
            with timed() as elapsed:
                git("fetch", "--quiet", "--force", "--update-head-ok", source.url, *refspecs,
                    cwd=db, url=source.url)
        except GitError as exc:
            if missing_ok:
                return
            if "couldn't find remote ref" in exc.stderr and source.rev:
                raise _no_such_rev(source, exc.stderr) from exc
            raise NetworkError(f"cannot fetch {source.shown()}", cause=exc.stderr,
                               hint="check the URL and that you may read the repository "
                                    "(git asks no questions here: use an ssh key, a "
                                    "credential helper or credentials in the URL)") from exc
        logger.debug("Fetched %s in %s", source.shown(), format_duration(elapsed[0]))

    def _resolve(self, source: VcsUrl, db: Path) -> Pinned:
        rev = source.rev
        if rev is None:
            commit = _rev_parse(db, "refs/remotes/origin/HEAD")
            if commit is None:
                raise self._missing(source, "the repository has no default branch (HEAD)")
            return Pinned(commit, "default", _branch_at(db, commit))
        tries: list[tuple[str, RevKind]] = [(rev, "ref")] if rev.startswith("refs/") else [
            (f"refs/remotes/origin/{rev}", "branch"), (f"refs/tags/{rev}", "tag")]
        if all(c in "0123456789abcdef" for c in rev.lower()) and len(rev) >= 7:
            tries.append((rev, "commit"))
        for name, kind in tries:
            commit = _rev_parse(db, name)
            if commit is not None:
                return Pinned(commit, kind, rev if kind == "branch" else None)
        raise self._missing(source, f"no branch, tag or commit named `{rev}`")

    def _missing(self, source: VcsUrl, what: str) -> WarmbuildError:
        if self._offline:
            return WarmbuildError(
                f"{source.shown()}: {what} in the cached clone, and --offline forbids "
                "fetching", hint="run once without --offline to fill the cache")
        return WarmbuildError(f"{source.shown()}: {what}", hint=_REV_HINT)

    def checkout(self, source: VcsUrl, pinned: Pinned) -> Path:
        """The kept work tree of ``pinned.commit`` (made once, then reused)."""
        dest = self._cache.bucket("git-v1") / "checkouts" / self._key(source) / pinned.commit
        done = dest.with_name(f"{pinned.commit}.ok")
        if done.is_file():
            return dest
        with self._cache.lock(dest):
            if done.is_file():
                return dest
            shutil.rmtree(dest, ignore_errors=True)  # an interrupted earlier attempt
            tmp = Path(tempfile.mkdtemp(prefix=".checkout-", dir=dest.parent))
            try:
                self._clone(source, tmp, pinned, detach=True)
                os.replace(tmp, dest)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
            done.touch()
        return dest

    def editable_checkout(self, source: VcsUrl, pinned: Pinned, dest: Path) -> Path:
        """``dest`` as a checkout of the commit: cloned if absent, switched if clean.

        A checkout already at the commit is left as it is (local edits stay); one with local
        changes at another commit is an error, where pip would reset it.
        """
        if not dest.exists():
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}-", dir=dest.parent))
            try:
                self._clone(source, tmp, pinned, detach=pinned.branch is None)
                os.replace(tmp, dest)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
            return dest
        if not (dest / ".git").exists():
            raise WarmbuildError(
                f"{source.shown()}: {dest} exists and is not a git checkout",
                hint="remove it, or name another directory with --src")
        head = _rev_parse(dest, "HEAD")
        if head == pinned.commit:
            return dest
        if git("status", "--porcelain", "--untracked-files=no", cwd=dest):
            raise WarmbuildError(
                f"{source.shown()}: the checkout {dest} has local changes and is at "
                f"{(head or 'no commit')[:12]}, not at {pinned.commit[:12]}",
                hint="commit or stash the changes (or remove the directory), then run again")
        if not _has_commit(dest, pinned.commit):
            git("fetch", "--quiet", str(self._db(source)), pinned.commit, cwd=dest)
        self._switch(source, dest, pinned, detach=pinned.branch is None)
        return dest

    def _clone(self, source: VcsUrl, into: Path, pinned: Pinned, *, detach: bool) -> None:
        db = str(self._db(source))
        try:
            git("clone", "--quiet", "--local", "--no-checkout", db, str(into))
        except GitError:
            # Hard links fail across filesystems on some systems: copy instead (as uv does).
            shutil.rmtree(into, ignore_errors=True)
            git("clone", "--quiet", "--no-hardlinks", "--no-checkout", db, str(into))
        # The real URL (without password), so relative submodule URLs and `git pull` work.
        git("remote", "set-url", "origin", source.clean_url, cwd=into)
        self._switch(source, into, pinned, detach=detach)

    def _switch(self, source: VcsUrl, tree: Path, pinned: Pinned, *, detach: bool) -> None:
        if detach or pinned.branch is None:
            git("checkout", "--quiet", "--detach", pinned.commit, cwd=tree)
        else:
            branch = pinned.branch
            git("update-ref", f"refs/remotes/origin/{branch}", pinned.commit, cwd=tree)
            git("checkout", "--quiet", "-B", branch, pinned.commit, cwd=tree)
            git("branch", "--quiet", f"--set-upstream-to=origin/{branch}", branch, cwd=tree)
        if (tree / ".gitmodules").is_file():
            try:
                git("submodule", "update", "--init", "--recursive", "--quiet", cwd=tree,
                    offline=self._offline)
            except GitError as exc:
                raise NetworkError(f"{source.shown()}: cannot fetch its submodules",
                                   cause=exc.stderr) from exc


def current_commit(path: Path) -> str | None:
    """The commit checked out at ``path`` (for ``freeze``), or ``None`` when git cannot say."""
    try:
        return _rev_parse(path, "HEAD")
    except WarmbuildError:  # no git on PATH
        return None


def _rev_parse(repo: Path, name: str) -> str | None:
    try:
        return git("rev-parse", "--verify", "--quiet", f"{name}^{{commit}}", cwd=repo) or None
    except GitError:
        return None


def _has_commit(repo: Path, commit: str) -> bool:
    return _rev_parse(repo, commit) == commit


def _branch_at(db: Path, commit: str) -> str | None:
    """A branch whose tip is the default branch's commit (for an editable checkout)."""
    try:
        out = git("for-each-ref", "--format=%(objectname) %(refname:strip=3)",
                  "refs/remotes/origin/", cwd=db)
    except GitError:
        return None
    names = [n for sha, _, n in (line.partition(" ") for line in out.splitlines())
             if sha == commit and n != "HEAD"]
    preferred = [n for n in ("main", "master") if n in names] + sorted(names)
    return preferred[0] if preferred else None


def _no_such_rev(source: VcsUrl, cause: str) -> WarmbuildError:
    return WarmbuildError(f"{source.shown()}: no branch, tag or ref named `{source.rev}`",
                          cause=cause, hint=_REV_HINT)


_REV_HINT = "name a branch, a tag or a commit of the repository after the @"
