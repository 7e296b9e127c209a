"""A failed write is named by where it happened: cache, build envs, target environment."""

from __future__ import annotations

import errno
from pathlib import Path

from warmbuild.oserrors import place_of, write_error, written


def test_the_destination_of_a_link_is_what_was_written() -> None:
    exc = OSError(errno.ENOSPC, "No space left on device", "/cache/archive-v1/x/a.py", None,
                  "/venv/lib/a.py")
    assert written(exc) == "/venv/lib/a.py"
    assert written(OSError(errno.EROFS, "Read-only file system", "/venv/x")) == "/venv/x"


def test_places_from_the_most_specific_setting(tmp_path: Path) -> None:
    cache, envs, venv = tmp_path / "cache", tmp_path / "envs", tmp_path / "venv"
    (venv / "lib").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
    kept = tmp_path / "tree" / ".warmbuild" / "env"
    kept.mkdir(parents=True)
    (kept / "pyvenv.cfg").write_text("")
    (kept / "warmbuild-env.json").write_text("{}")

    def kind(path: Path, env_dir: Path | None = envs) -> str:
        return place_of(path, cache_root=cache, env_dir=env_dir).kind
    assert kind(cache / "wheels-v1" / "x") == "cache"
    assert kind(envs / "demo-0123" / "bin") == "build envs"
    assert kind(cache / "envs-v1" / "demo", None) == "cache"
    assert kind(venv / "lib" / "x.py") == "environment"
    assert kind(kept / "bin" / "python") == "build envs"
    assert kind(tmp_path / "elsewhere" / "out.whl") == "path"


def test_a_read_only_environment_is_not_told_about_the_cache(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    venv.mkdir()
    (venv / "pyvenv.cfg").write_text("")
    error = write_error(OSError(errno.EROFS, "Read-only file system", str(venv / ".tx")),
                        cache_root=tmp_path / "cache", env_dir=None)
    assert error.message == f"cannot write to the environment at {venv}: Read-only file system"
    assert error.hint is not None and "--cache-dir" not in error.hint and "--python" in error.hint
    cache_error = write_error(OSError(errno.ENOSPC, "No space left on device",
                                      str(tmp_path / "cache" / "wheels-v1")),
                              cache_root=tmp_path / "cache", env_dir=None)
    assert cache_error.hint is not None and "--cache-dir" in cache_error.hint
    assert cache_error.hint.startswith(f"this is in the cache at {tmp_path / 'cache'}")
