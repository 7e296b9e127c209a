"""make_plan and uninstall_plan on values: what an install would change, in-process."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from warmbuild.dists import DistFile, ResolvedDist
from warmbuild.installed import InstalledDist
from warmbuild.plan import Action, Plan, make_plan, uninstall_plan


def _n(name: str) -> NormalizedName:
    return canonicalize_name(name)


def resolved(name: str, version: str, *, kind: Literal["wheel", "sdist", "tree"] = "wheel",
             installed: bool = False, direct_url: str | None = None) -> ResolvedDist:
    file = None if installed else DistFile(
        f"{name}-{version}-py3-none-any.whl", f"https://example.invalid/{name}.whl",
        _n(name), Version(version), kind)
    return ResolvedDist(_n(name), Version(version), file, requested=True,
                        direct_url=direct_url)


def dist(tmp_path: Path, name: str, version: str,
         direct_url: dict[str, object] | None = None) -> InstalledDist:
    info = tmp_path / f"{name}-{version}.dist-info"
    if direct_url is not None:
        info.mkdir()
        (info / "direct_url.json").write_text(json.dumps(direct_url))
    return InstalledDist(_n(name), name, Version(version), info)


def kinds(plan: Plan) -> list[tuple[str, str]]:
    return [(a.kind, a.name) for a in plan.actions]


def test_new_dists_are_installed(tmp_path: Path) -> None:
    plan = make_plan([resolved("a", "1.0"), resolved("b", "2.0")], {})
    assert kinds(plan) == [("install", "a"), ("install", "b")]
    assert [str(a) for a in plan.actions] == ["+ a==1.0", "+ b==2.0"]
    assert plan.unchanged == ()


def test_other_versions_are_upgrades_and_downgrades(tmp_path: Path) -> None:
    old_a, old_b = dist(tmp_path, "a", "1.0"), dist(tmp_path, "b", "3.0")
    plan = make_plan([resolved("a", "2.0"), resolved("b", "2.5")],
                     {_n("a"): old_a, _n("b"): old_b})
    assert kinds(plan) == [("upgrade", "a"), ("downgrade", "b")]
    assert plan.actions[0].old is old_a
    assert plan.actions[0].new is not None and plan.actions[0].new.version == Version("2.0")
    assert [str(a) for a in plan.actions] == ["~ a==1.0 -> 2.0", "~ b==3.0 -> 2.5"]


def test_version_order_is_pep440_not_text(tmp_path: Path) -> None:
    plan = make_plan([resolved("a", "1.10")], {_n("a"): dist(tmp_path, "a", "1.9")})
    assert kinds(plan) == [("upgrade", "a")]


def test_a_dist_the_resolver_kept_is_unchanged(tmp_path: Path) -> None:
    plan = make_plan([resolved("a", "1.0", installed=True)], {_n("a"): dist(tmp_path, "a", "1.0")})
    assert plan.actions == ()
    assert plan.unchanged == ("a",)


def test_the_same_version_with_a_file_is_a_reinstall(tmp_path: Path) -> None:
    plan = make_plan([resolved("a", "1.0")], {_n("a"): dist(tmp_path, "a", "1.0")})
    assert kinds(plan) == [("reinstall", "a")]
    assert str(plan.actions[0]) == "~ a==1.0"


def test_a_direct_url_already_installed_is_unchanged_unless_reinstall(tmp_path: Path) -> None:
    url = "https://example.invalid/a-1.0-py3-none-any.whl"
    installed = {_n("a"): dist(tmp_path, "a", "1.0", {"url": url, "archive_info": {}})}
    assert make_plan([resolved("a", "1.0", direct_url=url)], installed).unchanged == ("a",)
    again = make_plan([resolved("a", "1.0", direct_url=url)], installed, reinstall=True)
    assert kinds(again) == [("reinstall", "a")]
    other = make_plan([resolved("a", "1.0", direct_url=url + "?other")], installed)
    assert kinds(other) == [("reinstall", "a")]


def test_a_source_tree_is_always_reinstalled(tmp_path: Path) -> None:
    # The tree may have changed since; only a build can tell.
    url = "file:///src/a"
    installed = {_n("a"): dist(tmp_path, "a", "1.0", {"url": url, "dir_info": {}})}
    plan = make_plan([resolved("a", "1.0", kind="tree", direct_url=url)], installed)
    assert kinds(plan) == [("reinstall", "a")]


def test_remove_others_uninstalls_only_what_was_not_resolved(tmp_path: Path) -> None:
    installed = {_n("a"): dist(tmp_path, "a", "1.0"), _n("stray"): dist(tmp_path, "stray", "0.1")}
    wanted = [resolved("a", "1.0", installed=True), resolved("b", "1.0")]
    assert kinds(make_plan(wanted, installed)) == [("install", "b")]
    plan = make_plan(wanted, installed, remove_others=True)
    assert kinds(plan) == [("install", "b"), ("uninstall", "stray")]
    assert str(plan.actions[1]) == "- stray==0.1"
    assert plan.unchanged == ("a",)


def test_uninstall_plan_keeps_the_given_order(tmp_path: Path) -> None:
    plan = uninstall_plan([dist(tmp_path, "b", "2.0"), dist(tmp_path, "a", "1.0")])
    assert plan == Plan((Action("uninstall", _n("b"), old=dist(tmp_path, "b", "2.0")),
                         Action("uninstall", _n("a"), old=dist(tmp_path, "a", "1.0"))))
