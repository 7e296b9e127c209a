"""pip's options that scripts, Dockerfiles and CI jobs pass: accepted, and those that mean
something to warmbuild (``--timeout``, ``--retries``, ``--log``, ``--compile``,
``--require-virtualenv``, ``--progress-bar``, ``--no-color``) do it. ``--proxy``:
test_proxy."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from conftest import IndexFactory, Runner, installed, site_packages
from support.indexserver import IndexServer, serve_index


def test_a_dockerfiles_pip_line_runs_unchanged(wb: Runner, venv: Path,
                                              index: IndexServer) -> None:
    result = wb("--disable-pip-version-check", "install", "--python", venv, "-i", index.url,
                "--no-input", "--progress-bar", "off", "--root-user-action", "ignore",
                "--no-warn-script-location", "--no-compile", "--no-warn-conflicts",
                "--no-clean", "--exists-action", "w", "--no-python-version-warning",
                "--timeout", "60", "--default-timeout", "60", "--retries", "2", "--no-color",
                "--no-cache-dir", "six")
    assert installed(venv) == {"six": "1.17.0"} and "+ six==1.17.0" in result.stderr
    assert not list(site_packages(venv).rglob("*.pyc"))
    assert "\x1b[" not in result.stderr


def test_compile_writes_bytecode(wb: Runner, venv: Path, index: IndexServer) -> None:
    wb("install", "--python", venv, "-i", index.url, "--compile", "six")
    assert list(site_packages(venv).glob("__pycache__/six.*.pyc"))


def test_require_virtualenv_refuses_an_interpreter_outside_one(
        wb: Runner, venv: Path, index: IndexServer) -> None:
    base = Path(sys.base_prefix) / "bin" / "python3"
    refused = wb("install", "--python", base, "-i", index.url, "--dry-run",
                 "--require-virtualenv", "six", expect=2)
    assert "is not in a virtual environment, and --require-virtualenv was given" in \
        refused.stderr
    wb("install", "--python", venv, "-i", index.url, "--require-virtualenv", "six")
    wb("list", "--python", base, "--require-virtualenv", expect=2)


def test_log_appends_every_message_with_its_time(wb: Runner, venv: Path, index: IndexServer,
                                                 tmp_path: Path) -> None:
    log = tmp_path / "pip.log"
    quiet = wb("install", "-q", "--python", venv, "-i", index.url, "--log", log, "six")
    assert quiet.stderr == ""
    text = log.read_text()
    assert "Resolved 1 package" in text and "Installed 1 package" in text
    assert " + six==1.17.0" in text and text.startswith("20")  # each line: its time first
    wb("uninstall", "--python", venv, "six", "--log", log)
    assert log.read_text().startswith(text) and "- six==1.17.0" in log.read_text()
    wb("install", "--python", venv, "--log", log, "-i", index.url, "no-such-project",
       expect=1)
    assert "error: no package named `no-such-project` was found" in log.read_text()
    failed = wb("install", "--python", venv, "--log", tmp_path / "no" / "such" / "dir.log",
                "six", expect=1)
    assert "error: --log" in failed.stderr and "Traceback" not in failed.stderr


def test_timeout_and_retries_from_flags_pip_variables_and_config(
        wb: Runner, venv: Path, wheelhouse: Path, tmp_path: Path) -> None:
    with serve_index([wheelhouse], latency=3.0) as slow:
        result = wb("install", "--python", venv, "-i", slow.url, "--timeout", "0.5",
                    "--retries", "0", "six", expect=1)
    assert "timed out" in result.stderr.lower() and "Traceback" not in result.stderr
    conf = tmp_path / "pip.conf"
    conf.write_text("[global]\ntimeout = 7\n")
    env = {"PIP_CONFIG_FILE": str(conf), "PIP_RETRIES": "4"}
    shown = json.loads(wb("config", "--format", "json", env=env).stdout)
    assert shown["timeout"]["value"] == "7" and str(conf) in shown["timeout"]["source"]
    assert shown["retries"] == {"value": "4", "source": "pip environment PIP_RETRIES"}
    env["PIP_DEFAULT_TIMEOUT"] = "9"
    shown = json.loads(wb("config", "--format", "json", env=env).stdout)
    assert shown["timeout"] == {"value": "9", "source": "pip environment PIP_DEFAULT_TIMEOUT"}
    proxy = "http://user:s3cret@proxy.example:3128"
    shown = json.loads(wb("config", "--format", "json", "--proxy", proxy).stdout)
    assert shown["proxy"] == {"value": "http://user:****@proxy.example:3128",
                              "source": "command line"}
    bad = wb("config", env={**env, "PIP_RETRIES": "many"}, expect=2)
    assert "retries 'many' (from pip environment PIP_RETRIES) must be a number" in bad.stderr
    assert "--timeout" in wb("install", "--python", venv, "--timeout", "0", "six",
                             expect=2).stderr


def test_isolated_ignores_pips_variables_and_user_config(wb: Runner, tmp_path: Path) -> None:
    user = tmp_path / "home" / ".config" / "pip" / "pip.conf"  # clean_env's XDG_CONFIG_HOME
    user.parent.mkdir(parents=True)
    user.write_text("[global]\nindex-url = http://user.example/simple\n")
    env = {"PIP_CONFIG_FILE": "", "XDG_CONFIG_DIRS": str(tmp_path / "no-such-dir"),
           "PIP_RETRIES": "4"}
    shown = json.loads(wb("config", "--format", "json", env=env).stdout)
    assert shown["index-url"]["value"] == "http://user.example/simple"
    assert shown["retries"]["value"] == "4"
    shown = json.loads(wb("config", "--format", "json", "--isolated", env=env).stdout)
    assert shown["index-url"]["value"] != "http://user.example/simple"
    assert shown["retries"] == {"value": None, "source": "default"}


def test_ignore_requires_python_offers_and_installs_what_it_excludes(
        wb: Runner, venv: Path, custom_index: IndexFactory) -> None:
    # oldpy says (in its metadata and so on the index page) that it runs on Python 2 only;
    # app needs it.
    server = custom_index([("oldpy", "1.0", {"requires_python": "<3"}),
                           ("app", "1.0", {"requires": ["oldpy"]})])
    refused = wb("install", "--python", venv, "-i", server.url, "app", expect=1)
    assert "oldpy" in refused.stderr and installed(venv) == {}
    wb("install", "--python", venv, "-i", server.url, "--ignore-requires-python", "app")
    assert installed(venv) == {"app": "1.0", "oldpy": "1.0"}
    again = wb("install", "--python", venv, "-i", "http://127.0.0.1:9/simple",
               "--ignore-requires-python", "app")
    assert "nothing to do" in again.stderr
    with_dl = wb("download", "-i", server.url, "-d", venv.parent / "dl",
                 "--ignore-requires-python", "oldpy")
    assert "oldpy-1.0" in with_dl.stdout
