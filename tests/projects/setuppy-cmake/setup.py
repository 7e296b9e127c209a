"""setuptools + an in-tree CMake/Ninja build (the PyTorch pattern).

Like PyTorch's tools/setup_helpers/cmake.py: CMake is configured into ./build (in the
source tree) only when build/CMakeCache.txt or build/build.ninja is missing (or when
SETUPPY_CMAKE_RECONFIGURE=1), and every build_ext run does ``cmake --build build``, so ninja
recompiles only what changed. cmake and ninja are the ones on PATH, i.e. the build
requirements installed into the build environment, and their absolute paths are recorded in
build/CMakeCache.txt (CMAKE_COMMAND, CMAKE_MAKE_PROGRAM, CMAKE_ROOT) and build/build.ninja.
When that environment is thrown away (pip's default isolation), the next build of the same
tree fails because ``cmake --build`` runs the recorded ninja, which no longer exists.
"""

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = Path(__file__).resolve().parent
BUILD_DIR = HERE / "build"


class CMakeExtension(Extension):
    def __init__(self, name):
        super().__init__(name, sources=[])


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        cmake = shutil.which("cmake")
        ninja = shutil.which("ninja")
        if cmake is None or ninja is None:
            raise RuntimeError(f"cmake/ninja not on PATH (cmake={cmake}, ninja={ninja})")
        print(f"setuppy-cmake: cmake={cmake} ninja={ninja}", flush=True)
        ext_suffix = sysconfig.get_config_var("EXT_SUFFIX")
        reconfigure = os.environ.get("SETUPPY_CMAKE_RECONFIGURE") == "1"
        configured = (BUILD_DIR / "CMakeCache.txt").is_file() and (BUILD_DIR / "build.ninja").is_file()
        if reconfigure or not configured:
            self.configure(cmake, ninja, ext_suffix)
        else:
            print("setuppy-cmake: build/CMakeCache.txt exists, not re-running cmake", flush=True)
        subprocess.run([cmake, "--build", str(BUILD_DIR)], check=True)
        built = BUILD_DIR / f"_native{ext_suffix}"
        dest = Path(self.get_ext_fullpath(ext.name))
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(built, dest)

    def configure(self, cmake, ninja, ext_suffix):
        subprocess.run(
            [
                cmake,
                "-S", str(HERE),
                "-B", str(BUILD_DIR),
                "-G", "Ninja",
                f"-DCMAKE_MAKE_PROGRAM={ninja}",
                "-DCMAKE_BUILD_TYPE=Release",
                f"-DPython_EXECUTABLE={sys.executable}",
                f"-DEXT_SUFFIX={ext_suffix}",
            ],
            check=True,
        )


setup(
    name="setuppy-cmake",
    version="0.1.0",
    description="setup.py driving an in-tree CMake + Ninja build (PyTorch-like)",
    packages=["setuppy_cmake"],
    ext_modules=[CMakeExtension("setuppy_cmake._native")],
    cmdclass={"build_ext": CMakeBuild},
    python_requires=">=3.9",
    zip_safe=False,
)
