"""pip's installation report (``install --report``, JSON version "1"), made from values.

The fields follow pip's ``models/installation_report.py``
(https://pip.pypa.io/en/stable/reference/installation-report/): ``download_info`` is PEP
610 direct URL data as pip's ``direct_url_from_link`` makes it, ``metadata`` the JSON form
of core metadata (PEP 566) as pip's ``metadata/_json.py`` makes it, ``environment`` the
target's marker values. :func:`installation_report` is pure; the pipeline gathers the
metadata texts and hashes it needs.
"""

from __future__ import annotations

import email
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from packaging.utils import NormalizedName

from . import __version__
from .dists import DistFile, ResolvedDist
from .fetch import Fetcher, sha256_of
from .http import split_credentials
from .reqfile import UserRequirement

# (field, multiple use), in pip's order: https://peps.python.org/pep-0566/#json-compatible-metadata
_METADATA_FIELDS = (
    ("Metadata-Version", False), ("Name", False), ("Version", False), ("Dynamic", True),
    ("Platform", True), ("Supported-Platform", True), ("Summary", False),
    ("Description", False), ("Description-Content-Type", False), ("Keywords", False),
    ("Home-page", False), ("Download-URL", False), ("Author", False), ("Author-email", False),
    ("Maintainer", False), ("Maintainer-email", False), ("License", False),
    ("License-Expression", False), ("License-File", True), ("Classifier", True),
    ("Requires-Dist", True), ("Requires-Python", False), ("Requires-External", True),
    ("Project-URL", True), ("Provides-Extra", True), ("Provides-Dist", True),
    ("Obsoletes-Dist", True),
)


@dataclass(frozen=True)
class ReportItem:
    """One distribution the command installs (or, with ``--dry-run``, would install)."""

    dist: ResolvedDist
    #: Its core metadata text (METADATA, PKG-INFO, a PEP 658 file).
    metadata: str
    #: The extras the user asked for (only for requested distributions, as pip).
    requested_extras: tuple[str, ...] = ()
    #: The file's sha256 when the index published no hash (pip hashes the download).
    sha256: str | None = None


class MetadataSource(Protocol):
    """Where the texts come from: the run's dependency reader, which has read most already."""

    def text(self, name: NormalizedName, file: DistFile | None) -> str: ...


def report_items(dists: Sequence[ResolvedDist], wanted: Sequence[UserRequirement],
                 metadata: MetadataSource, fetcher: Fetcher, *, download: bool,
                 texts: Mapping[str, str] | None = None) -> list[ReportItem]:
    """The report's items for ``dists``; ``download``: files may be fetched to be hashed
    (not for ``--dry-run``, where pip too hashes only files it had to read anyway).
    ``texts``: metadata by file URL that replaces ``metadata``'s (source trees')."""
    extras: dict[NormalizedName, set[str]] = {}
    for req in wanted:
        extras.setdefault(req.name, set()).update(req.requirement.extras)
    items = []
    for dist in dists:
        file = dist.file
        assert file is not None
        sha256 = None
        if not file.hashes and file.kind != "tree" and (download
                                                         or file.url.startswith("file:")):
            fetched = fetcher.fetch(file, dist.required_hashes)
            sha256 = fetched.sha256 or sha256_of(fetched.path)
        text = (texts or {}).get(file.url) or metadata.text(dist.name, file)
        items.append(ReportItem(dist, text,
                                tuple(sorted(extras.get(dist.name, ()))), sha256))
    return items


def installation_report(items: Sequence[ReportItem], environment: Mapping[str, str],
                        ) -> dict[str, Any]:
    # pip's "pip_version" is left out: this report is not pip's; the generator is named.
    return {"version": "1", "warmbuild_version": __version__,
            "install": [_item(i) for i in items], "environment": dict(environment)}


def _item(item: ReportItem) -> dict[str, Any]:
    dist = item.dist
    assert dist.file is not None, "only distributions with a file are installed"
    result: dict[str, Any] = {
        "download_info": download_info(dist, item.sha256),
        # pip: a URL or path the user gave (editables included), not an index's file.
        "is_direct": dist.direct_url is not None,
        "is_yanked": dist.file.is_yanked,
        "requested": dist.requested,
        "metadata": metadata_json(item.metadata),
    }
    if dist.requested and item.requested_extras:
        result["requested_extras"] = sorted(item.requested_extras)
    return result


def download_info(dist: ResolvedDist, sha256: str | None = None) -> dict[str, Any]:
    """PEP 610 data for where ``dist`` came from: ``dir_info`` for a source tree, else
    ``archive_info`` with the index's first hash (pip's ``Link.hash``), else ``sha256``."""
    file = dist.file
    assert file is not None
    url = _without_credentials(dist.direct_url or file.url)
    if file.kind == "tree":
        return {"url": url, "dir_info": {"editable": True} if dist.editable else {}}
    hashes = dict(file.hashes[:1]) or ({"sha256": sha256} if sha256 else {})
    archive: dict[str, Any] = {}
    if hashes:
        algorithm, digest = next(iter(hashes.items()))
        # "hash" is PEP 610's legacy field, which pip still writes beside "hashes".
        archive = {"hashes": hashes, "hash": f"{algorithm}={digest}"}
    return {"url": url, "archive_info": archive}


def _without_credentials(url: str) -> str:
    # As pip does: a password must not end up in a report that is shared or logged.
    try:
        return split_credentials(url)[0]
    except ValueError:
        return url


def metadata_json(text: str) -> dict[str, Any]:
    """Core metadata as PEP 566 JSON: lower-case keys with underscores, multiple-use fields
    as lists, ``keywords`` split, and the message body as ``description``."""
    msg = email.message_from_string(text)
    headers = [(k.lower(), _redent(str(v))) for k, v in msg.items()]
    result: dict[str, Any] = {}
    for field, multiple in _METADATA_FIELDS:
        values = [v for k, v in headers if k == field.lower()]
        if not values:
            continue
        key = field.lower().replace("-", "_")
        if multiple:
            result[key] = values
        elif key == "keywords":
            # Both comma- and space-separated keywords are found in the wild.
            result[key] = ([v.strip() for v in values[0].split(",")] if "," in values[0]
                           else values[0].split())
        else:
            result[key] = values[0]
    payload = msg.get_payload()
    if isinstance(payload, str) and payload:
        result["description"] = payload
    return result


def _redent(value: str) -> str:
    """A folded header's continuation lines without their indentation, as
    ``importlib.metadata`` (which pip reads metadata with) gives them."""
    if "\n" not in value:
        return value
    return textwrap.dedent(" " * 8 + value)
