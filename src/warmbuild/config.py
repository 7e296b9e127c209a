"""Index settings and where each came from.

Precedence, highest first: command-line flags; options inside ``-r`` files; ``WARMBUILD_*``
environment variables; pip's environment variables (``PIP_INDEX_URL`` ...); pip's
configuration files (``[install]`` in any file over ``[global]`` in any file; then later files
over earlier, in pip's order: global, user, the target env's ``pip.conf``, ``PIP_CONFIG_FILE``,
whose presence skips the user files); the default.
Reading pip's files is deliberate: that is where users keep their company mirror.
``PIP_CONFIG_FILE=/dev/null`` turns all pip files off, as it does for pip.
"""

from __future__ import annotations

import configparser
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from .errors import UsageError
from .index import IndexSettings

DEFAULT_INDEX = "https://pypi.org/simple"
KEYS = ("index-url", "extra-index-url", "find-links", "no-index")


@dataclass(frozen=True)
class Setting:
    value: str | tuple[str, ...] | bool
    source: str


@dataclass(frozen=True)
class Settings:
    values: Mapping[str, Setting]

    def index_settings(self) -> IndexSettings:
        def strs(key: str) -> tuple[str, ...]:
            value = self.values[key].value
            return value if isinstance(value, tuple) else ()

        return IndexSettings(
            index_url=str(self.values["index-url"].value),
            extra_index_urls=strs("extra-index-url"),
            find_links=strs("find-links"),
            no_index=bool(self.values["no-index"].value),
        )


def pip_config_files(environ: Mapping[str, str], target_prefix: Path | None) -> list[Path]:
    """pip's configuration files in the order pip reads them (later ones win)."""
    explicit = environ.get("PIP_CONFIG_FILE")
    if explicit == os.devnull:
        return []
    xdg_dirs = environ.get("XDG_CONFIG_DIRS", "/etc/xdg").split(os.pathsep)
    files = [Path(d) / "pip" / "pip.conf" for d in reversed(xdg_dirs) if d]
    files.append(Path("/etc/pip.conf"))
    home = Path(environ.get("HOME", str(Path.home())))
    # As in pip, an existing PIP_CONFIG_FILE replaces the per-user files (it does not just
    # override them key by key): a user's find-links must not leak into an explicit config.
    if not (explicit and Path(explicit).exists()):
        files.append(home / ".pip" / "pip.conf")
        files.append(Path(environ.get("XDG_CONFIG_HOME", str(home / ".config")))
                     / "pip" / "pip.conf")
    if target_prefix is not None:
        files.append(target_prefix / "pip.conf")
    if explicit:
        files.append(Path(explicit))
    return files


def load_settings(flags: Mapping[str, str | Sequence[str] | bool | None], *,
                  file_options: Mapping[str, str | Sequence[str] | bool | None] | None = None,
                  environ: Mapping[str, str] = os.environ,
                  target_prefix: Path | None = None) -> Settings:
    values: dict[str, Setting] = {
        "index-url": Setting(DEFAULT_INDEX, "default"),
        "extra-index-url": Setting((), "default"),
        "find-links": Setting((), "default"),
        "no-index": Setting(False, "default"),
    }
    parsed: list[tuple[Path, configparser.RawConfigParser]] = []
    for path in pip_config_files(environ, target_prefix):
        parser = configparser.RawConfigParser()
        try:
            parser.read(path, encoding="utf-8")
        except (configparser.Error, UnicodeDecodeError):
            continue
        parsed.append((path, parser))
    # pip merges all files first and then ranks sections, so [install] in any file beats
    # [global] in any file (even a later one); within a section, later files win.
    for section in ("global", "install"):
        for path, parser in parsed:
            if not parser.has_section(section):
                continue
            for option, raw in parser.items(section):
                # pip spells keys either way (index_url, --index-url) and skips empty values;
                # an empty index-url must not replace the default with "".
                key = option.lower().replace("_", "-").removeprefix("--")
                if key in KEYS and raw.strip():
                    values[key] = Setting(_convert(key, raw), f"pip config {path} [{section}]")
    for prefix, label in (("PIP_", "pip environment"), ("WARMBUILD_", "environment")):
        for key in KEYS:
            var = prefix + key.upper().replace("-", "_")
            if environ.get(var):
                values[key] = Setting(_convert(key, environ[var]), f"{label} {var}")
    for options, label in ((file_options or {}, "requirements file"), (flags, "command line")):
        for key in KEYS:
            value = options.get(key)
            if value is None or value == () or value is False or value == []:
                continue
            if isinstance(value, bool | str):
                values[key] = Setting(value, label)
            else:
                values[key] = Setting(tuple(value), label)
    for key in ("index-url", "extra-index-url"):
        setting = values[key]
        urls = setting.value if isinstance(setting.value, tuple) else (str(setting.value),)
        for url in urls:
            _check_url(url, key, setting.source)
    return Settings(values)


def _check_url(url: str, key: str, source: str) -> None:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - parsing the port is what finds a malformed one
    except ValueError as exc:
        raise UsageError(f"{key} {url!r} (from {source}) is not a valid URL",
                         cause=str(exc)) from exc
    if parts.scheme not in ("http", "https", "file") or (parts.scheme != "file"
                                                         and not parts.hostname):
        raise UsageError(f"{key} {url!r} (from {source}) is not an http(s) or file URL",
                         hint="write e.g. https://pypi.org/simple or file:///path/to/index")


def _convert(key: str, raw: str) -> str | tuple[str, ...] | bool:
    if key == "no-index":
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if key in ("extra-index-url", "find-links"):
        return tuple(raw.split())
    return raw.strip()
