"""The no-op check: whether installed metadata alone answers a set of requirements
(``satisfied.satisfying``), on real ``.dist-info`` directories."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from warmbuild.coremeta import headers
from warmbuild.installed import InstalledDist, _read_dist
from warmbuild.satisfied import satisfying

MARKERS = {"python_version": "3.11", "python_full_version": "3.11.7", "sys_platform": "linux",
           "platform_system": "Linux", "os_name": "posix", "implementation_name": "cpython",
           "platform_machine": "x86_64", "platform_python_implementation": "CPython",
           "platform_release": "", "platform_version": "", "implementation_version": "3.11.7"}


def site(tmp_path: Path, *dists: tuple[str, str, list[str], str]) -> dict[NormalizedName,
                                                                          InstalledDist]:
    """(name, version, Requires-Dist lines, Requires-Python) as installed dists."""
    found = {}
    for name, version, requires, python in dists:
        info = tmp_path / f"{name}-{version}.dist-info"
        info.mkdir()
        lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
        lines += [f"Requires-Dist: {r}" for r in requires]
        if python:
            lines.append(f"Requires-Python: {python}")
        (info / "METADATA").write_text("\n".join(lines) + "\n\nRequires-Dist: not-a-header\n")
        dist = _read_dist(info)
        assert dist is not None
        found[dist.name] = dist
    return found


def check(installed: dict[NormalizedName, InstalledDist], *reqs: str,
          constraints: dict[str, str] | None = None, no_deps: bool = False) -> list[str] | None:
    dists = satisfying([Requirement(r) for r in reqs], installed, markers=MARKERS,
                       python_version=Version("3.11.7"), no_deps=no_deps,
                       constraints={canonicalize_name(k): SpecifierSet(v)
                                    for k, v in (constraints or {}).items()})
    return None if dists is None else sorted(d.name for d in dists)


@pytest.fixture
def installed(tmp_path: Path) -> dict[NormalizedName, InstalledDist]:
    return site(tmp_path,
                ("app", "1.0", ["lib>=2", "extra-only; extra == 'fast'",
                                "win-only; sys_platform == 'win32'"], ">=3.9"),
                ("lib", "2.5", ["base"], ""),
                ("base", "1.0rc1", [], ""),
                ("extra_only", "0.1", ["deep"], ""),
                ("old", "1.0", [], "<3.9"))


def test_the_closure_is_walked(installed: dict[NormalizedName, InstalledDist]) -> None:
    assert check(installed, "app") == ["app", "base", "lib"]
    assert check(installed, "App>=1") == ["app", "base", "lib"], "names are normalized"


def test_an_installed_pre_release_satisfies(installed: dict[NormalizedName,
                                                              InstalledDist]) -> None:
    assert check(installed, "base>=0.9") == ["base"]


def test_extras_pull_their_dependencies(installed: dict[NormalizedName, InstalledDist],
                                        tmp_path: Path) -> None:
    assert check(installed, "app") == ["app", "base", "lib"], "no extra, no extra-only"
    assert check(installed, "app[fast]") is None, "extra-only needs deep, which is missing"
    assert check(installed, "app", "app[fast]") is None
    (tmp_path / "more").mkdir()
    installed.update(site(tmp_path / "more", ("deep", "3", [], "")))
    assert check(installed, "app[fast]") == ["app", "base", "deep", "extra-only", "lib"]
    assert check(installed, "app", "app[FAST]") == ["app", "base", "deep", "extra-only", "lib"]


def test_what_is_missing_or_out_of_range_goes_to_the_index(
        installed: dict[NormalizedName, InstalledDist]) -> None:
    assert check(installed, "missing") is None
    assert check(installed, "lib>3") is None
    assert check(installed, "app", constraints={"base": "<1.0rc1"}) is None
    assert check(installed, "app", constraints={"base": "<=1.0"}) == ["app", "base", "lib"]
    assert check(installed, "lib @ https://example.org/lib-2.5-py3-none-any.whl") is None
    assert check(installed, "old") is None, "its Requires-Python excludes the target"


def test_no_deps_checks_only_the_named(installed: dict[NormalizedName, InstalledDist]) -> None:
    assert check(installed, "app[fast]", no_deps=True) == ["app"]
    assert check(installed, "old", no_deps=True) == ["old"]


def test_headers_stop_at_the_body_and_unfold() -> None:
    text = ("Name: x\nRequires-Dist: a;\n  extra == 'b'\nrequires-dist: c\n"
            "Description: one\n\nRequires-Dist: body\n")
    assert headers(text, "Requires-Dist") == {"requires-dist": ["a; extra == 'b'", "c"]}


@pytest.mark.parametrize("text", [
    # A License text folded over lines, with a blank line (white space only) inside it.
    "Name: x\nLicense: BSD\n        \n        Copyright\nRequires-Dist: a\nRequires-Dist: b\n",
    "Name: x\r\nLicense: BSD\r\n \t\r\nRequires-Dist: a\r\nRequires-Dist: b\r\n\r\nbody: c\n",
    "Name: x\nRequires-Dist: a\nRequires-Dist: b\nnot a header line\nRequires-Dist: c\n",
])
def test_headers_are_read_as_email_reads_them(text: str) -> None:
    import email.parser

    expected = email.parser.HeaderParser().parsestr(text).get_all("Requires-Dist")
    assert expected == ["a", "b"]
    assert headers(text, "Requires-Dist") == {"requires-dist": expected}


def test_headers_agree_with_email_on_every_wheel_of_the_wheelhouse(wheelhouse: Path) -> None:
    """Differential: the fields the resolver reads, from each real METADATA, both ways."""
    import email.parser
    import zipfile

    checked = 0
    for wheel in sorted(wheelhouse.glob("*.whl")):
        with zipfile.ZipFile(wheel) as zf:
            (member,) = [n for n in zf.namelist()
                         if n.count("/") == 1 and n.endswith(".dist-info/METADATA")]
            text = zf.read(member).decode("utf-8", "replace")
        msg = email.parser.HeaderParser().parsestr(text)
        for field in ("Requires-Dist", "Requires-Python", "Provides-Extra"):
            expected = [" ".join(v.split()) for v in msg.get_all(field) or []]
            got = [" ".join(v.split()) for v in headers(text, field).get(field.lower(), [])]
            assert got == expected, (wheel.name, field)
        checked += 1
    assert checked > 50
