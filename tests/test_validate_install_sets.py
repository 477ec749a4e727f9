"""The fixes of every Django line install with a real resolver (uv), on the set's oldest and newest Python."""

from __future__ import annotations

import shutil
import sys

import pytest

from .conftest import REPO


@pytest.mark.network
def test_every_fixed_django_project_installs(tmp_path):
    uv = shutil.which("uv") or str(REPO / ".venv/bin/uv")
    if not shutil.which(uv):
        pytest.fail("uv is needed: pip install uv")
    sys.path.insert(0, str(REPO / "scripts"))
    import validate_install_sets

    assert validate_install_sets.main(["--uv", uv, "--report", str(tmp_path / "report.md")]) == 0
