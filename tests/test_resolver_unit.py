"""Host lookups: once per host and run, whatever the number of threads connecting at once
(a resolver that drops a burst of lookups stalled each for its 5 s timeout)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from warmbuild.lookup import resolve_once


@pytest.fixture
def counted() -> Iterator[list[tuple[Any, ...]]]:
    calls: list[tuple[Any, ...]] = []
    original = socket.getaddrinfo

    def lookup(*args: Any) -> Any:
        calls.append(args)
        time.sleep(0.05)  # long enough for every thread to ask while the first waits
        if args[0] == "nowhere.invalid":
            raise socket.gaierror(socket.EAI_NONAME, "no such host")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", args[1]))]

    socket.getaddrinfo = lookup
    try:
        yield calls
    finally:
        socket.getaddrinfo = original


def test_concurrent_lookups_of_a_host_ask_once(counted: list[tuple[Any, ...]]) -> None:
    resolve_once()
    resolve_once()  # a second call does not wrap it again
    answers: list[Any] = []
    threads = [threading.Thread(target=lambda: answers.append(
        socket.getaddrinfo("files.example", 443, 0, socket.SOCK_STREAM))) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 16 and all(a == answers[0] for a in answers)
    assert len(counted) == 1
    socket.getaddrinfo("other.example", 443, 0, socket.SOCK_STREAM)
    assert len(counted) == 2, "another host is looked up"


def test_a_failed_lookup_is_asked_again(counted: list[tuple[Any, ...]]) -> None:
    resolve_once()
    for _ in range(2):
        with pytest.raises(socket.gaierror):
            socket.getaddrinfo("nowhere.invalid", 443)
    assert len(counted) == 2
