"""Fixtures: a real index on 127.0.0.1, real venvs, and warmbuild run as a user runs it.

Every test gets its own cache dir and no pip configuration of the machine
(``PIP_CONFIG_FILE=/dev/null``), so results do not depend on who runs them.

Two layers. The end-to-end tests drive ``python -m warmbuild`` against real venvs, real
backends and the local index; they are the honest proof and they are slow. The fast layer
(``pytest -m "not slow"``, the ``*_unit.py`` files and a few others) calls the pure parts
in-process. The ``slow`` mark is given by a rule, not by hand: every test that uses one of
:data:`SLOW_FIXTURES` (directly or through another fixture) is marked ``slow`` at
collection. Those are the fixtures that run warmbuild or a backend in a subprocess (``wb``,
``clean_env``, the environment such a subprocess gets), make a real venv (``venv``), or
serve or download the pinned wheelhouse (``wheelhouse``, ``index``, ``custom_index``). The
rule goes by fixture name, so a module's own fixture of one of these names (test_support's
small ``index``) counts too. A test that is slow another way (it makes venvs or starts
interpreters itself) carries an explicit ``@pytest.mark.slow``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from support.indexserver import IndexServer, serve_index
from support.wheelhouse import ensure_wheelhouse
from support.wheels import make_wheel

ROOT = Path(__file__).resolve().parent.parent

#: A test using any of these fixtures is marked ``slow`` (see the module docstring).
SLOW_FIXTURES = frozenset({"wb", "clean_env", "venv", "index", "custom_index", "wheelhouse"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        # ``fixturenames`` is the whole closure: fixtures used through other fixtures too.
        if SLOW_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def wheelhouse() -> Path:
    return ensure_wheelhouse()


@pytest.fixture(scope="session")
def index(wheelhouse: Path) -> Iterator[IndexServer]:
    with serve_index([wheelhouse]) as server:
        yield server


@pytest.fixture
def clean_env(tmp_path: Path) -> dict[str, str]:
    # A proxy of the machine must not carry the tests' loopback traffic.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PIP_", "WARMBUILD_", "UV_")) and k != "VIRTUAL_ENV"
           and not k.lower().endswith("_proxy")}
    home = tmp_path / "home"
    home.mkdir()
    env.update(
        WARMBUILD_CACHE_DIR=str(tmp_path / "cache"), PIP_CONFIG_FILE=os.devnull,
        XDG_CONFIG_HOME=str(home / ".config"), NETRC=str(home / ".netrc"),
        PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1", PYTHONDONTWRITEBYTECODE="1",
    )
    return env


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


class Runner:
    """Runs ``python -m warmbuild`` in a subprocess, as a user would from a shell."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.env = env
        self.cwd = cwd

    def __call__(self, *args: str | Path, expect: int | None = 0,
                 env: dict[str, str] | None = None, cwd: Path | None = None) -> Result:
        proc = subprocess.run(
            [sys.executable, "-m", "warmbuild", *map(str, args)], capture_output=True,
            text=True, env={**self.env, **(env or {})}, cwd=cwd or self.cwd, timeout=300,
        )
        result = Result(proc.returncode, proc.stdout, proc.stderr)
        if expect is not None:
            assert proc.returncode == expect, (
                f"warmbuild {' '.join(map(str, args))} exited {proc.returncode}, "
                f"expected {expect}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}")
        return result


@pytest.fixture
def wb(clean_env: dict[str, str], tmp_path: Path) -> Runner:
    return Runner(clean_env, tmp_path)


def create_venv(path: Path, python: str | Path = sys.executable) -> Path:
    subprocess.run([str(python), "-m", "venv", "--without-pip", str(path)], check=True)
    return path


@pytest.fixture
def venv(tmp_path: Path) -> Path:
    return create_venv(tmp_path / "venv")


def site_packages(venv: Path) -> Path:
    (found,) = venv.glob("lib/python3*/site-packages")
    return found


def installed(venv: Path) -> dict[str, str]:
    """``{dist-info name: version}`` of what is installed in ``venv``."""
    result = {}
    for info in site_packages(venv).glob("*.dist-info"):
        name, version = info.name[: -len(".dist-info")].split("-")
        result[name] = version
    return result


def run_python(venv: Path, code: str) -> str:
    proc = subprocess.run([str(venv / "bin" / "python"), "-c", code], capture_output=True,
                          text=True, check=True)
    return proc.stdout.strip()


def pip(venv: Path, *args: str, env: dict[str, str] | None = None,
        check: bool = True) -> subprocess.CompletedProcess[str]:
    """The test runner's own pip, pointed at ``venv`` with ``--python``."""
    return subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), *args],
        capture_output=True, text=True, check=check,
        env={**{k: v for k, v in (env or os.environ).items() if not k.startswith("PIP_")},
             "PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )


def snapshot(venv: Path) -> dict[str, tuple[int, int]]:
    """Every file of the venv with size and mtime, to prove an env unchanged."""
    result = {}
    for path in sorted(venv.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            st = path.stat()
            result[str(path.relative_to(venv))] = (st.st_size, st.st_mtime_ns)
    return result


WheelSpec = dict[str, object]
IndexFactory = Callable[..., IndexServer]


@pytest.fixture
def custom_index(tmp_path: Path) -> Iterator[IndexFactory]:
    """Build tiny wheels and serve them: ``custom_index([("a", "1.0", {...}), ...])``."""
    servers: list[IndexServer] = []

    def build(specs: Sequence[tuple[str, str] | tuple[str, str, WheelSpec]],
              **server_options: object) -> IndexServer:
        directory = tmp_path / f"wheels{len(servers)}"
        directory.mkdir()
        for spec in specs:
            options = spec[2] if len(spec) == 3 else {}  # type: ignore[misc]
            make_wheel(directory, spec[0], spec[1], **options)  # type: ignore[arg-type]
        server = serve_index([directory], **server_options)  # type: ignore[arg-type]
        servers.append(server)
        return server

    yield build
    for server in servers:
        server.close()


def other_python() -> Path | None:
    """A CPython 3.9+ other than the one running the tests, if the machine has one."""
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    for version in ("3.9", "3.12", "3.10", "3.13"):
        if version == f"{sys.version_info[0]}.{sys.version_info[1]}":
            continue
        found = [shutil.which(f"python{version}"),
                 *map(str, sorted(pyenv.glob(f"{version}.*/bin/python{version}")))]
        for candidate in filter(None, found):
            proc = subprocess.run([candidate, "-c", "import sys; print(sys.version_info[:2])"],
                                  capture_output=True, text=True, check=False)
            if proc.returncode == 0:
                return Path(candidate)
    return None


def after_env_line(stderr: str) -> str:
    """``stderr`` without the `Using Python ... environment at ...` line that commands
    changing an environment start with."""
    first, sep, rest = stderr.partition("\n")
    return rest if sep and first.startswith("Using ") and " environment at " in first else stderr
