"""Distribution filenames are parsed as packaging parses them, with the parts that files of
one project share (versions, tag triples) parsed once."""

from __future__ import annotations

import pytest
from packaging.utils import InvalidWheelFilename, parse_wheel_filename

from warmbuild.dists import parse_filename

NAMES = [
    "foo-1.0-py3-none-any.whl", "Foo_bar-1.0-1-py3-none-any.whl",
    "numpy-2.3.5-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl",
    "numpy-2.3.5-cp311-cp311-musllinux_1_2_x86_64.whl", "six-1.16.0-py2.py3-none-any.whl",
    "foo-1.0-x-py3-none-any.whl", "foo-1.0-py3-none.whl", "foo--1.0-py3-none-any.whl",
    "foo-1.0.x-py3-none-any.whl", "foo-1.0-1bad-py3-none-any.whl", "f o-1-py3-none-any.whl",
    "foo-1.0-py3-none-any-extra-part.whl", "foo-1!2.0rc1.post3.dev4+local-py3-none-any.whl",
]


@pytest.mark.parametrize("filename", NAMES)
def test_wheel_names_parse_as_packaging_parses_them(filename: str) -> None:
    try:
        name, version, _build, tags = parse_wheel_filename(filename)
        expected = (name, version, "wheel", tags)
    except (InvalidWheelFilename, ValueError):
        expected = None
    assert parse_filename(filename) == expected
    assert parse_filename(filename) == expected, "and again, from the caches"
