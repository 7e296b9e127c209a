"""Install locations other than the environment itself: --target, --prefix, --root, --user.

Each is checked against what pip puts where for the same wheel (pip with --no-compile), and
by importing what was installed with the target interpreter.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import IndexFactory, Runner, installed, pip, run_python, site_packages
from support.indexserver import IndexServer
from test_target import fake_system_python

PY = f"python{sys.version_info[0]}.{sys.version_info[1]}"
SCRIPT = {"console_scripts": {"demo-cli": "demo:main"}}
DEMO = {"files": {"demo/__init__.py": "def main():\n    print('demo ran')\n"},
        "entry_points": SCRIPT, "requires": ["dep"],
        "data_files": {"headers/demo.h": "int demo;\n", "data/share/demo/x.txt": "x\n"}}


def demo_index(custom_index: IndexFactory) -> IndexServer:
    return custom_index([("demo", "1.0", DEMO), ("dep", "1.0")])


def files_under(root: Path) -> set[str]:
    """Relative paths of the files under ``root``, without what differs by installer."""
    skip = {"INSTALLER", "RECORD", "REQUESTED", "direct_url.json"}
    return {str(p.relative_to(root)) for p in root.rglob("*")
            if p.is_file() and p.name not in skip and "__pycache__" not in p.parts
            and ".warmbuild" not in str(p)}


def import_with(python: Path, path: Path, code: str) -> str:
    proc = subprocess.run([str(python), "-c", code], capture_output=True, text=True,
                          check=True, env={**os.environ, "PYTHONPATH": str(path)})
    return proc.stdout.strip()


def test_target_puts_packages_at_the_top_and_scripts_in_bin(
        wb: Runner, venv: Path, custom_index: IndexFactory, tmp_path: Path) -> None:
    server = demo_index(custom_index)
    target = tmp_path / "target"
    result = wb("install", "--python", venv, "-i", server.url, "--target", target, "demo")
    # The first line says where: the directory, not the venv whose interpreter is used.
    assert result.stderr.splitlines()[0] == \
        f"Using Python {sys.version.split()[0]} environment at target"
    assert installed(venv) == {}, "the venv itself is untouched"
    assert (target / "demo" / "__init__.py").is_file() and (target / "dep").is_dir()
    script = target / "bin" / "demo-cli"
    assert script.read_text().startswith(f"#!{venv}/bin/python")
    assert import_with(venv / "bin" / "python", target,
                       "import demo, dep; print(demo.__file__)") == \
        str(target / "demo" / "__init__.py")
    pip_target = tmp_path / "pip-target"
    pip(venv, "install", "--no-compile", "-i", server.url, "--target", str(pip_target), "demo")
    assert files_under(target) == files_under(pip_target)
    # Read back from the directory: the second run has nothing to do.
    again = wb("install", "--python", venv, "-i", server.url, "--target", target, "demo")
    assert "Audited 2 packages" in again.stderr


def test_target_replaces_what_it_holds_only_with_upgrade(
        wb: Runner, venv: Path, custom_index: IndexFactory, tmp_path: Path) -> None:
    server = custom_index([
        ("demo", "1.0", {"files": {"demo/__init__.py": "V = '1.0'\n", "demo/old.py": ""}}),
        ("demo", "2.0", {"files": {"demo/__init__.py": "V = '2.0'\n"}})])
    target = tmp_path / "target"
    python = venv / "bin" / "python"
    wb("install", "--python", venv, "-i", server.url, "-t", target, "demo==1.0")
    kept = wb("install", "--python", venv, "-i", server.url, "-t", target, "demo==2.0")
    assert f"demo 1.0 is already in {target}; not replaced by 2.0" in kept.stderr
    assert "-U/--upgrade" in kept.stderr
    assert import_with(python, target, "import demo; print(demo.V)") == "1.0"
    # pip agrees: without --upgrade, what the directory holds stays.
    pip_target = tmp_path / "pip-target"
    for args in (["demo==1.0"], ["demo==2.0"]):
        pip(venv, "install", "--no-compile", "-i", server.url, "-t", str(pip_target), *args)
    assert import_with(python, pip_target, "import demo; print(demo.V)") == "1.0"

    upgraded = wb("install", "--python", venv, "-i", server.url, "-t", target, "-U", "demo")
    assert "~ demo==1.0 -> 2.0" in upgraded.stderr
    assert import_with(python, target, "import demo; print(demo.V)") == "2.0"
    # Unlike pip, which leaves demo-1.0.dist-info beside the new one, the old files go.
    assert not (target / "demo" / "old.py").exists()
    assert sorted(p.name for p in target.glob("demo-*.dist-info")) == ["demo-2.0.dist-info"]


def test_prefix_and_root_layouts_are_pips(wb: Runner, venv: Path, custom_index: IndexFactory,
                                          tmp_path: Path) -> None:
    server = demo_index(custom_index)
    prefix, pip_prefix = tmp_path / "prefix", tmp_path / "pip-prefix"
    result = wb("install", "--python", venv, "-i", server.url, "--prefix", prefix, "demo")
    assert "environment at prefix" in result.stderr.splitlines()[0]
    pip(venv, "install", "--no-compile", "-i", server.url, "--prefix", str(pip_prefix), "demo")
    assert files_under(prefix) == files_under(pip_prefix)
    site = prefix / "lib" / PY / "site-packages"
    assert import_with(venv / "bin" / "python", site, "import demo; demo.main()") == "demo ran"
    assert (prefix / "bin" / "demo-cli").is_file()
    assert installed(venv) == {}

    root, pip_root = tmp_path / "root", tmp_path / "pip-root"
    wb("install", "--python", venv, "-i", server.url, "--root", root, "demo")
    pip(venv, "install", "--no-compile", "-i", server.url, "--root", str(pip_root), "demo")
    assert files_under(root) == files_under(pip_root)
    rooted_site = root / site_packages(venv).relative_to("/")
    assert (rooted_site / "demo" / "__init__.py").is_file()
    again = wb("install", "--python", venv, "-i", server.url, "--root", root, "demo")
    assert "Audited 2 packages" in again.stderr, "what is installed is read under the root"


def test_user_is_refused_in_a_venv_and_works_with_system(
        wb: Runner, venv: Path, custom_index: IndexFactory, tmp_path: Path) -> None:
    server = demo_index(custom_index)
    refused = wb("install", "--python", venv, "-i", server.url, "--user", "demo", expect=1)
    assert "user site-packages are not visible in the virtual environment" in refused.stderr
    assert "pip" not in refused.stderr

    python = fake_system_python(tmp_path / "system")
    (python.parent / "python3").symlink_to(python.name)
    user_base = tmp_path / "userbase"
    env = {"PATH": f"{python.parent}{os.pathsep}{os.environ['PATH']}",
           "PYTHONUSERBASE": str(user_base)}
    result = wb("install", "--system", "--user", "-i", server.url, "demo", env=env)
    assert "environment at userbase" in result.stderr.splitlines()[0]
    site = user_base / "lib" / PY / "site-packages"
    assert (site / "demo" / "__init__.py").is_file() and (user_base / "bin" / "demo-cli").exists()
    # The interpreter finds it in its user site, as after `pip install --user`.
    proc = subprocess.run([str(python), "-c", "import demo; demo.main()"], capture_output=True,
                          text=True, check=True,
                          env={**os.environ, "PYTHONUSERBASE": str(user_base)})
    assert proc.stdout.strip() == "demo ran"
    system_site = tmp_path / "system" / "lib" / PY / "site-packages"
    assert not list(system_site.iterdir()), "the interpreter's own site-packages is untouched"


def test_environment_line_comes_first_and_quiet_hides_it(
        wb: Runner, venv: Path, index: IndexServer) -> None:
    result = wb("install", "--python", venv, "-i", index.url, "six")
    version = sys.version.split()[0]
    assert result.stderr.splitlines()[0] == f"Using Python {version} environment at venv"
    assert run_python(venv, "import six; print('ok')") == "ok"
    removed = wb("uninstall", "--python", venv, "six")
    assert removed.stderr.splitlines()[0] == f"Using Python {version} environment at venv"
    quiet = wb("-q", "install", "--python", venv, "-i", index.url, "six")
    assert "Using Python" not in quiet.stderr


def test_an_upgrade_in_a_dotted_prefix_removes_the_old_files_and_dirs(
        wb: Runner, venv: Path, custom_index: IndexFactory, tmp_path: Path) -> None:
    server = custom_index([
        ("lib", "1.0", {"files": {"lib/__init__.py": "", "lib/old/gone.py": ""}}),
        ("lib", "2.0", {"files": {"lib/__init__.py": ""}})])
    sub = tmp_path / "project"
    sub.mkdir()
    for version in ("1.0", "2.0"):
        result = wb("install", "--python", venv, "-i", server.url, "--prefix", "../pfx",
                    f"lib=={version}", cwd=sub)
    assert "not removing" not in result.stderr
    (site,) = (tmp_path / "pfx").glob("lib/python3*/site-packages")
    assert (site / "lib" / "__init__.py").is_file()
    assert not (site / "lib" / "old").exists()
    assert [p.name for p in site.glob("lib-*.dist-info")] == ["lib-2.0.dist-info"]
