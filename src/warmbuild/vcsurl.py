"""VCS URLs taken apart, and the PEP 610 values a git install records: pure, no git run here.

A requirement names a repository as pip writes it: ``git+https://host/repo.git@v1.0#egg=name
&subdirectory=pkg``. The revision follows the last ``@`` of the path (an ``@`` before the
host is a user name), the fragment carries the legacy ``egg=`` name and ``subdirectory=``.
Only git is supported; Mercurial, Subversion and Bazaar URLs are named in a clear error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

from packaging.utils import canonicalize_name

from .errors import WarmbuildError

#: The URL schemes git requirements may use (``git+<scheme>://``).
GIT_SCHEMES = ("https", "http", "ssh", "git", "file")
SUPPORTED = ", ".join(f"git+{s}://" for s in GIT_SCHEMES)
_OTHER_VCS = {"hg": "Mercurial", "svn": "Subversion", "bzr": "Bazaar"}
_VCS_PREFIX = re.compile(r"^(git|hg|svn|bzr)\+", re.IGNORECASE)
_FULL_SHA = re.compile(r"[0-9a-f]{40}([0-9a-f]{24})?")
_EGG = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?$")
#: ``${VAR}`` user names stay in recorded URLs (they hold no secret), as pip keeps them.
_ENV_VAR_USER = re.compile(r"^\$\{[A-Za-z0-9_-]+\}(:\$\{[A-Za-z0-9_-]+\})?$")


def is_vcs_url(text: str) -> bool:
    """``git+...``, or another VCS's prefix (which :func:`parse_vcs_url` refuses)."""
    return _VCS_PREFIX.match(text.strip()) is not None


def is_full_commit(rev: str | None) -> bool:
    """A full SHA-1 (or SHA-256) commit id: immutable, so cacheable without asking."""
    return rev is not None and _FULL_SHA.fullmatch(rev) is not None


@dataclass(frozen=True)
class VcsUrl:
    """A ``git+`` URL: what git fetches, the revision asked for, and the fragment's parts."""

    #: The URL git is given (``https://user:token@host/repo.git``): credentials kept.
    url: str
    rev: str | None = None
    subdirectory: str | None = None
    #: The legacy ``#egg=name`` (without extras).
    egg: str | None = None
    #: Extras written in the egg fragment (``#egg=name[cli]``), as pip accepts them.
    egg_extras: tuple[str, ...] = ()

    @property
    def clean_url(self) -> str:
        """The URL without a password, as PEP 610 records it (``git@`` user names stay)."""
        return strip_credentials(self.url)

    @property
    def key_url(self) -> str:
        """What the cache is keyed by: one repository whatever its credentials or ``.git``."""
        parts = urlsplit(self.clean_url)
        host = parts.netloc.rsplit("@", 1)[-1].lower()
        path = parts.path.rstrip("/")
        path = path[:-4] if path.endswith(".git") else path
        return urlunsplit((parts.scheme.lower(), host, path, "", ""))

    @property
    def project_guess(self) -> str:
        """A provisional project name: the egg, else the subdirectory's or repository's name."""
        if self.egg:
            return self.egg
        tail = (self.subdirectory or urlsplit(self.url).path).rstrip("/").rsplit("/", 1)[-1]
        tail = tail[:-4] if tail.endswith(".git") else tail
        return re.sub(r"[^A-Za-z0-9._-]+", "-", tail).strip("-._") or "project"

    def shown(self) -> str:
        """The requirement's URL for messages: ``git+`` and revision, no password."""
        rev = f"@{self.rev}" if self.rev else ""
        sub = f"#subdirectory={self.subdirectory}" if self.subdirectory else ""
        return f"git+{self.clean_url}{rev}{sub}"


@dataclass(frozen=True)
class VcsInfo:
    """A git install pinned to a commit: PEP 610 ``vcs_info`` and its ``subdirectory``."""

    #: The repository URL without ``git+``, revision or password (PEP 610 ``url``).
    url: str
    commit_id: str
    requested_revision: str | None = None
    subdirectory: str | None = None
    vcs: str = "git"

    def reference(self, name: str) -> str:
        """``name @ git+url@commit#subdirectory=dir``: what ``freeze`` writes (pip's form)."""
        sub = f"#subdirectory={self.subdirectory}" if self.subdirectory else ""
        return f"{name} @ {self.vcs}+{self.url}@{self.commit_id}{sub}"

    def editable_line(self, name: str, commit: str | None = None) -> str:
        """``-e git+url@commit#egg=name``, as pip freezes an editable VCS install."""
        egg = name.replace("-", "_")
        sub = f"&subdirectory={self.subdirectory}" if self.subdirectory else ""
        return f"-e {self.vcs}+{self.url}@{commit or self.commit_id}#egg={egg}{sub}"

    def as_direct_url(self) -> dict[str, object]:
        vcs_info: dict[str, object] = {"vcs": self.vcs, "commit_id": self.commit_id}
        if self.requested_revision:
            vcs_info["requested_revision"] = self.requested_revision
        info: dict[str, object] = {"url": self.url, "vcs_info": vcs_info}
        if self.subdirectory:
            info["subdirectory"] = self.subdirectory
        return info

    @classmethod
    def from_direct_url(cls, info: object) -> VcsInfo | None:
        """The VcsInfo a ``direct_url.json`` records, or ``None`` when it is not a VCS one."""
        if not isinstance(info, dict):
            return None
        vcs_info, url, sub = info.get("vcs_info"), info.get("url"), info.get("subdirectory")
        if not isinstance(vcs_info, dict) or not isinstance(url, str):
            return None
        vcs, commit, rev = (vcs_info.get(k) for k in ("vcs", "commit_id", "requested_revision"))
        if not isinstance(vcs, str) or not isinstance(commit, str):
            return None
        return cls(url, commit, rev if isinstance(rev, str) else None,
                   sub if isinstance(sub, str) else None, vcs)


def parse_vcs_url(text: str, source: str) -> VcsUrl:
    """Take ``git+URL[@rev][#egg=..&subdirectory=..]`` apart; other VCSs are an error."""
    text = text.strip()
    prefix, _, rest = text.partition("+")
    if prefix.lower() in _OTHER_VCS:
        raise WarmbuildError(
            f"{source}: {text}: {_OTHER_VCS[prefix.lower()]} ({prefix}+) requirements are not "
            f"supported; warmbuild installs from git only ({SUPPORTED})",
            hint="install a wheel or an sdist of the project, or check the repository out "
                 "and install its directory")
    parts = urlsplit(rest)
    if parts.scheme.lower() not in GIT_SCHEMES or not (parts.netloc or parts.scheme == "file"):
        hint = ("write scp-style addresses as git+ssh://git@host/path"
                if re.match(r"^[\w.-]+@[\w.-]+:", rest) else f"use one of {SUPPORTED}")
        raise WarmbuildError(f"{source}: {text}: not a git URL warmbuild can fetch", hint=hint)
    path, rev = parts.path, None
    if "@" in path:
        path, _, rev = path.rpartition("@")
        rev = unquote(rev) or None
    fragment = dict(parse_qsl(parts.fragment, keep_blank_values=True))
    egg, extras = _egg(fragment.get("egg"), text, source)
    subdirectory = fragment.get("subdirectory", "").strip("/") or None
    if subdirectory and ".." in subdirectory.split("/"):
        raise WarmbuildError(f"{source}: {text}: the subdirectory must lie inside the "
                             "repository")
    url = urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))
    return VcsUrl(url, rev, subdirectory, egg, extras)


def _egg(value: str | None, text: str, source: str) -> tuple[str | None, tuple[str, ...]]:
    if not value:
        return None, ()
    match = _EGG.match(value)
    if match is None:
        raise WarmbuildError(f"{source}: {text}: #egg={value} is not a project name",
                             hint="write #egg=project_name, or `project_name @ git+URL`")
    extras = match.group(2) or ""
    names = tuple(e.strip() for e in extras.strip("[]").split(",") if e.strip())
    return canonicalize_name(match.group(1)), names


def strip_credentials(url: str) -> str:
    """The URL without user and password, except a bare ``git@``-style user or ``${VAR}``
    names (PEP 610 and pip's rule: they hold no secret and ssh needs the user)."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    userinfo, _, host = parts.netloc.rpartition("@")
    if (":" not in userinfo and parts.scheme in ("ssh", "git")) or \
            _ENV_VAR_USER.match(userinfo):
        return url
    return urlunsplit((parts.scheme, host, *parts[2:]))
