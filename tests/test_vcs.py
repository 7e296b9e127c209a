"""git requirements through the CLI, against local repositories (``git+file://``, no network).

The repository made by :func:`make_repo` holds setuptools-pure at the top, version 0.1.0 at
tag ``v1``, 0.2.0 on ``main`` and 0.3.0 on branch ``feature``, and hatchling-pure in
``sub/hp``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from conftest import Runner, create_venv, installed, pip, run_python, site_packages
from support.gitcmd import git
from support.indexserver import IndexServer
from support.wheels import make_wheel

PROJECTS = Path(__file__).parent / "projects"
def commit_version(repo: Path, version: str) -> str:
    pyproject = repo / "pyproject.toml"
    text = pyproject.read_text()
    start = text.index('version = "') + len('version = "')
    pyproject.write_text(text[:start] + version + text[text.index('"', start):])
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", version)
    return git(repo, "rev-parse", "HEAD")


def make_repo(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    repo = tmp_path / "repo"
    shutil.copytree(PROJECTS / "setuptools-pure", repo)
    shutil.copytree(PROJECTS / "hatchling-pure", repo / "sub" / "hp")
    git(repo, "init", "-q", "-b", "main")
    shas = {"v1": commit_version(repo, "0.1.0")}
    git(repo, "tag", "v1")
    shas["main"] = commit_version(repo, "0.2.0")
    git(repo, "checkout", "-qb", "feature")
    shas["feature"] = commit_version(repo, "0.3.0")
    git(repo, "checkout", "-q", "main")
    return repo, shas


def direct_url(venv: Path, dist: str) -> dict[str, object]:
    (info,) = site_packages(venv).glob(f"{dist}-*.dist-info")
    result: dict[str, object] = json.loads((info / "direct_url.json").read_text())
    return result


def test_tags_branches_commits_and_the_default_branch(
        wb: Runner, venv: Path, index: IndexServer, tmp_path: Path) -> None:
    repo, shas = make_repo(tmp_path)
    url = f"git+{repo.as_uri()}"
    wb("install", "--python", venv, "-i", index.url, f"{url}@v1")
    assert installed(venv) == {"setuptools_pure": "0.1.0"}
    assert direct_url(venv, "setuptools_pure") == {
        "url": repo.as_uri(),
        "vcs_info": {"vcs": "git", "commit_id": shas["v1"], "requested_revision": "v1"}}
    wb("install", "--python", venv, "-i", index.url, f"{url}@feature")
    assert installed(venv) == {"setuptools_pure": "0.3.0"}
    wb("install", "--python", venv, "-i", index.url, f"setuptools-pure @ {url}@{shas['main']}")
    assert installed(venv) == {"setuptools_pure": "0.2.0"}
    # The default branch is that same commit: installed already, nothing is built.
    again = wb("install", "--python", venv, "-i", index.url, url)
    assert "nothing to do" in again.stderr and "Built" not in again.stderr
    line = f"setuptools-pure @ {url}@{shas['main']}"
    assert wb("freeze", "--python", venv).stdout.splitlines() == [line]
    assert line in pip(venv, "freeze").stdout.splitlines()
    # pip records the same PEP 610 facts for the same requirement.
    theirs = create_venv(tmp_path / "pip-venv")
    pip(theirs, "install", "-q", "-i", index.url, f"{url}@v1")
    wb("install", "--python", venv, "-i", index.url, f"{url}@v1")
    assert direct_url(venv, "setuptools_pure") == direct_url(theirs, "setuptools_pure")


def test_subdirectory_egg_and_requirements_file_then_frozen_offline(
        wb: Runner, venv: Path, index: IndexServer, tmp_path: Path) -> None:
    repo, shas = make_repo(tmp_path)
    url = f"git+{repo.as_uri()}"
    reqs = tmp_path / "requirements.txt"
    reqs.write_text(f"{url}@v1#egg=setuptools-pure\n"
                    f"hatchling-pure @ {url}@feature#subdirectory=sub/hp\n")
    wb("install", "--python", venv, "-i", index.url, "-r", reqs)
    assert installed(venv) == {"setuptools_pure": "0.1.0", "hatchling_pure": "0.1.0"}
    assert subprocess.run([venv / "bin" / "hatchling-pure"], capture_output=True, text=True,
                          check=True).stdout.strip() == "hatchling-pure"
    assert direct_url(venv, "hatchling_pure")["subdirectory"] == "sub/hp"
    frozen = wb("freeze", "--python", venv).stdout
    assert frozen.splitlines() == [
        f"hatchling-pure @ {url}@{shas['feature']}#subdirectory=sub/hp",
        f"setuptools-pure @ {url}@{shas['v1']}"]
    # Pinned commits whose wheels are kept: no git, no network, nothing built.
    repo.rename(tmp_path / "gone")
    (tmp_path / "frozen.txt").write_text(frozen)
    fresh = create_venv(tmp_path / "fresh")
    result = wb("install", "--python", fresh, "--offline", "-i", index.url,
                "-r", tmp_path / "frozen.txt")
    assert "Built" not in result.stderr
    assert installed(fresh) == installed(venv)
    assert direct_url(fresh, "hatchling_pure") == {
        "url": repo.as_uri(), "subdirectory": "sub/hp",
        "vcs_info": {"vcs": "git", "commit_id": shas["feature"],
                     "requested_revision": shas["feature"]}}


def test_a_wheel_is_built_once_per_commit(wb: Runner, venv: Path, index: IndexServer,
                                          tmp_path: Path) -> None:
    repo, _ = make_repo(tmp_path)
    url = f"git+{repo.as_uri()}@main"
    assert "Built setuptools_pure-0.2.0" in wb("install", "--python", venv, "-i", index.url,
                                               url).stderr
    fresh = create_venv(tmp_path / "fresh")
    second = wb("install", "--python", fresh, "-i", index.url, url)
    assert "Built" not in second.stderr and "wheel built before" in second.stderr
    commit_version(repo, "0.4.0")
    third = wb("install", "--python", fresh, "-i", index.url, url)
    assert "Built setuptools_pure-0.4.0" in third.stderr
    assert installed(fresh) == {"setuptools_pure": "0.4.0"}
    # pip's installation report names the commit, as pip's does.
    report = json.loads(wb("install", "--python", venv, "--dry-run", "--report", "-", "-i",
                           index.url, url).stdout)
    (item,) = report["install"]
    assert item["download_info"] == {
        "url": repo.as_uri(), "vcs_info": {"vcs": "git", "commit_id": git(repo, "rev-parse",
                                                                          "HEAD"),
                                           "requested_revision": "main"}}


def test_editable_checkout_in_src_and_with_src_dir(
        wb: Runner, venv: Path, index: IndexServer, tmp_path: Path) -> None:
    repo, shas = make_repo(tmp_path)
    url = f"git+{repo.as_uri()}"
    wb("install", "--python", venv, "-i", index.url, "-e", f"{url}@main#egg=setuptools-pure")
    checkout = venv / "src" / "setuptools-pure"
    assert git(checkout, "symbolic-ref", "--short", "HEAD") == "main"
    where = run_python(venv, "import setuptools_pure; print(setuptools_pure.__file__)")
    assert Path(where).is_relative_to(checkout)
    (checkout / "setuptools_pure" / "__init__.py").write_text("VALUE = 'edited'\n")
    assert run_python(venv, "import setuptools_pure; print(setuptools_pure.VALUE)") == "edited"
    line = f"-e {url}@{shas['main']}#egg=setuptools_pure"
    assert wb("freeze", "--python", venv).stdout.splitlines() == [line]
    assert line in pip(venv, "freeze").stdout.splitlines()  # pip asks git in the checkout
    assert direct_url(venv, "setuptools_pure") == {"url": checkout.as_uri(),
                                                   "dir_info": {"editable": True}}
    # Another revision while the checkout has local changes: refused, nothing lost.
    failed = wb("install", "--python", venv, "-i", index.url, "-e",
                f"{url}@v1#egg=setuptools-pure", expect=1)
    assert f"the checkout {checkout} has local changes" in failed.stderr
    assert "edited" in (checkout / "setuptools_pure" / "__init__.py").read_text()

    other = create_venv(tmp_path / "other")
    src = tmp_path / "checkouts"
    wb("install", "--python", other, "-i", index.url, "--src", src, "-e",
       f"{url}@v1#egg=setuptools-pure")
    assert git(src / "setuptools-pure", "rev-parse", "HEAD") == shas["v1"]
    assert installed(other) == {"setuptools_pure": "0.1.0"}


def test_git_errors_say_what_is_supported_and_what_is_missing(
        wb: Runner, venv: Path, index: IndexServer, tmp_path: Path) -> None:
    repo, _ = make_repo(tmp_path)
    url = f"git+{repo.as_uri()}"
    hg = wb("install", "--python", venv, "--no-index", "hg+https://example.org/repo#egg=x",
            expect=1).stderr
    assert "Mercurial (hg+) requirements are not supported; warmbuild installs from git only " \
           "(git+https://" in hg
    assert "Traceback" not in hg
    rev = wb("install", "--python", venv, "--no-index", f"{url}@no-such", expect=1).stderr
    assert f"{url}@no-such: no branch, tag or commit named `no-such`" in rev
    gone = wb("install", "--python", venv, "--no-index", f"git+{(tmp_path / 'nope').as_uri()}",
              expect=1).stderr
    assert "cannot fetch git+file://" in gone and "nope" in gone
    not_project = wb("install", "--python", venv, "--no-index", f"{url}#subdirectory=sub",
                     expect=1).stderr
    assert "its subdirectory sub is not a Python project" in not_project
    wrong = wb("install", "--python", venv, "-i", index.url, f"other-name @ {url}@v1",
               expect=1).stderr
    assert "is the project `setuptools-pure`, not `other-name`" in wrong
    needs = make_wheel(tmp_path / "wheels", "needs-git", "1.0",
                       requires=[f"setuptools-pure @ {url}@v1"])
    dependency = wb("install", "--python", venv, "--no-index", needs, expect=1).stderr
    assert f"a dependency requires {url}@v1: git URLs are installed when you name them" \
        in dependency
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    no_git = wb("install", "--python", venv, "--no-index", f"{url}@v1", expect=1,
                env={"PATH": str(empty)}).stderr
    assert "no `git` is on PATH" in no_git
