"""A local PEP 503 / 691 / 658 simple index over directories of wheels and sdists.

Tests point the installer at ``IndexServer.url`` to exercise the real HTTP code paths
(content negotiation, caching, retries, auth) without touching the network.
"""

from __future__ import annotations

import base64
import email.parser
import fnmatch
import hashlib
import html
import json
import os
import socket
import ssl
import struct
import tarfile
import threading
import time
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Literal
from urllib.parse import quote, unquote, urlsplit

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)

JSON_V1 = "application/vnd.pypi.simple.v1+json"
HTML_V1 = "application/vnd.pypi.simple.v1+html"
HTML_LEGACY = "text/html"
# On equal q-values the client's order decides first; this order breaks the remaining ties
# (e.g. "*/*" or no Accept header), and puts HTML first because that is what PEP 691 says a
# server should answer to clients that did not ask for anything in particular.
_TIE_ORDER = (HTML_LEGACY, HTML_V1, JSON_V1)
_API_VERSION = "1.1"


# --------------------------------------------------------------------------- file metadata


@dataclass(frozen=True)
class _DistFile:
    path: Path
    filename: str
    project: str  # normalized
    version: str
    is_wheel: bool
    size: int
    mtime: float
    sha256: str
    requires_python: str | None
    metadata: bytes | None  # core metadata of wheels, served as PEP 658 ``.metadata``

    @property
    def metadata_sha256(self) -> str | None:
        return None if self.metadata is None else hashlib.sha256(self.metadata).hexdigest()


def _parse_name(filename: str) -> tuple[str, str, bool] | None:
    """(normalized project, version, is_wheel), or None for files that are not distributions."""
    try:
        if filename.endswith(".whl"):
            name, version, _build, _tags = parse_wheel_filename(filename)
            return name, str(version), True
        if filename.endswith((".tar.gz", ".zip")):
            name, version = parse_sdist_filename(filename)
            return name, str(version), False
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None
    return None


def _wheel_metadata(path: Path) -> bytes | None:
    with zipfile.ZipFile(path) as zf:
        candidates = [
            n for n in zf.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA")
        ]
        # A wheel has exactly one top-level .dist-info; anything else is a broken wheel
        # that the installer is expected to reject, so serve no metadata for it.
        if len(candidates) != 1:
            return None
        return zf.read(candidates[0])


def _sdist_pkg_info(path: Path) -> bytes | None:
    # PKG-INFO sits in the single top-level directory of an sdist; deeper copies belong to
    # vendored projects and must not be picked up.
    try:
        if path.name.endswith(".zip"):
            with zipfile.ZipFile(path) as zf:
                for n in zf.namelist():
                    if n.count("/") == 1 and n.endswith("/PKG-INFO"):
                        return zf.read(n)
            return None
        with tarfile.open(path, "r:gz") as tf:
            for member in tf:
                if (
                    member.isfile()
                    and member.name.count("/") == 1
                    and member.name.endswith("/PKG-INFO")
                ):
                    fh = tf.extractfile(member)
                    return fh.read() if fh is not None else None
    except (OSError, tarfile.TarError, zipfile.BadZipFile):
        return None
    return None


def _requires_python(metadata: bytes | None) -> str | None:
    if metadata is None:
        return None
    msg = email.parser.BytesHeaderParser().parsebytes(metadata)
    value = msg.get("Requires-Python")
    return str(value).strip() if value is not None else None


class _MetadataCache:
    """Per-file facts keyed by (path, mtime, size): hashing a large wheelhouse on every
    request would make the index the bottleneck of benchmarks."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, int, int], _DistFile] = {}

    def get(self, path: Path) -> _DistFile | None:
        parsed = _parse_name(path.name)
        if parsed is None:
            return None
        try:
            st = path.stat()
        except FileNotFoundError:
            return None
        key = (str(path), st.st_mtime_ns, st.st_size)
        with self._lock:
            cached = self._entries.get(key)
        if cached is not None:
            return cached
        project, version, is_wheel = parsed
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        try:
            metadata = _wheel_metadata(path) if is_wheel else None
        except (OSError, zipfile.BadZipFile, ValueError, RuntimeError, NotImplementedError,
                EOFError):
            # A broken archive (the hostile corpus) is served without a metadata file; what
            # the installer makes of it is what the tests look at.
            metadata = None
        rp_source = metadata if is_wheel else _sdist_pkg_info(path)
        entry = _DistFile(
            path=path,
            filename=path.name,
            project=project,
            version=version,
            is_wheel=is_wheel,
            size=st.st_size,
            mtime=st.st_mtime,
            sha256=digest.hexdigest(),
            requires_python=_requires_python(rp_source),
            metadata=metadata,
        )
        with self._lock:
            self._entries[key] = entry
        return entry


def _read_range(path: Path, start: int, length: int) -> Iterator[bytes]:
    with path.open("rb") as fh:
        fh.seek(start)
        remaining = length
        while remaining > 0:
            chunk = fh.read(min(1 << 16, remaining))
            if not chunk:
                break
            yield chunk
            remaining -= len(chunk)


# --------------------------------------------------------------------------- negotiation


def _parse_accept(header: str) -> list[tuple[str, float]]:
    ranges: list[tuple[str, float]] = []
    for part in header.split(","):
        pieces = [p.strip() for p in part.split(";")]
        media = pieces[0].lower()
        if not media:
            continue
        q = 1.0
        for param in pieces[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = 0.0
        ranges.append((media, q))
    return ranges


def negotiate(accept: str | None, offers: Sequence[str]) -> str | None:
    """Pick the offer the client prefers (RFC 9110 q-values; the most specific matching range
    sets an offer's q). Returns None when nothing offered is acceptable."""
    if not accept or not accept.strip():
        return next((o for o in _TIE_ORDER if o in offers), None)
    ranges = _parse_accept(accept)
    best: tuple[float, int, int] | None = None
    chosen: str | None = None
    for offer in offers:
        otype = offer.partition("/")[0]
        match: tuple[int, float, int] | None = None  # (specificity, q, position in header)
        for pos, (media, q) in enumerate(ranges):
            mtype, _, msub = media.partition("/")
            if media == offer:
                spec = 2
            elif mtype == otype and msub == "*":
                spec = 1
            elif media == "*/*":
                spec = 0
            else:
                continue
            if match is None or spec > match[0]:
                match = (spec, q, pos)
        if match is None or match[1] <= 0:
            continue
        # Higher q wins, then the range the client listed first, then our tie order.
        score = (match[1], -match[2], -_TIE_ORDER.index(offer))
        if best is None or score > best:
            best, chosen = score, offer
    return chosen


# --------------------------------------------------------------------------- server


@dataclass(frozen=True)
class Fault:
    """Break the bodies of the first ``times`` GET responses for each path matching ``path``.

    ``short``: send ``after`` bytes of the body, then close the connection (fewer bytes than
    Content-Length said). ``reset``: send ``after`` bytes, then reset the connection (RST).
    A large ``times`` makes the fault permanent.
    """

    kind: Literal["short", "reset"] = "short"
    times: int = 1
    after: int = 1000
    #: A glob over the request path: ``*.whl`` (the default), ``/simple/*``.
    path: str = "*.whl"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Benchmarks open many connections in a burst; the default backlog of 5 causes resets.
    request_queue_size = 128

    def __init__(self, state: _State) -> None:
        self.state = state
        super().__init__(("127.0.0.1", 0), _Handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        # TLS is set up here, in the connection's own thread: a client that rejects the
        # certificate must not stall the accepting loop.
        with self.state.lock:
            self.state.connections += 1
        if self.state.tls is not None:
            request = self.state.tls.wrap_socket(request, server_side=True)
        super().finish_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that drop a connection mid-response (retry and timeout tests do) are
        # expected here; a traceback on stderr would only be noise.
        pass


@dataclass
class _State:
    dirs: list[Path]
    json_api: bool
    metadata: bool
    yanked: dict[str, str]
    fail_first: int
    auth: tuple[str, str] | None
    max_age: int
    requests: list[tuple[str, str]]
    #: Seconds each response is held back: a network round trip, for benchmarks.
    latency: float = 0.0
    files_url: str = ""
    #: (method, path, status) of every response sent, in order; see IndexServer.statuses.
    responses: list[tuple[str, str, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    cache: _MetadataCache = field(default_factory=_MetadataCache)
    started: float = field(default_factory=time.time)
    seen: int = 0
    fault: Fault | None = None
    #: Whether files are served in ranges (``Range`` requests, ``Accept-Ranges``).
    ranges: bool = True
    #: How many responses per path were broken by ``fault`` so far.
    broken: dict[str, int] = field(default_factory=dict)
    in_flight: int = 0
    #: The most requests that were being answered at one time.
    max_in_flight: int = 0
    #: Serve HTTPS with this server context (its certificate, and client certificates).
    tls: ssl.SSLContext | None = None
    #: Connections accepted (a TLS handshake that fails still counts).
    connections: int = 0

    def files(self) -> dict[str, _DistFile]:
        """filename -> file; the first directory wins for duplicate names."""
        with self.lock:
            dirs = list(self.dirs)
        result: dict[str, _DistFile] = {}
        for d in dirs:
            try:
                names = sorted(os.listdir(d))
            except FileNotFoundError:
                continue
            for name in names:
                if name in result:
                    continue
                entry = self.cache.get(d / name)
                if entry is not None:
                    result[name] = entry
        return result

    def projects(self) -> dict[str, list[_DistFile]]:
        by_project: dict[str, list[_DistFile]] = {}
        for entry in self.files().values():
            by_project.setdefault(entry.project, []).append(entry)
        return by_project


class _Handler(BaseHTTPRequestHandler):
    # Keep-alive, as real indexes do, so connection pooling in the client is exercised.
    protocol_version = "HTTP/1.1"
    # Small writes on a keep-alive connection otherwise wait ~40 ms for a delayed ACK,
    # which would make every sequential client (pip) look slow.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    # -- plumbing --------------------------------------------------------

    @property
    def state(self) -> _State:
        return self.server.state

    def do_GET(self) -> None:
        state = self.state
        with state.lock:
            state.in_flight += 1
            state.max_in_flight = max(state.max_in_flight, state.in_flight)
        try:
            self._dispatch(head=False)
        finally:
            with state.lock:
                state.in_flight -= 1

    def send_response(self, code: int, message: str | None = None) -> None:
        # Every status goes through here (including 304s and 206s), so tests can assert
        # e.g. that a revalidation was answered "not modified".
        with self.state.lock:
            self.state.responses.append(
                (str(getattr(self, "command", "") or ""), str(getattr(self, "path", "")), code)
            )
        super().send_response(code, message)

    def do_HEAD(self) -> None:
        self._dispatch(head=True)

    def _send(
        self,
        status: int,
        body: bytes = b"",
        headers: Mapping[str, str] | None = None,
        *,
        head: bool = False,
    ) -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and not head:
            self._write_body([body], len(body))

    def _write_body(self, chunks: Iterable[bytes], length: int) -> None:
        """Write a body, or break it off as the server's :class:`Fault` says."""
        limit = self._fault_limit(length)
        sent = 0
        for chunk in chunks:
            if limit is not None and sent + len(chunk) >= limit:
                self.wfile.write(chunk[: limit - sent])
                self._break_connection()
                return
            self.wfile.write(chunk)
            sent += len(chunk)

    def _fault_limit(self, length: int) -> int | None:
        """Bytes to send before breaking this body off, or None to send all of it."""
        fault = self.state.fault
        path = urlsplit(self.path).path
        if fault is None or self.command != "GET" or length <= fault.after \
                or not fnmatch.fnmatchcase(path, fault.path):
            return None
        with self.state.lock:
            count = self.state.broken.get(path, 0)
            if count >= fault.times:
                return None
            self.state.broken[path] = count + 1
        return fault.after

    def _break_connection(self) -> None:
        self.wfile.flush()
        self.close_connection = True
        assert self.state.fault is not None
        if self.state.fault.kind == "reset":
            # Linger 0: closing sends an RST instead of a FIN. The socket only really closes
            # once the handler's file objects, which hold references to it, are closed too.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.rfile.close()
            self.wfile.close()
            self.connection.close()
        # ``short``: the server closes the connection after this handler returns, with
        # fewer bytes sent than Content-Length announced.

    def _redirect(self, location: str, head: bool) -> None:
        self._send(301, b"", {"Location": location}, head=head)

    def _not_found(self, head: bool) -> None:
        self._send(404, b"Not Found\n", {"Content-Type": "text/plain"}, head=head)

    def _authorized(self) -> bool:
        if self.state.auth is None:
            return True
        header = self.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(token).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return (user, password) == self.state.auth

    def _not_modified(self, etag: str, last_modified: float) -> bool:
        inm = self.headers.get("If-None-Match")
        if inm is not None:
            # RFC 9110: If-None-Match uses weak comparison and, when present, overrides
            # If-Modified-Since.
            tags = [t.strip().removeprefix("W/") for t in inm.split(",")]
            return "*" in tags or etag in tags
        ims = self.headers.get("If-Modified-Since")
        if ims is not None:
            try:
                since = parsedate_to_datetime(ims).timestamp()
            except (TypeError, ValueError):
                return False
            return int(last_modified) <= since
        return False

    def _send_cacheable(
        self,
        body: bytes | Path,
        content_type: str,
        last_modified: float,
        head: bool,
        etag_source: str | None = None,
        extra: Mapping[str, str] | None = None,
    ) -> None:
        if isinstance(body, Path):
            assert etag_source is not None
            etag = f'"{etag_source}"'
        else:
            etag = f'"{hashlib.sha256(body).hexdigest()}"'
        headers = {
            "ETag": etag,
            "Last-Modified": formatdate(last_modified, usegmt=True),
            "Cache-Control": f"max-age={self.state.max_age}",
            **(extra or {}),
        }
        if self._not_modified(etag, last_modified):
            self._send(304, b"", headers, head=True)
            return
        headers["Content-Type"] = content_type
        if isinstance(body, bytes):
            self._send(200, body, headers, head=head)
            return
        self._send_file(body, headers, head)

    def _send_file(self, path: Path, headers: dict[str, str], head: bool) -> None:
        size = path.stat().st_size
        if self.state.ranges:
            headers["Accept-Ranges"] = "bytes"
        start, end = 0, size - 1
        status = 200
        rng = self.headers.get("Range") if self.state.ranges else None
        # Single byte ranges only: enough for lazy-wheel style metadata fetching; anything
        # fancier falls back to the whole file, which RFC 9110 permits.
        if rng and rng.startswith("bytes=") and "," not in rng and size > 0:
            first, _, last = rng[len("bytes=") :].partition("-")
            try:
                if first:
                    start = int(first)
                    end = min(int(last), size - 1) if last else size - 1
                else:
                    start = max(size - int(last), 0)
                if start > end or start >= size:
                    self._send(416, b"", {"Content-Range": f"bytes */{size}"}, head=head)
                    return
                status = 206
                headers["Content-Range"] = f"bytes {start}-{end}/{size}"
            except ValueError:
                start, end = 0, size - 1
        length = end - start + 1
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(length))
        self.end_headers()
        if head:
            return
        self._write_body(_read_range(path, start, length), length)

    # -- routing ---------------------------------------------------------

    def _dispatch(self, head: bool) -> None:
        state = self.state
        with state.lock:
            state.requests.append((self.command, self.path))
            state.seen += 1
            failing = state.seen <= state.fail_first
        if state.latency:
            time.sleep(state.latency)
        if failing:
            self._send(
                503,
                b"Service Unavailable\n",
                {"Content-Type": "text/plain", "Retry-After": "0"},
                head=head,
            )
            return
        if not self._authorized():
            self._send(
                401,
                b"Unauthorized\n",
                {"Content-Type": "text/plain", "WWW-Authenticate": 'Basic realm="warmbuild"'},
                head=head,
            )
            return
        path = unquote(urlsplit(self.path).path)
        if path == "/simple":
            self._redirect("/simple/", head)
        elif path == "/simple/":
            self._index_root(head)
        elif path.startswith("/simple/"):
            name = path[len("/simple/") :]
            slash = name.endswith("/")
            name = name.rstrip("/")
            if not name or "/" in name:
                self._not_found(head)
                return
            normalized = canonicalize_name(name)
            if normalized != name or not slash:
                self._redirect(f"/simple/{normalized}/", head)
                return
            self._project_page(normalized, head)
        elif path.startswith("/files/"):
            self._file(path[len("/files/") :], head)
        else:
            self._not_found(head)

    def _choose(self) -> str | None:
        if not self.state.json_api:
            # An old-style index ignores Accept and always answers HTML.
            return HTML_LEGACY
        return negotiate(self.headers.get("Accept"), (JSON_V1, HTML_V1, HTML_LEGACY))

    def _not_acceptable(self, head: bool) -> None:
        self._send(406, b"Not Acceptable\n", {"Content-Type": "text/plain"}, head=head)

    def _content_type(self, media: str) -> str:
        return "text/html; charset=utf-8" if media == HTML_LEGACY else media

    def _index_root(self, head: bool) -> None:
        media = self._choose()
        if media is None:
            self._not_acceptable(head)
            return
        projects = self.state.projects()
        names = sorted(projects)
        last = max(
            (f.mtime for files in projects.values() for f in files), default=self.state.started
        )
        if media == JSON_V1:
            body = json.dumps(
                {"meta": {"api-version": _API_VERSION}, "projects": [{"name": n} for n in names]}
            ).encode()
        else:
            links = "".join(f'    <a href="{quote(n)}/">{html.escape(n)}</a>\n' for n in names)
            body = (
                "<!DOCTYPE html>\n<html>\n  <head>\n"
                f'    <meta name="pypi:repository-version" content="{_API_VERSION}">\n'
                "    <title>Simple index</title>\n  </head>\n  <body>\n"
                f"{links}  </body>\n</html>\n"
            ).encode()
        self._send_cacheable(body, self._content_type(media), last, head, extra={"Vary": "Accept"})

    def _project_page(self, project: str, head: bool) -> None:
        files = sorted(self.state.projects().get(project, []), key=lambda f: f.filename)
        if not files:
            self._not_found(head)
            return
        media = self._choose()
        if media is None:
            self._not_acceptable(head)
            return
        if media == JSON_V1:
            body = self._project_json(project, files)
        else:
            body = self._project_html(project, files)
        last = max(f.mtime for f in files)
        self._send_cacheable(body, self._content_type(media), last, head, extra={"Vary": "Accept"})

    def _project_json(self, project: str, files: list[_DistFile]) -> bytes:
        files_url = self.state.files_url
        entries: list[dict[str, Any]] = []
        for f in files:
            reason = self.state.yanked.get(f.filename)
            entry: dict[str, Any] = {
                "filename": f.filename,
                "url": f"{files_url}/{quote(f.filename)}",
                "hashes": {"sha256": f.sha256},
                "requires-python": f.requires_python,
                "size": f.size,
                # PEP 700 (api-version 1.1): the file's mtime stands in for its upload time.
                "upload-time": datetime.fromtimestamp(f.mtime, UTC).strftime(
                    "%Y-%m-%dT%H:%M:%S.%fZ"),
                # PEP 691 wants a non-empty string for a reason; an empty reason is just
                # "yanked".
                "yanked": False if reason is None else (reason or True),
            }
            md = f.metadata_sha256 if self.state.metadata else None
            if md is not None:
                entry["core-metadata"] = {"sha256": md}
                entry["dist-info-metadata"] = {"sha256": md}
            entries.append(entry)
        versions = sorted({f.version for f in files})
        doc = {
            "meta": {"api-version": _API_VERSION},
            "name": project,
            "versions": versions,
            "files": entries,
        }
        return json.dumps(doc).encode()

    def _project_html(self, project: str, files: list[_DistFile]) -> bytes:
        anchors = []
        for f in files:
            attrs = [f'href="../../files/{quote(f.filename)}#sha256={f.sha256}"']
            if f.requires_python is not None:
                attrs.append(f'data-requires-python="{html.escape(f.requires_python)}"')
            reason = self.state.yanked.get(f.filename)
            if reason is not None:
                attrs.append(f'data-yanked="{html.escape(reason)}"')
            md = f.metadata_sha256 if self.state.metadata else None
            if md is not None:
                attrs.append(f'data-dist-info-metadata="sha256={md}"')
                attrs.append(f'data-core-metadata="sha256={md}"')
            anchors.append(f"    <a {' '.join(attrs)}>{html.escape(f.filename)}</a><br>\n")
        return (
            "<!DOCTYPE html>\n<html>\n  <head>\n"
            f'    <meta name="pypi:repository-version" content="{_API_VERSION}">\n'
            f"    <title>Links for {html.escape(project)}</title>\n  </head>\n  <body>\n"
            f"    <h1>Links for {html.escape(project)}</h1>\n"
            f"{''.join(anchors)}  </body>\n</html>\n"
        ).encode()

    def _file(self, name: str, head: bool) -> None:
        files = self.state.files()
        if name.endswith(".metadata") and name not in files:
            dist = files.get(name[: -len(".metadata")])
            if dist is None or dist.metadata is None or not self.state.metadata:
                self._not_found(head)
                return
            self._send_cacheable(dist.metadata, "text/plain; charset=utf-8", dist.mtime, head)
            return
        dist = files.get(name)
        if dist is None:
            self._not_found(head)
            return
        self._send_cacheable(
            dist.path, "application/octet-stream", dist.mtime, head, etag_source=dist.sha256
        )


@dataclass
class IndexServer:
    """A running index; use ``url`` as the index URL. Close it, or use it as a context manager."""

    url: str
    files_url: str
    requests: list[tuple[str, str]]
    _state: _State = field(repr=False)
    _server: _Server = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    def add_dir(self, path: Path) -> None:
        with self._state.lock:
            self._state.dirs.append(Path(path))

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> IndexServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def paths(self) -> Iterator[str]:
        """Request paths seen so far, for assertions such as "no project page re-fetched"."""
        with self._state.lock:
            snapshot = list(self.requests)
        return (p for _m, p in snapshot)

    @property
    def max_in_flight(self) -> int:
        with self._state.lock:
            return self._state.max_in_flight

    @property
    def in_flight(self) -> int:
        """Requests being answered right now."""
        with self._state.lock:
            return self._state.in_flight

    @property
    def connections(self) -> int:
        """Connections accepted so far, including those whose TLS handshake failed."""
        with self._state.lock:
            return self._state.connections

    def statuses(self) -> list[tuple[str, int]]:
        """(path, status) of the responses sent so far, e.g. to see a 304 revalidation."""
        with self._state.lock:
            return [(path, status) for _m, path, status in self._state.responses]


def serve_index(
    dirs: Sequence[Path],
    *,
    json_api: bool = True,
    metadata: bool = True,
    yanked: Mapping[str, str] | None = None,
    fail_first: int = 0,
    auth: tuple[str, str] | None = None,
    max_age: int = 600,
    latency: float = 0.0,
    fault: Fault | None = None,
    ranges: bool = True,
    tls: ssl.SSLContext | None = None,
) -> IndexServer:
    """Start an index over ``dirs`` (files are rescanned on every request); ``fault`` breaks
    off response bodies, as a flaky network does; ``ranges=False`` ignores Range requests;
    ``tls``: serve HTTPS at ``https://127.0.0.1:PORT`` with that server context."""
    requests: list[tuple[str, str]] = []
    state = _State(
        dirs=[Path(d) for d in dirs],
        json_api=json_api,
        metadata=metadata,
        yanked=dict(yanked or {}),
        fail_first=fail_first,
        auth=auth,
        max_age=max_age,
        requests=requests,
        latency=latency,
        fault=fault,
        ranges=ranges,
        tls=tls,
    )
    # Hash and read every file once now, not in the first (possibly concurrent) requests.
    state.files()
    server = _Server(state)
    host, port = server.server_address[:2]
    base = f"{'https' if tls else 'http'}://{host!s}:{port}"
    state.files_url = f"{base}/files"
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    return IndexServer(
        url=f"{base}/simple",
        files_url=f"{base}/files",
        requests=requests,
        _state=state,
        _server=server,
        _thread=thread,
    )
