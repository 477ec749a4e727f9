"""Files named on the command line, as pre-commit passes them: the verdict is the project's.

These are the behaviours tests/test_pre_commit.py checks through the real pre-commit,
run offline by calling the CLI with the file lists pre-commit would pass.
"""

from __future__ import annotations

import subprocess
import sys

from .conftest import REPO, run_cli, write_tree

PYPROJECT = '[project]\nname = "demo"\nversion = "0.1"\ndependencies = ["Django==4.2.7"]\n'
CLEAN_WORKFLOW = ("name: ci\non: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n"
                  "      - run: pip install -e .\n")
PRE_COMMIT_CONFIG = "repos:\n  - repo: local\n    hooks: []\n"


def test_a_staged_pin_conflicting_with_a_committed_one_fails(tree):
    root = tree({"pyproject.toml": PYPROJECT, "requirements-dev.txt": "asgiref==3.5.2\n", ".git/HEAD": ""})
    result = run_cli("check", "requirements-dev.txt", "--no-color", cwd=root)
    assert result.exit_code == 1, result.stdout
    assert "requirements-dev.txt:1:1: AFX301" in result.stdout
    # The other side staged instead: the finding sits in the committed file, and concerns the staged one.
    result = run_cli("check", "pyproject.toml", "--format", "json", cwd=root)
    assert result.exit_code == 1
    assert [(f["path"], f["code"]) for f in result.json()["findings"]] == [("requirements-dev.txt", "AFX301")]


def test_a_staged_module_using_a_name_the_committed_pin_lacks_fails(tree):
    root = tree({"requirements.txt": "Django==3.2.25\nasgiref==3.5.2\n",
                 "app/mod.py": "from asgiref.sync import iscoroutinefunction\n", ".git/HEAD": ""})
    result = run_cli("check", "app/mod.py", "--format", "json", cwd=root)
    assert result.exit_code == 1
    assert [(f["path"], f["code"]) for f in result.json()["findings"]] == [("app/mod.py", "AFX201")]


def test_named_yaml_and_markdown_are_skipped_not_read_as_requirements(tree):
    root = tree({"requirements.txt": "Django==4.2.7\n", ".pre-commit-config.yaml": PRE_COMMIT_CONFIG,
                 "ci.yml": "jobs: {}\n", "README.md": "# demo\n", ".git/HEAD": ""})
    result = run_cli("check", ".pre-commit-config.yaml", "ci.yml", "README.md", "-v", "--no-color", cwd=root)
    assert result.exit_code == 0, result.stdout
    assert "AFX101" not in result.stdout
    assert "All checks passed" not in result.stdout  # nothing was checked
    assert "no files to check" in result.stderr
    for name in (".pre-commit-config.yaml", "ci.yml", "README.md"):
        assert f"{name}: skipped (not a declaration, Python or server-start file)" in result.stderr


def test_a_clean_named_file_reads_the_project_and_says_so(tree):
    root = tree({"pyproject.toml": PYPROJECT, "requirements-dev.txt": "asgiref==3.7.2\n",
                 ".github/workflows/ci.yml": CLEAN_WORKFLOW, "README.md": "# demo\n", ".git/HEAD": ""})
    result = run_cli("check", "requirements-dev.txt", ".github/workflows/ci.yml", "README.md", "--no-color",
                     "-v", cwd=root)
    assert result.exit_code == 0, result.stdout
    assert result.stdout.strip() == "All checks passed (2 named files checked; 3 files read for the project's verdict)."
    assert "environment pyproject.toml + requirements-dev.txt" in result.stderr


def test_findings_of_files_that_do_not_concern_the_named_ones_are_left_out(tree):
    root = tree({"requirements.txt": "Django==4.2.7\n", "app/mod.py": "import os\n",
                 "tools/requirements.txt": "asgiref 3.5.2\n", ".git/HEAD": ""})
    assert run_cli("check", ".", cwd=root).exit_code == 1  # the whole project has a finding
    result = run_cli("check", "app/mod.py", "requirements.txt", "--format", "json", cwd=root)
    assert result.exit_code == 0
    assert result.json()["findings"] == []
    assert run_cli("check", "tools/requirements.txt", cwd=root).exit_code == 1
    # A directory named beside a file is checked whole.
    both = run_cli("check", "tools", "app/mod.py", "--format", "json", cwd=root)
    assert [f["path"] for f in both.json()["findings"]] == ["tools/requirements.txt"]


def test_the_fix_hook_rewrites_a_malformed_named_pin_only(tree):
    root = tree({"requirements.txt": "Django==4.2.7\nasgiref 3.7.2\n", "other/requirements.txt": "asgiref 3.7.2\n",
                 ".git/HEAD": ""})
    result = run_cli("fix", "requirements.txt", "--show-fixes", "--no-color", cwd=root)
    assert result.exit_code == 0, result.stdout
    assert (root / "requirements.txt").read_text() == "Django==4.2.7\nasgiref==3.7.2\n"
    assert (root / "other/requirements.txt").read_text() == "asgiref 3.7.2\n"  # not named: untouched
    assert "Fixed 1 finding:\n- requirements.txt:\n    1 × AFX101 (malformed-requirement)" in result.stdout
    assert run_cli("fix", "requirements.txt", cwd=root).exit_code == 0  # a second run changes nothing


def test_force_exclude_applies_the_excludes_to_named_files(tree):
    root = tree({"requirements.txt": "Django==4.2.7\n", "vendor/requirements.txt": "asgiref 3.5.2\n",
                 ".git/HEAD": ""})
    assert run_cli("check", "vendor/requirements.txt", "--extend-exclude", "vendor", cwd=root).exit_code == 1
    result = run_cli("check", "vendor/requirements.txt", "--extend-exclude", "vendor", "--force-exclude", "-v",
                     cwd=root)
    assert result.exit_code == 0
    assert "vendor/requirements.txt: excluded (--force-exclude)" in result.stderr
    (root / "pyproject.toml").write_text("[tool.asgifix]\nforce-exclude = true\nextend-exclude = [\"vendor\"]\n")
    assert run_cli("check", "vendor/requirements.txt", cwd=root).exit_code == 0


def test_exclude_replaces_and_extend_exclude_adds(tree):
    root = tree({"a/requirements.txt": "asgiref 3.5.2\n", "build/requirements.txt": "asgiref 3.5.2\n"})
    paths = lambda *args: sorted({f["path"] for f in run_cli("check", ".", "--format", "json", *args,  # noqa: E731
                                                             cwd=root).json()["findings"]})
    assert paths() == ["a/requirements.txt"]  # build/ is a default exclude
    assert paths("--exclude", "a") == ["build/requirements.txt"]  # the defaults are replaced
    assert paths("--extend-exclude", "a") == []
    (root / "pyproject.toml").write_text('[tool.asgifix]\nexclude = ["a"]\n')
    assert paths() == ["build/requirements.txt"]


def test_no_files_found_is_a_warning_not_a_pass(tmp_path):
    (tmp_path / "notes.md").write_text("# nothing\n")
    result = run_cli("check", str(tmp_path), "--no-color")
    assert result.exit_code == 0
    assert "All checks passed" not in result.stdout
    assert "asgifix: warning: no files to check" in result.stderr
    assert run_cli("check", str(tmp_path), "-s").stderr == ""


def test_version_flags():
    from asgifix import __version__

    for flag in ("-V", "--version"):
        result = run_cli(flag)
        assert (result.exit_code, result.stdout) == (0, f"asgifix {__version__}\n")


def test_stdin_filename_checks_and_fixes_an_editor_buffer(tree):
    root = tree({"pyproject.toml": PYPROJECT, "requirements-dev.txt": "asgiref==3.7.2\n", ".git/HEAD": ""})

    def run(*args, text):
        return subprocess.run([sys.executable, "-m", "asgifix", *args], input=text.encode(), cwd=root,
                              capture_output=True, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})

    # The buffer, not the file on disk, is checked: it conflicts with the committed Django pin.
    checked = run("check", "--stdin-filename", "requirements-dev.txt", "-", "--no-color", text="asgiref==3.5.2\n")
    assert checked.returncode == 1, checked
    assert b"requirements-dev.txt:1:1: AFX301" in checked.stdout
    fixed = run("fix", "--stdin-filename", "requirements-dev.txt", "-", text="Django==4.2.7\nasgiref 3.7.2\n")
    assert fixed.stdout == b"Django==4.2.7\nasgiref==3.7.2\n"
    assert (root / "requirements-dev.txt").read_text() == "asgiref==3.7.2\n"  # nothing written
    new = run("check", "--stdin-filename", "app/new.py", "-", text="from asgiref.sync import sync_to_async\n")
    assert new.returncode == 0, new
    refused = run("check", "--stdin-filename", "x.txt", "requirements-dev.txt", text="")
    assert refused.returncode == 2 and b"--stdin-filename" in refused.stderr


def test_statistics_marks_unsafe_only_fixes_apart_from_safe_ones(tree):
    root = tree({"requirements.txt": "Django==4.2.7\nasgiref 3.8.1\n",
                 "app/pool.py": "from concurrent.futures import ThreadPoolExecutor\n"
                                "from asgiref.sync import sync_to_async\n\npool = ThreadPoolExecutor(4)\n"
                                "fetch_async = sync_to_async(print, executor=pool)\n"})
    result = run_cli("check", str(root), "--statistics", "--no-color")
    lines = {line.split()[1]: line for line in result.stdout.splitlines() if line.strip()[:1].isdigit()}
    assert "[*]" in lines["AFX101"]
    unsafe_only = [code for code, line in lines.items() if "[~]" in line]
    assert unsafe_only, result.stdout
    assert all("[*]" not in lines[code] for code in unsafe_only)


def test_top_level_help_lines_are_whole_sentences():
    result = run_cli("--help")
    commands = result.stdout.split("Commands:")[1].strip().splitlines()
    assert len(commands) >= 4
    for line in commands:
        assert line.rstrip().endswith("."), line
        assert "..." not in line


def test_a_named_module_no_rule_can_concern_is_checked_without_reading_the_project(tmp_path):
    # pre-commit on a commit that touches only unrelated modules: nothing to judge against the pins.
    write_tree(tmp_path, {
        "requirements.txt": "Django==4.2.7\nasgiref 3.7.2\n",  # broken, but not what was named
        "pkg/util.py": "import os\n\n\ndef here():\n    return os.getcwd()\n",
        "pkg/broken.py": "def f(:\n",
    })
    result = run_cli("check", "pkg/util.py", "--no-color", cwd=tmp_path)
    assert result.exit_code == 0, result.stdout
    assert "1 file checked" in result.stdout and "read for the project" not in result.stdout
    # a syntax error in a named module is still news
    result = run_cli("check", "pkg/broken.py", "--no-color", cwd=tmp_path)
    assert result.exit_code == 1 and "pkg/broken.py" in result.stdout + result.stderr


def test_a_named_module_that_mentions_asgiref_still_gets_the_projects_verdict(tmp_path):
    write_tree(tmp_path, {
        "requirements.txt": "Django==4.2.7\nasgiref==3.2.10\n",
        "pkg/views.py": "from asgiref.sync import ThreadSensitiveContext\n",
    })
    result = run_cli("check", "pkg/views.py", "--no-color", cwd=tmp_path)
    assert result.exit_code == 1 and "AFX201" in result.stdout, result.stdout
