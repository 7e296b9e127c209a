"""In-tree backend wrapping setuptools.build_meta that needs six, asked for dynamically.

get_requires_for_build_wheel/_editable return setuptools' list plus "six"; build_wheel and
build_editable fail loudly if six cannot be imported, i.e. if the frontend ignored them.
"""

from setuptools import build_meta as _orig
from setuptools.build_meta import (  # noqa: F401
    build_sdist,
    get_requires_for_build_sdist,
    prepare_metadata_for_build_editable,
    prepare_metadata_for_build_wheel,
)

EXTRA = "six"


def get_requires_for_build_wheel(config_settings=None):
    return [*_orig.get_requires_for_build_wheel(config_settings), EXTRA]


def get_requires_for_build_editable(config_settings=None):
    return [*_orig.get_requires_for_build_editable(config_settings), EXTRA]


def _require_six(hook):
    try:
        import six  # noqa: F401
    except ImportError as exc:
        raise AssertionError(
            f"get-requires-adds: {hook} needs 'six' in the build environment; it is requested "
            "only by get_requires_for_build_wheel/_editable, so the frontend ignored them"
        ) from exc


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    _require_six("build_wheel")
    return _orig.build_wheel(wheel_directory, config_settings, metadata_directory)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    _require_six("build_editable")
    return _orig.build_editable(wheel_directory, config_settings, metadata_directory)
