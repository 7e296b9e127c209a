"""git URLs taken apart (vcsurl), git lines of requirements files (reqfile), PEP 610 values
and freeze lines (directurl), and the git cache (vcs) against local repositories: in-process,
no index, no venv."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.gitcmd import git
from warmbuild.cache import Cache
from warmbuild.errors import WarmbuildError
from warmbuild.reqfile import parse_requirement, read_requirements_file
from warmbuild.vcs import GitCache
from warmbuild.vcsurl import VcsInfo, is_full_commit, parse_vcs_url, strip_credentials

# --------------------------------------------------------------------------- URLs


@pytest.mark.parametrize(("text", "url", "rev", "sub", "egg"), [
    ("git+https://host/org/repo.git", "https://host/org/repo.git", None, None, None),
    ("git+https://host/org/repo.git@v1.0#egg=Foo_Bar&subdirectory=pkgs/a/",
     "https://host/org/repo.git", "v1.0", "pkgs/a", "foo-bar"),
    # The @ of the user name is not a revision; the last @ of the path is.
    ("git+ssh://git@host/org/repo.git@feature/x", "ssh://git@host/org/repo.git", "feature/x",
     None, None),
    ("git+https://user:tok@host/r@refs/pull/7/head", "https://user:tok@host/r",
     "refs/pull/7/head", None, None),
    ("git+file:///srv/repos/demo@" + "a" * 40, "file:///srv/repos/demo", "a" * 40, None, None),
    ("GIT+http://host/r#subdirectory=sub", "http://host/r", None, "sub", None),
])
def test_git_url_parts(text: str, url: str, rev: str | None, sub: str | None,
                       egg: str | None) -> None:
    parsed = parse_vcs_url(text, "t")
    assert (parsed.url, parsed.rev, parsed.subdirectory, parsed.egg) == (url, rev, sub, egg)


def test_other_vcs_and_unfetchable_urls_are_named_errors() -> None:
    for prefix, name in (("hg", "Mercurial"), ("svn", "Subversion"), ("bzr", "Bazaar")):
        with pytest.raises(WarmbuildError) as caught:
            parse_requirement(f"{prefix}+https://host/repo#egg=x", source="reqs.txt:3")
        assert caught.value.message.startswith(f"reqs.txt:3: {prefix}+https://host/repo#egg=x: "
                                               f"{name} ({prefix}+) requirements are not ")
        assert "git+https://, git+http://, git+ssh://, git+git://, git+file://" in \
            caught.value.message
    with pytest.raises(WarmbuildError) as caught:
        parse_requirement("git+git@github.com:org/repo.git")
    assert caught.value.hint == "write scp-style addresses as git+ssh://git@host/path"
    with pytest.raises(WarmbuildError, match="must lie inside the repository"):
        parse_requirement("git+https://host/r#subdirectory=../up")
    with pytest.raises(WarmbuildError, match="is not a project name"):
        parse_requirement("git+https://host/r#egg=not/a/name")


def test_credentials_stay_out_of_what_is_recorded_and_of_the_cache_key() -> None:
    assert strip_credentials("https://user:secret@host/r.git") == "https://host/r.git"
    assert strip_credentials("https://token@host/r.git") == "https://host/r.git"
    assert strip_credentials("ssh://git@host/r.git") == "ssh://git@host/r.git"
    env_vars = "https://${USER}:${TOKEN}@host/r"
    assert strip_credentials(env_vars) == env_vars
    a = parse_vcs_url("git+https://u:p@Host.example/org/r.git@v1", "t")
    b = parse_vcs_url("git+https://host.example/org/r/", "t")
    assert a.key_url == b.key_url == "https://host.example/org/r"
    assert a.shown() == "git+https://Host.example/org/r.git@v1"
    assert is_full_commit("0" * 40) and not is_full_commit("abc1234") and \
        not is_full_commit(None)


def test_vcs_info_round_trip_and_pips_freeze_forms() -> None:
    info = VcsInfo("https://host/r.git", "c" * 40, "v1", "pkgs/a")
    recorded = info.as_direct_url()
    assert recorded == {"url": "https://host/r.git", "subdirectory": "pkgs/a",
                        "vcs_info": {"vcs": "git", "commit_id": "c" * 40,
                                     "requested_revision": "v1"}}
    assert VcsInfo.from_direct_url(recorded) == info
    assert VcsInfo.from_direct_url({"url": "x", "archive_info": {}}) is None
    assert info.reference("my-pkg") == f"my-pkg @ git+https://host/r.git@{'c' * 40}" \
                                       "#subdirectory=pkgs/a"
    assert info.editable_line("my-pkg", "d" * 40) == \
        f"-e git+https://host/r.git@{'d' * 40}#egg=my_pkg&subdirectory=pkgs/a"
    # No revision asked for: PEP 610 leaves requested_revision out.
    assert "requested_revision" not in VcsInfo("u", "c" * 40).as_direct_url()["vcs_info"]


# --------------------------------------------------------------------------- requirements


def test_git_requirement_forms_get_a_provisional_or_given_name() -> None:
    bare = parse_requirement("git+https://host/org/My.Repo.git@v2")
    assert (bare.name, bare.vcs and bare.vcs.egg) == ("my-repo", None)
    egg = parse_requirement("git+https://host/org/repo@v2#egg=demo[cli]")
    assert (egg.name, egg.requirement.extras, egg.vcs and egg.vcs.egg) == ("demo", {"cli"},
                                                                           "demo")
    named = parse_requirement('Demo[x] @ git+https://host/r@main ; python_version >= "3"')
    assert named.name == "demo" and named.vcs is not None and named.vcs.egg == "demo"
    assert named.requirement.extras == {"x"} and str(named.requirement.marker) == \
        'python_version >= "3"'
    marked = parse_requirement('git+https://host/r@main ; sys_platform == "linux"')
    assert marked.vcs is not None and marked.vcs.rev == "main"
    assert str(marked.requirement.marker) == 'sys_platform == "linux"'
    sub = parse_requirement("git+https://host/r#subdirectory=python/pkg")
    assert sub.name == "pkg"  # the subdirectory's name is the better guess


def test_git_lines_in_a_requirements_file(tmp_path: Path) -> None:
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("-e git+https://host/r@main#egg=devpkg  # editable\n"
                    "other @ git+ssh://git@host/other.git@v3\n"
                    "git+https://host/third#egg=third&subdirectory=py\n")
    found = read_requirements_file(reqs).requirements
    assert [(r.name, r.editable, r.vcs and r.vcs.rev) for r in found] == [
        ("devpkg", True, "main"), ("other", False, "v3"), ("third", False, None)]
    assert found[2].vcs is not None and found[2].vcs.subdirectory == "py"
    assert found[0].source == f"{reqs}:1"


# --------------------------------------------------------------------------- the git cache


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    (path / "f").write_text("1")
    git(path, "add", "f")
    git(path, "commit", "-qm", "one")
    git(path, "tag", "v1")
    git(path, "checkout", "-qb", "feature")
    (path / "f").write_text("2")
    git(path, "commit", "-qam", "two")
    git(path, "checkout", "-q", "main")
    return path


def test_revisions_pin_to_commits_and_a_cached_commit_needs_no_fetch(
        repo: Path, tmp_path: Path) -> None:
    cache = GitCache(Cache(tmp_path / "cache"))
    url = f"git+{repo.as_uri()}"
    one, two = git(repo, "rev-parse", "v1"), git(repo, "rev-parse", "feature")
    assert cache.pin(parse_vcs_url(url, "t")).commit == one
    pinned = cache.pin(parse_vcs_url(f"{url}@feature", "t"))
    assert (pinned.commit, pinned.kind, pinned.branch) == (two, "branch", "feature")
    assert cache.pin(parse_vcs_url(f"{url}@v1", "t")).kind == "tag"
    assert cache.pin(parse_vcs_url(f"{url}@{two[:9]}", "t")).commit == two
    # Gone from its URL: a full commit id the db holds is still pinned, also not offline.
    repo.rename(tmp_path / "elsewhere")
    assert cache.pin(parse_vcs_url(f"{url}@{one}", "t")).commit == one
    offline = GitCache(Cache(tmp_path / "cache"), offline=True)
    assert offline.pin(parse_vcs_url(f"{url}@feature", "t")).commit == two
    with pytest.raises(WarmbuildError, match="--offline forbids fetching"):
        offline.pin(parse_vcs_url(f"{url}@nope", "t"))


def test_unknown_revision_is_an_error_naming_it(repo: Path, tmp_path: Path) -> None:
    cache = GitCache(Cache(tmp_path / "cache"))
    with pytest.raises(WarmbuildError) as caught:
        cache.pin(parse_vcs_url(f"git+{repo.as_uri()}@no-such-branch", "t"))
    assert caught.value.message == (f"git+{repo.as_uri()}@no-such-branch: no branch, tag or "
                                    "commit named `no-such-branch`")


def test_checkouts_are_kept_per_commit_and_editable_ones_keep_local_edits(
        repo: Path, tmp_path: Path) -> None:
    cache = GitCache(Cache(tmp_path / "cache"))
    source = parse_vcs_url(f"git+{repo.as_uri()}@v1", "t")
    pinned = cache.pin(source)
    tree = cache.checkout(source, pinned)
    assert tree.name == pinned.commit and (tree / "f").read_text() == "1"
    assert cache.checkout(source, pinned) == tree
    assert git(tree, "remote", "get-url", "origin") == repo.as_uri()
    branch = parse_vcs_url(f"git+{repo.as_uri()}@feature", "t")
    dest = cache.editable_checkout(branch, cache.pin(branch), tmp_path / "src" / "demo")
    assert git(dest, "symbolic-ref", "--short", "HEAD") == "feature"
    assert git(dest, "rev-parse", "--abbrev-ref", "@{upstream}") == "origin/feature"
    (dest / "f").write_text("edited")
    # The same commit again: the checkout is left alone, edits and all.
    cache.editable_checkout(branch, cache.pin(branch), dest)
    assert (dest / "f").read_text() == "edited"
    with pytest.raises(WarmbuildError, match="has local changes"):
        cache.editable_checkout(source, pinned, dest)
    git(dest, "checkout", "-q", "--", "f")
    assert cache.editable_checkout(source, pinned, dest) == dest
    assert (dest / "f").read_text() == "1"
