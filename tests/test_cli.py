"""The command line: exit codes, options, formats, configuration errors, suppression."""

from __future__ import annotations

import json
import os
import stat

import pytest

from asgifix import __version__

from .conftest import FIXTURES, REPO, run_cli, run_subprocess

BROKEN = "Django==4.1.13\nasgiref 3.5.2\n"


def test_check_reports_malformed_pin_with_position(tree):
    root = tree({"requirements.txt": BROKEN})
    result = run_cli("check", str(root / "requirements.txt"), "--no-color")
    assert result.exit_code == 1
    location = f"{root / 'requirements.txt'}:2:1: AFX101"
    assert location in result.stdout
    assert "asgiref 3.5.2" in result.stdout
    assert "Rewrite as `asgiref==3.5.2`" in result.stdout
    assert "Found 1 finding." in result.stdout


def test_clean_project_exits_zero(tree):
    root = tree({"requirements.txt": "Django==4.1.13\nasgiref==3.7.2\n"})
    result = run_cli("check", str(root))
    assert result.exit_code == 0, result.stdout
    assert "All checks passed" in result.stdout


def test_exit_zero_reports_but_succeeds(tree):
    root = tree({"requirements.txt": BROKEN})
    result = run_cli("check", str(root), "--exit-zero")
    assert result.exit_code == 0
    assert "AFX101" in result.stdout


def test_paths_are_given_path_joined_with_relative_path(tree):
    root = tree({"reqs/requirements.txt": BROKEN, "requirements/base.txt": BROKEN})
    result = run_cli("check", ".", "--format", "json", cwd=root)
    paths = sorted(f["path"] for f in result.json()["findings"])
    assert paths == ["reqs/requirements.txt", "requirements/base.txt"]
    result = run_cli("check", "reqs", "--format", "json", cwd=root)
    assert [f["path"] for f in result.json()["findings"]] == ["reqs/requirements.txt"]


def test_json_contract(tree):
    root = tree({"requirements.txt": BROKEN})
    result = run_cli("check", "requirements.txt", "--format", "json", cwd=root)
    data = result.json()
    assert set(data) == {"asgifix_version", "findings", "errors"}
    assert data["asgifix_version"] == __version__
    assert data["errors"] == []
    (finding,) = data["findings"]
    assert finding == {
        "code": "AFX101",
        "severity": "error",
        "message": finding["message"],
        "path": "requirements.txt",
        "line": 2,
        "column": 1,
        "end_line": 2,
        "end_column": 14,
        "fix": {
            "applicability": "safe",
            "message": "Rewrite as `asgiref==3.5.2`",
            "edits": [
                {"path": "requirements.txt", "line": 2, "column": 1, "end_line": 2, "end_column": 14,
                 "content": "asgiref==3.5.2"}
            ],
        },
        "hint": "Rewrite as `asgiref==3.5.2`",
        "environments": [],
        "notes": finding["notes"],
    }
    assert "asgiref 3.5.2" in finding["message"]
    assert all(isinstance(note, str) and note for note in finding["notes"])


def test_sarif_output(tree):
    root = tree({"requirements.txt": BROKEN})
    result = run_cli("check", "requirements.txt", "--format", "sarif", cwd=root)
    assert result.exit_code == 1
    sarif = result.json()
    assert sarif["version"] == "2.1.0"
    run = sarif["runs"][0]
    rule_ids = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    assert "AFX101" in rule_ids
    (sarif_result,) = run["results"]
    assert sarif_result["ruleId"] == "AFX101"
    assert rule_ids[sarif_result["ruleIndex"]] == "AFX101"
    assert sarif_result["level"] == "error"
    location = sarif_result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "requirements.txt"
    assert location["region"] == {"startLine": 2, "startColumn": 1, "endLine": 2, "endColumn": 14}
    replacement = sarif_result["fixes"][0]["artifactChanges"][0]["replacements"][0]
    assert replacement["insertedContent"]["text"] == "asgiref==3.5.2"
    assert run["invocations"][0]["executionSuccessful"] is True


def test_github_annotations(tree):
    root = tree({"requirements.txt": BROKEN})
    result = run_cli("check", "requirements.txt", "--format", "github", cwd=root)
    (line,) = result.stdout.splitlines()
    assert line.startswith("::error file=requirements.txt,line=2,col=1,endLine=2,endColumn=14,title=AFX101::")
    assert "asgiref 3.5.2" in line


def test_github_escapes_newlines_and_percent():
    from asgifix.reporters.github import _escape_data, _escape_property

    assert _escape_data("50%\nnext") == "50%25%0Anext"
    assert _escape_property("a:b,c") == "a%3Ab%2Cc"


def test_fix_rewrites_and_second_run_changes_nothing(tree):
    root = tree({"requirements.txt": "# pins\r\nDjango==4.1.13\r\nasgiref 3.5.2  # keep\r\n"})
    target = root / "requirements.txt"
    result = run_cli("fix", str(root))
    assert result.exit_code == 0, result.stdout
    assert "Fixed 1 finding in 1 file." in result.stdout
    assert target.read_bytes() == b"# pins\r\nDjango==4.1.13\r\nasgiref==3.5.2  # keep\r\n"
    again = run_cli("fix", str(root))
    assert again.exit_code == 0
    assert "Fixed 0 findings in 0 files." in again.stdout
    assert target.read_bytes() == b"# pins\r\nDjango==4.1.13\r\nasgiref==3.5.2  # keep\r\n"


def test_fix_keeps_file_mode(tree):
    root = tree({"requirements.txt": BROKEN})
    target = root / "requirements.txt"
    os.chmod(target, 0o640)
    run_cli("fix", str(root))
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o640
    assert target.read_text() == "Django==4.1.13\nasgiref==3.5.2\n"
    assert [p.name for p in root.iterdir()] == ["requirements.txt"], "temporary files left behind"


def test_fix_exit_one_when_unfixable_findings_remain(tree):
    root = tree({"requirements.txt": "asgiref 3.5.2\ndjango 3.x\n"})
    result = run_cli("fix", str(root), "--no-color")
    assert result.exit_code == 1
    assert (root / "requirements.txt").read_text() == "asgiref==3.5.2\ndjango 3.x\n"
    assert "django 3.x" in result.stdout
    assert "Found 1 finding remaining." in result.stdout


def test_fix_diff_writes_nothing(tree):
    root = tree({"requirements.txt": BROKEN})
    result = run_cli("fix", "--diff", ".", cwd=root)
    assert result.exit_code == 1
    assert result.stdout == (
        "--- a/requirements.txt\n+++ b/requirements.txt\n@@ -1,2 +1,2 @@\n Django==4.1.13\n"
        "-asgiref 3.5.2\n+asgiref==3.5.2\n"
    )
    assert (root / "requirements.txt").read_text() == BROKEN


def test_fix_diff_exit_zero_when_nothing_to_do(tree):
    root = tree({"requirements.txt": "asgiref==3.5.2\n"})
    result = run_cli("fix", "--diff", str(root))
    assert result.exit_code == 0
    assert result.stdout == ""


def test_fix_json_reports_fixed_count(tree):
    root = tree({"requirements.txt": BROKEN})
    data = run_cli("fix", ".", "--format", "json", cwd=root).json()
    assert data["fixed"] == 1
    assert data["changed_files"] == ["requirements.txt"]
    assert data["findings"] == []


def test_select_and_ignore(tree):
    root = tree({"requirements.txt": BROKEN})
    assert run_cli("check", str(root), "--ignore", "AFX101").exit_code == 0
    assert run_cli("check", str(root), "--ignore", "AFX1").exit_code == 0
    assert run_cli("check", str(root), "--select", "AFX2").exit_code == 0
    assert run_cli("check", str(root), "--select", "AFX1").exit_code == 1
    assert run_cli("check", str(root), "--ignore", "AFX1", "--select", "AFX101").exit_code == 1


def test_unknown_code_is_usage_error(tree):
    root = tree({"requirements.txt": BROKEN})
    result = run_cli("check", str(root), "--select", "E501")
    assert result.exit_code == 2
    assert "unknown rule code" in result.stderr


def test_statistics(tree):
    root = tree({"requirements.txt": BROKEN + "asgiref=3.5.2\ndjango 3.x\n"})
    result = run_cli("check", str(root), "--statistics", "--no-color")
    assert result.exit_code == 1
    assert "3  AFX101 [*] malformed-requirement" in result.stdout
    assert "Found 3 findings." in result.stdout
    data = run_cli("check", str(root), "--statistics", "--format", "json").json()
    assert data["statistics"] == [{"code": "AFX101", "name": "malformed-requirement", "count": 3, "fixable": 2}]


def test_quiet_prints_the_findings_only_and_silent_nothing(tree):
    root = tree({"requirements.txt": BROKEN})
    result = run_cli("check", "requirements.txt", "-q", cwd=root)
    assert result.exit_code == 1
    assert result.stdout.startswith("requirements.txt:2:1: AFX101 [*] ")
    assert "Found" not in result.stdout and "fixable" not in result.stdout
    silent = run_cli("check", "requirements.txt", "-s", cwd=root)
    assert (silent.exit_code, silent.stdout, silent.stderr) == (1, "", "")
    clean = tree({"requirements.txt": "Django==4.2.7\n"})
    assert run_cli("check", str(clean), "-q").stdout == ""


def test_missing_path_is_error(tmp_path):
    result = run_cli("check", str(tmp_path / "nope"))
    assert result.exit_code == 2
    assert result.stderr.strip() == f"asgifix: error: {tmp_path / 'nope'}: no such file or directory"


def test_invalid_target_asgiref(tree):
    root = tree({"requirements.txt": BROKEN})
    result = run_cli("check", str(root), "--target-asgiref", "three")
    assert result.exit_code == 2
    assert "'three' is not a valid version" in result.stderr


def test_target_asgiref_accepted(tree):
    root = tree({"requirements.txt": BROKEN})
    assert run_cli("check", str(root), "--target-asgiref", "3.13.0").exit_code == 1


# -- configuration -------------------------------------------------------------------

def test_config_unknown_key_names_file_and_line(tree):
    root = tree({
        "pyproject.toml": "[project]\nname = 'x'\n\n[tool.asgifix]\nselect = ['AFX1']\nignored = ['AFX101']\n",
        "requirements.txt": BROKEN,
    })
    result = run_cli("check", str(root))
    assert result.exit_code == 2
    message = result.stderr.strip()
    assert message.startswith(f"asgifix: error: {root / 'pyproject.toml'}:6: [tool.asgifix] unknown key 'ignored'")
    assert len(message.splitlines()) == 1


@pytest.mark.parametrize(
    "body, expected",
    [
        ("select = 'AFX1,'", "unknown rule code 'AFX1,'"),
        ("exclude = 3", "exclude must be a list of glob patterns"),
        ("target-asgiref = 'banana'", "target-asgiref: 'banana' is not a valid version"),
        ("pin-strategy = 'oldest'", "pin-strategy must be one of newest, unpin"),
        ("per-file-ignores = ['a']", "per-file-ignores must be a table"),
        ("select = [", "invalid TOML"),
    ],
)
def test_config_bad_values(tree, body, expected):
    root = tree({"pyproject.toml": f"[tool.asgifix]\n{body}\n", "requirements.txt": BROKEN})
    result = run_cli("check", str(root))
    assert result.exit_code == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_config_select_ignore_and_exclude(tree):
    root = tree({
        "pyproject.toml": "[tool.asgifix]\nextend-exclude = ['legacy']\n",
        "requirements.txt": "asgiref==3.5.2\n",
        "legacy/requirements.txt": BROKEN,
    })
    assert run_cli("check", str(root)).exit_code == 0
    # An excluded file named explicitly is still checked.
    assert run_cli("check", str(root / "legacy" / "requirements.txt")).exit_code == 1


def test_config_ignore(tree):
    root = tree({"pyproject.toml": "[tool.asgifix]\nignore = ['AFX101']\n", "requirements.txt": BROKEN})
    assert run_cli("check", str(root)).exit_code == 0


def test_per_file_ignores(tree):
    root = tree({
        "pyproject.toml": "[tool.asgifix.per-file-ignores]\n'requirements/*.txt' = ['AFX101']\n",
        "requirements/base.txt": BROKEN,
        "requirements.txt": BROKEN,
    })
    data = run_cli("check", ".", "--format", "json", cwd=root).json()
    assert [f["path"] for f in data["findings"]] == ["requirements.txt"]


def test_explicit_config_file(tree):
    root = tree({"custom.toml": "ignore = ['AFX101']\n", "requirements.txt": BROKEN})
    assert run_cli("check", str(root), "--config", str(root / "custom.toml")).exit_code == 0
    missing = run_cli("check", str(root), "--config", str(root / "absent.toml"))
    assert missing.exit_code == 2
    assert "configuration file not found" in missing.stderr


# -- suppression ---------------------------------------------------------------------

@pytest.mark.parametrize("comment", ["# noqa", "# noqa: AFX101", "#noqa:AFX102,AFX101", "# NOQA: afx101"])
def test_noqa_suppresses(tree, comment):
    root = tree({"requirements.txt": f"asgiref 3.5.2  {comment}\n"})
    assert run_cli("check", str(root)).exit_code == 0


def test_noqa_for_other_code_does_not_suppress(tree):
    root = tree({"requirements.txt": "asgiref 3.5.2  # noqa: AFX301\n"})
    assert run_cli("check", str(root)).exit_code == 1


# -- unreadable input ----------------------------------------------------------------

def test_undecodable_file_is_reported_and_run_goes_on(tree):
    root = tree({
        "a/requirements.txt": b"Django==4.2\ncaf\xe9==1.0\n",
        "b/requirements.txt": BROKEN,
    })
    result = run_cli("check", ".", "--format", "json", cwd=root)
    assert result.exit_code == 2
    data = result.json()
    assert data["errors"] == [{
        "path": "a/requirements.txt",
        "message": "cannot decode file: byte 0xe9 is not valid utf-8 "
                   "(declare the encoding or re-save the file as UTF-8)",
        "line": 2,
    }]
    assert [f["path"] for f in data["findings"]] == ["b/requirements.txt"]
    text = run_cli("check", ".", "--no-color", cwd=root)
    assert "error: a/requirements.txt:2: cannot decode file" in text.stdout


def test_latin1_file_with_coding_cookie_is_fixed_in_its_encoding(tree):
    content = "# -*- coding: latin-1 -*-\n# caf\xe9\nasgiref 3.5.2\n".encode("latin-1")
    root = tree({"requirements.txt": content})
    assert run_cli("fix", str(root)).exit_code == 0
    assert (root / "requirements.txt").read_bytes() == content.replace(b"asgiref 3.5.2", b"asgiref==3.5.2")


def test_unparsable_python_is_reported_not_fatal(tree):
    from asgifix.engine import Engine
    from asgifix.catalogue import load_catalogue
    from asgifix.config import Settings

    root = tree({"app.py": "from asgiref.sync import (\n", "unrelated.py": "def broken(:\n"})
    report, _, _ = Engine(Settings(), load_catalogue()).run([str(root)])
    # unrelated.py never mentions asgiref: the prefilter skips it without parsing.
    (error,) = report.errors
    assert error.path.endswith("app.py")
    assert error.line == 1 and not error.fatal
    assert error.message.startswith("cannot parse")


# -- rules and explain ---------------------------------------------------------------

def test_rules_lists_catalogue():
    result = run_cli("rules")
    assert result.exit_code == 0
    assert "AFX101  [*]  malformed-requirement" in result.stdout
    data = json.loads(run_cli("rules", "--format", "json").stdout)
    assert {"code", "name", "summary", "severity", "fix", "explanation"} <= set(data[0])


def test_explain_prints_documentation_and_examples():
    result = run_cli("explain", "afx101")
    assert result.exit_code == 0
    for text in ("# AFX101 (malformed-requirement)", "## Why it breaks", "After `asgifix fix`:",
                 "asgiref==3.5.2", "(no automatic fix)"):
        assert text in result.stdout


def test_explain_unknown_code():
    result = run_cli("explain", "AFX999")
    assert result.exit_code == 2
    assert "unknown rule code 'AFX999'" in result.stderr


# -- real processes ------------------------------------------------------------------

def test_subprocess_version_and_check(tree):
    version = run_subprocess("--version")
    assert version.exit_code == 0 and __version__ in version.stdout
    root = tree({"requirements.txt": BROKEN})
    result = run_subprocess("check", str(root), "--format", "json")
    assert result.exit_code == 1
    assert result.json()["findings"][0]["code"] == "AFX101"
    assert result.stderr == ""


def test_subprocess_output_has_no_color_when_piped(tree):
    root = tree({"requirements.txt": BROKEN})
    result = run_subprocess("check", str(root))
    assert "\x1b[" not in result.stdout
    forced = run_subprocess("check", str(root), env={"FORCE_COLOR": "1"})
    assert "\x1b[" in forced.stdout
    no_color = run_subprocess("check", str(root), env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert "\x1b[" not in no_color.stdout


def test_fixture_project_reports_seed_breakages():
    result = run_subprocess("check", "fixtures/legacy-chat", "--format", "json", cwd=REPO)
    assert result.exit_code == 1
    codes = {(f["code"], f["path"]) for f in result.json()["findings"]}
    assert ("AFX101", "fixtures/legacy-chat/requirements-dev.txt") in codes
    assert (FIXTURES / "legacy-chat" / "requirements-dev.txt").read_text().endswith("asgiref 3.5.2\n")


PROSE = """=========================
Constraints reference
=========================

.. module:: django.db.models.constraints

The classes defined in this module create database constraints. They are added
in the model :attr:`Meta.constraints <django.db.models.Options.constraints>`
option.
"""


def test_prose_named_like_requirements_is_not_checked(tree):
    root = tree({"docs/ref/constraints.txt": PROSE,
                 "requirements.txt": "django 3.2\nasgiref 3.5.2\nchannels 3.0\ndaphne 3.0\n"})
    data = run_cli("check", ".", "--format", "json", cwd=root).json()
    # Typos in a real requirements file are still reported, however many there are.
    assert {f["path"] for f in data["findings"]} == {"requirements.txt"}
    assert len(data["findings"]) == 4
    # Named on the command line, the prose file is read as requested.
    assert run_cli("check", str(root / "docs/ref/constraints.txt")).exit_code == 1


def test_a_closed_pipe_is_no_internal_error(tmp_path):
    # `asgifix check | head -1`: the reader leaves early (the output is larger than a pipe holds);
    # no "internal error", no traceback.
    import subprocess
    import sys

    (tmp_path / "requirements.txt").write_text("".join(f"asgiref {3 + i % 2}.5.{i}\n" for i in range(600)))
    process = subprocess.Popen([sys.executable, "-m", "asgifix", "check", "--no-color", str(tmp_path)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.readline()
    process.stdout.close()
    _, err = process.communicate(timeout=300)
    assert b"internal error" not in err and b"Traceback" not in err
    assert process.returncode == 1


def test_the_process_leaves_without_teardown_and_loses_no_output(tmp_path):
    # cli.run ends the process with os._exit once main returns (no interpreter teardown): what the
    # run printed (a report larger than any buffer) and its exit code arrive whole.
    (tmp_path / "requirements.txt").write_text("".join(f"asgiref {3 + i % 2}.5.{i}\n" for i in range(400)))
    result = run_subprocess("check", "--format", "json", "--no-cache", str(tmp_path))
    assert result.exit_code == 1
    assert len(json.loads(result.stdout)["findings"]) == 400
    (tmp_path / "clean").mkdir()
    (tmp_path / "clean" / "requirements.txt").write_text("asgiref==3.8.1\n")
    clean = run_subprocess("check", "--no-cache", str(tmp_path / "clean"))
    assert clean.exit_code == 0 and "All checks passed" in clean.stdout
    # and it did leave early: an atexit handler (which a normal exit would run) never runs
    code = ("import atexit, sys; atexit.register(lambda: print('TEARDOWN', file=sys.stderr));"
            f"sys.argv = ['asgifix', 'check', '--no-cache', {str(tmp_path / 'requirements.txt')!r}];"
            "from asgifix.cli import run; run()")
    import subprocess
    import sys

    process = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert process.returncode == 1 and "TEARDOWN" not in process.stderr and "AFX" in process.stdout


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux)")
def test_an_unwritable_output_is_one_line_and_no_internal_error():
    import subprocess
    import sys

    with open("/dev/full", "w") as full:
        process = subprocess.run([sys.executable, "-m", "asgifix", "check", "--no-color", "--no-cache",
                                  str(FIXTURES / "legacy-chat")], stdout=full, stderr=subprocess.PIPE,
                                 text=True, cwd=REPO, timeout=300)
    assert process.returncode == 2
    assert process.stderr.strip() == "asgifix: error: cannot write the output: No space left on device"
