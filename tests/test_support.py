"""Tests of the test infrastructure itself: wheel builder, local index server, wheelhouse."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tarfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator, Mapping
from email.message import Message
from pathlib import Path

import pytest
from packaging.metadata import Metadata
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from support.indexserver import HTML_V1, JSON_V1, IndexServer, negotiate, serve_index
from support.wheelhouse import MARKER, WHEELHOUSE_TXT, ensure_wheelhouse, read_pins
from support.wheels import make_wheel

REPO = Path(__file__).resolve().parents[1]
_PIP_INSTALL = (sys.executable, "-m", "pip", "install", "-q")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # Redirects are part of what is under test, so they must be seen, not followed.
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def fetch(
    url: str, headers: Mapping[str, str] | None = None, method: str = "GET"
) -> tuple[int, Message, bytes]:
    req = urllib.request.Request(url, headers=dict(headers or {}), method=method)
    try:
        with _opener.open(req, timeout=10) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read()


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def _make_sdist(dest: Path, name: str, version: str, requires_python: str) -> Path:
    base = f"{name}-{version}"
    pkg_info = (
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        f"Requires-Python: {requires_python}\n\n"
    ).encode()
    path = dest / f"{base}.tar.gz"
    with tarfile.open(path, "w:gz") as tf:
        info = tarfile.TarInfo(f"{base}/PKG-INFO")
        info.size = len(pkg_info)
        tf.addfile(info, io.BytesIO(pkg_info))
    return path


@pytest.fixture
def dists(tmp_path: Path) -> Path:
    d = tmp_path / "dists"
    make_wheel(d, "Demo.Pkg", "1.0", requires=["dep>=1"], requires_python=">=3.9")
    make_wheel(d, "demo-pkg", "2.0", requires_python=">=3.9,<4")
    make_wheel(d, "dep", "1.5")
    _make_sdist(d, "dep", "1.6", ">=3.8")
    return d


@pytest.fixture
def index(dists: Path) -> Iterator[IndexServer]:
    with serve_index([dists], yanked={"dep-1.5-py3-none-any.whl": ""}) as server:
        yield server


# --------------------------------------------------------------------------- wheels


def test_make_wheel_is_valid_and_installable(tmp_path: Path) -> None:
    whl = make_wheel(
        tmp_path,
        "My.Cool-Pkg",
        "1.2.3",
        requires=["six>=1", 'tomli; python_version < "3.11"'],
        extras={"cli": ["click>=8", 'colorama; sys_platform == "win32"']},
        requires_python=">=3.9",
        entry_points={"console_scripts": {"cool": "my_cool_pkg:main"}},
        data_files={"scripts/cool-sh": "#!/bin/sh\necho hi\n", "data/share/cool/x.txt": "x"},
    )
    assert whl.name == "my_cool_pkg-1.2.3-py3-none-any.whl"
    with zipfile.ZipFile(whl) as zf:
        names = zf.namelist()
        assert zf.read("my_cool_pkg/__init__.py") == b'__version__ = "1.2.3"\n'
        assert "my_cool_pkg-1.2.3.data/scripts/cool-sh" in names
        assert "my_cool_pkg-1.2.3.data/data/share/cool/x.txt" in names
        wheel_info = zf.read("my_cool_pkg-1.2.3.dist-info/WHEEL").decode()
        assert "Root-Is-Purelib: true" in wheel_info
        assert "Tag: py3-none-any" in wheel_info
        assert (
            "[console_scripts]\ncool = my_cool_pkg:main"
            in zf.read("my_cool_pkg-1.2.3.dist-info/entry_points.txt").decode()
        )
        meta = Metadata.from_email(zf.read("my_cool_pkg-1.2.3.dist-info/METADATA"))
        assert meta.name == "My.Cool-Pkg"
        assert str(meta.requires_python) == ">=3.9"
        assert meta.provides_extra == ["cli"]
        reqs = [str(r) for r in meta.requires_dist or []]
        assert 'click>=8; extra == "cli"' in reqs
        assert 'colorama; sys_platform == "win32" and extra == "cli"' in reqs
        assert Requirement(reqs[-1]).marker is not None
        rows = list(csv.reader(io.StringIO(zf.read("my_cool_pkg-1.2.3.dist-info/RECORD").decode())))
        recorded = {row[0] for row in rows}
        assert recorded == set(names)
        for path, digest, size in rows:
            if path.endswith("RECORD"):
                assert (digest, size) == ("", "")
                continue
            data = zf.read(path)
            assert digest == _record_hash(data)
            assert int(size) == len(data)

    target = tmp_path / "target"
    env = dict(os.environ, PIP_CONFIG_FILE=os.devnull)
    env.pop("PIP_FIND_LINKS", None)
    subprocess.run(
        [*_PIP_INSTALL, "--no-index", "--no-deps", "--target", str(target), str(whl)],
        check=True,
        env=env,
    )
    assert (target / "my_cool_pkg" / "__init__.py").is_file()
    assert (target / "my_cool_pkg-1.2.3.dist-info" / "INSTALLER").is_file()
    assert (target / "bin" / "cool").is_file()


def test_make_wheel_platform_tag_and_custom_files(tmp_path: Path) -> None:
    whl = make_wheel(
        tmp_path,
        "native",
        "0.1",
        tag="cp311-cp311-manylinux_2_17_x86_64",
        files={"native.py": "X = 1\n", "native_ext.so": b"\x7fELF"},
    )
    assert whl.name == "native-0.1-cp311-cp311-manylinux_2_17_x86_64.whl"
    with zipfile.ZipFile(whl) as zf:
        assert "native/__init__.py" not in zf.namelist()
        assert zf.read("native_ext.so") == b"\x7fELF"
        assert "Root-Is-Purelib: false" in zf.read("native-0.1.dist-info/WHEEL").decode()


def test_make_wheel_is_reproducible(tmp_path: Path) -> None:
    a = make_wheel(tmp_path / "a", "same", "1.0").read_bytes()
    b = make_wheel(tmp_path / "b", "same", "1.0").read_bytes()
    assert a == b


# --------------------------------------------------------------------------- negotiation


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "text/html"),
        ("*/*", "text/html"),
        ("text/html", "text/html"),
        (JSON_V1, JSON_V1),
        (f"{JSON_V1}, {HTML_V1};q=0.2, text/html;q=0.01", JSON_V1),
        (f"text/html;q=0.5, {JSON_V1}", JSON_V1),
        (f"{JSON_V1};q=0.1, text/html", "text/html"),
        (f"{HTML_V1}, {JSON_V1}", HTML_V1),
        (f"{JSON_V1};q=0, */*", "text/html"),
        ("application/*;q=0.9, text/html;q=0.1", HTML_V1),
        ("image/png", None),
    ],
)
def test_negotiate(accept: str | None, expected: str | None) -> None:
    assert negotiate(accept, (JSON_V1, HTML_V1, "text/html")) == expected


# --------------------------------------------------------------------------- index server


def test_root_lists_normalized_projects(index: IndexServer) -> None:
    status, headers, body = fetch(index.url + "/")
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    assert re.findall(r'href="([^"]+)"', body.decode()) == ["demo-pkg/", "dep/"]
    status, headers, body = fetch(index.url + "/", {"Accept": JSON_V1})
    assert headers["Content-Type"] == JSON_V1
    assert json.loads(body)["projects"] == [{"name": "demo-pkg"}, {"name": "dep"}]


def test_project_html(index: IndexServer, dists: Path) -> None:
    status, headers, body = fetch(index.url + "/demo-pkg/")
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert headers["Cache-Control"] == "max-age=600"
    text = body.decode()
    whl = dists / "demo_pkg-1.0-py3-none-any.whl"
    sha = hashlib.sha256(whl.read_bytes()).hexdigest()
    with zipfile.ZipFile(whl) as zf:
        md_sha = hashlib.sha256(zf.read("demo_pkg-1.0.dist-info/METADATA")).hexdigest()
    assert f'href="../../files/demo_pkg-1.0-py3-none-any.whl#sha256={sha}"' in text
    assert 'data-requires-python="&gt;=3.9"' in text
    assert 'data-requires-python="&gt;=3.9,&lt;4"' in text
    assert f'data-core-metadata="sha256={md_sha}"' in text
    assert f'data-dist-info-metadata="sha256={md_sha}"' in text
    assert "data-yanked" not in text


def test_project_json(index: IndexServer, dists: Path) -> None:
    status, headers, body = fetch(index.url + "/dep/", {"Accept": f"{JSON_V1}, text/html;q=0.1"})
    assert status == 200
    assert headers["Content-Type"] == JSON_V1
    assert "Accept" in headers["Vary"]
    doc = json.loads(body)
    assert doc["meta"]["api-version"] == "1.1"
    assert doc["name"] == "dep"
    assert doc["versions"] == ["1.5", "1.6"]
    files = {f["filename"]: f for f in doc["files"]}
    whl, sdist = files["dep-1.5-py3-none-any.whl"], files["dep-1.6.tar.gz"]
    assert whl["url"] == f"{index.files_url}/dep-1.5-py3-none-any.whl"
    assert (
        whl["hashes"]["sha256"]
        == hashlib.sha256((dists / "dep-1.5-py3-none-any.whl").read_bytes()).hexdigest()
    )
    assert whl["yanked"] is True  # yanked with an empty reason
    assert whl["requires-python"] is None
    assert whl["core-metadata"] == whl["dist-info-metadata"]
    assert sdist["requires-python"] == ">=3.8"  # read from PKG-INFO in the tarball
    assert sdist["yanked"] is False
    assert "core-metadata" not in sdist


def test_html_v1_media_type(index: IndexServer) -> None:
    status, headers, _ = fetch(index.url + "/dep/", {"Accept": HTML_V1})
    assert status == 200
    assert headers["Content-Type"] == HTML_V1
    status, _, _ = fetch(index.url + "/dep/", {"Accept": "image/png"})
    assert status == 406


def test_redirects_and_404(index: IndexServer) -> None:
    base = index.url.removesuffix("/simple")
    for path, location in [
        ("/simple/Demo.Pkg/", "/simple/demo-pkg/"),
        ("/simple/demo_pkg", "/simple/demo-pkg/"),
        ("/simple/demo-pkg", "/simple/demo-pkg/"),
        ("/simple", "/simple/"),
    ]:
        status, headers, _ = fetch(base + path)
        assert (status, headers["Location"]) == (301, location)
    assert fetch(index.url + "/nope/")[0] == 404
    assert fetch(index.files_url + "/nope-1.0.tar.gz")[0] == 404
    assert fetch(base + "/elsewhere")[0] == 404


def test_files_and_pep658_metadata(index: IndexServer, dists: Path) -> None:
    name = "demo_pkg-1.0-py3-none-any.whl"
    status, headers, body = fetch(f"{index.files_url}/{name}")
    assert status == 200
    assert body == (dists / name).read_bytes()
    assert headers["ETag"] == f'"{hashlib.sha256(body).hexdigest()}"'
    status, _, md = fetch(f"{index.files_url}/{name}.metadata")
    assert status == 200
    with zipfile.ZipFile(dists / name) as zf:
        assert md == zf.read("demo_pkg-1.0.dist-info/METADATA")
    doc = json.loads(fetch(index.url + "/demo-pkg/", {"Accept": JSON_V1})[2])
    entry = next(f for f in doc["files"] if f["filename"] == name)
    assert entry["core-metadata"] == {"sha256": hashlib.sha256(md).hexdigest()}
    assert fetch(f"{index.files_url}/dep-1.6.tar.gz.metadata")[0] == 404

    status, headers, part = fetch(f"{index.files_url}/{name}", {"Range": "bytes=-22"})
    assert status == 206
    assert part == body[-22:]
    assert headers["Content-Range"] == f"bytes {len(body) - 22}-{len(body) - 1}/{len(body)}"


def test_metadata_disabled(dists: Path) -> None:
    with serve_index([dists], metadata=False) as server:
        text = fetch(server.url + "/demo-pkg/")[2].decode()
        assert "data-core-metadata" not in text
        assert "data-dist-info-metadata" not in text
        doc = json.loads(fetch(server.url + "/demo-pkg/", {"Accept": JSON_V1})[2])
        assert all("core-metadata" not in f for f in doc["files"])
        status = fetch(f"{server.files_url}/demo_pkg-1.0-py3-none-any.whl.metadata")[0]
        assert status == 404


def test_yanked(dists: Path) -> None:
    yanked = {"dep-1.5-py3-none-any.whl": "broken <b>", "dep-1.6.tar.gz": ""}
    with serve_index([dists], yanked=yanked) as server:
        text = fetch(server.url + "/dep/")[2].decode()
        lines = {line.rsplit(">", 3)[-3]: line for line in text.splitlines() if "<a " in line}
        assert 'data-yanked="broken &lt;b&gt;"' in lines["dep-1.5-py3-none-any.whl</a"]
        assert 'data-yanked=""' in lines["dep-1.6.tar.gz</a"]
        doc = json.loads(fetch(server.url + "/dep/", {"Accept": JSON_V1})[2])
        assert [f["yanked"] for f in doc["files"]] == ["broken <b>", True]


def test_json_api_disabled(dists: Path) -> None:
    with serve_index([dists], json_api=False) as server:
        status, headers, _ = fetch(server.url + "/dep/", {"Accept": JSON_V1})
        assert status == 200
        assert headers["Content-Type"].startswith("text/html")


def test_conditional_requests(index: IndexServer) -> None:
    for url in [index.url + "/dep/", f"{index.files_url}/dep-1.6.tar.gz"]:
        status, headers, _ = fetch(url)
        assert status == 200
        etag, last_modified = headers["ETag"], headers["Last-Modified"]
        assert etag and last_modified
        status, headers, body = fetch(url, {"If-None-Match": etag})
        assert (status, body) == (304, b"")
        assert headers["ETag"] == etag
        assert headers["Cache-Control"] == "max-age=600"
        assert fetch(url, {"If-None-Match": f'W/{etag}, "other"'})[0] == 304
        assert fetch(url, {"If-Modified-Since": last_modified})[0] == 304
        assert fetch(url, {"If-None-Match": '"stale"'})[0] == 200
        # If-None-Match wins over If-Modified-Since when both are sent.
        both = {"If-None-Match": '"stale"', "If-Modified-Since": last_modified}
        assert fetch(url, both)[0] == 200
        assert fetch(url, {"If-Modified-Since": "Thu, 01 Jan 1970 00:00:00 GMT"})[0] == 200
    # The JSON and HTML representations differ, so must their validators.
    html_etag = fetch(index.url + "/dep/")[1]["ETag"]
    json_etag = fetch(index.url + "/dep/", {"Accept": JSON_V1})[1]["ETag"]
    assert html_etag != json_etag


def test_fail_first_and_request_log(dists: Path) -> None:
    with serve_index([dists], fail_first=2, max_age=0) as server:
        assert fetch(server.url + "/dep/")[0] == 503
        assert fetch(server.url + "/dep/")[0] == 503
        status, headers, _ = fetch(server.url + "/dep/")
        assert status == 200
        assert headers["Cache-Control"] == "max-age=0"
        fetch(f"{server.files_url}/dep-1.6.tar.gz", method="HEAD")
        assert server.requests == [("GET", "/simple/dep/")] * 3 + [
            ("HEAD", "/files/dep-1.6.tar.gz")
        ]


def test_basic_auth(dists: Path) -> None:
    with serve_index([dists], auth=("user", "s3cret")) as server:
        status, headers, _ = fetch(server.url + "/dep/")
        assert status == 401
        assert headers["WWW-Authenticate"].startswith("Basic")
        bad = base64.b64encode(b"user:wrong").decode()
        assert fetch(server.url + "/dep/", {"Authorization": f"Basic {bad}"})[0] == 401
        good = base64.b64encode(b"user:s3cret").decode()
        assert fetch(server.url + "/dep/", {"Authorization": f"Basic {good}"})[0] == 200


def test_add_dir_is_picked_up(index: IndexServer, tmp_path: Path) -> None:
    assert fetch(index.url + "/late/")[0] == 404
    extra = tmp_path / "extra"
    make_wheel(extra, "late", "0.1")
    index.add_dir(extra)
    assert fetch(index.url + "/late/")[0] == 200
    assert fetch(f"{index.files_url}/late-0.1-py3-none-any.whl")[0] == 200


def test_pip_installs_from_index(index: IndexServer, tmp_path: Path) -> None:
    # An independent client agreeing with the server is the best check of the protocol.
    env = dict(os.environ, PIP_CONFIG_FILE=os.devnull)
    env.pop("PIP_FIND_LINKS", None)
    target = tmp_path / "target"
    # dep 1.5 is yanked and 1.6 is an sdist (excluded by --only-binary): PEP 592 lets an
    # installer take a yanked file only for an == pin, which pip needs to be given here.
    args = ["--only-binary", ":all:", "--index-url", index.url, "--target", str(target)]
    subprocess.run(
        [*_PIP_INSTALL, *args, "demo-pkg==1.0", "dep==1.5"],
        check=True,
        env=env,
    )
    assert (target / "demo_pkg" / "__init__.py").is_file()
    assert (target / "dep-1.5.dist-info").is_dir()


# --------------------------------------------------------------------------- wheelhouse


def test_pins_files_are_consistent() -> None:
    pins = read_pins()
    names = [canonicalize_name(p.split("==")[0]) for p in pins]
    assert all("==" in p for p in pins)
    assert len(names) == len(set(names)), "one version per project"
    bench = read_pins(REPO / "benchmarks" / "requirements.txt")
    assert 25 <= len(bench) <= 40
    assert set(bench) <= set(pins)


def test_ensure_wheelhouse_reuses_completed_dir(tmp_path: Path) -> None:
    done = tmp_path / "wh"
    done.mkdir()
    (done / MARKER).write_text("")
    # Returns without downloading (this would need the network otherwise).
    assert ensure_wheelhouse(done) == done


@pytest.mark.network
@pytest.mark.slow
def test_real_wheelhouse_is_complete() -> None:
    root = ensure_wheelhouse()
    wheels = [p.name for p in root.glob("*.whl")]
    for pin in read_pins(WHEELHOUSE_TXT):
        name, version = pin.split("==")
        prefix = f"{canonicalize_name(name).replace('-', '_')}-{version}-"
        assert any(w.startswith(prefix) for w in wheels), pin
    for binary in ("pyyaml", "markupsafe", "charset_normalizer"):
        for abi in ("cp39", "cp311"):
            assert any(w.startswith(binary) and f"-{abi}-{abi}-" in w for w in wheels)
