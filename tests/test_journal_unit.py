"""The transaction journal: its lines parsed and checked as bytes, and recovery from it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from warmbuild.errors import WarmbuildError
from warmbuild.journal import (
    JOURNAL,
    Backup,
    Commit,
    Entry,
    Journal,
    Placed,
    encode,
    parse,
    recover,
    touched,
    undo,
)

PREFIX = Path("/venv")
ROOT = PREFIX / ".warmbuild-tx-abc"
SITE = PREFIX / "lib/python3.11/site-packages"


def journal(*entries: Entry) -> bytes:
    return b"".join(encode(e) for e in entries)


def test_lines_are_json_lists_of_strings() -> None:
    assert encode(Placed(SITE / "a")) == b'["placed", "/venv/lib/python3.11/site-packages/a"]\n'
    assert encode(Backup(SITE / "a", ROOT / "backup/0")) == \
        b'["backup", "/venv/lib/python3.11/site-packages/a", "/venv/.warmbuild-tx-abc/backup/0"]\n'
    assert encode(Commit()) == b'["commit"]\n'


def test_good_lines_parse_back_to_their_entries() -> None:
    entries = (Backup(SITE / "a.py", ROOT / "backup/0"), Placed(SITE / "a"), Commit())
    parsed = parse(journal(*entries), ROOT, PREFIX)
    assert parsed.problem == ""
    assert parsed.entries == entries
    assert parsed.committed


def test_without_a_commit_it_is_not_committed() -> None:
    parsed = parse(journal(Placed(SITE / "a")), ROOT, PREFIX)
    assert parsed.entries == (Placed(SITE / "a"),)
    assert not parsed.committed


def test_an_empty_journal_and_blank_lines_have_no_entries() -> None:
    assert parse(b"", ROOT, PREFIX).entries == ()
    data = b"\n  \n" + journal(Placed(SITE / "a")) + b"\n"
    assert parse(data, ROOT, PREFIX).entries == (Placed(SITE / "a"),)


def test_a_truncated_last_line_is_ignored() -> None:
    # The kill came while the line was written, so its move was never made.
    data = journal(Placed(SITE / "a")) + b'["backup", "/venv/lib/pyth'
    parsed = parse(data, ROOT, PREFIX)
    assert parsed.problem == ""
    assert parsed.entries == (Placed(SITE / "a"),)


def test_damaged_json_before_the_end_makes_it_untrustworthy() -> None:
    data = journal(Placed(SITE / "a")) + b"{oops\n" + journal(Placed(SITE / "b"))
    parsed = parse(data, ROOT, PREFIX)
    assert parsed.problem == "line 2 is not JSON"
    assert parsed.entries == ()


def test_a_complete_last_line_that_is_not_json_is_damage_not_truncation() -> None:
    parsed = parse(journal(Placed(SITE / "a")) + b"{oops\n", ROOT, PREFIX)
    assert parsed.problem == "line 2 is not JSON"


def test_bytes_that_are_not_utf8_are_unreadable() -> None:
    parsed = parse(b'["placed", "/venv/\xff"]\n', ROOT, PREFIX)
    assert parsed.problem.startswith("unreadable: 'utf-8' codec can't decode byte 0xff")
    assert parsed.entries == ()


@pytest.mark.parametrize("line", [
    b'["placed", "/etc/passwd"]',
    b'["placed", "/venv/../etc/passwd"]',
    b'["placed", "lib/python3.11/site-packages/a"]',
    b'["placed", "/venvx/a"]',
    b'["backup", "/etc/passwd", "/venv/.warmbuild-tx-abc/backup/0"]',
    # A backup must be in this transaction's dir, not elsewhere in the prefix.
    b'["backup", "/venv/a", "/venv/lib/a"]',
    b'["backup", "/venv/a", "/venv/.warmbuild-tx-abc/../../etc"]',
    b'["placed", "/venv/a", "/venv/b"]',
    b'["placed"]',
    b'["commit", "now"]',
    b'["remove", "/venv/a"]',
    b'["placed", 1]',
    b'{"placed": "/venv/a"}',
    b'"commit"',
    b"[]",
])
def test_entries_that_are_not_moves_inside_the_prefix_are_refused(line: bytes) -> None:
    parsed = parse(journal(Placed(SITE / "a")) + line + b"\n", ROOT, PREFIX)
    assert parsed.problem == "line 2 is not a move inside /venv"
    assert parsed.entries == ()


def test_undo_puts_back_backups_and_removes_what_was_placed(tmp_path: Path) -> None:
    root = tmp_path / ".warmbuild-tx-1"
    (root / "backup").mkdir(parents=True)
    (root / "backup" / "0").write_text("old")
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    (tmp_path / "pkg" / "sub" / "new.py").write_text("new")
    (tmp_path / "pkg" / "mod.py").write_text("new")
    undo([Backup(tmp_path / "pkg" / "mod.py", root / "backup" / "0"),
          Placed(tmp_path / "pkg" / "mod.py"), Placed(tmp_path / "pkg" / "sub"),
          Placed(tmp_path / "never-made")])
    assert (tmp_path / "pkg" / "mod.py").read_text() == "old"
    assert not (tmp_path / "pkg" / "sub").exists()
    assert not (root / "backup" / "0").exists()


def _dead_transaction(prefix: Path, data: bytes) -> Path:
    root = prefix / ".warmbuild-tx-dead"
    root.mkdir()
    (root / JOURNAL).write_bytes(data)
    return root


def test_recover_rolls_back_a_dead_transaction(tmp_path: Path) -> None:
    root = _dead_transaction(tmp_path, b"")
    (root / "backup").mkdir()
    (root / "backup" / "0").write_text("old")
    (tmp_path / "mod.py").write_text("new")
    (root / JOURNAL).write_bytes(journal(Backup(tmp_path / "mod.py", root / "backup" / "0"),
                                         Placed(tmp_path / "mod.py")))
    assert recover(tmp_path) == 1
    assert (tmp_path / "mod.py").read_text() == "old"
    assert not root.exists()


def test_recover_leaves_a_committed_transaction_as_it_is(tmp_path: Path) -> None:
    (tmp_path / "mod.py").write_text("new")
    root = _dead_transaction(tmp_path, journal(Placed(tmp_path / "mod.py"), Commit()))
    assert recover(tmp_path) == 1
    assert (tmp_path / "mod.py").read_text() == "new"
    assert not root.exists()


def test_recover_sets_a_damaged_journal_aside_and_refuses_to_go_on(tmp_path: Path) -> None:
    (tmp_path / "keep.py").write_text("mine")
    info = "/lib/python3.11/site-packages/numpy-2.0.dist-info"
    _dead_transaction(tmp_path, b'["placed", "%s%s"]\n{oops\n' % (str(tmp_path).encode(),
                                                                    info.encode()))
    for _run in range(2):  # and again on the next run, until a human removes it
        with pytest.raises(WarmbuildError) as raised:
            recover(tmp_path)
        error = raised.value
        assert "cannot trust (line 2 is not JSON)" in error.message
        assert "the journal names the .dist-info of: numpy" in str(error.cause)
        assert "--reinstall numpy" in str(error.hint)
    assert (tmp_path / "keep.py").read_text() == "mine"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == \
        [".warmbuild-damaged-dead"]
    shutil.rmtree(tmp_path / ".warmbuild-damaged-dead")
    assert recover(tmp_path) == 0


def test_entries_are_written_through_the_real_path_of_the_prefix(tmp_path: Path) -> None:
    real = tmp_path / "venv"
    root = real / ".warmbuild-tx-1"
    root.mkdir(parents=True)
    (tmp_path / "link").symlink_to(real)
    link = tmp_path / "link"
    writer = Journal(link / root.name, link)
    writer.write(Placed(link / "lib" / "a.py"))
    writer.write(Backup(link / "bin" / "x", link / root.name / "backup" / "0"))
    writer.close()
    parsed = parse((root / JOURNAL).read_bytes(), root, real)
    assert parsed.problem == ""
    assert parsed.entries == (Placed(real / "lib" / "a.py"),
                              Backup(real / "bin" / "x", root / "backup" / "0"))


def test_recover_through_a_link_rolls_back_what_was_journaled_through_another(
        tmp_path: Path) -> None:
    real = tmp_path / "venv"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    (real / "new.py").write_text("placed by the dead install")
    root = _dead_transaction(real, b"")
    writer = Journal(tmp_path / "link" / root.name, tmp_path / "link")
    writer.write(Placed(tmp_path / "link" / "new.py"))
    writer.close()
    assert recover(real) == 1
    assert not (real / "new.py").exists() and not root.exists()


@pytest.mark.parametrize(("data", "names"), [
    (b'["backup", "/v/lib/site-packages/Jinja2-3.1.dist-info", "/v/.tx/0"]\n'
     b'["placed", "/v/lib/site-packages/my-pkg-1.0.dist-info"]\n', ["Jinja2", "my-pkg"]),
    (b"\xff garbage numpy-1.0.dist-info/RECORD", ["numpy"]),
    (b'["placed", "/v/lib/site-packages/six.py"]\n', []),
])
def test_the_dists_an_untrusted_journal_touched_are_read_loosely(data: bytes,
                                                                  names: list[str]) -> None:
    assert touched(data) == names
