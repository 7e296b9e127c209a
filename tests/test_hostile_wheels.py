"""Hostile and broken wheels (tests/support/hostile.py) are refused through the CLI, by path
and from an index alike, with one paragraph naming the wheel, and the venv is left byte for
byte as it was; the oddities accepted by design install."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import Result, Runner, create_venv, installed, site_packages, snapshot
from support import hostile
from support.indexserver import serve_index
from support.wheels import make_wheel
from test_transaction import contents


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A venv holding ``victim`` (installed as a plain dist-info: no warmbuild run needed),
    copied for each test: making a venv per case would cost more than the case."""
    root = tmp_path_factory.mktemp("template")
    venv = create_venv(root / "venv")
    info = site_packages(venv) / f"{hostile.VICTIM}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_bytes(hostile.metadata(hostile.VICTIM))
    (site_packages(venv) / f"{hostile.VICTIM}.py").write_text("VALUE = 'victim'\n")
    (info / "RECORD").write_text(f"{hostile.VICTIM}.py,,\n{info.name}/METADATA,,\n"
                                 f"{info.name}/RECORD,,\n")
    yield venv


@pytest.fixture
def target(template: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(template, tmp_path / "venv", symlinks=True))


def install(wb: Runner, venv: Path, wheel: Path, how: str) -> Result:
    if how == "path":
        return wb("install", "--python", venv, wheel, expect=None)
    if how == "find-links":
        return wb("install", "--python", venv, "--no-index", "-f", wheel.parent, "hostile",
                  expect=None)
    with serve_index([wheel.parent]) as server:
        return wb("install", "--python", venv, "-i", server.url, "hostile", expect=None)


def one_paragraph_naming(result: Result, *fragments: str) -> None:
    assert result.returncode != 0, result.output
    assert "Traceback" not in result.output and "internal error" not in result.output, \
        result.output
    lines = result.stderr.rstrip("\n").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("error: "))
    assert all(line.strip() for line in lines[start:]), result.stderr  # one paragraph
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


@pytest.mark.parametrize("how", ["path", "index"])
@pytest.mark.parametrize("case", list(hostile.REJECTED), ids=hostile.case_id)
def test_a_hostile_wheel_is_refused_and_the_venv_is_unchanged(
        wb: Runner, target: Path, tmp_path: Path, case: hostile.Case, how: str) -> None:
    wheel = case(tmp_path / "wheels")
    before, before_bytes = snapshot(target), contents(target)
    result = install(wb, target, wheel, how)
    one_paragraph_naming(result, hostile.FILENAME, hostile.REJECTED[case])
    assert snapshot(target) == before
    assert contents(target) == before_bytes
    assert not list(target.glob(".warmbuild-*"))


@pytest.mark.parametrize("case", [hostile.record_hash_wrong, hostile.two_dist_infos,
                                  hostile.symlink_then_below, hostile.name_not_utf8],
                         ids=hostile.case_id)
def test_find_links_gets_the_same_rules(wb: Runner, target: Path, tmp_path: Path,
                                        case: hostile.Case) -> None:
    wheel = case(tmp_path / "wheels")
    before = contents(target)
    one_paragraph_naming(install(wb, target, wheel, "find-links"), hostile.FILENAME,
                         hostile.REJECTED[case])
    assert contents(target) == before


def test_a_wheel_holding_another_installed_projects_dist_info_changes_nothing(
        wb: Runner, target: Path, tmp_path: Path) -> None:
    # The case: from an index, `hostile` whose only .dist-info is victim's. Before,
    # it overwrote victim's METADATA and RECORD, and uninstalling victim then removed what
    # the forged RECORD listed.
    wheel = hostile.dist_info_of_another_project(tmp_path / "wheels")
    before = contents(target)
    one_paragraph_naming(install(wb, target, wheel, "index"), hostile.FILENAME,
                         "'victim-1.0.dist-info' is not for hostile 1.0")
    assert contents(target) == before
    wb("uninstall", "--python", target, hostile.VICTIM)
    assert installed(target) == {} and (target / "bin" / "python").exists()


def test_a_cached_wheel_served_under_another_name_is_refused(
        wb: Runner, target: Path, tmp_path: Path) -> None:
    # The same bytes as a wheel unpacked (and checked) earlier, now served as `hostile`: the
    # cache entry is keyed by content, so the name is checked again when it is staged.
    good = make_wheel(tmp_path / "good", "victim", "2.0")
    with serve_index([good.parent]) as server:
        wb("install", "--python", create_venv(tmp_path / "other"), "-i", server.url, "victim")
    forged = tmp_path / "forged"
    forged.mkdir()
    shutil.copy(good, forged / "hostile-2.0-py3-none-any.whl")
    before = contents(target)
    result = install(wb, target, forged / "hostile-2.0-py3-none-any.whl", "index")
    one_paragraph_naming(result, "hostile-2.0-py3-none-any.whl")
    assert contents(target) == before


@pytest.mark.parametrize("case", list(hostile.ACCEPTED), ids=hostile.case_id)
def test_an_oddity_accepted_by_design_installs(wb: Runner, target: Path, tmp_path: Path,
                                               case: hostile.Case) -> None:
    wheel = case(tmp_path / "wheels")
    wb("install", "--python", target, wheel)
    assert (site_packages(target) / hostile.ACCEPTED[case]).is_file()
    wb("uninstall", "--python", target, "hostile")
    assert "hostile" not in installed(target)
