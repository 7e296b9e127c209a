"""Dependencies that ship only an sdist: built out of tree in shared envs, wheels cached."""

from __future__ import annotations

from pathlib import Path

from conftest import IndexFactory, Runner, create_venv, installed, run_python
from support.indexserver import IndexServer, serve_index
from support.wheels import make_sdist, write_sdist


def sdist_index(tmp_path: Path, wheelhouse: Path, **sdists: dict[str, object]) -> IndexServer:
    directory = tmp_path / "sdists"
    for name, options in sdists.items():
        make_sdist(directory, name, "1.0", **options)  # type: ignore[arg-type]
    return serve_index([directory, wheelhouse])


def test_sdist_only_dependency_is_built_once_and_cached(
        wb: Runner, venv: Path, tmp_path: Path, wheelhouse: Path) -> None:
    with sdist_index(tmp_path, wheelhouse, **{"src-only": {"requires": ["six"]}}) as server:
        first = wb("install", "--python", venv, "-i", server.url, "src-only")
        assert "Built src_only-1.0-py3-none-any.whl" in first.stderr
        assert installed(venv) == {"src_only": "1.0", "six": "1.17.0"}
        assert run_python(venv, "import src_only; print(src_only.VALUE)") == "1.0"
        fresh = create_venv(tmp_path / "fresh")
        second = wb("install", "--python", fresh, "-i", server.url, "src-only")
        assert "Built" not in second.stderr, "the built wheel comes from the cache"
        assert installed(fresh) == {"src_only": "1.0", "six": "1.17.0"}


def test_only_binary_refuses_to_build(wb: Runner, venv: Path, tmp_path: Path,
                                      wheelhouse: Path) -> None:
    with sdist_index(tmp_path, wheelhouse, **{"src-only": {}}) as server:
        result = wb("install", "--python", venv, "-i", server.url, "src-only",
                    "--only-binary", ":all:", expect=1)
        assert "`src-only` 1.0 has no wheel, only a source distribution" in result.stderr
        assert "--only-binary :all:" in result.stderr
        assert installed(venv) == {}


def test_static_pkg_info_resolves_without_building(wb: Runner, venv: Path, tmp_path: Path,
                                                   wheelhouse: Path) -> None:
    with sdist_index(tmp_path, wheelhouse,
                     static={"requires": ["six"], "metadata_version": "2.2"},
                     dynamic={"requires": ["six"], "metadata_version": "2.1"}) as server:
        static = wb("install", "--python", venv, "-i", server.url, "static", "--dry-run")
        assert "Built" not in static.stderr and "+ six==1.17.0" in static.stderr
        # Not authoritative: the backend's metadata hook answers, and nothing is built.
        dynamic = wb("install", "--python", venv, "-i", server.url, "dynamic", "--dry-run")
        assert "Prepared metadata of dynamic-1.0.tar.gz" in dynamic.stderr
        assert "Built" not in dynamic.stderr and "+ six==1.17.0" in dynamic.stderr


def test_sdists_with_the_same_build_requirements_share_an_env(
        wb: Runner, venv: Path, tmp_path: Path, wheelhouse: Path) -> None:
    with sdist_index(tmp_path, wheelhouse, one={}, two={}) as server:
        wb("install", "--python", venv, "-i", server.url, "one", "two")
        assert set(installed(venv)) == {"one", "two"}
    envs = Path(wb.env["WARMBUILD_CACHE_DIR"]) / "envs-v1"
    assert len([p for p in envs.iterdir() if p.is_dir() and p.name.startswith("shared-")]) == 1


def test_wheel_preferred_over_sdist_of_the_same_version(
        wb: Runner, venv: Path, tmp_path: Path, custom_index: IndexFactory,
        index: IndexServer) -> None:
    server = custom_index([("both", "1.0", {"files": {"both/__init__.py": "KIND = 'wheel'"}})])
    make_sdist(tmp_path / "sd", "both", "1.0", value="sdist")
    server.add_dir(tmp_path / "sd")
    result = wb("install", "--python", venv, "-i", server.url, "both")
    assert "Built" not in result.stderr
    assert run_python(venv, "import both; print(both.KIND)") == "wheel"


def test_a_failing_sdist_build_names_the_sdist_not_a_temporary_dir(
        wb: Runner, venv: Path, tmp_path: Path, wheelhouse: Path) -> None:
    sdist = write_sdist(tmp_path / "dist", "bad-1.0", {
        "pyproject.toml": '[build-system]\nrequires = ["setuptools"]\n'
                          'build-backend = "setuptools.build_meta"\n'
                          '[project]\nname = "bad"\nversion = "1.0"\n',
        "setup.py": 'raise SystemExit("this setup.py refuses to build")\n',
        "PKG-INFO": "Metadata-Version: 2.1\nName: bad\nVersion: 1.0\n"})
    with serve_index([wheelhouse]) as server:
        result = wb("install", "--python", venv, "-i", server.url, sdist, expect=1)
    assert "failed to build `bad @ bad-1.0.tar.gz:bad-1.0`" in result.stderr
    assert "this setup.py refuses to build" in result.stderr
    assert "warmbuild-sdist-" not in result.stderr and installed(venv) == {}
