"""`warmbuild config`: the effective index settings and where each came from, and that an
install really uses them. Precedence, lowest first: default, pip config files ([install]
over [global]), pip environment variables, WARMBUILD_* variables, requirements file,
command line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conftest import IndexFactory, Runner, create_venv, run_python
from support.wheels import make_wheel


def _config(wb: Runner, *args: str | Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    rows: dict[str, Any] = json.loads(wb("config", "--format", "json", *args, env=env).stdout)
    return rows


def _text_rows(wb: Runner, *args: str | Path, env: dict[str, str] | None = None
               ) -> dict[str, tuple[str, str]]:
    """``key = value    # source`` lines as {key: (value, source)}."""
    rows = {}
    for line in wb("config", *args, env=env).stdout.splitlines():
        key, _, rest = line.partition(" = ")
        value, _, source = rest.partition("    # ")
        rows[key.strip()] = (value, source)
    return rows


def _pip_conf(path: Path, text: str) -> dict[str, str]:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return {"PIP_CONFIG_FILE": str(path)}


def test_defaults(wb: Runner) -> None:
    rows = _text_rows(wb)
    assert rows["index-url"] == ("https://pypi.org/simple", "default")
    assert rows["extra-index-url"] == ("(none)", "default")
    assert rows["find-links"] == ("(none)", "default")
    assert rows["no-index"] == ("false", "default")
    assert rows["index-strategy"][0] == "first-index"
    assert rows["cache-dir"] == (wb.env["WARMBUILD_CACHE_DIR"], "environment WARMBUILD_CACHE_DIR")


def test_pip_config_file_global_and_install_sections(wb: Runner, tmp_path: Path) -> None:
    conf = tmp_path / "pip.conf"
    env = _pip_conf(conf, (
        "[global]\n"
        "index-url = https://global.example/simple\n"
        "extra-index-url = https://a.example/simple https://b.example/simple\n"
        "find-links =\n    /srv/wheels\n    https://c.example/links.html\n"
        "[install]\n"
        "index-url = https://install.example/simple\n"
        "no-index = true\n"))
    rows = _config(wb, env=env)
    assert rows["index-url"] == {"value": "https://install.example/simple",
                                 "source": f"pip config {conf} [install]"}
    assert rows["extra-index-url"] == {
        "value": ["https://a.example/simple", "https://b.example/simple"],
        "source": f"pip config {conf} [global]"}
    assert rows["find-links"]["value"] == ["/srv/wheels", "https://c.example/links.html"]
    assert rows["no-index"] == {"value": True, "source": f"pip config {conf} [install]"}
    text = _text_rows(wb, env=env)
    assert text["extra-index-url"][0] == "https://a.example/simple https://b.example/simple"
    assert text["no-index"][0] == "true"


def test_pip_config_key_spellings_and_empty_values(wb: Runner, tmp_path: Path) -> None:
    # pip accepts index_url for index-url and ignores empty values: an empty [install]
    # index-url must not replace the [global] one with "".
    conf = tmp_path / "pip.conf"
    env = _pip_conf(conf, "[global]\nindex_url = https://underscore.example/simple\n"
                          "[install]\nindex-url =\n")
    rows = _config(wb, env=env)
    assert rows["index-url"] == {"value": "https://underscore.example/simple",
                                 "source": f"pip config {conf} [global]"}


def test_install_section_beats_global_of_a_later_file(wb: Runner, tmp_path: Path) -> None:
    # pip ranks sections before files: [install] anywhere beats [global] anywhere. Here the
    # target venv's pip.conf (read before PIP_CONFIG_FILE) has [install].
    venv = create_venv(tmp_path / "venv")
    (venv / "pip.conf").write_text("[install]\nindex-url = https://site.example/simple\n")
    env = _pip_conf(tmp_path / "env.conf", "[global]\nindex-url = https://env.example/simple\n"
                                           "extra-index-url = https://extra.example/simple\n")
    rows = _config(wb, "--python", venv, env=env)
    assert rows["index-url"] == {"value": "https://site.example/simple",
                                 "source": f"pip config {venv / 'pip.conf'} [install]"}
    assert rows["extra-index-url"]["value"] == ["https://extra.example/simple"]


def test_user_config_is_ignored_when_pip_config_file_is_set(wb: Runner, tmp_path: Path) -> None:
    # As pip does: an existing PIP_CONFIG_FILE replaces the per-user files.
    user = Path(wb.env["XDG_CONFIG_HOME"]) / "pip" / "pip.conf"
    user.parent.mkdir(parents=True)
    user.write_text("[global]\nfind-links = /user/wheels\n"
                    "index-url = https://user.example/simple\n")
    no_pip_file = {"PIP_CONFIG_FILE": ""}
    rows = _config(wb, env=no_pip_file)
    assert rows["find-links"] == {"value": ["/user/wheels"],
                                  "source": f"pip config {user} [global]"}
    env = _pip_conf(tmp_path / "env.conf", "[global]\nindex-url = https://env.example/simple\n")
    rows = _config(wb, env=env)
    assert rows["index-url"]["value"] == "https://env.example/simple"
    assert rows["find-links"] == {"value": [], "source": "default"}


def test_environment_over_pip_config_and_command_line_over_both(
        wb: Runner, tmp_path: Path) -> None:
    env = _pip_conf(tmp_path / "pip.conf", "[global]\nindex-url = https://conf.example/simple\n"
                                           "find-links = /conf/wheels\n")
    env.update(PIP_INDEX_URL="https://pipenv.example/simple",
               WARMBUILD_INDEX_URL="https://wb.example/simple",
               WARMBUILD_EXTRA_INDEX_URL="https://x.example/simple https://y.example/simple")
    rows = _config(wb, env=env)
    assert rows["index-url"] == {"value": "https://wb.example/simple",
                                 "source": "environment WARMBUILD_INDEX_URL"}
    assert rows["extra-index-url"] == {
        "value": ["https://x.example/simple", "https://y.example/simple"],
        "source": "environment WARMBUILD_EXTRA_INDEX_URL"}
    assert rows["find-links"]["value"] == ["/conf/wheels"]
    without_wb = {**env, "WARMBUILD_INDEX_URL": ""}
    assert _config(wb, env=without_wb)["index-url"] == {
        "value": "https://pipenv.example/simple", "source": "pip environment PIP_INDEX_URL"}

    rows = _config(wb, "-i", "https://cli.example/simple", "--extra-index-url",
                   "https://e1.example/simple", "--extra-index-url", "https://e2.example/simple",
                   "--no-index", "--cache-dir", tmp_path / "c", env=env)
    assert rows["index-url"] == {"value": "https://cli.example/simple", "source": "command line"}
    assert rows["extra-index-url"] == {
        "value": ["https://e1.example/simple", "https://e2.example/simple"],
        "source": "command line"}
    assert rows["no-index"] == {"value": True, "source": "command line"}
    assert rows["find-links"]["value"] == ["/conf/wheels"], "not given on the command line"
    assert rows["cache-dir"] == {"value": str(tmp_path / "c"), "source": "command line"}


def test_json_format_lists_every_setting(wb: Runner) -> None:
    rows = _config(wb)
    assert set(rows) == {"index-url", "extra-index-url", "find-links", "no-index", "cache-dir",
                         "index-strategy", "trusted-host", "cert", "client-cert",
                         "keyring-provider", "exclude-newer", "link-mode", "constraint",
                         "only-binary", "no-binary", "timeout", "retries", "proxy"}
    assert all(set(row) == {"value", "source"} for row in rows.values())
    assert rows["extra-index-url"] == {"value": [], "source": "default"}
    assert rows["no-index"] == {"value": False, "source": "default"}


def test_install_uses_the_index_from_pip_config(wb: Runner, tmp_path: Path,
                                                custom_index: IndexFactory) -> None:
    server = custom_index([("demo", "1.0")])
    venv = create_venv(tmp_path / "venv")
    env = _pip_conf(tmp_path / "pip.conf", f"[global]\nindex-url = {server.url}\n")
    wb("install", "--python", venv, "demo", env=env)
    assert run_python(venv, "import demo; print(demo.__version__)") == "1.0"
    assert "/simple/demo/" in list(server.paths())


def test_install_uses_extra_index_and_find_links_from_pip_config(
        wb: Runner, tmp_path: Path, custom_index: IndexFactory) -> None:
    main = custom_index([("demo", "2.0"), ("app", "1.0", {"requires": ["demo", "lib"]})])
    extra = custom_index([("demo", "3.0")])
    links = tmp_path / "links"
    make_wheel(links, "lib", "4.0")
    venv = create_venv(tmp_path / "venv")
    env = _pip_conf(tmp_path / "pip.conf", f"[global]\nindex-url = {main.url}\n"
                                           f"extra-index-url = {extra.url}\n"
                                           f"[install]\nfind-links = {links}\n")
    wb("install", "--python", venv, "app", env=env)
    # Extra indexes from pip's config get pip's merge (README: index strategy): the best
    # version of every index, here the extra one's.
    assert run_python(venv, "import demo, lib; print(demo.__version__, lib.__version__)") == \
        "3.0 4.0"
