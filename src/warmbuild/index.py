"""Where distribution files come from: simple API indexes (PEP 503/691), find-links, URLs.

Index strategy (``IndexSettings.strategy``, uv's three): ``first-index`` (the default) asks
the indexes in order — every ``--extra-index-url`` first, then ``--index-url`` — and the
first one that knows the project supplies all its files. This closes the
dependency-confusion hole of pip's merge, where a public upload with a higher version beats
the private package of the same name. ``unsafe-first-match`` asks every index and tries the
versions of earlier indexes first (a version an earlier index has is taken from it only);
``unsafe-best-match`` merges every index's files, as pip does, and the best version wins.
Find-links locations are always merged, as they are local or explicitly trusted.
``exclude_newer`` keeps only index files whose PEP 700 ``upload-time`` is not later (files
without one are left out, as uv does; find-links files are not filtered).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name

from ._threads import KeyedLocks
from .dists import DistFile, parse_filename
from .errors import NetworkError, WarmbuildError
from .http import HttpClient, redact
from .reqfile import url2pathname

_ACCEPT = ("application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, "
           "text/html;q=0.01")
_JSON_TYPE = "application/vnd.pypi.simple.v1+json"




@dataclass(frozen=True)
class IndexSettings:
    index_url: str = "https://pypi.org/simple"
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    no_index: bool = False
    strategy: str = "first-index"
    #: ``--exclude-newer``: index files uploaded later (or of unknown time) are left out.
    exclude_newer: datetime | None = None

    @property
    def indexes(self) -> tuple[str, ...]:
        """Indexes in the order they are asked (first index wins)."""
        if self.no_index:
            return ()
        return (*self.extra_index_urls, self.index_url)


class Finder:
    """Collects the files offered for a project; one answer per project per run."""

    def __init__(self, settings: IndexSettings, client: HttpClient,
                 refresh: frozenset[NormalizedName] = frozenset()) -> None:
        """``refresh``: projects whose cached pages are revalidated even while fresh
        (``--refresh-package``)."""
        self.settings = settings
        self._refresh = refresh
        self._client = client
        self._indexes = tuple(client.add_credentials(u).rstrip("/") + "/"
                              for u in settings.indexes)
        self._find_links = tuple(client.add_credentials(u) for u in settings.find_links)
        self._found: dict[NormalizedName, tuple[DistFile, ...]] = {}
        self._flat: tuple[DistFile, ...] | None = None
        self._name_locks: KeyedLocks[NormalizedName] = KeyedLocks()
        #: Per project: how many index files --exclude-newer left out.
        self._excluded: dict[NormalizedName, int] = {}
        #: Per project: the error its pages gave, so a resolver thread that asks again after
        #: a prefetch thread failed does not wait through the same retries once more.
        self._failed: dict[NormalizedName, NetworkError] = {}

    @property
    def index_order(self) -> tuple[str, ...]:
        """The indexes (as files name their origin) when earlier ones' versions go first."""
        return self._indexes if self.settings.strategy == "unsafe-first-match" else ()

    def find(self, name: str) -> tuple[DistFile, ...]:
        key = canonicalize_name(name)
        with self._name_locks(key):
            if key in self._failed:
                raise self._failed[key]
            if key not in self._found:
                files = [f for f in self._flat_files() if f.name == key]
                try:
                    self._found[key] = (*files, *self._index_files(key))
                except NetworkError as exc:
                    self._failed[key] = exc
                    raise
            return self._found[key]

    def _index_files(self, key: NormalizedName) -> list[DistFile]:
        strategy = self.settings.strategy
        files: list[DistFile] = []
        for index in self._indexes:
            page = self._page(index, key)
            if page is None:
                continue
            if strategy == "first-index":
                return page
            if strategy == "unsafe-first-match":
                # A version an earlier index offers is taken from that index only (uv).
                known = {f.version for f in files}
                files.extend(f for f in page if f.version not in known)
            else:
                # pip's merge: every index's files; the same file twice counts once.
                names = {f.filename for f in files}
                files.extend(f for f in page if f.filename not in names)
        return files

    def _page(self, index: str, key: NormalizedName, *, count: bool = True
              ) -> list[DistFile] | None:
        page = self._project_page(index, key)
        if page is None:
            return None
        # A page may list files of other projects (a misconfigured mirror); like pip, take
        # only this project's.
        page = [f for f in page if f.name == key]
        cutoff = self.settings.exclude_newer
        if cutoff is not None:
            kept = [f for f in page if f.upload_time is not None and f.upload_time <= cutoff]
            if count:
                self._excluded[key] = self._excluded.get(key, 0) + len(page) - len(kept)
            page = kept
        return page

    def missing_note(self, name: str, spec: SpecifierSet) -> tuple[str, str] | None:
        """Why the index settings may hide a version matching ``spec``: ``(cause, hint)``.

        Other indexes are asked only here, after a resolution failed (their pages are
        cached like any other), so first-index costs no request while things work.
        """
        key = canonicalize_name(name)
        if self._excluded.get(key):
            return (f"--exclude-newer {self.settings.exclude_newer:%Y-%m-%d %H:%M %Z} left out "
                    f"{self._excluded[key]} file(s) of `{key}` (uploaded later, or the index "
                    "gives no upload time)", "pass a later --exclude-newer date, or none")
        if self.settings.strategy != "first-index" or len(self._indexes) < 2:
            return None
        used = next((f.origin for f in self.find(key) if f.origin in self._indexes), None)
        if used is None:
            return None
        have = {f.filename for f in self.find(key)}
        for index in self._indexes:
            extra = sorted({f.version for f in self._page(index, key, count=False) or ()
                            if f.filename not in have and spec.contains(f.version, True)},
                           reverse=True)
            if index != used and extra:
                return (f"`{key}` comes from {redact(used)} alone (the first index that has it: "
                        f"index-strategy first-index); {redact(index)} also has "
                        f"{', '.join(map(str, extra[:5]))}",
                        "to take versions from every index, pass --index-strategy "
                        "unsafe-best-match (or WARMBUILD_INDEX_STRATEGY); read the README on "
                        "dependency confusion first")
        return None

    def metadata(self, file: DistFile) -> bytes | None:
        """The PEP 658 metadata file, or ``None`` when the index offers none."""
        if file.metadata_url is None:
            return None
        data = self._read(file.metadata_url)
        if data is None:
            return None
        _check_hashes(data, file.metadata_hashes, f"metadata of {file.filename}")
        return data

    def _read(self, url: str) -> bytes | None:
        if url.startswith("file:"):
            path = Path(url2pathname(urlsplit(url).path))
            return path.read_bytes() if path.is_file() else None
        resp = self._client.get(url)
        return None if resp.status == 404 else resp.body

    def _project_page(self, index: str, name: NormalizedName) -> list[DistFile] | None:
        url = f"{index}{name}/"
        if url.startswith("file:"):
            directory = Path(url2pathname(urlsplit(url).path))
            page = directory / "index.html"
            if page.is_file():
                return parse_html(page.read_text(errors="replace"), url, origin=index)
            return _dir_files(directory, index) if directory.is_dir() else None
        resp = self._client.get(url, accept=_ACCEPT, revalidate=name in self._refresh)
        if resp.status == 404:
            return None
        if resp.content_type.split(";")[0].strip() == _JSON_TYPE:
            return parse_json(resp.body, url, origin=index,
                              times=self.settings.exclude_newer is not None)
        return parse_html(resp.body.decode("utf-8", "replace"), url, origin=index)

    def _flat_files(self) -> tuple[DistFile, ...]:
        if self._flat is None:
            files: list[DistFile] = []
            for location in self._find_links:
                files.extend(self._find_links_files(location))
            self._flat = tuple(files)
        return self._flat

    def _find_links_files(self, location: str) -> list[DistFile]:
        if "://" not in location:
            path = Path(location).expanduser()
        elif location.startswith("file:"):
            path = Path(url2pathname(urlsplit(location).path))
        else:
            resp = self._client.get(location, accept="text/html")
            if resp.status == 404:
                raise NetworkError(f"find-links location {redact(location)}: not found")
            return parse_html(resp.body.decode("utf-8", "replace"), location, origin=location)
        if path.is_dir():
            return _dir_files(path, location)
        if path.is_file():
            return parse_html(path.read_text(errors="replace"), path.as_uri(), origin=location)
        raise NetworkError(f"find-links location {location}: no such file or directory")


def _dir_files(directory: Path, origin: str) -> list[DistFile]:
    files = []
    for entry in sorted(os.scandir(directory), key=lambda e: e.name):
        if entry.is_file():
            dist = make_dist_file(entry.name, Path(entry.path).absolute().as_uri(),
                                  origin=origin)
            if dist is not None:
                files.append(dist)
    return files


@functools.lru_cache(maxsize=1024)
def _requires_python(text: str) -> SpecifierSet | None:
    """Parsed once per page's few distinct values; ``None`` when unparsable (ignored, as
    pip does)."""
    try:
        return SpecifierSet(text)
    except InvalidSpecifier:
        return None


def make_dist_file(filename: str, url: str, *, origin: str, requires_python: str | None = None,
                   yanked: str | None = None, hashes: tuple[tuple[str, str], ...] = (),
                   metadata: str | bool | dict[str, str] | None = None,
                   upload_time: datetime | None = None) -> DistFile | None:
    """A DistFile from the facts an index gives; ``None`` for files that are not dists."""
    parsed = parse_filename(filename)
    if parsed is None:
        return None
    name, version, kind, tags = parsed
    spec = _requires_python(requires_python) if requires_python else None
    metadata_url = None
    metadata_hashes: tuple[tuple[str, str], ...] = ()
    if metadata and kind == "wheel":
        metadata_url = url + ".metadata"
        if isinstance(metadata, dict):
            metadata_hashes = tuple(sorted(metadata.items()))
        elif isinstance(metadata, str) and "=" in metadata:
            algo, _, digest = metadata.partition("=")
            metadata_hashes = ((algo, digest),)
    return DistFile(filename=filename, url=url, name=name, version=version, kind=kind,
                    tags=tags, requires_python=spec, yanked=yanked, hashes=hashes,
                    metadata_url=metadata_url, metadata_hashes=metadata_hashes, origin=origin,
                    upload_time=upload_time)


def split_hash(url: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """``url#sha256=...`` -> (url without the fragment, ((algorithm, digest),))."""
    clean, fragment = urldefrag(url)
    if "=" in fragment:
        algo, _, digest = fragment.partition("=")
        if algo in hashlib.algorithms_guaranteed:
            return clean, ((algo, digest),)
    return clean, ()


def parse_html(text: str, page_url: str, *, origin: str) -> list[DistFile]:
    """PEP 503 anchors, with PEP 592 yanking, PEP 658/714 metadata and requires-python."""
    from ._anchors import anchors

    base_href, found = anchors(text)
    base = urljoin(page_url, base_href) if base_href else page_url
    files = []
    for attrs in found:
        href = attrs.get("href")
        if not href:
            continue
        url, hashes = split_hash(urljoin(base, href))
        filename = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
        metadata = attrs.get("data-core-metadata") or attrs.get("data-dist-info-metadata")
        dist = make_dist_file(
            filename, url, origin=origin, requires_python=attrs.get("data-requires-python"),
            # A bare ``data-yanked`` (no value) parses as None but still means yanked
            # (PEP 592); it must not be confused with the attribute being absent.
            yanked=(attrs.get("data-yanked") or "") if "data-yanked" in attrs else None,
            hashes=hashes, metadata=metadata if metadata != "false" else None,
        )
        if dist is not None:
            files.append(dist)
    return files


def parse_json(body: bytes, page_url: str, *, origin: str, times: bool = True
               ) -> list[DistFile]:
    """PEP 691 JSON project page; ``times``: read PEP 700 upload times (for
    ``--exclude-newer``; ruff's page has 7,296 of them)."""
    try:
        data = json.loads(body)
        entries = data["files"]
    except (ValueError, KeyError, TypeError) as exc:
        raise NetworkError(f"{redact(page_url)}: not a valid simple API JSON page",
                           cause=str(exc)) from exc
    files = []
    for entry in entries:
        try:
            yanked = entry.get("yanked", False)
            metadata = entry.get("core-metadata", entry.get("dist-info-metadata"))
            digests = entry.get("hashes")
            hashes = tuple(sorted(digests.items())) if digests else ()
            dist = make_dist_file(
                str(entry["filename"]), _file_url(page_url, str(entry["url"])),
                origin=origin, requires_python=entry.get("requires-python"),
                yanked=(yanked if isinstance(yanked, str) else "") if yanked else None,
                hashes=hashes, metadata=metadata,
                upload_time=_upload_time(entry) if times else None,
            )
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise NetworkError(f"{redact(page_url)}: not a valid simple API JSON page (a "
                               "malformed file entry)", cause=f"{exc!r} in {entry!r}"[:300]
                               ) from exc
        if dist is not None:
            files.append(dist)
    return files


def _file_url(page_url: str, href: str) -> str:
    # PyPI's are absolute and have no fragment; urljoin and urldefrag cost more than the
    # rest of an entry.
    url = href if href.startswith(("https://", "http://")) else urljoin(page_url, href)
    return urldefrag(url)[0] if "#" in url else url


def _check_hashes(data: bytes, expected: Sequence[tuple[str, str]], what: str) -> None:
    for algo, digest in expected:
        if algo in hashlib.algorithms_guaranteed:
            got = hashlib.new(algo, data).hexdigest()
            if got != digest:
                raise WarmbuildError(f"hash mismatch for {what}",
                                     cause=f"expected {algo}:{digest}\n     got {algo}:{got}")
            return


def _upload_time(entry: dict[str, object]) -> datetime | None:
    """PEP 700 ``upload-time`` (``2024-01-31T12:00:00.123456Z``); ``None`` when absent."""
    value = entry.get("upload-time")
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None  # an unreadable time is no time: --exclude-newer leaves the file out
    return parsed if parsed.tzinfo else parsed.astimezone()


def parse_cutoff(text: str, now: datetime | None = None) -> datetime:
    """An ``--exclude-newer`` value as uv takes it: a timestamp (RFC 3339), a date (that whole
    day included, local time) or ``N days`` before now. Raises ValueError."""
    text = text.strip()
    days = re.fullmatch(r"(\d+)\s*days?", text)
    if days:
        return (now or datetime.now().astimezone()) - timedelta(days=int(days.group(1)))
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return datetime.fromisoformat(text).astimezone() + timedelta(days=1)
    parsed = datetime.fromisoformat(text.replace(" ", "T", 1))
    return parsed if parsed.tzinfo else parsed.astimezone()
