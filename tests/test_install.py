"""Installing from the real wheelhouse index, as a user would, checked by pip and imports."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from conftest import IndexFactory, Runner, installed, pip, run_python, site_packages, snapshot
from support.indexserver import IndexServer


def test_install_requirements_then_pip_agrees(wb: Runner, venv: Path, index: IndexServer,
                                              tmp_path: Path) -> None:
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("requests==2.32.5\n'rich>=13'\n".replace("'", ""))
    result = wb("install", "--python", venv, "--index-url", index.url, "-r", reqs, "flask")
    assert "Resolved" in result.stderr and "Installed" in result.stderr
    assert "+ requests==2.32.5" in result.stderr

    assert run_python(venv, "import requests, rich, flask; print(requests.__version__)") == \
        "2.32.5"
    assert pip(venv, "check").returncode == 0
    listed = {d["name"].lower(): d["version"]
              for d in json.loads(pip(venv, "list", "--format", "json").stdout)}
    assert listed["requests"] == "2.32.5" and "urllib3" in listed and "werkzeug" in listed

    site = site_packages(venv)
    info = next(site.glob("requests-*.dist-info"))
    assert (info / "INSTALLER").read_text() == "warmbuild\n"
    assert (info / "REQUESTED").exists()
    assert not (next(site.glob("urllib3-*.dist-info")) / "REQUESTED").exists()
    # The console script points at the target's interpreter.
    flask_script = (venv / "bin" / "flask").read_text()
    assert flask_script.startswith(f"#!{venv}/bin/python")


def test_second_install_changes_nothing(wb: Runner, venv: Path, index: IndexServer) -> None:
    wb("install", "--python", venv, "-i", index.url, "rich")
    before = snapshot(venv)
    result = wb("install", "--python", venv, "-i", index.url, "rich")
    assert "Audited" in result.stderr
    assert snapshot(venv) == before


def test_uninstall_removes_files_and_scripts(wb: Runner, venv: Path, index: IndexServer) -> None:
    wb("install", "--python", venv, "-i", index.url, "pytest==8.4.2")
    assert (venv / "bin" / "pytest").exists()
    result = wb("uninstall", "--python", venv, "pytest")
    assert "- pytest==8.4.2" in result.stderr
    assert not (venv / "bin" / "pytest").exists()
    assert not list(site_packages(venv).glob("pytest-*.dist-info"))
    assert not (site_packages(venv) / "pytest").exists()
    assert not (site_packages(venv) / "_pytest").exists()
    assert run_python(venv, "import pluggy; print('ok')") == "ok"


def test_uninstall_what_pip_installed_and_pip_uninstalls_ours(
        wb: Runner, venv: Path, index: IndexServer) -> None:
    pip(venv, "install", "--index-url", index.url, "six==1.17.0")
    wb("install", "--python", venv, "-i", index.url, "attrs==26.1.0")
    wb("uninstall", "--python", venv, "six")
    assert not list(site_packages(venv).glob("six*"))
    pip(venv, "uninstall", "-y", "attrs")
    assert not list(site_packages(venv).glob("attr*"))


def test_upgrade_and_downgrade(wb: Runner, venv: Path, custom_index: IndexFactory) -> None:
    server = custom_index([("demo", "1.0", {"files": {"demo/old.py": "x = 1\n",
                                                       "demo/__init__.py": "__version__='1.0'"}}),
                           ("demo", "2.0")])
    wb("install", "--python", venv, "-i", server.url, "demo==1.0")
    site = site_packages(venv)
    assert (site / "demo" / "old.py").exists()
    result = wb("install", "--python", venv, "-i", server.url, "-U", "demo")
    assert "demo==1.0 -> 2.0" in result.stderr
    assert not (site / "demo" / "old.py").exists(), "files of the old version are removed"
    assert run_python(venv, "import demo; print(demo.__version__)") == "2.0"
    assert [p.name for p in site.glob("demo-*.dist-info")] == ["demo-2.0.dist-info"]
    result = wb("install", "--python", venv, "-i", server.url, "demo==1.0")
    assert "demo==2.0 -> 1.0" in result.stderr
    assert run_python(venv, "import demo; print(demo.__version__)") == "1.0"


def test_installed_version_is_preferred_unless_upgrade(
        wb: Runner, venv: Path, custom_index: IndexFactory) -> None:
    server = custom_index([("lib", "1.0"), ("lib", "1.5"), ("app", "1.0", {"requires": ["lib"]})])
    wb("install", "--python", venv, "-i", server.url, "lib==1.0")
    wb("install", "--python", venv, "-i", server.url, "app")
    assert run_python(venv, "import lib; print(lib.__version__)") == "1.0"
    # -U upgrades what was named; its dependencies only if needed (pip's default).
    wb("install", "--python", venv, "-i", server.url, "-U", "app")
    assert run_python(venv, "import lib; print(lib.__version__)") == "1.0"
    wb("install", "--python", venv, "-i", server.url, "-U", "app", "--upgrade-package", "lib")
    assert run_python(venv, "import lib; print(lib.__version__)") == "1.5"


def test_reinstall_and_dry_run(wb: Runner, venv: Path, index: IndexServer) -> None:
    wb("install", "--python", venv, "-i", index.url, "six==1.17.0")
    before = snapshot(venv)
    result = wb("install", "--python", venv, "-i", index.url, "--dry-run", "--reinstall",
                "six==1.17.0", "attrs")
    assert "Would change 2 packages" in result.stderr
    assert "~ six==1.17.0" in result.stderr and "+ attrs==26.1.0" in result.stderr
    assert snapshot(venv) == before
    report = json.loads(wb("install", "--python", venv, "-i", index.url, "--dry-run",
                           "--format", "json", "six", "attrs").stdout)
    assert report["dry_run"] is True
    assert [(a["action"], a["name"]) for a in report["actions"]] == [("install", "attrs")]
    assert report["unchanged"] == ["six"]
    wb("install", "--python", venv, "-i", index.url, "--reinstall", "six==1.17.0")
    assert snapshot(venv) != before
    assert pip(venv, "check").returncode == 0


def test_no_deps(wb: Runner, venv: Path, index: IndexServer) -> None:
    wb("install", "--python", venv, "-i", index.url, "--no-deps", "requests==2.32.5")
    names = {p.name.split("-")[0] for p in site_packages(venv).glob("*.dist-info")}
    assert names == {"requests"}


def test_local_wheel_and_url_are_direct_installs(wb: Runner, venv: Path, wheelhouse: Path,
                                                 index: IndexServer) -> None:
    local = next(wheelhouse.glob("six-*.whl"))
    url = f"{index.files_url}/{next(wheelhouse.glob('attrs-*.whl')).name}"
    wb("install", "--python", venv, "--no-index", local, f"attrs @ {url}")
    site = site_packages(venv)
    direct = json.loads((next(site.glob("six-*.dist-info")) / "direct_url.json").read_text())
    assert direct["url"] == local.as_uri() and "archive_info" in direct
    direct = json.loads((next(site.glob("attrs-*.dist-info")) / "direct_url.json").read_text())
    assert direct["url"] == url
    freeze = wb("freeze", "--python", venv).stdout.splitlines()
    assert f"six @ {local.as_uri()}" in freeze
    assert pip(venv, "check").returncode == 0


def test_list_freeze_show(wb: Runner, venv: Path, index: IndexServer) -> None:
    wb("install", "--python", venv, "-i", index.url, "jinja2==3.1.6")
    listed = json.loads(wb("list", "--python", venv, "--format", "json").stdout)
    assert {"name": "Jinja2", "version": "3.1.6"} in listed
    assert any(d["name"] == "MarkupSafe" for d in listed)
    assert "jinja2" in wb("list", "--python", venv).stdout.lower()
    freeze = wb("freeze", "--python", venv).stdout.splitlines()
    assert "Jinja2==3.1.6" in freeze and any(line.startswith("MarkupSafe==") for line in freeze)
    show = wb("show", "--python", venv, "markupsafe").stdout
    assert "Name: MarkupSafe" in show and "Required-by: Jinja2" in show
    assert f"Location: {site_packages(venv)}" in show
    missing = wb("show", "--python", venv, "nope", expect=1)
    assert "not found: nope" in missing.stderr


def test_compile_bytecode_and_quiet(wb: Runner, venv: Path, index: IndexServer) -> None:
    result = wb("install", "--python", venv, "-i", index.url, "six", "-q")
    assert result.stderr == "", "-q leaves only warnings and errors"
    site = site_packages(venv)
    assert not list(site.glob("__pycache__/six.*.pyc")), "no bytecode by default"
    wb("install", "--python", venv, "-i", index.url, "attrs", "--compile-bytecode")
    assert list(site.glob("attr/__pycache__/*.pyc")), "compiled by the target interpreter"
    tag = run_python(venv, "import sys; print(sys.implementation.cache_tag)")
    assert all(tag in p.name for p in site.glob("attr/__pycache__/*.pyc"))
    wb("uninstall", "--python", venv, "attrs")
    assert not (site / "attr").exists(), "uninstall removes the bytecode it did not record"
    # As with pip and uv, the common options may come before the command too.
    before = wb("-q", "uninstall", "--python", venv, "six")
    assert before.stderr == "" and "six" not in installed(venv)


def test_data_schemes_scripts_and_shipped_bytecode(wb: Runner, venv: Path, index: IndexServer,
                                                   tmp_path: Path) -> None:
    """Every part of a wheel lands where installer would put it: `.data` schemes (a
    `#!python` script rewritten for the target), console scripts, and no bytecode that
    the wheel ships; RECORD lists all of it, so uninstall leaves nothing behind."""
    from support.wheels import make_wheel

    before = snapshot(venv)
    whl = make_wheel(
        tmp_path, "datapkg", "1.0",
        files={"datapkg/__init__.py": "def main():\n    print('entry point')\n",
               "datapkg/__pycache__/stale.cpython-311.pyc": b"not bytecode"},
        entry_points={"console_scripts": {"datapkg-cli": "datapkg:main"}},
        data_files={"scripts/datapkg-sh": "#!python\nprint('rewritten')\n",
                    "data/share/datapkg/notes.txt": "notes\n",
                    "purelib/datapkg_extra.py": "VALUE = 7\n"})
    result = wb("install", "--python", venv, "-i", index.url, whl)
    assert "__pycache__" in result.stderr, "the skipped bytecode is named"
    site = site_packages(venv)
    assert not (site / "datapkg" / "__pycache__").exists()
    script = venv / "bin" / "datapkg-sh"
    assert script.read_text().startswith(f"#!{venv}/bin/python")
    assert script.stat().st_mode & 0o111
    assert (venv / "share" / "datapkg" / "notes.txt").read_text() == "notes\n"
    assert run_python(venv, "import datapkg_extra; print(datapkg_extra.VALUE)") == "7"
    assert subprocess.run([venv / "bin" / "datapkg-cli"], capture_output=True, text=True,
                          check=True).stdout == "entry point\n"
    record = (next(site.glob("datapkg-1.0.dist-info")) / "RECORD").read_text()
    for listed in ("datapkg/__init__.py", "datapkg_extra.py", "../../../bin/datapkg-sh",
                   "../../../bin/datapkg-cli", "../../../share/datapkg/notes.txt",
                   "datapkg-1.0.dist-info/INSTALLER"):
        assert f"{listed}," in record, listed
    assert pip(venv, "check").returncode == 0
    wb("uninstall", "--python", venv, "datapkg")
    assert snapshot(venv) == before


def test_an_upgrade_through_a_dotted_venv_path_removes_the_old_files(
        wb: Runner, venv: Path, custom_index: IndexFactory, tmp_path: Path) -> None:
    server = custom_index([
        ("lib", "1.0", {"files": {"lib/__init__.py": "", "lib/gone.py": ""}}),
        ("lib", "2.0", {"files": {"lib/__init__.py": ""}})])
    sub = tmp_path / "project"
    sub.mkdir()
    dotted = f"../{venv.name}"  # the venv, spelled from a sibling directory
    wb("install", "--python", dotted, "-i", server.url, "lib==1.0", cwd=sub)
    assert (site_packages(venv) / "lib" / "gone.py").is_file()
    result = wb("install", "--python", dotted, "-i", server.url, "lib==2.0", cwd=sub)
    assert "not removing" not in result.stderr
    assert installed(venv) == {"lib": "2.0"}
    assert not (site_packages(venv) / "lib" / "gone.py").exists()
