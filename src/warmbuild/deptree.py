"""`warmbuild tree`: the installed distributions as a dependency tree, as `uv pip tree` draws it.

Pure: installed distributions in, the tree's lines out. The roots are the distributions no
other one requires (with ``reverse``: those that require nothing, each followed by what
requires it); a distribution already drawn with its children is drawn again as
``name vX (*)`` without them; ``depth`` 0 shows the roots only. Requirements count as in
`check` (the target's markers, no extras), and only installed ones are drawn. Unlike uv,
distributions that only a cycle reaches are drawn too, as roots after the others.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from packaging.utils import NormalizedName, canonicalize_name

from .check import Dist, requirements_of

#: uv's default depth: in practice, all of it.
MAX_DEPTH = 255


@dataclass(frozen=True)
class Graph:
    dists: Mapping[NormalizedName, Dist]
    #: Each distribution's installed requirements (or, reversed, its dependents), in the
    #: order of its metadata.
    edges: Mapping[NormalizedName, tuple[NormalizedName, ...]]


def graph(dists: Sequence[Dist], markers: Mapping[str, str], *,
          reverse: bool = False) -> Graph:
    by_name = {d.name: d for d in sorted(dists, key=lambda d: d.name)}
    forward: dict[NormalizedName, tuple[NormalizedName, ...]] = {}
    for name, dist in by_name.items():
        try:
            reqs = requirements_of(dist, markers)
        except ValueError:
            reqs = ()  # `check` reports broken metadata; the tree draws what it can
        wanted = (canonicalize_name(r.name) for r in reqs)
        forward[name] = tuple(dict.fromkeys(n for n in wanted if n in by_name and n != name))
    if not reverse:
        return Graph(by_name, forward)
    backward: dict[NormalizedName, list[NormalizedName]] = {n: [] for n in by_name}
    for name, deps in forward.items():
        for dep in deps:
            backward[dep].append(name)
    return Graph(by_name, {n: tuple(v) for n, v in backward.items()})


def roots(g: Graph) -> tuple[NormalizedName, ...]:
    """Those no other distribution points to, by name."""
    pointed = {n for targets in g.edges.values() for n in targets}
    return tuple(n for n in g.dists if n not in pointed)


def render(g: Graph, starts: Sequence[NormalizedName] | None = None, *,
           depth: int = MAX_DEPTH) -> tuple[str, ...]:
    """The tree's lines from ``starts`` (default: the roots, then what only cycles reach);
    with ``starts`` given, a blank line separates their trees, as uv's ``--package``."""
    drawn: set[NormalizedName] = set()
    lines: list[str] = []
    if starts is not None:
        for i, name in enumerate(starts):
            lines.extend([""] if i else [])
            lines.extend(_visit(g, name, drawn, [], depth))
        return tuple(lines)
    # Roots first, then, in name order, what no root reaches (only cycles lead there).
    reached: set[NormalizedName] = set()
    for name in (*roots(g), *g.dists):
        if name not in reached:
            lines.extend(_visit(g, name, drawn, [], depth))
            reached |= _reachable(g, name)
    return tuple(lines)


def _reachable(g: Graph, start: NormalizedName) -> set[NormalizedName]:
    found, todo = {start}, [start]
    while todo:
        for child in g.edges[todo.pop()]:
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _visit(g: Graph, name: NormalizedName, drawn: set[NormalizedName],
           path: list[NormalizedName], depth: int) -> list[str]:
    if len(path) > depth:
        return []
    line = f"{name} v{g.dists[name].version}"
    children = g.edges[name]
    if name in drawn or name in path:
        return [f"{line} (*)" if children else line]
    drawn.add(name)
    lines = [line]
    path.append(name)
    for i, child in enumerate(children):
        last = i == len(children) - 1
        top, rest = ("└── ", "    ") if last else ("├── ", "│   ")
        sub = _visit(g, child, drawn, path, depth)
        lines.extend((top if j == 0 else rest) + text for j, text in enumerate(sub))
    path.pop()
    return lines
