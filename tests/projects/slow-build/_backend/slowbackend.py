"""In-tree backend: build_wheel prints a few lines, sleeps, then writes the wheel by hand.

``SLOW_BUILD_SECONDS`` (default 3) is how long it sleeps, printing nothing meanwhile, as a
long native compile step does. With ``SLOW_BUILD_FAIL`` set it instead prints 30 lines of
compiler-like output, the last ones an error whose caret line is indented, and fails.
"""

import base64
import hashlib
import os
import sys
import time
import zipfile

NAME, DIST, VERSION = "slow-build", "slow_build", "0.1.0"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

ERROR = """\
src/module.c: In function 'value':
src/module.c:3:12: error: 'x' undeclared (first use in this function)
    3 |     return x;
      |            ^"""


def _record_line(path, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    print("slow-build: starting", flush=True)
    if os.environ.get("SLOW_BUILD_FAIL"):
        for i in range(26):
            print(f"[{i + 1}/30] compiling unit{i:02d}.c", flush=True)
        print(ERROR, file=sys.stderr, flush=True)
        sys.exit(1)
    time.sleep(float(os.environ.get("SLOW_BUILD_SECONDS", "3")))
    dist_info = f"{DIST}-{VERSION}.dist-info"
    with open(os.path.join(ROOT, DIST, "__init__.py"), "rb") as fh:
        files = [(f"{DIST}/__init__.py", fh.read())]
    files.append((f"{dist_info}/METADATA",
                  f"Metadata-Version: 2.1\nName: {NAME}\nVersion: {VERSION}\n".encode()))
    files.append((f"{dist_info}/WHEEL", b"Wheel-Version: 1.0\nGenerator: slowbackend\n"
                   b"Root-Is-Purelib: true\nTag: py3-none-any\n"))
    record = [_record_line(path, data) for path, data in files] + [f"{dist_info}/RECORD,,"]
    files.append((f"{dist_info}/RECORD", ("\n".join(record) + "\n").encode()))
    filename = f"{DIST}-{VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w") as zf:
        for path, data in files:
            zf.writestr(zipfile.ZipInfo(path, date_time=(2020, 1, 1, 0, 0, 0)), data)
    print("slow-build: done", flush=True)
    return filename


def build_sdist(sdist_directory, config_settings=None):
    raise NotImplementedError("slow-build makes wheels only")
