"""What the benchmark scripts (``install.py``, ``native.py``) have in common.

Both time warmbuild, pip and uv installing into fresh venvs from a local index, alternate the
tools round by round, and print medians and ratios. Each script imports this module as a
sibling: ``python benchmarks/X.py`` puts ``benchmarks/`` on ``sys.path``. Standard library only.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import json
import os
import platform
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

REPO_ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = REPO_ROOT / "benchmarks"

PIP_VERSION = "26.3"
UV_VERSION = "0.13.9"

# Environment variables that would change what a tool does (extra indexes, find-links,
# config files, bytecode writing, an active venv ...). They are removed from the environment
# of every timed command so that the machine's own configuration cannot leak in.
_SCRUB_PREFIXES = ("PIP_", "UV_", "WARMBUILD_", "PYTHON", "CONDA_", "VIRTUAL_ENV", "__PYVENV")

T = TypeVar("T")


# --------------------------------------------------------------------------- processes


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def indent(text: str | None) -> str:
    return "\n".join("    " + line for line in (text or "").splitlines())


def tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUB_PREFIXES)}
    if extra:
        env.update(extra)
    return env


def run_quiet(
    cmd: Sequence[str | Path], env: Mapping[str, str] | None = None, timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(c) for c in cmd], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def version_of(argv: Sequence[str]) -> str:
    try:
        res = run_quiet(argv, env=clean_env(), timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"? ({exc})"
    out = (res.stdout or res.stderr).strip().splitlines()
    return out[0].strip() if res.returncode == 0 and out else "?"


def make_target(python: str, target: Path, env: Mapping[str, str]) -> None:
    """An empty venv to install into; without pip so that no tool finds one to lean on."""
    res = run_quiet([python, "-m", "venv", "--without-pip", target], env=env)
    if res.returncode != 0:
        raise SystemExit(f"cannot create target venv {target}:\n{res.stderr}")


def timed(
    argv: Sequence[str],
    env: Mapping[str, str],
    log_path: Path,
    timeout: float,
    cwd: Path | None = None,
    echo: bool = False,
) -> tuple[float, int | None, str | None]:
    """Seconds, exit code and error of one run; its output goes to ``log_path``."""
    rc: int | None = None
    error: str | None = None
    with log_path.open("w+", encoding="utf-8", errors="replace") as out:
        if echo:
            out.write("$ " + " ".join(argv) + "\n")
            out.flush()
        start = time.perf_counter()
        try:
            proc = subprocess.Popen(
                list(argv), env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        except OSError as exc:
            error = f"could not run {argv[0]}: {exc}"
        else:
            # A blocking wait, with a timer for the timeout: subprocess.run(timeout=...)
            # polls with sleeps of up to 50 ms, which rounded every figure up by as much.
            timer = threading.Timer(timeout, proc.kill)
            timer.start()
            rc = proc.wait()
            timer.cancel()
            if rc == -signal.SIGKILL and time.perf_counter() - start >= timeout:
                error = f"timed out after {timeout:.0f}s"
        elapsed = time.perf_counter() - start
        out.seek(0)
        output = out.read()
    if error is None and rc != 0:
        error = f"exit code {rc}:\n{tail(output)}"
    return elapsed, rc, error


@dataclass
class Scratch:
    """Numbered paths in one work dir, so that no run reuses another run's files."""

    root: Path
    count: int = 0

    def fresh(self, kind: str) -> Path:
        self.count += 1
        return self.root / f"{kind}-{self.count:04d}"


def rotations(items: Sequence[T], rounds: int) -> Iterator[tuple[int, int, T]]:
    """(round, position, item): every item once a round, the starting one rotating each
    round, so that slow drift in machine load affects all items alike."""
    for rnd in range(rounds if items else 0):
        shift = rnd % len(items)
        for pos, item in enumerate([*items[shift:], *items[:shift]]):
            yield rnd, pos, item


# --------------------------------------------------------------------------- tools


@dataclass
class Tool:
    name: str  # pip, uv or warmbuild: what install_argv speaks
    command: list[str]  # argv prefix, e.g. [".../uv"]
    version: str = "?"
    setup_error: str | None = None

    def install_argv(
        self,
        target: Path,
        index_url: str | None,
        what: Sequence[str],
        cache: Path,
        extra: Sequence[str] = (),
    ) -> tuple[list[str], dict[str, str]]:
        """argv and the tool's own settings (not yet cleaned) to install ``what``; with
        ``index_url`` None, from the tool's default index (``real.py``: the public one)."""
        py = str(venv_python(target))
        index = ["--index-url", index_url] if index_url else []
        if self.name == "pip":
            argv = [*self.command, "--python", py, "install", *index, *what]
            argv.append("--disable-pip-version-check")
            env = {"PIP_CONFIG_FILE": os.devnull, "PIP_CACHE_DIR": str(cache), "PIP_NO_INPUT": "1"}
        elif self.name == "uv":
            argv = [*self.command, "pip", "install", "--python", py, *index, *what]
            env = {"UV_CACHE_DIR": str(cache), "UV_NO_CONFIG": "1"}
        elif self.name == "warmbuild":
            argv = [*self.command, "install", "--python", str(target), *index]
            argv += [*what, "--cache-dir", str(cache)]
            env = {"PIP_CONFIG_FILE": os.devnull}
        else:  # pragma: no cover - guarded by argument parsing
            raise ValueError(self.name)
        return [*argv, *extra], env


def _tool_install_env() -> dict[str, str]:
    # Installing the tools themselves goes to PyPI; keep the machine's certificate settings
    # but ignore pip config files and any find-links / extra indexes.
    env = dict(os.environ)
    env["PIP_CONFIG_FILE"] = os.devnull
    for key in ("PIP_FIND_LINKS", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "VIRTUAL_ENV"):
        env.pop(key, None)
    return env


def _make_tool_venv(
    python: str, venv: Path, packages: Sequence[str], stamp_text: str
) -> str | None:
    """Create ``venv`` and pip-install ``packages``; return an error message or None."""
    stamp = venv / ".benchmark-stamp"
    if stamp.is_file() and stamp.read_text(encoding="utf-8") == stamp_text:
        return None
    if venv.exists():
        shutil.rmtree(venv)
    log(f"  setting up {venv} ...")
    res = run_quiet([python, "-m", "venv", venv])
    if res.returncode != 0:
        return f"venv creation failed:\n{tail(res.stderr)}"
    res = run_quiet(
        [venv_python(venv), "-m", "pip", "install", "-q", "--disable-pip-version-check", *packages],
        env=_tool_install_env(),
    )
    if res.returncode != 0:
        return f"pip install {' '.join(packages)} failed:\n{tail(res.stderr + res.stdout)}"
    stamp.write_text(stamp_text, encoding="utf-8")
    return None


def _setup_tool(name: str, tools_dir: Path, args: argparse.Namespace) -> Tool:
    if name == "pip":
        venv = tools_dir / f"pip-{args.pip_version}"
        err = _make_tool_venv(args.python, venv, [f"pip=={args.pip_version}"], args.pip_version)
        tool = Tool("pip", [str(venv_python(venv)), "-m", "pip"], setup_error=err)
    elif name == "uv":
        venv = tools_dir / f"uv-{args.uv_version}"
        err = _make_tool_venv(args.python, venv, [f"uv=={args.uv_version}"], args.uv_version)
        tool = Tool("uv", [str(venv / "bin" / "uv")], setup_error=err)
    elif args.warmbuild:
        tool = Tool("warmbuild", shlex.split(args.warmbuild))
    else:
        venv = tools_dir / "warmbuild-editable"
        # Editable install: source changes are picked up without reinstalling;
        # reinstall only when the project metadata changes.
        stamp = (REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8")
        err = _make_tool_venv(args.python, venv, ["-e", str(REPO_ROOT)], stamp)
        tool = Tool("warmbuild", [str(venv / "bin" / "warmbuild")], setup_error=err)
    if tool.setup_error is None:
        tool.version = version_of([*tool.command, "--version"])
    return tool


def setup_tools(
    kinds: Sequence[str], args: argparse.Namespace, alias: Mapping[str, str] | None = None
) -> dict[str, Tool]:
    """The tool behind each of ``kinds``; ``alias`` maps a kind to the tool it runs with."""
    alias = alias or {}
    log(f"setting up tools in {args.tools_dir} ...")
    tools_dir = args.tools_dir.resolve()
    tools_dir.mkdir(parents=True, exist_ok=True)
    names = dict.fromkeys(alias.get(kind, kind) for kind in kinds)
    made = {name: _setup_tool(name, tools_dir, args) for name in names}
    tools = {kind: made[alias.get(kind, kind)] for kind in kinds}
    for kind, tool in tools.items():
        if tool.setup_error:
            log(f"  {kind}: SETUP FAILED, will be reported as failed\n{indent(tool.setup_error)}")
        else:
            log(f"  {kind}: {tool.version}")
    return tools


# --------------------------------------------------------------------------- session


@contextlib.contextmanager
def local_index(
    index_url: str | None, wheelhouse: Path | None, latency: float = 0.0
) -> Iterator[str]:
    if index_url:
        yield index_url
        return
    # tests.support is not installed anywhere; it is importable from the checkout only.
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    from tests.support.indexserver import serve_index

    if wheelhouse is None:
        from tests.support.wheelhouse import ensure_wheelhouse

        log("preparing wheelhouse (downloaded once) ...")
        wheelhouse = ensure_wheelhouse()
    with serve_index([wheelhouse], latency=latency) as server:
        yield str(server.url)


@contextlib.contextmanager
def session(
    args: argparse.Namespace, prefix: str, latency: float = 0.0
) -> Iterator[tuple[Path, str]]:
    """A work dir and the index URL; the work dir is removed afterwards unless --keep-work."""
    if args.work_dir is not None:
        args.work_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=prefix, dir=args.work_dir))
    try:
        with local_index(args.index_url, args.wheelhouse, latency) as index_url:
            log(f"index: {index_url}; work dir: {work}")
            yield work, index_url
    finally:
        if args.keep_work:
            log(f"work dir kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


# --------------------------------------------------------------------------- report


@dataclass
class Timing:
    """One tool's timed runs in one group (a scenario, a step), as the table shows them."""

    tool: str
    ok_runs: int
    failed_runs: int
    median: float | None
    min: float | None
    max: float | None


def spread(values: Sequence[float]) -> tuple[float | None, float | None, float | None]:
    """Median, min and max, or Nones when nothing succeeded."""
    if not values:
        return None, None, None
    return statistics.median(values), min(values), max(values)


def _seconds(value: float | None) -> str:
    return f"{value:.2f}s" if value is not None else "-"


def _ratio(this: float, other: float, other_name: str) -> str:
    if this <= other:
        return f"{other / this:.1f}x faster than {other_name}"
    return f"{this / other:.1f}x slower than {other_name}"


def timing_cells(s: Timing) -> list[str]:
    """The ok/runs, median, min and max columns."""
    return [f"{s.ok_runs}/{s.ok_runs + s.failed_runs}", *map(_seconds, (s.median, s.min, s.max))]


def ratio_cells(s: Timing, peers: Sequence[Timing], refs: Sequence[str]) -> list[str]:
    """One "vs REF" column per ref, comparing medians with REF's timing among ``peers``."""
    by_tool = {x.tool: x for x in peers}
    cells: list[str] = []
    for ref in refs:
        other = by_tool.get(ref)
        if ref == s.tool or other is None:
            cells.append("")
        elif s.median is None or other.median is None:
            cells.append("n/a")
        else:
            cells.append(_ratio(s.median, other.median, ref))
    return cells


def render_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    return "\n".join([line(header), "  ".join("-" * w for w in widths), *map(line, rows)])


def machine_info(python: str) -> dict[str, Any]:
    cpu = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    affinity = getattr(os, "sched_getaffinity", None)
    return {
        "nproc": len(affinity(0)) if affinity else os.cpu_count(),
        "cpu": cpu,
        "platform": platform.platform(),
        "target_python": f"{version_of([python, '--version'])} ({python})",
        "benchmark_python": sys.version.split()[0],
    }


def last_line(text: str | None) -> str:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[-1] if lines else "?"


def print_summary(
    title: str,
    table: str,
    machine: Mapping[str, Any],
    tools: Mapping[str, Tool],
    notes: Sequence[str] = (),
) -> None:
    """The table, then the machine and each tool's version."""
    print(f"\n{title}\n{table}\n")
    print(f"machine: nproc={machine['nproc']}, {machine['cpu']}, {machine['platform']}")
    print(f"python:  {machine['target_python']}")
    for line in notes:
        print(line)
    for kind, t in tools.items():
        print(f"{kind + ':':<10} {t.version if not t.setup_error else 'setup failed'}")


def print_failures(
    out: Path, tools: Mapping[str, Tool], failed: int, what: str, details: Sequence[str]
) -> None:
    """What failed, one line each (``details`` for the runs), and where the timings went."""
    if failed or any(t.setup_error for t in tools.values()):
        print(f"\n{failed} failed {what}(s); details in {out}")
        for kind, t in tools.items():
            if t.setup_error:
                print(f"  {kind}: setup failed: {last_line(t.setup_error)[:160]}")
        for line in details:
            print(line)
    print(f"raw timings: {out}")


def write_results(
    out: Path | None, script: str, started: _dt.datetime, payload: Mapping[str, Any]
) -> Path:
    path = out or BENCH_DIR / "results" / f"{script}-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    return path


# --------------------------------------------------------------------------- arguments


def csv_list(value: str, allowed: Sequence[str], what: str) -> list[str]:
    items = [v.strip() for v in value.split(",") if v.strip()]
    bad = [v for v in items if v not in allowed]
    if bad or not items:
        raise argparse.ArgumentTypeError(
            f"unknown {what}: {', '.join(bad) or '(none)'} (choose from {', '.join(allowed)})"
        )
    return list(dict.fromkeys(items))


def parser(
    description: str, script: str, tools: Sequence[str], rounds: int, rounds_help: str
) -> argparse.ArgumentParser:
    """The options every benchmark takes; the script adds its own after these."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--rounds", type=int, default=rounds, help=rounds_help)
    p.add_argument(
        "--tools",
        default=",".join(tools),
        type=lambda v: csv_list(v, tools, "tool"),
        help=f"comma-separated subset of {','.join(tools)}",
    )
    results = f"benchmarks/results/{script}-<ts>.json"
    p.add_argument(
        "--json", type=Path, metavar="OUT", help=f"write raw timings here (default {results})"
    )
    p.add_argument(
        "--python",
        default=sys.executable,
        help="interpreter for target and tool venvs (default: this one)",
    )
    p.add_argument(
        "--tools-dir",
        type=Path,
        default=BENCH_DIR / ".tools",
        help="where the pinned tool venvs live (reused between runs and by both benchmarks)",
    )
    p.add_argument(
        "--work-dir",
        type=Path,
        help="parent dir for targets, caches and logs (default: system temp dir)",
    )
    p.add_argument(
        "--warmbuild",
        metavar="CMD",
        help="warmbuild command to use (e.g. 'warmbuild') instead of an editable "
        "install of this checkout in the tools dir",
    )
    p.add_argument("--pip-version", default=PIP_VERSION)
    p.add_argument("--uv-version", default=UV_VERSION)
    p.add_argument(
        "--index-url", help="use this index instead of serving the test wheelhouse locally"
    )
    p.add_argument(
        "--wheelhouse",
        type=Path,
        help="serve this wheel directory instead of tests.support's wheelhouse",
    )
    return p


def parse(p: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    ns = p.parse_args(argv)
    if ns.rounds < 1:
        p.error("--rounds must be >= 1")
    ns.python = str(Path(shutil.which(ns.python) or ns.python))
    return ns
