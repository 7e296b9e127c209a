"""An in-place edit of an installed file never reaches another environment or a later install
(issue 10): files are cloned or copied from the cache by default; hard links are opt-in."""

from __future__ import annotations

from pathlib import Path

from conftest import Runner, create_venv, site_packages
from support.indexserver import IndexServer

ORIGINAL_MARK = "# edited in place\n"


def core(venv: Path) -> Path:
    return site_packages(venv) / "idna" / "core.py"


def cached_cores(wb: Runner) -> list[Path]:
    return list((Path(wb.env["WARMBUILD_CACHE_DIR"]) / "archive-v1").glob("*/idna/core.py"))


def edit_in_place(path: Path) -> None:
    with path.open("a") as f:  # the same inode, as an editor writing in place would
        f.write(ORIGINAL_MARK)


def test_an_edit_stays_in_its_environment(wb: Runner, tmp_path: Path,
                                          index: IndexServer) -> None:
    a, b, c = (create_venv(tmp_path / n) for n in "abc")
    for venv in (a, b):
        wb("install", "--python", venv, "-i", index.url, "idna")
    original = core(b).read_text()
    (cached,) = cached_cores(wb)
    assert core(a).stat().st_ino != cached.stat().st_ino, "not a hard link into the cache"
    edit_in_place(core(a))
    assert core(b).read_text() == original and cached.read_text() == original
    wb("install", "--python", c, "-i", index.url, "idna")
    assert core(c).read_text() == original
    wb("install", "--python", a, "-i", index.url, "--reinstall", "idna")
    assert core(a).read_text() == original, "--reinstall yields the wheel's content"


def test_hardlinks_are_opt_in_and_a_damaged_cache_is_not_spread(
        wb: Runner, tmp_path: Path, index: IndexServer) -> None:
    a, b = create_venv(tmp_path / "a"), create_venv(tmp_path / "b")
    wb("install", "--python", a, "-i", index.url, "--link-mode", "hardlink", "idna")
    (cached,) = cached_cores(wb)
    original = cached.read_text()
    assert core(a).stat().st_ino == cached.stat().st_ino
    edit_in_place(core(a))  # reaches the cache through the link: the documented hazard
    # The cached copy no longer matches what was unpacked: it is unpacked again, not linked.
    wb("install", "--python", b, "-i", index.url, "idna",
       env={"WARMBUILD_LINK_MODE": "hardlink"})
    assert core(b).read_text() == original


def test_link_mode_setting_sources(wb: Runner, tmp_path: Path, index: IndexServer) -> None:
    a = create_venv(tmp_path / "a")
    (tmp_path / "warmbuild.toml").write_text('link-mode = "hardlink"\n')
    wb("install", "--python", a, "-i", index.url, "idna", cwd=tmp_path)
    (cached,) = cached_cores(wb)
    assert core(a).stat().st_ino == cached.stat().st_ino
    config = wb("config", cwd=tmp_path).stdout
    assert "link-mode" in config and "hardlink" in config
    bad = wb("install", "--python", a, "--link-mode", "symlink", "idna", expect=2)
    assert "invalid choice" in bad.stderr
