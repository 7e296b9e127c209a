"""The resolver's provider in-process, over a fake index and fake metadata (resolve.py).

``FakeIndex`` plays both injected functions: the finder (``name`` or URL -> the files an
index would list, as ``DistFile`` values) and the metadata reader (a candidate -> its
``Requires-Dist`` and ``Requires-Python``). Nothing is downloaded or built.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import pytest
import resolvelib
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.tags import Tag
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from warmbuild.dists import DistFile
from warmbuild.errors import WarmbuildError
from warmbuild.installed import InstalledDist
from warmbuild.resolve import (
    Candidate,
    Dep,
    Policy,
    Provider,
    Resolution,
    dep_from_requirement,
    resolve,
)

ANY = Tag("py3", "none", "any")
CP311 = Tag("cp311", "cp311", "manylinux_2_17_x86_64")
WINDOWS = Tag("cp311", "cp311", "win_amd64")
MARKERS = {
    "implementation_name": "cpython", "implementation_version": "3.11.7", "os_name": "posix",
    "platform_machine": "x86_64", "platform_python_implementation": "CPython",
    "platform_release": "6.1.0", "platform_system": "Linux", "platform_version": "#1 SMP",
    "python_full_version": "3.11.7", "python_version": "3.11", "sys_platform": "linux",
}


class FakeIndex:
    """``add("a", "1.0", requires=[...])`` offers a wheel of a 1.0 with that metadata."""

    def __init__(self) -> None:
        self.files: dict[str, list[DistFile]] = {}
        self.metadata: dict[tuple[str, Version], tuple[tuple[Requirement, ...],
                                                        SpecifierSet | None]] = {}
        self.metadata_reads: list[str] = []

    def add(self, name: str, version: str, *, requires: Sequence[str] = (),
            requires_python: str | None = None, tags: Iterable[Tag] = (ANY,),
            kind: str = "wheel", yanked: str | None = None,
            listed_requires_python: str | None = None) -> DistFile:
        key = canonicalize_name(name)
        suffix = "-py3-none-any.whl" if kind == "wheel" else ".tar.gz"
        filename = f"{key.replace('-', '_')}-{version}{suffix}"
        file = DistFile(
            filename=filename, url=f"https://index.example/files/{filename}", name=key,
            version=Version(version), kind=kind,  # type: ignore[arg-type]
            tags=frozenset(tags) if kind == "wheel" else frozenset(), yanked=yanked,
            requires_python=SpecifierSet(listed_requires_python)
            if listed_requires_python else None)
        self.files.setdefault(key, []).append(file)
        self.metadata[key, Version(version)] = (
            tuple(Requirement(r) for r in requires),
            SpecifierSet(requires_python) if requires_python else None)
        return file

    def find(self, name_or_url: str) -> Sequence[DistFile]:
        if "://" in name_or_url:
            return [f for files in self.files.values() for f in files if f.url == name_or_url]
        return list(self.files.get(name_or_url, []))

    def read(self, candidate: Candidate) -> tuple[tuple[Requirement, ...], SpecifierSet | None]:
        self.metadata_reads.append(str(candidate))
        return self.metadata[candidate.name, candidate.version]


def installed_dist(name: str, version: str) -> InstalledDist:
    key = canonicalize_name(name)
    return InstalledDist(key, name, Version(version),
                         Path(f"/venv/site-packages/{key}-{version}.dist-info"))


def run(index: FakeIndex, *requirements: str, pre: bool = False,
        upgrade: Iterable[str] = (), installed: Iterable[InstalledDist] = (),
        constraints: Mapping[str, str] | None = None, no_deps: bool = False,
        reinstall: bool = False) -> Resolution:
    policy = Policy(tags=(CP311, ANY), python_version=Version("3.11.7"), markers=MARKERS,
                    pre=pre, upgrade=frozenset(canonicalize_name(n) for n in upgrade),
                    no_deps=no_deps, reinstall=reinstall)
    have: dict[NormalizedName, InstalledDist] = {d.name: d for d in installed}
    pins = {canonicalize_name(k): SpecifierSet(v) for k, v in (constraints or {}).items()}
    provider = Provider(policy, index.find, index.read, have, pins)
    return resolve(provider, [dep_from_requirement(Requirement(r), origin="command line")
                              for r in requirements])


def chosen(resolution: Resolution) -> dict[str, str]:
    return {c.name: str(c.version) for c in resolution.candidates}


def test_newest_compatible_version_is_chosen() -> None:
    index = FakeIndex()
    index.add("demo", "1.0")
    index.add("demo", "2.0")
    index.add("demo", "2.5", yanked="broken upload")
    index.add("demo", "3.0", listed_requires_python=">=3.12")
    index.add("demo", "4.0", tags=[WINDOWS])
    index.add("demo", "5.0b1")
    resolution = run(index, "demo")
    (candidate,) = resolution.candidates
    assert (candidate.name, candidate.version) == ("demo", Version("2.0"))
    assert candidate.file is not None and candidate.file.filename == "demo-2.0-py3-none-any.whl"
    assert chosen(run(index, "demo<2")) == {"demo": "1.0"}
    # A yanked file is still chosen when pinned exactly (PEP 592); --pre allows 5.0b1.
    assert chosen(run(index, "demo==2.5")) == {"demo": "2.5"}
    assert chosen(run(index, "demo", pre=True)) == {"demo": "5.0b1"}


def test_best_file_of_a_version_by_the_targets_tag_order() -> None:
    index = FakeIndex()
    sdist = index.add("demo", "1.0", kind="sdist")
    generic = index.add("demo", "1.0")
    assert run(index, "demo").candidates[0].file == generic
    index.files["demo"].remove(generic)
    assert run(index, "demo").candidates[0].file == sdist
    specific = index.add("demo", "1.0", tags=[CP311])
    index.files["demo"].append(generic)
    assert run(index, "demo").candidates[0].file == specific


def test_dependencies_come_before_their_dependents() -> None:
    index = FakeIndex()
    index.add("app", "1.0", requires=["lib>=2", "util"])
    index.add("lib", "1.0")
    index.add("lib", "2.1", requires=["util<2"])
    index.add("util", "1.5")
    index.add("util", "2.0")
    resolution = run(index, "app")
    assert chosen(resolution) == {"app": "1.0", "lib": "2.1", "util": "1.5"}
    order = [c.name for c in resolution.candidates]
    assert order.index("util") < order.index("lib") < order.index("app")


def test_extras_pull_in_the_base_at_the_same_version() -> None:
    index = FakeIndex()
    index.add("pkg", "1.0", requires=['helper==1.0; extra == "cli"', "core"])
    index.add("pkg", "2.0", requires=['helper==2.0; extra == "cli"', "core"])
    index.add("helper", "1.0")
    index.add("helper", "2.0")
    index.add("core", "1.0")
    index.add("other", "1.0", requires=["pkg<2"])
    # `other` holds the base back to 1.0: the extra must follow it, with 1.0's extra deps.
    resolution = run(index, "pkg[cli]", "other")
    assert chosen(resolution) == {"pkg": "1.0", "helper": "1.0", "core": "1.0", "other": "1.0"}
    # Extras fold into one candidate per project.
    assert [c.extras for c in resolution.candidates] == [frozenset()] * 4
    # Without the extra, its dependency is not pulled in.
    assert chosen(run(index, "pkg")) == {"pkg": "2.0", "core": "1.0"}


def test_the_extra_candidate_depends_on_its_base_pinned() -> None:
    index = FakeIndex()
    index.add("pkg", "2.0", requires=['helper; extra == "cli"', 'core; extra != "cli"'])
    policy = Policy(tags=(ANY,), python_version=Version("3.11"), markers=MARKERS)
    provider = Provider(policy, index.find, index.read, {}, {})
    deps = provider.get_dependencies(Candidate(canonicalize_name("pkg"), Version("2.0"),
                                               frozenset({"cli"})))
    provider.close()
    # The base at the same version, and only the requirements the extra adds.
    assert [str(d) for d in deps] == ["pkg==2.0", "helper"]


def test_installed_version_is_kept_unless_upgraded() -> None:
    index = FakeIndex()
    index.add("demo", "1.0")
    index.add("demo", "2.0")
    have = [installed_dist("Demo", "1.0")]
    (kept,) = run(index, "demo", installed=have).candidates
    assert kept.version == Version("1.0")
    assert kept.file is None and kept.installed == have[0]
    (upgraded,) = run(index, "demo", installed=have, upgrade=["demo"]).candidates
    assert upgraded.version == Version("2.0") and upgraded.file is not None
    # An installed version the requirement excludes is not preferred either.
    assert chosen(run(index, "demo>1", installed=have)) == {"demo": "2.0"}
    # With --reinstall the installed copy is never the candidate: a file is.
    (again,) = run(index, "demo==1.0", installed=have, reinstall=True).candidates
    assert again.installed is None and again.file is not None


def test_upgrade_of_one_name_keeps_installed_dependencies() -> None:
    index = FakeIndex()
    index.add("app", "1.0", requires=["lib"])
    index.add("app", "2.0", requires=["lib"])
    index.add("lib", "1.0")
    index.add("lib", "2.0")
    have = [installed_dist("app", "1.0"), installed_dist("lib", "1.0")]
    # pip's only-if-needed strategy: `-U app` does not upgrade lib.
    assert chosen(run(index, "app", installed=have, upgrade=["app"])) == {
        "app": "2.0", "lib": "1.0"}
    assert chosen(run(index, "app", installed=have, upgrade=["app", "lib"])) == {
        "app": "2.0", "lib": "2.0"}


def test_markers_are_evaluated_for_the_target() -> None:
    index = FakeIndex()
    index.add("app", "1.0", requires=[
        'winonly; sys_platform == "win32"',
        'backport; python_version < "3.11"',
        'linuxonly; sys_platform == "linux" and python_version >= "3.11"',
    ])
    index.add("winonly", "1.0")
    index.add("backport", "1.0")
    index.add("linuxonly", "1.0")
    assert chosen(run(index, "app")) == {"app": "1.0", "linuxonly": "1.0"}


def test_requires_python_from_metadata_backtracks_to_an_older_version() -> None:
    # As pip does: the newest version whose Requires-Python admits the target.
    index = FakeIndex()
    index.add("demo", "1.0", requires_python=">=3.8")
    index.add("demo", "2.0", requires_python=">=3.12")
    assert chosen(run(index, "demo")) == {"demo": "1.0"}


def test_constraints_narrow_without_adding() -> None:
    index = FakeIndex()
    index.add("demo", "1.0")
    index.add("demo", "2.0")
    index.add("unused", "1.0")
    assert chosen(run(index, "demo", constraints={"demo": "<2", "unused": "==1.0"})) == {
        "demo": "1.0"}


def test_no_deps_reads_no_metadata() -> None:
    index = FakeIndex()
    index.add("app", "1.0", requires=["lib"])
    assert chosen(run(index, "app", no_deps=True)) == {"app": "1.0"}
    assert index.metadata_reads == []


def test_direct_reference_is_the_only_candidate() -> None:
    index = FakeIndex()
    index.add("demo", "1.0")
    old = index.files["demo"][0]
    index.add("demo", "2.0")
    (candidate,) = run(index, f"demo @ {old.url}").candidates
    assert (candidate.version, candidate.file, candidate.url) == (Version("1.0"), old, old.url)
    with pytest.raises(WarmbuildError, match="that file is a distribution of `demo`, "
                                               "not of `other`"):
        run(index, f"other @ {old.url}")


def test_a_conflict_raises_resolution_impossible_naming_both_sides() -> None:
    index = FakeIndex()
    index.add("left", "1.0", requires=["shared==1.0"])
    index.add("right", "1.0", requires=["shared==2.0"])
    index.add("shared", "1.0")
    index.add("shared", "2.0")
    with pytest.raises(resolvelib.ResolutionImpossible) as caught:
        run(index, "left", "right")
    causes = {(str(c.requirement), str(c.parent)) for c in caught.value.causes}
    assert causes == {("shared==1.0", "left 1.0"), ("shared==2.0", "right 1.0")}


def test_nothing_matching_raises_resolution_impossible() -> None:
    index = FakeIndex()
    index.add("demo", "1.0")
    with pytest.raises(resolvelib.ResolutionImpossible) as caught:
        run(index, "demo>=3")
    (cause,) = caught.value.causes
    assert cause.requirement == Dep(canonicalize_name("demo"),
                                    specifier=SpecifierSet(">=3"))
    assert cause.parent is None
