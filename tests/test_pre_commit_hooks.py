""".pre-commit-hooks.yaml: its `files` pattern passes exactly what asgifix reads by name."""

from __future__ import annotations

import posixpath
import re

import pytest
import yaml

from asgifix.discovery import classify_name

from .conftest import REPO

HOOKS = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))

READ = [
    "app/views.py", "setup.py", "pyproject.toml", "sub/setup.cfg", "Pipfile", "Pipfile.lock", "poetry.lock",
    "uv.lock", "pdm.lock", "pylock.toml", "pylock.dev.toml", ".python-version", "runtime.txt",
    "requirements.txt", "requirements-dev.txt", "dev-requirements.txt", "constraints.txt", "requirements.in",
    "requirements/base.txt", "requirements/prod.in", "reqs/test.txt", "deps.in", "base.pip",
    ".github/workflows/ci.yml", ".github/workflows/test.yaml", "Procfile", "Procfile.dev", "Dockerfile",
    "docker/Dockerfile.prod", "Containerfile", "Makefile", "supervisord.conf", "docker-compose.yml",
    "docker-compose.prod.yaml", "compose.yaml", "bin/start.sh", "deploy/app.service", "web.dockerfile",
    "etc/supervisor/app.conf", "conf.d/web.conf", "supervisor-web.conf",
]
NOT_READ = [
    ".pre-commit-config.yaml", "ci.yml", "README.md", "docs/index.rst", "mkdocs.yml", "tox.ini", "MANIFEST.in",
    "Makefile.in", "setup.in", "notes.txt", "package.json", "app/templates/index.html", "nginx.conf",
    ".gitignore", "LICENSE", "static/app.js", "docker-compose.override.json",
]


def _pattern(hook_id: str):
    (hook,) = [hook for hook in HOOKS if hook["id"] == hook_id]
    return re.compile(hook["files"])


@pytest.mark.parametrize("hook_id", ["asgifix", "asgifix-fix"])
def test_hooks_are_serial_python_hooks_with_the_right_entry(hook_id):
    (hook,) = [hook for hook in HOOKS if hook["id"] == hook_id]
    assert hook["language"] == "python"
    assert hook["require_serial"] is True
    assert hook["entry"].split()[:2] == ["asgifix", "check" if hook_id == "asgifix" else "fix"]
    assert "--force-exclude" in hook["entry"].split()


@pytest.mark.parametrize("path", READ)
def test_every_file_asgifix_reads_is_passed(path):
    # (what asgifix reads when the file is named, as pre-commit names them: base.pip too)
    assert classify_name(posixpath.basename(path), posixpath.basename(posixpath.dirname(path)),
                         explicit=True) is not None, path
    for hook_id in ("asgifix", "asgifix-fix"):
        assert _pattern(hook_id).search(path), (hook_id, path)


@pytest.mark.parametrize("path", NOT_READ)
def test_files_asgifix_does_not_read_are_not_passed(path):
    assert classify_name(posixpath.basename(path), posixpath.basename(posixpath.dirname(path))) is None, path
    assert not _pattern("asgifix").search(path), path
