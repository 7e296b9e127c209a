"""PEP 610 ``direct_url.json``: what an install records of where it came from, and the
requirement line ``freeze`` writes back from it (pip's forms).

- an index install records nothing: ``name==version``;
- a wheel or sdist URL or path: ``archive_info``: ``name @ url``;
- a source tree: ``dir_info``: ``name @ file:///tree``, ``-e file:///tree`` when editable;
- a git commit: ``vcs_info``: ``name @ git+url@<commit>#subdirectory=dir``;
- an editable git checkout: ``dir_info`` (the checkout, as pip records it) and, beside it,
  ``WARMBUILD_VCS`` with the ``vcs_info``: ``-e git+url@<checked-out commit>#egg=name``.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .dists import ResolvedDist
from .installed import InstalledDist
from .vcsurl import VcsInfo

#: In the ``.dist-info`` of an editable git install: the ``direct_url.json`` it would have
#: had as a regular install (the checkout's URL and commit), for ``freeze``.
VCS_MARKER = "WARMBUILD_VCS"


def metadata_files(dist: ResolvedDist) -> dict[str, bytes]:
    """``direct_url.json`` (and ``WARMBUILD_VCS``) for ``dist``; empty for index installs."""
    info: dict[str, Any] | None = None
    extra: dict[str, bytes] = {}
    if dist.vcs is not None and not dist.editable:
        info = dist.vcs.as_direct_url()
    elif dist.file is not None and dist.file.kind == "tree":
        info = {"url": dist.direct_url or dist.file.url,
                "dir_info": {"editable": True} if dist.editable else {}}
        if dist.vcs is not None:
            extra[VCS_MARKER] = _dump(dist.vcs.as_direct_url())
    elif dist.direct_url is not None:
        info = {"url": dist.direct_url, "archive_info": {}}
        known = dict(dist.file.hashes) if dist.file is not None else {}
        known.update(dict(dist.required_hashes))
        if known:
            algo, digest = next(iter(sorted(known.items())))
            info["archive_info"] = {"hash": f"{algo}={digest}", "hashes": known}
    if info is not None:
        extra["direct_url.json"] = _dump(info)
    return extra


def _dump(info: dict[str, Any]) -> bytes:
    return json.dumps(info, sort_keys=True).encode()


def installed_vcs(dist: InstalledDist) -> VcsInfo | None:
    """The git commit an installed dist was built from, editable or not."""
    found = VcsInfo.from_direct_url(dist.direct_url())
    if found is None and dist.editable:
        text = dist.read_text(VCS_MARKER)
        try:
            found = VcsInfo.from_direct_url(json.loads(text)) if text else None
        except ValueError:
            return None
    return found


def same_source(installed: InstalledDist, dist: ResolvedDist) -> bool:
    """Whether ``installed`` came from the URL (or git commit) ``dist`` is to come from."""
    if dist.vcs is not None:
        # The same commit, whichever revision named it (`@v1` or its commit id).
        found = installed_vcs(installed)
        return not installed.editable and found is not None and replace(
            found, requested_revision=None) == replace(dist.vcs, requested_revision=None)
    return (installed.direct_url() or {}).get("url") == dist.direct_url


def freeze_line(dist: InstalledDist, name: str) -> str:
    """The requirement that reinstalls ``dist``, as ``pip freeze`` writes it."""
    vcs = installed_vcs(dist)
    info = dist.direct_url()
    if vcs is not None and dist.editable:
        from .vcs import current_commit  # runs git: only for editable git checkouts

        location = _editable_location(info)
        return vcs.editable_line(name, current_commit(location) if location else None)
    if vcs is not None:
        return vcs.reference(name)
    if info and isinstance(info.get("url"), str):
        prefix = "-e " if dist.editable else f"{name} @ "
        return f"{prefix}{info['url']}"
    return f"{name}=={dist.version}"


def _editable_location(info: dict[str, object] | None) -> Path | None:
    url = (info or {}).get("url")
    if not isinstance(url, str) or not url.startswith("file:"):
        return None
    import urllib.request  # imports http.client: only for a file: URL

    return Path(urllib.request.url2pathname(urlsplit(url).path))
