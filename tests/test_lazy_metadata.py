"""Without PEP 658 files, resolution reads each wheel's METADATA with range requests and
downloads no wheel (issue 13); the answer is kept in the cache."""

from __future__ import annotations

import hashlib
from pathlib import Path

from conftest import Runner, installed
from support.indexserver import serve_index


def wheels_in(cache: Path) -> list[Path]:
    return list((cache / "wheels-v1").rglob("*.whl")) if (cache / "wheels-v1").is_dir() else []


def test_dry_run_downloads_no_wheel(wb: Runner, venv: Path, wheelhouse: Path) -> None:
    cache = Path(wb.env["WARMBUILD_CACHE_DIR"])
    with serve_index([wheelhouse], metadata=False) as index:
        result = wb("install", "--python", venv, "-i", index.url, "--dry-run", "rich",
                    "requests")
        assert "+ markdown-it-py==" in result.stderr and "+ urllib3==" in result.stderr
        assert wheels_in(cache) == [], "metadata came from range requests"
        assert len(list((cache / "metadata-v1").rglob("*.metadata"))) >= 8
        fetched = [p for m, p in index.requests if p.endswith(".whl")]
        assert fetched, "the wheels were read, in parts"
        # Warm: the kept answers are used, no wheel is touched again.
        index.requests.clear()
        wb("install", "--python", venv, "-i", index.url, "--dry-run", "rich", "requests")
        assert not [p for m, p in index.requests if p.endswith(".whl")]
        wb("install", "--python", venv, "-i", index.url, "rich")
    assert "rich" in installed(venv)


def test_required_hashes_read_the_whole_checked_wheel(wb: Runner, venv: Path,
                                                      wheelhouse: Path, tmp_path: Path) -> None:
    (wheel,) = wheelhouse.glob("six-*.whl")
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    reqs = tmp_path / "requirements.txt"
    reqs.write_text(f"six==1.17.0 --hash=sha256:{digest}\n")
    cache = Path(wb.env["WARMBUILD_CACHE_DIR"])
    with serve_index([wheelhouse], metadata=False) as index:
        wb("install", "--python", venv, "-i", index.url, "--dry-run", "-r", reqs)
    assert [p.name for p in wheels_in(cache)] == [wheel.name], "checked before it is read"
