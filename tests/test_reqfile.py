"""Requirements and constraints files in pip's format, and hash-checking mode."""

from __future__ import annotations

import hashlib
from pathlib import Path

from conftest import IndexFactory, Runner, create_venv, installed, snapshot
from support.indexserver import IndexServer


def test_nested_files_comments_continuations_options(
        wb: Runner, venv: Path, tmp_path: Path, custom_index: IndexFactory) -> None:
    server = custom_index([("alpha", "1.0"), ("beta", "1.0"), ("beta", "2.0"), ("gamma", "1.0"),
                           ("delta", "1.0", {"requires": ["beta"]})])
    sub = tmp_path / "reqs"
    sub.mkdir()
    (sub / "base.txt").write_text("# shared pins\ngamma  # trailing comment\n-c constraints.txt\n")
    (sub / "constraints.txt").write_text("beta<2\n")
    main = tmp_path / "requirements.txt"
    main.write_text(
        f"--index-url {server.url}\n"
        "-r reqs/base.txt\n"
        "alpha \\\n"
        "  ==1.0\n"
        "delta ; python_version >= '3'\n"
        "\n"
        "--only-binary :all:\n"
    )
    wb("install", "--python", venv, "-r", main)
    assert installed(venv) == {"alpha": "1.0", "beta": "1.0", "gamma": "1.0", "delta": "1.0"}


def test_environment_variables_expand(wb: Runner, venv: Path, tmp_path: Path,
                                      custom_index: IndexFactory) -> None:
    server = custom_index([("alpha", "1.0")])
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("--index-url ${MY_INDEX}\nalpha\n")
    wb("install", "--python", venv, "-r", reqs, env={"MY_INDEX": server.url})
    assert installed(venv) == {"alpha": "1.0"}


def test_malformed_line_names_file_and_line(wb: Runner, venv: Path, tmp_path: Path) -> None:
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("six\n# fine\nnot a valid === requirement\n")
    result = wb("install", "--python", venv, "--no-index", "-r", reqs, expect=1)
    assert f"{reqs}:3: invalid requirement" in result.stderr
    assert "Traceback" not in result.output
    result = wb("install", "--python", venv, "--no-index", "-r", tmp_path / "missing.txt",
                expect=1)
    assert "cannot read requirements file" in result.stderr
    reqs.write_text("--frobnicate\n")
    assert f"{reqs}:1: unknown option '--frobnicate'" in wb(
        "install", "--python", venv, "--no-index", "-r", reqs, expect=1).stderr


def test_hashes_good_and_bad(wb: Runner, venv: Path, tmp_path: Path, wheelhouse: Path,
                             index: IndexServer) -> None:
    six = next(wheelhouse.glob("six-1.17.0-*.whl"))
    good = hashlib.sha256(six.read_bytes()).hexdigest()
    reqs = tmp_path / "requirements.txt"
    reqs.write_text(f"six==1.17.0 \\\n    --hash=sha256:{'0' * 64} \\\n"
                    f"    --hash=sha256:{good}\n")
    wb("install", "--python", venv, "-i", index.url, "-r", reqs)
    assert installed(venv) == {"six": "1.17.0"}

    other = create_venv(tmp_path / "other")
    reqs.write_text(f"six==1.17.0 --hash=sha256:{'1' * 64}\n")
    before = snapshot(other)
    result = wb("install", "--python", other, "-i", index.url, "-r", reqs, expect=1)
    assert "error: no file of `six` 1.17.0 has one of the required hashes" in result.stderr
    assert snapshot(other) == before


def test_require_hashes_needs_every_package_pinned_with_hashes(
        wb: Runner, venv: Path, tmp_path: Path, wheelhouse: Path, index: IndexServer) -> None:
    requests = next(wheelhouse.glob("requests-2.32.5-*.whl"))
    digest = hashlib.sha256(requests.read_bytes()).hexdigest()
    reqs = tmp_path / "requirements.txt"
    reqs.write_text(f"requests==2.32.5 --hash=sha256:{digest}\n")
    result = wb("install", "--python", venv, "-i", index.url, "-r", reqs, expect=1)
    assert "hashes are required" in result.stderr
    assert "urllib3==" in result.stderr and "--hash=sha256:" in result.stderr
    assert installed(venv) == {}
    result = wb("install", "--python", venv, "-i", index.url, "--require-hashes", "six",
                expect=1)
    assert "hashes are required" in result.stderr
