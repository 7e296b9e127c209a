#!/usr/bin/env python3
"""Side-by-side install benchmark: warmbuild vs pip vs uv.

Installs the same pinned requirement set (``benchmarks/requirements.txt``) into fresh
virtual environments with each tool, from a local HTTP index on 127.0.0.1, and reports
median / min / max wall-clock seconds per tool for two scenarios:

* ``cold``: every timed run starts from an empty cache directory;
* ``warm``: the tool's cache directory is primed by one untimed install, then every timed
  run installs into a fresh target venv with that cache.

Runs are interleaved round-robin (the starting tool rotates each round) so that drift in
machine load affects all tools alike. Every timed run is checked afterwards (untimed):
exit code 0, every pinned distribution present at its pinned version, and a few imports
work. Failed runs are reported as failures and never enter the timings.

Run ``python benchmarks/install.py --help`` for options; see ``benchmarks/README.md``.
Standard library only.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = REPO_ROOT / "benchmarks"

PIP_VERSION = "26.3"
UV_VERSION = "0.13.9"
ALL_TOOLS = ("warmbuild", "pip", "uv")
ALL_SCENARIOS = ("cold", "warm")
DEFAULT_IMPORTS = ("requests", "rich", "flask", "yaml", "pytest", "httpx", "bs4", "dateutil")

# Environment variables that would change what a tool does (extra indexes, find-links,
# config files, bytecode writing, an active venv ...). They are removed from the environment
# of every timed command so that the machine's own configuration cannot leak in.
_SCRUB_PREFIXES = ("PIP_", "UV_", "WARMBUILD_", "PYTHON", "CONDA_", "VIRTUAL_ENV", "__PYVENV")

# Run in the target interpreter (untimed) after each install: import a few modules and
# print the installed distributions as JSON.
_CHECK_SCRIPT = """
import importlib, importlib.metadata as md, json, sys
failed = []
for mod in sys.argv[1:]:
    try:
        importlib.import_module(mod)
    except Exception as exc:
        failed.append(f"{mod}: {exc!r}")
dists = {}
for d in md.distributions():
    name = d.metadata["Name"]
    if name:
        dists[name] = d.version
print(json.dumps({"import_errors": failed, "dists": dists}))
"""


# --------------------------------------------------------------------------- helpers


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


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
        [str(c) for c in cmd],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


@dataclass(frozen=True)
class Pin:
    name: str  # normalized
    version: str
    conditional: bool  # has an environment marker: not required to be installed


def parse_requirements(path: Path) -> list[Pin]:
    """Read ``name==version`` pins (hashes, comments and continuation lines allowed)."""
    text = path.read_text(encoding="utf-8").replace("\\\n", " ")
    pins: list[Pin] = []
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith(("#", "-")):
            continue
        spec, _, marker = line.partition(";")
        spec = spec.split("--", 1)[0].strip()
        m = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*===?\s*(\S+)", spec)
        if not m:
            raise SystemExit(f"{path}: not an exact pin: {raw.strip()!r}")
        pins.append(Pin(normalize(m.group(1)), m.group(3), bool(marker.strip())))
    if not pins:
        raise SystemExit(f"{path}: no requirements found")
    return pins


# --------------------------------------------------------------------------- tools


@dataclass
class Tool:
    name: str
    command: list[str]  # argv prefix, e.g. [".../uv"]
    version: str = "?"
    setup_error: str | None = None

    def install_argv(
        self, target: Path, index_url: str, requirements: Path, cache: Path, bytecode: str
    ) -> tuple[list[str], dict[str, str]]:
        """argv and environment for one install; ``bytecode`` is none, default or all."""
        req = str(requirements)
        if self.name == "pip":
            argv = [
                *self.command,
                "--python",
                str(venv_python(target)),
                "install",
                "--index-url",
                index_url,
                "-r",
                req,
                "--disable-pip-version-check",
            ]
            if bytecode == "none":
                argv.append("--no-compile")
            env = {"PIP_CONFIG_FILE": os.devnull, "PIP_CACHE_DIR": str(cache), "PIP_NO_INPUT": "1"}
        elif self.name == "uv":
            argv = [
                *self.command,
                "pip",
                "install",
                "--python",
                str(venv_python(target)),
                "--index-url",
                index_url,
                "-r",
                req,
            ]
            if bytecode == "all":
                argv.append("--compile-bytecode")
            env = {"UV_CACHE_DIR": str(cache), "UV_NO_CONFIG": "1"}
        elif self.name == "warmbuild":
            argv = [
                *self.command,
                "install",
                "--python",
                str(target),
                "--index-url",
                index_url,
                "-r",
                req,
                "--cache-dir",
                str(cache),
            ]
            if bytecode == "all":
                argv.append("--compile-bytecode")
            env = {"PIP_CONFIG_FILE": os.devnull}
        else:  # pragma: no cover - guarded by argument parsing
            raise ValueError(self.name)
        return argv, clean_env(env)


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


def _version_of(argv: Sequence[str]) -> str:
    try:
        res = run_quiet(argv, env=clean_env(), timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"? ({exc})"
    out = (res.stdout or res.stderr).strip().splitlines()
    return out[0].strip() if res.returncode == 0 and out else "?"


def setup_tools(
    names: Sequence[str],
    tools_dir: Path,
    python: str,
    pip_version: str,
    uv_version: str,
    warmbuild_cmd: str | None,
) -> list[Tool]:
    tools: list[Tool] = []
    tools_dir.mkdir(parents=True, exist_ok=True)
    for name in names:
        if name == "pip":
            venv = tools_dir / f"pip-{pip_version}"
            err = _make_tool_venv(python, venv, [f"pip=={pip_version}"], pip_version)
            tool = Tool("pip", [str(venv_python(venv)), "-m", "pip"], setup_error=err)
        elif name == "uv":
            venv = tools_dir / f"uv-{uv_version}"
            err = _make_tool_venv(python, venv, [f"uv=={uv_version}"], uv_version)
            tool = Tool("uv", [str(venv / "bin" / "uv")], setup_error=err)
        else:
            if warmbuild_cmd:
                tool = Tool("warmbuild", shlex.split(warmbuild_cmd))
            else:
                venv = tools_dir / "warmbuild-editable"
                # Editable install: source changes are picked up without reinstalling;
                # reinstall only when the project metadata changes.
                stamp = (REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8")
                err = _make_tool_venv(python, venv, ["-e", str(REPO_ROOT)], stamp)
                tool = Tool("warmbuild", [str(venv / "bin" / "warmbuild")], setup_error=err)
        if tool.setup_error is None:
            tool.version = _version_of([*tool.command, "--version"])
        tools.append(tool)
    return tools


# --------------------------------------------------------------------------- index


@contextlib.contextmanager
def local_index(index_url: str | None, wheelhouse: Path | None,
                latency: float = 0.0) -> Iterator[str]:
    if index_url:
        yield index_url
        return
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    from tests.support.indexserver import serve_index

    if wheelhouse is None:
        from tests.support.wheelhouse import ensure_wheelhouse

        log("preparing wheelhouse (downloaded once) ...")
        wheelhouse = ensure_wheelhouse()
    with serve_index([wheelhouse], latency=latency) as server:
        yield str(server.url)


# --------------------------------------------------------------------------- running


@dataclass
class RunResult:
    scenario: str
    tool: str
    round: int  # 0-based; -1 for the untimed warm-up that primes a warm cache
    position: int  # position of the tool within its round
    seconds: float
    ok: bool
    returncode: int | None
    error: str | None = None


@dataclass
class Bench:
    tools: list[Tool]
    python: str
    index_url: str
    requirements: Path
    pins: list[Pin]
    imports: list[str]
    work: Path
    timeout: float
    bytecode: str
    results: list[RunResult] = field(default_factory=list)
    _counter: int = 0

    def _fresh(self, kind: str) -> Path:
        self._counter += 1
        return self.work / f"{kind}-{self._counter:04d}"

    def _check(self, target: Path) -> str | None:
        try:
            res = run_quiet(
                [venv_python(target), "-c", _CHECK_SCRIPT, *self.imports],
                env=clean_env({"PYTHONDONTWRITEBYTECODE": "1"}),
                timeout=300,
            )
        except subprocess.TimeoutExpired:
            return "post-install check timed out"
        if res.returncode != 0:
            return f"post-install check crashed:\n{tail(res.stderr)}"
        data = json.loads(res.stdout.strip().splitlines()[-1])
        problems: list[str] = list(data["import_errors"])
        installed = {normalize(k): v for k, v in data["dists"].items()}
        for pin in self.pins:
            got = installed.get(pin.name)
            if got is None and not pin.conditional:
                problems.append(f"{pin.name}=={pin.version} not installed")
            elif got is not None and got != pin.version:
                problems.append(f"{pin.name}: installed {got}, pinned {pin.version}")
        return "; ".join(problems) if problems else None

    def install(self, tool: Tool, cache: Path, scenario: str, rnd: int, pos: int) -> RunResult:
        target = self._fresh("target")
        res = run_quiet([self.python, "-m", "venv", "--without-pip", target], env=clean_env())
        if res.returncode != 0:
            raise SystemExit(f"cannot create target venv {target}:\n{res.stderr}")
        argv, env = tool.install_argv(
            target, self.index_url, self.requirements, cache, self.bytecode
        )
        log_path = target.with_suffix(".log")
        rc: int | None = None
        error: str | None = None
        # Flush what earlier runs left in the page cache, untimed: otherwise the kernel
        # writes one tool's files back on the next tool's clock.
        os.sync()
        with log_path.open("w+", encoding="utf-8", errors="replace") as out:
            start = time.perf_counter()
            try:
                proc = subprocess.run(
                    argv,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    timeout=self.timeout,
                    check=False,
                )
                rc = proc.returncode
            except subprocess.TimeoutExpired:
                error = f"timed out after {self.timeout:.0f}s"
            except OSError as exc:
                error = f"could not run {argv[0]}: {exc}"
            elapsed = time.perf_counter() - start
            out.seek(0)
            output = out.read()
        if error is None and rc != 0:
            error = f"exit code {rc}:\n{tail(output)}"
        if error is None:
            error = self._check(target)
            if error:
                error = f"install incomplete: {error}"
        result = RunResult(scenario, tool.name, rnd, pos, elapsed, error is None, rc, error)
        shutil.rmtree(target, ignore_errors=True)
        if error is None:
            log_path.unlink()
        return result

    def run(self, scenarios: Sequence[str], rounds: int) -> None:
        runnable = [t for t in self.tools if t.setup_error is None]
        for scenario in scenarios:
            caches: dict[str, Path] = {}
            active = list(runnable)
            if scenario == "warm":
                for tool in runnable:
                    caches[tool.name] = self._fresh(f"cache-warm-{tool.name}")
                    log(f"[warm] priming {tool.name} cache (untimed) ...")
                    r = self.install(tool, caches[tool.name], scenario, -1, 0)
                    self.results.append(r)
                    if not r.ok:
                        log(
                            f"  {tool.name}: priming failed, skipping its warm runs\n"
                            f"{_indent(r.error)}"
                        )
                        active.remove(tool)
            for rnd in range(rounds):
                if not active:
                    break
                shift = rnd % len(active)
                order = active[shift:] + active[:shift]
                for pos, tool in enumerate(order):
                    if scenario == "warm":
                        cache = caches[tool.name]
                    else:
                        cache = self._fresh(f"cache-cold-{tool.name}")
                        cache.mkdir()
                    r = self.install(tool, cache, scenario, rnd, pos)
                    self.results.append(r)
                    if scenario == "cold":
                        shutil.rmtree(cache, ignore_errors=True)
                    status = f"{r.seconds:7.2f}s" if r.ok else "FAILED"
                    log(f"[{scenario}] round {rnd + 1}/{rounds} {tool.name:<9} {status}")
                    if not r.ok:
                        log(_indent(r.error))
            for cache in caches.values():
                shutil.rmtree(cache, ignore_errors=True)


def _indent(text: str | None) -> str:
    return "\n".join("    " + line for line in (text or "").splitlines())


# --------------------------------------------------------------------------- report


@dataclass
class Summary:
    scenario: str
    tool: str
    ok_runs: int
    failed_runs: int
    median: float | None
    min: float | None
    max: float | None


def summarize(
    results: Sequence[RunResult], scenarios: Sequence[str], tools: Sequence[Tool]
) -> list[Summary]:
    out: list[Summary] = []
    for scenario in scenarios:
        for tool in tools:
            timed = [
                r
                for r in results
                if r.scenario == scenario and r.tool == tool.name and r.round >= 0
            ]
            good = [r.seconds for r in timed if r.ok]
            failed = len(timed) - len(good)
            if tool.setup_error is not None:
                failed = max(failed, 1)
            primed = [
                r for r in results if r.scenario == scenario and r.tool == tool.name and r.round < 0
            ]
            failed += sum(1 for r in primed if not r.ok)
            out.append(
                Summary(
                    scenario,
                    tool.name,
                    len(good),
                    failed,
                    statistics.median(good) if good else None,
                    min(good) if good else None,
                    max(good) if good else None,
                )
            )
    return out


def _ratio(this: float, other: float, other_name: str) -> str:
    if this <= other:
        return f"{other / this:.1f}x faster than {other_name}"
    return f"{this / other:.1f}x slower than {other_name}"


def format_table(summaries: Sequence[Summary]) -> str:
    header = ("scenario", "tool", "ok/runs", "median", "min", "max", "vs pip", "vs uv")
    rows: list[tuple[str, ...]] = []
    for s in summaries:
        by_tool = {x.tool: x for x in summaries if x.scenario == s.scenario}

        def fmt(v: float | None) -> str:
            return f"{v:.2f}s" if v is not None else "-"

        cmp: list[str] = []
        for ref in ("pip", "uv"):
            other = by_tool.get(ref)
            if ref == s.tool or other is None:
                cmp.append("")
            elif s.median is None or other.median is None:
                cmp.append("n/a")
            else:
                cmp.append(_ratio(s.median, other.median, ref))
        rows.append(
            (
                s.scenario,
                s.tool,
                f"{s.ok_runs}/{s.ok_runs + s.failed_runs}",
                fmt(s.median),
                fmt(s.min),
                fmt(s.max),
                *cmp,
            )
        )
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(header, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines)


def machine_info(python: str) -> dict[str, Any]:
    cpu = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    target_version = _version_of([python, "--version"])
    return {
        "nproc": len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "cpu": cpu,
        "platform": platform.platform(),
        "target_python": f"{target_version} ({python})",
        "benchmark_python": sys.version.split()[0],
    }


# --------------------------------------------------------------------------- main


def _csv(value: str, allowed: Sequence[str], what: str) -> list[str]:
    items = [v.strip() for v in value.split(",") if v.strip()]
    bad = [v for v in items if v not in allowed]
    if bad or not items:
        raise argparse.ArgumentTypeError(
            f"unknown {what}: {', '.join(bad) or '(none)'} (choose from {', '.join(allowed)})"
        )
    return list(dict.fromkeys(items))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Benchmark installing a pinned requirement set with warmbuild, pip and uv."
    )
    p.add_argument("--rounds", type=int, default=5, help="timed runs per tool and scenario")
    p.add_argument(
        "--tools",
        default=",".join(ALL_TOOLS),
        type=lambda v: _csv(v, ALL_TOOLS, "tool"),
        help="comma-separated subset of warmbuild,pip,uv",
    )
    p.add_argument(
        "--scenarios",
        default=",".join(ALL_SCENARIOS),
        type=lambda v: _csv(v, ALL_SCENARIOS, "scenario"),
        help="comma-separated subset of cold,warm",
    )
    p.add_argument(
        "--json",
        type=Path,
        default=None,
        metavar="OUT",
        help="write raw timings here (default benchmarks/results/install-<ts>.json)",
    )
    p.add_argument("-r", "--requirements", type=Path, default=BENCH_DIR / "requirements.txt")
    p.add_argument(
        "--python",
        default=sys.executable,
        help="interpreter for target and tool venvs (default: this one)",
    )
    p.add_argument(
        "--tools-dir",
        type=Path,
        default=BENCH_DIR / ".tools",
        help="where the pinned tool venvs live (reused between runs)",
    )
    p.add_argument(
        "--work-dir",
        type=Path,
        default=None,
        help="parent dir for targets and caches (default: system temp dir)",
    )
    p.add_argument(
        "--warmbuild",
        default=None,
        metavar="CMD",
        help="warmbuild command to use (e.g. 'warmbuild') instead of an editable "
        "install of this checkout in the tools dir",
    )
    p.add_argument("--pip-version", default=PIP_VERSION)
    p.add_argument("--uv-version", default=UV_VERSION)
    p.add_argument(
        "--index-url",
        default=None,
        help="use this index instead of serving the test wheelhouse locally",
    )
    p.add_argument(
        "--wheelhouse",
        type=Path,
        default=None,
        help="serve this wheel directory instead of tests.support's wheelhouse",
    )
    p.add_argument(
        "--latency-ms",
        type=float,
        default=0.0,
        help="hold back every response of the local index this long, as a network round "
        "trip to a real index would (default 0: loopback speed)",
    )
    p.add_argument(
        "--bytecode",
        choices=("none", "default", "all"),
        default="none",
        help="none (default): no tool compiles .pyc (pip gets --no-compile); "
        "default: each tool's own default (only pip compiles); "
        "all: every tool compiles (uv --compile-bytecode, warmbuild --compile-bytecode)",
    )
    p.add_argument(
        "--imports",
        default=",".join(DEFAULT_IMPORTS),
        help="modules imported in the target to check each install",
    )
    p.add_argument("--timeout", type=float, default=600, help="seconds per install run")
    p.add_argument("--keep-work", action="store_true", help="keep the work dir (logs)")
    ns = p.parse_args(argv)
    if ns.rounds < 1:
        p.error("--rounds must be >= 1")
    return ns


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    requirements: Path = args.requirements.resolve()
    if not requirements.is_file():
        log(f"requirements file not found: {requirements}")
        return 2
    pins = parse_requirements(requirements)
    python = str(Path(shutil.which(args.python) or args.python))

    log(f"setting up tools in {args.tools_dir} ...")
    tools = setup_tools(
        args.tools,
        args.tools_dir.resolve(),
        python,
        args.pip_version,
        args.uv_version,
        args.warmbuild,
    )
    for t in tools:
        if t.setup_error:
            log(f"  {t.name}: SETUP FAILED, will be reported as failed\n{_indent(t.setup_error)}")
        else:
            log(f"  {t.name}: {t.version}")

    if args.work_dir is not None:
        args.work_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="warmbuild-bench-", dir=args.work_dir))
    started = _dt.datetime.now(_dt.UTC)
    try:
        with local_index(args.index_url, args.wheelhouse, args.latency_ms / 1000) as index_url:
            log(f"index: {index_url}; work dir: {work}")
            bench = Bench(
                tools,
                python,
                index_url,
                requirements,
                pins,
                [m for m in args.imports.split(",") if m],
                work,
                args.timeout,
                args.bytecode,
            )
            bench.run(args.scenarios, args.rounds)
    finally:
        if args.keep_work:
            log(f"work dir kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    summaries = summarize(bench.results, args.scenarios, tools)
    info = machine_info(python)
    out_path: Path = args.json or (
        BENCH_DIR / "results" / f"install-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    )
    payload = {
        "started": started.isoformat(),
        "machine": info,
        "config": {
            "rounds": args.rounds,
            "scenarios": args.scenarios,
            "requirements": str(requirements),
            "n_requirements": len(pins),
            "index_url": index_url,
            "bytecode": args.bytecode,
            "latency_ms": args.latency_ms,
            "tools": {
                t.name: {"command": t.command, "version": t.version, "setup_error": t.setup_error}
                for t in tools
            },
        },
        "summary": [asdict(s) for s in summaries],
        "runs": [asdict(r) for r in bench.results],
    }
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")

    print()
    print(
        f"Installing {len(pins)} pinned packages ({requirements.name}) into a fresh venv, "
        f"{args.rounds} round(s), --bytecode {args.bytecode}, index latency "
        f"{args.latency_ms:g} ms"
    )
    print(format_table(summaries))
    print()
    print(f"machine: nproc={info['nproc']}, {info['cpu']}, {info['platform']}")
    print(f"python:  {info['target_python']}")
    for t in tools:
        print(f"{t.name + ':':<10} {t.version if not t.setup_error else 'setup failed'}")
    failures = [r for r in bench.results if not r.ok]
    if failures or any(t.setup_error for t in tools):
        print(f"\n{len(failures)} failed run(s); details in {out_path}")
        seen: set[str] = set()
        for t in tools:
            if t.setup_error:
                seen.add(t.name)
                print(f"  {t.name}: setup failed: {t.setup_error.splitlines()[0]}")
        for r in failures:
            if r.tool not in seen:
                seen.add(r.tool)
                last = (r.error or "").strip().splitlines()[-1:] or ["?"]
                print(f"  {r.tool} (first failure, {r.scenario}): {last[0][:160]}")
    print(f"raw timings: {out_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
