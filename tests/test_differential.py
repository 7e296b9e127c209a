"""warmbuild resolves what pip resolves, on the same index, for the same target.

pip runs as ``pip install --dry-run --report`` with ``--python`` pointed at a fresh venv,
so both see the same interpreter, markers and tags. Any difference fails the test; the
deliberate differences from pip are listed in the README and none of these sets hits one.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import IndexFactory, Runner, create_venv, other_python, pip
from support.indexserver import IndexServer

ROOT = Path(__file__).resolve().parent.parent

REAL_SETS = [
    ["requests"],
    ["flask", "pytest"],
    ["rich", "httpx", "click>=8"],
    ["attrs", "python-dateutil", "pyyaml", "beautifulsoup4", "jinja2"],
    ["-r", str(ROOT / "benchmarks" / "requirements.txt")],
    ["scikit-build-core", "meson-python", "hatchling", "setuptools", "pybind11"],
    ["pytest", "packaging>=24", "pluggy<2"],
]


def warmbuild_plan(wb: Runner, venv: Path, index_url: str, args: list[str]) -> dict[str, str]:
    out = wb("install", "--python", venv, "-i", index_url, "--dry-run", "--format", "json",
             *args).stdout
    return {a["name"]: a["version"] for a in json.loads(out)["actions"]}


def pip_plan(venv: Path, index_url: str, args: list[str]) -> dict[str, str]:
    proc = pip(venv, "install", "--dry-run", "--quiet", "--report", "-", "--ignore-installed",
               "--only-binary", ":all:", "--index-url", index_url, *args)
    report = json.loads(proc.stdout)
    return {item["metadata"]["name"].lower().replace("_", "-"): item["metadata"]["version"]
            for item in report["install"]}


def normalized(plan: dict[str, str]) -> dict[str, str]:
    return {name.lower().replace("_", "-").replace(".", "-"): v for name, v in plan.items()}


@pytest.mark.parametrize("args", REAL_SETS, ids=lambda a: " ".join(a)[-40:])
def test_same_resolution_as_pip(args: list[str], wb: Runner, venv: Path,
                                index: IndexServer) -> None:
    ours = normalized(warmbuild_plan(wb, venv, index.url, args))
    theirs = normalized(pip_plan(venv, index.url, args))
    assert ours == theirs


def test_same_resolution_as_pip_for_another_python(wb: Runner, tmp_path: Path,
                                                   index: IndexServer) -> None:
    other = other_python()
    if other is None:
        pytest.skip("no other CPython 3.9+ on this machine")
    venv = create_venv(tmp_path / "other", python=other)
    for args in (["pytest", "rich"], ["flask", "httpx", "pyyaml"]):
        assert normalized(warmbuild_plan(wb, venv, index.url, args)) == normalized(
            pip_plan(venv, index.url, args))


def test_same_resolution_as_pip_on_tricky_sets(wb: Runner, venv: Path,
                                               custom_index: IndexFactory) -> None:
    server = custom_index([
        ("app", "1.0", {"requires": ["lib[fast]>=1", 'gone; python_version < "3"'],
                        "extras": {"cli": ["clicky>=2"]}}),
        ("app", "2.0", {"requires": ["lib<1"]}),
        ("lib", "0.9"), ("lib", "1.0", {"extras": {"fast": ["speedup"]}}),
        ("lib", "1.1b1", {"extras": {"fast": ["speedup"]}}),
        ("speedup", "1.0"), ("speedup", "2.0rc1"),
        ("clicky", "1.0"), ("clicky", "2.0"), ("clicky", "3.0", {"requires_python": ">=4"}),
        ("top", "1.0", {"requires": ["app>=2", "lib>=1"]}),
        ("top", "0.5", {"requires": ["app<2"]}),
    ])
    for args in (["app[cli]"], ["app[cli]<2"], ["top"], ["top", "--pre"], ["lib>=1.1b1"],
                 ["app[cli]<2", "speedup>=2.0rc1"]):
        ours = normalized(warmbuild_plan(wb, venv, server.url, args))
        theirs = normalized(pip_plan(venv, server.url, args))
        assert ours == theirs, args
