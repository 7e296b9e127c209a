"""In-tree backend wrapping setuptools.build_meta that records config_settings.

Every hook, before delegating to setuptools, appends one JSON line
``{"hook": "<hook name>", "config_settings": <dict or null>}`` to the file named by the
environment variable WARMBUILD_TEST_ECHO (nothing is written when it is unset). A test sets
it, builds with ``-C key=value`` and checks that every hook the frontend called saw the key.
"""

import json
import os

from setuptools import build_meta as _orig

ENV_VAR = "WARMBUILD_TEST_ECHO"


def _echo(hook, config_settings):
    path = os.environ.get(ENV_VAR)
    if not path:
        return
    line = json.dumps({"hook": hook, "config_settings": config_settings}, sort_keys=True)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(line + "\n")


def get_requires_for_build_wheel(config_settings=None):
    _echo("get_requires_for_build_wheel", config_settings)
    return _orig.get_requires_for_build_wheel(config_settings)


def get_requires_for_build_editable(config_settings=None):
    _echo("get_requires_for_build_editable", config_settings)
    return _orig.get_requires_for_build_editable(config_settings)


def get_requires_for_build_sdist(config_settings=None):
    _echo("get_requires_for_build_sdist", config_settings)
    return _orig.get_requires_for_build_sdist(config_settings)


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    _echo("prepare_metadata_for_build_wheel", config_settings)
    return _orig.prepare_metadata_for_build_wheel(metadata_directory, config_settings)


def prepare_metadata_for_build_editable(metadata_directory, config_settings=None):
    _echo("prepare_metadata_for_build_editable", config_settings)
    return _orig.prepare_metadata_for_build_editable(metadata_directory, config_settings)


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    _echo("build_wheel", config_settings)
    return _orig.build_wheel(wheel_directory, config_settings, metadata_directory)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    _echo("build_editable", config_settings)
    return _orig.build_editable(wheel_directory, config_settings, metadata_directory)


def build_sdist(sdist_directory, config_settings=None):
    _echo("build_sdist", config_settings)
    return _orig.build_sdist(sdist_directory, config_settings)
