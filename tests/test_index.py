"""Where files come from: simple API flavours, file:// indexes, find-links, index order,
yanking, requires-python, credentials, retries, offline mode, HTTP caching and hashes.

Everything runs warmbuild as a user would, against real HTTP servers on 127.0.0.1.
"""

from __future__ import annotations

import functools
import hashlib
import html
import socket
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from conftest import IndexFactory, Runner, create_venv, run_python, site_packages, snapshot
from support.wheels import make_wheel


def _version(venv: Path, module: str = "demo") -> str:
    return run_python(venv, f"import {module}; print({module}.__version__)")


def _installed(venv: Path) -> set[str]:
    return {p.name.removesuffix(".dist-info") for p in site_packages(venv).glob("*.dist-info")}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _anchors(wheels: Sequence[Path], href_base: str = "",
             sha256: dict[str, str] | None = None) -> str:
    """An HTML page of anchors to ``wheels`` with their (or the given) sha256 fragments."""
    lines = []
    for wheel in wheels:
        digest = (sha256 or {}).get(wheel.name, _sha256(wheel))
        href = f"{href_base}{wheel.name}#sha256={digest}"
        lines.append(f'<a href="{html.escape(href)}">{html.escape(wheel.name)}</a><br>')
    return "<!DOCTYPE html>\n<html><body>\n" + "\n".join(lines) + "\n</body></html>\n"


def _no_traceback(output: str) -> None:
    assert "Traceback" not in output, output


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def _static_server(directory: Path) -> Iterator[str]:
    """A plain web server over ``directory`` (for find-links pages); yields its base URL."""
    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(directory)))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# --------------------------------------------------------------------------- index flavours


@pytest.mark.parametrize("json_api", [True, False], ids=["pep691-json", "html-only"])
def test_json_and_html_indexes_both_install(wb: Runner, venv: Path, custom_index: IndexFactory,
                                            json_api: bool) -> None:
    server = custom_index([("app", "1.0", {"requires": ["lib>=1"]}), ("lib", "1.0"),
                           ("lib", "1.2")], json_api=json_api)
    result = wb("install", "--python", venv, "-i", server.url, "app")
    assert "+ app==1.0" in result.stderr and "+ lib==1.2" in result.stderr
    assert _version(venv, "app") == "1.0" and _version(venv, "lib") == "1.2"
    paths = list(server.paths())
    assert "/simple/app/" in paths and "/simple/lib/" in paths


def test_pep658_metadata_means_dry_run_downloads_no_wheel(
        wb: Runner, venv: Path, custom_index: IndexFactory) -> None:
    server = custom_index([("app", "1.0", {"requires": ["lib"]}), ("lib", "1.0")],
                          metadata=True)
    result = wb("install", "--python", venv, "-i", server.url, "--dry-run", "app")
    assert "+ lib==1.0" in result.stderr
    paths = list(server.paths())
    assert any(p.endswith(".whl.metadata") for p in paths), paths
    assert all(p.startswith("/simple/") or p.endswith(".metadata") for p in paths), paths


def test_without_pep658_metadata_the_wheel_is_downloaded(
        wb: Runner, venv: Path, custom_index: IndexFactory) -> None:
    server = custom_index([("app", "1.0", {"requires": ["lib"]}), ("lib", "1.0")],
                          metadata=False)
    result = wb("install", "--python", venv, "-i", server.url, "--dry-run", "app")
    assert "+ lib==1.0" in result.stderr
    paths = list(server.paths())
    assert "/files/app-1.0-py3-none-any.whl" in paths
    assert not any(p.endswith(".metadata") for p in paths), paths
    assert _installed(venv) == set(), "a dry run installs nothing"


def test_file_url_index(wb: Runner, venv: Path, tmp_path: Path) -> None:
    files = tmp_path / "files"
    app = make_wheel(files, "app", "1.0", requires=["my-lib"])
    lib_old = make_wheel(files, "my-lib", "1.0")
    lib_new = make_wheel(files, "my-lib", "2.0")
    simple = tmp_path / "repo" / "simple"
    for name, wheels in (("app", [app]), ("my-lib", [lib_old, lib_new])):
        (simple / name).mkdir(parents=True)
        # Relative links, as a static mirror would have them.
        (simple / name / "index.html").write_text(_anchors(wheels, "../../../files/"))
    # A project directory without index.html is listed like a find-links directory.
    make_wheel(simple / "plain", "plain", "0.5")
    wb("install", "--python", venv, "-i", simple.as_uri(), "app", "plain")
    assert _version(venv, "app") == "1.0" and _version(venv, "my_lib") == "2.0"
    assert _version(venv, "plain") == "0.5"


def test_find_links_directory_with_no_index(wb: Runner, venv: Path, tmp_path: Path,
                                            custom_index: IndexFactory) -> None:
    links = tmp_path / "links"
    make_wheel(links, "app", "1.0", requires=["lib"])
    make_wheel(links, "lib", "1.0")
    (links / "README.txt").write_text("not a distribution\n")
    # An index that has a newer lib: with --no-index it must not even be asked.
    server = custom_index([("lib", "9.0")])
    wb("install", "--python", venv, "--no-index", "-i", server.url, "-f", links, "app")
    assert _version(venv, "lib") == "1.0"
    assert list(server.paths()) == []


def test_find_links_are_merged_with_the_index(wb: Runner, venv: Path, tmp_path: Path,
                                              custom_index: IndexFactory) -> None:
    links = tmp_path / "links"
    make_wheel(links, "lib", "3.0")
    server = custom_index([("app", "1.0", {"requires": ["lib"]}), ("lib", "1.0")])
    wb("install", "--python", venv, "-i", server.url, "-f", links, "app")
    assert _version(venv, "lib") == "3.0"


def test_find_links_local_html_page(wb: Runner, venv: Path, tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    wheels = [make_wheel(dist, "demo", "1.0"), make_wheel(dist, "demo", "1.5")]
    make_wheel(dist, "demo", "2.0")  # in the directory, but not linked from the page
    page = tmp_path / "page" / "links.html"
    page.parent.mkdir()
    page.write_text(_anchors(wheels, "../dist/"))
    wb("install", "--python", venv, "--no-index", "-f", page, "demo")
    assert _version(venv) == "1.5"


def test_find_links_http_page(wb: Runner, venv: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    wheels = [make_wheel(site / "dist", "demo", "1.0"), make_wheel(site / "dist", "demo", "1.5")]
    (site / "links.html").write_text(_anchors(wheels, "dist/"))
    with _static_server(site) as base:
        wb("install", "--python", venv, "--no-index", "-f", f"{base}/links.html", "demo")
    assert _version(venv) == "1.5"


# --------------------------------------------------------------------------- index order


def test_first_index_wins_extra_index_is_asked_first(
        wb: Runner, venv: Path, custom_index: IndexFactory) -> None:
    main = custom_index([("demo", "2.0"), ("other", "1.0")])
    extra = custom_index([("demo", "1.0")])
    args = ("install", "--python", venv, "-i", main.url, "--extra-index-url", extra.url)
    wb(*args, "demo", "other")
    # The extra index knows demo, so the main index's newer demo is never considered...
    assert _version(venv) == "1.0"
    assert "/simple/demo/" not in list(main.paths())
    # ...while a project the extra index lacks still comes from the main index.
    assert _version(venv, "other") == "1.0"
    # Not merged: the version only on the main index cannot be had for this project.
    failed = wb(*args, "--dry-run", "demo==2.0", expect=1)
    assert "demo" in failed.stderr and "available: 1.0" in failed.stderr
    _no_traceback(failed.output)


# --------------------------------------------------------------------------- yanked, python


@pytest.mark.parametrize("json_api", [True, False], ids=["json", "html"])
def test_yanked_version_skipped_unless_pinned(wb: Runner, tmp_path: Path,
                                              custom_index: IndexFactory, json_api: bool) -> None:
    server = custom_index([("demo", "1.0"), ("demo", "2.0")], json_api=json_api,
                          yanked={"demo-2.0-py3-none-any.whl": "broken release"})
    unpinned = create_venv(tmp_path / "unpinned")
    wb("install", "--python", unpinned, "-i", server.url, "demo")
    assert _version(unpinned) == "1.0"
    pinned = create_venv(tmp_path / "pinned")
    wb("install", "--python", pinned, "-i", server.url, "demo==2.0")
    assert _version(pinned) == "2.0"


def test_bare_data_yanked_attribute_means_yanked(wb: Runner, venv: Path, tmp_path: Path) -> None:
    # PEP 592: the attribute may have no value (yanked without a reason).
    files = tmp_path / "files"
    old, new = make_wheel(files, "demo", "1.0"), make_wheel(files, "demo", "2.0")
    page = tmp_path / "simple" / "demo" / "index.html"
    page.parent.mkdir(parents=True)
    page.write_text(f'<a href="{old.as_uri()}">{old.name}</a>\n'
                    f'<a href="{new.as_uri()}" data-yanked>{new.name}</a>\n')
    wb("install", "--python", venv, "-i", page.parent.parent.as_uri(), "demo")
    assert _version(venv) == "1.0"


@pytest.mark.parametrize("json_api", [True, False], ids=["json", "html-data-attr"])
def test_requires_python_from_index_excludes_newest(
        wb: Runner, venv: Path, custom_index: IndexFactory, json_api: bool) -> None:
    server = custom_index([("demo", "1.0", {"requires_python": ">=3.8"}),
                           ("demo", "2.0", {"requires_python": ">=4"})], json_api=json_api)
    result = wb("install", "--python", venv, "-i", server.url, "demo")
    assert "+ demo==1.0" in result.stderr and _version(venv) == "1.0"
    # Excluded from the index page alone: 2.0 was never fetched, not even its metadata.
    assert not any("demo-2.0" in p for p in server.paths()), list(server.paths())


# --------------------------------------------------------------------------- credentials


def test_credentials_in_index_url(wb: Runner, venv: Path, custom_index: IndexFactory) -> None:
    server = custom_index([("demo", "1.0")], auth=("u", "p"))
    url = server.url.replace("http://", "http://u:p@")
    wb("install", "--python", venv, "-i", url, "demo")
    assert _version(venv) == "1.0"


def test_credentials_from_netrc(wb: Runner, venv: Path, custom_index: IndexFactory) -> None:
    server = custom_index([("demo", "1.0")], auth=("u", "s3cret"))
    netrc = Path(wb.env["NETRC"])
    netrc.write_text("machine 127.0.0.1\n  login u\n  password s3cret\n")
    netrc.chmod(0o600)
    wb("install", "--python", venv, "-i", server.url, "demo")
    assert _version(venv) == "1.0"


def test_missing_or_wrong_credentials_are_a_clear_error(
        wb: Runner, venv: Path, custom_index: IndexFactory) -> None:
    server = custom_index([("demo", "1.0")], auth=("u", "p"))
    result = wb("install", "--python", venv, "-i", server.url, "demo", expect=1)
    assert "access denied" in result.stderr and "401" in result.stderr
    assert "/simple/demo/" in result.stderr
    _no_traceback(result.output)
    wrong = server.url.replace("http://", "http://u:hunter2@")
    result = wb("install", "--python", venv, "-i", wrong, "demo", expect=1)
    assert "access denied" in result.stderr
    assert "hunter2" not in result.output, "the password must not be shown"
    _no_traceback(result.output)
    assert _installed(venv) == set()


# --------------------------------------------------------------------------- network failures


def test_transient_server_errors_are_retried(wb: Runner, venv: Path,
                                             custom_index: IndexFactory) -> None:
    server = custom_index([("demo", "1.0")], fail_first=2)
    wb("install", "--python", venv, "-i", server.url, "demo")
    assert _version(venv) == "1.0"
    assert [s for _p, s in server.statuses()][:2] == [503, 503]


def test_persistent_server_errors_are_a_clear_error(wb: Runner, venv: Path,
                                                    custom_index: IndexFactory) -> None:
    server = custom_index([("demo", "1.0")], fail_first=1000)
    result = wb("install", "--python", venv, "-i", server.url, "demo", expect=1)
    assert f"{server.url}/demo/: the server answered HTTP 503" in result.stderr
    assert "retries" in result.stderr
    _no_traceback(result.output)
    assert len(server.requests) > 1, "retried before giving up"


def test_unreachable_index_is_a_clear_error(wb: Runner, venv: Path) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/simple"
    result = wb("install", "--python", venv, "-i", url, "demo", expect=1)
    assert f"cannot reach {url}/demo/" in result.stderr
    assert "retries" in result.stderr
    _no_traceback(result.output)
    assert _installed(venv) == set()


# --------------------------------------------------------------------------- offline, caching


def test_offline_installs_from_cache_after_an_online_run(
        wb: Runner, tmp_path: Path, custom_index: IndexFactory) -> None:
    server = custom_index([("app", "1.0", {"requires": ["lib"]}), ("lib", "1.0")])
    online = create_venv(tmp_path / "online")
    wb("install", "--python", online, "-i", server.url, "app")
    server.close()
    offline = create_venv(tmp_path / "offline")
    wb("install", "--python", offline, "-i", server.url, "--offline", "app")
    assert _version(offline, "app") == "1.0" and _version(offline, "lib") == "1.0"


def test_offline_with_extra_index_that_lacks_the_project(
        wb: Runner, tmp_path: Path, custom_index: IndexFactory) -> None:
    # The extra index answers 404 for app online; offline must remember that answer too.
    main = custom_index([("app", "1.0")])
    extra = custom_index([("other", "1.0")])
    args = ("-i", main.url, "--extra-index-url", extra.url, "app")
    wb("install", "--python", create_venv(tmp_path / "online"), *args)
    assert ("/simple/app/", 404) in extra.statuses()
    main.close()
    extra.close()
    offline = create_venv(tmp_path / "offline")
    wb("install", "--python", offline, "--offline", *args)
    assert _version(offline, "app") == "1.0"


def test_offline_with_empty_cache_fails_clearly(wb: Runner, venv: Path,
                                                custom_index: IndexFactory) -> None:
    server = custom_index([("demo", "1.0")])
    result = wb("install", "--python", venv, "-i", server.url, "--offline", "demo", expect=1)
    assert "--offline" in result.stderr and "not in the cache" in result.stderr
    _no_traceback(result.output)
    assert list(server.paths()) == [], "offline means no request at all"
    assert _installed(venv) == set()


def test_fresh_cached_pages_are_not_requested_again(
        wb: Runner, tmp_path: Path, custom_index: IndexFactory) -> None:
    server = custom_index([("demo", "1.0")], max_age=600)
    wb("install", "--python", create_venv(tmp_path / "a"), "-i", server.url, "demo")
    assert "/simple/demo/" in list(server.paths())
    seen = len(server.requests)
    second = create_venv(tmp_path / "b")
    wb("install", "--python", second, "-i", server.url, "demo")
    assert _version(second) == "1.0"
    # Page and metadata are fresh, the wheel is cached by its sha256: nothing to ask.
    assert list(server.paths())[seen:] == []


def test_stale_cached_pages_are_revalidated_with_304(
        wb: Runner, tmp_path: Path, custom_index: IndexFactory) -> None:
    server = custom_index([("demo", "1.0")], max_age=0)
    wb("install", "--python", create_venv(tmp_path / "a"), "-i", server.url, "demo")
    assert ("/simple/demo/", 200) in server.statuses()
    seen = len(server.statuses())
    second = create_venv(tmp_path / "b")
    wb("install", "--python", second, "-i", server.url, "demo")
    assert ("/simple/demo/", 304) in server.statuses()[seen:]
    assert _version(second) == "1.0"


# --------------------------------------------------------------------------- hashes


def test_hash_mismatch_on_file_index_leaves_venv_unchanged(
        wb: Runner, venv: Path, tmp_path: Path) -> None:
    files = tmp_path / "files"
    good = make_wheel(files, "good", "1.0")
    bad = make_wheel(files, "bad", "1.0")
    simple = tmp_path / "simple"
    (simple / "good").mkdir(parents=True)
    (simple / "good" / "index.html").write_text(_anchors([good], files.as_uri() + "/"))
    (simple / "bad").mkdir()
    (simple / "bad" / "index.html").write_text(
        _anchors([bad], files.as_uri() + "/", sha256={bad.name: "0" * 64}))
    before = snapshot(venv)
    result = wb("install", "--python", venv, "-i", simple.as_uri(), "good", "bad", expect=1)
    assert "hash mismatch" in result.stderr and bad.name in result.stderr
    assert "0" * 64 in result.stderr and _sha256(bad) in result.stderr
    _no_traceback(result.output)
    assert snapshot(venv) == before


def test_hash_mismatch_on_http_find_links_page_keeps_nothing(
        wb: Runner, venv: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    wheel = make_wheel(site, "demo", "1.0")
    (site / "links.html").write_text(_anchors([wheel], sha256={wheel.name: "f" * 64}))
    before = snapshot(venv)
    with _static_server(site) as base:
        result = wb("install", "--python", venv, "--no-index", "-f", f"{base}/links.html",
                    "demo", expect=1)
    assert "hash mismatch" in result.stderr and wheel.name in result.stderr
    _no_traceback(result.output)
    assert snapshot(venv) == before
    cache = Path(wb.env["WARMBUILD_CACHE_DIR"])
    assert not list(cache.rglob(".download-*")), "the bad download is not left behind"
    assert not list(cache.rglob(wheel.name)), "the bad file is not cached"


def test_required_hash_from_requirements_file(wb: Runner, venv: Path, tmp_path: Path) -> None:
    links = tmp_path / "links"
    wheel = make_wheel(links, "demo", "1.0")
    reqs = tmp_path / "requirements.txt"
    reqs.write_text(f"demo==1.0 --hash=sha256:{'a' * 64}\n")
    before = snapshot(venv)
    result = wb("install", "--python", venv, "--no-index", "-f", links, "-r", reqs, expect=1)
    assert "hash mismatch" in result.stderr and "a" * 64 in result.stderr
    _no_traceback(result.output)
    assert snapshot(venv) == before
    reqs.write_text(f"--require-hashes\ndemo==1.0 \\\n    --hash=sha256:{_sha256(wheel)}\n")
    wb("install", "--python", venv, "--no-index", "-f", links, "-r", reqs)
    assert _version(venv) == "1.0"


def test_required_hash_mismatch_with_index_hashes(wb: Runner, venv: Path,
                                                  custom_index: IndexFactory) -> None:
    # The index publishes the real sha256, so no file can match the required one.
    server = custom_index([("demo", "1.0")])
    reqs = venv.parent / "requirements.txt"
    reqs.write_text(f"demo==1.0 --hash=sha256:{'b' * 64}\n")
    result = wb("install", "--python", venv, "-i", server.url, "-r", reqs, expect=1)
    assert "required hashes" in result.stderr and "demo" in result.stderr
    _no_traceback(result.output)
    assert not any(p.endswith(".whl") for p in server.paths())
    assert _installed(venv) == set()


def test_require_hashes_rejects_unhashed_requirements(
        wb: Runner, venv: Path, custom_index: IndexFactory, tmp_path: Path) -> None:
    server = custom_index([("demo", "1.0")])
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("demo==1.0\n")
    result = wb("install", "--python", venv, "-i", server.url, "--require-hashes", "-r", reqs,
                expect=1)
    assert "hashes are required" in result.stderr and "demo==1.0 --hash=sha256:" in result.stderr
    _no_traceback(result.output)
    assert _installed(venv) == set()
