"""Host name lookups for the HTTP client: each host once per run."""

from __future__ import annotations

import functools
from typing import Any

from ._threads import KeyedLocks


def resolve_once() -> None:
    """Look each host up once per run. Sixteen threads opening connections to one host at
    once each asked the resolver; a resolver that drops such a burst (this machine's does,
    one time in three) stalls every lookup for its 5 s timeout. urllib3 offers no resolver
    hook, so the socket module's function is wrapped, in this process only: lookups of one
    host wait for the first, and its answer is kept (a failure is not)."""
    import socket

    lookup = socket.getaddrinfo
    if getattr(lookup, "__warmbuild__", False):
        return
    answers: dict[tuple[Any, ...], Any] = {}
    locks: KeyedLocks[tuple[Any, ...]] = KeyedLocks()

    @functools.wraps(lookup)
    def getaddrinfo(host: Any, port: Any, family: int = 0, type: int = 0, proto: int = 0,
                    flags: int = 0) -> Any:
        key = (host, port, family, type, proto, flags)
        with locks(key):
            if key not in answers:
                answers[key] = lookup(host, port, family, type, proto, flags)
            return answers[key]

    getaddrinfo.__warmbuild__ = True  # type: ignore[attr-defined]
    socket.getaddrinfo = getaddrinfo
