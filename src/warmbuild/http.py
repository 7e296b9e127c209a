"""A pooled HTTP client with retries, credentials, proxies and a validating response cache.

Index pages and metadata files are cached with their validators (``ETag``,
``Last-Modified``) and their freshness lifetime (``Cache-Control: max-age``): a fresh
entry is used without a request, a stale one is revalidated with a conditional request.
Distribution files are not cached here; they are stored by hash in ``wheels-v1``.

Transient failures are retried with exponential backoff: failed connections and 429/5xx
answers (by urllib3), and bodies that break off (fewer bytes than Content-Length, a reset
connection, a read timeout), which a download resumes with ``Range``/``If-Range`` when the
server serves ranges, and otherwise starts over.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import netrc
import os
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit, urlunsplit

if TYPE_CHECKING:
    import ssl

    import urllib3

from . import __version__, httpcache
from ._log import logger
from .cache import Cache
from .credentials import keyring_password
from .errors import NetworkError, WarmbuildError
from .lookup import resolve_once
from .transfer import BACKOFF, Body, Buffer, Sink, body_errors
from .trust import NetworkSettings

_USER_AGENT = f"warmbuild/{__version__}"
_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
_CHUNK = 1 << 16


@dataclass(frozen=True)
class Response:
    url: str
    status: int
    content_type: str
    body: bytes


def _response(url: str, cached: httpcache.Cached) -> Response:
    meta = cached.meta
    return Response(url, meta.get("status", 200), meta.get("content_type", ""), cached.body)


def split_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    """``https://user:pw@host/x`` -> (``https://host/x``, (user, pw))."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url, None
    userinfo, _, host = parts.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    clean = urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    return clean, (unquote(user), unquote(password))


def redact(url: str) -> str:
    """The URL with any password replaced, for messages and logs."""
    try:
        clean, creds = split_credentials(url)
    except ValueError:  # not even parseable: hide whatever sits before an @
        return re.sub(r"//[^/]*@", "//****@", url)
    if creds is None:
        return url
    parts = urlsplit(clean)
    return urlunsplit((parts.scheme, f"{creds[0]}:****@{parts.netloc}", *parts[2:]))


class HttpClient:
    """Thread-safe; one per run. ``offline`` answers from the cache only."""

    def __init__(self, cache: Cache, *, offline: bool = False, revalidate: bool = False,
                 retries: int = 3, timeout: float = 30.0,
                 network: NetworkSettings | None = None) -> None:
        """``revalidate``: treat every cached answer as stale (``-U`` wants what is new)."""
        self._cache_dir = cache.bucket("http-v1")
        self.offline = offline
        self._revalidate = revalidate
        self._network = network or NetworkSettings()
        self._retries = retries if self._network.retries is None else self._network.retries
        self._timeout_seconds = timeout if self._network.timeout is None \
            else self._network.timeout
        self._credentials: dict[str, tuple[str, str]] = {}
        #: netloc -> the URL (without credentials) to ask the keyring about.
        self._keyring_urls: dict[str, str] = {}
        self._keyring_lock = threading.Lock()
        self._pools: dict[tuple[str, bool, bool], urllib3.PoolManager] = {}
        self._ssl: dict[bool, ssl.SSLContext] = {}
        self._lock = threading.Lock()

    @functools.cached_property
    def _proxies(self) -> dict[str, str]:
        # urllib.request brings http.client, ssl and email: imported by the first request,
        # so a run that finds everything fresh in the cache never pays for it.
        if self._network.proxy:  # pip's --proxy: for both schemes, whatever the variables say
            return {"http": self._network.proxy, "https": self._network.proxy}
        import urllib.request

        return urllib.request.getproxies()

    def add_credentials(self, url: str) -> str:
        """Remember credentials embedded in ``url`` for its host; return it without them."""
        clean, creds = split_credentials(url)
        if creds is not None:
            netloc = urlsplit(clean).netloc
            with self._lock:
                self._credentials[netloc] = creds
                if creds[0] and not creds[1]:
                    self._keyring_urls.setdefault(netloc, clean)
        return clean

    def get(self, url: str, *, accept: str = "*/*", revalidate: bool = False) -> Response:
        """GET with the response cache; 404 is returned, other errors raise NetworkError."""
        key = hashlib.sha256(f"{url}\0{accept}".encode()).hexdigest()
        meta_path = httpcache.entry_path(self._cache_dir, key)
        cached = self._cached(url, meta_path)
        if cached is not None:
            fresh = time.time() - cached.meta["stored"] < cached.meta.get("max_age", 0)
            if self.offline or (fresh and not (self._revalidate or revalidate)):
                return _response(url, cached)
        elif self.offline:
            raise NetworkError(
                f"{redact(url)} is not in the cache and --offline forbids fetching it",
                hint="run once without --offline to fill the cache",
            )
        headers = {"Accept": accept}
        if cached is not None:
            if cached.meta.get("etag"):
                headers["If-None-Match"] = cached.meta["etag"]
            if cached.meta.get("last_modified"):
                headers["If-Modified-Since"] = cached.meta["last_modified"]
        body = Buffer()
        answer = self._transfer(url, headers, body, resume=False)
        if answer.status == 304 and cached is not None:
            httpcache.touch(meta_path, cached, stored=time.time(),
                            max_age=_max_age(answer.headers))
            return _response(url, cached)
        content_type = answer.headers.get("Content-Type", "")
        # 404s are kept too (with their own freshness, usually none): an extra index that
        # lacks a project answers 404, and --offline must be able to replay that answer
        # instead of failing with "not in the cache" after a successful online run.
        data = bytes(body.data) if answer.status == 200 else b""
        if answer.status in (200, 404) and "no-store" not in answer.headers.get(
                "Cache-Control", ""):
            httpcache.store(meta_path, {
                "url": url, "status": answer.status, "stored": time.time(),
                "max_age": _max_age(answer.headers),
                "etag": answer.headers.get("ETag"),
                "last_modified": answer.headers.get("Last-Modified"),
                "content_type": content_type,
            }, data)
        return Response(url, answer.status, content_type, data)

    def _cached(self, url: str, meta_path: Path) -> httpcache.Cached | None:
        """The cached answer for ``url``; a damaged one is fetched again, or named offline."""
        loaded = httpcache.load(meta_path)
        if not isinstance(loaded, httpcache.Damaged):
            return loaded
        if self.offline:
            raise WarmbuildError(
                f"the cached answer for {redact(url)} is damaged, and --offline forbids "
                "fetching it again", cause=f"{loaded.path}: {loaded.problem}",
                hint="run without --offline to replace it, or clear the cache with "
                     "`warmbuild cache clean`")
        logger.warning("warning: the cached answer for %s was damaged (%s: %s); fetching it "
                       "again", redact(url), loaded.path, loaded.problem)
        return None

    def download(self, url: str, out: Sink) -> None:
        """Stream ``url`` into ``out``; the caller hashes and checks what was written.

        A body that breaks off is fetched again (resumed where it broke off when the
        server allows), up to the retry budget; ``out.restart()`` is called when the
        body starts over.
        """
        if self.offline:
            raise NetworkError(f"{redact(url)} is not in the cache and --offline forbids "
                               "fetching it")
        if self._transfer(url, {}, out, resume=True).status == 404:
            raise NetworkError(f"{redact(url)}: not found (HTTP 404)")

    def get_range(self, url: str, spec: str) -> tuple[bytes, int] | None:
        """The bytes ``spec`` names (``"-65536"``: the last 64 KiB; ``"100-199"``) and the
        file's total size; ``None`` when the server does not answer with that part (206)."""
        if self.offline:
            return None
        import urllib3

        resp = self._open(url, {"Range": f"bytes={spec}"})
        try:
            match = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)",
                                 resp.headers.get("Content-Range", "").strip())
            if resp.status != 206 or match is None:
                resp.close()  # a whole file we did not ask for: do not read it
                return None
            return resp.read(), int(match.group(3))
        except urllib3.exceptions.HTTPError:
            return None  # broke off: the caller falls back to the whole download
        finally:
            resp.release_conn()

    def _transfer(self, url: str, headers: dict[str, str], sink: Sink, *,
                  resume: bool) -> _Answer:
        """One GET whose body goes to ``sink``, again after a body that broke off.

        urllib3 retries failed connections and 5xx answers, but not a body that stops
        short of its Content-Length or a connection reset while it is read: those are
        retried here, with the same budget and backoff.
        """
        body = Body(redact(url), sink, resume=resume)
        while True:
            resp = self._open(url, {**headers, **body.range_headers()})
            try:
                if resp.status not in (200, 206):
                    # A 304 or 404 body is not wanted, but a kept-alive connection must be
                    # read to its end before it serves the next request.
                    resp.drain_conn()
                    return _Answer(resp.status, resp.headers)
                body.begin(resp)
                for chunk in resp.stream(_CHUNK):
                    body.write(chunk)
                return _Answer(200, resp.headers)
            except body_errors() as exc:
                body.broke_off(exc, self._retries)
            finally:
                resp.release_conn()

    def _open(self, url: str, headers: dict[str, str]) -> urllib3.BaseHTTPResponse:
        """A response whose body is still to be read; failures before it raise NetworkError."""
        # Imported only when a request is made: a warm run answers from the cache.
        import urllib3

        self._network.check_scheme(url)
        # other=0: a TLS failure (the only "other" error) is not retried, as waiting does
        # not change a certificate.
        retry = urllib3.Retry(
            total=self._retries, connect=self._retries, read=self._retries,
            status=self._retries, other=0, backoff_factor=BACKOFF,
            status_forcelist=_RETRY_STATUS, allowed_methods=frozenset({"GET"}),
            raise_on_status=False,
        )
        timeout = urllib3.Timeout(connect=min(self._timeout_seconds, 10.0),
                                  read=self._timeout_seconds)
        netloc = urlsplit(url).netloc
        headers = {"User-Agent": _USER_AGENT, **headers}
        auth = self._auth_for(netloc)
        if auth:
            headers["Authorization"] = auth
        try:
            resp = self._pool_for(url).request(
                "GET", url, headers=headers, retries=retry, timeout=timeout,
                preload_content=False, redirect=True,
            )
        except urllib3.exceptions.HTTPError as exc:
            reason = getattr(exc, "reason", None) or exc
            if isinstance(reason, urllib3.exceptions.SSLError):
                raise self._network.tls_error(url, reason) from exc
            raise NetworkError(
                f"cannot reach {redact(url)}",
                cause=f"{type(reason).__name__}: {reason} (after {self._retries} retries)",
                hint="check the index URL and your network or proxy settings; "
                "`warmbuild config` shows which index is used and where it was set",
            ) from exc
        if resp.status in (401, 403) or (resp.status >= 400 and resp.status != 404):
            resp.drain_conn()
        if resp.status in (401, 403):
            raise NetworkError(
                f"{redact(url)}: access denied (HTTP {resp.status})",
                hint="put credentials in the URL (https://user:token@host/...) or ~/.netrc"
                + ("; for the keyring, name the user in the URL (https://user@host/...)"
                   if self._network.keyring_provider == "subprocess" else
                   ", or use --keyring-provider subprocess"),
            )
        if resp.status >= 400 and resp.status != 404:
            raise NetworkError(f"{redact(url)}: the server answered HTTP {resp.status}",
                               cause=f"after {self._retries} retries"
                               if resp.status in _RETRY_STATUS else None)
        return resp

    def _auth_for(self, netloc: str) -> str | None:
        creds = self._credentials.get(netloc)
        if creds is not None and not creds[1] and self._network.keyring_provider != "disabled":
            creds = self._from_keyring(netloc, creds[0])
        if creds is None:
            creds = _netrc_credentials(netloc.rpartition("@")[2].split(":")[0])
        if creds is None:
            return None
        token = base64.b64encode(f"{creds[0]}:{creds[1]}".encode()).decode()
        return f"Basic {token}"

    def _from_keyring(self, netloc: str, username: str) -> tuple[str, str]:
        """Ask the keyring once per host (and remember the answer, even "none")."""
        with self._keyring_lock:
            url = self._keyring_urls.pop(netloc, None)
            if url is not None:
                password = keyring_password((url, netloc.rpartition("@")[2]), username)
                if password is not None:
                    with self._lock:
                        self._credentials[netloc] = (username, password)
            return self._credentials[netloc]

    def _tls(self, verify: bool) -> dict[str, Any]:
        """Pool options for TLS; a trusted host's pool skips verification (``verify``)."""
        with self._lock:
            if verify not in self._ssl:
                self._ssl[verify] = self._network.ssl_context(verify=verify)
            ctx = self._ssl[verify]
        if verify:
            return {"ssl_context": ctx}
        return {"ssl_context": ctx, "cert_reqs": "CERT_NONE", "assert_hostname": False}

    def _pool_for(self, url: str) -> urllib3.PoolManager:
        import urllib3

        resolve_once()
        parts = urlsplit(url)
        proxy = self._proxies.get(parts.scheme)
        if proxy and _bypass(parts.hostname or ""):
            proxy = None
        verify = not self._network.is_trusted(url)
        # Plain HTTP pools carry no TLS options, so a run without HTTPS never reads a bundle.
        key = (proxy or "", verify, parts.scheme == "https")
        tls = self._tls(verify) if key[2] else {}
        with self._lock:
            pool = self._pools.get(key)
            if pool is None:
                if proxy:
                    try:
                        # urllib3 does not turn a proxy URL's user:password into a header.
                        clean, creds = split_credentials(proxy)
                        headers = (urllib3.make_headers(
                            proxy_basic_auth=f"{creds[0]}:{creds[1]}") if creds else None)
                        pool = urllib3.ProxyManager(clean, num_pools=8, maxsize=16,
                                                    proxy_headers=headers, **tls)
                    except ValueError as exc:
                        raise NetworkError(
                            f"the {parts.scheme} proxy {redact(proxy)} is not a valid URL",
                            cause=str(exc), hint="it comes from the environment "
                            f"({parts.scheme}_proxy or {parts.scheme.upper()}_PROXY)") from exc
                else:
                    pool = urllib3.PoolManager(num_pools=8, maxsize=16, **tls)
                self._pools[key] = pool
            return pool


@dataclass(frozen=True)
class _Answer:
    status: int
    headers: Mapping[str, str]


def _max_age(headers: Mapping[str, str]) -> int:
    value = headers.get("Cache-Control", "")
    if "no-cache" in value or "no-store" in value:
        return 0
    match = re.search(r"max-age=(\d+)", value)
    return int(match.group(1)) if match else 0


_netrc_cache: dict[str, netrc.netrc | None] = {}


def _netrc_credentials(host: str) -> tuple[str, str] | None:
    path = os.environ.get("NETRC") or os.path.expanduser("~/.netrc")
    if path not in _netrc_cache:
        try:
            _netrc_cache[path] = netrc.netrc(path) if os.path.isfile(path) else None
        except (OSError, netrc.NetrcParseError):
            _netrc_cache[path] = None
    parsed = _netrc_cache[path]
    found = parsed.authenticators(host) if parsed else None
    if not found:
        return None
    return found[0] or "", found[2] or ""


def _bypass(host: str) -> bool:
    """``no_proxy`` names ``host`` (urllib's reading of it, as pip's)."""
    import urllib.request

    return bool(urllib.request.proxy_bypass(host))
