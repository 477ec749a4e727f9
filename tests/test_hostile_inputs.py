"""Odd and hostile inputs: each once made asgifix hang, crash or write the wrong thing."""

from __future__ import annotations

import os
import re
import sys

import pytest

from asgifix.config import DEFAULT_EXCLUDES
from asgifix.discovery import discover

from .conftest import run_cli


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_fifo_named_like_a_requirements_file_is_not_opened(tree):
    # Opening a FIFO for reading blocks until a writer comes: a walk must not pick it up.
    root = tree({"requirements.txt": "asgiref==3.7.2\n"})
    os.mkfifo(root / "requirements-dev.txt")
    found = [source.display for source in discover([str(root)], DEFAULT_EXCLUDES)]
    assert found == [f"{root.as_posix()}/requirements.txt"]
    named = run_cli("check", str(root / "requirements-dev.txt"))
    assert named.exit_code == 2
    assert "not a regular file or directory" in named.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="symbolic links need privileges on Windows")
def test_fixing_a_named_symlink_writes_through_it(tree):
    root = tree({"project/requirements/prod.txt": "asgiref 3.5.2\n"})
    link = root / "project" / "requirements.txt"
    link.symlink_to("requirements/prod.txt")
    result = run_cli("fix", str(link))
    assert result.exit_code == 0, result.stdout + result.stderr
    assert link.is_symlink()
    assert (root / "project" / "requirements" / "prod.txt").read_text() == "asgiref==3.5.2\n"


def test_invalid_hashed_line_is_not_rewritten(tree):
    root = tree({"requirements.txt": "asgiref==3.7.2\nchannels = 3.0.5 --hash=sha256:abcd\n"})
    before = (root / "requirements.txt").read_bytes()
    data = run_cli("check", str(root), "--select", "AFX101", "--format", "json").json()
    [finding] = data["findings"]
    assert finding["line"] == 2 and finding["fix"] is None
    assert "generated" in finding["hint"] and "channels==3.0.5" in finding["hint"]
    run_cli("fix", str(root), "--select", "AFX101")
    assert (root / "requirements.txt").read_bytes() == before


def test_sarif_uris_are_percent_encoded(tree):
    root = tree({"my dir#1/requirements.txt": "asgiref 3.5.2\n"})
    result = run_cli("check", "my dir#1", "--format", "sarif", cwd=root)
    run = result.json()["runs"][0]
    location = run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location["uri"] == "my%20dir%231/requirements.txt"
    absolute = run_cli("check", str(root / "my dir#1"), "--format", "sarif").json()["runs"][0]
    uri = absolute["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri.startswith("file:///") and uri.endswith("/my%20dir%231/requirements.txt") and " " not in uri


def test_coloured_source_line_keeps_a_trailing_backslash_single(tree):
    root = tree({"requirements.txt": "foo[bold] 1 \\\n"})
    result = run_cli("check", str(root), env={"FORCE_COLOR": "1"})
    plain = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout)
    assert " 1 | foo[bold] 1 \\\n" in plain


def test_deeply_nested_python_is_an_error_entry_not_a_traceback(tree):
    # ast.parse accepts a long `a + a + ...` chain that a recursive tree walk cannot follow.
    chain = "+".join(["a"] * 1500)
    source = ("from asgiref.sync import async_to_sync\nimport channels\n"
              f"async def f():\n    x = async_to_sync(g)({chain})\n")
    root = tree({"requirements.txt": "channels==4.0.0\n", "app/deep.py": source, "app/ok.py": "import os\n"})
    result = run_cli("check", str(root), "--format", "json")
    data = result.json()
    assert [error["path"] for error in data["errors"]] == [f"{root.as_posix()}/app/deep.py"]
    assert "\n" not in data["errors"][0]["message"]


def test_unexpected_exception_is_one_line_and_exit_two(tree, monkeypatch):
    from asgifix.engine import Engine

    def broken(self, *args, **kwargs):
        raise ValueError("boom\nsecond line")

    monkeypatch.setattr(Engine, "run", broken)
    root = tree({"requirements.txt": "asgiref==3.7.2\n"})
    result = run_cli("check", str(root))
    assert result.exit_code == 2
    assert result.stderr.strip() == ("asgifix: error: internal error: ValueError: boom second line "
                                     "(a bug in asgifix; run with ASGIFIX_DEBUG=1 for the traceback)")
    with pytest.raises(ValueError):
        run_cli("check", str(root), env={"ASGIFIX_DEBUG": "1"})


def test_requirements_file_of_broken_option_lines_is_not_taken_for_prose(tree):
    # Option lines pip rejects ("-r" without a file, "--hash" alone) are requirements syntax:
    # a walk must not dismiss the file as documentation that happens to be named requirements.txt.
    root = tree({"requirements.txt": "-r\n-c\n--hash\n-r missing.txt\nDjango = 4.2\n"})
    data = run_cli("check", ".", "--format", "json", "--select", "AFX1", cwd=root).json()
    assert [(f["code"], f["line"]) for f in data["findings"]] == [
        ("AFX101", 1), ("AFX101", 2), ("AFX101", 3), ("AFX104", 4), ("AFX101", 5)]


def test_a_file_that_cannot_be_written_is_not_counted_as_fixed(tree, monkeypatch):
    from asgifix import engine

    def refuse(root, path, data, expected):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(engine, "write_within", refuse)
    root = tree({"requirements.txt": "asgiref 3.5.2\n"})
    result = run_cli("fix", str(root), "--format", "json")
    data = result.json()
    assert result.exit_code == 2
    assert data["fixed"] == 0 and data["changed_files"] == []
    assert data["errors"] == [{"path": f"{root.as_posix()}/requirements.txt",
                               "message": "cannot write file: Permission denied"}]
    assert (root / "requirements.txt").read_text() == "asgiref 3.5.2\n"
    # The report describes the file as it still is: its finding remains.
    assert [(f["code"], f["line"]) for f in data["findings"]] == [("AFX101", 1)]


@pytest.mark.parametrize("encoding, mark", [("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff")])
def test_utf16_requirements_file_is_read_and_fixed_in_its_encoding(tree, encoding, mark):
    # What Windows PowerShell's `pip freeze > requirements.txt` writes; pip reads it.
    root = tree({"requirements.txt": mark + "Django==4.2.7\r\nasgiref 3.7.2  # pinned\r\n".encode(encoding)})
    data = run_cli("check", str(root), "--select", "AFX101", "--format", "json").json()
    assert [(f["line"], f["column"], f["end_column"]) for f in data["findings"]] == [(2, 1, 14)]
    assert run_cli("fix", str(root), "--select", "AFX101").exit_code == 0
    assert (root / "requirements.txt").read_bytes() == mark + "Django==4.2.7\r\nasgiref==3.7.2  # pinned\r\n".encode(encoding)


def test_utf16_toml_is_an_error_as_for_the_tools_that_read_it(tree):
    root = tree({"pyproject.toml": b"\xff\xfe" + '[project]\nname = "x"\n'.encode("utf-16-le")})
    result = run_cli("check", str(root), "--format", "json")
    assert result.exit_code == 2
    [error] = result.json()["errors"]
    assert error["message"].startswith("cannot decode file:")


def test_a_directory_that_cannot_be_listed_is_an_error_and_the_walk_goes_on(tree, monkeypatch):
    from asgifix import discovery

    root = tree({"requirements.txt": "asgiref 3.5.2\n", "locked/requirements.txt": "x==1\n"})
    real_scandir = os.scandir

    def scandir(path):
        if os.path.basename(os.fspath(path)) == "locked":
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(discovery.os, "scandir", scandir)
    result = run_cli("check", ".", "--format", "json", cwd=root)
    data = result.json()
    assert result.exit_code == 2
    assert data["errors"] == [{"path": "locked", "message": "cannot list directory: Permission denied"}]
    assert [f["path"] for f in data["findings"]] == ["requirements.txt"]


@pytest.mark.parametrize("value, line, what", [
    ('dependencies = "Django==4.2"', 4, "must be an array of requirement strings, not a string"),
    ('dependencies = [\n  "Django==4.2",\n  3,\n]', 6, "must hold requirement strings, not a scalar"),
    ('[project.optional-dependencies]\nws = "channels"', 5, "`project.optional-dependencies.ws` must be an array"),
])
def test_a_mistyped_dependency_list_is_a_one_line_error_at_its_line(tree, value, line, what):
    root = tree({"pyproject.toml": f'[project]\nname = "x"\nversion = "1"\n{value}\n'})
    result = run_cli("check", str(root), "--format", "json")
    (error,) = result.json()["errors"]
    assert error["line"] == line and what in error["message"]
    assert result.exit_code == 1  # reported like a file that does not parse; the run goes on
