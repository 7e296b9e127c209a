"""Resolution rules, driven through `warmbuild install` against tiny wheels of our own."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import IndexFactory, Runner, installed, run_python, snapshot


def test_extras_and_extras_of_dependencies(wb: Runner, venv: Path,
                                           custom_index: IndexFactory) -> None:
    server = custom_index([
        ("app", "1.0", {"requires": ["lib[fast]"], "extras": {"cli": ["clicky"]}}),
        ("lib", "1.0", {"extras": {"fast": ["speedup>=2"], "slow": ["never"]}}),
        ("speedup", "1.0"), ("speedup", "2.0"), ("clicky", "1.0"),
    ])
    wb("install", "--python", venv, "-i", server.url, "app[cli]")
    assert installed(venv) == {"app": "1.0", "lib": "1.0", "speedup": "2.0", "clicky": "1.0"}


def test_markers_evaluated_for_the_target(wb: Runner, venv: Path,
                                          custom_index: IndexFactory) -> None:
    server = custom_index([
        ("app", "1.0", {"requires": ['old-only; python_version < "3.0"',
                                     'linux-only; sys_platform == "linux"']}),
        ("linux-only", "1.0"),
    ])
    wb("install", "--python", venv, "-i", server.url, "app",
       'skipped-entirely; python_version < "3"')
    assert installed(venv) == {"app": "1.0", "linux_only": "1.0"}


def test_conflict_is_explained(wb: Runner, venv: Path, custom_index: IndexFactory) -> None:
    server = custom_index([
        ("a", "1.0", {"requires": ["shared<2"]}), ("b", "1.0", {"requires": ["shared>=2"]}),
        ("shared", "1.0"), ("shared", "2.0"),
    ])
    before = snapshot(venv)
    result = wb("install", "--python", venv, "-i", server.url, "a", "b", expect=1)
    assert "error: cannot install a consistent set" in result.stderr
    assert "a 1.0 requires shared<2" in result.stderr
    assert "b 1.0 requires shared>=2" in result.stderr
    assert "Traceback" not in result.output
    assert snapshot(venv) == before


def test_backtracks_to_an_older_version(wb: Runner, venv: Path,
                                        custom_index: IndexFactory) -> None:
    server = custom_index([
        ("top", "2.0", {"requires": ["dep==2.0"]}), ("top", "1.0", {"requires": ["dep==1.0"]}),
        ("dep", "1.0"), ("dep", "2.0"),
    ])
    wb("install", "--python", venv, "-i", server.url, "top", "dep<2")
    assert installed(venv) == {"top": "1.0", "dep": "1.0"}


def test_prereleases(wb: Runner, venv: Path, custom_index: IndexFactory) -> None:
    server = custom_index([("lib", "1.0"), ("lib", "2.0b1"), ("only-pre", "1.0a1")])
    wb("install", "--python", venv, "-i", server.url, "lib", "--dry-run", "--format", "json")
    out = wb("install", "--python", venv, "-i", server.url, "lib", "--dry-run").stderr
    assert "+ lib==1.0" in out
    out = wb("install", "--python", venv, "-i", server.url, "lib", "--pre", "--dry-run").stderr
    assert "+ lib==2.0b1" in out
    out = wb("install", "--python", venv, "-i", server.url, "lib==2.0b1", "--dry-run").stderr
    assert "+ lib==2.0b1" in out, "an explicitly pinned pre-release is allowed"
    out = wb("install", "--python", venv, "-i", server.url, "lib>=2.0b1", "--dry-run").stderr
    assert "+ lib==2.0b1" in out, "a specifier naming a pre-release allows it"
    out = wb("install", "--python", venv, "-i", server.url, "only-pre", "--dry-run").stderr
    assert "+ only-pre==1.0a1" in out, "with nothing final, a pre-release is taken (as pip)"


def test_requires_python_from_metadata(wb: Runner, venv: Path,
                                       custom_index: IndexFactory) -> None:
    # The index below serves no requires-python in the page for make_wheel's METADATA? It
    # does (read from the wheel), so the newest is filtered before any metadata is read.
    server = custom_index([("lib", "1.0", {"requires_python": ">=3.8"}),
                           ("lib", "2.0", {"requires_python": ">=4"})])
    out = wb("install", "--python", venv, "-i", server.url, "lib", "--dry-run").stderr
    assert "+ lib==1.0" in out
    result = wb("install", "--python", venv, "-i", server.url, "lib==2.0", expect=1)
    assert "requires Python >=4" in result.stderr


def test_unknown_package(wb: Runner, venv: Path, custom_index: IndexFactory) -> None:
    server = custom_index([("lib", "1.0")])
    result = wb("install", "--python", venv, "-i", server.url, "no-such-thing", expect=1)
    assert "no package named `no-such-thing` was found" in result.stderr
    assert server.url in result.stderr


def test_no_matching_version(wb: Runner, venv: Path, custom_index: IndexFactory) -> None:
    server = custom_index([("lib", "1.0"), ("lib", "1.1")])
    result = wb("install", "--python", venv, "-i", server.url, "lib>=3", expect=1)
    assert "no version of `lib` matches lib>=3" in result.stderr
    assert "available: 1.1, 1.0" in result.stderr


def test_no_compatible_wheel_names_the_tags(wb: Runner, venv: Path,
                                            custom_index: IndexFactory) -> None:
    server = custom_index([("native", "1.0", {"tag": "cp27-cp27m-win32"})])
    result = wb("install", "--python", venv, "-i", server.url, "native", expect=1)
    assert "`native` 1.0 has no wheel compatible with the target" in result.stderr
    assert "cp27-cp27m-win32" in result.stderr
    assert "py3-none-any" in result.stderr


def test_broken_sdist_is_a_clear_error(wb: Runner, venv: Path, tmp_path: Path,
                                       custom_index: IndexFactory) -> None:
    server = custom_index([("other", "1.0")])
    server.add_dir(tmp_path / "sdists")
    (tmp_path / "sdists").mkdir()
    (tmp_path / "sdists" / "srconly-1.0.tar.gz").write_bytes(b"not really a tarball")
    result = wb("install", "--python", venv, "-i", server.url, "srconly", expect=1)
    assert "error: srconly-1.0.tar.gz: not a readable source distribution" in result.stderr
    assert "Traceback" not in result.output


def test_constraints_apply_to_dependencies_only_when_needed(
        wb: Runner, venv: Path, tmp_path: Path, custom_index: IndexFactory) -> None:
    server = custom_index([("app", "1.0", {"requires": ["lib"]}), ("lib", "1.0"),
                           ("lib", "2.0"), ("unused", "1.0")])
    constraints = tmp_path / "constraints.txt"
    constraints.write_text("lib<2\nunused==1.0\n")
    wb("install", "--python", venv, "-i", server.url, "app", "-c", constraints)
    assert installed(venv) == {"app": "1.0", "lib": "1.0"}


def test_tag_priority_picks_the_most_specific_wheel(wb: Runner, venv: Path,
                                                    custom_index: IndexFactory) -> None:
    tag = run_python(venv, "import sys; v=sys.version_info; print(f'cp{v[0]}{v[1]}')")
    server = custom_index([
        ("both", "1.0", {"tag": "py3-none-any", "files": {"both/__init__.py": "kind='pure'"}}),
        ("both", "1.0", {"tag": f"{tag}-none-any",
                         "files": {"both/__init__.py": "kind='specific'"}}),
    ])
    wb("install", "--python", venv, "-i", server.url, "both")
    assert run_python(venv, "import both; print(both.kind)") == "specific"


def test_index_requests_overlap_while_resolving(wb: Runner, venv: Path,
                                                custom_index: IndexFactory) -> None:
    # Every answer is held back as a network round trip would be. The four dependencies of
    # app are looked up (page, then PEP 658 metadata) at the same time, not one by one.
    server = custom_index([("app", "1.0", {"requires": ["a", "b", "c", "d"]}),
                           ("a", "1.0", {"requires": ["e"]}), ("b", "1.0"), ("c", "1.0"),
                           ("d", "1.0"), ("e", "1.0")], latency=0.2)
    # --dry-run: only resolution talks to the index (downloads would overlap anyway).
    result = wb("install", "--python", venv, "-i", server.url, "--dry-run", "app")
    assert all(f"+ {n}==1.0" in result.stderr for n in ["app", *"abcde"])
    assert not any(p.endswith(".whl") for p in server.paths()), "metadata files only"
    assert server.max_in_flight >= 4


def test_ctrl_c_while_the_index_is_slow_does_not_wait_for_it(
        wb: Runner, venv: Path, custom_index: IndexFactory) -> None:
    # Requests in flight in read-ahead threads must not keep the process alive.
    server = custom_index([("app", "1.0")], latency=60)
    proc = subprocess.Popen(
        [sys.executable, "-m", "warmbuild", "install", "--python", str(venv), "-i", server.url,
         "app"], env=wb.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while not server.requests and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=50)
    assert proc.returncode == 130 and "interrupted" in err
    assert server.in_flight == 1, "the process ended before the index answered"
    assert installed(venv) == {}
