"""The README's first two commands are what CI runs, and what they promise is true."""

from __future__ import annotations

import re

from .conftest import REPO


def _readme_commands() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```sh\n(.*?)```", text, re.DOTALL)
    assert block, "README must start with a sh code block"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_readme_starts_with_install_and_test_commands():
    install, tests = _readme_commands()
    assert "pip install" in install and "asgifix check fixtures/" in install
    assert "pytest" in tests


def test_ci_runs_the_readme_commands_verbatim():
    ci_lines = (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    for command in _readme_commands():
        assert command in ci_lines, f"CI does not run the README command {command!r}"


def test_readme_fixture_exists():
    install, _ = _readme_commands()
    fixture = re.search(r"asgifix check (\S+)", install).group(1)
    assert (REPO / fixture).is_dir()
