"""The real pre-commit runs both hooks of .pre-commit-hooks.yaml (`pre-commit try-repo`) in scratch repositories.

Network: pre-commit is installed from the package index into a scratch virtualenv, and it
builds the hooks' environment (asgifix and its dependencies) from the index too. Run with
``pytest -m network tests/test_pre_commit.py``. The same behaviours are checked offline in
tests/test_named_files.py by calling the CLI with the file lists pre-commit passes.
"""

from __future__ import annotations

import os
import re
import subprocess
import venv
from pathlib import Path

import pytest

from .conftest import REPO

pytestmark = pytest.mark.network

PYPROJECT = '[project]\nname = "demo"\nversion = "0.1"\ndependencies = ["Django==4.2.7"]\n'


@pytest.fixture(scope="module")
def pre_commit(tmp_path_factory):
    """A function running the real pre-commit (installed here from the index) with a shared cache."""
    base = tmp_path_factory.mktemp("pre-commit")
    environment = base / "venv"
    venv.create(environment, with_pip=True)
    python = environment / ("Scripts" if os.name == "nt" else "bin") / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", "pre-commit"], check=True)
    env = dict(os.environ, PRE_COMMIT_HOME=str(base / "cache"), PRE_COMMIT_COLOR="never",
               GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@example.com")
    env.pop("PYTHONPATH", None)

    def run(*args, cwd):
        return subprocess.run([str(python), "-m", "pre_commit", *args], cwd=cwd, env=env,
                              capture_output=True, text=True)

    run.env = env
    run.hooks = _snapshot(REPO, base / "asgifix", env)
    return run


def _snapshot(source: Path, target: Path, env) -> Path:
    """This checkout as it is on disk (untracked files too, ignored ones not), committed in a fresh
    repository: what try-repo installs (it would take only the committed and staged state)."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=source,
                            capture_output=True, check=True).stdout.decode().split("\0")
    import shutil

    for name in filter(None, listed):
        if (source / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / name, target / name)
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "snapshot"]):
        subprocess.run(["git", *args], cwd=target, env=env, check=True, capture_output=True)
    return target


def _repository(root: Path, committed: dict, staged: dict, env) -> Path:
    root.mkdir()

    def git(*args):
        subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)

    git("init", "-q")
    for files in (committed, staged):
        for name, text in files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        git("add", "-A")
        if files is committed:
            git("commit", "-q", "-m", "base")
    return root


def _try(pre_commit, root: Path, hook: str, *extra):
    return pre_commit("try-repo", str(pre_commit.hooks), hook, "--verbose", *extra, cwd=root)


def test_a_cross_file_conflict_fails_the_commit(pre_commit, tmp_path):
    root = _repository(tmp_path / "r", {"pyproject.toml": PYPROJECT}, {"requirements-dev.txt": "asgiref==3.5.2\n"},
                       pre_commit.env)
    result = _try(pre_commit, root, "asgifix")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "requirements-dev.txt:1:1: AFX301" in result.stdout


def test_a_staged_module_using_a_missing_asgiref_name_fails(pre_commit, tmp_path):
    root = _repository(tmp_path / "r", {"requirements.txt": "Django==3.2.25\nasgiref==3.5.2\n"},
                       {"app/mod.py": "from asgiref.sync import iscoroutinefunction\n"}, pre_commit.env)
    result = _try(pre_commit, root, "asgifix")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "app/mod.py:1:1: AFX201" in result.stdout


def test_a_clean_repository_with_yaml_and_markdown_passes(pre_commit, tmp_path):
    root = _repository(tmp_path / "r", {"requirements.txt": "Django==4.2.7\n"}, {
        "requirements.txt": "Django==4.2.7\nasgiref==3.7.2\n",
        ".pre-commit-config.yaml": "repos: []\n", "ci.yml": "jobs: {}\n", "README.md": "# demo\n",
        ".github/workflows/ci.yml": "on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n"
                                    "      - run: pip install -r requirements.txt\n",
    }, pre_commit.env)
    for extra in ((), ("--all-files",)):
        result = _try(pre_commit, root, "asgifix", *extra)
        assert result.returncode == 0, result.stdout + result.stderr
        assert re.search(r"asgifix\.+Passed", result.stdout), result.stdout
        assert "AFX101" not in result.stdout


def test_the_fix_hook_rewrites_a_malformed_pin(pre_commit, tmp_path):
    root = _repository(tmp_path / "r", {"requirements.txt": "Django==4.2.7\n"},
                       {"requirements.txt": "Django==4.2.7\nasgiref 3.7.2\n"}, pre_commit.env)
    result = _try(pre_commit, root, "asgifix-fix")
    assert result.returncode == 1, result.stdout + result.stderr  # pre-commit fails when a hook rewrites files
    assert "files were modified by this hook" in result.stdout
    assert (root / "requirements.txt").read_text() == "Django==4.2.7\nasgiref==3.7.2\n"
    subprocess.run(["git", "add", "-A"], cwd=root, check=True, env=pre_commit.env)
    again = _try(pre_commit, root, "asgifix-fix")
    assert again.returncode == 0, again.stdout


def _snippets(path: Path) -> list[str]:
    blocks = re.findall(r"```yaml\n(.*?)```", path.read_text(encoding="utf-8"), re.DOTALL)
    return [block for block in blocks if block.startswith("# .pre-commit-config.yaml")]


@pytest.mark.parametrize("document", ["README.md", "docs/pre-commit.md"])
def test_the_documented_configuration_validates(pre_commit, tmp_path, document):
    (snippet,) = _snippets(REPO / document)
    config = tmp_path / ".pre-commit-config.yaml"
    config.write_text(snippet)
    result = pre_commit("validate-config", str(config), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    hooks = pre_commit("validate-manifest", str(REPO / ".pre-commit-hooks.yaml"), cwd=tmp_path)
    assert hooks.returncode == 0, hooks.stdout + hooks.stderr

