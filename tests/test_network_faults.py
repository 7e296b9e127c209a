"""A flaky network: bodies that break off (fewer bytes than Content-Length, a connection reset
mid-body) are retried like a 5xx, resumed with Range where the server allows, and fail with
one clear paragraph naming the URL only when it keeps happening.

The local index breaks bodies off on purpose (:class:`support.indexserver.Fault`).
"""

from __future__ import annotations

import random
from pathlib import Path

from conftest import IndexFactory, Runner, installed, site_packages
from support.indexserver import Fault

#: Incompressible, so the wheel is as large as its content: bigger than the client's 64 KiB
#: read size, so a body broken off after 100-200 kB has delivered whole chunks to resume from.
_BLOB = random.Random(10).randbytes(300_000)
_BIG = {"files": {"big/__init__.py": "", "big/blob.bin": _BLOB}}
_WHEEL = "big-1.0-py3-none-any.whl"


def _wheel_statuses(server: object) -> list[int]:
    return [status for path, status in server.statuses()  # type: ignore[attr-defined]
            if path.endswith(".whl")]


def _assert_blob_installed(venv: Path) -> None:
    assert (site_packages(venv) / "big" / "blob.bin").read_bytes() == _BLOB


def test_download_cut_short_is_resumed_with_range(wb: Runner, venv: Path,
                                                  custom_index: IndexFactory) -> None:
    server = custom_index([("big", "1.0", _BIG)],
                          fault=Fault("short", times=1, after=200_000))
    result = wb("install", "--python", venv, "-i", server.url, "big")
    _assert_blob_installed(venv)
    assert _wheel_statuses(server) == [200, 206], "the second request asked for the rest"
    assert "broke off after 196608 of" in result.stderr and "resuming" in result.stderr


def test_connection_reset_mid_body_starts_over_where_ranges_are_not_served(
        wb: Runner, venv: Path, custom_index: IndexFactory) -> None:
    server = custom_index([("big", "1.0", _BIG)], ranges=False,
                          fault=Fault("reset", times=2, after=100_000))
    result = wb("install", "--python", venv, "-i", server.url, "big")
    _assert_blob_installed(venv)
    assert _wheel_statuses(server) == [200, 200, 200]
    assert result.stderr.count("starting over") == 2
    assert "the connection was reset" in result.stderr


def test_index_page_cut_short_is_retried(wb: Runner, venv: Path,
                                         custom_index: IndexFactory) -> None:
    server = custom_index([("demo", "1.0")],
                          fault=Fault("short", times=2, after=40, path="/simple/*/"))
    wb("install", "--python", venv, "-i", server.url, "demo")
    assert installed(venv) == {"demo": "1.0"}
    pages = [s for p, s in server.statuses() if p == "/simple/demo/"]
    assert pages == [200, 200, 200], "two broken pages, then a whole one"


def test_download_that_keeps_breaking_off_is_one_clear_error(
        wb: Runner, venv: Path, custom_index: IndexFactory) -> None:
    server = custom_index([("big", "1.0", _BIG)],
                          fault=Fault("reset", times=1000, after=100_000))
    result = wb("install", "--python", venv, "-i", server.url, "big", expect=1)
    url = f"{server.files_url}/{_WHEEL}"
    error = result.stderr[result.stderr.index("error:"):].splitlines()
    assert error[0] == f"error: downloading {url} failed: the connection broke off 4 times"
    assert "the connection was reset" in error[1]
    assert error[2].startswith("hint: ") and len(error) == 3, "one paragraph"
    assert "Traceback" not in result.output
    assert len(_wheel_statuses(server)) == 4, "three retries, then it gives up"
    assert installed(venv) == {}
    cache = Path(wb.env["WARMBUILD_CACHE_DIR"])
    assert not list(cache.rglob(".download-*")), "no partial download is left behind"
