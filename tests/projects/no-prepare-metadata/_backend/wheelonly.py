"""In-tree backend with ONLY the two mandatory PEP 517 hooks: build_wheel and build_sdist.

No prepare_metadata_for_build_*, no get_requires_for_build_*, no build_editable: a frontend
must build the wheel to learn the metadata (Requires-Dist: six). The wheel is written by
hand with zipfile, with fixed timestamps so that it is byte-for-byte reproducible.
"""

import base64
import hashlib
import io
import os
import tarfile
import zipfile

NAME = "no-prepare-metadata"
DIST = "no_prepare_metadata"
VERSION = "0.1.0"
PACKAGE = "no_prepare_metadata"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATE_TIME = (2020, 1, 1, 0, 0, 0)

METADATA = f"""\
Metadata-Version: 2.1
Name: {NAME}
Version: {VERSION}
Summary: Built by a backend without prepare_metadata hooks
Requires-Python: >=3.9
Requires-Dist: six
"""

WHEEL = """\
Wheel-Version: 1.0
Generator: wheelonly (warmbuild test backend)
Root-Is-Purelib: true
Tag: py3-none-any
"""


def _package_files():
    pkg_dir = os.path.join(ROOT, PACKAGE)
    for name in sorted(os.listdir(pkg_dir)):
        if name.endswith(".py"):
            with open(os.path.join(pkg_dir, name), "rb") as fh:
                yield f"{PACKAGE}/{name}", fh.read()


def _record_line(path, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    dist_info = f"{DIST}-{VERSION}.dist-info"
    files = list(_package_files())
    files.append((f"{dist_info}/METADATA", METADATA.encode()))
    files.append((f"{dist_info}/WHEEL", WHEEL.encode()))
    record = [_record_line(path, data) for path, data in files]
    record.append(f"{dist_info}/RECORD,,")
    files.append((f"{dist_info}/RECORD", ("\n".join(record) + "\n").encode()))

    filename = f"{DIST}-{VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w", zipfile.ZIP_DEFLATED) as zf:
        for path, data in files:
            info = zipfile.ZipInfo(path, date_time=DATE_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return filename


def build_sdist(sdist_directory, config_settings=None):
    base = f"{DIST}-{VERSION}"
    filename = f"{base}.tar.gz"
    members = [("PKG-INFO", METADATA.encode())]
    for rel in ("pyproject.toml", "_backend/wheelonly.py"):
        with open(os.path.join(ROOT, rel), "rb") as fh:
            members.append((rel, fh.read()))
    members.extend(_package_files())
    with tarfile.open(os.path.join(sdist_directory, filename), "w:gz", format=tarfile.PAX_FORMAT) as tf:
        for rel, data in members:
            info = tarfile.TarInfo(f"{base}/{rel}")
            info.size = len(data)
            info.mode = 0o644
            info.mtime = 1577836800
            tf.addfile(info, io.BytesIO(data))
    return filename
