"""The pure parts of `check`, `tree` and `list --outdated`, in-process on plain values."""

from __future__ import annotations

import json
from pathlib import Path

from packaging.specifiers import SpecifierSet
from packaging.tags import Tag
from packaging.utils import canonicalize_name
from packaging.version import Version

from warmbuild.check import Dist, check
from warmbuild.deptree import graph, render, roots
from warmbuild.dists import DistFile
from warmbuild.installed import InstalledDist
from warmbuild.outdated import newest
from warmbuild.plan import uninstall_names
from warmbuild.reqfile import parse_requirement

LINUX_311 = {"python_version": "3.11", "python_full_version": "3.11.7", "sys_platform": "linux",
             "platform_system": "Linux", "os_name": "posix", "implementation_name": "cpython",
             "platform_machine": "x86_64", "platform_python_implementation": "CPython",
             "platform_release": "", "platform_version": "", "implementation_version": "3.11.7"}


def dist(name: str, version: str, *requires: str) -> Dist:
    return Dist(canonicalize_name(name), Version(version), requires, name)


def test_check_reports_missing_and_conflicting_as_pip_words_them() -> None:
    report = check([
        dist("App", "1.0", "lib>=2", "missing_dep", "zzz", "lib[fast]>=2",
             "win-only; sys_platform == 'win32'", "extra-only; extra == 'x'",
             "old; python_version < '3'"),
        dist("lib", "1.0"), dist("zzz", "2.0rc1"), dist("pre-user", "1", "zzz>=1"),
    ], LINUX_311)
    assert report.lines() == (
        "app 1.0 requires missing-dep, which is not installed.",
        "app 1.0 has requirement lib>=2, but you have lib 1.0.",
        "app 1.0 has requirement lib[fast]>=2, but you have lib 1.0.",
    ), "pre-releases satisfy; markers are the target's; extras are not checked"
    assert not report.ok and not report.unreadable


def test_check_of_a_consistent_set_and_of_unreadable_metadata() -> None:
    assert check([dist("a", "1", "b<2"), dist("b", "1.5")], LINUX_311).ok
    report = check([dist("a", "1", "b !!! 2"), dist("c", "1", "d; bogus_marker == '1'")],
                   LINUX_311)
    assert [u.dist for u in report.unreadable] == ["a", "c"]
    assert report.lines() == () and not report.ok


FLASKISH = [dist("flask", "3.0", "werkzeug>=3", "jinja2", "click; python_version < '3'"),
            dist("jinja2", "3.1", "markupsafe>=2"), dist("werkzeug", "3.0", "MarkupSafe"),
            dist("markupsafe", "2.1"), dist("click", "8.1")]


def test_tree_draws_each_subtree_once_as_uv_does() -> None:
    g = graph(FLASKISH, LINUX_311)
    assert roots(g) == ("click", "flask")
    assert render(g) == (
        "click v8.1",
        "flask v3.0",
        "├── werkzeug v3.0",
        "│   └── markupsafe v2.1",
        "└── jinja2 v3.1",
        "    └── markupsafe v2.1",
    ), "markupsafe has no children to repeat, so no (*)"
    assert render(g, depth=1)[2:] == ("├── werkzeug v3.0", "└── jinja2 v3.1")


def test_tree_reversed_and_from_named_packages() -> None:
    g = graph(FLASKISH, LINUX_311, reverse=True)
    assert render(g) == (
        "click v8.1",
        "markupsafe v2.1",
        "├── jinja2 v3.1",
        "│   └── flask v3.0",
        "└── werkzeug v3.0",
        "    └── flask v3.0",
    )
    forward = graph(FLASKISH, LINUX_311)
    assert render(forward, [canonicalize_name("werkzeug"), canonicalize_name("jinja2")]) == (
        "werkzeug v3.0", "└── markupsafe v2.1", "", "jinja2 v3.1", "└── markupsafe v2.1")


def test_tree_with_a_repeated_subtree_and_a_cycle() -> None:
    g = graph([dist("a", "1", "b", "c"), dist("c", "1", "b"), dist("b", "1", "d"),
               dist("d", "1"), dist("x", "1", "y"), dist("y", "1", "x")], LINUX_311)
    assert render(g) == (
        "a v1", "├── b v1", "│   └── d v1", "└── c v1", "    └── b v1 (*)",
        # Only a cycle reaches x and y: drawn after the roots, the cycle closed by (*).
        "x v1", "└── y v1", "    └── x v1 (*)",
    )
    assert render(g, depth=0) == ("a v1", "x v1")


def wheel(name: str, version: str, tag: str = "py3-none-any", **kw: object) -> DistFile:
    return DistFile(filename=f"{name}-{version}-{tag}.whl", url=f"https://x/{name}-{version}",
                    name=canonicalize_name(name), version=Version(version), kind="wheel",
                    tags=frozenset({Tag(*tag.split("-"))}), **kw)  # type: ignore[arg-type]


def sdist(name: str, version: str) -> DistFile:
    return DistFile(filename=f"{name}-{version}.tar.gz", url=f"https://x/{name}-{version}.tgz",
                    name=canonicalize_name(name), version=Version(version), kind="sdist")


def test_newest_is_the_version_pip_list_outdated_names() -> None:
    tags = (Tag("cp311", "cp311", "manylinux_2_17_x86_64"), Tag("py3", "none", "any"))
    py = Version("3.11.7")
    files = [wheel("lib", "1.0"), sdist("lib", "2.0"), wheel("lib", "2.0"),
             wheel("lib", "3.0", "cp312-cp312-win_amd64"), wheel("lib", "3.1rc1"),
             wheel("lib", "2.5", requires_python=SpecifierSet(">=3.12")),
             wheel("lib", "2.9", yanked="broken"), sdist("lib", "2.1")]
    latest = newest(files, tags, py)
    assert latest is not None and (str(latest.version), latest.kind) == ("2.1", "sdist")
    with_pre = newest(files, tags, py, pre=True)
    assert with_pre is not None and (str(with_pre.version), with_pre.kind) == ("3.1rc1", "wheel")
    both = newest([sdist("lib", "2.0"), wheel("lib", "2.0")], tags, py)
    assert both is not None and both.kind == "wheel", "a wheel is named before an sdist"
    assert newest([wheel("lib", "3.0", "cp312-cp312-win_amd64")], tags, py) is None


def test_uninstall_names_finds_a_tree_by_what_was_installed_from_it(tmp_path: Path) -> None:
    tree = tmp_path / "src" / "my-tree"
    (tree).mkdir(parents=True)
    (tree / "pyproject.toml").write_text("[project]\nname = 'real-name'\nversion = '1'\n")
    info = tmp_path / "site" / "real_name-1.dist-info"
    info.mkdir(parents=True)
    (info / "direct_url.json").write_text(json.dumps(
        {"url": tree.as_uri(), "dir_info": {"editable": True}}))
    installed = {canonicalize_name("real-name"): InstalledDist(
        canonicalize_name("real-name"), "real_name", Version("1"), info)}
    reqs = [parse_requirement("six>=1"), parse_requirement(str(tree), editable=True),
            parse_requirement("other")]
    assert uninstall_names(reqs, installed) == ["six", "real_name", "other"]
