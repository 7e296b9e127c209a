"""The resolver's preferences in-process (preference.py, resolve.Provider): which requirement
is decided next, and which version is tried first, over the fake index of test_resolve_unit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from test_resolve_unit import ANY, MARKERS, FakeIndex, chosen, run
from warmbuild.preference import PROMOTE_AFTER, PYTHON
from warmbuild.resolve import Candidate, Dep, Policy, Provider, dep_from_requirement


class Info(NamedTuple):
    """resolvelib's RequirementInformation."""

    requirement: Dep
    parent: Candidate | None


def dep(text: str) -> Dep:
    return dep_from_requirement(Requirement(text), origin="test")


def provider(index: FakeIndex | None = None, *, constraints: dict[str, str] | None = None,
             requested: Sequence[str] = ()) -> Provider:
    index = index or FakeIndex()
    policy = Policy(tags=(ANY,), python_version=Version("3.11.7"), markers=MARKERS)
    made = Provider(policy, index.find, index.read, {}, {
        canonicalize_name(k): SpecifierSet(v) for k, v in (constraints or {}).items()})
    made.preferences.requested([dep(r) for r in requested])
    return made


def ranked(made: Provider, requirements: dict[str, list[str]]) -> list[str]:
    """The identifiers in the order ``get_preference`` puts them."""
    information = {key: [Info(dep(text), None) for text in texts]
                   for key, texts in requirements.items()}

    def key(identifier: str) -> Any:
        return made.get_preference(identifier, {}, {}, {k: iter(v) for k, v in
                                                        information.items()}, [])
    return sorted(requirements, key=key)


def test_pins_then_upper_bounds_then_the_users_order_then_any_specifier() -> None:
    made = provider(requested=["zeta", "alpha"])
    order = ranked(made, {
        "free": ["free"], "lower": ["lower>=1"], "alpha": ["alpha"], "zeta": ["zeta"],
        "bounded": ["bounded<3"], "compatible": ["compatible~=1.2"], "wild": ["wild==1.*"],
        "pinned": ["pinned==1.0"], "direct": ["direct @ https://example.org/direct-1.0.tar.gz"],
    })
    assert order == ["direct", "pinned", "bounded", "compatible", "wild", "zeta", "alpha",
                     "lower", "free"]


def test_a_constraint_counts_as_a_pin_or_a_bound() -> None:
    made = provider(constraints={"late": "==2.0", "later": "<3"})
    assert ranked(made, {"early": ["early>=1"], "late": ["late"], "later": ["later"]}) == [
        "late", "later", "early"]


def test_an_extra_is_ordered_with_its_project() -> None:
    made = provider(requested=["web[async]", "db"])
    assert ranked(made, {"db": ["db"], "web[async]": ["web[async]"], "web": ["web==1.0"]}) == [
        "web", "web[async]", "db"]


def test_narrowing_python_alone_then_the_conflict_then_the_promoted() -> None:
    made = provider()
    names = ["a", "b", "c", PYTHON]
    assert list(made.narrow_requirement_selection(names, {}, {}, {}, [])) == [PYTHON]
    parent = Candidate(canonicalize_name("c"), Version("1.0"))
    conflict = [Info(dep("b<2"), parent), Info(dep("b>=2"), None)]
    # Both the requirement (b) and its parent (c) are in the conflict; a is not.
    assert list(made.narrow_requirement_selection(names[:3], {}, {}, {}, conflict)) == ["b", "c"]
    assert list(made.narrow_requirement_selection(names[:3], {}, {}, {}, [])) == ["a", "b", "c"]
    for _ in range(PROMOTE_AFTER):
        made.narrow_requirement_selection(names[:3], {"c": parent}, {}, {}, conflict)
    # b kept turning up undecided in conflicts: it goes first from now on, and ranks first;
    # c was decided (in the resolutions) each time, so it is not promoted.
    assert made.preferences.promoted == {"b"}
    assert list(made.narrow_requirement_selection(names[:3], {}, {}, {}, [])) == ["b"]
    assert ranked(made, {"a": ["a==1"], "b": ["b"]}) == ["b", "a"]


def walk_scenario(index: FakeIndex, tops: int, fillers: int) -> None:
    """The shape of issue 11's `moto[all]` set: every newer `top` needs a `validator>=2`
    whose `spec` conflicts with the user's pin of `pathable` (only `top` 1.0 works), and
    each `top` also pulls in `fillers` small packages and `regex`, whose older releases are
    sdists. Deciding in the order requirements appear, the resolver keeps re-pinning the
    last thing it pinned (`regex`) and walks it back through every release."""
    names = [f"f{i:02d}" for i in range(fillers)]
    for name in names:
        index.add(name, "1.0")
    for i in range(1, 31):
        index.add("regex", f"{i}.0", kind="sdist" if i < 25 else "wheel")
    for i in range(1, tops + 1):
        index.add("top", f"{i}.0", requires=["validator>=2" if i > 1 else "validator<2",
                                             *names, "regex"])
    index.add("validator", "1.0")
    for i in range(2, 5):
        index.add("validator", f"{i}.0", requires=["spec"])
    for i in range(1, 4):
        index.add("spec", f"{i}.0", requires=["pathable<0.5"])
    index.add("pathable", "0.4")
    index.add("pathable", "0.6")


def test_a_deep_conflict_does_not_walk_back_an_unrelated_package() -> None:
    index = FakeIndex()
    walk_scenario(index, tops=12, fillers=6)
    result = chosen(run(index, "top", "pathable==0.6"))
    assert (result["top"], result["validator"], result["regex"]) == ("1.0", "1.0", "30.0")
    regex = {r for r in index.metadata_reads if r.startswith("regex ")}
    # Before pip's heuristics this read all 30 releases (24 sdists) and 4265 metadata in all.
    assert regex <= {"regex 30.0", "regex 29.0", "regex 28.0", "regex 27.0"}
    assert len(index.metadata_reads) < 400


def test_cheap_metadata_first_only_while_backtracking() -> None:
    index = FakeIndex()
    index.add("lib", "1.0", requires=["base<2"])
    index.add("lib", "2.0", kind="sdist", requires=["base<2"])
    index.add("lib", "3.0", requires=["base>=2"])
    index.add("lib", "4.0", kind="sdist", requires=["base>=2"])
    index.add("base", "1.0")
    index.add("base", "2.0")
    # The first choice is the newest, an sdist or not (as pip chooses).
    assert chosen(run(index, "lib")) == {"lib": "4.0", "base": "2.0"}
    made = provider(index)
    newest = Candidate(canonicalize_name("lib"), Version("4.0"))
    tried = made.find_matches("lib", {"lib": iter([dep("lib")])}, {"lib": iter([newest])})
    made.close()
    # Walking back: the wheels (3.0, 1.0) before the sdist that needs its backend (2.0).
    assert callable(tried)
    assert [str(c.version) for c in tried()] == ["3.0", "1.0", "2.0"]
    index.metadata_reads.clear()
    assert chosen(run(index, "lib", "base<2")) == {"lib": "1.0", "base": "1.0"}
    assert "lib 2.0" not in index.metadata_reads
