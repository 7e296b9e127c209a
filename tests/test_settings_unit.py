"""Settings precedence and validation, in-process: build settings (settings.py) and index
settings (config.py), from files under tmp_path and an explicit environment mapping."""

from __future__ import annotations

import configparser
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from warmbuild._log import logger
from warmbuild.config import DEFAULT_INDEX, KEYS, Setting, load_settings, pip_config_files
from warmbuild.errors import UsageError
from warmbuild.index import IndexSettings
from warmbuild.settings import load_build_settings, user_config_file


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# --------------------------------------------------------------------------- build settings


@dataclass
class Layers:
    cwd: Path
    user: Path
    environ: dict[str, str]
    flags: dict[str, Any]


@pytest.fixture
def layers(tmp_path: Path) -> Layers:
    """Every layer sets `no-build-isolation-package` to its own name."""
    cwd = tmp_path / "work"
    user = write(tmp_path / "user" / "warmbuild.toml",
                 'no-build-isolation-package = ["from-user"]\n')
    write(cwd / "pyproject.toml",
          '[tool.warmbuild]\nno-build-isolation-package = ["from-pyproject"]\n')
    write(cwd / "warmbuild.toml", 'no-build-isolation-package = ["from-warmbuild-toml"]\n')
    return Layers(cwd, user,
                  environ={"WARMBUILD_CONFIG_FILE": str(user),
                           "WARMBUILD_NO_BUILD_ISOLATION_PACKAGE": "From_Env other"},
                  flags={"no-build-isolation-package": ["from-flag"]})


def test_flag_beats_environment_beats_files(layers: Layers) -> None:
    cwd, user, environ, flags = layers.cwd, layers.user, layers.environ, layers.flags
    key = "no-build-isolation-package"

    def winner() -> tuple[frozenset[str], str]:
        s = load_build_settings(cwd, environ=environ, flags=flags)
        return s.no_build_isolation, s.sources[key]

    assert winner() == ({"from-flag"}, "command line")
    flags.clear()
    # Names are normalized; the environment variable is a whitespace-separated list.
    assert winner() == ({"from-env", "other"}, "environment")
    del environ["WARMBUILD_NO_BUILD_ISOLATION_PACKAGE"]
    assert winner() == ({"from-warmbuild-toml"}, str(cwd / "warmbuild.toml"))
    (cwd / "warmbuild.toml").unlink()
    assert winner() == ({"from-pyproject"}, f"{cwd / 'pyproject.toml'} [tool.warmbuild]")
    (cwd / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert winner() == ({"from-user"}, str(user))
    user.unlink()
    empty = load_build_settings(cwd, environ=environ)
    assert empty.no_build_isolation == frozenset() and key not in empty.sources


def test_nothing_set_gives_the_defaults(tmp_path: Path) -> None:
    settings = load_build_settings(
        tmp_path, environ={"WARMBUILD_CONFIG_FILE": str(tmp_path / "none.toml")})
    assert settings.no_build_isolation == frozenset()
    assert settings.extra_build_dependencies == {}
    assert settings.build_constraints == ()
    assert settings.env_vars == () and settings.env_dir is None
    assert settings.sources == {}


def test_user_config_file_location(tmp_path: Path) -> None:
    assert user_config_file({"WARMBUILD_CONFIG_FILE": str(tmp_path / "c.toml")}) == \
        tmp_path / "c.toml"
    assert user_config_file({}).parts[-2:] == ("warmbuild", "warmbuild.toml")


def test_tables_merge_per_package_and_other_values_are_replaced(tmp_path: Path) -> None:
    user = write(tmp_path / "user.toml", (
        'build-env-vars = ["CC"]\n'
        '[config-settings-package.alpha]\ncolor = "red"\n'
        '[config-settings-package.beta]\nsize = "L"\n'
        '[extra-build-dependencies]\nalpha = ["six"]\n'))
    write(tmp_path / "work" / "warmbuild.toml", (
        'build-env-vars = ["CFLAGS"]\n'
        '[config-settings-package.Alpha]\nflags = ["-a", "-b"]\n'
        '[extra-build-dependencies]\ngamma = ["attrs>=1"]\n'))
    settings = load_build_settings(tmp_path / "work",
                                   environ={"WARMBUILD_CONFIG_FILE": str(user)})
    # A per-package table replaces that package's table; other packages stay.
    assert settings.config_settings == {"alpha": {"flags": ["-a", "-b"]},
                                        "beta": {"size": "L"}}
    assert settings.extra_build_dependencies == {"alpha": ("six",), "gamma": ("attrs>=1",)}
    assert settings.env_vars == ("CFLAGS",)


def test_build_constraints_are_relative_to_the_file_that_names_them(tmp_path: Path) -> None:
    user = write(tmp_path / "conf" / "user.toml", 'build-constraints = "user-pins.txt"\n')
    cwd = tmp_path / "work"
    cwd.mkdir()
    environ = {"WARMBUILD_CONFIG_FILE": str(user)}
    assert load_build_settings(cwd, environ=environ).build_constraints == (
        tmp_path / "conf" / "user-pins.txt",)
    write(cwd / "warmbuild.toml", 'build-constraints = ["a.txt", "sub/b.txt"]\n')
    assert load_build_settings(cwd, environ=environ).build_constraints == (
        cwd / "a.txt", cwd / "sub" / "b.txt")
    environ["WARMBUILD_BUILD_CONSTRAINT"] = f"{tmp_path / 'x.txt'} {tmp_path / 'y.txt'}"
    settings = load_build_settings(cwd, environ=environ)
    assert settings.build_constraints == (tmp_path / "x.txt", tmp_path / "y.txt")
    assert settings.sources["build-constraints"] == "environment"


def test_unknown_key_is_a_warning_with_a_suggestion(
        tmp_path: Path, caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # The CLI (when run in-process by another test) stops propagation to the root logger.
    monkeypatch.setattr(logger, "propagate", True)
    write(tmp_path / "warmbuild.toml",
          'no-build-isolation-packages = ["x"]\ncompletely-unrelated = 1\n')
    with caplog.at_level(logging.WARNING, logger="warmbuild"):
        settings = load_build_settings(
            tmp_path, environ={"WARMBUILD_CONFIG_FILE": str(tmp_path / "none.toml")})
    assert settings.no_build_isolation == frozenset()
    assert [r.getMessage() for r in caplog.records] == [
        "warning: unknown warmbuild setting `no-build-isolation-packages` in "
        f"{tmp_path / 'warmbuild.toml'}; did you mean `no-build-isolation-package`?",
        "warning: unknown warmbuild setting `completely-unrelated` in "
        f"{tmp_path / 'warmbuild.toml'}",
    ]


@pytest.mark.parametrize(("text", "key", "expected"), [
    ('build-env-vars = "CC"', "build-env-vars", "a list of strings"),
    ("no-build-isolation-package = [1]", "no-build-isolation-package", "a list of strings"),
    ("build-constraints = 3", "build-constraints", "a path or a list of paths"),
    ("build-env-dir = ['a']", "build-env-dir", "a path"),
    ('extra-build-dependencies = {pkg = "six"}', "extra-build-dependencies",
     "a table of package = [requirements]"),
    ('extra-build-dependencies = {pkg = ["six >>> 1"]}', "extra-build-dependencies",
     "a table of package = [requirements]; 'six >>> 1' (for pkg) is not a valid requirement"),
    ('config-settings-package = {pkg = {k = 1}}', "config-settings-package",
     'a table of package = {key = "value" or ["values"]}'),
])
def test_wrong_type_names_file_and_key(tmp_path: Path, text: str, key: str,
                                       expected: str) -> None:
    toml = write(tmp_path / "warmbuild.toml", text + "\n")
    with pytest.raises(UsageError) as caught:
        load_build_settings(tmp_path,
                            environ={"WARMBUILD_CONFIG_FILE": str(tmp_path / "none.toml")})
    assert caught.value.message == f"warmbuild setting `{key}` (from {toml}) must be {expected}"
    assert caught.value.exit_code == 2


def test_a_bad_lower_layer_is_named_even_when_a_higher_one_overrides(tmp_path: Path) -> None:
    user = write(tmp_path / "user.toml", 'build-env-vars = "CC"\n')
    write(tmp_path / "warmbuild.toml", 'build-env-vars = ["CC"]\n')
    with pytest.raises(UsageError) as caught:
        load_build_settings(tmp_path, environ={"WARMBUILD_CONFIG_FILE": str(user)})
    assert caught.value.message == (
        f"warmbuild setting `build-env-vars` (from {user}) must be a list of strings")


def test_invalid_toml_and_a_tool_that_is_not_a_table(tmp_path: Path) -> None:
    environ = {"WARMBUILD_CONFIG_FILE": str(tmp_path / "none.toml")}
    toml = write(tmp_path / "warmbuild.toml", "build-env-vars = [\n")
    with pytest.raises(UsageError) as caught:
        load_build_settings(tmp_path, environ=environ)
    assert caught.value.message == f"{toml}: invalid TOML"
    toml.unlink()
    write(tmp_path / "pyproject.toml", "[tool]\nwarmbuild = 1\n")
    with pytest.raises(UsageError) as caught:
        load_build_settings(tmp_path, environ=environ)
    assert caught.value.message == (
        f"{tmp_path / 'pyproject.toml'}: [tool.warmbuild] must be a table")


# --------------------------------------------------------------------------- index settings


def test_pip_config_files_in_pips_order(tmp_path: Path) -> None:
    environ = {"HOME": str(tmp_path / "home"), "XDG_CONFIG_HOME": str(tmp_path / "xdg-home"),
               "XDG_CONFIG_DIRS": f"{tmp_path / 'a'}{os.pathsep}{tmp_path / 'b'}"}
    prefix = tmp_path / "venv"
    assert pip_config_files(environ, prefix) == [
        tmp_path / "b" / "pip" / "pip.conf", tmp_path / "a" / "pip" / "pip.conf",
        Path("/etc/pip.conf"), tmp_path / "home" / ".pip" / "pip.conf",
        tmp_path / "xdg-home" / "pip" / "pip.conf", prefix / "pip.conf"]
    # An existing PIP_CONFIG_FILE replaces the user files and comes last.
    explicit = write(tmp_path / "explicit.conf", "")
    files = pip_config_files({**environ, "PIP_CONFIG_FILE": str(explicit)}, None)
    assert files == [tmp_path / "b" / "pip" / "pip.conf", tmp_path / "a" / "pip" / "pip.conf",
                     Path("/etc/pip.conf"), explicit]
    # A missing one does not, and /dev/null turns every file off.
    missing = tmp_path / "missing.conf"
    assert pip_config_files({**environ, "PIP_CONFIG_FILE": str(missing)}, None)[-3:] == [
        tmp_path / "home" / ".pip" / "pip.conf", tmp_path / "xdg-home" / "pip" / "pip.conf",
        missing]
    assert pip_config_files({**environ, "PIP_CONFIG_FILE": os.devnull}, prefix) == []


def test_defaults_without_any_configuration(tmp_path: Path) -> None:
    settings = load_settings({}, environ={"PIP_CONFIG_FILE": os.devnull,
                                          "WARMBUILD_CONFIG_FILE": str(tmp_path / "none")},
                             cwd=tmp_path)
    assert {k: (s.value, s.source) for k, s in settings.values.items()} == {
        "index-url": (DEFAULT_INDEX, "default"), "extra-index-url": ((), "default"),
        "find-links": ((), "default"), "no-index": (False, "default"),
        "index-strategy": ("first-index", "default"), "trusted-host": ((), "default"),
        "cert": (None, "default"), "client-cert": (None, "default"),
        "keyring-provider": ("disabled", "default"), "exclude-newer": (None, "default"),
        "link-mode": ("clone", "default"), "timeout": (None, "default"),
        "retries": (None, "default"), "proxy": (None, "default"),
        "constraint": ((), "default"), "no-cache-dir": (False, "default"),
        "only-binary": ((), "default"), "no-binary": ((), "default")}
    assert settings.index_settings() == IndexSettings()


def pip_home(tmp_path: Path) -> dict[str, str]:
    """An environment whose user pip files live under tmp_path (and no XDG system dirs)."""
    return {"HOME": str(tmp_path / "home"), "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
            "XDG_CONFIG_DIRS": str(tmp_path / "no-such-dir")}


def _system_pip_conf_sets(section: str) -> bool:
    # pip (and so warmbuild) always reads /etc/pip.conf, whatever HOME or XDG_* say.
    parser = configparser.RawConfigParser()
    try:
        parser.read("/etc/pip.conf", encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError):
        return False
    return parser.has_section(section) and any(
        k.replace("_", "-").removeprefix("--") in KEYS for k in parser.options(section))


@pytest.mark.skipif(_system_pip_conf_sets("install"),
                    reason="this machine's /etc/pip.conf sets index options in [install]")
def test_install_section_beats_global_in_any_file(tmp_path: Path) -> None:
    environ = pip_home(tmp_path)
    user = write(tmp_path / "home" / ".pip" / "pip.conf",
                 "[install]\nindex_url = https://install.example/simple\n")
    write(tmp_path / "venv" / "pip.conf", "[global]\nindex-url = https://global.example/simple\n"
                                         "extra-index-url = https://e1.example/simple\n"
                                         "    https://e2.example/simple\n"
                                         "no-index = yes\n")
    settings = load_settings({}, environ=environ, target_prefix=tmp_path / "venv")
    index_url = settings.values["index-url"]
    assert (index_url.value, index_url.source) == (
        "https://install.example/simple", f"pip config {user} [install]")
    # Extra indexes from pip's files get pip's merge unless a strategy is set.
    assert settings.index_settings() == IndexSettings(
        index_url="https://install.example/simple",
        extra_index_urls=("https://e1.example/simple", "https://e2.example/simple"),
        no_index=True, strategy="unsafe-best-match")


def test_later_files_win_and_empty_values_are_skipped(tmp_path: Path) -> None:
    environ = pip_home(tmp_path)
    write(tmp_path / "home" / ".pip" / "pip.conf",
          "[install]\nindex-url = https://user.example/simple\n")
    later = write(tmp_path / "xdg" / "pip" / "pip.conf",
                  "[install]\n--index-url = https://xdg.example/simple\n")
    write(tmp_path / "venv" / "pip.conf", "[install]\nindex-url =\n")
    setting = load_settings({}, environ=environ,
                            target_prefix=tmp_path / "venv").values["index-url"]
    assert (setting.value, setting.source) == (
        "https://xdg.example/simple", f"pip config {later} [install]")


def test_index_precedence_flag_file_env_pip_env_pip_config(tmp_path: Path) -> None:
    environ = pip_home(tmp_path)
    write(tmp_path / "home" / ".pip" / "pip.conf",
          "[install]\nindex-url = https://conf.example/simple\n")
    environ |= {"PIP_INDEX_URL": "https://pip-env.example/simple",
                "WARMBUILD_INDEX_URL": "https://wb-env.example/simple"}
    file_options: dict[str, str | None] = {"index-url": "https://file.example/simple"}
    flags: dict[str, str | None] = {"index-url": "https://flag.example/simple"}

    def winner() -> tuple[object, str]:
        s = load_settings(flags, file_options=file_options, environ=environ).values["index-url"]
        return s.value, s.source

    assert winner() == ("https://flag.example/simple", "command line")
    flags["index-url"] = None
    assert winner() == ("https://file.example/simple", "requirements file")
    file_options.clear()
    assert winner() == ("https://wb-env.example/simple", "environment WARMBUILD_INDEX_URL")
    del environ["WARMBUILD_INDEX_URL"]
    assert winner() == ("https://pip-env.example/simple", "pip environment PIP_INDEX_URL")
    del environ["PIP_INDEX_URL"]
    assert winner()[0] == "https://conf.example/simple"


def test_list_and_boolean_values_from_environment_and_flags() -> None:
    environ = {"PIP_CONFIG_FILE": os.devnull,
               "PIP_EXTRA_INDEX_URL": "https://a.example/simple https://b.example/simple",
               "WARMBUILD_NO_INDEX": "0", "PIP_FIND_LINKS": "/wheels"}
    settings = load_settings({"find-links": ["/mine"], "no-index": False}, environ=environ)
    assert settings.values["extra-index-url"].value == (
        "https://a.example/simple", "https://b.example/simple")
    # An empty list or False flag does not override; "0" from the environment is false.
    assert settings.values["no-index"].value is False
    assert settings.values["no-index"].source == "environment WARMBUILD_NO_INDEX"
    assert settings.values["find-links"].value == ("/mine",)
    assert settings.values["find-links"].source == "command line"


@pytest.mark.parametrize(("url", "problem"), [
    ("ftp://mirror.example/simple", "is not an http(s) or file URL"),
    ("https:///simple", "is not an http(s) or file URL"),
    ("http://mirror.example:99999/simple", "is not a valid URL"),
])
def test_bad_index_url_names_its_source(url: str, problem: str) -> None:
    environ = {"PIP_CONFIG_FILE": os.devnull, "WARMBUILD_EXTRA_INDEX_URL": url}
    with pytest.raises(UsageError) as caught:
        load_settings({}, environ=environ)
    assert caught.value.message == (
        f"extra-index-url {url!r} (from environment WARMBUILD_EXTRA_INDEX_URL) {problem}")
    assert load_settings({"index-url": "file:///srv/index"},
                         environ={"PIP_CONFIG_FILE": os.devnull}).values[
        "index-url"].value == "file:///srv/index"


def _only_defaults(tmp_path: Path, **environ: str) -> dict[str, str]:
    return {"PIP_CONFIG_FILE": os.devnull, "WARMBUILD_CONFIG_FILE": str(tmp_path / "none"),
            **environ}


def test_ca_bundle_precedence(tmp_path: Path) -> None:
    conf = write(tmp_path / "pip.conf", "[global]\ncert = /conf.pem\nclient-cert = /c.pem\n")
    environ = {"PIP_CONFIG_FILE": str(conf), "WARMBUILD_CONFIG_FILE": str(tmp_path / "none"),
               "SSL_CERT_FILE": "/ssl.pem", "REQUESTS_CA_BUNDLE": "/requests.pem",
               "PIP_CERT": "/pip.pem"}

    def cert() -> tuple[object, str]:
        s = load_settings(flags, environ=environ, cwd=tmp_path).values["cert"]
        return s.value, s.source

    flags: dict[str, str | None] = {"cert": "/flag.pem"}
    assert cert() == ("/flag.pem", "command line")
    flags.clear()
    assert cert() == ("/pip.pem", "pip environment PIP_CERT")
    del environ["PIP_CERT"]
    assert cert() == ("/requests.pem", "environment REQUESTS_CA_BUNDLE")
    del environ["REQUESTS_CA_BUNDLE"]
    assert cert() == ("/conf.pem", f"pip config {conf} [global]")
    environ["PIP_CONFIG_FILE"] = os.devnull
    assert cert() == ("/ssl.pem", "environment SSL_CERT_FILE")
    net = load_settings({"client-cert": "/mine.pem"}, environ=environ,
                        cwd=tmp_path).network_settings()
    assert (net.cert, net.cert_source) == ("/ssl.pem", "environment SSL_CERT_FILE")
    assert (net.client_cert, net.client_cert_source) == ("/mine.pem", "command line")


def test_trusted_hosts_from_a_file_add_to_the_others(tmp_path: Path) -> None:
    environ = _only_defaults(tmp_path, PIP_TRUSTED_HOST="a.example b.example")
    setting = load_settings({}, file_options={"trusted-host": ("b.example", "c.example")},
                            environ=environ, cwd=tmp_path).values["trusted-host"]
    assert setting == Setting(("a.example", "b.example", "c.example"),
                              "pip environment PIP_TRUSTED_HOST; requirements file")
    flagged = load_settings({"trusted-host": ["d.example"]}, environ=environ, cwd=tmp_path)
    assert flagged.values["trusted-host"] == Setting(("d.example",), "command line")


def test_strategy_default_follows_where_extra_indexes_came_from(tmp_path: Path) -> None:
    def strategy(**environ: str) -> str:
        return load_settings({}, environ=_only_defaults(tmp_path, **environ),
                             cwd=tmp_path).index_settings().strategy

    assert strategy() == "first-index"
    assert strategy(WARMBUILD_EXTRA_INDEX_URL="https://x.example/simple") == "first-index"
    assert strategy(PIP_EXTRA_INDEX_URL="https://x.example/simple") == "unsafe-best-match"
    assert strategy(PIP_EXTRA_INDEX_URL="https://x.example/simple",
                    WARMBUILD_INDEX_STRATEGY="first-index") == "first-index"
    write(tmp_path / "warmbuild.toml", 'index-strategy = "unsafe-first-match"\n'
                                       "exclude-newer = 2024-01-31\n")
    settings = load_settings({}, environ=_only_defaults(tmp_path), cwd=tmp_path)
    assert settings.index_settings().strategy == "unsafe-first-match"
    assert settings.values["exclude-newer"].value == "2024-01-31"


@pytest.mark.parametrize(("environ", "message"), [
    ({"WARMBUILD_KEYRING_PROVIDER": "auto"},
     "keyring-provider 'auto' (from environment WARMBUILD_KEYRING_PROVIDER) is not supported"),
    ({"WARMBUILD_INDEX_STRATEGY": "best"},
     "index-strategy 'best' (from environment WARMBUILD_INDEX_STRATEGY) is not supported"),
    ({"WARMBUILD_EXCLUDE_NEWER": "soon"},
     "exclude-newer 'soon' (from environment WARMBUILD_EXCLUDE_NEWER) is not a date"),
])
def test_bad_values_name_their_source(tmp_path: Path, environ: dict[str, str],
                                      message: str) -> None:
    with pytest.raises(UsageError) as caught:
        load_settings({}, environ=_only_defaults(tmp_path, **environ), cwd=tmp_path)
    assert caught.value.message == message


def test_pips_own_keyring_values_mean_the_keyring_command(tmp_path: Path) -> None:
    environ = _only_defaults(tmp_path, PIP_KEYRING_PROVIDER="auto")
    settings = load_settings({}, environ=environ, cwd=tmp_path)
    assert settings.network_settings().keyring_provider == "subprocess"


def test_display_masks_passwords(tmp_path: Path) -> None:
    environ = _only_defaults(tmp_path, PIP_EXTRA_INDEX_URL="https://u:pw@x.example/simple")
    settings = load_settings({"index-url": "https://tok:secret@y.example/simple",
                              "find-links": ["https://a:b@z.example/"]}, environ=environ,
                             cwd=tmp_path)
    shown = {k: s.value for k, s in settings.display().items()}
    assert shown["index-url"] == "https://tok:****@y.example/simple"
    assert shown["extra-index-url"] == ("https://u:****@x.example/simple",)
    assert shown["find-links"] == ("https://a:****@z.example/",)
    # The settings themselves keep the password: requests need it.
    assert settings.index_settings().index_url == "https://tok:secret@y.example/simple"
