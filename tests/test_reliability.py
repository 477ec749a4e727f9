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


# -- B9: TOML (or JSON) nested hundreds deep is one file's error; the run goes on ------------

@pytest.mark.parametrize("name", ["vendor/poetry.lock", "pyproject.toml", "Pipfile", "Pipfile.lock"])
def test_b09_deeply_nested_file_is_a_one_line_error(tree, name):
    deep = "[" * 600 + "]" * 600
    # (json's decoder goes deeper than tomllib before Python's recursion limit stops it)
    content = '{"a": ' * 100_000 + "1" + "}" * 100_000 if name == "Pipfile.lock" else f"x = {deep}\n"
    root = tree({"requirements.txt": "asgiref 3.5.2\n", name: content})
    result = run_cli("check", str(root), "--no-color")
    assert "internal error" not in result.stderr
    assert result.exit_code == 1  # the run reports requirements.txt's finding and the error
    assert "AFX101" in result.stdout
    assert f"{name}: invalid " in result.stdout and "nested too deeply" in result.stdout
    assert run_cli("fix", str(root), "-q").exit_code == 1
    assert (root / "requirements.txt").read_text() != "asgiref 3.5.2\n"


def test_b09_deeply_nested_config_is_a_configuration_error(tree):
    root = tree({"requirements.txt": "asgiref==3.7.2\n", "cfg.toml": "x = " + "[" * 600 + "]" * 600 + "\n"})
    result = run_cli("check", "--config", str(root / "cfg.toml"), str(root))
    assert result.exit_code == 2
    assert "internal error" not in result.stderr
    assert "nested too deeply" in result.stderr


# -- B11: --config on a FIFO or a device is refused, never read forever ---------------------

@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_b11_config_fifo_is_refused_without_blocking(tree):
    root = tree({"requirements.txt": "asgiref 3.5.2\n"})
    os.mkfifo(root / "cfg.toml")
    # In a subprocess, so that a regression blocks that process (the test's timeout), not pytest.
    result = run_subprocess("check", "--config", str(root / "cfg.toml"), str(root))
    assert result.exit_code == 2
    assert "not a regular file" in result.stderr


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_b11_config_device_is_refused(tree):
    root = tree({"requirements.txt": "asgiref 3.5.2\n"})
    result = run_cli("check", "--config", "/dev/zero", str(root))
    assert result.exit_code == 2
    assert "not a regular file" in result.stderr


def test_b11_config_bigger_than_the_cap_is_refused(tree):
    from asgifix.config import MAX_CONFIG_BYTES

    root = tree({"requirements.txt": "asgiref 3.5.2\n", "cfg.toml": "# x\n" * (MAX_CONFIG_BYTES // 4 + 1)})
    result = run_cli("check", "--config", str(root / "cfg.toml"), str(root))
    assert result.exit_code == 2
    assert "too big" in result.stderr


# -- B19: an empty --select is a usage error, not "All checks passed (0 files checked)" ------

@pytest.mark.parametrize("value", ["", " ", ","])
def test_b19_empty_select_is_a_usage_error(tree, value):
    root = tree({"requirements.txt": "asgiref 3.5.2\n"})
    result = run_cli("check", str(root), "--select", value)
    assert result.exit_code == 2
    assert "--select needs at least one rule code" in result.stderr
    assert "All checks passed" not in result.stdout


# -- B15, B16, B18: encodings and line endings as the consuming tool sees them ---------------

def test_b15_cr_only_file_gets_cr_in_inserted_lines(tree):
    root = tree({"requirements.txt": b"Django==4.2.7\rasgiref==3.7.2\r",
                 "app/settings.py": 'INSTALLED_APPS = ["channels"]\n'})
    assert run_cli("fix", str(root), "-q").exit_code in (0, 1)
    data = (root / "requirements.txt").read_bytes()
    assert data.startswith(b"Django==4.2.7\rasgiref==3.7.2\r")
    assert len(data) > len(b"Django==4.2.7\rasgiref==3.7.2\r")  # a line was inserted
    assert b"\n" not in data


def test_b16_utf8_sig_cookie_never_adds_a_bom(tree):
    root = tree({"requirements.txt": "# -*- coding: utf-8-sig -*-\nasgiref 3.5.2\n"})
    run_cli("fix", str(root), "-q")
    data = (root / "requirements.txt").read_bytes()
    assert data.startswith(b"# -*- coding: utf-8-sig -*-\nasgiref==")


def test_b16_utf7_file_is_not_re_encoded_outside_the_edit(tree):
    before = b"# -*- coding: utf-7 -*-\ndjango+AD0APQ-4.2.7\nasgiref 3.5.2\n"
    root = tree({"requirements.txt": before})
    result = run_cli("fix", str(root), "--no-color")
    after = (root / "requirements.txt").read_bytes()
    # Either untouched, with a reason, or changed only on the edited line.
    assert after.split(b"\n")[:2] == before.split(b"\n")[:2]
    if after == before:
        assert "cannot be written back without changing other bytes" in result.stdout


def test_b18_utf32_le_bom_is_read_as_pip_reads_it(tree):
    root = tree({"requirements.txt": "asgiref==3.7.2\nDjango==4.2.7\n".encode("utf-32-le")})
    (root / "requirements.txt").write_bytes(b"\xff\xfe\x00\x00" + (root / "requirements.txt").read_bytes())
    result = run_cli("check", str(root), "--no-color")
    assert "All checks passed" not in result.stdout
    assert result.exit_code == 2
    assert "pip reads as UTF-16" in result.stdout


def test_b18_utf32_be_and_utf16_boms_still_read(tree):
    text = "asgiref 3.5.2\n"
    for encoding, mark in (("utf-32-be", b"\x00\x00\xfe\xff"), ("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff")):
        root = tree({f"{encoding}/requirements.txt": mark + text.encode(encoding)})
        result = run_cli("fix", str(root / encoding), "-q")
        assert result.exit_code == 0, (encoding, result.stdout)
        assert (root / encoding / "requirements.txt").read_bytes() == mark + "asgiref==3.5.2\n".encode(encoding)
