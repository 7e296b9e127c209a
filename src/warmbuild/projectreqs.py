"""Requirements read from a ``pyproject.toml``: ``-r pyproject.toml``, ``--group``, ``--extra``.

- ``-r pyproject.toml`` installs ``[project].dependencies`` (as ``uv pip install -r`` does),
  plus ``[project.optional-dependencies]`` for each ``--extra`` (all with ``--all-extras``);
  an extra that names the project itself (``all = ["me[a,b]"]``) is expanded in place.
- ``--group NAME`` installs a PEP 735 dependency group of the ``pyproject.toml`` in the
  working directory, ``--group path/to/pyproject.toml:NAME`` of another (pip 25.1's form);
  ``{include-group = "other"}`` entries are followed, cycles are an error.
- ``--extra``/``--all-extras`` also apply to source trees named on the command line, checked
  against the extras their metadata provides.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import NormalizedName, canonicalize_name

from .errors import WarmbuildError
from .reqfile import RequirementSet, UserRequirement, parse_requirement


def is_pyproject(path: Path) -> bool:
    return path.name == "pyproject.toml"


def _load(path: Path) -> dict[str, Any]:
    import tomllib  # a no-op install of plain requirements reads no TOML

    try:
        with path.expanduser().open("rb") as f:
            return tomllib.load(f)
    except OSError as exc:
        raise WarmbuildError(f"cannot read {path}", cause=exc.strerror) from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise WarmbuildError(f"{path} is not valid TOML", cause=str(exc)) from exc


def project_requirements(path: Path, extras: Sequence[str] = (),
                         all_extras: bool = False) -> RequirementSet:
    """``-r pyproject.toml``: the project's dependencies and the extras asked for."""
    path = path.expanduser().resolve()
    project = _load(path).get("project")
    if not isinstance(project, dict):
        raise WarmbuildError(f"{path} has no [project] table to read dependencies from",
                             hint="name the project's directory to install the project")
    dynamic = {str(d) for d in project.get("dynamic", [])}
    if "dependencies" in dynamic or ("optional-dependencies" in dynamic
                                     and (extras or all_extras)):
        field = "dependencies" if "dependencies" in dynamic else "optional-dependencies"
        raise WarmbuildError(
            f"{path}: [project] {field} is dynamic (the build backend computes it), so it "
            "cannot be read as a list of requirements",
            hint=f"install the project itself: `warmbuild install {path.parent}`")
    optional = {canonicalize_name(k): v for k, v in
                _table(project.get("optional-dependencies", {}), path,
                       "[project.optional-dependencies]").items()}
    wanted = list(optional) if all_extras else [_known(e, optional, path) for e in extras]
    own = canonicalize_name(str(project.get("name", "")))
    texts = _strings(project.get("dependencies", []), path, "[project] dependencies")
    texts += _expand_extras(wanted, optional, own, path)
    return RequirementSet(requirements=_parse(texts, path), files=(path,))


def _expand_extras(wanted: Sequence[NormalizedName],
                   optional: Mapping[NormalizedName, object],
                   own: str, path: Path) -> list[str]:
    """The extras' requirements; ``own[x]`` (the project itself) pulls in extra ``x``."""
    result: list[str] = []
    todo, seen = list(wanted), set()
    while todo:
        extra = todo.pop(0)
        if extra in seen:
            continue
        seen.add(extra)
        for text in _strings(optional[extra], path, f"optional-dependencies.{extra}"):
            req = _requirement(text, path)
            if own and canonicalize_name(req.name) == own and req.url is None:
                todo += [_known(e, optional, path) for e in sorted(req.extras)]
            else:
                result.append(text)
    return result


def _known(extra: str, optional: Mapping[NormalizedName, object], path: Path
           ) -> NormalizedName:
    name = canonicalize_name(extra)
    if name not in optional:
        raise WarmbuildError(f"{path}: the project has no extra `{extra}`",
                             cause=f"its extras: {', '.join(sorted(optional)) or '(none)'}")
    return name


def group_requirements(spec: str, cwd: Path) -> RequirementSet:
    """``--group [path/to/pyproject.toml:]NAME`` (PEP 735)."""
    where, sep, name = spec.rpartition(":")
    path = (cwd / where).resolve() if sep and where else cwd / "pyproject.toml"
    if not is_pyproject(path):
        raise WarmbuildError(f"--group {spec}: {path.name} is not a pyproject.toml",
                             hint="write --group NAME or --group path/to/pyproject.toml:NAME")
    if not path.is_file():
        raise WarmbuildError(f"--group {spec}: no {path}",
                             hint="run in the project's directory, or write --group "
                                    "path/to/pyproject.toml:NAME")
    groups = {canonicalize_name(k): v for k, v in
              _table(_load(path).get("dependency-groups", {}), path,
                     "[dependency-groups]").items()}
    texts = _group(canonicalize_name(name), groups, path, ())
    return RequirementSet(requirements=_parse(texts, path, f"{path} [dependency-groups]"),
                          files=(path,))


def _group(name: NormalizedName, groups: Mapping[NormalizedName, object], path: Path,
           chain: tuple[str, ...]) -> list[str]:
    if name in chain:
        raise WarmbuildError(f"{path}: dependency group `{name}` includes itself",
                             cause=" -> ".join((*chain, name)))
    if name not in groups:
        raise WarmbuildError(f"{path}: no dependency group `{name}`",
                             cause=f"its groups: {', '.join(sorted(groups)) or '(none)'}")
    entries = groups[name]
    if not isinstance(entries, list):
        raise WarmbuildError(f"{path}: dependency group `{name}` must be a list")
    result: list[str] = []
    for entry in entries:
        if isinstance(entry, str):
            result.append(entry)
        elif isinstance(entry, dict) and set(entry) == {"include-group"} \
                and isinstance(entry["include-group"], str):
            result += _group(canonicalize_name(entry["include-group"]), groups, path,
                             (*chain, name))
        else:
            raise WarmbuildError(
                f"{path}: dependency group `{name}`: {entry!r} is neither a requirement "
                "string nor {include-group = \"NAME\"}")
    return result


def tree_extras(metadata_text: str, extras: Sequence[str], all_extras: bool,
                what: str) -> set[str]:
    """``--extra``/``--all-extras`` for a source tree, checked against its Provides-Extra."""
    from .coremeta import headers

    provided = {canonicalize_name(e)
                for e in headers(metadata_text, "Provides-Extra").get("provides-extra", ())}
    if all_extras:
        return set(provided)
    missing = [e for e in extras if canonicalize_name(e) not in provided]
    if missing:
        raise WarmbuildError(f"{what} has no extra `{missing[0]}`",
                             cause=f"its extras: {', '.join(sorted(provided)) or '(none)'}")
    return {canonicalize_name(e) for e in extras}


def _table(value: object, path: Path, what: str) -> dict[str, object]:
    if not isinstance(value, dict):
        raise WarmbuildError(f"{path}: {what} must be a table")
    return value


def _strings(value: object, path: Path, what: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise WarmbuildError(f"{path}: {what} must be a list of requirement strings")
    return list(value)


def _requirement(text: str, path: Path) -> Requirement:
    try:
        return Requirement(text)
    except InvalidRequirement as exc:
        raise WarmbuildError(f"{path}: invalid requirement {text!r}", cause=str(exc)) from exc


def _parse(texts: Sequence[str], path: Path, source: str | None = None
           ) -> tuple[UserRequirement, ...]:
    return tuple(parse_requirement(t, source=source or str(path), base_dir=path.parent)
                 for t in texts)
