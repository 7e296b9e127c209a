"""In-tree backend: setuptools.build_meta's hooks, except build_wheel, which fails.

get_requires_* and prepare_metadata_* succeed (so the failure is in the build step itself);
build_wheel writes recognisable lines to stdout and stderr, then raises RuntimeError. There
is no build_editable, so an editable install fails as "backend does not support editable".
"""

import sys

from setuptools.build_meta import (  # noqa: F401
    build_sdist,
    get_requires_for_build_sdist,
    get_requires_for_build_wheel,
    prepare_metadata_for_build_wheel,
)


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    print("failing-hook: stdout line 1: starting build_wheel", flush=True)
    print("failing-hook: stdout line 2: compiling nothing", flush=True)
    print("failing-hook: stderr line 1: about to fail", file=sys.stderr, flush=True)
    print("failing-hook: stderr line 2: this is deliberate", file=sys.stderr, flush=True)
    raise RuntimeError("deliberate failure in build_wheel")
