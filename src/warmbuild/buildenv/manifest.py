"""The manifest (``warmbuild-env.json``): what a build env was made from, and its schema.

It is written with ``complete: false`` before a sync and ``true`` after, so an interrupted
sync is seen and repaired by the next run. :func:`parse_manifest` is the one place its shape
is checked; a manifest that does not check out is :class:`Damaged`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MANIFEST = "warmbuild-env.json"
MANIFEST_VERSION = 1


class Damaged(Exception):
    """A manifest or registry entry that cannot be trusted: unreadable, not JSON, or a field
    of the wrong shape. ``salvaged`` holds the fields that did check out, for readers that
    can use a partial answer (which tree it was; where an editable install may point here).
    """

    def __init__(self, problem: str, salvaged: Mapping[str, Any] | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.salvaged: dict[str, Any] = dict(salvaged or {})


@dataclass(frozen=True)
class Manifest:
    """A manifest whose every known field has the type warmbuild reads it as."""

    #: All of it, unknown keys too: what a run rewrites and ``env show`` prints.
    data: Mapping[str, Any]
    tree: str
    python: str
    interpreter: Mapping[str, str]
    complete: bool
    shared: bool
    requested: tuple[str, ...] | None
    resolved: Mapping[str, str]
    #: Each hook kind's ``get_requires_for_build_*`` answer, as kept (see ``plan``).
    extras: Mapping[str, tuple[str, ...]]
    #: The inputs each kind's answer was given for (:func:`plan.answer_basis`).
    extras_basis: Mapping[str, str]
    #: ``(prefix, dist)`` of editable installs that were built in this env.
    editables: tuple[tuple[str, str], ...]


def _path(v: object) -> bool:
    return isinstance(v, str) and "\0" not in v


def _strs(v: object) -> bool:
    return isinstance(v, list) and all(isinstance(x, str) for x in v)


def _str_map(v: object) -> bool:
    return isinstance(v, dict) and all(isinstance(x, str) for x in v.values())


def _time(v: object) -> bool:
    # Bounded so that every later datetime/arithmetic use of it works (no NaN, no year 1e9).
    return isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v < 1e11


def _event(v: object) -> bool:
    return (isinstance(v, dict) and _time(v.get("time")) and isinstance(v.get("event"), str)
            and _strs(v.get("changes", [])) and isinstance(v.get("reason", ""), str))


def _editable(v: object) -> bool:
    # The prefix and name are globbed for the marker: no relative or pattern-like values.
    return (isinstance(v, dict) and _path(v.get("prefix")) and str(v["prefix"]).startswith("/")
            and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", str(v.get("dist"))) is not None)


_FIELDS: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "version": (str(MANIFEST_VERSION), lambda v: type(v) is int and v == MANIFEST_VERSION),
    "tree": ("a path", _path),
    "python": ("a path", _path),
    "interpreter": ("an object of strings", _str_map),
    "complete": ("true or false", lambda v: isinstance(v, bool)),
    "shared": ("true or false", lambda v: isinstance(v, bool)),
    "backend": ("a string", lambda v: v is None or isinstance(v, str)),
    "declared": ("a list of strings", _strs),
    "requested": ("a list of strings", _strs),
    "resolved": ("an object of strings", _str_map),
    "extras": ("an object of lists of strings",
               lambda v: isinstance(v, dict) and all(_strs(x) for x in v.values())),
    "extras_basis": ("an object of strings", _str_map),
    "config_settings": ("an object", lambda v: isinstance(v, dict)),
    "env_vars": ("an object of strings", _str_map),
    "build_constraints": ("a string", lambda v: v is None or isinstance(v, str)),
    "created": ("a time", _time),
    "last_used": ("a time", _time),
    "history": ("a list of events", lambda v: isinstance(v, list) and all(map(_event, v))),
    "editables": ("a list of editable installs",
                  lambda v: isinstance(v, list) and all(map(_editable, v))),
}
_REQUIRED = ("version", "tree", "python", "interpreter", "complete")
_JSON_TYPES = {list: "an array", str: "a string", int: "a number", float: "a number",
               bool: "a boolean", type(None): "null"}


def parse_manifest(raw: bytes) -> Manifest:
    """The one place a manifest's shape is checked; :class:`Damaged` when it is off."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise Damaged("not UTF-8 text") from None
    except RecursionError:
        raise Damaged("not JSON (nested too deeply)") from None
    except ValueError as exc:
        raise Damaged(f"not JSON ({exc})" if raw.strip() else "empty") from None
    if not isinstance(data, dict):
        raise Damaged(f"not a JSON object but {_JSON_TYPES.get(type(data), 'something else')}")
    good = {k: data[k] for k, (_, check) in _FIELDS.items() if k in data and check(data[k])}
    for key, (expected, _check) in _FIELDS.items():
        if key in data and key not in good:
            raise Damaged(f"`{key}` is not {expected}", good)
        if key in _REQUIRED and key not in data:
            raise Damaged(f"`{key}` is missing", good)
    requested = data.get("requested")
    return Manifest(
        data, data["tree"], data["python"], data["interpreter"], data["complete"],
        data.get("shared", False), None if requested is None else tuple(requested),
        data.get("resolved", {}), {k: tuple(v) for k, v in data.get("extras", {}).items()},
        data.get("extras_basis", {}),
        tuple((e["prefix"], e["dist"]) for e in data.get("editables", [])))


def read_manifest(env_dir: Path) -> Manifest | None:
    """``None`` when there is no manifest (an env whose creation was cut short)."""
    try:
        raw = (env_dir / MANIFEST).read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise Damaged(f"cannot be read ({exc.strerror or exc})") from None
    return parse_manifest(raw)
