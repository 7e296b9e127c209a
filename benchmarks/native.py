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
only; the tool venvs, the local index and the reporting are shared with ``install.py``
through ``harness.py``.
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
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import harness

ALL_TOOLS = ("warmbuild", "pip", "uv", "control")
STEPS = ("first", "again", "edit")
STEP_TITLES = {
    "first": "(a) first install -e",
    "again": "(b) again, no change",
    "edit": "(c) after editing one .cpp",
}
PROJECT = harness.REPO_ROOT / "examples" / "native-demo"
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


def base_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of every command: the machine's tool settings stripped, configs off."""
    return harness.clean_env({"PIP_CONFIG_FILE": os.devnull, "UV_NO_CONFIG": "1", **(extra or {})})


def install_argv(
    tool: harness.Tool, kind: str, target: Path, index_url: str, src: Path, cache: Path
) -> tuple[list[str], dict[str, str]]:
    """argv and environment for ``install -e src`` into ``target`` with tool ``kind``."""
    extra = ["--no-compile"] if tool.name == "pip" else []
    if kind == "control":
        extra.append("--no-build-isolation")
    argv, env = tool.install_argv(target, index_url, ["-e", str(src)], cache, extra)
    return argv, base_env(env)


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


@dataclass(frozen=True)
class Slot:
    """One tool's place in one round, with the source copy, target and cache it uses."""

    kind: str
    rnd: int
    pos: int
    src: Path
    target: Path
    cache: Path


@dataclass
class Bench:
    tools: dict[str, harness.Tool]  # by benchmark name (control runs with pip's Tool)
    python: str
    index_url: str
    work: harness.Scratch
    timeout: float
    keep_work: bool
    results: list[StepResult] = field(default_factory=list)

    def _check(self, target: Path) -> tuple[dict[str, Any] | None, str | None]:
        try:
            res = harness.run_quiet(
                [harness.venv_python(target), "-c", _CHECK_SCRIPT],
                env=base_env({"PYTHONDONTWRITEBYTECODE": "1"}),
                timeout=120,
            )
        except subprocess.TimeoutExpired:
            return None, "import check timed out"
        if res.returncode != 0:
            return None, f"import check failed: {harness.tail(res.stderr, 1)}"
        try:
            data: dict[str, Any] = json.loads(res.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            return (
                None,
                f"import check printed no result: {harness.tail(res.stdout + res.stderr, 1)}",
            )
        return data, None

    def _prepare_control(self, target: Path, cache: Path) -> str | None:
        tool = self.tools["control"]
        argv, env = tool.install_argv(target, self.index_url, CONTROL_BUILD_REQS, cache)
        res = harness.run_quiet(argv, env=base_env(env), timeout=self.timeout)
        if res.returncode != 0:
            output = harness.tail(res.stdout + res.stderr)
            return f"installing the build requirements failed:\n{output}"
        return None

    def _slot(self, kind: str, rnd: int, pos: int) -> Slot:
        src = self.work.fresh(f"src-{kind}")
        shutil.copytree(PROJECT, src, ignore=shutil.ignore_patterns("build", "__pycache__"))
        target = self.work.fresh(f"target-{kind}")
        cache = self.work.fresh(f"cache-{kind}")
        cache.mkdir()
        harness.make_target(self.python, target, base_env())
        return Slot(kind, rnd, pos, src, target, cache)

    def run_tool(self, kind: str, rnd: int, pos: int) -> None:
        """The three steps for one tool in one round, each in the same source copy and target."""
        slot = self._slot(kind, rnd, pos)
        why_not = self._prepare_control(slot.target, slot.cache) if kind == "control" else None
        baseline: dict[str, Any] | None = None
        for step in STEPS:
            if why_not is not None:
                self.results.append(
                    StepResult(
                        kind, rnd, pos, step, None, False, None, None, None, f"not run: {why_not}"
                    )
                )
                harness.log(f"round {rnd + 1} {kind:<9} {step:<5}  not run")
                continue
            ok, data = self._step(slot, step, baseline)
            if step == "first":
                baseline = data
                why_not = None if ok else "step (a) failed"
        if not self.keep_work:
            for path in (slot.src, slot.target, slot.cache):
                shutil.rmtree(path, ignore_errors=True)

    def _step(
        self, slot: Slot, step: str, baseline: dict[str, Any] | None
    ) -> tuple[bool, dict[str, Any] | None]:
        """Run and check one step; the check's data when it passed."""
        if step == "edit":
            edit(slot.src)
        argv, env = install_argv(
            self.tools[slot.kind], slot.kind, slot.target, self.index_url, slot.src, slot.cache
        )
        log_path = self.work.root / f"{slot.kind}-r{slot.rnd}-{step}.log"
        started_wall = time.time()
        load1 = os.getloadavg()[0]
        seconds, rc, error = harness.timed(
            argv, env, log_path, self.timeout, self.work.root, echo=True
        )
        compiled = count_objects_since(slot.src / "build", started_wall)
        data: dict[str, Any] | None = None
        if error is None:
            data, error = self._check(slot.target)
            if data is not None:
                error = verify(step, data, baseline)
        ok = error is None
        value = int(data["total"]) if data is not None else None
        self.results.append(
            StepResult(
                slot.kind, slot.rnd, slot.pos, step, seconds, ok, rc, compiled, value, error, load1
            )
        )
        status = f"{seconds:7.2f}s" if ok else "FAILED "
        harness.log(f"round {slot.rnd + 1} {slot.kind:<9} {step:<5} {status}  compiled {compiled}")
        if not ok:
            harness.log(harness.indent(error))
        elif not self.keep_work:
            log_path.unlink()
        return ok, data if ok else None

    def run(self, kinds: Sequence[str], rounds: int) -> None:
        active = [k for k in kinds if self.tools[k].setup_error is None]
        for rnd, pos, kind in harness.rotations(active, rounds):
            self.run_tool(kind, rnd, pos)


def edit(src: Path) -> None:
    path = src / EDIT_FILE
    text = path.read_text(encoding="utf-8")
    if EDIT_OLD not in text:
        raise SystemExit(f"{PROJECT / EDIT_FILE}: {EDIT_OLD!r} not found")
    path.write_text(text.replace(EDIT_OLD, EDIT_NEW, 1), encoding="utf-8")


def verify(step: str, data: dict[str, Any], baseline: dict[str, Any] | None) -> str | None:
    """Steps (b) and (c) must show the values of (a), (c) grown by exactly BUMP."""
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
class Summary(harness.Timing):
    step: str
    compiled: float | None  # median object files written, over the successful runs


def summarize(
    results: Sequence[StepResult], kinds: Sequence[str], tools: Mapping[str, harness.Tool]
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
            compiled = statistics.median(objs) if objs else None
            out.append(Summary(kind, len(good), failed, *harness.spread(secs), step, compiled))
    return out


def format_table(summaries: Sequence[Summary]) -> str:
    refs = ("control", "pip", "uv")
    header = ["step", "tool", "ok/runs", "median", "min", "max", "objs", *(f"vs {r}" for r in refs)]
    rows = []
    for s in summaries:
        peers = [x for x in summaries if x.step == s.step]
        objs = f"{s.compiled:g}" if s.compiled is not None else "-"
        cmp = harness.ratio_cells(s, peers, refs)
        rows.append([STEP_TITLES[s.step], s.tool, *harness.timing_cells(s), objs, *cmp])
    return harness.render_table(header, rows)


def failure_lines(results: Sequence[StepResult]) -> list[str]:
    """Each distinct failure of a tool's step, in a line, with how often it happened."""
    counts = Counter((r.tool, r.step, harness.last_line(r.error)) for r in results if not r.ok)
    return [
        f"  {tool} {STEP_TITLES[step]} ({n}x): {last[:200]}"
        for (tool, step, last), n in counts.items()
    ]


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = harness.parser(
        "Benchmark repeated editable installs of a CMake/ninja C++ project "
        "(examples/native-demo) with warmbuild, pip, uv and a no-isolation pip control.",
        "native",
        ALL_TOOLS,
        rounds=3,
        rounds_help="rounds (each runs every tool once)",
    )
    p.add_argument("--timeout", type=float, default=900, help="seconds per install step")
    p.add_argument("--keep-work", action="store_true", help="keep source copies and logs")
    return harness.parse(p, argv)


def payload(
    args: argparse.Namespace,
    started: _dt.datetime,
    bench: Bench,
    summaries: list[Summary],
    loads: tuple[Sequence[float], Sequence[float]],
) -> dict[str, Any]:
    placeholders = (Path("<target>"), "<index>", Path("<src>"), Path("<cache>"))
    tools = {
        kind: {
            "command": install_argv(t, kind, *placeholders)[0],
            "version": t.version,
            "setup_error": t.setup_error,
        }
        for kind, t in bench.tools.items()
    }
    return {
        "started": started.isoformat(),
        "machine": {
            **harness.machine_info(args.python),
            "loadavg_start": list(loads[0]),
            "loadavg_end": list(loads[1]),
            "system_cmake": harness.version_of(["cmake", "--version"]),
        },
        "config": {
            "rounds": args.rounds,
            "project": str(PROJECT),
            "edit": {"file": EDIT_FILE, "old": EDIT_OLD, "new": EDIT_NEW, "bump": BUMP},
            "control_build_requirements": list(CONTROL_BUILD_REQS),
            "index_url": bench.index_url,
            "tools": tools,
        },
        # The group first, as the file always had it (a subclass's own fields come last).
        "summary": [{"step": s.step, **asdict(s)} for s in summaries],
        "runs": [asdict(r) for r in bench.results],
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    kinds: list[str] = args.tools
    tools = harness.setup_tools(kinds, args, alias={"control": "pip"})
    started = _dt.datetime.now(_dt.UTC)
    load_start = os.getloadavg()
    with harness.session(args, "warmbuild-native-") as (work, index_url):
        bench = Bench(
            tools, args.python, index_url, harness.Scratch(work), args.timeout, args.keep_work
        )
        bench.run(kinds, args.rounds)
    load_end = os.getloadavg()

    summaries = summarize(bench.results, kinds, tools)
    data = payload(args, started, bench, summaries, (load_start, load_end))
    out_path = harness.write_results(args.json, "native", started, data)
    title = (
        f"install -e examples/native-demo (24 C++ units, scikit-build-core, in-tree build dir), "
        f"{args.rounds} round(s); objs = object files compiled (median)"
    )
    load = (
        f"load:    {load_start[0]:.2f} at start, {load_end[0]:.2f} at end (1-minute load "
        "average; other work on the machine skews the numbers)"
    )
    harness.print_summary(title, format_table(summaries), data["machine"], tools, [load])
    failed = sum(1 for r in bench.results if not r.ok)
    harness.print_failures(out_path, tools, failed, "step", failure_lines(bench.results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
