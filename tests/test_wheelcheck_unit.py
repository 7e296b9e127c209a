"""The wheel checks, in-process over the hostile corpus: each rejected case is refused with
its own reason, naming the wheel, and each accepted oddity unpacks."""

from __future__ import annotations

from pathlib import Path

import pytest

from support import hostile
from warmbuild.errors import WarmbuildError
from warmbuild.wheelcheck import extract


@pytest.mark.parametrize("case", list(hostile.REJECTED), ids=hostile.case_id)
def test_a_hostile_wheel_is_refused_with_its_reason(tmp_path: Path,
                                                    case: hostile.Case) -> None:
    wheel = case(tmp_path / "in")
    with pytest.raises(WarmbuildError) as info:
        extract(wheel, tmp_path / "out")
    message = str(info.value)
    assert message.startswith(f"{hostile.FILENAME} is not a valid wheel: "), message
    assert hostile.REJECTED[case] in message, message


@pytest.mark.parametrize("case", list(hostile.ACCEPTED), ids=hostile.case_id)
def test_an_oddity_accepted_by_design_unpacks(tmp_path: Path, case: hostile.Case) -> None:
    checked = extract(case(tmp_path / "in"), tmp_path / "out")
    assert (checked.name, str(checked.version)) == ("hostile", "1.0")
    assert hostile.ACCEPTED[case] in checked.files
    assert (tmp_path / "out" / hostile.ACCEPTED[case]).is_file()


def test_a_valid_wheel_unpacks_with_its_hashes(tmp_path: Path) -> None:
    checked = extract(hostile.wheel(tmp_path / "in"), tmp_path / "out")
    assert checked.dist_info == hostile.INFO
    record_hash, size, executable = checked.files["hostile/__init__.py"]
    assert record_hash == hostile.record_hash(b"VALUE = 1\n")
    assert (size, executable) == (10, False)


def test_the_file_name_must_be_a_wheels(tmp_path: Path) -> None:
    wheel = hostile.wheel(tmp_path)
    odd = wheel.rename(tmp_path / "hostile.whl")
    with pytest.raises(WarmbuildError, match="its file name is not a wheel's"):
        extract(odd, tmp_path / "out")
