"""Cache descriptions that carry their own checksum, and stamps that show a file was changed.

A *sealed* document is ``<sha256 of the JSON>\\n<JSON>``: a truncated, zeroed or edited one
no longer matches its first line and reads as ``None``, which the cache treats as damage
(rebuild or refetch the entry) instead of failing on a parse error.

A *stamp* is a file's size and modification time (ns), taken right after warmbuild wrote it.
Comparing stamps is the cheap proof that files are as they were written (one ``stat`` per
file, no reading): a deleted, truncated, zeroed or rewritten file changes its stamp.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

Stamp = tuple[int, int]


def dump(data: Any) -> bytes:
    body = json.dumps(data, separators=(",", ":")).encode()
    return hashlib.sha256(body).hexdigest().encode() + b"\n" + body


def load(raw: bytes) -> Any | None:
    """The document, or ``None`` when it is not one ``dump`` wrote, whole."""
    head, sep, body = raw.partition(b"\n")
    if not sep or hashlib.sha256(body).hexdigest().encode() != head:
        return None
    try:
        return json.loads(body)
    except ValueError:  # a matching checksum over broken JSON: not ours either
        return None


def stamps(root: Path, names: Iterable[str]) -> dict[str, Stamp]:
    """The stamp of each file ``root/name``."""
    result = {}
    base = str(root)
    for name in names:
        st = os.stat(os.path.join(base, name))
        result[name] = (st.st_size, st.st_mtime_ns)
    return result


def changed(root: Path, recorded: Mapping[str, Any]) -> str | None:
    """What is no longer as recorded under ``root`` (the first file found), or ``None``."""
    base = str(root)
    for name, stamp in recorded.items():
        try:
            st = os.stat(os.path.join(base, name))
        except OSError:
            return f"{name} is missing"
        if st.st_size != stamp[0]:
            return f"{name} has {st.st_size} bytes, not {stamp[0]}"
        if st.st_mtime_ns != stamp[1]:
            return f"{name} was modified after it was unpacked"
    return None
