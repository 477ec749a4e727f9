"""Shared helpers for the test suite.

Tests run offline; the ones that need the package index are marked
``@pytest.mark.network`` and excluded by default (see pyproject.toml).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Optional

import pytest
from click.testing import CliRunner

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"


def write_tree(root: Path, files: dict[str, "str | bytes"]) -> Path:
    """Create ``files`` (relative path -> text or bytes) under ``root``; text is written byte for byte."""
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        data = content if isinstance(content, bytes) else content.encode("utf-8")
        path.write_bytes(data)
    return root


class CliResult:
    def __init__(self, exit_code: int, stdout: str, stderr: str):
        self.exit_code = exit_code
        self.stdout = stdout
        self.stderr = stderr

    def json(self) -> dict:
        return json.loads(self.stdout)


def run_cli(*args: str, cwd: Optional[Path] = None, env: Optional[dict] = None,
            input: Optional[str] = None) -> CliResult:
    """Run the CLI in-process with click's CliRunner (stdout and stderr kept apart; ``input`` is stdin)."""
    from asgifix.cli import main

    try:
        runner = CliRunner(mix_stderr=False)  # click < 8.2 (the last on Python 3.9) mixes by default
    except TypeError:
        runner = CliRunner()  # click >= 8.2 keeps stderr apart and dropped the argument
    old = os.getcwd()
    try:
        if cwd is not None:
            os.chdir(cwd)
        result = runner.invoke(main, list(args), env=env, input=input, catch_exceptions=False)
    finally:
        os.chdir(old)
    return CliResult(result.exit_code, result.stdout, result.stderr)


def run_uv_validation(script: str, tmp_path: Path) -> int:
    """Run ``scripts/<script>.py`` (a validation against a real resolver, uv) and give its exit code."""
    import importlib
    import shutil

    uv = shutil.which("uv") or str(REPO / ".venv/bin/uv")
    if not shutil.which(uv):
        pytest.fail("uv is needed: pip install uv")
    sys.path.insert(0, str(REPO / "scripts"))
    return importlib.import_module(script).main(["--uv", uv, "--report", str(tmp_path / "report.md")])


def run_subprocess(*args: str, cwd: Optional[Path] = None, env: Optional[dict] = None) -> CliResult:
    """Run ``python -m asgifix`` in a real process, importing this checkout."""
    environment = dict(os.environ)
    environment.pop("FORCE_COLOR", None)
    environment["PYTHONPATH"] = str(REPO) + os.pathsep + environment.get("PYTHONPATH", "")
    if env:
        environment.update(env)
    completed = subprocess.run(
        [sys.executable, "-m", "asgifix", *args],
        cwd=cwd or REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return CliResult(completed.returncode, completed.stdout, completed.stderr)


@pytest.fixture
def tree(tmp_path):
    """Build a project tree: ``tree({"requirements.txt": "..."})`` returns its root."""

    def build(files: dict) -> Path:
        return write_tree(tmp_path, files)

    return build


def told(finding) -> str:
    """Everything a finding tells the reader: the one-sentence message, its notes and its hint
    (a Finding or its JSON form). Details live in the notes and the hint since messages are short."""
    if isinstance(finding, dict):
        message, notes, hint = finding["message"], finding.get("notes", []), finding.get("hint")
    else:
        message, notes, hint = finding.message, finding.notes, finding.hint
    return " | ".join([message, *notes, *([hint] if hint else [])])
