"""`asgifix upgrade` on every upgrade fixture: the rewritten sets install with the target asgiref (uv), on
each Python of the set; the rewritten code compiles; a second upgrade changes nothing."""

from __future__ import annotations

import shutil
import sys

import pytest

from .conftest import REPO


@pytest.mark.network
def test_every_upgraded_fixture_installs_with_its_target(tmp_path):
    uv = shutil.which("uv") or str(REPO / ".venv/bin/uv")
    if not shutil.which(uv):
        pytest.fail("uv is needed: pip install uv")
    sys.path.insert(0, str(REPO / "scripts"))
    import validate_upgrade

    assert validate_upgrade.main(["--uv", uv, "--report", str(tmp_path / "report.md")]) == 0
