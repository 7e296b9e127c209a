"""-r pyproject.toml, PEP 735 dependency groups and --extra (projectreqs.py): in-process."""

from __future__ import annotations

from pathlib import Path

import pytest

from warmbuild.errors import WarmbuildError
from warmbuild.projectreqs import group_requirements, project_requirements, tree_extras

PYPROJECT = """\
[project]
name = "Demo"
version = "1"
dependencies = ["six>=1", "attrs ; python_version >= '3.8'"]

[project.optional-dependencies]
Cli = ["click"]
yaml = ["pyyaml"]
all = ["demo[cli,yaml]", "rich"]

[dependency-groups]
Test = ["pytest", {include-group = "lint"}]
lint = ["ruff==0.1", {include-group = "types"}]
types = ["mypy"]
loop-a = [{include-group = "loop-b"}]
loop-b = [{include-group = "loop-a"}]
bad = [3]
"""


@pytest.fixture
def pyproject(tmp_path: Path) -> Path:
    path = tmp_path / "pyproject.toml"
    path.write_text(PYPROJECT)
    return path


def names(reqs: object) -> list[str]:
    return [str(r.requirement) for r in reqs.requirements]  # type: ignore[attr-defined]


def test_project_dependencies_and_extras(pyproject: Path) -> None:
    assert names(project_requirements(pyproject)) == [
        "six>=1", 'attrs; python_version >= "3.8"']
    assert names(project_requirements(pyproject, ["CLI"]))[2:] == ["click"]
    # `all` names the project itself: its extras are expanded, not looked up on an index.
    assert names(project_requirements(pyproject, ["all"]))[2:] == ["rich", "click", "pyyaml"]
    assert sorted(names(project_requirements(pyproject, all_extras=True))[2:]) == [
        "click", "pyyaml", "rich"]
    sources = {r.source for r in project_requirements(pyproject).requirements}
    assert sources == {str(pyproject)}


def test_unknown_extra_and_dynamic_dependencies_are_errors(pyproject: Path,
                                                          tmp_path: Path) -> None:
    with pytest.raises(WarmbuildError) as caught:
        project_requirements(pyproject, ["gui"])
    assert caught.value.message == f"{pyproject}: the project has no extra `gui`"
    assert caught.value.cause == "its extras: all, cli, yaml"
    dynamic = tmp_path / "dyn" / "pyproject.toml"
    dynamic.parent.mkdir()
    dynamic.write_text('[project]\nname = "d"\ndynamic = ["version", "dependencies"]\n')
    with pytest.raises(WarmbuildError, match=r"\[project\] dependencies is dynamic") as err:
        project_requirements(dynamic)
    assert err.value.hint == f"install the project itself: `warmbuild install {dynamic.parent}`"
    dynamic.write_text("[build-system]\nrequires = []\n")
    with pytest.raises(WarmbuildError, match=r"has no \[project\] table"):
        project_requirements(dynamic)


def test_groups_include_groups_and_names_are_normalized(pyproject: Path,
                                                        tmp_path: Path) -> None:
    assert names(group_requirements("test", tmp_path)) == ["pytest", "ruff==0.1", "mypy"]
    elsewhere = tmp_path / "other"
    elsewhere.mkdir()
    assert names(group_requirements("../pyproject.toml:Types", elsewhere)) == ["mypy"]
    assert names(group_requirements(f"{pyproject}:lint", elsewhere)) == ["ruff==0.1", "mypy"]
    reqs = group_requirements("types", tmp_path).requirements
    assert reqs[0].source == f"{pyproject} [dependency-groups]"


def test_group_errors_name_the_group_and_file(pyproject: Path, tmp_path: Path) -> None:
    with pytest.raises(WarmbuildError) as caught:
        group_requirements("docs", tmp_path)
    assert caught.value.message == f"{pyproject}: no dependency group `docs`"
    assert caught.value.cause is not None and "lint, loop-a" in caught.value.cause
    with pytest.raises(WarmbuildError, match="includes itself") as cycle:
        group_requirements("loop-a", tmp_path)
    assert cycle.value.cause == "loop-a -> loop-b -> loop-a"
    with pytest.raises(WarmbuildError, match="neither a requirement string"):
        group_requirements("bad", tmp_path)
    with pytest.raises(WarmbuildError, match=r"no .*pyproject\.toml"):
        group_requirements("test", tmp_path / "nowhere")
    with pytest.raises(WarmbuildError, match=r"setup\.cfg is not a pyproject\.toml"):
        group_requirements("setup.cfg:test", tmp_path)


def test_tree_extras_are_checked_against_provides_extra() -> None:
    text = "Metadata-Version: 2.1\nName: t\nVersion: 1\nProvides-Extra: cli\nProvides-Extra: yaml\n"
    assert tree_extras(text, ["CLI"], False, "./t") == {"cli"}
    assert tree_extras(text, [], True, "./t") == {"cli", "yaml"}
    with pytest.raises(WarmbuildError, match=r"^\./t has no extra `gui`"):
        tree_extras(text, ["gui"], False, "./t")


def test_pyproject_nested_in_a_requirements_file_is_refused(pyproject: Path,
                                                           tmp_path: Path) -> None:
    from warmbuild.reqfile import read_requirements_file

    reqs = tmp_path / "requirements.txt"
    reqs.write_text("-r pyproject.toml\n")
    with pytest.raises(WarmbuildError) as caught:
        read_requirements_file(reqs)
    assert caught.value.message == (f"{reqs}:1: -r pyproject.toml: a pyproject.toml is read "
                                    "as requirements only when named on the command line")
