"""Fresh cached index pages are used without a request; `--refresh` and `--refresh-package`
(uv's names) revalidate them (issue 13)."""

from __future__ import annotations

from pathlib import Path

from conftest import IndexFactory, Runner, create_venv, installed
from support.wheels import make_wheel


def test_refresh_sees_what_was_just_published(wb: Runner, tmp_path: Path,
                                               custom_index: IndexFactory) -> None:
    index = custom_index([("demo", "1.0"), ("other", "1.0")])  # pages fresh for 600 s
    wb("install", "--python", create_venv(tmp_path / "a"), "-i", index.url, "demo", "other")
    for directory in tmp_path.glob("wheels*"):
        make_wheel(directory, "demo", "2.0")
        make_wheel(directory, "other", "2.0")
    index.requests.clear()
    b = create_venv(tmp_path / "b")
    wb("install", "--python", b, "-i", index.url, "demo", "other")
    assert installed(b) == {"demo": "1.0", "other": "1.0"}, "the fresh cached pages"
    assert not [p for m, p in index.requests if "/simple/" in p]
    c = create_venv(tmp_path / "c")
    wb("install", "--python", c, "-i", index.url, "--refresh-package", "demo", "demo", "other")
    assert installed(c) == {"demo": "2.0", "other": "1.0"}
    d = create_venv(tmp_path / "d")
    wb("install", "--python", d, "-i", index.url, "--refresh", "demo", "other")
    assert installed(d) == {"demo": "2.0", "other": "2.0"}
