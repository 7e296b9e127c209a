"""The installation report made from values: pip's fields, PEP 610 and PEP 566 forms."""

from __future__ import annotations

from packaging.utils import canonicalize_name
from packaging.version import Version

from warmbuild.dists import DistFile, ResolvedDist
from warmbuild.report import ReportItem, installation_report, metadata_json

METADATA = """\
Metadata-Version: 2.4
Name: Demo
Version: 1.0
Summary: A demo
Keywords: one, two
License: MIT License
{blank}
        Copyright (c) 2026
Classifier: A :: B
Classifier: C :: D
Requires-Dist: dep>=1
Requires-Dist: extra-dep; extra == "cli"
Provides-Extra: cli
Description-Content-Type: text/markdown

# Demo

The body is the description.
""".format(blank=" " * 8)

MARKERS = {"python_version": "3.11", "sys_platform": "linux"}


def dist(filename: str, url: str, kind: str = "wheel", *, requested: bool = False,
         direct: bool = False, editable: bool = False,
         hashes: tuple[tuple[str, str], ...] = ()) -> ResolvedDist:
    name = canonicalize_name(filename.split("-")[0])
    file = DistFile(filename, url, name, Version("1.0"), kind,  # type: ignore[arg-type]
                    hashes=hashes)
    return ResolvedDist(name, Version("1.0"), file, requested,
                        direct_url=url if direct else None, editable=editable)


def test_index_wheel_item_has_pips_fields() -> None:
    item = ReportItem(dist("demo-1.0-py3-none-any.whl", "https://u:pw@idx/demo.whl",
                           requested=True, hashes=(("sha256", "ab"), ("md5", "cd"))),
                      METADATA, requested_extras=("cli",))
    report = installation_report([item], MARKERS)
    assert report["version"] == "1" and report["environment"] == MARKERS
    (entry,) = report["install"]
    # The index's first hash only, as pip's Link.hash; the password is not written.
    assert entry["download_info"] == {"url": "https://idx/demo.whl", "archive_info": {
        "hashes": {"sha256": "ab"}, "hash": "sha256=ab"}}
    assert entry["is_direct"] is False and entry["is_yanked"] is False
    assert entry["requested"] is True and entry["requested_extras"] == ["cli"]
    assert entry["metadata"]["name"] == "Demo"


def test_dependencies_have_no_requested_extras_and_hash_falls_back_to_sha256() -> None:
    item = ReportItem(dist("dep-1.0.tar.gz", "file:///w/dep-1.0.tar.gz", "sdist"), METADATA,
                      requested_extras=("cli",), sha256="ef")
    (entry,) = installation_report([item], MARKERS)["install"]
    assert "requested_extras" not in entry and entry["requested"] is False
    assert entry["download_info"]["archive_info"] == {"hashes": {"sha256": "ef"},
                                                      "hash": "sha256=ef"}
    unhashed = ReportItem(dist("dep-1.0.tar.gz", "https://idx/dep-1.0.tar.gz", "sdist"),
                          METADATA)
    (entry,) = installation_report([unhashed], MARKERS)["install"]
    assert entry["download_info"]["archive_info"] == {}


def test_direct_references_and_trees() -> None:
    wheel = dist("demo-1.0-py3-none-any.whl", "file:///w/demo-1.0-py3-none-any.whl",
                 requested=True, direct=True, hashes=(("sha256", "ab"),))
    tree = dist("demo", "file:///src/demo", "tree", requested=True, direct=True)
    editable = dist("demo", "file:///src/demo", "tree", requested=True, direct=True,
                    editable=True)
    entries = installation_report([ReportItem(d, METADATA) for d in (wheel, tree, editable)],
                                  MARKERS)["install"]
    assert [e["is_direct"] for e in entries] == [True, True, True]
    assert entries[0]["download_info"]["url"] == "file:///w/demo-1.0-py3-none-any.whl"
    assert entries[1]["download_info"] == {"url": "file:///src/demo", "dir_info": {}}
    assert entries[2]["download_info"] == {"url": "file:///src/demo",
                                           "dir_info": {"editable": True}}


def test_metadata_json_is_pep_566() -> None:
    meta = metadata_json(METADATA)
    assert meta == {
        "metadata_version": "2.4", "name": "Demo", "version": "1.0", "summary": "A demo",
        "description": "# Demo\n\nThe body is the description.\n",
        "description_content_type": "text/markdown", "keywords": ["one", "two"],
        # Folded lines lose their indentation, as importlib.metadata gives them to pip.
        "license": "MIT License\n\nCopyright (c) 2026",
        "classifier": ["A :: B", "C :: D"],
        "requires_dist": ["dep>=1", 'extra-dep; extra == "cli"'], "provides_extra": ["cli"],
    }
    assert metadata_json("Name: x\nKeywords: a b  c\n")["keywords"] == ["a", "b", "c"]
