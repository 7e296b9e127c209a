"""Requirements from the command line, ``-r`` files and ``-c`` constraint files.

The file format is pip's: one requirement per line with per-line options (``--hash``),
global option lines (``-i``, ``--extra-index-url``, ``-f``, ``--no-index``, ``--pre``,
``--require-hashes``, ``--only-binary``, ``--no-binary``, ``--prefer-binary``,
``--trusted-host``), nested ``-r``/``-c``, comments, ``\\`` continuations and ``${VAR}``
expansion. Every option is honoured or refused with what to do instead: none is ignored.
Relative paths (nested files, wheels, find-links) are taken relative to the file that names
them, as uv does; on the command line they are relative to the working dir.
``git+URL[@rev][#egg=name&subdirectory=dir]``, ``name @ git+URL`` and ``-e git+URL`` name
git repositories (:mod:`vcsurl` takes the URL apart; :mod:`vcsreq` pins and checks out).
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import unquote, urlsplit

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import NormalizedName, canonicalize_name

from .dists import parse_filename
from .errors import WarmbuildError
from .source import is_source_tree
from .vcsurl import VcsUrl, is_vcs_url, parse_vcs_url

_ENV_VAR = re.compile(r"\$\{([A-Z0-9_]+)\}")
#: pip's --use-feature values that name what warmbuild always does.
_FEATURES = frozenset({"truststore", "fast-deps", "2020-resolver"})
#: Options pip users put in files that warmbuild refuses, with what to do instead.
_UNSUPPORTED = {
    "--no-build-isolation": "pass --no-build-isolation on the command line, or list the "
                            "project in no-build-isolation-package ([tool.warmbuild])",
    "--no-use-pep517": "warmbuild builds every project through PEP 517 (a setup.py project "
                       "with setuptools' backend); drop the option",
    "--global-option": "pass options to the build backend with -C/--config-settings",
    "--install-option": "pass options to the build backend with -C/--config-settings",
    "--build-option": "pass options to the build backend with -C/--config-settings",
}
#: ``name @ <vcs>+URL`` (other VCSs too, so that they get the "git only" error).
_NAMED_VCS = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\s*(\[[^\]]*\])?\s*@\s*(git|hg|svn|bzr)\+",
                        re.IGNORECASE)
#: The `;` before a marker after a URL: PEP 508 wants whitespace there, as pip does.
_URL_MARKER = re.compile(r"\s+;\s*|;\s+")


@dataclass(frozen=True)
class UserRequirement:
    """A requirement as the user wrote it, with where it was written."""

    requirement: Requirement
    #: ``command line`` or ``path:line``, for error messages.
    source: str
    #: ``--hash`` values as ``(algorithm, hexdigest)``.
    hashes: tuple[tuple[str, str], ...] = ()
    #: A local source tree to build (its ``requirement`` name is provisional until the
    #: tree's metadata is known).
    tree: Path | None = None
    editable: bool = False
    #: A git repository to check out (``tree`` is set once it is checked out).
    vcs: VcsUrl | None = None

    @property
    def name(self) -> NormalizedName:
        return canonicalize_name(self.requirement.name)


@dataclass(frozen=True)
class RequirementSet:
    requirements: tuple[UserRequirement, ...] = ()
    constraints: tuple[UserRequirement, ...] = ()
    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    no_index: bool = False
    pre: bool = False
    require_hashes: bool = False
    #: ``--only-binary``/``--no-binary`` values as ``(option, value)``, in file order.
    formats: tuple[tuple[str, str], ...] = ()
    prefer_binary: bool = False
    trusted_hosts: tuple[str, ...] = ()
    files: tuple[Path, ...] = field(default=())

    def merge(self, other: RequirementSet) -> RequirementSet:
        return RequirementSet(
            requirements=self.requirements + other.requirements,
            constraints=self.constraints + other.constraints,
            index_url=other.index_url or self.index_url,
            extra_index_urls=self.extra_index_urls + other.extra_index_urls,
            find_links=self.find_links + other.find_links,
            no_index=self.no_index or other.no_index,
            pre=self.pre or other.pre,
            require_hashes=self.require_hashes or other.require_hashes,
            formats=self.formats + other.formats,
            prefer_binary=self.prefer_binary or other.prefer_binary,
            trusted_hosts=self.trusted_hosts + other.trusted_hosts,
            files=self.files + other.files,
        )


def parse_requirement(text: str, *, source: str = "command line",
                      base_dir: Path | None = None, editable: bool = False) -> UserRequirement:
    """One requirement: PEP 508, a bare wheel URL, a wheel file or a source tree path."""
    text = text.strip()
    base_dir = base_dir or Path.cwd()
    if is_vcs_url(text) or _NAMED_VCS.match(text):
        return _from_vcs(text, source, editable=editable)
    if text.startswith("file:") and "://" in text and " @ " not in text:
        # `-e file:///path` (as `pip freeze` writes it), or a bare file URL of a tree.
        file_path = url2pathname(urlsplit(text).path)
        if editable or Path(file_path).is_dir():
            text = file_path
    if editable:
        return _from_tree(text, source, base_dir, editable=True)
    before_marker = text.split(";")[0].strip()
    if before_marker.startswith((".", "/", "~")) and (
            base_dir / Path(before_marker).expanduser()).exists():
        # An existing path, whatever characters (`@`, spaces) its name has.
        return _from_path(text, source, base_dir)
    path_like = (text.startswith((".", "/", "~")) or text.endswith(".whl")
                 or os.sep in text.split(";")[0].split("@")[0])
    if "://" in text.split(";")[0] and " @ " not in text and "@" not in text.split("://")[0]:
        return _from_url(text, source)
    if " @ file:" in text:
        req = _requirement(text, source)
        local = Path(url2pathname(urlsplit(req.url or "").path))
        if local.is_dir():
            return _from_tree(text, source, base_dir, editable=False)
    if path_like and "@" not in text:
        return _from_path(text, source, base_dir)
    req = _requirement(text, source)
    if req.url and not urlsplit(req.url).scheme:
        raise WarmbuildError(f"{source}: {req.name} @ {req.url}: a direct reference must be "
                             "a URL", hint="write `name @ file:///absolute/path`")
    return UserRequirement(req, source)


def _from_vcs(text: str, source: str, *, editable: bool) -> UserRequirement:
    """``git+URL...`` or ``name @ git+URL...``; the name stays provisional without one."""
    if _NAMED_VCS.match(text):
        req = _requirement(text, source)
        vcs = parse_vcs_url(req.url or "", source)
        # The name the user gave is checked against the built metadata.
        return UserRequirement(req, source, editable=editable,
                               vcs=replace(vcs, egg=canonicalize_name(req.name)))
    url, marker = [*_URL_MARKER.split(text, maxsplit=1), ""][:2]
    vcs = parse_vcs_url(url, source)
    extras = f"[{','.join(vcs.egg_extras)}]" if vcs.egg_extras else ""
    req = _requirement(f"{vcs.project_guess}{extras} @ {url}{' ; ' + marker if marker else ''}",
                       source)
    return UserRequirement(req, source, editable=editable, vcs=vcs)


def _from_url(url: str, source: str) -> UserRequirement:
    filename = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    parsed = parse_filename(filename)
    if parsed is None:
        raise WarmbuildError(f"{source}: cannot tell the project name from URL {url}",
                             hint="write it as `name @ URL`")
    return UserRequirement(_requirement(f"{parsed[0]} @ {url}", source), source)


def _requirement(text: str, source: str) -> Requirement:
    try:
        return Requirement(text)
    except InvalidRequirement as exc:
        raise WarmbuildError(f"{source}: invalid requirement {text!r}", cause=str(exc)) from exc


def _from_path(text: str, source: str, base_dir: Path) -> UserRequirement:
    raw, _, marker = text.partition(";")
    path = (base_dir / Path(raw.strip()).expanduser()).resolve()
    if path.is_dir() or (raw.strip().endswith("]") and "[" in raw):
        return _from_tree(text, source, base_dir, editable=False)
    if not path.is_file():
        raise WarmbuildError(f"{source}: {raw.strip()}: no such file")
    parsed = parse_filename(path.name)
    if parsed is None:
        raise WarmbuildError(f"{source}: {path.name} is not the file name of a wheel or an "
                             "sdist", hint="distributions are named name-version-...whl, "
                             "name-version.tar.gz or name-version.zip")
    # PEP 508 wants whitespace between a URL and the `;` of its marker.
    suffix = f" ; {marker.strip()}" if marker.strip() else ""
    return UserRequirement(_requirement(f"{parsed[0]} @ {path.as_uri()}{suffix}", source),
                           source)


def _from_tree(text: str, source: str, base_dir: Path, *, editable: bool) -> UserRequirement:
    """``PATH``, ``PATH[extra,...]`` or ``name @ file:///PATH``, naming a source tree."""
    if not text:
        raise WarmbuildError(f"{source}: an empty path where a project directory belongs")
    if " @ " in text:
        req = _requirement(text, source)
        path = Path(url2pathname(urlsplit(req.url or "").path))
    else:
        raw, _, extras = text.partition("[")
        path = (base_dir / Path(raw.strip()).expanduser()).resolve()
        # Provisional until the tree's metadata says; a directory name need not be a
        # valid project name.
        name = re.sub(r"[^A-Za-z0-9._-]+", "-", path.name).strip("-._") or "project"
        req = _requirement(f"{name}{'[' + extras if extras else ''} @ {path.as_uri()}", source)
    if not is_source_tree(path):
        if path.is_dir():
            problem = "is not a Python project (no pyproject.toml or setup.py)"
        elif path.exists():
            problem = "is a file, not a project directory"
        else:
            problem = "no such directory"
        raise WarmbuildError(f"{source}: {path}: {problem}")
    return UserRequirement(req, source, tree=path, editable=editable)


def read_requirements_file(path: Path, *, constraint: bool = False,
                           _seen: frozenset[Path] = frozenset()) -> RequirementSet:
    """Read a requirements (or, with ``constraint``, constraints) file and what it includes."""
    path = path.expanduser().resolve()
    if path in _seen:
        raise WarmbuildError(f"{path}: included from itself")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise WarmbuildError(f"cannot read requirements file {path}",
                             cause=exc.strerror) from exc
    except UnicodeDecodeError as exc:
        raise WarmbuildError(f"cannot read requirements file {path}: it is not UTF-8 text",
                             cause=str(exc)) from exc
    result = RequirementSet(files=(path,))
    for lineno, line in _logical_lines(text):
        result = result.merge(_parse_line(line, f"{path}:{lineno}", path.parent, constraint,
                                          _seen | {path}))
    return result


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    buffer, start = "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = re.sub(r"(^|\s+)#.*$", "", raw)
        if not buffer:
            start = number
        if line.endswith("\\"):
            buffer += line[:-1] + " "
            continue
        line = (buffer + line).strip()
        buffer = ""
        if line:
            yield start, _ENV_VAR.sub(lambda m: os.environ.get(m.group(1), m.group(0)), line)
    if buffer.strip():
        yield start, buffer.strip()


def _requirement_line(line: str, source: str, base: Path, constraint: bool) -> RequirementSet:
    words = re.split(r"[ \t]+", line)
    cut = next((i for i, w in enumerate(words) if w.startswith("--")), len(words))
    req_text, options = " ".join(words[:cut]), " ".join(words[cut:])
    hashes = _hash_options(options, source)
    req = replace(parse_requirement(req_text, source=source, base_dir=base), hashes=hashes)
    if constraint and req.requirement.extras:
        raise WarmbuildError(f"{source}: a constraint cannot have extras ({req_text!r})",
                             hint="constrain the project without [extras]")
    return (RequirementSet(constraints=(req,)) if constraint
            else RequirementSet(requirements=(req,)))


def _parse_line(line: str, source: str, base: Path, constraint: bool,
                seen: frozenset[Path]) -> RequirementSet:
    if not line.startswith("-"):
        return _requirement_line(line, source, base, constraint)
    try:
        tokens = shlex.split(line)
    except ValueError as exc:
        raise WarmbuildError(f"{source}: cannot parse {line!r}", cause=str(exc)) from exc
    option, _, inline = tokens[0].partition("=")
    value = inline or (tokens[1] if len(tokens) > 1 else "")
    if not value and option in _TAKES_VALUE:
        raise WarmbuildError(f"{source}: {option} needs a value")
    if option in ("-r", "--requirement", "-c", "--constraint"):
        return _nested(option, value, source, base, constraint, seen)
    if option in ("-i", "--index-url"):
        return RequirementSet(index_url=value)
    if option == "--extra-index-url":
        return RequirementSet(extra_index_urls=(value,))
    if option in ("-f", "--find-links"):
        local = base / value
        return RequirementSet(find_links=(str(local) if "://" not in value and local.exists()
                                          else value,))
    if option == "--no-index":
        return RequirementSet(no_index=True)
    if option == "--pre":
        return RequirementSet(pre=True)
    if option == "--require-hashes":
        return RequirementSet(require_hashes=True)
    if option in ("--only-binary", "--no-binary"):
        if value.startswith("-"):
            raise WarmbuildError(f"{source}: {option} needs a value (:all:, :none: or names)")
        return RequirementSet(formats=((option, value),))
    if option == "--prefer-binary":
        return RequirementSet(prefer_binary=True)
    if option == "--trusted-host":
        return RequirementSet(trusted_hosts=(value,))
    if option == "--use-pep517" or (option == "--use-feature" and value in _FEATURES):
        return RequirementSet()  # what warmbuild always does
    if option == "--use-feature":
        raise WarmbuildError(f"{source}: --use-feature {value}: not a feature warmbuild has",
                             hint="drop the line; warmbuild's own behaviour is in its README")
    if option in _UNSUPPORTED:
        raise WarmbuildError(f"{source}: {option} is not supported in a requirements file",
                             hint=_UNSUPPORTED[option])
    if option in ("-e", "--editable"):
        req = parse_requirement(value, source=source, base_dir=base, editable=True)
        return (RequirementSet(constraints=(req,)) if constraint
                else RequirementSet(requirements=(req,)))
    raise WarmbuildError(f"{source}: unknown option {option!r} in requirements file")


def _nested(option: str, value: str, source: str, base: Path, constraint: bool,
            seen: frozenset[Path]) -> RequirementSet:
    nested = base / value
    if nested.name == "pyproject.toml":
        raise WarmbuildError(f"{source}: {option} {value}: a pyproject.toml is read as "
                             "requirements only when named on the command line",
                             hint=f"pass `-r {nested}` to warmbuild install")
    return read_requirements_file(nested, constraint=constraint or option in ("-c",
                                  "--constraint"), _seen=seen)


_TAKES_VALUE = ("-r", "--requirement", "-c", "--constraint", "-i", "--index-url",
                "--extra-index-url", "-f", "--find-links", "-e", "--editable", "--only-binary",
                "--no-binary", "--trusted-host", "--use-feature")


def _hash_options(options: str, source: str) -> tuple[tuple[str, str], ...]:
    hashes = []
    try:
        tokens = shlex.split(options)
    except ValueError as exc:
        raise WarmbuildError(f"{source}: cannot parse {options!r}", cause=str(exc)) from exc
    for i, token in enumerate(tokens):
        if token.startswith("--hash"):
            value = token.partition("=")[2] or (tokens[i + 1] if i + 1 < len(tokens) else "")
            algo, sep, digest = value.partition(":")
            if not sep or algo not in ("sha256", "sha384", "sha512"):
                raise WarmbuildError(f"{source}: invalid --hash {value!r}",
                                     hint="write --hash=sha256:<hex digest>")
            hashes.append((algo, digest.lower()))
        elif token.startswith("-"):
            option = token.partition("=")[0]
            hint = ("warmbuild takes backend options for all builds (-C/--config-settings) or "
                    "per package (config-settings-package in [tool.warmbuild])"
                    if option in ("-C", "--config-settings", *_UNSUPPORTED) else None)
            raise WarmbuildError(f"{source}: unknown per-requirement option {token!r}",
                                 hint=hint)
    return tuple(hashes)


def url2pathname(path: str) -> str:
    """The local path of a ``file:`` URL's path: urllib.request (with http.client and ssl)
    is imported only by a run that has one."""
    from urllib.request import url2pathname as convert

    return convert(path)
