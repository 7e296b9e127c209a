#!/usr/bin/env python3
"""Real-index benchmark: warmbuild vs pip vs uv against the public package index.

NEEDS THE NETWORK. Opt-in only, never part of CI (it refuses to run when ``CI`` is set,
unless ``--allow-ci``): its figures depend on the index, the CDN and the route to them, so
they are for comparing the tools side by side in one run, not for tracking over time. The
CI-stable figures come from ``install.py`` and its loopback index.

Every tool uses its own default index (warmbuild and pip: https://pypi.org/simple, uv:
PyPI), with the machine's pip/uv/warmbuild configuration scrubbed (``PIP_CONFIG_FILE`` set to
``/dev/null``, ``UV_NO_CONFIG=1``, every ``PIP_*``/``UV_*``/``WARMBUILD_*`` variable removed).
Scenarios (``--scenarios``):

* ``resolve-sets``: cold dry-run resolution of a dozen popular requirement sets, a fresh
  cache and a fresh empty target venv per run;
* ``torch``: the same for ``torch`` alone (``--torch-rounds``, ``--torch-timeout``);
* ``install-cold`` / ``install-warm``: ``benchmarks/requirements.txt`` into a new venv
  (``install.py``'s runs and checks, from the public index);
* ``noop``: ``install requests`` where it is installed, online and with the network down
  (proxies pointed at a closed local port), and online without warmbuild's record of the
  previous no-op (``first, online``: the full check of the installed metadata);
* ``editable-noop``: ``install -e`` of an unchanged small setuptools project, again;
* ``startup``: ``--version``, ``--help``, ``list``, ``freeze`` (``--startup-rounds``).

Tools alternate within every round (the first one rotating), medians and ratios are printed,
and every run goes to a JSON file with the 1-minute load average it started under.
Run ``python benchmarks/real.py --help``; see ``benchmarks/README.md``. Standard library only.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import harness
import install

ALL_TOOLS = ("warmbuild", "pip", "uv")
ALL_SCENARIOS = (
    "resolve-sets",
    "torch",
    "install-cold",
    "install-warm",
    "noop",
    "editable-noop",
    "startup",
)
# Popular sets, small to very large (uv resolves them in 0.5-2.5 s); each is one run.
DEFAULT_SETS = (
    "django",
    "jupyter",
    "apache-airflow==3.*",
    "fastapi[all]",
    "flask sqlalchemy celery",
    "requests rich click",
    "pandas scikit-learn matplotlib",
    "boto3",
    "moto[s3]",
    "black ruff mypy pytest",
    "sphinx",
    "httpx pydantic",
)
STARTUP_CASES = ("--version", "--help", "list", "freeze")
EDITABLE_PROJECT = harness.REPO_ROOT / "tests" / "projects" / "setuptools-pure"
EDITABLE_MODULE = "setuptools_pure"
DEFAULT_IMPORTS = ("requests", "rich", "flask", "yaml", "pytest", "httpx", "bs4", "dateutil")
PROBE_HOST = "pypi.org"

# "+ name==version" lines of uv's and warmbuild's dry-run plans (pip prints none with -q).
_PLAN_LINE = re.compile(r"^\s*\+\s+[A-Za-z0-9][A-Za-z0-9._-]*(\[[^\]]*\])?\s*==", re.MULTILINE)


def load1() -> float:
    return os.getloadavg()[0]


def uptime() -> str:
    try:
        return subprocess.run(
            ["uptime"], capture_output=True, text=True, timeout=10, check=False
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        one, five, fifteen = os.getloadavg()
        return f"load average: {one:.2f}, {five:.2f}, {fifteen:.2f}"


def probe_index(host: str = PROBE_HOST, tries: int = 5) -> dict[str, Any]:
    """Median TCP connect time to the index host (a rough round trip), or the error."""
    times: list[float] = []
    error: str | None = None
    for _ in range(tries):
        start = time.perf_counter()
        try:
            with socket.create_connection((host, 443), timeout=10):
                times.append(time.perf_counter() - start)
        except OSError as exc:
            error = f"{host}:443: {exc}"
    rtt = statistics.median(times) * 1000 if times else None
    return {"host": host, "connect_ms": rtt, "error": None if times else error}


@contextlib.contextmanager
def closed_port() -> Iterator[int]:
    """A local TCP port bound but not listening: connections to it are refused at once."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])
    finally:
        sock.close()


def offline_env(port: int) -> dict[str, str]:
    proxy = f"http://127.0.0.1:{port}"
    env = {k: proxy for k in ("https_proxy", "http_proxy", "HTTPS_PROXY", "HTTP_PROXY")}
    env.update({"all_proxy": proxy, "ALL_PROXY": proxy, "no_proxy": "", "NO_PROXY": ""})
    return env


# --------------------------------------------------------------------------- commands


def dry_run_argv(
    tool: harness.Tool, target: Path, cache: Path, reqs: Sequence[str]
) -> tuple[list[str], dict[str, str]]:
    """Resolve ``reqs`` for ``target`` without installing (each tool's dry run)."""
    if tool.name == "pip":
        extra = ["--dry-run", "--ignore-installed", "--report", os.devnull, "-q"]
    else:
        extra = ["--dry-run"]
    argv, env = tool.install_argv(target, None, reqs, cache, extra)
    return argv, harness.clean_env(env)


def install_argv(
    tool: harness.Tool, target: Path, cache: Path, what: Sequence[str]
) -> tuple[list[str], dict[str, str]]:
    """Install ``what`` (pip without .pyc compilation, as uv and warmbuild do by default)."""
    extra = ["--no-compile"] if tool.name == "pip" else []
    argv, env = tool.install_argv(target, None, what, cache, extra)
    return argv, harness.clean_env(env)


def startup_argv(
    tool: harness.Tool, case: str, target: Path, cache: Path
) -> tuple[list[str], dict[str, str]]:
    """``--version``, ``--help``, ``list`` or ``freeze`` of ``target``.

    pip lists with ``--path <site-packages>``: one interpreter, as ``pip list`` inside the
    venv would be (``pip --python`` starts a second interpreter in the target)."""
    cmd = tool.command
    if tool.name == "pip":
        env = {"PIP_CONFIG_FILE": os.devnull, "PIP_CACHE_DIR": str(cache)}
        if case in ("list", "freeze"):
            argv = [*cmd, case, "--path", str(site_packages(target))]
            argv.append("--disable-pip-version-check")
        else:
            argv = [*cmd, case]
    elif tool.name == "uv":
        env = {"UV_CACHE_DIR": str(cache), "UV_NO_CONFIG": "1"}
        if case in ("list", "freeze"):
            argv = [*cmd, "pip", case, "--python", str(harness.venv_python(target))]
        else:
            argv = [*cmd, case]
    else:
        env = {"PIP_CONFIG_FILE": os.devnull, "WARMBUILD_CACHE_DIR": str(cache)}
        argv = [*cmd, case, "--python", str(target)] if case in ("list", "freeze") else [*cmd, case]
    return argv, harness.clean_env(env)


def site_packages(venv: Path) -> Path:
    found = sorted(venv.glob("lib/python3*/site-packages"))
    return found[0] if found else venv / "lib" / "site-packages"


# --------------------------------------------------------------------------- running


@dataclass
class Run:
    scenario: str
    case: str
    tool: str
    round: int  # 0-based; -1 for an untimed priming run
    position: int  # the tool's place in its round
    seconds: float
    ok: bool
    returncode: int | None
    error: str | None = None
    load1: float | None = None  # 1-minute load average when the run started
    planned: int | None = None  # packages in the dry-run plan (uv, warmbuild)
    last_line: str | None = None  # the tool's last line of output


Check = Callable[[str], str | None]


def turn(tools: Sequence[harness.Tool], rnd: int) -> list[tuple[int, harness.Tool]]:
    """(position, tool) in round ``rnd``'s order (``harness.rotations``)."""
    return [(pos, t) for r, pos, t in harness.rotations(tools, rnd + 1) if r == rnd]


@dataclass
class Bench:
    tools: list[harness.Tool]
    python: str
    work: harness.Scratch
    timeout: float
    keep_logs: bool = False
    results: list[Run] = field(default_factory=list)
    loads: list[dict[str, Any]] = field(default_factory=list)

    @property
    def runnable(self) -> list[harness.Tool]:
        return [t for t in self.tools if t.setup_error is None]

    def mark(self, scenario: str, when: str) -> None:
        one, five, fifteen = os.getloadavg()
        self.loads.append(
            {"scenario": scenario, "when": when, "load1": one, "load5": five, "load15": fifteen}
        )
        harness.log(f"[{scenario}] {when}: load average {one:.2f}, {five:.2f}, {fifteen:.2f}")

    def target(self) -> Path:
        target = self.work.fresh("target")
        harness.make_target(self.python, target, harness.clean_env())
        return target

    def cache(self, tool: harness.Tool) -> Path:
        cache = self.work.fresh(f"cache-{tool.name}")
        cache.mkdir()
        return cache

    def run(
        self,
        scenario: str,
        case: str,
        tool: harness.Tool,
        rnd: int,
        pos: int,
        cmd: tuple[list[str], dict[str, str]],
        timeout: float | None = None,
        check: Check | None = None,
        record: bool = True,
    ) -> Run:
        """One run, timed (the untimed priming runs too, with ``rnd`` -1), then checked."""
        argv, env = cmd
        log_path = self.work.fresh("run").with_suffix(".log")
        # Flush what earlier runs left in the page cache, untimed (as install.py does).
        os.sync()
        load = load1()
        seconds, rc, error = harness.timed(argv, env, log_path, timeout or self.timeout, echo=True)
        output = log_path.read_text(encoding="utf-8", errors="replace")
        if error is None and check is not None:
            error = check(output)
        planned = (len(_PLAN_LINE.findall(output)) or None) if "--dry-run" in argv else None
        last = harness.last_line(output)
        r = Run(
            scenario,
            case,
            tool.name,
            rnd,
            pos,
            seconds,
            error is None,
            rc,
            error,
            load,
            planned,
            last[:200],
        )
        if error is None and not self.keep_logs:
            log_path.unlink()
        elif error is not None:
            r.error = f"{error}\n(log: {log_path})"
        if record:
            self.results.append(r)
        if rnd >= 0:
            status = f"{seconds:7.2f}s" if r.ok else f"FAILED after {seconds:.1f}s"
            harness.log(f"[{scenario}] {case} round {rnd + 1} {tool.name:<9} {status}")
            if not r.ok:
                harness.log(harness.indent(harness.tail(r.error or "", 6)))
        return r

    def skip(self, scenario: str, tool: harness.Tool, failed: Run) -> None:
        """The untimed run a scenario needs first failed (it is recorded, and counts as one
        failed run of the tool): say so; its timed runs are skipped."""
        why = harness.indent(harness.tail(failed.error or "?", 8))
        harness.log(f"[{scenario}] {tool.name}: priming failed, its runs are skipped\n{why}")

    # ----------------------------------------------------------------------- scenarios

    def resolve(self, scenario: str, sets: Sequence[str], rounds: int, timeout: float) -> None:
        """Cold dry runs: round after round, every set, every tool in rotating order."""
        self.mark(scenario, "start")
        tools = self.runnable
        for rnd in range(rounds):
            for i, spec in enumerate(sets):
                # Rotate by set too, so that no tool always goes first after a slow one.
                for pos, tool in turn(tools, rnd + i):
                    target, cache = self.target(), self.cache(tool)
                    cmd = dry_run_argv(tool, target, cache, spec.split())
                    self.run(scenario, spec, tool, rnd, pos, cmd, timeout)
                    shutil.rmtree(cache, ignore_errors=True)
                    shutil.rmtree(target, ignore_errors=True)
        self.mark(scenario, "end")

    def noop(self, rounds: int) -> None:
        """``install requests`` where the tool installed it before: online, then offline."""
        scenario = "noop"
        self.mark(scenario, "start")
        ready: dict[str, tuple[Path, Path]] = {}
        for tool in self.runnable:
            target, cache = self.target(), self.cache(tool)
            r = self.run(
                scenario, "online", tool, -1, 0, install_argv(tool, target, cache, ["requests"])
            )
            if r.ok:
                ready[tool.name] = (target, cache)
            else:
                self.skip(scenario, tool, r)
                self.results.append(replace(r, case="network down"))
        tools = [t for t in self.runnable if t.name in ready]
        with closed_port() as port:
            for rnd in range(rounds):
                for pos, tool in turn(tools, rnd):
                    target, cache = ready[tool.name]
                    argv, env = install_argv(tool, target, cache, ["requests"])
                    self.run(scenario, "online", tool, rnd, pos, (argv, env))
                    off = {**env, **offline_env(port)}
                    self.run(scenario, "network down", tool, rnd, pos, (argv, off))
                    # warmbuild answers a repeated no-op from its record (noop.py); this
                    # case is its first one, which reads the installed metadata: a copy of
                    # the same cache without the records.
                    first = cache.with_name(f"{cache.name}-first")
                    shutil.rmtree(first, ignore_errors=True)
                    shutil.copytree(cache, first, ignore=shutil.ignore_patterns("noop-v1"))
                    cmd = install_argv(tool, target, first, ["requests"])
                    self.run(scenario, "first, online", tool, rnd, pos, cmd)
        for target, cache in ready.values():
            shutil.rmtree(target, ignore_errors=True)
            shutil.rmtree(cache, ignore_errors=True)
            shutil.rmtree(cache.with_name(f"{cache.name}-first"), ignore_errors=True)
        self.mark(scenario, "end")

    def editable_noop(self, rounds: int) -> None:
        """``install -e`` of an unchanged setuptools project, after a first one (untimed)."""
        scenario, case = "editable-noop", "setuptools-pure"
        self.mark(scenario, "start")
        ready: dict[str, tuple[Path, Path, Path]] = {}
        for tool in self.runnable:
            src = self.work.fresh(f"src-{tool.name}")
            shutil.copytree(EDITABLE_PROJECT, src)
            target, cache = self.target(), self.cache(tool)
            cmd = install_argv(tool, target, cache, ["-e", str(src)])
            r = self.run(scenario, case, tool, -1, 0, cmd, check=self.editable_check(target, src))
            if r.ok:
                ready[tool.name] = (src, target, cache)
            else:
                self.skip(scenario, tool, r)
        tools = [t for t in self.runnable if t.name in ready]
        for rnd in range(rounds):
            for pos, tool in turn(tools, rnd):
                src, target, cache = ready[tool.name]
                cmd = install_argv(tool, target, cache, ["-e", str(src)])
                self.run(
                    scenario, case, tool, rnd, pos, cmd, check=self.editable_check(target, src)
                )
        for paths in ready.values():
            for path in paths:
                shutil.rmtree(path, ignore_errors=True)
        self.mark(scenario, "end")

    def editable_check(self, target: Path, src: Path) -> Check:
        """After the run (untimed): the module imports from the source tree."""

        def check(_output: str) -> str | None:
            code = f"import {EDITABLE_MODULE} as m; print(m.__file__)"
            res = harness.run_quiet(
                [harness.venv_python(target), "-c", code],
                env=harness.clean_env({"PYTHONDONTWRITEBYTECODE": "1"}),
                timeout=60,
            )
            where = res.stdout.strip()
            if res.returncode != 0 or not where.startswith(str(src)):
                return f"import {EDITABLE_MODULE} failed or not from {src}: {res.stderr[-300:]}"
            return None

        return check

    def startup(self, rounds: int, requirements: Path) -> None:
        """Commands that need no index, in a venv holding the benchmark set (warm)."""
        scenario = "startup"
        self.mark(scenario, "start")
        target = self.target()
        filled = False
        # Fill the venv with the fastest tool at hand (untimed); any installer will do.
        by_name = {t.name: t for t in self.runnable}
        for name in ("uv", "warmbuild", "pip"):
            if name in by_name:
                tool = by_name[name]
                cache = self.cache(tool)
                cmd = install_argv(tool, target, cache, ["-r", str(requirements)])
                r = self.run(scenario, "fill", tool, -1, 0, cmd, record=False)
                shutil.rmtree(cache, ignore_errors=True)
                if r.ok:
                    filled = True
                    break
        if not filled:
            harness.log(f"[{scenario}] could not fill the venv; list/freeze list nothing")
        caches = {t.name: self.cache(t) for t in self.runnable}
        tools = self.runnable
        for case in STARTUP_CASES:
            for tool in tools:  # warm-up, untimed
                cmd = startup_argv(tool, case, target, caches[tool.name])
                self.run(scenario, case, tool, -1, 0, cmd, record=False)
            for rnd in range(rounds):
                for pos, tool in turn(tools, rnd):
                    cmd = startup_argv(tool, case, target, caches[tool.name])
                    self.run(scenario, case, tool, rnd, pos, cmd)
        shutil.rmtree(target, ignore_errors=True)
        for cache in caches.values():
            shutil.rmtree(cache, ignore_errors=True)
        self.mark(scenario, "end")

    def install_set(
        self, scenarios: Sequence[str], rounds: int, requirements: Path, imports: Sequence[str]
    ) -> int:
        """install.py's cold/warm runs and checks, from the public index; returns the pins."""
        pins = install.parse_requirements(requirements)
        kinds = [s.removeprefix("install-") for s in scenarios]
        for s in scenarios:
            self.mark(s, "start")
        bench = install.Bench(
            self.tools,
            self.python,
            None,
            requirements,
            pins,
            list(imports),
            self.work,
            self.timeout,
            "none",
        )
        bench.run(kinds, rounds)
        for s in scenarios:
            self.mark(s, "end")
        case = f"{len(pins)} pins"
        for r in bench.results:
            self.results.append(
                Run(
                    f"install-{r.scenario}",
                    case,
                    r.tool,
                    r.round,
                    r.position,
                    r.seconds,
                    r.ok,
                    r.returncode,
                    r.error,
                )
            )
        return len(pins)


# --------------------------------------------------------------------------- report


@dataclass
class Summary(harness.Timing):
    scenario: str
    case: str
    planned: int | None


def summarize(results: Sequence[Run], tools: Sequence[harness.Tool]) -> list[Summary]:
    groups = dict.fromkeys((r.scenario, r.case) for r in results)
    out: list[Summary] = []
    for scenario, case in groups:
        for tool in tools:
            mine = [
                r
                for r in results
                if r.scenario == scenario and r.case == case and r.tool == tool.name
            ]
            timed_runs = [r for r in mine if r.round >= 0]
            good = [r.seconds for r in timed_runs if r.ok]
            # A failed setup (priming) run counts as one failure.
            failed = len(timed_runs) - len(good) + sum(1 for r in mine if r.round < 0 and not r.ok)
            if tool.setup_error is not None:
                failed = max(failed, 1)
            plans = [r.planned for r in timed_runs if r.ok and r.planned]
            planned = statistics.median_low(plans) if plans else None
            out.append(
                Summary(
                    tool.name, len(good), failed, *harness.spread(good), scenario, case, planned
                )
            )
    return out


def aggregate_sets(summaries: Sequence[Summary], tools: Sequence[str]) -> dict[str, Any]:
    """Per tool over the resolve-sets: the median of set medians and the sum of them (when
    every set succeeded); per pair of tools the median of per-set ratios."""
    rows = [s for s in summaries if s.scenario == "resolve-sets"]
    sets = list(dict.fromkeys(s.case for s in rows))
    med = {(s.case, s.tool): s.median for s in rows}
    out: dict[str, Any] = {"sets": len(sets), "median_of_medians": {}, "sum": {}, "ratios": {}}
    for tool in tools:
        values = [v for c in sets if (v := med.get((c, tool))) is not None]
        out["median_of_medians"][tool] = statistics.median(values) if values else None
        out["sum"][tool] = sum(values) if values and len(values) == len(sets) else None
    for a in tools:
        for b in tools:
            if a == b:
                continue
            ratios = [
                va / vb
                for c in sets
                if (va := med.get((c, a))) is not None and (vb := med.get((c, b)))
            ]
            out["ratios"][f"{a}/{b}"] = statistics.median(ratios) if ratios else None
    return out


def _cell(s: Summary | None) -> str:
    if s is None:
        return ""
    runs = s.ok_runs + s.failed_runs
    if s.median is None:
        return f"FAILED (0/{runs})" if runs else "-"
    text = f"{s.median:.2f}s"
    return text if not s.failed_runs else f"{text} ({s.ok_runs}/{runs} ok)"


def _x(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}x"


def ratio_columns(tools: Sequence[str]) -> list[tuple[str, str]]:
    """(this, other) pairs shown: warmbuild against the others, else the first against the rest."""
    if not tools:
        return []
    head = "warmbuild" if "warmbuild" in tools else tools[0]
    return [(head, t) for t in tools if t != head]


def _ratio(a: Summary | None, b: Summary | None) -> str:
    if a is None or b is None or a.median is None or not b.median:
        return ""
    return _x(a.median / b.median)


def format_table(
    summaries: Sequence[Summary], tools: Sequence[str], sets: Mapping[str, Any] | None
) -> str:
    """One row per scenario and case: each tool's median, then the ratios; after the last
    set of resolve-sets, the median over sets (ratio: median of per-set ratios) and the sum."""
    pairs = ratio_columns(tools)
    header = ["scenario", "case", "pkgs", *tools, *(f"{a}/{b}" for a, b in pairs)]
    rows: list[list[str]] = []
    groups = list(dict.fromkeys((s.scenario, s.case) for s in summaries))
    for i, (scenario, case) in enumerate(groups):
        by_tool = {s.tool: s for s in summaries if s.scenario == scenario and s.case == case}
        plans = sorted({p for s in by_tool.values() if (p := s.planned)})
        cells = [_cell(by_tool.get(t)) for t in tools]
        ratios = [_ratio(by_tool.get(a), by_tool.get(b)) for a, b in pairs]
        rows.append([scenario, case, "/".join(map(str, plans)), *cells, *ratios])
        last_set = scenario == "resolve-sets" and (
            i + 1 == len(groups) or groups[i + 1][0] != scenario
        )
        if last_set and sets:
            mom, total, n = sets["median_of_medians"], sets["sum"], sets["sets"]
            rows.append(
                [
                    "resolve-sets",
                    f"MEDIAN of {n} sets",
                    "",
                    *(_seconds(mom.get(t)) for t in tools),
                    *(_x(sets["ratios"].get(f"{a}/{b}")) for a, b in pairs),
                ]
            )
            rows.append(
                [
                    "resolve-sets",
                    f"SUM of {n} sets",
                    "",
                    *(_seconds(total.get(t)) for t in tools),
                    *(
                        _x(total[a] / total[b]) if total.get(a) and total.get(b) else ""
                        for a, b in pairs
                    ),
                ]
            )
    return harness.render_table(header, rows)


def _seconds(value: float | None) -> str:
    return f"{value:.2f}s" if value is not None else "-"


def failure_lines(results: Sequence[Run]) -> list[str]:
    """The first failure of each tool in each scenario and case, in a line."""
    seen: set[tuple[str, str, str]] = set()
    lines: list[str] = []
    for r in results:
        key = (r.scenario, r.case, r.tool)
        if not r.ok and key not in seen:
            seen.add(key)
            text = (r.error or "?").split("\n(log:")[0]
            # "exit code 1" / "timed out after 300s", then the output's last line.
            first, last = text.splitlines()[0], harness.last_line(text)
            why = first if last == first else f"{first.rstrip(':')}: {last}"
            lines.append(f"  {r.tool} ({r.scenario}, {r.case}): {why[:200]}")
    return lines


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = harness.parser(
        "Benchmark warmbuild, pip and uv against the public package index (NEEDS THE "
        "NETWORK; opt-in, never part of CI).",
        "real",
        ALL_TOOLS,
        rounds=3,
        rounds_help="timed runs per tool and case (resolve-sets, install-*, noop, editable-noop)",
    )
    p.add_argument(
        "--scenarios",
        default=",".join(ALL_SCENARIOS),
        type=lambda v: harness.csv_list(v, ALL_SCENARIOS, "scenario"),
        help=f"comma-separated subset of {','.join(ALL_SCENARIOS)}",
    )
    p.add_argument(
        "--set",
        dest="sets",
        action="append",
        metavar="REQS",
        help="a requirement set for resolve-sets, space-separated (repeat for more; "
        "default: a dozen popular sets, see DEFAULT_SETS)",
    )
    p.add_argument("--torch-rounds", type=int, default=1, help="timed runs of the torch case")
    p.add_argument("--torch-timeout", type=float, default=900, help="seconds per torch run")
    p.add_argument(
        "--startup-rounds", type=int, default=20, help="timed runs of each startup command"
    )
    p.add_argument(
        "-r",
        "--requirements",
        type=Path,
        default=harness.BENCH_DIR / "requirements.txt",
        help="the pinned set of install-cold/install-warm (and of the startup venv)",
    )
    p.add_argument(
        "--imports",
        default=",".join(DEFAULT_IMPORTS),
        help="modules imported in the target to check each install-* run",
    )
    p.add_argument("--timeout", type=float, default=300, help="seconds per run (not torch)")
    p.add_argument("--keep-work", action="store_true", help="keep the work dir and all logs")
    p.add_argument("--allow-ci", action="store_true", help="run even though CI is set")
    args = harness.parse(p, argv)
    if args.index_url or args.wheelhouse:
        p.error(
            "real.py always uses each tool's default (public) index; "
            "--index-url/--wheelhouse are for install.py"
        )
    if min(args.torch_rounds, args.startup_rounds) < 1:
        p.error("--torch-rounds and --startup-rounds must be >= 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if os.environ.get("CI") and not args.allow_ci:
        harness.log(
            "real.py needs the public index and is never part of CI (CI is set); "
            "pass --allow-ci to run it anyway"
        )
        return 2
    requirements: Path = args.requirements.resolve()
    probe = probe_index()
    if probe["error"]:
        harness.log(f"the public index is unreachable ({probe['error']}); real.py needs it")
        return 2
    load_start = uptime()
    harness.log(f"{load_start}\nconnect to {PROBE_HOST}: {probe['connect_ms']:.0f} ms")
    tools = harness.setup_tools(args.tools, args)
    started = _dt.datetime.now(_dt.UTC)
    sets = list(args.sets or DEFAULT_SETS)
    if args.work_dir is not None:
        args.work_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="warmbuild-real-", dir=args.work_dir))
    harness.log(f"work dir: {work}")
    bench = Bench(
        list(tools.values()),
        args.python,
        harness.Scratch(work),
        args.timeout,
        keep_logs=args.keep_work,
    )
    n_pins = None
    try:
        for scenario in args.scenarios:
            if scenario == "resolve-sets":
                bench.resolve(scenario, sets, args.rounds, args.timeout)
            elif scenario == "torch":
                bench.resolve(scenario, ["torch"], args.torch_rounds, args.torch_timeout)
            elif scenario == "install-cold" or (
                scenario == "install-warm" and "install-cold" not in args.scenarios
            ):
                both = [s for s in ("install-cold", "install-warm") if s in args.scenarios]
                imports = [m for m in args.imports.split(",") if m]
                n_pins = bench.install_set(both, args.rounds, requirements, imports)
            elif scenario == "noop":
                bench.noop(args.rounds)
            elif scenario == "editable-noop":
                bench.editable_noop(args.rounds)
            elif scenario == "startup":
                bench.startup(args.startup_rounds, requirements)
    finally:
        if args.keep_work:
            harness.log(f"work dir kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    load_end = uptime()

    summaries = summarize(bench.results, bench.tools)
    names = [t.name for t in bench.tools]
    sets_agg = aggregate_sets(summaries, names) if "resolve-sets" in args.scenarios else None
    machine = harness.machine_info(args.python)
    data = {
        "started": started.isoformat(),
        "machine": machine,
        "network": probe,
        "load": {"start": load_start, "end": load_end, "marks": bench.loads},
        "config": {
            "rounds": args.rounds,
            "torch_rounds": args.torch_rounds,
            "startup_rounds": args.startup_rounds,
            "scenarios": args.scenarios,
            "sets": sets,
            "requirements": str(requirements),
            "n_requirements": n_pins,
            "timeout": args.timeout,
            "torch_timeout": args.torch_timeout,
            "index": "each tool's default (public)",
            "tools": {
                t.name: {"command": t.command, "version": t.version, "setup_error": t.setup_error}
                for t in bench.tools
            },
        },
        "summary": [{"scenario": s.scenario, "case": s.case, **asdict(s)} for s in summaries],
        "resolve_sets": sets_agg,
        "runs": [asdict(r) for r in bench.results],
    }
    out_path = harness.write_results(args.json, "real", started, data)
    title = (
        f"Against the public index: medians of {args.rounds} round(s) (torch "
        f"{args.torch_rounds}, startup {args.startup_rounds}); ratio = median / median "
        f"(below 1: faster)"
    )
    notes = [
        f"load:    start: {load_start}",
        f"         end:   {load_end}",
        f"network: connect to {PROBE_HOST} {probe['connect_ms']:.0f} ms (median of 5)",
    ]
    harness.print_summary(title, format_table(summaries, names, sets_agg), machine, tools, notes)
    failed = sum(1 for r in bench.results if not r.ok)
    harness.print_failures(out_path, tools, failed, "run", failure_lines(bench.results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
