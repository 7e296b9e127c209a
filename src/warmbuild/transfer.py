"""A response body across attempts: what arrived, where to resume it, when to give up.

urllib3 retries failed connections and 429/5xx answers, but not a body that breaks off
(fewer bytes than Content-Length, a connection reset while it is read, a read timeout).
:class:`Body` counts those against the same retry budget, with exponential backoff, and
resumes a download with ``Range``/``If-Range`` where the server serves ranges of a file
that has a strong validator; otherwise the next attempt starts over (pip resumes, uv starts
over; both end with the hash check of the whole file).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Protocol

from ._log import logger
from .errors import NetworkError

if TYPE_CHECKING:
    import urllib3

#: Seconds before the first retry; each further one waits twice as long (0.25, 0.5, 1).
BACKOFF = 0.25


class Sink(Protocol):
    """Where a body goes. ``restart`` drops what was written: the body starts over;
    ``expect`` is told the size a whole body announced (for a progress bar)."""

    def write(self, data: bytes, /) -> object: ...

    def restart(self) -> None: ...

    def expect(self, total: int | None, /) -> None: ...


class Buffer:
    """A body kept in memory (index pages, metadata files)."""

    def __init__(self) -> None:
        self.data = bytearray()

    def write(self, data: bytes) -> int:
        self.data += data
        return len(data)

    def restart(self) -> None:
        self.data.clear()

    def expect(self, total: int | None) -> None:
        pass


class _BadRange(Exception):
    """A resumed body that does not start where the last one broke off."""


def body_errors() -> tuple[type[Exception], ...]:
    import urllib3

    # Everything urllib3 raises while a body is read: IncompleteRead (fewer bytes than
    # Content-Length), ProtocolError (a reset connection), ReadTimeoutError, DecodeError.
    # An OSError is the sink's (a full disk): that one is not retried.
    return (urllib3.exceptions.HTTPError, _BadRange)


class Body:
    """One body across attempts: how much arrived, where to resume, when to give up."""

    def __init__(self, shown_url: str, sink: Sink, *, resume: bool) -> None:
        """``shown_url``: the URL as messages name it (without a password)."""
        self._url = shown_url
        self._sink = sink
        self._resume = resume
        self._got = 0
        self._total: int | None = None
        self._validator: str | None = None
        self._failures = 0

    def range_headers(self) -> dict[str, str]:
        if self._got and self._validator:
            # If-Range: the rest of *this* file, or the whole file if it changed meanwhile.
            return {"Range": f"bytes={self._got}-", "If-Range": self._validator}
        return {}

    def begin(self, resp: urllib3.BaseHTTPResponse) -> None:
        if resp.status == 206:
            start = resp.headers.get("Content-Range", "").partition(" ")[2].partition("-")[0]
            if self._got and start == str(self._got):
                return
            wrong = _BadRange(f"asked for bytes {self._got}-, the server sent "
                              f"{resp.headers.get('Content-Range')!r}")
            self._start_over()
            raise wrong
        if self._got:  # a whole new body: the file changed, or ranges are not served
            self._start_over()
        length = resp.headers.get("Content-Length", "")
        self._total = int(length) if length.isdigit() else None
        self._sink.expect(self._total)
        validator = resp.headers.get("ETag") or resp.headers.get("Last-Modified")
        resumable = (self._resume and resp.headers.get("Accept-Ranges") == "bytes"
                     and not resp.headers.get("Content-Encoding")
                     and validator is not None and not validator.startswith("W/"))
        # A weak ETag cannot be used in If-Range, and a range of an encoded body is not one
        # of the file: without a validator a retry starts over.
        self._validator = validator if resumable else None

    def write(self, chunk: bytes) -> None:
        self._sink.write(chunk)
        self._got += len(chunk)

    def broke_off(self, exc: Exception, retries: int) -> None:
        """Wait before the next attempt, or raise once the budget is spent."""
        self._failures += 1
        where = f"after {self._got}" + (f" of {self._total}" if self._total else "") + \
            " bytes"
        if self._failures > retries:
            raise NetworkError(
                f"downloading {self._url} failed: the connection broke off "
                f"{self._failures} times", cause=f"the last time {where}: {_reason(exc)}",
                hint="the server, or a proxy on the way, keeps cutting the transfer short; "
                     "try again later, or use another index or mirror") from exc
        how = "resuming" if self._got and self._validator else "starting over"
        delay = BACKOFF * 2 ** (self._failures - 1)
        logger.warning("warning: downloading %s broke off %s (%s); %s in %.2fs (retry %d "
                       "of %d)", self._url, where, _reason(exc), how, delay,
                       self._failures, retries)
        time.sleep(delay)

    def _start_over(self) -> None:
        self._sink.restart()
        self._got = 0
        self._validator = None


def _reason(exc: Exception) -> str:
    text = str(exc)
    if "IncompleteRead" in text:
        return "the server closed the connection before the end of the body"
    if "reset" in text.lower():
        return "the connection was reset"
    return f"{type(exc).__name__}: {text}"[:300]
