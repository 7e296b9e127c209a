"""What `cache clean` and `cache prune` remove, decided and done in-process on small trees."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from warmbuild.cache import ROOT_LOCK, hold
from warmbuild.cacheclean import clean, fate, is_temporary


@pytest.mark.parametrize(("name", "on_clean", "on_prune"), [
    ("wheels-v1", "remove", "prune"),
    ("http-v1", "remove", "prune"),
    ("envs-v1", "envs", "prune"),
    # Older layouts and lock files are warmbuild's, but nothing reads them any more.
    ("wheels-v0", "remove", "remove"),
    ("envs-v1.lock", "remove", "remove"),
    ("Documents", "foreign", "foreign"),
    ("wheels", "foreign", "foreign"),
    ("wheels-v1.bak", "foreign", "foreign"),
    (".wheels-v1", "foreign", "foreign"),
    ("Wheels-V1", "foreign", "foreign"),
    # The root's lock: a process waiting on a removed lock file would be locked out of
    # nothing, so it stays.
    (ROOT_LOCK, "keep", "keep"),
])
def test_what_clean_and_prune_do_with_each_entry(name: str, on_clean: str,
                                                 on_prune: str) -> None:
    assert fate(name, prune=False) == on_clean
    assert fate(name, prune=True) == on_prune


def test_force_removes_the_build_envs_whole() -> None:
    assert fate("envs-v1", prune=False, force=True) == "remove"
    assert fate("envs-v1", prune=True, force=True) == "prune"


@pytest.mark.parametrize(("name", "temporary"), [
    (".download-abc123", True), (".x.json.tmp", True), ("x.tmp", True),
    ("demo-1.0-py3-none-any.whl", False), (".lock", False), ("tmp", False),
    ("download-abc", False),
])
def test_prune_takes_only_what_interrupted_runs_leave(name: str, temporary: bool) -> None:
    assert is_temporary(name) is temporary


def _tree(root: Path, *files: str) -> None:
    for file in files:
        (root / file).parent.mkdir(parents=True, exist_ok=True)
        (root / file).write_bytes(b"x")


def test_clean_removes_buckets_and_leaves_what_is_not_warmbuilds(tmp_path: Path) -> None:
    _tree(tmp_path, "wheels-v1/ab/cd/demo.whl", "wheels-v1/.download-1", "http-v1/p.json",
          "wheels-v0/old.whl", "notes.txt", "photos/cat.jpg")
    (tmp_path / "wheels-v1.lock").touch()
    cleaned = clean(tmp_path, prune=False)
    assert cleaned.foreign == ("notes.txt", "photos")
    assert cleaned.kept == ()
    # Files and directories under each removed entry (wheels-v1: ab, ab/cd and two
    # files), plus the lock file itself.
    assert cleaned.removed == 4 + 1 + 1 + 1
    # The root's lock, which the clean held, stays.
    assert sorted(p.name for p in tmp_path.iterdir()) == [ROOT_LOCK, "notes.txt", "photos"]


def test_prune_removes_only_temporary_files(tmp_path: Path) -> None:
    _tree(tmp_path, "wheels-v1/ab/demo.whl", "wheels-v1/.download-1", "http-v1/ab/.p.json.tmp",
          "http-v1/ab/p.json", "wheels-v0/old.whl")
    cleaned = clean(tmp_path, prune=True)
    # Two temporary files, and the old layout's bucket whole.
    assert cleaned.removed == 2 + 1
    assert not (tmp_path / "wheels-v0").exists()
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file()) \
        == [ROOT_LOCK, "http-v1/ab/p.json", "wheels-v1/ab/demo.whl"]


def test_a_symlinked_bucket_is_unlinked_not_followed(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    _tree(elsewhere, "keep.whl")
    root = tmp_path / "cache"
    root.mkdir()
    (root / "wheels-v1").symlink_to(elsewhere)
    assert clean(root, prune=False).removed == 1
    assert not (root / "wheels-v1").exists()
    assert (elsewhere / "keep.whl").exists()


def test_clean_waits_for_the_shared_lock_and_says_so(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    root = tmp_path / "cache"
    (root / "wheels-v1" / "ab").mkdir(parents=True)
    (root / "wheels-v1" / "ab" / "x.whl").write_bytes(b"x")
    done = threading.Event()

    def run_clean() -> None:
        clean(root, prune=False)
        done.set()

    with hold(root):  # an install using the cache
        cleaner = threading.Thread(target=run_clean)
        cleaner.start()
        assert not done.wait(0.5), "clean waits while the cache is in use"
        assert (root / "wheels-v1" / "ab" / "x.whl").exists()
    assert done.wait(10)
    cleaner.join()
    assert "is in use; waiting for the other warmbuild processes" in caplog.text
    assert sorted(p.name for p in root.iterdir()) == [ROOT_LOCK]


def test_clean_leaves_no_lock_in_a_directory_that_is_not_a_cache(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    cleaned = clean(tmp_path, prune=False)
    assert cleaned.foreign == ("notes.txt",)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
