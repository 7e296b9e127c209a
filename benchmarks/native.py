#!/usr/bin/env python3
"""Editable native rebuild benchmark: warmbuild vs pip vs uv vs a no-isolation control.

For each tool, in a fresh copy of ``examples/native-demo`` (a scikit-build-core project with
24 C++ translation units and an in-tree build directory) and a fresh target venv, time:

* ``first``: the first ``install -e .`` (configure and compile everything);
* ``again``: a second ``install -e .`` with no change;
* ``edit``: ``install -e .`` after bumping a constant in one ``.cpp`` file.

Tools: warmbuild (persistent build env), pip and uv (throw-away isolated build envs), and the
control: pip with ``--no-build-isolation`` into a target venv that got the build requirements
(scikit-build-core, cmake, ninja) beforehand, untimed. The control is what an incremental
rebuild costs when the build env does not change between runs.

After every step an untimed check imports ``native_demo`` in the target; after ``edit`` the
value must have grown by exactly the bumped amount. A step that exits non-zero or fails its
check is a failure and is never timed as a success. Rounds are interleaved round-robin (the
starting tool rotates each round).

Run ``python benchmarks/native.py --help``; see ``benchmarks/README.md``. Standard library
only; the tool venvs and helpers are shared with ``benchmarks/install.py``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

# ``python benchmarks/native.py`` puts benchmarks/ on sys.path; make importing work from
# anywhere else too (e.g. ``python -m`` from the repo root or a test).
if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))

from install import (
    BENCH_DIR,
    PIP_VERSION,
    REPO_ROOT,
    UV_VERSION,
    Tool,
    _csv,
    _indent,
    _ratio,
    _version_of,
    clean_env,
    local_index,
    log,
    machine_info,
    run_quiet,
    setup_tools,
    tail,
    venv_python,
)

ALL_TOOLS = ("warmbuild", "pip", "uv", "control")
STEPS = ("first", "again", "edit")
STEP_TITLES = {
    "first": "(a) first install -e",
    "again": "(b) again, no change",
    "edit": "(c) after editing one .cpp",
}
PROJECT = REPO_ROOT / "examples" / "native-demo"
# The file edited before step (c), the constant bumped in it, and by how much: each unit
# returns ``... + kBump``, so total() and units()[EDIT_UNIT] grow by exactly BUMP.
EDIT_UNIT = 7
EDIT_FILE = f"src/unit{EDIT_UNIT:02d}.cpp"
EDIT_OLD = "constexpr long kBump = 0;"
EDIT_NEW = "constexpr long kBump = 1;"
BUMP = 1
# What the control's target venv gets before its first (timed) build: the build-system
# requirement and what scikit-build-core's get_requires_for_build_editable adds.
CONTROL_BUILD_REQS = ("scikit-build-core", "cmake", "ninja")

# Run in the target (untimed, outside the source tree) after every step.
_CHECK_SCRIPT = (
    "import json, native_demo; "
    "print(json.dumps({'total': native_demo.total(), 'units': list(native_demo.units())}))"
)


def base_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of every command: the machine's tool settings stripped, configs off."""
    env = clean_env({"PIP_CONFIG_FILE": os.devnull, "UV_NO_CONFIG": "1"})
    if extra:
        env.update(extra)
    return env


def install_argv(
    tool: Tool, kind: str, target: Path, index_url: str, src: Path, cache: Path
) -> tuple[list[str], dict[str, str]]:
    """argv and environment for ``install -e src`` into ``target`` with tool ``kind``."""
    if kind in ("pip", "control"):
        argv = [
            *tool.command,
            "--python",
            str(venv_python(target)),
            "install",
            "--index-url",
            index_url,
            "--disable-pip-version-check",
            "--no-compile",
        ]
        if kind == "control":
            argv.append("--no-build-isolation")
        argv += ["-e", str(src)]
        env = base_env({"PIP_CACHE_DIR": str(cache), "PIP_NO_INPUT": "1"})
    elif kind == "uv":
        argv = [
            *tool.command,
            "pip",
            "install",
            "--python",
            str(venv_python(target)),
            "--index-url",
            index_url,
            "-e",
            str(src),
        ]
        env = base_env({"UV_CACHE_DIR": str(cache)})
    elif kind == "warmbuild":
        argv = [
            *tool.command,
            "install",
            "--python",
            str(target),
            "--index-url",
            index_url,
            "-e",
            str(src),
            "--cache-dir",
            str(cache),
        ]
        env = base_env()
    else:  # pragma: no cover - guarded by argument parsing
        raise ValueError(kind)
    return argv, env


# --------------------------------------------------------------------------- running


@dataclass
class StepResult:
    tool: str
    round: int
    position: int  # position of the tool within its round
    step: str  # first, again, edit
    seconds: float | None  # None when the step did not run (an earlier step failed)
    ok: bool
    returncode: int | None
    compiled: int | None  # object files (re)written during the step, from the build dir
    total: int | None  # native_demo.total() after the step
    error: str | None = None
    load1: float | None = None  # 1-minute load average when the step started


@dataclass
class Bench:
    tools: dict[str, Tool]  # by benchmark name (control shares pip's Tool)
    python: str
    index_url: str
    work: Path
    timeout: float
    keep_work: bool
    results: list[StepResult] = field(default_factory=list)
    _counter: int = 0

    def _fresh(self, kind: str) -> Path:
        self._counter += 1
        return self.work / f"{kind}-{self._counter:04d}"

    def _check(self, target: Path) -> tuple[dict[str, Any] | None, str | None]:
        try:
            res = run_quiet(
                [venv_python(target), "-c", _CHECK_SCRIPT],
                env=base_env({"PYTHONDONTWRITEBYTECODE": "1"}),
                timeout=120,
            )
        except subprocess.TimeoutExpired:
            return None, "import check timed out"
        if res.returncode != 0:
            return None, f"import check failed: {tail(res.stderr, 1)}"
        try:
            data: dict[str, Any] = json.loads(res.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            return None, f"import check printed no result: {tail(res.stdout + res.stderr, 1)}"
        return data, None

    def _prepare_control(self, target: Path, cache: Path) -> str | None:
        tool = self.tools["control"]
        argv = [
            *tool.command,
            "--python",
            str(venv_python(target)),
            "install",
            "--index-url",
            self.index_url,
            "--disable-pip-version-check",
            *CONTROL_BUILD_REQS,
        ]
        env = base_env({"PIP_CACHE_DIR": str(cache), "PIP_NO_INPUT": "1"})
        res = run_quiet(argv, env=env, timeout=self.timeout)
        if res.returncode != 0:
            return f"installing the build requirements failed:\n{tail(res.stdout + res.stderr)}"
        return None

    def _timed(
        self, argv: Sequence[str], env: dict[str, str], log_path: Path
    ) -> tuple[float, int | None, str | None]:
        rc: int | None = None
        error: str | None = None
        with log_path.open("w+", encoding="utf-8", errors="replace") as out:
            out.write("$ " + " ".join(argv) + "\n")
            out.flush()
            start = time.perf_counter()
            try:
                proc = subprocess.run(
                    list(argv),
                    env=env,
                    cwd=self.work,
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
        return elapsed, rc, error

    def run_tool(self, kind: str, rnd: int, pos: int) -> None:
        """The three steps for one tool in one round, each in the same source copy and target."""
        tool = self.tools[kind]
        src = self._fresh(f"src-{kind}")
        shutil.copytree(PROJECT, src, ignore=shutil.ignore_patterns("build", "__pycache__"))
        target = self._fresh(f"target-{kind}")
        cache = self._fresh(f"cache-{kind}")
        cache.mkdir()
        res = run_quiet([self.python, "-m", "venv", "--without-pip", target], env=base_env())
        if res.returncode != 0:
            raise SystemExit(f"cannot create target venv {target}:\n{res.stderr}")
        setup_error = self._prepare_control(target, cache) if kind == "control" else None

        baseline: dict[str, Any] | None = None
        first_failed = setup_error is not None
        for step in STEPS:
            if first_failed:
                why = setup_error or "step (a) failed"
                self.results.append(
                    StepResult(
                        kind, rnd, pos, step, None, False, None, None, None, f"not run: {why}"
                    )
                )
                log(f"round {rnd + 1} {kind:<9} {step:<5}  not run")
                continue
            if step == "edit":
                path = src / EDIT_FILE
                text = path.read_text(encoding="utf-8")
                if EDIT_OLD not in text:
                    raise SystemExit(f"{PROJECT / EDIT_FILE}: {EDIT_OLD!r} not found")
                path.write_text(text.replace(EDIT_OLD, EDIT_NEW, 1), encoding="utf-8")
            argv, env = install_argv(tool, kind, target, self.index_url, src, cache)
            log_path = self.work / f"{kind}-r{rnd}-{step}.log"
            started_wall = time.time()
            load1 = os.getloadavg()[0]
            seconds, rc, error = self._timed(argv, env, log_path)
            compiled = count_objects_since(src / "build", started_wall)
            value: int | None = None
            if error is None:
                data, error = self._check(target)
                if data is not None:
                    value = int(data["total"])
                    error = self._verify(step, data, baseline)
                    if step == "first" and error is None:
                        baseline = data
            ok = error is None
            self.results.append(
                StepResult(kind, rnd, pos, step, seconds, ok, rc, compiled, value, error, load1)
            )
            status = f"{seconds:7.2f}s" if ok else "FAILED "
            log(f"round {rnd + 1} {kind:<9} {step:<5} {status}  compiled {compiled}")
            if not ok:
                log(_indent(error))
            elif not self.keep_work:
                log_path.unlink()
            if step == "first" and not ok:
                first_failed = True
        if not self.keep_work:
            for path in (src, target, cache):
                shutil.rmtree(path, ignore_errors=True)

    @staticmethod
    def _verify(step: str, data: dict[str, Any], baseline: dict[str, Any] | None) -> str | None:
        if step == "first" or baseline is None:
            return None
        want_total = int(baseline["total"]) + (BUMP if step == "edit" else 0)
        want_unit = int(baseline["units"][EDIT_UNIT]) + (BUMP if step == "edit" else 0)
        got_total = int(data["total"])
        got_unit = int(data["units"][EDIT_UNIT])
        if got_total == want_total and got_unit == want_unit:
            return None
        if step == "edit" and got_total == int(baseline["total"]):
            return f"stale extension: total() is still {got_total} after editing {EDIT_FILE}"
        return (
            f"wrong value: total()={got_total} (want {want_total}), "
            f"units()[{EDIT_UNIT}]={got_unit} (want {want_unit})"
        )

    def run(self, kinds: Sequence[str], rounds: int) -> None:
        active = [k for k in kinds if self.tools[k].setup_error is None]
        for rnd in range(rounds):
            if not active:
                break
            shift = rnd % len(active)
            order = active[shift:] + active[:shift]
            for pos, kind in enumerate(order):
                self.run_tool(kind, rnd, pos)


def count_objects_since(build_dir: Path, since: float) -> int | None:
    """How many object files under ``build_dir`` were written at or after ``since``."""
    if not build_dir.is_dir():
        return None
    count = 0
    for path in build_dir.rglob("*.o"):
        try:
            if path.stat().st_mtime >= since - 0.01:
                count += 1
        except OSError:
            continue
    return count


# --------------------------------------------------------------------------- report


@dataclass
class Summary:
    step: str
    tool: str
    ok_runs: int
    failed_runs: int
    median: float | None
    min: float | None
    max: float | None
    compiled: float | None  # median object files written, over the successful runs


def summarize(
    results: Sequence[StepResult], kinds: Sequence[str], tools: dict[str, Tool]
) -> list[Summary]:
    out: list[Summary] = []
    for step in STEPS:
        for kind in kinds:
            runs = [r for r in results if r.step == step and r.tool == kind]
            good = [r for r in runs if r.ok and r.seconds is not None]
            secs = [r.seconds for r in good if r.seconds is not None]
            objs = [r.compiled for r in good if r.compiled is not None]
            failed = len(runs) - len(good)
            if tools[kind].setup_error is not None:
                failed = max(failed, 1)
            out.append(
                Summary(
                    step,
                    kind,
                    len(good),
                    failed,
                    statistics.median(secs) if secs else None,
                    min(secs) if secs else None,
                    max(secs) if secs else None,
                    statistics.median(objs) if objs else None,
                )
            )
    return out


def format_table(summaries: Sequence[Summary]) -> str:
    header = (
        "step",
        "tool",
        "ok/runs",
        "median",
        "min",
        "max",
        "objs",
        "vs control",
        "vs pip",
        "vs uv",
    )
    rows: list[tuple[str, ...]] = []
    for s in summaries:
        by_tool = {x.tool: x for x in summaries if x.step == s.step}

        def fmt(v: float | None) -> str:
            return f"{v:.2f}s" if v is not None else "-"

        cmp: list[str] = []
        for ref in ("control", "pip", "uv"):
            other = by_tool.get(ref)
            if ref == s.tool or other is None:
                cmp.append("")
            elif s.median is None or other.median is None:
                cmp.append("n/a")
            else:
                cmp.append(_ratio(s.median, other.median, ref))
        rows.append(
            (
                STEP_TITLES[s.step],
                s.tool,
                f"{s.ok_runs}/{s.ok_runs + s.failed_runs}",
                fmt(s.median),
                fmt(s.min),
                fmt(s.max),
                f"{s.compiled:g}" if s.compiled is not None else "-",
                *cmp,
            )
        )
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(header, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines)


def last_line(error: str | None) -> str:
    lines = [line.strip() for line in (error or "").splitlines() if line.strip()]
    return lines[-1] if lines else "?"


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Benchmark repeated editable installs of a CMake/ninja C++ project "
        "(examples/native-demo) with warmbuild, pip, uv and a no-isolation pip control."
    )
    p.add_argument("--rounds", type=int, default=3, help="rounds (each runs every tool once)")
    p.add_argument(
        "--tools",
        default=",".join(ALL_TOOLS),
        type=lambda v: _csv(v, ALL_TOOLS, "tool"),
        help="comma-separated subset of warmbuild,pip,uv,control",
    )
    p.add_argument(
        "--json",
        type=Path,
        default=None,
        metavar="OUT",
        help="write raw timings here (default benchmarks/results/native-<ts>.json)",
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
        help="where the pinned tool venvs live (shared with install.py)",
    )
    p.add_argument(
        "--work-dir",
        type=Path,
        default=None,
        help="parent dir for source copies, targets and caches (default: system temp dir)",
    )
    p.add_argument(
        "--warmbuild",
        default=None,
        metavar="CMD",
        help="warmbuild command to use instead of the editable install in the tools dir",
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
    p.add_argument("--timeout", type=float, default=900, help="seconds per install step")
    p.add_argument("--keep-work", action="store_true", help="keep source copies and logs")
    ns = p.parse_args(argv)
    if ns.rounds < 1:
        p.error("--rounds must be >= 1")
    return ns


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    kinds: list[str] = args.tools
    python = str(Path(shutil.which(args.python) or args.python))

    log(f"setting up tools in {args.tools_dir} ...")
    wanted = [
        k for k in ("warmbuild", "pip", "uv") if k in kinds or (k == "pip" and "control" in kinds)
    ]
    base_tools = {
        t.name: t
        for t in setup_tools(
            wanted,
            args.tools_dir.resolve(),
            python,
            args.pip_version,
            args.uv_version,
            args.warmbuild,
        )
    }
    tools: dict[str, Tool] = {}
    for kind in kinds:
        base = base_tools["pip" if kind == "control" else kind]
        tools[kind] = Tool(kind, base.command, base.version, base.setup_error)
        if base.setup_error:
            log(f"  {kind}: SETUP FAILED, will be reported as failed\n{_indent(base.setup_error)}")
        else:
            log(f"  {kind}: {base.version}")

    if args.work_dir is not None:
        args.work_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="warmbuild-native-", dir=args.work_dir))
    started = _dt.datetime.now(_dt.UTC)
    load_start = os.getloadavg()
    try:
        with local_index(args.index_url, args.wheelhouse) as index_url:
            log(f"index: {index_url}; work dir: {work}")
            bench = Bench(tools, python, index_url, work, args.timeout, args.keep_work)
            bench.run(kinds, args.rounds)
    finally:
        if args.keep_work:
            log(f"work dir kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    load_end = os.getloadavg()
    summaries = summarize(bench.results, kinds, tools)
    info = machine_info(python)
    info["loadavg_start"] = list(load_start)
    info["loadavg_end"] = list(load_end)
    cmake_version = _version_of(["cmake", "--version"])
    out_path: Path = args.json or (
        BENCH_DIR / "results" / f"native-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    )
    example_target = Path("<target>")
    payload = {
        "started": started.isoformat(),
        "machine": {**info, "system_cmake": cmake_version},
        "config": {
            "rounds": args.rounds,
            "project": str(PROJECT),
            "edit": {"file": EDIT_FILE, "old": EDIT_OLD, "new": EDIT_NEW, "bump": BUMP},
            "control_build_requirements": list(CONTROL_BUILD_REQS),
            "index_url": index_url,
            "tools": {
                kind: {
                    "command": install_argv(
                        t, kind, example_target, "<index>", Path("<src>"), Path("<cache>")
                    )[0],
                    "version": t.version,
                    "setup_error": t.setup_error,
                }
                for kind, t in tools.items()
            },
        },
        "summary": [asdict(s) for s in summaries],
        "runs": [asdict(r) for r in bench.results],
    }
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")

    print()
    print(
        f"install -e examples/native-demo (24 C++ units, scikit-build-core, in-tree build dir), "
        f"{args.rounds} round(s); objs = object files compiled (median)"
    )
    print(format_table(summaries))
    print()
    print(f"machine: nproc={info['nproc']}, {info['cpu']}, {info['platform']}")
    print(f"python:  {info['target_python']}")
    print(
        f"load:    {load_start[0]:.2f} at start, {load_end[0]:.2f} at end (1-minute load "
        "average; other work on the machine skews the numbers)"
    )
    for kind, t in tools.items():
        print(f"{kind + ':':<10} {t.version if not t.setup_error else 'setup failed'}")
    failures = [r for r in bench.results if not r.ok]
    if failures or any(t.setup_error for t in tools.values()):
        print(f"\n{len(failures)} failed step(s); details in {out_path}")
        for kind, t in tools.items():
            if t.setup_error:
                print(f"  {kind}: setup failed: {last_line(t.setup_error)[:160]}")
        seen: set[tuple[str, str, str]] = set()
        for r in failures:
            key = (r.tool, r.step, last_line(r.error))
            if key in seen:
                continue
            seen.add(key)
            n = sum(1 for x in failures if (x.tool, x.step, last_line(x.error)) == key)
            print(f"  {r.tool} {STEP_TITLES[r.step]} ({n}x): {key[2][:200]}")
    print(f"raw timings: {out_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
