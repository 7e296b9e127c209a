"""Requirements and requirements files parsed in-process (reqfile.py): no index, no venv."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.specifiers import SpecifierSet

from warmbuild.errors import WarmbuildError
from warmbuild.reqfile import parse_requirement, read_requirements_file

SHA_A = "a" * 64
SHA_B = "B" * 64


def tree(path: Path) -> Path:
    """A directory that counts as a Python project."""
    path.mkdir(parents=True)
    (path / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "1"\n')
    return path


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def error(path: Path) -> str:
    with pytest.raises(WarmbuildError) as caught:
        read_requirements_file(path)
    return caught.value.message


# --------------------------------------------------------------------------- one requirement


def test_pep508_requirement_keeps_name_extras_specifier_and_marker() -> None:
    req = parse_requirement("Requests[socks,security] >=2.0,<3 ; python_version >= '3.9'")
    assert req.name == "requests"
    assert req.source == "command line"
    assert req.requirement.extras == {"socks", "security"}
    assert req.requirement.specifier == SpecifierSet(">=2.0,<3")
    assert req.requirement.marker == Marker("python_version >= '3.9'")
    assert (req.tree, req.editable, req.hashes) == (None, False, ())


def test_bare_wheel_url_gets_its_name_from_the_filename() -> None:
    url = "https://host/files/My_Pkg-1.2-py3-none-any.whl"
    req = parse_requirement(url)
    assert req.name == "my-pkg"
    assert req.requirement.url == url


def test_bare_url_that_is_no_distribution_is_an_error() -> None:
    with pytest.raises(WarmbuildError) as caught:
        parse_requirement("https://host/files/readme.txt", source="reqs.txt:4")
    assert caught.value.message == (
        "reqs.txt:4: cannot tell the project name from URL https://host/files/readme.txt")


def test_wheel_path_is_relative_to_base_dir_and_keeps_its_marker(tmp_path: Path) -> None:
    wheel = write(tmp_path / "dist" / "demo-1.0-py3-none-any.whl", "")
    req = parse_requirement("./dist/demo-1.0-py3-none-any.whl; sys_platform == 'linux'",
                            base_dir=tmp_path)
    assert req.name == "demo"
    assert req.requirement.url == wheel.as_uri()
    assert req.requirement.marker == Marker("sys_platform == 'linux'")


def test_missing_wheel_path_and_non_wheel_file(tmp_path: Path) -> None:
    with pytest.raises(WarmbuildError, match=r"^command line: \./gone-1\.0-py3-none-any"
                       r"\.whl: no such file$"):
        parse_requirement("./gone-1.0-py3-none-any.whl", base_dir=tmp_path)
    write(tmp_path / "notes.txt", "")
    with pytest.raises(WarmbuildError,
                       match=r"notes\.txt is not the file name of a wheel or an sdist\n"):
        parse_requirement("./notes.txt", base_dir=tmp_path)


def test_source_tree_path_with_extras_and_editable(tmp_path: Path) -> None:
    src = tree(tmp_path / "My Project")
    req = parse_requirement("./My Project[cli]", base_dir=tmp_path)
    assert req.tree == src and req.editable is False
    # The name is provisional (the tree's metadata has the real one), but valid.
    assert req.name == "my-project"
    assert req.requirement.extras == {"cli"}
    assert req.requirement.url == src.as_uri()
    editable = parse_requirement(str(src), editable=True)
    assert editable.tree == src and editable.editable is True


def test_name_at_file_url_of_a_directory_is_a_source_tree(tmp_path: Path) -> None:
    src = tree(tmp_path / "proj")
    req = parse_requirement(f"proj @ {src.as_uri()}")
    assert (req.name, req.tree, req.editable) == ("proj", src, False)


def test_directory_that_is_not_a_project(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(WarmbuildError) as caught:
        parse_requirement("./empty", base_dir=tmp_path)
    assert caught.value.message == (
        f"command line: {tmp_path / 'empty'}: is not a Python project "
        "(no pyproject.toml or setup.py)")


def test_direct_reference_must_be_a_url() -> None:
    with pytest.raises(WarmbuildError) as caught:
        parse_requirement("demo @ some/relative/path.whl")
    assert caught.value.message == (
        "command line: demo @ some/relative/path.whl: a direct reference must be a URL")
    assert caught.value.hint == "write `name @ file:///absolute/path`"


def test_invalid_requirement_names_where_it_came_from() -> None:
    with pytest.raises(WarmbuildError) as caught:
        parse_requirement("demo >>> 1", source="reqs.txt:2")
    assert caught.value.message == "reqs.txt:2: invalid requirement 'demo >>> 1'"
    assert caught.value.cause  # packaging's own explanation


# --------------------------------------------------------------------------- files


def test_options_comments_continuations_and_variables(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIRROR", "https://mirror.example/simple")
    links = tmp_path / "reqs" / "wheels"
    links.mkdir(parents=True)
    path = write(tmp_path / "reqs" / "requirements.txt", (
        "# a comment line\n"
        "--index-url ${MIRROR}\n"
        "--extra-index-url=https://extra.example/simple\n"
        "-f wheels\n"
        "--find-links https://links.example/\n"
        "--pre\n"
        "--only-binary :all:\n"
        "--prefer-binary\n"
        "--trusted-host mirror.example\n"
        "alpha \\\n"
        "  ==1.0   # pinned\n"
        "beta[x]>=2 ; python_version < '4'\n"
    ))
    reqs = read_requirements_file(path)
    assert reqs.index_url == "https://mirror.example/simple"
    assert reqs.extra_index_urls == ("https://extra.example/simple",)
    # A relative find-links directory is taken relative to the file that names it.
    assert reqs.find_links == (str(links), "https://links.example/")
    assert (reqs.pre, reqs.no_index, reqs.require_hashes) == (True, False, False)
    assert (reqs.formats, reqs.prefer_binary) == ((("--only-binary", ":all:"),), True)
    assert reqs.trusted_hosts == ("mirror.example",)
    assert [(r.name, str(r.requirement.specifier), r.source) for r in reqs.requirements] == [
        ("alpha", "==1.0", f"{path}:10"), ("beta", ">=2", f"{path}:12")]
    assert reqs.requirements[1].requirement.marker == Marker("python_version < '4'")
    assert reqs.files == (path,)


def test_no_index_require_hashes_and_per_package_only_binary(tmp_path: Path) -> None:
    path = write(tmp_path / "r.txt", "--no-index\n--require-hashes\n--only-binary=numpy\n"
                                     "--no-binary scipy,:none:\n")
    reqs = read_requirements_file(path)
    assert (reqs.no_index, reqs.require_hashes) == (True, True)
    assert reqs.formats == (("--only-binary", "numpy"), ("--no-binary", "scipy,:none:"))
    assert reqs.requirements == ()


def test_nested_files_are_relative_to_the_file_that_names_them(tmp_path: Path) -> None:
    top = write(tmp_path / "requirements.txt", "-r sub/base.txt\n-c pins/constraints.txt\n"
                                               "top==1\n")
    base = write(tmp_path / "sub" / "base.txt", "base-pkg\n-r ../sub/more/extra.txt\n")
    extra = write(tmp_path / "sub" / "more" / "extra.txt", "extra-pkg\n")
    pins = write(tmp_path / "pins" / "constraints.txt", "base-pkg<2\n-r nested-pins.txt\n")
    nested_pins = write(tmp_path / "pins" / "nested-pins.txt", "extra-pkg==3\n")
    reqs = read_requirements_file(top)
    assert [(r.name, r.source) for r in reqs.requirements] == [
        ("base-pkg", f"{base}:1"), ("extra-pkg", f"{extra}:1"), ("top", f"{top}:3")]
    # Everything a -c file includes, even through -r, is a constraint.
    assert [(r.name, str(r.requirement.specifier), r.source) for r in reqs.constraints] == [
        ("base-pkg", "<2", f"{pins}:1"), ("extra-pkg", "==3", f"{nested_pins}:1")]
    assert reqs.files == (top, base, extra, pins, nested_pins)


def test_the_last_index_url_wins_and_extra_urls_add_up(tmp_path: Path) -> None:
    top = write(tmp_path / "r.txt", "-i https://one.example/simple\n-r more.txt\n"
                                    "--extra-index-url https://x.example/simple\n")
    write(tmp_path / "more.txt", "-i https://two.example/simple\n"
                                 "--extra-index-url https://y.example/simple\n")
    reqs = read_requirements_file(top)
    assert reqs.index_url == "https://two.example/simple"
    assert reqs.extra_index_urls == ("https://y.example/simple", "https://x.example/simple")


def test_hashes_one_or_many_per_requirement(tmp_path: Path) -> None:
    path = write(tmp_path / "r.txt", (
        f"six==1.17.0 --hash=sha256:{SHA_A} \\\n"
        f"    --hash sha256:{SHA_B}\n"
        f"attrs==26.1.0 --hash=sha512:{'c' * 128}\n"
        "idna==3.20\n"
    ))
    six, attrs, idna = read_requirements_file(path).requirements
    # Digests are compared in lower case.
    assert six.hashes == (("sha256", SHA_A), ("sha256", SHA_B.lower()))
    assert attrs.hashes == (("sha512", "c" * 128),)
    assert idna.hashes == ()
    assert str(six.requirement) == "six==1.17.0"


def test_editable_line_relative_to_the_file(tmp_path: Path) -> None:
    src = tree(tmp_path / "reqs" / "proj")
    path = write(tmp_path / "reqs" / "r.txt", "-e ./proj\n--editable=./proj\n")
    first, second = read_requirements_file(path).requirements
    assert (first.tree, first.editable, first.source) == (src, True, f"{path}:1")
    assert (second.tree, second.editable) == (src, True)


@pytest.mark.parametrize(("line", "expected"), [
    ("not a valid === requirement", "invalid requirement 'not a valid === requirement'"),
    ("--frobnicate", "unknown option '--frobnicate' in requirements file"),
    ("-r", "-r needs a value"),
    ("--index-url", "--index-url needs a value"),
    (f"six --hash=md5:{SHA_A}", f"invalid --hash 'md5:{SHA_A}'"),
    ("six --hash=sha256", "invalid --hash 'sha256'"),
    ("six --install-option=--x", "unknown per-requirement option '--install-option=--x'"),
    ("-i 'unterminated", "cannot parse \"-i 'unterminated\""),
])
def test_bad_lines_name_file_and_line(tmp_path: Path, line: str, expected: str) -> None:
    path = write(tmp_path / "requirements.txt", f"six\n# fine\n\n{line}\n")
    assert error(path) == f"{path}:4: {expected}"


def test_error_in_a_nested_file_names_that_file(tmp_path: Path) -> None:
    top = write(tmp_path / "r.txt", "six\n-r inner/more.txt\n")
    inner = write(tmp_path / "inner" / "more.txt", "ok\nbad >>> 1\n")
    assert error(top) == f"{inner}:2: invalid requirement 'bad >>> 1'"


def test_a_constraint_cannot_have_extras(tmp_path: Path) -> None:
    top = write(tmp_path / "r.txt", "-c c.txt\n")
    pins = write(tmp_path / "c.txt", "requests[socks]==2\n")
    with pytest.raises(WarmbuildError) as caught:
        read_requirements_file(top)
    assert caught.value.message == (
        f"{pins}:1: a constraint cannot have extras ('requests[socks]==2')")


def test_include_cycle_missing_file_and_not_utf8(tmp_path: Path) -> None:
    first = write(tmp_path / "a.txt", "-r b.txt\n")
    write(tmp_path / "b.txt", "-r a.txt\n")
    assert error(first) == f"{first}: included from itself"
    assert error(tmp_path / "missing.txt") == (
        f"cannot read requirements file {tmp_path / 'missing.txt'}")
    latin = tmp_path / "latin.txt"
    latin.write_bytes("caf\xe9==1\n".encode("latin-1"))
    assert error(latin) == f"cannot read requirements file {latin}: it is not UTF-8 text"


@pytest.mark.parametrize(("line", "message", "hint"), [
    ("--no-build-isolation", "--no-build-isolation is not supported in a requirements file",
     "pass --no-build-isolation on the command line"),
    ("--no-use-pep517", "--no-use-pep517 is not supported in a requirements file",
     "warmbuild builds every project through PEP 517"),
    ("--global-option=--x", "--global-option is not supported in a requirements file",
     "-C/--config-settings"),
    ("--use-feature=magic", "--use-feature magic: not a feature warmbuild has", "drop the line"),
    ("six --config-settings=a=b", "unknown per-requirement option '--config-settings=a=b'",
     "-C/--config-settings"),
])
def test_unsupported_pip_options_name_the_alternative(tmp_path: Path, line: str, message: str,
                                                      hint: str) -> None:
    path = write(tmp_path / "requirements.txt", f"{line}\n")
    with pytest.raises(WarmbuildError) as caught:
        read_requirements_file(path)
    assert caught.value.message == f"{path}:1: {message}"
    assert caught.value.hint is not None and hint in caught.value.hint


def test_options_warmbuild_always_honours(tmp_path: Path) -> None:
    path = write(tmp_path / "r.txt", "--use-pep517\n--use-feature=fast-deps\n"
                                     "--use-feature truststore\n--trusted-host a.example\n"
                                     "--trusted-host=b.example:8080\nsix\n")
    reqs = read_requirements_file(path)
    assert reqs.trusted_hosts == ("a.example", "b.example:8080")
    assert [r.name for r in reqs.requirements] == ["six"]
