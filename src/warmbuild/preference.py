"""Which requirement the resolver decides next, and which version of it it tries first.

resolvelib (1.1+) asks the provider twice per round. ``narrow_requirement_selection`` may cut
the undecided identifiers down to those that matter now (once per round, linear); then
``get_preference`` ranks what is left (once per identifier). We follow pip's heuristics,
which is also what keeps our answers equal to pip's where several solutions exist:

1. the virtual ``<python>`` alone, whenever it is undecided;
2. the identifiers in the conflict that made the resolver backtrack last (requirement and
   parent): the conflict has to be settled before anything else can succeed;
3. identifiers that kept turning up undecided in conflicts (``PROMOTE_AFTER`` times): they
   go first from then on, so their bounds act before other packages pick versions. This is
   what stops the resolver from walking an unrelated package back through old releases
   (uv#8157 describes the same failure and cure);
4. then, ranked: direct URLs, ``==`` pins, upper bounds (``<``, ``<=``, ``~=``, ``==x.*``),
   the order the user named things in, any specifier at all, and the name.

Unlike pip, ``-c`` constraints count as pins and bounds here: a project the user constrained
to one version has one candidate, and deciding it early costs nothing.

Candidate order within an identifier stays newest first. Once the resolver has rejected a
version of a project (it is backtracking through it), versions whose metadata is cheap (a
wheel, possibly with a PEP 658 file, or what is installed) are tried before versions that
only have an sdist, which would have to be prepared by its build backend: uv's preference
for wheels, limited to backtracking so that a first choice stays the newest, as in pip.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName

#: How often an undecided identifier may appear in backtracking conflicts before it is
#: decided first (pip uses the same number).
PROMOTE_AFTER = 5

PYTHON = "<python>"

Preference = tuple[bool, bool, bool, bool, float, bool, str]


class _Requirement(Protocol):
    @property
    def key(self) -> str: ...

    @property
    def name(self) -> NormalizedName: ...

    @property
    def specifier(self) -> SpecifierSet: ...

    @property
    def url(self) -> str | None: ...


class Preferences:
    """The provider's ordering state: the user's order and conflict counts of one run."""

    def __init__(self, constraints: Mapping[NormalizedName, SpecifierSet] | None = None) -> None:
        self._constraints = constraints or {}
        self._requested: dict[str, int] = {}
        self._conflicts: Counter[str] = Counter()
        self._promoted: set[str] = set()

    def requested(self, requirements: Iterable[_Requirement]) -> None:
        """The user's requirements, in the order given (earlier is decided earlier)."""
        for index, requirement in enumerate(requirements, start=len(self._requested)):
            for key in (requirement.key, requirement.name):
                self._requested.setdefault(key, index)

    @property
    def promoted(self) -> frozenset[str]:
        return frozenset(self._promoted)

    def narrow(self, identifiers: Iterable[str], resolutions: Mapping[str, Any],
               backtrack_causes: Sequence[Any]) -> list[str]:
        """Steps 1 to 3 of the module docstring; never empty when ``identifiers`` is not."""
        in_conflict = self._note_conflict(backtrack_causes, resolutions)
        identifiers = list(identifiers)
        if PYTHON in identifiers:
            return [PYTHON]
        for group in (in_conflict, self._promoted):
            narrowed = [i for i in identifiers if i in group]
            if narrowed:
                return narrowed
        return identifiers

    def _note_conflict(self, causes: Sequence[Any], resolutions: Mapping[str, Any]) -> set[str]:
        keys: set[str] = set()
        for cause in causes:
            keys.add(cause.requirement.key)
            if cause.parent is not None:
                keys.add(cause.parent.key)
        for key in keys - resolutions.keys():
            self._conflicts[key] += 1
            if self._conflicts[key] >= PROMOTE_AFTER:
                self._promoted.add(key)
        return keys

    def key(self, identifier: str, requirements: Sequence[_Requirement]) -> Preference:
        """Step 4 of the module docstring: lower sorts first."""
        specifiers = [s for r in requirements for s in r.specifier]
        if requirements:
            specifiers += list(self._constraints.get(requirements[0].name, SpecifierSet()))
        pinned = any(s.operator in ("==", "===") and "*" not in s.version for s in specifiers)
        bounded = any(s.operator in ("<", "<=", "~=") or (s.operator == "==" and "*" in s.version)
                      for s in specifiers)
        direct = any(r.url for r in requirements)
        return (identifier not in self._promoted, not direct, not pinned, not bounded,
                self._requested.get(identifier, self._requested.get(
                    identifier.partition("[")[0], float("inf"))),
                not specifiers, identifier)


class _Ranked(Protocol):
    @property
    def cheap(self) -> bool: ...


C = TypeVar("C", bound=_Ranked)


def cheap_first(candidates: Sequence[C]) -> list[C]:
    """Candidates with cheap metadata before those needing an sdist prepared, each group in
    its given (newest first) order."""
    return [c for c in candidates if c.cheap] + [c for c in candidates if not c.cheap]
