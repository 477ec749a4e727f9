"""Reliability and security (issue 16): each test is one reproducer of ../shared/reliability, B1-B20.

Each failed before its fix. Tests that need signals, symlink swaps or races carry the
``reliability`` marker (run them with ``-m reliability``; they are in .ci/run too).
"""

from __future__ import annotations

import json
import os
import sys

import pytest

from .conftest import run_cli, run_subprocess

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file names and permissions")


# -- B4: control characters from the repository never reach a terminal or CI log raw ---------

def _injection_tree(tree):
    root = tree({
        "pyproject.toml": '[project]\nname = "x"\nversion = "1"\ndependencies = '
                          '["asgiref 3.5.2\\n::error file=README.md,line=1,title=forged::pwned\\n::add-mask::x"]\n',
        "requirements-esc.txt": "asgiref 3.5.2 \x1b]0;pwned-title\x07\x1b[2J\n",
    })
    evil = root / "x\n::warning file=setup.py,line=1::forged via path\nsub"
    evil.mkdir()
    (evil / "requirements.txt").write_text("asgiref 3.5.2\n")
    return root


@posix_only
@pytest.mark.parametrize("output_format", ["text", "github"])
def test_b04_no_forged_workflow_command_or_escape_in_human_formats(tree, output_format):
    root = _injection_tree(tree)
    result = run_cli("check", str(root), "--format", output_format, "--no-color")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines
    forged = [line for line in lines if line.startswith("::") and ("forged" in line or "add-mask" in line)
              and not line.startswith(("::error file=", "::warning file=", "::notice file="))]
    assert forged == []
    if output_format == "text":
        assert not any(line.startswith("::") for line in lines)
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert "\\x1b]0;pwned-title\\x07" in result.stdout  # shown, escaped


@posix_only
def test_b04_diff_headers_escape_the_path(tree):
    root = _injection_tree(tree)
    result = run_cli("fix", "--diff", str(root))
    headers = [line for line in result.stdout.splitlines() if line.startswith(("--- ", "+++ "))]
    assert any("::warning file=setup.py" in line and "\\n" in line for line in headers)
    assert not any(line.startswith("::") for line in result.stdout.splitlines())


# -- B10: a non-UTF-8 file name never crashes a format --------------------------------------

@pytest.mark.skipif(sys.platform != "linux", reason="file names are bytes on Linux")
@pytest.mark.parametrize("output_format", ["text", "json", "sarif", "github"])
def test_b10_non_utf8_file_name_every_format_on_strict_utf8_stdout(tmp_path, output_format):
    with open(os.path.join(os.fsencode(tmp_path), b"requirements-\xe9.txt"), "wb") as handle:
        handle.write(b"asgiref 3.5.2\n")
    result = run_subprocess("check", str(tmp_path), "--format", output_format,
                            env={"PYTHONIOENCODING": "utf-8:strict"})
    assert result.exit_code == 1, result.stderr
    assert "internal error" not in result.stderr
    if output_format == "text":
        assert "requirements-\\xe9.txt" in result.stdout
    elif output_format == "json":
        assert json.loads(result.stdout)["findings"][0]["path"].endswith("requirements-\udce9.txt")
    elif output_format == "sarif":
        uri = json.loads(result.stdout)["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
        assert uri["artifactLocation"]["uri"].endswith("requirements-%E9.txt")
