"""Index pages and metadata files kept in ``http-v1``, checked against their own hash on read.

An entry is two files: ``<key>.json`` (status, validators, freshness, and the sha256 and size
of the body) and ``<key>.body``. The body is written first and the description last, each
atomically, so a reader sees either an old complete entry or the new one. A body that no
longer has the hash stored with it (truncated, zeroed, edited) or a description that is
not JSON is *damaged*: the client fetches it again, or, offline, names the entry in its
error. Entries written before the hash was recorded are read as they are.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .cache import atomic_write


@dataclass(frozen=True)
class Cached:
    meta: dict[str, Any]
    body: bytes


@dataclass(frozen=True)
class Damaged:
    #: The file of the entry that is wrong.
    path: Path
    problem: str


def entry_path(bucket: Path, key: str) -> Path:
    """The description file of the entry ``key`` (a hex digest)."""
    return bucket / key[:2] / f"{key}.json"


def load(meta_path: Path) -> Cached | Damaged | None:
    """The entry, ``None`` when there is none, or what is wrong with it."""
    body_path = meta_path.with_suffix(".body")
    try:
        raw = meta_path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        return Damaged(meta_path, f"unreadable ({exc.strerror})")
    try:
        meta = json.loads(raw)
    except ValueError:
        meta = None
    if not isinstance(meta, dict) or not isinstance(meta.get("stored"), int | float):
        return Damaged(meta_path, f"not a valid cache description ({len(raw)} bytes of "
                                  "broken JSON: truncated or overwritten)")
    try:
        body = body_path.read_bytes()
    except OSError as exc:
        return Damaged(body_path, f"unreadable ({exc.strerror})")
    expected = meta.get("sha256")
    if expected is not None and hashlib.sha256(body).hexdigest() != expected:
        size = meta.get("size")
        return Damaged(body_path, f"{len(body)} bytes, but {size} were stored"
                       if size != len(body) else "not the bytes that were stored (the "
                       "sha256 recorded with them differs)")
    return Cached(meta, body)


def store(meta_path: Path, meta: dict[str, Any], body: bytes) -> None:
    """Write an entry; ``meta`` gets the body's hash and size."""
    atomic_write(meta_path.with_suffix(".body"), body)
    described = {**meta, "sha256": hashlib.sha256(body).hexdigest(), "size": len(body)}
    atomic_write(meta_path, json.dumps(described).encode())


def touch(meta_path: Path, cached: Cached, **changes: Any) -> None:
    """Rewrite only the description (a revalidation said the body is still current)."""
    atomic_write(meta_path, json.dumps({**cached.meta, **changes}).encode())
