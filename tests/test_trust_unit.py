"""Pure parts of trust, index strategy and pip's settings: trusted hosts and plain HTTP,
--only-binary/--no-binary as pip applies them, --exclude-newer dates, conda detection."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from warmbuild.dists import FormatControl
from warmbuild.errors import NetworkError
from warmbuild.index import parse_cutoff
from warmbuild.pyfind import conda_prefix
from warmbuild.trust import NetworkSettings


def test_trusted_hosts_match_host_or_host_and_port() -> None:
    net = NetworkSettings(trusted_hosts=("mirror.example", "other.example:8443",
                                         "https://third.example/simple"))
    assert net.is_trusted("https://mirror.example/simple/six/")
    assert net.is_trusted("http://MIRROR.example:8080/x")
    assert net.is_trusted("https://other.example:8443/x")
    assert not net.is_trusted("https://other.example/x")
    assert net.is_trusted("http://third.example/simple")
    assert not net.is_trusted("https://pypi.org/simple")


def test_plain_http_only_to_trusted_or_local_hosts() -> None:
    net = NetworkSettings(trusted_hosts=("mirror.example",))
    for url in ("http://mirror.example/simple", "http://127.0.0.1:8080/simple",
                "http://localhost/simple", "http://[::1]:80/x", "https://pypi.org/simple"):
        net.check_scheme(url)
    with pytest.raises(NetworkError) as caught:
        net.check_scheme("http://user:pw@evil.example:81/simple")
    assert caught.value.message == ("http://evil.example:81/simple: plain HTTP to "
                                    "evil.example:81, which is not a trusted host")
    assert caught.value.hint and "--trusted-host evil.example:81" in caught.value.hint


def test_format_control_applies_values_as_pip_does() -> None:
    fc = FormatControl().add("--only-binary", ":all:")
    assert not fc.allows("numpy", "sdist") and fc.allows("numpy", "wheel")
    fc = fc.add("--no-binary", "numpy,Scipy_X")
    assert fc.allows("numpy", "sdist") and not fc.allows("numpy", "wheel")
    assert not fc.allows("scipy-x", "wheel") and not fc.allows("six", "sdist")
    # A name moves between the lists; :none: clears this list; :all: clears both.
    fc = fc.add("--only-binary", "numpy")
    assert not fc.allows("numpy", "sdist") and fc.allows("numpy", "wheel")
    fc = fc.add("--no-binary", ":none:")
    assert fc.allows("scipy-x", "wheel")
    fc = fc.add("--no-binary", ":all:")
    assert fc == FormatControl(no_binary=frozenset({":all:"}))
    assert FormatControl().allows("x", "sdist") and FormatControl().allows("x", "wheel")


def test_exclude_newer_values() -> None:
    now = datetime(2024, 3, 10, 12, tzinfo=UTC)
    assert parse_cutoff("2024-01-31T12:00:00Z") == datetime(2024, 1, 31, 12, tzinfo=UTC)
    assert parse_cutoff("7 days", now) == now - timedelta(days=7)
    # A date includes that whole day (local time), as in uv.
    day = parse_cutoff("2024-01-31")
    assert day == datetime(2024, 2, 1).astimezone()
    for bad in ("soon", "2024-13-01", "-3 days"):
        with pytest.raises(ValueError):
            parse_cutoff(bad)


def test_conda_base_or_child(tmp_path: Path) -> None:
    env = str(tmp_path / "envs" / "work")
    assert conda_prefix({}) == (None, False)
    assert conda_prefix({"CONDA_PREFIX": env}) == (Path(env), False)
    assert conda_prefix({"CONDA_PREFIX": env, "CONDA_DEFAULT_ENV": "work"}) == (Path(env), False)
    assert conda_prefix({"CONDA_PREFIX": env, "CONDA_DEFAULT_ENV": env}) == (Path(env), False)
    assert conda_prefix({"CONDA_PREFIX": "/opt/conda", "CONDA_DEFAULT_ENV": "base"}) == (
        Path("/opt/conda"), True)
    assert conda_prefix({"CONDA_PREFIX": env, "_CONDA_ROOT": env}) == (Path(env), True)
    (tmp_path / "envs" / "work" / "conda-meta").mkdir(parents=True)
    (tmp_path / "envs" / "work" / "conda-meta" / "pixi").write_text("")
    assert conda_prefix({"CONDA_PREFIX": env, "CONDA_DEFAULT_ENV": "default"}) == (
        Path(env), False)
