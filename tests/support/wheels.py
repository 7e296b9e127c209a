"""Build small, valid PEP 427 wheels on the fly for tests."""

from __future__ import annotations

import base64
import hashlib
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from packaging.tags import parse_tag
from packaging.utils import canonicalize_name

# A fixed timestamp makes wheels byte-for-byte reproducible, so content hashes and ETags in
# tests are stable across runs.
_ZIP_DATE = (2020, 1, 1, 0, 0, 0)

_EMPTY_MAPPING: Mapping[str, Sequence[str]] = {}


def _record_hash(data: bytes) -> str:
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _as_bytes(content: str | bytes) -> bytes:
    return content.encode("utf-8") if isinstance(content, str) else content


def _is_pure(tag: str) -> bool:
    # Only wheels installable everywhere go to purelib; anything with an ABI or platform
    # component is treated as platlib, as bdist_wheel does.
    return all(t.abi == "none" and t.platform == "any" for t in parse_tag(tag))


def wheel_filename(name: str, version: str, tag: str = "py3-none-any") -> str:
    """The spec-conforming file name: normalized name with underscores (PEP 427/491)."""
    return f"{canonicalize_name(name).replace('-', '_')}-{version}-{tag}.whl"


def _metadata(
    name: str,
    version: str,
    requires: Sequence[str],
    extras: Mapping[str, Sequence[str]],
    requires_python: str | None,
) -> str:
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    if requires_python is not None:
        lines.append(f"Requires-Python: {requires_python}")
    lines.extend(f"Requires-Dist: {req}" for req in requires)
    for extra, reqs in extras.items():
        lines.append(f"Provides-Extra: {extra}")
        for req in reqs:
            # A requirement may already carry its own marker; the extra must be and-ed
            # with it rather than appended as a second ';'.
            base, sep, marker = req.partition(";")
            if sep:
                marker = f'({marker.strip()}) and extra == "{extra}"'
                lines.append(f"Requires-Dist: {base.strip()}; {marker}")
            else:
                lines.append(f'Requires-Dist: {req.strip()}; extra == "{extra}"')
    return "\n".join(lines) + "\n\n"


def make_wheel(
    dest_dir: Path,
    name: str,
    version: str,
    *,
    requires: Sequence[str] = (),
    extras: Mapping[str, Sequence[str]] = _EMPTY_MAPPING,
    requires_python: str | None = None,
    tag: str = "py3-none-any",
    files: Mapping[str, str | bytes] | None = None,
    entry_points: Mapping[str, Mapping[str, str]] | None = None,
    data_files: Mapping[str, str | bytes] | None = None,
) -> Path:
    """Write a wheel for ``name`` ``version`` into ``dest_dir`` and return its path.

    ``files`` replaces the default ``<module>/__init__.py`` (paths relative to the wheel root).
    ``data_files`` keys are ``<scheme>/<path>`` and go under ``<name>-<version>.data/``.
    ``entry_points`` maps group -> {name: "module:attr"}.
    """
    dest_dir.mkdir(parents=True, exist_ok=True)
    dist = canonicalize_name(name).replace("-", "_")
    dist_info = f"{dist}-{version}.dist-info"
    data_dir = f"{dist}-{version}.data"

    contents: dict[str, bytes] = {}
    if files is None:
        contents[f"{dist}/__init__.py"] = f'__version__ = "{version}"\n'.encode()
    else:
        contents.update({path: _as_bytes(body) for path, body in files.items()})
    for path, body in (data_files or {}).items():
        contents[f"{data_dir}/{path}"] = _as_bytes(body)

    contents[f"{dist_info}/METADATA"] = _metadata(
        name, version, requires, extras, requires_python
    ).encode("utf-8")
    contents[f"{dist_info}/WHEEL"] = (
        "Wheel-Version: 1.0\n"
        "Generator: warmbuild-tests\n"
        f"Root-Is-Purelib: {'true' if _is_pure(tag) else 'false'}\n"
        + "".join(f"Tag: {t}\n" for t in sorted(str(t) for t in parse_tag(tag)))
    ).encode("utf-8")
    if entry_points:
        sections = []
        for group, entries in entry_points.items():
            body = "".join(f"{key} = {value}\n" for key, value in entries.items())
            sections.append(f"[{group}]\n{body}")
        contents[f"{dist_info}/entry_points.txt"] = "\n".join(sections).encode("utf-8")

    record_path = f"{dist_info}/RECORD"
    record_lines = [f"{path},{_record_hash(data)},{len(data)}" for path, data in contents.items()]
    record_lines.append(f"{record_path},,")
    contents[record_path] = ("\n".join(record_lines) + "\n").encode("utf-8")

    target = dest_dir / wheel_filename(name, version, tag)
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path, data in contents.items():
            info = zipfile.ZipInfo(path, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            # Regular file with rw-r--r--; scripts under .data/scripts get the exec bit so
            # installers that copy modes behave as with real wheels.
            mode = 0o755 if path.startswith(f"{data_dir}/scripts/") else 0o644
            info.external_attr = (0o100000 | mode) << 16
            zf.writestr(info, data)
    return target


def make_sdist(dest_dir: Path, name: str, version: str, *, requires: Sequence[str] = (),
               metadata_version: str = "2.1", build_requires: Sequence[str] = ("setuptools",),
               value: str | None = None) -> Path:
    """A real sdist (setuptools backend, static ``[project]``) that a frontend can build.

    ``metadata_version`` "2.2" or later makes PKG-INFO authoritative (PEP 643: nothing is
    listed as Dynamic), so a frontend may resolve from it without building.
    """
    module = canonicalize_name(name).replace("-", "_")
    base = f"{module}-{version}"
    deps = ", ".join(f'"{r}"' for r in requires)
    build = ", ".join(f'"{r}"' for r in build_requires)
    pkg_info = [f"Metadata-Version: {metadata_version}", f"Name: {name}", f"Version: {version}"]
    pkg_info += [f"Requires-Dist: {r}" for r in requires]
    files = {
        "pyproject.toml": (
            f'[build-system]\nrequires = [{build}]\nbuild-backend = "setuptools.build_meta"\n\n'
            f'[project]\nname = "{name}"\nversion = "{version}"\ndependencies = [{deps}]\n\n'
            f'[tool.setuptools]\npackages = ["{module}"]\n'),
        f"{module}/__init__.py": f"VALUE = {value or version!r}\n",
        "PKG-INFO": "\n".join(pkg_info) + "\n",
    }
    return write_sdist(dest_dir, base, files)


def write_sdist(dest_dir: Path, base: str, files: Mapping[str, str]) -> Path:
    """``dest_dir/<base>.tar.gz`` holding ``files`` (paths relative to ``base/``)."""
    import io
    import tarfile

    dest_dir.mkdir(parents=True, exist_ok=True)
    path = dest_dir / f"{base}.tar.gz"
    with tarfile.open(path, "w:gz") as tf:
        for rel, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{base}/{rel}")
            info.size = len(data)
            info.mtime = 1_700_000_000
            tf.addfile(info, io.BytesIO(data))
    return path
