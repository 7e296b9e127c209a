"""Index and network settings, and where each came from.

Precedence, highest first: command-line flags; options inside ``-r`` files; ``WARMBUILD_*``
environment variables; warmbuild's own config files (for the keys marked ``toml``, read by
``settings.config_layers``); pip's environment variables (``PIP_INDEX_URL`` ...); pip's
configuration files (``[install]`` in any file over ``[global]`` in any file; then later files
over earlier, in pip's order: global, user, the target env's ``pip.conf``, ``PIP_CONFIG_FILE``,
whose presence skips the user files); the default.
Reading pip's files is deliberate: that is where users keep their company mirror.
``PIP_CONFIG_FILE=/dev/null`` turns all pip files off, as it does for pip.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from .errors import UsageError
from .options import KEYRING_PROVIDERS, LINK_MODES, STRATEGIES

if TYPE_CHECKING:
    from datetime import datetime

    from .index import IndexSettings
    from .trust import NetworkSettings

DEFAULT_INDEX = "https://pypi.org/simple"
Value = str | tuple[str, ...] | bool | None


@dataclass(frozen=True)
class Key:
    kind: str  # "str", "list" or "bool"
    default: Value
    #: Read from ``PIP_*`` variables and pip's config files.
    pip: bool = True
    #: Read from warmbuild.toml, ``[tool.warmbuild]`` and the user config.
    toml: bool = False
    #: Read from a ``WARMBUILD_*`` variable (pip's settings without a flag of ours: not).
    own: bool = True
    choices: tuple[str, ...] = ()


KEYS: dict[str, Key] = {
    "index-url": Key("str", DEFAULT_INDEX),
    "extra-index-url": Key("list", ()),
    "find-links": Key("list", ()),
    "no-index": Key("bool", False),
    # Its default depends on where extra-index-url came from (see _strategy_default).
    "index-strategy": Key("str", None, pip=False, toml=True, choices=STRATEGIES),
    "trusted-host": Key("list", ()),
    "cert": Key("str", None),
    "client-cert": Key("str", None),
    "keyring-provider": Key("str", "disabled", toml=True, choices=KEYRING_PROVIDERS),
    "exclude-newer": Key("str", None, pip=False, toml=True),
    "link-mode": Key("str", "clone", pip=False, toml=True, choices=LINK_MODES),
    "timeout": Key("str", None),
    "retries": Key("str", None),
    "proxy": Key("str", None),
    # pip's own settings without a warmbuild flag of the same name (-c, --no-cache,
    # --only-binary and --no-binary are flags that add to these).
    "constraint": Key("list", (), own=False),
    "no-cache-dir": Key("bool", False, own=False),
    "only-binary": Key("list", (), own=False),
    "no-binary": Key("list", (), own=False),
}
#: pip's other spellings of a key (``--default-timeout``, ``PIP_DEFAULT_TIMEOUT``).
_PIP_ALIASES = {"default-timeout": "timeout"}
#: Keys a requirements file can set; trusted hosts there add to the others, as in pip.
FILE_KEYS = ("index-url", "extra-index-url", "find-links", "no-index", "trusted-host")
_URL_KEYS = ("index-url", "extra-index-url", "find-links", "proxy")


@dataclass(frozen=True)
class Setting:
    value: Value
    source: str


@dataclass(frozen=True)
class Settings:
    values: Mapping[str, Setting]

    def _strs(self, key: str) -> tuple[str, ...]:
        value = self.values[key].value
        return value if isinstance(value, tuple) else ()

    def _str(self, key: str) -> str | None:
        value = self.values[key].value
        return value if isinstance(value, str) else None

    def index_settings(self) -> IndexSettings:
        from .index import IndexSettings

        cutoff = self.values["exclude-newer"]
        return IndexSettings(
            index_url=str(self.values["index-url"].value),
            extra_index_urls=self._strs("extra-index-url"),
            find_links=self._strs("find-links"),
            no_index=bool(self.values["no-index"].value),
            strategy=str(self.values["index-strategy"].value),
            exclude_newer=_cutoff(cutoff) if cutoff.value else None,
        )

    def network_settings(self) -> NetworkSettings:
        from .trust import NetworkSettings

        cert, client = self.values["cert"], self.values["client-cert"]
        keyring = str(self.values["keyring-provider"].value)
        timeout, retries = self._str("timeout"), self._str("retries")
        return NetworkSettings(
            cert=self._str("cert"), cert_source=cert.source,
            client_cert=self._str("client-cert"), client_cert_source=client.source,
            trusted_hosts=self._strs("trusted-host"),
            keyring_provider="subprocess" if keyring in ("auto", "import") else keyring,
            timeout=float(timeout) if timeout else None,
            retries=int(retries) if retries else None, proxy=self._str("proxy"))

    @property
    def link_mode(self) -> str:
        return str(self.values["link-mode"].value)

    @property
    def constraint_files(self) -> tuple[Path, ...]:
        """pip's ``PIP_CONSTRAINT`` / ``constraint``, relative to the working dir as in pip."""
        return tuple(Path(p).expanduser() for p in self._strs("constraint"))

    @property
    def pip_formats(self) -> tuple[tuple[str, str], ...]:
        """pip's ``no-binary``/``only-binary`` values as ``(option, value)``, applied first."""
        return (*(("--no-binary", v) for v in self._strs("no-binary")),
                *(("--only-binary", v) for v in self._strs("only-binary")))

    def display(self) -> dict[str, Setting]:
        """The values for ``warmbuild config``: passwords in URLs are shown as ``****``."""
        from .http import redact

        shown = dict(self.values)
        for key in _URL_KEYS:
            setting = shown[key]
            value = setting.value
            masked = (tuple(map(redact, value)) if isinstance(value, tuple)
                      else redact(value) if isinstance(value, str) else value)
            shown[key] = Setting(masked, setting.source)
        return shown


def pip_config_files(environ: Mapping[str, str], target_prefix: Path | None, *,
                     isolated: bool = False) -> list[Path]:
    """pip's configuration files in the order pip reads them (later ones win);
    ``isolated`` (pip's ``--isolated``): not the user's."""
    explicit = environ.get("PIP_CONFIG_FILE")
    if explicit == os.devnull:
        return []
    xdg_dirs = environ.get("XDG_CONFIG_DIRS", "/etc/xdg").split(os.pathsep)
    files = [Path(d) / "pip" / "pip.conf" for d in reversed(xdg_dirs) if d]
    files.append(Path("/etc/pip.conf"))
    home = Path(environ.get("HOME", str(Path.home())))
    # As in pip, an existing PIP_CONFIG_FILE replaces the per-user files (it does not just
    # override them key by key): a user's find-links must not leak into an explicit config.
    if not (isolated or (explicit and Path(explicit).exists())):
        files.append(home / ".pip" / "pip.conf")
        files.append(Path(environ.get("XDG_CONFIG_HOME", str(home / ".config")))
                     / "pip" / "pip.conf")
    if target_prefix is not None:
        files.append(target_prefix / "pip.conf")
    if explicit:
        files.append(Path(explicit))
    return files


Options = Mapping[str, str | Sequence[str] | bool | None]


def load_settings(flags: Options, *, file_options: Options | None = None,
                  environ: Mapping[str, str] = os.environ, target_prefix: Path | None = None,
                  cwd: Path | None = None) -> Settings:
    values = {key: Setting(spec.default, "default") for key, spec in KEYS.items()}
    # pip's --isolated: neither its variables nor the user's pip config files.
    isolated = bool(flags.get("isolated"))
    _ca_variable(values, environ, "SSL_CERT_FILE")
    _pip_files(values, environ, target_prefix, isolated=isolated)
    for var in ("CURL_CA_BUNDLE", "REQUESTS_CA_BUNDLE"):
        _ca_variable(values, environ, var)
    if not isolated:
        _environment(values, environ, "PIP_", "pip environment", lambda k: KEYS[k].pip)
    from .settings import config_layers

    for source, table in config_layers(cwd or Path.cwd(), environ):
        for key, raw in table.items():
            if key in KEYS and KEYS[key].toml:
                values[key] = Setting(_from_toml(key, raw, source), source)
    _environment(values, environ, "WARMBUILD_", "environment", lambda k: KEYS[k].own)
    _options(values, file_options or {}, "requirements file")
    _options(values, flags, "command line")
    if values["index-strategy"].value is None:
        values["index-strategy"] = _strategy_default(values["extra-index-url"])
    _check(values)
    return Settings(values)


def pip_setting(key: str, environ: Mapping[str, str] = os.environ, *,
                isolated: bool = False) -> Setting:
    """One of pip's settings from its variables and user/global files only, unchecked:
    for what is needed before the target is known (``no-cache-dir``)."""
    values = {key: Setting(KEYS[key].default, "default")}
    _pip_files(values, environ, None, isolated=isolated)
    if not isolated:
        _environment(values, environ, "PIP_", "pip environment", lambda k: k == key)
    return values[key]


def _pip_files(values: dict[str, Setting], environ: Mapping[str, str],
               target_prefix: Path | None, *, isolated: bool = False) -> None:
    files = [f for f in pip_config_files(environ, target_prefix, isolated=isolated)
             if f.is_file()]
    if not files:
        return
    import configparser

    parsed: list[tuple[Path, configparser.RawConfigParser]] = []
    for path in files:
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
                key = _PIP_ALIASES.get(key, key)
                if key in values and KEYS[key].pip and raw.strip():
                    values[key] = Setting(_convert(key, raw), f"pip config {path} [{section}]")


def _ca_variable(values: dict[str, Setting], environ: Mapping[str, str], var: str) -> None:
    # CA bundles that other tools read (OpenSSL, requests, curl) count as a `cert` setting.
    if environ.get(var):
        values["cert"] = Setting(environ[var], f"environment {var}")


def _environment(values: dict[str, Setting], environ: Mapping[str, str], prefix: str,
                 label: str, wanted: Callable[[str], bool]) -> None:
    names = [(key, key) for key in values]
    if prefix == "PIP_":
        names += [(alias, key) for alias, key in _PIP_ALIASES.items() if key in values]
    for name, key in names:
        var = prefix + name.upper().replace("-", "_")
        if environ.get(var) and wanted(key):
            values[key] = Setting(_convert(key, environ[var]), f"{label} {var}")


def _options(values: dict[str, Setting], options: Options, label: str) -> None:
    for key, value in options.items():
        if key not in KEYS or value is None or value == () or value is False or value == []:
            continue
        before = values[key]
        if isinstance(value, bool | str):
            values[key] = Setting(value, label)
        elif key == "trusted-host" and label == "requirements file" and before.value:
            # pip adds a file's --trusted-host to those of the command line and config.
            assert isinstance(before.value, tuple)
            hosts = (*before.value, *(h for h in value if h not in before.value))
            values[key] = Setting(hosts, f"{before.source}; {label}")
        else:
            values[key] = Setting(tuple(value), label)


def _strategy_default(extra: Setting) -> Setting:
    # Extra indexes written into pip's own configuration were written for pip's merge of all
    # indexes; a drop-in must resolve from them what pip resolves (README: index strategy).
    if extra.value and extra.source.startswith("pip "):
        return Setting("unsafe-best-match",
                       "default for extra indexes from pip's configuration (pip's merge)")
    return Setting("first-index", "default")


def _check(values: Mapping[str, Setting]) -> None:
    for key in ("index-url", "extra-index-url"):
        setting = values[key]
        urls = setting.value if isinstance(setting.value, tuple) else (str(setting.value),)
        for url in urls:
            _check_url(url, key, setting.source)
    for key, spec in KEYS.items():
        setting = values[key]
        if spec.choices and setting.value not in spec.choices:
            if key == "keyring-provider" and setting.value in ("auto", "import") \
                    and setting.source.startswith("pip "):
                continue  # pip's own values: the same keyring, asked through its command
            hint = f"use one of: {', '.join(spec.choices)}"
            if key == "keyring-provider" and setting.value in ("auto", "import"):
                hint = ("use `subprocess` (runs the `keyring` command) or `disabled`: "
                        "warmbuild does not import keyring into its own process")
            raise UsageError(f"{key} {setting.value!r} (from {setting.source}) is not "
                             "supported", hint=hint)
    if values["exclude-newer"].value:
        _cutoff(values["exclude-newer"])
    for key, expected in (("timeout", "a number of seconds above 0"),
                          ("retries", "a number of 0 or more"),
                          ("proxy", "an http:// or https:// URL")):
        setting = values[key]
        if setting.value is not None and not _fits(key, str(setting.value)):
            raise UsageError(f"{key} {setting.value!r} (from {setting.source}) must be "
                             f"{expected}")


def _fits(key: str, value: str) -> bool:
    try:
        if key == "timeout":
            return float(value) > 0
        if key == "retries":
            return int(value) >= 0
        parts = urlsplit(value)
        return parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        return False


def _cutoff(setting: Setting) -> datetime:
    try:
        from .index import parse_cutoff

        return parse_cutoff(str(setting.value))
    except ValueError as exc:
        raise UsageError(f"exclude-newer {setting.value!r} (from {setting.source}) is not a "
                         "date", cause=str(exc),
                         hint="write a date (2024-01-31, that day included), a timestamp "
                              "(2024-01-31T12:00:00Z) or a number of days (`7 days`)") from exc


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


def _convert(key: str, raw: str) -> Value:
    kind = KEYS[key].kind
    if key == "no-cache-dir":
        # As in pip, any value turns the cache off, even "false" (pip keeps that quirk).
        return True
    if kind == "bool":
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if kind == "list":
        return tuple(raw.split())
    return raw.strip()


def _from_toml(key: str, raw: object, source: str) -> Value:
    from datetime import date  # tomllib has imported it already

    if isinstance(raw, date):  # TOML has dates: `exclude-newer = 2024-01-31` (no quotes)
        return raw.isoformat()
    if not isinstance(raw, str):
        raise UsageError(f"warmbuild setting `{key}` (from {source}) must be a string")
    return raw
