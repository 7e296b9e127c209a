"""Download the pinned test wheelhouse (tests/wheelhouse.txt) once and reuse it.

Run ``python tests/support/wheelhouse.py`` to pre-download it; it prints the directory.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

WHEELHOUSE_TXT = Path(__file__).resolve().parents[1] / "wheelhouse.txt"
ENV_VAR = "WARMBUILD_TEST_WHEELHOUSE"
MARKER = ".complete"

# Interpreters the wheelhouse serves: tests run installs for both, so binary projects need a
# wheel for each ABI.
PYTHON_VERSIONS = ("3.9", "3.11")
# pip does not expand a manylinux_X_Y platform to older glibc versions by itself, so list
# every tag that the projects in wheelhouse.txt are published under.
PLATFORMS = (
    "manylinux_2_28_x86_64",
    "manylinux_2_17_x86_64",
    "manylinux2014_x86_64",
    "manylinux2010_x86_64",
    "manylinux_2_5_x86_64",
    "manylinux1_x86_64",
)
# Settings that would make pip look at local package directories instead of the public
# index; the point of the wheelhouse is to hold exactly the pinned public wheels.
_PIP_ENV_DROP = ("PIP_FIND_LINKS", "PIP_EXTRA_INDEX_URL", "PIP_NO_INDEX")


def read_pins(path: Path = WHEELHOUSE_TXT) -> list[str]:
    """The ``name==version`` lines of a pins file, without comments."""
    pins = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            pins.append(line)
    return pins


def default_dir(pins_file: Path = WHEELHOUSE_TXT) -> Path:
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env)
    # Keyed by the pins so that editing wheelhouse.txt never reuses a stale wheelhouse.
    key = hashlib.sha256(pins_file.read_bytes()).hexdigest()[:12]
    return Path.home() / ".cache" / "warmbuild-tests" / f"wheelhouse-{key}"


@contextlib.contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a") as fh:
        # Several pytest-xdist workers call this at once; one downloads, the others wait and
        # then find the marker.
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _pip_env() -> dict[str, str]:
    env = dict(os.environ)
    for key in _PIP_ENV_DROP:
        env.pop(key, None)
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def _download(pins_file: Path, dest: Path) -> None:
    for version in PYTHON_VERSIONS:
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary",
            ":all:",
            "--python-version",
            version,
            "--implementation",
            "cp",
            "--abi",
            "cp" + version.replace(".", ""),
            *(arg for platform in PLATFORMS for arg in ("--platform", platform)),
            "--progress-bar",
            "off",
            "-q",
            "-d",
            str(dest),
            "-r",
            str(pins_file),
        ]
        proc = subprocess.run(cmd, env=_pip_env(), capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(
                f"downloading the test wheelhouse for Python {version} failed "
                f"(exit {proc.returncode}):\n{proc.stderr[-4000:]}"
            )


def ensure_wheelhouse(root: Path | None = None, *, pins_file: Path = WHEELHOUSE_TXT) -> Path:
    """Return a directory holding every wheel pinned in ``pins_file``, downloading it once.

    ``root`` overrides the directory (default: ``$WARMBUILD_TEST_WHEELHOUSE`` or
    ``~/.cache/warmbuild-tests/wheelhouse-<hash of pins>``).
    """
    target = Path(root) if root is not None else default_dir(pins_file)
    if (target / MARKER).is_file():
        return target
    parent = target.parent
    with _locked(parent / f".{target.name}.lock"):
        # Another process may have finished while we waited for the lock.
        if (target / MARKER).is_file():
            return target
        # Holding the lock means no one else is downloading: temp dirs left here were
        # abandoned by an interrupted run.
        tmp_prefix = f".{target.name}.tmp-"
        for stale in parent.glob(tmp_prefix + "*"):
            shutil.rmtree(stale, ignore_errors=True)
        tmp = Path(tempfile.mkdtemp(prefix=tmp_prefix, dir=parent))
        try:
            _download(pins_file, tmp)
            (tmp / MARKER).write_text(
                "".join(f"{p.name}\n" for p in sorted(tmp.glob("*.whl"))), encoding="utf-8"
            )
            if not target.exists():
                # mkdtemp makes the directory private; the wheelhouse is shared read-only data.
                tmp.chmod(0o755)
                tmp.rename(target)
            else:
                # A pre-existing directory (e.g. created by hand for $WARMBUILD_TEST_WHEELHOUSE)
                # is never deleted; files are moved in and the marker goes last, so an
                # interruption still leaves it incomplete.
                for item in sorted(tmp.iterdir(), key=lambda p: p.name == MARKER):
                    os.replace(item, target / item.name)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return target


if __name__ == "__main__":
    print(ensure_wheelhouse(Path(sys.argv[1]) if len(sys.argv) > 1 else None))
