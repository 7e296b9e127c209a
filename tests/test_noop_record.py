"""A no-op install remembered (``noop``): the same command in an unchanged state answers from
its record; any change to what the answer rested on makes it check again (issue 13)."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from conftest import Runner, installed, site_packages
from support.indexserver import IndexServer
from warmbuild import noop

DEAD = "http://127.0.0.1:9/simple"  # the discard port: nothing answers there
REMEMBERED = "the answer of the last identical install"


def age(*roots: Path) -> None:
    """Make every file and directory under ``roots`` ten seconds old: a record is not
    written over inputs changed in the last two seconds, which a test's are."""
    past = time.time() - 10
    for root in roots:
        for path in (root, *root.rglob("*")):
            os.utime(path, (past, past), follow_symlinks=False)


@pytest.fixture
def remembered(wb: Runner, venv: Path, index: IndexServer, tmp_path: Path) -> Path:
    return record_noop(wb, venv, index, tmp_path)


def record_noop(wb: Runner, venv: Path, index: IndexServer, tmp_path: Path) -> Path:
    """A venv holding requests, whose no-op of ``-r reqs.txt`` (``-r more.txt`` in it) is
    recorded; returns the requirements file."""
    (tmp_path / "more.txt").write_text("six\n")
    reqs = tmp_path / "reqs.txt"
    reqs.write_text("requests\n-r more.txt\n")
    wb("install", "--python", venv, "-i", index.url, "-r", reqs)
    age(venv, reqs, tmp_path / "more.txt")
    first = wb("install", "-vv", "--python", venv, "-i", DEAD, "-r", reqs)
    assert "nothing to do" in first.stderr and REMEMBERED not in first.stderr
    assert len(list((tmp_path / "cache" / noop.BUCKET).iterdir())) == 1
    return reqs


def test_the_same_command_answers_from_its_record(wb: Runner, venv: Path, remembered: Path,
                                                  tmp_path: Path) -> None:
    again = wb("install", "-vv", "--python", venv, "-i", DEAD, "-r", remembered)
    assert f"Audited {len(installed(venv))} packages: nothing to do" in again.stderr
    assert REMEMBERED in again.stderr and "Using Python" in again.stderr
    # -v changes only what is printed: the record still holds.
    assert "nothing to do" in wb("install", "--python", venv, "-i", DEAD, "-r",
                                 remembered).stderr
    # Another command (here: another index) is another record.
    other = wb("install", "-vv", "--python", venv, "-i", DEAD + "/", "-r", remembered)
    assert "nothing to do" in other.stderr and REMEMBERED not in other.stderr


def asks_index(wb: Runner, venv: Path, reqs: Path) -> bool:
    """Whether the recorded command, run again, went past the record to the index (dead)."""
    result = wb("install", "--python", venv, "-i", DEAD, "-r", reqs, expect=None)
    return result.returncode == 1 and "127.0.0.1:9" in result.stderr


def test_a_package_removed_by_another_tool_is_no_longer_answered(
        wb: Runner, venv: Path, remembered: Path) -> None:
    (info,) = site_packages(venv).glob("idna-*.dist-info")
    shutil.rmtree(info)  # as `pip uninstall idna` leaves it
    assert asks_index(wb, venv, remembered)


def test_a_distribution_that_appears_beside_is_seen(wb: Runner, venv: Path,
                                                    remembered: Path) -> None:
    # An older idna's metadata written by hand: the scan finds it first (as pip would
    # find either), and requests needs idna>=2.5.
    info = site_packages(venv) / "idna-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: idna\nVersion: 0.1\n")
    assert asks_index(wb, venv, remembered)


def test_metadata_edited_in_place_is_read_again(wb: Runner, venv: Path,
                                                remembered: Path) -> None:
    (metadata,) = site_packages(venv).glob("requests-*.dist-info/METADATA")
    with metadata.open("r+") as f:  # in place: the same inode, no directory changes
        text = f.read().replace("Requires-Dist: idna", "Requires-Dist: attrs\n"
                                "Requires-Dist: idna", 1)
        f.seek(0)
        f.write(text)
    assert asks_index(wb, venv, remembered)


def test_an_edited_included_requirements_file_is_read_again(
        wb: Runner, venv: Path, remembered: Path, tmp_path: Path) -> None:
    (tmp_path / "more.txt").write_text("six\nattrs\n")
    assert asks_index(wb, venv, remembered)
    (tmp_path / "more.txt").write_text("six\n")
    assert not asks_index(wb, venv, remembered)


def test_pip_config_files_and_variables_are_heeded(wb: Runner, venv: Path,
                                                   index: IndexServer, tmp_path: Path) -> None:
    conf = tmp_path / "pip.conf"
    conf.write_text("")
    (tmp_path / "xdg").mkdir()  # no global config of the machine
    age(conf)
    wb.env.update(PIP_CONFIG_FILE=str(conf), XDG_CONFIG_DIRS=str(tmp_path / "xdg"))
    reqs = record_noop(wb, venv, index, tmp_path)
    pins = tmp_path / "pins.txt"
    pins.write_text(f"six!={installed(venv)['six']}\n")
    # pip's constraint setting in the target env's own pip.conf, which the record looked
    # for and did not find:
    (venv / "pip.conf").write_text(f"[install]\nconstraint = {pins}\n")
    assert asks_index(wb, venv, reqs)
    (venv / "pip.conf").unlink()
    assert REMEMBERED in wb("install", "-vv", "--python", venv, "-i", DEAD, "-r", reqs).stderr
    # in the config file the record rests on:
    conf.write_text(f"[install]\nconstraint = {pins}\n")
    assert asks_index(wb, venv, reqs)
    conf.write_text("")
    # and in pip's variable:
    result = wb("install", "--python", venv, "-i", DEAD, "-r", reqs, expect=1,
                env={"PIP_CONSTRAINT": str(pins)})
    assert "127.0.0.1:9" in result.stderr


def test_a_record_keeps_no_variable_or_url_in_clear(wb: Runner, venv: Path, remembered: Path,
                                                   tmp_path: Path) -> None:
    secret = "s3cr3t-t0ken"
    env = {"SOME_TOKEN": secret}
    url = f"http://user:{secret}@127.0.0.1:9/simple"
    for _ in range(2):
        result = wb("install", "-vv", "--python", venv, "-i", url, "-r", remembered, env=env)
    assert REMEMBERED in result.stderr
    for record in (tmp_path / "cache" / noop.BUCKET).iterdir():
        assert secret not in record.read_text()


def test_no_record_rests_on_a_file_changed_in_the_last_seconds(tmp_path: Path) -> None:
    fresh, old = tmp_path / "fresh", tmp_path / "old"
    fresh.write_text("x")
    old.write_text("y")
    age(old)
    started = time.time_ns()
    assert not noop.remember(tmp_path, "k" * 64, [old, fresh], ["line"], started)
    assert noop.answer(tmp_path, "k" * 64) is None
    assert noop.remember(tmp_path, "k" * 64, [old, tmp_path / "absent"], ["line"], started)
    assert noop.answer(tmp_path, "k" * 64) == ["line"]
    (tmp_path / "absent").write_text("now it is here")
    assert noop.answer(tmp_path, "k" * 64) is None


def test_a_cache_that_cannot_be_written_records_nothing(tmp_path: Path) -> None:
    old = tmp_path / "old"
    old.write_text("y")
    age(old)
    (tmp_path / noop.BUCKET).write_text("a file where the bucket should be")
    assert not noop.remember(tmp_path, "r" * 64, [old], ["line"], time.time_ns())


def test_a_damaged_record_is_no_answer(tmp_path: Path) -> None:
    old = tmp_path / "old"
    old.write_text("y")
    age(old)
    assert noop.remember(tmp_path, "d" * 64, [old], ["line"], time.time_ns())
    (record,) = (tmp_path / noop.BUCKET).iterdir()
    for damaged in (record.read_text()[:40], "[]", '{"key": 1}', "\x00"):
        record.write_text(damaged)
        assert noop.answer(tmp_path, "d" * 64) is None


def test_records_are_trimmed_oldest_first(tmp_path: Path) -> None:
    old = tmp_path / "old"
    old.write_text("y")
    age(old)
    for n in range(noop.MAX_RECORDS):
        assert noop.remember(tmp_path, f"{n:032x}" * 2, [old], ["line"], time.time_ns())
    assert noop.answer(tmp_path, f"{0:032x}" * 2) == ["line"]
    assert noop.remember(tmp_path, "f" * 64, [old], ["line"], time.time_ns())
    assert len(list((tmp_path / noop.BUCKET).iterdir())) <= noop.MAX_RECORDS // 2 + 1
    assert noop.answer(tmp_path, "f" * 64) == ["line"]
