"""``install --report``: pip's installation report, compared field by field with pip's own."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from conftest import Runner, installed, pip
from support.indexserver import IndexServer
from support.wheels import make_wheel

PROJECTS = Path(__file__).resolve().parent / "projects"


def by_name(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["metadata"]["name"].lower(): item for item in report["install"]}


def test_dry_run_report_matches_pips(wb: Runner, venv: Path, index: IndexServer,
                                     tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path / "local", "demo", "1.0", extras={"cli": ["six"]})
    tree = tmp_path / "src" / "hatchling-pure"
    editable = tmp_path / "src" / "flit-pure"
    for name, dest in (("hatchling-pure", tree), ("flit-pure", editable)):
        shutil.copytree(PROJECTS / name, dest)
    reqs = ["rich", "requests==2.32.5", f"demo[cli] @ {wheel.as_uri()}", str(tree),
            "-e", str(editable)]
    ours = wb("install", "--python", venv, "-i", index.url, "--dry-run", "--report", "-", *reqs)
    assert installed(venv) == {}
    theirs = pip(venv, "install", "--dry-run", "--quiet", "--report", "-", "-i", index.url,
                 *reqs)
    mine, pips = json.loads(ours.stdout), json.loads(theirs.stdout)

    assert mine.pop("warmbuild_version") and pips.pop("pip_version")
    assert mine.keys() == pips.keys() == {"version", "install", "environment"}
    assert mine["version"] == pips["version"] == "1"
    assert mine["environment"] == pips["environment"]
    assert by_name(mine).keys() == by_name(pips).keys()
    for name, item in by_name(pips).items():
        assert by_name(mine)[name] == item, name
    # What the comparison covered: index files, a local wheel with extras, a tree, an
    # editable tree.
    items = by_name(mine)
    assert items["demo"]["requested_extras"] == ["cli"] and items["demo"]["is_direct"]
    assert items["demo"]["download_info"]["archive_info"]["hashes"]["sha256"]
    assert items["hatchling-pure"]["download_info"]["dir_info"] == {}
    assert items["flit-pure"]["download_info"]["dir_info"] == {"editable": True}
    assert items["six"]["requested"] is False and "requested_extras" not in items["six"]


def test_report_file_of_a_real_install(wb: Runner, venv: Path, index: IndexServer,
                                       tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    wb("install", "--python", venv, "-i", index.url, "--report", out, "six")
    assert installed(venv) == {"six": "1.17.0"}
    (item,) = json.loads(out.read_text())["install"]
    assert item["metadata"]["name"] == "six" and item["requested"] is True
    # Installed already: nothing to install, an empty report (pip's too).
    wb("install", "--python", venv, "-i", index.url, "--report", out, "six")
    assert json.loads(out.read_text())["install"] == []
    both = wb("install", "--python", venv, "-i", index.url, "--report", "-", "--format", "json",
              "six", expect=2)
    assert "both write to stdout" in both.stderr
