#!/usr/bin/env python3
"""Hard resolutions against the real index (issue 11): warmbuild vs pip (vs uv), dry runs.

Opt-in: it talks to the public index (``--index-url``, default https://pypi.org/simple)
and, for the ``mirror-*`` scenarios, downloads four wheels once into the work dir to serve
a partial mirror on 127.0.0.1 (one version per project, first in line as an
``--extra-index-url``). Every run is a ``--dry-run`` into a fresh venv with a fresh cache,
so each one resolves from nothing; runs alternate between tools round by round.

    python benchmarks/resolve.py                           # warmbuild and pip, 1 round
    python benchmarks/resolve.py --tools warmbuild,pip,uv --rounds 3
    python benchmarks/resolve.py --baseline "env PYTHONPATH=/tmp/old/src python -m warmbuild"
    python benchmarks/resolve.py --scenarios regex,moto

A run that fails is reported with its exit code and last line (a failing resolution is an
expected outcome for the mirror scenarios); its time still counts: how fast a resolution
fails is what those scenarios measure. Standard library only.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import shlex
import sys
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import harness

ALL_TOOLS = ("warmbuild", "pip", "uv", "baseline")
PINS = ("jsonschema==4.25.1", "jsonschema-path==0.5.0", "pathable==0.6.0")
#: name -> (requirements and flags, needs the partial mirror)
SCENARIOS: dict[str, tuple[tuple[str, ...], bool]] = {
    "moto": (("moto[all]", *PINS), False),
    "moto-constraints": (("moto[all]", "-c", "{constraints}"), False),
    "regex": (("regex==2021.11.9",), False),
    "mirror-celery": (("django", "djangorestframework", "celery[redis]"), True),
    "mirror-celery55": (("django", "djangorestframework", "celery[redis]>=5.5"), True),
    "mirror-aws": (("boto3", "botocore", "awscli"), True),
}
#: What the partial mirror holds: one version each, as a company mirror that lags behind
#: (kombu 5.6.0 wants redis<6.5; boto3 1.44.8 wants a newer botocore than 1.44.0).
MIRROR = ("redis==8.1.0", "kombu==5.6.0", "boto3==1.44.8", "botocore==1.44.0")
TIMEOUT = 300.0


@dataclass
class Run:
    scenario: str
    tool: str
    round: int
    seconds: float
    returncode: int | None
    last: str


def main(argv: Sequence[str] | None = None) -> int:
    p = harness.parser(__doc__.splitlines()[0], "resolve", ALL_TOOLS, 1, "rounds per tool")
    p.set_defaults(index_url="https://pypi.org/simple", tools=["warmbuild", "pip"])
    p.add_argument("--scenarios", default=",".join(SCENARIOS),
                   type=lambda v: harness.csv_list(v, list(SCENARIOS), "scenario"))
    p.add_argument("--baseline", metavar="CMD",
                   help="another warmbuild to compare with (its tool name is `baseline`)")
    p.add_argument("--keep-work", action="store_true", help="keep the logs and targets")
    args = harness.parse(p, argv)
    if "baseline" in args.tools and not args.baseline:
        p.error("--tools baseline needs --baseline CMD")
    if args.baseline and "baseline" not in args.tools:
        args.tools.append("baseline")
    started = _dt.datetime.now(_dt.UTC)
    tools = harness.setup_tools([t for t in args.tools if t != "baseline"], args)
    if args.baseline:
        tools["baseline"] = harness.Tool("warmbuild", shlex.split(args.baseline),
                                         version=args.baseline)
    runs: list[Run] = []
    with contextlib.ExitStack() as stack:
        work, index_url = stack.enter_context(harness.session(args, "warmbuild-resolve-"))
        mirror = stack.enter_context(_mirror(work, tools, args))
        scratch = harness.Scratch(work)
        for rnd, _pos, (scenario, kind) in harness.rotations(
                [(s, k) for s in args.scenarios for k in tools], args.rounds):
            runs.append(_run(scenario, kind, tools[kind], rnd, index_url, mirror, args,
                             scratch))
    rows = [[r.scenario, r.tool, f"{r.seconds:.1f}s", str(r.returncode), r.last[:90]]
            for r in sorted(runs, key=lambda r: (r.scenario, r.tool, r.round))]
    table = harness.render_table(["scenario", "tool", "time", "exit", "last line"], rows)
    machine = harness.machine_info(args.python)
    harness.print_summary("Dry-run resolutions, fresh venv and cache each (real index)", table,
                          machine, tools, [f"index: {index_url}"])
    out = harness.write_results(args.json, "resolve", started, {
        "started": started.isoformat(), "machine": machine, "index": index_url,
        "runs": [asdict(r) for r in runs]})
    print(f"raw timings: {out}")
    return 0


def _run(scenario: str, kind: str, tool: harness.Tool, rnd: int, index_url: str,
         mirror: str | None, args: argparse.Namespace, scratch: harness.Scratch) -> Run:
    what, needs_mirror = SCENARIOS[scenario]
    if needs_mirror and mirror is None:
        return Run(scenario, kind, rnd, 0.0, None, "skipped: no mirror")
    target, cache, log_path = (scratch.fresh(x) for x in ("target", "cache", "log"))
    constraints = target.with_suffix(".constraints.txt")
    constraints.write_text("\n".join(PINS) + "\n", encoding="utf-8")
    what = tuple(w.format(constraints=constraints) for w in what)
    extra = ["--dry-run", *(["--extra-index-url", mirror] if needs_mirror else [])]
    if tool.name == "pip":
        extra += ["--ignore-installed", "--report", "/dev/null"]
    env = harness.clean_env()
    harness.make_target(args.python, target, env)
    argv, tool_env = tool.install_argv(target, index_url, what, cache, extra)
    harness.log(f"  round {rnd + 1}: {scenario} with {kind} ...")
    seconds, rc, error = harness.timed(argv, harness.clean_env(tool_env), log_path, TIMEOUT)
    last = harness.last_line(log_path.read_text(encoding="utf-8", errors="replace"))
    if error and rc is None:
        last = error
    return Run(scenario, kind, rnd, seconds, rc, last)


@contextlib.contextmanager
def _mirror(work: Path, tools: dict[str, harness.Tool],
            args: argparse.Namespace) -> Iterator[str | None]:
    """A local index over one wheel per project, downloaded with the pip tool."""
    if not any(SCENARIOS[s][1] for s in args.scenarios):
        yield None
        return
    pip = harness.setup_tools(["pip"], args)["pip"] if "pip" not in tools else tools["pip"]
    wheels = work / "mirror"
    res = harness.run_quiet([*pip.command, "download", "-q", "--no-deps", "--only-binary",
                             ":all:", "-d", wheels, "--index-url", args.index_url, *MIRROR],
                            env=harness.clean_env({"PIP_CONFIG_FILE": "/dev/null"}))
    if res.returncode != 0:
        harness.log(f"cannot download the mirror's wheels; mirror scenarios skipped:\n"
                    f"{harness.tail(res.stderr)}")
        yield None
        return
    sys.path.insert(0, str(harness.REPO_ROOT))
    from tests.support.indexserver import serve_index

    with serve_index([wheels]) as server:
        yield str(server.url)


if __name__ == "__main__":
    sys.exit(main())
