"""Other source forms: sdist archives by path and URL, ``-r pyproject.toml``, PEP 735
``--group``, and ``--extra``/``--all-extras`` for pyproject files and project directories."""

from __future__ import annotations

import json
import shutil
import tarfile
import zipfile
from pathlib import Path

from conftest import IndexFactory, Runner, create_venv, installed, run_python, site_packages
from support.indexserver import IndexServer, serve_index
from support.wheels import make_sdist

PROJECTS = Path(__file__).parent / "projects"


def as_zip(sdist: Path) -> Path:
    """The same sdist as a .zip (pip and uv install both)."""
    target = sdist.with_name(sdist.name.replace(".tar.gz", ".zip"))
    with tarfile.open(sdist) as tf, zipfile.ZipFile(target, "w") as zf:
        for member in tf.getmembers():
            handle = tf.extractfile(member)
            if handle is not None:
                zf.writestr(member.name, handle.read())
    sdist.unlink()
    return target


def planned(wb: Runner, *args: str | Path, cwd: Path | None = None) -> set[str]:
    """The names a dry run would install."""
    out = wb("install", "--dry-run", "--format", "json", *args, cwd=cwd).stdout
    return {a["name"] for a in json.loads(out)["actions"]}


def test_sdist_archives_by_path(wb: Runner, venv: Path, index: IndexServer,
                                tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    tgz = make_sdist(dist, "local-tgz", "1.0", requires=["six"])
    zipped = as_zip(make_sdist(dist, "local-zip", "2.0"))
    wb("install", "--python", venv, "-i", index.url, "./dist/local_tgz-1.0.tar.gz",
       "./dist/local_zip-2.0.zip")
    assert installed(venv) == {"local_tgz": "1.0", "local_zip": "2.0", "six": "1.17.0"}
    assert run_python(venv, "import local_zip; print(local_zip.VALUE)") == "2.0"
    (info,) = site_packages(venv).glob("local_tgz-*.dist-info")
    assert json.loads((info / "direct_url.json").read_text())["url"] == tgz.as_uri()
    assert f"local-zip @ {zipped.as_uri()}" in wb("freeze", "--python", venv).stdout


def test_sdist_url_is_built_once(wb: Runner, venv: Path, wheelhouse: Path,
                                 tmp_path: Path) -> None:
    make_sdist(tmp_path / "sdists", "remote-sd", "1.0", requires=["six"])
    with serve_index([tmp_path / "sdists", wheelhouse]) as server:
        url = f"{server.files_url}/remote_sd-1.0.tar.gz"
        first = wb("install", "--python", venv, "-i", server.url, url)
        assert "Built remote_sd-1.0-py3-none-any.whl" in first.stderr
        assert installed(venv) == {"remote_sd": "1.0", "six": "1.17.0"}
        fresh = create_venv(tmp_path / "fresh")
        second = wb("install", "--python", fresh, "-i", server.url, f"remote-sd @ {url}")
        assert "Built" not in second.stderr, "the wheel is kept by the sdist's sha256"
        assert installed(fresh) == installed(venv)


PYPROJECT = """\
[project]
name = "me"
version = "1"
dependencies = ["alpha"]

[project.optional-dependencies]
b = ["beta"]
all = ["me[b]", "gamma"]

[dependency-groups]
dev = ["delta", {include-group = "docs"}]
docs = ["gamma"]
"""


def test_pyproject_dependencies_extras_and_groups(
        wb: Runner, venv: Path, tmp_path: Path, custom_index: IndexFactory) -> None:
    server = custom_index([("alpha", "1.0"), ("beta", "1.0"), ("gamma", "1.0"),
                           ("delta", "1.0")])
    project = tmp_path / "proj"
    project.mkdir()
    (project / "pyproject.toml").write_text(PYPROJECT)
    base = ("--python", venv, "-i", server.url)
    pyproject = project / "pyproject.toml"
    assert planned(wb, *base, "-r", pyproject) == {"alpha"}
    assert planned(wb, *base, "-r", pyproject, "--extra", "B") == {"alpha", "beta"}
    assert planned(wb, *base, "-r", pyproject, "--extra", "all") == {"alpha", "beta", "gamma"}
    assert planned(wb, *base, "-r", pyproject, "--all-extras") == {"alpha", "beta", "gamma"}
    assert planned(wb, *base, "--group", "dev", cwd=project) == {"delta", "gamma"}
    assert planned(wb, *base, "--group", "proj/pyproject.toml:docs") == {"gamma"}
    wb("install", *base, "-r", pyproject, "--group", "proj/pyproject.toml:dev")
    assert installed(venv) == {"alpha": "1.0", "delta": "1.0", "gamma": "1.0"}

    missing = wb("install", *base, "-r", pyproject, "--extra", "nope", expect=1).stderr
    assert f"{pyproject}: the project has no extra `nope`" in missing
    nothing = wb("install", *base, "alpha", "--extra", "b", expect=2).stderr
    assert "--extra and --all-extras apply to -r pyproject.toml" in nothing
    group = wb("install", *base, "--group", "test", cwd=project, expect=1).stderr
    assert f"{pyproject}: no dependency group `test`" in group


def test_extras_of_a_project_directory(wb: Runner, venv: Path, index: IndexServer,
                                       tmp_path: Path, custom_index: IndexFactory) -> None:
    server = custom_index([("alpha", "1.0"), ("beta", "1.0")])
    tree = tmp_path / "tree"
    shutil.copytree(PROJECTS / "setuptools-pure", tree)
    with (tree / "pyproject.toml").open("a") as f:
        f.write('\n[project.optional-dependencies]\ncli = ["alpha"]\nmore = ["beta"]\n')
    base = ("--python", venv, "-i", index.url, "--extra-index-url", server.url)
    assert planned(wb, *base, tree, "--extra", "cli") == {"setuptools-pure", "alpha"}
    assert planned(wb, *base, tree, "--all-extras") == {"setuptools-pure", "alpha", "beta"}
    wrong = wb("install", *base, tree, "--extra", "gui", expect=1).stderr
    assert f"{tree} has no extra `gui`" in wrong
