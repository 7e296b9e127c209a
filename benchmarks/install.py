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
Standard library only; what it shares with ``native.py`` is in ``harness.py``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import harness

ALL_TOOLS = ("warmbuild", "pip", "uv")
ALL_SCENARIOS = ("cold", "warm")
DEFAULT_IMPORTS = ("requests", "rich", "flask", "yaml", "pytest", "httpx", "bs4", "dateutil")

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


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


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


def install_argv(
    tool: harness.Tool,
    target: Path,
    index_url: str | None,
    requirements: Path,
    cache: Path,
    bytecode: str,
    link_mode: str = "default",
) -> tuple[list[str], dict[str, str]]:
    """argv and environment for one install; ``bytecode`` is none, default or all;
    ``link_mode`` hardlink, copy or each tool's default (pip always copies)."""
    if tool.name == "pip":
        extra = ["--no-compile"] if bytecode == "none" else []
    else:
        extra = ["--compile-bytecode"] if bytecode == "all" else []
        if link_mode != "default":
            extra += ["--link-mode", link_mode]
    argv, env = tool.install_argv(target, index_url, ["-r", str(requirements)], cache, extra)
    return argv, harness.clean_env(env)


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
    tools: list[harness.Tool]
    python: str
    index_url: str | None  # None: each tool's default index (real.py)
    requirements: Path
    pins: list[Pin]
    imports: list[str]
    work: harness.Scratch
    timeout: float
    bytecode: str
    link_mode: str = "default"
    results: list[RunResult] = field(default_factory=list)

    def _check(self, target: Path) -> str | None:
        try:
            res = harness.run_quiet(
                [harness.venv_python(target), "-c", _CHECK_SCRIPT, *self.imports],
                env=harness.clean_env({"PYTHONDONTWRITEBYTECODE": "1"}),
                timeout=300,
            )
        except subprocess.TimeoutExpired:
            return "post-install check timed out"
        if res.returncode != 0:
            return f"post-install check crashed:\n{harness.tail(res.stderr)}"
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

    def install(
        self, tool: harness.Tool, cache: Path, scenario: str, rnd: int, pos: int
    ) -> RunResult:
        target = self.work.fresh("target")
        harness.make_target(self.python, target, harness.clean_env())
        argv, env = install_argv(
            tool, target, self.index_url, self.requirements, cache, self.bytecode,
            self.link_mode,
        )
        log_path = target.with_suffix(".log")
        # Flush what earlier runs left in the page cache, untimed: otherwise the kernel
        # writes one tool's files back on the next tool's clock.
        os.sync()
        seconds, rc, error = harness.timed(argv, env, log_path, self.timeout)
        if error is None:
            error = self._check(target)
            if error:
                error = f"install incomplete: {error}"
        result = RunResult(scenario, tool.name, rnd, pos, seconds, error is None, rc, error)
        shutil.rmtree(target, ignore_errors=True)
        if error is None:
            log_path.unlink()
        return result

    def _prime(self, tools: Sequence[harness.Tool]) -> dict[str, Path]:
        """One warm cache per tool whose untimed priming install worked."""
        caches: dict[str, Path] = {}
        for tool in tools:
            cache = self.work.fresh(f"cache-warm-{tool.name}")
            harness.log(f"[warm] priming {tool.name} cache (untimed) ...")
            r = self.install(tool, cache, "warm", -1, 0)
            self.results.append(r)
            if r.ok:
                caches[tool.name] = cache
            else:
                why = harness.indent(r.error)
                harness.log(f"  {tool.name}: priming failed, skipping its warm runs\n{why}")
                shutil.rmtree(cache, ignore_errors=True)
        return caches

    def _timed_run(
        self, scenario: str, tool: harness.Tool, warm: Path | None, rnd: int, pos: int, rounds: int
    ) -> None:
        cache = warm or self.work.fresh(f"cache-cold-{tool.name}")
        if warm is None:
            cache.mkdir()
        r = self.install(tool, cache, scenario, rnd, pos)
        self.results.append(r)
        if warm is None:
            shutil.rmtree(cache, ignore_errors=True)
        status = f"{r.seconds:7.2f}s" if r.ok else "FAILED"
        harness.log(f"[{scenario}] round {rnd + 1}/{rounds} {tool.name:<9} {status}")
        if not r.ok:
            harness.log(harness.indent(r.error))

    def run(self, scenarios: Sequence[str], rounds: int) -> None:
        runnable = [t for t in self.tools if t.setup_error is None]
        for scenario in scenarios:
            caches = self._prime(runnable) if scenario == "warm" else {}
            active = [t for t in runnable if scenario == "cold" or t.name in caches]
            for rnd, pos, tool in harness.rotations(active, rounds):
                self._timed_run(scenario, tool, caches.get(tool.name), rnd, pos, rounds)
            for cache in caches.values():
                shutil.rmtree(cache, ignore_errors=True)


# --------------------------------------------------------------------------- report


@dataclass
class Summary(harness.Timing):
    scenario: str


def summarize(
    results: Sequence[RunResult], scenarios: Sequence[str], tools: Sequence[harness.Tool]
) -> list[Summary]:
    out: list[Summary] = []
    for scenario in scenarios:
        for tool in tools:
            mine = [r for r in results if r.scenario == scenario and r.tool == tool.name]
            timed_runs = [r for r in mine if r.round >= 0]
            good = [r.seconds for r in timed_runs if r.ok]
            failed = len(timed_runs) - len(good)
            if tool.setup_error is not None:
                failed = max(failed, 1)
            # A failed priming install counts as one failure of the warm scenario.
            failed += sum(1 for r in mine if r.round < 0 and not r.ok)
            out.append(Summary(tool.name, len(good), failed, *harness.spread(good), scenario))
    return out


def format_table(summaries: Sequence[Summary]) -> str:
    header = ("scenario", "tool", "ok/runs", "median", "min", "max", "vs pip", "vs uv")
    rows = []
    for s in summaries:
        peers = [x for x in summaries if x.scenario == s.scenario]
        cmp = harness.ratio_cells(s, peers, ("pip", "uv"))
        rows.append([s.scenario, s.tool, *harness.timing_cells(s), *cmp])
    return harness.render_table(header, rows)


def failure_lines(results: Sequence[RunResult], tools: Mapping[str, harness.Tool]) -> list[str]:
    """The first failure of each tool that could be set up, in a line."""
    seen = {t.name for t in tools.values() if t.setup_error}
    lines: list[str] = []
    for r in results:
        if not r.ok and r.tool not in seen:
            seen.add(r.tool)
            last = (r.error or "").strip().splitlines()[-1:] or ["?"]
            lines.append(f"  {r.tool} (first failure, {r.scenario}): {last[0][:160]}")
    return lines


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = harness.parser(
        "Benchmark installing a pinned requirement set with warmbuild, pip and uv.",
        "install",
        ALL_TOOLS,
        rounds=5,
        rounds_help="timed runs per tool and scenario",
    )
    p.add_argument(
        "--scenarios",
        default=",".join(ALL_SCENARIOS),
        type=lambda v: harness.csv_list(v, ALL_SCENARIOS, "scenario"),
        help="comma-separated subset of cold,warm",
    )
    p.add_argument(
        "-r", "--requirements", type=Path, default=harness.BENCH_DIR / "requirements.txt"
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
        "--link-mode",
        choices=("default", "hardlink", "copy"),
        default="default",
        help="default: each tool's own (warmbuild clones or copies, uv hard-links on Linux, "
        "pip copies); hardlink or copy: warmbuild and uv both do that (pip always copies)",
    )
    p.add_argument(
        "--imports",
        default=",".join(DEFAULT_IMPORTS),
        help="modules imported in the target to check each install",
    )
    p.add_argument("--timeout", type=float, default=600, help="seconds per install run")
    p.add_argument("--keep-work", action="store_true", help="keep the work dir (logs)")
    return harness.parse(p, argv)


def payload(
    args: argparse.Namespace, started: _dt.datetime, bench: Bench, summaries: list[Summary]
) -> dict[str, Any]:
    return {
        "started": started.isoformat(),
        "machine": harness.machine_info(args.python),
        "config": {
            "rounds": args.rounds,
            "scenarios": args.scenarios,
            "requirements": str(bench.requirements),
            "n_requirements": len(bench.pins),
            "index_url": bench.index_url,
            "bytecode": args.bytecode,
            "link_mode": args.link_mode,
            "latency_ms": args.latency_ms,
            "tools": {
                t.name: {"command": t.command, "version": t.version, "setup_error": t.setup_error}
                for t in bench.tools
            },
        },
        # The group first, as the file always had it (a subclass's own fields come last).
        "summary": [{"scenario": s.scenario, **asdict(s)} for s in summaries],
        "runs": [asdict(r) for r in bench.results],
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    requirements: Path = args.requirements.resolve()
    if not requirements.is_file():
        harness.log(f"requirements file not found: {requirements}")
        return 2
    pins = parse_requirements(requirements)
    tools = harness.setup_tools(args.tools, args)
    started = _dt.datetime.now(_dt.UTC)
    imports = [m for m in args.imports.split(",") if m]
    with harness.session(args, "warmbuild-bench-", args.latency_ms / 1000) as (work, index_url):
        bench = Bench(
            list(tools.values()),
            args.python,
            index_url,
            requirements,
            pins,
            imports,
            harness.Scratch(work),
            args.timeout,
            args.bytecode,
            args.link_mode,
        )
        bench.run(args.scenarios, args.rounds)

    summaries = summarize(bench.results, args.scenarios, bench.tools)
    data = payload(args, started, bench, summaries)
    out_path = harness.write_results(args.json, "install", started, data)
    title = (
        f"Installing {len(pins)} pinned packages ({requirements.name}) into a fresh venv, "
        f"{args.rounds} round(s), --bytecode {args.bytecode}, --link-mode {args.link_mode}, "
        "index latency "
        f"{args.latency_ms:g} ms"
    )
    harness.print_summary(title, format_table(summaries), data["machine"], tools)
    failed = sum(1 for r in bench.results if not r.ok)
    details = failure_lines(bench.results, tools)
    harness.print_failures(out_path, tools, failed, "run", details)
    return 0


if __name__ == "__main__":
    sys.exit(main())
