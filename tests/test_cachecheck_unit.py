"""Cache entries that carry their own checksum, checked in-process: sealed documents, file
stamps, cached HTTP answers and unpacked wheels."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from support.wheels import make_wheel
from warmbuild import httpcache, sealed
from warmbuild.cache import Cache
from warmbuild.errors import WarmbuildError
from warmbuild.stage import UnpackedWheel
from warmbuild.unpack import damage, has_index, unpack


def test_a_sealed_document_reads_back_whole_and_not_when_damaged() -> None:
    raw = sealed.dump({"files": {"a/b.py": ["sha256=x", 3, False]}})
    assert sealed.load(raw) == {"files": {"a/b.py": ["sha256=x", 3, False]}}
    assert sealed.load(raw[:-1]) is None, "truncated"
    assert sealed.load(b"\0" * len(raw)) is None, "zeroed"
    assert sealed.load(raw.replace(b"x", b"y")) is None, "edited"
    assert sealed.load(b'{"files": {}}') is None, "unsealed (an older layout)"


def test_stamps_show_a_deleted_truncated_or_rewritten_file(tmp_path: Path) -> None:
    for name in ("a.py", "b.py", "c.py"):
        (tmp_path / name).write_text("print('hello')\n")
    recorded = json.loads(json.dumps(sealed.stamps(tmp_path, ["a.py", "b.py", "c.py"])))
    assert sealed.changed(tmp_path, recorded) is None
    (tmp_path / "c.py").write_text("print('HELLO')\n")  # same size, in place
    st = (tmp_path / "c.py").stat()
    os.utime(tmp_path / "c.py", ns=(st.st_atime_ns, st.st_mtime_ns + 1))
    assert sealed.changed(tmp_path, recorded) == "c.py was modified after it was unpacked"
    (tmp_path / "b.py").write_bytes(b"")
    assert sealed.changed(tmp_path, recorded) == "b.py has 0 bytes, not 15"
    (tmp_path / "a.py").unlink()
    assert sealed.changed(tmp_path, recorded) == "a.py is missing"


def test_a_cached_answer_is_checked_against_its_hash(tmp_path: Path) -> None:
    meta_path = httpcache.entry_path(tmp_path, "ab" * 32)
    assert httpcache.load(meta_path) is None
    httpcache.store(meta_path, {"url": "u", "status": 200, "stored": 1.0}, b"<html>page</html>")
    loaded = httpcache.load(meta_path)
    assert isinstance(loaded, httpcache.Cached) and loaded.body == b"<html>page</html>"
    body = meta_path.with_suffix(".body")
    body.write_bytes(b"<html>pa")
    damaged = httpcache.load(meta_path)
    assert isinstance(damaged, httpcache.Damaged) and damaged.path == body
    assert damaged.problem == "8 bytes, but 17 were stored"
    body.write_bytes(b"<html>PAGE</html>")
    damaged = httpcache.load(meta_path)
    assert isinstance(damaged, httpcache.Damaged) and "sha256" in damaged.problem
    meta_path.write_bytes(meta_path.read_bytes()[:10])
    damaged = httpcache.load(meta_path)
    assert isinstance(damaged, httpcache.Damaged) and damaged.path == meta_path


def test_an_answer_cached_before_hashes_were_recorded_is_still_read(tmp_path: Path) -> None:
    meta_path = httpcache.entry_path(tmp_path, "cd" * 32)
    meta_path.parent.mkdir(parents=True)
    meta_path.write_text(json.dumps({"url": "u", "status": 200, "stored": 1.0}))
    meta_path.with_suffix(".body").write_bytes(b"old")
    loaded = httpcache.load(meta_path)
    assert isinstance(loaded, httpcache.Cached) and loaded.body == b"old"


def _unpacked(tmp_path: Path) -> tuple[Cache, Path, str]:
    wheel = make_wheel(tmp_path / "wheels", "demo", "1.0")
    sha = hashlib.sha256(wheel.read_bytes()).hexdigest()
    cache = Cache(tmp_path / "cache")
    return cache, wheel, sha


def test_an_unpacked_wheel_is_checked_before_use_and_repaired(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    cache, wheel, sha = _unpacked(tmp_path)
    assert not has_index(cache, sha)
    dest = unpack(cache, wheel, sha)
    assert has_index(cache, sha) and damage(dest) is None
    (dest / "demo" / "__init__.py").write_bytes(b"")
    assert damage(dest) == "demo/__init__.py has 0 bytes, not 20"
    assert has_index(cache, sha), "the index is intact: the fetcher need not hash the wheel"
    assert unpack(cache, wheel, sha) == dest
    assert "the unpacked copy of demo-1.0-py3-none-any.whl in the cache was damaged" \
        in caplog.text
    assert (dest / "demo" / "__init__.py").read_text() == '__version__ = "1.0"\n'
    assert UnpackedWheel(dest).dist_info_dir == "demo-1.0.dist-info"


def test_a_wheel_unpacked_by_an_earlier_warmbuild_is_unpacked_again_quietly(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    cache, wheel, sha = _unpacked(tmp_path)
    dest = unpack(cache, wheel, sha)
    index = dest / ".warmbuild-files.json"
    files = sealed.load(index.read_bytes())["files"]
    index.write_text(json.dumps(files))  # the layout before the index was sealed
    assert damage(dest) == "unpacked by an earlier warmbuild"
    unpack(cache, wheel, sha)
    assert damage(dest) is None and "damaged" not in caplog.text


def test_a_copy_whose_wheel_is_damaged_too_names_the_wheel(tmp_path: Path) -> None:
    cache, wheel, sha = _unpacked(tmp_path)
    dest = unpack(cache, wheel, sha)
    (dest / "demo" / "__init__.py").unlink()
    wheel.write_bytes(b"\0" * wheel.stat().st_size)
    with pytest.raises(WarmbuildError) as raised:
        unpack(cache, wheel, sha)
    assert raised.value.message == "the cached demo-1.0-py3-none-any.whl is damaged too, so " \
        "its unpacked copy cannot be made again"
    assert str(wheel) in (raised.value.cause or "") and not wheel.exists()
